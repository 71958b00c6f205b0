/*
 * condition.c - a Sigma rule's condition string into the node array of
 * struct sigma_rule (grammar in condition.h). Recursive descent; nesting is
 * bounded so a hostile condition cannot exhaust the stack.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/xalloc.h"
#include "detect/sigma/condition.h"
#include "core/banned.h"

#define COND_MAX_DEPTH 64
#define COND_MAX_TOKEN 256
#define COND_MAX_NODES 10000 /* per rule: bounds the memory a hostile condition takes */

enum tok { T_END, T_LP, T_RP, T_WORD, T_PIPE };

struct cparse {
	struct sigma_rule *rule;
	const char *s; /* the whole condition */
	size_t pos;    /* next unread byte */
	enum tok tok;  /* the current token */
	char word[COND_MAX_TOKEN + 1];
	size_t depth;
	char *err;
	size_t errlen;
};

static int cfail(struct cparse *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
cfail(struct cparse *p, const char *fmt, ...)
{
	va_list ap;

	if (p->err[0] == '\0') {
		va_start(ap, fmt);
		vsnprintf(p->err, p->errlen, fmt, ap);
		va_end(ap);
	}
	return -EINVAL;
}

static bool
is_word_byte(char c)
{
	return c != '\0' && c != '(' && c != ')' && c != '|' && c != ' ' && c != '\t' &&
	       c != '\n' && c != '\r';
}

/* Read the next token into p->tok (and p->word). */
static int
next(struct cparse *p)
{
	const char *s = p->s;
	size_t n = 0;

	while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r')
		p->pos++;
	switch (s[p->pos]) {
	case '\0':
		p->tok = T_END;
		return 0;
	case '(':
		p->pos++;
		p->tok = T_LP;
		return 0;
	case ')':
		p->pos++;
		p->tok = T_RP;
		return 0;
	case '|':
		p->pos++;
		p->tok = T_PIPE;
		return 0;
	default:
		break;
	}
	while (is_word_byte(s[p->pos])) {
		if (n >= COND_MAX_TOKEN)
			return cfail(p, "condition word too long");
		p->word[n++] = s[p->pos++];
	}
	p->word[n] = '\0';
	p->tok = T_WORD;
	return 0;
}

static bool
is_kw(const struct cparse *p, const char *kw)
{
	return p->tok == T_WORD && strcasecmp(p->word, kw) == 0;
}

static int
add_node(struct cparse *p, enum sigma_cond_kind kind, unsigned *ret)
{
	struct sigma_rule *r = p->rule;

	if (r->ncond_nodes >= COND_MAX_NODES)
		return cfail(p, "condition too long (over %d terms)", COND_MAX_NODES);

	r->cond_nodes = xrealloc(r->cond_nodes, (r->ncond_nodes + 1) * sizeof(*r->cond_nodes));
	memset(&r->cond_nodes[r->ncond_nodes], 0, sizeof(r->cond_nodes[0]));
	r->cond_nodes[r->ncond_nodes].kind = kind;
	*ret = (unsigned)r->ncond_nodes++;
	return 0;
}

/* Glob match of name against pattern ('*' any run, '?' one byte). */
static bool
glob_match(const char *pat, const char *name)
{
	const char *star = NULL, *back = NULL;

	while (*name != '\0') {
		if (*pat == '*') {
			star = ++pat;
			back = name;
		} else if (*pat == '?' || *pat == *name) {
			pat++;
			name++;
		} else if (star != NULL) {
			pat = star;
			name = ++back;
		} else {
			return false;
		}
	}
	while (*pat == '*')
		pat++;
	return *pat == '\0';
}

static bool
is_reserved(const struct cparse *p)
{
	static const char *const kws[] = {"and", "or", "not", "of", "them"};

	for (size_t i = 0; i < sizeof(kws) / sizeof(kws[0]); i++)
		if (is_kw(p, kws[i]))
			return true;
	return false;
}

static int parse_or(struct cparse *p, unsigned *ret);

/* "<quantifier> of <target>": p->word is the quantifier, "of" is read. */
static int
parse_of(struct cparse *p, unsigned *ret)
{
	struct sigma_rule *rule = p->rule;
	char quant[COND_MAX_TOKEN + 1];
	unsigned count, *sels = NULL, node = 0;
	size_t nsels = 0;
	bool them;
	int r;

	memcpy(quant, p->word, sizeof(quant));
	if (strcasecmp(quant, "all") == 0) {
		count = 0;
	} else if (strcasecmp(quant, "any") == 0) {
		count = 1;
	} else {
		char *end;
		unsigned long v = strtoul(quant, &end, 10);

		if (*end != '\0' || v == 0 || v > 1000000 || quant[0] < '0' || quant[0] > '9')
			return cfail(p, "'%s of' is not a valid quantifier (use 1, any or all)",
				     quant);
		count = (unsigned)v;
	}
	r = next(p); /* the target ("of" is read already) */
	if (r < 0)
		return r;
	if (p->tok != T_WORD || (is_reserved(p) && !is_kw(p, "them")))
		return cfail(p, "'%s of' must be followed by a selection pattern or 'them'", quant);
	them = is_kw(p, "them");
	sels = xcalloc(rule->nsels ? rule->nsels : 1, sizeof(*sels));
	for (size_t i = 0; i < rule->nsels; i++) {
		const char *name = rule->sels[i].name;

		if (them ? name[0] != '_' : glob_match(p->word, name))
			sels[nsels++] = (unsigned)i;
	}
	if (nsels == 0) {
		free(sels);
		return cfail(p, "'%s of %s' matches no selection", quant, p->word);
	}
	r = add_node(p, SIGMA_COND_OF, &node);
	if (r < 0) {
		free(sels);
		return r;
	}
	rule->cond_nodes[node].count = count;
	rule->cond_nodes[node].sels = sels;
	rule->cond_nodes[node].nsels = nsels;
	*ret = node;
	return next(p);
}

static int
parse_primary(struct cparse *p, unsigned *ret)
{
	struct sigma_rule *rule = p->rule;
	unsigned node = 0;
	int r;

	switch (p->tok) {
	case T_END:
		return cfail(p, "condition ends too early");
	case T_RP:
		return cfail(p, "unbalanced parenthesis");
	case T_PIPE:
		return cfail(p, "aggregation expressions ('| count() ...') are not supported: "
				"use a correlation rule");
	case T_LP:
		if (++p->depth > COND_MAX_DEPTH)
			return cfail(p, "condition nested too deeply");
		r = next(p);
		if (r < 0)
			return r;
		r = parse_or(p, ret);
		if (r < 0)
			return r;
		if (p->tok != T_RP)
			return cfail(p, "unbalanced parenthesis");
		p->depth--;
		return next(p);
	case T_WORD:
		break;
	}
	if (is_reserved(p))
		return cfail(p, "unexpected '%s' in condition", p->word);
	/* A quantifier is a word followed by "of". */
	{
		size_t save = p->pos;
		char word[COND_MAX_TOKEN + 1];

		memcpy(word, p->word, sizeof(word));
		r = next(p);
		if (r < 0)
			return r;
		if (is_kw(p, "of")) {
			memcpy(p->word, word, sizeof(word));
			p->tok = T_WORD;
			return parse_of(p, ret);
		}
		p->pos = save;
		memcpy(p->word, word, sizeof(word));
		p->tok = T_WORD;
	}
	for (size_t i = 0; i < rule->nsels; i++) {
		if (strcmp(rule->sels[i].name, p->word) == 0) {
			r = add_node(p, SIGMA_COND_SEL, &node);
			if (r < 0)
				return r;
			rule->cond_nodes[node].sel = (unsigned)i;
			*ret = node;
			return next(p);
		}
	}
	if (strpbrk(p->word, "*?") != NULL)
		return cfail(p, "condition uses the pattern '%s' outside '1 of' / 'all of'",
			     p->word);
	return cfail(p, "condition references unknown selection '%s'", p->word);
}

static int
parse_not(struct cparse *p, unsigned *ret)
{
	unsigned a = 0, node = 0;
	int r;

	if (!is_kw(p, "not"))
		return parse_primary(p, ret);
	if (++p->depth > COND_MAX_DEPTH)
		return cfail(p, "condition nested too deeply");
	r = next(p);
	if (r < 0)
		return r;
	r = parse_not(p, &a);
	if (r < 0)
		return r;
	p->depth--;
	r = add_node(p, SIGMA_COND_NOT, &node);
	if (r < 0)
		return r;
	p->rule->cond_nodes[node].a = a;
	*ret = node;
	return 0;
}

static int
parse_and(struct cparse *p, unsigned *ret)
{
	unsigned a = 0, b = 0, node = 0;
	int r;

	r = parse_not(p, &a);
	if (r < 0)
		return r;
	while (is_kw(p, "and")) {
		r = next(p);
		if (r < 0)
			return r;
		r = parse_not(p, &b);
		if (r < 0)
			return r;
		r = add_node(p, SIGMA_COND_AND, &node);
		if (r < 0)
			return r;
		p->rule->cond_nodes[node].a = a;
		p->rule->cond_nodes[node].b = b;
		a = node;
	}
	*ret = a;
	return 0;
}

static int
parse_or(struct cparse *p, unsigned *ret)
{
	unsigned a = 0, b = 0, node = 0;
	int r;

	r = parse_and(p, &a);
	if (r < 0)
		return r;
	while (is_kw(p, "or")) {
		r = next(p);
		if (r < 0)
			return r;
		r = parse_and(p, &b);
		if (r < 0)
			return r;
		r = add_node(p, SIGMA_COND_OR, &node);
		if (r < 0)
			return r;
		p->rule->cond_nodes[node].a = a;
		p->rule->cond_nodes[node].b = b;
		a = node;
	}
	*ret = a;
	return 0;
}

int
sigma_condition_parse(struct sigma_rule *rule, const char *text, unsigned *ret_root, char *err,
		      size_t errlen)
{
	struct cparse p = {.rule = rule, .s = text, .err = err, .errlen = errlen};
	unsigned root;
	int r;

	err[0] = '\0';
	r = next(&p);
	if (r < 0)
		return r;
	if (p.tok == T_END)
		return cfail(&p, "empty condition");
	r = parse_or(&p, &root);
	if (r < 0)
		return r;
	switch (p.tok) {
	case T_END:
		break;
	case T_RP:
		return cfail(&p, "unbalanced parenthesis");
	case T_PIPE:
		return cfail(&p, "aggregation expressions ('| count() ...') are not supported: "
				 "use a correlation rule");
	default:
		return cfail(&p, "unexpected '%s' after the end of the condition",
			     p.tok == T_LP ? "(" : p.word);
	}
	*ret_root = root;
	return 0;
}
