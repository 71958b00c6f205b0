/*
 * test_audit.c - the hash-chained audit trail (server/store/audit.h).
 *
 * Records hash as the header's formula says (checked against an independent
 * computation); a chain of 50 verifies, from the writer and from a
 * read-only connection; each way of tampering with the table (done from
 * outside, with the sqlite3 program, as an intruder would) is named with the
 * first bad record: an edited record, a deleted one, the end cut off, two
 * records swapped, a record edited and re-hashed, a chain rewritten
 * consistently (only the anchor catches it), bytes moved between fields
 * without changing the hash. Also: the empty chain, the head file (round
 * trip, 0600, atomic, strict parsing), field limits, and a rolled-back
 * append that leaves the chain whole. Tests that tamper skip without the
 * sqlite3 program.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "server/store/audit.h"
#include "server/store/db.h"
#include "tls/sha256.h"
#include "core/banned.h"

#define T0		1700000000000000000LL	/* time of record 0; record i is T0 + i s */
#define ZEROS		"0000000000000000000000000000000000000000000000000000000000000000"

struct fixture {
	char		 dir[64];
	char		 path[96];	/* dir/yingji.db */
	char		 head[96];	/* dir/audit.head */
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

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_audit.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/yingji.db", f->dir);
	snprintf(f->head, sizeof(f->head), "%s/audit.head", f->dir);
	if (db_open(f->path, false, &f->store) < 0)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;

	db_close(f->store);
	nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
	free(f);
	return 0;
}

/* Appends records n+1..n+count in one transaction, as the engine would. */
static void
fill(struct fixture *f, int count)
{
	struct audit_head h, before;
	char actor[32], object[32], detail[64];

	assert_int_equal(audit_head_get(f->store, &before), 0);
	assert_int_equal(db_begin(f->store), 0);
	for (int i = 1; i <= count; i++) {
		int64_t id = before.id + i;

		snprintf(actor, sizeof(actor), "member:%" PRId64, id % 7);
		snprintf(object, sizeof(object), "incident/%" PRId64, id / 3);
		snprintf(detail, sizeof(detail), "{\"n\":%" PRId64 ",\"note\":\"状态变更\"}", id);
		assert_int_equal(audit_append(f->store, T0 + id * 1000000000LL, actor,
			"incident.transition", object, detail, &h), 0);
		assert_int_equal(h.id, id);
	}
	assert_int_equal(db_commit(f->store), 0);
}

static struct audit_verdict
verify(struct db *s, const struct audit_head *anchor)
{
	struct audit_verdict v;

	memset(&v, 0x5a, sizeof(v));
	assert_int_equal(audit_verify(s, anchor, &v), 0);
	return v;
}

#define assert_verdict(v, p, id) do {						\
	if ((v).problem != (p) || (v).bad_id != (id))				\
		print_error("verdict %s at #%" PRId64 " (%s), want %s at #%" PRId64 "\n",	\
			audit_problem_name((v).problem), (v).bad_id, (v).detail,	\
			audit_problem_name(p), (int64_t)(id));			\
	assert_int_equal((v).problem, (p));					\
	assert_int_equal((v).bad_id, (id));					\
} while (0)

static bool
have_sqlite3_cli(void)
{
	return system("command -v sqlite3 >/dev/null 2>&1") == 0;
}

/* Tampering from outside: SQL through the sqlite3 program, on the live
 * database (WAL; the writer connection stays open, as the server's would). */
static FILE *
tamper_begin(struct fixture *f)
{
	char cmd[160];
	FILE *p;

	if (!have_sqlite3_cli())
		skip();
	snprintf(cmd, sizeof(cmd), "sqlite3 -bail %s", f->path);
	p = popen(cmd, "w");
	assert_non_null(p);
	return p;
}

static void
tamper_end(FILE *p)
{
	assert_int_equal(pclose(p), 0);
}

static void
tamper(struct fixture *f, const char *sql)
{
	FILE *p = tamper_begin(f);

	fprintf(p, "%s\n", sql);
	tamper_end(p);
}

/* One record as stored. */
struct rec {
	int64_t		 id;
	char		 time[32], actor[512], action[512], object[512], detail[4096];
	char		 prev[80], hash[80];
	bool		 found;
};

static void
copy_col(const struct db_row *row, int col, char *out, size_t size)
{
	const char *t = db_row_text(row, col);
	size_t n = t != NULL ? db_row_len(row, col) : 0;

	assert_true(n < size);
	memcpy(out, t != NULL ? t : "", n);
	out[n] = '\0';
}

static int
rec_row(const struct db_row *row, void *data)
{
	struct rec *r = data;

	r->id = db_row_int(row, 0);
	copy_col(row, 1, r->time, sizeof(r->time));
	copy_col(row, 2, r->actor, sizeof(r->actor));
	copy_col(row, 3, r->action, sizeof(r->action));
	copy_col(row, 4, r->object, sizeof(r->object));
	copy_col(row, 5, r->detail, sizeof(r->detail));
	copy_col(row, 6, r->prev, sizeof(r->prev));
	copy_col(row, 7, r->hash, sizeof(r->hash));
	r->found = true;
	return 1;
}

