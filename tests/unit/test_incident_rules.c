/*
 * test_incident_rules.c - incident rules a review found broken, each with the
 * request or event sequence that showed it (incidents.c driven directly
 * against a real SQLite database, with simulated clocks):
 *   a task marked done by naming oneself as assignee; a manually graded
 *   incident logging "the thresholds would raise it" every tick; the
 *   threshold regrade's audit record naming no "from"; no escalation for a
 *   second missed deadline; an on-time report made late by its amendment;
 *   over-long or non-string optional fields dropped instead of refused; a
 *   note of backslashes failing the step; an agent's huge latency
 *   overflowing a measure; an event stamped hours ago making an incident late
 *   at once; grade and tasks changed on a closed incident; the 30-day summary
 *   impossible after closing and its miss unseen; incidents beyond the
 *   10,000 oldest open ones never checked; a task due date overflowing.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "core/buf.h"
#include "plan/plan.h"
#include "server/incidents.h"
#include "server/store/db.h"

#define NS	1000000000ll
#define MIN	(60 * NS)
#define DAY	(24 * 60 * MIN)

static const char plan_text[] =
	"version: 1\n"
	"organisation:\n"
	"  name: 测试县司法局\n"
	"  unit: 测试县司法局办公室\n"
	"  system: 门户网站\n"
	"  authority: 县委网信办\n"
	"operator_type: party_government\n"
	"duty: oncall\n"
	"roles:\n"
	"  - id: leader\n"
	"    name: 领导小组组长\n"
	"    group: leadership\n"
	"    may: [activate, close, grade, approve]\n"
	"  - id: office\n"
	"    name: 领导小组办公室主任\n"
	"    group: office\n"
	"    escalates_to: leader\n"
	"    may: [report, assess, grade, task, investigate, report_authority, recover, command, inform, close]\n"
	"  - id: duty\n"
	"    name: 值班员\n"
	"    group: working\n"
	"    escalates_to: office\n"
	"    may: [report, task]\n"
	"members:\n"
	"  - id: director\n"
	"    name: 局长\n"
	"    roles: [leader]\n"
	"    contact: { email: director@example.gov.cn, phone: \"13800000001\" }\n"
	"  - id: office_head\n"
	"    name: 办公室主任\n"
	"    roles: [office]\n"
	"    contact: { email: office@example.gov.cn, phone: \"13800000002\" }\n"
	"  - id: oncall\n"
	"    name: 值班员\n"
	"    roles: [duty]\n"
	"    contact: { phone: \"13800000003\" }\n"
	"clocks:\n"
	"  initial_report: 30m\n"
	"  risk_assessment: 1h\n"
	"  summary: 30d\n"
	"escalation: { start: duty, step: 10m, channels: [hook] }\n"
	"grouping: { window: 30m }\n"
	"channels:\n"
	"  - { id: hook, type: webhook, url: \"http://127.0.0.1:9/hook\", timeout: 1s, retries: 0 }\n"
	"grading:\n"
	"  portal_down: { 一般: 1s, 较大: 1h }\n"
	"  records_leaked: { 较大: 1000, 重大: 100000 }\n"
	"accountability: { portal_down_limit: 6h }\n"
	"playbooks:\n"
	"  - category: 网络攻击事件\n"
	"    subcategory: 网页篡改事件\n"
	"    tasks:\n"
	"      - { title: 核实篡改范围并确认页面已恢复, role: office, due: 15m }\n";

static char dir[64];
static struct plan *plan;
static struct db *s;
static struct incidents *im;
static struct buf resp;
static const int64_t T0 = 1763800000ll * NS;
static const char *TAMPER = "{\"path\":\"/var/www/index.html\",\"action\":\"restored\"}";
static const char *INITIAL = "\"fields\":{\"source\":\"a\",\"scope\":\"b\",\"nature\":\"c\","
	"\"trend\":\"d\",\"measures\":\"e\"}";

static int
int_row(const struct db_row *row, void *d)
{
	*(int64_t *)d = db_row_int(row, 0);
	return 1;
}

static int64_t
q1(const char *sql)
{
	int64_t v = -1;

	assert_int_equal(db_query(s, sql, int_row, &v, ""), 0);
	return v;
}

static int
setup(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/t.db", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/t.db-wal", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/t.db-shm", dir);
	unlink(path);
	snprintf(path, sizeof(path), "%s/t.db", dir);
	if (db_open(path, false, &s) < 0)
		return -1;
	snprintf(path, sizeof(path), "%s/head", dir);
	unlink(path);
	if (incidents_new(plan, s, path, &im) < 0)
		return -1;
	buf_init(&resp, 1 << 24);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	incidents_free(im);
	db_close(s);
	buf_release(&resp);
	return 0;
}

static int
req(const char *json, int64_t now)
{
	int st = 0;

	incidents_request(im, s, json, strlen(json), now, &resp, &st);
	return st;
}

static void
tick(int64_t now)
{
	(void)incidents_tick(im, s, now);
}

static void
event(int64_t agent, const char *type, const char *body, int64_t t, int64_t now)
{
	assert_int_equal(db_begin(s), 0);
	assert_int_equal(incidents_on_event(im, s, agent, type, body, strlen(body), 1, t, now), 0);
	assert_int_equal(db_commit(s), 0);
	incidents_committed(im);
}

static void
alert(int64_t agent, int64_t t, int64_t now)
{
	assert_int_equal(db_begin(s), 0);
	assert_int_equal(incidents_on_alert(im, s, agent, "x", "SQL injection attempt", "high", 1,
		NULL, NULL, 1, t, now), 0);
	assert_int_equal(db_commit(s), 0);
	incidents_committed(im);
}

static void
test_task_done_only_by_stored_assignee(void **state)
{
	(void)state;
	event(1, "tamper", TAMPER, T0, T0);	/* the playbook's task 1, for the office */
	assert_int_equal(req("{\"action\":\"task\",\"id\":1,\"op\":\"done\",\"task\":1,"
		"\"actor\":\"director\"}", T0 + NS), 403);
	assert_int_equal(req("{\"action\":\"task\",\"id\":1,\"op\":\"done\",\"task\":1,"
		"\"actor\":\"director\",\"assignee\":\"director\"}", T0 + NS), 403);
	assert_int_equal(q1("SELECT count(*) FROM tasks WHERE done_ns IS NOT NULL AND done_ns > 0"), 0);
	/* assigned to the duty member, who has no task step: may mark it done */
	assert_int_equal(req("{\"action\":\"task\",\"id\":1,\"op\":\"assign\",\"task\":1,"
		"\"assignee\":\"oncall\",\"actor\":\"office_head\"}", T0 + NS), 200);
	assert_int_equal(req("{\"action\":\"task\",\"id\":1,\"op\":\"done\",\"task\":1,"
		"\"actor\":\"oncall\"}", T0 + 2 * NS), 200);
}

