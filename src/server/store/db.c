/*
 * db.c - the centre's SQLite database (see db.h): the schema, the
 * pragmas, one prepared statement per operation (prepared once in
 * db_open, reset after each use so no read transaction stays open), and
 * SQLite's result codes turned into -errno.
 *
 * This is the only file in the tree that includes sqlite3.h.
 *
 * Choices worth knowing:
 * - The database file is created 0600 by us before SQLite opens it; SQLite
 *   gives the -wal and -shm files the same mode.
 * - A failed db_commit() rolls the transaction back (SQLite already does
 *   for SQLITE_FULL and I/O errors): after any failed commit the connection
 *   is outside a transaction and db_rollback() is a harmless no-op.
 * - On a read_only store, db_begin() is a plain (deferred) BEGIN: a
 *   snapshot for several reads in a row.
 * - db_agent_set_state() never takes an agent out of "revoked": a
 *   disconnect that races a revocation must not undo it.
 */
#include "server/store/db.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "core/xalloc.h"
#include "core/banned.h"

_Static_assert(WIRE_LANES == 2, "the agents table has one acked column per lane");

#define SCHEMA_VERSION	4
#define QUERY_LIMIT_MAX	10000

static const char schema_sql[] =
	"CREATE TABLE agents ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" name TEXT NOT NULL,"
	" serial TEXT,"
	" state INTEGER NOT NULL DEFAULT 0,"
	" enrolled_ns INTEGER NOT NULL DEFAULT 0,"
	" last_seen_ns INTEGER NOT NULL DEFAULT 0,"
	" revoked_ns INTEGER NOT NULL DEFAULT 0,"
	" acked0 INTEGER NOT NULL DEFAULT 0,"
	" acked1 INTEGER NOT NULL DEFAULT 0,"
	" backlog INTEGER NOT NULL DEFAULT 0,"
	" addr TEXT);"
	"CREATE TABLE events ("
	" id INTEGER PRIMARY KEY,"
	" agent INTEGER NOT NULL,"
	" lane INTEGER,"			/* NULL: made by the server */
	" seq INTEGER,"				/* NULL: made by the server */
	" time_ns INTEGER NOT NULL,"
	" received_ns INTEGER NOT NULL,"
	" type TEXT NOT NULL,"
	" path TEXT,"
	" body TEXT NOT NULL);"
	/* NULLs are distinct in a UNIQUE index: server events may share seq NULL. */
	"CREATE UNIQUE INDEX events_agent_seq ON events(agent, seq);"
	"CREATE INDEX events_type_id ON events(type, id);"
	"CREATE INDEX events_time ON events(time_ns);"
	"CREATE TABLE tokens ("
	" hash BLOB PRIMARY KEY,"		/* SHA-256 of the token */
	" created_ns INTEGER NOT NULL,"
	" expires_ns INTEGER NOT NULL,"
	" used_ns INTEGER,"			/* NULL: not used yet */
	" agent INTEGER"
	") WITHOUT ROWID;";

/* Version 2: the alerts the detector raised (a version 1 database gets the
 * table on open; nothing else changed). */
static const char schema_v2_sql[] =
	"CREATE TABLE IF NOT EXISTS alerts ("
	" id INTEGER PRIMARY KEY,"
	" rule_id TEXT NOT NULL,"
	" title TEXT NOT NULL,"
	" level TEXT NOT NULL,"			/* "informational" ... "critical" */
	" agent INTEGER NOT NULL,"		/* 0: not known (a held-back alert) */
	" event_id INTEGER,"			/* NULL: no single event (flushed) */
	" time_ns INTEGER NOT NULL,"
	" received_ns INTEGER NOT NULL,"
	" count INTEGER NOT NULL,"
	" correlation INTEGER NOT NULL,"
	" group_key TEXT,"
	" matched TEXT,"
	" line TEXT,"
	" continued INTEGER NOT NULL DEFAULT 0);"	/* the counted rest of an earlier alert */
	"CREATE INDEX IF NOT EXISTS alerts_agent_id ON alerts(agent, id);"
	"PRAGMA user_version = 2;";

/* Version 3: the emergency plan at work (incidents, their timeline,
 * reports, tasks, accountability flags, the notification outbox and
 * delivery log) and the hash-chained audit trail. Times are UTC ns. */
