/*
 * timeutil.h - clocks and time formatting. Times are stored as UTC nanoseconds
 * since the epoch and shown in Asia/Shanghai (UTC+8, no DST) by default.
 */
#ifndef YINGJI_TIMEUTIL_H
#define YINGJI_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

int64_t	now_realtime_ns(void);
int64_t	now_monotonic_ns(void);
/* "2026-11-22T11:49:38.123456789+08:00" into out (at least 40 bytes). */
void	time_format_local(int64_t ns, char *out, size_t outlen);
/* "2026-11-22T03:49:38.123456789Z" into out (at least 40 bytes). */
void	time_format_utc(int64_t ns, char *out, size_t outlen);
/* Parse "10s", "5m", "2h", "1d", "250ms" or plain seconds; -EINVAL on bad input. */
int	duration_parse(const char *s, int64_t *ret_ns);
/* Parse "64M", "2G", "512k" or plain bytes; -EINVAL on bad input, -ERANGE on overflow. */
int	size_parse(const char *s, uint64_t *ret_bytes);

#endif
