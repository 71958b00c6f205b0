/*
 * pcre_re.h - the PCRE2 wrapper (the only file that includes <pcre2.h>), for
 * the |re patterns Hyperscan refuses (backreferences, lookaround...).
 *
 * Patterns are compiled with JIT when available and matched under a match
 * limit and a depth limit, so a catastrophic pattern cannot hang the
 * detector: a match that hits a limit counts as no match and is counted
 * (pcre_re_limit_hits). A compiled pattern keeps its own match data: one
 * thread at a time.
 */
#ifndef YINGJI_DETECT_PCRE_RE_H
#define YINGJI_DETECT_PCRE_RE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define PCRE_RE_I	1u	/* caseless */
#define PCRE_RE_M	2u	/* ^ and $ at line ends */
#define PCRE_RE_S	4u	/* . matches newline */

struct pcre_re;

/* Compile pattern; on error -EINVAL and (when reterr is not NULL) the
 * reason with its offset in *reterr (free() it). */
int	pcre_re_compile(const char *pattern, size_t len, unsigned flags, struct pcre_re **ret,
		char **reterr);
void	pcre_re_free(struct pcre_re *re);
/* true when s[0..len) matches; false on no match, and on a limit hit
 * (counted). */
bool	pcre_re_match(struct pcre_re *re, const char *s, size_t len);
/* How many matches of re ended on a limit. */
uint64_t	pcre_re_limit_hits(const struct pcre_re *re);

#endif
