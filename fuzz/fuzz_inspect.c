/*
 * fuzz_inspect.c - libFuzzer target: web-content inspection on arbitrary bytes
 * (cut tags and attributes, bad UTF-8 and GB18030) must never crash, hang or
 * read past the input, and a finding's offset is inside the text.
 */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "agent/inspect/inspect.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct inspector *in;
	struct inspect_finding f;
	int r;

	if (in == NULL) {
		inspector_new(&in);
		inspector_add_keyword(in, "casino");
		inspector_add_keyword(in, "赌博");
		inspector_add_own_host(in, "gov.example");
	}
	r = inspect_content(in, (const char *)data, size, &f);
	if (r < 0 && size <= INSPECT_MAX_BYTES)
		__builtin_trap();
	/* converted text can be longer than the input: at most 2x */
	if (r == 1 && (f.offset > 2 * size || strlen(f.what) >= sizeof(f.what)))
		__builtin_trap();
	(void)inspect_content(NULL, (const char *)data, size, &f);
	return 0;
}
