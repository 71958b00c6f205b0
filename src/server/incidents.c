/*
 * incidents.c - the emergency plan at work in the centre (incidents.h):
 * grouping, grading, clocks, escalation, accountability, people's steps,
 * notifications and the audit trail. Engine thread only.
 *
 * Choices worth knowing:
 * - Detection time is the first signal's own time (the agent's clock, never
 *   later than the centre's): both clocks run from it.
 * - The engine proposes grades from the plan's thresholds and only ever
 *   raises them; once a person set a grade (with a reason), the engine stops
 *   proposing and says so in the timeline when it would have raised it.
 * - Late (缓报) is a bit per deadline, set when the deadline passes unmet or
 *   when the report is filed after it, and never cleared.
 * - Signals are not audit records (an attack can bring a thousand a
 *   second); the incident's creation, every person's step, grade changes,
 *   flags and the plan are.
 */
#include "server/incidents.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "core/i18n.h"
#include "core/json.h"
#include "core/json_check.h"
#include "core/json_get.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "incident/category.h"
#include "incident/incident.h"
#include "notify/notify.h"
#include "server/responses.h"
#include "server/store/audit.h"
#include "server/store/db.h"
#include "server/store/incident_db.h"
#include "tls/sha256.h"
#include "core/banned.h"

#define NS		1000000000ll
#define TICK_NS		(NS / 4)		/* clocks are checked this often */
#define REPORT_CHECK_NS	(10 * NS)		/* filed reports re-hashed this often */
#define FIELD_MAX	(8u * 1024)		/* bytes of one report field */
#define NOTE_MAX	(4u * 1024)
#define DETECT_BEFORE_MAX_NS	(5ll * 60 * NS)	/* detection time: at most this before receipt */
#define TASK_DUE_MAX_NS	(3660ll * 24 * 3600 * 1000000000)	/* ten years */
#define NOTE_ESC_MAX	(6u * NOTE_MAX + 8)	/* a note escaped for JSON, with its quotes */
#define OPEN_MAX	10000			/* open incidents looked at per tick */
#define INFLIGHT_MAX	4096

struct inflight {
	int64_t		 id, incident;
	char		 channel[64];
};

struct incidents {
	const struct plan *plan;
	struct notifier	*notifier;
	char		*head_path;
	/* what the current transaction queued / appended */
	struct notify_message **pending;
	size_t		 npending, pending_cap;
	bool		 appended;
	struct audit_head head;
	/* messages handed to the notifier, for the delivery log */
	struct inflight	*inflight;
	size_t		 ninflight, inflight_cap;
	int64_t		 next_report_check;
	int64_t		 open_after;	/* the open incidents' tick goes on after this id */
	struct buf	 scratch;
	bool		 dispatch, dispatch_pending;	/* responses recorded: committed / in this transaction */
	/* The grade the thresholds last proposed for a manually graded
	 * incident, so the timeline says it once, not on every tick (slot by
	 * id; a collision only says it again). */
	struct {
		int64_t	 id;
		int	 grade;
	}		 noted[1024];
};

/* ---- small helpers ---- */

/* a + b for non-negative amounts (measures, durations), stopping at INT64_MAX:
 * an agent's figures are not trusted to stay small. */
static int64_t
sat_add(int64_t a, int64_t b)
{
	if (a < 0)
		a = 0;
	if (b < 0)
		b = 0;
	return a > INT64_MAX - b ? INT64_MAX : a + b;
}

/* "2026-11-22T17:03:05+08:00" (Asia/Shanghai, no DST). */
static void
fmt_time(int64_t ns, char *out, size_t size)
{
	time_t t = (time_t)(ns / NS) + 8 * 3600;
	struct tm tm;

	if (ns <= 0 || gmtime_r(&t, &tm) == NULL) {
		snprintf(out, size, "-");
		return;
	}
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d+08:00", (tm.tm_year + 1900) % 10000,
		(tm.tm_mon + 1) % 100, tm.tm_mday % 100, tm.tm_hour % 100, tm.tm_min % 100,
		tm.tm_sec % 100);
}

static void
key_time(struct json *j, const char *key, int64_t ns)
{
	char t[40];

	if (ns <= 0) {
		json_key_null(j, key);
		return;
	}
	fmt_time(ns, t, sizeof(t));
	json_key_str(j, key, t);
}

static const char *const measure_keys[MEASURE_COUNT] = {
	[MEASURE_PORTAL_DOWN] = "portal_down_s",
	[MEASURE_TAMPER_VISIBLE] = "tamper_visible_s",
	[MEASURE_RECORDS_LEAKED] = "records_leaked",
	[MEASURE_DIRECT_LOSS] = "direct_loss",
	[MEASURE_HOSTS_AFFECTED] = "hosts_affected",
};

static bool
measure_is_duration(int m)
{
	return m == MEASURE_PORTAL_DOWN || m == MEASURE_TAMPER_VISIBLE;
}

/* Stored as JSON with durations in milliseconds-free seconds (3 decimals). */
void
incident_measures_parse(const char *json, int64_t values[MEASURE_COUNT])
{
	struct buf v;

	buf_init(&v, 64);
	for (int m = 0; m < MEASURE_COUNT; m++) {
		int64_t x;

		values[m] = -1;
		if (json == NULL)
			continue;
		if (measure_is_duration(m)) {
			/* stored as milliseconds under "<key>_ms" for exactness */
			char key[48];

			snprintf(key, sizeof(key), "%s_ms", measure_keys[m]);
			if (json_get_i64(json, strlen(json), key, &x) == 0 && x >= 0)
				values[m] = x <= INT64_MAX / 1000000 ? x * 1000000 : INT64_MAX;
		} else if (json_get_i64(json, strlen(json), measure_keys[m], &x) == 0 && x >= 0) {
			values[m] = x;
		}
	}
	buf_release(&v);
}

static void
measures_format(const int64_t values[MEASURE_COUNT], char *out, size_t size)
{
	struct buf b;
	struct json j;

	buf_init(&b, size);
	json_begin(&j, &b);
	for (int m = 0; m < MEASURE_COUNT; m++) {
		char key[48];

		if (values[m] < 0)
			continue;
		if (measure_is_duration(m)) {
			snprintf(key, sizeof(key), "%s_ms", measure_keys[m]);
			json_key_i64(&j, key, values[m] / 1000000);
		} else {
			json_key_i64(&j, measure_keys[m], values[m]);
		}
	}
	(void)json_end(&j);
	snprintf(out, size, "%s", j.err == 0 ? b.data : "{}");
	buf_release(&b);
}

/* Our durations are ns; the plan's duration thresholds are whole seconds. */
static enum plan_grade
proposed_grade(const struct plan *plan, const int64_t values[MEASURE_COUNT])
{
	int64_t v[MEASURE_COUNT];
	enum plan_grade g;

	for (int m = 0; m < MEASURE_COUNT; m++)
		v[m] = measure_is_duration(m) && values[m] > 0 ? values[m] / NS : values[m];
	g = plan_grade_for(plan, v);

	return g == GRADE_NONE ? GRADE_IV : g;
}

/* Whether g is at least as severe as floor (I is the most severe). */
static bool
grade_at_least(int g, int floor)
{
	return g != GRADE_NONE && floor != GRADE_NONE && g <= floor;
}

static bool
is_tamper_incident(const struct db_incident *inc)
{
	return inc->category == GBT_NETWORK_ATTACK &&
		(inc->subcategory == gbt_subcategory_find(GBT_NETWORK_ATTACK, "web_tamper") ||
		inc->subcategory == gbt_subcategory_find(GBT_NETWORK_ATTACK, "hidden_link"));
}

/* The statutory clock runs for grades 较大 and above (plan). */
static void
set_statutory_clock(const struct plan *plan, struct db_incident *inc)
{
	if (grade_at_least(inc->grade, plan->authority_from_grade)) {
		inc->authority_due_ns = inc->detected_ns + plan->authority_report_ns;
		inc->summary_due_ns = inc->detected_ns + plan->summary_ns;
	} else {
		inc->authority_due_ns = 0;
		inc->summary_due_ns = 0;
	}
}

static void
incident_object(int64_t id, char *out, size_t size)
{
	snprintf(out, size, "incident/%" PRId64, id);
}

static int
audit(struct incidents *im, struct db *s, int64_t now, const char *actor, const char *action,
	int64_t incident, const char *detail)
{
	char object[64];
	int r;

	incident_object(incident, object, sizeof(object));
	r = audit_append(s, now, actor, action, object, detail, &im->head);
	if (r == 0)
		im->appended = true;
	return r;
}

/* ---- notifications ---- */

/* Recipients of a role's members for a channel: emails for email, phone
 * numbers (to @mention) for robots, nothing for plain webhooks. */
static void
recipients_for(const struct plan *plan, int role, const struct plan_channel *ch,
	struct notify_message *m, struct buf *joined)
{
	for (size_t i = 0; i < plan->nmembers; i++) {
		const struct plan_member *mb = &plan->members[i];
		const char *to = NULL;
		bool has = role < 0;

		for (size_t k = 0; k < mb->nroles && !has; k++)
			has = mb->roles[k] == role;
		if (!has)
			continue;
		if (ch->kind == CHANNEL_EMAIL)
			to = mb->contact.email;
		else if (ch->kind != CHANNEL_WEBHOOK)
			to = mb->contact.phone;
		if (to == NULL || to[0] == '\0')
			continue;
		if (notify_message_add_recipient(m, to) < 0)
			break;
		if (joined->len > 0)
			(void)buf_putc(joined, ',');
		(void)buf_puts(joined, to);
	}
}

/* Writes one outbox row per escalation channel and keeps the messages to
 * hand over once the transaction commits. role < 0: every member. */
static int
notify_role(struct incidents *im, struct db *s, int64_t incident, int role, const char *subject,
	const char *text, int64_t now)
{
	const struct plan *plan = im->plan;
	int r = 0;

	for (size_t i = 0; i < plan->nescalation_channels; i++) {
		const struct plan_channel *ch = &plan->channels[plan->escalation_channels[i]];
		struct notify_message *m = notify_message_new(ch);
		struct db_notification n = { .incident = incident, .channel = ch->id,
			.subject = subject, .text = text, .created_ns = now };
		struct buf joined;
		int64_t id = 0;

		buf_init(&joined, 8192);
		recipients_for(plan, role, ch, m, &joined);
		n.recipients = joined.data;
		r = db_notification_add(s, &n, &id);
		buf_release(&joined);
		if (r < 0) {
			notify_message_free(m);
			return r;
		}
		m->id = (uint64_t)id;
		m->subject = xstrdup(subject);
		m->text = xstrdup(text);
		if (im->npending == im->pending_cap) {
			im->pending_cap = im->pending_cap ? 2 * im->pending_cap : 8;
			im->pending = xrealloc(im->pending, im->pending_cap * sizeof(*im->pending));
		}
		im->pending[im->npending++] = m;
	}
	return r;
}

