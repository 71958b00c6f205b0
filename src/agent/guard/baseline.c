/* baseline.c - the recorded state of a guarded tree: in memory, and on disk. */
#include "agent/guard/baseline.h"

#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/event.h"
#include "core/crc32c.h"
#include "core/fdio.h"
#include "core/xalloc.h"
#include "core/banned.h"

#define BASELINE_MAGIC		"YJBL"
#define BASELINE_VERSION	1u
#define BASELINE_MAX_FILE	(4ull << 30)
#define LINK_NONE		0xffffffffu

void
baseline_init(struct baseline *b, const char *root)
{
	memset(b, 0, sizeof(*b));
	b->root = xstrdup(root != NULL ? root : "");
}

void
fentry_release(struct fentry *e)
{
	free(e->path);
	free(e->link);
	e->path = e->link = NULL;
}

void
fentry_copy(struct fentry *dst, const struct fentry *src)
{
	*dst = *src;
	dst->path = src->path != NULL ? xstrdup(src->path) : NULL;
	dst->link = src->link != NULL ? xstrdup(src->link) : NULL;
}

void
fentry_set_stat(struct fentry *e, const struct stat *st)
{
	if (S_ISREG(st->st_mode))
		e->type = FT_REG;
	else if (S_ISDIR(st->st_mode))
		e->type = FT_DIR;
	else if (S_ISLNK(st->st_mode))
		e->type = FT_LNK;
	else
		e->type = FT_OTHER;
	e->size = S_ISDIR(st->st_mode) ? 0 : (uint64_t)st->st_size;
	e->ino = st->st_ino;
	e->dev = st->st_dev;
	e->mode = st->st_mode & 07777;
	e->uid = st->st_uid;
	e->gid = st->st_gid;
	e->nlink = (uint32_t)st->st_nlink;
	e->mtime_ns = (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
	e->ctime_ns = (int64_t)st->st_ctim.tv_sec * 1000000000 + st->st_ctim.tv_nsec;
}

void
baseline_release(struct baseline *b)
{
	for (size_t i = 0; i < b->n; i++)
		fentry_release(&b->e[i]);
	free(b->e);
	free(b->slots);
	free(b->root);
	memset(b, 0, sizeof(*b));
}

void
baseline_swap(struct baseline *a, struct baseline *b)
{
	struct baseline t = *a;

	*a = *b;
	*b = t;
}

void
baseline_add(struct baseline *b, struct fentry *e)
{
	b->e = xgrow(b->e, &b->cap, b->n + 1, sizeof(*b->e));
	b->e[b->n++] = *e;
	e->path = e->link = NULL;
	b->indexed = false;
}

static uint64_t
path_hash(const char *p)
{
	uint64_t h = 1469598103934665603ull;

	for (; *p; p++)
		h = (h ^ (unsigned char)*p) * 1099511628211ull;
	return h;
}

static int
fentry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct fentry *)a)->path, ((const struct fentry *)b)->path);
}

static void
baseline_reindex(struct baseline *b)
{
	size_t want = 16;

	while (want < b->n * 2)
		want *= 2;
	free(b->slots);
	b->slots = xcalloc(want, sizeof(*b->slots));
	b->nslots = want;
	for (size_t i = 0; i < b->n; i++) {
		size_t s = path_hash(b->e[i].path) & (want - 1);

		while (b->slots[s] != 0)
			s = (s + 1) & (want - 1);
		b->slots[s] = (uint32_t)(i + 1);
	}
	b->indexed = true;
}

void
baseline_finish(struct baseline *b)
{
	size_t out = 0;

	qsort(b->e, b->n, sizeof(*b->e), fentry_cmp);
	/* Duplicates: keep the last of each run (qsort is not stable, so this only
	 * matters for inputs that should not have them: a decoded file). */
	for (size_t i = 0; i < b->n; i++) {
		if (out > 0 && strcmp(b->e[out - 1].path, b->e[i].path) == 0) {
			fentry_release(&b->e[out - 1]);
			b->e[out - 1] = b->e[i];
			continue;
		}
		b->e[out++] = b->e[i];
	}
	b->n = out;
	baseline_reindex(b);
}

struct fentry *
baseline_find(const struct baseline *b, const char *path)
{
	size_t s;

	if (!b->indexed || b->nslots == 0)
		return NULL;
	s = path_hash(path) & (b->nslots - 1);
	while (b->slots[s] != 0) {
		struct fentry *e = &b->e[b->slots[s] - 1];

		if (strcmp(e->path, path) == 0)
			return e;
		s = (s + 1) & (b->nslots - 1);
	}
	return NULL;
}

