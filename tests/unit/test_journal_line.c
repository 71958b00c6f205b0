/* test_journal_line.c - systemd journal entries as RFC 5424 lines: the
 * defaults, invalid priorities, names the header cannot hold, binary
 * messages, the line cap; and the centre's decoder reading such a line as
 * sshd's (service, user, source address, event). */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "agent/logs/journal_line.h"
#include "agent/logs/logs.h"
#include "detect/decode/decode.h"
#include "detect/record.h"
#include "core/xalloc.h"
#include "core/banned.h"

/* 2026-03-01T08:09:10.123456Z */
#define T0	(UINT64_C(1772352550) * 1000000 + 123456)

static struct jfield
F(const char *s)
{
	struct jfield f = { s, s != NULL ? strlen(s) : 0 };

	return f;
}

static char out[LOGS_MAX_LINE];

/* Format and return the line as a NUL-terminated copy (freed by the test). */
static char *
fmt(const struct journal_entry_fields *e, bool *trunc)
{
	size_t n = journal_line_format(e, out, sizeof(out), trunc);

	return xstrndup(out, n);
}

static void
full_entry(void **state)
{
	struct journal_entry_fields e = { .realtime_us = T0, .message = F("hello world"),
		.hostname = F("web-1"), .identifier = F("nginx"), .comm = F("nginx-worker"),
		.syslog_pid = F("42"), .pid = F("43"), .facility = F("4"), .priority = F("5") };
	bool t = true;
	char *l = fmt(&e, &t);

	assert_string_equal(l, "<37>1 2026-03-01T08:09:10.123456Z web-1 nginx 42 - - hello world");
	assert_false(t);
	free(l);
}

static void
defaults_when_absent(void **state)
{
	/* Only a message: facility 3 (daemon), priority 6 (info), "-" fields. */
	struct journal_entry_fields e = { .realtime_us = T0, .message = F("only a message") };
	bool t;
	char *l = fmt(&e, &t);

	assert_string_equal(l, "<30>1 2026-03-01T08:09:10.123456Z - - - - - only a message");
	free(l);
	/* _COMM and _PID stand in for SYSLOG_IDENTIFIER and SYSLOG_PID. */
	e.comm = F("cron");
	e.pid = F("77");
	l = fmt(&e, &t);
	assert_string_equal(l, "<30>1 2026-03-01T08:09:10.123456Z - cron 77 - - only a message");
	free(l);
	/* No MESSAGE field at all: the header alone. */
	e.message = F(NULL);
	l = fmt(&e, &t);
	assert_string_equal(l, "<30>1 2026-03-01T08:09:10.123456Z - cron 77 - - ");
	assert_false(t);
	free(l);
}

static void
invalid_priority_ignored(void **state)
{
	static const char *const bad[] = { "8", "99", "-1", "", "6x", " 6", "1000", "abc" };
	struct journal_entry_fields e = { .realtime_us = T0, .message = F("m"), .hostname = F("h"),
		.identifier = F("a"), .syslog_pid = F("1") };
	bool t;
	char *l;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		e.priority = F(bad[i]);
		e.facility = F("4");
		l = fmt(&e, &t);
		if (strncmp(l, "<38>1 ", 6) != 0)
			fail_msg("priority \"%s\": %s", bad[i], l);
		free(l);
		e.priority = F("2");
		e.facility = F(strcmp(bad[i], "8") == 0 ? "24" : bad[i]);
		l = fmt(&e, &t);
		if (strncmp(l, "<26>1 ", 6) != 0)
			fail_msg("facility \"%s\": %s", e.facility.ptr, l);
		free(l);
	}
	/* The largest valid: local7.debug = 23 * 8 + 7. */
	e.facility = F("23");
	e.priority = F("7");
	l = fmt(&e, &t);
	assert_true(strncmp(l, "<191>1 ", 7) == 0);
	free(l);
}

static void
header_fields_that_cannot_be(void **state)
{
	char longhost[300], longapp[50], longpid[130];
	struct journal_entry_fields e = { .realtime_us = T0, .message = F("m"),
		.hostname = F("my host"), .identifier = F("my app"), .comm = F("app"),
		.syslog_pid = F("1\t2"), .pid = F("9") };
	bool t;
	char *l = fmt(&e, &t);

	/* A space or a control character: "-" (the identifier given is not
	 * replaced by _COMM: a different name could match another decoder). */
	assert_string_equal(l, "<30>1 2026-03-01T08:09:10.123456Z - - - - - m");
	free(l);
	/* Non-ASCII (UTF-8) and DEL are not PRINTUSASCII either. */
	e.hostname = F("主机");
	e.identifier = F("a\x7f");
	e.syslog_pid = F("");
	l = fmt(&e, &t);
	assert_string_equal(l, "<30>1 2026-03-01T08:09:10.123456Z - - - - - m");
	free(l);
	/* The RFC 5424 limits: 255, 48, 128 are fine; one more is not. */
	memset(longhost, 'h', sizeof(longhost));
	memset(longapp, 'a', sizeof(longapp));
	memset(longpid, '7', sizeof(longpid));
	e.hostname = (struct jfield){ longhost, 255 };
	e.identifier = (struct jfield){ longapp, 48 };
	e.syslog_pid = (struct jfield){ longpid, 128 };
	l = fmt(&e, &t);
	assert_int_equal(strlen(l), 34 + 255 + 1 + 48 + 1 + 128 + 1 + 5);
	free(l);
	e.hostname = (struct jfield){ longhost, 256 };
	e.identifier = (struct jfield){ longapp, 49 };
	e.syslog_pid = (struct jfield){ longpid, 129 };
	l = fmt(&e, &t);
	assert_string_equal(l, "<30>1 2026-03-01T08:09:10.123456Z - - - - - m");
	free(l);
}

