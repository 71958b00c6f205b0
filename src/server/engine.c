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

#include "core/json.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "tls/pki.h"
#include "core/banned.h"

#define RETRY_NS	1000000000ll
#define BATCH_MAX_ITEMS	20000	/* per transaction */

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
};

struct job *
job_new(enum job_kind kind, uint64_t conn_id)
{
	struct job *job = xcalloc(1, sizeof(*job));

	job->kind = kind;
	job->conn_id = conn_id;
	buf_init(&job->cert, PKI_MAX_PEM);
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

static int
run_one(struct engine *e, struct job *job, int64_t now)
{
	int r;

	switch (job->kind) {
	case JOB_ENROLL:
		return run_enroll(e, job, now);
	case JOB_REVOKE:
		r = db_begin(e->store);
		if (r < 0)
			return r;
		r = db_agent_revoke(e->store, job->agent, now);
		if (r == 0)
			r = insert_server_event(e, "agent_revoked", job->agent, now, NULL);
		if (r == 0)
			r = db_commit(e->store);
		if (r < 0)
			db_rollback(e->store);
		return r;
	case JOB_TOKEN:
		return db_token_add(e->store, job->token_hash, now, job->expires_ns);
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

		while (e->head == NULL && !e->stopping)
			pthread_cond_wait(&e->wake, &e->mu);
		if (e->head == NULL)
			break;
		batch = take_batch(e, &items, &bytes);
		pthread_mutex_unlock(&e->mu);

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
		pthread_mutex_lock(&e->mu);
		if (r < 0) {
			db_rollback(e->store);
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

	r = db_open(cfg->db_path, false, &e->store);
	if (r < 0)
		goto out;
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
