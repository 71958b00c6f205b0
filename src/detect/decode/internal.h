/*
 * internal.h - what the decoders of src/detect/decode share (not an API: use
 * decode.h). Scanners over [p, end) byte ranges; nothing here reads past end
 * or assumes a NUL.
 */
#ifndef YINGJI_DETECT_DECODE_INTERNAL_H
#define YINGJI_DETECT_DECODE_INTERNAL_H

#include <stdbool.h>
#include <string.h>
#include <stddef.h>
#include <stdint.h>

#include "detect/record.h"

/* Local time of stamps that carry no offset (RFC 3164, nginx and apache
 * error logs): Asia/Shanghai, UTC+8, no DST. */
#define DECODE_LOCAL_OFFSET_S	(8 * 3600)

static inline bool
dec_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Add a field whose value is a view (cut at the first NUL byte). Full
 * records drop the field silently: a record holds what fits. */
void	dec_add(struct record *r, const char *name, const char *v, size_t n);

/* A string literal and its length, for dec_starts(p, end, LIT("...")). */
#define LIT(s)	s, sizeof(s) - 1

/* Whether p[0..end) starts with s[0..n). */
static inline bool
dec_starts(const char *p, const char *end, const char *s, size_t n)
{
	return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

/* Add a field whose value is a NUL-terminated constant. */
static inline void
dec_add_str(struct record *r, const char *name, const char *v)
{
	dec_add(r, name, v, strlen(v));
}
/* Copy n bytes into the arena as a NUL-terminated string; NULL when full. */
char	*dec_arena_str(struct record *r, const char *p, size_t n);
/* Set one of the record's logsource strings. */
void	dec_set(char *dst, size_t dstlen, const char *s);
/* Seconds since the epoch of a civil UTC date and time. */
int64_t	dec_civil_s(int y, int mo, int d, int h, int mi, int s);
/* Seconds and a fraction into ns; 0 (no time) for stamps int64 ns cannot
 * hold (before 1685 or after 2254, roughly). */
int64_t	dec_ns(int64_t s, int64_t frac_ns);
/* "Jan".."Dec" at p (3 bytes available) as 1..12, 0 otherwise. */
int	dec_month(const char *p);
/* Exactly n digits at p into *v; false when any is not a digit. */
bool	dec_ndigits(const char *p, size_t n, int *v);
/* The first occurrence of needle in [p, end), or NULL. */
const char *dec_find(const char *p, const char *end, const char *needle, size_t nlen);
/* The last occurrence of needle in [p, end), or NULL. */
const char *dec_rfind(const char *p, const char *end, const char *needle, size_t nlen);
/* "YYYY-MM-DDTHH:MM:SS[.frac][Z|+hh:mm|-hh:mm]" at p: UTC ns in *ns and the end
 * of the stamp in *ret_end. A stamp without an offset is taken as local. */
bool	dec_iso8601(const char *p, const char *end, int64_t *ns, const char **ret_end);

/* The decoders; each returns 0 or -EINVAL, filling r (raw already set). */
int	syslog_decode(const char *line, size_t len, int year_hint, struct record *r);
int	access_decode(const char *line, size_t len, struct record *r);
int	nginx_error_decode(const char *line, size_t len, struct record *r);
int	apache_error_decode(const char *line, size_t len, struct record *r);
int	json_line_decode(const char *line, size_t len, struct record *r);
/* "METHOD TARGET PROTO" in [p, end): cs-method, cs-uri, cs-uri-stem,
 * cs-uri-query, cs-version. */
void	access_request(struct record *r, const char *p, const char *end);
/* The closing '"' of a string opened before p (backslash escapes), or NULL. */
const char *access_quote_end(const char *p, const char *end);
/* Shape checks for sniffing: cheap, no record touched. */
bool	access_sniff(const char *line, size_t len);
bool	nginx_error_sniff(const char *line, size_t len);
bool	apache_error_sniff(const char *line, size_t len);

/* Message decoders for syslog programs: fields from msg[0..n). */
void	sshd_decode_msg(struct record *r, const char *msg, size_t n);
void	sudo_decode_msg(struct record *r, const char *msg, size_t n);
void	su_decode_msg(struct record *r, const char *msg, size_t n);
void	accounts_decode_msg(struct record *r, const char *msg, size_t n);
void	cron_decode_msg(struct record *r, const char *msg, size_t n);
/* "pam_unix(svc:kind): authentication failure; logname= ... rhost=IP user=U"
 * and "session opened for user U(uid=0) by ...": true when it was one. */
bool	pam_decode_msg(struct record *r, const char *msg, size_t n, bool su);

#endif
