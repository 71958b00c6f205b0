/*
 * engine.h - the one thread that writes the database.
 *
 * The network thread hands over jobs and goes on; the engine runs them in
 * order, event jobs that queue up together in one transaction (group commit),
 * and hands each finished job back through an eventfd. An events job whose
 * commit fails (disk full, ...) stays at the head of the queue and is retried
 * every second: nothing handed over is ever dropped, and nothing is
 * acknowledged before its commit returned.
 *
 * Detection: with rule directories, the engine loads the Sigma rules at start
 * and runs the detector over each event it stores, in the same transaction,
 * storing each alert (db_alert_insert) with the id of the event that set it
 * off. The detector (correlation windows included) is the engine thread's
 * alone, and lives in memory only.
 */
#ifndef YINGJI_SERVER_ENGINE_H
#define YINGJI_SERVER_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"
#include "proto/token.h"
#include "plan/plan.h"
#include "server/store/db.h"

enum job_kind {
	JOB_EVENTS = 1,	/* store events and agent state changes */
	JOB_ENROLL,	/* use a token, create an agent, sign its CSR */
	JOB_REVOKE,
	JOB_TOKEN,	/* store a new enrollment token's hash */
	JOB_INCIDENT,	/* a person's step on an incident (incidents.h) */
	JOB_RESPONSE,	/* a first-response request or an agent's result (responses.h) */
};

struct ingest_item {
	int64_t		 agent;
	int		 lane;		/* -1: made by the server */
	uint64_t	 seq;
	int64_t		 time_ns;
	int64_t		 received_ns;
	char		*type;
	char		*path;		/* may be NULL */
	char		*body;
	size_t		 body_len;
};

struct agent_update {
	int64_t		 agent;
	enum agent_state state;
	int64_t		 time_ns;
	uint64_t	 backlog;
	char		 addr[64];
};

struct job {
	struct job	*next;
	enum job_kind	 kind;
	uint64_t	 conn_id;	/* who waits for the result (0: nobody) */
	int		 result;	/* 0 or -errno, set by the engine */
	char		 error[256];	/* what went wrong, for the peer */

	/* JOB_EVENTS */
	struct ingest_item *items;
	size_t		 nitems, items_cap, bytes;
	struct agent_update *updates;
	size_t		 nupdates, updates_cap;
	uint64_t	 stored, duplicates;	/* set by the engine */

	/* JOB_ENROLL */
	uint8_t		 token_hash[32];
	char		*csr;
	size_t		 csr_len;
	char		 name[128];
	int64_t		 agent;		/* out (also JOB_REVOKE's input) */
	struct buf	 cert;		/* out: PEM */

	/* JOB_TOKEN */
	int64_t		 expires_ns;
	char		 token[TOKEN_STR_LEN + 1];

	/* JOB_INCIDENT: the request (JSON) in, the answer and its status out */
	char		*request;
	size_t		 request_len;
	struct buf	 response;
	int		 http_status;
};

struct engine;

struct engine_config {
	const char	*db_path;
	const char	*ca_cert_pem, *ca_key_pem;
	int		 agent_cert_days;
	const char *const *rule_dirs;	/* Sigma rule directories; none: no detection */
	size_t		 nrule_dirs;
	const char	*cache_dir;	/* compiled rules kept between starts (NULL: none) */
	int64_t		 suppress_ns;	/* one alert per rule and address within this */
	const struct plan *plan;	/* NULL: no incidents (alerts and events only) */
	const char	*audit_head_path;
};

int	engine_start(const struct engine_config *cfg, struct engine **ret);
void	engine_stop(struct engine *e);		/* finishes the queue first */
struct job *job_new(enum job_kind kind, uint64_t conn_id);
void	job_free(struct job *job);
/* Copies strings; body must be a checked JSON object. */
void	job_add_event(struct job *job, int64_t agent, int lane, uint64_t seq, int64_t time_ns,
		const char *type, const char *path, const char *body, size_t body_len);
void	job_add_update(struct job *job, int64_t agent, enum agent_state state, int64_t time_ns,
		uint64_t backlog, const char *addr);
void	engine_submit(struct engine *e, struct job *job);	/* takes ownership */
/* Whether item i is the last of its agent and lane in the job: items of one
 * lane come in order, so its seq is that lane's high-water mark. */
bool	job_item_lane_last(const struct job *job, size_t i);
/* The body of an event the centre makes about an agent (type is a fixed
 * word; detail may be NULL). */
void	server_event_json(struct buf *out, const char *type, int64_t agent, int64_t now,
		const char *detail);
/* eventfd that becomes readable when finished jobs are waiting. */
int	engine_done_fd(const struct engine *e);
/* Take the finished jobs (in order; the caller frees them). */
struct job *engine_take_done(struct engine *e);
/* Bytes of events waiting, and the error of the last failed commit (0 when
 * the last commit worked). */
uint64_t engine_queued_bytes(struct engine *e);
int	engine_error(struct engine *e);
uint64_t engine_commits(struct engine *e);
/* Whether commits since the last call made first-response requests to send
 * (then the network thread sends what is open; clears the flag). */
bool	engine_take_dispatch(struct engine *e);
/* The plan in use (NULL: none). */
const struct plan *engine_plan(const struct engine *e);
/* Whether detection runs, and how many rules (plain, correlation) are in
 * use (fixed at start). */
bool	engine_detection(const struct engine *e, size_t *ret_rules, size_t *ret_correlations);

#endif
