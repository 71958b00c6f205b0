/* test_http.c - the API's HTTP parser and writer: well-formed requests whole,
 * byte by byte and pipelined; every kind of bad request with the status it
 * gets; query decoding; responses written and read back. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "server/http/http.h"
#include "core/banned.h"

#define MAX_BODY	1024

/* A copy of text[0..len) with nothing after it, so a read past len is
 * caught by AddressSanitizer. */
static char *
exact_copy(const char *text, size_t len)
{
	char *p = xmalloc(len ? len : 1);

	memcpy(p, text, len);
	return p;
}

/* Parse text[0..len) and return what http_parse_request did; the status for
 * an error in *status (0 otherwise). */
static long
parse_n(const char *text, size_t len, struct http_request *req, int *status)
{
	char *p = exact_copy(text, len);
	struct http_request tmp;
	long r;

	*status = 0;
	r = http_parse_request(p, len, MAX_BODY, &tmp, status);
	if (r > 0 && req != NULL) {
		/* keep the views valid: point them into text instead of p */
		*req = tmp;
		req->path = tmp.path ? text + (tmp.path - p) : NULL;
		req->query = tmp.query ? text + (tmp.query - p) : NULL;
		req->authorization = tmp.authorization ? text + (tmp.authorization - p) : NULL;
		req->body = tmp.body ? text + (tmp.body - p) : NULL;
	}
	free(p);
	return r;
}

static long
parse(const char *text, struct http_request *req, int *status)
{
	return parse_n(text, strlen(text), req, status);
}

/* The request is refused with this errno and status. */
static void
assert_refused(const char *text, long err, int status)
{
	int st;

	assert_int_equal(parse(text, NULL, &st), err);
	assert_int_equal(st, status);
}

static void
view_equal(const char *p, size_t n, const char *want)
{
	assert_non_null(p);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(p, want, n);
}

/* ---- well-formed requests ---- */

static void
parses_a_get(void **state)
{
	const char *text = "GET /api/v1/events?agent=a1&limit=10 HTTP/1.1\r\n"
		"Host: 127.0.0.1:8640\r\nAuthorization: Bearer s3cret \r\n\r\n";
	struct http_request req;
	int st;

	assert_int_equal(parse(text, &req, &st), (long)strlen(text));
	assert_int_equal(req.method, HTTP_GET);
	view_equal(req.path, req.path_len, "/api/v1/events");
	view_equal(req.query, req.query_len, "agent=a1&limit=10");
	view_equal(req.authorization, req.authorization_len, "Bearer s3cret");
	assert_null(req.body);
	assert_int_equal(req.body_len, 0);
	assert_true(req.keep_alive);
	assert_false(req.http10);
}

static void
parses_a_post_with_body(void **state)
{
	const char *text = "POST /api/v1/tokens HTTP/1.1\r\ncontent-LENGTH: 7\r\n"
		"AUTHORIZATION:Bearer x\r\n\r\n{\"a\":1}";
	struct http_request req;
	int st;

	assert_int_equal(parse(text, &req, &st), (long)strlen(text));
	assert_int_equal(req.method, HTTP_POST);
	view_equal(req.path, req.path_len, "/api/v1/tokens");
	assert_null(req.query);
	view_equal(req.authorization, req.authorization_len, "Bearer x");
	view_equal(req.body, req.body_len, "{\"a\":1}");
}

static void
knows_its_methods(void **state)
{
	static const struct {
		const char		*line;
		enum http_method	 method;
	} cases[] = {
		{ "GET / HTTP/1.1\r\n\r\n", HTTP_GET },
		{ "PUT / HTTP/1.1\r\n\r\n", HTTP_PUT },
		{ "DELETE / HTTP/1.1\r\n\r\n", HTTP_DELETE },
		{ "HEAD / HTTP/1.1\r\n\r\n", HTTP_HEAD },
		{ "PATCH / HTTP/1.1\r\n\r\n", HTTP_OTHER },
		{ "get / HTTP/1.1\r\n\r\n", HTTP_OTHER },	/* methods are case-sensitive */
	};
	struct http_request req;
	int st;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(parse(cases[i].line, &req, &st) > 0);
		assert_int_equal(req.method, cases[i].method);
	}
}