static struct rec *
rec_get(struct db *s, int64_t id)
{
	struct rec *r = calloc(1, sizeof(*r));

	assert_int_equal(db_query(s, "SELECT id, time_ns, actor, action, object, detail, prev, hash"
		" FROM audit WHERE id = ?1", rec_row, r, "i", id), 0);
	assert_true(r->found);
	return r;
}

/* The formula as audit.h writes it, computed here independently. */
static void
ref_hash(const struct rec *r, char out[AUDIT_HASH_HEX + 1])
{
	uint8_t d[SHA256_LEN];
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(buf_appendf(&b, "yingji-audit-v1\n%" PRId64 "\n%s\n%s\n%s\n%s\n%s\n%s",
		r->id, r->time, r->actor, r->action, r->object, r->detail, r->prev), 0);
	sha256_buf(b.data, b.len, d);
	sha256_to_hex(d, out);
	buf_release(&b);
}

static int64_t
counter(struct db *s)
{
	struct rec r = { 0 };

	(void)db_query(s, "SELECT seq, '', '', '', '', '', '', '' FROM sqlite_sequence"
		" WHERE name = 'audit'", rec_row, &r, "");
	return r.found ? r.id : 0;
}

static struct audit_head
head(struct fixture *f)
{
	struct audit_head h;

	assert_int_equal(audit_head_get(f->store, &h), 0);
	return h;
}

/* ---- the chain ---- */

static void
hash_follows_the_documented_formula(void **state)
{
	struct fixture *f = *state;
	struct audit_head h, got;
	struct rec *r;
	char want[AUDIT_HASH_HEX + 1], prev[AUDIT_HASH_HEX + 1] = ZEROS;

	assert_int_equal(db_begin(f->store), 0);
	assert_int_equal(audit_append(f->store, T0, "system", "plan.load", "plan", NULL, &h), 0);
	assert_int_equal(h.id, 1);
	assert_int_equal(h.time_ns, T0);
	assert_int_equal(audit_append(f->store, T0 + 1, "member:张三", "login", "", "{}", &h), 0);
	assert_int_equal(audit_append(f->store, T0 + 2, "member:李四", "report.file",
		"incident/3", "{\n  \"kind\": \"initial\",\n  \"text\": \"多行\\n说明\"\n}", &h), 0);
	assert_int_equal(db_commit(f->store), 0);
	assert_int_equal(h.id, 3);

	for (int64_t id = 1; id <= 3; id++) {
		r = rec_get(f->store, id);
		assert_string_equal(r->prev, prev);
		ref_hash(r, want);
		assert_string_equal(r->hash, want);
		snprintf(prev, sizeof(prev), "%.64s", r->hash);
		if (id == 1) {
			assert_string_equal(r->detail, "{}");	/* NULL detail */
			assert_string_equal(r->time, "1700000000000000000");
		}
		free(r);
	}
	assert_int_equal(audit_head_get(f->store, &got), 0);
	assert_int_equal(got.id, 3);
	assert_string_equal(got.hash, prev);
	assert_string_equal(h.hash, prev);
	assert_int_equal(got.time_ns, T0 + 2);
	assert_int_equal(counter(f->store), 3);		/* AUTOINCREMENT kept in step */
}

static void
fifty_records_verify(void **state)
{
	struct fixture *f = *state;
	struct audit_verdict v;
	struct audit_head h, older;
	struct db *reader = NULL;
	struct rec *r;

	fill(f, 50);
	h = head(f);
	assert_int_equal(h.id, 50);

	v = verify(f->store, NULL);
	assert_verdict(v, AUDIT_OK, 0);
	assert_int_equal(v.records, 50);
	assert_int_equal(v.head.id, 50);
	assert_string_equal(v.head.hash, h.hash);
	assert_int_equal(v.head.time_ns, T0 + 50 * 1000000000LL);
	assert_true(v.detail[0] != '\0');

	/* the current head as anchor, and yesterday's (an older record) */
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_OK, 0);
	r = rec_get(f->store, 20);
	older = (struct audit_head){ .id = 20, .time_ns = T0 + 20 * 1000000000LL };
	snprintf(older.hash, sizeof(older.hash), "%.64s", r->hash);
	free(r);
	v = verify(f->store, &older);
	assert_verdict(v, AUDIT_OK, 0);

	/* the CLI's way: a read-only connection while the writer stays open */
	assert_int_equal(db_open(f->path, true, &reader), 0);
	v = verify(reader, &h);
	assert_verdict(v, AUDIT_OK, 0);
	assert_int_equal(v.records, 50);
	db_close(reader);

	/* appending goes on after a verify */
	fill(f, 5);
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_OK, 0);
	assert_int_equal(v.records, 55);
}

