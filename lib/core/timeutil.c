/* timeutil.c - clocks, time formatting, duration and size parsing. */
#include "core/timeutil.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "core/banned.h"

int64_t
now_realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

int64_t
now_monotonic_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void
format_with_offset(int64_t ns, int offset_s, const char *suffix, char *out, size_t outlen)
{
	time_t sec = (time_t)(ns / 1000000000) + offset_s;
	long frac = (long)(ns % 1000000000);
	struct tm tm;
	char date[32];

	if (frac < 0) {
		frac += 1000000000;
		sec--;
	}
	gmtime_r(&sec, &tm);
	strftime(date, sizeof(date), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, outlen, "%s.%09ld%s", date, frac, suffix);
}

void
time_format_local(int64_t ns, char *out, size_t outlen)
{
	format_with_offset(ns, 8 * 3600, "+08:00", out, outlen);
}

void
time_format_utc(int64_t ns, char *out, size_t outlen)
{
	format_with_offset(ns, 0, "Z", out, outlen);
}

static int
parse_number_suffix(const char *s, uint64_t *ret_n, const char **ret_suffix)
{
	uint64_t n = 0;
	const char *p = s;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (n > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		n = n * 10 + (uint64_t)(*p - '0');
	}
	*ret_n = n;
	*ret_suffix = p;
	return 0;
}

int
duration_parse(const char *s, int64_t *ret_ns)
{
	static const struct {
		const char *suffix;
		uint64_t ns;
	} units[] = {
		{ "", 1000000000ull }, { "s", 1000000000ull }, { "ms", 1000000ull },
		{ "m", 60000000000ull }, { "h", 3600000000000ull }, { "d", 86400000000000ull },
	};
	const char *suffix;
	uint64_t n;
	int r;

	r = parse_number_suffix(s, &n, &suffix);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(suffix, units[i].suffix) != 0)
			continue;
		if (n > (uint64_t)INT64_MAX / units[i].ns)
			return -ERANGE;
		*ret_ns = (int64_t)(n * units[i].ns);
		return 0;
	}
	return -EINVAL;
}

int
size_parse(const char *s, uint64_t *ret_bytes)
{
	static const struct {
		const char *suffix;
		uint64_t mult;
	} units[] = {
		{ "", 1 }, { "k", 1ull << 10 }, { "K", 1ull << 10 }, { "M", 1ull << 20 },
		{ "G", 1ull << 30 }, { "T", 1ull << 40 },
	};
	const char *suffix;
	uint64_t n;
	int r;

	r = parse_number_suffix(s, &n, &suffix);
	if (r < 0)
		return r;
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(suffix, units[i].suffix) != 0)
			continue;
		if (n > UINT64_MAX / units[i].mult)
			return -ERANGE;
		*ret_bytes = n * units[i].mult;
		return 0;
	}
	return -EINVAL;
}
