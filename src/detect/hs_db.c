/* hs_db.c - Hyperscan block-mode databases for the detector (see hs_db.h). */
#include "detect/hs_db.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <hs.h>

#include "core/fdio.h"
#include "core/hex.h"
#include "core/xalloc.h"
#include "tls/sha256.h"
#include "core/banned.h"

/* A cache file: magic, SHA-256 of the rest, then the refusals (count, then
 * id, length, message each) and the serialized database (length, bytes; 0
 * when every expression was refused). Little-endian, as written here. */
#define CACHE_MAGIC		"YJHSDB1\n"
#define CACHE_MAGIC_LEN		8
#define CACHE_MAX		(256u << 20)	/* a bigger file is not ours */
#define CACHE_MSG_MAX		4096

struct hsdb {
	hs_database_t	*db;
};

static unsigned
hs_flags(unsigned f)
{
	unsigned r = (f & HSDB_EVERY) ? 0 : HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;

	if (f & HSDB_CASELESS)
		r |= HS_FLAG_CASELESS;
	if (f & HSDB_DOTALL)
		r |= HS_FLAG_DOTALL;
	if (f & HSDB_MULTILINE)
		r |= HS_FLAG_MULTILINE;
	return r;
}

/* ---- the cache ---- */

struct refusal {
	unsigned	 id;
	char		*msg;
};

static void
put_u32(struct sha256 *h, uint32_t v)
{
	unsigned char b[4];

	le32_put(b, v);
	sha256_update(h, b, sizeof(b));
}

static void
cache_key(const char *const *exprs, const unsigned *flags, const unsigned *ids, size_t n,
		char name[2 * SHA256_LEN + 8])
{
	struct sha256 *h = sha256_new();
	hs_platform_info_t plat;
	uint8_t md[SHA256_LEN];
	const char *v = hs_version();

	memset(&plat, 0, sizeof(plat));
	(void)hs_populate_platform(&plat);
	sha256_update(h, "yingji-hsdb-1", 14);
	sha256_update(h, v, strlen(v) + 1);
	put_u32(h, plat.tune);
	put_u32(h, (uint32_t)plat.cpu_features);
	put_u32(h, (uint32_t)(plat.cpu_features >> 32));
	put_u32(h, (uint32_t)n);
	for (size_t i = 0; i < n; i++) {
		sha256_update(h, exprs[i], strlen(exprs[i]) + 1);
		put_u32(h, flags[i]);
		put_u32(h, ids[i]);
	}
	sha256_final(h, md);
	sha256_free(h);
	hex_encode(md, sizeof(md), name);
	memcpy(name + 2 * SHA256_LEN, ".hsdb", 6);
}

static bool
get_u32(const unsigned char **p, const unsigned char *end, uint32_t *v)
{
	if (end - *p < 4)
		return false;
	*v = le32_get(*p);
	*p += 4;
	return true;
}

/* Load a cached result: 0 with *ret_db (may be NULL) and the refusals, or
 * -errno (-ENOENT: not there; -EBADMSG: not a good file). */
static int
cache_load(int dirfd, const char *name, hs_database_t **ret_db, struct refusal **ret_ref,
		size_t *ret_nref)
{
	unsigned char *file = NULL;
	const unsigned char *p, *end;
	uint8_t md[SHA256_LEN];
	struct refusal *ref = NULL;
	uint32_t nref = 0, dblen;
	hs_database_t *db = NULL;
	size_t len = 0, got = 0;
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	r = fd_read_all(fd, CACHE_MAX, (char **)&file, &len);
	close(fd);
	if (r < 0)
		return r;
	r = -EBADMSG;
	if (len < CACHE_MAGIC_LEN + SHA256_LEN || memcmp(file, CACHE_MAGIC, CACHE_MAGIC_LEN) != 0)
		goto out;
	p = file + CACHE_MAGIC_LEN + SHA256_LEN;
	end = file + len;
	sha256_buf(p, (size_t)(end - p), md);
	if (memcmp(md, file + CACHE_MAGIC_LEN, SHA256_LEN) != 0)
		goto out;
	if (!get_u32(&p, end, &nref) || nref > (size_t)(end - p) / 8)
		goto out;
	ref = xcalloc(nref ? nref : 1, sizeof(*ref));
	for (got = 0; got < nref; got++) {
		uint32_t id, mlen;

		if (!get_u32(&p, end, &id) || !get_u32(&p, end, &mlen) || mlen > CACHE_MSG_MAX ||
				mlen > (size_t)(end - p))
			goto out;
		ref[got].id = id;
		ref[got].msg = xmalloc(mlen + 1);
		memcpy(ref[got].msg, p, mlen);
		ref[got].msg[mlen] = '\0';
		p += mlen;
	}
	if (!get_u32(&p, end, &dblen) || dblen != (size_t)(end - p))
		goto out;
	if (dblen > 0 && hs_deserialize_database((const char *)p, dblen, &db) != HS_SUCCESS)
		goto out;
	*ret_db = db;
	*ret_ref = ref;
	*ret_nref = nref;
	ref = NULL;
	r = 0;
out:
	if (ref != NULL) {
		for (size_t i = 0; i < got; i++)
			free(ref[i].msg);
		free(ref);
	}
	free(file);
	return r;
}