static void
test_manual_grade_noted_once(void **state)
{
	(void)state;
	event(2, "agent_lost", "{}", T0, T0);
	assert_int_equal(req("{\"action\":\"grade\",\"id\":1,\"grade\":\"一般\",\"reason\":\"核实\","
		"\"actor\":\"director\"}", T0 + NS), 200);
	for (int i = 0; i < 40; i++)
		tick(T0 + 2 * 3600 * NS + i * NS / 4);
	assert_int_equal(q1("SELECT count(*) FROM incident_log WHERE kind='grade' AND actor='system'"), 1);
}

static void
test_regrade_audit_names_from(void **state)
{
	(void)state;
	event(3, "agent_lost", "{}", T0, T0);
	tick(T0 + 2 * NS);
	tick(T0 + 3601 * NS);
	assert_int_equal(q1("SELECT grade FROM incidents WHERE id=1"), 3);
	assert_int_equal(q1("SELECT count(*) FROM audit WHERE action='incident.grade' AND "
		"detail LIKE '%\"from\":\"IV\",\"to\":\"III\"%'"), 1);
}

static void
test_second_miss_escalates(void **state)
{
	char b[1024];
	int64_t before;

	(void)state;
	alert(4, T0, T0);
	for (int64_t t = T0; t <= T0 + 55 * MIN; t += MIN)
		tick(t);
	assert_true(q1("SELECT count(*) FROM incident_log WHERE kind='escalation'") >= 3);
	snprintf(b, sizeof(b), "{\"action\":\"report\",\"id\":1,\"kind\":\"initial\","
		"\"actor\":\"office_head\",%s}", INITIAL);
	assert_int_equal(req(b, T0 + 56 * MIN), 200);
	before = q1("SELECT count(*) FROM incident_log WHERE kind='escalation'");
	for (int64_t t = T0 + 57 * MIN; t <= T0 + 80 * MIN; t += MIN)
		tick(t);
	assert_int_equal(q1("SELECT late FROM incidents WHERE id=1"), 3);
	/* the risk assessment missed at 60 min: the start role at once, then up */
	assert_true(q1("SELECT count(*) FROM incident_log WHERE kind='escalation'") - before >= 2);
	/* ... the first of them at the first tick after the miss (61 min) */
	assert_int_equal(q1("SELECT count(*) FROM incident_log WHERE kind='escalation' AND "
		"time_ns > 1763803600000000000 AND time_ns <= 1763803660000000000"), 1);
}