static void
empty_query_is_not_absent(void **state)
{
	struct http_request req;
	int st;

	assert_true(parse("GET /x? HTTP/1.1\r\n\r\n", &req, &st) > 0);
	view_equal(req.path, req.path_len, "/x");
	assert_non_null(req.query);
	assert_int_equal(req.query_len, 0);
}

static void
keep_alive_follows_version_and_connection(void **state)
{
	static const struct {
		const char	*text;
		bool		 keep_alive, http10;
	} cases[] = {
		{ "GET / HTTP/1.1\r\n\r\n", true, false },
		{ "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", false, false },
		{ "GET / HTTP/1.1\r\nconnection: Upgrade, CLOSE\r\n\r\n", false, false },
		{ "GET / HTTP/1.0\r\n\r\n", false, true },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n", true, true },
		{ "GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", true, true },
		{ "GET / HTTP/1.0\r\nConnection: keep-alive, close\r\n\r\n", false, true },
		{ "GET / HTTP/1.1\r\nConnection: closed\r\n\r\n", true, false },
	};
	struct http_request req;
	int st;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_true(parse(cases[i].text, &req, &st) > 0);
		assert_int_equal(req.keep_alive, cases[i].keep_alive);
		assert_int_equal(req.http10, cases[i].http10);
	}
}

static void
same_content_length_twice_is_fine(void **state)
{
	const char *text = "POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nok";
	struct http_request req;
	int st;

	assert_int_equal(parse(text, &req, &st), (long)strlen(text));
	view_equal(req.body, req.body_len, "ok");
}

static void
incomplete_until_the_last_byte(void **state)
{
	/* Fed one byte more each time, as a slow client sends it: nothing is
	 * complete until the body's last byte has arrived. */
	const char *text = "POST /api/v1/x?y=1 HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
	size_t len = strlen(text);
	struct http_request req;
	int st;

	for (size_t n = 0; n < len; n++) {
		assert_int_equal(parse_n(text, n, &req, &st), 0);
		assert_int_equal(st, 0);
	}
	assert_int_equal(parse_n(text, len, &req, &st), (long)len);
	view_equal(req.body, req.body_len, "hello");
}

static void
two_pipelined_requests(void **state)
{
	const char *one = "POST /a HTTP/1.1\r\nContent-Length: 3\r\n\r\nabc";
	const char *two = "GET /b?k=v HTTP/1.1\r\nConnection: close\r\n\r\n";
	char text[256];
	struct http_request req;
	long n1, n2;
	int st;

	snprintf(text, sizeof(text), "%s%s", one, two);
	n1 = parse(text, &req, &st);
	assert_int_equal(n1, (long)strlen(one));
	view_equal(req.path, req.path_len, "/a");
	view_equal(req.body, req.body_len, "abc");
	assert_true(req.keep_alive);
	n2 = parse(text + n1, &req, &st);
	assert_int_equal(n2, (long)strlen(two));
	view_equal(req.path, req.path_len, "/b");
	view_equal(req.query, req.query_len, "k=v");
	assert_false(req.keep_alive);
}

static void
head_of_exactly_the_limit_is_accepted(void **state)
{
	const char *start = "GET / HTTP/1.1\r\nX-Pad: ";
	size_t len = HTTP_MAX_HEAD, fill = len - strlen(start) - 4;
	char *text = xmalloc(len + 1);
	int st;

	memcpy(text, start, strlen(start));
	memset(text + strlen(start), 'a', fill);
	memcpy(text + len - 4, "\r\n\r\n", 5);
	assert_int_equal(parse_n(text, len, NULL, &st), (long)len);
	free(text);
}

/* ---- bad requests: one each ---- */

static void
refuses_bad_method(void **state)
{
	assert_refused("G(T / HTTP/1.1\r\n\r\n", -EPROTO, 400);
}

static void
refuses_empty_method(void **state)
{
	assert_refused(" / HTTP/1.1\r\n\r\n", -EPROTO, 400);
}

static void
refuses_absolute_target(void **state)
{
	assert_refused("GET http://h/ HTTP/1.1\r\n\r\n", -EPROTO, 400);
}

static void
refuses_asterisk_target(void **state)
{
	assert_refused("OPTIONS * HTTP/1.1\r\n\r\n", -EPROTO, 400);
}

