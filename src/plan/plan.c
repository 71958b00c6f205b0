/*
 * plan.c - plan.yaml into struct plan (plan.h): the YAML tree from the one
 * libyaml wrapper (detect/sigma/yaml_doc.h) walked section by section, every
 * value checked where it stands and the cross-references (roles named by
 * members, escalation, tasks and approvers; channels named by escalation and
 * audit) checked once everything is read. Nothing stops at the first
 * problem: each is recorded with its line and the walk goes on, so one run of
 * `yingji plan check` lists them all. Unknown keys are errors (a typo in a
 * key would otherwise silently fall back to a default).
 *
 * The file format and every check are documented in docs/plan.md.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/fdio.h"
#include "core/i18n.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "detect/sigma/yaml_doc.h"
#include "incident/category.h"
#include "plan/plan.h"
#include "tls/sha256.h"
#include "core/banned.h"

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

#define PLAN_MAX_ID		64
#define PLAN_MAX_DURATION_NS	(366LL * 86400 * 1000000000)	/* any duration: at most 366 days */
#define PLAN_MAX_TIMEOUT_NS	(300LL * 1000000000)		/* a channel's attempt: 5 min */
#define PLAN_MAX_RETRIES	100
#define PLAN_MIN_RETENTION	180
#define PLAN_MAX_RETENTION	36500
#define PLAN_MAX_COUNT		(INT64_MAX / 4)			/* a count threshold */
#define SEC_NS			1000000000LL

/* The walk's state. */
struct pctx {
	struct plan		*p;
	struct plan_errors	*errs;
	const struct ynode	**role_esc;	/* per role: its escalates_to value, or NULL */
	const struct ynode	*esc_start;	/* escalation.start's value */
	unsigned		 members_line;
	bool			 member_role_unknown;	/* a member named a role that is not there */
	char			 qbuf[4][160];	/* q(): quoted values for messages */
	unsigned		 qnext;
};

/* --- errors ------------------------------------------------------------------- */

/* Cut s where it stops being valid UTF-8 (vsnprintf may cut inside a character). */
static void
utf8_cut(char *s)
{
	size_t len = strlen(s), i = 0;

	while (i < len) {
		size_t n = utf8_char_len((const unsigned char *)s + i, len - i);

		if (n == 0)
			break;
		i += n;
	}
	s[i] = '\0';
}

static void perr(struct pctx *c, unsigned line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void
perr(struct pctx *c, unsigned line, const char *fmt, ...)
{
	struct plan_errors *e = c->errs;
	va_list ap;

	if (e->n >= PLAN_MAX_ERRORS) {
		e->truncated = true;
		return;
	}
	e->items[e->n].line = line;
	va_start(ap, fmt);
	vsnprintf(e->items[e->n].msg, sizeof(e->items[e->n].msg), fmt, ap);
	va_end(ap);
	utf8_cut(e->items[e->n].msg);
	e->n++;
}

/* A value from the file made fit for a message: at most ~60 bytes, whole
 * characters, control characters and invalid bytes shown as '?'. Four may be
 * used in one message. */
static const char *
q(struct pctx *c, const char *s, size_t len)
{
	char *out = c->qbuf[c->qnext++ % NELEM(c->qbuf)];
	size_t o = 0, i = 0;

	while (i < len) {
		size_t n = utf8_char_len((const unsigned char *)s + i, len - i);

		if (o + 4 + 4 >= 64) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if (n == 0 || (n == 1 && ((unsigned char)s[i] < 0x20 || s[i] == 0x7f))) {
			out[o++] = '?';
			i += n == 0 ? 1 : n;
			continue;
		}
		memcpy(out + o, s + i, n);
		o += n;
		i += n;
	}
	out[o] = '\0';
	return out;
}

static const char *
qn(struct pctx *c, const struct ynode *n)
{
	if (n == NULL || n->kind != YNODE_SCALAR)
		return "";
	return q(c, n->text, n->len);
}

/* Errors in the order of the file; line 0 (the file as a whole) first. */
static void
errors_sort(struct plan_errors *e)
{
	for (size_t i = 1; i < e->n; i++) {
		struct plan_error t = e->items[i];
		size_t j = i;

		while (j > 0 && e->items[j - 1].line > t.line) {
			e->items[j] = e->items[j - 1];
			j--;
		}
		e->items[j] = t;
	}
}

/* "30m", "1h30m", "1d", "500ms": a duration as a person would write it. */
static const char *
fmt_duration(struct pctx *c, int64_t ns)
{
	static const struct {
		int64_t secs;
		char unit;
	} units[] = { { 86400, 'd' }, { 3600, 'h' }, { 60, 'm' }, { 1, 's' } };
	char *out = c->qbuf[c->qnext++ % NELEM(c->qbuf)];
	size_t cap = sizeof(c->qbuf[0]), o = 0;
	int64_t s = ns / SEC_NS;

	if (ns % SEC_NS != 0 || ns <= 0) {
		if (ns % 1000000 == 0)
			snprintf(out, cap, "%lldms", (long long)(ns / 1000000));
		else
			snprintf(out, cap, "%lldns", (long long)ns);
		return out;
	}
	out[0] = '\0';
	for (size_t i = 0; i < NELEM(units) && o < cap; i++) {
		if (s / units[i].secs == 0)
			continue;
		o += (size_t)snprintf(out + o, cap - o, "%lld%c", (long long)(s / units[i].secs),
			units[i].unit);
		s %= units[i].secs;
	}
	return out;
}

/* --- values ------------------------------------------------------------------- */

static const char *
kind_desc(const struct ynode *n)
{
	if (n->kind == YNODE_MAP)
		return L("映射（键: 值）", "a map (key: value)");
	if (n->kind == YNODE_SEQ)
		return L("列表", "a list");
	return L("文字", "text");
}

/* The text of scalar n (value of where), checked: present, one line of valid
 * UTF-8 without control characters, at most PLAN_MAX_STR bytes. NULL (error
 * recorded) otherwise. */
static const char *
want_text(struct pctx *c, const struct ynode *n, const char *where)
{
	if (n->kind != YNODE_SCALAR) {
		perr(c, n->line, L("%s: 应为文字，这里是%s", "%s: expected text, found %s"), where,
			kind_desc(n));
		return NULL;
	}
	if (ynode_is_null(n)) {
		perr(c, n->line, L("%s: 缺少值", "%s: no value"), where);
		return NULL;
	}
	if (n->len > PLAN_MAX_STR) {
		perr(c, n->line, L("%s: 过长（超过 %u 字节）", "%s: too long (over %u bytes)"), where,
			(unsigned)PLAN_MAX_STR);
		return NULL;
	}
	if (strlen(n->text) != n->len || !utf8_valid(n->text, n->len)) {
		perr(c, n->line, L("%s: 含有空字符或无效的 UTF-8", "%s: holds a NUL or invalid UTF-8"),
			where);
		return NULL;
	}
	for (size_t i = 0; i < n->len; i++) {
		unsigned char ch = (unsigned char)n->text[i];

		if (ch < 0x20 || ch == 0x7f) {
			perr(c, n->line, L("%s: 含有控制字符（如换行），应为单行文字",
				"%s: holds a control character (such as a line break); expected "
				"one line"), where);
			return NULL;
		}
	}
	return n->text;
}

static char *
dup_text(struct pctx *c, const struct ynode *n, const char *where)
{
	const char *s = want_text(c, n, where);

	return s != NULL ? xstrdup(s) : NULL;
}

/* An identifier: a lower-case letter, then letters, digits, '_' and '-'. */
static const char *
want_id(struct pctx *c, const struct ynode *n, const char *where)
{
	const char *s = want_text(c, n, where);

	if (s == NULL)
		return NULL;
	bool ok = n->len <= PLAN_MAX_ID && s[0] >= 'a' && s[0] <= 'z';

	for (size_t i = 0; ok && i < n->len; i++)
		ok = (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' ||
		     s[i] == '-';
	if (!ok) {
		perr(c, n->line, L("%s: 标识 \"%s\" 无效（小写字母开头，只含小写字母、数字、_ 和 -，"
			"至多 %d 个字符）", "%s: bad identifier \"%s\" (a lower-case letter, then "
			"lower-case letters, digits, _ and -, at most %d characters)"), where,
			qn(c, n), PLAN_MAX_ID);
		return NULL;
	}
	return s;
}

/* A non-negative integer (digits, '_' between them allowed) at most max. */
static bool
want_uint(struct pctx *c, const struct ynode *n, const char *where, int64_t max, int64_t *ret)
{
	const char *s = want_text(c, n, where);
	int64_t v = 0;
	bool digit = false;

	if (s == NULL)
		return false;
	for (const char *p = s; *p != '\0'; p++) {
		if (*p == '_' && digit && p[1] >= '0' && p[1] <= '9')
			continue;
		if (*p < '0' || *p > '9') {
			perr(c, n->line, L("%s: \"%s\" 不是非负整数", "%s: \"%s\" is not a whole number "
				"(0 or more)"), where, qn(c, n));
			return false;
		}
		digit = true;
		if (v > (max - (*p - '0')) / 10) {
			perr(c, n->line, L("%s: %s 过大（至多 %lld）", "%s: %s is too large (at most %lld)"),
				where, qn(c, n), (long long)max);
			return false;
		}
		v = v * 10 + (*p - '0');
	}
	*ret = v;
	return true;
}

/* A duration ("30m", "1h", "30d", "10s", "250ms", plain seconds) of at most
 * PLAN_MAX_DURATION_NS; with positive, also more than zero. */
static bool
want_duration(struct pctx *c, const struct ynode *n, const char *where, bool positive,
	int64_t *ret)
{
	const char *s = want_text(c, n, where);
	int64_t ns = 0;
	int r;

	if (s == NULL)
		return false;
	if (s[0] == '-') {
		perr(c, n->line, L("%s: 时长不能为负（\"%s\"）", "%s: a duration cannot be negative "
			"(\"%s\")"), where, qn(c, n));
		return false;
	}
	r = duration_parse(s, &ns);
	if (r == -ERANGE || (r == 0 && ns > PLAN_MAX_DURATION_NS)) {
		perr(c, n->line, L("%s: 时长 \"%s\" 过长（至多 366d）", "%s: duration \"%s\" is too "
			"long (at most 366d)"), where, qn(c, n));
		return false;
	}
	if (r < 0) {
		perr(c, n->line, L("%s: \"%s\" 不是有效的时长（例如 30s、15m、1h、30d）",
			"%s: \"%s\" is not a duration (e.g. 30s, 15m, 1h, 30d)"), where, qn(c, n));
		return false;
	}
	if (positive && ns <= 0) {
		perr(c, n->line, L("%s: 时长必须大于 0", "%s: the duration must be above zero"), where);
		return false;
	}
	*ret = ns;
	return true;
}

static bool
want_bool(struct pctx *c, const struct ynode *n, const char *where, bool *ret)
{
	static const char *const yes[] = { "true", "True", "TRUE", "yes", "Yes", "on", "是" };
	static const char *const no[] = { "false", "False", "FALSE", "no", "No", "off", "否" };
	const char *s = want_text(c, n, where);

	if (s == NULL)
		return false;
	for (size_t i = 0; i < NELEM(yes); i++) {
		if (strcmp(s, yes[i]) == 0) {
			*ret = true;
			return true;
		}
		if (strcmp(s, no[i]) == 0) {
			*ret = false;
			return true;
		}
	}
	perr(c, n->line, L("%s: \"%s\" 应为 true 或 false", "%s: \"%s\" should be true or false"),
		where, qn(c, n));
	return false;
}

static bool
want_kind(struct pctx *c, const struct ynode *n, enum ynode_kind kind, const char *where)
{
	if (n->kind == kind)
		return true;
	if (kind == YNODE_MAP)
		perr(c, n->line, L("%s: 应为映射（键: 值），这里是%s", "%s: expected a map (key: "
			"value), found %s"), where, kind_desc(n));
	else
		perr(c, n->line, L("%s: 应为列表，这里是%s", "%s: expected a list, found %s"), where,
			kind_desc(n));
	return false;
}

/* A list of at most max items; with one, a single scalar counts as a list of
 * one (*one holds it). NULL (error recorded) otherwise. Sets *ret_n. */
static const struct ynode *const *
want_list(struct pctx *c, const struct ynode *n, const char *where, size_t max,
	const struct ynode **one, size_t *ret_n)
{
	if (one != NULL && n->kind == YNODE_SCALAR && !ynode_is_null(n)) {
		*one = n;
		*ret_n = 1;
		return (const struct ynode *const *)one;
	}
	if (!want_kind(c, n, YNODE_SEQ, where))
		return NULL;
	if (n->nkids > max) {
		perr(c, n->line, L("%s: 条目过多（%zu，至多 %zu）", "%s: too many items (%zu, at most "
			"%zu)"), where, n->nkids, max);
		return NULL;
	}
	*ret_n = n->nkids;
	if (n->nkids == 0) {
		static const struct ynode *const none[1];

		return none;
	}
	return (const struct ynode *const *)n->kids;
}

/* Levenshtein distance of two short ASCII keys, capped at 3. */
static unsigned
key_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[PLAN_MAX_ID + 1];

	if (la > PLAN_MAX_ID || lb > PLAN_MAX_ID)
		return 3;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb] < 3 ? row[lb] : 3;
}