static const char schema_v3_sql[] =
	"CREATE TABLE IF NOT EXISTS incidents ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" agent INTEGER NOT NULL,"		/* 0: not one host */
	" category INTEGER NOT NULL,"		/* incident/category.h index */
	" subcategory INTEGER NOT NULL,"
	" grade INTEGER NOT NULL,"		/* enum plan_grade */
	" grade_manual INTEGER NOT NULL DEFAULT 0,"	/* set by a person: the engine no longer proposes */
	" state INTEGER NOT NULL,"		/* enum incident_state */
	" title TEXT NOT NULL,"
	" detected_ns INTEGER NOT NULL,"
	" last_signal_ns INTEGER NOT NULL,"
	" signals INTEGER NOT NULL DEFAULT 1,"
	" report_due_ns INTEGER NOT NULL,"
	" assess_due_ns INTEGER NOT NULL,"
	" authority_due_ns INTEGER NOT NULL DEFAULT 0,"	/* 0: statutory clock not running */
	" summary_due_ns INTEGER NOT NULL DEFAULT 0,"
	" late INTEGER NOT NULL DEFAULT 0,"	/* bit per deadline (incident.h); never cleared */
	" escalated INTEGER NOT NULL DEFAULT 0,"	/* escalation steps already notified */
	" measures TEXT NOT NULL DEFAULT '{}',"	/* JSON: measured values for grading */
	" down_since_ns INTEGER NOT NULL DEFAULT 0,"	/* portal/host unavailable since; 0: up */
	" closed_ns INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS incidents_open ON incidents(agent, category, state);"
	"CREATE TABLE IF NOT EXISTS incident_log ("	/* the timeline */
	" id INTEGER PRIMARY KEY,"
	" incident INTEGER NOT NULL,"
	" time_ns INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"			/* member id, or \"system\" */
	" kind TEXT NOT NULL,"			/* signal, transition, grade, report, task, flag, notify, note */
	" text TEXT NOT NULL,"
	" ref INTEGER NOT NULL DEFAULT 0);"	/* alert/event/report/task id where it applies */
	"CREATE INDEX IF NOT EXISTS incident_log_incident ON incident_log(incident, id);"
	"CREATE TABLE IF NOT EXISTS reports ("
	" id INTEGER PRIMARY KEY,"
	" incident INTEGER NOT NULL,"
	" kind TEXT NOT NULL,"			/* initial, followup, supplementary, assessment, authority, investigation, summary */
	" version INTEGER NOT NULL DEFAULT 1,"
	" filed_ns INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"
	" body TEXT NOT NULL,"			/* JSON object of the report's fields */
	" sha256 TEXT NOT NULL,"		/* of body, as filed */
	" late INTEGER NOT NULL DEFAULT 0);"
	"CREATE INDEX IF NOT EXISTS reports_incident ON reports(incident, id);"
	"CREATE TABLE IF NOT EXISTS tasks ("
	" id INTEGER PRIMARY KEY,"
	" incident INTEGER NOT NULL,"
	" title TEXT NOT NULL,"
	" role TEXT,"
	" assignee TEXT,"
	" due_ns INTEGER NOT NULL DEFAULT 0,"
	" done_ns INTEGER NOT NULL DEFAULT 0,"
	" done_by TEXT);"
	"CREATE INDEX IF NOT EXISTS tasks_incident ON tasks(incident, id);"
	"CREATE TABLE IF NOT EXISTS flags ("	/* accountability */
	" id INTEGER PRIMARY KEY,"
	" incident INTEGER NOT NULL,"
	" kind TEXT NOT NULL,"
	" time_ns INTEGER NOT NULL,"
	" text TEXT NOT NULL,"
	" evidence TEXT NOT NULL DEFAULT '{}',"
	" UNIQUE(incident, kind, evidence));"
	"CREATE TABLE IF NOT EXISTS notifications ("	/* outbox and delivery log */
	" id INTEGER PRIMARY KEY,"
	" incident INTEGER NOT NULL,"		/* 0: not about one incident (audit anchor) */
	" channel TEXT NOT NULL,"
	" recipients TEXT NOT NULL DEFAULT '',"
	" subject TEXT NOT NULL,"
	" text TEXT NOT NULL,"
	" created_ns INTEGER NOT NULL,"
	" state TEXT NOT NULL DEFAULT 'queued',"	/* queued, sent, failed */
	" attempts INTEGER NOT NULL DEFAULT 0,"
	" last_ns INTEGER NOT NULL DEFAULT 0,"
	" error TEXT);"
	"CREATE INDEX IF NOT EXISTS notifications_state ON notifications(state, id);"
	"CREATE TABLE IF NOT EXISTS audit ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" time_ns INTEGER NOT NULL,"
	" actor TEXT NOT NULL,"
	" action TEXT NOT NULL,"
	" object TEXT NOT NULL,"
	" detail TEXT NOT NULL,"		/* JSON object */
	" prev TEXT NOT NULL,"			/* hash of the record before (64 zeros for the first) */
	" hash TEXT NOT NULL);"			/* SHA-256 hex over prev and this record (audit.h) */
	"CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
	"PRAGMA user_version = 3;";

/* Version 4: first-response actions (issue 6), a persisted ledger at the
 * centre: what was asked, by whom, for which agent, and what became of it. */
static const char schema_v4_sql[] =
	"CREATE TABLE IF NOT EXISTS responses ("
	" id INTEGER PRIMARY KEY AUTOINCREMENT,"
	" agent INTEGER NOT NULL,"
	" action TEXT NOT NULL,"		/* block, isolate, offline, quarantine, kill, lock_account */
	" target TEXT NOT NULL DEFAULT '',"	/* the address, path, pid, user or unit */
	" request TEXT NOT NULL,"		/* the command sent to the agent (JSON) */
	" state TEXT NOT NULL,"			/* pending, applied, failed, undone, expired */
	" undo INTEGER NOT NULL DEFAULT 0,"	/* an undo was asked and not yet confirmed */
	" approval TEXT,"			/* roles whose approval it waits for; NULL: none */
	" requested_by TEXT NOT NULL,"
	" approved_by TEXT,"
	" incident INTEGER NOT NULL DEFAULT 0,"
	" created_ns INTEGER NOT NULL,"
	" updated_ns INTEGER NOT NULL,"
	" expires_ns INTEGER NOT NULL DEFAULT 0,"	/* 0: until undone */
	" result TEXT);"			/* the agent's last answer, or why it waits */
	"CREATE INDEX IF NOT EXISTS responses_agent ON responses(agent, state);"
	"PRAGMA user_version = 4;";

/* Pragmas for every connection; journal_mode is set apart (writer only). */
static const char pragmas_sql[] =
	"PRAGMA foreign_keys = OFF;"
	"PRAGMA temp_store = MEMORY;"
	"PRAGMA cache_size = -65536;";
static const char writer_pragmas_sql[] =
	"PRAGMA synchronous = FULL;"
	/* Shrink a WAL that grew while a long read held back checkpoints. */
	"PRAGMA journal_size_limit = 67108864;";
static const char reader_pragmas_sql[] =
	"PRAGMA query_only = ON;";

enum statement {
	ST_BEGIN,
	ST_BEGIN_READ,
	ST_COMMIT,
	ST_ROLLBACK,
	ST_EVENT_INSERT,
	ST_EVENTS_COUNT,
	ST_EVENTS_COUNT_AGENT,
	ST_EVENTS_MAX_ID,
	ST_AGENT_CREATE,
	ST_AGENT_SET_CERT,
	ST_AGENT_GET,
	ST_AGENT_SET_STATE,
	ST_AGENT_SET_ACKED0,
	ST_AGENT_SET_ACKED1,
	ST_AGENT_SET_SEEN,
	ST_AGENT_REVOKE,
	ST_AGENTS_LIST,
	ST_TOKEN_ADD,
	ST_TOKEN_USE,
	ST_TOKEN_GET,
	ST_ALERT_INSERT,
	ST_ALERTS_QUERY,
	ST_ALERTS_COUNT,
	ST_COUNT
};

