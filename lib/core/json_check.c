/*
 * json_check.c - strict RFC 8259 validation of one JSON object (see
 * json_check.h). A state machine over the input with an explicit stack of one
 * bit per open container (object or array), so nesting costs no C stack and
 * hostile input cannot overflow it; it reports the first problem's offset.
 */
#include "core/json_check.h"

#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/utf8.h"
#include "core/xalloc.h"
#include "core/banned.h"

enum check_state {
	ST_VALUE,		/* a value must come next */
	ST_FIRST_ITEM,		/* just after '[': a value or ']' */
	ST_FIRST_KEY,		/* just after '{': a key or '}' */
	ST_KEY,			/* after ',' in an object: a key */
	ST_COLON,		/* after a key */
	ST_AFTER,		/* after a value: ',' or the closer, or the end at depth 0 */
};

struct checker {
	const unsigned char	*p;
	size_t			 len, i;
	unsigned		 max_depth;
	/* One bit per open container, set for an array. Lives in small until
	 * nesting gets deep, then on the heap; depth is bounded by len. */
	unsigned char		 small[64];
	unsigned char		*stack;
	size_t			 stack_cap;	/* bytes */
	size_t			 depth;
	size_t			 err_off;
	const char		*err_what;
};

static int
fail(struct checker *c, size_t off, const char *what)
{
	c->err_off = off;
	c->err_what = what;
	return -EINVAL;
}

static int
fail_end(struct checker *c)
{
	return fail(c, c->len, "unexpected end");
}

static bool
is_digit(unsigned char ch)
{
	return ch >= '0' && ch <= '9';
}

static void
skip_ws(struct checker *c)
{
	while (c->i < c->len &&
		(c->p[c->i] == ' ' || c->p[c->i] == '\t' || c->p[c->i] == '\n' || c->p[c->i] == '\r'))
		c->i++;
}

static int
push(struct checker *c, bool is_array)
{
	size_t byte = c->depth / 8;
	unsigned char bit = (unsigned char)(1u << (c->depth % 8));

	if (c->depth >= c->max_depth) {
		c->err_off = c->i;
		c->err_what = "nesting too deep";
		return -E2BIG;
	}
	if (byte >= c->stack_cap) {
		unsigned char *s = xmalloc(c->stack_cap * 2);

		memcpy(s, c->stack, c->stack_cap);
		if (c->stack != c->small)
			free(c->stack);
		c->stack = s;
		c->stack_cap *= 2;
	}
	if (is_array)
		c->stack[byte] |= bit;
	else
		c->stack[byte] &= (unsigned char)~bit;
	c->depth++;
	return 0;
}

static bool
top_is_array(const struct checker *c)
{
	size_t d = c->depth - 1;

	return (c->stack[d / 8] >> (d % 8)) & 1;
}

/* The four hex digits of the \u escape whose backslash is at p[at]. */
static int
read_hex4(struct checker *c, size_t at, unsigned *ret_cp)
{
	unsigned cp = 0;

	for (size_t k = at + 2; k < at + 6; k++) {
		unsigned char h;

		if (k >= c->len)
			return fail_end(c);
		h = c->p[k];
		if (is_digit(h))
			cp = cp << 4 | (unsigned)(h - '0');
		else if (h >= 'a' && h <= 'f')
			cp = cp << 4 | (unsigned)(h - 'a' + 10);
		else if (h >= 'A' && h <= 'F')
			cp = cp << 4 | (unsigned)(h - 'A' + 10);
		else
			return fail(c, at, "bad escape");
	}
	*ret_cp = cp;
	return 0;
}

/* A \u escape at p[at]; returns how many bytes it (and a low surrogate
 * completing it) takes. */
static int
check_u_escape(struct checker *c, size_t at, size_t *ret_n)
{
	unsigned cp, lo;
	size_t j = at + 6;
	int r;

	r = read_hex4(c, at, &cp);
	if (r < 0)
		return r;
	if (cp >= 0xdc00 && cp <= 0xdfff)
		return fail(c, at, "lone surrogate");
	if (cp < 0xd800 || cp > 0xdbff) {
		*ret_n = 6;
		return 0;
	}
	/* A high surrogate: a \u low surrogate must follow at once. */
	if (j >= c->len || (c->p[j] == '\\' && j + 1 >= c->len))
		return fail_end(c);
	if (c->p[j] != '\\' || c->p[j + 1] != 'u')
		return fail(c, at, "lone surrogate");
	r = read_hex4(c, j, &lo);
	if (r < 0)
		return r;
	if (lo < 0xdc00 || lo > 0xdfff)
		return fail(c, at, "lone surrogate");
	*ret_n = 12;
	return 0;
}

/* The string whose opening quote is at p[c->i]. */
static int
check_string(struct checker *c)
{
	const unsigned char *p = c->p;
	size_t i = c->i + 1, n;
	int r;

	for (;;) {
		unsigned char ch;

		if (i >= c->len)
			return fail_end(c);
		ch = p[i];
		if (ch == '"') {
			c->i = i + 1;
			return 0;
		} else if (ch == '\\') {
			if (i + 1 >= c->len)
				return fail_end(c);
			if (p[i + 1] == 'u') {
				r = check_u_escape(c, i, &n);
				if (r < 0)
					return r;
				i += n;
			} else if (p[i + 1] != '\0' && memchr("\"\\/bfnrt", p[i + 1], 8) != NULL) {
				i += 2;
			} else {
				return fail(c, i, "bad escape");
			}
		} else if (ch == '\0') {
			return fail(c, i, "NUL in string");
		} else if (ch < 0x20) {
			return fail(c, i, "control character in string");
		} else if (ch < 0x80) {
			i++;
		} else {
			n = utf8_char_len(p + i, c->len - i);
			if (n == 0)
				return fail(c, i, "invalid UTF-8");
			i += n;
		}
	}
}

