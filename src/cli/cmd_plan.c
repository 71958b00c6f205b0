/* cmd_plan.c - `yingji plan check FILE`: load an emergency plan (plan.yaml)
 * the way the centre will, and say what it holds or every reason it is
 * refused, each as FILE:LINE: message. Works offline: no centre needed. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/i18n.h"
#include "incident/category.h"
#include "plan/plan.h"
#include "core/banned.h"

static void
plan_help(FILE *out)
{
	fprintf(out, "%s", L(
		"用法: yingji plan check 文件\n"
		"\n"
		"检查应急预案文件（plan.yaml）：按中心加载预案的方式读取并逐项核对，不需要\n"
		"连接中心服务器。\n"
		"\n"
		"预案有效时输出摘要：单位、运营者类型、角色与人员、各项时限、超时提醒链、\n"
		"通知渠道、定级阈值、处置预案数、审计设置。\n"
		"预案无效时逐条输出全部问题，每条一行，格式为 文件:行号: 说明（整个文件的\n"
		"问题没有行号）。检查的内容包括：YAML 语法、UTF-8 编码、文件大小（至多 1 MiB）、\n"
		"未知的键（拼写错误不会被忽略）、必填项、重复的 id、引用了不存在的角色或渠道、\n"
		"升级链成环、时限先后（初次报告不晚于风险评估，向主管部门报告不晚于总结）、\n"
		"定级阈值随级别递增、事件类别与子类（GB/T 20986）、渠道地址、处置动作须自动\n"
		"执行或有审批角色、日志留存不少于 180 天。\n"
		"\n"
		"  -h, --help   显示本帮助\n"
		"\n"
		"退出码：0 预案有效；1 预案无效或文件无法读取；2 用法错误。\n"
		"示例预案见源码的 plans/county.yaml 和 plans/city.yaml，格式说明见 docs/plan.md。\n",
		"Usage: yingji plan check FILE\n"
		"\n"
		"Check an emergency plan file (plan.yaml): read it and check every item the\n"
		"way the centre loads it. No centre is needed.\n"
		"\n"
		"A valid plan gets a summary: organisation, operator type, roles and members,\n"
		"the deadlines, the escalation chain, notification channels, grading\n"
		"thresholds, how many playbooks, audit settings.\n"
		"An invalid plan gets every problem, one per line, as FILE:LINE: message (a\n"
		"problem of the file as a whole has no line). Checked: YAML syntax, UTF-8,\n"
		"size (at most 1 MiB), unknown keys (a typo is never ignored), required\n"
		"items, duplicate ids, references to roles or channels that do not exist,\n"
		"loops in the escalation chain, deadlines in order (initial report no later\n"
		"than the risk assessment, the report to the authority no later than the\n"
		"summary), thresholds rising with the grade, incident categories and\n"
		"subcategories (GB/T 20986), channel URLs, actions that are automatic or have\n"
		"approving roles, log retention of at least 180 days.\n"
		"\n"
		"  -h, --help   show this help\n"
		"\n"
		"Exit status: 0 the plan is valid; 1 the plan is invalid or the file cannot be\n"
		"read; 2 usage error.\n"
		"Example plans: plans/county.yaml and plans/city.yaml in the source; the\n"
		"format: docs/plan.md.\n"));
}

static const char *
operator_label(enum plan_operator op)
{
	switch (op) {
	case OPERATOR_CII:
		return L("关键信息基础设施运营者 (cii)", "critical information infrastructure (cii)");
	case OPERATOR_PARTY_GOV:
		return L("党政机关 (party_government)", "party or government body (party_government)");
	case OPERATOR_OTHER:
		return L("其他网络运营者 (other)", "other network operator (other)");
	}
	return "?";
}

/* "30m", "1h30m", "30d" for ns. */
static void
print_duration(int64_t ns)
{
	static const struct {
		int64_t secs;
		char unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	int64_t s = ns / 1000000000;

	if (ns % 1000000000 != 0 || s == 0) {
		printf("%lldms", (long long)(ns / 1000000));
		return;
	}
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (s / units[i].secs == 0)
			continue;
		printf("%lld%c", (long long)(s / units[i].secs), units[i].unit);
		s %= units[i].secs;
	}
}

static bool
plan_has_thresholds(const struct plan *p)
{
	for (int m = 0; m < MEASURE_COUNT; m++)
		if (p->thresholds[m].set)
			return true;
	return false;
}

