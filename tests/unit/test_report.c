/* test_report.c - the official incident reports: an incident document (a
 * late initial report, a follow-up, an investigation, 200 timeline entries)
 * composed into each kind of report and rendered as PDF and DOCX; the files
 * are read back the way a person's tools would (pdftotext, pdfinfo, pdffonts
 * from poppler-utils; python3-docx and zipfile for the DOCX). Also: input
 * that is not an incident document, fields of the wrong type, a document past
 * the size cap, text full of XML specials and control characters, English. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/xalloc.h"
#include "report/report.h"
#include "core/banned.h"

#define NTIMELINE	200
#define SOURCE_TEXT	"门户网站监测系统告警，值班人员核实"
#define LAST_ENTRY	"第200条处置记录"

/* Under AddressSanitizer: unwind allocations fully, so that the entry for
 * cairo in tests/lsan.supp (a cairo 1.16 leak, not ours) can match through
 * cairo's frames, which have no frame pointers. Merged with ASAN_OPTIONS;
 * unused without the sanitizer. */
const char *__asan_default_options(void);

const char *
__asan_default_options(void)
{
	return "fast_unwind_on_malloc=0";
}

/* --- helpers ------------------------------------------------------------------ */

struct fixture {
	char	dir[64];
	char	files[32][128];
	size_t	nfiles;
};

static int
fixture_setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/yingji-test-report-XXXXXX");
	if (mkdtemp(f->dir) == NULL) {
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int
fixture_teardown(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < f->nfiles; i++)
		(void)unlink(f->files[i]);
	(void)rmdir(f->dir);
	free(f);
	return 0;
}

/* Write data to DIR/name and return the path (owned by the fixture). */
static const char *
save(struct fixture *f, const char *name, const struct buf *data)
{
	char tmp[sizeof(f->files[0])], *path;
	int fd;

	assert_true(f->nfiles < sizeof(f->files) / sizeof(f->files[0]));
	snprintf(tmp, sizeof(tmp), "%s/%s", f->dir, name);
	path = f->files[f->nfiles++];
	memcpy(path, tmp, sizeof(tmp));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data->data, data->len), (ssize_t)data->len);
	assert_int_equal(close(fd), 0);
	return path;
}

/* Run argv with its standard output into out (may be NULL); the exit
 * status, 127 when the program is not there. */