/* Digits at p[i..): at least one. */
static int
check_digits(struct checker *c, size_t *i)
{
	if (*i >= c->len)
		return fail_end(c);
	if (!is_digit(c->p[*i]))
		return fail(c, *i, "bad number");
	while (*i < c->len && is_digit(c->p[*i]))
		(*i)++;
	return 0;
}

/* -? (0 | [1-9][0-9]*) (. [0-9]+)? ([eE] [+-]? [0-9]+)? starting at p[c->i]. */
static int
check_number(struct checker *c)
{
	const unsigned char *p = c->p;
	size_t i = c->i;
	int r;

	if (p[i] == '-')
		i++;
	if (i < c->len && p[i] == '0') {
		i++;
	} else {
		r = check_digits(c, &i);
		if (r < 0)
			return r;
	}
	if (i < c->len && p[i] == '.') {
		i++;
		r = check_digits(c, &i);
		if (r < 0)
			return r;
	}
	if (i < c->len && (p[i] == 'e' || p[i] == 'E')) {
		i++;
		if (i < c->len && (p[i] == '+' || p[i] == '-'))
			i++;
		r = check_digits(c, &i);
		if (r < 0)
			return r;
	}
	/* "01", "1.2.3", "1e5e1", "1-2": still a number's characters. */
	if (i < c->len && (is_digit(p[i]) || p[i] == '.' || p[i] == 'e' || p[i] == 'E' ||
		p[i] == '+' || p[i] == '-'))
		return fail(c, i, "bad number");
	c->i = i;
	return 0;
}

static int
check_literal(struct checker *c, const char *word)
{
	size_t n = strlen(word);

	for (size_t k = 0; k < n; k++) {
		if (c->i + k >= c->len)
			return fail_end(c);
		if (c->p[c->i + k] != (unsigned char)word[k])
			return fail(c, c->i, "bad literal");
	}
	if (c->i + n < c->len) {
		unsigned char ch = c->p[c->i + n];

		if (is_digit(ch) || (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || ch == '_')
			return fail(c, c->i, "bad literal");
	}
	c->i += n;
	return 0;
}

/* The value starting at p[c->i]; sets *st to what must follow it. */
static int
check_value(struct checker *c, enum check_state *st)
{
	unsigned char ch = c->p[c->i];
	int r;

	switch (ch) {
	case '{':
	case '[':
		r = push(c, ch == '[');
		if (r < 0)
			return r;
		c->i++;
		*st = ch == '[' ? ST_FIRST_ITEM : ST_FIRST_KEY;
		return 0;
	case '"':
		r = check_string(c);
		break;
	case 't':
		r = check_literal(c, "true");
		break;
	case 'f':
		r = check_literal(c, "false");
		break;
	case 'n':
		r = check_literal(c, "null");
		break;
	default:
		if (ch == '-' || is_digit(ch))
			r = check_number(c);
		else
			r = fail(c, c->i, "unexpected character");
		break;
	}
	if (r == 0)
		*st = ST_AFTER;
	return r;
}

static int
check_object(struct checker *c)
{
	enum check_state st = ST_VALUE;
	unsigned char ch;
	int r;

	skip_ws(c);
	if (c->i >= c->len)
		return fail_end(c);
	if (c->p[c->i] != '{')
		return fail(c, c->i, "not an object");

	while (st != ST_AFTER || c->depth > 0) {
		skip_ws(c);
		if (c->i >= c->len)
			return fail_end(c);
		ch = c->p[c->i];
		switch (st) {
		case ST_FIRST_ITEM:
			if (ch == ']') {
				c->depth--;
				c->i++;
				st = ST_AFTER;
				break;
			}
			/* fall through */
		case ST_VALUE:
			r = check_value(c, &st);
			if (r < 0)
				return r;
			break;
		case ST_FIRST_KEY:
			if (ch == '}') {
				c->depth--;
				c->i++;
				st = ST_AFTER;
				break;
			}
			/* fall through */
		case ST_KEY:
			if (ch != '"')
				return fail(c, c->i, "expected string key");
			r = check_string(c);
			if (r < 0)
				return r;
			st = ST_COLON;
			break;
		case ST_COLON:
			if (ch != ':')
				return fail(c, c->i, "expected ':'");
			c->i++;
			st = ST_VALUE;
			break;
		case ST_AFTER:
			if (top_is_array(c)) {
				if (ch == ',')
					st = ST_VALUE;
				else if (ch == ']')
					c->depth--;
				else
					return fail(c, c->i, "expected ',' or ']'");
			} else {
				if (ch == ',')
					st = ST_KEY;
				else if (ch == '}')
					c->depth--;
				else
					return fail(c, c->i, "expected ',' or '}'");
			}
			c->i++;
			break;
		}
	}
	skip_ws(c);
	if (c->i != c->len)
		return fail(c, c->i, "trailing data");
	return 0;
}

int
json_check_object_ex(const char *p, size_t len, unsigned max_depth, size_t *reterr_offset,
	const char **reterr_what)
{
	struct checker c = {
		.p = (const unsigned char *)p,
		.len = len,
		.max_depth = max_depth,
	};
	int r;

	c.stack = c.small;
	c.stack_cap = sizeof(c.small);
	r = check_object(&c);
	if (r < 0) {
		if (reterr_offset != NULL)
			*reterr_offset = c.err_off;
		if (reterr_what != NULL)
			*reterr_what = c.err_what;
	}
	if (c.stack != c.small)
		free(c.stack);
	return r;
}

int
json_check_object(const char *p, size_t len, unsigned max_depth, size_t *reterr_offset)
{
	return json_check_object_ex(p, len, max_depth, reterr_offset, NULL);
}