static void
empty_chain_verifies(void **state)
{
	struct fixture *f = *state;
	struct audit_head h, zero = { .id = 0, .hash = ZEROS, .time_ns = 0 };
	struct audit_head ahead = { .id = 3, .hash = ZEROS, .time_ns = T0 };
	struct audit_verdict v;

	memset(ahead.hash, 'a', AUDIT_HASH_HEX);
	h = head(f);
	assert_int_equal(h.id, 0);
	assert_string_equal(h.hash, ZEROS);
	assert_int_equal(h.time_ns, 0);

	v = verify(f->store, NULL);
	assert_verdict(v, AUDIT_OK, 0);
	assert_int_equal(v.records, 0);
	assert_int_equal(v.head.id, 0);
	assert_string_equal(v.head.hash, ZEROS);
	v = verify(f->store, &zero);
	assert_verdict(v, AUDIT_OK, 0);

	/* an anchor says there were 3 records: all gone */
	v = verify(f->store, &ahead);
	assert_verdict(v, AUDIT_TRUNCATED, 1);
}

static void
bad_arguments_are_einval(void **state)
{
	struct fixture *f = *state;
	struct audit_verdict v;
	struct audit_head bad = { .id = -1, .hash = ZEROS, .time_ns = 0 };
	struct audit_head upper = { .id = 1, .time_ns = 0 };

	memset(upper.hash, 'A', AUDIT_HASH_HEX);
	assert_int_equal(audit_verify(f->store, &bad, &v), -EINVAL);
	assert_int_equal(audit_verify(f->store, &upper, &v), -EINVAL);
	assert_int_equal(audit_verify(NULL, NULL, &v), -EINVAL);
	assert_int_equal(audit_verify(f->store, NULL, NULL), -EINVAL);
	assert_int_equal(audit_head_get(f->store, NULL), -EINVAL);

	assert_string_equal(audit_problem_name(AUDIT_OK), "ok");
	assert_string_equal(audit_problem_name(AUDIT_HASH_MISMATCH), "hash_mismatch");
	assert_string_equal(audit_problem_name(AUDIT_BROKEN_LINK), "broken_link");
	assert_string_equal(audit_problem_name(AUDIT_GAP), "gap");
	assert_string_equal(audit_problem_name(AUDIT_TRUNCATED), "truncated");
	assert_string_equal(audit_problem_name(AUDIT_ANCHOR_MISMATCH), "anchor_mismatch");
	assert_string_equal(audit_problem_name((enum audit_problem)99), "unknown");
}

/* ---- tampering, each on a fresh chain of 50 ---- */

static void
edited_record_is_hash_mismatch_at_it(void **state)
{
	struct fixture *f = *state;
	struct audit_head h;
	struct audit_verdict v;

	fill(f, 50);
	h = head(f);
	tamper(f, "UPDATE audit SET detail = '{\"n\":999}' WHERE id = 17;");
	v = verify(f->store, NULL);
	assert_verdict(v, AUDIT_HASH_MISMATCH, 17);
	assert_non_null(strstr(v.detail, "#17"));
	assert_int_equal(v.records, 50);	/* the rest still counted */
	assert_int_equal(v.head.id, 50);
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_HASH_MISMATCH, 17);

	/* the time, and the very first record */
	tamper(f, "UPDATE audit SET time_ns = time_ns + 1 WHERE id IN (1, 30);");
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_HASH_MISMATCH, 1);
}

static void
deleted_record_is_gap_at_the_next(void **state)
{
	struct fixture *f = *state;
	struct audit_head h;
	struct audit_verdict v;

	fill(f, 50);
	h = head(f);
	tamper(f, "DELETE FROM audit WHERE id = 17;");
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_GAP, 18);
	assert_non_null(strstr(v.detail, "#17"));
	assert_int_equal(v.records, 49);

	/* several: the detail names the range; a gap before a cut-off end is
	 * still the first problem */
	tamper(f, "DELETE FROM audit WHERE id IN (5, 6, 7, 49, 50);");
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_GAP, 8);
	assert_non_null(strstr(v.detail, "#5"));
	assert_non_null(strstr(v.detail, "#7"));
}

static void
deleted_first_record_is_gap_at_the_second(void **state)
{
	struct fixture *f = *state;
	struct audit_verdict v;

	fill(f, 50);
	tamper(f, "DELETE FROM audit WHERE id = 1;");
	v = verify(f->store, NULL);
	assert_verdict(v, AUDIT_GAP, 2);
	assert_non_null(strstr(v.detail, "#1"));
}

static void
cut_off_end_is_truncated(void **state)
{
	struct fixture *f = *state;
	struct audit_head h;
	struct audit_verdict v;

	fill(f, 50);
	h = head(f);
	tamper(f, "DELETE FROM audit WHERE id >= 48;");

	/* the AUTOINCREMENT counter remembers 50 */
	v = verify(f->store, NULL);
	assert_verdict(v, AUDIT_TRUNCATED, 48);
	assert_non_null(strstr(v.detail, "#50"));
	assert_int_equal(v.records, 47);
	assert_int_equal(v.head.id, 47);
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_TRUNCATED, 48);

	/* an intruder who also winds the counter back: only the anchor knows */
	tamper(f, "UPDATE sqlite_sequence SET seq = 47 WHERE name = 'audit';");
	v = verify(f->store, NULL);
	assert_verdict(v, AUDIT_OK, 0);		/* why the head leaves the machine */
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_TRUNCATED, 48);
	assert_non_null(strstr(v.detail, "#50"));

	/* or deletes the counter's row altogether */
	tamper(f, "DELETE FROM sqlite_sequence WHERE name = 'audit';");
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_TRUNCATED, 48);
}

