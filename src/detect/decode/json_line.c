/*
 * json_line.c - one JSON object per line into fields.
 *
 * Every member whose value is a string, number or boolean becomes a field:
 * numbers and booleans as their text (views into the line), strings
 * unescaped into the record's arena (\uXXXX as UTF-8, surrogate pairs
 * joined, a lone surrogate as U+FFFD; a value stops at an escaped NUL) or,
 * when they hold no escape, as views. Nested objects are flattened as "a.b"
 * down to 8 levels; deeper members, arrays and nulls are checked but give no
 * field. The whole line must be one valid object (nesting at most 256 deep),
 * else -EINVAL. "message" (or "msg") becomes the record's message and an RFC
 * 3339 "@timestamp", "timestamp" or "time" its time.
 */
#include <errno.h>
#include <string.h>

#include "detect/decode/internal.h"
#include "core/banned.h"

#define JSON_FLAT_DEPTH	8
#define JSON_MAX_DEPTH	256

struct jp {
	const char	*p, *end;
	struct record	*r;
};

static void
skip_ws(struct jp *j)
{
	while (j->p < j->end && (*j->p == ' ' || *j->p == '\t' || *j->p == '\r' || *j->p == '\n'))
		j->p++;
}

static int
hex4(const char *p, const char *end, unsigned *v)
{
	unsigned x = 0;

	if (end - p < 4)
		return -EINVAL;
	for (int i = 0; i < 4; i++) {
		char c = p[i];

		x <<= 4;
		if (c >= '0' && c <= '9')
			x |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			x |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			x |= (unsigned)(c - 'A' + 10);
		else
			return -EINVAL;
	}
	*v = x;
	return 0;
}

/* The string at j->p (its opening quote): checked, and unescaped into
 * dst[0..room) unless dst is NULL. *ret_len is the unescaped length (cut at
 * a NUL); *ret_fits false when room was too small. */
