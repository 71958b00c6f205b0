/*
 * http.c - the strict, bounded HTTP/1.1 parser and writer behind the API
 * (requests on the server, responses in the CLI).
 *
 * Both parsers are stateless: each call looks at the head again from the
 * start, line by line, and stops at the first line that is wrong, so a bad
 * request is refused as soon as the line that makes it bad has arrived and
 * a head that grows past HTTP_MAX_HEAD is refused without waiting for more.
 * Nothing is copied: the results point into the caller's bytes.
 */
#include "server/http/http.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/hex.h"
#include "core/banned.h"

/* RFC 9110 tchar: the bytes of a method or a header name. */
static bool
is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

/* A byte allowed in a header value or reason phrase: visible ASCII, SP, HTAB
 * and obs-text; no other control byte (CR, LF, NUL among them). */
static bool
is_field_char(unsigned char c)
{
	return c == '\t' || (c >= 0x20 && c != 0x7f);
}

static bool
str_eq_ci(const char *a, size_t alen, const char *b)
{
	size_t blen = strlen(b);

	if (alen != blen)
		return false;
	for (size_t i = 0; i < alen; i++) {
		unsigned char x = (unsigned char)a[i], y = (unsigned char)b[i];

		if (x >= 'A' && x <= 'Z')
			x = (unsigned char)(x - 'A' + 'a');
		if (y >= 'A' && y <= 'Z')
			y = (unsigned char)(y - 'A' + 'a');
		if (x != y)
			return false;
	}
	return true;
}

/* ---- the head: lines and header fields, shared by both parsers ---- */

/* What the header fields said, as far as this code cares. */
struct head {
	bool		 have_length;
	uint64_t	 length;
	bool		 conn_close, conn_keep_alive;
	const char	*authorization;
	size_t		 authorization_len;
	unsigned	 nfields;
	size_t		 len;		/* request/status line through the blank line */
};

/* The next line of p starting at *pos, within the first HTTP_MAX_HEAD bytes.
 * Returns 1 with the line (CRLF excluded) in *ret_line, *ret_n and *pos past
 * its CRLF; 0 when it has not all arrived; -EPROTO for a bare LF; -E2BIG
 * when the head cannot end within HTTP_MAX_HEAD. */
static int
next_line(const char *p, size_t len, size_t *pos, const char **ret_line, size_t *ret_n)
{
	size_t limit = len < HTTP_MAX_HEAD ? len : HTTP_MAX_HEAD;
	const char *lf;
	size_t start = *pos, n;

	lf = start < limit ? memchr(p + start, '\n', limit - start) : NULL;
	if (lf == NULL)
		return len >= HTTP_MAX_HEAD ? -E2BIG : 0;
	n = (size_t)(lf - (p + start));
	if (n == 0 || p[start + n - 1] != '\r')
		return -EPROTO;
	*ret_line = p + start;
	*ret_n = n - 1;
	*pos = start + n + 1;
	return 1;
}

/* "close" / "keep-alive" among the comma-separated options of Connection. */
static void
parse_connection(struct head *h, const char *v, size_t n)
{
	size_t i = 0;

	while (i < n) {
		size_t s, e;

		while (i < n && (v[i] == ' ' || v[i] == '\t' || v[i] == ','))
			i++;
		s = i;
		while (i < n && v[i] != ',')
			i++;
		e = i;
		while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
			e--;
		if (str_eq_ci(v + s, e - s, "close"))
			h->conn_close = true;
		else if (str_eq_ci(v + s, e - s, "keep-alive"))
			h->conn_keep_alive = true;
	}
}

/* Content-Length: digits only, no overflow, the same value if repeated, and
 * within max_body. 0, -EPROTO (400) or -EFBIG (413). */
static int
parse_length(struct head *h, const char *v, size_t n, size_t max_body)
{
	uint64_t x = 0;

	if (n == 0)
		return -EPROTO;
	for (size_t i = 0; i < n; i++) {
		unsigned d;

		if (v[i] < '0' || v[i] > '9')
			return -EPROTO;
		d = (unsigned)(v[i] - '0');
		if (x > (UINT64_MAX - d) / 10)
			return -EPROTO;
		x = x * 10 + d;
	}
	if (h->have_length && h->length != x)
		return -EPROTO;
	h->have_length = true;
	h->length = x;
	if (x > max_body || x > (uint64_t)(LONG_MAX - HTTP_MAX_HEAD))
		return -EFBIG;
	return 0;
}

