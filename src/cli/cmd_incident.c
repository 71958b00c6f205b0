/*
 * cmd_incident.c - `yingji incident list|show|report|assess|activate|command|
 * inform|recover|investigate|close|grade|task|export`: incidents as the plan
 * runs them, through the HTTP API (/api/v1/incidents). Export renders the
 * reports locally (src/report) from the incident document.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "core/fdio.h"
#include "core/i18n.h"
#include "core/json.h"
#include "core/json_get.h"
#include "report/report.h"
#include "core/banned.h"

static void
incident_help(FILE *out)
{
	fprintf(out, "%s", L(
		"用法: yingji incident list [--open] [--json]\n"
		"      yingji incident show ID [--json]\n"
		"      yingji incident report ID [--kind 类型] [--as 成员] [--amend] 字段...\n"
		"      yingji incident assess ID --risk S --impact S --recommendation S\n"
		"                             [--records-leaked N] [--direct-loss 元] [--as 成员]\n"
		"      yingji incident activate|command|inform|recover|close ID [--note S] [--as 成员]\n"
		"      yingji incident investigate ID --cause S --losses S --recovery-time S\n"
		"                             --cost S --lessons S [--as 成员]\n"
		"      yingji incident grade ID --grade 级别 --reason S [--category C]\n"
		"                             [--subcategory S] [--as 成员]\n"
		"      yingji incident task ID add --title S [--assignee 成员] [--due 时长] [--as 成员]\n"
		"      yingji incident task ID assign 任务 --assignee 成员 [--as 成员]\n"
		"      yingji incident task ID done 任务 [--as 成员]\n"
		"      yingji incident export ID --format pdf|docx --out FILE [--kind 类型]\n"
		"\n"
		"事件单由中心按预案（yingji serve --plan）从告警和代理事件归并而来：同一主机、\n"
		"同一类别在归并窗口内为一个事件；类别按 GB/T 20986-2023，级别（特别重大/重大/\n"
		"较大/一般，红/橙/黄/蓝，Ⅰ–Ⅳ级响应）按预案阈值提出。两个时钟从发现时起算：\n"
		"内部时钟（初次报告、风险评估）和法定时钟（较大及以上向主管部门报告、30 日\n"
		"总结）。逾期即标记“缓报”（永久），并按升级链通知。\n"
		"\n"
		"阶段：先期处置 → 已报告 → 已风险评估 → 已启动预案 → 应急指挥 → 信息处理 →\n"
		"善后处理 → 调查评估 → 已关闭。每一步由预案中有相应权限的成员执行，并记入\n"
		"时间线和审计链。--as 成员 指明以预案中哪位成员的身份操作；不给时为预案的\n"
		"值班员（duty）。\n"
		"\n"
		"报告类型（--kind）及字段：\n"
		"  initial（初次报告，默认）   --source 信息来源 --scope 影响范围 --nature 事件性质\n"
		"                               --trend 事件发展趋势 --measures 采取的措施建议\n"
		"  followup（续报）、supplementary（补报）  --progress S（可另加初报五项）\n"
		"  assessment（风险评估）      --risk --impact --recommendation\n"
		"  authority（向主管部门报告） --impact --measures（单位、系统、发现时间、类型、\n"
		"                               级别自动填写，也可用 --unit --system\n"
		"                               --discovered-at --type --grade 指定）\n"
		"  investigation（调查评估）   --cause --losses --recovery-time --cost --lessons\n"
		"  summary（30 日总结）        --summary\n"
		"已提交的报告不能再交；更正用 --amend，新版本和“提交后更正”标记都会留下。\n"
		"\n"
		"export 生成报告文件（PDF 或 Word/WPS 可打开的 DOCX），--kind 为上面的类型之一\n"
		"或 incident（默认：整个事件档案），均含时间线和缓报标记。\n"
		"\n"
		"--json：list 每行一个对象（id、category、grade、state、detected_at、report_due、\n"
		"assess_due、late 等）；show 和各操作输出完整的事件文档。\n"
		"退出码：0 成功；1 被拒绝（无权限、顺序不对、缺字段）或出错；2 用法错误。\n",
		"Usage: yingji incident list [--open] [--json]\n"
		"       yingji incident show ID [--json]\n"
		"       yingji incident report ID [--kind KIND] [--as MEMBER] [--amend] FIELDS...\n"
		"       yingji incident assess ID --risk S --impact S --recommendation S\n"
		"                             [--records-leaked N] [--direct-loss YUAN] [--as MEMBER]\n"
		"       yingji incident activate|command|inform|recover|close ID [--note S] [--as MEMBER]\n"
		"       yingji incident investigate ID --cause S --losses S --recovery-time S\n"
		"                             --cost S --lessons S [--as MEMBER]\n"
		"       yingji incident grade ID --grade GRADE --reason S [--category C]\n"
		"                             [--subcategory S] [--as MEMBER]\n"
		"       yingji incident task ID add --title S [--assignee MEMBER] [--due T] [--as MEMBER]\n"
		"       yingji incident task ID assign TASK --assignee MEMBER [--as MEMBER]\n"
		"       yingji incident task ID done TASK [--as MEMBER]\n"
		"       yingji incident export ID --format pdf|docx --out FILE [--kind KIND]\n"
		"\n"
		"The centre groups alerts and agent events into incidents by the plan (yingji serve\n"
		"--plan): one host and category within the grouping window is one incident; the\n"
		"category follows GB/T 20986-2023, the grade (特别重大/重大/较大/一般, red/orange/\n"
		"yellow/blue, response level I-IV) is proposed from the plan's thresholds. Two\n"
		"clocks run from detection: the internal one (initial report, risk assessment) and\n"
		"the statutory one (report to the authority for 较大 and above, 30-day summary). A\n"
		"missed deadline marks the incident late (缓报) for good and notifies the\n"
		"escalation chain.\n"
		"\n"
		"Stages: first response -> reported -> risk assessed -> plan activated -> command\n"
		"-> information handling -> recovery -> investigation -> closed. Each step is\n"
		"taken by a plan member whose role allows it, and goes into the timeline and the\n"
		"audit chain. --as MEMBER names the member acting; without it, the plan's member on\n"
		"duty (duty).\n"
		"\n"
		"Report kinds (--kind) and their fields:\n"
		"  initial (default)   --source --scope --nature --trend --measures\n"
		"  followup, supplementary  --progress S (and any of the initial five)\n"
		"  assessment          --risk --impact --recommendation\n"
		"  authority           --impact --measures (unit, system, discovery time, type and\n"
		"                      grade are filled in; override with --unit --system\n"
		"                      --discovered-at --type --grade)\n"
		"  investigation       --cause --losses --recovery-time --cost --lessons\n"
		"  summary             --summary\n"
		"A filed report cannot be filed again; --amend files a corrected version, which is\n"
		"kept along with an 'amended after filing' flag.\n"
		"\n"
		"export writes a report file (PDF, or DOCX that Word and WPS open); --kind is one of\n"
		"the kinds above or incident (default: the whole incident file); every report shows\n"
		"the timeline and the late flags.\n"
		"\n"
		"--json: list prints one object per line (id, category, grade, state, detected_at,\n"
		"report_due, assess_due, late, ...); show and every step print the whole incident\n"
		"document.\n"
		"Exit: 0 done; 1 refused (role, order, missing fields) or failed; 2 usage.\n"));
}

static int
parse_id(const char *s, long long *ret)
{
	char *end;
	long long v;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (*end != '\0' || errno != 0 || v <= 0)
		return -EINVAL;
	*ret = v;
	return 0;
}

static void
print_incident_line(const char *obj, size_t len)
{
	const char *late;
	size_t latelen;

	cli_print_field(obj, len, "id", 6);
	putchar(' ');
	cli_print_field(obj, len, "grade", 8);
	putchar(' ');
	cli_print_field(obj, len, "colour", 4);
	putchar(' ');
	cli_print_field(obj, len, "state_name", 12);
	putchar(' ');
	cli_print_field(obj, len, "detected_at", 26);
	putchar(' ');
	cli_print_field(obj, len, "report_due", 26);
	putchar(' ');
	if (json_get_raw(obj, len, "late", &late, &latelen) == 0 && latelen == 4 &&
		memcmp(late, "true", 4) == 0)
		cli_pad(L("缓报", "LATE"), 6);
	else
		cli_pad("-", 6);
	putchar(' ');
	cli_print_field(obj, len, "title", 0);
	putchar('\n');
}

static int
incident_list(struct api_client *c, bool open, bool json)
{
	if (!json) {
		static const int widths[] = { 6, 8, 4, 12, 26, 26, 6, 0 };
		const char *heads[] = { L("编号", "ID"), L("级别", "GRADE"), L("颜色", "COL"),
			L("阶段", "STAGE"), L("发现时间", "DETECTED"), L("初报期限", "REPORT DUE"),
			L("缓报", "LATE"), L("事件", "INCIDENT") };

		for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
			cli_pad(heads[i], widths[i]);
			putchar(i + 1 < sizeof(widths) / sizeof(widths[0]) ? ' ' : '\n');
		}
	}
	return cli_lines(c, "/api/v1/incidents", open ? "&open=1" : "", json,
		print_incident_line) < 0 ? 1 : 0;
}

/* A short human view of the incident document. */
static void
print_doc(const char *doc, size_t len)
{
	static const struct { const char *key, *zh, *en; } rows[] = {
		{ "id", "编号", "ID" }, { "title", "标题", "Title" },
		{ "host", "主机", "Host" }, { "category", "类别", "Category" },
		{ "subcategory", "子类", "Subcategory" }, { "grade", "级别", "Grade" },
		{ "colour", "预警颜色", "Colour" }, { "response", "响应级别", "Response" },
		{ "state_name", "阶段", "Stage" }, { "detected_at", "发现时间", "Detected" },
		{ "report_due", "初报期限", "Report due" }, { "assess_due", "评估期限", "Assessment due" },
		{ "authority_due", "上报主管部门期限", "Authority due" },
		{ "summary_due", "总结报告期限", "Summary due" }, { "signals", "信号数", "Signals" },
	};
	const char *arr, *obj, *lt;
	size_t arrlen, objlen, pos, ltlen;

	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		cli_pad(L(rows[i].zh, rows[i].en), 18);
		putchar(' ');
		cli_print_field(doc, len, rows[i].key, 0);
		putchar('\n');
	}
	if (json_get_raw(doc, len, "late", &lt, &ltlen) == 0 && ltlen == 4 &&
		memcmp(lt, "true", 4) == 0)
		printf("%s\n", L("*** 缓报（有期限已超过） ***", "*** LATE (a deadline was missed) ***"));
	static const struct { const char *key, *zh, *en, *f1, *f2, *f3; } lists[] = {
		{ "reports", "报告", "Reports", "kind", "filed_at", "by" },
		{ "tasks", "任务", "Tasks", "title", "due_at", "done_at" },
		{ "flags", "标记", "Flags", "kind", "at", "text" },
		{ "timeline", "时间线", "Timeline", "at", "by", "text" },
	};
	for (size_t l = 0; l < sizeof(lists) / sizeof(lists[0]); l++) {
		if (json_get_raw(doc, len, lists[l].key, &arr, &arrlen) < 0)
			continue;
		printf("\n%s:\n", L(lists[l].zh, lists[l].en));
		pos = 0;
		while (json_array_next(arr, arrlen, &pos, &obj, &objlen) == 0) {
			printf("  ");
			cli_print_field(obj, objlen, lists[l].f1, 26);
			putchar(' ');
			cli_print_field(obj, objlen, lists[l].f2, 26);
			putchar(' ');
			cli_print_field(obj, objlen, lists[l].f3, 0);
			putchar('\n');
		}
	}
}

