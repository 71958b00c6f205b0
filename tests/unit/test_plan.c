/* test_plan.c - the emergency plan file (plan.yaml) into struct plan: both
 * example plans load with what they say; the defaults are the documented
 * ones; and every kind of mistake a bureau's IT staff can make is refused
 * with an error on the line where it is (unknown roles wherever a role is
 * named, escalation loops, deadlines and thresholds out of order, unknown
 * categories and channel kinds, missing and duplicate items, short log
 * retention, bad durations, typos in keys, broken YAML, bad encoding, a file
 * too large), all of them at once rather than only the first. */
#include <errno.h>
#include <fcntl.h>
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
#include "core/xalloc.h"
#include "incident/category.h"
#include "plan/plan.h"
#include "tls/sha256.h"
#include "core/banned.h"

#define SEC	1000000000LL
#define MIN	(60 * SEC)
#define HOUR	(60 * MIN)
#define DAY	(24 * HOUR)

/* --- helpers ------------------------------------------------------------------ */

/* A small valid plan; the line numbers in the comments are the ones the
 * tests below expect. Extra sections are appended from line 21 on. */
static const char base[] =
	"version: 1\n"					/* 1 */
	"organisation: { name: 某县司法局 }\n"		/* 2 */
	"operator_type: party_government\n"		/* 3 */
	"roles:\n"					/* 4 */
	"  - id: leader\n"				/* 5 */
	"    name: 领导小组组长\n"			/* 6 */
	"    may: [activate, approve]\n"		/* 7 */
	"  - id: office\n"				/* 8 */
	"    name: 领导小组办公室主任\n"		/* 9 */
	"    may: [report, assess, task]\n"		/* 10 */
	"    escalates_to: leader\n"			/* 11 */
	"members:\n"					/* 12 */
	"  - id: director\n"				/* 13 */
	"    name: 局长\n"				/* 14 */
	"    roles: [leader]\n"				/* 15 */
	"  - id: office_head\n"				/* 16 */
	"    name: 办公室主任\n"			/* 17 */
	"    roles: [office]\n"				/* 18 */
	"escalation:\n"					/* 19 */
	"  start: office\n";				/* 20 */

static void
print_errors(const struct plan_errors *e)
{
	for (size_t i = 0; i < e->n; i++)
		print_message("  line %u: %s\n", e->items[i].line, e->items[i].msg);
}

/* Parse exactly len bytes of a private copy (ASan sees any over-read). */
static int
parse_n(const char *text, size_t len, struct plan **ret, struct plan_errors *errs)
{
	char *p = xmalloc(len ? len : 1);
	int r;

	memcpy(p, text, len);
	r = plan_parse(p, len, "t/plan.yaml", ret, errs);
	free(p);
	return r;
}

static struct plan *
parse_ok(const char *text)
{
	struct plan_errors errs;
	struct plan *p = NULL;
	int r = parse_n(text, strlen(text), &p, &errs);

	if (r != 0)
		print_errors(&errs);
	assert_int_equal(r, 0);
	assert_int_equal(errs.n, 0);
	assert_non_null(p);
	return p;
}

/* The text of base with from (which must occur once) replaced by to. */
static char *
with(const char *from, const char *to)
{
	const char *at = strstr(base, from);
	struct buf b;

	assert_non_null(at);
	assert_null(strstr(at + 1, from));
	buf_init(&b, 0);
	buf_append(&b, base, (size_t)(at - base));
	buf_puts(&b, to);
	buf_puts(&b, at + strlen(from));
	return buf_detach(&b, NULL);
}

static char *
plus(const char *extra)
{
	return xasprintf("%s%s", base, extra);
}

static bool
has_error(const struct plan_errors *e, unsigned line, const char *substr)
{
	for (size_t i = 0; i < e->n; i++)
		if (e->items[i].line == line && strstr(e->items[i].msg, substr) != NULL)
			return true;
	return false;
}

/* text is refused with, among its errors, one on line that says substr.
 * Takes text (free()d). */
static void
refused(char *text, unsigned line, const char *substr)
{
	struct plan_errors errs;
	struct plan *p = NULL;
	int r = parse_n(text, strlen(text), &p, &errs);

	if (r == 0 || !has_error(&errs, line, substr)) {
		print_message("expected an error on line %u containing \"%s\"; got:\n", line, substr);
		print_errors(&errs);
	}
	assert_int_equal(r, -EINVAL);
	assert_null(p);
	assert_true(has_error(&errs, line, substr));
	free(text);
}

static char *
data_path(const char *rel)
{
	const char *d = getenv("YINGJI_TEST_DATA");

	if (d == NULL)
		return xstrdup(rel);
	/* tests/data -> the source root, by name: in a fresh clone tests/data
	 * may not exist (git keeps no empty directory), so no "..". */
	{
		size_t n = strlen(d);

		if (n >= 11 && strcmp(d + n - 11, "/tests/data") == 0)
			return xasprintf("%.*s/%s", (int)(n - 11), d, rel);
		return xasprintf("%s/../../%s", d, rel);
	}
}