static void
buf_u32(unsigned char **p, uint32_t v)
{
	le32_put(*p, v);
	*p += 4;
}

/* Best effort: a cache that cannot be written only makes the next start slower. */
static void
cache_store(int dirfd, const char *name, const hs_database_t *db, const struct refusal *ref,
		size_t nref)
{
	char *ser = NULL, tmp[2 * SHA256_LEN + 32];
	size_t serlen = 0, total;
	unsigned char *file = NULL, *p;
	int fd;

	if (db != NULL && hs_serialize_database(db, &ser, &serlen) != HS_SUCCESS)
		return;
	total = CACHE_MAGIC_LEN + SHA256_LEN + 4 + 4 + serlen;
	for (size_t i = 0; i < nref; i++)
		total += 8 + strnlen(ref[i].msg, CACHE_MSG_MAX);
	if (total > CACHE_MAX || serlen > UINT32_MAX)
		goto out;
	file = xmalloc(total);
	memcpy(file, CACHE_MAGIC, CACHE_MAGIC_LEN);
	p = file + CACHE_MAGIC_LEN + SHA256_LEN;
	buf_u32(&p, (uint32_t)nref);
	for (size_t i = 0; i < nref; i++) {
		size_t ml = strnlen(ref[i].msg, CACHE_MSG_MAX);

		buf_u32(&p, ref[i].id);
		buf_u32(&p, (uint32_t)ml);
		memcpy(p, ref[i].msg, ml);
		p += ml;
	}
	buf_u32(&p, (uint32_t)serlen);
	if (serlen > 0)
		memcpy(p, ser, serlen);
	sha256_buf(file + CACHE_MAGIC_LEN + SHA256_LEN, total - CACHE_MAGIC_LEN - SHA256_LEN,
		file + CACHE_MAGIC_LEN);
	snprintf(tmp, sizeof(tmp), ".%s.%ld", name, (long)getpid());
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		goto out;
	if (fd_write_all(fd, file, total) < 0 || close(fd) < 0 ||
			renameat(dirfd, tmp, dirfd, name) < 0)
		(void)unlinkat(dirfd, tmp, 0);
out:
	free(file);
	free(ser);	/* hs_serialize_database allocates with malloc (the default) */
}

int
hsdb_cache_open(const char *path)
{
	char tmp[PATH_MAX];
	size_t len = strlen(path);
	struct stat st;
	int fd;

	if (len == 0 || len >= sizeof(tmp))
		return -ENAMETOOLONG;
	memcpy(tmp, path, len + 1);
	for (char *s = tmp + 1; *s != '\0'; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
		return -errno;
	fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || st.st_uid != geteuid() || (st.st_mode & 022) != 0) {
		close(fd);
		return -EPERM;
	}
	return fd;
}

int
hsdb_cache_default(char *buf, size_t size)
{
	const char *v;
	int n;

	if ((v = getenv("YINGJI_CACHE")) != NULL && v[0] == '/')
		n = snprintf(buf, size, "%s", v);
	else if ((v = getenv("XDG_CACHE_HOME")) != NULL && v[0] == '/')
		n = snprintf(buf, size, "%s/yingji", v);
	else if ((v = getenv("HOME")) != NULL && v[0] == '/')
		n = snprintf(buf, size, "%s/.cache/yingji", v);
	else
		return -ENOENT;
	return n < 0 || (size_t)n >= size ? -ENAMETOOLONG : 0;
}

/* ---- compiling ---- */