static int
show(struct api_client *c, long long id, bool json)
{
	struct buf body;
	char target[64];
	int r;

	buf_init(&body, API_MAX_RESPONSE_BODY);
	snprintf(target, sizeof(target), "/api/v1/incidents/%lld", id);
	r = cli_call(c, "GET", target, NULL, 30000, &body);
	if (r == 0) {
		if (json)
			fwrite(body.data, 1, body.len, stdout);
		else
			print_doc(body.data, body.len);
	}
	buf_release(&body);
	return r < 0 ? 1 : 0;
}

/* Options that become report fields: --recovery-time -> "recovery_time". */
static const char *const field_options[] = {
	"source", "scope", "nature", "trend", "measures", "progress", "risk", "impact",
	"recommendation", "unit", "system", "discovered-at", "type", "grade", "cause", "losses",
	"recovery-time", "cost", "lessons", "summary",
};

struct step_args {
	const char	*as, *kind, *note, *grade, *reason, *category, *subcategory, *title;
	const char	*assignee, *due, *records_leaked, *direct_loss;
	const char	*fields[sizeof(field_options) / sizeof(field_options[0])];
	bool		 amend, json;
};

/* Parses the options after the id; returns the index of the first
 * positional argument left over (or argc), -1 on a usage error. */
static int
parse_step_args(int argc, char **argv, int start, struct step_args *a, bool fields_as_grade)
{
	for (int i = start; i < argc; i++) {
		const char *o = argv[i];
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;
		bool done = false;

		if (strcmp(o, "--json") == 0) {
			a->json = true;
			continue;
		}
		if (strcmp(o, "--amend") == 0) {
			a->amend = true;
			continue;
		}
		if (strncmp(o, "--", 2) != 0)
			return i;
		if (v == NULL) {
			fprintf(stderr, "yingji: %s %s\n", o, L("需要一个值", "needs a value"));
			return -1;
		}
		o += 2;
		i++;
		if (strcmp(o, "as") == 0) a->as = v;
		else if (strcmp(o, "kind") == 0) a->kind = v;
		else if (strcmp(o, "note") == 0) a->note = v;
		else if (strcmp(o, "reason") == 0) a->reason = v;
		else if (strcmp(o, "category") == 0) a->category = v;
		else if (strcmp(o, "subcategory") == 0) a->subcategory = v;
		else if (strcmp(o, "title") == 0) a->title = v;
		else if (strcmp(o, "assignee") == 0 || strcmp(o, "to") == 0) a->assignee = v;
		else if (strcmp(o, "due") == 0) a->due = v;
		else if (strcmp(o, "records-leaked") == 0) a->records_leaked = v;
		else if (strcmp(o, "direct-loss") == 0) a->direct_loss = v;
		else if (fields_as_grade && strcmp(o, "grade") == 0) a->grade = v;
		else {
			for (size_t k = 0; k < sizeof(field_options) / sizeof(field_options[0]); k++)
				if (strcmp(o, field_options[k]) == 0) {
					a->fields[k] = v;
					done = true;
				}
			if (!done) {
				fprintf(stderr, "yingji: %s --%s\n", L("未知选项", "unknown option"), o);
				return -1;
			}
		}
	}
	return argc;
}

