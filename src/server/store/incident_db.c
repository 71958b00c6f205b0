/*
 * incident_db.c - rows of the incident tables (incident_db.h), through the
 * plain-SQL layer of db.c (the only sqlite3.h includer).
 */
#include "server/store/incident_db.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/banned.h"

#define LIST_LIMIT_MAX	10000

#define INCIDENT_COLUMNS "id, agent, category, subcategory, grade, grade_manual, state, title, " \
	"detected_ns, last_signal_ns, signals, report_due_ns, assess_due_ns, authority_due_ns, " \
	"summary_due_ns, late, escalated, measures, down_since_ns, closed_ns"

static void
copy_text(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src != NULL ? src : "");
}

static void
incident_from_row(const struct db_row *row, struct db_incident *inc)
{
	memset(inc, 0, sizeof(*inc));
	inc->id = db_row_int(row, 0);
	inc->agent = db_row_int(row, 1);
	inc->category = (int)db_row_int(row, 2);
	inc->subcategory = (int)db_row_int(row, 3);
	inc->grade = (int)db_row_int(row, 4);
	inc->grade_manual = db_row_int(row, 5) != 0;
	inc->state = (int)db_row_int(row, 6);
	copy_text(inc->title, sizeof(inc->title), db_row_text(row, 7));
	inc->detected_ns = db_row_int(row, 8);
	inc->last_signal_ns = db_row_int(row, 9);
	inc->signals = db_row_int(row, 10);
	inc->report_due_ns = db_row_int(row, 11);
	inc->assess_due_ns = db_row_int(row, 12);
	inc->authority_due_ns = db_row_int(row, 13);
	inc->summary_due_ns = db_row_int(row, 14);
	inc->late = (unsigned)db_row_int(row, 15);
	inc->escalated = (unsigned)db_row_int(row, 16);
	copy_text(inc->measures, sizeof(inc->measures), db_row_text(row, 17));
	inc->down_since_ns = db_row_int(row, 18);
	inc->closed_ns = db_row_int(row, 19);
}

static int
one_incident(const struct db_row *row, void *data)
{
	incident_from_row(row, data);
	((struct db_incident *)data)->id = db_row_int(row, 0);
	return 1;
}

int
db_incident_insert(struct db *s, struct db_incident *inc)
{
	int r;

	r = db_exec(s, "INSERT INTO incidents (agent, category, subcategory, grade, grade_manual, "
		"state, title, detected_ns, last_signal_ns, signals, report_due_ns, assess_due_ns, "
		"authority_due_ns, summary_due_ns, late, escalated, measures, down_since_ns, "
		"closed_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, "
		"?16, ?17, ?18, ?19)", "iiiiiitiiiiiiiiitii",
		inc->agent, (int64_t)inc->category, (int64_t)inc->subcategory, (int64_t)inc->grade,
		(int64_t)inc->grade_manual, (int64_t)inc->state, inc->title, inc->detected_ns,
		inc->last_signal_ns, inc->signals, inc->report_due_ns, inc->assess_due_ns,
		inc->authority_due_ns, inc->summary_due_ns, (int64_t)inc->late,
		(int64_t)inc->escalated, inc->measures, inc->down_since_ns, inc->closed_ns);
	if (r < 0)
		return r;
	inc->id = db_last_insert_id(s);
	return 0;
}

int
db_incident_get(struct db *s, int64_t id, struct db_incident *ret)
{
	struct db_incident inc = { .id = 0 };
	int r;

	r = db_query(s, "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE id = ?1", one_incident,
		&inc, "i", id);
	if (r < 0)
		return r;
	if (inc.id == 0)
		return -ENOENT;
	*ret = inc;
	return 0;
}

int
db_incident_update(struct db *s, const struct db_incident *inc)
{
	int r;

	r = db_exec(s, "UPDATE incidents SET category = ?2, subcategory = ?3, grade = ?4, "
		"grade_manual = ?5, state = ?6, title = ?7, last_signal_ns = ?8, signals = ?9, "
		"report_due_ns = ?10, assess_due_ns = ?11, authority_due_ns = ?12, "
		"summary_due_ns = ?13, late = ?14, escalated = ?15, measures = ?16, "
		"down_since_ns = ?17, closed_ns = ?18 WHERE id = ?1", "iiiiiitiiiiiiiitii",
		inc->id, (int64_t)inc->category, (int64_t)inc->subcategory, (int64_t)inc->grade,
		(int64_t)inc->grade_manual, (int64_t)inc->state, inc->title, inc->last_signal_ns,
		inc->signals, inc->report_due_ns, inc->assess_due_ns, inc->authority_due_ns,
		inc->summary_due_ns, (int64_t)inc->late, (int64_t)inc->escalated, inc->measures,
		inc->down_since_ns, inc->closed_ns);
	if (r < 0)
		return r;
	return db_changes(s) == 1 ? 0 : -ENOENT;
}

