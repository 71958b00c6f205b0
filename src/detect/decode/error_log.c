/*
 * error_log.c - nginx and apache error logs.
 *
 *   nginx   "2026/11/22 13:55:36 [error] 123#0: *1 MESSAGE, client: 1.2.3.4,
 *           server: x, request: \"GET / HTTP/1.1\", host: \"x\""
 *   apache  "[Sun Nov 22 13:55:36.123 2026] [core:error] [pid 1:tid 2]
 *           [client 1.2.3.4:5678] MESSAGE[, referer: URL]" (2.4; 2.2's
 *           "[level]" and "[client 1.2.3.4]" too)
 *
 * Fields: level, pid, message (nginx: without the ", client: ..." tail),
 * c-ip, module (apache), server, cs-host, cs-referer, and from a named
 * request cs-method, cs-uri, cs-uri-stem, cs-uri-query, cs-version. Both
 * stamps are local time: read as Asia/Shanghai (UTC+8). Service nginx or
 * apache (the shape says which) and no category: Sigma's webserver category
 * is the access log, and SigmaHQ's error-log rules name the service alone, so
 * a request seen in both logs does not fire access-log rules twice.
 */
#include <errno.h>
#include <string.h>

#include "detect/decode/internal.h"
#include "core/banned.h"

/* Candidate tails tried per line: each try may scan the rest of the line. */
#define NGINX_TAIL_TRIES	16

/* "2026/11/22 13:55:36 [": 21 bytes. */
static bool
nginx_stamp(const char *p, const char *end, int64_t *ns)
{
	int y, mo, d, h, mi, s;

	if (end - p < 21 || !dec_ndigits(p, 4, &y) || p[4] != '/' || !dec_ndigits(p + 5, 2, &mo) ||
	    p[7] != '/' || !dec_ndigits(p + 8, 2, &d) || p[10] != ' ' || !dec_ndigits(p + 11, 2, &h) ||
	    p[13] != ':' || !dec_ndigits(p + 14, 2, &mi) || p[16] != ':' ||
	    !dec_ndigits(p + 17, 2, &s) || p[19] != ' ' || p[20] != '[')
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return false;
	*ns = dec_ns(dec_civil_s(y, mo, d, h, mi, s) - DECODE_LOCAL_OFFSET_S, 0);
	return true;
}

bool
nginx_error_sniff(const char *line, size_t len)
{
	int64_t ns;

	return nginx_stamp(line, line + len, &ns);
}

static bool
ip_char(char c)
{
	return dec_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == '.' ||
	       c == ':';
}

/* nginx's tail at q (", client: IP, server: NAME" then quoted request,
 * subrequest, upstream, host and referrer): 1 when it parses to the end of
 * the line, 0 when only its start has the shape, -1 when not even that.
 * With r, the fields are added as they are read. */
static int
nginx_tail(struct record *r, const char *q, const char *end)
{
	static const struct {
		const char	*key;
		size_t		 klen;
		const char	*field;
	} keys[] = {
		{ LIT(", request: \""), NULL }, { LIT(", subrequest: \""), NULL },
		{ LIT(", upstream: \""), "upstream" }, { LIT(", host: \""), "cs-host" },
		{ LIT(", referrer: \""), "cs-referer" },
	};
	const char *ip = q + 10, *p = ip, *s;

	while (p < end && ip_char(*p))
		p++;
	if (p == ip || (p < end && !dec_starts(p, end, LIT(", server: "))))
		return -1;
	if (r != NULL)
		dec_add(r, "c-ip", ip, (size_t)(p - ip));
	if (p == end)
		return 1;
	s = p + 10;
	for (p = s; p < end && *p != ','; p++)
		;
	if (r != NULL)
		dec_add(r, "server", s, (size_t)(p - s));
	while (p < end) {
		size_t i;
		const char *v, *ve;

		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			if (dec_starts(p, end, keys[i].key, keys[i].klen))
				break;
		if (i == sizeof(keys) / sizeof(keys[0]))
			return 0;
		v = p + keys[i].klen;
		ve = access_quote_end(v, end);
		if (ve == NULL)
			return 0;
		if (r != NULL && i == 0)
			access_request(r, v, ve);
		else if (r != NULL && keys[i].field != NULL)
			dec_add(r, keys[i].field, v, (size_t)(ve - v));
		p = ve + 1;
	}
	return 1;
}

