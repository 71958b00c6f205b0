/*
 * event.h - what the agent saw and did, one record per event.
 *
 * Every event is serialised as one JSON object (event_to_json) and that line is
 * the journal record, the `yingji-agent events` output, and (next issue) what
 * travels to the server. Field names are a contract: add, never rename.
 */
#ifndef YINGJI_AGENT_EVENT_H
#define YINGJI_AGENT_EVENT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "core/buf.h"

enum event_type {
	EV_TAMPER = 1,		/* a guarded path changed without authorisation */
	EV_TAMPER_PERSISTENT,	/* one writer keeps changing a path: folded, with a count */
	EV_DRIFT,		/* found at start-up: changed while the agent was down */
	EV_RESCAN,		/* events were lost (queue overflow); the guard was re-scanned */
	EV_PUBLISH,		/* an authorised change: baseline updated */
	EV_PAUSE,		/* a guard was paused for manual publishing */
	EV_RESUME,		/* a pause ended without accepting the changes */
	EV_GUARD_READY,		/* a guard's baseline is loaded and it is watched */
	EV_GUARD_ERROR,		/* a guard cannot be protected (reason in detail) */
	EV_AGENT_START,
	EV_AGENT_STOP,
	EV_STATE_ERROR,		/* the state directory is full or read-only */
	EV_SCAN_CHANGE,		/* one-shot scan: a difference from the baseline */
	EV_CONTENT_BLOCKED,	/* publish refused: harmful content (keyword, hidden link) */
};

/* What changed, as bits: a single event may carry several. */
enum change_bits {
	CH_ADDED	= 1u << 0,
	CH_REMOVED	= 1u << 1,
	CH_CONTENT	= 1u << 2,
	CH_MODE		= 1u << 3,
	CH_OWNER	= 1u << 4,
	CH_TYPE		= 1u << 5,	/* e.g. a file replaced by a symlink */
	CH_LINK		= 1u << 6,	/* symlink target changed */
	CH_MTIME	= 1u << 7,
	CH_INODE	= 1u << 8,	/* same content, new inode (replaced by rename) */
};

/* What the agent did about it. */
enum event_action {
	ACT_NONE = 0,
	ACT_RESTORED,		/* baseline version put back */
	ACT_QUARANTINED,	/* unauthorised new entry moved to quarantine */
	ACT_RECREATED,		/* deleted directory created again (and its content restored) */
	ACT_ALERTED,		/* could not or must not restore (e.g. above the store size cap, paused) */
	ACT_FAILED,		/* tried and failed: reason in detail */
	ACT_ACCEPTED,		/* publish: taken into the baseline */
	ACT_BLOCKED,		/* lock mode: the change failed at the kernel */
};

/* Who made the change, where the kernel told us (fanotify) and /proc still knew. */
struct event_writer {
	pid_t	 pid;		/* 0 when unknown */
	uid_t	 uid;
	bool	 uid_known;
	char	 exe[256];
	char	 cmdline[512];
};

struct event {
	enum event_type		 type;
	int64_t			 time_ns;	/* UTC, when the agent noticed */
	const char		*guard;		/* guarded root, absolute */
	const char		*path;		/* absolute path of the entry, may hold any byte but NUL */
	unsigned		 changes;	/* enum change_bits */
	bool			 has_old_hash, has_new_hash;
	uint8_t			 old_hash[32], new_hash[32];
	struct event_writer	 writer;
	enum event_action	 action;
	int64_t			 latency_ns;	/* from noticing to restored; 0 when not applicable */
	uint64_t		 count;		/* folded events; 1 for a single one */
	const char		*detail;	/* free text (English), may be NULL */
	const char		*quarantine;	/* where an unauthorised entry was moved, or NULL */
	uint64_t		 files, bytes;	/* for scans and publishes */
	/* content inspection: what was found in the (tampered or published)
	 * content; content_kind NULL when nothing */
	const char		*content_kind;	/* "keyword" | "hidden_link" */
	const char		*content_what;
	uint64_t		 content_offset;
	const char		*category;	/* e.g. "information_content", or NULL */
};

void		 event_init(struct event *ev, enum event_type type);
const char	*event_type_name(enum event_type type);
const char	*event_action_name(enum event_action action);
/* Append the event as one JSON object (no newline) to out. */
int		 event_to_json(const struct event *ev, struct buf *out);
/* "content,mode" for the set bits into out. */
void		 event_changes_str(unsigned changes, char *out, size_t outlen);
/* Fill pid-derived fields of w from /proc (exe, cmdline, uid); best effort. */
void		 event_writer_from_pid(struct event_writer *w, pid_t pid);

#endif
