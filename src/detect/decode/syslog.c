/*
 * syslog.c - syslog lines: RFC 3164 ("<PRI>Mmm dd hh:mm:ss host prog[pid]:
 * msg", PRI optional, or rsyslog's RFC 3339 stamp in place of the BSD one)
 * and RFC 5424 ("<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG"), then the
 * message by program (sshd.c, sudo.c, accounts.c).
 *
 * Time: RFC 3164 stamps have no year (year_hint is used) and no zone: they
 * are read as Asia/Shanghai local time (UTC+8), as are RFC 3339 stamps
 * without an offset.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "detect/decode/internal.h"
#include "detect/decode/vocab.h"
#include "core/banned.h"

/* Programs by name: the logsource service and the message decoder. */
static const struct {
	const char	*name;
	const char	*service;
	void		(*decode)(struct record *r, const char *msg, size_t n);
} programs[] = {
	{ "sshd", "sshd", sshd_decode_msg },
	{ "sshd-session", "sshd", sshd_decode_msg },	/* OpenSSH 9.8 and later */
	{ "sshd-auth", "sshd", sshd_decode_msg },
	{ "sudo", "sudo", sudo_decode_msg },
	{ "su", "su", su_decode_msg },
	{ "useradd", "auth", accounts_decode_msg },
	{ "usermod", "auth", accounts_decode_msg },
	{ "userdel", "auth", accounts_decode_msg },
	{ "groupadd", "auth", accounts_decode_msg },
	{ "groupmod", "auth", accounts_decode_msg },
	{ "groupdel", "auth", accounts_decode_msg },
	{ "passwd", "auth", accounts_decode_msg },
	{ "chpasswd", "auth", accounts_decode_msg },
	{ "chage", "auth", accounts_decode_msg },
	{ "gpasswd", "auth", accounts_decode_msg },
	{ "CRON", "cron", cron_decode_msg },
	{ "cron", "cron", cron_decode_msg },
	{ "crond", "cron", cron_decode_msg },
	{ "CROND", "cron", cron_decode_msg },
};

size_t
dec_service_programs(const char *service, const char **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
		if (strcasecmp(programs[i].service, service) == 0) {
			if (n == max)
				return 0;	/* cannot list them all: say nothing */
			out[n++] = programs[i].name;
		}
	return n;
}

static void
decode_program(struct record *r, const char *prog, size_t plen, const char *msg, size_t n)
{
	const char *service = "syslog";

	for (size_t i = 0; i < sizeof(programs) / sizeof(programs[0]); i++) {
		if (strlen(programs[i].name) == plen && memcmp(programs[i].name, prog, plen) == 0) {
			service = programs[i].service;
			programs[i].decode(r, msg, n);
			break;
		}
	}
	dec_set(r->product, sizeof(r->product), "linux");
	dec_set(r->service, sizeof(r->service), service);
}

/* "Mmm dd hh:mm:ss" (day space-padded or not); 15 bytes. */
static bool
bsd_stamp(const char *p, const char *end, int year, int64_t *ns, const char **ret_end)
{
	int mo, d, h, mi, s;

	if (end - p < 15 || (mo = dec_month(p)) == 0 || p[3] != ' ')
		return false;
	if (p[4] == ' ' && dec_digit(p[5]))
		d = p[5] - '0';
	else if (!dec_ndigits(p + 4, 2, &d))
		return false;
	if (p[6] != ' ' || !dec_ndigits(p + 7, 2, &h) || p[9] != ':' || !dec_ndigits(p + 10, 2, &mi) ||
		p[12] != ':' || !dec_ndigits(p + 13, 2, &s) || d < 1 || d > 31 || h > 23 || mi > 59 ||
		s > 60)
		return false;
	p += 15;
	/* Some writers add fractions ("Nov 22 13:55:36.123"). */
	if (p < end && *p == '.')
		for (p++; p < end && dec_digit(*p); p++)
			;
	*ns = dec_ns(dec_civil_s(year, mo, d, h, mi, s) - DECODE_LOCAL_OFFSET_S, 0);
	*ret_end = p;
	return true;
}