static void
refuses_space_in_target(void **state)
{
	assert_refused("GET /a b HTTP/1.1\r\n\r\n", -EPROTO, 400);
}

static void
refuses_double_space(void **state)
{
	assert_refused("GET  / HTTP/1.1\r\n\r\n", -EPROTO, 400);
}

static void
refuses_control_char_in_target(void **state)
{
	assert_refused("GET /a\x01 HTTP/1.1\r\n\r\n", -EPROTO, 400);
}

static void
refuses_tab_in_target(void **state)
{
	assert_refused("GET /a\tb HTTP/1.1\r\n\r\n", -EPROTO, 400);
}

static void
refuses_non_ascii_in_target(void **state)
{
	assert_refused("GET /\xe5\xba\x94 HTTP/1.1\r\n\r\n", -EPROTO, 400);
}

static void
refuses_nul_in_target(void **state)
{
	static const char text[] = "GET /a\0b HTTP/1.1\r\n\r\n";
	int st;

	assert_int_equal(parse_n(text, sizeof(text) - 1, NULL, &st), -EPROTO);
	assert_int_equal(st, 400);
}

static void
refuses_missing_version(void **state)
{
	assert_refused("GET /\r\n\r\n", -EPROTO, 400);
}

static void
refuses_malformed_version(void **state)
{
	assert_refused("GET / HTTPS/1.1\r\n\r\n", -EPROTO, 400);
}

static void
refuses_http2(void **state)
{
	assert_refused("GET / HTTP/2.0\r\n\r\n", -ENOTSUP, 505);
}

static void
refuses_http12(void **state)
{
	assert_refused("GET / HTTP/1.2\r\n\r\n", -ENOTSUP, 505);
}

static void
refuses_http09_style_line(void **state)
{
	assert_refused("GET / HTTP/0.9\r\n\r\n", -ENOTSUP, 505);
}

static void
refuses_bare_lf_after_request_line(void **state)
{
	/* refused at once, not after waiting for a CRLF CRLF that never comes */
	assert_refused("GET / HTTP/1.1\n", -EPROTO, 400);
}

static void
refuses_bare_lf_after_header(void **state)
{
	assert_refused("GET / HTTP/1.1\r\nHost: h\n", -EPROTO, 400);
}

static void
refuses_bare_lf_blank_line(void **state)
{
	assert_refused("GET / HTTP/1.1\r\nHost: h\r\n\n", -EPROTO, 400);
}

static void
refuses_leading_blank_line(void **state)
{
	assert_refused("\r\nGET / HTTP/1.1\r\n\r\n", -EPROTO, 400);
}

static void
refuses_header_name_with_space(void **state)
{
	assert_refused("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n", -EPROTO, 400);
}

static void
refuses_space_before_colon(void **state)
{
	assert_refused("GET / HTTP/1.1\r\nHost : h\r\n\r\n", -EPROTO, 400);
}

static void
refuses_header_without_colon(void **state)
{
	assert_refused("GET / HTTP/1.1\r\nHost\r\n\r\n", -EPROTO, 400);
}

static void
refuses_empty_header_name(void **state)
{
	assert_refused("GET / HTTP/1.1\r\n: x\r\n\r\n", -EPROTO, 400);
}

static void
refuses_folded_header(void **state)
{
	assert_refused("GET / HTTP/1.1\r\nX-A: a\r\n b\r\n\r\n", -EPROTO, 400);
}

static void
refuses_nul_in_header_value(void **state)
{
	static const char text[] = "GET / HTTP/1.1\r\nX-A: a\0b\r\n\r\n";
	int st;

	assert_int_equal(parse_n(text, sizeof(text) - 1, NULL, &st), -EPROTO);
	assert_int_equal(st, 400);
}

static void
refuses_cr_in_header_value(void **state)
{
	assert_refused("GET / HTTP/1.1\r\nX-A: a\rb\r\n\r\n", -EPROTO, 400);
}

static void
refuses_control_char_in_header_value(void **state)
{
	assert_refused("GET / HTTP/1.1\r\nX-A: a\x1b[31m\r\n\r\n", -EPROTO, 400);
}

static void
refuses_two_authorizations(void **state)
{
	assert_refused("GET / HTTP/1.1\r\nAuthorization: Bearer a\r\n"
		"authorization: Bearer b\r\n\r\n", -EPROTO, 400);
}