#define AGENT_COLUMNS "id, name, serial, state, enrolled_ns, last_seen_ns, revoked_ns, " \
	"acked0, acked1, backlog, addr"

static const char *const statement_sql[ST_COUNT] = {
	[ST_BEGIN] = "BEGIN IMMEDIATE",
	[ST_BEGIN_READ] = "BEGIN",
	[ST_COMMIT] = "COMMIT",
	[ST_ROLLBACK] = "ROLLBACK",
	[ST_EVENT_INSERT] = "INSERT INTO events (agent, lane, seq, time_ns, received_ns, type, "
		"path, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[ST_EVENTS_COUNT] = "SELECT count(*) FROM events",
	[ST_EVENTS_COUNT_AGENT] = "SELECT count(*) FROM events WHERE agent = ?1",
	[ST_EVENTS_MAX_ID] = "SELECT max(id) FROM events",
	[ST_AGENT_CREATE] = "INSERT INTO agents (name, state, enrolled_ns) VALUES (?1, 0, ?2)",
	[ST_AGENT_SET_CERT] = "UPDATE agents SET serial = ?2 WHERE id = ?1",
	[ST_AGENT_GET] = "SELECT " AGENT_COLUMNS " FROM agents WHERE id = ?1",
	[ST_AGENT_SET_STATE] = "UPDATE agents SET state = CASE WHEN state = 2 THEN 2 ELSE ?2 END, "
		"last_seen_ns = ?3, addr = coalesce(?4, addr) WHERE id = ?1",
	[ST_AGENT_SET_ACKED0] = "UPDATE agents SET acked0 = ?2 WHERE id = ?1",
	[ST_AGENT_SET_ACKED1] = "UPDATE agents SET acked1 = ?2 WHERE id = ?1",
	[ST_AGENT_SET_SEEN] = "UPDATE agents SET last_seen_ns = ?2, backlog = ?3 WHERE id = ?1",
	[ST_AGENT_REVOKE] = "UPDATE agents SET state = 2, revoked_ns = ?2 "
		"WHERE id = ?1 AND state != 2",
	[ST_AGENTS_LIST] = "SELECT " AGENT_COLUMNS " FROM agents ORDER BY id",
	[ST_TOKEN_ADD] = "INSERT INTO tokens (hash, created_ns, expires_ns) VALUES (?1, ?2, ?3)",
	[ST_TOKEN_USE] = "UPDATE tokens SET used_ns = ?2, agent = ?3 "
		"WHERE hash = ?1 AND used_ns IS NULL AND expires_ns > ?2",
	[ST_TOKEN_GET] = "SELECT used_ns, expires_ns FROM tokens WHERE hash = ?1",
	[ST_ALERT_INSERT] = "INSERT INTO alerts (rule_id, title, level, agent, event_id, time_ns, "
		"received_ns, count, correlation, group_key, matched, line, continued) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
	/* Few alerts, so one statement with optional filters is enough. */
	[ST_ALERTS_QUERY] = "SELECT id, rule_id, title, level, agent, event_id, time_ns, "
		"received_ns, count, correlation, group_key, matched, line, continued FROM alerts "
		"WHERE id > ?1 AND (?2 = 0 OR agent = ?2) AND (?3 IS NULL OR level = ?3) "
		"AND (?4 IS NULL OR rule_id = ?4) ORDER BY id LIMIT ?5",
	[ST_ALERTS_COUNT] = "SELECT count(*) FROM alerts",
};

/* db_events_query: one statement per combination of optional filters,
 * so each can use its index; every parameter is bound, never spliced in. */
enum {
	QF_SINCE = 1 << 0,
	QF_UNTIL = 1 << 1,
	QF_AGENT = 1 << 2,
	QF_TYPE = 1 << 3,
	QF_COMBOS = 1 << 4,
};

/* db_exec/db_query: statements cached by the address of their SQL text
 * (callers pass string literals), so each is prepared once per connection. */
#define SQL_CACHE_MAX	128

struct sql_cached {
	const char	*sql;
	sqlite3_stmt	*st;
};

struct db {
	sqlite3		*db;
	bool		 read_only;
	sqlite3_stmt	*st[ST_COUNT];
	sqlite3_stmt	*query[QF_COMBOS];
	struct sql_cached cache[SQL_CACHE_MAX];
	size_t		 ncache;
	char		 errmsg[256];
};

struct db_row {
	sqlite3_stmt	*st;
};

/* Records what SQLite said and turns the result code into -errno. */
static int
store_fail(struct db *s, int rc)
{
	int xrc, sys;

	if (s->db == NULL) {
		snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errstr(rc));
		return -ENOMEM;
	}
	xrc = sqlite3_extended_errcode(s->db);
	sys = sqlite3_system_errno(s->db);
	snprintf(s->errmsg, sizeof(s->errmsg), "%s", sqlite3_errmsg(s->db));
	switch (rc & 0xff) {
	case SQLITE_FULL:
		return -ENOSPC;
	case SQLITE_READONLY:
		return -EROFS;
	case SQLITE_BUSY:
	case SQLITE_LOCKED:
		return -EBUSY;
	case SQLITE_CANTOPEN:
		return sys == ENOENT ? -ENOENT : -EACCES;
	case SQLITE_CONSTRAINT:
		if (xrc == SQLITE_CONSTRAINT_UNIQUE || xrc == SQLITE_CONSTRAINT_PRIMARYKEY)
			return -EEXIST;
		return -EINVAL;		/* NOT NULL and the like: a caller's bug */
	case SQLITE_TOOBIG:
		return -E2BIG;
	case SQLITE_NOMEM:
		return -ENOMEM;
	case SQLITE_IOERR:
		/* e.g. SQLITE_IOERR_SHMSIZE when growing the -shm file fails */
		return sys == ENOSPC ? -ENOSPC : -EIO;
	default:
		return -EIO;
	}
}

/* Ends one use of a cached statement: releases its read lock (a reset
 * SELECT holds no snapshot) and forgets pointers bound SQLITE_STATIC. */
static void
stmt_done(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

/* Steps a statement that returns no row (or whose row is not wanted). */
static int
stmt_run(struct db *s, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);
	int r = 0;

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		r = store_fail(s, rc);
	stmt_done(st);
	return r;
}

