/*
 * compose.c - an incident document (JSON, see report.h) into the struct doc
 * of one report: the header table, the late (缓报) warnings, the report's own
 * fields for each filing, the impact measures, the accountability flags and
 * the timeline. The wording follows the plan's 信息报告 (信息来源、影响范围、
 * 事件性质、事件发展趋势、采取的措施建议) and 调查评估 (原因、损失、恢复时间和
 * 费用、经验教训) sections.
 *
 * The document is checked as JSON first (core/json_check.h), then read key by
 * key with core/json_get.h. A text field may be a string or a number; null or
 * absent means "not given"; any other type is -EINVAL, as is an array or
 * object of the wrong shape.
 */
#include "report/report.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/i18n.h"
#include "core/json_check.h"
#include "core/json_get.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "report/report_int.h"
#include "core/banned.h"

#define COMPOSE_MAX_DEPTH	64

struct view {
	const char	*p;		/* NULL: absent or null */
	size_t		 len;
};

/* --- what each report holds --------------------------------------------------- */

struct field_def {
	const char	*key, *zh, *en;
	bool		 time;		/* shown as a time */
};

static const struct field_def initial_fields[] = {
	{ "source", "信息来源", "Source of information", false },
	{ "scope", "影响范围", "Scope of impact", false },
	{ "nature", "事件性质", "Nature of the incident", false },
	{ "trend", "事件发展趋势", "Development trend", false },
	{ "measures", "采取的措施建议", "Measures taken and recommended", false },
};

static const struct field_def followup_fields[] = {
	{ "progress", "事件进展", "Progress", false },
	{ "source", "信息来源", "Source of information", false },
	{ "scope", "影响范围", "Scope of impact", false },
	{ "nature", "事件性质", "Nature of the incident", false },
	{ "trend", "事件发展趋势", "Development trend", false },
	{ "measures", "采取的措施建议", "Measures taken and recommended", false },
};

static const struct field_def assessment_fields[] = {
	{ "risk", "风险评估", "Risk", false },
	{ "impact", "影响分析", "Impact", false },
	{ "recommendation", "处置建议", "Recommendation", false },
};

static const struct field_def authority_fields[] = {
	{ "unit", "报告单位", "Reporting unit", false },
	{ "system", "涉事信息系统", "Information system", false },
	{ "discovered_at", "发现时间", "Discovered at", true },
	{ "type", "事件类型", "Incident type", false },
	{ "grade", "事件级别", "Grade", false },
	{ "impact", "影响情况", "Impact", false },
	{ "measures", "已采取的措施", "Measures taken", false },
};

static const struct field_def investigation_fields[] = {
	{ "cause", "事件原因", "Cause", false },
	{ "losses", "损失情况", "Losses", false },
	{ "recovery_time", "恢复时间", "Recovery time", false },
	{ "cost", "恢复费用", "Recovery cost", false },
	{ "lessons", "经验教训", "Lessons learned", false },
};

static const struct field_def summary_fields[] = {
	{ "summary", "总结", "Summary", false },
};

#define FIELDS(a)	a, sizeof(a) / sizeof(a[0])

struct kind_def {
	enum report_kind kind;
	const char	*json_kind;	/* reports[].kind */
	const char	*zh, *en;	/* short name */
	const char	*due_key;	/* the incident's deadline for it, or NULL */
	const char	*late_item;	/* its name in late_items, or NULL */
	const struct field_def *fields;
	size_t		 nfields;
	bool		 first_only;	/* only fields[0] is required; show the rest when given */
};

static const struct kind_def kind_defs[] = {
	{ REPORT_INITIAL, "initial", "初次报告", "initial report", "report_due", "initial_report",
		FIELDS(initial_fields), false },
	{ REPORT_FOLLOWUP, "followup", "续报", "follow-up report", NULL, NULL,
		FIELDS(followup_fields), true },
	{ REPORT_SUPPLEMENTARY, "supplementary", "补报", "supplementary report", NULL, NULL,
		FIELDS(followup_fields), true },
	{ REPORT_ASSESSMENT, "assessment", "风险评估报告", "risk assessment", "assess_due",
		"risk_assessment", FIELDS(assessment_fields), false },
	{ REPORT_AUTHORITY, "authority", "向主管部门的报告", "report to the authority",
		"authority_due", "authority_report", FIELDS(authority_fields), false },
	{ REPORT_INVESTIGATION, "investigation", "调查评估报告", "investigation report", NULL,
		NULL, FIELDS(investigation_fields), false },
	{ REPORT_SUMMARY, "summary", "总结报告", "summary report", "summary_due", "summary",
		FIELDS(summary_fields), false },
};
#define NKINDS	(sizeof(kind_defs) / sizeof(kind_defs[0]))

static const struct kind_def *
kind_by_report(enum report_kind k)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (kind_defs[i].kind == k)
			return &kind_defs[i];
	return NULL;
}

static const struct kind_def *
kind_by_json(const char *name)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (name != NULL && strcmp(kind_defs[i].json_kind, name) == 0)
			return &kind_defs[i];
	return NULL;
}

static const struct kind_def *
kind_by_late_item(const char *item)
{
	for (size_t i = 0; i < NKINDS; i++)
		if (kind_defs[i].late_item != NULL && strcmp(kind_defs[i].late_item, item) == 0)
			return &kind_defs[i];
	return NULL;
}

/* --- the incident --------------------------------------------------------------- */

struct inc {
	char	*id, *title, *host, *category, *subcategory, *grade, *grade_key, *colour,
		*response, *state, *state_name, *detected_at, *report_due, *assess_due,
		*authority_due, *summary_due, *closed_at, *signals;
	char	*plan_name, *plan_unit, *plan_system, *plan_authority;
	bool	 late;
	struct view late_items, measures, reports, tasks, flags, timeline;
};

