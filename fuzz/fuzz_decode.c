/*
 * fuzz_decode.c - libFuzzer target: the log decoders on arbitrary bytes. The
 * first byte picks the format, the rest is the line (copied so that nothing
 * follows it). Every decoded value must lie within the line or the record's
 * arena (or be one of the decoders' constants), hold no NUL, and be readable
 * to its last byte (ASan checks); and the record keeps the line filter's
 * promise (decode_check_witnesses, decode/vocab.h).
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "detect/decode/decode.h"
#include "detect/decode/vocab.h"
#include "detect/record.h"
#include "core/xalloc.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool
within(const char *p, size_t n, const char *base, size_t len)
{
	return p >= base && n <= len && (size_t)(p - base) <= len - n;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum log_format fmts[] = {
		LOG_FMT_AUTO, LOG_FMT_SYSLOG, LOG_FMT_NGINX, LOG_FMT_APACHE, LOG_FMT_JSON,
	};
	static struct record r;
	static bool inited;
	volatile unsigned char sink = 0;
	enum log_format fmt;
	char *line;
	size_t len;
	int ret;

	if (size == 0)
		return 0;
	if (!inited) {
		record_init(&r);
		inited = true;
	}
	fmt = fmts[data[0] % 5];
	len = size - 1;
	line = xmalloc(len ? len : 1);
	memcpy(line, data + 1, len);
	ret = decode_line(fmt, line, len, 2026, &r);
	if (ret != 0 && ret != -22)
		__builtin_trap();
	if (decode_check_witnesses(&r, NULL) < 0)
		__builtin_trap();
	if (r.raw != line || r.raw_len != len || r.nfields > RECORD_MAX_FIELDS ||
	    r.arena_len > RECORD_ARENA_MAX)
		__builtin_trap();
	if (!within(r.message, r.message_len, line, len) &&
	    !within(r.message, r.message_len, r.arena, r.arena_len))
		__builtin_trap();
	for (unsigned i = 0; i < r.nfields; i++) {
		const struct record_field *f = &r.fields[i];

		if (f->name == NULL || f->value == NULL)
			__builtin_trap();
		sink ^= (unsigned char)strlen(f->name);
		/* Else a decoder's own constant ("failure", "true"...). */
		if (!within(f->value, f->len, line, len) && !within(f->value, f->len, r.arena, r.arena_len) &&
		    strlen(f->value) != f->len)
			__builtin_trap();
		for (size_t k = 0; k < f->len; k++) {
			if (f->value[k] == '\0')
				__builtin_trap();
			sink ^= (unsigned char)f->value[k];
		}
	}
	for (size_t k = 0; k < r.message_len; k++)
		sink ^= (unsigned char)r.message[k];
	(void)sink;
	free(line);
	return 0;
}
