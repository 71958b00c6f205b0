/* engine.c - the database writer thread (see engine.h). */
#include "server/engine.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "core/i18n.h"
#include "core/json.h"
#include "core/json_get.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "detect/decode/decode.h"
#include "detect/detector.h"
#include "detect/record.h"
#include "detect/sigma/rule.h"
#include "server/incidents.h"
#include "server/responses.h"
#include "server/store/audit.h"
#include "tls/pki.h"
#include "core/banned.h"

#define RETRY_NS	1000000000ll
#define EXPIRE_EVERY_NS	(5ll * 1000000000)	/* ended windows reported this often */
#define REPLAY_MARGIN_NS	(5ll * 60 * 1000000000)	/* events replayed beyond the longest window */
#define REPLAY_MAX_EVENTS	2000000			/* at most, at a start */
#define BATCH_MAX_ITEMS	20000	/* per transaction */
#define ALERT_LINE_MAX	8192	/* bytes of the line (or event body) kept with an alert */
#define LOG_LINE_CAP	(4u << 20)	/* a "log" event's line, unescaped */

struct engine {
	const struct engine_config *cfg;
	struct db	*store;
	pthread_t	 thread;
	pthread_mutex_t	 mu;
	pthread_cond_t	 wake;
	struct job	*head, **tailp;		/* waiting */
	struct job	*done, **done_tailp;	/* finished */
	int		 done_fd;
	uint64_t	 queued_bytes;
	uint64_t	 commits;
	int		 error;
	bool		 stopping;

	/* Detection (engine thread only; detector NULL: none). */
	struct sigma_ruleset rules;
	struct detector	*detector;
	int64_t		 next_expire_ns;	/* monotonic */
	bool		 replaying;		/* rebuilding windows at a start: alerts are not stored again */
	size_t		 nrules, ncorrelations;
	struct record	 rec;
	struct buf	 line;		/* a "log" event's line, unescaped */
	struct buf	 alert_line;	/* the line kept with an alert, NUL-terminated */

	/* The plan at work (NULL: no plan). */
	struct incidents *inc;
	int64_t		 next_tick_ns;	/* monotonic */
	bool		 dispatch;	/* responses to send (under mu) */
};

/* One event being run through the detector. */
struct detect_ctx {
	struct engine	*e;
	const struct ingest_item *it;
	int64_t		 event_id;
	int64_t		 now;
	int		 error;		/* first failed alert insert */
};

static void set_dispatch(struct engine *e);

struct job *
job_new(enum job_kind kind, uint64_t conn_id)
{
	struct job *job = xcalloc(1, sizeof(*job));

	job->kind = kind;
	job->conn_id = conn_id;
	buf_init(&job->cert, PKI_MAX_PEM);
	buf_init(&job->response, 16u << 20);
	return job;
}

void
job_free(struct job *job)
{
	if (job == NULL)
		return;
	for (size_t i = 0; i < job->nitems; i++) {
		free(job->items[i].type);
		free(job->items[i].path);
		free(job->items[i].body);
	}
	free(job->items);
	free(job->updates);
	free(job->csr);
	buf_release(&job->cert);
	buf_release(&job->response);
	free(job->request);
	explicit_bzero(job->token, sizeof(job->token));
	free(job);
}

void
job_add_event(struct job *job, int64_t agent, int lane, uint64_t seq, int64_t time_ns,
	const char *type, const char *path, const char *body, size_t body_len)
{
	struct ingest_item *it;

	job->items = xgrow(job->items, &job->items_cap, job->nitems + 1, sizeof(*job->items));
	it = &job->items[job->nitems++];
	it->agent = agent;
	it->lane = lane;
	it->seq = seq;
	it->time_ns = time_ns;
	it->received_ns = 0;
	it->type = xstrdup(type);
	it->path = path != NULL ? xstrdup(path) : NULL;
	it->body = xstrndup(body, body_len);
	it->body_len = body_len;
	job->bytes += body_len + 128;
}

