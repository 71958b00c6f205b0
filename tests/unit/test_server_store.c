/*
 * test_server_store.c - the centre's SQLite database: events go in once and
 * come back intact and in order through every filter, a duplicate (agent,
 * seq) is refused without spoiling the batch, agents and enrollment tokens
 * keep their rules, the API's reader sees what the engine committed while it
 * writes, a full disk loses no committed event, and alerts (schema version
 * 2, migrated from 1) go in and come back through their filters. Also prints the insert
 * rate (never fails on it). The full-disk test mounts a tmpfs (root only;
 * it skips otherwise).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/store/db.h"
#include "core/banned.h"

struct fixture {
	char		 dir[64];
	char		 path[96];	/* dir/centre.db */
	struct db	*store;		/* the writer */
};

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int
setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_server_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/centre.db", f->dir);
	if (db_open(f->path, false, &f->store) < 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char mnt[128];

	db_close(f->store);
	snprintf(mnt, sizeof(mnt), "%s/full", f->dir);
	(void)umount2(mnt, MNT_DETACH);		/* if the full-disk test stopped half-way */
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS | FTW_MOUNT);
	free(f);
	return 0;
}

static struct db_event
agent_event(int64_t agent, int lane, uint64_t seq, const char *type, const char *body)
{
	struct db_event ev = {
		.agent = agent,
		.lane = lane,
		.seq = seq,
		.time_ns = 1000 + (int64_t)seq,
		.received_ns = 5000 + (int64_t)seq,
		.type = type,
		.body = body,
		.body_len = strlen(body),
	};
	return ev;
}

static int
insert(struct db *s, int64_t agent, int lane, uint64_t seq, const char *type, int64_t time_ns)
{
	struct db_event ev = agent_event(agent, lane, seq, type, "{}");

	ev.time_ns = time_ns;
	return db_event_insert(s, &ev);
}

/* The rows a query returned: ids, and a copy of the first row. */
struct rows {
	size_t		 n;
	int64_t		 ids[10001];
	int64_t		 agents[10001];
	int		 lanes[10001];
	uint64_t	 seqs[10001];
	char		 type[32], path[128], body[512];
	struct db_event first;
	int		 stop_after;	/* > 0: return 1 after this many rows; < 0: return it */
};

static int
collect(const struct db_event *row, void *data)
{
	struct rows *rs = data;

	if (rs->n == 0) {
		rs->first = *row;
		snprintf(rs->type, sizeof(rs->type), "%s", row->type);
		snprintf(rs->path, sizeof(rs->path), "%s", row->path ? row->path : "(null)");
		assert_true(row->body_len < sizeof(rs->body));
		memcpy(rs->body, row->body, row->body_len);
		rs->body[row->body_len] = '\0';
		rs->first.type = rs->first.path = rs->first.body = NULL;	/* not valid later */
	}
	assert_true(rs->n < 10001);
	rs->ids[rs->n] = row->id;
	rs->agents[rs->n] = row->agent;
	rs->lanes[rs->n] = row->lane;
	rs->seqs[rs->n] = row->seq;
	rs->n++;
	if (rs->stop_after < 0)
		return rs->stop_after;
	if (rs->stop_after > 0 && rs->n == (size_t)rs->stop_after)
		return 1;
	return 0;
}

static struct rows *
query(struct db *s, const struct db_event_filter *flt, int expect_r)
{
	struct rows *rs = calloc(1, sizeof(*rs));

	assert_int_equal(db_events_query(s, flt, collect, rs), expect_r);
	return rs;
}

static uint64_t
count(struct db *s, int64_t agent)
{
	uint64_t n = 12345;

	assert_int_equal(db_events_count(s, agent, &n), 0);
	return n;
}

static bool
have_sqlite3_cli(void)
{
	return system("command -v sqlite3 >/dev/null 2>&1") == 0;
}

/* ---- schema and files ---- */

