/*
 * incident_db.h - the incident tables of the centre's database (schema v3 in
 * db.c): incidents, their timeline (incident_log), reports, tasks,
 * accountability flags and the notification outbox / delivery log.
 * Plain rows; the rules live in src/server/incidents.c.
 */
#ifndef YINGJI_SERVER_INCIDENT_DB_H
#define YINGJI_SERVER_INCIDENT_DB_H

#include <stdbool.h>
#include <stdint.h>

#include "server/store/db.h"

#define INC_TITLE_MAX		256
#define INC_MEASURES_MAX	1024

struct db_incident {
	int64_t		 id, agent;
	int		 category, subcategory;
	int		 grade;			/* enum plan_grade */
	bool		 grade_manual;
	int		 state;			/* enum incident_state */
	char		 title[INC_TITLE_MAX];
	int64_t		 detected_ns, last_signal_ns, signals;
	int64_t		 report_due_ns, assess_due_ns, authority_due_ns, summary_due_ns;
	unsigned	 late;			/* enum incident_deadline bits */
	unsigned	 escalated;
	char		 measures[INC_MEASURES_MAX];	/* JSON object */
	int64_t		 down_since_ns, closed_ns;
};

int	db_incident_insert(struct db *s, struct db_incident *inc);	/* sets inc->id */
int	db_incident_get(struct db *s, int64_t id, struct db_incident *ret);	/* -ENOENT */
int	db_incident_update(struct db *s, const struct db_incident *inc);
/* The newest incident not closed for agent and category whose last signal is
 * at or after since_ns. -ENOENT. */
int	db_incident_find_open(struct db *s, int64_t agent, int category, int64_t since_ns,
		struct db_incident *ret);
typedef int (*db_incident_cb)(const struct db_incident *inc, void *data);
/* Incidents with id > after_id in id order (limit 1..10000); open_only: not closed. */
/* Closed incidents whose summary or authority report (the deadlines that run
 * past closing) is overdue, not filed, and not yet marked late (bits as in
 * incident.h), in id order, at most limit. */
int	db_incidents_closed_overdue(struct db *s, int64_t now, unsigned summary_bit,
		unsigned authority_bit, unsigned limit, db_incident_cb cb, void *data);
int	db_incidents_list(struct db *s, int64_t after_id, unsigned limit, bool open_only,
		db_incident_cb cb, void *data);

struct db_incident_log {
	int64_t		 id, incident, time_ns, ref;
	const char	*actor, *kind, *text;
};
int	db_incident_log_add(struct db *s, int64_t incident, int64_t time_ns, const char *actor,
		const char *kind, const char *text, int64_t ref);
typedef int (*db_incident_log_cb)(const struct db_incident_log *l, void *data);
int	db_incident_log_list(struct db *s, int64_t incident, db_incident_log_cb cb, void *data);

struct db_report {
	int64_t		 id, incident, filed_ns;
	int		 version;
	bool		 late;
	const char	*kind, *actor, *body, *sha256;
};
int	db_report_add(struct db *s, const struct db_report *r, int64_t *ret_id);
typedef int (*db_report_cb)(const struct db_report *r, void *data);
/* incident 0: every incident's reports. */
int	db_reports_list(struct db *s, int64_t incident, db_report_cb cb, void *data);
int	db_report_count(struct db *s, int64_t incident, const char *kind, int64_t *ret);

struct db_task {
	int64_t		 id, incident, due_ns, done_ns;
	const char	*title, *role, *assignee, *done_by;	/* may be NULL */
};
int	db_task_add(struct db *s, const struct db_task *t, int64_t *ret_id);
/* A task's incident, done time and (into ret_assignee, cap bytes; "" when
 * none) assignee. -ENOENT. */
int	db_task_get(struct db *s, int64_t id, int64_t *ret_incident, int64_t *ret_done_ns,
		char *ret_assignee, size_t cap);
int	db_task_assign(struct db *s, int64_t id, const char *assignee);
int	db_task_done(struct db *s, int64_t id, int64_t now_ns, const char *by);
typedef int (*db_task_cb)(const struct db_task *t, void *data);
int	db_tasks_list(struct db *s, int64_t incident, db_task_cb cb, void *data);

struct db_flag {
	int64_t		 id, incident, time_ns;
	const char	*kind, *text, *evidence;
};
/* 0 when added, -EEXIST when the same (incident, kind, evidence) is there. */
int	db_flag_add(struct db *s, const struct db_flag *f);
typedef int (*db_flag_cb)(const struct db_flag *f, void *data);
int	db_flags_list(struct db *s, int64_t incident, db_flag_cb cb, void *data);

struct db_notification {
	int64_t		 id, incident, created_ns, last_ns;
	int		 attempts;
	const char	*channel, *recipients, *subject, *text, *state, *error;
};
int	db_notification_add(struct db *s, const struct db_notification *n, int64_t *ret_id);
int	db_notification_update(struct db *s, int64_t id, const char *state, int attempts,
		int64_t last_ns, const char *error);
typedef int (*db_notification_cb)(const struct db_notification *n, void *data);
/* incident >= 0: that incident's; incident < 0: every queued one. */
int	db_notifications_list(struct db *s, int64_t incident, db_notification_cb cb, void *data);

/* meta key/value (e.g. the plan's hash, the last audit anchor day). */
int	db_meta_get(struct db *s, const char *key, char *out, size_t size);	/* -ENOENT */
int	db_meta_set(struct db *s, const char *key, const char *value);

#endif