static void
refuses_different_content_lengths(void **state)
{
	assert_refused("POST / HTTP/1.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nabc",
		-EPROTO, 400);
}

static void
refuses_content_length_with_letters(void **state)
{
	assert_refused("POST / HTTP/1.1\r\nContent-Length: 12a\r\n\r\n", -EPROTO, 400);
}

static void
refuses_negative_content_length(void **state)
{
	assert_refused("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", -EPROTO, 400);
}

static void
refuses_signed_content_length(void **state)
{
	assert_refused("POST / HTTP/1.1\r\nContent-Length: +1\r\n\r\nx", -EPROTO, 400);
}

static void
refuses_empty_content_length(void **state)
{
	assert_refused("POST / HTTP/1.1\r\nContent-Length: \r\n\r\n", -EPROTO, 400);
}

static void
refuses_content_length_list(void **state)
{
	assert_refused("POST / HTTP/1.1\r\nContent-Length: 1, 1\r\n\r\nx", -EPROTO, 400);
}

static void
refuses_content_length_overflow(void **state)
{
	assert_refused("POST / HTTP/1.1\r\nContent-Length: 184467440737095516160\r\n\r\n",
		-EPROTO, 400);
}

static void
refuses_body_over_limit_from_the_header(void **state)
{
	/* 413 as soon as the header says so: no body, not even the blank line */
	assert_refused("POST / HTTP/1.1\r\nContent-Length: 1025\r\n", -E2BIG, 413);
}

static void
refuses_huge_content_length(void **state)
{
	assert_refused("POST / HTTP/1.1\r\nContent-Length: 18446744073709551615\r\n",
		-E2BIG, 413);
}

static void
accepts_body_at_the_limit(void **state)
{
	char *text = xmalloc(64 + MAX_BODY);
	struct http_request req;
	int n, st;

	n = snprintf(text, 64, "POST / HTTP/1.1\r\nContent-Length: %d\r\n\r\n", MAX_BODY);
	memset(text + n, 'b', MAX_BODY);
	assert_int_equal(parse_n(text, (size_t)n + MAX_BODY, &req, &st), n + MAX_BODY);
	assert_int_equal(req.body_len, MAX_BODY);
	free(text);
}

static void
refuses_head_over_limit(void **state)
{
	/* A head that never ends: incomplete up to the limit, 431 once past it,
	 * without waiting for the blank line. */
	size_t len = HTTP_MAX_HEAD + 1;
	char *text = xmalloc(len);
	int st;

	memcpy(text, "GET / HTTP/1.1\r\n", 16);
	for (size_t i = 16; i < len; i++)
		text[i] = ((i - 16) % 1024 == 1022) ? '\r' : ((i - 16) % 1024 == 1023) ? '\n' : 'a';
	for (size_t i = 16; i + 1024 <= len; i += 1024)
		memcpy(text + i, "X-A: ", 5);
	assert_int_equal(parse_n(text, HTTP_MAX_HEAD - 1, NULL, &st), 0);
	assert_int_equal(parse_n(text, len, NULL, &st), -E2BIG);
	assert_int_equal(st, 431);
	free(text);
}

static void
refuses_request_line_over_limit(void **state)
{
	size_t len = HTTP_MAX_HEAD + 1;
	char *text = xmalloc(len);
	int st;

	memcpy(text, "GET /", 5);
	memset(text + 5, 'a', len - 5);
	assert_int_equal(parse_n(text, len, NULL, &st), -E2BIG);
	assert_int_equal(st, 431);
	free(text);
}

static void
refuses_too_many_headers(void **state)
{
	struct buf b;
	int st;

	buf_init(&b, 0);
	assert_int_equal(buf_puts(&b, "GET / HTTP/1.1\r\n"), 0);
	for (int i = 0; i <= HTTP_MAX_HEADERS; i++)
		assert_int_equal(buf_appendf(&b, "X-%d: v\r\n", i), 0);
	assert_int_equal(buf_puts(&b, "\r\n"), 0);
	assert_int_equal(parse_n(b.data, b.len, NULL, &st), -E2BIG);
	assert_int_equal(st, 431);
	buf_release(&b);
}

static void
refuses_transfer_encoding(void **state)
{
	assert_refused("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n0\r\n\r\n",
		-ENOSYS, 501);
}