static int
exec_sql(struct db *s, const char *sql)
{
	int rc = sqlite3_exec(s->db, sql, NULL, NULL, NULL);

	return rc == SQLITE_OK ? 0 : store_fail(s, rc);
}

/* Runs a pragma whose answer is one integer or text row into out. */
static int
pragma_text(struct db *s, const char *sql, char *out, size_t size)
{
	sqlite3_stmt *st = NULL;
	const unsigned char *t;
	int rc, r;

	rc = sqlite3_prepare_v2(s->db, sql, -1, &st, NULL);
	if (rc != SQLITE_OK) {
		r = store_fail(s, rc);
		goto out;
	}
	rc = sqlite3_step(st);
	if (rc != SQLITE_ROW) {
		r = rc == SQLITE_DONE ? -EIO : store_fail(s, rc);
		goto out;
	}
	t = sqlite3_column_text(st, 0);
	snprintf(out, size, "%s", t != NULL ? (const char *)t : "");
	r = 0;
out:
	sqlite3_finalize(st);
	return r;
}

static int
schema_version(struct db *s, int *ret)
{
	char v[32];
	int r = pragma_text(s, "PRAGMA user_version", v, sizeof(v));

	if (r < 0)
		return r;
	*ret = atoi(v);
	return 0;
}

/* Creates the tables in a new database; checks the version of an old one. */
static int
schema_setup(struct db *s)
{
	int version, r;

	if (s->read_only) {
		r = schema_version(s, &version);
		if (r < 0)
			return r;
		if (version != SCHEMA_VERSION) {
			snprintf(s->errmsg, sizeof(s->errmsg),
				"database schema version %d, this program reads %d", version,
				SCHEMA_VERSION);
			return -ENOTSUP;
		}
		return 0;
	}
	r = exec_sql(s, "BEGIN IMMEDIATE");
	if (r < 0)
		return r;
	r = schema_version(s, &version);
	if (r < 0)
		goto out;
	if (version == 0) {
		r = exec_sql(s, schema_sql);
		if (r == 0)
			r = exec_sql(s, schema_v2_sql);
		if (r == 0)
			r = exec_sql(s, schema_v3_sql);
		if (r == 0)
			r = exec_sql(s, schema_v4_sql);
	} else if (version >= 1 && version <= 3) {
		r = version == 1 ? exec_sql(s, schema_v2_sql) : 0;
		if (r == 0 && version <= 2)
			r = exec_sql(s, schema_v3_sql);
		if (r == 0)
			r = exec_sql(s, schema_v4_sql);
	} else if (version != SCHEMA_VERSION) {
		snprintf(s->errmsg, sizeof(s->errmsg),
			"database schema version %d, this program knows %d", version,
			SCHEMA_VERSION);
		r = -ENOTSUP;
	}
	if (r < 0)
		goto out;
	r = exec_sql(s, "COMMIT");
out:
	if (!sqlite3_get_autocommit(s->db))
		(void)sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
	return r;
}

static void
query_sql(unsigned mask, char *sql, size_t size)
{
	snprintf(sql, size,
		"SELECT id, agent, lane, seq, time_ns, received_ns, type, path, body FROM events"
		" WHERE id > ?1%s%s%s%s ORDER BY id LIMIT ?6",
		mask & QF_SINCE ? " AND time_ns >= ?2" : "",
		mask & QF_UNTIL ? " AND time_ns < ?3" : "",
		mask & QF_AGENT ? " AND agent = ?4" : "",
		mask & QF_TYPE ? " AND type = ?5" : "");
}

static int
prepare_all(struct db *s)
{
	char sql[512];
	int rc;

	for (size_t i = 0; i < ST_COUNT; i++) {
		rc = sqlite3_prepare_v3(s->db, statement_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
			&s->st[i], NULL);
		if (rc != SQLITE_OK)
			return store_fail(s, rc);
	}
	for (unsigned m = 0; m < QF_COMBOS; m++) {
		query_sql(m, sql, sizeof(sql));
		rc = sqlite3_prepare_v3(s->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &s->query[m],
			NULL);
		if (rc != SQLITE_OK)
			return store_fail(s, rc);
	}
	return 0;
}

/* Creates the file 0600 before SQLite does (SQLite would use 0644 less the
 * umask, and gives -wal and -shm the database file's mode). An existing
 * file keeps its mode. */
static int
create_private(const char *path)
{
	int fd;

	if (strcmp(path, ":memory:") == 0 || strncmp(path, "file:", 5) == 0)
		return 0;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	return 0;
}

int
db_open(const char *path, bool read_only, struct db **ret)
{
	struct db *s = NULL;
	char mode[16];
	int flags, rc, r;

	if (path == NULL || ret == NULL)
		return -EINVAL;
	if (!read_only) {
		r = create_private(path);
		if (r < 0)
			return r;
	}
	s = xcalloc(1, sizeof(*s));
	s->read_only = read_only;
	flags = SQLITE_OPEN_NOMUTEX |
		(read_only ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE);
	rc = sqlite3_open_v2(path, &s->db, flags, NULL);
	if (rc != SQLITE_OK) {
		r = store_fail(s, rc);
		goto out;
	}
	rc = sqlite3_busy_timeout(s->db, 5000);
	if (rc != SQLITE_OK) {
		r = store_fail(s, rc);
		goto out;
	}
	r = exec_sql(s, pragmas_sql);
	if (r < 0)
		goto out;
	if (read_only) {
		r = exec_sql(s, reader_pragmas_sql);
		if (r < 0)
			goto out;
	} else {
		r = pragma_text(s, "PRAGMA journal_mode = WAL", mode, sizeof(mode));
		if (r < 0)
			goto out;
		if (strcmp(mode, "wal") != 0 && strcmp(path, ":memory:") != 0) {
			snprintf(s->errmsg, sizeof(s->errmsg), "journal_mode is %s, not wal", mode);
			r = -EIO;
			goto out;
		}
		r = exec_sql(s, writer_pragmas_sql);
		if (r < 0)
			goto out;
	}
	r = schema_setup(s);
	if (r < 0)
		goto out;
	r = prepare_all(s);
	if (r < 0)
		goto out;

	*ret = s;
	s = NULL;
out:
	db_close(s);
	return r;
}