int
db_incident_find_open(struct db *s, int64_t agent, int category, int64_t since_ns,
	struct db_incident *ret)
{
	struct db_incident inc = { .id = 0 };
	int r;

	/* state 8 = INC_CLOSED (incident/incident.h) */
	r = db_query(s, "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE agent = ?1 AND "
		"category = ?2 AND state != 8 AND last_signal_ns >= ?3 ORDER BY id DESC LIMIT 1",
		one_incident, &inc, "iii", agent, (int64_t)category, since_ns);
	if (r < 0)
		return r;
	if (inc.id == 0)
		return -ENOENT;
	*ret = inc;
	return 0;
}

struct list_ctx {
	db_incident_cb	 cb;
	void		*data;
};

static int
list_row(const struct db_row *row, void *data)
{
	struct list_ctx *lc = data;
	struct db_incident inc;

	incident_from_row(row, &inc);
	return lc->cb(&inc, lc->data);
}

int
db_incidents_closed_overdue(struct db *s, int64_t now, unsigned summary_bit, unsigned authority_bit,
	unsigned limit, db_incident_cb cb, void *data)
{
	struct list_ctx lc = { cb, data };

	if (limit == 0 || limit > LIST_LIMIT_MAX)
		return -EINVAL;
	return db_query(s, "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE state = 8 AND ("
		"(summary_due_ns > 0 AND summary_due_ns < ?1 AND (late & ?2) = 0 AND NOT EXISTS "
		"(SELECT 1 FROM reports r WHERE r.incident = incidents.id AND r.kind = 'summary')) OR "
		"(authority_due_ns > 0 AND authority_due_ns < ?1 AND (late & ?3) = 0 AND NOT EXISTS "
		"(SELECT 1 FROM reports r WHERE r.incident = incidents.id AND r.kind = 'authority'))) "
		"ORDER BY id LIMIT ?4", list_row, &lc, "iiii", now, (int64_t)summary_bit,
		(int64_t)authority_bit, (int64_t)limit);
}

int
db_incidents_list(struct db *s, int64_t after_id, unsigned limit, bool open_only,
	db_incident_cb cb, void *data)
{
	struct list_ctx lc = { cb, data };

	if (limit == 0 || limit > LIST_LIMIT_MAX)
		return -EINVAL;
	if (open_only)
		return db_query(s, "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE id > ?1 AND "
			"state != 8 ORDER BY id LIMIT ?2", list_row, &lc, "ii", after_id,
			(int64_t)limit);
	return db_query(s, "SELECT " INCIDENT_COLUMNS " FROM incidents WHERE id > ?1 "
		"ORDER BY id LIMIT ?2", list_row, &lc, "ii", after_id, (int64_t)limit);
}

/* ---- timeline ---- */

int
db_incident_log_add(struct db *s, int64_t incident, int64_t time_ns, const char *actor,
	const char *kind, const char *text, int64_t ref)
{
	return db_exec(s, "INSERT INTO incident_log (incident, time_ns, actor, kind, text, ref) "
		"VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "iittti", incident, time_ns, actor, kind,
		text != NULL ? text : "", ref);
}

struct log_ctx {
	db_incident_log_cb cb;
	void		*data;
};

static int
log_row(const struct db_row *row, void *data)
{
	struct log_ctx *lc = data;
	struct db_incident_log l = {
		.id = db_row_int(row, 0), .incident = db_row_int(row, 1),
		.time_ns = db_row_int(row, 2), .actor = db_row_text(row, 3),
		.kind = db_row_text(row, 4), .text = db_row_text(row, 5), .ref = db_row_int(row, 6),
	};

	return lc->cb(&l, lc->data);
}

int
db_incident_log_list(struct db *s, int64_t incident, db_incident_log_cb cb, void *data)
{
	struct log_ctx lc = { cb, data };

	return db_query(s, "SELECT id, incident, time_ns, actor, kind, text, ref FROM incident_log "
		"WHERE incident = ?1 ORDER BY id", log_row, &lc, "i", incident);
}

/* ---- reports ---- */

int
db_report_add(struct db *s, const struct db_report *rp, int64_t *ret_id)
{
	int r;

	r = db_exec(s, "INSERT INTO reports (incident, kind, version, filed_ns, actor, body, "
		"sha256, late) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)", "itiittti", rp->incident, rp->kind, (int64_t)rp->version, rp->filed_ns,
		rp->actor, rp->body, rp->sha256, (int64_t)rp->late);
	if (r < 0)
		return r;
	if (ret_id != NULL)
		*ret_id = db_last_insert_id(s);
	return 0;
}

struct report_ctx {
	db_report_cb	 cb;
	void		*data;
};