static const struct {
	const char	*key;
	size_t		 off;
	bool		 time;
} inc_texts[] = {
	{ "id", offsetof(struct inc, id), false },
	{ "title", offsetof(struct inc, title), false },
	{ "host", offsetof(struct inc, host), false },
	{ "category", offsetof(struct inc, category), false },
	{ "subcategory", offsetof(struct inc, subcategory), false },
	{ "grade", offsetof(struct inc, grade), false },
	{ "grade_key", offsetof(struct inc, grade_key), false },
	{ "colour", offsetof(struct inc, colour), false },
	{ "response", offsetof(struct inc, response), false },
	{ "state", offsetof(struct inc, state), false },
	{ "state_name", offsetof(struct inc, state_name), false },
	{ "detected_at", offsetof(struct inc, detected_at), true },
	{ "report_due", offsetof(struct inc, report_due), true },
	{ "assess_due", offsetof(struct inc, assess_due), true },
	{ "authority_due", offsetof(struct inc, authority_due), true },
	{ "summary_due", offsetof(struct inc, summary_due), true },
	{ "closed_at", offsetof(struct inc, closed_at), true },
	{ "signals", offsetof(struct inc, signals), false },
};
#define NINC_TEXTS	(sizeof(inc_texts) / sizeof(inc_texts[0]))

static const struct {
	const char	*key;
	size_t		 off;
} plan_texts[] = {
	{ "name", offsetof(struct inc, plan_name) },
	{ "unit", offsetof(struct inc, plan_unit) },
	{ "system", offsetof(struct inc, plan_system) },
	{ "authority", offsetof(struct inc, plan_authority) },
};

static char **
inc_slot(struct inc *inc, size_t off)
{
	return (char **)(void *)((char *)inc + off);
}

/* The incident's text field called key (one of inc_texts), or NULL. */
static const char *
inc_text(const struct inc *inc, const char *key)
{
	for (size_t i = 0; i < NINC_TEXTS; i++)
		if (strcmp(inc_texts[i].key, key) == 0)
			return *inc_slot((struct inc *)inc, inc_texts[i].off);
	return NULL;
}

static void
inc_release(struct inc *inc)
{
	for (size_t i = 0; i < NINC_TEXTS; i++)
		free(*inc_slot(inc, inc_texts[i].off));
	for (size_t i = 0; i < sizeof(plan_texts) / sizeof(plan_texts[0]); i++)
		free(*inc_slot(inc, plan_texts[i].off));
	memset(inc, 0, sizeof(*inc));
}

/* --- reading values --------------------------------------------------------------- */

static bool
is_null(const char *v, size_t len)
{
	return len == 4 && memcmp(v, "null", 4) == 0;
}

/* "2026-11-22T17:03:05+08:00" as people read it: "2026-11-22 17:03:05 +08:00". */
static int
put_time(struct buf *out, const char *s, size_t len)
{
	bool iso = len >= 19 && s[4] == '-' && s[7] == '-' && s[10] == 'T' && s[13] == ':' &&
		s[16] == ':';
	size_t zone;
	int r;

	if (!iso)
		return doc_clean(out, s, len);
	for (zone = 19; zone < len && s[zone] != '+' && s[zone] != '-' && s[zone] != 'Z'; zone++)
		;
	r = buf_append(out, s, 10);
	if (r == 0)
		r = buf_putc(out, ' ');
	if (r == 0)
		r = doc_clean(out, s + 11, zone - 11);
	if (r == 0 && zone < len)
		r = buf_putc(out, ' ');
	if (r == 0)
		r = doc_clean(out, s + zone, len - zone);
	return r;
}

/* A text field of obj: a string (unescaped and cleaned) or a number (as
 * written); *ret is NULL when absent or null. -EINVAL for another type. */
static int
get_text(const char *obj, size_t len, const char *key, bool time, char **ret)
{
	struct buf raw, text;
	const char *v;
	size_t vlen;
	int r;

	buf_init(&raw, DOC_MAX_BYTES);
	buf_init(&text, DOC_MAX_BYTES);
	r = json_get_raw(obj, len, key, &v, &vlen);
	if (r == -ENOENT || (r == 0 && is_null(v, vlen))) {
		*ret = NULL;
		r = 0;
		goto out;
	}
	if (r < 0)
		goto out;
	if (v[0] == '"') {
		r = json_get_str(obj, len, key, &raw);
		if (r < 0)
			goto out;
		r = time ? put_time(&text, raw.data, raw.len) : doc_clean(&text, raw.data, raw.len);
	} else if (v[0] == '-' || isdigit((unsigned char)v[0])) {
		r = buf_append(&text, v, vlen);
	} else {
		r = -EINVAL;
	}
	if (r < 0)
		goto out;
	*ret = xstrdup(text.data);
out:
	buf_release(&raw);
	buf_release(&text);
	return r;
}

/* true/false; null or absent is false. */
static int
get_bool(const char *obj, size_t len, const char *key, bool *ret)
{
	const char *v;
	size_t vlen;
	int r;

	r = json_get_raw(obj, len, key, &v, &vlen);
	if (r == -ENOENT || (r == 0 && is_null(v, vlen))) {
		*ret = false;
		return 0;
	}
	if (r < 0)
		return r;
	if (vlen == 4 && memcmp(v, "true", 4) == 0)
		*ret = true;
	else if (vlen == 5 && memcmp(v, "false", 5) == 0)
		*ret = false;
	else
		return -EINVAL;
	return 0;
}

/* An object ('{') or array ('[') value; ret->p is NULL when absent or null. */
static int
get_container(const char *obj, size_t len, const char *key, char open, struct view *ret)
{
	const char *v;
	size_t vlen;
	int r;

	r = json_get_raw(obj, len, key, &v, &vlen);
	if (r == -ENOENT || (r == 0 && is_null(v, vlen))) {
		ret->p = NULL;
		ret->len = 0;
		return 0;
	}
	if (r < 0)
		return r;
	if (v[0] != open)
		return -EINVAL;
	ret->p = v;
	ret->len = vlen;
	return 0;
}

/* The next element of arr, which must be an object: 0, -ENOENT after the
 * last, -EINVAL. An absent array has no elements. */