void
baseline_remove(struct baseline *b, const char *path)
{
	struct fentry *e = baseline_find(b, path);
	size_t i;

	if (e == NULL)
		return;
	i = (size_t)(e - b->e);
	fentry_release(e);
	memmove(&b->e[i], &b->e[i + 1], (b->n - i - 1) * sizeof(*b->e));
	b->n--;
	baseline_reindex(b);
}

unsigned
fentry_diff(const struct fentry *a, const struct fentry *b)
{
	unsigned ch = 0;

	if (a == NULL && b == NULL)
		return 0;
	if (a == NULL)
		return CH_ADDED;
	if (b == NULL)
		return CH_REMOVED;
	if (a->type != b->type)
		return CH_TYPE;
	if (a->type == FT_REG) {
		if (a->size != b->size)
			ch |= CH_CONTENT;
		else if ((a->flags & FE_HASHED) && (b->flags & FE_HASHED) &&
			memcmp(a->hash, b->hash, sizeof(a->hash)) != 0)
			ch |= CH_CONTENT;
		if (a->mtime_ns != b->mtime_ns)
			ch |= CH_MTIME;
	}
	if (a->type == FT_LNK &&
		(a->link == NULL || b->link == NULL || strcmp(a->link, b->link) != 0))
		ch |= CH_LINK;
	if (a->mode != b->mode)
		ch |= CH_MODE;
	if (a->uid != b->uid || a->gid != b->gid)
		ch |= CH_OWNER;
	if (ch == 0 && a->type == FT_REG && a->ino != b->ino)
		ch |= CH_INODE;
	return ch;
}

/* Encoding: little-endian, every field fixed-size except the two strings. */

static int
put_u32(struct buf *out, uint32_t v)
{
	unsigned char p[4] = { (unsigned char)v, (unsigned char)(v >> 8), (unsigned char)(v >> 16),
		(unsigned char)(v >> 24) };

	return buf_append(out, p, 4);
}

static int
put_u64(struct buf *out, uint64_t v)
{
	int r = put_u32(out, (uint32_t)v);

	return r < 0 ? r : put_u32(out, (uint32_t)(v >> 32));
}

static int
put_bytes(struct buf *out, const char *s, uint32_t none_len)
{
	int r;

	if (s == NULL)
		return put_u32(out, none_len);
	r = put_u32(out, (uint32_t)strlen(s));
	return r < 0 ? r : buf_puts(out, s);
}

int
baseline_encode(const struct baseline *b, struct buf *out)
{
	int r;

	r = buf_append(out, BASELINE_MAGIC, 4);
	r = r ?: put_u32(out, BASELINE_VERSION);
	r = r ?: put_bytes(out, b->root, 0);
	r = r ?: put_u64(out, b->n);
	for (size_t i = 0; i < b->n && r == 0; i++) {
		const struct fentry *e = &b->e[i];
		unsigned char tf[2] = { e->type, e->flags };

		r = put_bytes(out, e->path, 0);
		r = r ?: buf_append(out, tf, 2);
		r = r ?: put_u32(out, e->mode);
		r = r ?: put_u32(out, e->uid);
		r = r ?: put_u32(out, e->gid);
		r = r ?: put_u64(out, e->size);
		r = r ?: put_u64(out, e->ino);
		r = r ?: put_u64(out, e->dev);
		r = r ?: put_u64(out, (uint64_t)e->mtime_ns);
		r = r ?: put_u64(out, (uint64_t)e->ctime_ns);
		r = r ?: buf_append(out, e->hash, sizeof(e->hash));
		r = r ?: put_bytes(out, e->link, LINK_NONE);
	}
	if (r == 0)
		r = put_u32(out, crc32c(0, out->data, out->len));
	return r;
}

struct reader {
	const unsigned char	*p;
	size_t			 left;
};

static int
get_u32(struct reader *rd, uint32_t *v)
{
	if (rd->left < 4)
		return -EBADMSG;
	*v = (uint32_t)rd->p[0] | (uint32_t)rd->p[1] << 8 | (uint32_t)rd->p[2] << 16 |
		(uint32_t)rd->p[3] << 24;
	rd->p += 4;
	rd->left -= 4;
	return 0;
}

static int
get_u64(struct reader *rd, uint64_t *v)
{
	uint32_t lo, hi;
	int r;

	r = get_u32(rd, &lo);
	r = r ?: get_u32(rd, &hi);
	if (r == 0)
		*v = (uint64_t)hi << 32 | lo;
	return r;
}

/* A string of at most BASELINE_MAX_PATH bytes without NUL; NULL for none_len. */
static int
get_string(struct reader *rd, uint32_t none_len, bool allow_none, char **ret)
{
	uint32_t len;
	int r;

	r = get_u32(rd, &len);
	if (r < 0)
		return r;
	if (allow_none && len == none_len) {
		*ret = NULL;
		return 0;
	}
	if (len > BASELINE_MAX_PATH || len > rd->left || memchr(rd->p, '\0', len) != NULL)
		return -EBADMSG;
	*ret = xstrndup((const char *)rd->p, len);
	rd->p += len;
	rd->left -= len;
	return 0;
}