static void
inflight_add(struct incidents *im, int64_t id, int64_t incident, const char *channel)
{
	if (im->ninflight == INFLIGHT_MAX)
		return;		/* the delivery log row still says queued/attempts */
	if (im->ninflight == im->inflight_cap) {
		im->inflight_cap = im->inflight_cap ? 2 * im->inflight_cap : 16;
		im->inflight = xrealloc(im->inflight, (im->inflight_cap) * sizeof(*im->inflight));
	}
	im->inflight[im->ninflight].id = id;
	im->inflight[im->ninflight].incident = incident;
	snprintf(im->inflight[im->ninflight].channel, sizeof(im->inflight[0].channel), "%s",
		channel);
	im->ninflight++;
}

void
incidents_committed(struct incidents *im)
{
	if (im == NULL)
		return;
	for (size_t i = 0; i < im->npending; i++) {
		struct notify_message *m = im->pending[i];

		inflight_add(im, (int64_t)m->id, 0, m->channel_id != NULL ? m->channel_id : "");
		notifier_submit(im->notifier, m);
	}
	im->npending = 0;
	if (im->dispatch_pending)
		im->dispatch = true;
	im->dispatch_pending = false;
	if (im->appended && im->head_path != NULL) {
		int r = audit_head_write(im->head_path, &im->head);

		if (r < 0)
			log_warn("audit", "%s %s: %s", L("无法写入审计链头文件", "cannot write the audit head"),
				im->head_path, strerror(-r));
	}
	im->appended = false;
}

void
incidents_rolled_back(struct incidents *im)
{
	if (im == NULL)
		return;
	for (size_t i = 0; i < im->npending; i++)
		notify_message_free(im->pending[i]);
	im->npending = 0;
	im->appended = false;
	im->dispatch_pending = false;
}

bool
incidents_take_dispatch(struct incidents *im)
{
	bool d;

	if (im == NULL)
		return false;
	d = im->dispatch;
	im->dispatch = false;
	return d;
}

static void
grade_label(int grade, char *out, size_t size)
{
	snprintf(out, size, "%s/%s", plan_grade_name((enum plan_grade)grade),
		plan_grade_colour((enum plan_grade)grade));
}

/* The text every notice starts with: which incident. */
static void
notice_head(const struct db_incident *inc, struct buf *b)
{
	char g[64], t[40];

	grade_label(inc->grade, g, sizeof(g));
	fmt_time(inc->detected_ns, t, sizeof(t));
	(void)buf_appendf(b, L("事件 #%" PRId64 "：%s\n类别：%s / %s\n级别：%s\n发现时间：%s\n",
		"Incident #%" PRId64 ": %s\nCategory: %s / %s\nGrade: %s\nDetected: %s\n"),
		inc->id, inc->title, gbt_category_name(inc->category),
		gbt_subcategory_name(inc->category, inc->subcategory), g, t);
}

/* ---- incidents from signals ---- */

static void
title_for(char *out, size_t size, const char *what, const char *host)
{
	snprintf(out, size, "%s%s%s", what, host[0] != '\0' ? " - " : "", host);
}

static void
host_name(struct db *s, int64_t agent, char *out, size_t size)
{
	struct db_agent a;

	if (agent > 0 && db_agent_get(s, agent, &a) == 0 && a.name[0] != '\0')
		snprintf(out, size, "%s", a.name);
	else if (agent > 0)
		snprintf(out, size, "agent %" PRId64, agent);
	else
		snprintf(out, size, "%s", "");
}

/* The tasks of the playbook for the incident's category. */
static int
add_playbook_tasks(struct incidents *im, struct db *s, const struct db_incident *inc)
{
	const struct plan_playbook *pb = plan_playbook_for(im->plan, inc->category,
		inc->subcategory);
	int r;

	if (pb == NULL)
		return 0;
	for (size_t i = 0; i < pb->ntasks; i++) {
		struct db_task t = {
			.incident = inc->id, .title = pb->tasks[i].title,
			.role = pb->tasks[i].role >= 0 ? im->plan->roles[pb->tasks[i].role].id : NULL,
			.due_ns = pb->tasks[i].due_ns > 0 ? inc->detected_ns + pb->tasks[i].due_ns : 0,
		};

		r = db_task_add(s, &t, NULL);
		if (r < 0)
			return r;
	}
	return 0;
}

static int
create_incident(struct incidents *im, struct db *s, struct db_incident *inc, const char *why,
	int64_t ref, int64_t now)
{
	const struct plan *plan = im->plan;
	char detail[1024], t1[40], t2[40];
	struct buf text;
	int r;

	inc->report_due_ns = inc->detected_ns + plan->initial_report_ns;
	inc->assess_due_ns = inc->detected_ns + plan->risk_assessment_ns;
	set_statutory_clock(plan, inc);
	inc->state = INC_FIRST_RESPONSE;
	r = db_incident_insert(s, inc);
	if (r < 0)
		return r;
	r = db_incident_log_add(s, inc->id, inc->detected_ns, "system", "created", why, ref);
	if (r < 0)
		return r;
	snprintf(detail, sizeof(detail), "{\"category\":\"%s\",\"subcategory\":\"%s\","
		"\"grade\":\"%s\",\"agent\":%" PRId64 "}", gbt_category_key(inc->category),
		gbt_subcategory_key(inc->category, inc->subcategory),
		plan_grade_key((enum plan_grade)inc->grade), inc->agent);
	r = audit(im, s, now, "system", "incident.create", inc->id, detail);
	if (r < 0)
		return r;
	r = add_playbook_tasks(im, s, inc);
	if (r < 0)
		return r;
	buf_init(&text, NOTIFY_TEXT_MAX / 2);
	notice_head(inc, &text);
	fmt_time(inc->report_due_ns, t1, sizeof(t1));
	fmt_time(inc->assess_due_ns, t2, sizeof(t2));
	(void)buf_appendf(&text, L("初次报告须于 %s 前提交；风险评估须于 %s 前完成。\n",
		"Initial report due by %s; risk assessment due by %s.\n"), t1, t2);
	if (inc->authority_due_ns > 0) {
		fmt_time(inc->authority_due_ns, t1, sizeof(t1));
		(void)buf_appendf(&text, L("向主管部门报告须于 %s 前完成。\n",
			"Report to the authority due by %s.\n"), t1);
	}
	(void)buf_appendf(&text, "%s", why);
	snprintf(detail, sizeof(detail), L("【新事件】#%" PRId64 " %s", "[New incident] #%" PRId64
		" %s"), inc->id, inc->title);
	r = notify_role(im, s, inc->id, plan->escalation_start, detail, text.data, now);
	buf_release(&text);
	return r;
}

/* Raises the proposed grade when the measures call for it (never lowers);
 * re-times the statutory clock. */
static int
regrade(struct incidents *im, struct db *s, struct db_incident *inc, int64_t now)
{
	int64_t values[MEASURE_COUNT];
	enum plan_grade g;
	char text[256], from[64], to[64];
	int r, old;

	incident_measures_parse(inc->measures, values);
	if (inc->down_since_ns > 0 && now > inc->down_since_ns)
		values[MEASURE_PORTAL_DOWN] = sat_add(values[MEASURE_PORTAL_DOWN],
			now - inc->down_since_ns);
	g = proposed_grade(im->plan, values);
	if (!((int)g < inc->grade))	/* not more severe */
		return 0;
	grade_label(inc->grade, from, sizeof(from));
	grade_label((int)g, to, sizeof(to));
	if (inc->grade_manual) {
		size_t slot = (size_t)inc->id % (sizeof(im->noted) / sizeof(im->noted[0]));

		if (im->noted[slot].id == inc->id && im->noted[slot].grade == (int)g)
			return 0;	/* said already */
		snprintf(text, sizeof(text), L("按预案阈值应升为 %s（级别已由人工确定，未自动调整）",
			"the plan's thresholds now give %s (the grade was set by a person; not changed)"),
			to);
		r = db_incident_log_add(s, inc->id, now, "system", "grade", text, 0);
		if (r == 0) {
			im->noted[slot].id = inc->id;
			im->noted[slot].grade = (int)g;
		}
		return r;
	}
	snprintf(text, sizeof(text), L("按预案阈值由 %s 升为 %s", "raised by the plan's thresholds from %s to %s"),
		from, to);
	old = inc->grade;
	inc->grade = (int)g;
	set_statutory_clock(im->plan, inc);
	r = db_incident_log_add(s, inc->id, now, "system", "grade", text, 0);
	if (r == 0) {
		snprintf(text, sizeof(text), "{\"from\":\"%s\",\"to\":\"%s\",\"by\":\"thresholds\"}",
			plan_grade_key((enum plan_grade)old), plan_grade_key(g));
		r = audit(im, s, now, "system", "incident.grade", inc->id, text);
	}
	return r;
}

/* Adds one signal to the open incident of (agent, class) within the
 * grouping window, or opens one. measure: which value the signal raises
 * (-1: none) and by how much. */
static int
signal(struct incidents *im, struct db *s, int64_t agent, const struct gbt_class *cls,
	const char *what, const char *kind, int64_t ref, int64_t time_ns, int64_t now,
	int measure, int64_t amount, int64_t *ret_id)
{
	struct db_incident inc;
	int64_t values[MEASURE_COUNT];
	char host[128], why[512];
	int r;

	if (time_ns <= 0 || time_ns > now)
		time_ns = now;
	r = db_incident_find_open(s, agent, cls->category, time_ns - im->plan->grouping_window_ns,
		&inc);
	if (r == 0) {
		inc.signals++;
		if (time_ns > inc.last_signal_ns)
			inc.last_signal_ns = time_ns;
		if (measure >= 0) {
			incident_measures_parse(inc.measures, values);
			values[measure] = sat_add(values[measure] > 0 ? values[measure] : 0, amount);
			measures_format(values, inc.measures, sizeof(inc.measures));
		}
		r = db_incident_log_add(s, inc.id, time_ns, "system", kind, what, ref);
		if (r == 0)
			r = regrade(im, s, &inc, now);
		if (r == 0)
			r = db_incident_update(s, &inc);
		if (r == 0 && ret_id != NULL)
			*ret_id = inc.id;
		return r;
	}
	if (r != -ENOENT)
		return r;
	memset(&inc, 0, sizeof(inc));
	host_name(s, agent, host, sizeof(host));
	title_for(inc.title, sizeof(inc.title), gbt_subcategory_name(cls->category,
		cls->subcategory), host);
	inc.agent = agent;
	inc.category = cls->category;
	inc.subcategory = cls->subcategory;
	/* The clocks start at the signal's own time, but never more than
	 * DETECT_BEFORE_MAX_NS before the centre had it: an agent whose clock is
	 * behind, or a backlog shipped late, must not make an incident late
	 * before anyone could have known of it. */
	inc.detected_ns = time_ns < now - DETECT_BEFORE_MAX_NS ? now - DETECT_BEFORE_MAX_NS : time_ns;
	inc.last_signal_ns = time_ns;
	inc.signals = 1;
	for (int m = 0; m < MEASURE_COUNT; m++)
		values[m] = -1;
	values[MEASURE_HOSTS_AFFECTED] = agent > 0 ? 1 : 0;
	if (measure >= 0)
		values[measure] = amount;
	measures_format(values, inc.measures, sizeof(inc.measures));
	inc.grade = (int)proposed_grade(im->plan, values);
	snprintf(why, sizeof(why), "%s", what);
	r = create_incident(im, s, &inc, why, ref, now);
	if (r == 0 && ret_id != NULL)
		*ret_id = inc.id;
	return r;
}