static int
string(struct jp *j, char *dst, size_t room, size_t *ret_len, bool *ret_fits)
{
	const char *p = j->p + 1, *end = j->end;
	size_t n = 0;
	bool cut = false, fits = dst != NULL;

	for (;;) {
		unsigned char c;
		char u[4];
		size_t ul = 0;

		if (p >= end)
			return -EINVAL;
		c = (unsigned char)*p++;
		if (c == '"')
			break;
		if (c < 0x20)
			return -EINVAL;
		if (c != '\\') {
			u[0] = (char)c;
			ul = 1;
		} else {
			unsigned cp, lo;

			if (p >= end)
				return -EINVAL;
			c = (unsigned char)*p++;
			switch (c) {
			case '"': case '\\': case '/':
				u[0] = (char)c;
				break;
			case 'b': u[0] = '\b'; break;
			case 'f': u[0] = '\f'; break;
			case 'n': u[0] = '\n'; break;
			case 'r': u[0] = '\r'; break;
			case 't': u[0] = '\t'; break;
			case 'u':
				if (hex4(p, end, &cp) < 0)
					return -EINVAL;
				p += 4;
				if (cp >= 0xD800 && cp <= 0xDBFF && end - p >= 6 && p[0] == '\\' &&
				    p[1] == 'u' && hex4(p + 2, end, &lo) == 0 && lo >= 0xDC00 &&
				    lo <= 0xDFFF) {
					cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
					p += 6;
				} else if (cp >= 0xD800 && cp <= 0xDFFF) {
					cp = 0xFFFD;
				}
				if (cp < 0x80) {
					u[0] = (char)cp;
					ul = 1;
				} else if (cp < 0x800) {
					u[0] = (char)(0xC0 | (cp >> 6));
					u[1] = (char)(0x80 | (cp & 0x3F));
					ul = 2;
				} else if (cp < 0x10000) {
					u[0] = (char)(0xE0 | (cp >> 12));
					u[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
					u[2] = (char)(0x80 | (cp & 0x3F));
					ul = 3;
				} else {
					u[0] = (char)(0xF0 | (cp >> 18));
					u[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
					u[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
					u[3] = (char)(0x80 | (cp & 0x3F));
					ul = 4;
				}
				break;
			default:
				return -EINVAL;
			}
			if (ul == 0)
				ul = 1;
		}
		if (ul == 1 && u[0] == '\0')
			cut = true;
		if (cut)
			continue;
		if (fits && n + ul <= room)
			memcpy(dst + n, u, ul);
		else
			fits = false;
		n += ul;
	}
	j->p = p;
	*ret_len = n;
	*ret_fits = fits;
	return 0;
}

/* A string with no escape: its end quote (views need no copy), else NULL. */
static const char *
plain_string(const char *p, const char *end)
{
	for (p++; p < end; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '"')
			return p;
		if (c == '\\' || c < 0x20)
			return NULL;
	}
	return NULL;
}

static int
number(struct jp *j)
{
	const char *p = j->p, *end = j->end, *s;

	if (p < end && *p == '-')
		p++;
	if (p < end && *p == '0') {
		p++;
	} else {
		s = p;
		while (p < end && dec_digit(*p))
			p++;
		if (p == s)
			return -EINVAL;
	}
	if (p < end && *p == '.') {
		s = ++p;
		while (p < end && dec_digit(*p))
			p++;
		if (p == s)
			return -EINVAL;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		s = p;
		while (p < end && dec_digit(*p))
			p++;
		if (p == s)
			return -EINVAL;
	}
	j->p = p;
	return 0;
}

static int object(struct jp *j, const char *prefix, size_t plen, int depth);

/* One value; name (NUL-terminated, in the arena) is its field's name, NULL
 * for values that give no field. */
static int
value(struct jp *j, const char *name, size_t namelen, int depth)
{
	const char *s = j->p, *q;
	size_t n, room;
	bool fits;
	char *dst;
	int ret;

	if (s >= j->end)
		return -EINVAL;
	switch (*s) {
	case '"':
		q = plain_string(s, j->end);
		if (q != NULL) {
			if (name != NULL)
				(void)record_add(j->r, name, s + 1, (size_t)(q - s - 1));
			j->p = q + 1;
			return 0;
		}
		room = RECORD_ARENA_MAX - j->r->arena_len;
		dst = name != NULL && room > 0 ? j->r->arena + j->r->arena_len : NULL;
		ret = string(j, dst, room > 0 ? room - 1 : 0, &n, &fits);
		if (ret < 0)
			return ret;
		if (dst != NULL && fits) {
			dst[n] = '\0';
			j->r->arena_len += n + 1;
			(void)record_add(j->r, name, dst, n);
		}
		return 0;
	case '{':
		if (depth >= JSON_MAX_DEPTH)
			return -EINVAL;
		return object(j, depth < JSON_FLAT_DEPTH ? name : NULL, namelen, depth + 1);
	case '[':
		if (depth >= JSON_MAX_DEPTH)
			return -EINVAL;
		j->p++;
		skip_ws(j);
		if (j->p < j->end && *j->p == ']') {
			j->p++;
			return 0;
		}
		for (;;) {
			skip_ws(j);
			ret = value(j, NULL, 0, depth + 1);
			if (ret < 0)
				return ret;
			skip_ws(j);
			if (j->p >= j->end)
				return -EINVAL;
			if (*j->p == ']') {
				j->p++;
				return 0;
			}
			if (*j->p++ != ',')
				return -EINVAL;
		}
	case 't':
	case 'f':
	case 'n':
		n = *s == 'f' ? 5 : 4;
		if ((size_t)(j->end - s) < n ||
		    memcmp(s, *s == 't' ? "true" : *s == 'f' ? "false" : "null", n) != 0)
			return -EINVAL;
		if (name != NULL && *s != 'n')
			(void)record_add(j->r, name, s, n);
		j->p = s + n;
		return 0;
	default:
		ret = number(j);
		if (ret == 0 && name != NULL)
			(void)record_add(j->r, name, s, (size_t)(j->p - s));
		return ret;
	}
}

/* The object at j->p; members are named prefix.key (key alone without a
 * prefix at the top; no fields at all when prefix is NULL below the top). */
static int
object(struct jp *j, const char *prefix, size_t plen, int depth)
{
	bool named = depth == 1 || prefix != NULL;
	int ret;

	if (j->p >= j->end || *j->p != '{')
		return -EINVAL;
	j->p++;
	skip_ws(j);
	if (j->p < j->end && *j->p == '}') {
		j->p++;
		return 0;
	}
	for (;;) {
		struct record *r = j->r;
		char *name = NULL;
		size_t klen = 0, pre = prefix != NULL ? plen + 1 : 0, room;
		bool fits = false;

		skip_ws(j);
		if (j->p >= j->end || *j->p != '"')
			return -EINVAL;
		room = RECORD_ARENA_MAX - r->arena_len;
		if (named && room > pre + 1) {
			name = r->arena + r->arena_len;
			if (prefix != NULL) {
				memcpy(name, prefix, plen);
				name[plen] = '.';
			}
		}
		ret = string(j, name != NULL ? name + pre : NULL, name != NULL ? room - pre - 1 : 0,
			     &klen, &fits);
		if (ret < 0)
			return ret;
		if (name != NULL && fits) {
			name[pre + klen] = '\0';
			r->arena_len += pre + klen + 1;
		} else {
			name = NULL;
		}
		skip_ws(j);
		if (j->p >= j->end || *j->p != ':')
			return -EINVAL;
		j->p++;
		skip_ws(j);
		ret = value(j, name, name != NULL ? pre + klen : 0, depth);
		if (ret < 0)
			return ret;
		skip_ws(j);
		if (j->p >= j->end)
			return -EINVAL;
		if (*j->p == '}') {
			j->p++;
			return 0;
		}
		if (*j->p++ != ',')
			return -EINVAL;
	}
}

int
json_line_decode(const char *line, size_t len, struct record *r)
{
	static const char *const times[] = { "@timestamp", "timestamp", "time" };
	struct jp j = { .p = line, .end = line + len, .r = r };
	const struct record_field *f;
	int ret;

	skip_ws(&j);
	ret = object(&j, NULL, 0, 1);
	if (ret < 0)
		return ret;
	skip_ws(&j);
	if (j.p != j.end)
		return -EINVAL;
	if ((f = record_get(r, "message")) != NULL || (f = record_get(r, "msg")) != NULL) {
		r->message = f->value;
		r->message_len = f->len;
	}
	for (size_t i = 0; i < sizeof(times) / sizeof(times[0]); i++) {
		const char *e;
		int64_t ns;

		f = record_get(r, times[i]);
		if (f != NULL && dec_iso8601(f->value, f->value + f->len, &ns, &e)) {
			r->time_ns = ns;
			break;
		}
	}
	return 0;
}