/* Every key of map is one of allowed and appears once; reports the others
 * (with the allowed key it most likely meant). */
static void
check_keys(struct pctx *c, const struct ynode *map, const char *where,
	const char *const *allowed, size_t nallowed)
{
	for (size_t i = 0; i + 1 < map->nkids; i += 2) {
		const struct ynode *k = map->kids[i];
		const char *best = NULL;
		unsigned bestd = 3;
		bool known = false;

		if (k->kind != YNODE_SCALAR || strlen(k->text) != k->len) {
			perr(c, k->line, L("%s: 键应为文字", "%s: a key must be text"), where);
			continue;
		}
		for (size_t a = 0; a < nallowed && !known; a++) {
			unsigned d;

			known = strcmp(k->text, allowed[a]) == 0;
			d = key_distance(k->text, allowed[a]);
			if (d < bestd) {
				bestd = d;
				best = allowed[a];
			}
		}
		if (!known) {
			if (best != NULL && k->len > 2)
				perr(c, k->line, L("%s: 未知的键 \"%s\"（是否应为 \"%s\"？）",
					"%s: unknown key \"%s\" (did you mean \"%s\"?)"), where, qn(c, k),
					best);
			else
				perr(c, k->line, L("%s: 未知的键 \"%s\"", "%s: unknown key \"%s\""), where,
					qn(c, k));
			continue;
		}
		for (size_t j = 0; j < i; j += 2) {
			const struct ynode *o = map->kids[j];

			if (o->kind == YNODE_SCALAR && strcmp(o->text, k->text) == 0) {
				perr(c, k->line, L("%s: 键 \"%s\" 重复（第 %u 行已有）",
					"%s: key \"%s\" given twice (first on line %u)"), where, qn(c, k),
					o->line);
				break;
			}
		}
	}
}

/* A key's value, NULL when absent or written with no value ("key:"). */
static const struct ynode *
get(const struct ynode *map, const char *key)
{
	const struct ynode *v = ynode_get(map, key);

	return v != NULL && !ynode_is_null(v) ? v : NULL;
}

/* The line of key in map (where "key:" is written), 0 when absent. */
static unsigned
key_line(const struct ynode *map, const char *key)
{
	for (size_t i = 0; map != NULL && map->kind == YNODE_MAP && i + 1 < map->nkids; i += 2) {
		const struct ynode *k = map->kids[i];

		if (k->kind == YNODE_SCALAR && strcmp(k->text, key) == 0)
			return k->line;
	}
	return 0;
}

/* "role" names a role: its index, or -1 (error recorded). */
static int
want_role(struct pctx *c, const struct ynode *n, const char *where)
{
	const char *s = want_text(c, n, where);
	int r;

	if (s == NULL)
		return -1;
	r = plan_role_find(c->p, s);
	if (r < 0)
		perr(c, n->line, L("%s: 未知角色 \"%s\"（roles 中没有这个 id）",
			"%s: unknown role \"%s\" (no role has this id)"), where, qn(c, n));
	return r;
}

/* duty: the member a request without a named member acts as (值班员). */
static void
parse_duty(struct pctx *c, const struct ynode *root)
{
	const struct ynode *v = get(root, "duty");
	const char *s;

	c->p->duty_member = -1;
	if (v == NULL)
		return;
	s = want_text(c, v, "duty");
	if (s == NULL)
		return;
	c->p->duty_member = plan_member_find(c->p, s);
	if (c->p->duty_member < 0)
		perr(c, v->line, L("duty: 未知成员 \"%s\"（members 中没有这个 id）",
			"duty: unknown member \"%s\" (no member has this id)"), qn(c, v));
}

static int
want_channel(struct pctx *c, const struct ynode *n, const char *where)
{
	const char *s = want_text(c, n, where);
	int r;

	if (s == NULL)
		return -1;
	r = plan_channel_find(c->p, s);
	if (r < 0)
		perr(c, n->line, L("%s: 未知通知渠道 \"%s\"（channels 中没有这个 id）",
			"%s: unknown channel \"%s\" (no channel has this id)"), where, qn(c, n));
	return r;
}