int
incidents_on_event(struct incidents *im, struct db *s, int64_t agent, const char *type,
	const char *body, size_t body_len, int64_t event_id, int64_t time_ns, int64_t now)
{
	struct gbt_class cls;
	struct buf path, content_kind, action;
	const char *raw;
	size_t rawlen;
	char what[1024];
	int64_t latency = 0;
	int r;

	if (im == NULL || type == NULL)
		return 0;
	if (strcmp(type, "agent_back") == 0 || strcmp(type, "service_up") == 0) {
		struct db_incident inc;
		int64_t values[MEASURE_COUNT];

		r = db_incident_find_open(s, agent, GBT_FACILITY_FAULT, 0, &inc);
		if (r == -ENOENT || (r == 0 && inc.down_since_ns == 0))
			return 0;
		if (r < 0)
			return r;
		if (time_ns <= 0 || time_ns > now)
			time_ns = now;
		incident_measures_parse(inc.measures, values);
		values[MEASURE_PORTAL_DOWN] = (values[MEASURE_PORTAL_DOWN] > 0 ?
			values[MEASURE_PORTAL_DOWN] : 0) + (time_ns > inc.down_since_ns ?
			time_ns - inc.down_since_ns : 0);
		inc.down_since_ns = 0;
		measures_format(values, inc.measures, sizeof(inc.measures));
		r = regrade(im, s, &inc, now);
		if (r == 0)
			r = db_incident_update(s, &inc);
		if (r == 0)
			r = db_incident_log_add(s, inc.id, time_ns, "system", "signal",
				L("主机/服务已恢复", "host/service is back"), event_id);
		return r;
	}

	buf_init(&content_kind, 64);
	buf_init(&path, 4096);
	buf_init(&action, 64);
	if (json_get_raw(body, body_len, "content", &raw, &rawlen) == 0)
		(void)json_get_str(raw, rawlen, "kind", &content_kind);
	r = gbt_classify_event(type, content_kind.len > 0 ? content_kind.data : NULL, &cls);
	if (r < 0) {
		r = 0;
		goto out;
	}
	(void)json_get_str(body, body_len, "path", &path);
	(void)json_get_str(body, body_len, "action", &action);
	(void)json_get_i64(body, body_len, "latency_ns", &latency);
	if (cls.category == GBT_FACILITY_FAULT) {
		struct db_incident inc;
		int64_t id = 0;

		snprintf(what, sizeof(what), "%s", strcmp(type, "agent_lost") == 0 ?
			L("主机失联（代理无响应）", "host unreachable (agent silent)") :
			L("服务中断", "service down"));
		r = signal(im, s, agent, &cls, what, "signal", event_id, time_ns, now, -1, 0, &id);
		if (r == 0 && db_incident_get(s, id, &inc) == 0 && inc.down_since_ns == 0) {
			inc.down_since_ns = time_ns > 0 && time_ns <= now ? time_ns : now;
			r = db_incident_update(s, &inc);
		}
		goto out;
	}
	snprintf(what, sizeof(what), "%s %s%s%s%s", type, path.len > 0 ? path.data : "",
		action.len > 0 ? " → " : "", action.len > 0 ? action.data : "",
		content_kind.len > 0 ? L("（含有害内容）", " (harmful content)") : "");
	r = signal(im, s, agent, &cls, what, "signal", event_id, time_ns, now,
		strcmp(type, "content_blocked") == 0 ? -1 : MEASURE_TAMPER_VISIBLE,
		latency > 0 ? latency : 0, NULL);
out:
	buf_release(&content_kind);
	buf_release(&path);
	buf_release(&action);
	return r;
}

int
incidents_on_alert(struct incidents *im, struct db *s, int64_t agent, const char *rule_id,
	const char *title, const char *level, uint64_t count, const char *group,
	const char *matched, int64_t alert_id, int64_t time_ns, int64_t now)
{
	struct gbt_class cls;
	struct db_incident inc;
	char what[512], addr[64];
	struct responses_waiting waiting = { 0 };
	int64_t id = 0;
	bool dispatch = false;
	int r;

	if (im == NULL)
		return 0;
	/* informational and low alerts are kept as alerts, not incidents */
	if (level != NULL && (strcmp(level, "informational") == 0 || strcmp(level, "low") == 0))
		return 0;
	gbt_classify_alert(rule_id, title, &cls);
	snprintf(what, sizeof(what), "%s [%s]%s", title != NULL ? title : "?",
		level != NULL ? level : "?", count > 1 ? L("（合并计数）", " (folded)") : "");
	r = signal(im, s, agent, &cls, what, "signal", alert_id, time_ns, now, -1, 0, &id);
	if (r < 0 || id == 0 || db_incident_get(s, id, &inc) < 0)
		return r;
	/* The playbook's first response for this kind of incident. */
	r = responses_auto(s, im->plan, id, agent, inc.category, inc.subcategory, inc.grade,
		alert_source_addr(group, matched, addr, sizeof(addr)) ? addr : NULL, now, &dispatch,
		&waiting);
	if (dispatch)
		im->dispatch_pending = true;
	/* One that needs approval waits: its approvers are told. */
	for (size_t i = 0; r == 0 && waiting.id > 0 && i < waiting.nroles; i++) {
		char subject[512], text[1024];

		if (i18n_english())
			snprintf(subject, sizeof(subject), "[Approval] incident #%" PRId64 ": action %s "
				"(#%" PRId64 ")", id, waiting.action, waiting.id);
		else
			snprintf(subject, sizeof(subject), "【待批准】事件 #%" PRId64 " 的处置动作 %s（#%"
				PRId64 "）", id, waiting.action, waiting.id);
		snprintf(text, sizeof(text), L("预案规定此动作须经批准后执行。批准：yingji respond approve %"
			PRId64 " --as 成员编号；查看：yingji respond list", "The plan reserves this action "
			"for approval. Approve: yingji respond approve %" PRId64 " --as MEMBER; see: yingji "
			"respond list"), waiting.id);
		r = notify_role(im, s, id, waiting.roles[i], subject, text, now);
		if (r == 0)
			r = db_incident_log_add(s, id, now, "system", "approval", subject, waiting.id);
	}
	return r;
}

/* ---- documents ---- */

struct doc_ctx {
	struct json	*j;
	const struct plan *plan;
};

static const char *
member_label(const struct plan *plan, const char *actor)
{
	int m;

	if (plan == NULL || actor == NULL)
		return actor;
	m = plan_member_find(plan, actor);
	return m >= 0 ? plan->members[m].name : actor;
}

static int
doc_log_row(const struct db_incident_log *l, void *data)
{
	struct doc_ctx *dc = data;
	char by[300];

	json_array_object(dc->j);
	key_time(dc->j, "at", l->time_ns);
	if (strcmp(l->actor, "system") == 0)
		snprintf(by, sizeof(by), "%s", L("系统", "system"));
	else
		snprintf(by, sizeof(by), "%s", member_label(dc->plan, l->actor));
	json_key_str(dc->j, "by", by);
	json_key_str(dc->j, "by_id", l->actor);
	json_key_str(dc->j, "kind", l->kind);
	json_key_str(dc->j, "text", l->text);
	if (l->ref > 0)
		json_key_i64(dc->j, "ref", l->ref);
	json_close(dc->j);
	return 0;
}

static int
doc_report_row(const struct db_report *rp, void *data)
{
	struct doc_ctx *dc = data;

	json_array_object(dc->j);
	json_key_i64(dc->j, "id", rp->id);
	json_key_str(dc->j, "kind", rp->kind);
	json_key_i64(dc->j, "version", rp->version);
	key_time(dc->j, "filed_at", rp->filed_ns);
	json_key_str(dc->j, "by", member_label(dc->plan, rp->actor));
	json_key_str(dc->j, "by_id", rp->actor);
	json_key_bool(dc->j, "late", rp->late);
	json_key_str(dc->j, "sha256", rp->sha256);
	if (json_check_object(rp->body, strlen(rp->body), 8, NULL) == 0)
		json_key_json(dc->j, "fields", rp->body, strlen(rp->body));
	else
		json_key_str(dc->j, "fields_raw", rp->body);
	json_close(dc->j);
	return 0;
}

static int
doc_task_row(const struct db_task *t, void *data)
{
	struct doc_ctx *dc = data;

	json_array_object(dc->j);
	json_key_i64(dc->j, "id", t->id);
	json_key_str(dc->j, "title", t->title);
	if (t->role != NULL) {
		int ri = dc->plan != NULL ? plan_role_find(dc->plan, t->role) : -1;

		json_key_str(dc->j, "role", ri >= 0 ? dc->plan->roles[ri].name : t->role);
		json_key_str(dc->j, "role_id", t->role);
	} else {
		json_key_null(dc->j, "role");
	}
	if (t->assignee != NULL)
		json_key_str(dc->j, "assignee", member_label(dc->plan, t->assignee));
	else
		json_key_null(dc->j, "assignee");
	key_time(dc->j, "due_at", t->due_ns);
	key_time(dc->j, "done_at", t->done_ns);
	json_close(dc->j);
	return 0;
}

static int
doc_flag_row(const struct db_flag *f, void *data)
{
	struct doc_ctx *dc = data;

	json_array_object(dc->j);
	json_key_i64(dc->j, "id", f->id);
	json_key_str(dc->j, "kind", f->kind);
	key_time(dc->j, "at", f->time_ns);
	json_key_str(dc->j, "text", f->text);
	if (json_check_object(f->evidence, strlen(f->evidence), 8, NULL) == 0)
		json_key_json(dc->j, "evidence", f->evidence, strlen(f->evidence));
	json_close(dc->j);
	return 0;
}

static int
doc_notification_row(const struct db_notification *n, void *data)
{
	struct doc_ctx *dc = data;

	json_array_object(dc->j);
	json_key_i64(dc->j, "id", n->id);
	json_key_str(dc->j, "channel", n->channel);
	json_key_str(dc->j, "subject", n->subject);
	key_time(dc->j, "created_at", n->created_ns);
	json_key_str(dc->j, "state", n->state);
	json_key_i64(dc->j, "attempts", n->attempts);
	key_time(dc->j, "last_at", n->last_ns);
	if (n->error != NULL)
		json_key_str(dc->j, "error", n->error);
	json_close(dc->j);
	return 0;
}