static struct plan *
load_example(const char *rel)
{
	struct plan_errors errs;
	struct plan *p = NULL;
	char *path = data_path(rel);
	int r = plan_load(path, &p, &errs);

	if (r != 0) {
		print_message("%s:\n", path);
		print_errors(&errs);
	}
	assert_int_equal(r, 0);
	assert_int_equal(errs.n, 0);
	free(path);
	return p;
}

static int
cat(const char *name)
{
	int c = gbt_category_find(name);

	assert_true(c >= 0);
	return c;
}

static int
sub(int c, const char *name)
{
	int s = gbt_subcategory_find(c, name);

	assert_true(s >= 0);
	return s;
}

static const struct plan_action_rule *
action_of(const struct plan_playbook *pb, const char *name)
{
	for (size_t i = 0; i < pb->nactions; i++)
		if (strcmp(pb->actions[i].action, name) == 0)
			return &pb->actions[i];
	fail_msg("no action %s", name);
	return NULL;
}

/* --- the examples ------------------------------------------------------------- */

static void
county_example_loads(void **state)
{
	struct plan *p = load_example("plans/county.yaml");
	int attack = cat("网络攻击事件"), leader = plan_role_find(p, "leader");
	const struct plan_playbook *pb;
	const struct plan_action_rule *a;
	int64_t v[MEASURE_COUNT] = { -1, -1, -1, -1, -1 };
	static const uint8_t zero[32];

	assert_string_equal(p->name, "某县司法局");
	assert_int_equal(p->operator_type, OPERATOR_PARTY_GOV);
	assert_int_equal(p->initial_report_ns, 30 * MIN);
	assert_int_equal(p->risk_assessment_ns, HOUR);
	assert_int_equal(p->authority_report_ns, 2 * HOUR);
	assert_int_equal(p->authority_from_grade, GRADE_III);
	assert_int_equal(p->summary_ns, 30 * DAY);
	assert_true(leader >= 0);
	assert_int_equal(p->escalation_start, plan_role_find(p, "office"));
	assert_int_equal(p->nescalation_channels, 2);
	assert_true(plan_member_may(p, plan_member_find(p, "director"), STEP_ACTIVATE));
	assert_false(plan_member_may(p, plan_member_find(p, "it_admin"), STEP_APPROVE));
	assert_true(plan_member_may(p, plan_member_find(p, "it_admin"), STEP_REPORT));
	assert_int_equal(p->channels[plan_channel_find(p, "robot")].kind, CHANNEL_WECOM);
	assert_int_equal(p->channels[plan_channel_find(p, "robot")].timeout_ns, 5 * SEC);
	assert_int_equal(p->channels[plan_channel_find(p, "mail")].kind, CHANNEL_EMAIL);
	assert_int_equal(p->audit_anchor_channel, plan_channel_find(p, "robot"));
	assert_int_equal(p->audit_anchor_minute, 6 * 60);
	assert_int_equal(p->retention_days, 180);
	assert_memory_not_equal(p->sha256, zero, sizeof(zero));
	assert_non_null(strstr(p->source_path, "county.yaml"));
	{
		/* The digest is of the file's bytes (it goes into the audit trail). */
		char *path = data_path("plans/county.yaml");
		FILE *f = fopen(path, "r");
		char *text = xmalloc(PLAN_MAX_FILE);
		uint8_t d[SHA256_LEN];
		size_t n;

		assert_non_null(f);
		n = fread(text, 1, PLAN_MAX_FILE, f);
		fclose(f);
		sha256_buf(text, n, d);
		assert_memory_equal(p->sha256, d, sizeof(d));
		free(text);
		free(path);
	}

	/* Web tampering: its own playbook; block runs alone up to 较大. */
	pb = plan_playbook_for(p, attack, sub(attack, "网页篡改事件"));
	assert_non_null(pb);
	assert_int_equal(pb->subcategory, sub(attack, "web_tamper"));
	assert_true(pb->ntasks >= 3);
	assert_true(pb->tasks[0].due_ns > 0);
	a = action_of(pb, "block");
	assert_true(a->automatic);
	assert_int_equal(a->auto_up_to, GRADE_III);
	a = action_of(pb, "isolate");
	assert_false(a->automatic);
	assert_int_equal(a->napprovers, 1);
	assert_int_equal(a->approvers[0], leader);
	/* Brute force: block always automatic. */
	pb = plan_playbook_for(p, attack, sub(attack, "凭据攻击事件"));
	assert_non_null(pb);
	a = action_of(pb, "block");
	assert_true(a->automatic);
	assert_int_equal(a->auto_up_to, GRADE_I);
	/* A subcategory without its own playbook gets the category's. */
	pb = plan_playbook_for(p, attack, sub(attack, "拒绝服务事件"));
	assert_non_null(pb);
	assert_int_equal(pb->subcategory, -1);
	assert_non_null(plan_playbook_for(p, cat("信息内容安全事件"), -1));
	assert_non_null(plan_playbook_for(p, cat("设备设施故障事件"), 0));
	assert_null(plan_playbook_for(p, cat("不可抗力事件"), -1));

	/* Grading: the most severe grade any measure reaches. */
	assert_int_equal(plan_grade_for(p, v), GRADE_NONE);
	v[MEASURE_PORTAL_DOWN] = 5 * 60;
	assert_int_equal(plan_grade_for(p, v), GRADE_NONE);
	v[MEASURE_PORTAL_DOWN] = 11 * 60;
	assert_int_equal(plan_grade_for(p, v), GRADE_IV);
	v[MEASURE_PORTAL_DOWN] = 6 * 3600;
	assert_int_equal(plan_grade_for(p, v), GRADE_III);
	v[MEASURE_RECORDS_LEAKED] = 20000000;
	assert_int_equal(plan_grade_for(p, v), GRADE_II);
	v[MEASURE_TAMPER_VISIBLE] = 0;		/* restored at once: nothing */
	assert_int_equal(plan_grade_for(p, v), GRADE_II);
	plan_free(p);
}