static bool
want_grade(struct pctx *c, const struct ynode *n, const char *where, enum plan_grade *ret)
{
	const char *s = want_text(c, n, where);

	if (s == NULL)
		return false;
	if (plan_grade_parse(s, ret) < 0) {
		perr(c, n->line, L("%s: 未知级别 \"%s\"（特别重大、重大、较大、一般，或 I、II、III、IV）",
			"%s: unknown grade \"%s\" (特别重大, 重大, 较大, 一般, or I, II, III, IV)"),
			where, qn(c, n));
		return false;
	}
	return true;
}

/* --- sections ----------------------------------------------------------------- */

static void
parse_organisation(struct pctx *c, const struct ynode *root)
{
	static const char *const keys[] = { "name", "unit", "system", "authority" };
	const struct ynode *org = ynode_get(root, "organisation"), *v;
	struct plan *p = c->p;

	if (org == NULL || ynode_is_null(org)) {
		perr(c, key_line(root, "organisation"), L("缺少 organisation（单位名称等）",
			"organisation (the organisation's name...) is missing"));
		return;
	}
	if (!want_kind(c, org, YNODE_MAP, "organisation"))
		return;
	check_keys(c, org, "organisation", keys, NELEM(keys));
	if ((v = get(org, "name")) != NULL)
		p->name = dup_text(c, v, "organisation.name");
	else
		perr(c, key_line(root, "organisation"), L("organisation: 缺少 name（单位名称）",
			"organisation: name is missing"));
	if ((v = get(org, "unit")) != NULL)
		p->unit = dup_text(c, v, "organisation.unit");
	if ((v = get(org, "system")) != NULL)
		p->system = dup_text(c, v, "organisation.system");
	if ((v = get(org, "authority")) != NULL)
		p->authority = dup_text(c, v, "organisation.authority");
	if (p->unit == NULL && p->name != NULL)
		p->unit = xstrdup(p->name);
}

static void
parse_operator(struct pctx *c, const struct ynode *root)
{
	static const struct {
		const char *key;
		enum plan_operator op;
	} ops[] = {
		{ "cii", OPERATOR_CII },
		{ "party_government", OPERATOR_PARTY_GOV },
		{ "other", OPERATOR_OTHER },
	};
	const struct ynode *v = get(root, "operator_type");
	const char *s;

	if (v == NULL) {
		perr(c, key_line(root, "operator_type"), L("缺少 operator_type（cii、party_government 或 other）",
			"operator_type is missing (cii, party_government or other)"));
		return;
	}
	if ((s = want_text(c, v, "operator_type")) == NULL)
		return;
	for (size_t i = 0; i < NELEM(ops); i++)
		if (strcmp(s, ops[i].key) == 0) {
			c->p->operator_type = ops[i].op;
			return;
		}
	perr(c, v->line, L("operator_type: 未知类型 \"%s\"（cii：关键信息基础设施运营者；"
		"party_government：党政机关；other：其他网络运营者）", "operator_type: unknown "
		"\"%s\" (cii, party_government or other)"), qn(c, v));
}

static void
parse_role(struct pctx *c, const struct ynode *item, struct plan_role *r, size_t idx)
{
	static const char *const keys[] = { "id", "name", "group", "may", "escalates_to" };
	static const struct {
		const char *key, *zh;
	} groups[] = {
		{ "leadership", "领导小组" }, { "office", "办公室" }, { "working", "应急工作小组" },
	};
	const struct ynode *v;

	r->line = item->line;
	r->escalates_to = -1;
	if (!want_kind(c, item, YNODE_MAP, "roles"))
		return;
	check_keys(c, item, "roles", keys, NELEM(keys));
	if ((v = get(item, "id")) != NULL) {
		const char *id = want_id(c, v, "roles.id");

		if (id != NULL) {
			int dup = plan_role_find(c->p, id);

			if (dup >= 0)
				perr(c, v->line, L("roles: id \"%s\" 重复（第 %u 行已有）",
					"roles: id \"%s\" used twice (first on line %u)"), id,
					c->p->roles[dup].line);
			else
				r->id = xstrdup(id);
		}
	} else {
		perr(c, item->line, L("roles: 缺少 id", "roles: id is missing"));
	}
	if ((v = get(item, "name")) != NULL)
		r->name = dup_text(c, v, "roles.name");
	else
		perr(c, item->line, L("roles: 缺少 name（职务名称）", "roles: name is missing"));
	if ((v = get(item, "group")) != NULL) {
		const char *s = want_text(c, v, "roles.group");
		bool found = false;

		for (size_t i = 0; s != NULL && i < NELEM(groups) && !found; i++)
			if (strcmp(s, groups[i].key) == 0 || strcmp(s, groups[i].zh) == 0) {
				r->group = xstrdup(groups[i].key);
				found = true;
			}
		if (s != NULL && !found)
			perr(c, v->line, L("roles.group: 未知分组 \"%s\"（leadership 领导小组、office "
				"办公室、working 应急工作小组）", "roles.group: unknown group \"%s\" "
				"(leadership, office or working)"), qn(c, v));
	}
	if ((v = get(item, "may")) != NULL) {
		const struct ynode *const *steps, *one;
		size_t n = 0;

		steps = want_list(c, v, "roles.may", STEP_COUNT * 2, &one, &n);
		for (size_t i = 0; steps != NULL && i < n; i++) {
			const char *s = want_text(c, steps[i], "roles.may");
			enum plan_step st;

			if (s == NULL)
				continue;
			if (plan_step_parse(s, &st) < 0) {
				perr(c, steps[i]->line, L("roles.may: 未知步骤 \"%s\"（report、assess、"
					"activate、command、inform、recover、investigate、close、grade、"
					"task、report_authority、approve）", "roles.may: unknown step "
					"\"%s\" (report, assess, activate, command, inform, recover, "
					"investigate, close, grade, task, report_authority, approve)"),
					qn(c, steps[i]));
				continue;
			}
			r->may[st] = true;
		}
	}
	c->role_esc[idx] = get(item, "escalates_to");
}

/* The escalation chain loops through role k: one error naming the roles of
 * the loop from the first in the file, on the line of the last escalates_to
 * of the loop in the file (where reading top-down the loop closes). */
static void
report_loop(struct pctx *c, size_t k)
{
	const struct plan *p = c->p;
	size_t first = k, m = k, o = 0;
	unsigned line = 0;
	char chain[200];

	do {
		if (m < first)
			first = m;
		if (c->role_esc[m] != NULL && c->role_esc[m]->line > line)
			line = c->role_esc[m]->line;
		m = (size_t)p->roles[m].escalates_to;
	} while (m != k);
	m = first;
	do {
		if (o < sizeof(chain))
			o += (size_t)snprintf(chain + o, sizeof(chain) - o, "%s → ",
				p->roles[m].id != NULL ? p->roles[m].id : "?");
		m = (size_t)p->roles[m].escalates_to;
	} while (m != first);
	if (o < sizeof(chain))
		snprintf(chain + o, sizeof(chain) - o, "%s",
			p->roles[first].id != NULL ? p->roles[first].id : "?");
	utf8_cut(chain);
	perr(c, line, L("roles.escalates_to: 升级链成环：%s",
		"roles.escalates_to: the escalation chain loops: %s"), chain);
}

/* Each role's escalates_to names another role, and following them never
 * comes back to where it started. */
static void
check_escalation_chain(struct pctx *c)
{
	struct plan *p = c->p;
	unsigned char *state = NULL;	/* 0 unseen, 1 on the current walk, 2 done */

	for (size_t i = 0; i < p->nroles; i++) {
		const struct ynode *v = c->role_esc[i];
		int to;

		if (v == NULL)
			continue;
		to = want_role(c, v, "roles.escalates_to");
		if (to < 0)
			continue;
		if ((size_t)to == i) {
			perr(c, v->line, L("roles.escalates_to: 角色 \"%s\" 升级到自己",
				"roles.escalates_to: role \"%s\" escalates to itself"), qn(c, v));
			continue;
		}
		p->roles[i].escalates_to = to;
	}

	state = xcalloc(p->nroles ? p->nroles : 1, 1);
	for (size_t i = 0; i < p->nroles; i++) {
		size_t k = i;

		if (state[i] != 0)
			continue;
		while (state[k] == 0) {
			state[k] = 1;
			if (p->roles[k].escalates_to < 0)
				break;
			k = (size_t)p->roles[k].escalates_to;
		}
		if (state[k] == 1 && p->roles[k].escalates_to >= 0)
			report_loop(c, k);
		for (size_t m = i; state[m] == 1;) {
			state[m] = 2;
			if (p->roles[m].escalates_to < 0)
				break;
			m = (size_t)p->roles[m].escalates_to;
		}
	}
	free(state);
}