static void
late_items(struct json *j, unsigned late)
{
	static const enum incident_deadline all[] = { DEADLINE_INITIAL_REPORT,
		DEADLINE_RISK_ASSESSMENT, DEADLINE_AUTHORITY_REPORT, DEADLINE_SUMMARY };

	json_key_array(j, "late_items");
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (late & all[i])
			json_array_str(j, incident_deadline_key(all[i]));
	json_close(j);
}

/* The fields of the list view (also the head of the document). */
static void
incident_fields(struct json *j, struct db *s, const struct db_incident *inc)
{
	char host[128];
	int64_t values[MEASURE_COUNT];
	enum plan_grade g = (enum plan_grade)inc->grade;

	json_key_i64(j, "id", inc->id);
	json_key_str(j, "title", inc->title);
	json_key_i64(j, "agent", inc->agent);
	host_name(s, inc->agent, host, sizeof(host));
	json_key_str(j, "host", host);
	json_key_str(j, "category", gbt_category_name(inc->category));
	json_key_str(j, "category_key", gbt_category_key(inc->category));
	json_key_str(j, "subcategory", gbt_subcategory_name(inc->category, inc->subcategory));
	json_key_str(j, "subcategory_key", gbt_subcategory_key(inc->category, inc->subcategory));
	json_key_str(j, "grade", plan_grade_name(g));
	json_key_str(j, "grade_key", plan_grade_key(g));
	json_key_str(j, "colour", plan_grade_colour(g));
	json_key_str(j, "colour_key", plan_grade_colour_key(g));
	json_key_str(j, "response", plan_grade_response(g));
	json_key_bool(j, "grade_manual", inc->grade_manual);
	json_key_str(j, "state", incident_state_key((enum incident_state)inc->state));
	json_key_str(j, "state_name", incident_state_name((enum incident_state)inc->state));
	key_time(j, "detected_at", inc->detected_ns);
	key_time(j, "report_due", inc->report_due_ns);
	key_time(j, "assess_due", inc->assess_due_ns);
	key_time(j, "authority_due", inc->authority_due_ns);
	key_time(j, "summary_due", inc->summary_due_ns);
	key_time(j, "closed_at", inc->closed_ns);
	json_key_bool(j, "late", inc->late != 0);
	late_items(j, inc->late);
	json_key_i64(j, "signals", inc->signals);
	key_time(j, "last_signal_at", inc->last_signal_ns);
	incident_measures_parse(inc->measures, values);
	json_key_object(j, "measures");
	for (int m = 0; m < MEASURE_COUNT; m++) {
		int64_t v = values[m];

		if (m == MEASURE_PORTAL_DOWN && inc->down_since_ns > 0)
			v = sat_add(v, now_realtime_ns() - inc->down_since_ns);
		if (v < 0)
			continue;
		if (measure_is_duration(m))
			json_key_double(j, measure_keys[m], (double)v / 1e9);
		else
			json_key_i64(j, measure_keys[m], v);
	}
	json_close(j);
	json_key_bool(j, "down", inc->down_since_ns > 0);
}

int
incident_doc_json(struct db *s, const struct plan *plan, int64_t id, struct buf *out)
{
	struct db_incident inc;
	struct json j;
	struct doc_ctx dc = { &j, plan };
	int r;

	r = db_incident_get(s, id, &inc);
	if (r < 0)
		return r;
	buf_reset(out);
	json_begin(&j, out);
	incident_fields(&j, s, &inc);
	if (plan != NULL) {
		json_key_object(&j, "plan");
		json_key_str(&j, "name", plan->name);
		json_key_str(&j, "unit", plan->unit != NULL ? plan->unit : plan->name);
		json_key_str(&j, "system", plan->system != NULL ? plan->system : "");
		json_key_str(&j, "authority", plan->authority != NULL ? plan->authority : "");
		json_close(&j);
	}
	json_key_array(&j, "reports");
	r = db_reports_list(s, id, doc_report_row, &dc);
	json_close(&j);
	json_key_array(&j, "tasks");
	if (r == 0)
		r = db_tasks_list(s, id, doc_task_row, &dc);
	json_close(&j);
	json_key_array(&j, "flags");
	if (r == 0)
		r = db_flags_list(s, id, doc_flag_row, &dc);
	json_close(&j);
	json_key_array(&j, "timeline");
	if (r == 0)
		r = db_incident_log_list(s, id, doc_log_row, &dc);
	json_close(&j);
	json_key_array(&j, "notifications");
	if (r == 0)
		r = db_notifications_list(s, id, doc_notification_row, &dc);
	json_close(&j);
	if (r < 0)
		return r;
	return json_end(&j);
}

struct list_json {
	struct db	*s;
	struct buf	*out;
	int		 err;
};

static int
list_row(const struct db_incident *inc, void *data)
{
	struct list_json *lj = data;
	struct json j;

	json_begin(&j, lj->out);
	incident_fields(&j, lj->s, inc);
	lj->err = json_end(&j);
	if (lj->err == 0 && buf_putc(lj->out, '\n') < 0)
		lj->err = -E2BIG;
	return lj->err < 0 ? lj->err : 0;
}

int
incident_list_json(struct db *s, const struct plan *plan, int64_t after_id, unsigned limit,
	bool open_only, struct buf *out)
{
	struct list_json lj = { s, out, 0 };

	(void)plan;
	return db_incidents_list(s, after_id, limit, open_only, list_row, &lj);
}

/* ---- clocks, escalation, accountability ---- */

struct open_list {
	struct db_incident *items;
	size_t		 n, cap;
};

static int
collect_open(const struct db_incident *inc, void *data)
{
	struct open_list *ol = data;

	if (ol->n == ol->cap) {
		ol->cap = ol->cap ? 2 * ol->cap : 16;
		ol->items = xrealloc(ol->items, (ol->cap) * sizeof(*ol->items));
	}
	ol->items[ol->n++] = *inc;
	return 0;
}

static int
add_flag(struct incidents *im, struct db *s, int64_t incident, const char *kind,
	const char *text, const char *evidence, int64_t now)
{
	struct db_flag f = { .incident = incident, .kind = kind, .time_ns = now, .text = text,
		.evidence = evidence };
	char detail[1024];
	int r;

	r = db_flag_add(s, &f);
	if (r == -EEXIST)
		return 0;
	if (r < 0)
		return r;
	r = db_incident_log_add(s, incident, now, "system", "flag", text, 0);
	if (r < 0)
		return r;
	snprintf(detail, sizeof(detail), "{\"kind\":\"%s\",\"evidence\":%s}", kind,
		evidence != NULL ? evidence : "{}");
	return audit(im, s, now, "system", "incident.flag", incident, detail);
}

static const char *
deadline_report_kind(enum incident_deadline d)
{
	switch (d) {
	case DEADLINE_INITIAL_REPORT:	return "initial";
	case DEADLINE_RISK_ASSESSMENT:	return "assessment";
	case DEADLINE_AUTHORITY_REPORT:	return "authority";
	case DEADLINE_SUMMARY:		return "summary";
	}
	return "?";
}

static int64_t
deadline_due(const struct db_incident *inc, enum incident_deadline d)
{
	switch (d) {
	case DEADLINE_INITIAL_REPORT:	return inc->report_due_ns;
	case DEADLINE_RISK_ASSESSMENT:	return inc->assess_due_ns;
	case DEADLINE_AUTHORITY_REPORT:	return inc->authority_due_ns;
	case DEADLINE_SUMMARY:		return inc->summary_due_ns;
	}
	return 0;
}

static const enum incident_deadline deadlines[] = { DEADLINE_INITIAL_REPORT,
	DEADLINE_RISK_ASSESSMENT, DEADLINE_AUTHORITY_REPORT, DEADLINE_SUMMARY };
#define NDEADLINES	(sizeof(deadlines) / sizeof(deadlines[0]))

/* Marks a passed deadline late (once), with its flag; for a tampered
 * portal not reported in time, the accountability flag too. */
static int
mark_late(struct incidents *im, struct db *s, struct db_incident *inc, enum incident_deadline d,
	int64_t now)
{
	char text[512], evidence[256], due[40];
	int r;

	if (inc->late & d)
		return 0;
	inc->late |= d;
	fmt_time(deadline_due(inc, d), due, sizeof(due));
	snprintf(text, sizeof(text), L("缓报：%s 未在期限（%s）内完成", "late: %s not done by its deadline (%s)"),
		incident_deadline_name(d), due);
	snprintf(evidence, sizeof(evidence), "{\"deadline\":\"%s\",\"due_ns\":%" PRId64 "}",
		incident_deadline_key(d), deadline_due(inc, d));
	r = add_flag(im, s, inc->id, "late", text, evidence, now);
	if (r == 0 && d == DEADLINE_INITIAL_REPORT && is_tamper_incident(inc))
		r = add_flag(im, s, inc->id, "tamper_not_reported", L("门户网站被篡改，未按时报告",
			"portal tampered and not reported in time"), evidence, now);
	return r;
}

static bool
report_filed(struct db *s, int64_t incident, const char *kind)
{
	int64_t n = 0;

	return db_report_count(s, incident, kind, &n) == 0 && n > 0;
}

/* The role at level k of the escalation chain (start = 0), or -1. */
static int
chain_role(const struct plan *plan, unsigned k)
{
	int role = plan->escalation_start;

	for (unsigned i = 0; i < k && role >= 0 && i <= plan->nroles; i++)
		role = plan->roles[role].escalates_to;
	return role;
}

