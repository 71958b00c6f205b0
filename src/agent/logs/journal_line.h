/*
 * journal_line.h - one systemd journal entry as an RFC 5424 syslog line, so
 * the centre's decoders (src/detect/decode) read it like any syslog line:
 *
 *   <PRI>1 YYYY-MM-DDTHH:MM:SS.uuuuuuZ HOST APP PROCID - - MESSAGE
 *
 *   PRI     SYSLOG_FACILITY * 8 + PRIORITY; a missing or invalid value (not
 *           decimal, facility over 23, priority over 7) counts as facility 3
 *           (daemon), priority 6 (info)
 *   time    __REALTIME_TIMESTAMP (microseconds since the epoch), UTC
 *   HOST    _HOSTNAME
 *   APP     SYSLOG_IDENTIFIER, or _COMM when the entry has no identifier
 *   PROCID  SYSLOG_PID, or _PID when the entry has no SYSLOG_PID
 *           A field is "-" when absent, empty, longer than RFC 5424 allows
 *           (HOST 255, APP 48, PROCID 128) or holding anything but printable
 *           ASCII without spaces (the field is not cut: a cut name would
 *           name another program).
 *   MESSAGE MESSAGE; the journal allows any bytes in it: CR, LF and NUL
 *           become spaces (so the line stays one line and is not cut short
 *           by a NUL); every other byte is kept as it is.
 *
 * The line is at most max bytes; a longer one keeps its first max bytes and
 * is reported as truncated. No libsystemd here: the caller hands the field
 * values (without the "NAME=" prefix), so this can be tested and fuzzed.
 */
#ifndef YINGJI_AGENT_JOURNAL_LINE_H
#define YINGJI_AGENT_JOURNAL_LINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A field's value: ptr NULL means the entry does not have the field. */
struct jfield {
	const char	*ptr;
	size_t		 len;
};

struct journal_entry_fields {
	uint64_t	 realtime_us;	/* __REALTIME_TIMESTAMP */
	struct jfield	 message;	/* MESSAGE */
	struct jfield	 hostname;	/* _HOSTNAME */
	struct jfield	 identifier;	/* SYSLOG_IDENTIFIER */
	struct jfield	 comm;		/* _COMM */
	struct jfield	 syslog_pid;	/* SYSLOG_PID */
	struct jfield	 pid;		/* _PID */
	struct jfield	 facility;	/* SYSLOG_FACILITY */
	struct jfield	 priority;	/* PRIORITY */
};

/* Format the entry into out[0..max) (not NUL-terminated; max >= 64). Returns
 * the line's length; sets *ret_truncated when the line was cut at max. */
size_t	journal_line_format(const struct journal_entry_fields *e, char *out, size_t max,
		bool *ret_truncated);

#endif