static void
append_after_a_cut_off_end_keeps_the_gap(void **state)
{
	struct fixture *f = *state;
	struct audit_head h;
	struct audit_verdict v;

	fill(f, 50);
	tamper(f, "DELETE FROM audit WHERE id >= 48;");
	/* the centre goes on recording: ids are not reused (the counter says
	 * 50), so the deletion stays visible as a gap before #51 */
	assert_int_equal(db_begin(f->store), 0);
	assert_int_equal(audit_append(f->store, T0 + 51, "system", "plan.load", "plan", NULL, &h),
		0);
	assert_int_equal(db_commit(f->store), 0);
	assert_int_equal(h.id, 51);
	v = verify(f->store, NULL);
	assert_verdict(v, AUDIT_GAP, 51);
	assert_non_null(strstr(v.detail, "#48"));
	assert_non_null(strstr(v.detail, "#50"));
}

static void
everything_deleted_is_truncated_at_one(void **state)
{
	struct fixture *f = *state;
	struct audit_head h;
	struct audit_verdict v;

	fill(f, 50);
	h = head(f);
	tamper(f, "DELETE FROM audit;");
	v = verify(f->store, NULL);
	assert_verdict(v, AUDIT_TRUNCATED, 1);
	assert_int_equal(v.records, 0);
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_TRUNCATED, 1);

	/* an append after it takes #51, not #1: the gap is named */
	assert_int_equal(db_begin(f->store), 0);
	assert_int_equal(audit_append(f->store, T0 + 51, "system", "plan.load", "plan", NULL, &h),
		0);
	assert_int_equal(db_commit(f->store), 0);
	assert_int_equal(h.id, 51);
	v = verify(f->store, NULL);
	assert_verdict(v, AUDIT_GAP, 51);
	assert_non_null(strstr(v.detail, "#1"));
}

static void
swapped_records_are_named_at_the_first(void **state)
{
	struct fixture *f = *state;
	struct audit_head h;
	struct audit_verdict v;

	fill(f, 50);
	h = head(f);
	/* whole records (with their prev and hash) change places, ids kept */
	tamper(f, "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE id IN (20, 21);"
		"UPDATE audit SET (time_ns, actor, action, object, detail, prev, hash) ="
		" (SELECT time_ns, actor, action, object, detail, prev, hash FROM t"
		"  WHERE t.id = 41 - audit.id) WHERE id IN (20, 21);");
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_BROKEN_LINK, 20);
	assert_non_null(strstr(v.detail, "#20"));
}

static void
swapped_contents_are_hash_mismatch_at_the_first(void **state)
{
	struct fixture *f = *state;
	struct audit_head h;
	struct audit_verdict v;

	fill(f, 50);
	h = head(f);
	/* what the records say changes places; the chain columns stay */
	tamper(f, "CREATE TEMP TABLE t AS SELECT * FROM audit WHERE id IN (20, 21);"
		"UPDATE audit SET (time_ns, actor, action, object, detail) ="
		" (SELECT time_ns, actor, action, object, detail FROM t"
		"  WHERE t.id = 41 - audit.id) WHERE id IN (20, 21);");
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_HASH_MISMATCH, 20);
}

/* Edits record id's detail (when detail is not NULL) and/or prev, and
 * stores the hash the formula gives for the result, as an intruder who knows
 * the formula would. Returns the new hash in out. */
static void
rehash_sql(FILE *p, struct db *s, int64_t id, const char *detail, const char *prev,
	char out[AUDIT_HASH_HEX + 1])
{
	struct rec *r = rec_get(s, id);

	if (detail != NULL)
		snprintf(r->detail, sizeof(r->detail), "%s", detail);
	if (prev != NULL)
		snprintf(r->prev, sizeof(r->prev), "%s", prev);
	ref_hash(r, out);
	fprintf(p, "UPDATE audit SET detail = '%s', prev = '%s', hash = '%s' WHERE id = %" PRId64 ";\n",
		r->detail, r->prev, out, id);
	free(r);
}

static void
edited_and_rehashed_record_breaks_the_next_link(void **state)
{
	struct fixture *f = *state;
	struct audit_head h;
	struct audit_verdict v;
	char hash[AUDIT_HASH_HEX + 1];
	FILE *p;

	fill(f, 50);
	h = head(f);
	p = tamper_begin(f);
	rehash_sql(p, f->store, 30, "{\"n\":30,\"note\":\"改过\"}", NULL, hash);
	tamper_end(p);
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_BROKEN_LINK, 31);
	assert_non_null(strstr(v.detail, "#31"));
	assert_non_null(strstr(v.detail, "#30"));
	v = verify(f->store, NULL);
	assert_verdict(v, AUDIT_BROKEN_LINK, 31);
}