static int
check_incident(struct incidents *im, struct db *s, struct db_incident *inc, int64_t now)
{
	const struct plan *plan = im->plan;
	struct db_incident before = *inc;
	int64_t last_missed = 0;
	unsigned missing = 0, newly = 0;
	int r = 0;

	for (size_t i = 0; i < NDEADLINES && r == 0; i++) {
		enum incident_deadline d = deadlines[i];
		int64_t due = deadline_due(inc, d);

		if (due <= 0 || now <= due)
			continue;
		/* The stage says whether the first two were filed; the others ask. */
		if (d == DEADLINE_INITIAL_REPORT ? inc->state != INC_FIRST_RESPONSE :
			d == DEADLINE_RISK_ASSESSMENT ? (inc->state != INC_FIRST_RESPONSE &&
			inc->state != INC_REPORTED) :
			report_filed(s, inc->id, deadline_report_kind(d)))
			continue;
		missing |= d;
		if (!(inc->late & d))
			newly |= d;
		if (due > last_missed)
			last_missed = due;
		r = mark_late(im, s, inc, d, now);
	}
	/* Escalation: the start role at a miss, one role up per step from the
	 * latest miss; a deadline newly missed starts the chain again (the
	 * start role hears of every miss). */
	if (newly != 0)
		inc->escalated = 0;
	if (r == 0 && missing != 0 && plan->escalation_step_ns > 0) {
		uint64_t steps = 1 + (uint64_t)((now - last_missed) / plan->escalation_step_ns);

		while (r == 0 && inc->escalated < steps) {
			int role = chain_role(plan, inc->escalated);
			struct buf text;
			char subject[512], due[40];

			if (role < 0)
				break;
			buf_init(&text, NOTIFY_TEXT_MAX / 2);
			notice_head(inc, &text);
			for (size_t i = 0; i < NDEADLINES; i++) {
				if (!(missing & deadlines[i]))
					continue;
				fmt_time(deadline_due(inc, deadlines[i]), due, sizeof(due));
				(void)buf_appendf(&text, L("已超期：%s（应于 %s 前完成）\n",
					"Overdue: %s (was due by %s)\n"),
					incident_deadline_name(deadlines[i]), due);
			}
			(void)buf_appendf(&text, L("本事件已标记为缓报。请立即处理。",
				"The incident is marked late. Act now."));
			snprintf(subject, sizeof(subject), L("【缓报】事件 #%" PRId64 " %s — 通知 %s",
				"[Late] incident #%" PRId64 " %s — to %s"), inc->id, inc->title,
				plan->roles[role].name);
			r = notify_role(im, s, inc->id, role, subject, text.data, now);
			if (r == 0)
				r = db_incident_log_add(s, inc->id, now, "system", "escalation",
					subject, 0);
			buf_release(&text);
			inc->escalated++;
		}
	}
	/* A portal/host still down: grade and the plan's limit. */
	if (r == 0 && inc->down_since_ns > 0) {
		r = regrade(im, s, inc, now);
		if (r == 0 && plan->portal_down_limit_ns > 0 &&
			now - inc->down_since_ns > plan->portal_down_limit_ns) {
			char text[256], evidence[256];

			snprintf(text, sizeof(text), L("系统中断超过预案规定的时限（%" PRId64 " 秒）",
				"unavailable for longer than the plan's limit (%" PRId64 " s)"),
				(int64_t)(plan->portal_down_limit_ns / NS));
			snprintf(evidence, sizeof(evidence), "{\"down_since_ns\":%" PRId64 "}",
				inc->down_since_ns);
			r = add_flag(im, s, inc->id, "portal_down_over_limit", text, evidence, now);
		}
	}
	if (r == 0 && memcmp(&before, inc, sizeof(before)) != 0)
		r = db_incident_update(s, inc);
	return r;
}

struct report_check {
	struct incidents *im;
	struct db	*s;
	int64_t		 now;
	int64_t		*bad_ids, *bad_incidents;
	size_t		 nbad, cap;
};

static int
report_check_row(const struct db_report *rp, void *data)
{
	struct report_check *rc = data;
	uint8_t d[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1];

	sha256_buf(rp->body, strlen(rp->body), d);
	sha256_to_hex(d, hex);
	if (strcmp(hex, rp->sha256) == 0 || rc->nbad == 64)
		return 0;
	if (rc->nbad == rc->cap) {
		rc->cap = rc->cap ? 2 * rc->cap : 8;
		rc->bad_ids = xrealloc(rc->bad_ids, (rc->cap) * sizeof(int64_t));
		rc->bad_incidents = xrealloc(rc->bad_incidents, (rc->cap) * sizeof(int64_t));
	}
	rc->bad_ids[rc->nbad] = rp->id;
	rc->bad_incidents[rc->nbad] = rp->incident;
	rc->nbad++;
	return 0;
}

/* A filed report is never changed in place (an amendment is a new version):
 * one whose text no longer gives its recorded hash was edited behind us. */
static int
check_reports(struct incidents *im, struct db *s, int64_t now)
{
	struct report_check rc = { .im = im, .s = s, .now = now };
	int r;

	r = db_reports_list(s, 0, report_check_row, &rc);
	for (size_t i = 0; r == 0 && i < rc.nbad; i++) {
		char evidence[128];

		snprintf(evidence, sizeof(evidence), "{\"report\":%" PRId64 "}", rc.bad_ids[i]);
		r = add_flag(im, s, rc.bad_incidents[i], "report_edited",
			L("已提交的报告在提交后被改动", "a filed report was edited after filing"),
			evidence, now);
	}
	free(rc.bad_ids);
	free(rc.bad_incidents);
	return r;
}

static void
take_results(struct incidents *im, struct db *s)
{
	struct notify_result *res = notifier_take_done(im->notifier), *next;

	for (; res != NULL; res = next) {
		const char *state = res->sent ? "sent" : res->final ? "failed" : "queued";
		struct inflight *fl = NULL;

		next = res->next;
		for (size_t i = 0; i < im->ninflight; i++)
			if (im->inflight[i].id == (int64_t)res->id)
				fl = &im->inflight[i];
		if (strcmp(res->error, "stopped") != 0) {
			(void)db_notification_update(s, (int64_t)res->id, state, (int)res->attempt,
				res->time_ns, res->sent ? NULL : res->error);
			if (!res->sent)
				log_warn("notify", L("通知 #%" PRIu64 "（%s）第 %u 次发送失败：%s",
					"notification #%" PRIu64 " (%s) attempt %u failed: %s"), res->id,
					fl != NULL ? fl->channel : "?", res->attempt, res->error);
		}
		if (res->final && fl != NULL)
			*fl = im->inflight[--im->ninflight];
		free(res);
	}
}

/* Once a day at the plan's time (Asia/Shanghai), the audit chain's head
 * leaves the machine through the anchor channel. */
static int
anchor_audit(struct incidents *im, struct db *s, int64_t now)
{
	const struct plan *plan = im->plan;
	time_t t = (time_t)(now / NS) + 8 * 3600;
	struct audit_head h;
	struct tm tm;
	char day[16], last[16], subject[128], text[512];
	struct notify_message *m;
	struct db_notification n = { .incident = 0, .created_ns = now };
	int64_t id = 0;
	int r;

	if (plan->audit_anchor_channel < 0 || gmtime_r(&t, &tm) == NULL ||
		tm.tm_hour * 60 + tm.tm_min < plan->audit_anchor_minute)
		return 0;
	snprintf(day, sizeof(day), "%04d-%02d-%02d", (tm.tm_year + 1900) % 10000,
		(tm.tm_mon + 1) % 100, tm.tm_mday % 100);
	if (db_meta_get(s, "audit_anchor_day", last, sizeof(last)) == 0 && strcmp(last, day) == 0)
		return 0;
	r = audit_head_get(s, &h);
	if (r < 0)
		return r;
	snprintf(subject, sizeof(subject), L("【审计链】%s 链头", "[Audit] chain head %s"), day);
	snprintf(text, sizeof(text), L("审计链末条记录 #%" PRId64 "\nSHA-256：%s\n请留存本消息，"
		"用于核验（yingji audit verify --anchor）。", "Audit chain head: record #%" PRId64
		"\nSHA-256: %s\nKeep this message to check the chain later (yingji audit verify "
		"--anchor)."), h.id, h.hash);
	n.channel = plan->channels[plan->audit_anchor_channel].id;
	n.subject = subject;
	n.text = text;
	r = db_notification_add(s, &n, &id);
	if (r == 0)
		r = db_meta_set(s, "audit_anchor_day", day);
	if (r < 0)
		return r;
	m = notify_message_new(&plan->channels[plan->audit_anchor_channel]);
	m->id = (uint64_t)id;
	m->subject = xstrdup(subject);
	m->text = xstrdup(text);
	if (im->npending == im->pending_cap) {
		im->pending_cap = im->pending_cap ? 2 * im->pending_cap : 8;
		im->pending = xrealloc(im->pending, (im->pending_cap) * sizeof(*im->pending));
	}
	im->pending[im->npending++] = m;
	snprintf(text, sizeof(text), "{\"day\":\"%s\",\"head_id\":%" PRId64 ",\"head\":\"%s\"}",
		day, h.id, h.hash);
	return audit(im, s, now, "system", "audit.anchor", 0, text);
}

int64_t
incidents_tick(struct incidents *im, struct db *s, int64_t now)
{
	struct open_list ol = { 0 };
	int r;

	if (im == NULL)
		return now_monotonic_ns() + 3600 * NS;
	r = db_begin(s);
	if (r < 0)
		goto out;
	take_results(im, s);
	/* OPEN_MAX open incidents a tick, from where the last tick stopped:
	 * with more open than that, every one is still looked at every few
	 * ticks, not only the oldest ones. */
	r = db_incidents_list(s, im->open_after, OPEN_MAX, true, collect_open, &ol);
	for (size_t i = 0; r == 0 && i < ol.n; i++)
		r = check_incident(im, s, &ol.items[i], now);
	if (r == 0)
		im->open_after = ol.n == OPEN_MAX ? ol.items[ol.n - 1].id : 0;
	/* Closing an incident does not stop the statutory summary and
	 * authority report clocks: closed ones that missed them are marked
	 * late (each only once: then they no longer match). */
	if (r == 0) {
		ol.n = 0;
		r = db_incidents_closed_overdue(s, now, DEADLINE_SUMMARY, DEADLINE_AUTHORITY_REPORT,
			OPEN_MAX, collect_open, &ol);
		for (size_t i = 0; r == 0 && i < ol.n; i++)
			r = check_incident(im, s, &ol.items[i], now);
	}
	if (r == 0 && now_monotonic_ns() >= im->next_report_check) {
		im->next_report_check = now_monotonic_ns() + REPORT_CHECK_NS;
		r = check_reports(im, s, now);
	}
	if (r == 0)
		r = anchor_audit(im, s, now);
	if (r == 0)
		r = db_commit(s);
	if (r < 0) {
		db_rollback(s);
		incidents_rolled_back(im);
	} else {
		incidents_committed(im);
	}
out:
	if (r < 0)
		log_warn("incident", "%s: %s (%s)", L("事件时钟检查失败", "incident clock check failed"),
			strerror(-r), db_errmsg(s));
	free(ol.items);
	return now_monotonic_ns() + TICK_NS;
}

/* ---- people's requests ---- */

struct request {
	struct buf	 action, actor, kind, move, note, grade, reason, category, subcategory;
	struct buf	 op, title, assignee, due;
	int64_t		 id, task;
	const char	*fields, *measures;
	size_t		 fields_len, measures_len;
	bool		 amend;
	int		 member;
	const char	*bad;		/* a field present but too long or not a string */
};

static void
request_init(struct request *rq)
{
	memset(rq, 0, sizeof(*rq));
	buf_init(&rq->action, 64);
	buf_init(&rq->actor, 256);
	buf_init(&rq->kind, 64);
	buf_init(&rq->move, 64);
	buf_init(&rq->note, NOTE_MAX);
	buf_init(&rq->grade, 64);
	buf_init(&rq->reason, NOTE_MAX);
	buf_init(&rq->category, 512);
	buf_init(&rq->subcategory, 512);
	buf_init(&rq->op, 64);
	buf_init(&rq->title, 1024);
	buf_init(&rq->assignee, 256);
	buf_init(&rq->due, 64);
	rq->member = -1;
}