static const char *
token_end(const char *p, const char *end)
{
	while (p < end && *p != ' ')
		p++;
	return p;
}

/* "prog[pid]: msg" or "prog: msg" at p: the tag's parts, or false. */
static bool
parse_tag(const char *p, const char *end, const char **prog, size_t *plen, const char **pid,
	  size_t *pidlen, const char **msg)
{
	const char *q = p;

	while (q < end && *q != '[' && *q != ':' && *q != ' ' && q - p < 64)
		q++;
	if (q == p || q >= end)
		return false;
	*prog = p;
	*plen = (size_t)(q - p);
	*pid = NULL;
	*pidlen = 0;
	if (*q == '[') {
		const char *s = ++q;

		while (q < end && *q != ']' && q - s < 32)
			q++;
		if (q >= end || *q != ']')
			return false;
		*pid = s;
		*pidlen = (size_t)(q - s);
		q++;
	}
	if (q >= end || *q != ':')
		return false;
	q++;
	if (q < end && *q == ' ')
		q++;
	*msg = q;
	return true;
}

/* RFC 5424 structured data: "-" or "[id k=\"v\" ...][...]"; each parameter
 * becomes the field "id.k" (value unescaped into the arena). */
static bool
parse_sd(struct record *r, const char *p, const char *end, const char **ret_end)
{
	if (p < end && *p == '-') {
		*ret_end = p + 1;
		return true;
	}
	if (p >= end || *p != '[')
		return false;
	while (p < end && *p == '[') {
		const char *id = ++p;
		size_t idlen;

		while (p < end && *p != ' ' && *p != ']' && *p != '=' && *p != '"')
			p++;
		idlen = (size_t)(p - id);
		if (idlen == 0 || p >= end)
			return false;
		while (p < end && *p == ' ') {
			const char *k;
			size_t klen;
			char *name, *val;
			size_t vlen = 0, room;
			bool cut;

			p++;
			k = p;
			while (p < end && *p != '=' && *p != ' ' && *p != ']' && *p != '"')
				p++;
			klen = (size_t)(p - k);
			if (klen == 0 || end - p < 2 || p[0] != '=' || p[1] != '"')
				return false;
			p += 2;
			name = NULL;
			room = 0;
			if (r->arena_len + idlen + klen + 2 <= RECORD_ARENA_MAX) {
				name = r->arena + r->arena_len;
				memcpy(name, id, idlen);
				name[idlen] = '.';
				memcpy(name + idlen + 1, k, klen);
				name[idlen + 1 + klen] = '\0';
				r->arena_len += idlen + klen + 2;
				room = RECORD_ARENA_MAX - r->arena_len;
			}
			if (room == 0)
				name = NULL;
			val = r->arena + r->arena_len;
			cut = false;
			for (;;) {
				char c;

				if (p >= end)
					return false;
				c = *p++;
				if (c == '"')
					break;
				if (c == '\\' && p < end && (*p == '"' || *p == '\\' || *p == ']'))
					c = *p++;
				if (c == '\0')
					cut = true;	/* values stop at a NUL */
				if (name == NULL || cut)
					continue;
				if (vlen + 1 < room)
					val[vlen++] = c;
				else
					name = NULL;	/* no room: drop the field */
			}
			if (name != NULL) {
				val[vlen] = '\0';
				r->arena_len += vlen + 1;
				(void)record_add(r, name, val, vlen);
			}
		}
		if (p >= end || *p != ']')
			return false;
		p++;
	}
	*ret_end = p;
	return true;
}

