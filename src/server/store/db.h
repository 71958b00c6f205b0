/*
 * db.h - the centre's SQLite database: agents, events, alerts, enrollment
 * tokens.
 *
 * src/server/store/ is the only place that includes sqlite3.h. One struct
 * store is one connection, used by one thread: the engine thread owns the
 * only writing connection; the network thread reads through its own
 * (read_only) connection. The database runs in WAL mode, so readers never
 * wait for the writer. synchronous=FULL: a commit that returned is durable
 * (the server acknowledges events only after it).
 *
 * Errors: -ENOENT (no such row), -EEXIST (duplicate), -ENOSPC (disk full:
 * SQLITE_FULL), -EBUSY, -EROFS, -EIO (anything else; db_errmsg() says
 * what SQLite said). Nothing here logs.
 */
#ifndef YINGJI_SERVER_DB_H
#define YINGJI_SERVER_DB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "proto/wire.h"

struct db;

/* Opens (creating when writable and absent) the database at path and sets
 * up the schema (versioned with PRAGMA user_version). */
int	db_open(const char *path, bool read_only, struct db **ret);
void	db_close(struct db *s);		/* accepts NULL */
const char *db_errmsg(const struct db *s);

int	db_begin(struct db *s);		/* BEGIN IMMEDIATE */
int	db_commit(struct db *s);
void	db_rollback(struct db *s);	/* no-op outside a transaction */

/* ---- events ---- */

struct db_event {
	int64_t		 id;		/* rowid; ignored on insert */
	int64_t		 agent;
	int		 lane;		/* -1: made by the server (seq is then 0 and stored NULL) */
	uint64_t	 seq;
	int64_t		 time_ns;	/* when it happened (agent's clock) */
	int64_t		 received_ns;	/* when the server stored it */
	const char	*type;		/* NUL-terminated */
	const char	*path;		/* may be NULL; NUL-terminated */
	const char	*body;		/* one JSON object, as the agent sent it */
	size_t		 body_len;
};

/* Inside a transaction. An agent event (lane >= 0) whose (agent, seq) is
 * already stored is not stored again: -EEXIST. */
int	db_event_insert(struct db *s, const struct db_event *ev);
/* The rowid of the last row this connection inserted (the event just
 * stored by db_event_insert). */
int64_t	db_last_insert_id(struct db *s);

struct db_event_filter {
	int64_t		 after_id;	/* only ids > after_id (cursor); 0 = from the start */
	int64_t		 since_ns;	/* time_ns >= since_ns; 0 = no bound */
	int64_t		 until_ns;	/* time_ns < until_ns; 0 = no bound */
	int64_t		 agent;		/* 0 = every agent */
	const char	*type;		/* NULL = every type */
	unsigned	 limit;		/* at most this many rows (1..10000) */
};
/* Rows in id order. The row's strings are valid during the callback only.
 * cb returns 0 to go on, > 0 to stop, < 0 for an error (returned). */
typedef int (*db_event_cb)(const struct db_event *row, void *data);
int	db_events_query(struct db *s, const struct db_event_filter *f,
		db_event_cb cb, void *data);
int	db_events_count(struct db *s, int64_t agent, uint64_t *ret);	/* agent 0: all */
int64_t	db_events_max_id(struct db *s);	/* 0 when empty or on error */

/* ---- alerts (what the detector raised on stored events) ---- */

struct db_alert {
	int64_t		 id;		/* rowid; ignored on insert */
	const char	*rule_id, *title;
	const char	*level;		/* "informational" ... "critical" */
	int64_t		 agent;		/* 0: not known */
	int64_t		 event_id;	/* the event that set it off; 0: none (stored NULL) */
	int64_t		 time_ns;	/* the event's time */
	int64_t		 received_ns;	/* when the server stored it */
	uint64_t	 count;		/* matches folded in (>= 1) */
	bool		 correlation;
	const char	*group;		/* may be NULL */
	const char	*matched;	/* "name=value" lines; may be NULL */
	const char	*line;		/* the log line or event body; may be NULL */
	bool		 continued;	/* the counted rest of an attack alerted before */
};

/* Inside a transaction (or on its own: autocommit). *ret_id (may be NULL)
 * gets the new id. */
