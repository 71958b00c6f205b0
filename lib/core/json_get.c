/*
 * json_get.c - a bounded, non-recursive scanner that finds one top-level key
 * of a JSON object and decodes its value; enough to show journal events
 * without a JSON library.
 */
#include "core/json_get.h"

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "core/hex.h"
#include "core/banned.h"

struct cur {
	const char	*p;
	size_t		 len, i;
};

static bool
is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static void
skip_ws(struct cur *c)
{
	while (c->i < c->len && is_ws(c->p[c->i]))
		c->i++;
}

/* Does a scalar end here (end of input, a separator or white space)? */
static bool
at_scalar_end(const struct cur *c, size_t i)
{
	return i >= c->len || c->p[i] == ',' || c->p[i] == '}' || c->p[i] == ']' ||
		is_ws(c->p[i]);
}

static bool
at_null(const struct cur *c)
{
	return c->len - c->i >= 4 && memcmp(c->p + c->i, "null", 4) == 0 &&
		at_scalar_end(c, c->i + 4);
}

/* Past the string starting at the quote at c->i. */
static int
skip_string(struct cur *c)
{
	for (c->i++; c->i < c->len; c->i++) {
		if (c->p[c->i] == '\\')
			c->i++;
		else if (c->p[c->i] == '"') {
			c->i++;
			return 0;
		}
	}
	return -EINVAL;
}

/* Past the value at c->i. Objects and arrays are skipped by counting
 * brackets outside strings, so deep nesting costs no stack. */
static int
skip_value(struct cur *c)
{
	size_t depth = 0, start = c->i;
	char ch;

	if (c->i >= c->len)
		return -EINVAL;
	ch = c->p[c->i];
	if (ch == '"')
		return skip_string(c);
	if (ch != '{' && ch != '[') {
		while (!at_scalar_end(c, c->i))
			c->i++;
		return c->i > start ? 0 : -EINVAL;
	}
	while (c->i < c->len) {
		ch = c->p[c->i];
		if (ch == '"') {
			if (skip_string(c) < 0)
				return -EINVAL;
			continue;
		}
		if (ch == '{' || ch == '[') {
			depth++;
		} else if (ch == '}' || ch == ']') {
			if (--depth == 0) {
				c->i++;
				return 0;
			}
		}
		c->i++;
	}
	return -EINVAL;
}

/* n hex digits at p[i..], which the caller has checked are there. */
static int
hex_n(const char *p, size_t n)
{
	int v = 0;

	for (size_t k = 0; k < n; k++) {
		int h = hex_digit(p[k]);

		if (h < 0)
			return -1;
		v = v << 4 | h;
	}
	return v;
}

static int
put_utf8(struct buf *out, unsigned cp)
{
	char u[4];
	size_t n;

	if (cp < 0x80) {
		u[0] = (char)cp;
		n = 1;
	} else if (cp < 0x800) {
		u[0] = (char)(0xc0 | cp >> 6);
		u[1] = (char)(0x80 | (cp & 0x3f));
		n = 2;
	} else if (cp < 0x10000) {
		u[0] = (char)(0xe0 | cp >> 12);
		u[1] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[2] = (char)(0x80 | (cp & 0x3f));
		n = 3;
	} else {
		u[0] = (char)(0xf0 | cp >> 18);
		u[1] = (char)(0x80 | (cp >> 12 & 0x3f));
		u[2] = (char)(0x80 | (cp >> 6 & 0x3f));
		u[3] = (char)(0x80 | (cp & 0x3f));
		n = 4;
	}
	return buf_append(out, u, n);
}

/* "\uXXXX" at p[i..] (and a low surrogate after a high one): the code point
 * and how many characters it took, or -EINVAL. */
static int
decode_u(const struct cur *c, size_t i, unsigned *ret_cp, size_t *ret_n)
{
	int hi, lo;

	if (c->len - i < 6 || (hi = hex_n(c->p + i + 2, 4)) < 0)
		return -EINVAL;
	if (hi >= 0xd800 && hi <= 0xdbff && c->len - i >= 12 && c->p[i + 6] == '\\' &&
		c->p[i + 7] == 'u' && (lo = hex_n(c->p + i + 8, 4)) >= 0xdc00 && lo <= 0xdfff) {
		*ret_cp = 0x10000 + (((unsigned)hi - 0xd800) << 10) + ((unsigned)lo - 0xdc00);
		*ret_n = 12;
		return 0;
	}
	*ret_cp = hi >= 0xd800 && hi <= 0xdfff ? 0xfffd : (unsigned)hi;
	*ret_n = 6;
	return 0;
}