static int
decode_5424(const char *p, const char *end, struct record *r)
{
	static const char *const names[4] = { "host", "program", "pid", "msgid" };
	const char *f[4], *fe[4], *msg;
	int64_t ns = 0;

	/* TIMESTAMP HOST APP PROCID MSGID */
	if (p < end && *p == '-') {
		p++;
	} else if (!dec_iso8601(p, end, &ns, &p)) {
		return -EINVAL;
	}
	for (int i = 0; i < 4; i++) {
		if (p >= end || *p != ' ')
			return -EINVAL;
		f[i] = ++p;
		p = token_end(p, end);
		fe[i] = p;
		if (fe[i] == f[i])
			return -EINVAL;
	}
	if (p >= end || *p != ' ')
		return -EINVAL;
	p++;
	/* The header's fields first, so many SD parameters cannot crowd them out. */
	for (int i = 0; i < 4; i++)
		if (!(fe[i] - f[i] == 1 && *f[i] == '-'))
			dec_add(r, names[i], f[i], (size_t)(fe[i] - f[i]));
	if (!parse_sd(r, p, end, &p))
		return -EINVAL;
	if (p < end && *p != ' ')
		return -EINVAL;
	if (p < end)
		p++;
	msg = p;
	if (end - msg >= 3 && memcmp(msg, "\xEF\xBB\xBF", 3) == 0)
		msg += 3;	/* the BOM */
	r->time_ns = ns;
	r->message = msg;
	r->message_len = (size_t)(end - msg);
	dec_add(r, "message", msg, (size_t)(end - msg));
	if (fe[1] - f[1] == 1 && *f[1] == '-') {
		dec_set(r->product, sizeof(r->product), "linux");
		dec_set(r->service, sizeof(r->service), "syslog");
	} else {
		decode_program(r, f[1], (size_t)(fe[1] - f[1]), msg, (size_t)(end - msg));
	}
	return 0;
}

int
syslog_decode(const char *line, size_t len, int year_hint, struct record *r)
{
	const char *p = line, *end = line + len, *host, *hend, *prog, *pid, *msg;
	size_t plen, pidlen;
	int64_t ns;
	int pri = 0;

	if (p < end && *p == '<') {
		const char *s = ++p;

		while (p < end && dec_digit(*p) && p - s < 3)
			pri = pri * 10 + (*p++ - '0');
		if (p == s || p >= end || *p != '>' || pri > 191)
			return -EINVAL;
		p++;
		/* RFC 5424: the version right after the PRI. */
		if (end - p >= 2 && p[0] >= '1' && p[0] <= '9' && p[1] == ' ')
			return decode_5424(p + 2, end, r);
	}
	if (!bsd_stamp(p, end, year_hint, &ns, &p) && !dec_iso8601(p, end, &ns, &p))
		return -EINVAL;
	if (p >= end || *p != ' ')
		return -EINVAL;
	r->time_ns = ns;
	host = ++p;
	hend = token_end(p, end);
	if (hend == host)
		return -EINVAL;
	if (hend[-1] == ':') {
		/* No host: "Nov 22 13:55:36 sshd[1]: msg" as some writers have it. */
		p = host;
	} else {
		dec_add(r, "host", host, (size_t)(hend - host));
		p = hend < end ? hend + 1 : hend;
	}
	if (!parse_tag(p, end, &prog, &plen, &pid, &pidlen, &msg)) {
		/* "last message repeated 3 times" and other tagless lines. */
		r->message = p;
		r->message_len = (size_t)(end - p);
		dec_add(r, "message", p, (size_t)(end - p));
		dec_set(r->product, sizeof(r->product), "linux");
		dec_set(r->service, sizeof(r->service), "syslog");
		return 0;
	}
	dec_add(r, "program", prog, plen);
	if (pid != NULL)
		dec_add(r, "pid", pid, pidlen);
	r->message = msg;
	r->message_len = (size_t)(end - msg);
	dec_add(r, "message", msg, (size_t)(end - msg));
	decode_program(r, prog, plen, msg, (size_t)(end - msg));
	return 0;
}