static void
parse_roles(struct pctx *c, const struct ynode *root)
{
	const struct ynode *v = get(root, "roles");
	const struct ynode *const *items;
	struct plan *p = c->p;
	size_t n = 0;
	bool activate = false;

	if (v == NULL) {
		perr(c, key_line(root, "roles"), L("缺少 roles（角色：领导小组组长、办公室主任……）",
			"roles is missing (领导小组组长, 办公室主任...)"));
		return;
	}
	items = want_list(c, v, "roles", PLAN_MAX_ITEMS, NULL, &n);
	if (items == NULL)
		return;
	p->roles = xcalloc(n ? n : 1, sizeof(*p->roles));
	c->role_esc = xcalloc(n ? n : 1, sizeof(*c->role_esc));
	for (size_t i = 0; i < n; i++) {
		parse_role(c, items[i], &p->roles[i], i);
		p->nroles++;
		activate |= p->roles[i].may[STEP_ACTIVATE];
	}
	if (!activate)
		perr(c, key_line(root, "roles"), L("roles: 没有可以启动预案的角色（至少一个角色的 may 应含 activate）",
			"roles: no role may start the plan (at least one role's may must list "
			"activate)"));
	check_escalation_chain(c);
}

static bool
email_ok(const char *s)
{
	const char *at = strchr(s, '@');

	return at != NULL && at != s && at[1] != '\0' && strchr(at + 1, '@') == NULL &&
	       strchr(s, ' ') == NULL;
}

static void
parse_contact(struct pctx *c, const struct ynode *map, struct plan_contact *ct)
{
	static const char *const keys[] = { "email", "phone", "wecom", "dingtalk", "feishu" };
	const struct ynode *v;

	if (!want_kind(c, map, YNODE_MAP, "members.contact"))
		return;
	check_keys(c, map, "members.contact", keys, NELEM(keys));
	if ((v = get(map, "email")) != NULL) {
		ct->email = dup_text(c, v, "members.contact.email");
		if (ct->email != NULL && !email_ok(ct->email))
			perr(c, v->line, L("members.contact.email: \"%s\" 不是邮件地址",
				"members.contact.email: \"%s\" is not an email address"), qn(c, v));
	}
	if ((v = get(map, "phone")) != NULL) {
		ct->phone = dup_text(c, v, "members.contact.phone");
		for (const char *s = ct->phone; s != NULL && *s != '\0'; s++)
			if (!((*s >= '0' && *s <= '9') || *s == '+' || *s == '-' || *s == ' ')) {
				perr(c, v->line, L("members.contact.phone: \"%s\" 不是电话号码（只含数字、"
					"+、- 和空格）", "members.contact.phone: \"%s\" is not a phone "
					"number (digits, +, - and spaces)"), qn(c, v));
				break;
			}
	}
	if ((v = get(map, "wecom")) != NULL)
		ct->wecom = dup_text(c, v, "members.contact.wecom");
	if ((v = get(map, "dingtalk")) != NULL)
		ct->dingtalk = dup_text(c, v, "members.contact.dingtalk");
	if ((v = get(map, "feishu")) != NULL)
		ct->feishu = dup_text(c, v, "members.contact.feishu");
}

static void
parse_member(struct pctx *c, const struct ynode *item, struct plan_member *m)
{
	static const char *const keys[] = { "id", "name", "roles", "contact" };
	const struct ynode *v;

	m->line = item->line;
	if (!want_kind(c, item, YNODE_MAP, "members"))
		return;
	check_keys(c, item, "members", keys, NELEM(keys));
	if ((v = get(item, "id")) != NULL) {
		const char *id = want_id(c, v, "members.id");

		if (id != NULL) {
			int dup = plan_member_find(c->p, id);

			if (dup >= 0)
				perr(c, v->line, L("members: id \"%s\" 重复（第 %u 行已有）",
					"members: id \"%s\" used twice (first on line %u)"), id,
					c->p->members[dup].line);
			else
				m->id = xstrdup(id);
		}
	} else {
		perr(c, item->line, L("members: 缺少 id", "members: id is missing"));
	}
	if ((v = get(item, "name")) != NULL)
		m->name = dup_text(c, v, "members.name");
	else
		perr(c, item->line, L("members: 缺少 name（职务，如 局长）",
			"members: name is missing (a title, e.g. 局长)"));
	if ((v = get(item, "roles")) != NULL) {
		const struct ynode *const *roles, *one;
		size_t n = 0;

		roles = want_list(c, v, "members.roles", PLAN_MAX_ITEMS, &one, &n);
		if (roles != NULL && n == 0)
			perr(c, key_line(item, "roles"), L("members.roles: 至少需要一个角色",
				"members.roles: at least one role is needed"));
		if (roles != NULL && n > 0)
			m->roles = xcalloc(n, sizeof(*m->roles));
		for (size_t i = 0; roles != NULL && i < n; i++) {
			int r = want_role(c, roles[i], "members.roles");
			bool dup = false;

			c->member_role_unknown |= r < 0;
			for (size_t k = 0; r >= 0 && k < m->nroles; k++)
				dup |= m->roles[k] == r;
			if (r >= 0 && !dup)
				m->roles[m->nroles++] = r;
		}
	} else {
		perr(c, item->line, L("members: 缺少 roles（至少一个角色）",
			"members: roles is missing (at least one role)"));
	}
	if ((v = get(item, "contact")) != NULL)
		parse_contact(c, v, &m->contact);
}

static void
parse_members(struct pctx *c, const struct ynode *root)
{
	const struct ynode *v = get(root, "members");
	const struct ynode *const *items;
	struct plan *p = c->p;
	size_t n = 0;

	if (v == NULL) {
		perr(c, key_line(root, "members"), L("缺少 members（人员：谁担任哪些角色）",
			"members is missing (who holds which roles)"));
		return;
	}
	c->members_line = key_line(root, "members");
	items = want_list(c, v, "members", PLAN_MAX_ITEMS, NULL, &n);
	if (items == NULL)
		return;
	if (n == 0)
		perr(c, c->members_line, L("members: 至少需要一名人员", "members: at least one member is needed"));
	p->members = xcalloc(n ? n : 1, sizeof(*p->members));
	for (size_t i = 0; i < n; i++) {
		parse_member(c, items[i], &p->members[i]);
		p->nmembers++;
	}
}

static bool
url_ok(const char *url, const char *const *schemes, size_t nschemes)
{
	for (size_t i = 0; i < nschemes; i++) {
		size_t n = strlen(schemes[i]);

		if (strncmp(url, schemes[i], n) == 0)
			return url[n] != '\0' && url[n] != '/' && strchr(url, ' ') == NULL;
	}
	return false;
}