void
job_add_update(struct job *job, int64_t agent, enum agent_state state, int64_t time_ns,
	uint64_t backlog, const char *addr)
{
	struct agent_update *u;

	job->updates = xgrow(job->updates, &job->updates_cap, job->nupdates + 1,
		sizeof(*job->updates));
	u = &job->updates[job->nupdates++];
	u->agent = agent;
	u->state = state;
	u->time_ns = time_ns;
	u->backlog = backlog;
	snprintf(u->addr, sizeof(u->addr), "%s", addr != NULL ? addr : "");
}

bool
job_item_lane_last(const struct job *job, size_t i)
{
	const struct ingest_item *it = &job->items[i];

	if (it->lane < 0)
		return false;
	for (size_t k = i + 1; k < job->nitems; k++)
		if (job->items[k].agent == it->agent && job->items[k].lane == it->lane)
			return false;
	return true;
}

/* ---- detection ---- */

static void
on_alert(const struct alert *a, void *data)
{
	struct detect_ctx *dc = data;
	struct engine *e = dc->e;
	const struct record *rec = a->record;

	if (e->replaying)
		return;	/* stored when the event first came */
	struct db_alert row = {
		.rule_id = a->rule_id != NULL ? a->rule_id : "",
		.title = a->title != NULL ? a->title : "",
		.level = sigma_level_name(a->level),
		.received_ns = dc->now,
		.count = a->count ? a->count : 1,
		.correlation = a->correlation,
		.group = a->group,
		.matched = a->matched,
	};
	int64_t alert_id = 0;
	int r;

	if (dc->error != 0)
		return;
	/* The rest of an attack already alerted: stored as its update. */
	row.continued = a->continued;
	if (rec != NULL) {
		size_t n = rec->raw_len < ALERT_LINE_MAX ? rec->raw_len : ALERT_LINE_MAX;

		row.agent = dc->it->agent;
		row.event_id = dc->event_id;
		row.time_ns = rec->time_ns != 0 ? rec->time_ns : dc->it->time_ns;
		buf_reset(&e->alert_line);
		(void)buf_append(&e->alert_line, rec->raw, n);
		row.line = e->alert_line.data;
	} else {
		row.time_ns = dc->now;	/* held back, its line is gone */
	}
	r = db_alert_insert(e->store, &row, &alert_id);
	if (r == 0 && e->inc != NULL)
		r = incidents_on_alert(e->inc, e->store, row.agent, row.rule_id, row.title,
			row.level, row.count, row.group, row.matched, alert_id, row.time_ns, dc->now);
	if (r < 0)
		dc->error = r;
}

static int
year_of(int64_t ns)
{
	time_t t = (time_t)(ns / 1000000000);
	struct tm tm;

	if (localtime_r(&t, &tm) == NULL)
		return 1970;
	return tm.tm_year + 1900;
}

/* Runs the detector over one event just stored (inside the transaction): a
 * "log" event's line decoded as a log line, any other event's body as a JSON
 * record of logsource product yingji, service agent. */
static int
detect_event(struct engine *e, const struct ingest_item *it, int64_t event_id, int64_t now)
{
	struct detect_ctx dc = { .e = e, .it = it, .event_id = event_id, .now = now };
	int year = year_of(now);
	int r;

	if (strcmp(it->type, "log") == 0) {
		size_t len;

		r = json_get_str(it->body, it->body_len, "line", &e->line);
		if (r < 0 && r != -E2BIG)
			return 0;	/* no line: nothing to look at */
		len = e->line.len < RECORD_MAX_LINE ? e->line.len : RECORD_MAX_LINE;
		(void)decode_line(LOG_FMT_AUTO, e->line.data, len, year, &e->rec);
		if (r == -E2BIG || len < e->line.len)
			e->rec.truncated = true;
	} else {
		(void)decode_line(LOG_FMT_JSON, it->body, it->body_len < RECORD_MAX_LINE ?
			it->body_len : RECORD_MAX_LINE, year, &e->rec);
		snprintf(e->rec.product, sizeof(e->rec.product), "yingji");
		snprintf(e->rec.service, sizeof(e->rec.service), "agent");
	}
	/* A line without a stamp is timed by the agent's clock, so correlation
	 * windows are in real time rather than counted in records. */
	if (e->rec.time_ns == 0)
		e->rec.time_ns = it->time_ns;
	e->rec.line_no = (uint64_t)event_id;
	r = detector_process(e->detector, &e->rec, on_alert, &dc);
	if (r < 0)
		log_debug("detect", "event %lld: %s", (long long)event_id, strerror(-r));
	return dc.error;	/* only a failed alert insert fails the transaction */
}