static int
run(const char *const argv[], struct buf *out)
{
	char chunk[4096];
	int fds[2], status;
	pid_t pid;
	ssize_t n;

	assert_int_equal(pipe(fds), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		dup2(fds[1], 1);
		close(fds[0]);
		close(fds[1]);
		execvp(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fds[1]);
	while ((n = read(fds[0], chunk, sizeof(chunk))) > 0)
		if (out != NULL)
			assert_int_equal(buf_append(out, chunk, (size_t)n), 0);
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

/* A python3 with python-docx (Debian's python3-docx is for /usr/bin/python3,
 * which a pyenv or venv python3 first in PATH may not see), or NULL. */
static const char *
python_with_docx(void)
{
	static const char *const candidates[] = { "/usr/bin/python3", "python3" };

	for (size_t i = 0; i < sizeof(candidates) / sizeof(candidates[0]); i++) {
		const char *argv[] = { candidates[i], "-c", "import docx", NULL };

		if (run(argv, NULL) == 0)
			return candidates[i];
	}
	return NULL;
}

static bool
has_text(const char *hay, const char *needle)
{
	return hay != NULL && strstr(hay, needle) != NULL;
}

/* Does any text of d contain needle? */
static bool
doc_has(const struct doc *d, const char *needle)
{
	if (has_text(d->title, needle) || has_text(d->subtitle, needle) ||
	    has_text(d->footer, needle))
		return true;
	for (size_t i = 0; i < d->nblocks; i++) {
		const struct doc_block *b = &d->blocks[i];

		if (has_text(b->text, needle))
			return true;
		for (size_t c = 0; b->cells != NULL && c < b->nrows * b->ncols; c++)
			if (has_text(b->cells[c], needle))
				return true;
	}
	return false;
}

/* Index of the first block of kind whose text contains needle, or -1. */
static int
find_block(const struct doc *d, enum doc_block_kind kind, const char *needle)
{
	for (size_t i = 0; i < d->nblocks; i++)
		if (d->blocks[i].kind == kind && has_text(d->blocks[i].text, needle))
			return (int)i;
	return -1;
}

/* The last table whose header row starts with first_header. */
static const struct doc_block *
find_table(const struct doc *d, const char *first_header)
{
	const struct doc_block *found = NULL;

	for (size_t i = 0; i < d->nblocks; i++)
		if (d->blocks[i].kind == DOC_TABLE && d->blocks[i].header &&
		    strcmp(d->blocks[i].cells[0], first_header) == 0)
			found = &d->blocks[i];
	return found;
}

static void
report(struct json *j, const char *kind, int version, const char *filed_at, bool late)
{
	json_array_object(j);
	json_key_i64(j, "id", version * 10);
	json_key_str(j, "kind", kind);
	json_key_i64(j, "version", version);
	json_key_str(j, "filed_at", filed_at);
	json_key_str(j, "by", "张伟");
	json_key_bool(j, "late", late);
	json_key_object(j, "fields");
}

/* The incident document the centre's API would return, with title as the
 * incident's name and ntimeline timeline entries. */
static void
build_incident(struct buf *out, const char *title, int ntimeline)
{
	struct json j;

	buf_init(out, 0);
	json_begin(&j, out);
	json_key_i64(&j, "id", 42);
	json_key_str(&j, "title", title);
	json_key_str(&j, "host", "web-01");
	json_key_str(&j, "category", "网络攻击事件");
	json_key_str(&j, "subcategory", "网页篡改事件");
	json_key_str(&j, "grade", "较大");
	json_key_str(&j, "grade_key", "III");
	json_key_str(&j, "colour", "黄");
	json_key_str(&j, "response", "Ⅲ级");
	json_key_str(&j, "state", "recovering");
	json_key_str(&j, "state_name", "善后处理");
	json_key_str(&j, "detected_at", "2026-11-22T17:03:05+08:00");
	json_key_str(&j, "report_due", "2026-11-22T17:33:05+08:00");
	json_key_str(&j, "assess_due", "2026-11-22T18:03:05+08:00");
	json_key_null(&j, "authority_due");
	json_key_str(&j, "summary_due", "2026-12-22T17:03:05+08:00");
	json_key_null(&j, "closed_at");
	json_key_bool(&j, "late", true);
	json_key_array(&j, "late_items");
	json_array_str(&j, "initial_report");
	json_array_str(&j, "risk_assessment");
	json_close(&j);
	json_key_i64(&j, "signals", 7);
	json_key_object(&j, "measures");
	json_key_double(&j, "portal_down_s", 8130.5);
	json_key_i64(&j, "records_leaked", 1200);
	json_key_i64(&j, "direct_loss", 35000);
	json_close(&j);
	json_key_object(&j, "plan");
	json_key_str(&j, "name", "巫山县司法局");
	json_key_str(&j, "unit", "巫山县司法局办公室");
	json_key_str(&j, "system", "门户网站");
	json_key_str(&j, "authority", "县委网信办");
	json_close(&j);

	json_key_array(&j, "reports");
	report(&j, "initial", 1, "2026-11-22T18:10:00+08:00", true);
	json_key_str(&j, "source", SOURCE_TEXT);
	json_key_str(&j, "scope", "门户网站首页及新闻栏目");
	json_key_str(&j, "nature", "网页篡改");
	json_key_str(&j, "trend", "已断网，未见扩散");
	json_key_str(&j, "measures", "联系服务器运营商断网处理，通知网络维护商修复");
	json_close(&j);
	json_close(&j);
	report(&j, "followup", 1, "2026-11-22T20:00:00+08:00", false);
	json_key_str(&j, "progress", "首页已恢复，正在排查后门");
	json_close(&j);
	json_close(&j);
	report(&j, "investigation", 1, "2026-11-29T10:00:00+08:00", false);
	json_key_str(&j, "cause", "内容管理系统弱口令被利用");
	json_key_str(&j, "losses", "门户中断约2小时，无数据泄露");
	json_key_str(&j, "recovery_time", "2小时15分");
	json_key_str(&j, "cost", "人工及外包服务约3.5万元");
	json_key_str(&j, "lessons", "启用双因素认证；每周漏洞扫描");
	json_close(&j);
	json_close(&j);
	json_close(&j);

	json_key_array(&j, "tasks");
	json_array_object(&j);
	json_key_i64(&j, "id", 1);
	json_key_str(&j, "title", "断网并保全证据");
	json_key_str(&j, "role", "值班人员");
	json_key_str(&j, "assignee", "李劲松");
	json_key_str(&j, "due_at", "2026-11-22T17:33:05+08:00");
	json_key_null(&j, "done_at");
	json_close(&j);
	json_close(&j);

	json_key_array(&j, "flags");
	json_array_object(&j);
	json_key_i64(&j, "id", 1);
	json_key_str(&j, "kind", "late_report");
	json_key_str(&j, "at", "2026-11-22T17:33:05+08:00");
	json_key_str(&j, "text", "初次报告超过30分钟时限");
	json_close(&j);
	json_close(&j);

	json_key_array(&j, "timeline");
	for (int i = 1; i <= ntimeline; i++) {
		char at[40], text[512];

		snprintf(at, sizeof(at), "2026-11-22T%02d:%02d:%02d+08:00", 17 + i / 60 % 7, i % 60,
			i % 60);
		if (i % 10 == 5)
			snprintf(text, sizeof(text), "第%d条处置记录：值班人员复核门户网站首页、"
				"新闻栏目和政务公开栏目，比对备份文件的哈希值，确认篡改范围仅限首页"
				"轮播图和两篇新闻稿件，已通知网络维护商在隔离环境中恢复。", i);
		else
			snprintf(text, sizeof(text), "第%d条处置记录", i);
		json_array_object(&j);
		json_key_str(&j, "at", at);
		json_key_str(&j, "by", i % 2 ? "系统" : "李劲松");
		json_key_str(&j, "kind", i % 3 ? "note" : "signal");
		json_key_str(&j, "text", text);
		json_close(&j);
	}
	json_close(&j);
	assert_int_equal(json_end(&j), 0);
}

/* Compose kind from text[0..len), copied to exactly len bytes so that
 * AddressSanitizer sees a read past the end. */
static int
compose(const char *text, size_t len, enum report_kind kind, struct doc *d)
{
	char *p = xmalloc(len ? len : 1);
	int r;

	memcpy(p, text, len);
	doc_init(d);
	r = report_compose(p, len, kind, d);
	free(p);
	return r;
}

static int
compose_str(const char *text, enum report_kind kind)
{
	struct doc d;
	int r = compose(text, strlen(text), kind, &d);

	doc_release(&d);
	return r;
}

/* s without spaces and line breaks: pdftotext drops the narrow spaces
 * around digits in Chinese text ("第 1 页" comes out as "第1页") and breaks
 * lines where the layout wrapped them. */
static void
squeeze(const char *s, struct buf *out)
{
	buf_init(out, 0);
	for (; *s != '\0'; s++)
		if (*s != ' ' && *s != '\n')
			assert_int_equal(buf_putc(out, *s), 0);
}

/* pdftotext's text of the PDF at path. */
static void
pdf_text(const char *path, struct buf *out)
{
	const char *argv[] = { "pdftotext", "-enc", "UTF-8", path, "-", NULL };
	int st;

	buf_init(out, 0);
	st = run(argv, out);
	if (st == 127)
		skip();		/* poppler-utils not installed */
	assert_int_equal(st, 0);
}

static int
pdf_pages(const char *path)
{
	const char *argv[] = { "pdfinfo", path, NULL };
	struct buf out;
	const char *p;
	int n = -1;

	buf_init(&out, 0);
	assert_int_equal(run(argv, &out), 0);
	p = strstr(out.data, "Pages:");
	if (p != NULL)
		n = atoi(p + 6);
	buf_release(&out);
	return n;
}

/* The DOCX at path opens as a ZIP with good CRCs and in python-docx, and
 * its paragraphs and table cells hold each of the needles. Returns what the
 * script printed: "ok <red bold warning runs> <Heading 1 paragraphs>
 * <tables>". */
static void
docx_check(const char *path, const char *const *needles, size_t nneedles, struct buf *out)
{
	static const char script[] =
		"import sys, zipfile, docx\n"
		"p = sys.argv[1]\n"
		"z = zipfile.ZipFile(p)\n"
		"bad = z.testzip()\n"
		"if bad is not None: print('bad crc', bad); sys.exit(2)\n"
		"d = docx.Document(p)\n"
		"texts = [q.text for q in d.paragraphs]\n"
		"for t in d.tables:\n"
		"    for row in t.rows:\n"
		"        for cell in row.cells: texts.append(cell.text)\n"
		"blob = '\\n'.join(texts)\n"
		"missing = [s for s in sys.argv[2:] if s not in blob]\n"
		"if missing: print('missing', missing); sys.exit(1)\n"
		"red = [r for q in d.paragraphs if q.style.name == 'Warning' for r in q.runs\n"
		"       if r.bold and r.font.color.rgb is not None and str(r.font.color.rgb) == 'C00000']\n"
		"h1 = [q for q in d.paragraphs if q.style.name == 'Heading 1']\n"
		"print('ok', len(red), len(h1), len(d.tables))\n";
	const char *py = python_with_docx();
	const char **argv;
	int st;

	if (py == NULL)
		skip();		/* python3-docx not installed */
	argv = xcalloc(nneedles + 5, sizeof(*argv));
	argv[0] = py;
	argv[1] = "-c";
	argv[2] = script;
	argv[3] = path;
	for (size_t i = 0; i < nneedles; i++)
		argv[4 + i] = needles[i];
	buf_init(out, 0);
	st = run(argv, out);
	free(argv);
	if (st != 0)
		print_message("%s", out->data);
	assert_int_equal(st, 0);
	assert_true(strncmp(out->data, "ok ", 3) == 0);
}

/* --- the document model --------------------------------------------------------- */

static void
kind_names_round_trip(void **state)
{
	static const char *const names[] = { "initial", "followup", "supplementary", "assessment",
		"authority", "investigation", "summary", "incident" };
	enum report_kind k;

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_int_equal(report_kind_parse(names[i], &k), 0);
		assert_string_equal(report_kind_name(k), names[i]);
		assert_true(strlen(report_kind_title(k)) > 0);
	}
	assert_int_equal(report_kind_parse("initial ", &k), -EINVAL);
	assert_int_equal(report_kind_parse("", &k), -EINVAL);
	assert_int_equal(report_kind_parse(NULL, &k), -EINVAL);
	assert_true(has_text(report_kind_title(REPORT_INITIAL), "初次报告"));
	assert_true(has_text(report_kind_title(REPORT_INVESTIGATION), "调查评估报告"));
}

static void
builders_keep_their_bounds(void **state)
{
	const char *cells[] = { "a", "b", "c" };
	struct doc d;
	int r = 0;

	doc_init(&d);
	assert_int_equal(doc_heading(&d, 3, "x"), -EINVAL);
	assert_int_equal(doc_table(&d, 2, false, cells, 3), -EINVAL);	/* not whole rows */
	assert_int_equal(doc_table(&d, 0, false, cells, 0), -EINVAL);
	/* control characters are dropped, bad UTF-8 becomes U+FFFD */
	assert_int_equal(doc_paragraph(&d, "a\x01" "b\x7f" "c\xff" "d\r\ne"), 0);
	assert_string_equal(d.blocks[0].text, "abc\xef\xbf\xbd" "d\ne");
	while (r == 0)
		r = doc_paragraph(&d, "x");
	assert_int_equal(r, -E2BIG);
	assert_int_equal(d.nblocks, DOC_MAX_BLOCKS);
	doc_release(&d);

	/* text past DOC_MAX_BYTES */
	doc_init(&d);
	{
		size_t n = DOC_MAX_BYTES / 2;
		char *big = xmalloc(n + 1);

		memset(big, 'a', n);
		big[n] = '\0';
		assert_int_equal(doc_paragraph(&d, big), 0);
		assert_int_equal(doc_warning(&d, big), -E2BIG);
		assert_int_equal(d.nblocks, 1);
		free(big);
	}
	doc_release(&d);
	doc_release(&d);	/* released twice: still fine */
}

/* --- composing -------------------------------------------------------------------- */

static void
initial_report_says_what_the_plan_asks(void **state)
{
	const struct doc_block *t;
	struct buf json;
	struct doc d;

	build_incident(&json, "门户网站首页被篡改", NTIMELINE);
	assert_int_equal(compose(json.data, json.len, REPORT_INITIAL, &d), 0);
	assert_string_equal(d.title, "网络安全事件初次报告");
	assert_true(has_text(d.subtitle, "巫山县司法局"));
	assert_true(has_text(d.subtitle, "42"));
	assert_true(has_text(d.footer, "生成"));
	/* header table */
	for (const char *const *s = (const char *const[]){ "单位", "事件编号", "事件名称",
		"事件类别", "事件级别", "发现时间", "当前阶段", NULL }; *s != NULL; s++)
		assert_true(doc_has(&d, *s));
	assert_true(doc_has(&d, "网络攻击事件 / 网页篡改事件"));
	assert_true(doc_has(&d, "较大（III级），黄色预警，Ⅲ级响应"));
	assert_true(doc_has(&d, "2026-11-22 17:03:05 +08:00"));
	assert_true(doc_has(&d, "善后处理"));
	/* the five fields */
	for (const char *const *s = (const char *const[]){ "信息来源", "影响范围", "事件性质",
		"事件发展趋势", "采取的措施建议", SOURCE_TEXT, "已断网，未见扩散", NULL };
	     *s != NULL; s++)
		assert_true(doc_has(&d, *s));
	/* which deadline was missed and when it was due */
	assert_true(find_block(&d, DOC_WARNING,
		"缓报：初次报告未在规定时限内报送（应于 2026-11-22 17:33:05 +08:00 前报送，"
		"实际于 2026-11-22 18:10:00 +08:00 报送）") >= 0);
	assert_true(find_block(&d, DOC_WARNING, "风险评估报告未在规定时限内报送") >= 0);
	assert_true(find_block(&d, DOC_WARNING, "至今未报送") >= 0);
	assert_true(find_block(&d, DOC_WARNING, "本版报送晚于规定时限") >= 0);
	/* accountability */
	assert_true(find_block(&d, DOC_WARNING, "初次报告超过30分钟时限") >= 0);
	/* impact */
	assert_true(doc_has(&d, "2小时15分31秒") || doc_has(&d, "2小时15分30秒"));
	assert_true(doc_has(&d, "35000 元"));
	/* the whole timeline */
	t = find_table(&d, "时间");
	assert_non_null(t);
	assert_int_equal(t->ncols, 4);
	assert_int_equal(t->nrows, NTIMELINE + 1);
	assert_string_equal(t->cells[1], "操作人");
	assert_string_equal(t->cells[NTIMELINE * 4 + 3], LAST_ENTRY);
	assert_false(doc_has(&d, "内容管理系统弱口令"));	/* the investigation's */
	doc_release(&d);
	buf_release(&json);
}

static void
each_kind_has_its_fields(void **state)
{
	static const struct {
		enum report_kind kind;
		const char *title, *want[6];
	} cases[] = {
		{ REPORT_FOLLOWUP, "网络安全事件续报", { "事件进展", "首页已恢复", NULL } },
		{ REPORT_SUPPLEMENTARY, "网络安全事件补报", { "本报告尚未填报", "未填报", NULL } },
		{ REPORT_ASSESSMENT, "网络安全事件风险评估报告",
			{ "风险评估", "影响分析", "处置建议", "未填报", NULL } },
		{ REPORT_AUTHORITY, "网络安全事件报告（报主管部门）",
			{ "报告单位", "巫山县司法局办公室", "涉事信息系统", "门户网站", "县委网信办",
			  NULL } },
		{ REPORT_INVESTIGATION, "网络安全事件调查评估报告",
			{ "事件原因", "内容管理系统弱口令被利用", "损失情况", "恢复时间", "恢复费用",
			  "经验教训" } },
		{ REPORT_SUMMARY, "网络安全事件总结报告", { "未填报", "2026-12-22 17:03:05 +08:00",
			NULL } },
		{ REPORT_INCIDENT, "网络安全事件档案",
			{ SOURCE_TEXT, "首页已恢复", "内容管理系统弱口令被利用", "断网并保全证据",
			  "未完成", "报告时限" } },
	};
	struct buf json;

	build_incident(&json, "门户网站首页被篡改", NTIMELINE);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct doc_block *t;
		struct doc d;

		assert_int_equal(compose(json.data, json.len, cases[i].kind, &d), 0);
		assert_string_equal(d.title, cases[i].title);
		for (size_t k = 0; k < 6 && cases[i].want[k] != NULL; k++) {
			if (!doc_has(&d, cases[i].want[k]))
				print_message("%s: no \"%s\"\n", cases[i].title, cases[i].want[k]);
			assert_true(doc_has(&d, cases[i].want[k]));
		}
		/* every report: the late flags and the whole timeline */
		assert_true(find_block(&d, DOC_WARNING, "缓报") >= 0);
		t = find_table(&d, "时间");
		assert_non_null(t);
		assert_int_equal(t->nrows, NTIMELINE + 1);
		doc_release(&d);
	}
	buf_release(&json);
}

