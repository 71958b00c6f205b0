/*
 * agent_channel.c - the server's side of the agent channel: enrollment,
 * HELLO/WELCOME, events in, acknowledgements out, heartbeats, liveness,
 * commands pushed to agents. Runs on the network thread.
 *
 * Exactly once: an event is handed to the engine only when its sequence
 * number is above the highest one already handed over for that agent and
 * lane; it is acknowledged only after the engine's commit returned. An agent
 * resends from what WELCOME says is committed, so a duplicate is either in
 * flight (ignored: its commit will acknowledge it) or committed (acknowledged
 * again at once).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/hex.h"
#include "core/i18n.h"
#include "core/json.h"
#include "core/json_check.h"
#include "core/json_get.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "proto/token.h"
#include "proto/wire.h"
#include "server/server_int.h"
#include "tls/pki.h"
#include "tls/sha256.h"
#include "core/banned.h"

#define EVENT_MAX_DEPTH		32
#define NAME_MAX_LEN		127
#define TYPE_MAX_LEN		64

static void
send_frame_json(struct server *s, struct conn *c, enum wire_type type, const char *json)
{
	struct buf f;

	buf_init(&f, WIRE_MAX_FRAME + 16);
	if (wire_put_json(&f, type, json, strlen(json)) == 0)
		conn_send(s, c, f.data, f.len);
	buf_release(&f);
}

/* Tell the peer what is wrong, then close. code is a fixed word for programs. */
static void
refuse(struct server *s, struct conn *c, const char *code, const char *message)
{
	struct buf b;
	struct json j;

	buf_init(&b, 4096);
	json_begin(&j, &b);
	json_key_str(&j, "error", code);
	json_key_str(&j, "message", message);
	if (json_end(&j) == 0)
		send_frame_json(s, c, WIRE_ERROR, b.data);
	buf_release(&b);
	if (c->agent != 0)
		log_warn("agents", "%s agent %lld: %s: %s", c->addr, (long long)c->agent, code,
			message);
	else
		log_warn("agents", "%s: %s: %s", c->addr, code, message);
	c->closing = true;
	buf_reset(&c->in);
	conn_update_events(s, c);
}

static void
send_ack(struct server *s, struct conn *c, int lane, uint64_t seq)
{
	char f[32];
	struct buf b;

	buf_init(&b, sizeof(f));
	if (wire_put_ack(&b, (uint8_t)lane, seq) == 0)
		conn_send(s, c, b.data, b.len);
	buf_release(&b);
}

/* ---- enrollment ---- */

static void
on_enroll(struct server *s, struct conn *c, const struct wire_frame *f)
{
	struct buf token, csr, name;
	uint8_t fp[TOKEN_FP_LEN], secret[TOKEN_SECRET_LEN];
	struct job *job;

	buf_init(&token, 256);
	buf_init(&csr, PKI_MAX_PEM);
	buf_init(&name, NAME_MAX_LEN + 1);
	if (json_get_str(f->body, f->body_len, "token", &token) < 0 ||
		json_get_str(f->body, f->body_len, "csr", &csr) < 0) {
		refuse(s, c, "bad_request", "enroll needs a token and a csr");
		goto out;
	}
	if (json_get_str(f->body, f->body_len, "name", &name) < 0 || name.len == 0 ||
		memchr(name.data, '\0', name.len) != NULL || !utf8_valid(name.data, name.len))
		(void)buf_puts(&name, "");
	if (token_parse(token.data, fp, secret) < 0) {
		refuse(s, c, "bad_token", "malformed enrollment token");
		goto out;
	}
	if (memcmp(fp, s->dd.server_fp, TOKEN_FP_LEN) != 0) {
		refuse(s, c, "bad_token", "the token was made by another server");
		goto out;
	}
	job = job_new(JOB_ENROLL, c->id);
	sha256_buf(secret, sizeof(secret), job->token_hash);
	job->csr = xstrndup(csr.data, csr.len);
	job->csr_len = csr.len;
	snprintf(job->name, sizeof(job->name), "%s", name.len > 0 ? name.data : c->addr);
	c->busy = true;
	engine_submit(s->engine, job);
out:
	explicit_bzero(token.data, token.len);
	explicit_bzero(secret, sizeof(secret));
	buf_release(&token);
	buf_release(&csr);
	buf_release(&name);
}