/* Stores what the detector held for windows that have ended (suppressed
 * matches, the folded rest of correlated attacks), in its own transaction. */
static void
detection_expire(struct engine *e)
{
	struct detect_ctx dc = { .e = e, .now = now_realtime_ns() };
	int r;

	e->next_expire_ns = now_monotonic_ns() + EXPIRE_EVERY_NS;
	r = db_begin(e->store);
	if (r < 0)
		return;
	detector_expire(e->detector, dc.now, on_alert, &dc);
	r = dc.error;
	if (r == 0)
		r = db_commit(e->store);
	if (r == 0) {
		incidents_committed(e->inc);
		if (incidents_take_dispatch(e->inc))
			set_dispatch(e);
	}
	if (r < 0) {
		db_rollback(e->store);
		incidents_rolled_back(e->inc);
		log_warn("detect", "%s: %s", L("无法保存后续告警", "cannot store continued alerts"),
			strerror(-r));
	}
}

/* Rebuilding the detector's windows at a start: the events stored within
 * the longest window (plus a margin) are run through the detector again, in
 * id order, with their alerts not stored (they were when the events came),
 * and ended windows let go every EXPIRE_EVERY_NS of the events' receipt as
 * the running engine did. So a brute force that straddles a restart (or a
 * crash) of the centre is still counted whole. */
struct replay {
	struct engine	*e;
	uint64_t	 n;
	int64_t		 last_id, last_expire;
	bool		 more;
};

static int
replay_event(const struct db_event *row, void *data)
{
	struct replay *rp = data;
	struct engine *e = rp->e;
	struct detect_ctx dc = { .e = e, .now = row->received_ns };
	struct ingest_item it = {
		.agent = row->agent, .lane = row->lane, .seq = row->seq, .time_ns = row->time_ns,
		.received_ns = row->received_ns, .type = (char *)row->type, .path = (char *)row->path,
		.body = (char *)row->body, .body_len = row->body_len,
	};

	if (row->received_ns - rp->last_expire >= EXPIRE_EVERY_NS) {
		if (rp->last_expire != 0)
			detector_expire(e->detector, row->received_ns, on_alert, &dc);
		rp->last_expire = row->received_ns;
	}
	(void)detect_event(e, &it, row->id, row->received_ns);
	rp->last_id = row->id;
	rp->more = true;
	return ++rp->n >= REPLAY_MAX_EVENTS ? 1 : 0;
}

static void
detection_replay(struct engine *e)
{
	int64_t window = detector_window_ns(e->detector), t0 = now_monotonic_ns();
	int64_t now = now_realtime_ns();
	struct replay rp = { .e = e };
	struct detect_ctx dc = { .e = e, .now = now };
	int r = 0;

	if (window <= 0)
		return;
	e->replaying = true;
	do {
		struct db_event_filter f = { .after_id = rp.last_id,
			.since_ns = now - window - REPLAY_MARGIN_NS, .limit = 10000 };

		rp.more = false;
		r = db_events_query(e->store, &f, replay_event, &rp);
	} while (r == 0 && rp.more && rp.n < REPLAY_MAX_EVENTS);
	detector_expire(e->detector, now, on_alert, &dc);
	e->replaying = false;
	if (r < 0)
		log_warn("detect", "%s: %s", L("重建检测窗口时读取事件失败", "reading events to rebuild "
			"the detection windows failed"), strerror(-r));
	log_info("detect", "%s: %llu %s (%.0f s), %.3f s%s", L("已重建关联与抑制窗口",
		"correlation and suppression windows rebuilt"), (unsigned long long)rp.n,
		L("个事件", "events"), (double)(window + REPLAY_MARGIN_NS) / 1e9,
		(double)(now_monotonic_ns() - t0) / 1e9, rp.n >= REPLAY_MAX_EVENTS ?
		L("（已达上限，更早的事件未重放）", " (the cap: earlier events not replayed)") : "");
}