/* One header line "name: value". Returns 0, or -EPROTO (400), -E2BIG (431),
 * -EFBIG (413), -ENOSYS (501). */
static int
parse_field(struct head *h, const char *line, size_t n, size_t max_body)
{
	const char *colon, *v;
	size_t nlen, vlen;

	if (++h->nfields > HTTP_MAX_HEADERS)
		return -E2BIG;
	colon = memchr(line, ':', n);
	if (colon == NULL || colon == line)
		return -EPROTO;
	nlen = (size_t)(colon - line);
	for (size_t i = 0; i < nlen; i++)
		if (!is_tchar((unsigned char)line[i]))
			return -EPROTO;	/* also a space before ':' and obs-fold */
	v = colon + 1;
	vlen = n - nlen - 1;
	for (size_t i = 0; i < vlen; i++)
		if (!is_field_char((unsigned char)v[i]))
			return -EPROTO;
	while (vlen > 0 && (v[0] == ' ' || v[0] == '\t')) {
		v++;
		vlen--;
	}
	while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
		vlen--;

	if (str_eq_ci(line, nlen, "content-length"))
		return parse_length(h, v, vlen, max_body);
	if (str_eq_ci(line, nlen, "transfer-encoding"))
		return -ENOSYS;
	if (str_eq_ci(line, nlen, "connection"))
		parse_connection(h, v, vlen);
	else if (str_eq_ci(line, nlen, "authorization")) {
		if (h->authorization != NULL)
			return -EPROTO;	/* two credentials: which one? */
		h->authorization = v;
		h->authorization_len = vlen;
	}
	return 0;
}

/* The header lines after the start line (which ends at *pos), through the
 * blank line. 1 with h->len set when the head is complete, 0 when not yet,
 * or an error as parse_field, or from next_line. */
static int
parse_fields(const char *p, size_t len, size_t pos, size_t max_body, struct head *h)
{
	for (;;) {
		const char *line;
		size_t n;
		int r;

		r = next_line(p, len, &pos, &line, &n);
		if (r <= 0)
			return r;
		if (n == 0) {
			h->len = pos;
			return 1;
		}
		r = parse_field(h, line, n, max_body);
		if (r < 0)
			return r;
	}
}

/* "HTTP/1.0" or "HTTP/1.1": 0 and *ret_http10; -ENOTSUP for another
 * HTTP/d.d; -EPROTO for anything else. */
static int
parse_version(const char *v, size_t n, bool *ret_http10)
{
	if (n != 8 || memcmp(v, "HTTP/", 5) != 0 || v[5] < '0' || v[5] > '9' || v[6] != '.' ||
		v[7] < '0' || v[7] > '9')
		return -EPROTO;
	if (v[5] != '1' || (v[7] != '0' && v[7] != '1'))
		return -ENOTSUP;
	*ret_http10 = v[7] == '0';
	return 0;
}

/* ---- requests ---- */

static enum http_method
method_of(const char *m, size_t n)
{
	static const struct {
		const char		*name;
		enum http_method	 method;
	} methods[] = {
		{ "GET", HTTP_GET }, { "POST", HTTP_POST }, { "PUT", HTTP_PUT },
		{ "DELETE", HTTP_DELETE }, { "HEAD", HTTP_HEAD },
	};

	for (size_t i = 0; i < sizeof(methods) / sizeof(methods[0]); i++)
		if (strlen(methods[i].name) == n && memcmp(methods[i].name, m, n) == 0)
			return methods[i].method;
	return HTTP_OTHER;
}

/* "METHOD SP target SP version": exactly one space between the three. */
static int
parse_request_line(const char *line, size_t n, struct http_request *req)
{
	const char *sp1, *sp2, *target, *q;
	size_t mlen, tlen;

	sp1 = memchr(line, ' ', n);
	if (sp1 == NULL || sp1 == line)
		return -EPROTO;
	mlen = (size_t)(sp1 - line);
	for (size_t i = 0; i < mlen; i++)
		if (!is_tchar((unsigned char)line[i]))
			return -EPROTO;
	target = sp1 + 1;
	sp2 = memchr(target, ' ', n - mlen - 1);
	if (sp2 == NULL)
		return -EPROTO;
	tlen = (size_t)(sp2 - target);
	/* origin-form only: "/path[?query]" in visible ASCII, no fragment */
	if (tlen == 0 || target[0] != '/')
		return -EPROTO;
	for (size_t i = 0; i < tlen; i++) {
		unsigned char c = (unsigned char)target[i];

		if (c <= 0x20 || c >= 0x7f || c == '#')
			return -EPROTO;
	}
	req->method = method_of(line, mlen);
	req->path = target;
	q = memchr(target, '?', tlen);
	if (q == NULL) {
		req->path_len = tlen;
		req->query = NULL;
		req->query_len = 0;
	} else {
		req->path_len = (size_t)(q - target);
		req->query = q + 1;
		req->query_len = tlen - req->path_len - 1;
	}
	return parse_version(sp2 + 1, n - mlen - 1 - tlen - 1, &req->http10);
}

