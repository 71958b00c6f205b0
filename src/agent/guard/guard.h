/*
 * guard.h - one guarded tree: its baseline, and the repair of any difference.
 *
 * guard_reconcile() is the heart of the agent: given a path that may have
 * changed, it compares what is there with the baseline and puts the baseline
 * back (restore, recreate, or move an unauthorised entry to quarantine). It is
 * level-triggered and idempotent: a watcher event is only a hint of where to
 * look, so duplicate, late or our own events cost a stat and do nothing, and a
 * lost event is made up for by guard_rescan().
 */
#ifndef YINGJI_AGENT_GUARD_H
#define YINGJI_AGENT_GUARD_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "agent/event.h"
#include "agent/guard/baseline.h"

struct inspector;
struct store;

enum guard_state { GUARD_STARTING = 0, GUARD_READY, GUARD_PAUSED, GUARD_ERROR };

/* Where the guard's actions and findings go (the daemon's event pipeline). */
typedef void (*guard_emit_fn)(struct event *ev, void *data);

struct guard {
	char		*root;		/* absolute path */
	char		*id;		/* 16 hex digits of SHA-256(root): the state subdirectory */
	int		 parentfd;	/* O_PATH of the root's parent directory */
	char		*rootname;	/* last component of root */
	int		 rootfd;	/* the root directory (reopened when recreated) */
	dev_t		 dev;
	struct baseline	 base;
	enum guard_state state;
	bool		 lock;		/* lock mode: immutable attribute on everything */
	bool		 lock_supported;
	uint64_t	 tampers;	/* repairs since start */
	int64_t		 last_tamper_ns;
	/* set by the daemon */
	int		 state_dirfd;	/* the agent's state directory */
	int		 quarantine_dirfd;
	struct store	*store;
	guard_emit_fn	 emit;
	const struct inspector *inspector;	/* content inspection; NULL: hidden links only */
	void		*emit_data;
	uint64_t	 generation;	/* bumped when directories may have changed handles */
	bool		 needs_rescan;	/* a repair failed: compare the whole tree again soon */
};

/* Open the guard for root (absolute), loading its baseline from the state
 * directory or, the first time, creating it (every content put in the store).
 * On a later start, whatever changed while the agent was down is repaired and
 * reported as drift. g->inspector is the one field the caller may set before
 * (the rest of *g is overwritten); g must then be zeroed otherwise. */
int	guard_open(struct guard *g, const char *root, int state_dirfd, int quarantine_dirfd,
		struct store *store, bool lock, guard_emit_fn emit, void *emit_data);
void	guard_close(struct guard *g);

/* Bring rel (relative to root, "" for the root) back to the baseline. pid is
 * the writer the kernel named (0 when unknown); noticed_ns is the monotonic
 * time the change was noticed (for the latency). */
void	guard_reconcile(struct guard *g, const char *rel, pid_t pid, int64_t noticed_ns);
/* Compare the whole tree with the baseline and repair every difference; reason
 * goes into the event ("overflow", "startup", "resume"). Returns the number of
 * repairs. */
uint64_t guard_rescan(struct guard *g, enum event_type type, const char *reason);

/* Authorised change: make root an exact copy of from (when from is NULL, accept
 * what is there now), then record the new baseline. who describes the
 * publisher. The guard is not watched while this runs. */
int	guard_publish(struct guard *g, const char *from, const char *who);
/* guard_publish() refused the content of a file (a content_blocked event was
 * emitted; nothing changed). */
#define GUARD_CONTENT_BLOCKED	(-EBADMSG)
int	guard_pause(struct guard *g, const char *who);
/* Who pauses for a maintenance window; a pause it made survives a restart
 * and is finished (accepted) by the first start after the window. */
#define GUARD_WINDOW_WHO	"maintenance window"
bool	guard_paused_by_window(const struct guard *g);
int	guard_resume(struct guard *g, const char *who);

/* Absolute path of rel under the guard, new string. */
char	*guard_abs(const struct guard *g, const char *rel);
/* The state subdirectory name for root. */
char	*guard_id_for(const char *root);
/* The root directory is still where it should be (not moved or replaced). */
bool	guard_root_intact(struct guard *g);

#endif
