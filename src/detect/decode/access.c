/*
 * access.c - nginx and apache access logs, combined and common format:
 *
 *   [VHOST ]IP IDENT USER [10/Oct/2000:13:55:36 -0700] "METHOD TARGET PROTO"
 *   STATUS BYTES[ "REFERER" "AGENT"[ anything]]
 *
 * Fields (Sigma's webserver names): c-ip, cs-host (apache's vhost_combined
 * first token), cs-username (absent for "-"), cs-method, cs-uri (the whole
 * target), cs-uri-stem (before '?'), cs-uri-query (after '?', present only
 * with a '?'), cs-version, sc-status, sc-bytes (absent for "-"), cs-referer,
 * cs-user-agent (both as logged, "-" included, escapes such as \x22 left as
 * they are). Category webserver; the caller sets the service when it knows.
 */
#include <errno.h>
#include <string.h>

#include "detect/decode/internal.h"
#include "core/banned.h"

/* The closing quote of a string whose opening quote is before p; a
 * backslash escapes the next byte. NULL when it is not closed. */
const char *
access_quote_end(const char *p, const char *end)
{
	while (p < end) {
		if (*p == '"')
			return p;
		if (*p == '\\' && end - p >= 2)
			p += 2;
		else
			p++;
	}
	return NULL;
}

/* "10/Oct/2000:13:55:36 -0700]" at p (after the '['): 27 bytes. */
static bool
clf_time(const char *p, const char *end, int64_t *ns)
{
	int d, mo, y, h, mi, s, oh, om;
	int64_t t;

	if (end - p < 27 || !dec_ndigits(p, 2, &d) || p[2] != '/' || (mo = dec_month(p + 3)) == 0 ||
	    p[6] != '/' || !dec_ndigits(p + 7, 4, &y) || p[11] != ':' || !dec_ndigits(p + 12, 2, &h) ||
	    p[14] != ':' || !dec_ndigits(p + 15, 2, &mi) || p[17] != ':' ||
	    !dec_ndigits(p + 18, 2, &s) || p[20] != ' ' || (p[21] != '+' && p[21] != '-') ||
	    !dec_ndigits(p + 22, 2, &oh) || !dec_ndigits(p + 24, 2, &om) || p[26] != ']')
		return false;
	if (d < 1 || d > 31 || h > 23 || mi > 59 || s > 60 || om > 59)
		return false;
	t = dec_civil_s(y, mo, d, h, mi, s);
	t -= (p[21] == '-' ? -1 : 1) * (oh * 3600 + om * 60);
	*ns = dec_ns(t, 0);
	return true;
}

bool
access_sniff(const char *line, size_t len)
{
	const char *end = line + len, *p = line;
	int spaces = 0;

	/* At most four tokens, then "[dd/Mon/". */
	for (; p < end && p - line < 512 && spaces <= 4; p++) {
		if (*p != ' ')
			continue;
		spaces++;
		if (spaces >= 3 && end - p >= 9 && p[1] == '[' && dec_digit(p[2]) && dec_digit(p[3]) &&
		    p[4] == '/' && dec_month(p + 5) != 0 && p[8] == '/')
			return true;
	}
	return false;
}

void
access_request(struct record *r, const char *p, const char *end)
{
	const char *sp1, *sp2, *t, *te, *qm;

	sp1 = memchr(p, ' ', (size_t)(end - p));
	if (sp1 == NULL || sp1 == p)
		return;
	dec_add(r, "cs-method", p, (size_t)(sp1 - p));
	t = sp1 + 1;
	te = end;
	sp2 = dec_rfind(t, end, " ", 1);
	if (sp2 != NULL && end - sp2 > 5 && memcmp(sp2 + 1, "HTTP/", 5) == 0) {
		te = sp2;
		dec_add(r, "cs-version", sp2 + 1, (size_t)(end - sp2 - 1));
	}
	dec_add(r, "cs-uri", t, (size_t)(te - t));
	qm = t < te ? memchr(t, '?', (size_t)(te - t)) : NULL;
	dec_add(r, "cs-uri-stem", t, (size_t)((qm ? qm : te) - t));
	if (qm != NULL)
		dec_add(r, "cs-uri-query", qm + 1, (size_t)(te - qm - 1));
}

int
access_decode(const char *line, size_t len, struct record *r)
{
	static const char *const quoted[2] = { "cs-referer", "cs-user-agent" };
	const char *end = line + len, *p = line, *tok[4], *tokend[4], *q;
	int ntok = 0;
	int64_t ns;

	/* The tokens before the stamp. */
	while (ntok < 4) {
		tok[ntok] = p;
		while (p < end && *p != ' ')
			p++;
		if (p == tok[ntok] || p >= end)
			return -EINVAL;
		tokend[ntok++] = p++;
		if (p < end && *p == '[')
			break;
	}
	if (ntok < 3 || p >= end || *p != '[' || !clf_time(p + 1, end, &ns))
		return -EINVAL;
	p += 28;
	if (end - p < 2 || p[0] != ' ' || p[1] != '"')
		return -EINVAL;
	p += 2;
	q = access_quote_end(p, end);
	if (q == NULL)
		return -EINVAL;
	/* Fields from here on: the shape is right. */
	if (ntok == 4) {
		dec_add(r, "cs-host", tok[0], (size_t)(tokend[0] - tok[0]));
		dec_add(r, "c-ip", tok[1], (size_t)(tokend[1] - tok[1]));
	} else {
		dec_add(r, "c-ip", tok[0], (size_t)(tokend[0] - tok[0]));
	}
	if (!(tokend[ntok - 1] - tok[ntok - 1] == 1 && *tok[ntok - 1] == '-'))
		dec_add(r, "cs-username", tok[ntok - 1], (size_t)(tokend[ntok - 1] - tok[ntok - 1]));
	access_request(r, p, q);
	r->time_ns = ns;
	dec_set(r->category, sizeof(r->category), "webserver");
	p = q + 1;

	/* STATUS BYTES */
	if (p < end && *p == ' ') {
		const char *s = ++p;

		while (p < end && dec_digit(*p))
			p++;
		if (p > s)
			dec_add(r, "sc-status", s, (size_t)(p - s));
		if (p < end && *p == ' ') {
			s = ++p;
			while (p < end && dec_digit(*p))
				p++;
			if (p > s)
				dec_add(r, "sc-bytes", s, (size_t)(p - s));
			else if (p < end && *p == '-')
				p++;
		}
	}
	/* "REFERER" "AGENT" */
	for (int i = 0; i < 2; i++) {
		if (end - p < 2 || p[0] != ' ' || p[1] != '"')
			break;
		p += 2;
		q = access_quote_end(p, end);
		if (q == NULL)
			break;
		dec_add(r, quoted[i], p, (size_t)(q - p));
		p = q + 1;
	}
	return 0;
}