static void
request_release(struct request *rq)
{
	buf_release(&rq->action);
	buf_release(&rq->actor);
	buf_release(&rq->kind);
	buf_release(&rq->move);
	buf_release(&rq->note);
	buf_release(&rq->grade);
	buf_release(&rq->reason);
	buf_release(&rq->category);
	buf_release(&rq->subcategory);
	buf_release(&rq->op);
	buf_release(&rq->title);
	buf_release(&rq->assignee);
	buf_release(&rq->due);
}

static void
answer_error(struct buf *resp, int *ret_status, int status, const char *code, const char *msg)
{
	struct json j;

	buf_reset(resp);
	json_begin(&j, resp);
	json_key_str(&j, "error", code);
	json_key_str(&j, "message", msg);
	(void)json_end(&j);
	*ret_status = status;
}

static bool
text_ok(const struct buf *b)
{
	return utf8_valid(b->data, b->len) && memchr(b->data, '\0', b->len) == NULL;
}

struct report_spec {
	const char	*kind;
	enum plan_step	 step;
	const char	*required[6];
	const char	*optional[8];
	int		 move;		/* enum incident_move, -1: none */
	enum incident_deadline deadline;	/* 0: none */
	bool		 repeatable;	/* may be filed again without --amend */
};

static const struct report_spec report_specs[] = {
	{ "initial", STEP_REPORT, { "source", "scope", "nature", "trend", "measures" }, { NULL },
		MOVE_REPORT_INITIAL, DEADLINE_INITIAL_REPORT, false },
	{ "followup", STEP_REPORT, { "progress" }, { "source", "scope", "nature", "trend",
		"measures" }, -1, 0, true },
	{ "supplementary", STEP_REPORT, { "progress" }, { "source", "scope", "nature", "trend",
		"measures" }, -1, 0, true },
	{ "assessment", STEP_ASSESS, { "risk", "impact", "recommendation" }, { NULL },
		MOVE_ASSESS, DEADLINE_RISK_ASSESSMENT, false },
	{ "authority", STEP_NOTIFY_AUTHORITY, { "impact", "measures" }, { "unit", "system",
		"discovered_at", "type", "grade" }, -1, DEADLINE_AUTHORITY_REPORT, false },
	{ "investigation", STEP_INVESTIGATE, { "cause", "losses", "recovery_time", "cost",
		"lessons" }, { NULL }, MOVE_INVESTIGATE, 0, false },
	{ "summary", STEP_NOTIFY_AUTHORITY, { "summary" }, { NULL }, -1, DEADLINE_SUMMARY, false },
};

static const struct report_spec *
report_spec_find(const char *kind)
{
	for (size_t i = 0; i < sizeof(report_specs) / sizeof(report_specs[0]); i++)
		if (strcmp(report_specs[i].kind, kind) == 0)
			return &report_specs[i];
	return NULL;
}

static bool
name_in(const char *const *list, size_t n, const char *key, size_t keylen)
{
	for (size_t i = 0; i < n && list[i] != NULL; i++)
		if (strlen(list[i]) == keylen && memcmp(list[i], key, keylen) == 0)
			return true;
	return false;
}

/* The report's body: the required and optional fields the person gave, in
 * a fixed order, checked; the authority report's facts filled in from the
 * incident where not given. */
static int
report_body(const struct report_spec *sp, const struct request *rq, const struct plan *plan,
	const struct db_incident *inc, struct buf *body, char *why, size_t whylen)
{
	struct buf v;
	struct json j;
	const char *key, *val;
	size_t pos = 0, klen, vlen;
	int r = 0;

	if (rq->fields == NULL) {
		snprintf(why, whylen, "%s", L("缺少报告内容 fields", "the report's fields are missing"));
		return -EINVAL;
	}
	/* unknown fields are refused, not dropped */
	while (json_object_next(rq->fields, rq->fields_len, &pos, &key, &klen, &val, &vlen) == 0) {
		if (!name_in(sp->required, 6, key, klen) && !name_in(sp->optional, 8, key, klen)) {
			snprintf(why, whylen, L("%s 报告没有字段 %.*s", "a %s report has no field %.*s"),
				sp->kind, (int)(klen > 64 ? 64 : klen), key);
			return -EINVAL;
		}
	}
	buf_init(&v, FIELD_MAX + 1);
	json_begin(&j, body);
	for (size_t i = 0; i < 6 && sp->required[i] != NULL; i++) {
		r = json_get_str(rq->fields, rq->fields_len, sp->required[i], &v);
		if (r < 0 || v.len == 0) {
			snprintf(why, whylen, L("缺少必填项：%s", "missing required field: %s"),
				sp->required[i]);
			r = -EINVAL;
			goto out;
		}
		if (v.len > FIELD_MAX || !text_ok(&v)) {
			snprintf(why, whylen, L("字段 %s 过长或不是有效的 UTF-8 文本",
				"field %s is too long or not valid UTF-8 text"), sp->required[i]);
			r = -EINVAL;
			goto out;
		}
		json_key_strn(&j, sp->required[i], v.data, v.len);
	}
	for (size_t i = 0; i < 8 && sp->optional[i] != NULL; i++) {
		r = json_get_str(rq->fields, rq->fields_len, sp->optional[i], &v);
		if ((r < 0 && r != -ENOENT) || (r == 0 && (v.len > FIELD_MAX || !text_ok(&v)))) {
			snprintf(why, whylen, L("字段 %s 过长或不是有效的 UTF-8 文本",
				"field %s is too long or not valid UTF-8 text"), sp->optional[i]);
			r = -EINVAL;
			goto out;
		}
		if (r == 0 && v.len > 0) {
			json_key_strn(&j, sp->optional[i], v.data, v.len);
		} else if (strcmp(sp->kind, "authority") == 0) {
			char t[40], g[64];
			const char *o = sp->optional[i];

			if (strcmp(o, "unit") == 0)
				json_key_str(&j, o, plan->unit != NULL ? plan->unit : plan->name);
			else if (strcmp(o, "system") == 0)
				json_key_str(&j, o, plan->system != NULL ? plan->system : "");
			else if (strcmp(o, "discovered_at") == 0) {
				fmt_time(inc->detected_ns, t, sizeof(t));
				json_key_str(&j, o, t);
			} else if (strcmp(o, "type") == 0) {
				snprintf(why, whylen, "%s / %s", gbt_category_name(inc->category),
					gbt_subcategory_name(inc->category, inc->subcategory));
				json_key_str(&j, o, why);
				why[0] = '\0';
			} else if (strcmp(o, "grade") == 0) {
				grade_label(inc->grade, g, sizeof(g));
				json_key_str(&j, o, g);
			}
		}
		r = 0;
	}
	r = json_end(&j);
out:
	buf_release(&v);
	return r;
}

static int
may(struct incidents *im, const struct request *rq, enum plan_step step, struct buf *resp,
	int *ret_status)
{
	char msg[512];

	if (plan_member_may(im->plan, rq->member, step))
		return 0;
	snprintf(msg, sizeof(msg), L("%s（%s）的角色无权执行“%s”", "%s (%s) holds no role that may %s"),
		im->plan->members[rq->member].name, im->plan->members[rq->member].id,
		plan_step_name(step));
	answer_error(resp, ret_status, 403, "forbidden", msg);
	return -EPERM;
}

static int
do_move(struct incidents *im, struct db *s, struct db_incident *inc, enum incident_move mv,
	const struct request *rq, const char *note, int64_t now, struct buf *resp,
	int *ret_status)
{
	enum incident_state to;
	const char *why = NULL;
	/* the note escaped for JSON may take 6 bytes a byte (\\ as \u005c) */
	char text[NOTE_MAX + 256], detail[NOTE_ESC_MAX + 256];
	struct buf esc;
	int r;

	r = incident_move_check((enum incident_state)inc->state, mv, &to, &why);
	if (r < 0) {
		answer_error(resp, ret_status, 409, "out_of_order", why);
		return r;
	}
	snprintf(text, sizeof(text), "%s → %s%s%s",
		incident_state_name((enum incident_state)inc->state), incident_state_name(to),
		note[0] != '\0' ? "：" : "", note);
	buf_init(&esc, sizeof(detail));
	(void)json_append_string(&esc, note, strlen(note));
	snprintf(detail, sizeof(detail), "{\"from\":\"%s\",\"to\":\"%s\",\"note\":%s}",
		incident_state_key((enum incident_state)inc->state), incident_state_key(to),
		esc.data);
	buf_release(&esc);
	inc->state = (int)to;
	if (to == INC_CLOSED)
		inc->closed_ns = now;
	r = db_incident_log_add(s, inc->id, now, rq->actor.data, "transition", text, 0);
	if (r == 0)
		r = audit(im, s, now, rq->actor.data, "incident.transition", inc->id, detail);
	if (r == 0 && to == INC_CLOSED && !report_filed(s, inc->id, "investigation"))
		r = add_flag(im, s, inc->id, "closed_without_investigation",
			L("事件关闭时没有调查评估报告", "closed without an investigation report"),
			"{}", now);
	return r;
}