/* Loads the rules of cfg->rule_dirs and builds the detector, logging what is
 * refused (once, with the reason). No rule dirs: no detection. */
static int
detection_setup(struct engine *e)
{
	const struct engine_config *cfg = e->cfg;
	struct detector_opts o = { .suppress_ns = e->cfg->suppress_ns, .cache_dir = cfg->cache_dir };
	struct buf errors;
	int r;

	if (cfg->nrule_dirs == 0) {
		log_info("detect", "%s", L("未指定规则目录（--rules）：不做检测",
			"no rule directory (--rules): no detection"));
		return 0;
	}
	for (size_t i = 0; i < cfg->nrule_dirs; i++) {
		r = sigma_load_dir(&e->rules, cfg->rule_dirs[i]);
		if (r < 0) {
			log_error("detect", "%s %s: %s", L("无法读取规则目录", "cannot read the rule "
				"directory"), cfg->rule_dirs[i], strerror(-r));
			return r;
		}
	}
	for (size_t i = 0; i < e->rules.nerrors; i++)
		log_warn("detect", "%s: %s:%u: %s", L("规则被拒绝", "rule refused"),
			e->rules.errors[i].path != NULL ? e->rules.errors[i].path : "-",
			e->rules.errors[i].line,
			e->rules.errors[i].message != NULL ? e->rules.errors[i].message : "");
	buf_init(&errors, 1 << 20);
	r = detector_build(&e->rules, &o, &e->detector, &errors);
	if (r < 0) {
		log_error("detect", "%s: %s", L("无法编译规则", "cannot compile the rules"),
			strerror(-r));
		buf_release(&errors);
		return r;
	}
	for (const char *p = errors.data, *end = errors.data + errors.len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);

		if (n > 0)
			log_warn("detect", "%s: %.*s", L("规则无法编译", "rule not compiled"),
				(int)n, p);
		p += n + 1;
	}
	buf_release(&errors);
	detector_counts(e->detector, &e->nrules, &e->ncorrelations);
	log_info("detect", "%s %zu, %s %zu, %s %zu", L("检测规则", "detection rules"), e->nrules,
		L("关联规则", "correlation rules"), e->ncorrelations, L("被拒绝", "refused"),
		e->rules.nerrors);
	record_init(&e->rec);
	return 0;
}

static void
detection_release(struct engine *e)
{
	detector_free(e->detector);
	e->detector = NULL;
	sigma_ruleset_release(&e->rules);
	if (e->rec.arena != NULL)
		record_release(&e->rec);
	buf_release(&e->line);
	buf_release(&e->alert_line);
}

bool
engine_detection(const struct engine *e, size_t *ret_rules, size_t *ret_correlations)
{
	if (e->detector == NULL)
		return false;
	*ret_rules = e->nrules;
	*ret_correlations = e->ncorrelations;
	return true;
}

/* ---- running jobs ---- */