static void
refuses_transfer_encoding_any_case(void **state)
{
	assert_refused("POST / HTTP/1.1\r\ntransfer-encoding: identity\r\n\r\n", -ENOSYS, 501);
}

/* ---- query strings and path segments ---- */

static int
query(const char *q, const char *key, struct buf *out)
{
	char *p = exact_copy(q, strlen(q));
	int r = http_query_get(p, strlen(q), key, out);

	free(p);
	return r;
}

static void
query_decodes(void **state)
{
	struct buf b;

	buf_init(&b, 64);
	assert_int_equal(query("a=%41%62c", "a", &b), 0);
	assert_string_equal(b.data, "Abc");
	assert_int_equal(query("x=1&type=web+tamper&y=2", "type", &b), 0);
	assert_string_equal(b.data, "web tamper");
	assert_int_equal(query("p=%2Fvar%2fwww", "p", &b), 0);
	assert_string_equal(b.data, "/var/www");
	assert_int_equal(query("p=%E5%BA%94", "p", &b), 0);
	assert_string_equal(b.data, "\xe5\xba\x94");
	assert_int_equal(query("%61gent=a1", "agent", &b), 0);	/* encoded name */
	assert_string_equal(b.data, "a1");
	assert_int_equal(query("follow&limit=5", "follow", &b), 0);	/* no '=' */
	assert_int_equal(b.len, 0);
	assert_int_equal(query("empty=&x=1", "empty", &b), 0);
	assert_int_equal(b.len, 0);
	assert_int_equal(query("k=1&k=2", "k", &b), 0);		/* the first wins */
	assert_string_equal(b.data, "1");
	assert_int_equal(query("k=a=b", "k", &b), 0);
	assert_string_equal(b.data, "a=b");
	buf_release(&b);
}

static void
query_refuses_short_escape(void **state)
{
	struct buf b;

	buf_init(&b, 64);
	assert_int_equal(query("a=%4", "a", &b), -EINVAL);
	assert_int_equal(b.len, 0);
	assert_int_equal(query("a=%4&b=1", "a", &b), -EINVAL);
	buf_release(&b);
}

static void
query_refuses_non_hex_escape(void **state)
{
	struct buf b;

	buf_init(&b, 64);
	assert_int_equal(query("a=%4g", "a", &b), -EINVAL);
	assert_int_equal(query("a=%%41", "a", &b), -EINVAL);
	buf_release(&b);
}

static void
query_refuses_nul(void **state)
{
	struct buf b;

	buf_init(&b, 64);
	assert_int_equal(query("a=x%00y", "a", &b), -EINVAL);
	buf_release(&b);
}

static void
query_missing_key(void **state)
{
	struct buf b;

	buf_init(&b, 64);
	assert_int_equal(query("a=1&b=2", "c", &b), -ENOENT);
	assert_int_equal(query("", "a", &b), -ENOENT);
	assert_int_equal(http_query_get(NULL, 0, "a", &b), -ENOENT);
	/* a bad escape in another parameter does not matter */
	assert_int_equal(query("x=%zz&a=1", "a", &b), 0);
	assert_string_equal(b.data, "1");
	buf_release(&b);
}

static void
query_key_prefix_is_not_a_match(void **state)
{
	struct buf b;

	buf_init(&b, 64);
	assert_int_equal(query("agent_id=5&agentx=6", "agent", &b), -ENOENT);
	assert_int_equal(query("agent_id=5&agent=7", "agent", &b), 0);
	assert_string_equal(b.data, "7");
	assert_int_equal(query("agent=7", "agent_id", &b), -ENOENT);	/* nor a prefix of the key */
	assert_int_equal(query("xagent=1", "agent", &b), -ENOENT);
	buf_release(&b);
}

static void
query_value_over_cap(void **state)
{
	struct buf b;

	buf_init(&b, 4);
	assert_int_equal(query("a=12345", "a", &b), -E2BIG);
	assert_int_equal(b.len, 0);
	assert_int_equal(query("a=1234", "a", &b), 0);
	buf_release(&b);
}

