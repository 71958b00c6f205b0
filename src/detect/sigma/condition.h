/*
 * condition.h - the Sigma condition grammar (sigma/condition.c), private to
 * sigma/parse.c.
 *
 *   expr    := and ('or' and)*
 *   and     := not ('and' not)*
 *   not     := 'not' not | primary
 *   primary := '(' expr ')' | ('1' | 'any' | 'all') 'of' (pattern | 'them') | identifier
 *
 * Keywords are case-insensitive; patterns use '*' and '?'; 'them' is every
 * selection whose name does not start with '_'.
 */
#ifndef YINGJI_DETECT_SIGMA_CONDITION_H
#define YINGJI_DETECT_SIGMA_CONDITION_H

#include <stddef.h>

#include "detect/sigma/rule.h"

/* Parse text against rule->sels, appending nodes to rule->cond_nodes. On
 * success stores the root's index in *ret_root and returns 0; otherwise
 * returns -EINVAL with an English message in err (nodes already appended stay
 * and are freed with the rule). */
int	sigma_condition_parse(struct sigma_rule *rule, const char *text, unsigned *ret_root,
			      char *err, size_t errlen);

#endif
