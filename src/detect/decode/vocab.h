/*
 * vocab.h - the values decoders make up (not copied from the line), each with
 * its witness: text the line always holds (compared without case) when a
 * decoder gives that value. sshd's "Failed password for ..." becomes
 * event=auth_failed with the witness "Failed ".
 *
 * The detector's line filter (detector.h) relies on this: a Sigma value can
 * only match a field of a line when the line holds the value's literal text,
 * or, for a made-up value it matches, that value's witness. Every other value
 * a decoder gives is a piece of the line itself, or was unescaped from a line
 * holding a backslash. Field names too: a name no decoder gives by itself
 * (dec_field_is_fixed) came from the line. decode_check_witnesses() checks
 * exactly this for one record (and that a record whose service comes from
 * its program's name holds that name) (the unit tests and fuzz_decode run it on every line they decode).
 */
#ifndef YINGJI_DETECT_DECODE_VOCAB_H
#define YINGJI_DETECT_DECODE_VOCAB_H

#include <stdbool.h>
#include <stddef.h>

#include "detect/record.h"

/* id, field, value, witness */
#define DEC_VOCAB(X) \
	X(SSHD_FAILED_EVENT,	"event",	"auth_failed",		"Failed ") \
	X(SSHD_FAILED_OUTCOME,	"outcome",	"failure",		"Failed ") \
	X(SSHD_ACCEPTED_EVENT,	"event",	"auth_accepted",	"Accepted ") \
	X(SSHD_ACCEPTED_OUTCOME, "outcome",	"success",		"Accepted ") \
	X(SSHD_INVALID_FLAG,	"invalid_user",	"true",			"invalid user ") \
	X(SSHD_INVALID_EVENT,	"event",	"invalid_user",		"Invalid user ") \
	X(SSHD_INVALID_OUTCOME,	"outcome",	"invalid_user",		"Invalid user ") \
	X(SSHD_CLOSED_EVENT,	"event",	"connection_closed",	"Connection closed by ") \
	X(SSHD_CLOSED_OUTCOME,	"outcome",	"closed",		"Connection closed by ") \
	X(SSHD_RESET_EVENT,	"event",	"connection_closed",	"Connection reset by ") \
	X(SSHD_RESET_OUTCOME,	"outcome",	"closed",		"Connection reset by ") \
	X(SSHD_DISC_EVENT,	"event",	"disconnected",		"disconnect") \
	X(SSHD_DISC_OUTCOME,	"outcome",	"closed",		"disconnect") \
	X(SSHD_MAXAUTH_EVENT,	"event",	"max_auth_attempts",	"maximum authentication attempts exceeded for ") \
	X(SSHD_MAXAUTH_OUTCOME,	"outcome",	"failure",		"maximum authentication attempts exceeded for ") \
	X(SSHD_NOIDENT_EVENT,	"event",	"no_ident",		"Did not receive identification string from ") \
	X(SSHD_NOIDENT_OUTCOME,	"outcome",	"closed",		"Did not receive identification string from ") \
	X(PAM_FAIL_EVENT,	"event",	"pam_auth_failure",	"authentication failure; ") \
	X(PAM_FAIL_OUTCOME,	"outcome",	"failure",		"authentication failure; ") \
	X(PAM_MORE_EVENT,	"event",	"pam_auth_failure",	"PAM ") \
	X(PAM_MORE_OUTCOME,	"outcome",	"failure",		"PAM ") \
	X(PAM_OPENED_EVENT,	"event",	"session_opened",	"session opened for user ") \
	X(PAM_CLOSED_EVENT,	"event",	"session_closed",	"session closed for user ") \
	X(SUDO_CMD_EVENT,	"event",	"command",		" : ") \
	X(SUDO_CMD_OUTCOME,	"outcome",	"success",		" : ") \
	X(SUDO_PASSWD_EVENT,	"event",	"auth_failed",		"incorrect password attempt") \
	X(SUDO_PASSWD_OUTCOME,	"outcome",	"failure",		"incorrect password attempt") \
	X(SUDO_NOTIN_EVENT,	"event",	"not_in_sudoers",	"NOT in sudoers") \
	X(SUDO_NOTIN_OUTCOME,	"outcome",	"failure",		"NOT in sudoers") \
	X(SUDO_NOTALLOWED_EVENT, "event",	"not_allowed",		"command not allowed") \
	X(SUDO_NOTALLOWED_OUTCOME, "outcome",	"failure",		"command not allowed") \
	X(SU_TO_EVENT,		"event",	"su",			"(to ") \
	X(SU_TO_OUTCOME,	"outcome",	"success",		"(to ") \
	X(SU_FOR_EVENT,		"event",	"su",			"su for ") \
	X(SU_FOR_OUTCOME,	"outcome",	"success",		"su for ") \
	X(SU_FAILED_OUTCOME,	"outcome",	"failure",		"FAILED su") \
	X(ACC_USER_CREATED,	"event",	"user_created",		"new user: ") \
	X(ACC_GROUP_CREATED,	"event",	"group_created",	"new group: ") \
	X(ACC_GROUP_ADDED,	"event",	"group_created",	"group added to ") \
	X(ACC_MEMBER_ADDED,	"event",	"group_member_added",	"add '") \
	X(ACC_USER_RENAMED,	"event",	"user_renamed",		"change user name ") \
	X(ACC_UID_CHANGED,	"event",	"uid_changed",		" UID from ") \
	X(ACC_GID_CHANGED,	"event",	"gid_changed",		" GID from ") \
	X(ACC_USER_CHANGED,	"event",	"user_changed",		"change user '") \
	X(ACC_USER_LOCKED,	"event",	"user_locked",		"lock user '") \
	X(ACC_USER_UNLOCKED,	"event",	"user_unlocked",	"unlock user '") \
	X(ACC_USER_DELETED,	"event",	"user_deleted",		"delete user '") \
	X(ACC_GROUP_DELETED,	"event",	"group_deleted",	"group '") \
	X(ACC_PASSWD_CHANGED,	"event",	"password_changed",	"password changed for ") \
	X(ACC_EXPIRY_CHANGED,	"event",	"password_expiry_changed", "changed password expiry for ") \
	X(CRON_CMD_EVENT,	"event",	"cmd",			" CMD (")

