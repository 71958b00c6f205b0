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
/* Report every match with its end offset (hsdb_scan_all), not once per id:
 * for scanning many lines in one block. Without it, one report per id. */
#define HSDB_EVERY	8u

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
 * Returns 0, or -EINVAL when Hyperscan fails without naming an expression.
 *
 * cache_dirfd (-1: none) is a directory of compiled databases, one file per
 * set, named by the SHA-256 of everything that shapes the result (Hyperscan's
 * version, the platform it compiled for, every expression, flag and id, and
 * how matches are reported). A hit loads the database (and replays the
 * refusals the compile made) instead of compiling it: Hyperscan compiles
 * take most of a start-up. A file that is short, altered or from another
 * Hyperscan is ignored and written again; a cache that cannot be written is
 * only slower. ret_cached (may be NULL) says whether the cache answered. The
 * caller opens the directory (hsdb_cache_open). */
int	hsdb_compile(const char *const *exprs, const unsigned *flags, const unsigned *ids,
		size_t n, hsdb_refuse_cb refuse, void *data, int cache_dirfd, struct hsdb **ret,
		bool *ret_cached);
/* Open (creating it and its parents, 0700) a cache directory for
 * hsdb_compile; refused (-EPERM) unless it belongs to the caller's user and no
 * one else may write to it (a database file is code for the matcher). The
 * descriptor is the caller's to close. */
int	hsdb_cache_open(const char *path);
/* The default cache directory of a user's command (into buf): $YINGJI_CACHE,
 * else $XDG_CACHE_HOME/yingji, else $HOME/.cache/yingji. -ENOENT when none
 * of them is set; -ENAMETOOLONG. */
int	hsdb_cache_default(char *buf, size_t size);
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
/* Scan data[0..len) with a database compiled with HSDB_EVERY: cb gets each
 * match's id and end offset, in increasing end offset; a non-zero return
 * stops the scan (not an error). -EIO on a Hyperscan error. */
typedef int (*hsdb_match_cb)(unsigned id, size_t end, void *data);
int	hsdb_scan_all(const struct hsdb *db, struct hsdb_scratch *s, const char *data, size_t len,
		hsdb_match_cb cb, void *cbdata);

#endif
