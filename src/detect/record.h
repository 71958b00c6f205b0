/*
 * record.h - one decoded log line: where it comes from (a Sigma logsource)
 * and its fields under Sigma's names (webserver: cs-method, cs-uri-stem,
 * cs-uri-query, c-ip, sc-status, cs-user-agent, cs-referer, cs-bytes...;
 * linux: the names SigmaHQ's linux rules use, plus our own decoders' names).
 *
 * Field names and values are views into the record's arena (or into the line
 * itself); they are valid until the record is reset or released. Values are
 * bytes with a length (they may hold anything a log line held, never NUL:
 * decoders cut at a NUL). A record holds at most RECORD_MAX_FIELDS fields.
 */
#ifndef YINGJI_DETECT_RECORD_H
#define YINGJI_DETECT_RECORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RECORD_MAX_FIELDS	64
#define RECORD_MAX_LINE		(64 * 1024)	/* longer lines are cut, with truncated set */
#define RECORD_ARENA_MAX	(2 * RECORD_MAX_LINE)

struct record_field {
	const char	*name;		/* NUL-terminated */
	const char	*value;		/* not NUL-terminated: use len */
	size_t		 len;
};

struct record {
	/* The logsource: "" when unknown. */
	char			 product[32];	/* "linux", ... */
	char			 category[32];	/* "webserver", ... */
	char			 service[32];	/* "sshd", "sudo", "auth", "syslog", "nginx", "apache" */
	int64_t			 time_ns;	/* UTC; 0 when the line has none */
	const char		*raw;		/* the whole line (what keyword lists search) */
	size_t			 raw_len;
	const char		*message;	/* the message part (syslog: after "prog[pid]: "), or raw */
	size_t			 message_len;
	struct record_field	 fields[RECORD_MAX_FIELDS];
	unsigned		 nfields;
	char			*arena;		/* decoded (unescaped) values live here: */
	size_t			 arena_len;	/* RECORD_ARENA_MAX bytes, never moved */
	uint64_t		 line_no;
	bool			 truncated;
};

void	record_init(struct record *r);		/* allocates the arena (aborts on OOM) */
void	record_reset(struct record *r);		/* empty again, arena kept */
void	record_release(struct record *r);
/* Add a field whose value points into the line (or other stable memory).
 * -E2BIG when full. */
int	record_add(struct record *r, const char *name, const char *value, size_t len);
/* Add a field whose value is copied into the arena (e.g. an unescaped
 * string); NUL-terminated there. -E2BIG when the fields or the arena are full. */
int	record_add_copy(struct record *r, const char *name, const char *value, size_t len);
/* The first field with this name (case-sensitive), or NULL. */
const struct record_field *record_get(const struct record *r, const char *name);

#endif