/* Decode the string starting at the quote at c->i into out (appending). */
static int
decode_string(struct cur *c, struct buf *out)
{
	size_t i = c->i + 1;
	int r;

	while (i < c->len) {
		size_t run = i;
		unsigned cp;
		size_t n;
		char b;

		while (run < c->len && c->p[run] != '"' && c->p[run] != '\\')
			run++;
		r = buf_append(out, c->p + i, run - i);
		if (r < 0)
			return r;
		i = run;
		if (i >= c->len)
			break;
		if (c->p[i] == '"') {
			c->i = i + 1;
			return 0;
		}
		if (c->len - i < 2)
			return -EINVAL;
		switch (c->p[i + 1]) {
		case '"':
		case '/':
			b = c->p[i + 1];
			break;
		case '\\':
			/* json.h writes a byte that is not UTF-8 as "\\xHH". */
			if (c->len - i >= 5 && c->p[i + 2] == 'x' && hex_n(c->p + i + 3, 2) >= 0) {
				r = buf_putc(out, (char)hex_n(c->p + i + 3, 2));
				if (r < 0)
					return r;
				i += 5;
				continue;
			}
			b = '\\';
			break;
		case 'b':
			b = '\b';
			break;
		case 'f':
			b = '\f';
			break;
		case 'n':
			b = '\n';
			break;
		case 'r':
			b = '\r';
			break;
		case 't':
			b = '\t';
			break;
		case 'u':
			if (decode_u(c, i, &cp, &n) < 0)
				return -EINVAL;
			r = put_utf8(out, cp);
			if (r < 0)
				return r;
			i += n;
			continue;
		default:
			return -EINVAL;
		}
		r = buf_putc(out, b);
		if (r < 0)
			return r;
		i += 2;
	}
	return -EINVAL;
}

/* Does the key string at the quote at c->i equal key? */
static bool
key_equals(const struct cur *c, size_t end, const char *key)
{
	const char *k = c->p + c->i + 1;
	size_t klen = end - c->i - 2, want = strlen(key);
	struct cur kc = *c;
	struct buf b;
	bool eq;

	if (memchr(k, '\\', klen) == NULL)
		return klen == want && memcmp(k, key, want) == 0;
	buf_init(&b, want + 4);
	eq = decode_string(&kc, &b) == 0 && b.len == want && memcmp(b.data, key, want) == 0;
	buf_release(&b);
	return eq;
}

/* Position c on the value of key at the top level of the object. */
static int
find_key(const char *obj, size_t len, const char *key, struct cur *c)
{
	int r;

	c->p = obj;
	c->len = len;
	c->i = 0;
	skip_ws(c);
	if (c->i >= len || obj[c->i] != '{')
		return -EINVAL;
	c->i++;
	skip_ws(c);
	if (c->i < len && obj[c->i] == '}')
		return -ENOENT;
	for (;;) {
		size_t kstart = c->i;
		bool match;

		if (c->i >= len || obj[c->i] != '"')
			return -EINVAL;
		r = skip_string(c);
		if (r < 0)
			return r;
		match = key_equals(&(struct cur){ obj, len, kstart }, c->i, key);
		skip_ws(c);
		if (c->i >= len || obj[c->i] != ':')
			return -EINVAL;
		c->i++;
		skip_ws(c);
		if (c->i >= len)
			return -EINVAL;
		if (match)
			return 0;
		r = skip_value(c);
		if (r < 0)
			return r;
		skip_ws(c);
		if (c->i >= len)
			return -EINVAL;
		if (obj[c->i] == '}')
			return -ENOENT;
		if (obj[c->i] != ',')
			return -EINVAL;
		c->i++;
		skip_ws(c);
	}
}