static void
enroll_done(struct server *s, struct job *job)
{
	struct conn *c = conn_get(s, job->conn_id);
	struct db_agent rec;
	struct buf b;
	struct json j;

	if (job->result == 0 && db_agent_get(s->reader, job->agent, &rec) == 0) {
		struct agent_mem *am = xcalloc(1, sizeof(*am));

		am->rec = rec;
		bmap_put(&s->agents, &am->rec.id, sizeof(am->rec.id), am);
		s->m.enrolled++;
		log_info("agents", "%s %lld (%s) %s", L("已登记代理", "enrolled agent"),
			(long long)rec.id, rec.name, c != NULL ? c->addr : "");
	}
	if (c == NULL)
		return;
	c->busy = false;
	if (job->result < 0) {
		refuse(s, c, "enroll_failed", job->error[0] ? job->error : strerror(-job->result));
		return;
	}
	buf_init(&b, 4 * PKI_MAX_PEM);
	json_begin(&j, &b);
	json_key_i64(&j, "agent", job->agent);
	json_key_str(&j, "cert", job->cert.data);
	json_key_str(&j, "ca", s->dd.ca_cert_pem.data);
	if (json_end(&j) == 0)
		send_frame_json(s, c, WIRE_ENROLLED, b.data);
	buf_release(&b);
	c->closing = true;	/* it comes back with its certificate */
	conn_update_events(s, c);
}

/* ---- HELLO ---- */

static int
cert_agent_id(const struct conn *c, int64_t *ret)
{
	char *end;
	long long id;

	errno = 0;
	id = strtoll(c->peer.cn, &end, 10);
	if (errno != 0 || end == c->peer.cn || *end != '\0' || id <= 0)
		return -EINVAL;
	*ret = id;
	return 0;
}

static void
on_hello(struct server *s, struct conn *c, const struct wire_frame *f)
{
	struct agent_mem *am;
	struct conn *old;
	struct buf b;
	int64_t id, claimed = 0, now = now_realtime_ns();
	bool back;

	if (cert_agent_id(c, &id) < 0) {
		refuse(s, c, "identity", "the certificate names no agent");
		return;
	}
	if (json_get_i64(f->body, f->body_len, "agent", &claimed) < 0 || claimed != id) {
		s->m.rejected_peers++;
		refuse(s, c, "identity", "HELLO claims another agent than the certificate");
		return;
	}
	am = agent_mem_get(s, id);
	if (am == NULL || strcmp(am->rec.serial, c->peer.serial) != 0) {
		s->m.rejected_peers++;
		refuse(s, c, "unknown_agent", "this certificate belongs to no enrolled agent");
		return;
	}
	if (am->rec.state == AGENT_REVOKED) {
		s->m.rejected_peers++;
		refuse(s, c, "revoked", "this agent has been revoked");
		return;
	}
	old = am->conn != 0 ? conn_get(s, am->conn) : NULL;
	if (old != NULL && old != c) {
		refuse(s, old, "replaced", "a newer connection of the same agent took over");
		old->agent = 0;		/* its close must not touch the agent's state */
	}
	back = am->rec.state == AGENT_LOST && am->rec.last_seen_ns != 0 && !am->online;
	c->agent = id;
	am->conn = c->id;
	am->online = true;
	am->gone_since_ns = 0;
	am->rec.state = AGENT_CONNECTED;
	am->rec.last_seen_ns = now;
	snprintf(am->rec.addr, sizeof(am->rec.addr), "%s", c->addr);
	job_add_update(server_pending(s), id, AGENT_CONNECTED, now, am->rec.backlog, c->addr);
	if (back)
		server_event(s, "agent_back", id, NULL);
	log_info("agents", "%s %lld (%s) %s %s", L("代理已连接", "agent connected"), (long long)id,
		am->rec.name, c->addr, back ? L("（恢复）", "(back)") : "");

	buf_init(&b, 4096);
	(void)buf_appendf(&b, "{\"agent\":%lld,\"acked\":[%" PRIu64 ",%" PRIu64 "],"
		"\"heartbeat_ms\":%lld}", (long long)id, am->committed[0], am->committed[1],
		(long long)(s->o->heartbeat_ns / 1000000));
	send_frame_json(s, c, WIRE_WELCOME, b.data);
	buf_release(&b);
	am->next_heartbeat_ns = now_monotonic_ns() + s->o->heartbeat_ns;
	/* First-response requests that waited for it (after the WELCOME). */
	api_responses_dispatch(s, id, true);
}

/* ---- events ---- */