static int
number_arg(const char *s, long long *ret)
{
	char *end;

	errno = 0;
	*ret = strtoll(s, &end, 10);
	return *s == '\0' || *end != '\0' || errno != 0 || *ret < 0 ? -EINVAL : 0;
}

/* POST one step and print the answer. */
static int
post_step(struct api_client *c, long long id, const struct buf *req, bool json)
{
	struct buf body;
	char target[64];
	int r;

	buf_init(&body, API_MAX_RESPONSE_BODY);
	snprintf(target, sizeof(target), "/api/v1/incidents/%lld", id);
	r = cli_call(c, "POST", target, req->data, 30000, &body);
	if (r == 0) {
		if (json) {
			fwrite(body.data, 1, body.len, stdout);
		} else {
			struct buf st;

			buf_init(&st, 128);
			(void)json_get_str(body.data, body.len, "state_name", &st);
			printf("%s #%lld：%s\n", L("已记录。事件", "Recorded. Incident"), id, st.data);
			buf_release(&st);
		}
	}
	buf_release(&body);
	return r < 0 ? 1 : 0;
}

static int
export(struct api_client *c, long long id, int argc, char **argv)
{
	const char *format = NULL, *out = NULL, *kindname = "incident";
	enum report_kind kind;
	struct buf body, file;
	struct doc d;
	char target[64], err[256] = "", tmp[4096];
	int r, fd = -1;

	for (int i = 0; i < argc; i += 2) {
		const char *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (strcmp(argv[i], "--format") == 0 && v != NULL)
			format = v;
		else if (strcmp(argv[i], "--out") == 0 && v != NULL)
			out = v;
		else if (strcmp(argv[i], "--kind") == 0 && v != NULL)
			kindname = v;
		else {
			fprintf(stderr, "yingji: %s %s\n", L("用法错误：", "usage:"), argv[i]);
			return 2;
		}
	}
	if (format == NULL || out == NULL || (strcmp(format, "pdf") != 0 &&
		strcmp(format, "docx") != 0) || report_kind_parse(kindname, &kind) < 0) {
		fprintf(stderr, "yingji: %s\n", L("需要 --format pdf|docx 和 --out FILE；--kind 见 --help",
			"needs --format pdf|docx and --out FILE; --kind: see --help"));
		return 2;
	}
	buf_init(&body, API_MAX_RESPONSE_BODY);
	buf_init(&file, 0);
	doc_init(&d);
	snprintf(target, sizeof(target), "/api/v1/incidents/%lld", id);
	r = cli_call(c, "GET", target, NULL, 30000, &body);
	if (r < 0)
		goto out;
	r = report_compose(body.data, body.len, kind, &d);
	if (r < 0) {
		fprintf(stderr, "yingji: %s: %s\n", L("无法生成报告", "cannot compose the report"),
			strerror(-r));
		goto out;
	}
	r = strcmp(format, "pdf") == 0 ? doc_render_pdf(&d, &file, err, sizeof(err)) :
		doc_render_docx(&d, &file, err, sizeof(err));
	if (r < 0) {
		fprintf(stderr, "yingji: %s: %s\n", L("无法生成文件", "cannot render the file"),
			err[0] ? err : strerror(-r));
		goto out;
	}
	/* Written next to its name and renamed: a reader never sees half a file. */
	snprintf(tmp, sizeof(tmp), "%s.tmp-%d", out, (int)getpid());
	fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || fd_write_all(fd, file.data, file.len) < 0 || fsync(fd) < 0 ||
		rename(tmp, out) < 0) {
		r = -errno;
		fprintf(stderr, "yingji: %s: %s\n", out, strerror(errno));
		(void)unlink(tmp);
		goto out;
	}
	printf("%s %s (%zu %s)\n", L("已写出", "wrote"), out, file.len, L("字节", "bytes"));
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	doc_release(&d);
	buf_release(&file);
	buf_release(&body);
	return r < 0 ? 1 : 0;
}

