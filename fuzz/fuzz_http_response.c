/*
 * fuzz_http_response.c - libFuzzer target: the CLI's response parser on
 * arbitrary bytes must never crash, hang or read past the input, and what it
 * returns must lie inside the input; and any body written by http_response()
 * must read back as itself.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "server/http/http.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const int statuses[] = { 200, 201, 204, 400, 404, 413, 500, 503 };
	const char *in = (const char *)data;
	size_t max_body = 64 * 1024;
	struct http_response resp;
	struct buf out;
	int status;
	long r;

	r = http_parse_response(in, size, max_body, &resp);
	if (r > 0) {
		if ((size_t)r > size || resp.status < 200 || resp.status > 599 ||
			resp.body < in || resp.body_len > max_body ||
			resp.body_len > (size_t)(in + r - resp.body))
			__builtin_trap();
		if (http_parse_response(in, (size_t)r - 1, max_body, &resp) != 0)
			__builtin_trap();
	}

	/* The input as a body, written and read back. */
	status = statuses[size % (sizeof(statuses) / sizeof(statuses[0]))];
	if (status == 204)
		size = 0;
	buf_init(&out, 1 << 20);
	if (http_response(&out, status, "application/json", in, size, size % 2) != 0)
		__builtin_trap();
	r = http_parse_response(out.data, out.len, max_body, &resp);
	if (size > max_body) {
		if (r != -E2BIG)
			__builtin_trap();
	} else if (r != (long)out.len || resp.status != status || resp.body_len != size ||
		(size > 0 && memcmp(resp.body, in, size) != 0)) {
		__builtin_trap();
	}
	buf_release(&out);
	return 0;
}