static int
req_report(struct incidents *im, struct db *s, struct db_incident *inc, struct request *rq,
	int64_t now, struct buf *resp, int *ret_status)
{
	const struct report_spec *sp = report_spec_find(rq->kind.len ? rq->kind.data : "initial");
	struct db_report rp = { 0 };
	struct buf body;
	uint8_t d[SHA256_LEN];
	char hex[SHA256_HEX_LEN + 1], why[512] = "", text[600], detail[400];
	int64_t filed = 0, due;
	int r;

	if (sp == NULL) {
		answer_error(resp, ret_status, 400, "bad_request", L("未知的报告类型",
			"unknown report kind"));
		return -EINVAL;
	}
	r = may(im, rq, sp->step, resp, ret_status);
	if (r < 0)
		return r;
	/* Closed: only the reports whose statutory clocks run past closing
	 * (the 30-day summary, the report to the authority) may still come. */
	if (inc->state == INC_CLOSED && sp->deadline != DEADLINE_SUMMARY &&
		sp->deadline != DEADLINE_AUTHORITY_REPORT) {
		answer_error(resp, ret_status, 409, "out_of_order", L("事件已关闭", "the incident is closed"));
		return -EPERM;
	}
	r = db_report_count(s, inc->id, sp->kind, &filed);
	if (r < 0)
		goto fail;
	if (rq->amend && filed == 0) {
		answer_error(resp, ret_status, 409, "out_of_order", L("还没有可更正的报告",
			"there is no filed report to amend"));
		return -EPERM;
	}
	if (!rq->amend && filed > 0 && !sp->repeatable) {
		answer_error(resp, ret_status, 409, "already_filed", L("该报告已经提交；更正请加 --amend（将留下记录）",
			"this report was already filed; to correct it add --amend (it is recorded)"));
		return -EPERM;
	}
	if ((strcmp(sp->kind, "followup") == 0 || strcmp(sp->kind, "supplementary") == 0) &&
		inc->state == INC_FIRST_RESPONSE) {
		answer_error(resp, ret_status, 409, "out_of_order", L("须先提交初次报告",
			"file the initial report first"));
		return -EPERM;
	}
	if (!rq->amend && sp->move >= 0) {
		enum incident_state to;
		const char *mwhy = NULL;

		if (incident_move_check((enum incident_state)inc->state,
			(enum incident_move)sp->move, &to, &mwhy) < 0) {
			answer_error(resp, ret_status, 409, "out_of_order", mwhy);
			return -EPERM;
		}
	}
	buf_init(&body, 16 * FIELD_MAX);
	r = report_body(sp, rq, im->plan, inc, &body, why, sizeof(why));
	if (r < 0) {
		buf_release(&body);
		answer_error(resp, ret_status, 400, "bad_request", why[0] ? why :
			L("报告内容无效", "invalid report"));
		return r;
	}
	sha256_buf(body.data, body.len, d);
	sha256_to_hex(d, hex);
	due = sp->deadline ? deadline_due(inc, sp->deadline) : 0;
	rp.incident = inc->id;
	rp.kind = sp->kind;
	rp.version = (int)filed + 1;
	rp.filed_ns = now;
	rp.actor = rq->actor.data;
	rp.body = body.data;
	rp.sha256 = hex;
	/* An amendment corrects a report already filed: whether that was in
	 * time was settled when it was filed (a late bit is never cleared),
	 * so a correction after the deadline does not make it late. */
	rp.late = due > 0 && now > due && !rq->amend;
	r = db_report_add(s, &rp, &rp.id);
	if (r == 0 && rp.late && !(inc->late & sp->deadline))
		r = mark_late(im, s, inc, sp->deadline, now);
	snprintf(text, sizeof(text), L("提交%s（第 %d 版）%s", "filed the %s report (version %d)%s"),
		sp->kind, rp.version, rp.late ? L("，已超期", ", after its deadline") : "");
	if (r == 0)
		r = db_incident_log_add(s, inc->id, now, rq->actor.data, "report", text, rp.id);
	snprintf(detail, sizeof(detail), "{\"report\":%" PRId64 ",\"kind\":\"%s\",\"version\":%d,"
		"\"sha256\":\"%s\",\"late\":%s}", rp.id, sp->kind, rp.version, hex,
		rp.late ? "true" : "false");
	if (r == 0)
		r = audit(im, s, now, rq->actor.data, rq->amend ? "report.amend" : "report.file",
			inc->id, detail);
	if (r == 0 && rq->amend) {
		char evidence[200];

		snprintf(evidence, sizeof(evidence), "{\"kind\":\"%s\",\"version\":%d}", sp->kind,
			rp.version);
		r = add_flag(im, s, inc->id, "report_amended", L("报告在提交后被更正（新版本已记录）",
			"a report was amended after filing (the new version is recorded)"), evidence,
			now);
	}
	buf_release(&body);
	if (r == 0 && !rq->amend && sp->move >= 0)
		r = do_move(im, s, inc, (enum incident_move)sp->move, rq, "", now, resp, ret_status);
	/* an assessment may bring the measures grading needs */
	if (r == 0 && rq->measures != NULL) {
		int64_t values[MEASURE_COUNT], x;

		incident_measures_parse(inc->measures, values);
		if (json_get_i64(rq->measures, rq->measures_len, "records_leaked", &x) == 0 && x >= 0)
			values[MEASURE_RECORDS_LEAKED] = x;
		if (json_get_i64(rq->measures, rq->measures_len, "direct_loss", &x) == 0 && x >= 0)
			values[MEASURE_DIRECT_LOSS] = x;
		measures_format(values, inc->measures, sizeof(inc->measures));
		r = regrade(im, s, inc, now);
	}
	if (r == 0)
		r = db_incident_update(s, inc);
	if (r < 0 && *ret_status == 0)
		goto fail;
	return r;
fail:
	answer_error(resp, ret_status, 503, "store", strerror(-r));
	return r;
}

static int
req_grade(struct incidents *im, struct db *s, struct db_incident *inc, struct request *rq,
	int64_t now, struct buf *resp, int *ret_status)
{
	enum plan_grade g = (enum plan_grade)inc->grade;
	int cat = inc->category, sub = inc->subcategory;
	char text[NOTE_MAX + 512], from[64], to[64];
	struct buf esc;
	int r;

	r = may(im, rq, STEP_GRADE, resp, ret_status);
	if (r < 0)
		return r;
	if (inc->state == INC_CLOSED) {
		answer_error(resp, ret_status, 409, "out_of_order", L("事件已关闭", "the incident is closed"));
		return -EALREADY;
	}
	if (rq->reason.len == 0 || !text_ok(&rq->reason)) {
		answer_error(resp, ret_status, 400, "bad_request", L("调整级别须写明理由（--reason）",
			"a grade change needs a reason (--reason)"));
		return -EINVAL;
	}
	if (rq->grade.len > 0 && plan_grade_parse(rq->grade.data, &g) < 0) {
		answer_error(resp, ret_status, 400, "bad_request", L("未知的级别（特别重大/重大/较大/一般）",
			"unknown grade (特别重大/重大/较大/一般 or I..IV)"));
		return -EINVAL;
	}
	if (rq->category.len > 0) {
		cat = gbt_category_find(rq->category.data);
		if (cat < 0) {
			answer_error(resp, ret_status, 400, "bad_request", L("未知的事件类别",
				"unknown category"));
			return -EINVAL;
		}
		sub = (int)gbt_categories[cat].nsubs - 1;
	}
	if (rq->subcategory.len > 0) {
		sub = gbt_subcategory_find(cat, rq->subcategory.data);
		if (sub < 0) {
			answer_error(resp, ret_status, 400, "bad_request", L("该类别下没有这个子类",
				"no such subcategory in that category"));
			return -EINVAL;
		}
	}
	grade_label(inc->grade, from, sizeof(from));
	grade_label((int)g, to, sizeof(to));
	snprintf(text, sizeof(text), L("级别 %s → %s；类别 %s/%s；理由：%s",
		"grade %s → %s; category %s/%s; reason: %s"), from, to, gbt_category_name(cat),
		gbt_subcategory_name(cat, sub), rq->reason.data);
	inc->grade = (int)g;
	inc->grade_manual = true;
	inc->category = cat;
	inc->subcategory = sub;
	set_statutory_clock(im->plan, inc);
	r = db_incident_log_add(s, inc->id, now, rq->actor.data, "grade", text, 0);
	buf_init(&esc, NOTE_ESC_MAX);
	(void)json_append_string(&esc, rq->reason.data, rq->reason.len);
	buf_reset(&im->scratch);
	(void)buf_appendf(&im->scratch, "{\"grade\":\"%s\",\"category\":\"%s\",\"subcategory\":\"%s\","
		"\"reason\":%s}", plan_grade_key(g), gbt_category_key(cat),
		gbt_subcategory_key(cat, sub), esc.data);
	buf_release(&esc);
	if (r == 0)
		r = audit(im, s, now, rq->actor.data, "incident.grade", inc->id, im->scratch.data);
	if (r == 0)
		r = db_incident_update(s, inc);
	return r;
}

static int
req_task(struct incidents *im, struct db *s, struct db_incident *inc, struct request *rq,
	int64_t now, struct buf *resp, int *ret_status)
{
	char text[2048], detail[256], assignee[256] = "";
	int64_t tinc = 0, done = 0;
	int r;

	if (inc->state == INC_CLOSED && strcmp(rq->op.data, "done") != 0) {
		/* only what was left may still be marked done */
		answer_error(resp, ret_status, 409, "out_of_order", L("事件已关闭", "the incident is closed"));
		return -EALREADY;
	}
	if (strcmp(rq->op.data, "add") == 0) {
		struct db_task t = { .incident = inc->id };
		int64_t due = 0, id = 0;

		r = may(im, rq, STEP_TASK, resp, ret_status);
		if (r < 0)
			return r;
		if (rq->title.len == 0 || !text_ok(&rq->title) ||
			(rq->due.len > 0 && (duration_parse(rq->due.data, &due) < 0 || due <= 0 ||
				due > TASK_DUE_MAX_NS))) {
			answer_error(resp, ret_status, 400, "bad_request", L("任务需要标题，期限如 30m",
				"a task needs a title; due like 30m"));
			return -EINVAL;
		}
		if (rq->assignee.len > 0 && plan_member_find(im->plan, rq->assignee.data) < 0) {
			answer_error(resp, ret_status, 400, "bad_request", L("预案中没有这个成员",
				"no such member in the plan"));
			return -EINVAL;
		}
		t.title = rq->title.data;
		t.assignee = rq->assignee.len > 0 ? rq->assignee.data : NULL;
		t.due_ns = due > 0 ? now + due : 0;
		r = db_task_add(s, &t, &id);
		snprintf(text, sizeof(text), L("新任务 #%" PRId64 "：%s", "new task #%" PRId64 ": %s"), id,
			rq->title.data);
		snprintf(detail, sizeof(detail), "{\"op\":\"add\",\"task\":%" PRId64 "}", id);
	} else if (strcmp(rq->op.data, "assign") == 0 || strcmp(rq->op.data, "done") == 0) {
		bool assign = rq->op.data[0] == 'a';

		r = db_task_get(s, rq->task, &tinc, &done, assignee, sizeof(assignee));
		if (r == -ENOENT || (r == 0 && tinc != inc->id)) {
			answer_error(resp, ret_status, 404, "not_found", L("本事件没有这个任务",
				"no such task in this incident"));
			return -ENOENT;
		}
		if (r < 0)
			goto fail;
		/* Marking one's own task done needs no task permission: "own"
		 * by the task as stored, never by what the request says. */
		if (assign || assignee[0] == '\0' || strcmp(rq->actor.data, assignee) != 0) {
			r = may(im, rq, STEP_TASK, resp, ret_status);
			if (r < 0)
				return r;
		}
		if (assign) {
			if (plan_member_find(im->plan, rq->assignee.data) < 0) {
				answer_error(resp, ret_status, 400, "bad_request", L("预案中没有这个成员",
					"no such member in the plan"));
				return -EINVAL;
			}
			r = db_task_assign(s, rq->task, rq->assignee.data);
			snprintf(text, sizeof(text), L("任务 #%" PRId64 " 交给 %s", "task #%" PRId64
				" assigned to %s"), rq->task, member_label(im->plan, rq->assignee.data));
		} else {
			r = db_task_done(s, rq->task, now, rq->actor.data);
			if (r == -EALREADY) {
				answer_error(resp, ret_status, 409, "already_done", L("任务已完成",
					"the task is already done"));
				return r;
			}
			snprintf(text, sizeof(text), L("任务 #%" PRId64 " 完成", "task #%" PRId64 " done"),
				rq->task);
		}
		snprintf(detail, sizeof(detail), "{\"op\":\"%s\",\"task\":%" PRId64 "}", rq->op.data,
			rq->task);
	} else {
		answer_error(resp, ret_status, 400, "bad_request", "op: add | assign | done");
		return -EINVAL;
	}
	if (r == 0)
		r = db_incident_log_add(s, inc->id, now, rq->actor.data, "task", text, 0);
	if (r == 0)
		r = audit(im, s, now, rq->actor.data, "incident.task", inc->id, detail);
	if (r == 0)
		return 0;
fail:
	answer_error(resp, ret_status, 503, "store", strerror(-r));
	return r;
}