int
json_get_str(const char *obj, size_t len, const char *key, struct buf *out)
{
	struct cur c;
	int r;

	buf_reset(out);
	r = find_key(obj, len, key, &c);
	if (r < 0)
		return r;
	if (at_null(&c))
		return -ENOENT;
	if (obj[c.i] != '"')
		return -EINVAL;
	r = decode_string(&c, out);
	if (r < 0)
		buf_reset(out);
	return r;
}

int
json_get_i64(const char *obj, size_t len, const char *key, int64_t *ret)
{
	uint64_t v = 0, limit;
	bool neg = false;
	size_t start;
	struct cur c;
	int r;

	r = find_key(obj, len, key, &c);
	if (r < 0)
		return r;
	if (at_null(&c))
		return -ENOENT;
	if (obj[c.i] == '-') {
		neg = true;
		c.i++;
	}
	limit = neg ? (uint64_t)INT64_MAX + 1 : (uint64_t)INT64_MAX;
	start = c.i;
	for (; c.i < len && obj[c.i] >= '0' && obj[c.i] <= '9'; c.i++) {
		unsigned d = (unsigned)(obj[c.i] - '0');

		if (v > (limit - d) / 10)
			return -ERANGE;
		v = v * 10 + d;
	}
	if (c.i == start || !at_scalar_end(&c, c.i))
		return -EINVAL;
	if (neg)
		*ret = v == (uint64_t)INT64_MAX + 1 ? INT64_MIN : -(int64_t)v;
	else
		*ret = (int64_t)v;
	return 0;
}

int
json_get_raw(const char *obj, size_t len, const char *key, const char **ret_val,
	size_t *ret_len)
{
	struct cur c;
	size_t start;
	int r;

	r = find_key(obj, len, key, &c);
	if (r < 0)
		return r;
	start = c.i;
	r = skip_value(&c);
	if (r < 0)
		return r;
	*ret_val = obj + start;
	*ret_len = c.i - start;
	return 0;
}

/* The start of the next member of an array or object being iterated (the
 * opening bracket first when *pos is 0, then the comma after the last one):
 * 0 with c->i at it, -ENOENT at the closing bracket (*pos set there), or
 * -EINVAL. */
static int
iter_next(struct cur *c, size_t *pos, char open, char close)
{
	if (c->i == 0) {
		skip_ws(c);
		if (c->i >= c->len || c->p[c->i] != open)
			return -EINVAL;
		c->i++;
	}
	skip_ws(c);
	if (c->i < c->len && c->p[c->i] == ',' && *pos != 0) {
		c->i++;
		skip_ws(c);
	}
	if (c->i >= c->len)
		return -EINVAL;
	if (c->p[c->i] == close) {
		*pos = c->i;
		return -ENOENT;
	}
	return 0;
}

int
json_array_next(const char *arr, size_t len, size_t *pos, const char **ret_val, size_t *ret_len)
{
	struct cur c = { .p = arr, .len = len, .i = *pos };
	size_t start;
	int r;

	r = iter_next(&c, pos, '[', ']');
	if (r < 0)
		return r;
	start = c.i;
	if (skip_value(&c) < 0)
		return -EINVAL;
	*ret_val = arr + start;
	*ret_len = c.i - start;
	*pos = c.i;
	return 0;
}

int
json_object_next(const char *obj, size_t len, size_t *pos, const char **ret_key,
	size_t *ret_klen, const char **ret_val, size_t *ret_vlen)
{
	struct cur c = { .p = obj, .len = len, .i = *pos };
	size_t kstart, vstart;
	int r;

	r = iter_next(&c, pos, '{', '}');
	if (r < 0)
		return r;
	if (c.p[c.i] != '"')
		return -EINVAL;
	kstart = c.i + 1;
	if (skip_string(&c) < 0)
		return -EINVAL;
	*ret_key = obj + kstart;
	*ret_klen = c.i - 1 - kstart;	/* raw (escapes not undone) */
	skip_ws(&c);
	if (c.i >= c.len || c.p[c.i] != ':')
		return -EINVAL;
	c.i++;
	skip_ws(&c);
	vstart = c.i;
	if (skip_value(&c) < 0)
		return -EINVAL;
	*ret_val = obj + vstart;
	*ret_vlen = c.i - vstart;
	*pos = c.i;
	return 0;
}