static void
followups_newest_last(void **state)
{
	const char *json = "{\"id\":7,\"reports\":["
		"{\"kind\":\"followup\",\"version\":2,\"filed_at\":null,\"fields\":{\"progress\":\"第二次\"}},"
		"{\"kind\":\"followup\",\"version\":1,\"fields\":{\"progress\":\"第一次\",\"trend\":\"平稳\"}}],"
		"\"timeline\":[]}";
	struct doc d;
	int v1, v2;

	assert_int_equal(compose(json, strlen(json), REPORT_FOLLOWUP, &d), 0);
	v1 = find_block(&d, DOC_HEADING, "第 1 版");
	v2 = find_block(&d, DOC_HEADING, "第 2 版");
	assert_true(v1 >= 0 && v2 > v1);
	assert_true(doc_has(&d, "平稳"));
	assert_true(doc_has(&d, "无缓报情形"));
	assert_true(doc_has(&d, "无记录"));
	doc_release(&d);
}

static void
bad_input_is_refused(void **state)
{
	static const char *const invalid[] = {
		"",
		"hello",
		"[1,2,3]",
		"\"id\"",
		"{}",						/* no id */
		"{\"id\":null}",
		"{\"id\":\"\"}",
		"{\"id\":1,",					/* cut short */
		"{\"id\":1,\"title\":\"abc",
		"{\"id\":{\"a\":1}}",
		"{\"id\":1,\"title\":{\"zh\":\"x\"}}",		/* wrong types */
		"{\"id\":1,\"title\":[\"x\"]}",
		"{\"id\":1,\"title\":true}",
		"{\"id\":1,\"late\":\"yes\"}",
		"{\"id\":1,\"late_items\":\"initial_report\"}",
		"{\"id\":1,\"late_items\":[1]}",
		"{\"id\":1,\"timeline\":\"x\"}",
		"{\"id\":1,\"timeline\":[1,2]}",
		"{\"id\":1,\"timeline\":[{\"at\":[1]}]}",
		"{\"id\":1,\"reports\":[\"initial\"]}",
		"{\"id\":1,\"reports\":[{\"kind\":\"initial\",\"fields\":\"x\"}]}",
		"{\"id\":1,\"reports\":[{\"kind\":\"initial\",\"late\":1}]}",
		"{\"id\":1,\"reports\":[{\"kind\":\"initial\",\"fields\":{\"source\":{}}}]}",
		"{\"id\":1,\"measures\":[]}",
		"{\"id\":1,\"measures\":{\"direct_loss\":\"many\"}}",
		"{\"id\":1,\"plan\":\"x\"}",
		"{\"id\":1,\"plan\":{\"name\":{}}}",
		"{\"id\":1,\"flags\":[{\"text\":false}]}",
		"{\"id\":1,\"tasks\":{}}",
		"{\"id\":1,\"tasks\":[1]}",
		"{\"id\":1,\"tasks\":[{\"title\":[]}]}",
		"{\"id\":1,\"title\":\"\\ud800\"}",		/* lone surrogate: not JSON */
		"{\"id\":1} trailing",
	};
	enum report_kind kinds[] = { REPORT_INITIAL, REPORT_INCIDENT, REPORT_INVESTIGATION };
	struct doc d;

	for (size_t i = 0; i < sizeof(invalid) / sizeof(invalid[0]); i++)
		for (size_t k = 0; k < sizeof(kinds) / sizeof(kinds[0]); k++) {
			int r = compose_str(invalid[i], kinds[k]);

			if (r != -EINVAL)
				print_message("input %zu (%s) kind %d: %d\n", i, invalid[i], kinds[k], r);
			assert_int_equal(r, -EINVAL);
		}
	assert_int_equal(compose_str("{\"id\":1}", (enum report_kind)0), -EINVAL);
	assert_int_equal(compose_str("{\"id\":1}", (enum report_kind)99), -EINVAL);
	/* nothing but an id is a (thin) incident document */
	assert_int_equal(compose_str("{\"id\":1}", REPORT_INCIDENT), 0);
	assert_int_equal(compose_str(" {\"id\":\"INC-1\",\"unknown\":[{}]} ", REPORT_INITIAL), 0);
	/* the output is written only on success */
	doc_init(&d);
	assert_int_equal(report_compose("{}", 2, REPORT_INITIAL, &d), -EINVAL);
	assert_null(d.title);
	assert_int_equal(d.nblocks, 0);
}

