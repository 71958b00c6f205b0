/* json.c - a small JSON writer with lossless escaping of arbitrary bytes. */
#include "core/json.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "core/utf8.h"
#include "core/banned.h"

int
json_append_string(struct buf *out, const char *s, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	int r = 0;

	r |= buf_putc(out, '"');
	while (i < len && r == 0) {
		unsigned char c = p[i];
		size_t n;

		if (c == '"') {
			r = buf_append(out, "\\\"", 2);
			i++;
		} else if (c == '\\') {
			/* A backslash is written as \u005c, so that "\\x" in our
			 * output only ever stands for a byte that is not UTF-8. */
			r = buf_append(out, "\\u005c", 6);
			i++;
		} else if (c < 0x20 || c == 0x7f) {
			char esc[7] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0 };
			if (c == '\n')
				r = buf_append(out, "\\n", 2);
			else if (c == '\t')
				r = buf_append(out, "\\t", 2);
			else
				r = buf_append(out, esc, 6);
			i++;
		} else if (c < 0x80) {
			r = buf_putc(out, (char)c);
			i++;
		} else if ((n = utf8_char_len(p + i, len - i)) > 0) {
			r = buf_append(out, p + i, n);
			i += n;
		} else {
			char esc[6] = { '\\', '\\', 'x', hex[c >> 4], hex[c & 15], 0 };
			r = buf_append(out, esc, 5);
			i++;
		}
	}
	if (r == 0)
		r = buf_putc(out, '"');
	return r < 0 ? -E2BIG : 0;
}

static void
json_put(struct json *j, const char *s, size_t n)
{
	if (j->err == 0 && buf_append(j->out, s, n) < 0)
		j->err = -E2BIG;
}

static void
json_comma(struct json *j)
{
	if (j->need_comma[j->depth])
		json_put(j, ",", 1);
	j->need_comma[j->depth] = true;
}

static void
json_key(struct json *j, const char *key)
{
	json_comma(j);
	if (j->err == 0 && json_append_string(j->out, key, strlen(key)) < 0)
		j->err = -E2BIG;
	json_put(j, ":", 1);
}

static void
json_open(struct json *j, char open, char close)
{
	json_put(j, &open, 1);
	if (j->depth + 1 >= sizeof(j->need_comma) / sizeof(j->need_comma[0])) {
		j->err = -E2BIG;
		return;
	}
	j->depth++;
	j->need_comma[j->depth] = false;
	j->closer[j->depth] = close;
}

void
json_begin(struct json *j, struct buf *out)
{
	memset(j, 0, sizeof(*j));
	j->out = out;
	j->closer[0] = '}';
	json_put(j, "{", 1);
}

void
json_close(struct json *j)
{
	json_put(j, &j->closer[j->depth], 1);
	if (j->depth > 0)
		j->depth--;
}

int
json_end(struct json *j)
{
	while (j->depth > 0)
		json_close(j);
	json_put(j, "}", 1);
	return j->err;
}

void
json_key_object(struct json *j, const char *key)
{
	json_key(j, key);
	json_open(j, '{', '}');
}

void
json_key_array(struct json *j, const char *key)
{
	json_key(j, key);
	json_open(j, '[', ']');
}

void
json_array_object(struct json *j)
{
	json_comma(j);
	json_open(j, '{', '}');
}

void
json_array_str(struct json *j, const char *val)
{
	json_comma(j);
	if (j->err == 0 && json_append_string(j->out, val, strlen(val)) < 0)
		j->err = -E2BIG;
}

void
json_key_strn(struct json *j, const char *key, const char *val, size_t len)
{
	json_key(j, key);
	if (j->err == 0 && json_append_string(j->out, val, len) < 0)
		j->err = -E2BIG;
}

void
json_key_str(struct json *j, const char *key, const char *val)
{
	if (val == NULL) {
		json_key_null(j, key);
		return;
	}
	json_key_strn(j, key, val, strlen(val));
}

static void
json_key_raw(struct json *j, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
json_key_raw(struct json *j, const char *key, const char *fmt, ...)
{
	va_list ap;

	json_key(j, key);
	if (j->err != 0)
		return;
	va_start(ap, fmt);
	if (buf_vappendf(j->out, fmt, ap) < 0)
		j->err = -E2BIG;
	va_end(ap);
}

void
json_key_u64(struct json *j, const char *key, uint64_t val)
{
	json_key_raw(j, key, "%llu", (unsigned long long)val);
}

void
json_key_i64(struct json *j, const char *key, int64_t val)
{
	json_key_raw(j, key, "%lld", (long long)val);
}

void
json_key_double(struct json *j, const char *key, double val)
{
	if (val != val || val > 1e300 || val < -1e300)
		val = 0; /* NaN and infinities are not JSON */
	json_key_raw(j, key, "%.6g", val);
}

void
json_key_bool(struct json *j, const char *key, bool val)
{
	json_key_raw(j, key, "%s", val ? "true" : "false");
}

void
json_key_null(struct json *j, const char *key)
{
	json_key_raw(j, key, "null");
}

void
json_key_json(struct json *j, const char *key, const char *raw, size_t len)
{
	json_key(j, key);
	json_put(j, raw, len);
}