static void
percent_decode_path_segment(void **state)
{
	struct buf b;

	buf_init(&b, 64);
	assert_int_equal(http_percent_decode("a%2Fb+c", 7, &b), 0);
	assert_string_equal(b.data, "a/b+c");	/* '+' is itself in a path */
	assert_int_equal(http_percent_decode("web%2", 5, &b), -EINVAL);
	assert_int_equal(b.len, 0);
	assert_int_equal(http_percent_decode("%00", 3, &b), -EINVAL);
	assert_int_equal(http_percent_decode("", 0, &b), 0);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

/* ---- responses ---- */

static void
writes_a_response(void **state)
{
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(http_response(&b, 200, "application/json", "{}", 2, true), 0);
	assert_string_equal(b.data, "HTTP/1.1 200 OK\r\n"
		"Content-Type: application/json\r\n"
		"Content-Length: 2\r\n"
		"Connection: keep-alive\r\n"
		"Cache-Control: no-store\r\n"
		"X-Content-Type-Options: nosniff\r\n\r\n{}");
	buf_reset(&b);
	assert_int_equal(http_response(&b, 404, NULL, NULL, 0, false), 0);
	assert_string_equal(b.data, "HTTP/1.1 404 Not Found\r\n"
		"Content-Length: 0\r\n"
		"Connection: close\r\n"
		"Cache-Control: no-store\r\n"
		"X-Content-Type-Options: nosniff\r\n\r\n");
	buf_release(&b);
}

static void
no_content_has_no_length(void **state)
{
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(http_response(&b, 204, NULL, NULL, 0, true), 0);
	assert_non_null(strstr(b.data, "HTTP/1.1 204 No Content\r\n"));
	assert_null(strstr(b.data, "Content-Length"));
	assert_int_equal(http_response(&b, 204, "text/plain", "x", 1, true), -EINVAL);
	buf_release(&b);
}

static void
every_status_has_its_text(void **state)
{
	static const struct {
		int		 status;
		const char	*line;
	} cases[] = {
		{ 200, "HTTP/1.1 200 OK\r\n" }, { 201, "HTTP/1.1 201 Created\r\n" },
		{ 204, "HTTP/1.1 204 No Content\r\n" }, { 400, "HTTP/1.1 400 Bad Request\r\n" },
		{ 401, "HTTP/1.1 401 Unauthorized\r\n" }, { 403, "HTTP/1.1 403 Forbidden\r\n" },
		{ 404, "HTTP/1.1 404 Not Found\r\n" },
		{ 405, "HTTP/1.1 405 Method Not Allowed\r\n" },
		{ 409, "HTTP/1.1 409 Conflict\r\n" }, { 410, "HTTP/1.1 410 Gone\r\n" },
		{ 411, "HTTP/1.1 411 Length Required\r\n" },
		{ 413, "HTTP/1.1 413 Content Too Large\r\n" },
		{ 429, "HTTP/1.1 429 Too Many Requests\r\n" },
		{ 431, "HTTP/1.1 431 Request Header Fields Too Large\r\n" },
		{ 500, "HTTP/1.1 500 Internal Server Error\r\n" },
		{ 501, "HTTP/1.1 501 Not Implemented\r\n" },
		{ 503, "HTTP/1.1 503 Service Unavailable\r\n" },
		{ 504, "HTTP/1.1 504 Gateway Timeout\r\n" },
		{ 505, "HTTP/1.1 505 HTTP Version Not Supported\r\n" },
	};
	struct buf b;

	buf_init(&b, 4096);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		buf_reset(&b);
		assert_int_equal(http_response(&b, cases[i].status, NULL, NULL, 0, false), 0);
		assert_memory_equal(b.data, cases[i].line, strlen(cases[i].line));
	}
	assert_string_equal(http_status_text(299), "Unknown");
	buf_release(&b);
}

static void
response_refuses_bad_arguments(void **state)
{
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(http_response(&b, 99, NULL, NULL, 0, false), -EINVAL);
	assert_int_equal(http_response(&b, 600, NULL, NULL, 0, false), -EINVAL);
	assert_int_equal(http_response(&b, 200, "text/plain\r\nX-Evil: 1", "x", 1, false),
		-EINVAL);
	assert_int_equal(http_response(&b, 200, NULL, "x", 1, false), -EINVAL);
	assert_int_equal(b.len, 0);
	buf_release(&b);
}