static void
document_past_the_cap_is_refused(void **state)
{
	size_t n = DOC_MAX_BYTES + 16;
	struct buf json;
	char *big = xmalloc(n + 1);

	memset(big, 'a', n);
	big[n] = '\0';
	buf_init(&json, 0);
	assert_int_equal(buf_appendf(&json, "{\"id\":1,\"title\":\"%s\"}", big), 0);
	assert_int_equal(compose_str(json.data, REPORT_INITIAL), -E2BIG);
	/* a large one within the cap is composed */
	buf_reset(&json);
	big[DOC_MAX_BYTES / 2] = '\0';
	assert_int_equal(buf_appendf(&json, "{\"id\":1,\"title\":\"%s\"}", big), 0);
	assert_int_equal(compose_str(json.data, REPORT_INITIAL), 0);
	free(big);
	buf_release(&json);
}

/* --- rendering ---------------------------------------------------------------------- */

static void
pdf_of_the_initial_report(void **state)
{
	struct fixture *f = *state;
	struct buf json, pdf, text, flat, fonts;
	const char *path;
	char err[256] = "";
	struct doc d;
	int pages;

	build_incident(&json, "门户网站首页被篡改", NTIMELINE);
	assert_int_equal(compose(json.data, json.len, REPORT_INITIAL, &d), 0);
	buf_init(&pdf, 0);
	assert_int_equal(doc_render_pdf(&d, &pdf, err, sizeof(err)), 0);
	assert_true(pdf.len > 1000);
	assert_memory_equal(pdf.data, "%PDF-", 5);
	path = save(f, "initial.pdf", &pdf);

	pdf_text(path, &text);
	squeeze(text.data, &flat);
	for (const char *const *s = (const char *const[]){ "初次报告", "信息来源", SOURCE_TEXT,
		"缓报", "应于2026-11-2217:33:05+08:00前报送", "事件编号", "巫山县司法局",
		"时间", "操作人", LAST_ENTRY, "第1页", NULL }; *s != NULL; s++) {
		if (!has_text(flat.data, *s))
			print_message("not in the PDF text: %s\n", *s);
		assert_true(has_text(flat.data, *s));
	}
	pages = pdf_pages(path);
	assert_true(pages > 1);
	{
		char last[64];

		snprintf(last, sizeof(last), "第%d页/共%d页", pages, pages);
		assert_true(has_text(flat.data, last));
	}
	/* the timeline's header row is drawn again on the following pages */
	{
		size_t n = 0;

		for (const char *p = text.data; (p = strstr(p, "操作人")) != NULL; p++)
			n++;
		assert_true(n >= (size_t)pages - 1);
	}
	/* the Chinese text is in Noto Sans CJK, embedded */
	{
		const char *argv[] = { "pdffonts", path, NULL };

		buf_init(&fonts, 0);
		assert_int_equal(run(argv, &fonts), 0);
		assert_true(has_text(fonts.data, "NotoSansCJK"));
		buf_release(&fonts);
	}
	buf_release(&flat);
	buf_release(&text);
	buf_release(&pdf);
	doc_release(&d);
	buf_release(&json);
}