void
db_close(struct db *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	for (size_t i = 0; i < QF_COMBOS; i++)
		sqlite3_finalize(s->query[i]);
	for (size_t i = 0; i < s->ncache; i++)
		sqlite3_finalize(s->cache[i].st);
	sqlite3_close_v2(s->db);	/* accepts NULL */
	free(s);
}

const char *
db_errmsg(const struct db *s)
{
	if (s == NULL)
		return "no store";
	return s->errmsg[0] != '\0' ? s->errmsg : "no error";
}

int
db_begin(struct db *s)
{
	return stmt_run(s, s->st[s->read_only ? ST_BEGIN_READ : ST_BEGIN]);
}

int
db_commit(struct db *s)
{
	int r = stmt_run(s, s->st[ST_COMMIT]);

	if (r < 0)
		db_rollback(s);
	return r;
}

void
db_rollback(struct db *s)
{
	if (s == NULL || sqlite3_get_autocommit(s->db))
		return;		/* no transaction (SQLite may have ended it already) */
	(void)stmt_run(s, s->st[ST_ROLLBACK]);
}

/* ---- events ---- */

int
db_event_insert(struct db *s, const struct db_event *ev)
{
	sqlite3_stmt *st = s->st[ST_EVENT_INSERT];
	const char *body = ev->body != NULL ? ev->body : "";
	bool server = ev->lane < 0;
	int r;

	if (ev->type == NULL || ev->lane >= WIRE_LANES || (ev->body == NULL && ev->body_len > 0))
		return -EINVAL;
	if (ev->body_len > INT_MAX)
		return -E2BIG;
	if (sqlite3_bind_int64(st, 1, ev->agent) != SQLITE_OK ||
		(server ? sqlite3_bind_null(st, 2) : sqlite3_bind_int(st, 2, ev->lane)) != SQLITE_OK ||
		(server ? sqlite3_bind_null(st, 3) : sqlite3_bind_int64(st, 3, (int64_t)ev->seq)) !=
			SQLITE_OK ||
		sqlite3_bind_int64(st, 4, ev->time_ns) != SQLITE_OK ||
		sqlite3_bind_int64(st, 5, ev->received_ns) != SQLITE_OK ||
		sqlite3_bind_text(st, 6, ev->type, -1, SQLITE_STATIC) != SQLITE_OK ||
		sqlite3_bind_text(st, 7, ev->path, -1, SQLITE_STATIC) != SQLITE_OK ||
		sqlite3_bind_text(st, 8, body, (int)ev->body_len, SQLITE_STATIC) != SQLITE_OK) {
		r = store_fail(s, sqlite3_errcode(s->db));
		stmt_done(st);
		return r;
	}
	/* A constraint failure ends this statement only: the transaction goes on. */
	return stmt_run(s, st);
}

int64_t
db_last_insert_id(struct db *s)
{
	return sqlite3_last_insert_rowid(s->db);
}

static void
event_from_row(sqlite3_stmt *st, struct db_event *ev)
{
	const unsigned char *t;

	ev->id = sqlite3_column_int64(st, 0);
	ev->agent = sqlite3_column_int64(st, 1);
	if (sqlite3_column_type(st, 2) == SQLITE_NULL) {
		ev->lane = -1;
		ev->seq = 0;
	} else {
		ev->lane = sqlite3_column_int(st, 2);
		ev->seq = (uint64_t)sqlite3_column_int64(st, 3);
	}
	ev->time_ns = sqlite3_column_int64(st, 4);
	ev->received_ns = sqlite3_column_int64(st, 5);
	t = sqlite3_column_text(st, 6);
	ev->type = t != NULL ? (const char *)t : "";
	ev->path = sqlite3_column_type(st, 7) == SQLITE_NULL ? NULL :
		(const char *)sqlite3_column_text(st, 7);
	t = sqlite3_column_text(st, 8);
	ev->body = t != NULL ? (const char *)t : "";
	ev->body_len = t != NULL ? (size_t)sqlite3_column_bytes(st, 8) : 0;
}

/* The callback must not call db_events_query() on the same store: the
 * statement it would use may be the one being stepped. */
int
db_events_query(struct db *s, const struct db_event_filter *f, db_event_cb cb,
	void *data)
{
	sqlite3_stmt *st;
	struct db_event ev;
	unsigned mask = 0, limit;
	int rc, r;

	if (f->since_ns != 0)
		mask |= QF_SINCE;
	if (f->until_ns != 0)
		mask |= QF_UNTIL;
	if (f->agent != 0)
		mask |= QF_AGENT;
	if (f->type != NULL)
		mask |= QF_TYPE;
	limit = f->limit < 1 ? 1 : f->limit > QUERY_LIMIT_MAX ? QUERY_LIMIT_MAX : f->limit;
	st = s->query[mask];
	/* Every parameter is bound; the unused ones are not in this statement's SQL. */
	if (sqlite3_bind_int64(st, 1, f->after_id) != SQLITE_OK ||
		sqlite3_bind_int64(st, 2, f->since_ns) != SQLITE_OK ||
		sqlite3_bind_int64(st, 3, f->until_ns) != SQLITE_OK ||
		sqlite3_bind_int64(st, 4, f->agent) != SQLITE_OK ||
		sqlite3_bind_text(st, 5, f->type, -1, SQLITE_STATIC) != SQLITE_OK ||
		sqlite3_bind_int(st, 6, (int)limit) != SQLITE_OK) {
		r = store_fail(s, sqlite3_errcode(s->db));
		goto out;
	}
	for (;;) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE) {
			r = 0;
			break;
		}
		if (rc != SQLITE_ROW) {
			r = store_fail(s, rc);
			break;
		}
		event_from_row(st, &ev);
		r = cb(&ev, data);
		if (r != 0) {
			if (r > 0)
				r = 0;
			break;
		}
	}
out:
	stmt_done(st);
	return r;
}

/* Steps a statement that returns one integer. */
static int
stmt_int64(struct db *s, sqlite3_stmt *st, int64_t *ret)
{
	int rc = sqlite3_step(st);
	int r = 0;

	if (rc == SQLITE_ROW)
		*ret = sqlite3_column_int64(st, 0);
	else
		r = rc == SQLITE_DONE ? -ENOENT : store_fail(s, rc);
	stmt_done(st);
	return r;
}