static int
next_object(struct view arr, size_t *pos, struct view *ret)
{
	int r;

	if (arr.p == NULL)
		return -ENOENT;
	r = json_array_next(arr.p, arr.len, pos, &ret->p, &ret->len);
	if (r < 0)
		return r;
	return ret->p[0] == '{' ? 0 : -EINVAL;
}

static const struct {
	const char	*key, *zh, *en;
	bool		 time;
} task_cols[] = {
	{ "title", "任务", "Task", false }, { "role", "角色", "Role", false },
	{ "assignee", "负责人", "Assignee", false }, { "due_at", "期限", "Due", true },
	{ "done_at", "完成时间", "Done", true },
};
#define NTASK_COLS	(sizeof(task_cols) / sizeof(task_cols[0]))

/* Only the incident file shows the tasks; every report checks them, so that
 * a document is refused or not whichever report is asked for. */
static int
tasks_check(struct view tasks)
{
	struct view obj;
	size_t pos = 0;
	int r;

	while ((r = next_object(tasks, &pos, &obj)) == 0)
		for (size_t i = 0; i < NTASK_COLS; i++) {
			char *v = NULL;

			r = get_text(obj.p, obj.len, task_cols[i].key, false, &v);
			free(v);
			if (r < 0)
				return r;
		}
	return r == -ENOENT ? 0 : r;
}

static int
inc_load(const char *json, size_t len, struct inc *inc)
{
	struct view plan;
	int r;

	for (size_t i = 0; i < NINC_TEXTS; i++) {
		r = get_text(json, len, inc_texts[i].key, inc_texts[i].time,
			inc_slot(inc, inc_texts[i].off));
		if (r < 0)
			return r;
	}
	if (inc->id == NULL || inc->id[0] == '\0')
		return -EINVAL;
	r = get_bool(json, len, "late", &inc->late);
	if (r < 0)
		return r;
	r = get_container(json, len, "plan", '{', &plan);
	if (r < 0)
		return r;
	for (size_t i = 0; plan.p != NULL && i < sizeof(plan_texts) / sizeof(plan_texts[0]); i++) {
		r = get_text(plan.p, plan.len, plan_texts[i].key, false,
			inc_slot(inc, plan_texts[i].off));
		if (r < 0)
			return r;
	}
	if ((r = get_container(json, len, "late_items", '[', &inc->late_items)) < 0 ||
	    (r = get_container(json, len, "measures", '{', &inc->measures)) < 0 ||
	    (r = get_container(json, len, "reports", '[', &inc->reports)) < 0 ||
	    (r = get_container(json, len, "tasks", '[', &inc->tasks)) < 0 ||
	    (r = get_container(json, len, "flags", '[', &inc->flags)) < 0 ||
	    (r = get_container(json, len, "timeline", '[', &inc->timeline)) < 0)
		return r;
	return tasks_check(inc->tasks);
}

/* --- one filed report ------------------------------------------------------------ */

struct filing {
	struct view	 obj, fields;
	char		*kind, *version, *filed_at, *by, *fields_raw;
	bool		 late;
	long long	 order;		/* version as a number, for sorting */
	size_t		 index;		/* position in reports[], for a stable sort */
};

static void
filing_release(struct filing *f)
{
	free(f->kind);
	free(f->version);
	free(f->filed_at);
	free(f->by);
	free(f->fields_raw);
}

static int
filing_load(struct view obj, size_t index, struct filing *ret)
{
	struct filing f = { .obj = obj, .index = index };
	int r;

	if ((r = get_text(obj.p, obj.len, "kind", false, &f.kind)) < 0 ||
	    (r = get_text(obj.p, obj.len, "version", false, &f.version)) < 0 ||
	    (r = get_text(obj.p, obj.len, "filed_at", true, &f.filed_at)) < 0 ||
	    (r = get_text(obj.p, obj.len, "by", false, &f.by)) < 0 ||
	    (r = get_text(obj.p, obj.len, "fields_raw", false, &f.fields_raw)) < 0 ||
	    (r = get_bool(obj.p, obj.len, "late", &f.late)) < 0 ||
	    (r = get_container(obj.p, obj.len, "fields", '{', &f.fields)) < 0)
		goto out;
	f.order = f.version != NULL ? strtoll(f.version, NULL, 10) : 0;
	*ret = f;
	memset(&f, 0, sizeof(f));
	r = 0;
out:
	filing_release(&f);
	return r;
}

struct filings {
	struct filing	*v;
	size_t		 n, cap;
};

static void
filings_release(struct filings *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		filing_release(&fs->v[i]);
	free(fs->v);
	memset(fs, 0, sizeof(*fs));
}

/* Every field the filing's kind has (all kinds' for one we do not know)
 * must be text, so that a report is refused or not whichever kind is asked
 * for. */
static int
filing_check_fields(const struct filing *f)
{
	const struct kind_def *kd = kind_by_json(f->kind);

	if (f->fields.p == NULL)
		return 0;
	for (size_t k = 0; k < NKINDS; k++) {
		const struct kind_def *cur = kd != NULL ? kd : &kind_defs[k];

		for (size_t i = 0; i < cur->nfields; i++) {
			char *v = NULL;
			int r = get_text(f->fields.p, f->fields.len, cur->fields[i].key, false, &v);

			free(v);
			if (r < 0)
				return r;
		}
		if (kd != NULL)
			break;
	}
	return 0;
}

static int
filing_cmp(const void *a, const void *b)
{
	const struct filing *x = a, *y = b;

	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return x->index < y->index ? -1 : x->index > y->index;
}

/* The filings of json_kind (NULL: all, in document order; otherwise sorted
 * by version, oldest first). */
static int
filings_load(const struct inc *inc, const char *json_kind, struct filings *ret)
{
	struct filings fs = { 0 };
	struct view obj;
	size_t pos = 0;
	int r;

	while ((r = next_object(inc->reports, &pos, &obj)) == 0) {
		struct filing f;

		r = filing_load(obj, fs.n, &f);
		if (r < 0)
			goto out;
		if (json_kind == NULL && (r = filing_check_fields(&f)) < 0) {
			filing_release(&f);
			goto out;
		}
		if (json_kind != NULL && (f.kind == NULL || strcmp(f.kind, json_kind) != 0)) {
			filing_release(&f);
			continue;
		}
		fs.v = xgrow(fs.v, &fs.cap, fs.n + 1, sizeof(*fs.v));
		fs.v[fs.n++] = f;
	}
	if (r != -ENOENT)
		goto out;
	if (json_kind != NULL && fs.n > 1)
		qsort(fs.v, fs.n, sizeof(*fs.v), filing_cmp);
	*ret = fs;
	memset(&fs, 0, sizeof(fs));
	r = 0;
out:
	filings_release(&fs);
	return r;
}

