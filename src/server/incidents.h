/*
 * incidents.h - the emergency plan at work in the centre: signals (alerts,
 * guard events, agent liveness) grouped into incidents, categorised (GB/T
 * 20986-2023) and graded by the plan's thresholds, the internal and the
 * statutory deadline clocks, escalation, accountability flags, people's
 * steps through the plan's stages (checked against plan roles),
 * notifications through the notifier (src/notify), and every write appended
 * to the audit chain (store/audit.h) in the same transaction.
 *
 * Engine thread only: every function that takes a struct db runs inside the
 * engine's transaction (incidents_on_* and incidents_request) or opens its
 * own (incidents_tick). Notifications are written to the outbox in the
 * transaction and handed to the notifier only once it committed
 * (incidents_committed); a rolled-back transaction sends nothing.
 */
#ifndef YINGJI_SERVER_INCIDENTS_H
#define YINGJI_SERVER_INCIDENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "plan/plan.h"
#include "server/store/db.h"

struct incidents;

/* plan is borrowed (lives as long as the server); head_path: the audit head
 * file. Starts the notifier, records the plan in the audit trail when it is
 * new or changed, and hands queued notifications from the last run to the
 * notifier. */
int	incidents_new(const struct plan *plan, struct db *s, const char *head_path,
		struct incidents **ret);
void	incidents_free(struct incidents *im);	/* accepts NULL */

/* A stored event (inside the transaction): guard tampering, content
 * blocked, agent lost/back, service down/up. Other types are ignored. */
int	incidents_on_event(struct incidents *im, struct db *s, int64_t agent, const char *type,
		const char *body, size_t body_len, int64_t event_id, int64_t time_ns, int64_t now);
/* A stored alert (inside the transaction). group and matched (may be NULL)
 * give the source address the plan's automatic responses act on. */
int	incidents_on_alert(struct incidents *im, struct db *s, int64_t agent, const char *rule_id,
		const char *title, const char *level, uint64_t count, const char *group,
		const char *matched, int64_t alert_id, int64_t time_ns, int64_t now);
/* Whether what committed since the last call recorded first-response
 * requests to send (clears it). Accepts NULL. */
bool	incidents_take_dispatch(struct incidents *im);
/* After the transaction: commit worked (send what was queued, write the
 * audit head file) or not (forget it). */
void	incidents_committed(struct incidents *im);
void	incidents_rolled_back(struct incidents *im);

/* Clocks, escalation, accountability, delivery results, the daily audit
 * anchor. Runs its own transaction. Returns when it wants to run next
 * (monotonic ns). */
int64_t	incidents_tick(struct incidents *im, struct db *s, int64_t now);

/* A person's request (JSON object, see docs/incidents.md), in its own
 * transaction. *ret_status gets the HTTP status, resp the answer (the
 * incident document, or {"error","message"}). */
void	incidents_request(struct incidents *im, struct db *s, const char *req, size_t len,
		int64_t now, struct buf *resp, int *ret_status);

/* Read side (any connection; the API's read-only one). */
/* The incident document (report.h describes its fields) into out. */
int	incident_doc_json(struct db *s, const struct plan *plan, int64_t id, struct buf *out);
/* One line per incident with id > after_id: the list view. */
int	incident_list_json(struct db *s, const struct plan *plan, int64_t after_id, unsigned limit,
		bool open_only, struct buf *out);

/* Measured/known for an incident at now (a portal still down counts until now). */
void	incident_measures_parse(const char *json, int64_t values[MEASURE_COUNT]);

#endif