static void
test_amend_after_deadline_not_late(void **state)
{
	char b[1024];

	(void)state;
	alert(5, T0, T0);
	snprintf(b, sizeof(b), "{\"action\":\"report\",\"id\":1,\"kind\":\"initial\","
		"\"actor\":\"office_head\",%s}", INITIAL);
	assert_int_equal(req(b, T0 + 10 * MIN), 200);
	tick(T0 + 31 * MIN);
	snprintf(b, sizeof(b), "{\"action\":\"report\",\"id\":1,\"kind\":\"initial\",\"amend\":true,"
		"\"actor\":\"office_head\",%s}", INITIAL);
	assert_int_equal(req(b, T0 + 40 * MIN), 200);
	assert_int_equal(q1("SELECT late FROM incidents WHERE id=1"), 0);
	assert_int_equal(q1("SELECT count(*) FROM flags WHERE kind='report_amended'"), 1);
}

static void
test_bad_optional_fields_refused(void **state)
{
	size_t n = 20000;
	char *b = malloc(n + 1024), *big = malloc(n + 1);

	(void)state;
	assert_non_null(b);
	assert_non_null(big);
	memset(big, 'x', n);
	big[n] = '\0';
	alert(6, T0, T0);
	snprintf(b, n + 1024, "{\"action\":\"report\",\"id\":1,\"kind\":\"initial\","
		"\"actor\":\"office_head\",%s}", INITIAL);
	assert_int_equal(req(b, T0 + MIN), 200);
	snprintf(b, n + 1024, "{\"action\":\"report\",\"id\":1,\"kind\":\"followup\","
		"\"actor\":\"office_head\",\"fields\":{\"progress\":\"p\",\"scope\":\"%s\"}}", big);
	assert_int_equal(req(b, T0 + 2 * MIN), 400);
	assert_non_null(strstr(resp.data, "scope"));
	assert_int_equal(req("{\"action\":\"report\",\"id\":1,\"kind\":\"followup\",\"actor\":"
		"\"office_head\",\"fields\":{\"progress\":\"p\",\"scope\":12345}}", T0 + 3 * MIN), 400);
	/* a request field: a note over 4 KiB, an actor that is no string */
	snprintf(b, n + 1024, "{\"action\":\"move\",\"id\":1,\"move\":\"close\",\"actor\":\"director\","
		"\"note\":\"%s\"}", big);
	assert_int_equal(req(b, T0 + 4 * MIN), 400);
	assert_non_null(strstr(resp.data, "note"));
	assert_int_equal(req("{\"action\":\"move\",\"id\":1,\"move\":\"close\",\"actor\":7}",
		T0 + 4 * MIN), 400);
	assert_int_equal(q1("SELECT count(*) FROM reports WHERE kind='followup'"), 0);
	assert_int_equal(q1("SELECT state FROM incidents WHERE id=1") != 8, 1);
	free(b);
	free(big);
}