static void
parse_channel(struct pctx *c, const struct ynode *item, struct plan_channel *ch)
{
	static const char *const keys[] = { "id", "type", "url", "secret", "from", "username",
		"password", "timeout", "retries" };
	static const char *const web[] = { "http://", "https://" };
	static const char *const smtp[] = { "smtp://", "smtps://" };
	static const enum plan_channel_kind kinds[] = { CHANNEL_WEBHOOK, CHANNEL_WECOM,
		CHANNEL_DINGTALK, CHANNEL_FEISHU, CHANNEL_EMAIL };
	const struct ynode *v;
	int64_t n;

	ch->line = item->line;
	ch->timeout_ns = 10 * SEC_NS;
	ch->retries = 5;
	if (!want_kind(c, item, YNODE_MAP, "channels"))
		return;
	check_keys(c, item, "channels", keys, NELEM(keys));
	if ((v = get(item, "id")) != NULL) {
		const char *id = want_id(c, v, "channels.id");

		if (id != NULL) {
			int dup = plan_channel_find(c->p, id);

			if (dup >= 0)
				perr(c, v->line, L("channels: id \"%s\" 重复（第 %u 行已有）",
					"channels: id \"%s\" used twice (first on line %u)"), id,
					c->p->channels[dup].line);
			else
				ch->id = xstrdup(id);
		}
	} else {
		perr(c, item->line, L("channels: 缺少 id", "channels: id is missing"));
	}
	if ((v = get(item, "type")) != NULL) {
		const char *s = want_text(c, v, "channels.type");

		for (size_t i = 0; s != NULL && i < NELEM(kinds); i++)
			if (strcmp(s, plan_channel_kind_name(kinds[i])) == 0)
				ch->kind = kinds[i];
		if (s != NULL && ch->kind == 0)
			perr(c, v->line, L("channels.type: 未知渠道类型 \"%s\"（webhook、wecom 企业微信、"
				"dingtalk 钉钉、feishu 飞书、email 邮件）", "channels.type: unknown "
				"channel type \"%s\" (webhook, wecom, dingtalk, feishu, email)"), qn(c, v));
	} else {
		perr(c, item->line, L("channels: 缺少 type", "channels: type is missing"));
	}
	if ((v = get(item, "url")) != NULL) {
		ch->url = dup_text(c, v, "channels.url");
		if (ch->url != NULL && ch->kind == CHANNEL_EMAIL && !url_ok(ch->url, smtp, 2))
			perr(c, v->line, L("channels.url: 邮件渠道的地址应以 smtp:// 或 smtps:// 开头"
				"（\"%s\"）", "channels.url: an email channel's URL must start with "
				"smtp:// or smtps:// (\"%s\")"), qn(c, v));
		else if (ch->url != NULL && ch->kind != CHANNEL_EMAIL && ch->kind != 0 &&
			 !url_ok(ch->url, web, 2))
			perr(c, v->line, L("channels.url: 机器人/Webhook 地址应以 http:// 或 https:// "
				"开头（\"%s\"）", "channels.url: a robot or webhook URL must start with "
				"http:// or https:// (\"%s\")"), qn(c, v));
	} else {
		perr(c, item->line, L("channels: 缺少 url", "channels: url is missing"));
	}
	if ((v = get(item, "secret")) != NULL) {
		ch->secret = dup_text(c, v, "channels.secret");
		if (ch->kind != 0 && ch->kind != CHANNEL_DINGTALK && ch->kind != CHANNEL_FEISHU)
			perr(c, v->line, L("channels.secret: 只有 dingtalk 和 feishu 渠道有签名密钥",
				"channels.secret: only dingtalk and feishu channels have a signing "
				"secret"));
	}
	if ((v = get(item, "from")) != NULL) {
		ch->from = dup_text(c, v, "channels.from");
		if (ch->from != NULL && !email_ok(ch->from))
			perr(c, v->line, L("channels.from: \"%s\" 不是邮件地址",
				"channels.from: \"%s\" is not an email address"), qn(c, v));
	} else if (ch->kind == CHANNEL_EMAIL) {
		perr(c, item->line, L("channels: 邮件渠道缺少 from（发件地址）",
			"channels: an email channel needs from (the sender's address)"));
	}
	if ((v = get(item, "username")) != NULL)
		ch->username = dup_text(c, v, "channels.username");
	if ((v = get(item, "password")) != NULL)
		ch->password = dup_text(c, v, "channels.password");
	if (ch->kind != 0 && ch->kind != CHANNEL_EMAIL) {
		static const char *const mail_only[] = { "from", "username", "password" };

		for (size_t i = 0; i < NELEM(mail_only); i++)
			if ((v = get(item, mail_only[i])) != NULL)
				perr(c, v->line, L("channels.%s: 只用于 email 渠道",
					"channels.%s: only for email channels"), mail_only[i]);
	}
	if ((v = get(item, "timeout")) != NULL &&
	    want_duration(c, v, "channels.timeout", true, &ch->timeout_ns) &&
	    ch->timeout_ns > PLAN_MAX_TIMEOUT_NS) {
		perr(c, v->line, L("channels.timeout: 至多 5m", "channels.timeout: at most 5m"));
		ch->timeout_ns = PLAN_MAX_TIMEOUT_NS;
	}
	if ((v = get(item, "retries")) != NULL && want_uint(c, v, "channels.retries",
		PLAN_MAX_RETRIES, &n))
		ch->retries = (unsigned)n;
}

static void
parse_channels(struct pctx *c, const struct ynode *root)
{
	const struct ynode *v = get(root, "channels");
	const struct ynode *const *items;
	struct plan *p = c->p;
	size_t n = 0;

	if (v == NULL)
		return;
	items = want_list(c, v, "channels", PLAN_MAX_ITEMS, NULL, &n);
	if (items == NULL)
		return;
	p->channels = xcalloc(n ? n : 1, sizeof(*p->channels));
	for (size_t i = 0; i < n; i++) {
		parse_channel(c, items[i], &p->channels[i]);
		p->nchannels++;
	}
}

/* The statutory clock by operator type (网络安全事件报告管理办法). */
static int64_t
authority_default_ns(enum plan_operator op)
{
	switch (op) {
	case OPERATOR_CII:
		return 3600 * SEC_NS;
	case OPERATOR_OTHER:
		return 4 * 3600 * SEC_NS;
	case OPERATOR_PARTY_GOV:
	default:
		return 2 * 3600 * SEC_NS;
	}
}

static void
parse_clocks(struct pctx *c, const struct ynode *root)
{
	static const char *const keys[] = { "initial_report", "risk_assessment",
		"authority_report", "authority_from_grade", "summary" };
	const struct ynode *clk = ynode_get(root, "clocks");
	const struct ynode *vi = NULL, *vr = NULL, *va = NULL, *vs = NULL, *v;
	struct plan *p = c->p;

	p->initial_report_ns = 30 * 60 * SEC_NS;
	p->risk_assessment_ns = 3600 * SEC_NS;
	p->authority_report_ns = authority_default_ns(p->operator_type);
	p->authority_from_grade = GRADE_III;
	p->summary_ns = 30 * 86400 * SEC_NS;
	if (clk == NULL || ynode_is_null(clk) || !want_kind(c, clk, YNODE_MAP, "clocks"))
		return;
	check_keys(c, clk, "clocks", keys, NELEM(keys));
	if ((v = get(clk, "initial_report")) != NULL &&
	    want_duration(c, v, "clocks.initial_report", true, &p->initial_report_ns))
		vi = v;
	if ((v = get(clk, "risk_assessment")) != NULL &&
	    want_duration(c, v, "clocks.risk_assessment", true, &p->risk_assessment_ns))
		vr = v;
	if ((v = get(clk, "authority_report")) != NULL &&
	    want_duration(c, v, "clocks.authority_report", true, &p->authority_report_ns))
		va = v;
	if ((v = get(clk, "summary")) != NULL &&
	    want_duration(c, v, "clocks.summary", true, &p->summary_ns))
		vs = v;
	if ((v = get(clk, "authority_from_grade")) != NULL)
		(void)want_grade(c, v, "clocks.authority_from_grade", &p->authority_from_grade);

	if (p->initial_report_ns > p->risk_assessment_ns && (vi != NULL || vr != NULL))
		perr(c, (vr != NULL ? vr : vi)->line, L("clocks: 初次报告时限 initial_report（%s）"
			"不应晚于风险评估时限 risk_assessment（%s）", "clocks: initial_report (%s) "
			"must not come after risk_assessment (%s)"),
			fmt_duration(c, p->initial_report_ns), fmt_duration(c, p->risk_assessment_ns));
	if (p->authority_report_ns > p->summary_ns && (va != NULL || vs != NULL))
		perr(c, (vs != NULL ? vs : va)->line, L("clocks: 向主管部门报告时限 authority_report"
			"（%s）不应晚于总结报告时限 summary（%s）", "clocks: authority_report (%s) "
			"must not come after summary (%s)"),
			fmt_duration(c, p->authority_report_ns), fmt_duration(c, p->summary_ns));
}

static void
parse_escalation(struct pctx *c, const struct ynode *root)
{
	static const char *const keys[] = { "start", "step", "channels" };
	const struct ynode *esc = ynode_get(root, "escalation"), *v;
	struct plan *p = c->p;

	p->escalation_start = -1;
	p->escalation_step_ns = 15 * 60 * SEC_NS;
	if (esc == NULL || ynode_is_null(esc)) {
		perr(c, key_line(root, "escalation"), L("缺少 escalation（超时提醒从哪个角色开始）",
			"escalation is missing (which role deadline notices go to first)"));
		return;
	}
	if (!want_kind(c, esc, YNODE_MAP, "escalation"))
		return;
	check_keys(c, esc, "escalation", keys, NELEM(keys));
	if ((v = get(esc, "start")) != NULL) {
		p->escalation_start = want_role(c, v, "escalation.start");
		c->esc_start = v;
	} else {
		perr(c, key_line(root, "escalation"), L("escalation: 缺少 start（超时后先提醒的角色）",
			"escalation: start is missing (the role told first when a deadline passes)"));
	}
	if ((v = get(esc, "step")) != NULL)
		(void)want_duration(c, v, "escalation.step", true, &p->escalation_step_ns);
	if ((v = get(esc, "channels")) != NULL) {
		const struct ynode *const *items, *one;
		size_t n = 0;

		items = want_list(c, v, "escalation.channels", PLAN_MAX_ITEMS, &one, &n);
		if (items != NULL && n > 0)
			p->escalation_channels = xcalloc(n, sizeof(*p->escalation_channels));
		for (size_t i = 0; items != NULL && i < n; i++) {
			int ch = want_channel(c, items[i], "escalation.channels");
			bool dup = false;

			for (size_t k = 0; ch >= 0 && k < p->nescalation_channels; k++)
				dup |= p->escalation_channels[k] == ch;
			if (ch >= 0 && !dup)
				p->escalation_channels[p->nescalation_channels++] = ch;
		}
	} else if (p->nchannels > 0) {
		/* Absent: every channel. */
		p->escalation_channels = xcalloc(p->nchannels, sizeof(*p->escalation_channels));
		for (size_t i = 0; i < p->nchannels; i++)
			p->escalation_channels[p->nescalation_channels++] = (int)i;
	}
}

