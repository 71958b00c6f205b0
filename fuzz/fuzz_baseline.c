/* fuzz_baseline.c - baseline_decode() on any bytes: refuse or round-trip, never crash. */
#include <endian.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/guard/baseline.h"
#include "core/crc32c.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct baseline b = { 0 }, c = { 0 };
	struct buf out;
	uint8_t *fixed;
	uint32_t crc;
	int r;

	/* Also decode the input with a correct checksum appended, so the fuzzer
	 * reaches the parser behind the CRC. */
	fixed = malloc(size + 4);
	memcpy(fixed, data, size);
	crc = htole32(crc32c(0, data, size));
	memcpy(fixed + size, &crc, 4);
	r = baseline_decode(fixed, size + 4, &b);
	free(fixed);
	if (r != 0 && baseline_decode(data, size, &b) != 0)
		return 0;
	/* What decodes must encode and decode to the same entries. */
	buf_init(&out, 0);
	if (baseline_encode(&b, &out) == 0 && baseline_decode(out.data, out.len, &c) == 0) {
		if (c.n != b.n)
			abort();
		for (size_t i = 0; i < b.n; i++)
			if (strcmp(b.e[i].path, c.e[i].path) != 0)
				abort();
		baseline_release(&c);
	}
	buf_release(&out);
	baseline_release(&b);
	return 0;
}