enum dec_vocab_id {
#define DEC_VOCAB_ENUM(id, field, value, witness) DEC_V_##id,
	DEC_VOCAB(DEC_VOCAB_ENUM)
#undef DEC_VOCAB_ENUM
	DEC_V_COUNT
};

struct dec_vocab {
	const char	*field;
	const char	*value;
	const char	*witness;
};

extern const struct dec_vocab dec_vocab[DEC_V_COUNT];

/* Add the made-up value id to r (its field and value). */
void	dec_vocab_add(struct record *r, enum dec_vocab_id id);

/* Whether a field name is one the decoders give without reading it from the
 * line (case-insensitive). Any other name comes from the line itself (a JSON
 * key, an RFC 5424 parameter), so the line holds its last part (after the
 * last '.'), or a backslash. */
bool	dec_field_is_fixed(const char *name);

/* The programs whose syslog lines get this logsource service (the line
 * holds the program's name): their names into out, their count; 0 when
 * there are more than max, or when the service is given without a program
 * ("syslog", "nginx", "apache"...). */
size_t	dec_service_programs(const char *service, const char **out, size_t max);

/* Whether every field of r keeps the promise above: its value lies in the
 * line, or holds text the line holds, or is a made-up value whose witness
 * the line holds, or the line holds a backslash (unescaped values). 0, or
 * -EPROTO with the first field that breaks it in *ret_field (may be NULL). */
int	decode_check_witnesses(const struct record *r, const char **ret_field);

/* Case-insensitive (ASCII) search of needle in hay. */
const char *dec_memmem_nocase(const char *hay, size_t hlen, const char *needle, size_t nlen);

#endif