static void
response_over_cap_leaves_buffer_as_it_was(void **state)
{
	char body[200];
	struct buf b;

	memset(body, 'x', sizeof(body));
	buf_init(&b, 256);
	assert_int_equal(buf_puts(&b, "earlier"), 0);
	assert_int_equal(http_response(&b, 200, "text/plain", body, sizeof(body), false), -E2BIG);
	assert_string_equal(b.data, "earlier");
	buf_release(&b);
}

/* ---- responses read back (the CLI's side) ---- */

static long
parse_resp_n(const char *text, size_t len, size_t max_body, struct http_response *resp)
{
	char *p = exact_copy(text, len);
	struct http_response tmp;
	long r;

	r = http_parse_response(p, len, max_body, &tmp);
	if (r > 0) {
		*resp = tmp;
		resp->body = text + (tmp.body - p);
	}
	free(p);
	return r;
}

static long
parse_resp(const char *text, struct http_response *resp)
{
	return parse_resp_n(text, strlen(text), MAX_BODY, resp);
}

static void
reads_back_what_it_writes(void **state)
{
	struct http_response resp;
	struct buf b;

	buf_init(&b, 4096);
	assert_int_equal(http_response(&b, 201, "application/json", "{\"id\":1}", 8, false), 0);
	for (size_t n = 0; n < b.len; n++)
		assert_int_equal(parse_resp_n(b.data, n, MAX_BODY, &resp), 0);
	assert_int_equal(parse_resp_n(b.data, b.len, MAX_BODY, &resp), (long)b.len);
	assert_int_equal(resp.status, 201);
	view_equal(resp.body, resp.body_len, "{\"id\":1}");

	buf_reset(&b);
	assert_int_equal(http_response(&b, 204, NULL, NULL, 0, false), 0);
	assert_int_equal(parse_resp_n(b.data, b.len, MAX_BODY, &resp), (long)b.len);
	assert_int_equal(resp.status, 204);
	assert_int_equal(resp.body_len, 0);
	buf_release(&b);
}

static void
reads_odd_but_valid_responses(void **state)
{
	struct http_response resp;

	assert_int_equal(parse_resp("HTTP/1.0 500\r\nContent-Length: 0\r\n\r\n", &resp), 35);
	assert_int_equal(resp.status, 500);
	assert_true(parse_resp("HTTP/1.1 404 \r\ncontent-length:1\r\n\r\nx", &resp) > 0);
	view_equal(resp.body, resp.body_len, "x");
	assert_true(parse_resp("HTTP/1.1 304 Not Modified\r\n\r\n", &resp) > 0);
	assert_int_equal(resp.body_len, 0);
}

static void
response_needs_content_length(void **state)
{
	struct http_response resp;

	assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\n\r\nabc", &resp), -EPROTO);
}

static void
response_refuses_bad_status_line(void **state)
{
	struct http_response resp;

	assert_int_equal(parse_resp("HTTP/1.1 2000 OK\r\nContent-Length: 0\r\n\r\n", &resp), -EPROTO);
	assert_int_equal(parse_resp("HTTP/1.1 20x OK\r\nContent-Length: 0\r\n\r\n", &resp), -EPROTO);
	assert_int_equal(parse_resp("HTTP/2.0 200 OK\r\nContent-Length: 0\r\n\r\n", &resp), -EPROTO);
	assert_int_equal(parse_resp("HTTP/1.1 100 Continue\r\n\r\n", &resp), -EPROTO);
	assert_int_equal(parse_resp("SSH-2.0-OpenSSH\r\n\r\n", &resp), -EPROTO);
	assert_int_equal(parse_resp("HTTP/1.1 200 OK\n\n", &resp), -EPROTO);
}

static void
response_refuses_bad_headers(void **state)
{
	struct http_response resp;

	assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", &resp), -EPROTO);
	assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n"
		"Content-Length: 2\r\n\r\nab", &resp), -EPROTO);
	assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n", &resp),
		-EPROTO);
	assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nBad Name: 1\r\n\r\n", &resp), -EPROTO);
}

