/*
 * decode.h - log lines into records (record.h).
 *
 *   syslog   RFC 3164 ("<PRI>Mmm dd hh:mm:ss host prog[pid]: msg", the PRI
 *            optional, as files written by rsyslog have it; rsyslog's RFC
 *            3339 stamp in place of the BSD one) and RFC 5424 ("<PRI>1
 *            TIMESTAMP HOST APP PROCID MSGID [SD] MSG", "-" fields absent,
 *            SD parameters as fields "SDID.name"). Fields host, program, pid,
 *            msgid (5424), message; logsource product linux, service sshd |
 *            sudo | su | auth (useradd, usermod, userdel, groupadd, groupmod,
 *            groupdel, passwd, chpasswd, chage, gpasswd) | cron | syslog.
 *            Then by program (each .c file's top comment lists its forms):
 *              sshd  user, src_ip, src_port, auth_method, outcome (failure |
 *                    success | invalid_user | closed), event (auth_failed,
 *                    auth_accepted, invalid_user, connection_closed,
 *                    disconnected, max_auth_attempts, no_ident,
 *                    pam_auth_failure, session_opened...), invalid_user
 *                    ("true"), repeated (rsyslog's "message repeated N times")
 *              sudo  user, tty, pwd, target_user, command, outcome, event
 *              su    user, target_user, tty, outcome, event
 *              auth  name, uid, gid, group, home, shell, event
 *              cron  user, command, event
 *            Time: RFC 3164 has no year (year_hint is used) and no zone: read
 *            as Asia/Shanghai, UTC+8 (so are RFC 3339 stamps without offset).
 *   nginx,
 *   apache   combined (and common) access log ("[VHOST ]IP - user [time]
 *            \"METHOD target PROTO\" status bytes \"referer\" \"agent\""):
 *            category webserver, fields c-ip, cs-host (vhost), cs-username,
 *            cs-method, cs-uri (target), cs-uri-stem, cs-uri-query (after
 *            '?'), cs-version, sc-status, sc-bytes, cs-referer, cs-user-agent;
 *            time from the stamp's own offset. Error logs of both: level,
 *            pid, message, c-ip, module (apache), server, cs-host, cs-referer
 *            and the request's cs-* fields when one is named; stamps read as
 *            UTC+8; no category (SigmaHQ's error-log rules name only the
 *            service). Service nginx|apache: set from --format, or from the
 *            error log's shape; an access line sniffed in auto mode has none.
 *   json     one JSON object per line: every string, number or boolean member
 *            becomes a field of the same name (numbers and booleans as their
 *            text, strings unescaped), nested objects as "a.b" down to 8
 *            levels; arrays and nulls give none. An invalid line: -EINVAL.
 *   auto     each line sniffed: JSON if it starts with '{', apache error log
 *            if "[Www Mmm ...", nginx error log if "yyyy/mm/dd hh:mm:ss [",
 *            access log if it has the combined shape, else syslog.
 *
 * Every decoder is bounded by the line (never reads past len), never
 * allocates (values are views into the line or copies in the record's arena),
 * and treats every byte as hostile: invalid UTF-8 stays as it is; a field
 * value stops at a NUL byte (raw keeps the whole line). A line that does not
 * have the format's shape yields -EINVAL and a record holding only the raw
 * line (raw and message set, no fields, no logsource): detect keywords can
 * still see it. Lines longer than RECORD_MAX_LINE are the caller's to cut
 * (setting truncated after decode_line, which resets the record).
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