static void
edited_and_rehashed_last_record_only_the_anchor_sees(void **state)
{
	struct fixture *f = *state;
	struct audit_head h;
	struct audit_verdict v;
	char hash[AUDIT_HASH_HEX + 1];
	FILE *p;

	fill(f, 50);
	h = head(f);
	p = tamper_begin(f);
	rehash_sql(p, f->store, 50, "{\"n\":50,\"note\":\"改过\"}", NULL, hash);
	tamper_end(p);
	v = verify(f->store, NULL);
	assert_verdict(v, AUDIT_OK, 0);		/* consistent in itself */
	assert_string_equal(v.head.hash, hash);
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_ANCHOR_MISMATCH, 50);
	assert_non_null(strstr(v.detail, "#50"));
}

static void
chain_rewritten_consistently_only_the_anchor_sees(void **state)
{
	struct fixture *f = *state;
	struct audit_head h, older;
	struct audit_verdict v;
	char hash[AUDIT_HASH_HEX + 1], prev[AUDIT_HASH_HEX + 1];
	struct rec *r;
	FILE *p;

	fill(f, 50);
	h = head(f);
	r = rec_get(f->store, 20);
	older = (struct audit_head){ .id = 20, .time_ns = T0 + 20 * 1000000000LL };
	snprintf(older.hash, sizeof(older.hash), "%.64s", r->hash);
	free(r);

	/* record 10 changed, and every hash and prev after it recomputed */
	p = tamper_begin(f);
	rehash_sql(p, f->store, 10, "{\"n\":10,\"note\":\"从未发生\"}", NULL, prev);
	for (int64_t id = 11; id <= 50; id++) {
		rehash_sql(p, f->store, id, NULL, prev, hash);
		memcpy(prev, hash, sizeof(prev));
	}
	tamper_end(p);

	v = verify(f->store, NULL);
	assert_verdict(v, AUDIT_OK, 0);
	assert_int_equal(v.records, 50);
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_ANCHOR_MISMATCH, 50);
	/* yesterday's anchor, sent out before the rewrite, names its record */
	v = verify(f->store, &older);
	assert_verdict(v, AUDIT_ANCHOR_MISMATCH, 20);
}

static void
line_moved_from_detail_into_object_is_caught(void **state)
{
	struct fixture *f = *state;
	struct audit_verdict v;
	struct audit_head h;
	struct rec *r;
	char hash[AUDIT_HASH_HEX + 1];

	/* detail may hold a newline (JSON white space)... */
	fill(f, 50);
	assert_int_equal(db_begin(f->store), 0);
	assert_int_equal(audit_append(f->store, T0 + 51, "member:1", "grade.set", "incident/9",
		"{\n\"grade\":\"II\"}", &h), 0);
	assert_int_equal(db_commit(f->store), 0);
	assert_int_equal(h.id, 51);

	/* ...so an intruder shifts the fields by one line: the same bytes are
	 * hashed, the hash stays, but now the actor is "member:1\ngrade.set"
	 * and the action "incident/9" */
	tamper(f, "UPDATE audit SET actor = actor || char(10) || action, action = object,"
		" object = '{', detail = '\"grade\":\"II\"}' WHERE id = 51;");
	r = rec_get(f->store, 51);
	ref_hash(r, hash);
	assert_string_equal(hash, r->hash);		/* the formula alone cannot see it */
	free(r);
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_HASH_MISMATCH, 51);
}

static void
line_moved_into_the_time_is_caught(void **state)
{
	struct fixture *f = *state;
	struct audit_verdict v;
	struct audit_head h;
	struct rec *r;
	char hash[AUDIT_HASH_HEX + 1];

	/* detail "\n{}" and an empty object: shifting every field up one line
	 * into the time leaves valid names and a valid detail "{}" */
	fill(f, 50);
	assert_int_equal(db_begin(f->store), 0);
	assert_int_equal(audit_append(f->store, T0 + 51, "member:1", "login", "x", "\n{}", &h), 0);
	assert_int_equal(db_commit(f->store), 0);
	tamper(f, "UPDATE audit SET time_ns = time_ns || char(10) || actor, actor = action,"
		" action = object, object = '', detail = '{}' WHERE id = 51;");
	r = rec_get(f->store, 51);
	ref_hash(r, hash);
	assert_string_equal(hash, r->hash);
	assert_string_equal(r->actor, "login");
	free(r);
	v = verify(f->store, &h);
	assert_verdict(v, AUDIT_HASH_MISMATCH, 51);
}