static void
binary_message_stays_one_line(void **state)
{
	static const char msg[] = "first\nsecond\r\nthird\0after nul \xff\xfe\x01\x1b[31m end";
	struct journal_entry_fields e = { .realtime_us = T0, .identifier = F("x"),
		.message = { msg, sizeof(msg) - 1 } };
	static const char want[] = "<30>1 2026-03-01T08:09:10.123456Z - x - - - "
		"first second  third after nul \xff\xfe\x01\x1b[31m end";
	bool t = true;
	size_t n = journal_line_format(&e, out, sizeof(out), &t);

	assert_int_equal(n, sizeof(want) - 1);
	assert_memory_equal(out, want, n);
	assert_null(memchr(out, '\n', n));
	assert_null(memchr(out, '\0', n));
	assert_false(t);
}

static void
line_capped(void **state)
{
	size_t big = 100 * 1024;
	char *msg = xmalloc(big);
	struct journal_entry_fields e = { .realtime_us = T0, .identifier = F("big") };
	bool t = false;
	size_t n, head = strlen("<30>1 2026-03-01T08:09:10.123456Z - big - - - ");

	memset(msg, 'M', big);
	msg[big - 1] = '\n';
	e.message = (struct jfield){ msg, big };
	n = journal_line_format(&e, out, LOGS_MAX_LINE, &t);
	assert_int_equal(n, LOGS_MAX_LINE);
	assert_true(t);
	assert_memory_equal(out, "<30>1 2026-03-01T08:09:10.123456Z - big - - - MMM", head + 3);
	assert_int_equal(out[n - 1], 'M');
	/* Exactly at the cap: whole, not truncated. */
	e.message.len = LOGS_MAX_LINE - head;
	n = journal_line_format(&e, out, LOGS_MAX_LINE, &t);
	assert_int_equal(n, LOGS_MAX_LINE);
	assert_false(t);
	/* A small cap cuts inside the header, still within bounds. */
	n = journal_line_format(&e, out, 64, &t);
	assert_int_equal(n, 64);
	assert_true(t);
	free(msg);
}

static void
timestamp_utc(void **state)
{
	struct journal_entry_fields e = { .realtime_us = 0, .message = F("m") };
	bool t;
	char *l = fmt(&e, &t);

	assert_string_equal(l, "<30>1 1970-01-01T00:00:00.000000Z - - - - - m");
	free(l);
	e.realtime_us = UINT64_C(1772323199) * 1000000 + 999999;	/* 23:59:59.999999 UTC */
	l = fmt(&e, &t);
	assert_string_equal(l, "<30>1 2026-02-28T23:59:59.999999Z - - - - - m");
	free(l);
	/* Beyond year 9999: impossible, but bounded. */
	e.realtime_us = UINT64_MAX;
	l = fmt(&e, &t);
	assert_true(strlen(l) < 80);
	free(l);
}

static void
centre_decodes_sshd(void **state)
{
	/* sshd's entry as journald stores it: identifier, pid, authpriv.info. */
	struct journal_entry_fields e = { .realtime_us = T0,
		.message = F("Failed password for root from 203.0.113.9 port 5555 ssh2"),
		.hostname = F("web-1"), .identifier = F("sshd"), .comm = F("sshd"),
		.syslog_pid = F("123"), .pid = F("123"), .facility = F("10"), .priority = F("6") };
	struct record r;
	const struct record_field *f;
	bool t;
	char *l = fmt(&e, &t);

	assert_string_equal(l, "<86>1 2026-03-01T08:09:10.123456Z web-1 sshd 123 - - "
		"Failed password for root from 203.0.113.9 port 5555 ssh2");
	record_init(&r);
	assert_int_equal(decode_line(LOG_FMT_AUTO, l, strlen(l), 2026, &r), 0);
	assert_string_equal(r.product, "linux");
	assert_string_equal(r.service, "sshd");
	f = record_get(&r, "src_ip");
	assert_non_null(f);
	assert_int_equal(f->len, strlen("203.0.113.9"));
	assert_memory_equal(f->value, "203.0.113.9", f->len);
	f = record_get(&r, "user");
	assert_non_null(f);
	assert_int_equal(f->len, 4);
	assert_memory_equal(f->value, "root", 4);
	f = record_get(&r, "event");
	assert_non_null(f);
	assert_int_equal(f->len, strlen("auth_failed"));
	assert_memory_equal(f->value, "auth_failed", f->len);
	f = record_get(&r, "host");
	assert_non_null(f);
	assert_memory_equal(f->value, "web-1", f->len);
	record_release(&r);
	free(l);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(full_entry),
		cmocka_unit_test(defaults_when_absent),
		cmocka_unit_test(invalid_priority_ignored),
		cmocka_unit_test(header_fields_that_cannot_be),
		cmocka_unit_test(binary_message_stays_one_line),
		cmocka_unit_test(line_capped),
		cmocka_unit_test(timestamp_utc),
		cmocka_unit_test(centre_decodes_sshd),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