/* A section holding one duration: key in section, default dflt. */
static void
parse_one_duration(struct pctx *c, const struct ynode *root, const char *section,
	const char *key, int64_t dflt, int64_t *ret)
{
	const char *keys[] = { key };
	const struct ynode *sec = ynode_get(root, section), *v;
	char where[64];

	*ret = dflt;
	if (sec == NULL || ynode_is_null(sec) || !want_kind(c, sec, YNODE_MAP, section))
		return;
	check_keys(c, sec, section, keys, 1);
	snprintf(where, sizeof(where), "%s.%s", section, key);
	if ((v = get(sec, key)) != NULL)
		(void)want_duration(c, v, where, true, ret);
}

static bool
measure_is_duration(enum plan_measure m)
{
	return m == MEASURE_PORTAL_DOWN || m == MEASURE_TAMPER_VISIBLE;
}

static void
parse_threshold(struct pctx *c, enum plan_measure m, const struct ynode *map)
{
	struct plan_threshold *t = &c->p->thresholds[m];
	unsigned lines[5] = { 0 };
	char where[64];

	snprintf(where, sizeof(where), "grading.%s", plan_measure_name(m));
	if (!want_kind(c, map, YNODE_MAP, where))
		return;
	for (size_t i = 0; i + 1 < map->nkids; i += 2) {
		const struct ynode *k = map->kids[i], *v = map->kids[i + 1];
		enum plan_grade g;
		int64_t x;

		if (!want_grade(c, k, where, &g))
			continue;
		if (lines[g] != 0) {
			perr(c, k->line, L("%s: 级别 %s 重复（第 %u 行已有）", "%s: grade %s given twice "
				"(first on line %u)"), where, plan_grade_name(g), lines[g]);
			continue;
		}
		lines[g] = k->line;
		if (measure_is_duration(m)) {
			int64_t ns;

			if (!want_duration(c, v, where, false, &ns))
				continue;
			x = (ns + SEC_NS - 1) / SEC_NS;		/* whole seconds, rounded up */
		} else if (!want_uint(c, v, where, PLAN_MAX_COUNT, &x)) {
			continue;
		}
		/* 0 means "any amount": a measured 0 is nothing happened, so 1. */
		t->at[g] = x > 0 ? x : 1;
		t->set = true;
	}
	/* Milder grades need less: 一般 <= 较大 <= 重大 <= 特别重大. */
	for (int g = GRADE_IV; g > GRADE_I; g--) {
		if (t->at[g] == 0)
			continue;
		for (int s = g - 1; s >= GRADE_I; s--) {
			if (t->at[s] == 0)
				continue;
			if (t->at[g] > t->at[s])
				perr(c, lines[g], L("%s: %s的阈值高于更严重的%s（级别越严重，阈值应越高）",
					"%s: the threshold for %s is above the one for the more severe "
					"%s (a more severe grade needs a higher threshold)"), where,
					plan_grade_name((enum plan_grade)g),
					plan_grade_name((enum plan_grade)s));
			break;
		}
	}
}

static void
parse_grading(struct pctx *c, const struct ynode *root)
{
	const char *keys[MEASURE_COUNT];
	const struct ynode *gr = ynode_get(root, "grading");

	if (gr == NULL || ynode_is_null(gr) || !want_kind(c, gr, YNODE_MAP, "grading"))
		return;
	for (int m = 0; m < MEASURE_COUNT; m++)
		keys[m] = plan_measure_name((enum plan_measure)m);
	check_keys(c, gr, "grading", keys, MEASURE_COUNT);
	for (int m = 0; m < MEASURE_COUNT; m++) {
		const struct ynode *v = get(gr, keys[m]);

		if (v != NULL)
			parse_threshold(c, (enum plan_measure)m, v);
	}
}

static void
parse_task(struct pctx *c, const struct ynode *item, struct plan_task *t)
{
	static const char *const keys[] = { "title", "role", "due" };
	const struct ynode *v;

	t->line = item->line;
	t->role = -1;
	if (!want_kind(c, item, YNODE_MAP, "playbooks.tasks"))
		return;
	check_keys(c, item, "playbooks.tasks", keys, NELEM(keys));
	if ((v = get(item, "title")) != NULL)
		t->title = dup_text(c, v, "playbooks.tasks.title");
	else
		perr(c, item->line, L("playbooks.tasks: 缺少 title（任务内容）",
			"playbooks.tasks: title is missing"));
	if ((v = get(item, "role")) != NULL)
		t->role = want_role(c, v, "playbooks.tasks.role");
	else
		perr(c, item->line, L("playbooks.tasks: 缺少 role（负责的角色）",
			"playbooks.tasks: role is missing (the role responsible)"));
	if ((v = get(item, "due")) != NULL)
		(void)want_duration(c, v, "playbooks.tasks.due", true, &t->due_ns);
}

static void
parse_action(struct pctx *c, const struct ynode *item, struct plan_action_rule *a)
{
	static const char *const keys[] = { "action", "automatic", "up_to", "approve" };
	static const char *const actions[] = { "block", "isolate", "offline", "quarantine", "kill",
		"lock_account" };
	const struct ynode *v, *vup;
	struct plan *p = c->p;
	enum plan_grade up_to = GRADE_I;
	bool approve_given = false;

	a->line = item->line;
	if (!want_kind(c, item, YNODE_MAP, "playbooks.actions"))
		return;
	check_keys(c, item, "playbooks.actions", keys, NELEM(keys));
	if ((v = get(item, "action")) != NULL) {
		const char *s = want_text(c, v, "playbooks.actions.action");

		for (size_t i = 0; s != NULL && i < NELEM(actions) && a->action == NULL; i++)
			if (strcmp(s, actions[i]) == 0)
				a->action = xstrdup(s);
		if (s != NULL && a->action == NULL)
			perr(c, v->line, L("playbooks.actions.action: 未知处置动作 \"%s\"（block 封禁、"
				"isolate 隔离、offline 下线、quarantine 隔离文件、kill 结束进程、"
				"lock_account 锁定账号）", "playbooks.actions.action: unknown action "
				"\"%s\" (block, isolate, offline, quarantine, kill, lock_account)"),
				qn(c, v));
	} else {
		perr(c, item->line, L("playbooks.actions: 缺少 action", "playbooks.actions: action is "
			"missing"));
	}
	if ((v = get(item, "automatic")) != NULL)
		(void)want_bool(c, v, "playbooks.actions.automatic", &a->automatic);
	vup = get(item, "up_to");
	if (vup != NULL && want_grade(c, vup, "playbooks.actions.up_to", &up_to) && !a->automatic)
		perr(c, vup->line, L("playbooks.actions.up_to: 只在 automatic: true 时有意义",
			"playbooks.actions.up_to: only means something with automatic: true"));
	a->auto_up_to = a->automatic ? up_to : GRADE_NONE;
	if ((v = get(item, "approve")) != NULL) {
		const struct ynode *const *roles, *one;
		size_t n = 0;

		approve_given = true;
		roles = want_list(c, v, "playbooks.actions.approve", PLAN_MAX_ITEMS, &one, &n);
		if (roles != NULL && n > 0)
			a->approvers = xcalloc(n, sizeof(*a->approvers));
		for (size_t i = 0; roles != NULL && i < n; i++) {
			int r = want_role(c, roles[i], "playbooks.actions.approve");
			bool dup = false;

			if (r < 0)
				continue;
			if (!p->roles[r].may[STEP_APPROVE]) {
				perr(c, roles[i]->line, L("playbooks.actions.approve: 角色 \"%s\" 无审批权"
					"（其 may 中没有 approve）", "playbooks.actions.approve: role "
					"\"%s\" may not approve (approve is not in its may list)"),
					qn(c, roles[i]));
				continue;
			}
			for (size_t k = 0; k < a->napprovers; k++)
				dup |= a->approvers[k] == r;
			if (!dup)
				a->approvers[a->napprovers++] = r;
		}
		if (roles != NULL && n == 0 && !a->automatic)
			perr(c, key_line(item, "approve"), L("playbooks.actions.approve: 审批角色列表为空",
				"playbooks.actions.approve: the list of approving roles is empty"));
	}
	if (!a->automatic && !approve_given) {
		perr(c, item->line, L("playbooks.actions: 动作既不自动执行（automatic）也没有审批角色"
			"（approve），永远无法执行", "playbooks.actions: the action is neither "
			"automatic nor has approvers (approve), so it could never run"));
	} else if (a->automatic && up_to != GRADE_I && !approve_given) {
		/* Beyond up_to: any role that may approve. */
		a->approvers = xcalloc(p->nroles ? p->nroles : 1, sizeof(*a->approvers));
		for (size_t r = 0; r < p->nroles; r++)
			if (p->roles[r].may[STEP_APPROVE])
				a->approvers[a->napprovers++] = (int)r;
		if (a->napprovers == 0)
			perr(c, (vup != NULL ? vup : item)->line, L("playbooks.actions: 超过 up_to 的级别"
				"需要审批，但没有角色可以审批（may 中含 approve）",
				"playbooks.actions: grades beyond up_to need an approval, but no role "
				"may approve (approve in its may list)"));
	}
}

