/*
 * fuzz_journal_line.c - libFuzzer target: a journal entry's fields (any
 * bytes, any lengths, present or not) formatted as an RFC 5424 line. The line
 * must stay within the cap, hold no CR, LF or NUL, start with "<PRI>1 ", be
 * cut only when marked truncated, and each field is read within its bytes
 * (each is a copy of its own size, so ASan sees a read past it).
 *
 * Input: 8 bytes realtime (little-endian), 2 bytes cap selector, then for
 * each of the 8 fields a 2-byte length (0xffff: absent) and its bytes.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/logs/journal_line.h"
#include "agent/logs/logs.h"
#include "core/xalloc.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define NFIELDS 8

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char out[LOGS_MAX_LINE];
	struct journal_entry_fields e = { 0 };
	struct jfield *fields[NFIELDS] = { &e.message, &e.hostname, &e.identifier, &e.comm,
		&e.syslog_pid, &e.pid, &e.facility, &e.priority };
	char *copies[NFIELDS] = { 0 };
	size_t pos = 10, max, n;
	bool truncated = false;

	if (size < 10)
		return 0;
	for (int i = 0; i < 8; i++)
		e.realtime_us |= (uint64_t)data[i] << (8 * i);
	max = 64 + ((size_t)data[8] << 8 | data[9]) % (LOGS_MAX_LINE - 63);
	for (int i = 0; i < NFIELDS && pos + 2 <= size; i++) {
		size_t len = (size_t)data[pos] << 8 | data[pos + 1];

		pos += 2;
		if (len == 0xffff)
			continue;
		if (len > size - pos)
			len = size - pos;
		copies[i] = xmalloc(len > 0 ? len : 1);
		memcpy(copies[i], data + pos, len);
		fields[i]->ptr = copies[i];
		fields[i]->len = len;
		pos += len;
	}
	n = journal_line_format(&e, out, max, &truncated);
	if (n > max || (truncated && n != max) || n < 2 || out[0] != '<')
		__builtin_trap();
	if (memchr(out, '\n', n) != NULL || memchr(out, '\r', n) != NULL ||
		memchr(out, '\0', n) != NULL)
		__builtin_trap();
	/* Untruncated: the message is the line's tail, byte for byte but for
	 * CR, LF and NUL. */
	if (!truncated && e.message.ptr != NULL) {
		if (n < e.message.len)
			__builtin_trap();
		for (size_t i = 0; i < e.message.len; i++) {
			char c = e.message.ptr[i], o = out[n - e.message.len + i];

			if (c == '\n' || c == '\r' || c == '\0' ? o != ' ' : o != c)
				__builtin_trap();
		}
	}
	for (int i = 0; i < NFIELDS; i++)
		free(copies[i]);
	return 0;
}