static void
pdf_of_every_kind(void **state)
{
	struct fixture *f = *state;
	struct buf json;

	build_incident(&json, "门户网站首页被篡改", 20);
	for (enum report_kind k = REPORT_INITIAL; k <= REPORT_INCIDENT; k++) {
		struct buf pdf, text;
		char name[64], err[256] = "";
		const char *path;
		struct doc d;

		assert_int_equal(compose(json.data, json.len, k, &d), 0);
		buf_init(&pdf, 0);
		assert_int_equal(doc_render_pdf(&d, &pdf, err, sizeof(err)), 0);
		snprintf(name, sizeof(name), "%s.pdf", report_kind_name(k));
		path = save(f, name, &pdf);
		pdf_text(path, &text);
		assert_true(has_text(text.data, report_kind_title(k)));
		assert_true(has_text(text.data, "处置时间线"));
		if (k == REPORT_INVESTIGATION)
			assert_true(has_text(text.data, "内容管理系统弱口令被利用"));
		buf_release(&text);
		buf_release(&pdf);
		doc_release(&d);
	}
	buf_release(&json);
}

static void
row_taller_than_a_page(void **state)
{
	/* one table cell of ~9,000 characters: the row is cut between lines
	 * over several pages and no line is lost */
	struct fixture *f = *state;
	const char *cells[4] = { "项目", "内容", "长文本" };
	struct buf text, pdf, pdftext, flat;
	char err[256] = "", mark[32];
	const char *path;
	struct doc d;
	int pages;

	buf_init(&text, 0);
	for (int i = 1; i <= 300; i++)
		assert_int_equal(buf_appendf(&text, "〔%d〕门户网站首页被篡改后的处置情况说明。", i), 0);
	cells[3] = text.data;
	doc_init(&d);
	assert_int_equal(doc_paragraph(&d, text.data), 0);	/* a paragraph as long */
	assert_int_equal(doc_table(&d, 2, true, cells, 4), 0);
	buf_init(&pdf, 0);
	assert_int_equal(doc_render_pdf(&d, &pdf, err, sizeof(err)), 0);
	path = save(f, "tall.pdf", &pdf);
	pdf_text(path, &pdftext);
	squeeze(pdftext.data, &flat);
	for (int i = 1; i <= 300; i++) {
		const char *first, *second;

		snprintf(mark, sizeof(mark), "〔%d〕", i);
		first = strstr(flat.data, mark);
		assert_non_null(first);
		second = strstr(first + 1, mark);
		assert_non_null(second);	/* in the paragraph and in the cell */
	}
	pages = pdf_pages(path);
	assert_true(pages >= 4);
	buf_release(&flat);
	buf_release(&pdftext);
	buf_release(&pdf);
	buf_release(&text);
	doc_release(&d);
}