static void
print_summary(const char *path, const struct plan *p)
{
	size_t ntasks = 0, nactions = 0;

	printf("%s: %s\n", path, L("预案有效", "the plan is valid"));
	printf("  %s: %s", L("单位", "organisation"), p->name);
	if (p->system != NULL)
		printf("（%s）", p->system);
	printf("\n  %s: %s\n", L("运营者类型", "operator type"), operator_label(p->operator_type));
	printf("  %s: %zu, %s: %zu\n", L("角色", "roles"), p->nroles, L("人员", "members"),
		p->nmembers);
	for (size_t i = 0; i < p->nroles; i++) {
		size_t holders = 0;
		bool first = true;

		for (size_t m = 0; m < p->nmembers; m++)
			for (size_t k = 0; k < p->members[m].nroles; k++)
				holders += p->members[m].roles[k] == (int)i;
		printf("    %-16s %s", p->roles[i].id, p->roles[i].name);
		printf(L("（%zu 人）[", " (held by %zu) ["), holders);
		for (int s = 0; s < STEP_COUNT; s++)
			if (p->roles[i].may[s]) {
				printf("%s%s", first ? "" : " ", plan_step_name((enum plan_step)s));
				first = false;
			}
		printf("]\n");
	}
	printf("  %s: ", L("时限（自发现起）", "deadlines (from detection)"));
	printf("%s ", L("初次报告", "initial report"));
	print_duration(p->initial_report_ns);
	fputs(L("，风险评估 ", ", risk assessment "), stdout);
	print_duration(p->risk_assessment_ns);
	fputs(L("，向主管部门报告 ", ", report to the authority "), stdout);
	print_duration(p->authority_report_ns);
	printf(L("（%s及以上）", " (%s and above)"), plan_grade_name(p->authority_from_grade));
	fputs(L("，总结 ", ", summary "), stdout);
	print_duration(p->summary_ns);
	printf("\n  %s: ", L("超时提醒", "escalation"));
	for (int r = p->escalation_start, n = 0; r >= 0 && n <= (int)p->nroles;
		r = p->roles[r].escalates_to, n++)
		printf("%s%s", n > 0 ? " → " : "", p->roles[r].id);
	fputs(L("，每 ", ", every "), stdout);
	print_duration(p->escalation_step_ns);
	printf("\n  %s: %zu", L("通知渠道", "channels"), p->nchannels);
	for (size_t i = 0; i < p->nchannels; i++)
		printf("%s%s (%s)", i == 0 ? ": " : ", ", p->channels[i].id,
			plan_channel_kind_name(p->channels[i].kind));
	printf("\n  %s:", L("定级阈值", "grading thresholds"));
	for (int m = 0; m < MEASURE_COUNT; m++) {
		const struct plan_threshold *t = &p->thresholds[m];

		if (!t->set)
			continue;
		printf("\n    %-16s", plan_measure_name((enum plan_measure)m));
		for (int g = GRADE_IV; g >= GRADE_I; g--) {
			if (t->at[g] <= 0)
				continue;
			printf(" %s ", plan_grade_name((enum plan_grade)g));
			if (m == MEASURE_PORTAL_DOWN || m == MEASURE_TAMPER_VISIBLE)
				print_duration(t->at[g] * 1000000000);
			else
				printf("%lld", (long long)t->at[g]);
		}
	}
	if (!plan_has_thresholds(p))
		printf(" %s", L("无", "none"));
	for (size_t i = 0; i < p->nplaybooks; i++) {
		ntasks += p->playbooks[i].ntasks;
		nactions += p->playbooks[i].nactions;
	}
	printf(L("\n  处置预案: %zu（任务 %zu，处置动作 %zu）\n",
		"\n  playbooks: %zu (tasks %zu, actions %zu)\n"), p->nplaybooks, ntasks, nactions);
	for (size_t i = 0; i < p->nplaybooks; i++) {
		const struct plan_playbook *pb = &p->playbooks[i];

		printf("    %s", gbt_category_name(pb->category));
		if (pb->subcategory >= 0)
			printf(" / %s", gbt_subcategory_name(pb->category, pb->subcategory));
		printf("\n");
	}
	printf("  %s: %s %u %s", L("审计", "audit"), L("日志留存", "retention"), p->retention_days,
		L("天", "days"));
	if (p->audit_anchor_channel >= 0)
		printf(L("，每天 %02d:%02d 存证到 %s", ", anchored daily at %02d:%02d to %s"),
			p->audit_anchor_minute / 60, p->audit_anchor_minute % 60,
			p->channels[p->audit_anchor_channel].id);
	printf("\n");
}

static int
plan_check(const char *path)
{
	struct plan_errors errs;
	struct plan *p = NULL;
	int r;

	r = plan_load(path, &p, &errs);
	if (r < 0) {
		for (size_t i = 0; i < errs.n; i++) {
			if (errs.items[i].line > 0)
				printf("%s:%u: %s\n", path, errs.items[i].line, errs.items[i].msg);
			else
				printf("%s: %s\n", path, errs.items[i].msg);
		}
		if (errs.n == 0)
			printf("%s: %s\n", path, strerror(-r));
		if (errs.truncated)
			printf("%s: %s\n", path, L("问题过多，只列出前 100 条",
				"too many problems; the first 100 are listed"));
		printf(L("%s: 预案无效（%zu 个问题）\n", "%s: the plan is invalid (%zu problems)\n"),
			path, errs.n);
		return 1;
	}
	print_summary(path, p);
	plan_free(p);
	return 0;
}

int
cmd_plan(int argc, char **argv)
{
	const char *file = NULL;

	if (argc < 2) {
		plan_help(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
		strcmp(argv[1], "help") == 0) {
		plan_help(stdout);
		return 0;
	}
	if (strcmp(argv[1], "check") != 0) {
		fprintf(stderr, "yingji: %s '%s'\n\n", L("未知子命令", "unknown subcommand"), argv[1]);
		plan_help(stderr);
		return 2;
	}
	for (int i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			plan_help(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--") == 0 && i + 1 < argc && file == NULL) {
			file = argv[++i];
			continue;
		}
		if (argv[i][0] == '-') {
			fprintf(stderr, "yingji: %s '%s'\n\n", L("未知选项", "unknown option"), argv[i]);
			plan_help(stderr);
			return 2;
		}
		if (file != NULL) {
			fprintf(stderr, "yingji plan check: %s\n\n", L("只能检查一个文件",
				"one file at a time"));
			plan_help(stderr);
			return 2;
		}
		file = argv[i];
	}
	if (file == NULL) {
		fprintf(stderr, "yingji plan check: %s\n\n", L("缺少文件", "no file given"));
		plan_help(stderr);
		return 2;
	}
	return plan_check(file);
}
