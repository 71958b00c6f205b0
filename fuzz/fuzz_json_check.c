/*
 * fuzz_json_check.c - libFuzzer target: the JSON validator on arbitrary bytes
 * must never crash, hang, recurse or read past the input; its answer must be
 * consistent (offset within the input, a reason on every error, a deeper
 * limit never refusing what a shallower one took); and whatever json.h writes
 * must validate.
 */
#include <errno.h>
#include <limits.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/json_check.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *in = (const char *)data;
	const char *what = NULL;
	size_t off = SIZE_MAX;
	struct json j;
	struct buf b;
	int r, deep;

	r = json_check_object_ex(in, size, 8, &off, &what);
	if (r == 0) {
		if (off != SIZE_MAX || what != NULL)
			abort();		/* error outputs written on success */
	} else if (r == -EINVAL || r == -E2BIG) {
		if (off > size || what == NULL || (r == -E2BIG) != (strcmp(what, "nesting too deep") == 0))
			abort();
	} else {
		abort();
	}
	/* A deeper limit accepts at least as much; -EINVAL does not depend on it
	 * (the first problem is found before nesting exceeds 8). */
	deep = json_check_object(in, size, UINT_MAX, NULL);
	if (deep == -E2BIG || (r == 0 && deep != 0) || (r == -EINVAL && deep != -EINVAL))
		abort();

	/* The input as a string value (it may be any bytes), written
	 * by json.h: always strict JSON. */
	buf_init(&b, 8 * size + 256);
	json_begin(&j, &b);
	json_key_strn(&j, "path", in, size);
	json_key_array(&j, "a");
	json_array_str(&j, "x");
	json_close(&j);
	if (json_end(&j) != 0 || json_check_object(b.data, b.len, 2, NULL) != 0)
		abort();
	buf_release(&b);
	return 0;
}