static void
null_columns_do_not_crash_verify(void **state)
{
	struct fixture *f = *state;
	struct audit_verdict v;

	/* a table rebuilt without NOT NULL, holding NULLs */
	fill(f, 5);
	tamper(f, "ALTER TABLE audit RENAME TO old;"
		"CREATE TABLE audit (id INTEGER PRIMARY KEY AUTOINCREMENT, time_ns INTEGER,"
		" actor TEXT, action TEXT, object TEXT, detail TEXT, prev TEXT, hash TEXT);"
		"INSERT INTO audit SELECT * FROM old; DROP TABLE old;"
		"CREATE TABLE saved AS SELECT * FROM audit WHERE id = 3;"
		"UPDATE audit SET detail = NULL WHERE id = 3;"
		"UPDATE audit SET prev = NULL, hash = NULL WHERE id = 5;");
	v = verify(f->store, NULL);
	assert_verdict(v, AUDIT_HASH_MISMATCH, 3);
	tamper(f, "UPDATE audit SET detail = '{}' WHERE id = 3;");
	v = verify(f->store, NULL);
	assert_verdict(v, AUDIT_HASH_MISMATCH, 3);	/* '{}' is not what was hashed */
	tamper(f, "UPDATE audit SET detail = (SELECT detail FROM saved) WHERE id = 3;");
	v = verify(f->store, NULL);
	assert_verdict(v, AUDIT_BROKEN_LINK, 5);
	assert_int_equal(v.records, 5);
	assert_string_equal(v.head.hash, "");
}

/* ---- limits ---- */

static void
fields_are_bounded_and_checked(void **state)
{
	struct fixture *f = *state;
	struct audit_verdict v;
	struct audit_head h;
	char name[300];
	char *detail = malloc(AUDIT_FIELD_MAX + 2);

	assert_int_equal(db_begin(f->store), 0);

	memset(name, 'a', sizeof(name));
	name[256] = '\0';
	assert_int_equal(audit_append(f->store, T0, name, "login", "x", NULL, NULL), 0);
	assert_int_equal(audit_append(f->store, T0, "a", name, name, NULL, NULL), 0);
	name[256] = 'a';
	name[257] = '\0';
	assert_int_equal(audit_append(f->store, T0, name, "login", "x", NULL, NULL), -E2BIG);
	assert_int_equal(audit_append(f->store, T0, "a", name, "x", NULL, NULL), -E2BIG);
	assert_int_equal(audit_append(f->store, T0, "a", "login", name, NULL, NULL), -E2BIG);

	/* detail: exactly AUDIT_FIELD_MAX bytes of JSON object is fine */
	detail[0] = '{';
	memset(detail + 1, ' ', AUDIT_FIELD_MAX - 2);
	detail[AUDIT_FIELD_MAX - 1] = '}';
	detail[AUDIT_FIELD_MAX] = '\0';
	assert_int_equal(audit_append(f->store, T0, "a", "b", "c", detail, &h), 0);
	assert_int_equal(h.id, 3);
	detail[AUDIT_FIELD_MAX - 1] = ' ';
	detail[AUDIT_FIELD_MAX] = '}';
	detail[AUDIT_FIELD_MAX + 1] = '\0';
	assert_int_equal(audit_append(f->store, T0, "a", "b", "c", detail, NULL), -E2BIG);

	/* what append refuses, so that fields cannot run into each other */
	assert_int_equal(audit_append(f->store, T0, "a\nb", "login", "x", NULL, NULL), -EINVAL);
	assert_int_equal(audit_append(f->store, T0, "a", "log\tin", "x", NULL, NULL), -EINVAL);
	assert_int_equal(audit_append(f->store, T0, "a", "login", "x\r", NULL, NULL), -EINVAL);
	assert_int_equal(audit_append(f->store, T0, "", "login", "x", NULL, NULL), -EINVAL);
	assert_int_equal(audit_append(f->store, T0, "a", "", "x", NULL, NULL), -EINVAL);
	assert_int_equal(audit_append(f->store, T0, "\xff\xfe", "login", "x", NULL, NULL), -EINVAL);
	assert_int_equal(audit_append(f->store, T0, NULL, "login", "x", NULL, NULL), -EINVAL);
	assert_int_equal(audit_append(f->store, T0, "a", "login", NULL, NULL, NULL), -EINVAL);
	assert_int_equal(audit_append(f->store, -1, "a", "login", "x", NULL, NULL), -EINVAL);
	assert_int_equal(audit_append(f->store, T0, "a", "login", "x", "[]", NULL), -EINVAL);
	assert_int_equal(audit_append(f->store, T0, "a", "login", "x", "{", NULL), -EINVAL);
	assert_int_equal(audit_append(f->store, T0, "a", "login", "x", "{} {}", NULL), -EINVAL);
	assert_int_equal(audit_append(f->store, T0, "a", "login", "x", "not json", NULL), -EINVAL);
	/* allowed: an empty object name, non-ASCII names */
	assert_int_equal(audit_append(f->store, T0, "成员:王五", "任务.完成", "", "{}", &h), 0);
	assert_int_equal(h.id, 4);
	assert_int_equal(db_commit(f->store), 0);

	/* nothing refused was stored */
	v = verify(f->store, NULL);
	assert_verdict(v, AUDIT_OK, 0);
	assert_int_equal(v.records, 4);
	free(detail);
}