/* --- building blocks --------------------------------------------------------------- */

/* Table cells collected in one buffer (offsets, since it moves as it grows). */
struct cells {
	struct buf	 text;
	size_t		*off;
	size_t		 n, cap;
};

static void
cells_init(struct cells *c)
{
	buf_init(&c->text, DOC_MAX_BYTES);
	c->off = NULL;
	c->n = c->cap = 0;
}

static void
cells_release(struct cells *c)
{
	buf_release(&c->text);
	free(c->off);
	c->off = NULL;
	c->n = c->cap = 0;
}

static int
cells_add(struct cells *c, const char *s)
{
	size_t start = c->text.len;
	int r;

	r = buf_append(&c->text, s != NULL ? s : "", s != NULL ? strlen(s) + 1 : 1);
	if (r < 0)
		return r;
	c->off = xgrow(c->off, &c->cap, c->n + 1, sizeof(*c->off));
	c->off[c->n++] = start;
	return 0;
}

static int
cells_addf(struct cells *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int
cells_addf(struct cells *c, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	int r;

	buf_init(&b, DOC_MAX_BYTES);
	va_start(ap, fmt);
	r = buf_vappendf(&b, fmt, ap);
	va_end(ap);
	if (r == 0)
		r = cells_add(c, b.data);
	buf_release(&b);
	return r;
}

/* Hand the cells to d as a table and empty c. */
static int
cells_flush(struct doc *d, struct cells *c, size_t ncols, bool header)
{
	const char **v = NULL;
	int r;

	if (c->n == 0)
		return 0;
	v = xcalloc(c->n, sizeof(*v));
	for (size_t i = 0; i < c->n; i++)
		v[i] = c->text.data + c->off[i];
	r = doc_table(d, ncols, header, v, c->n);
	free(v);
	cells_release(c);
	cells_init(c);
	return r;
}

static int
block_f(struct doc *d, enum doc_block_kind kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int
block_f(struct doc *d, enum doc_block_kind kind, const char *fmt, ...)
{
	struct buf b;
	va_list ap;
	int r;

	buf_init(&b, DOC_MAX_BYTES);
	va_start(ap, fmt);
	r = buf_vappendf(&b, fmt, ap);
	va_end(ap);
	if (r == 0)
		r = kind == DOC_WARNING ? doc_warning(d, b.data) : doc_paragraph(d, b.data);
	buf_release(&b);
	return r;
}

static const char *
or_dash(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : "—";
}

static const char *
field_label(const struct field_def *f)
{
	return L(f->zh, f->en);
}

static const char *
kind_name(const struct kind_def *k)
{
	return L(k->zh, k->en);
}

/* --- the sections ------------------------------------------------------------------ */

struct comp {
	struct doc		*d;
	struct inc		*inc;
	enum report_kind	 kind;
	const struct kind_def	*kd;		/* NULL for REPORT_INCIDENT */
	struct filings		 all;		/* every filing, document order */
};

static const char *
grade_en(const char *zh)
{
	static const char *const map[][2] = {
		{ "特别重大", "extraordinarily serious" }, { "重大", "serious" },
		{ "较大", "relatively serious" }, { "一般", "general" }, { "未定级", "not graded" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], zh) == 0)
			return map[i][1];
	return zh;
}

static const char *
colour_en(const char *zh)
{
	static const char *const map[][2] = {
		{ "红", "red" }, { "橙", "orange" }, { "黄", "yellow" }, { "蓝", "blue" },
		{ "红色", "red" }, { "橙色", "orange" }, { "黄色", "yellow" }, { "蓝色", "blue" },
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		if (strcmp(map[i][0], zh) == 0)
			return map[i][1];
	return zh;
}

static bool
given(const char *s)
{
	return s != NULL && s[0] != '\0' && strcmp(s, "-") != 0 && strcmp(s, "?") != 0;
}

/* "较大（III级），黄色预警，Ⅲ级响应" / "relatively serious (III), yellow, response Ⅲ". */
static int
grade_text(const struct inc *inc, struct buf *b)
{
	size_t n;
	int r = 0;

	if (given(inc->grade))
		r = buf_puts(b, L(inc->grade, grade_en(inc->grade)));
	if (r == 0 && given(inc->grade_key))
		r = buf_appendf(b, L("（%s级）", " (%s)"), inc->grade_key);
	if (r == 0 && given(inc->colour)) {
		n = strlen(inc->colour);
		if (i18n_english())
			r = buf_appendf(b, "%s%s alert", b->len ? ", " : "", colour_en(inc->colour));
		else
			r = buf_appendf(b, "%s%s%s预警", b->len ? "，" : "", inc->colour,
				n >= 3 && strcmp(inc->colour + n - 3, "色") == 0 ? "" : "色");
	}
	if (r == 0 && given(inc->response)) {
		n = strlen(inc->response);
		if (i18n_english())
			r = buf_appendf(b, "%sresponse level %.*s", b->len ? ", " : "",
				(int)(n >= 3 && strcmp(inc->response + n - 3, "级") == 0 ? n - 3 : n),
				inc->response);
		else
			r = buf_appendf(b, "%s%s响应", b->len ? "，" : "", inc->response);
	}
	if (r == 0 && b->len == 0)
		r = buf_puts(b, "—");
	return r;
}

/* The first filing of kd, or NULL. */
static const struct filing *
first_filing(const struct comp *c, const struct kind_def *kd)
{
	for (size_t i = 0; i < c->all.n; i++)
		if (c->all.v[i].kind != NULL && strcmp(c->all.v[i].kind, kd->json_kind) == 0)
			return &c->all.v[i];
	return NULL;
}

static int
header_section(struct comp *c)
{
	const struct inc *inc = c->inc;
	const char *org = inc->plan_name != NULL ? inc->plan_name : inc->plan_unit;
	const char *unit = inc->plan_unit != NULL ? inc->plan_unit : inc->plan_name;
	struct cells t;
	struct buf b;
	int r;

	cells_init(&t);
	buf_init(&b, DOC_MAX_BYTES);
	r = grade_text(inc, &b);
	if (r < 0)
		goto out;
	if ((r = cells_add(&t, L("单位", "Organisation"))) < 0 ||
	    (r = cells_add(&t, or_dash(org))) < 0 ||
	    (r = cells_add(&t, L("事件编号", "Incident number"))) < 0 ||
	    (r = cells_add(&t, inc->id)) < 0 ||
	    (r = cells_add(&t, L("事件名称", "Incident"))) < 0 ||
	    (r = cells_add(&t, or_dash(inc->title))) < 0 ||
	    (r = cells_add(&t, L("事件类别", "Category"))) < 0)
		goto out;
	if (given(inc->category) && given(inc->subcategory))
		r = cells_addf(&t, "%s / %s", inc->category, inc->subcategory);
	else
		r = cells_add(&t, or_dash(given(inc->category) ? inc->category : inc->subcategory));
	if (r < 0)
		goto out;
	if ((r = cells_add(&t, L("事件级别", "Grade"))) < 0 || (r = cells_add(&t, b.data)) < 0)
		goto out;
	if (given(inc->host) &&
	    ((r = cells_add(&t, L("涉事主机", "Host"))) < 0 || (r = cells_add(&t, inc->host)) < 0))
		goto out;
	if ((r = cells_add(&t, L("发现时间", "Detected at"))) < 0 ||
	    (r = cells_add(&t, or_dash(inc->detected_at))) < 0 ||
	    (r = cells_add(&t, L("当前阶段", "Current stage"))) < 0)
		goto out;
	if (i18n_english())
		r = cells_add(&t, or_dash(given(inc->state) ? inc->state : inc->state_name));
	else
		r = cells_add(&t, or_dash(given(inc->state_name) ? inc->state_name : inc->state));
	if (r < 0)
		goto out;
	if (given(inc->closed_at) &&
	    ((r = cells_add(&t, L("结案时间", "Closed at"))) < 0 ||
	     (r = cells_add(&t, inc->closed_at)) < 0))
		goto out;
	if (c->kind == REPORT_AUTHORITY &&
	    ((r = cells_add(&t, L("报告单位", "Reporting unit"))) < 0 ||
	     (r = cells_add(&t, or_dash(unit))) < 0 ||
	     (r = cells_add(&t, L("涉事信息系统", "Information system"))) < 0 ||
	     (r = cells_add(&t, or_dash(inc->plan_system))) < 0 ||
	     (r = cells_add(&t, L("报送对象", "Reported to"))) < 0 ||
	     (r = cells_add(&t, or_dash(inc->plan_authority))) < 0))
		goto out;
	if (c->kd != NULL && c->kd->due_key != NULL) {
		const char *due = inc_text(inc, c->kd->due_key);

		if ((r = cells_add(&t, L("报送时限", "Due"))) < 0 ||
		    (r = cells_add(&t, due != NULL ? due : L("不适用", "not applicable"))) < 0)
			goto out;
	}
	r = cells_flush(c->d, &t, 2, false);
out:
	cells_release(&t);
	buf_release(&b);
	return r;
}

/* A JSON string value v[0..vlen) (quotes included) unescaped into out; one
 * longer than out's cap reads as "?". json_get reads values of keys only, so
 * the string is looked up as the value of a one-key object. */
static int
string_value(const char *v, size_t vlen, struct buf *out)
{
	struct buf obj;
	int r;

	buf_init(&obj, DOC_MAX_BYTES);
	r = buf_puts(&obj, "{\"k\":");
	if (r == 0)
		r = buf_append(&obj, v, vlen);
	if (r == 0)
		r = buf_putc(&obj, '}');
	if (r == 0)
		r = json_get_str(obj.data, obj.len, "k", out);
	if (r == -E2BIG) {
		buf_reset(out);
		r = buf_puts(out, "?");
	}
	buf_release(&obj);
	return r;
}

/* Late items are bits by kind_defs index. */
static int
late_section(struct comp *c)
{
	const struct inc *inc = c->inc;
	unsigned listed = 0;
	size_t pos = 0, nwarn = 0;
	const char *v;
	size_t vlen;
	struct buf item;
	int r;

	buf_init(&item, 256);
	r = doc_heading(c->d, 1, L("缓报情况", "Late reporting"));
	if (r < 0)
		goto out;
	while (inc->late_items.p != NULL &&
	       (r = json_array_next(inc->late_items.p, inc->late_items.len, &pos, &v, &vlen)) == 0) {
		const struct kind_def *kd;
		const struct filing *f;
		const char *due;

		if (v[0] != '"') {
			r = -EINVAL;
			goto out;
		}
		r = string_value(v, vlen, &item);
		if (r < 0)
			goto out;
		kd = kind_by_late_item(item.data);
		nwarn++;
		if (kd == NULL) {
			struct buf clean;

			buf_init(&clean, 512);
			r = doc_clean(&clean, item.data, item.len);
			if (r == 0)
				r = block_f(c->d, DOC_WARNING, L("缓报：%s", "Late: %s"), clean.data);
			buf_release(&clean);
			if (r < 0)
				goto out;
			continue;
		}
		listed |= 1u << (kd - kind_defs);
		due = inc_text(inc, kd->due_key);
		f = first_filing(c, kd);
		if (f != NULL)
			r = block_f(c->d, DOC_WARNING,
				L("缓报：%s未在规定时限内报送（应于 %s 前报送，实际于 %s 报送）",
				  "Late: the %s was not filed in time (due %s, filed %s)"),
				kind_name(kd), or_dash(due), or_dash(f->filed_at));
		else
			r = block_f(c->d, DOC_WARNING,
				L("缓报：%s未在规定时限内报送（应于 %s 前报送，至今未报送）",
				  "Late: the %s was not filed in time (due %s, not filed yet)"),
				kind_name(kd), or_dash(due));
		if (r < 0)
			goto out;
	}
	if (r < 0 && r != -ENOENT)
		goto out;
	/* filings marked late whose deadline the incident does not list */
	for (size_t i = 0; i < c->all.n; i++) {
		const struct filing *f = &c->all.v[i];
		const struct kind_def *kd = kind_by_json(f->kind);

		if (!f->late || (kd != NULL && (listed & (1u << (kd - kind_defs)))))
			continue;
		nwarn++;
		r = block_f(c->d, DOC_WARNING,
			L("缓报：%s（第 %s 版）于 %s 报送，晚于规定时限",
			  "Late: %s (version %s) filed %s, after its deadline"),
			kd != NULL ? kind_name(kd) : or_dash(f->kind), or_dash(f->version),
			or_dash(f->filed_at));
		if (r < 0)
			goto out;
	}
	if (nwarn == 0 && inc->late)
		r = doc_warning(c->d, L("缓报：本事件被标记为缓报。", "Late: the incident is marked late."));
	else if (nwarn == 0)
		r = doc_paragraph(c->d, L("无缓报情形。", "Nothing was reported late."));
	else
		r = 0;
out:
	buf_release(&item);
	return r;
}

static int
fmt_duration(struct buf *b, double secs)
{
	static const struct {
		long long unit;
		const char *zh, *en;
	} units[] = {
		{ 86400, "天", " d" }, { 3600, "小时", " h" }, { 60, "分", " min" }, { 1, "秒", " s" },
	};
	long long s;
	bool any = false;
	int r = 0;

	if (!(secs >= 0) || secs > 1e15)
		return buf_appendf(b, "%g", secs);
	s = (long long)(secs + 0.5);
	for (size_t i = 0; r == 0 && i < sizeof(units) / sizeof(units[0]); i++) {
		long long n = s / units[i].unit;

		s %= units[i].unit;
		if (n == 0 && (any || units[i].unit != 1))
			continue;
		r = buf_appendf(b, "%s%lld%s", any && i18n_english() ? " " : "", n,
			L(units[i].zh, units[i].en));
		any = true;
	}
	return r;
}

static int
measures_section(struct comp *c)
{
	static const struct {
		const char *key, *zh, *en, *unit_zh, *unit_en;
		bool duration;
	} ms[] = {
		{ "portal_down_s", "门户网站中断时长", "Portal down for", "", "", true },
		{ "tamper_visible_s", "篡改内容可见时长", "Tampered content visible for", "", "", true },
		{ "records_leaked", "泄露记录数", "Records leaked", " 条", "", false },
		{ "direct_loss", "直接经济损失", "Direct economic loss", " 元", " yuan", false },
		{ "hosts_affected", "受影响主机数", "Hosts affected", " 台", "", false },
	};
	const struct inc *inc = c->inc;
	struct cells t;
	struct buf b;
	int r = 0;

	cells_init(&t);
	buf_init(&b, 256);
	for (size_t i = 0; inc->measures.p != NULL && i < sizeof(ms) / sizeof(ms[0]); i++) {
		char *v = NULL;

		r = get_text(inc->measures.p, inc->measures.len, ms[i].key, false, &v);
		if (r < 0)
			goto out;
		if (v == NULL)
			continue;
		if (!isdigit((unsigned char)v[0]) && v[0] != '-') {
			free(v);		/* a string where a number belongs */
			r = -EINVAL;
			goto out;
		}
		buf_reset(&b);
		if (ms[i].duration)
			r = fmt_duration(&b, strtod(v, NULL));
		else
			r = buf_appendf(&b, "%s%s", v, L(ms[i].unit_zh, ms[i].unit_en));
		free(v);
		if (r == 0)
			r = cells_add(&t, L(ms[i].zh, ms[i].en));
		if (r == 0)
			r = cells_add(&t, b.data);
		if (r < 0)
			goto out;
	}
	if (given(inc->signals) &&
	    ((r = cells_add(&t, L("关联告警信号数", "Signals"))) < 0 ||
	     (r = cells_add(&t, inc->signals)) < 0))
		goto out;
	if (t.n == 0)
		goto out;
	r = doc_heading(c->d, 1, L("影响情况", "Impact"));
	if (r == 0)
		r = cells_flush(c->d, &t, 2, false);
out:
	cells_release(&t);
	buf_release(&b);
	return r;
}

/* The fields of one filing as a two-column table. kd NULL: a kind we do not
 * know; every field any kind has is shown when given. */
static int
filing_fields(struct comp *c, const struct filing *f, const struct kind_def *kd)
{
	struct cells t;
	int r = 0;

	cells_init(&t);
	for (size_t k = 0; k < (kd != NULL ? 1 : NKINDS); k++) {
		const struct kind_def *cur = kd != NULL ? kd : &kind_defs[k];

		for (size_t i = 0; i < cur->nfields; i++) {
			const struct field_def *fd = &cur->fields[i];
			bool optional = kd == NULL || (cur->first_only && i > 0);
			char *v = NULL;

			if (kd == NULL && k > 0) {
				bool seen = false;	/* one row per key */

				for (size_t j = 0; j < k && !seen; j++)
					for (size_t m = 0; m < kind_defs[j].nfields; m++)
						seen |= strcmp(kind_defs[j].fields[m].key, fd->key) == 0;
				if (seen)
					continue;
			}
			if (f->fields.p != NULL) {
				r = get_text(f->fields.p, f->fields.len, fd->key, fd->time, &v);
				if (r < 0)
					goto out;
			}
			if (v == NULL && optional)
				continue;
			r = cells_add(&t, field_label(fd));
			if (r == 0)
				r = cells_add(&t, v != NULL && v[0] != '\0' ? v
								    : L("（未填写）", "(not given)"));
			free(v);
			if (r < 0)
				goto out;
		}
	}
	if (f->fields_raw != NULL &&
	    ((r = cells_add(&t, L("报告原文", "Text as filed"))) < 0 ||
	     (r = cells_add(&t, f->fields_raw)) < 0))
		goto out;
	if (t.n == 0)
		r = doc_paragraph(c->d, L("（无内容）", "(empty)"));
	else
		r = cells_flush(c->d, &t, 2, false);
out:
	cells_release(&t);
	return r;
}

static int
filing_heading(struct comp *c, const struct filing *f, const struct kind_def *kd, bool with_kind)
{
	struct buf b;
	int r = 0;

	buf_init(&b, DOC_MAX_BYTES);
	if (with_kind)
		r = buf_appendf(&b, "%s ", kd != NULL ? kind_name(kd) : or_dash(f->kind));
	if (r == 0)
		r = buf_appendf(&b, L("第 %s 版　报送时间：%s　报送人：%s", "Version %s — filed %s by %s"),
			or_dash(f->version), or_dash(f->filed_at), or_dash(f->by));
	if (r == 0)
		r = doc_heading(c->d, 2, b.data);
	if (r == 0 && f->late)
		r = doc_warning(c->d, L("本版报送晚于规定时限（缓报）。",
					"This version was filed after its deadline (late)."));
	buf_release(&b);
	return r;
}

/* The report's own section: each filing of its kind, oldest first. */
static int
filings_section(struct comp *c)
{
	struct filings fs = { 0 };
	struct cells t;
	int r;

	cells_init(&t);
	r = filings_load(c->inc, c->kd->json_kind, &fs);
	if (r < 0)
		goto out;
	r = doc_heading(c->d, 1, L("报告内容", "Report"));
	if (r < 0)
		goto out;
	if (fs.n == 0) {
		r = doc_paragraph(c->d, L("本报告尚未填报。", "This report has not been filed."));
		for (size_t i = 0; r == 0 && i < c->kd->nfields; i++) {
			if (c->kd->first_only && i > 0)
				break;
			r = cells_add(&t, field_label(&c->kd->fields[i]));
			if (r == 0)
				r = cells_add(&t, L("未填报", "not filed"));
		}
		if (r == 0)
			r = cells_flush(c->d, &t, 2, false);
		goto out;
	}
	for (size_t i = 0; i < fs.n; i++) {
		r = filing_heading(c, &fs.v[i], c->kd, false);
		if (r == 0)
			r = filing_fields(c, &fs.v[i], c->kd);
		if (r < 0)
			goto out;
	}
out:
	cells_release(&t);
	filings_release(&fs);
	return r;
}

/* REPORT_INCIDENT: the deadlines and every filing. */
static int
file_sections(struct comp *c)
{
	struct cells t;
	unsigned late = 0;
	size_t pos = 0;
	const char *v;
	size_t vlen;
	int r;

	cells_init(&t);
	/* which deadlines were missed: late_items' strings are plain keys */
	while (c->inc->late_items.p != NULL &&
	       json_array_next(c->inc->late_items.p, c->inc->late_items.len, &pos, &v, &vlen) == 0)
		for (size_t k = 0; k < NKINDS; k++)
			if (kind_defs[k].late_item != NULL &&
			    vlen == strlen(kind_defs[k].late_item) + 2 &&
			    memcmp(v + 1, kind_defs[k].late_item, vlen - 2) == 0)
				late |= 1u << k;
	r = doc_heading(c->d, 1, L("报告时限", "Deadlines"));
	if (r < 0)
		goto out;
	if ((r = cells_add(&t, L("事项", "Item"))) < 0 || (r = cells_add(&t, L("时限", "Due"))) < 0 ||
	    (r = cells_add(&t, L("报送情况", "Filed"))) < 0)
		goto out;
	for (size_t k = 0; k < NKINDS; k++) {
		const struct kind_def *kd = &kind_defs[k];
		const struct filing *f;
		const char *due;

		if (kd->due_key == NULL)
			continue;
		due = inc_text(c->inc, kd->due_key);
		f = first_filing(c, kd);
		if ((r = cells_add(&t, kind_name(kd))) < 0 ||
		    (r = cells_add(&t, due != NULL ? due : L("不适用", "not applicable"))) < 0)
			goto out;
		if (f != NULL)
			r = cells_addf(&t, "%s%s", or_dash(f->filed_at),
				(late & (1u << k)) || f->late ? L("（缓报）", " (late)") : "");
		else
			r = cells_add(&t, (late & (1u << k)) ? L("未报送（缓报）", "not filed (late)")
							 : L("未报送", "not filed"));
		if (r < 0)
			goto out;
	}
	r = cells_flush(c->d, &t, 3, true);
	if (r < 0)
		goto out;
	r = doc_heading(c->d, 1, L("已报送的报告", "Reports filed"));
	if (r < 0)
		goto out;
	if (c->all.n == 0)
		r = doc_paragraph(c->d, L("尚无报告。", "No report has been filed."));
	for (size_t i = 0; r == 0 && i < c->all.n; i++) {
		const struct kind_def *kd = kind_by_json(c->all.v[i].kind);

		r = filing_heading(c, &c->all.v[i], kd, true);
		if (r == 0)
			r = filing_fields(c, &c->all.v[i], kd);
	}
out:
	cells_release(&t);
	return r;
}

static int
tasks_section(struct comp *c)
{
	struct cells t;
	struct view obj;
	size_t pos = 0;
	int r;

	cells_init(&t);
	r = doc_heading(c->d, 1, L("处置任务", "Tasks"));
	if (r < 0)
		goto out;
	for (size_t i = 0; i < NTASK_COLS; i++)
		if ((r = cells_add(&t, L(task_cols[i].zh, task_cols[i].en))) < 0)
			goto out;
	while ((r = next_object(c->inc->tasks, &pos, &obj)) == 0) {
		for (size_t i = 0; i < NTASK_COLS; i++) {
			char *v = NULL;

			r = get_text(obj.p, obj.len, task_cols[i].key, task_cols[i].time, &v);
			if (r < 0)
				goto out;
			if (v == NULL && strcmp(task_cols[i].key, "done_at") == 0)
				r = cells_add(&t, L("未完成", "open"));
			else
				r = cells_add(&t, or_dash(v));
			free(v);
			if (r < 0)
				goto out;
		}
	}
	if (r != -ENOENT)
		goto out;
	if (t.n == NTASK_COLS)
		r = doc_paragraph(c->d, L("无。", "None."));
	else
		r = cells_flush(c->d, &t, NTASK_COLS, true);
out:
	cells_release(&t);
	return r;
}

static int
flags_section(struct comp *c)
{
	struct view obj;
	size_t pos = 0, n = 0;
	int r;

	r = doc_heading(c->d, 1, L("问责标记", "Accountability flags"));
	if (r < 0)
		return r;
	while ((r = next_object(c->inc->flags, &pos, &obj)) == 0) {
		char *kind = NULL, *at = NULL, *text = NULL;

		if ((r = get_text(obj.p, obj.len, "kind", false, &kind)) == 0 &&
		    (r = get_text(obj.p, obj.len, "at", true, &at)) == 0 &&
		    (r = get_text(obj.p, obj.len, "text", false, &text)) == 0)
			r = block_f(c->d, DOC_WARNING, L("问责标记【%s】%s：%s", "Flag [%s] %s: %s"),
				or_dash(kind), or_dash(at), or_dash(text));
		free(kind);
		free(at);
		free(text);
		if (r < 0)
			return r;
		n++;
	}
	if (r != -ENOENT)
		return r;
	return n == 0 ? doc_paragraph(c->d, L("无。", "None.")) : 0;
}

static int
timeline_section(struct comp *c)
{
	static const struct {
		const char *key, *zh, *en;
		bool time;
	} cols[] = {
		{ "at", "时间", "Time", true }, { "by", "操作人", "By", false },
		{ "kind", "类型", "Type", false }, { "text", "内容", "Details", false },
	};
	struct cells t;
	struct view obj;
	size_t pos = 0;
	int r;

	cells_init(&t);
	r = doc_heading(c->d, 1, L("处置时间线", "Timeline"));
	if (r < 0)
		goto out;
	for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++)
		if ((r = cells_add(&t, L(cols[i].zh, cols[i].en))) < 0)
			goto out;
	while ((r = next_object(c->inc->timeline, &pos, &obj)) == 0) {
		for (size_t i = 0; i < sizeof(cols) / sizeof(cols[0]); i++) {
			char *v = NULL;

			r = get_text(obj.p, obj.len, cols[i].key, cols[i].time, &v);
			if (r == 0)
				r = cells_add(&t, or_dash(v));
			free(v);
			if (r < 0)
				goto out;
		}
	}
	if (r != -ENOENT)
		goto out;
	if (t.n == sizeof(cols) / sizeof(cols[0]))
		r = doc_paragraph(c->d, L("无记录。", "Nothing recorded."));
	else
		r = cells_flush(c->d, &t, sizeof(cols) / sizeof(cols[0]), true);
out:
	cells_release(&t);
	return r;
}

static int
titles(struct comp *c)
{
	const struct inc *inc = c->inc;
	const char *org = inc->plan_name != NULL ? inc->plan_name : inc->plan_unit;
	char now[48], when[40];
	struct buf b;
	int r;

	buf_init(&b, DOC_MAX_BYTES);
	r = doc_set_text(c->d, &c->d->title, report_kind_title(c->kind));
	if (r < 0)
		goto out;
	if (given(org))
		r = buf_appendf(&b, "%s　", org);
	if (r == 0)
		r = buf_appendf(&b, L("事件编号：%s", "Incident %s"), inc->id);
	if (r == 0)
		r = doc_set_text(c->d, &c->d->subtitle, b.data);
	if (r < 0)
		goto out;
	/* "2026-11-22T11:49:38.123456789+08:00" → "2026-11-22 11:49 +08:00" */
	time_format_local(now_realtime_ns(), now, sizeof(now));
	snprintf(when, sizeof(when), "%.10s %.5s +08:00", now, now + 11);
	buf_reset(&b);
	r = buf_appendf(&b, L("由应急响应系统（Yingji）生成于 %s", "Generated by Yingji on %s"), when);
	if (r == 0)
		r = doc_set_text(c->d, &c->d->footer, b.data);
out:
	buf_release(&b);
	return r;
}

int
report_compose(const char *json, size_t len, enum report_kind kind, struct doc *ret)
{
	struct inc inc = { 0 };
	struct doc d;
	struct comp c = { .d = &d, .inc = &inc, .kind = kind };
	int r;

	doc_init(&d);
	if (kind != REPORT_INCIDENT && kind_by_report(kind) == NULL) {
		r = -EINVAL;
		goto out;
	}
	c.kd = kind_by_report(kind);
	if (len > DOC_MAX_BYTES) {
		r = -E2BIG;
		goto out;
	}
	if (json == NULL) {
		r = -EINVAL;
		goto out;
	}
	r = json_check_object(json, len, COMPOSE_MAX_DEPTH, NULL);
	if (r < 0) {
		r = -EINVAL;	/* too deep is still "not an incident document" */
		goto out;
	}
	r = inc_load(json, len, &inc);
	if (r < 0)
		goto out;
	r = filings_load(&inc, NULL, &c.all);
	if (r < 0)
		goto out;
	if ((r = titles(&c)) < 0 || (r = header_section(&c)) < 0 || (r = late_section(&c)) < 0)
		goto out;
	if (kind == REPORT_INCIDENT)
		r = file_sections(&c);
	else
		r = filings_section(&c);
	if (r < 0)
		goto out;
	if ((r = measures_section(&c)) < 0 || (r = flags_section(&c)) < 0)
		goto out;
	if (kind == REPORT_INCIDENT && (r = tasks_section(&c)) < 0)
		goto out;
	r = timeline_section(&c);
	if (r < 0)
		goto out;

	*ret = d;
	doc_init(&d);		/* the caller owns it now */
out:
	filings_release(&c.all);
	inc_release(&inc);
	doc_release(&d);
	return r;
}
