/*
 * re_literals.h - what text any match of a regular expression must hold: a
 * small set of literals, one of which is in every match (RE2's prefilter
 * idea, in little). Used by the line filter (line_filter.c) to skip lines
 * that no rule could match.
 *
 * Literals are lower-cased (for a caseless search: a superset of cased
 * matches). Alternations give the union of their sides' sets, a sequence the
 * cross product of exact sets while small, else the better of its parts'
 * sets; optional parts (?, *, {0,n}), '.', wide classes and escapes like \d
 * require nothing. Syntax this does not understand makes it answer -ENOENT
 * ("nothing can be said"), never a wrong set.
 */
#ifndef YINGJI_DETECT_RE_LITERALS_H
#define YINGJI_DETECT_RE_LITERALS_H

#include <stddef.h>

#define RELIT_MAX	16	/* literals in a set */
#define RELIT_LEN	64	/* bytes in a literal */

struct relit_set {
	size_t	n;
	size_t	len[RELIT_MAX];
	char	s[RELIT_MAX][RELIT_LEN];
};

/* How rare a literal is likely to be in a log line: its length, punctuation
 * counting double; 1 for text most web and auth lines hold ("//", "http",
 * "Mozilla/5.0"). A set's score is its weakest literal's. Only a choice
 * between literals that are all sound: never a question of correctness. */
size_t	relit_score(const char *s, size_t n);
size_t	relit_set_score(const struct relit_set *set);

/* The set for re[0..len): 0, or -ENOENT when nothing can be said (a match
 * may hold no literal at all), -EINVAL for syntax it does not follow. */
int	re_required_literals(const char *re, size_t len, struct relit_set *out);

#endif
