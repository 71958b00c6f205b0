/*
 * decode.h - log lines into records (record.h).
 *
 *   syslog   RFC 3164 ("<PRI>Mmm dd hh:mm:ss host prog[pid]: msg", the PRI
 *            optional, as files written by rsyslog have it) and RFC 5424
 *            ("<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG"); then by
 *            program: sshd (failed/accepted password or publickey, invalid
 *            user, disconnects: fields user, src_ip, src_port, auth_method,
 *            outcome), sudo (user, tty, pwd, target_user, command), su,
 *            useradd/usermod/groupadd/passwd/userdel (name, uid, gid, group...).
 *            Fields: host, program (also "process"?), pid, message; logsource
 *            product linux, service sshd|sudo|su|auth (account tools)|syslog.
 *   nginx,
 *   apache   combined access log ("IP - user [time] \"METHOD target PROTO\"
 *            status bytes \"referer\" \"agent\""): category webserver, fields
 *            c-ip, cs-username, cs-method, cs-uri (target), cs-uri-stem,
 *            cs-uri-query, cs-version, sc-status, sc-bytes, cs-referer,
 *            cs-user-agent; service nginx|apache. Error logs of both:
 *            fields level, message, c-ip (client) where present.
 *   json     one JSON object per line: every top-level string or number
 *            becomes a field of the same name (nested objects: "a.b").
 *   auto     each line sniffed: JSON if it starts with '{', access log if it
 *            starts with an address and has the combined shape, else syslog.
 *
 * Every decoder is bounded by the line (never reads past len), never
 * allocates per field beyond the record's arena, and treats every byte as
 * hostile. A line that does not have the format's shape still yields a record
 * (raw and message set, no logsource): detect keywords can still see it.
 */
#ifndef YINGJI_DETECT_DECODE_H
#define YINGJI_DETECT_DECODE_H

#include <stddef.h>

#include "detect/record.h"

enum log_format { LOG_FMT_AUTO = 0, LOG_FMT_SYSLOG, LOG_FMT_NGINX, LOG_FMT_APACHE, LOG_FMT_JSON };

/* "auto", "syslog", "nginx", "apache", "json": -EINVAL otherwise. */
int	log_format_parse(const char *s, enum log_format *ret);
/* Decode line[0..len) (no trailing newline) into r (reset first). Returns 0
 * when the format's shape was recognised, -EINVAL when not (r still holds the
 * raw line). year_hint: the year for RFC 3164 stamps, which have none. */
int	decode_line(enum log_format fmt, const char *line, size_t len, int year_hint,
		struct record *r);

#endif