int
db_events_count(struct db *s, int64_t agent, uint64_t *ret)
{
	sqlite3_stmt *st = s->st[agent != 0 ? ST_EVENTS_COUNT_AGENT : ST_EVENTS_COUNT];
	int64_t n = 0;
	int r;

	if (agent != 0 && sqlite3_bind_int64(st, 1, agent) != SQLITE_OK) {
		r = store_fail(s, sqlite3_errcode(s->db));
		stmt_done(st);
		return r;
	}
	r = stmt_int64(s, st, &n);
	if (r < 0)
		return r;
	*ret = (uint64_t)n;
	return 0;
}

int64_t
db_events_max_id(struct db *s)
{
	int64_t id = 0;

	if (stmt_int64(s, s->st[ST_EVENTS_MAX_ID], &id) < 0)
		return 0;
	return id;		/* max() of no rows is NULL, read as 0 */
}

/* ---- alerts ---- */

static int
bind_text_or_null(sqlite3_stmt *st, int i, const char *t)
{
	return t != NULL ? sqlite3_bind_text(st, i, t, -1, SQLITE_STATIC) :
		sqlite3_bind_null(st, i);
}

int
db_alert_insert(struct db *s, const struct db_alert *a, int64_t *ret_id)
{
	sqlite3_stmt *st = s->st[ST_ALERT_INSERT];
	int r;

	if (a->rule_id == NULL || a->title == NULL || a->level == NULL)
		return -EINVAL;
	if (sqlite3_bind_text(st, 1, a->rule_id, -1, SQLITE_STATIC) != SQLITE_OK ||
		sqlite3_bind_text(st, 2, a->title, -1, SQLITE_STATIC) != SQLITE_OK ||
		sqlite3_bind_text(st, 3, a->level, -1, SQLITE_STATIC) != SQLITE_OK ||
		sqlite3_bind_int64(st, 4, a->agent) != SQLITE_OK ||
		(a->event_id != 0 ? sqlite3_bind_int64(st, 5, a->event_id) :
			sqlite3_bind_null(st, 5)) != SQLITE_OK ||
		sqlite3_bind_int64(st, 6, a->time_ns) != SQLITE_OK ||
		sqlite3_bind_int64(st, 7, a->received_ns) != SQLITE_OK ||
		sqlite3_bind_int64(st, 8, a->count > INT64_MAX ? INT64_MAX : (int64_t)a->count) !=
			SQLITE_OK ||
		sqlite3_bind_int(st, 9, a->correlation ? 1 : 0) != SQLITE_OK ||
		bind_text_or_null(st, 10, a->group) != SQLITE_OK ||
		bind_text_or_null(st, 11, a->matched) != SQLITE_OK ||
		bind_text_or_null(st, 12, a->line) != SQLITE_OK ||
		sqlite3_bind_int(st, 13, a->continued ? 1 : 0) != SQLITE_OK) {
		r = store_fail(s, sqlite3_errcode(s->db));
		stmt_done(st);
		return r;
	}
	r = stmt_run(s, st);
	if (r == 0 && ret_id != NULL)
		*ret_id = sqlite3_last_insert_rowid(s->db);
	return r;
}

static const char *
column_text_or_null(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? NULL :
		(const char *)sqlite3_column_text(st, col);
}

static void
alert_from_row(sqlite3_stmt *st, struct db_alert *a)
{
	const unsigned char *t;

	a->id = sqlite3_column_int64(st, 0);
	t = sqlite3_column_text(st, 1);
	a->rule_id = t != NULL ? (const char *)t : "";
	t = sqlite3_column_text(st, 2);
	a->title = t != NULL ? (const char *)t : "";
	t = sqlite3_column_text(st, 3);
	a->level = t != NULL ? (const char *)t : "";
	a->agent = sqlite3_column_int64(st, 4);
	a->event_id = sqlite3_column_int64(st, 5);	/* NULL reads as 0 */
	a->time_ns = sqlite3_column_int64(st, 6);
	a->received_ns = sqlite3_column_int64(st, 7);
	a->count = (uint64_t)sqlite3_column_int64(st, 8);
	a->correlation = sqlite3_column_int(st, 9) != 0;
	a->group = column_text_or_null(st, 10);
	a->matched = column_text_or_null(st, 11);
	a->line = column_text_or_null(st, 12);
	a->continued = sqlite3_column_int(st, 13) != 0;
}

int
db_alerts_query(struct db *s, const struct db_alert_filter *f, db_alert_cb cb, void *data)
{
	sqlite3_stmt *st = s->st[ST_ALERTS_QUERY];
	struct db_alert a;
	unsigned limit;
	int rc, r;

	limit = f->limit < 1 ? 1 : f->limit > QUERY_LIMIT_MAX ? QUERY_LIMIT_MAX : f->limit;
	if (sqlite3_bind_int64(st, 1, f->after_id) != SQLITE_OK ||
		sqlite3_bind_int64(st, 2, f->agent) != SQLITE_OK ||
		bind_text_or_null(st, 3, f->level) != SQLITE_OK ||
		bind_text_or_null(st, 4, f->rule_id) != SQLITE_OK ||
		sqlite3_bind_int(st, 5, (int)limit) != SQLITE_OK) {
		r = store_fail(s, sqlite3_errcode(s->db));
		goto out;
	}
	for (;;) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE) {
			r = 0;
			break;
		}
		if (rc != SQLITE_ROW) {
			r = store_fail(s, rc);
			break;
		}
		alert_from_row(st, &a);
		r = cb(&a, data);
		if (r != 0) {
			if (r > 0)
				r = 0;
			break;
		}
	}
out:
	stmt_done(st);
	return r;
}

int
db_alerts_count(struct db *s, uint64_t *ret)
{
	int64_t n = 0;
	int r = stmt_int64(s, s->st[ST_ALERTS_COUNT], &n);

	if (r < 0)
		return r;
	*ret = (uint64_t)n;
	return 0;
}

/* ---- agents ---- */