int
nginx_error_decode(const char *line, size_t len, struct record *r)
{
	const char *p = line, *end = line + len, *q, *msg, *msgend, *first;
	int64_t ns;
	int tries;

	if (!nginx_stamp(p, end, &ns))
		return -EINVAL;
	p += 21;
	q = memchr(p, ']', (size_t)(end - p));
	if (q == NULL || q == p)
		return -EINVAL;
	dec_add(r, "level", p, (size_t)(q - p));
	p = q + 1;
	if (p < end && *p == ' ')
		p++;
	/* "123#0: " */
	q = p;
	while (q < end && dec_digit(*q))
		q++;
	if (q > p && q < end && *q == '#') {
		dec_add(r, "pid", p, (size_t)(q - p));
		while (q < end && *q != ':' && *q != ' ')
			q++;
		if (end - q >= 2 && q[0] == ':' && q[1] == ' ')
			p = q + 2;
	}
	/* "*1 " the connection number */
	if (p < end && *p == '*') {
		q = p + 1;
		while (q < end && dec_digit(*q))
			q++;
		if (q < end && *q == ' ')
			p = q + 1;
	}
	msg = p;
	msgend = end;
	/* ", client: IP, server: NAME, request: ..." is nginx's tail. The
	 * message before it and the request in it may both hold the same words:
	 * the real tail is the one that parses to the end of the line (else, for
	 * a line cut short, the first with the tail's shape). */
	first = NULL;
	tries = 0;
	for (q = dec_find(p, end, LIT(", client: ")); q != NULL;
	     q = dec_find(q + 1, end, LIT(", client: "))) {
		int t;

		if (++tries > NGINX_TAIL_TRIES) {
			first = NULL;	/* crafted: rather no address than a forged one */
			break;
		}
		t = nginx_tail(NULL, q, end);
		if (t > 0) {
			first = q;
			break;
		}
		if (t == 0 && first == NULL)
			first = q;
	}
	if (first != NULL) {
		msgend = first;
		(void)nginx_tail(r, first, end);
	}
	r->message = msg;
	r->message_len = (size_t)(msgend - msg);
	dec_add(r, "message", msg, (size_t)(msgend - msg));
	r->time_ns = ns;
	dec_set(r->service, sizeof(r->service), "nginx");
	return 0;
}

/* "[Www Mmm dd hh:mm:ss[.frac] yyyy]" at p: the time and the byte after ']'. */
static bool
apache_stamp(const char *p, const char *end, int64_t *ns, const char **ret_end)
{
	int mo, d, h, mi, s, y;

	if (end - p < 26 || p[0] != '[' || p[4] != ' ' || (mo = dec_month(p + 5)) == 0 ||
	    p[8] != ' ')
		return false;
	p += 9;
	if (p[0] == ' ' && dec_digit(p[1]))
		d = p[1] - '0';
	else if (!dec_ndigits(p, 2, &d))
		return false;
	if (p[2] != ' ' || !dec_ndigits(p + 3, 2, &h) || p[5] != ':' || !dec_ndigits(p + 6, 2, &mi) ||
	    p[8] != ':' || !dec_ndigits(p + 9, 2, &s))
		return false;
	p += 11;
	if (p < end && *p == '.')
		for (p++; p < end && dec_digit(*p); p++)
			;
	if (end - p < 6 || p[0] != ' ' || !dec_ndigits(p + 1, 4, &y) || p[5] != ']')
		return false;
	if (d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return false;
	*ns = dec_ns(dec_civil_s(y, mo, d, h, mi, s) - DECODE_LOCAL_OFFSET_S, 0);
	*ret_end = p + 6;
	return true;
}

bool
apache_error_sniff(const char *line, size_t len)
{
	const char *e;
	int64_t ns;

	return apache_stamp(line, line + len, &ns, &e);
}

/* "1.2.3.4:5678" or "[::1]:5678" or "2001:db8::1:5678": the address alone. */
static size_t
strip_port(const char *ip, size_t n)
{
	const char *colon = n > 0 ? dec_rfind(ip, ip + n, ":", 1) : NULL;
	bool v4 = memchr(ip, '.', n) != NULL && memchr(ip, ':', n) == colon;

	if (colon == NULL)
		return n;
	for (const char *q = colon + 1; q < ip + n; q++)
		if (!dec_digit(*q))
			return n;
	if (v4 || memchr(ip, ':', (size_t)(colon - ip)) != NULL)
		return (size_t)(colon - ip);
	return n;
}

int
apache_error_decode(const char *line, size_t len, struct record *r)
{
	const char *p = line, *end = line + len, *q, *b, *msg;
	bool first = true;
	int64_t ns;

	if (!apache_stamp(p, end, &ns, &p))
		return -EINVAL;
	/* The bracketed prefixes: level first, then pid, client, remote... */
	while (end - p >= 2 && p[0] == ' ' && p[1] == '[') {
		b = p + 2;
		q = memchr(b, ']', (size_t)(end - b));
		if (q == NULL)
			break;
		if (first) {
			const char *colon = memchr(b, ':', (size_t)(q - b));

			if (colon != NULL) {
				dec_add(r, "module", b, (size_t)(colon - b));
				dec_add(r, "level", colon + 1, (size_t)(q - colon - 1));
			} else {
				dec_add(r, "level", b, (size_t)(q - b));
			}
			first = false;
		} else if (dec_starts(b, q, LIT("pid "))) {
			const char *s = b + 4, *e = s;

			while (e < q && dec_digit(*e))
				e++;
			dec_add(r, "pid", s, (size_t)(e - s));
		} else if (dec_starts(b, q, LIT("client "))) {
			b += 7;
			dec_add(r, "c-ip", b, strip_port(b, (size_t)(q - b)));
		} else if (!dec_starts(b, q, LIT("remote ")) && !dec_starts(b, q, LIT("tid "))) {
			break;
		}
		p = q + 1;
	}
	if (p < end && *p == ' ')
		p++;
	msg = p;
	q = dec_rfind(msg, end, LIT(", referer: "));
	if (q != NULL)
		dec_add(r, "cs-referer", q + 11, (size_t)(end - q - 11));
	r->message = msg;
	r->message_len = (size_t)(end - msg);
	dec_add(r, "message", msg, (size_t)(end - msg));
	r->time_ns = ns;
	dec_set(r->service, sizeof(r->service), "apache");
	return 0;
}