static void
new_database_has_schema_wal_and_private_files(void **state)
{
	struct fixture *f = *state;
	unsigned char hdr[100];
	char wal[128], cmd[256], schema[8192];
	struct stat st;
	size_t n;
	FILE *p;
	int fd;

	assert_int_equal(stat(f->path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(stat(wal, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);

	/* After close the header is in the main file: WAL format, schema version 4. */
	db_close(f->store);
	f->store = NULL;
	fd = open(f->path, O_RDONLY | O_CLOEXEC);
	assert_true(fd >= 0);
	assert_int_equal(read(fd, hdr, sizeof(hdr)), (ssize_t)sizeof(hdr));
	close(fd);
	assert_memory_equal(hdr, "SQLite format 3", 16);
	assert_int_equal(hdr[18], 2);		/* write version 2: WAL */
	assert_int_equal(hdr[19], 2);
	assert_int_equal((hdr[60] << 24) | (hdr[61] << 16) | (hdr[62] << 8) | hdr[63], 4);

	/* A reader opens it with no writer around (no -wal file left). */
	assert_int_equal(stat(wal, &st), -1);
	assert_int_equal(db_open(f->path, true, &f->store), 0);
	assert_int_equal(count(f->store, 0), 0);
	db_close(f->store);
	f->store = NULL;

	/* Reopening an existing database keeps its data and version. */
	assert_int_equal(db_open(f->path, false, &f->store), 0);
	assert_int_equal(count(f->store, 0), 0);

	if (!have_sqlite3_cli()) {
		fprintf(stderr, "note: no sqlite3 command, index names not checked\n");
		return;
	}
	snprintf(cmd, sizeof(cmd), "sqlite3 -readonly '%s' .schema", f->path);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(schema, 1, sizeof(schema) - 1, p);
	schema[n] = '\0';
	pclose(p);
	assert_non_null(strstr(schema, "CREATE UNIQUE INDEX events_agent_seq ON events(agent, seq)"));
	assert_non_null(strstr(schema, "events(type, id)"));
	assert_non_null(strstr(schema, "events(time_ns)"));
	assert_non_null(strstr(schema, "CREATE TABLE tokens"));
	assert_non_null(strstr(schema, "AUTOINCREMENT"));
	assert_non_null(strstr(schema, "CREATE TABLE alerts"));
	assert_non_null(strstr(schema, "alerts(agent, id)"));
}

static void
newer_schema_is_refused(void **state)
{
	struct fixture *f = *state;
	struct db *s = NULL;
	char cmd[256];

	if (!have_sqlite3_cli())
		skip();
	db_close(f->store);
	f->store = NULL;
	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' 'PRAGMA user_version = 5'", f->path);
	assert_int_equal(system(cmd), 0);
	assert_int_equal(db_open(f->path, false, &s), -ENOTSUP);
	assert_int_equal(db_open(f->path, true, &s), -ENOTSUP);
	assert_null(s);
}

static void
reader_open_of_missing_file_is_enoent(void **state)
{
	struct fixture *f = *state;
	struct db *s = NULL;
	char path[128];
	struct stat st;

	snprintf(path, sizeof(path), "%s/absent.db", f->dir);
	assert_int_equal(db_open(path, true, &s), -ENOENT);
	assert_null(s);
	assert_int_equal(stat(path, &st), -1);		/* and it made nothing */
	snprintf(path, sizeof(path), "%s/no/such/dir.db", f->dir);
	assert_int_equal(db_open(path, false, &s), -ENOENT);
}

static void
file_that_is_not_a_database_is_eio(void **state)
{
	struct fixture *f = *state;
	struct db *s = NULL;
	char path[128];
	char junk[200];
	int fd;

	memset(junk, 'j', sizeof(junk));
	snprintf(path, sizeof(path), "%s/junk.db", f->dir);
	fd = open(path, O_WRONLY | O_CREAT | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, junk, sizeof(junk)), (ssize_t)sizeof(junk));
	close(fd);
	assert_int_equal(db_open(path, false, &s), -EIO);
	assert_null(s);
}

/* ---- events ---- */

static void
event_round_trips_every_field(void **state)
{
	struct fixture *f = *state;
	const char *body = "{\"type\":\"tamper\",\"path\":\"/srv/www/新闻 index.html\","
		"\"sha256\":\"00ff\",\"note\":\"tab\\tquote\\\"\"}";
	struct db_event ev = agent_event(7, 1, 42, "tamper", body);
	struct db_event_filter flt = { .limit = 10 };
	struct rows *rs;

	ev.path = "/srv/www/新闻 index.html";
	ev.time_ns = 1763783378123456789;
	ev.received_ns = 1763783378223456789;
	assert_int_equal(db_begin(f->store), 0);
	assert_int_equal(db_event_insert(f->store, &ev), 0);
	assert_int_equal(db_commit(f->store), 0);

	rs = query(f->store, &flt, 0);
	assert_int_equal(rs->n, 1);
	assert_int_equal(rs->first.id, 1);
	assert_int_equal(rs->first.agent, 7);
	assert_int_equal(rs->first.lane, 1);
	assert_int_equal(rs->first.seq, 42);
	assert_int_equal(rs->first.time_ns, 1763783378123456789);
	assert_int_equal(rs->first.received_ns, 1763783378223456789);
	assert_string_equal(rs->type, "tamper");
	assert_string_equal(rs->path, "/srv/www/新闻 index.html");
	assert_int_equal(rs->first.body_len, strlen(body));
	assert_string_equal(rs->body, body);
	assert_int_equal(db_events_max_id(f->store), 1);
	free(rs);
}

static void
body_is_stored_by_length_not_by_nul(void **state)
{
	struct fixture *f = *state;
	struct db_event ev = agent_event(1, 0, 1, "x", "{\"a\":1}trailing junk");
	struct db_event_filter flt = { .limit = 10 };
	struct rows *rs;

	ev.body_len = 7;		/* only {"a":1} is the event */
	assert_int_equal(db_event_insert(f->store, &ev), 0);	/* autocommit works too */
	rs = query(f->store, &flt, 0);
	assert_int_equal(rs->n, 1);
	assert_int_equal(rs->first.body_len, 7);
	assert_string_equal(rs->body, "{\"a\":1}");
	assert_string_equal(rs->path, "(null)");		/* no path: NULL */
	free(rs);
}

static void
duplicate_seq_is_eexist_and_batch_still_commits(void **state)
{
	struct fixture *f = *state;
	struct db_event_filter flt = { .limit = 10 };
	struct rows *rs;

	assert_int_equal(db_begin(f->store), 0);
	assert_int_equal(insert(f->store, 1, 0, 1, "a", 10), 0);
	assert_int_equal(insert(f->store, 1, 0, 2, "a", 10), 0);
	assert_int_equal(insert(f->store, 1, 1, 2, "a", 10), -EEXIST);	/* seq is per agent */
	assert_int_equal(insert(f->store, 2, 0, 2, "a", 10), 0);	/* other agent: fine */
	assert_int_equal(insert(f->store, 1, 0, 3, "a", 10), 0);
	assert_int_equal(db_commit(f->store), 0);

	/* And across transactions. */
	assert_int_equal(db_begin(f->store), 0);
	assert_int_equal(insert(f->store, 1, 0, 1, "a", 10), -EEXIST);
	assert_int_equal(insert(f->store, 1, 0, 4, "a", 10), 0);
	assert_int_equal(db_commit(f->store), 0);

	assert_int_equal(count(f->store, 0), 5);
	assert_int_equal(count(f->store, 1), 4);
	assert_int_equal(count(f->store, 2), 1);
	rs = query(f->store, &flt, 0);
	assert_int_equal(rs->n, 5);
	assert_int_equal(rs->seqs[0], 1);
	assert_int_equal(rs->seqs[1], 2);
	assert_int_equal(rs->agents[2], 2);
	assert_int_equal(rs->seqs[3], 3);
	assert_int_equal(rs->seqs[4], 4);
	free(rs);
	assert_string_not_equal(db_errmsg(f->store), "no error");	/* said what failed */
}

static void
server_events_may_share_null_seq(void **state)
{
	struct fixture *f = *state;
	struct db_event_filter flt = { .limit = 10 };
	struct rows *rs;

	assert_int_equal(db_begin(f->store), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(insert(f->store, 5, -1, 0, "agent_lost", 10 + i), 0);
	/* seq given with lane -1 is not stored either */
	assert_int_equal(insert(f->store, 5, -1, 99, "agent_lost", 20), 0);
	assert_int_equal(insert(f->store, 5, 0, 99, "x", 20), 0);		/* still free */
	assert_int_equal(db_commit(f->store), 0);

	rs = query(f->store, &flt, 0);
	assert_int_equal(rs->n, 5);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(rs->lanes[i], -1);
		assert_int_equal(rs->seqs[i], 0);
	}
	assert_int_equal(rs->lanes[4], 0);
	assert_int_equal(rs->seqs[4], 99);
	free(rs);
}

static void
bad_events_are_einval(void **state)
{
	struct fixture *f = *state;
	struct db_event ev = agent_event(1, 0, 1, "x", "{}");

	ev.type = NULL;
	assert_int_equal(db_event_insert(f->store, &ev), -EINVAL);
	ev.type = "x";
	ev.lane = WIRE_LANES;
	assert_int_equal(db_event_insert(f->store, &ev), -EINVAL);
	ev.lane = 0;
	ev.body = NULL;
	assert_int_equal(db_event_insert(f->store, &ev), -EINVAL);
	ev.body_len = 0;
	assert_int_equal(db_event_insert(f->store, &ev), 0);	/* empty body */
	assert_int_equal(count(f->store, 0), 1);
}

static void
filters_select_by_agent_type_and_time(void **state)
{
	struct fixture *f = *state;
	struct db_event_filter flt = { .limit = 100 };
	struct rows *rs;

	/* 40 rows: agents 1 and 2 alternate, types a/b/c in turn, time 100..139 */
	assert_int_equal(db_begin(f->store), 0);
	for (int i = 0; i < 40; i++)
		assert_int_equal(insert(f->store, 1 + i % 2, 0, (uint64_t)i,
			(const char *[]){ "a", "b", "c" }[i % 3], 100 + i), 0);
	assert_int_equal(db_commit(f->store), 0);

	flt.agent = 2;
	rs = query(f->store, &flt, 0);
	assert_int_equal(rs->n, 20);
	for (size_t i = 0; i < rs->n; i++)
		assert_int_equal(rs->agents[i], 2);
	free(rs);

	flt.agent = 0;
	flt.type = "b";
	rs = query(f->store, &flt, 0);
	assert_int_equal(rs->n, 13);		/* i = 1, 4, ..., 37 */
	assert_int_equal(rs->seqs[0], 1);
	assert_int_equal(rs->seqs[12], 37);
	free(rs);

	flt.type = NULL;
	flt.since_ns = 110;
	flt.until_ns = 120;			/* [110, 120) */
	rs = query(f->store, &flt, 0);
	assert_int_equal(rs->n, 10);
	assert_int_equal(rs->seqs[0], 10);
	assert_int_equal(rs->seqs[9], 19);
	free(rs);

	flt.until_ns = 0;
	rs = query(f->store, &flt, 0);
	assert_int_equal(rs->n, 30);
	free(rs);

	flt.since_ns = 0;
	flt.until_ns = 105;
	rs = query(f->store, &flt, 0);
	assert_int_equal(rs->n, 5);
	free(rs);

	/* All at once: agent 1 (even i), type a (i % 3 == 0), time [100, 130), id > 1 */
	flt = (struct db_event_filter){ .after_id = 1, .since_ns = 100, .until_ns = 130,
		.agent = 1, .type = "a", .limit = 100 };
	rs = query(f->store, &flt, 0);
	assert_int_equal(rs->n, 4);		/* i = 6, 12, 18, 24 */
	assert_int_equal(rs->seqs[0], 6);
	assert_int_equal(rs->seqs[3], 24);
	free(rs);

	/* A type that is a SQL fragment is only a value. */
	flt = (struct db_event_filter){ .type = "a' OR '1'='1", .limit = 100 };
	rs = query(f->store, &flt, 0);
	assert_int_equal(rs->n, 0);
	free(rs);
}

static void
cursor_pages_every_row_exactly_once(void **state)
{
	struct fixture *f = *state;
	struct db_event_filter flt = { .limit = 1000 };
	static unsigned char seen[2501];
	size_t pages[4] = { 0 }, total = 0;
	struct rows *rs;

	memset(seen, 0, sizeof(seen));
	assert_int_equal(db_begin(f->store), 0);
	for (int i = 1; i <= 2500; i++)
		assert_int_equal(insert(f->store, 3, 1, (uint64_t)i, "t", i), 0);
	assert_int_equal(db_commit(f->store), 0);

	for (int page = 0; page < 4; page++) {
		rs = query(f->store, &flt, 0);
		pages[page] = rs->n;
		for (size_t i = 0; i < rs->n; i++) {
			assert_true(rs->ids[i] > flt.after_id);
			assert_true(rs->seqs[i] >= 1 && rs->seqs[i] <= 2500);
			assert_int_equal(seen[rs->seqs[i]], 0);
			seen[rs->seqs[i]] = 1;
			if (i > 0)
				assert_true(rs->ids[i] > rs->ids[i - 1]);
			flt.after_id = rs->ids[i];
		}
		total += rs->n;
		free(rs);
	}
	assert_int_equal(pages[0], 1000);
	assert_int_equal(pages[1], 1000);
	assert_int_equal(pages[2], 500);
	assert_int_equal(pages[3], 0);
	assert_int_equal(total, 2500);
}

static void
limit_is_clamped_and_callback_can_stop(void **state)
{
	struct fixture *f = *state;
	struct db_event_filter flt = { .limit = 0 };
	struct rows *rs;

	assert_int_equal(db_begin(f->store), 0);
	for (int i = 1; i <= 10001; i++)
		assert_int_equal(insert(f->store, 1, 0, (uint64_t)i, "t", i), 0);
	assert_int_equal(db_commit(f->store), 0);

	rs = query(f->store, &flt, 0);
	assert_int_equal(rs->n, 1);
	free(rs);
	flt.limit = 50000;
	rs = query(f->store, &flt, 0);
	assert_int_equal(rs->n, 10000);
	free(rs);

	/* > 0 stops with 0; < 0 stops with that error */
	rs = calloc(1, sizeof(*rs));
	rs->stop_after = 3;
	assert_int_equal(db_events_query(f->store, &flt, collect, rs), 0);
	assert_int_equal(rs->n, 3);
	rs->n = 0;
	rs->stop_after = -ECANCELED;
	assert_int_equal(db_events_query(f->store, &flt, collect, rs), -ECANCELED);
	assert_int_equal(rs->n, 1);
	free(rs);

	/* The statement was reset: a writer can commit and a fresh query sees it. */
	assert_int_equal(insert(f->store, 1, 0, 20000, "t", 1), 0);
	assert_int_equal(count(f->store, 0), 10002);
	assert_int_equal(db_events_max_id(f->store), 10002);
}

static void
empty_store_counts_zero(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(count(f->store, 0), 0);
	assert_int_equal(count(f->store, 9), 0);
	assert_int_equal(db_events_max_id(f->store), 0);
}

static void
rollback_drops_the_batch(void **state)
{
	struct fixture *f = *state;

	db_rollback(f->store);		/* outside a transaction: nothing */
	assert_int_equal(db_begin(f->store), 0);
	assert_int_equal(insert(f->store, 1, 0, 1, "a", 1), 0);
	db_rollback(f->store);
	assert_int_equal(count(f->store, 0), 0);
	assert_int_equal(db_begin(f->store), 0);		/* usable again */
	assert_int_equal(insert(f->store, 1, 0, 1, "a", 1), 0);
	assert_int_equal(db_commit(f->store), 0);
	assert_int_equal(count(f->store, 0), 1);
	assert_int_equal(db_commit(f->store), -EIO);	/* no transaction */
}

/* ---- agents ---- */

static void
agent_lifecycle(void **state)
{
	struct fixture *f = *state;
	struct db_agent a;
	int64_t id = 0, id2 = 0;

	assert_int_equal(db_agent_create(f->store, "web-01", 1000, &id), 0);
	assert_int_equal(id, 1);
	assert_int_equal(db_agent_get(f->store, id, &a), 0);
	assert_int_equal(a.id, 1);
	assert_string_equal(a.name, "web-01");
	assert_string_equal(a.serial, "");
	assert_int_equal(a.state, AGENT_LOST);
	assert_int_equal(a.enrolled_ns, 1000);
	assert_int_equal(a.last_seen_ns, 0);
	assert_int_equal(a.revoked_ns, 0);
	assert_int_equal(a.acked[0], 0);
	assert_int_equal(a.acked[1], 0);
	assert_int_equal(a.backlog, 0);
	assert_string_equal(a.addr, "");

	assert_int_equal(db_agent_set_cert(f->store, id, "0a1b2c3d4e5f"), 0);
	assert_int_equal(db_agent_set_state(f->store, id, AGENT_CONNECTED, 2000,
		"[2001:db8::1]:40123"), 0);
	assert_int_equal(db_agent_set_acked(f->store, id, 0, 17), 0);
	assert_int_equal(db_agent_set_acked(f->store, id, 1, UINT64_MAX - 1), 0);
	assert_int_equal(db_agent_set_seen(f->store, id, 3000, 555), 0);
	assert_int_equal(db_agent_get(f->store, id, &a), 0);
	assert_string_equal(a.serial, "0a1b2c3d4e5f");
	assert_int_equal(a.state, AGENT_CONNECTED);
	assert_string_equal(a.addr, "[2001:db8::1]:40123");
	assert_int_equal(a.acked[0], 17);
	assert_true(a.acked[1] == UINT64_MAX - 1);
	assert_int_equal(a.last_seen_ns, 3000);
	assert_int_equal(a.backlog, 555);

	/* addr NULL keeps the last one */
	assert_int_equal(db_agent_set_state(f->store, id, AGENT_LOST, 4000, NULL), 0);
	assert_int_equal(db_agent_get(f->store, id, &a), 0);
	assert_int_equal(a.state, AGENT_LOST);
	assert_int_equal(a.last_seen_ns, 4000);
	assert_string_equal(a.addr, "[2001:db8::1]:40123");

	assert_int_equal(db_agent_revoke(f->store, id, 5000), 0);
	assert_int_equal(db_agent_revoke(f->store, id, 6000), -EALREADY);
	/* a late disconnect does not un-revoke it */
	assert_int_equal(db_agent_set_state(f->store, id, AGENT_CONNECTED, 7000, NULL), 0);
	assert_int_equal(db_agent_get(f->store, id, &a), 0);
	assert_int_equal(a.state, AGENT_REVOKED);
	assert_int_equal(a.revoked_ns, 5000);
	assert_string_equal(agent_state_name(a.state), "revoked");
	assert_string_equal(agent_state_name(AGENT_LOST), "lost");
	assert_string_equal(agent_state_name(AGENT_CONNECTED), "connected");

	/* ids are never reused */
	assert_int_equal(db_agent_create(f->store, "web-02", 8000, &id2), 0);
	assert_int_equal(id2, 2);
}

static void
unknown_agent_is_enoent(void **state)
{
	struct fixture *f = *state;
	struct db_agent a;

	assert_int_equal(db_agent_get(f->store, 99, &a), -ENOENT);
	assert_int_equal(db_agent_set_cert(f->store, 99, "ab"), -ENOENT);
	assert_int_equal(db_agent_set_state(f->store, 99, AGENT_CONNECTED, 1, "x"), -ENOENT);
	assert_int_equal(db_agent_set_acked(f->store, 99, 0, 1), -ENOENT);
	assert_int_equal(db_agent_set_seen(f->store, 99, 1, 1), -ENOENT);
	assert_int_equal(db_agent_revoke(f->store, 99, 1), -ENOENT);
}

static void
bad_agent_arguments_are_refused(void **state)
{
	struct fixture *f = *state;
	char name[200];
	int64_t id = 0;

	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_int_equal(db_agent_create(f->store, name, 1, &id), -ENAMETOOLONG);
	assert_int_equal(db_agent_create(f->store, "ok", 1, &id), 0);
	assert_int_equal(db_agent_set_cert(f->store, id, name), -EINVAL);
	assert_int_equal(db_agent_set_acked(f->store, id, WIRE_LANES, 1), -EINVAL);
	assert_int_equal(db_agent_set_acked(f->store, id, -1, 1), -EINVAL);
	assert_int_equal(db_agent_set_state(f->store, id, AGENT_REVOKED, 1, NULL), -EINVAL);
}

struct names {
	int	 n;
	int64_t	 ids[8];
	char	 names[8][128];
	int	 stop_after;
};

static int
collect_agent(const struct db_agent *a, void *data)
{
	struct names *ns = data;

	ns->ids[ns->n] = a->id;
	snprintf(ns->names[ns->n], sizeof(ns->names[0]), "%s", a->name);
	ns->n++;
	return ns->n == ns->stop_after ? 1 : 0;
}

static void
agents_list_in_id_order(void **state)
{
	struct fixture *f = *state;
	struct names ns = { 0 };
	int64_t id;

	assert_int_equal(db_agents_list(f->store, collect_agent, &ns), 0);
	assert_int_equal(ns.n, 0);
	assert_int_equal(db_agent_create(f->store, "zeta", 1, &id), 0);
	assert_int_equal(db_agent_create(f->store, "alpha", 2, &id), 0);
	assert_int_equal(db_agent_create(f->store, "mid", 3, &id), 0);
	assert_int_equal(db_agent_revoke(f->store, 2, 4), 0);	/* still listed */
	assert_int_equal(db_agents_list(f->store, collect_agent, &ns), 0);
	assert_int_equal(ns.n, 3);
	assert_int_equal(ns.ids[0], 1);
	assert_string_equal(ns.names[0], "zeta");
	assert_int_equal(ns.ids[1], 2);
	assert_string_equal(ns.names[2], "mid");

	ns = (struct names){ .stop_after = 2 };
	assert_int_equal(db_agents_list(f->store, collect_agent, &ns), 0);
	assert_int_equal(ns.n, 2);
}

/* ---- tokens ---- */

static void
token_is_used_once_before_it_expires(void **state)
{
	struct fixture *f = *state;
	uint8_t h1[32], h2[32], h3[32];

	memset(h1, 0x11, sizeof(h1));
	memset(h2, 0x22, sizeof(h2));
	memset(h3, 0x33, sizeof(h3));
	assert_int_equal(db_token_add(f->store, h1, 100, 1000), 0);
	assert_int_equal(db_token_add(f->store, h2, 100, 1000), 0);
	assert_int_equal(db_token_add(f->store, h1, 100, 2000), -EEXIST);

	assert_int_equal(db_token_use(f->store, h3, 500, 1), -ENOENT);
	assert_int_equal(db_token_use(f->store, h1, 500, 1), 0);
	assert_int_equal(db_token_use(f->store, h1, 600, 2), -EALREADY);
	assert_int_equal(db_token_use(f->store, h1, 5000, 2), -EALREADY);	/* used wins */
	assert_int_equal(db_token_use(f->store, h2, 1000, 3), -ETIME);	/* at expiry */
	assert_int_equal(db_token_use(f->store, h2, 999, 3), 0);
}

/* ---- the reader ---- */

static void
reader_sees_committed_rows_while_writer_writes(void **state)
{
	struct fixture *f = *state;
	struct db *rd = NULL;
	struct db_event_filter flt = { .limit = 100 };
	struct db_agent a;
	struct rows *rs;
	int64_t id;

	assert_int_equal(db_begin(f->store), 0);
	for (int i = 1; i <= 10; i++)
		assert_int_equal(insert(f->store, 1, 0, (uint64_t)i, "t", i), 0);
	assert_int_equal(db_agent_create(f->store, "web-01", 1, &id), 0);
	assert_int_equal(db_commit(f->store), 0);

	/* The writer holds an open transaction while the reader opens and reads. */
	assert_int_equal(db_begin(f->store), 0);
	for (int i = 11; i <= 15; i++)
		assert_int_equal(insert(f->store, 1, 0, (uint64_t)i, "t", i), 0);
	assert_int_equal(db_agent_set_state(f->store, id, AGENT_CONNECTED, 2, "a"), 0);

	assert_int_equal(db_open(f->path, true, &rd), 0);
	assert_int_equal(count(rd, 0), 10);
	rs = query(rd, &flt, 0);
	assert_int_equal(rs->n, 10);
	free(rs);
	assert_int_equal(db_agent_get(rd, id, &a), 0);
	assert_int_equal(a.state, AGENT_LOST);

	/* A snapshot: a commit in the middle is not seen until the reader's end. */
	assert_int_equal(db_begin(rd), 0);
	assert_int_equal(count(rd, 0), 10);
	assert_int_equal(db_commit(f->store), 0);
	assert_int_equal(count(rd, 0), 10);
	assert_int_equal(db_commit(rd), 0);
	assert_int_equal(count(rd, 0), 15);
	assert_int_equal(db_events_max_id(rd), 15);
	assert_int_equal(db_agent_get(rd, id, &a), 0);
	assert_int_equal(a.state, AGENT_CONNECTED);

	/* The reader cannot write. */
	assert_int_equal(insert(rd, 1, 0, 99, "t", 1), -EROFS);
	assert_int_equal(db_agent_create(rd, "x", 1, &id), -EROFS);
	db_close(rd);
}

/* ---- a full disk ---- */

static void
full_disk_is_enospc_and_loses_no_committed_row(void **state)
{
	struct fixture *f = *state;
	char mnt[128], path[160], body[448];
	struct db *s = NULL;
	uint64_t committed = 0, seq = 0, n = 0;
	int r = 0;

	snprintf(mnt, sizeof(mnt), "%s/full", f->dir);
	assert_int_equal(mkdir(mnt, 0700), 0);
	if (mount("tmpfs", mnt, "tmpfs", MS_NOSUID | MS_NODEV, "size=1m,mode=0700") < 0) {
		fprintf(stderr, "skip: cannot mount a tmpfs (%s): full disk not tested\n",
			strerror(errno));
		skip();
	}
	snprintf(path, sizeof(path), "%s/centre.db", mnt);
	memset(body, 'x', sizeof(body));
	body[0] = '{';
	body[sizeof(body) - 2] = '}';
	body[sizeof(body) - 1] = '\0';
	assert_int_equal(db_open(path, false, &s), 0);

	for (int batch = 0; batch < 10000 && r == 0; batch++) {
		assert_int_equal(db_begin(s), 0);
		for (int i = 0; i < 20 && r == 0; i++) {
			struct db_event ev = agent_event(1, 0, ++seq, "bulk", body);

			r = db_event_insert(s, &ev);
		}
		if (r == 0)
			r = db_commit(s);
		if (r == 0)
			committed += 20;
		else
			db_rollback(s);
	}
	assert_int_equal(r, -ENOSPC);
	assert_true(committed > 0);
	fprintf(stderr, "full disk: %llu events committed, then %s\n",
		(unsigned long long)committed, db_errmsg(s));
	db_close(s);
	s = NULL;

	/* Everything committed is there after a restart, on the still-full disk. */
	assert_int_equal(db_open(path, true, &s), 0);
	assert_int_equal(db_events_count(s, 0, &n), 0);
	assert_int_equal(n, committed);
	db_close(s);
	s = NULL;
	assert_int_equal(db_open(path, false, &s), 0);
	assert_int_equal(db_events_count(s, 0, &n), 0);
	assert_int_equal(n, committed);
	db_close(s);

	assert_int_equal(umount2(mnt, MNT_DETACH), 0);
}

/* ---- how fast ---- */

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
insert_rate_is_printed(void **state)
{
	struct fixture *f = *state;
	enum { TOTAL = 100000, BATCH = 2000 };
	char body[512];
	double t0, t;
	uint64_t seq = 0, n = 0;

	t0 = now_s();
	for (int b = 0; b < TOTAL / BATCH; b++) {
		assert_int_equal(db_begin(f->store), 0);
		for (int i = 0; i < BATCH; i++) {
			struct db_event ev;
			int len;

			seq++;
			len = snprintf(body, sizeof(body),
				"{\"type\":\"file_modified\",\"time_ns\":%llu,\"host\":\"web-01\","
				"\"path\":\"/srv/www/html/assets/img/banner-%llu.png\",\"sha256\":"
				"\"9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08\","
				"\"size\":%llu,\"mode\":\"0644\",\"uid\":33,\"gid\":33,\"rule\":"
				"\"web-content\",\"severity\":\"high\",\"detail\":\"content changed "
				"outside a deployment window\",\"process\":{\"pid\":4211,\"exe\":"
				"\"/usr/sbin/nginx\",\"cmdline\":\"nginx: worker process\"},\"labels\""
				":[\"prod\",\"dmz\",\"web\"]}",
				(unsigned long long)(1763783378000000000ULL + seq),
				(unsigned long long)seq, (unsigned long long)(seq * 37 % 100000));
			ev = agent_event(1 + (int64_t)(seq % 4), (int)(seq % 2), seq,
				"file_modified", body);
			ev.body_len = (size_t)len;
			ev.path = "/srv/www/html/assets/img/banner.png";
			assert_int_equal(db_event_insert(f->store, &ev), 0);
		}
		assert_int_equal(db_commit(f->store), 0);
	}
	t = now_s() - t0;
	assert_int_equal(db_events_count(f->store, 0, &n), 0);
	assert_int_equal(n, TOTAL);
	fprintf(stderr, "insert rate: %d events (~%zu-byte bodies) in %d-row transactions: "
		"%.3f s, %.0f events/s\n", TOTAL, strlen(body), BATCH, t, TOTAL / t);
}

/* ---- alerts ---- */

struct alert_rows {
	size_t		 n;
	int64_t		 ids[64];
	struct db_alert	 first;
	char		 rule_id[64], title[64], level[16], group[64], matched[128], line[256];
	bool		 group_null, matched_null, line_null;
};

static int
collect_alert(const struct db_alert *a, void *data)
{
	struct alert_rows *rs = data;

	if (rs->n == 0) {
		rs->first = *a;
		snprintf(rs->rule_id, sizeof(rs->rule_id), "%s", a->rule_id);
		snprintf(rs->title, sizeof(rs->title), "%s", a->title);
		snprintf(rs->level, sizeof(rs->level), "%s", a->level);
		rs->group_null = a->group == NULL;
		rs->matched_null = a->matched == NULL;
		rs->line_null = a->line == NULL;
		snprintf(rs->group, sizeof(rs->group), "%s", a->group != NULL ? a->group : "");
		snprintf(rs->matched, sizeof(rs->matched), "%s", a->matched != NULL ? a->matched : "");
		snprintf(rs->line, sizeof(rs->line), "%s", a->line != NULL ? a->line : "");
	}
	if (rs->n < 64)
		rs->ids[rs->n] = a->id;
	rs->n++;
	return 0;
}

static struct db_alert
an_alert(const char *rule, const char *level, int64_t agent, int64_t event_id)
{
	struct db_alert a = {
		.rule_id = rule, .title = "A title 标题", .level = level, .agent = agent,
		.event_id = event_id, .time_ns = 1763783378123456789, .received_ns = 1763783379000000000,
		.count = 1,
	};
	return a;
}

static void
alert_round_trips_every_field(void **state)
{
	struct fixture *f = *state;
	struct db_event ev = agent_event(3, 0, 1, "log", "{\"type\":\"log\",\"line\":\"x\"}");
	struct db_alert a = an_alert("rule-1", "high", 3, 0);
	struct db_alert_filter flt = { .limit = 10 };
	struct alert_rows rs = { 0 };
	int64_t event_id = 0, alert_id = 0;
	uint64_t n = 99;

	assert_int_equal(db_alerts_count(f->store, &n), 0);
	assert_int_equal(n, 0);
	assert_int_equal(db_begin(f->store), 0);
	assert_int_equal(db_event_insert(f->store, &ev), 0);
	event_id = db_last_insert_id(f->store);
	assert_int_equal(event_id, 1);
	a.event_id = event_id;
	a.count = 12;
	a.correlation = true;
	a.group = "src_ip=198.51.100.23";
	a.matched = "cs-uri-query=id=1+union+select\nc-ip=203.0.113.7";
	a.line = "Nov 22 10:01:10 web-2 sshd[4242]: Failed password";
	assert_int_equal(db_alert_insert(f->store, &a, &alert_id), 0);
	assert_int_equal(alert_id, 1);
	assert_int_equal(db_commit(f->store), 0);

	assert_int_equal(db_alerts_query(f->store, &flt, collect_alert, &rs), 0);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.first.id, 1);
	assert_string_equal(rs.rule_id, "rule-1");
	assert_string_equal(rs.title, "A title 标题");
	assert_string_equal(rs.level, "high");
	assert_int_equal(rs.first.agent, 3);
	assert_int_equal(rs.first.event_id, 1);
	assert_int_equal(rs.first.time_ns, 1763783378123456789);
	assert_int_equal(rs.first.received_ns, 1763783379000000000);
	assert_int_equal(rs.first.count, 12);
	assert_true(rs.first.correlation);
	assert_string_equal(rs.group, "src_ip=198.51.100.23");
	assert_string_equal(rs.matched, "cs-uri-query=id=1+union+select\nc-ip=203.0.113.7");
	assert_string_equal(rs.line, "Nov 22 10:01:10 web-2 sshd[4242]: Failed password");
	assert_int_equal(db_alerts_count(f->store, &n), 0);
	assert_int_equal(n, 1);
}

static void
alert_optional_fields_come_back_null(void **state)
{
	struct fixture *f = *state;
	struct db_alert a = an_alert("rule-2", "low", 0, 0);
	struct db_alert_filter flt = { .limit = 10 };
	struct alert_rows rs = { 0 };

	assert_int_equal(db_alert_insert(f->store, &a, NULL), 0);	/* autocommit */
	assert_int_equal(db_alerts_query(f->store, &flt, collect_alert, &rs), 0);
	assert_int_equal(rs.n, 1);
	assert_int_equal(rs.first.event_id, 0);
	assert_int_equal(rs.first.agent, 0);
	assert_false(rs.first.correlation);
	assert_true(rs.group_null);
	assert_true(rs.matched_null);
	assert_true(rs.line_null);
}

static void
alert_without_rule_title_or_level_is_einval(void **state)
{
	struct fixture *f = *state;
	struct db_alert a = an_alert("r", "high", 1, 0);
	uint64_t n = 99;

	a.rule_id = NULL;
	assert_int_equal(db_alert_insert(f->store, &a, NULL), -EINVAL);
	a = an_alert("r", "high", 1, 0);
	a.title = NULL;
	assert_int_equal(db_alert_insert(f->store, &a, NULL), -EINVAL);
	a = an_alert("r", "high", 1, 0);
	a.level = NULL;
	assert_int_equal(db_alert_insert(f->store, &a, NULL), -EINVAL);
	assert_int_equal(db_alerts_count(f->store, &n), 0);
	assert_int_equal(n, 0);
}

static void
alert_filters_and_cursor(void **state)
{
	struct fixture *f = *state;
	struct db_alert_filter flt = { .limit = 100 };
	struct alert_rows rs;
	static const char *const levels[] = { "low", "high", "critical" };

	/* 30 alerts: agent 1 + i % 3, level levels[i % 3], rule "r<i % 5>" */
	assert_int_equal(db_begin(f->store), 0);
	for (int i = 0; i < 30; i++) {
		char rule[8];
		struct db_alert a;

		snprintf(rule, sizeof(rule), "r%d", i % 5);
		a = an_alert(rule, levels[i % 3], 1 + i % 3, 0);
		assert_int_equal(db_alert_insert(f->store, &a, NULL), 0);
	}
	assert_int_equal(db_commit(f->store), 0);

	memset(&rs, 0, sizeof(rs));
	assert_int_equal(db_alerts_query(f->store, &flt, collect_alert, &rs), 0);
	assert_int_equal(rs.n, 30);
	for (size_t i = 0; i < 30; i++)
		assert_int_equal(rs.ids[i], (int64_t)i + 1);

	memset(&rs, 0, sizeof(rs));
	flt.agent = 2;
	assert_int_equal(db_alerts_query(f->store, &flt, collect_alert, &rs), 0);
	assert_int_equal(rs.n, 10);
	assert_int_equal(rs.first.agent, 2);
	assert_string_equal(rs.level, "high");

	memset(&rs, 0, sizeof(rs));
	flt.agent = 0;
	flt.level = "critical";
	assert_int_equal(db_alerts_query(f->store, &flt, collect_alert, &rs), 0);
	assert_int_equal(rs.n, 10);
	assert_int_equal(rs.first.id, 3);

	memset(&rs, 0, sizeof(rs));
	flt.level = NULL;
	flt.rule_id = "r4";
	assert_int_equal(db_alerts_query(f->store, &flt, collect_alert, &rs), 0);
	assert_int_equal(rs.n, 6);
	assert_int_equal(rs.first.id, 5);

	memset(&rs, 0, sizeof(rs));
	flt.level = "high";	/* i % 3 == 1 and i % 5 == 4: i = 4, 19 */
	assert_int_equal(db_alerts_query(f->store, &flt, collect_alert, &rs), 0);
	assert_int_equal(rs.n, 2);
	assert_int_equal(rs.ids[0], 5);
	assert_int_equal(rs.ids[1], 20);

	/* the cursor: pages of 7 see every row once */
	memset(&flt, 0, sizeof(flt));
	flt.limit = 7;
	for (int64_t seen = 0;;) {
		memset(&rs, 0, sizeof(rs));
		assert_int_equal(db_alerts_query(f->store, &flt, collect_alert, &rs), 0);
		if (rs.n == 0) {
			assert_int_equal(seen, 30);
			break;
		}
		assert_true(rs.n <= 7);
		for (size_t i = 0; i < rs.n; i++)
			assert_int_equal(rs.ids[i], seen + (int64_t)i + 1);
		seen += (int64_t)rs.n;
		flt.after_id = rs.ids[rs.n - 1];
	}
	/* limit 0 is clamped to 1 */
	memset(&rs, 0, sizeof(rs));
	flt.after_id = 0;
	flt.limit = 0;
	assert_int_equal(db_alerts_query(f->store, &flt, collect_alert, &rs), 0);
	assert_int_equal(rs.n, 1);
}

static void
version_1_database_gains_alerts_and_keeps_events(void **state)
{
	struct fixture *f = *state;
	struct db_alert a = an_alert("r", "medium", 1, 1);
	struct db *reader = NULL;
	char cmd[512];
	uint64_t n = 0;

	if (!have_sqlite3_cli())
		skip();
	assert_int_equal(db_begin(f->store), 0);
	assert_int_equal(insert(f->store, 1, 0, 1, "tamper", 1000), 0);
	assert_int_equal(db_commit(f->store), 0);
	db_close(f->store);
	f->store = NULL;
	snprintf(cmd, sizeof(cmd), "sqlite3 '%s' 'DROP TABLE alerts; PRAGMA user_version = 1'",
		f->path);
	assert_int_equal(system(cmd), 0);

	/* A reader does not migrate: it wants the writer to have. */
	assert_int_equal(db_open(f->path, true, &reader), -ENOTSUP);
	assert_int_equal(db_open(f->path, false, &f->store), 0);
	assert_int_equal(count(f->store, 0), 1);
	assert_int_equal(db_alert_insert(f->store, &a, NULL), 0);
	assert_int_equal(db_alerts_count(f->store, &n), 0);
	assert_int_equal(n, 1);
	assert_int_equal(db_open(f->path, true, &reader), 0);
	db_close(reader);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(new_database_has_schema_wal_and_private_files,
			setup, teardown),
		cmocka_unit_test_setup_teardown(newer_schema_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(reader_open_of_missing_file_is_enoent, setup,
			teardown),
		cmocka_unit_test_setup_teardown(file_that_is_not_a_database_is_eio, setup,
			teardown),
		cmocka_unit_test_setup_teardown(event_round_trips_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(body_is_stored_by_length_not_by_nul, setup,
			teardown),
		cmocka_unit_test_setup_teardown(duplicate_seq_is_eexist_and_batch_still_commits,
			setup, teardown),
		cmocka_unit_test_setup_teardown(server_events_may_share_null_seq, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_events_are_einval, setup, teardown),
		cmocka_unit_test_setup_teardown(filters_select_by_agent_type_and_time, setup,
			teardown),
		cmocka_unit_test_setup_teardown(cursor_pages_every_row_exactly_once, setup,
			teardown),
		cmocka_unit_test_setup_teardown(limit_is_clamped_and_callback_can_stop, setup,
			teardown),
		cmocka_unit_test_setup_teardown(empty_store_counts_zero, setup, teardown),
		cmocka_unit_test_setup_teardown(rollback_drops_the_batch, setup, teardown),
		cmocka_unit_test_setup_teardown(agent_lifecycle, setup, teardown),
		cmocka_unit_test_setup_teardown(unknown_agent_is_enoent, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_agent_arguments_are_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(agents_list_in_id_order, setup, teardown),
		cmocka_unit_test_setup_teardown(token_is_used_once_before_it_expires, setup,
			teardown),
		cmocka_unit_test_setup_teardown(reader_sees_committed_rows_while_writer_writes,
			setup, teardown),
		cmocka_unit_test_setup_teardown(full_disk_is_enospc_and_loses_no_committed_row,
			setup, teardown),
		cmocka_unit_test_setup_teardown(alert_round_trips_every_field, setup, teardown),
		cmocka_unit_test_setup_teardown(alert_optional_fields_come_back_null, setup, teardown),
		cmocka_unit_test_setup_teardown(alert_without_rule_title_or_level_is_einval, setup,
			teardown),
		cmocka_unit_test_setup_teardown(alert_filters_and_cursor, setup, teardown),
		cmocka_unit_test_setup_teardown(version_1_database_gains_alerts_and_keeps_events,
			setup, teardown),
		cmocka_unit_test_setup_teardown(insert_rate_is_printed, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