int	db_alert_insert(struct db *s, const struct db_alert *a, int64_t *ret_id);

struct db_alert_filter {
	int64_t		 after_id;	/* only ids > after_id (cursor); 0 = from the start */
	int64_t		 agent;		/* 0 = every agent */
	const char	*level;		/* NULL = every level (else exactly this name) */
	const char	*rule_id;	/* NULL = every rule */
	unsigned	 limit;		/* at most this many rows (1..10000) */
};
/* Rows in id order; strings valid during the callback only. cb as for
 * db_events_query (0 go on, > 0 stop, < 0 error). */
typedef int (*db_alert_cb)(const struct db_alert *row, void *data);
int	db_alerts_query(struct db *s, const struct db_alert_filter *f, db_alert_cb cb,
		void *data);
int	db_alerts_count(struct db *s, uint64_t *ret);

/* ---- agents ---- */

enum agent_state {
	AGENT_LOST = 0,		/* not connected (also: enrolled, never connected yet) */
	AGENT_CONNECTED,
	AGENT_REVOKED,
};

struct db_agent {
	int64_t		 id;
	char		 name[128];
	char		 serial[64];		/* of its certificate, hex */
	enum agent_state state;
	int64_t		 enrolled_ns, last_seen_ns, revoked_ns;	/* 0 = never */
	uint64_t	 acked[WIRE_LANES];	/* highest committed seq per lane */
	uint64_t	 backlog;		/* last reported by the agent */
	char		 addr[64];		/* last peer address */
};

/* A new agent row (state lost, acked 0); *ret_id gets its id (ids are never
 * reused). Then db_agent_set_cert() once its certificate is signed. */
int	db_agent_create(struct db *s, const char *name, int64_t now_ns, int64_t *ret_id);
int	db_agent_set_cert(struct db *s, int64_t id, const char *serial);
int	db_agent_get(struct db *s, int64_t id, struct db_agent *ret);
int	db_agent_set_state(struct db *s, int64_t id, enum agent_state state,
		int64_t now_ns, const char *addr);	/* addr may be NULL: unchanged */
int	db_agent_set_acked(struct db *s, int64_t id, int lane, uint64_t seq);
int	db_agent_set_seen(struct db *s, int64_t id, int64_t now_ns, uint64_t backlog);
/* Marks revoked (revoked_ns = now); -ENOENT; -EALREADY when it already was. */
int	db_agent_revoke(struct db *s, int64_t id, int64_t now_ns);
typedef int (*db_agent_cb)(const struct db_agent *a, void *data);
int	db_agents_list(struct db *s, db_agent_cb cb, void *data);	/* id order */
const char *agent_state_name(enum agent_state state);	/* "connected", "lost", "revoked" */

/* ---- enrollment tokens (only their SHA-256 is stored) ---- */

int	db_token_add(struct db *s, const uint8_t hash[32], int64_t created_ns,
		int64_t expires_ns);
/* Marks the token used by agent_id. -ENOENT unknown, -EALREADY used before,
 * -ETIME expired. */
int	db_token_use(struct db *s, const uint8_t hash[32], int64_t now_ns,
		int64_t agent_id);

/* ---- plain SQL, for the other files of src/server/store ----
 * SQL text must be a string literal (statements are cached by its address).
 * binds: one letter per parameter, in order: 'i' int64_t, 't' const char *
 * (NULL binds NULL), 'b' const void *, size_t (a blob), 'n' NULL. Strings are
 * bound without copying: they must live until the call returns. */
int	db_exec(struct db *s, const char *sql, const char *binds, ...);
struct db_row;
/* cb as for db_events_query (0 go on, > 0 stop, < 0 error, returned). Column
 * values are valid during the callback only. */
typedef int (*db_row_cb)(const struct db_row *row, void *data);
int	db_query(struct db *s, const char *sql, db_row_cb cb, void *data, const char *binds, ...);
int64_t	db_row_int(const struct db_row *row, int col);
const char *db_row_text(const struct db_row *row, int col);	/* NULL for NULL */
size_t	db_row_len(const struct db_row *row, int col);
bool	db_row_null(const struct db_row *row, int col);
int	db_changes(struct db *s);	/* rows changed by the last statement */

#endif