static void
parse_playbook(struct pctx *c, const struct ynode *item, struct plan_playbook *pb)
{
	static const char *const keys[] = { "category", "subcategory", "tasks", "actions" };
	const struct ynode *v;
	struct plan *p = c->p;

	pb->line = item->line;
	pb->category = -1;
	pb->subcategory = -1;
	if (!want_kind(c, item, YNODE_MAP, "playbooks"))
		return;
	check_keys(c, item, "playbooks", keys, NELEM(keys));
	if ((v = get(item, "category")) != NULL) {
		const char *s = want_text(c, v, "playbooks.category");

		if (s != NULL && (pb->category = gbt_category_find(s)) < 0)
			perr(c, v->line, L("playbooks.category: 未知事件类别 \"%s\"（GB/T 20986 的十个"
				"类别之一，如 网络攻击事件）", "playbooks.category: unknown category "
				"\"%s\" (one of the ten of GB/T 20986, e.g. 网络攻击事件 or "
				"network_attack)"), qn(c, v));
	} else {
		perr(c, item->line, L("playbooks: 缺少 category（事件类别）",
			"playbooks: category is missing"));
	}
	if ((v = get(item, "subcategory")) != NULL) {
		const char *s = want_text(c, v, "playbooks.subcategory");

		if (s != NULL && pb->category >= 0 &&
		    (pb->subcategory = gbt_subcategory_find(pb->category, s)) < 0)
			perr(c, v->line, L("playbooks.subcategory: %s 没有子类 \"%s\"",
				"playbooks.subcategory: %s has no subcategory \"%s\""),
				gbt_category_name(pb->category), qn(c, v));
	}
	for (size_t i = 0; pb->category >= 0 && i < p->nplaybooks; i++)
		if (p->playbooks[i].category == pb->category &&
		    p->playbooks[i].subcategory == pb->subcategory) {
			perr(c, item->line, L("playbooks: 同一类别/子类已有预案（第 %u 行）",
				"playbooks: this category/subcategory already has a playbook (line %u)"),
				p->playbooks[i].line);
			break;
		}
	if ((v = get(item, "tasks")) != NULL) {
		const struct ynode *const *items;
		size_t n = 0;

		items = want_list(c, v, "playbooks.tasks", PLAN_MAX_ITEMS, NULL, &n);
		if (items != NULL && n > 0)
			pb->tasks = xcalloc(n, sizeof(*pb->tasks));
		for (size_t i = 0; items != NULL && i < n; i++)
			parse_task(c, items[i], &pb->tasks[pb->ntasks++]);
	}
	if ((v = get(item, "actions")) != NULL) {
		const struct ynode *const *items;
		size_t n = 0;

		items = want_list(c, v, "playbooks.actions", PLAN_MAX_ITEMS, NULL, &n);
		if (items != NULL && n > 0)
			pb->actions = xcalloc(n, sizeof(*pb->actions));
		for (size_t i = 0; items != NULL && i < n; i++) {
			struct plan_action_rule *a = &pb->actions[pb->nactions++];

			parse_action(c, items[i], a);
			for (size_t k = 0; a->action != NULL && k + 1 < pb->nactions; k++)
				if (pb->actions[k].action != NULL &&
				    strcmp(pb->actions[k].action, a->action) == 0) {
					perr(c, a->line, L("playbooks.actions: 动作 %s 重复（第 %u 行已有）",
						"playbooks.actions: action %s given twice (first on line "
						"%u)"), a->action, pb->actions[k].line);
					break;
				}
		}
	}
}

static void
parse_playbooks(struct pctx *c, const struct ynode *root)
{
	const struct ynode *v = get(root, "playbooks");
	const struct ynode *const *items;
	struct plan *p = c->p;
	size_t n = 0;

	if (v == NULL)
		return;
	items = want_list(c, v, "playbooks", PLAN_MAX_ITEMS, NULL, &n);
	if (items == NULL)
		return;
	p->playbooks = xcalloc(n ? n : 1, sizeof(*p->playbooks));
	for (size_t i = 0; i < n; i++) {
		/* Counted first: the duplicate check sees the earlier ones only. */
		parse_playbook(c, items[i], &p->playbooks[i]);
		p->nplaybooks++;
	}
}

/* "06:00" into minutes of the day; -1 when it is not a time. */
static int
minute_of_day(const char *s)
{
	int h = 0, m = 0;
	size_t i = 0;

	if (s[i] < '0' || s[i] > '9')
		return -1;
	h = s[i++] - '0';
	if (s[i] >= '0' && s[i] <= '9')
		h = h * 10 + (s[i++] - '0');
	if (s[i++] != ':')
		return -1;
	if (s[i] < '0' || s[i] > '9' || s[i + 1] < '0' || s[i + 1] > '9' || s[i + 2] != '\0')
		return -1;
	m = (s[i] - '0') * 10 + (s[i + 1] - '0');
	if (h > 23 || m > 59)
		return -1;
	return h * 60 + m;
}

static void
parse_audit(struct pctx *c, const struct ynode *root)
{
	static const char *const keys[] = { "anchor_channel", "anchor_at", "retention_days" };
	const struct ynode *au = ynode_get(root, "audit"), *v;
	struct plan *p = c->p;
	int64_t n;

	p->audit_anchor_channel = -1;
	p->audit_anchor_minute = 6 * 60;
	p->retention_days = PLAN_MIN_RETENTION;
	if (au == NULL || ynode_is_null(au) || !want_kind(c, au, YNODE_MAP, "audit"))
		return;
	check_keys(c, au, "audit", keys, NELEM(keys));
	if ((v = get(au, "anchor_channel")) != NULL)
		p->audit_anchor_channel = want_channel(c, v, "audit.anchor_channel");
	if ((v = get(au, "anchor_at")) != NULL) {
		const char *s = want_text(c, v, "audit.anchor_at");
		int m = s != NULL ? minute_of_day(s) : -1;

		if (s != NULL && m < 0)
			perr(c, v->line, L("audit.anchor_at: \"%s\" 不是时刻（时:分，如 06:00）",
				"audit.anchor_at: \"%s\" is not a time of day (HH:MM, e.g. 06:00)"),
				qn(c, v));
		else if (m >= 0)
			p->audit_anchor_minute = m;
	}
	if ((v = get(au, "retention_days")) != NULL &&
	    want_uint(c, v, "audit.retention_days", PLAN_MAX_RETENTION, &n)) {
		if (n < PLAN_MIN_RETENTION)
			perr(c, v->line, L("audit.retention_days: %lld 天太短：网络日志至少留存 180 天"
				"（网络安全法第二十一条）", "audit.retention_days: %lld days is too "
				"short: network logs are kept for at least 180 days (Cybersecurity Law, "
				"art. 21)"), (long long)n);
		else
			p->retention_days = (unsigned)n;
	}
}

/* Checks that need the whole plan. */
static void
check_plan(struct pctx *c)
{
	struct plan *p = c->p;
	bool start_held = false, activate_held = false;

	for (size_t i = 0; i < p->nmembers; i++) {
		for (size_t k = 0; k < p->members[i].nroles; k++) {
			int r = p->members[i].roles[k];

			start_held |= r == p->escalation_start;
			activate_held |= p->roles[r].may[STEP_ACTIVATE];
		}
	}
	if (c->member_role_unknown)
		return;		/* what members hold is not known: no more guesses */
	if (p->escalation_start >= 0 && p->nmembers > 0 && !start_held)
		perr(c, c->esc_start->line, L("escalation.start: 没有人员担任角色 \"%s\"，超时提醒无人"
			"接收", "escalation.start: no member holds role \"%s\", so nobody would get "
			"the deadline notices"), p->roles[p->escalation_start].id);
	if (p->nmembers > 0 && !activate_held && p->nroles > 0)
		perr(c, c->members_line, L("members: 没有人员担任可以启动预案（activate）的角色",
			"members: no member holds a role that may start the plan (activate)"));
}

