/* hs_db.c - Hyperscan block-mode databases for the detector (see hs_db.h). */
#include "detect/hs_db.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <hs.h>

#include "core/xalloc.h"
#include "core/banned.h"

struct hsdb {
	hs_database_t	*db;
};

static unsigned
hs_flags(unsigned f)
{
	unsigned r = HS_FLAG_SINGLEMATCH | HS_FLAG_ALLOWEMPTY;

	if (f & HSDB_CASELESS)
		r |= HS_FLAG_CASELESS;
	if (f & HSDB_DOTALL)
		r |= HS_FLAG_DOTALL;
	if (f & HSDB_MULTILINE)
		r |= HS_FLAG_MULTILINE;
	return r;
}

int
hsdb_compile(const char *const *exprs, const unsigned *flags, const unsigned *ids, size_t n,
		hsdb_refuse_cb refuse, void *data, struct hsdb **ret)
{
	const char **e = NULL;
	unsigned *f = NULL, *id = NULL;
	hs_database_t *db = NULL;
	hs_compile_error_t *err = NULL;
	struct hsdb *out = NULL;
	size_t m = n;
	int r;

	if (n > UINT_MAX)
		return -E2BIG;
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
		hs_free_compile_error(err);
		err = NULL;
		memmove(&e[bad], &e[bad + 1], (m - bad - 1) * sizeof(*e));
		memmove(&f[bad], &f[bad + 1], (m - bad - 1) * sizeof(*f));
		memmove(&id[bad], &id[bad + 1], (m - bad - 1) * sizeof(*id));
		m--;
	}
	if (db != NULL) {
		out = xcalloc(1, sizeof(*out));
		out->db = db;
	}
	*ret = out;
	r = 0;
out:
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
