/* fuzz_conf.c - libFuzzer target: conf_parse on arbitrary bytes must not crash or leak. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "core/conf.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct conf c = { 0 };
	const char *msg = NULL;
	unsigned line = 0;
	int r;

	r = conf_parse((const char *)data, size, &c, &line, &msg);
	if (r == 0) {
		/* Every entry is a well-formed key with a NUL-free value. */
		for (size_t i = 0; i < c.n; i++) {
			if (c.entries[i].key[0] == '\0' || c.entries[i].line == 0)
				__builtin_trap();
			(void)conf_get(&c, c.entries[i].key);
		}
	} else if (msg == NULL || line == 0) {
		__builtin_trap();
	}
	conf_release(&c);
	return 0;
}