static int
status_for(int r)
{
	switch (r) {
	case -E2BIG:	return 431;
	case -EFBIG:	return 413;
	case -ENOSYS:	return 501;
	case -ENOTSUP:	return 505;
	default:	return 400;
	}
}

long
http_parse_request(const char *p, size_t len, size_t max_body, struct http_request *ret,
		int *ret_status)
{
	struct http_request req = { 0 };
	struct head h = { 0 };
	const char *line;
	size_t n, pos = 0;
	int r;

	r = next_line(p, len, &pos, &line, &n);
	if (r <= 0)
		goto out;
	r = parse_request_line(line, n, &req);
	if (r < 0)
		goto out;
	r = parse_fields(p, len, pos, max_body, &h);
	if (r <= 0)
		goto out;
	if (len - h.len < h.length) {
		r = 0;
		goto out;
	}

	req.authorization = h.authorization;
	req.authorization_len = h.authorization_len;
	if (h.have_length) {
		req.body = p + h.len;
		req.body_len = (size_t)h.length;
	}
	req.keep_alive = req.http10 ? h.conn_keep_alive && !h.conn_close : !h.conn_close;
	*ret = req;
	return (long)(h.len + h.length);
out:
	if (r < 0) {
		if (ret_status != NULL)
			*ret_status = status_for(r);
		/* the header's promise: 431 and 413 are both -E2BIG */
		return r == -EFBIG ? -E2BIG : r;
	}
	return 0;
}

/* ---- query strings and percent-encoding ---- */

/* Decode s[0..len) into out (appending). plus: '+' means a space (a query).
 * A '%' without two hex digits, or one that makes a NUL, is -EINVAL: no
 * caller wants a NUL inside a name. */
