/*
 * decode.c - the decoders' front door (decode.h): format names, sniffing in
 * auto mode, dispatch, and the small scanners every decoder shares.
 */
#include "detect/decode/decode.h"

#include <errno.h>
#include <string.h>

#include "detect/decode/internal.h"
#include "core/banned.h"

void
dec_add(struct record *r, const char *name, const char *v, size_t n)
{
	const char *nul = n > 0 ? memchr(v, '\0', n) : NULL;

	if (nul != NULL)
		n = (size_t)(nul - v);
	(void)record_add(r, name, v, n);
}

char *
dec_arena_str(struct record *r, const char *p, size_t n)
{
	char *dst;

	if (n + 1 > RECORD_ARENA_MAX - r->arena_len)
		return NULL;
	dst = r->arena + r->arena_len;
	if (n > 0)
		memcpy(dst, p, n);
	dst[n] = '\0';
	r->arena_len += n + 1;
	return dst;
}

void
dec_set(char *dst, size_t dstlen, const char *s)
{
	size_t n = strlen(s);

	if (n >= dstlen)
		n = dstlen - 1;
	memcpy(dst, s, n);
	dst[n] = '\0';
}

int64_t
dec_civil_s(int y, int mo, int d, int h, int mi, int s)
{
	/* Howard Hinnant's days_from_civil. */
	int64_t yy = (int64_t)y - (mo <= 2);
	int64_t era = (yy >= 0 ? yy : yy - 399) / 400;
	int64_t yoe = yy - era * 400;
	int64_t doy = (153 * (mo + (mo > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	int64_t days = era * 146097 + doe - 719468;

	return days * 86400 + h * 3600 + mi * 60 + s;
}

int64_t
dec_ns(int64_t s, int64_t frac_ns)
{
	if (s <= -9000000000LL || s >= 9000000000LL)
		return 0;
	return s * 1000000000 + frac_ns;
}

int
dec_month(const char *p)
{
	static const char names[] = "JanFebMarAprMayJunJulAugSepOctNovDec";

	for (int i = 0; i < 12; i++)
		if (p[0] == names[3 * i] && p[1] == names[3 * i + 1] && p[2] == names[3 * i + 2])
			return i + 1;
	return 0;
}

bool
dec_ndigits(const char *p, size_t n, int *v)
{
	int x = 0;

	for (size_t i = 0; i < n; i++) {
		if (!dec_digit(p[i]))
			return false;
		x = x * 10 + (p[i] - '0');
	}
	*v = x;
	return true;
}

const char *
dec_find(const char *p, const char *end, const char *needle, size_t nlen)
{
	if (p >= end || (size_t)(end - p) < nlen)
		return NULL;
	return memmem(p, (size_t)(end - p), needle, nlen);
}

const char *
dec_rfind(const char *p, const char *end, const char *needle, size_t nlen)
{
	if (p >= end || (size_t)(end - p) < nlen)
		return NULL;
	for (const char *q = end - nlen;; q--) {
		if (*q == needle[0] && memcmp(q, needle, nlen) == 0)
			return q;
		if (q == p)
			break;
	}
	return NULL;
}

bool
dec_iso8601(const char *p, const char *end, int64_t *ns, const char **ret_end)
{
	int y, mo, d, h, mi, s, oh, om, sign;
	int64_t frac = 0, t;
	int nfrac = 0;

	if (end - p < 19 || !dec_ndigits(p, 4, &y) || p[4] != '-' || !dec_ndigits(p + 5, 2, &mo) ||
		p[7] != '-' || !dec_ndigits(p + 8, 2, &d) || (p[10] != 'T' && p[10] != ' ') ||
		!dec_ndigits(p + 11, 2, &h) || p[13] != ':' || !dec_ndigits(p + 14, 2, &mi) ||
		p[16] != ':' || !dec_ndigits(p + 17, 2, &s))
		return false;
	if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60)
		return false;
	p += 19;
	if (p < end && (*p == '.' || *p == ',')) {
		p++;
		if (p >= end || !dec_digit(*p))
			return false;
		for (; p < end && dec_digit(*p); p++)
			if (nfrac < 9) {
				frac = frac * 10 + (*p - '0');
				nfrac++;
			}
		for (; nfrac < 9; nfrac++)
			frac *= 10;
	}
	t = dec_civil_s(y, mo, d, h, mi, s);
	if (p < end && (*p == 'Z' || *p == 'z')) {
		p++;
	} else if (p < end && (*p == '+' || *p == '-')) {
		sign = *p == '-' ? -1 : 1;
		if (end - p < 6 || !dec_ndigits(p + 1, 2, &oh) || p[3] != ':' ||
			!dec_ndigits(p + 4, 2, &om) || oh > 23 || om > 59)
			return false;
		t -= sign * (oh * 3600 + om * 60);
		p += 6;
	} else {
		t -= DECODE_LOCAL_OFFSET_S;
	}
	*ns = dec_ns(t, frac);
	*ret_end = p;
	return true;
}

int
log_format_parse(const char *s, enum log_format *ret)
{
	static const struct {
		const char	*name;
		enum log_format	 fmt;
	} names[] = {
		{ "auto", LOG_FMT_AUTO }, { "syslog", LOG_FMT_SYSLOG }, { "nginx", LOG_FMT_NGINX },
		{ "apache", LOG_FMT_APACHE }, { "json", LOG_FMT_JSON },
	};

	if (s == NULL)
		return -EINVAL;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(s, names[i].name) == 0) {
			*ret = names[i].fmt;
			return 0;
		}
	return -EINVAL;
}

/* A web server's line: the access log shape, else its error log shape. */
static int
decode_web(const char *line, size_t len, struct record *r, const char *service)
{
	int ret;

	if (strcmp(service, "nginx") == 0 && nginx_error_sniff(line, len))
		ret = nginx_error_decode(line, len, r);
	else if (strcmp(service, "apache") == 0 && apache_error_sniff(line, len))
		ret = apache_error_decode(line, len, r);
	else
		ret = access_decode(line, len, r);
	if (ret == 0)
		dec_set(r->service, sizeof(r->service), service);
	return ret;
}

static int
decode_any(enum log_format fmt, const char *line, size_t len, int year_hint, struct record *r)
{
	const char *p = line;
	size_t n;

	switch (fmt) {
	case LOG_FMT_SYSLOG:
		return syslog_decode(line, len, year_hint, r);
	case LOG_FMT_NGINX:
		return decode_web(line, len, r, "nginx");
	case LOG_FMT_APACHE:
		return decode_web(line, len, r, "apache");
	case LOG_FMT_JSON:
		return json_line_decode(line, len, r);
	case LOG_FMT_AUTO:
		break;
	default:
		return -EINVAL;
	}

	/* Sniff: the first non-blank byte says most of it. */
	n = len;
	while (n > 0 && (*p == ' ' || *p == '\t')) {
		p++;
		n--;
	}
	if (n > 0 && *p == '{')
		return json_line_decode(line, len, r);
	if (n > 0 && *p == '[' && apache_error_sniff(line, len))
		return apache_error_decode(line, len, r);
	if (n > 0 && dec_digit(*p) && nginx_error_sniff(line, len))
		return nginx_error_decode(line, len, r);
	if (access_sniff(line, len))
		return access_decode(line, len, r);
	return syslog_decode(line, len, year_hint, r);
}

int
decode_line(enum log_format fmt, const char *line, size_t len, int year_hint, struct record *r)
{
	int ret;

	record_reset(r);
	if (line == NULL) {
		line = "";
		len = 0;
	}
	r->raw = r->message = line;
	r->raw_len = r->message_len = len;
	ret = decode_any(fmt, line, len, year_hint, r);
	if (ret < 0) {
		/* Not the format's shape: only the raw line, nothing half-decoded. */
		record_reset(r);
		r->raw = r->message = line;
		r->raw_len = r->message_len = len;
		ret = -EINVAL;
	}
	return ret;
}