static void
city_example_loads(void **state)
{
	struct plan *p = load_example("plans/city.yaml");
	int attack = cat("network_attack");
	const struct plan_playbook *pb;
	const struct plan_channel *ch;

	assert_string_equal(p->name, "某市司法局");
	assert_int_equal(p->operator_type, OPERATOR_PARTY_GOV);
	assert_int_equal(p->escalation_start, plan_role_find(p, "team_lead"));
	/* team_lead -> deputy -> leader, and the top has no one above. */
	assert_int_equal(p->roles[p->escalation_start].escalates_to, plan_role_find(p, "deputy"));
	assert_int_equal(p->roles[plan_role_find(p, "deputy")].escalates_to,
		plan_role_find(p, "leader"));
	assert_int_equal(p->roles[plan_role_find(p, "leader")].escalates_to, -1);
	ch = &p->channels[plan_channel_find(p, "ding")];
	assert_int_equal(ch->kind, CHANNEL_DINGTALK);
	assert_non_null(ch->secret);
	ch = &p->channels[plan_channel_find(p, "mail")];
	assert_int_equal(ch->kind, CHANNEL_EMAIL);
	assert_string_equal(ch->from, "yingji@example.gov.cn");
	assert_non_null(ch->username);
	assert_int_equal(ch->timeout_ns, 10 * SEC);
	assert_int_equal(ch->retries, 5);
	assert_int_equal(p->channels[plan_channel_find(p, "duty_system")].kind, CHANNEL_WEBHOOK);
	assert_int_equal(p->retention_days, 365);
	pb = plan_playbook_for(p, attack, sub(attack, "hidden_link"));
	assert_non_null(pb);
	assert_int_equal(pb->subcategory, sub(attack, "暗链植入事件"));
	/* lock_account: automatic for 一般 only, otherwise the deputy approves. */
	pb = plan_playbook_for(p, attack, sub(attack, "credential_attack"));
	assert_int_equal(action_of(pb, "lock_account")->auto_up_to, GRADE_IV);
	assert_int_equal(action_of(pb, "lock_account")->napprovers, 1);
	assert_non_null(plan_playbook_for(p, cat("数据安全事件"), sub(cat("数据安全事件"),
		"数据泄露事件")));
	plan_free(p);
}

/* --- defaults and accepted forms ------------------------------------------------ */

static void
defaults_are_the_documented_ones(void **state)
{
	char *text = plus("channels:\n  - { id: hook, type: webhook, url: \"https://10.0.0.5/h\" }\n");
	struct plan *p = parse_ok(text);

	assert_int_equal(p->initial_report_ns, 30 * MIN);
	assert_int_equal(p->risk_assessment_ns, HOUR);
	assert_int_equal(p->authority_report_ns, 2 * HOUR);
	assert_int_equal(p->authority_from_grade, GRADE_III);
	assert_int_equal(p->summary_ns, 30 * DAY);
	assert_int_equal(p->escalation_step_ns, 15 * MIN);
	assert_int_equal(p->grouping_window_ns, 30 * MIN);
	assert_int_equal(p->portal_down_limit_ns, 6 * HOUR);
	assert_int_equal(p->retention_days, 180);
	assert_int_equal(p->audit_anchor_channel, -1);
	assert_int_equal(p->audit_anchor_minute, 6 * 60);
	assert_int_equal(p->channels[0].timeout_ns, 10 * SEC);
	assert_int_equal(p->channels[0].retries, 5);
	/* No escalation.channels: every channel. */
	assert_int_equal(p->nescalation_channels, 1);
	assert_string_equal(p->unit, "某县司法局");	/* unit defaults to the name */
	assert_null(p->authority);
	assert_int_equal(p->nplaybooks, 0);
	for (int m = 0; m < MEASURE_COUNT; m++)
		assert_false(p->thresholds[m].set);
	plan_free(p);
	free(text);
}

static void
authority_clock_follows_operator_type(void **state)
{
	char *cii = with("party_government", "cii"), *other = with("party_government", "other");
	struct plan *p = parse_ok(cii);

	assert_int_equal(p->operator_type, OPERATOR_CII);
	assert_int_equal(p->authority_report_ns, HOUR);
	plan_free(p);
	p = parse_ok(other);
	assert_int_equal(p->operator_type, OPERATOR_OTHER);
	assert_int_equal(p->authority_report_ns, 4 * HOUR);
	plan_free(p);
	free(cii);
	free(other);
}