/* --- entry points --------------------------------------------------------------- */

void
plan_free(struct plan *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->unit);
	free(p->system);
	free(p->authority);
	for (size_t i = 0; i < p->nroles; i++) {
		free(p->roles[i].id);
		free(p->roles[i].name);
		free(p->roles[i].group);
	}
	free(p->roles);
	for (size_t i = 0; i < p->nmembers; i++) {
		struct plan_member *m = &p->members[i];

		free(m->id);
		free(m->name);
		free(m->roles);
		free(m->contact.email);
		free(m->contact.phone);
		free(m->contact.wecom);
		free(m->contact.dingtalk);
		free(m->contact.feishu);
	}
	free(p->members);
	for (size_t i = 0; i < p->nchannels; i++) {
		struct plan_channel *ch = &p->channels[i];

		free(ch->id);
		free(ch->url);
		free(ch->secret);
		free(ch->from);
		free(ch->username);
		if (ch->password != NULL)
			explicit_bzero(ch->password, strlen(ch->password));
		free(ch->password);
	}
	free(p->channels);
	for (size_t i = 0; i < p->nplaybooks; i++) {
		struct plan_playbook *pb = &p->playbooks[i];

		for (size_t k = 0; k < pb->ntasks; k++)
			free(pb->tasks[k].title);
		free(pb->tasks);
		for (size_t k = 0; k < pb->nactions; k++) {
			free(pb->actions[k].action);
			free(pb->actions[k].approvers);
		}
		free(pb->actions);
	}
	free(p->playbooks);
	free(p->escalation_channels);
	free(p->source_path);
	free(p);
}

/* The line of the first byte that is not UTF-8, or 0 when all are. */
static unsigned
first_bad_utf8_line(const char *text, size_t len)
{
	unsigned line = 1;

	for (size_t i = 0; i < len;) {
		size_t n = utf8_char_len((const unsigned char *)text + i, len - i);

		if (n == 0)
			return line;
		line += text[i] == '\n';
		i += n;
	}
	return 0;
}

/* libyaml's "malformed YAML: PROBLEM at line N" without the wrapping. */
static void
yaml_error(struct pctx *c, const char *msg, unsigned line)
{
	static const char prefix[] = "malformed YAML: ";
	const char *s = msg, *at;
	size_t n;

	if (strncmp(s, prefix, sizeof(prefix) - 1) == 0)
		s += sizeof(prefix) - 1;
	n = strlen(s);
	at = strstr(s, " at line ");
	if (at != NULL)
		n = (size_t)(at - s);
	if (n > 200)
		n = 200;
	perr(c, line, L("YAML 语法错误：%.*s", "malformed YAML: %.*s"), (int)n, s);
}

int
plan_parse(const char *text, size_t len, const char *path, struct plan **ret,
	struct plan_errors *errs)
{
	static const char *const keys[] = { "version", "organisation", "operator_type", "roles",
		"members", "clocks", "escalation", "grouping", "channels", "grading",
		"accountability", "playbooks", "audit", "duty" };
	struct plan_errors *own = NULL;
	struct ystream ys = { 0 };
	struct pctx c = { 0 };
	struct plan *p = NULL;
	const struct ynode *root, *v;
	unsigned bad;
	int64_t n;
	int r = -EINVAL;

	if (errs == NULL)
		errs = own = xcalloc(1, sizeof(*own));
	errs->n = 0;
	errs->truncated = false;
	c.errs = errs;
	if (len > PLAN_MAX_FILE) {
		perr(&c, 0, L("文件过大（%zu 字节，至多 %u）", "the file is too large (%zu bytes, at "
			"most %u)"), len, (unsigned)PLAN_MAX_FILE);
		goto out;
	}
	if ((bad = first_bad_utf8_line(text, len)) != 0) {
		perr(&c, bad, L("不是有效的 UTF-8 文本（预案文件须为 UTF-8 编码）",
			"not valid UTF-8 text (a plan file must be UTF-8)"));
		goto out;
	}
	ystream_parse(&ys, text, len);
	if (ys.error != NULL) {
		yaml_error(&c, ys.error, ys.error_line);
		goto out;
	}
	for (size_t i = 0; i < ys.ndocs; i++)
		if (ys.docs[i].error != NULL) {
			perr(&c, ys.docs[i].error_line, L("YAML 无法使用：%s", "unusable YAML: %s"),
				q(&c, ys.docs[i].error, strlen(ys.docs[i].error)));
			goto out;
		}
	if (ys.ndocs > 1) {
		perr(&c, ys.docs[1].line, L("文件应只含一个 YAML 文档（此处另起一个 ---）",
			"the file must hold one YAML document (another --- starts here)"));
		goto out;
	}
	root = ys.ndocs == 1 ? ys.docs[0].root : NULL;
	if (root == NULL || ynode_is_null(root)) {
		perr(&c, 0, L("文件是空的", "the file is empty"));
		goto out;
	}
	if (root->kind != YNODE_MAP) {
		perr(&c, root->line, L("文件的顶层应为映射（version:、organisation:、roles: ……），"
			"这里是%s", "the top of the file must be a map (version:, organisation:, "
			"roles: ...), found %s"), kind_desc(root));
		goto out;
	}

	p = xcalloc(1, sizeof(*p));
	c.p = p;
	p->source_path = path != NULL ? xstrdup(path) : NULL;
	sha256_buf(text, len, p->sha256);
	check_keys(&c, root, L("顶层", "top level"), keys, NELEM(keys));
	if ((v = get(root, "version")) != NULL && want_uint(&c, v, "version", 1000, &n) && n != 1)
		perr(&c, v->line, L("version: 不支持的版本 %lld（本程序读 version: 1）",
			"version: unsupported version %lld (this program reads version: 1)"),
			(long long)n);
	parse_organisation(&c, root);
	parse_operator(&c, root);
	parse_roles(&c, root);
	parse_channels(&c, root);
	parse_members(&c, root);
	parse_duty(&c, root);
	parse_clocks(&c, root);
	parse_escalation(&c, root);
	parse_one_duration(&c, root, "grouping", "window", 30 * 60 * SEC_NS, &p->grouping_window_ns);
	parse_grading(&c, root);
	parse_one_duration(&c, root, "accountability", "portal_down_limit", 6 * 3600 * SEC_NS,
		&p->portal_down_limit_ns);
	parse_playbooks(&c, root);
	parse_audit(&c, root);
	check_plan(&c);

	if (errs->n == 0) {
		*ret = p;
		p = NULL;
		r = 0;
	}
out:
	errors_sort(errs);
	free(c.role_esc);
	plan_free(p);
	ystream_release(&ys);
	free(own);
	return r;
}

int
plan_load(const char *path, struct plan **ret, struct plan_errors *errs)
{
	struct plan_errors *own = NULL;
	struct pctx c = { 0 };
	struct stat st;
	char *text = NULL;
	size_t len = 0;
	int fd = -1, r;

	if (errs == NULL)
		errs = own = xcalloc(1, sizeof(*own));
	errs->n = 0;
	errs->truncated = false;
	c.errs = errs;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0) {
		r = -errno;
		perr(&c, 0, L("无法打开：%s", "cannot open: %s"), strerror(-r));
		goto out;
	}
	if (fstat(fd, &st) < 0) {
		r = -errno;
		perr(&c, 0, L("无法读取：%s", "cannot read: %s"), strerror(-r));
		goto out;
	}
	if (!S_ISREG(st.st_mode)) {
		r = -EINVAL;
		perr(&c, 0, L("不是普通文件", "not a regular file"));
		goto out;
	}
	r = fd_read_all(fd, PLAN_MAX_FILE, &text, &len);
	if (r == -EFBIG) {
		perr(&c, 0, L("文件过大（至多 %u 字节）", "the file is too large (at most %u bytes)"),
			(unsigned)PLAN_MAX_FILE);
		goto out;
	}
	if (r < 0) {
		perr(&c, 0, L("无法读取：%s", "cannot read: %s"), strerror(-r));
		goto out;
	}
	r = plan_parse(text, len, path, ret, errs);
out:
	if (fd >= 0)
		close(fd);
	free(text);
	free(own);
	return r;
}