int
baseline_decode(const void *data, size_t len, struct baseline *ret)
{
	struct baseline b = { 0 };
	struct fentry e = { 0 };
	struct reader rd;
	uint32_t version, crc;
	uint64_t count;
	char *root = NULL;
	int r;

	if (len < 4 + 4 + 4 + 8 + 4 || memcmp(data, BASELINE_MAGIC, 4) != 0)
		return -EBADMSG;
	memcpy(&crc, (const unsigned char *)data + len - 4, 4);
	crc = le32toh(crc);
	if (crc32c(0, data, len - 4) != crc)
		return -EBADMSG;
	rd.p = (const unsigned char *)data + 4;
	rd.left = len - 8;
	r = get_u32(&rd, &version);
	if (r < 0)
		goto out;
	if (version != BASELINE_VERSION) {
		r = -EPROTONOSUPPORT;
		goto out;
	}
	r = get_string(&rd, 0, false, &root);
	r = r ?: get_u64(&rd, &count);
	if (r < 0)
		goto out;
	/* Each entry takes at least 86 bytes: a count the data cannot hold is a lie. */
	if (count > BASELINE_MAX_ENTRIES || count > rd.left / 86) {
		r = -EBADMSG;
		goto out;
	}
	baseline_init(&b, root);
	for (uint64_t i = 0; i < count; i++) {
		uint64_t mt, ct;

		memset(&e, 0, sizeof(e));
		r = get_string(&rd, 0, false, &e.path);
		if (r < 0)
			goto out;
		if (rd.left < 2) {
			r = -EBADMSG;
			goto out;
		}
		e.type = rd.p[0];
		e.flags = rd.p[1];
		rd.p += 2;
		rd.left -= 2;
		r = get_u32(&rd, &e.mode);
		r = r ?: get_u32(&rd, &e.uid);
		r = r ?: get_u32(&rd, &e.gid);
		r = r ?: get_u64(&rd, &e.size);
		r = r ?: get_u64(&rd, &e.ino);
		r = r ?: get_u64(&rd, &e.dev);
		r = r ?: get_u64(&rd, &mt);
		r = r ?: get_u64(&rd, &ct);
		if (r < 0)
			goto out;
		e.mtime_ns = (int64_t)mt;
		e.ctime_ns = (int64_t)ct;
		if (rd.left < sizeof(e.hash)) {
			r = -EBADMSG;
			goto out;
		}
		memcpy(e.hash, rd.p, sizeof(e.hash));
		rd.p += sizeof(e.hash);
		rd.left -= sizeof(e.hash);
		r = get_string(&rd, LINK_NONE, true, &e.link);
		if (r < 0)
			goto out;
		if (e.type < FT_REG || e.type > FT_OTHER || e.mode > 07777) {
			r = -EBADMSG;
			goto out;
		}
		baseline_add(&b, &e);
	}
	if (rd.left != 0) {
		r = -EBADMSG;
		goto out;
	}
	baseline_finish(&b);
	*ret = b;
	memset(&b, 0, sizeof(b));
	r = 0;
out:
	fentry_release(&e);
	free(root);
	if (b.root != NULL)
		baseline_release(&b);
	return r;
}

int
baseline_save(const struct baseline *b, int dirfd, const char *name)
{
	struct buf data;
	char tmp[512];
	int fd = -1, r;

	buf_init(&data, 0);
	r = baseline_encode(b, &data);
	if (r < 0)
		goto out;
	{
		const char *slash = strrchr(name, '/');
		int dirlen = slash != NULL ? (int)(slash - name + 1) : 0;

		snprintf(tmp, sizeof(tmp), "%.*s.%s.tmp.%d", dirlen, name, name + dirlen,
			(int)getpid());
	}
	fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	r = fd_write_all(fd, data.data, data.len);
	if (r < 0)
		goto out;
	if (fsync(fd) < 0 || renameat(dirfd, tmp, dirfd, name) < 0) {
		r = -errno;
		goto out;
	}
	tmp[0] = '\0';
	fsync(dirfd);
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	if (r < 0 && tmp[0] != '\0')
		unlinkat(dirfd, tmp, 0);
	buf_release(&data);
	return r;
}

int
baseline_load(int dirfd, const char *name, struct baseline *ret)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	int fd, r;

	fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0) {
		r = -errno;
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EBADMSG;
		goto out;
	}
	r = fd_read_all(fd, BASELINE_MAX_FILE, &data, &len);
	if (r == -EFBIG)
		r = -EBADMSG;
	if (r == 0)
		r = baseline_decode(data, len, ret);
out:
	free(data);
	close(fd);
	return r;
}