static void
deadlines_in_seconds_allowed(void **state)
{
	/* Tests and drills use short clocks: any positive duration goes. */
	char *step = with("  start: office\n", "  start: office\n  step: 1s\n");
	char *text = xasprintf("%sclocks:\n  initial_report: 3s\n  risk_assessment: 5s\n"
		"  authority_report: 7s\n  summary: 20s\n  authority_from_grade: 一般\n"
		"grouping: { window: 2s }\n", step);
	struct plan *p = parse_ok(text);

	assert_int_equal(p->initial_report_ns, 3 * SEC);
	assert_int_equal(p->risk_assessment_ns, 5 * SEC);
	assert_int_equal(p->authority_report_ns, 7 * SEC);
	assert_int_equal(p->summary_ns, 20 * SEC);
	assert_int_equal(p->authority_from_grade, GRADE_IV);
	assert_int_equal(p->escalation_step_ns, SEC);
	assert_int_equal(p->grouping_window_ns, 2 * SEC);
	plan_free(p);
	free(text);
	free(step);
}

static void
grade_and_step_names(void **state)
{
	static const char *const ii[] = { "重大", "II", "ii", "2", "Ⅱ", "Ⅱ级", "Ⅱ级响应", "重大事件" };
	enum plan_grade g;
	enum plan_step s;

	for (size_t i = 0; i < sizeof(ii) / sizeof(ii[0]); i++) {
		g = GRADE_NONE;
		assert_int_equal(plan_grade_parse(ii[i], &g), 0);
		assert_int_equal(g, GRADE_II);
	}
	assert_int_equal(plan_grade_parse("特别重大", &g), 0);
	assert_int_equal(g, GRADE_I);
	assert_int_equal(plan_grade_parse("一般", &g), 0);
	assert_int_equal(g, GRADE_IV);
	assert_int_equal(plan_grade_parse("较小", &g), -EINVAL);
	assert_int_equal(plan_grade_parse("V", &g), -EINVAL);
	assert_int_equal(plan_grade_parse("", &g), -EINVAL);
	assert_string_equal(plan_grade_name(GRADE_I), "特别重大");
	assert_string_equal(plan_grade_name(GRADE_III), "较大");
	assert_string_equal(plan_grade_key(GRADE_IV), "IV");
	assert_string_equal(plan_grade_colour(GRADE_II), "橙");
	assert_string_equal(plan_grade_colour_key(GRADE_IV), "blue");
	assert_string_equal(plan_grade_response(GRADE_I), "Ⅰ级");
	for (int i = 0; i < STEP_COUNT; i++) {
		assert_int_equal(plan_step_parse(plan_step_name((enum plan_step)i), &s), 0);
		assert_int_equal(s, i);
	}
	assert_string_equal(plan_step_name(STEP_NOTIFY_AUTHORITY), "report_authority");
	assert_int_equal(plan_step_parse("Activate", &s), -EINVAL);
	assert_string_equal(plan_channel_kind_name(CHANNEL_FEISHU), "feishu");
	assert_string_equal(plan_measure_name(MEASURE_DIRECT_LOSS), "direct_loss");
	plan_free(NULL);
}

static void
thresholds_and_grade_for(void **state)
{
	char *text = plus("grading:\n"
		"  tamper_visible: { 一般: 0s, 较大: 1h, 重大: 6h }\n"
		"  direct_loss:\n"
		"    较大: 100_000\n"
		"    重大: 1000000\n");
	struct plan *p = parse_ok(text);
	int64_t v[MEASURE_COUNT] = { -1, -1, -1, -1, -1 };

	assert_true(p->thresholds[MEASURE_TAMPER_VISIBLE].set);
	assert_int_equal(p->thresholds[MEASURE_TAMPER_VISIBLE].at[GRADE_IV], 1);	/* 0: any */
	assert_int_equal(p->thresholds[MEASURE_TAMPER_VISIBLE].at[GRADE_III], 3600);
	assert_int_equal(p->thresholds[MEASURE_TAMPER_VISIBLE].at[GRADE_I], 0);		/* unset */
	assert_int_equal(p->thresholds[MEASURE_DIRECT_LOSS].at[GRADE_III], 100000);
	v[MEASURE_TAMPER_VISIBLE] = 30;
	assert_int_equal(plan_grade_for(p, v), GRADE_IV);
	v[MEASURE_DIRECT_LOSS] = 99999;
	assert_int_equal(plan_grade_for(p, v), GRADE_IV);
	v[MEASURE_DIRECT_LOSS] = 100000;
	assert_int_equal(plan_grade_for(p, v), GRADE_III);
	v[MEASURE_TAMPER_VISIBLE] = 7 * 3600;
	assert_int_equal(plan_grade_for(p, v), GRADE_II);
	v[MEASURE_DIRECT_LOSS] = 5000000000LL;	/* no 特别重大 threshold: stays 重大 */
	assert_int_equal(plan_grade_for(p, v), GRADE_II);
	plan_free(p);
	free(text);
}