/* The events part of one job, inside the open transaction. */
static int
run_events(struct engine *e, struct job *job, int64_t now)
{
	int r;

	job->stored = job->duplicates = 0;
	for (size_t i = 0; i < job->nitems; i++) {
		struct ingest_item *it = &job->items[i];
		struct db_event ev = {
			.agent = it->agent, .lane = it->lane, .seq = it->seq,
			.time_ns = it->time_ns, .received_ns = now, .type = it->type,
			.path = it->path, .body = it->body, .body_len = it->body_len,
		};

		it->received_ns = now;
		r = db_event_insert(e->store, &ev);
		if (r == -EEXIST) {
			job->duplicates++;
			continue;
		}
		if (r < 0)
			return r;
		job->stored++;
		if (e->inc != NULL) {
			r = incidents_on_event(e->inc, e->store, it->agent, it->type, it->body,
				it->body_len, db_last_insert_id(e->store), it->time_ns, now);
			if (r < 0)
				return r;
		}
		if (e->detector != NULL) {
			r = detect_event(e, it, db_last_insert_id(e->store), now);
			if (r < 0)
				return r;
		}
	}
	/* The high-water mark per agent and lane: items of one lane arrive in
	 * order, so the last one is the highest. */
	for (size_t i = 0; i < job->nitems; i++) {
		struct ingest_item *it = &job->items[i];

		if (!job_item_lane_last(job, i))
			continue;
		r = db_agent_set_acked(e->store, it->agent, it->lane, it->seq);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	for (size_t i = 0; i < job->nupdates; i++) {
		struct agent_update *u = &job->updates[i];

		r = db_agent_set_state(e->store, u->agent, u->state, u->time_ns,
			u->addr[0] != '\0' ? u->addr : NULL);
		if (r == 0)
			r = db_agent_set_seen(e->store, u->agent, u->time_ns, u->backlog);
		if (r < 0 && r != -ENOENT)
			return r;
	}
	return 0;
}

void
server_event_json(struct buf *out, const char *type, int64_t agent, int64_t now,
	const char *detail)
{
	char t[48];

	time_format_local(now, t, sizeof(t));
	buf_reset(out);
	(void)buf_appendf(out, "{\"type\":\"%s\",\"time\":\"%s\",\"time_ns\":%lld,\"source\":"
		"\"server\",\"agent_id\":%lld", type, t, (long long)now, (long long)agent);
	if (detail != NULL) {
		(void)buf_puts(out, ",\"detail\":");
		(void)json_append_string(out, detail, strlen(detail));
	}
	(void)buf_putc(out, '}');
}

static int
insert_server_event(struct engine *e, const char *type, int64_t agent, int64_t now,
	const char *detail)
{
	struct buf body;
	struct db_event ev = { .agent = agent, .lane = -1, .time_ns = now,
		.received_ns = now, .type = type };
	int r;

	buf_init(&body, 4096);
	server_event_json(&body, type, agent, now, detail);
	ev.body = body.data;
	ev.body_len = body.len;
	r = db_event_insert(e->store, &ev);
	buf_release(&body);
	return r;
}

static int
run_enroll(struct engine *e, struct job *job, int64_t now)
{
	char id[32], serial[64];
	int r;

	r = db_begin(e->store);
	if (r < 0)
		return r;
	r = db_agent_create(e->store, job->name, now, &job->agent);
	if (r < 0)
		goto out;
	r = db_token_use(e->store, job->token_hash, now, job->agent);
	if (r < 0) {
		snprintf(job->error, sizeof(job->error), "%s",
			r == -EALREADY ? "token already used" :
			r == -ETIME ? "token expired" :
			r == -ENOENT ? "unknown token" : "cannot check the token");
		goto out;
	}
	snprintf(id, sizeof(id), "%lld", (long long)job->agent);
	r = pki_csr_sign(e->cfg->ca_cert_pem, e->cfg->ca_key_pem, job->csr, job->csr_len, id,
		e->cfg->agent_cert_days, &job->cert, serial);
	if (r < 0) {
		snprintf(job->error, sizeof(job->error), "bad certificate request: %s",
			pki_last_error());
		goto out;
	}
	r = db_agent_set_cert(e->store, job->agent, serial);
	if (r == 0)
		r = insert_server_event(e, "agent_enrolled", job->agent, now, NULL);
	if (r == 0)
		r = db_commit(e->store);
out:
	if (r < 0)
		db_rollback(e->store);
	return r;
}

/* What the admin token holder changes is in the audit chain too. */
static int
run_admin(struct engine *e, struct job *job, int64_t now)
{
	struct audit_head head;
	char detail[128], object[64];
	int r;

	r = db_begin(e->store);
	if (r < 0)
		return r;
	if (job->kind == JOB_REVOKE) {
		r = db_agent_revoke(e->store, job->agent, now);
		if (r == 0)
			r = insert_server_event(e, "agent_revoked", job->agent, now, NULL);
		snprintf(object, sizeof(object), "agent/%lld", (long long)job->agent);
		snprintf(detail, sizeof(detail), "{}");
		if (r == 0)
			r = audit_append(e->store, now, "admin", "agent.revoke", object, detail, &head);
	} else {
		r = db_token_add(e->store, job->token_hash, now, job->expires_ns);
		snprintf(detail, sizeof(detail), "{\"expires_ns\":%lld}", (long long)job->expires_ns);
		if (r == 0)
			r = audit_append(e->store, now, "admin", "token.create", "token", detail, &head);
	}
	if (r == 0)
		r = db_commit(e->store);
	if (r < 0) {
		db_rollback(e->store);
		return r;
	}
	if (e->cfg->audit_head_path != NULL && (r = audit_head_write(e->cfg->audit_head_path,
		&head)) < 0)
		log_warn("audit", "%s %s: %s", L("无法写入审计链头文件", "cannot write the audit head"),
			e->cfg->audit_head_path, strerror(-r));
	return 0;
}

static void
set_dispatch(struct engine *e)
{
	pthread_mutex_lock(&e->mu);
	e->dispatch = true;
	pthread_mutex_unlock(&e->mu);
}

bool
engine_take_dispatch(struct engine *e)
{
	bool d;

	pthread_mutex_lock(&e->mu);
	d = e->dispatch;
	e->dispatch = false;
	pthread_mutex_unlock(&e->mu);
	return d;
}

/* The clocks: incidents (with a plan) and the expiry of responses. */
static int64_t
tick(struct engine *e)
{
	int64_t next = now_monotonic_ns() + 250000000;

	if (e->inc != NULL)
		next = incidents_tick(e->inc, e->store, now_realtime_ns());
	if (incidents_take_dispatch(e->inc))
		set_dispatch(e);
	responses_tick(e->store, now_realtime_ns());
	return next;
}

static int
run_one(struct engine *e, struct job *job, int64_t now)
{
	switch (job->kind) {
	case JOB_ENROLL:
		return run_enroll(e, job, now);
	case JOB_REVOKE:
	case JOB_TOKEN:
		return run_admin(e, job, now);
	case JOB_INCIDENT:
		incidents_request(e->inc, e->store, job->request, job->request_len, now,
			&job->response, &job->http_status);
		if (incidents_take_dispatch(e->inc))
			set_dispatch(e);
		return 0;
	case JOB_RESPONSE: {
		bool dispatch = false;

		responses_request(e->store, e->cfg->plan, job->request, job->request_len, now,
			&job->response, &job->http_status, &dispatch);
		if (dispatch)
			set_dispatch(e);
		return 0;
	}
	case JOB_EVENTS:
		break;
	}
	return -EINVAL;
}

static void
finish(struct engine *e, struct job *first)
{
	uint64_t one = 1;

	pthread_mutex_lock(&e->mu);
	for (struct job *j = first; j != NULL;) {
		struct job *next = j->next;

		j->next = NULL;
		*e->done_tailp = j;
		e->done_tailp = &j->next;
		j = next;
	}
	pthread_mutex_unlock(&e->mu);
	(void)!write(e->done_fd, &one, sizeof(one));
}

static void
wait_retry(struct engine *e)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += RETRY_NS / 1000000000;
	while (!e->stopping && pthread_cond_timedwait(&e->wake, &e->mu, &ts) != ETIMEDOUT)
		;
}