int
cmd_incident(int argc, char **argv)
{
	struct step_args a = { 0 };
	struct api_client c;
	struct buf req;
	struct json j;
	const char *sub;
	long long id = 0, task = 0, n;
	int rest, r = 2;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
		incident_help(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	sub = argv[1];
	for (int i = 2; i < argc; i++)
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			incident_help(stdout);
			return 0;
		}
	if (strcmp(sub, "list") == 0) {
		bool open = false, json = false;

		for (int i = 2; i < argc; i++) {
			if (strcmp(argv[i], "--open") == 0)
				open = true;
			else if (strcmp(argv[i], "--json") == 0)
				json = true;
			else {
				incident_help(stderr);
				return 2;
			}
		}
		if (cli_client(&c) < 0)
			return 1;
		return incident_list(&c, open, json);
	}
	if (argc < 3 || parse_id(argv[2], &id) < 0) {
		fprintf(stderr, "yingji: %s\n", L("需要事件编号", "needs an incident id"));
		return 2;
	}
	if (strcmp(sub, "export") == 0) {
		if (cli_client(&c) < 0)
			return 1;
		return export(&c, id, argc - 3, argv + 3);
	}
	if (strcmp(sub, "show") == 0) {
		bool json = argc > 3 && strcmp(argv[3], "--json") == 0;

		if (argc > 4 || (argc == 4 && !json)) {
			incident_help(stderr);
			return 2;
		}
		if (cli_client(&c) < 0)
			return 1;
		return show(&c, id, json);
	}

	buf_init(&req, 256 * 1024);
	json_begin(&j, &req);
	if (strcmp(sub, "task") == 0) {
		const char *op = argc > 3 ? argv[3] : "";

		rest = 4;
		if (strcmp(op, "assign") == 0 || strcmp(op, "done") == 0) {
			if (argc < 5 || parse_id(argv[4], &task) < 0) {
				fprintf(stderr, "yingji: %s\n", L("需要任务编号", "needs a task id"));
				goto out;
			}
			rest = 5;
		} else if (strcmp(op, "add") != 0) {
			incident_help(stderr);
			goto out;
		}
		if (parse_step_args(argc, argv, rest, &a, false) != argc)
			goto usage;
		json_key_str(&j, "action", "task");
		json_key_str(&j, "op", op);
		if (task > 0)
			json_key_i64(&j, "task", task);
		if (a.title != NULL)
			json_key_str(&j, "title", a.title);
		if (a.assignee != NULL)
			json_key_str(&j, "assignee", a.assignee);
		if (a.due != NULL)
			json_key_str(&j, "due", a.due);
	} else if (strcmp(sub, "grade") == 0) {
		if (parse_step_args(argc, argv, 3, &a, true) != argc)
			goto usage;
		json_key_str(&j, "action", "grade");
		if (a.grade != NULL)
			json_key_str(&j, "grade", a.grade);
		if (a.reason != NULL)
			json_key_str(&j, "reason", a.reason);
		if (a.category != NULL)
			json_key_str(&j, "category", a.category);
		if (a.subcategory != NULL)
			json_key_str(&j, "subcategory", a.subcategory);
	} else if (strcmp(sub, "report") == 0 || strcmp(sub, "assess") == 0 ||
		strcmp(sub, "investigate") == 0) {
		if (parse_step_args(argc, argv, 3, &a, false) != argc)
			goto usage;
		json_key_str(&j, "action", "report");
		json_key_str(&j, "kind", sub[0] == 'a' ? "assessment" : sub[0] == 'i' ?
			"investigation" : a.kind != NULL ? a.kind : "initial");
		if (a.amend)
			json_key_bool(&j, "amend", true);
		json_key_object(&j, "fields");
		for (size_t k = 0; k < sizeof(field_options) / sizeof(field_options[0]); k++) {
			char key[32];

			if (a.fields[k] == NULL)
				continue;
			snprintf(key, sizeof(key), "%s", field_options[k]);
			for (char *p = key; *p != '\0'; p++)
				if (*p == '-')
					*p = '_';
			json_key_str(&j, key, a.fields[k]);
		}
		json_close(&j);
		if (a.records_leaked != NULL || a.direct_loss != NULL) {
			json_key_object(&j, "measures");
			if (a.records_leaked != NULL) {
				if (number_arg(a.records_leaked, &n) < 0)
					goto usage;
				json_key_i64(&j, "records_leaked", n);
			}
			if (a.direct_loss != NULL) {
				if (number_arg(a.direct_loss, &n) < 0)
					goto usage;
				json_key_i64(&j, "direct_loss", n);
			}
			json_close(&j);
		}
	} else if (strcmp(sub, "activate") == 0 || strcmp(sub, "command") == 0 ||
		strcmp(sub, "inform") == 0 || strcmp(sub, "recover") == 0 ||
		strcmp(sub, "close") == 0) {
		if (parse_step_args(argc, argv, 3, &a, false) != argc)
			goto usage;
		json_key_str(&j, "action", "move");
		json_key_str(&j, "move", sub);
		json_key_str(&j, "note", a.note != NULL ? a.note : "");
	} else {
		incident_help(stderr);
		goto out;
	}
	if (a.as != NULL)
		json_key_str(&j, "actor", a.as);
	if (json_end(&j) < 0)
		goto usage;
	if (cli_client(&c) < 0) {
		r = 1;
		goto out;
	}
	r = post_step(&c, id, &req, a.json);
	goto out;
usage:
	fprintf(stderr, "yingji: %s\n", L("用法错误，见 yingji incident --help",
		"usage error, see yingji incident --help"));
	r = 2;
out:
	buf_release(&req);
	return r;
}
