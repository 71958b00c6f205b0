/* journal_line.c - a journal entry as an RFC 5424 line (see journal_line.h). */
#include "agent/logs/journal_line.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/banned.h"

#define JL_FACILITY_DEFAULT	3	/* daemon */
#define JL_PRIORITY_DEFAULT	6	/* info */

/* A small decimal number in [0, max], or -1. */
static int
small_number(struct jfield f, int max)
{
	int v = 0;

	if (f.ptr == NULL || f.len == 0 || f.len > 3)
		return -1;
	for (size_t i = 0; i < f.len; i++) {
		if (f.ptr[i] < '0' || f.ptr[i] > '9')
			return -1;
		v = v * 10 + (f.ptr[i] - '0');
	}
	return v <= max ? v : -1;
}

/* RFC 5424 header fields: PRINTUSASCII (33..126), 1..cap of them. */
static bool
header_ok(struct jfield f, size_t cap)
{
	if (f.ptr == NULL || f.len == 0 || f.len > cap)
		return false;
	for (size_t i = 0; i < f.len; i++)
		if ((unsigned char)f.ptr[i] < 33 || (unsigned char)f.ptr[i] > 126)
			return false;
	return true;
}

struct out {
	char	*p;
	size_t	 len, max;
	bool	 cut;
};

static void
put(struct out *o, const char *s, size_t n)
{
	size_t room = o->max - o->len;

	if (n > room) {
		n = room;
		o->cut = true;
	}
	memcpy(o->p + o->len, s, n);
	o->len += n;
}

static void
put_field(struct out *o, struct jfield f, size_t cap)
{
	if (header_ok(f, cap))
		put(o, f.ptr, f.len);
	else
		put(o, "-", 1);
	put(o, " ", 1);
}

size_t
journal_line_format(const struct journal_entry_fields *e, char *out, size_t max,
	bool *ret_truncated)
{
	struct out o = { .p = out, .max = max };
	int fac = small_number(e->facility, 23), pri = small_number(e->priority, 7);
	time_t secs = (time_t)(e->realtime_us / 1000000);
	struct tm tm;
	char head[64];
	int n;

	if (fac < 0)
		fac = JL_FACILITY_DEFAULT;
	if (pri < 0)
		pri = JL_PRIORITY_DEFAULT;
	if (gmtime_r(&secs, &tm) == NULL || tm.tm_year + 1900 > 9999)
		memset(&tm, 0, sizeof(tm));	/* 1900-01-00: an impossible stamp says so */
	n = snprintf(head, sizeof(head), "<%d>1 %04d-%02d-%02dT%02d:%02d:%02d.%06uZ ", fac * 8 + pri,
		tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
		(unsigned)(e->realtime_us % 1000000));
	if (n < 0 || (size_t)n >= sizeof(head))
		n = 0;
	put(&o, head, (size_t)n);
	put_field(&o, e->hostname, 255);
	put_field(&o, e->identifier.ptr != NULL ? e->identifier : e->comm, 48);
	put_field(&o, e->syslog_pid.ptr != NULL ? e->syslog_pid : e->pid, 128);
	put(&o, "- - ", 4);		/* MSGID, STRUCTURED-DATA */
	if (e->message.ptr != NULL) {
		size_t start = o.len;

		put(&o, e->message.ptr, e->message.len);
		for (size_t i = start; i < o.len; i++)
			if (out[i] == '\r' || out[i] == '\n' || out[i] == '\0')
				out[i] = ' ';
	}
	*ret_truncated = o.cut;
	return o.len;
}