/* Copies a text column into a fixed field, cut to fit. */
static void
copy_column(sqlite3_stmt *st, int col, char *dst, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	size_t n = t != NULL ? (size_t)sqlite3_column_bytes(st, col) : 0;

	if (n >= size)
		n = size - 1;
	if (n > 0)
		memcpy(dst, t, n);
	dst[n] = '\0';
}

static void
agent_from_row(sqlite3_stmt *st, struct db_agent *a)
{
	memset(a, 0, sizeof(*a));
	a->id = sqlite3_column_int64(st, 0);
	copy_column(st, 1, a->name, sizeof(a->name));
	copy_column(st, 2, a->serial, sizeof(a->serial));
	a->state = (enum agent_state)sqlite3_column_int(st, 3);
	a->enrolled_ns = sqlite3_column_int64(st, 4);
	a->last_seen_ns = sqlite3_column_int64(st, 5);
	a->revoked_ns = sqlite3_column_int64(st, 6);
	a->acked[0] = (uint64_t)sqlite3_column_int64(st, 7);
	a->acked[1] = (uint64_t)sqlite3_column_int64(st, 8);
	a->backlog = (uint64_t)sqlite3_column_int64(st, 9);
	copy_column(st, 10, a->addr, sizeof(a->addr));
}

/* Runs an UPDATE of one agent: -ENOENT when no row has that id. */
static int
agent_update(struct db *s, sqlite3_stmt *st)
{
	int r = stmt_run(s, st);

	if (r < 0)
		return r;
	return sqlite3_changes(s->db) > 0 ? 0 : -ENOENT;
}

static int
bind_fail(struct db *s, sqlite3_stmt *st)
{
	int r = store_fail(s, sqlite3_errcode(s->db));

	stmt_done(st);
	return r;
}

int
db_agent_create(struct db *s, const char *name, int64_t now_ns, int64_t *ret_id)
{
	sqlite3_stmt *st = s->st[ST_AGENT_CREATE];
	int r;

	if (name == NULL)
		return -EINVAL;
	if (strlen(name) >= sizeof(((struct db_agent *)0)->name))
		return -ENAMETOOLONG;
	if (sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC) != SQLITE_OK ||
		sqlite3_bind_int64(st, 2, now_ns) != SQLITE_OK)
		return bind_fail(s, st);
	r = stmt_run(s, st);
	if (r < 0)
		return r;
	*ret_id = sqlite3_last_insert_rowid(s->db);
	return 0;
}

int
db_agent_set_cert(struct db *s, int64_t id, const char *serial)
{
	sqlite3_stmt *st = s->st[ST_AGENT_SET_CERT];

	if (serial == NULL || strlen(serial) >= sizeof(((struct db_agent *)0)->serial))
		return -EINVAL;
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
		sqlite3_bind_text(st, 2, serial, -1, SQLITE_STATIC) != SQLITE_OK)
		return bind_fail(s, st);
	return agent_update(s, st);
}

int
db_agent_get(struct db *s, int64_t id, struct db_agent *ret)
{
	sqlite3_stmt *st = s->st[ST_AGENT_GET];
	int rc, r = 0;

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK)
		return bind_fail(s, st);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		agent_from_row(st, ret);
	else
		r = rc == SQLITE_DONE ? -ENOENT : store_fail(s, rc);
	stmt_done(st);
	return r;
}

/* Sets the state and last_seen_ns (and addr unless NULL). A revoked agent
 * stays revoked; revoking goes through db_agent_revoke() (-EINVAL here). */
int
db_agent_set_state(struct db *s, int64_t id, enum agent_state state, int64_t now_ns,
	const char *addr)
{
	sqlite3_stmt *st = s->st[ST_AGENT_SET_STATE];

	if (state != AGENT_LOST && state != AGENT_CONNECTED)
		return -EINVAL;
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
		sqlite3_bind_int(st, 2, (int)state) != SQLITE_OK ||
		sqlite3_bind_int64(st, 3, now_ns) != SQLITE_OK ||
		sqlite3_bind_text(st, 4, addr, -1, SQLITE_STATIC) != SQLITE_OK)
		return bind_fail(s, st);
	return agent_update(s, st);
}

int
db_agent_set_acked(struct db *s, int64_t id, int lane, uint64_t seq)
{
	sqlite3_stmt *st;

	if (lane < 0 || lane >= WIRE_LANES)
		return -EINVAL;
	st = s->st[lane == 0 ? ST_AGENT_SET_ACKED0 : ST_AGENT_SET_ACKED1];
	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
		sqlite3_bind_int64(st, 2, (int64_t)seq) != SQLITE_OK)
		return bind_fail(s, st);
	return agent_update(s, st);
}

int
db_agent_set_seen(struct db *s, int64_t id, int64_t now_ns, uint64_t backlog)
{
	sqlite3_stmt *st = s->st[ST_AGENT_SET_SEEN];

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
		sqlite3_bind_int64(st, 2, now_ns) != SQLITE_OK ||
		sqlite3_bind_int64(st, 3, (int64_t)backlog) != SQLITE_OK)
		return bind_fail(s, st);
	return agent_update(s, st);
}

int
db_agent_revoke(struct db *s, int64_t id, int64_t now_ns)
{
	sqlite3_stmt *st = s->st[ST_AGENT_REVOKE];
	struct db_agent a;
	int r;

	if (sqlite3_bind_int64(st, 1, id) != SQLITE_OK ||
		sqlite3_bind_int64(st, 2, now_ns) != SQLITE_OK)
		return bind_fail(s, st);
	r = agent_update(s, st);
	if (r != -ENOENT)
		return r;
	/* Nothing changed: no such agent, or it was revoked already. */
	r = db_agent_get(s, id, &a);
	return r < 0 ? r : -EALREADY;
}

int
db_agents_list(struct db *s, db_agent_cb cb, void *data)
{
	sqlite3_stmt *st = s->st[ST_AGENTS_LIST];
	struct db_agent a;
	int rc, r;

	for (;;) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE) {
			r = 0;
			break;
		}
		if (rc != SQLITE_ROW) {
			r = store_fail(s, rc);
			break;
		}
		agent_from_row(st, &a);
		r = cb(&a, data);
		if (r != 0) {
			if (r > 0)
				r = 0;
			break;
		}
	}
	stmt_done(st);
	return r;
}