static void
response_over_limits(void **state)
{
	size_t len = HTTP_MAX_HEAD + 1;
	struct http_response resp;
	char *text;

	assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 1025\r\n", &resp), -E2BIG);
	text = xmalloc(len);
	memcpy(text, "HTTP/1.1 200 OK\r\nX: ", 20);
	memset(text + 20, 'a', len - 20);
	assert_int_equal(parse_resp_n(text, len, MAX_BODY, &resp), -E2BIG);
	free(text);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(parses_a_get),
		cmocka_unit_test(parses_a_post_with_body),
		cmocka_unit_test(knows_its_methods),
		cmocka_unit_test(empty_query_is_not_absent),
		cmocka_unit_test(keep_alive_follows_version_and_connection),
		cmocka_unit_test(same_content_length_twice_is_fine),
		cmocka_unit_test(incomplete_until_the_last_byte),
		cmocka_unit_test(two_pipelined_requests),
		cmocka_unit_test(head_of_exactly_the_limit_is_accepted),
		cmocka_unit_test(refuses_bad_method),
		cmocka_unit_test(refuses_empty_method),
		cmocka_unit_test(refuses_absolute_target),
		cmocka_unit_test(refuses_asterisk_target),
		cmocka_unit_test(refuses_space_in_target),
		cmocka_unit_test(refuses_double_space),
		cmocka_unit_test(refuses_control_char_in_target),
		cmocka_unit_test(refuses_tab_in_target),
		cmocka_unit_test(refuses_non_ascii_in_target),
		cmocka_unit_test(refuses_nul_in_target),
		cmocka_unit_test(refuses_missing_version),
		cmocka_unit_test(refuses_malformed_version),
		cmocka_unit_test(refuses_http2),
		cmocka_unit_test(refuses_http12),
		cmocka_unit_test(refuses_http09_style_line),
		cmocka_unit_test(refuses_bare_lf_after_request_line),
		cmocka_unit_test(refuses_bare_lf_after_header),
		cmocka_unit_test(refuses_bare_lf_blank_line),
		cmocka_unit_test(refuses_leading_blank_line),
		cmocka_unit_test(refuses_header_name_with_space),
		cmocka_unit_test(refuses_space_before_colon),
		cmocka_unit_test(refuses_header_without_colon),
		cmocka_unit_test(refuses_empty_header_name),
		cmocka_unit_test(refuses_folded_header),
		cmocka_unit_test(refuses_nul_in_header_value),
		cmocka_unit_test(refuses_cr_in_header_value),
		cmocka_unit_test(refuses_control_char_in_header_value),
		cmocka_unit_test(refuses_two_authorizations),
		cmocka_unit_test(refuses_different_content_lengths),
		cmocka_unit_test(refuses_content_length_with_letters),
		cmocka_unit_test(refuses_negative_content_length),
		cmocka_unit_test(refuses_signed_content_length),
		cmocka_unit_test(refuses_empty_content_length),
		cmocka_unit_test(refuses_content_length_list),
		cmocka_unit_test(refuses_content_length_overflow),
		cmocka_unit_test(refuses_body_over_limit_from_the_header),
		cmocka_unit_test(refuses_huge_content_length),
		cmocka_unit_test(accepts_body_at_the_limit),
		cmocka_unit_test(refuses_head_over_limit),
		cmocka_unit_test(refuses_request_line_over_limit),
		cmocka_unit_test(refuses_too_many_headers),
		cmocka_unit_test(refuses_transfer_encoding),
		cmocka_unit_test(refuses_transfer_encoding_any_case),
		cmocka_unit_test(query_decodes),
		cmocka_unit_test(query_refuses_short_escape),
		cmocka_unit_test(query_refuses_non_hex_escape),
		cmocka_unit_test(query_refuses_nul),
		cmocka_unit_test(query_missing_key),
		cmocka_unit_test(query_key_prefix_is_not_a_match),
		cmocka_unit_test(query_value_over_cap),
		cmocka_unit_test(percent_decode_path_segment),
		cmocka_unit_test(writes_a_response),
		cmocka_unit_test(no_content_has_no_length),
		cmocka_unit_test(every_status_has_its_text),
		cmocka_unit_test(response_refuses_bad_arguments),
		cmocka_unit_test(response_over_cap_leaves_buffer_as_it_was),
		cmocka_unit_test(reads_back_what_it_writes),
		cmocka_unit_test(reads_odd_but_valid_responses),
		cmocka_unit_test(response_needs_content_length),
		cmocka_unit_test(response_refuses_bad_status_line),
		cmocka_unit_test(response_refuses_bad_headers),
		cmocka_unit_test(response_over_limits),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