static void
docx_of_the_initial_report(void **state)
{
	static const char *const needles[] = { "网络安全事件初次报告", "信息来源", SOURCE_TEXT,
		"缓报：初次报告未在规定时限内报送", "2026-11-22 17:33:05 +08:00", "事件编号",
		"较大（III级），黄色预警，Ⅲ级响应", "操作人", LAST_ENTRY };
	struct fixture *f = *state;
	struct buf json, docx, out;
	char err[256] = "";
	int red = 0, h1 = 0, tables = 0;
	struct doc d;

	build_incident(&json, "门户网站首页被篡改", NTIMELINE);
	assert_int_equal(compose(json.data, json.len, REPORT_INITIAL, &d), 0);
	buf_init(&docx, 0);
	assert_int_equal(doc_render_docx(&d, &docx, err, sizeof(err)), 0);
	assert_memory_equal(docx.data, "PK\x03\x04", 4);
	docx_check(save(f, "initial.docx", &docx), needles, sizeof(needles) / sizeof(needles[0]),
		&out);
	assert_int_equal(sscanf(out.data, "ok %d %d %d", &red, &h1, &tables), 3);
	assert_true(red >= 3);		/* the late warnings and the flag, in red bold */
	assert_true(h1 >= 4);
	assert_true(tables >= 3);	/* header, fields, impact, timeline */
	buf_release(&out);
	buf_release(&docx);
	doc_release(&d);
	buf_release(&json);
}