static void
test_note_of_backslashes(void **state)
{
	char b[8192];
	size_t k;

	(void)state;
	alert(7, T0, T0);
	k = (size_t)snprintf(b, sizeof(b), "{\"action\":\"move\",\"id\":1,\"move\":\"close\","
		"\"actor\":\"director\",\"note\":\"");
	for (int i = 0; i < 3000; i++) {
		b[k++] = '\\';
		b[k++] = '\\';
	}
	snprintf(b + k, sizeof(b) - k, "\"}");
	assert_int_equal(req(b, T0 + MIN), 200);
	assert_int_equal(q1("SELECT state FROM incidents WHERE id=1"), 8);
}

static void
test_latency_overflow(void **state)
{
	(void)state;
	event(8, "tamper", "{\"path\":\"/a\",\"latency_ns\":9223372036854775807}", T0, T0);
	event(8, "tamper", "{\"path\":\"/a\",\"latency_ns\":9223372036854775807}", T0 + NS, T0 + NS);
	assert_int_equal(q1("SELECT count(*) FROM incidents WHERE measures LIKE '%tamper_visible%'"), 1);
}

static void
test_old_stamp_not_late_at_once(void **state)
{
	(void)state;
	event(9, "tamper", TAMPER, T0 - 2 * 3600 * NS, T0);	/* an agent 2 h behind */
	tick(T0 + NS / 4);
	assert_int_equal(q1("SELECT late FROM incidents"), 0);
	assert_int_equal(q1("SELECT count(*) FROM incident_log WHERE kind='escalation'"), 0);
	assert_int_equal(q1("SELECT (" "1763800000000000000" " - detected_ns) / 1000000000 FROM incidents"), 300);
	tick(T0 + 26 * MIN);	/* 30 min after the bounded detection time */
	assert_int_equal(q1("SELECT late FROM incidents"), 1);
}

static void
test_closed_incident_frozen(void **state)
{
	(void)state;
	alert(10, T0, T0);
	assert_int_equal(req("{\"action\":\"move\",\"id\":1,\"move\":\"close\",\"actor\":\"director\"}",
		T0 + MIN), 200);
	assert_int_equal(req("{\"action\":\"grade\",\"id\":1,\"grade\":\"特别重大\",\"reason\":\"x\","
		"\"actor\":\"director\"}", T0 + 2 * MIN), 409);
	assert_int_equal(req("{\"action\":\"task\",\"id\":1,\"op\":\"add\",\"title\":\"t\","
		"\"actor\":\"office_head\"}", T0 + 2 * MIN), 409);
	assert_int_equal(q1("SELECT grade FROM incidents"), 4);
	assert_int_equal(q1("SELECT count(*) FROM tasks"), 0);
}

/* A 较大 incident (records leaked) is closed on day 6: its 30-day summary can
 * still be filed; unfiled, it is marked late once the 30 days are past. */
static void
test_summary_after_close(void **state)
{
	char b[1024];
	int rounds;

	(void)state;
	for (rounds = 0; rounds < 2; rounds++) {
		int64_t id = rounds + 1;

		alert(11 + rounds, T0, T0);
		snprintf(b, sizeof(b), "{\"action\":\"report\",\"id\":%" PRId64 ",\"kind\":\"initial\","
			"\"actor\":\"office_head\",%s}", id, INITIAL);
		assert_int_equal(req(b, T0 + MIN), 200);
		snprintf(b, sizeof(b), "{\"action\":\"report\",\"id\":%" PRId64 ",\"kind\":\"assessment\","
			"\"actor\":\"office_head\",\"fields\":{\"risk\":\"a\",\"impact\":\"b\","
			"\"recommendation\":\"c\"},\"measures\":{\"records_leaked\":5000}}", id);
		assert_int_equal(req(b, T0 + 2 * MIN), 200);
		snprintf(b, sizeof(b), "{\"action\":\"report\",\"id\":%" PRId64 ",\"kind\":\"authority\","
			"\"actor\":\"office_head\",\"fields\":{\"impact\":\"a\",\"measures\":\"b\"}}", id);
		assert_int_equal(req(b, T0 + 3 * MIN), 200);
		snprintf(b, sizeof(b), "{\"action\":\"move\",\"id\":%" PRId64 ",\"move\":\"close\","
			"\"actor\":\"director\"}", id);
		assert_int_equal(req(b, T0 + 6 * DAY), 200);
	}
	assert_int_equal(req("{\"action\":\"report\",\"id\":1,\"kind\":\"summary\",\"actor\":"
		"\"office_head\",\"fields\":{\"summary\":\"30日总结\"}}", T0 + 20 * DAY), 200);
	/* closed: other reports are refused */
	assert_int_equal(req("{\"action\":\"report\",\"id\":2,\"kind\":\"followup\",\"actor\":"
		"\"office_head\",\"fields\":{\"progress\":\"p\"}}", T0 + 20 * DAY), 409);
	tick(T0 + 31 * DAY);
	assert_int_equal(q1("SELECT late FROM incidents WHERE id=1"), 0);
	assert_int_equal(q1("SELECT late FROM incidents WHERE id=2"), 8);
	/* once marked, no longer looked for (and nothing more is said) */
	tick(T0 + 31 * DAY + NS);
	assert_int_equal(q1("SELECT count(*) FROM flags WHERE incident=2 AND kind='late'"), 1);
}