/* Take the jobs to run next off the queue (under e->mu): one job of another
 * kind, or every events job waiting up to a bound. */
static struct job *
take_batch(struct engine *e, size_t *ret_items, uint64_t *ret_bytes)
{
	struct job *first = e->head, *last = first;
	size_t items = first->nitems;
	uint64_t bytes = first->kind == JOB_EVENTS ? first->bytes : 0;

	if (first->kind == JOB_EVENTS)
		while (last->next != NULL && last->next->kind == JOB_EVENTS &&
			items + last->next->nitems <= BATCH_MAX_ITEMS) {
			last = last->next;
			items += last->nitems;
			bytes += last->bytes;
		}
	e->head = last->next;
	if (e->head == NULL)
		e->tailp = &e->head;
	last->next = NULL;
	*ret_items = items;
	*ret_bytes = bytes;
	return first;
}

/* Put a batch that could not be committed back at the head of the queue. */
static void
put_back(struct engine *e, struct job *batch)
{
	struct job *last = batch;

	while (last->next != NULL)
		last = last->next;
	last->next = e->head;
	if (e->head == NULL)
		e->tailp = &last->next;
	e->head = batch;
}

static void *
engine_main(void *arg)
{
	struct engine *e = arg;

	pthread_mutex_lock(&e->mu);
	for (;;) {
		struct job *batch;
		size_t items;
		uint64_t bytes;
		int64_t now;
		int r = 0;

		while (e->head == NULL && !e->stopping) {
			struct timespec ts;

			if (now_monotonic_ns() >= e->next_tick_ns) {
				pthread_mutex_unlock(&e->mu);
				e->next_tick_ns = tick(e);
				pthread_mutex_lock(&e->mu);
				continue;
			}
			/* Idle: report the rest of attacks whose windows have ended. */
			if (e->detector != NULL && now_monotonic_ns() >= e->next_expire_ns) {
				pthread_mutex_unlock(&e->mu);
				detection_expire(e);
				pthread_mutex_lock(&e->mu);
				continue;
			}
			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += 250000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			(void)pthread_cond_timedwait(&e->wake, &e->mu, &ts);
		}
		if (e->head == NULL)
			break;
		batch = take_batch(e, &items, &bytes);
		pthread_mutex_unlock(&e->mu);

		/* Busy: the clocks still run. */
		if (now_monotonic_ns() >= e->next_tick_ns)
			e->next_tick_ns = tick(e);
		now = now_realtime_ns();
		if (batch->kind != JOB_EVENTS) {
			batch->result = run_one(e, batch, now);
			finish(e, batch);
			pthread_mutex_lock(&e->mu);
			continue;
		}

		r = db_begin(e->store);
		for (struct job *j = batch; r == 0 && j != NULL; j = j->next)
			r = run_events(e, j, now);
		if (r == 0)
			r = db_commit(e->store);
		if (r == 0) {
			incidents_committed(e->inc);
			if (incidents_take_dispatch(e->inc))
				set_dispatch(e);
		}
		pthread_mutex_lock(&e->mu);
		if (r < 0) {
			db_rollback(e->store);
			incidents_rolled_back(e->inc);
			put_back(e, batch);
			if (e->error != r)
				log_error("store", "cannot commit (%zu events waiting): %s (%s); "
					"keeping them and retrying every second; agents keep theirs "
					"meanwhile", items, strerror(-r), db_errmsg(e->store));
			e->error = r;
			if (e->stopping) {
				log_error("store", "stopping with %zu events not stored: the agents "
					"still hold them and send them again", items);
				break;
			}
			wait_retry(e);
			continue;
		}
		if (e->error != 0)
			log_info("store", "storing events again");
		e->error = 0;
		e->commits++;
		e->queued_bytes -= bytes;
		pthread_mutex_unlock(&e->mu);
		finish(e, batch);
		pthread_mutex_lock(&e->mu);
	}
	pthread_mutex_unlock(&e->mu);
	return NULL;
}