static void
rolled_back_append_leaves_the_chain_whole(void **state)
{
	struct fixture *f = *state;
	struct audit_head before, h;
	struct audit_verdict v;
	struct rec *r;

	fill(f, 10);
	before = head(f);

	/* the write the records belonged to failed: the transaction rolls back */
	assert_int_equal(db_begin(f->store), 0);
	assert_int_equal(audit_append(f->store, T0 + 11, "member:1", "task.add", "incident/1",
		NULL, &h), 0);
	assert_int_equal(h.id, 11);
	assert_int_equal(audit_append(f->store, T0 + 12, "member:1", "task.add", "incident/1",
		NULL, &h), 0);
	assert_int_equal(h.id, 12);
	db_rollback(f->store);

	h = head(f);
	assert_int_equal(h.id, 10);
	assert_string_equal(h.hash, before.hash);
	v = verify(f->store, &before);
	assert_verdict(v, AUDIT_OK, 0);
	assert_int_equal(v.records, 10);

	/* the next append takes id 11 again and links to #10 */
	assert_int_equal(db_begin(f->store), 0);
	assert_int_equal(audit_append(f->store, T0 + 13, "member:2", "flag.add", "incident/1",
		"{\"kind\":\"late\"}", &h), 0);
	assert_int_equal(db_commit(f->store), 0);
	assert_int_equal(h.id, 11);
	r = rec_get(f->store, 11);
	assert_string_equal(r->prev, before.hash);
	assert_string_equal(r->detail, "{\"kind\":\"late\"}");
	free(r);
	v = verify(f->store, &before);
	assert_verdict(v, AUDIT_OK, 0);
	assert_int_equal(v.records, 11);
	assert_int_equal(counter(f->store), 11);
}

/* ---- the head file ---- */

static void
write_text(const char *path, const char *p, size_t n)
{
	FILE *fp = fopen(path, "we");

	assert_non_null(fp);
	assert_int_equal(fwrite(p, 1, n, fp), n);
	assert_int_equal(fclose(fp), 0);
}

static size_t
dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	size_t n = 0;

	assert_non_null(d);
	while ((e = readdir(d)) != NULL)
		if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}