static void
docx_of_every_kind(void **state)
{
	struct fixture *f = *state;
	struct buf json;

	build_incident(&json, "门户网站首页被篡改", NTIMELINE);
	for (enum report_kind k = REPORT_INITIAL; k <= REPORT_INCIDENT; k++) {
		const char *needles[] = { report_kind_title(k), "处置时间线", LAST_ENTRY };
		struct buf docx, out;
		char name[64], err[256] = "";
		struct doc d;

		assert_int_equal(compose(json.data, json.len, k, &d), 0);
		buf_init(&docx, 0);
		assert_int_equal(doc_render_docx(&d, &docx, err, sizeof(err)), 0);
		snprintf(name, sizeof(name), "%s.docx", report_kind_name(k));
		docx_check(save(f, name, &docx), needles, 3, &out);
		buf_release(&out);
		buf_release(&docx);
		doc_release(&d);
	}
	buf_release(&json);
}

static void
xml_specials_and_control_characters(void **state)
{
	/* the title holds XML specials, C0 controls (raw bytes, as JSON escapes),
	 * a non-character and a byte that is not UTF-8 (json.h writes "\\xff") */
	static const char title[] = "A&B <script>alert(\"x\")</script> 'q' ]]> \x01\x02\x1b"
		"\x7f\xef\xbf\xbe\xff 结束";
	static const char *const needles[] = { "A&B <script>alert(\"x\")</script> 'q' ]]>",
		"结束", SOURCE_TEXT };
	struct fixture *f = *state;
	struct buf json, docx, pdf, text, out;
	char err[256] = "";
	struct doc d;

	build_incident(&json, title, 3);
	assert_int_equal(compose(json.data, json.len, REPORT_INCIDENT, &d), 0);
	assert_true(doc_has(&d, "A&B <script>alert(\"x\")</script> 'q' ]]> \xef\xbf\xbd 结束"));
	buf_init(&docx, 0);
	assert_int_equal(doc_render_docx(&d, &docx, err, sizeof(err)), 0);
	docx_check(save(f, "specials.docx", &docx), needles, 3, &out);
	buf_release(&out);

	buf_init(&pdf, 0);
	assert_int_equal(doc_render_pdf(&d, &pdf, err, sizeof(err)), 0);
	pdf_text(save(f, "specials.pdf", &pdf), &text);
	assert_true(has_text(text.data, "A&B <script>alert(\"x\")</script>"));
	buf_release(&text);
	buf_release(&pdf);
	buf_release(&docx);
	doc_release(&d);
	buf_release(&json);
}