/* --- roles, escalation ---------------------------------------------------------- */

static void
unknown_role_in_member(void **state)
{
	refused(with("roles: [leader]", "roles: [leader, leadr]"), 15, "unknown role \"leadr\"");
	refused(with("roles: [office]", "roles: []"), 18, "at least one role");
}

/* duty: the member a step without a named member acts as. */
static void
duty_member(void **state)
{
	struct plan *p = parse_ok(base);
	char *text;

	assert_int_equal(p->duty_member, -1);
	plan_free(p);
	text = plus("duty: office_head\n");
	p = parse_ok(text);
	assert_int_equal(p->duty_member, plan_member_find(p, "office_head"));
	assert_true(plan_member_may(p, p->duty_member, STEP_REPORT));
	assert_false(plan_member_may(p, p->duty_member, STEP_ACTIVATE));
	plan_free(p);
	free(text);
	refused(plus("duty: nobody\n"), 21, "unknown member \"nobody\"");
}

static void
unknown_role_in_escalation(void **state)
{
	refused(with("start: office", "start: ofice"), 20, "unknown role \"ofice\"");
	refused(with("escalates_to: leader", "escalates_to: boss"), 11, "unknown role \"boss\"");
}

static void
unknown_role_in_task_and_approvers(void **state)
{
	refused(plus("playbooks:\n"					/* 21 */
		"  - category: 网络攻击事件\n"				/* 22 */
		"    tasks:\n"						/* 23 */
		"      - { title: 核实, role: officer, due: 15m }\n"),	/* 24 */
		24, "unknown role \"officer\"");
	refused(plus("playbooks:\n"
		"  - category: 网络攻击事件\n"
		"    actions:\n"					/* 23 */
		"      - action: isolate\n"				/* 24 */
		"        approve: [leader, chief]\n"),			/* 25 */
		25, "unknown role \"chief\"");
	/* An approver must be a role that may approve. */
	refused(plus("playbooks:\n"
		"  - category: 网络攻击事件\n"
		"    actions:\n"
		"      - action: isolate\n"
		"        approve: office\n"),
		25, "may not approve");
}

static void
escalation_loop_refused(void **state)
{
	/* leader -> office -> leader. */
	char *text = with("    may: [activate, approve]\n",
		"    may: [activate, approve]\n    escalates_to: office\n");

	/* leader's escalates_to is on line 8, office's on line 12. */
	refused(text, 12, "loops: leader → office → leader");
	refused(with("escalates_to: leader", "escalates_to: office"), 11, "escalates to itself");
}

static void
longer_escalation_loop_refused(void **state)
{
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b,
		"organisation: { name: 某市司法局 }\n"	/* 1 */
		"operator_type: other\n"		/* 2 */
		"roles:\n"				/* 3 */
		"  - { id: a, name: A, may: [activate], escalates_to: b }\n"	/* 4 */
		"  - { id: b, name: B, escalates_to: c }\n"			/* 5 */
		"  - { id: c, name: C, escalates_to: a }\n"			/* 6 */
		"  - { id: d, name: D, escalates_to: a }\n"			/* 7 */
		"members: [{ id: m, name: M, roles: [a, d] }]\n"		/* 8 */
		"escalation: { start: d }\n");					/* 9 */
	refused(buf_detach(&b, NULL), 6, "loops: a → b → c → a");
}

static void
no_role_may_activate(void **state)
{
	refused(with("may: [activate, approve]", "may: [approve]"), 4, "no role may start the plan");
	refused(with("may: [activate, approve]", "may: [activate, aprove]"), 7,
		"unknown step \"aprove\"");
}

/* --- clocks ----------------------------------------------------------------------- */

static void
deadlines_out_of_order(void **state)
{
	refused(plus("clocks:\n"			/* 21 */
		"  initial_report: 2h\n"		/* 22 */
		"  risk_assessment: 1h\n"),		/* 23 */
		23, "initial_report (2h) must not come after risk_assessment (1h)");
	/* Against the default risk assessment (1 h). */
	refused(plus("clocks:\n  initial_report: 90m\n"), 22, "initial_report (1h30m)");
	refused(plus("clocks:\n"			/* 21 */
		"  authority_report: 3d\n"		/* 22 */
		"  summary: 2d\n"),			/* 23 */
		23, "authority_report (3d) must not come after summary (2d)");
	refused(plus("clocks:\n  initial_report: 0s\n"), 22, "above zero");
}

static void
escalation_step_must_be_positive(void **state)
{
	refused(with("  start: office\n", "  start: office\n  step: 0\n"), 21, "above zero");
	refused(with("  start: office\n", "  start: office\n  step: -5m\n"), 21, "negative");
}

