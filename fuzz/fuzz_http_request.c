/*
 * fuzz_http_request.c - libFuzzer target: the API's request parser on
 * arbitrary bytes (possibly several pipelined requests) must never crash,
 * hang or read past the input; what it returns must lie inside the input; a
 * complete request must be merely incomplete one byte short; and the query
 * and path decoders must stay within their caps.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "server/http/http.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = { "agent", "type", "since", "cursor", "limit", "a", "" };

static void
check_view(const char *in, size_t span, const char *p, size_t n)
{
	if (p == NULL) {
		if (n != 0)
			__builtin_trap();
		return;
	}
	if (p < in || p > in + span || n > (size_t)(in + span - p))
		__builtin_trap();
}

static void
use_request(const char *in, size_t span, const struct http_request *req, struct buf *b)
{
	check_view(in, span, req->path, req->path_len);
	check_view(in, span, req->query, req->query_len);
	check_view(in, span, req->authorization, req->authorization_len);
	check_view(in, span, req->body, req->body_len);
	if (req->path == NULL || req->path_len == 0 || req->path[0] != '/')
		__builtin_trap();
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (http_query_get(req->query, req->query_len, keys[i], b) == 0 &&
			(b->len > 256 || b->len > req->query_len))
			__builtin_trap();
	if (http_percent_decode(req->path, req->path_len, b) == 0 && b->len > req->path_len)
		__builtin_trap();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	size_t off = 0, max_body = size > 0 ? data[0] * 4 : 0;
	struct buf b;

	buf_init(&b, 256);
	for (int n = 0; n < 8 && off < size; n++) {
		struct http_request req;
		int status = 0;
		long r;

		r = http_parse_request(in + off, size - off, max_body, &req, &status);
		if (r < 0) {
			if (status < 400 || status > 505)
				__builtin_trap();
			break;
		}
		if (r == 0)
			break;
		if ((size_t)r > size - off)
			__builtin_trap();
		use_request(in + off, (size_t)r, &req, &b);
		/* one byte short of a complete request is incomplete, not wrong */
		if (http_parse_request(in + off, (size_t)r - 1, max_body, &req, &status) != 0)
			__builtin_trap();
		off += (size_t)r;
	}
	buf_release(&b);
	return 0;
}
