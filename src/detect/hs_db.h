/*
 * hs_db.h - the Hyperscan wrapper (the only file that includes <hs.h>).
 *
 * A database is a set of (expression, id, flags) compiled for block mode with
 * HS_FLAG_SINGLEMATCH and HS_FLAG_ALLOWEMPTY. Scanning sets one bit per
 * matched id in a caller-owned bitset and lists each newly set id once, so
 * the caller can clear exactly what it set. One scratch serves every
 * database it was grown for (one per detector: not shared between threads).
 */
#ifndef YINGJI_DETECT_HS_DB_H
#define YINGJI_DETECT_HS_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HSDB_CASELESS	1u
#define HSDB_DOTALL	2u
#define HSDB_MULTILINE	4u

struct hsdb;
struct hsdb_scratch;

/* What a scan found: bits[id / 64] bit (id % 64) per matched id; ids[0..n)
 * the ids newly set (ids must hold as many entries as there are ids). */
struct hsdb_hits {
	uint64_t	*bits;
	unsigned	*ids;
	size_t		 n;
};

/* Called for an expression Hyperscan refuses while compiling a set: its id
 * and Hyperscan's message. The expression is left out and the rest retried. */
typedef void (*hsdb_refuse_cb)(unsigned id, const char *message, void *data);

/* Compile n expressions (NUL-terminated) into *ret (NULL when none is left).
 * Returns 0, or -EINVAL when Hyperscan fails without naming an expression. */
int	hsdb_compile(const char *const *exprs, const unsigned *flags, const unsigned *ids,
		size_t n, hsdb_refuse_cb refuse, void *data, struct hsdb **ret);
void	hsdb_free(struct hsdb *db);
/* Whether Hyperscan takes one expression; on refusal, -EINVAL and (when
 * reterr is not NULL) its message in *reterr (free() it). */
int	hsdb_check(const char *expr, unsigned flags, char **reterr);
/* Make *s (NULL at first) fit db as well as the databases it fits already. */
int	hsdb_scratch_grow(struct hsdb_scratch **s, const struct hsdb *db);
void	hsdb_scratch_free(struct hsdb_scratch *s);
/* Scan data[0..len) with db, recording matches in hits. -EIO on a
 * Hyperscan error. */
int	hsdb_scan(const struct hsdb *db, struct hsdb_scratch *s, const char *data, size_t len,
		struct hsdb_hits *hits);

#endif