static void
bad_durations(void **state)
{
	refused(plus("clocks:\n  initial_report: 30x\n"), 22, "not a duration");
	refused(plus("clocks:\n  risk_assessment: soon\n"), 22, "not a duration");
	refused(plus("grouping: { window: 1y }\n"), 21, "not a duration");
	refused(plus("clocks:\n  summary: 400d\n"), 22, "too long");
	refused(plus("clocks:\n  summary: 99999999999999999999d\n"), 22, "too long");
	refused(plus("accountability: { portal_down_limit: [6h] }\n"), 21, "expected text");
}

/* --- grading ---------------------------------------------------------------------- */

static void
thresholds_out_of_order(void **state)
{
	refused(plus("grading:\n"			/* 21 */
		"  records_leaked:\n"			/* 22 */
		"    一般: 100\n"			/* 23 */
		"    较大: 10\n"),			/* 24 */
		23, "threshold for 一般 is above the one for the more severe 较大");
	/* Skipping a grade: 较大 is compared with 特别重大. */
	refused(plus("grading:\n  portal_down: { 较大: 80h, 特别重大: 72h }\n"), 22,
		"threshold for 较大");
	refused(plus("grading:\n  portal_down: { 较小: 1h }\n"), 22, "unknown grade \"较小\"");
	refused(plus("grading:\n  portal_down: { 一般: 1h, IV: 2h }\n"), 22, "given twice");
	refused(plus("grading:\n  records_leaked: { 一般: -1 }\n"), 22, "not a whole number");
	refused(plus("grading:\n  portal_dwon: { 一般: 1h }\n"), 22,
		"unknown key \"portal_dwon\" (did you mean \"portal_down\"?)");
}

/* --- playbooks -------------------------------------------------------------------- */

static void
unknown_category_or_subcategory(void **state)
{
	refused(plus("playbooks:\n  - category: 网络病毒事件\n"), 22, "unknown category");
	refused(plus("playbooks:\n"			/* 21 */
		"  - category: 网络攻击事件\n"		/* 22 */
		"    subcategory: 网页涂改事件\n"),	/* 23 */
		23, "has no subcategory \"网页涂改事件\"");
	/* A subcategory of another category. */
	refused(plus("playbooks:\n  - category: 恶意程序事件\n    subcategory: web_tamper\n"), 23,
		"has no subcategory");
	refused(plus("playbooks:\n  - subcategory: web_tamper\n"), 22, "category is missing");
}

static void
actions_checked(void **state)
{
	refused(plus("playbooks:\n"			/* 21 */
		"  - category: 网络攻击事件\n"		/* 22 */
		"    actions:\n"			/* 23 */
		"      - { action: block }\n"),		/* 24 */
		24, "neither automatic nor has approvers");
	refused(plus("playbooks:\n  - category: 网络攻击事件\n    actions:\n"
		"      - { action: shutdown, automatic: true }\n"), 24, "unknown action \"shutdown\"");
	refused(plus("playbooks:\n  - category: 网络攻击事件\n    actions:\n"
		"      - { action: block, automatic: maybe }\n"), 24, "true or false");
	refused(plus("playbooks:\n  - category: 网络攻击事件\n    actions:\n"
		"      - { action: block, up_to: 较大, approve: [leader] }\n"), 24, "automatic: true");
	refused(plus("playbooks:\n  - category: 网络攻击事件\n    actions:\n"
		"      - { action: block, automatic: true }\n"
		"      - { action: block, approve: [leader] }\n"), 25, "given twice");
}

static void
automatic_up_to_defaults_approvers(void **state)
{
	/* Beyond up_to, with no approve list, any role that may approve. */
	char *text = plus("playbooks:\n  - category: 网络攻击事件\n    actions:\n"
		"      - { action: block, automatic: true, up_to: 较大 }\n");
	struct plan *p = parse_ok(text);
	const struct plan_action_rule *a = &p->playbooks[0].actions[0];

	assert_true(a->automatic);
	assert_int_equal(a->auto_up_to, GRADE_III);
	assert_int_equal(a->napprovers, 1);
	assert_int_equal(a->approvers[0], plan_role_find(p, "leader"));
	plan_free(p);
	free(text);
}

static void
duplicate_playbook_refused(void **state)
{
	refused(plus("playbooks:\n"				/* 21 */
		"  - category: 网络攻击事件\n"			/* 22 */
		"    subcategory: 网页篡改事件\n"		/* 23 */
		"  - category: network_attack\n"		/* 24 */
		"    subcategory: web_tamper\n"),		/* 25 */
		24, "already has a playbook (line 22)");
}

/* --- channels --------------------------------------------------------------------- */