int
engine_start(const struct engine_config *cfg, struct engine **ret)
{
	struct engine *e;
	pthread_condattr_t ca;
	sigset_t all, old;
	int r;

	e = xcalloc(1, sizeof(*e));
	e->cfg = cfg;
	e->tailp = &e->head;
	e->done_tailp = &e->done;
	e->done_fd = -1;
	pthread_mutex_init(&e->mu, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&e->wake, &ca);
	pthread_condattr_destroy(&ca);

	/* An event body is at most a frame; its line unescaped is no longer. */
	buf_init(&e->line, LOG_LINE_CAP);
	buf_init(&e->alert_line, ALERT_LINE_MAX + 1);
	r = db_open(cfg->db_path, false, &e->store);
	if (r < 0)
		goto out;
	r = detection_setup(e);
	if (r < 0)
		goto out;
	if (e->detector != NULL)
		detection_replay(e);
	if (cfg->plan != NULL) {
		r = incidents_new(cfg->plan, e->store, cfg->audit_head_path, &e->inc);
		if (r < 0)
			goto out;
	}
	e->done_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (e->done_fd < 0) {
		r = -errno;
		goto out;
	}
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&e->thread, NULL, engine_main, e);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto out;

	*ret = e;
	e = NULL;
out:
	if (e != NULL) {
		incidents_free(e->inc);
		detection_release(e);
		db_close(e->store);
		if (e->done_fd >= 0)
			close(e->done_fd);
		pthread_cond_destroy(&e->wake);
		pthread_mutex_destroy(&e->mu);
		free(e);
	}
	return r;
}