static int
decode(const char *s, size_t len, bool plus, struct buf *out)
{
	size_t i = 0;
	int r;

	while (i < len) {
		size_t run = i;
		char c;

		while (run < len && s[run] != '%' && !(plus && s[run] == '+'))
			run++;
		r = buf_append(out, s + i, run - i);
		if (r < 0)
			return r;
		i = run;
		if (i == len)
			break;
		if (s[i] == '+') {
			c = ' ';
			i++;
		} else {
			int hi, lo;

			if (len - i < 3)
				return -EINVAL;
			hi = hex_digit(s[i + 1]);
			lo = hex_digit(s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return -EINVAL;
			c = (char)(hi << 4 | lo);
			i += 3;
		}
		r = buf_putc(out, c);
		if (r < 0)
			return r;
	}
	return 0;
}

int
http_percent_decode(const char *s, size_t len, struct buf *out)
{
	int r;

	buf_reset(out);
	r = decode(s, len, false, out);
	if (r < 0)
		buf_reset(out);
	return r;
}

/* Whether the encoded name enc[0..n) decodes to key. */
static bool
name_matches(const char *enc, size_t n, const char *key)
{
	size_t klen = strlen(key), i = 0, k = 0;

	while (i < n) {
		char c = enc[i];

		if (c == '+') {
			c = ' ';
			i++;
		} else if (c == '%') {
			int hi, lo;

			if (n - i < 3)
				return false;
			hi = hex_digit(enc[i + 1]);
			lo = hex_digit(enc[i + 2]);
			if (hi < 0 || lo < 0)
				return false;
			c = (char)(hi << 4 | lo);
			i += 3;
		} else {
			i++;
		}
		if (k == klen || key[k] != c)
			return false;
		k++;
	}
	return k == klen;
}

int
http_query_get(const char *query, size_t len, const char *key, struct buf *out)
{
	size_t i = 0;
	int r;

	buf_reset(out);
	if (query == NULL)
		return -ENOENT;
	while (i <= len) {
		const char *amp, *eq, *pair = query + i;
		size_t n, nlen;

		amp = memchr(pair, '&', len - i);
		n = amp != NULL ? (size_t)(amp - pair) : len - i;
		eq = memchr(pair, '=', n);
		nlen = eq != NULL ? (size_t)(eq - pair) : n;
		if (name_matches(pair, nlen, key)) {
			r = eq == NULL ? 0 : decode(eq + 1, n - nlen - 1, true, out);
			if (r < 0)
				buf_reset(out);
			return r;
		}
		i += n + 1;
	}
	return -ENOENT;
}

/* ---- responses ---- */

const char *
http_status_text(int status)
{
	static const struct {
		int		 status;
		const char	*text;
	} texts[] = {
		{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" }, { 204, "No Content" },
		{ 304, "Not Modified" }, { 400, "Bad Request" }, { 401, "Unauthorized" },
		{ 403, "Forbidden" }, { 404, "Not Found" }, { 405, "Method Not Allowed" },
		{ 408, "Request Timeout" }, { 409, "Conflict" }, { 410, "Gone" },
		{ 411, "Length Required" }, { 413, "Content Too Large" },
		{ 415, "Unsupported Media Type" }, { 422, "Unprocessable Content" },
		{ 429, "Too Many Requests" }, { 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
		{ 502, "Bad Gateway" }, { 503, "Service Unavailable" }, { 504, "Gateway Timeout" },
		{ 505, "HTTP Version Not Supported" }, { 507, "Insufficient Storage" },
	};

	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if (texts[i].status == status)
			return texts[i].text;
	return "Unknown";
}

int
http_response(struct buf *out, int status, const char *content_type, const char *body,
		size_t body_len, bool keep_alive)
{
	size_t old = out->len;
	bool no_body = status == 204 || status == 304;
	int r;

	if (status < 200 || status > 599 || (no_body && body_len > 0) ||
		(body_len > 0 && (body == NULL || content_type == NULL)))
		return -EINVAL;
	if (content_type != NULL)
		for (const char *c = content_type; *c != '\0'; c++)
			if (!is_field_char((unsigned char)*c))
				return -EINVAL;

	r = buf_appendf(out, "HTTP/1.1 %d %s\r\n", status, http_status_text(status));
	if (r == 0 && content_type != NULL)
		r = buf_appendf(out, "Content-Type: %s\r\n", content_type);
	/* 204 and 304 must not carry a Content-Length (RFC 9110 8.6) */
	if (r == 0 && !no_body)
		r = buf_appendf(out, "Content-Length: %zu\r\n", body_len);
	if (r == 0)
		r = buf_appendf(out, "Connection: %s\r\n"
			"Cache-Control: no-store\r\n"
			"X-Content-Type-Options: nosniff\r\n\r\n",
			keep_alive ? "keep-alive" : "close");
	if (r == 0 && body_len > 0)
		r = buf_append(out, body, body_len);
	if (r < 0) {
		out->len = old;
		out->data[old] = '\0';
	}
	return r;
}

/* "HTTP/1.x NNN reason": the status code, 200..599 (no interim responses:
 * the client never asks for one). */
static int
parse_status_line(const char *line, size_t n, int *ret_status)
{
	bool http10;
	int status;

	if (n < 12 || parse_version(line, 8, &http10) < 0 || line[8] != ' ')
		return -EPROTO;
	for (size_t i = 9; i < 12; i++)
		if (line[i] < '0' || line[i] > '9')
			return -EPROTO;
	status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
	if (status < 200 || status > 599)
		return -EPROTO;
	if (n > 12) {
		if (line[12] != ' ')
			return -EPROTO;
		for (size_t i = 13; i < n; i++)
			if (!is_field_char((unsigned char)line[i]))
				return -EPROTO;
	}
	*ret_status = status;
	return 0;
}

long
http_parse_response(const char *p, size_t len, size_t max_body, struct http_response *ret)
{
	struct head h = { 0 };
	const char *line;
	size_t n, pos = 0;
	uint64_t body_len;
	int status = 0;
	int r;

	r = next_line(p, len, &pos, &line, &n);
	if (r <= 0)
		return r;
	r = parse_status_line(line, n, &status);
	if (r < 0)
		return r;
	r = parse_fields(p, len, pos, max_body, &h);
	if (r == -EFBIG)
		return -E2BIG;
	if (r == -E2BIG || r == 0)
		return r;
	if (r < 0)
		return -EPROTO;	/* Transfer-Encoding too: we never ask for it */
	if (status == 204 || status == 304)
		body_len = 0;
	else if (h.have_length)
		body_len = h.length;
	else
		return -EPROTO;
	if (len - h.len < body_len)
		return 0;
	ret->status = status;
	ret->body = p + h.len;
	ret->body_len = (size_t)body_len;
	return (long)(h.len + body_len);
}