static void
channels_checked(void **state)
{
	refused(plus("channels:\n"						/* 21 */
		"  - { id: robot, type: wechat, url: \"http://10.0.0.5/hook\" }\n"),	/* 22 */
		22, "unknown channel type \"wechat\"");
	refused(plus("channels:\n  - { id: robot, type: wecom, url: \"ftp://10.0.0.5/hook\" }\n"),
		22, "http:// or https://");
	refused(plus("channels:\n  - { id: m, type: email, url: \"http://mail.example.gov.cn\","
		" from: a@example.gov.cn }\n"), 22, "smtp:// or smtps://");
	refused(plus("channels:\n  - { id: m, type: email, url: \"smtp://mail.example.gov.cn\" }\n"),
		22, "needs from");
	refused(plus("channels:\n  - { id: w, type: wecom, url: \"http://h/\", secret: x }\n"), 22,
		"signing secret");
	refused(plus("channels:\n  - { id: w, type: webhook, url: \"http://h/\", retries: 1000 }\n"),
		22, "too large");
	refused(plus("channels:\n  - { id: w, type: webhook }\n"), 22, "url is missing");
	refused(plus("escalation_channels: []\n"), 21, "unknown key");
	refused(with("  start: office\n", "  start: office\n  channels: [robot]\n"), 21,
		"unknown channel \"robot\"");
	refused(plus("audit: { anchor_channel: robot }\n"), 21, "unknown channel \"robot\"");
}

/* --- required, duplicates, unknown keys ------------------------------------------ */

static void
missing_required_fields(void **state)
{
	refused(with("organisation: { name: 某县司法局 }", "organisation: { unit: 办公室 }"), 2,
		"name is missing");
	refused(with("operator_type: party_government", "operator_typ: party_government"), 0,
		"operator_type is missing");
	refused(with("operator_type: party_government", "operator_type: government"), 3,
		"unknown \"government\"");
	refused(with("escalation:\n  start: office\n", "escalation:\n  step: 15m\n"), 19,
		"start is missing");
	refused(with("escalation:\n  start: office\n", ""), 0, "escalation is missing");
	refused(with("    name: 局长\n", ""), 13, "name is missing");
	refused(with("  - id: office_head\n", "  - ID: office_head\n"), 16, "id is missing");
	refused(xasprintf("organisation: { name: x }\noperator_type: other\n"), 0,
		"roles is missing");
}

static void
duplicate_ids_refused(void **state)
{
	refused(with("  - id: office\n", "  - id: leader\n"), 8, "id \"leader\" used twice (first on "
		"line 5)");
	refused(with("  - id: office_head\n", "  - id: director\n"), 16, "used twice");
	refused(plus("channels:\n"
		"  - { id: robot, type: webhook, url: \"http://h/1\" }\n"	/* 22 */
		"  - { id: robot, type: webhook, url: \"http://h/2\" }\n"),	/* 23 */
		23, "used twice (first on line 22)");
	refused(with("version: 1\n", "operator_type: other\n"), 3, "given twice (first on line 1)");
}

static void
retention_below_180_refused(void **state)
{
	refused(plus("audit: { retention_days: 179 }\n"), 21, "at least 180 days");
	refused(plus("audit: { retention_days: 0 }\n"), 21, "at least 180 days");
	refused(plus("audit: { anchor_at: \"25:00\" }\n"), 21, "not a time of day");
}

static void
unknown_keys_reported(void **state)
{
	/* A typo must never silently fall back to a default. */
	refused(plus("escalaton: { start: office }\n"), 21,
		"unknown key \"escalaton\" (did you mean \"escalation\"?)");
	refused(with("    escalates_to: leader\n", "    escalate_to: leader\n"), 11,
		"unknown key \"escalate_to\" (did you mean \"escalates_to\"?)");
	refused(plus("clocks:\n  initial_reports: 30m\n"), 22, "unknown key \"initial_reports\"");
	refused(with("    roles: [leader]\n", "    roles: [leader]\n    contact: { mail: a@b }\n"),
		16, "unknown key \"mail\"");
	refused(plus("colour: red\n"), 21, "unknown key \"colour\"");
}

/* --- the file as a whole ------------------------------------------------------------ */

static void
root_not_a_map(void **state)
{
	refused(xasprintf("- roles\n- members\n"), 1, "must be a map");
	refused(xasprintf("just text\n"), 1, "must be a map");
	refused(xasprintf("# only a comment\n"), 0, "empty");
	refused(xasprintf("%s", ""), 0, "empty");
}

static void
malformed_yaml(void **state)
{
	refused(with("    may: [report, assess, task]\n", "    may: [report, assess, task\n"), 11,
		"malformed YAML");
	refused(xasprintf("a: 1\n  b: 2\nc: [\n"), 2, "malformed YAML");
	refused(xasprintf("%s---\nversion: 1\n", base), 21, "one YAML document");
	refused(xasprintf("a: &x 1\nb: *x\n"), 1, "unusable YAML");
}

static void
invalid_utf8_refused(void **state)
{
	refused(with("局长", "\xe5\xb1\x80\xff"), 14, "UTF-8");
	/* An escape that makes a NUL is refused too. */
	refused(with("name: 局长", "name: \"a\\0b\""), 14, "NUL");
	refused(with("name: 局长", "name: \"a\\nb\""), 14, "control character");
}