static void
hand_built_documents_render(void **state)
{
	/* a struct doc filled by hand, not through the builders: NULL and bad
	 * strings are drawn as best as can be, never crash */
	char bad[] = "raw \x01 \xc3\x28 <&>";
	char *cells[] = { NULL, bad };
	struct doc_block blocks[] = {
		{ .kind = DOC_HEADING, .level = 7, .text = NULL },
		{ .kind = DOC_PARAGRAPH, .text = bad },
		{ .kind = DOC_WARNING, .text = bad },
		{ .kind = DOC_TABLE, .cells = cells, .nrows = 1, .ncols = 2, .header = true },
		{ .kind = DOC_TABLE, .cells = NULL, .nrows = 3, .ncols = 0 },
	};
	struct doc d = { .blocks = blocks, .nblocks = sizeof(blocks) / sizeof(blocks[0]) };
	struct buf out;
	char err[256] = "";

	buf_init(&out, 0);
	assert_int_equal(doc_render_docx(&d, &out, err, sizeof(err)), 0);
	buf_reset(&out);
	assert_int_equal(doc_render_pdf(&d, &out, err, sizeof(err)), 0);
	buf_reset(&out);
	/* an empty document is one empty page */
	d.nblocks = 0;
	assert_int_equal(doc_render_pdf(&d, &out, err, sizeof(err)), 0);
	buf_release(&out);
}

static void
output_cap_is_kept(void **state)
{
	struct buf json, out;
	char err[256] = "";
	struct doc d;

	build_incident(&json, "门户网站首页被篡改", NTIMELINE);
	assert_int_equal(compose(json.data, json.len, REPORT_INITIAL, &d), 0);
	buf_init(&out, 4096);		/* far too small for either */
	assert_int_equal(doc_render_docx(&d, &out, err, sizeof(err)), -E2BIG);
	assert_int_equal(out.len, 0);
	assert_true(strlen(err) > 0);
	err[0] = '\0';
	assert_int_equal(doc_render_pdf(&d, &out, err, sizeof(err)), -E2BIG);
	assert_int_equal(out.len, 0);
	assert_true(strlen(err) > 0);
	buf_release(&out);
	doc_release(&d);
	buf_release(&json);
}

/* Run in a child with YINGJI_LANG=en (the language is decided once per
 * process). */
static void
english_report(void **state)
{
	struct buf json, out;
	char err[256] = "";
	struct doc d;

	build_incident(&json, "Portal defaced", 5);
	assert_int_equal(compose(json.data, json.len, REPORT_INITIAL, &d), 0);
	assert_string_equal(d.title, "Initial incident report");
	assert_true(doc_has(&d, "Source of information"));
	assert_true(doc_has(&d, "Incident number"));
	assert_true(doc_has(&d, "relatively serious (III), yellow alert, response level Ⅲ"));
	assert_true(find_block(&d, DOC_WARNING, "Late: the initial report was not filed in time "
		"(due 2026-11-22 17:33:05 +08:00, filed 2026-11-22 18:10:00 +08:00)") >= 0);
	assert_true(doc_has(&d, "Timeline"));
	buf_init(&out, 0);
	assert_int_equal(doc_render_docx(&d, &out, err, sizeof(err)), 0);
	buf_reset(&out);
	assert_int_equal(doc_render_pdf(&d, &out, err, sizeof(err)), 0);
	buf_release(&out);
	doc_release(&d);
	buf_release(&json);
}

static void
english_when_asked(void **state)
{
	const char *argv[] = { "/proc/self/exe", "--english", NULL };
	int status;
	pid_t pid;

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		setenv("YINGJI_LANG", "en", 1);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
}

int
main(int argc, char **argv)
{
	const struct CMUnitTest english[] = {
		cmocka_unit_test(english_report),
	};
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(kind_names_round_trip),
		cmocka_unit_test(builders_keep_their_bounds),
		cmocka_unit_test(initial_report_says_what_the_plan_asks),
		cmocka_unit_test(each_kind_has_its_fields),
		cmocka_unit_test(followups_newest_last),
		cmocka_unit_test(bad_input_is_refused),
		cmocka_unit_test(document_past_the_cap_is_refused),
		cmocka_unit_test_setup_teardown(pdf_of_the_initial_report, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(pdf_of_every_kind, fixture_setup, fixture_teardown),
		cmocka_unit_test_setup_teardown(row_taller_than_a_page, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(docx_of_the_initial_report, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(docx_of_every_kind, fixture_setup,
			fixture_teardown),
		cmocka_unit_test_setup_teardown(xml_specials_and_control_characters, fixture_setup,
			fixture_teardown),
		cmocka_unit_test(hand_built_documents_render),
		cmocka_unit_test(output_cap_is_kept),
		cmocka_unit_test(english_when_asked),
	};

	if (argc > 1 && strcmp(argv[1], "--english") == 0)
		return cmocka_run_group_tests_name("english", english, NULL, NULL);
	setenv("YINGJI_LANG", "zh_CN", 1);	/* whatever the machine's locale */
	return cmocka_run_group_tests(tests, NULL, NULL);
}