static void
test_every_open_incident_checked(void **state)
{
	(void)state;
	assert_int_equal(db_begin(s), 0);
	for (int a = 1; a <= 10001; a++)
		assert_int_equal(incidents_on_alert(im, s, a, "x", "SQL injection attempt", "high", 1,
			NULL, NULL, a, T0, T0), 0);
	assert_int_equal(db_commit(s), 0);
	incidents_rolled_back(im);	/* no 10,001 messages */
	tick(T0 + 31 * MIN);
	tick(T0 + 31 * MIN + NS / 4);
	assert_int_equal(q1("SELECT late FROM incidents WHERE id=1"), 1);
	assert_int_equal(q1("SELECT late FROM incidents WHERE id=10001"), 1);
}

static void
test_task_due_bounded(void **state)
{
	(void)state;
	alert(13, T0, T0);
	assert_int_equal(req("{\"action\":\"task\",\"id\":1,\"op\":\"add\",\"title\":\"t\","
		"\"due\":\"9223372036s\",\"actor\":\"office_head\"}", T0 + MIN), 400);
	assert_int_equal(req("{\"action\":\"task\",\"id\":1,\"op\":\"add\",\"title\":\"t\","
		"\"due\":\"30d\",\"actor\":\"office_head\"}", T0 + MIN), 200);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_task_done_only_by_stored_assignee, setup, teardown),
		cmocka_unit_test_setup_teardown(test_manual_grade_noted_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_regrade_audit_names_from, setup, teardown),
		cmocka_unit_test_setup_teardown(test_second_miss_escalates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_amend_after_deadline_not_late, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_optional_fields_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_note_of_backslashes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latency_overflow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_old_stamp_not_late_at_once, setup, teardown),
		cmocka_unit_test_setup_teardown(test_closed_incident_frozen, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary_after_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_every_open_incident_checked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_task_due_bounded, setup, teardown),
	};
	struct plan_errors errs;
	char path[128];
	FILE *f;
	int r;

	snprintf(dir, sizeof(dir), "/tmp/test_incident_rules.XXXXXX");
	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(path, sizeof(path), "%s/plan.yaml", dir);
	f = fopen(path, "w");
	if (f == NULL || fputs(plan_text, f) < 0 || fclose(f) != 0)
		return 1;
	if (plan_load(path, &plan, &errs) < 0)
		return 1;
	r = cmocka_run_group_tests(tests, NULL, NULL);
	plan_free(plan);
	/* the temporary directory goes (the mkdtemp template above is no stub) */
	{
		static const char *const left[] = { "plan.yaml", "t.db", "t.db-wal", "t.db-shm", "head" };

		for (size_t i = 0; i < sizeof(left) / sizeof(left[0]); i++) {
			snprintf(path, sizeof(path), "%s/%s", dir, left[i]);
			unlink(path);
		}
		rmdir(dir);
	}
	return r;
}