static void
head_file_round_trips(void **state)
{
	struct fixture *f = *state;
	struct audit_head h, got, empty = { .id = 0, .hash = ZEROS, .time_ns = 0 };
	struct stat st;
	char want[160], text[160];
	size_t before;
	mode_t old;
	FILE *fp;

	fill(f, 50);
	h = head(f);
	before = dir_entries(f->dir);

	old = umask(0);		/* the mode does not depend on the umask */
	assert_int_equal(audit_head_write(f->head, &h), 0);
	umask(old);
	assert_int_equal(stat(f->head, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(dir_entries(f->dir), before + 1);	/* no temporary file left */

	fp = fopen(f->head, "re");
	assert_non_null(fp);
	memset(text, 0, sizeof(text));
	assert_true(fread(text, 1, sizeof(text) - 1, fp) > 0);
	fclose(fp);
	snprintf(want, sizeof(want), "50 %s %lld\n", h.hash, T0 + 50 * 1000000000LL);
	assert_string_equal(text, want);

	memset(&got, 0, sizeof(got));
	assert_int_equal(audit_head_read(f->head, &got), 0);
	assert_int_equal(got.id, h.id);
	assert_string_equal(got.hash, h.hash);
	assert_int_equal(got.time_ns, h.time_ns);

	/* replaced in place; then the empty chain's head */
	fill(f, 1);
	h = head(f);
	assert_int_equal(audit_head_write(f->head, &h), 0);
	assert_int_equal(audit_head_read(f->head, &got), 0);
	assert_int_equal(got.id, 51);
	assert_int_equal(audit_head_write(f->head, &empty), 0);
	assert_int_equal(audit_head_read(f->head, &got), 0);
	assert_int_equal(got.id, 0);
	assert_string_equal(got.hash, ZEROS);
	assert_int_equal(dir_entries(f->dir), before + 1);

	/* the anchor read back is what verify takes */
	assert_int_equal(audit_head_write(f->head, &h), 0);
	assert_int_equal(audit_head_read(f->head, &got), 0);
	assert_verdict(verify(f->store, &got), AUDIT_OK, 0);
}

static void
malformed_head_file_is_einval(void **state)
{
	struct fixture *f = *state;
	static const char *const bad[] = {
		"",
		"\n",
		"50\n",
		"50 " ZEROS "\n",
		"50 " ZEROS " 1700000000000000000",		/* no newline */
		"50 " ZEROS " 1700000000000000000\n\n",		/* trailing data */
		"50 " ZEROS " 1700000000000000000\nx",
		"50  " ZEROS " 1700000000000000000\n",		/* two spaces */
		" 50 " ZEROS " 1700000000000000000\n",
		"50 " ZEROS " 1700000000000000000 \n",
		"50\t" ZEROS " 1700000000000000000\n",
		"050 " ZEROS " 1700000000000000000\n",		/* leading zero */
		"+50 " ZEROS " 1700000000000000000\n",
		"-50 " ZEROS " 1700000000000000000\n",
		"50 " ZEROS " -1\n",
		"99999999999999999999 " ZEROS " 1\n",		/* over int64 */
		"9223372036854775808 " ZEROS " 1\n",
		"50 " ZEROS "0 1700000000000000000\n",		/* 65 digits */
		"50 000000000000000000000000000000000000000000000000000000000000000 1\n",
		"50 ABCDEF0000000000000000000000000000000000000000000000000000000000 1\n",
		"50 g000000000000000000000000000000000000000000000000000000000000000 1\n",
		"0 a000000000000000000000000000000000000000000000000000000000000000 0\n",
		"0 " ZEROS " 5\n",				/* the empty chain has no time */
		"50 " ZEROS " 1700000000000000000\r\n",
	};
	struct audit_head got, h;
	char big[400];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_text(f->head, bad[i], strlen(bad[i]));
		memset(&got, 0x77, sizeof(got));
		if (audit_head_read(f->head, &got) != -EINVAL)
			print_error("accepted: \"%s\"\n", bad[i]);
		assert_int_equal(audit_head_read(f->head, &got), -EINVAL);
	}
	/* a NUL inside; a file far too big; not a regular file */
	write_text(f->head, "50 " ZEROS "\0 1\n", 3 + 64 + 4);
	assert_int_equal(audit_head_read(f->head, &got), -EINVAL);
	memset(big, '1', sizeof(big));
	write_text(f->head, big, sizeof(big));
	assert_int_equal(audit_head_read(f->head, &got), -EINVAL);
	assert_int_equal(audit_head_read(f->dir, &got), -EINVAL);

	/* the largest valid line is read */
	write_text(f->head, "9223372036854775807 " ZEROS " 9223372036854775807\n",
		20 + 65 + 20);
	assert_int_equal(audit_head_read(f->head, &got), 0);
	assert_int_equal(got.id, INT64_MAX);
	assert_int_equal(got.time_ns, INT64_MAX);

	unlink(f->head);
	assert_int_equal(audit_head_read(f->head, &got), -ENOENT);

	/* and write refuses what read would refuse, creating nothing */
	h = (struct audit_head){ .id = -1, .hash = ZEROS, .time_ns = 0 };
	assert_int_equal(audit_head_write(f->head, &h), -EINVAL);
	h = (struct audit_head){ .id = 3, .hash = "abc", .time_ns = 0 };
	assert_int_equal(audit_head_write(f->head, &h), -EINVAL);
	h = (struct audit_head){ .id = 0, .hash = ZEROS, .time_ns = 9 };
	assert_int_equal(audit_head_write(f->head, &h), -EINVAL);
	assert_int_equal(access(f->head, F_OK), -1);
	h = (struct audit_head){ .id = 0, .hash = ZEROS, .time_ns = 0 };
	assert_int_equal(audit_head_write("/nonexistent-dir/audit.head", &h), -ENOENT);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(hash_follows_the_documented_formula, setup, teardown),
		cmocka_unit_test_setup_teardown(fifty_records_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(empty_chain_verifies, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_arguments_are_einval, setup, teardown),
		cmocka_unit_test_setup_teardown(edited_record_is_hash_mismatch_at_it, setup, teardown),
		cmocka_unit_test_setup_teardown(deleted_record_is_gap_at_the_next, setup, teardown),
		cmocka_unit_test_setup_teardown(deleted_first_record_is_gap_at_the_second, setup,
			teardown),
		cmocka_unit_test_setup_teardown(cut_off_end_is_truncated, setup, teardown),
		cmocka_unit_test_setup_teardown(append_after_a_cut_off_end_keeps_the_gap, setup,
			teardown),
		cmocka_unit_test_setup_teardown(everything_deleted_is_truncated_at_one, setup,
			teardown),
		cmocka_unit_test_setup_teardown(swapped_records_are_named_at_the_first, setup,
			teardown),
		cmocka_unit_test_setup_teardown(swapped_contents_are_hash_mismatch_at_the_first,
			setup, teardown),
		cmocka_unit_test_setup_teardown(edited_and_rehashed_record_breaks_the_next_link,
			setup, teardown),
		cmocka_unit_test_setup_teardown(edited_and_rehashed_last_record_only_the_anchor_sees,
			setup, teardown),
		cmocka_unit_test_setup_teardown(chain_rewritten_consistently_only_the_anchor_sees,
			setup, teardown),
		cmocka_unit_test_setup_teardown(line_moved_from_detail_into_object_is_caught, setup,
			teardown),
		cmocka_unit_test_setup_teardown(line_moved_into_the_time_is_caught, setup, teardown),
		cmocka_unit_test_setup_teardown(null_columns_do_not_crash_verify, setup, teardown),
		cmocka_unit_test_setup_teardown(fields_are_bounded_and_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(rolled_back_append_leaves_the_chain_whole, setup,
			teardown),
		cmocka_unit_test_setup_teardown(head_file_round_trips, setup, teardown),
		cmocka_unit_test_setup_teardown(malformed_head_file_is_einval, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