static int
request_parse(const char *req, size_t len, struct request *rq)
{
	const char *v;
	size_t vl;

	if (json_check_object(req, len, 8, NULL) < 0)
		return -EINVAL;
	static const struct { const char *key; size_t off; } opt[] = {
		{ "actor", offsetof(struct request, actor) },
		{ "kind", offsetof(struct request, kind) },
		{ "move", offsetof(struct request, move) },
		{ "note", offsetof(struct request, note) },
		{ "grade", offsetof(struct request, grade) },
		{ "reason", offsetof(struct request, reason) },
		{ "category", offsetof(struct request, category) },
		{ "subcategory", offsetof(struct request, subcategory) },
		{ "op", offsetof(struct request, op) },
		{ "title", offsetof(struct request, title) },
		{ "assignee", offsetof(struct request, assignee) },
		{ "due", offsetof(struct request, due) },
	};

	if (json_get_str(req, len, "action", &rq->action) < 0 ||
		json_get_i64(req, len, "id", &rq->id) < 0)
		return -EINVAL;
	/* Optional fields: absent (or null) is fine; present, they must be
	 * strings within their bounds, never quietly dropped. */
	for (size_t i = 0; i < sizeof(opt) / sizeof(opt[0]); i++) {
		int r = json_get_str(req, len, opt[i].key, (struct buf *)((char *)rq + opt[i].off));

		if (r < 0 && r != -ENOENT && rq->bad == NULL)
			rq->bad = opt[i].key;
	}
	(void)json_get_i64(req, len, "task", &rq->task);
	if (json_get_raw(req, len, "fields", &v, &vl) == 0 && vl > 0 && v[0] == '{') {
		rq->fields = v;
		rq->fields_len = vl;
	}
	if (json_get_raw(req, len, "measures", &v, &vl) == 0 && vl > 0 && v[0] == '{') {
		rq->measures = v;
		rq->measures_len = vl;
	}
	if (json_get_raw(req, len, "amend", &v, &vl) == 0 && vl == 4 && memcmp(v, "true", 4) == 0)
		rq->amend = true;
	return 0;
}

void
incidents_request(struct incidents *im, struct db *s, const char *req, size_t len, int64_t now,
	struct buf *resp, int *ret_status)
{
	struct request rq;
	struct db_incident inc;
	bool began = false;
	int r;

	*ret_status = 0;
	request_init(&rq);
	if (im == NULL) {
		answer_error(resp, ret_status, 409, "no_plan", L("服务端未加载预案（yingji serve --plan FILE）",
			"the server runs without a plan (yingji serve --plan FILE)"));
		goto out;
	}
	if (request_parse(req, len, &rq) < 0) {
		answer_error(resp, ret_status, 400, "bad_request", L("请求需要 action 和 id",
			"a request needs action and id"));
		goto out;
	}
	if (rq.bad != NULL) {
		char msg[160];

		snprintf(msg, sizeof(msg), L("字段 %s 过长或不是字符串", "field %s is too long or not a string"),
			rq.bad);
		answer_error(resp, ret_status, 400, "bad_request", msg);
		goto out;
	}
	/* No member named: the plan's member on duty (值班员). */
	if (rq.actor.len == 0 && im->plan->duty_member >= 0 &&
		(size_t)im->plan->duty_member < im->plan->nmembers)
		(void)buf_puts(&rq.actor, im->plan->members[im->plan->duty_member].id);
	if (!text_ok(&rq.note) || rq.note.len > NOTE_MAX) {
		answer_error(resp, ret_status, 400, "bad_request", L("说明不是有效的文本",
			"the note is not valid text"));
		goto out;
	}
	rq.member = plan_member_find(im->plan, rq.actor.data);
	if (rq.member < 0) {
		answer_error(resp, ret_status, 403, "unknown_member", L("预案中没有这个成员（--as MEMBER）",
			"no such member in the plan (--as MEMBER)"));
		goto out;
	}
	r = db_begin(s);
	if (r < 0) {
		answer_error(resp, ret_status, 503, "store", strerror(-r));
		goto out;
	}
	began = true;
	r = db_incident_get(s, rq.id, &inc);
	if (r < 0) {
		answer_error(resp, ret_status, r == -ENOENT ? 404 : 503, r == -ENOENT ? "not_found" :
			"store", r == -ENOENT ? L("没有这个事件", "no such incident") : strerror(-r));
		goto out;
	}
	if (strcmp(rq.action.data, "report") == 0) {
		r = req_report(im, s, &inc, &rq, now, resp, ret_status);
	} else if (strcmp(rq.action.data, "move") == 0) {
		enum incident_move mv;

		if (incident_move_parse(rq.move.data, &mv) < 0 || mv == MOVE_REPORT_INITIAL ||
			mv == MOVE_ASSESS || mv == MOVE_INVESTIGATE) {
			answer_error(resp, ret_status, 400, "bad_request",
				L("move: activate | command | inform | recover | close（报告、评估、调查请提交相应报告）",
				"move: activate | command | inform | recover | close (reports move the others)"));
			goto out;
		}
		r = may(im, &rq, incident_move_step(mv), resp, ret_status);
		if (r == 0)
			r = do_move(im, s, &inc, mv, &rq, rq.note.data, now, resp, ret_status);
		if (r == 0)
			r = db_incident_update(s, &inc);
	} else if (strcmp(rq.action.data, "grade") == 0) {
		r = req_grade(im, s, &inc, &rq, now, resp, ret_status);
	} else if (strcmp(rq.action.data, "task") == 0) {
		r = req_task(im, s, &inc, &rq, now, resp, ret_status);
	} else {
		answer_error(resp, ret_status, 400, "bad_request", "action: report | move | grade | task");
		goto out;
	}
	if (r < 0) {
		if (*ret_status == 0)
			answer_error(resp, ret_status, 503, "store", strerror(-r));
		goto out;
	}
	r = db_commit(s);
	began = false;
	if (r < 0) {
		incidents_rolled_back(im);
		answer_error(resp, ret_status, 503, "store", strerror(-r));
		goto out;
	}
	incidents_committed(im);
	r = incident_doc_json(s, im->plan, rq.id, resp);
	*ret_status = r == 0 ? 200 : 503;
	if (r < 0)
		answer_error(resp, ret_status, 503, "store", strerror(-r));
out:
	if (began) {
		db_rollback(s);
		incidents_rolled_back(im);
	}
	request_release(&rq);
}

/* ---- start and stop ---- */

struct resend {
	struct incidents *im;
};

static int
resend_row(const struct db_notification *n, void *data)
{
	struct resend *rs = data;
	struct incidents *im = rs->im;
	int ch = plan_channel_find(im->plan, n->channel);
	struct notify_message *m;
	const char *p, *comma;

	if (ch < 0)
		return 0;	/* the channel left the plan: stays queued, visible */
	m = notify_message_new(&im->plan->channels[ch]);
	m->id = (uint64_t)n->id;
	m->subject = xstrdup(n->subject);
	m->text = xstrdup(n->text);
	m->attempts_done = n->attempts > 0 ? (unsigned)n->attempts : 0;
	for (p = n->recipients; p != NULL && *p != '\0'; p = comma != NULL ? comma + 1 : NULL) {
		char one[256];
		size_t l;

		comma = strchr(p, ',');
		l = comma != NULL ? (size_t)(comma - p) : strlen(p);
		if (l == 0 || l >= sizeof(one))
			continue;
		memcpy(one, p, l);
		one[l] = '\0';
		(void)notify_message_add_recipient(m, one);
	}
	if (im->npending == im->pending_cap) {
		im->pending_cap = im->pending_cap ? 2 * im->pending_cap : 8;
		im->pending = xrealloc(im->pending, (im->pending_cap) * sizeof(*im->pending));
	}
	im->pending[im->npending++] = m;
	return 0;
}

int
incidents_new(const struct plan *plan, struct db *s, const char *head_path,
	struct incidents **ret)
{
	struct incidents *im = NULL;
	struct resend rs;
	char hex[SHA256_HEX_LEN + 1], last[SHA256_HEX_LEN + 1], detail[1024];
	int64_t now = now_realtime_ns();
	int r;

	im = xcalloc(1, sizeof(*im));
	im->plan = plan;
	im->head_path = head_path != NULL ? xstrdup(head_path) : NULL;
	buf_init(&im->scratch, 1 << 20);
	r = notifier_start(&im->notifier);
	if (r < 0)
		goto out;
	sha256_to_hex(plan->sha256, hex);
	r = db_begin(s);
	if (r < 0)
		goto out;
	if (db_meta_get(s, "plan_sha256", last, sizeof(last)) < 0 || strcmp(last, hex) != 0) {
		struct buf d;
		struct json j;

		buf_init(&d, sizeof(detail));
		json_begin(&j, &d);
		json_key_str(&j, "sha256", hex);
		json_key_str(&j, "name", plan->name);
		json_key_str(&j, "path", plan->source_path != NULL ? plan->source_path : "");
		r = json_end(&j);
		if (r == 0)
			r = audit_append(s, now, "system", "plan.load", "plan", d.data, &im->head);
		buf_release(&d);
		if (r == 0)
			im->appended = true;
		if (r == 0)
			r = db_meta_set(s, "plan_sha256", hex);
	}
	rs.im = im;
	if (r == 0)
		r = db_notifications_list(s, -1, resend_row, &rs);
	if (r == 0)
		r = db_commit(s);
	if (r < 0) {
		db_rollback(s);
		incidents_rolled_back(im);
		goto out;
	}
	incidents_committed(im);
	*ret = im;
	im = NULL;
out:
	incidents_free(im);
	return r;
}

void
incidents_free(struct incidents *im)
{
	if (im == NULL)
		return;
	incidents_rolled_back(im);
	notifier_stop(im->notifier);
	if (im->notifier != NULL) {
		/* results of a stopped notifier are not news: the rows stay queued */
	}
	free(im->pending);
	free(im->inflight);
	free(im->head_path);
	buf_release(&im->scratch);
	free(im);
}
