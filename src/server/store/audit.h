/*
 * audit.h - the hash-chained audit trail (table audit, schema v3).
 *
 * Every write a person or the plan engine makes (incident created,
 * transition, report filed, grade change, task, flag, plan loaded, login,
 * response) is appended here in the same transaction as the write itself.
 *
 * Record n's hash = SHA-256 over the text
 *   "yingji-audit-v1\n" id "\n" time_ns "\n" actor "\n" action "\n" object "\n"
 *   detail "\n" prev
 * (decimal integers, every field as stored), and prev = record n-1's hash
 * (64 '0' for the first). Ids are consecutive from 1 (AUTOINCREMENT, never
 * reused), so a deleted record leaves a gap that verify names.
 *
 * The chain head (last id and hash) is also written to a file outside the
 * database (data dir: audit.head, 0600, replaced atomically after each
 * commit that appended) and can be sent out daily through a notification
 * channel: history rewritten after the head left the machine cannot match it.
 */
#ifndef YINGJI_SERVER_AUDIT_H
#define YINGJI_SERVER_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "server/store/db.h"

#define AUDIT_HASH_HEX	64
#define AUDIT_FIELD_MAX	(64u * 1024)	/* detail bytes; longer is refused (-E2BIG) */

struct audit_head {
	int64_t		 id;		/* 0: empty chain */
	char		 hash[AUDIT_HASH_HEX + 1];
	int64_t		 time_ns;
};

/* Appends one record inside the caller's transaction. detail is one JSON
 * object (NULL: "{}"). *ret_head (may be NULL) gets the new head. */
int	audit_append(struct db *s, int64_t time_ns, const char *actor, const char *action,
		const char *object, const char *detail, struct audit_head *ret_head);
/* The last record (id 0 when the chain is empty). */
int	audit_head_get(struct db *s, struct audit_head *ret);

enum audit_problem {
	AUDIT_OK = 0,
	AUDIT_HASH_MISMATCH,	/* the record's content does not give its hash (edited) */
	AUDIT_BROKEN_LINK,	/* prev is not the previous record's hash (reordered, or a record replaced) */
	AUDIT_GAP,		/* ids jump: records deleted before this one */
	AUDIT_TRUNCATED,	/* records at the end are gone (fewer than the anchor or AUTOINCREMENT counter say) */
	AUDIT_ANCHOR_MISMATCH,	/* the head file's record has another hash */
};
const char *audit_problem_name(enum audit_problem p);	/* "hash_mismatch", ... */

struct audit_verdict {
	enum audit_problem problem;
	int64_t		 bad_id;	/* the first bad record (for TRUNCATED: the first missing id) */
	int64_t		 records;	/* records checked */
	struct audit_head head;		/* the chain's last record */
	char		 detail[256];	/* a sentence for people (Chinese by default) */
};

/* Recomputes the whole chain (streaming, in id order) and compares the end
 * with anchor (may be NULL: no anchor known) and with the AUTOINCREMENT
 * counter. Returns 0 when it could check (the verdict says whether the chain
 * holds), -errno when it could not read. */
int	audit_verify(struct db *s, const struct audit_head *anchor, struct audit_verdict *ret);

/* The head file: "<id> <hash> <time_ns>\n". */
int	audit_head_write(const char *path, const struct audit_head *h);	/* atomic, 0600 */
int	audit_head_read(const char *path, struct audit_head *ret);	/* -ENOENT, -EINVAL */

#endif