static bool
type_ok(const struct buf *t)
{
	if (t->len == 0 || t->len > TYPE_MAX_LEN)
		return false;
	for (size_t i = 0; i < t->len; i++) {
		char ch = t->data[i];

		if (!((ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') || ch == '_'))
			return false;
	}
	return true;
}

/* The body the server stores for an event it cannot take as sent: the
 * reason, and the bytes themselves in hex, so nothing is lost. */
static void
invalid_body(struct buf *out, const struct wire_frame *f, const char *what, size_t off)
{
	char t[48];

	time_format_local(f->time_ns, t, sizeof(t));
	buf_reset(out);
	(void)buf_appendf(out, "{\"type\":\"invalid_event\",\"time\":\"%s\",\"error\":", t);
	(void)json_append_string(out, what, strlen(what));
	(void)buf_appendf(out, ",\"offset\":%zu,\"raw_hex\":\"", off);
	(void)hex_append(out, f->body, f->body_len);
	(void)buf_puts(out, "\"}");
}

static const char *const reserved_keys[] = { "id", "agent", "seq", "lane", "received" };

static void
on_event(struct server *s, struct conn *c, struct agent_mem *am, const struct wire_frame *f)
{
	struct buf type, path, alt;
	const char *what = NULL, *body = f->body, *raw;
	size_t off = 0, body_len = f->body_len, rawlen;
	int lane = f->lane;

	s->m.received++;
	if (f->seq <= am->queued[lane]) {
		s->m.duplicates++;
		if (f->seq <= am->committed[lane])
			send_ack(s, c, lane, am->committed[lane]);
		return;
	}
	buf_init(&type, TYPE_MAX_LEN + 1);
	buf_init(&path, 8192);
	buf_init(&alt, 2 * WIRE_MAX_FRAME + 4096);
	if (json_check_object_ex(f->body, f->body_len, EVENT_MAX_DEPTH, &off, &what) == 0) {
		for (size_t i = 0; i < sizeof(reserved_keys) / sizeof(reserved_keys[0]); i++)
			if (json_get_raw(f->body, f->body_len, reserved_keys[i], &raw, &rawlen) == 0)
				what = "reserved key in event";
		if (what == NULL && (json_get_str(f->body, f->body_len, "type", &type) < 0 ||
			!type_ok(&type)))
			what = "missing or malformed \"type\"";
	}
	if (what != NULL) {
		s->m.invalid++;
		invalid_body(&alt, f, what, off);
		body = alt.data;
		body_len = alt.len;
		buf_reset(&type);
		(void)buf_puts(&type, "invalid_event");
		log_warn("agents", "agent %lld seq %" PRIu64 ": %s (%s)", (long long)am->rec.id,
			f->seq, L("事件格式无效，按原样保存", "malformed event, stored as it came"), what);
	} else if (json_get_str(f->body, f->body_len, "path", &path) < 0 ||
		memchr(path.data, '\0', path.len) != NULL || !utf8_valid(path.data, path.len)) {
		buf_reset(&path);	/* the body keeps the exact bytes */
	}
	if (f->seq > am->queued[lane] + 1)
		s->m.gaps += f->seq - am->queued[lane] - 1;
	am->queued[lane] = f->seq;
	job_add_event(server_pending(s), am->rec.id, lane, f->seq, f->time_ns, type.data,
		path.len > 0 ? path.data : NULL, body, body_len);
	buf_release(&type);
	buf_release(&path);
	buf_release(&alt);
}

static void
on_heartbeat(struct server *s, struct agent_mem *am, const struct wire_frame *f)
{
	int64_t backlog = 0;

	if (json_get_i64(f->body, f->body_len, "backlog", &backlog) == 0 && backlog >= 0)
		am->rec.backlog = (uint64_t)backlog;
	(void)s;
}

static void
on_result(struct server *s, struct conn *c, const struct wire_frame *f)
{
	size_t off;
	const char *what = NULL;

	if (json_check_object_ex(f->body, f->body_len, EVENT_MAX_DEPTH, &off, &what) < 0) {
		s->m.bad_frames++;
		refuse(s, c, "bad_frame", "command result is not a JSON object");
		return;
	}
	api_command_result(s, f->id, c->agent, f->body, f->body_len);
}

void
agent_channel_input(struct server *s, struct conn *c)
{
	size_t off = 0;

	while (!c->closing && !c->busy && off < c->in.len) {
		struct wire_frame f;
		struct agent_mem *am;
		long n = wire_decode(c->in.data + off, c->in.len - off, &f);

		if (n == 0)
			break;
		if (n < 0) {
			s->m.bad_frames++;
			refuse(s, c, "bad_frame", n == -E2BIG ? "frame too large" : "malformed frame");
			return;
		}
		off += (size_t)n;
		c->last_rx_ns = now_monotonic_ns();

		if (!c->has_cert) {
			if (f.type == WIRE_ENROLL)
				on_enroll(s, c, &f);
			else {
				s->m.rejected_peers++;
				refuse(s, c, "no_certificate",
					"a client certificate is required (enroll first)");
			}
			continue;
		}
		if (c->agent == 0) {
			if (f.type == WIRE_HELLO)
				on_hello(s, c, &f);
			else
				refuse(s, c, "bad_frame", "HELLO must come first");
			continue;
		}
		am = agent_mem_get(s, c->agent);
		if (am == NULL) {
			refuse(s, c, "unknown_agent", "agent gone");
			return;
		}
		switch (f.type) {
		case WIRE_EVENT:
			on_event(s, c, am, &f);
			break;
		case WIRE_HEARTBEAT:
			on_heartbeat(s, am, &f);
			break;
		case WIRE_RESULT:
			on_result(s, c, &f);
			break;
		case WIRE_ERROR:
			log_warn("agents", "agent %lld: %.*s", (long long)c->agent,
				(int)(f.body_len > 300 ? 300 : f.body_len), f.body);
			c->closing = true;
			break;
		default:
			s->m.bad_frames++;
			refuse(s, c, "bad_frame", "unexpected frame type");
			break;
		}
	}
	if (c->closing) {
		buf_reset(&c->in);
		return;
	}
	/* Keep the unparsed rest at the front. */
	if (off > 0) {
		memmove(c->in.data, c->in.data + off, c->in.len - off);
		c->in.len -= off;
		c->in.data[c->in.len] = '\0';
	}
}

void
agent_channel_closed(struct server *s, struct conn *c)
{
	struct agent_mem *am;

	if (c->agent == 0)
		return;
	am = agent_mem_get(s, c->agent);
	if (am == NULL || am->conn != c->id)
		return;
	am->conn = 0;
	am->gone_since_ns = now_monotonic_ns();
	log_info("agents", "%s %lld (%s)", L("代理断开", "agent disconnected"),
		(long long)am->rec.id, am->rec.name);
}

void
agent_channel_job_done(struct server *s, struct job *job)
{
	if (job->kind == JOB_ENROLL) {
		enroll_done(s, job);
		return;
	}
	if (job->kind == JOB_REVOKE && job->result == 0) {
		struct agent_mem *am = agent_mem_get(s, job->agent);
		struct conn *c;

		if (am == NULL)
			return;
		am->rec.state = AGENT_REVOKED;
		am->online = false;
		c = am->conn != 0 ? conn_get(s, am->conn) : NULL;
		if (c != NULL) {
			refuse(s, c, "revoked", "this agent has been revoked");
			c->agent = 0;
			conn_update_events(s, c);
		}
		am->conn = 0;
		return;
	}
	if (job->kind != JOB_EVENTS)
		return;
	/* Acknowledge: committed is the highest seq of each lane in the job. */
	for (size_t i = 0; i < job->nitems; i++) {
		struct ingest_item *it = &job->items[i];
		struct agent_mem *am;
		struct conn *c;

		if (!job_item_lane_last(job, i))
			continue;
		am = agent_mem_get(s, it->agent);
		if (am == NULL)
			continue;
		if (it->seq > am->committed[it->lane])
			am->committed[it->lane] = it->seq;
		c = am->conn != 0 ? conn_get(s, am->conn) : NULL;
		if (c != NULL && !c->closing) {
			send_ack(s, c, it->lane, am->committed[it->lane]);
			conn_update_events(s, c);
		}
	}
}

int
agent_channel_send_command(struct server *s, int64_t agent, uint64_t cmd_id, const char *json,
	size_t len)
{
	struct agent_mem *am = agent_mem_get(s, agent);
	struct conn *c;
	struct buf f;
	int r;

	if (am == NULL)
		return -ENOENT;
	c = am->conn != 0 ? conn_get(s, am->conn) : NULL;
	if (c == NULL || c->closing)
		return -ENOTCONN;
	buf_init(&f, WIRE_MAX_FRAME + 16);
	r = wire_put_command(&f, WIRE_COMMAND, cmd_id, json, len);
	if (r == 0) {
		conn_send(s, c, f.data, f.len);
		conn_update_events(s, c);
	}
	buf_release(&f);
	return r;
}

struct tick_ctx {
	struct server	*s;
	int64_t		 now;
	struct conn	**conns;
	size_t		 nconns;
	struct agent_mem **agents;
	size_t		 nagents;
};

static void
tick_collect_conn(void *value, void *data)
{
	struct tick_ctx *t = data;

	t->conns[t->nconns++] = value;
}

static void
tick_collect_agent(void *value, void *data)
{
	struct tick_ctx *t = data;

	t->agents[t->nagents++] = value;
}

void
agent_channel_tick(struct server *s, int64_t now)
{
	struct tick_ctx t = { .s = s, .now = now };
	char hb[96];

	t.conns = xcalloc(s->nconns + 1, sizeof(*t.conns));
	bmap_each(&s->conns, tick_collect_conn, &t);
	for (size_t i = 0; i < t.nconns; i++) {
		struct conn *c = t.conns[i];

		if (c->kind != CONN_AGENT)
			continue;
		/* A peer that reads nothing keeps a closing connection (and its
		 * queued output) for ever: give it the handshake deadline. */
		if (c->closing) {
			if (c->closing_since == 0)
				c->closing_since = now;
			else if (now - c->closing_since > HANDSHAKE_DEADLINE_NS)
				conn_close(s, c);
			continue;
		}
		/* Enrolling waits for the database; not for ever. */
		if (c->busy && now - c->created_ns > 6 * HANDSHAKE_DEADLINE_NS) {
			log_warn("agents", "%s: %s", c->addr, L("登记未能完成（数据库？），断开",
				"enrollment did not complete (database?); closing"));
			conn_close(s, c);
			continue;
		}
		/* Slow or silent peers: a handshake and HELLO (or an enrollment)
		 * must be done within the deadline; a connected agent that sends
		 * no whole frame for lost_after is gone (the TCP connection may
		 * be held open by a paralysed host). While the database applies
		 * backpressure nothing is read, so silence means nothing then. */
		if (c->agent == 0 && !c->busy && now - c->created_ns > HANDSHAKE_DEADLINE_NS) {
			s->m.rejected_peers++;
			log_warn("agents", "%s: %s", c->addr, L("握手超时，断开",
				"no handshake within the deadline; closing"));
			conn_close(s, c);
			continue;
		}
		if (c->agent != 0 && !s->paused && now - c->last_rx_ns > s->o->lost_after_ns) {
			struct agent_mem *am = agent_mem_get(s, c->agent);

			log_warn("agents", "agent %lld: %s", (long long)c->agent,
				L("长时间无数据，断开", "silent for too long; closing"));
			conn_close(s, c);
			if (am != NULL)
				am->gone_since_ns = now - s->o->lost_after_ns;	/* lost now */
		}
	}
	free(t.conns);

	t.agents = xcalloc(s->agents.used + 1, sizeof(*t.agents));
	bmap_each(&s->agents, tick_collect_agent, &t);
	for (size_t i = 0; i < t.nagents; i++) {
		struct agent_mem *am = t.agents[i];
		struct conn *c = am->conn != 0 ? conn_get(s, am->conn) : NULL;

		if (c != NULL && now >= am->next_heartbeat_ns) {
			int n = snprintf(hb, sizeof(hb), "{\"time_ns\":%lld}",
				(long long)now_realtime_ns());
			struct buf f;

			buf_init(&f, 256);
			if (wire_put_json(&f, WIRE_HEARTBEAT, hb, (size_t)n) == 0)
				conn_send(s, c, f.data, f.len);
			buf_release(&f);
			conn_update_events(s, c);
			am->next_heartbeat_ns = now + s->o->heartbeat_ns;
		}
		if (c == NULL && am->online && am->rec.state != AGENT_REVOKED &&
			now - am->gone_since_ns >= s->o->lost_after_ns) {
			char detail[128];

			am->online = false;
			am->rec.state = AGENT_LOST;
			s->m.lost_total++;
			snprintf(detail, sizeof(detail), "no contact for %lld s",
				(long long)((now - am->gone_since_ns) / 1000000000));
			job_add_update(server_pending(s), am->rec.id, AGENT_LOST, now_realtime_ns(),
				am->rec.backlog, NULL);
			server_event(s, "agent_lost", am->rec.id, detail);
			log_warn("agents", "agent %lld (%s): %s", (long long)am->rec.id, am->rec.name,
				L("失联", "lost"));
		}
	}
	free(t.agents);
}