static void
oversize_file_refused(void **state)
{
	struct plan_errors errs;
	struct plan *p = NULL;
	size_t len = PLAN_MAX_FILE + 1;
	char *big = xmalloc(len), path[] = "/tmp/yj-test-plan.XXXXXX";
	int fd;

	memset(big, '#', len);
	assert_int_equal(parse_n(big, len, &p, &errs), -EINVAL);
	assert_null(p);
	assert_true(has_error(&errs, 0, "too large"));

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, big, len), (ssize_t)len);
	close(fd);
	assert_int_equal(plan_load(path, &p, &errs), -EFBIG);
	assert_null(p);
	assert_true(has_error(&errs, 0, "too large"));
	unlink(path);
	free(big);

	assert_int_equal(plan_load("/nonexistent/plan.yaml", &p, &errs), -ENOENT);
	assert_int_equal(errs.n, 1);
	assert_int_equal(plan_load("/tmp", &p, &errs), -EINVAL);
	assert_true(has_error(&errs, 0, "not a regular file"));
}

static void
every_error_reported_in_file_order(void **state)
{
	char *bad_role = with("escalates_to: leader", "escalates_to: lead");	/* 11 */
	char *text = xasprintf("%s"
		"clocks:\n"				/* 21 */
		"  initial_report: 30x\n"		/* 22 */
		"audit: { retention_days: 30 }\n"	/* 23 */
		"playbooks:\n"				/* 24 */
		"  - category: 网络病毒事件\n",		/* 25 */
		bad_role);
	struct plan_errors errs;
	struct plan *p = NULL;

	assert_int_equal(parse_n(text, strlen(text), &p, &errs), -EINVAL);
	if (errs.n != 4)
		print_errors(&errs);
	assert_int_equal(errs.n, 4);
	assert_int_equal(errs.items[0].line, 11);
	assert_int_equal(errs.items[1].line, 22);
	assert_int_equal(errs.items[2].line, 23);
	assert_int_equal(errs.items[3].line, 25);
	assert_false(errs.truncated);
	free(text);
	free(bad_role);
}

static void
too_many_errors_truncated(void **state)
{
	struct plan_errors errs;
	struct plan *p = NULL;
	struct buf b;

	buf_init(&b, 0);
	buf_puts(&b, base);
	for (int i = 0; i < 150; i++)
		buf_appendf(&b, "typo%d: 1\n", i);
	assert_int_equal(parse_n(b.data, b.len, &p, &errs), -EINVAL);
	assert_int_equal(errs.n, PLAN_MAX_ERRORS);
	assert_true(errs.truncated);
	buf_release(&b);
}

static void
truncated_examples_never_crash(void **state)
{
	/* Every prefix of a real plan parses or is refused cleanly. */
	char *path = data_path("plans/city.yaml");
	FILE *f = fopen(path, "r");
	char *text = xmalloc(PLAN_MAX_FILE);
	size_t len;

	assert_non_null(f);
	len = fread(text, 1, PLAN_MAX_FILE, f);
	fclose(f);
	for (size_t n = 0; n < len; n += 37) {
		struct plan_errors errs;
		struct plan *p = NULL;
		int r = parse_n(text, n, &p, &errs);

		assert_true(r == 0 || (r == -EINVAL && errs.n > 0));
		for (size_t i = 0; i < errs.n; i++)
			assert_true(errs.items[i].msg[0] != '\0');
		plan_free(p);
	}
	free(text);
	free(path);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(county_example_loads),
		cmocka_unit_test(city_example_loads),
		cmocka_unit_test(defaults_are_the_documented_ones),
		cmocka_unit_test(authority_clock_follows_operator_type),
		cmocka_unit_test(deadlines_in_seconds_allowed),
		cmocka_unit_test(grade_and_step_names),
		cmocka_unit_test(thresholds_and_grade_for),
		cmocka_unit_test(unknown_role_in_member),
		cmocka_unit_test(duty_member),
		cmocka_unit_test(unknown_role_in_escalation),
		cmocka_unit_test(unknown_role_in_task_and_approvers),
		cmocka_unit_test(escalation_loop_refused),
		cmocka_unit_test(longer_escalation_loop_refused),
		cmocka_unit_test(no_role_may_activate),
		cmocka_unit_test(deadlines_out_of_order),
		cmocka_unit_test(escalation_step_must_be_positive),
		cmocka_unit_test(bad_durations),
		cmocka_unit_test(thresholds_out_of_order),
		cmocka_unit_test(unknown_category_or_subcategory),
		cmocka_unit_test(actions_checked),
		cmocka_unit_test(automatic_up_to_defaults_approvers),
		cmocka_unit_test(duplicate_playbook_refused),
		cmocka_unit_test(channels_checked),
		cmocka_unit_test(missing_required_fields),
		cmocka_unit_test(duplicate_ids_refused),
		cmocka_unit_test(retention_below_180_refused),
		cmocka_unit_test(unknown_keys_reported),
		cmocka_unit_test(root_not_a_map),
		cmocka_unit_test(malformed_yaml),
		cmocka_unit_test(invalid_utf8_refused),
		cmocka_unit_test(oversize_file_refused),
		cmocka_unit_test(every_error_reported_in_file_order),
		cmocka_unit_test(too_many_errors_truncated),
		cmocka_unit_test(truncated_examples_never_crash),
	};

	/* The messages are checked in English. */
	setenv("YINGJI_LANG", "en", 1);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