void
engine_stop(struct engine *e)
{
	struct job *j;

	if (e == NULL)
		return;
	pthread_mutex_lock(&e->mu);
	e->stopping = true;
	pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->mu);
	pthread_join(e->thread, NULL);
	while ((j = e->head) != NULL) {
		e->head = j->next;
		job_free(j);
	}
	while ((j = e->done) != NULL) {
		e->done = j->next;
		job_free(j);
	}
	incidents_free(e->inc);
	detection_release(e);
	db_close(e->store);
	close(e->done_fd);
	pthread_cond_destroy(&e->wake);
	pthread_mutex_destroy(&e->mu);
	free(e);
}

void
engine_submit(struct engine *e, struct job *job)
{
	job->next = NULL;
	pthread_mutex_lock(&e->mu);
	*e->tailp = job;
	e->tailp = &job->next;
	if (job->kind == JOB_EVENTS)
		e->queued_bytes += job->bytes;
	pthread_cond_signal(&e->wake);
	pthread_mutex_unlock(&e->mu);
}

int
engine_done_fd(const struct engine *e)
{
	return e->done_fd;
}

struct job *
engine_take_done(struct engine *e)
{
	struct job *list;
	uint64_t n;

	(void)!read(e->done_fd, &n, sizeof(n));
	pthread_mutex_lock(&e->mu);
	list = e->done;
	e->done = NULL;
	e->done_tailp = &e->done;
	pthread_mutex_unlock(&e->mu);
	return list;
}

uint64_t
engine_queued_bytes(struct engine *e)
{
	uint64_t n;

	pthread_mutex_lock(&e->mu);
	n = e->queued_bytes;
	pthread_mutex_unlock(&e->mu);
	return n;
}

int
engine_error(struct engine *e)
{
	int r;

	pthread_mutex_lock(&e->mu);
	r = e->error;
	pthread_mutex_unlock(&e->mu);
	return r;
}

uint64_t
engine_commits(struct engine *e)
{
	uint64_t n;

	pthread_mutex_lock(&e->mu);
	n = e->commits;
	pthread_mutex_unlock(&e->mu);
	return n;
}

const struct plan *
engine_plan(const struct engine *e)
{
	return e->cfg->plan;
}