const char *
agent_state_name(enum agent_state state)
{
	switch (state) {
	case AGENT_LOST:
		return "lost";
	case AGENT_CONNECTED:
		return "connected";
	case AGENT_REVOKED:
		return "revoked";
	}
	return "unknown";
}

/* ---- enrollment tokens ---- */

int
db_token_add(struct db *s, const uint8_t hash[32], int64_t created_ns, int64_t expires_ns)
{
	sqlite3_stmt *st = s->st[ST_TOKEN_ADD];

	if (sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC) != SQLITE_OK ||
		sqlite3_bind_int64(st, 2, created_ns) != SQLITE_OK ||
		sqlite3_bind_int64(st, 3, expires_ns) != SQLITE_OK)
		return bind_fail(s, st);
	return stmt_run(s, st);
}

int
db_token_use(struct db *s, const uint8_t hash[32], int64_t now_ns, int64_t agent_id)
{
	sqlite3_stmt *st = s->st[ST_TOKEN_USE];
	int rc, r;

	if (sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC) != SQLITE_OK ||
		sqlite3_bind_int64(st, 2, now_ns) != SQLITE_OK ||
		sqlite3_bind_int64(st, 3, agent_id) != SQLITE_OK)
		return bind_fail(s, st);
	r = stmt_run(s, st);
	if (r < 0)
		return r;
	if (sqlite3_changes(s->db) > 0)
		return 0;

	/* Not used now: say why. */
	st = s->st[ST_TOKEN_GET];
	if (sqlite3_bind_blob(st, 1, hash, 32, SQLITE_STATIC) != SQLITE_OK)
		return bind_fail(s, st);
	rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		r = sqlite3_column_type(st, 0) != SQLITE_NULL ? -EALREADY : -ETIME;
	else
		r = rc == SQLITE_DONE ? -ENOENT : store_fail(s, rc);
	stmt_done(st);
	return r;
}

/* ---- plain SQL for the other store files (db.h: db_exec, db_query) ---- */

static int
sql_statement(struct db *s, const char *sql, sqlite3_stmt **ret)
{
	sqlite3_stmt *st = NULL;
	int rc;

	for (size_t i = 0; i < s->ncache; i++) {
		if (s->cache[i].sql == sql) {
			*ret = s->cache[i].st;
			return 0;
		}
	}
	rc = sqlite3_prepare_v3(s->db, sql, -1,
		s->ncache < SQL_CACHE_MAX ? SQLITE_PREPARE_PERSISTENT : 0, &st, NULL);
	if (rc != SQLITE_OK)
		return store_fail(s, rc);
	if (s->ncache < SQL_CACHE_MAX) {
		s->cache[s->ncache].sql = sql;
		s->cache[s->ncache].st = st;
		s->ncache++;
	}
	*ret = st;
	return 0;
}

static void
sql_release(struct db *s, sqlite3_stmt *st)
{
	for (size_t i = 0; i < s->ncache; i++) {
		if (s->cache[i].st == st) {
			stmt_done(st);
			return;
		}
	}
	sqlite3_finalize(st);
}

static int
sql_bind(struct db *s, sqlite3_stmt *st, const char *binds, va_list ap)
{
	const char *t;
	const void *p;
	size_t n;
	int i = 1, rc = SQLITE_OK;

	for (const char *b = binds != NULL ? binds : ""; *b != '\0'; b++, i++) {
		switch (*b) {
		case 'i':
			rc = sqlite3_bind_int64(st, i, va_arg(ap, int64_t));
			break;
		case 't':
			t = va_arg(ap, const char *);
			rc = t != NULL ? sqlite3_bind_text(st, i, t, -1, SQLITE_STATIC) :
				sqlite3_bind_null(st, i);
			break;
		case 'b':
			p = va_arg(ap, const void *);
			n = va_arg(ap, size_t);
			if (n > INT_MAX)
				return -E2BIG;
			rc = sqlite3_bind_blob(st, i, p, (int)n, SQLITE_STATIC);
			break;
		case 'n':
			rc = sqlite3_bind_null(st, i);
			break;
		default:
			snprintf(s->errmsg, sizeof(s->errmsg), "bad bind letter '%c'", *b);
			return -EINVAL;
		}
		if (rc != SQLITE_OK)
			return store_fail(s, rc);
	}
	return 0;
}

int
db_exec(struct db *s, const char *sql, const char *binds, ...)
{
	sqlite3_stmt *st = NULL;
	va_list ap;
	int rc, r;

	r = sql_statement(s, sql, &st);
	if (r < 0)
		return r;
	va_start(ap, binds);
	r = sql_bind(s, st, binds, ap);
	va_end(ap);
	if (r == 0) {
		rc = sqlite3_step(st);
		if (rc != SQLITE_DONE && rc != SQLITE_ROW)
			r = store_fail(s, rc);
	}
	sql_release(s, st);
	return r;
}

int
db_query(struct db *s, const char *sql, db_row_cb cb, void *data, const char *binds, ...)
{
	struct db_row row;
	sqlite3_stmt *st = NULL;
	va_list ap;
	int rc, r;

	r = sql_statement(s, sql, &st);
	if (r < 0)
		return r;
	va_start(ap, binds);
	r = sql_bind(s, st, binds, ap);
	va_end(ap);
	row.st = st;
	while (r == 0) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_DONE)
			break;
		if (rc != SQLITE_ROW) {
			r = store_fail(s, rc);
			break;
		}
		r = cb(&row, data);
		if (r > 0) {
			r = 0;
			break;
		}
	}
	sql_release(s, st);
	return r;
}

int64_t
db_row_int(const struct db_row *row, int col)
{
	return sqlite3_column_int64(row->st, col);
}

const char *
db_row_text(const struct db_row *row, int col)
{
	return (const char *)sqlite3_column_text(row->st, col);
}

size_t
db_row_len(const struct db_row *row, int col)
{
	return (size_t)sqlite3_column_bytes(row->st, col);
}

bool
db_row_null(const struct db_row *row, int col)
{
	return sqlite3_column_type(row->st, col) == SQLITE_NULL;
}

int
db_changes(struct db *s)
{
	return sqlite3_changes(s->db);
}