int
hsdb_compile(const char *const *exprs, const unsigned *flags, const unsigned *ids, size_t n,
		hsdb_refuse_cb refuse, void *data, int cache_dirfd, struct hsdb **ret,
		bool *ret_cached)
{
	const char **e = NULL;
	unsigned *f = NULL, *id = NULL;
	hs_database_t *db = NULL;
	hs_compile_error_t *err = NULL;
	struct hsdb *out = NULL;
	struct refusal *ref = NULL;
	size_t m = n, nref = 0, refcap = 0;
	char name[2 * SHA256_LEN + 8];
	int r;

	if (ret_cached != NULL)
		*ret_cached = false;
	if (n > UINT_MAX)
		return -E2BIG;
	if (cache_dirfd >= 0) {
		cache_key(exprs, flags, ids, n, name);
		if (cache_load(cache_dirfd, name, &db, &ref, &nref) == 0) {
			for (size_t i = 0; i < nref; i++) {
				if (refuse != NULL)
					refuse(ref[i].id, ref[i].msg, data);
				free(ref[i].msg);
			}
			free(ref);
			if (db != NULL) {
				out = xcalloc(1, sizeof(*out));
				out->db = db;
			}
			*ret = out;
			if (ret_cached != NULL)
				*ret_cached = true;
			return 0;
		}
		nref = 0;
	}
	e = xmalloc((n ? n : 1) * sizeof(*e));
	f = xmalloc((n ? n : 1) * sizeof(*f));
	id = xmalloc((n ? n : 1) * sizeof(*id));
	for (size_t i = 0; i < n; i++) {
		e[i] = exprs[i];
		f[i] = hs_flags(flags[i]);
		id[i] = ids[i];
	}
	/* Each round either succeeds or removes the expression named in the
	 * error, so this ends after at most n + 1 rounds. */
	while (m > 0) {
		if (hs_compile_multi(e, f, id, (unsigned)m, HS_MODE_BLOCK, NULL, &db, &err)
				== HS_SUCCESS)
			break;
		db = NULL;
		if (err == NULL || err->expression < 0 || (size_t)err->expression >= m) {
			hs_free_compile_error(err);
			r = -EINVAL;
			goto out;
		}
		size_t bad = (size_t)err->expression;

		if (refuse != NULL)
			refuse(id[bad], err->message, data);
		if (cache_dirfd >= 0) {
			ref = xgrow(ref, &refcap, nref + 1, sizeof(*ref));
			ref[nref].id = id[bad];
			ref[nref++].msg = xstrdup(err->message);
		}
		hs_free_compile_error(err);
		err = NULL;
		memmove(&e[bad], &e[bad + 1], (m - bad - 1) * sizeof(*e));
		memmove(&f[bad], &f[bad + 1], (m - bad - 1) * sizeof(*f));
		memmove(&id[bad], &id[bad + 1], (m - bad - 1) * sizeof(*id));
		m--;
	}
	if (cache_dirfd >= 0)
		cache_store(cache_dirfd, name, db, ref, nref);
	if (db != NULL) {
		out = xcalloc(1, sizeof(*out));
		out->db = db;
	}
	*ret = out;
	r = 0;
out:
	for (size_t i = 0; i < nref; i++)
		free(ref[i].msg);
	free(ref);
	free(e);
	free(f);
	free(id);
	return r;
}

void
hsdb_free(struct hsdb *db)
{
	if (db == NULL)
		return;
	hs_free_database(db->db);
	free(db);
}

int
hsdb_check(const char *expr, unsigned flags, char **reterr)
{
	hs_expr_info_t *info = NULL;
	hs_compile_error_t *err = NULL;

	if (hs_expression_info(expr, hs_flags(flags), &info, &err) != HS_SUCCESS) {
		if (reterr != NULL)
			*reterr = xstrdup(err != NULL ? err->message : "refused");
		hs_free_compile_error(err);
		return -EINVAL;
	}
	free(info);		/* allocated with the default misc allocator, malloc */
	return 0;
}

int
hsdb_scratch_grow(struct hsdb_scratch **s, const struct hsdb *db)
{
	hs_scratch_t *sc = (hs_scratch_t *)*s;

	if (db == NULL)
		return 0;
	if (hs_alloc_scratch(db->db, &sc) != HS_SUCCESS)
		return -ENOMEM;
	*s = (struct hsdb_scratch *)sc;
	return 0;
}

void
hsdb_scratch_free(struct hsdb_scratch *s)
{
	if (s != NULL)
		hs_free_scratch((hs_scratch_t *)s);
}

static int
on_match(unsigned id, unsigned long long from, unsigned long long to, unsigned flags, void *ctx)
{
	struct hsdb_hits *h = ctx;
	uint64_t bit = UINT64_C(1) << (id % 64);

	(void)from;
	(void)to;
	(void)flags;
	if (!(h->bits[id / 64] & bit)) {
		h->bits[id / 64] |= bit;
		h->ids[h->n++] = id;
	}
	return 0;
}

int
hsdb_scan(const struct hsdb *db, struct hsdb_scratch *s, const char *data, size_t len,
		struct hsdb_hits *hits)
{
	static const char empty[1];

	if (db == NULL)
		return 0;
	if (len > UINT_MAX)
		len = UINT_MAX;
	if (hs_scan(db->db, data != NULL ? data : empty, (unsigned)len, 0, (hs_scratch_t *)s,
			on_match, hits) != HS_SUCCESS)
		return -EIO;
	return 0;
}

struct scan_all {
	hsdb_match_cb	 cb;
	void		*data;
};

static int
on_match_all(unsigned id, unsigned long long from, unsigned long long to, unsigned flags,
		void *ctx)
{
	struct scan_all *sa = ctx;

	(void)from;
	(void)flags;
	return sa->cb(id, (size_t)to, sa->data);
}

int
hsdb_scan_all(const struct hsdb *db, struct hsdb_scratch *s, const char *data, size_t len,
		hsdb_match_cb cb, void *cbdata)
{
	struct scan_all sa = { cb, cbdata };
	hs_error_t e;

	if (db == NULL || len == 0)
		return 0;
	if (len > UINT_MAX)
		return -E2BIG;
	e = hs_scan(db->db, data, (unsigned)len, 0, (hs_scratch_t *)s, on_match_all, &sa);
	return e == HS_SUCCESS || e == HS_SCAN_TERMINATED ? 0 : -EIO;
}
