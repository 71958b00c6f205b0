/*
 * fuzz_json_get.c - libFuzzer target: the JSON field reader on arbitrary bytes
 * must never crash, hang or read past the input; and any byte string written
 * by json.h must read back as itself.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/json_get.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const keys[] = { "type", "path", "time_ns", "writer", "pid", "exe", "" };

static void
read_fields(const char *obj, size_t len, struct buf *b)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		const char *raw;
		size_t rawlen;
		int64_t v;

		if (json_get_str(obj, len, keys[i], b) == 0 && b->len > 4096)
			__builtin_trap();	/* over the cap */
		(void)json_get_i64(obj, len, keys[i], &v);
		if (json_get_raw(obj, len, keys[i], &raw, &rawlen) == 0) {
			if (raw < obj || raw + rawlen > obj + len || rawlen == 0)
				__builtin_trap();
			/* One level down, as for "writer". */
			(void)json_get_i64(raw, rawlen, "pid", &v);
			(void)json_get_str(raw, rawlen, "exe", b);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	struct buf b, obj;
	struct json j;

	buf_init(&b, 4096);
	read_fields(in, size, &b);

	/* The input as a file name: written by json.h, read back unchanged. A
	 * backslash before "xHH" is ambiguous in json.h's convention. */
	buf_init(&obj, 1 << 20);
	json_begin(&j, &obj);
	json_key_str(&j, "type", "tamper");
	json_key_strn(&j, "path", in, size);
	if (json_end(&j) == 0 && memchr(in, '\\', size) == NULL) {
		buf_release(&b);
		buf_init(&b, size);
		if (json_get_str(obj.data, obj.len, "path", &b) != 0 || b.len != size ||
			(size > 0 && memcmp(b.data, in, size) != 0))
			__builtin_trap();
	}
	buf_release(&obj);
	buf_release(&b);
	return 0;
}