static int
report_row(const struct db_row *row, void *data)
{
	struct report_ctx *rc = data;
	struct db_report rp = {
		.id = db_row_int(row, 0), .incident = db_row_int(row, 1),
		.kind = db_row_text(row, 2), .version = (int)db_row_int(row, 3),
		.filed_ns = db_row_int(row, 4), .actor = db_row_text(row, 5),
		.body = db_row_text(row, 6), .sha256 = db_row_text(row, 7),
		.late = db_row_int(row, 8) != 0,
	};

	return rc->cb(&rp, rc->data);
}

int
db_reports_list(struct db *s, int64_t incident, db_report_cb cb, void *data)
{
	struct report_ctx rc = { cb, data };

	if (incident == 0)
		return db_query(s, "SELECT id, incident, kind, version, filed_ns, actor, body, "
			"sha256, late FROM reports ORDER BY id", report_row, &rc, "");
	return db_query(s, "SELECT id, incident, kind, version, filed_ns, actor, body, sha256, "
		"late FROM reports WHERE incident = ?1 ORDER BY id", report_row, &rc, "i",
		incident);
}

static int
count_row(const struct db_row *row, void *data)
{
	*(int64_t *)data = db_row_int(row, 0);
	return 1;
}

int
db_report_count(struct db *s, int64_t incident, const char *kind, int64_t *ret)
{
	*ret = 0;
	return db_query(s, "SELECT count(*) FROM reports WHERE incident = ?1 AND kind = ?2",
		count_row, ret, "it", incident, kind);
}

/* ---- tasks ---- */

int
db_task_add(struct db *s, const struct db_task *t, int64_t *ret_id)
{
	int r;

	r = db_exec(s, "INSERT INTO tasks (incident, title, role, assignee, due_ns) "
		"VALUES (?1, ?2, ?3, ?4, ?5)", "ittti", t->incident,
		t->title, t->role, t->assignee, t->due_ns);
	if (r < 0)
		return r;
	if (ret_id != NULL)
		*ret_id = db_last_insert_id(s);
	return 0;
}

struct task_get {
	int64_t		 incident, done_ns;
	char		*assignee;	/* NULL: not wanted */
	size_t		 cap;
	bool		 found;
};

static int
task_get_row(const struct db_row *row, void *data)
{
	struct task_get *tg = data;

	tg->incident = db_row_int(row, 0);
	tg->done_ns = db_row_int(row, 1);
	if (tg->assignee != NULL) {
		const char *a = db_row_text(row, 2);

		snprintf(tg->assignee, tg->cap, "%s", a != NULL ? a : "");
	}
	tg->found = true;
	return 1;
}

int
db_task_get(struct db *s, int64_t id, int64_t *ret_incident, int64_t *ret_done_ns,
	char *ret_assignee, size_t cap)
{
	struct task_get tg = { .assignee = cap > 0 ? ret_assignee : NULL, .cap = cap };
	int r;

	r = db_query(s, "SELECT incident, done_ns, assignee FROM tasks WHERE id = ?1", task_get_row,
		&tg, "i", id);
	if (r < 0)
		return r;
	if (!tg.found)
		return -ENOENT;
	*ret_incident = tg.incident;
	*ret_done_ns = tg.done_ns;
	return 0;
}

int
db_task_assign(struct db *s, int64_t id, const char *assignee)
{
	int r = db_exec(s, "UPDATE tasks SET assignee = ?2 WHERE id = ?1", "it", id, assignee);

	return r < 0 ? r : db_changes(s) == 1 ? 0 : -ENOENT;
}

int
db_task_done(struct db *s, int64_t id, int64_t now_ns, const char *by)
{
	int r = db_exec(s, "UPDATE tasks SET done_ns = ?2, done_by = ?3 WHERE id = ?1 AND "
		"done_ns = 0", "iit", id, now_ns, by);

	return r < 0 ? r : db_changes(s) == 1 ? 0 : -EALREADY;
}

struct task_ctx {
	db_task_cb	 cb;
	void		*data;
};

static int
task_row(const struct db_row *row, void *data)
{
	struct task_ctx *tc = data;
	struct db_task t = {
		.id = db_row_int(row, 0), .incident = db_row_int(row, 1),
		.title = db_row_text(row, 2), .role = db_row_text(row, 3),
		.assignee = db_row_text(row, 4), .due_ns = db_row_int(row, 5),
		.done_ns = db_row_int(row, 6), .done_by = db_row_text(row, 7),
	};

	return tc->cb(&t, tc->data);
}

int
db_tasks_list(struct db *s, int64_t incident, db_task_cb cb, void *data)
{
	struct task_ctx tc = { cb, data };

	return db_query(s, "SELECT id, incident, title, role, assignee, due_ns, done_ns, done_by "
		"FROM tasks WHERE incident = ?1 ORDER BY id", task_row, &tc, "i", incident);
}

/* ---- flags ---- */

int
db_flag_add(struct db *s, const struct db_flag *f)
{
	int r;

	r = db_exec(s, "INSERT OR IGNORE INTO flags (incident, kind, time_ns, text, evidence) "
		"VALUES (?1, ?2, ?3, ?4, ?5)", "ititt", f->incident, f->kind, f->time_ns, f->text,
		f->evidence != NULL ? f->evidence : "{}");
	if (r < 0)
		return r;
	return db_changes(s) == 1 ? 0 : -EEXIST;
}

struct flag_ctx {
	db_flag_cb	 cb;
	void		*data;
};

static int
flag_row(const struct db_row *row, void *data)
{
	struct flag_ctx *fc = data;
	struct db_flag f = {
		.id = db_row_int(row, 0), .incident = db_row_int(row, 1),
		.kind = db_row_text(row, 2), .time_ns = db_row_int(row, 3),
		.text = db_row_text(row, 4), .evidence = db_row_text(row, 5),
	};

	return fc->cb(&f, fc->data);
}

int
db_flags_list(struct db *s, int64_t incident, db_flag_cb cb, void *data)
{
	struct flag_ctx fc = { cb, data };

	return db_query(s, "SELECT id, incident, kind, time_ns, text, evidence FROM flags "
		"WHERE incident = ?1 ORDER BY id", flag_row, &fc, "i", incident);
}

/* ---- notifications ---- */

int
db_notification_add(struct db *s, const struct db_notification *n, int64_t *ret_id)
{
	int r;

	r = db_exec(s, "INSERT INTO notifications (incident, channel, recipients, subject, text, "
		"created_ns) VALUES (?1, ?2, ?3, ?4, ?5, ?6)", "itttti", n->incident, n->channel,
		n->recipients != NULL ? n->recipients : "", n->subject, n->text, n->created_ns);
	if (r < 0)
		return r;
	if (ret_id != NULL)
		*ret_id = db_last_insert_id(s);
	return 0;
}

int
db_notification_update(struct db *s, int64_t id, const char *state, int attempts,
	int64_t last_ns, const char *error)
{
	return db_exec(s, "UPDATE notifications SET state = ?2, attempts = ?3, last_ns = ?4, "
		"error = ?5 WHERE id = ?1", "itiit", id, state, (int64_t)attempts, last_ns, error);
}

struct notification_ctx {
	db_notification_cb cb;
	void		*data;
};

static int
notification_row(const struct db_row *row, void *data)
{
	struct notification_ctx *nc = data;
	struct db_notification n = {
		.id = db_row_int(row, 0), .incident = db_row_int(row, 1),
		.channel = db_row_text(row, 2), .recipients = db_row_text(row, 3),
		.subject = db_row_text(row, 4), .text = db_row_text(row, 5),
		.created_ns = db_row_int(row, 6), .state = db_row_text(row, 7),
		.attempts = (int)db_row_int(row, 8), .last_ns = db_row_int(row, 9),
		.error = db_row_text(row, 10),
	};

	return nc->cb(&n, nc->data);
}

int
db_notifications_list(struct db *s, int64_t incident, db_notification_cb cb, void *data)
{
	struct notification_ctx nc = { cb, data };

	if (incident < 0)
		return db_query(s, "SELECT id, incident, channel, recipients, subject, text, "
			"created_ns, state, attempts, last_ns, error FROM notifications WHERE "
			"state = 'queued' ORDER BY id", notification_row, &nc, "");
	return db_query(s, "SELECT id, incident, channel, recipients, subject, text, created_ns, "
		"state, attempts, last_ns, error FROM notifications WHERE incident = ?1 ORDER BY id",
		notification_row, &nc, "i", incident);
}

/* ---- meta ---- */

struct meta_ctx {
	char		*out;
	size_t		 size;
	bool		 found;
};

static int
meta_row(const struct db_row *row, void *data)
{
	struct meta_ctx *mc = data;

	copy_text(mc->out, mc->size, db_row_text(row, 0));
	mc->found = true;
	return 1;
}

int
db_meta_get(struct db *s, const char *key, char *out, size_t size)
{
	struct meta_ctx mc = { out, size, false };
	int r;

	r = db_query(s, "SELECT value FROM meta WHERE key = ?1", meta_row, &mc, "t", key);
	if (r < 0)
		return r;
	return mc.found ? 0 : -ENOENT;
}

int
db_meta_set(struct db *s, const char *key, const char *value)
{
	return db_exec(s, "INSERT INTO meta (key, value) VALUES (?1, ?2) ON CONFLICT(key) DO "
		"UPDATE SET value = excluded.value", "tt", key, value);
}
