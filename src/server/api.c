/*
 * api.c - the HTTP API (/api/v1/...) and /metrics, on the network thread.
 * Every request needs "Authorization: Bearer <admin token>". Reads go to the
 * read-only database connection; writes are engine jobs, and the request
 * waits (parked, reading nothing more) until the job is done. A GET of events
 * with wait=N is a long poll: parked until events are committed or N s pass.
 * So is a GET of alerts with wait=N; its filter waits in alert_waits (the
 * connection parked as a command with id 0, which no command has), and is
 * tried again after each commit.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>

#include "core/i18n.h"
#include "core/json.h"
#include "core/json_check.h"
#include "core/json_get.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "proto/token.h"
#include "server/http/http.h"
#include "server/incidents.h"
#include "server/responses.h"
#include "server/server_int.h"
#include "tls/sha256.h"
#include "core/banned.h"

#define EVENTS_LIMIT_DEFAULT	100
#define EVENTS_LIMIT_MAX	10000
#define EVENTS_BYTES_MAX	(16u << 20)	/* one page; the cursor goes on */
#define WAIT_MAX_S		60
#define COMMAND_TIMEOUT_S	30

struct command_wait {
	struct command_wait	*next;
	uint64_t		 id, conn;
	int64_t			 agent;
	int64_t			 deadline;
};
static struct command_wait *command_waits;

#define ALERT_LEVEL_MAX	16
#define ALERT_RULE_MAX	128

struct alert_wait {
	struct alert_wait	*next;
	uint64_t		 conn;
	int64_t			 deadline;
	struct db_alert_filter	 f;
	char			 level[ALERT_LEVEL_MAX], rule[ALERT_RULE_MAX];
};
static struct alert_wait *alert_waits;

static void
respond(struct server *s, struct conn *c, int status, const char *ctype, const char *body,
	size_t len)
{
	struct buf out;

	buf_init(&out, HTTP_OUT_MAX);
	if (http_response(&out, status, ctype, body, len, c->keep_alive) == 0)
		conn_send(s, c, out.data, out.len);
	buf_release(&out);
	if (!c->keep_alive)
		c->closing = true;
	c->park = PARK_NONE;
	c->last_rx_ns = now_monotonic_ns();
	conn_update_events(s, c);
}

static void
respond_json(struct server *s, struct conn *c, int status, const struct buf *b)
{
	respond(s, c, status, "application/json; charset=utf-8", b->data, b->len);
}

static void
respond_error(struct server *s, struct conn *c, int status, const char *code, const char *msg)
{
	struct buf b;
	struct json j;

	buf_init(&b, 4096);
	json_begin(&j, &b);
	json_key_str(&j, "error", code);
	json_key_str(&j, "message", msg);
	(void)json_end(&j);
	(void)buf_putc(&b, '\n');
	respond_json(s, c, status, &b);
	buf_release(&b);
}

/* Constant time: the comparison must not tell how much of a guess was right. */
static bool
authorized(struct server *s, const struct http_request *req)
{
	const char *want = s->dd.admin_token;
	size_t wl = strlen(want);
	unsigned char diff = 0;

	if (req->authorization == NULL || req->authorization_len != 7 + wl ||
		strncmp(req->authorization, "Bearer ", 7) != 0)
		return false;
	for (size_t i = 0; i < wl; i++)
		diff |= (unsigned char)(req->authorization[7 + i] ^ want[i]);
	return diff == 0;
}

static bool
path_is(const struct http_request *req, const char *p)
{
	return req->path_len == strlen(p) && memcmp(req->path, p, req->path_len) == 0;
}

/* "<prefix><id><suffix>" */
static bool
path_id(const struct http_request *req, const char *prefix, const char *suffix, int64_t *ret_id)
{
	size_t pl = strlen(prefix), sl = strlen(suffix), i;
	int64_t id = 0;

	if (req->path_len <= pl + sl || memcmp(req->path, prefix, pl) != 0 ||
		memcmp(req->path + req->path_len - sl, suffix, sl) != 0)
		return false;
	for (i = pl; i < req->path_len - sl; i++) {
		if (req->path[i] < '0' || req->path[i] > '9' || id > INT64_MAX / 10 - 10)
			return false;
		id = id * 10 + (req->path[i] - '0');
	}
	if (i == pl || id <= 0)
		return false;
	*ret_id = id;
	return true;
}

/* "/api/v1/agents/<id><suffix>" */
static bool
path_agent(const struct http_request *req, const char *suffix, int64_t *ret_id)
{
	return path_id(req, "/api/v1/agents/", suffix, ret_id);
}

/* An integer query parameter within [lo, hi]; -ENOENT when absent. */
static int
query_i64(const struct http_request *req, const char *key, int64_t lo, int64_t hi, int64_t *ret)
{
	struct buf v;
	char *end;
	long long n;
	int r;

	buf_init(&v, 64);
	r = http_query_get(req->query, req->query_len, key, &v);
	if (r < 0)
		goto out;
	errno = 0;
	n = strtoll(v.data, &end, 10);
	if (v.len == 0 || *end != '\0' || errno != 0 || n < lo || n > hi) {
		r = -EINVAL;
		goto out;
	}
	*ret = n;
out:
	buf_release(&v);
	return r;
}

/* RFC 3339 ("2026-11-22T10:00:00+08:00", fraction allowed; years 1970-2261,
 * what int64 nanoseconds hold) or UTC ns. */
static int
parse_time(const char *s, int64_t *ret)
{
	int y, mo, d, h, mi, sec, n = 0, tzh = 0, tzm = 0;
	int64_t frac = 0, scale = 100000000;
	struct tm tm = { 0 };
	const char *p;
	char *end;
	time_t t;

	if (s[0] >= '0' && s[0] <= '9' && strchr(s, '-') == NULL) {
		long long v;

		errno = 0;
		v = strtoll(s, &end, 10);
		if (*end != '\0' || errno != 0 || v < 0)
			return -EINVAL;
		*ret = v;
		return 0;
	}
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n != 19)
		return -EINVAL;
	p = s + n;
	if (*p == '.') {
		for (p++; *p >= '0' && *p <= '9'; p++) {
			frac += (*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1;

		if (sscanf(p + 1, "%2d:%2d%n", &tzh, &tzm, &n) != 2 || n != 5)
			return -EINVAL;
		tzh *= sign;
		tzm *= sign;
		p += 6;
	} else {
		return -EINVAL;
	}
	if (*p != '\0' || y < 1970 || y > 2261 || mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 ||
		mi > 59 || sec > 60)
		return -EINVAL;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	t = timegm(&tm);
	*ret = ((int64_t)t - tzh * 3600 - tzm * 60) * 1000000000 + frac;
	return 0;
}

static const char *
lane_name(int lane)
{
	return lane == WIRE_LANE_URGENT ? "urgent" : lane == WIRE_LANE_BULK ? "bulk" : "server";
}

struct render {
	struct buf	*out;
	int64_t		 last_id;
	unsigned	 n;
};

/* {"id","agent","seq","lane","received", then the agent's own fields}. */
static int
render_event(const struct db_event *row, void *data)
{
	struct render *rd = data;
	char t[48];
	int r;

	time_format_local(row->received_ns, t, sizeof(t));
	if (rd->n > 0)
		(void)buf_putc(rd->out, ',');
	r = buf_appendf(rd->out, "{\"id\":%lld,\"agent\":%lld,", (long long)row->id,
		(long long)row->agent);
	if (row->lane >= 0)
		r = r ?: buf_appendf(rd->out, "\"seq\":%" PRIu64 ",", row->seq);
	else
		r = r ?: buf_puts(rd->out, "\"seq\":null,");
	r = r ?: buf_appendf(rd->out, "\"lane\":\"%s\",\"received\":\"%s\"", lane_name(row->lane), t);
	/* The body is a checked object: splice its members in. */
	if (row->body_len > 2)
		r = r ?: buf_putc(rd->out, ',');
	r = r ?: buf_append(rd->out, row->body + 1, row->body_len - 1);
	if (r < 0)
		return r;
	rd->last_id = row->id;
	rd->n++;
	return rd->out->len > EVENTS_BYTES_MAX ? 1 : 0;
}

/* Runs the events query of c (its filter) and answers; returns the count. */
static unsigned
events_answer(struct server *s, struct conn *c, bool always)
{
	struct buf out;
	struct render rd = { .out = &out, .last_id = c->park_filter.after_id };
	size_t start;
	int r;

	buf_init(&out, EVENTS_BYTES_MAX + WIRE_MAX_FRAME * 3);
	(void)buf_puts(&out, "{\"events\":[");
	start = out.len;
	r = db_events_query(s->reader, &c->park_filter, render_event, &rd);
	if (r < 0) {
		buf_release(&out);
		respond_error(s, c, 500, "store", db_errmsg(s->reader));
		return 1;
	}
	if (rd.n == 0 && !always) {
		buf_release(&out);
		return 0;
	}
	(void)start;
	(void)buf_appendf(&out, "],\"next\":%lld}\n", (long long)rd.last_id);
	respond_json(s, c, 200, &out);
	buf_release(&out);
	return rd.n ? rd.n : 1;
}

static void
get_events(struct server *s, struct conn *c, const struct http_request *req)
{
	struct db_event_filter *f = &c->park_filter;
	struct buf v;
	int64_t n, wait = 0;
	int r;

	memset(f, 0, sizeof(*f));
	f->limit = EVENTS_LIMIT_DEFAULT;
	buf_init(&v, 128);
	if ((r = query_i64(req, "after", 0, INT64_MAX, &f->after_id)) < 0 && r != -ENOENT)
		goto bad;
	if ((r = query_i64(req, "agent", 1, INT64_MAX, &f->agent)) < 0 && r != -ENOENT)
		goto bad;
	if ((r = query_i64(req, "limit", 1, EVENTS_LIMIT_MAX, &n)) == 0)
		f->limit = (unsigned)n;
	else if (r != -ENOENT)
		goto bad;
	if ((r = query_i64(req, "wait", 0, WAIT_MAX_S, &wait)) < 0 && r != -ENOENT)
		goto bad;
	r = http_query_get(req->query, req->query_len, "since", &v);
	if (r == 0 && (r = parse_time(v.data, &f->since_ns)) < 0)
		goto bad;
	r = http_query_get(req->query, req->query_len, "until", &v);
	if (r == 0 && (r = parse_time(v.data, &f->until_ns)) < 0)
		goto bad;
	r = http_query_get(req->query, req->query_len, "type", &v);
	if (r == 0) {
		if (v.len == 0 || v.len >= sizeof(c->park_type)) {
			r = -EINVAL;
			goto bad;
		}
		memcpy(c->park_type, v.data, v.len + 1);
		f->type = c->park_type;
	} else if (r != -ENOENT) {
		goto bad;
	}
	buf_release(&v);
	if (events_answer(s, c, wait == 0) > 0)
		return;
	c->park = PARK_EVENTS;
	c->park_deadline_ns = now_monotonic_ns() + wait * 1000000000;
	conn_update_events(s, c);
	return;
bad:
	buf_release(&v);
	respond_error(s, c, 400, "bad_request", L("查询参数无效", "bad query parameter"));
}

/* ---- alerts ---- */

/* {"id","rule_id","title","level","agent","event_id","time","time_ns",
 * "received","count","correlation","continued","group","matched":{field:value},"line"} */
static int
render_alert(const struct db_alert *row, void *data)
{
	struct render *rd = data;
	struct json j;
	struct buf one;
	char t[48];
	int r;

	buf_init(&one, EVENTS_BYTES_MAX);
	json_begin(&j, &one);
	json_key_i64(&j, "id", row->id);
	json_key_str(&j, "rule_id", row->rule_id);
	json_key_str(&j, "title", row->title);
	json_key_str(&j, "level", row->level);
	json_key_i64(&j, "agent", row->agent);
	if (row->event_id != 0)
		json_key_i64(&j, "event_id", row->event_id);
	else
		json_key_null(&j, "event_id");
	time_format_local(row->time_ns, t, sizeof(t));
	json_key_str(&j, "time", t);
	json_key_i64(&j, "time_ns", row->time_ns);
	time_format_local(row->received_ns, t, sizeof(t));
	json_key_str(&j, "received", t);
	json_key_u64(&j, "count", row->count);
	json_key_bool(&j, "correlation", row->correlation);
	json_key_bool(&j, "continued", row->continued);
	if (row->group != NULL)
		json_key_str(&j, "group", row->group);
	else
		json_key_null(&j, "group");
	/* "name=value" lines (cut at the first '=') as an object. */
	json_key_object(&j, "matched");
	for (const char *p = row->matched != NULL ? row->matched : ""; *p != '\0';) {
		const char *nl = strchr(p, '\n');
		size_t n = nl != NULL ? (size_t)(nl - p) : strlen(p);
		const char *eq = memchr(p, '=', n);

		if (eq != NULL && eq > p && (size_t)(eq - p) < 128) {
			char key[128];

			memcpy(key, p, (size_t)(eq - p));
			key[eq - p] = '\0';
			json_key_strn(&j, key, eq + 1, n - (size_t)(eq - p) - 1);
		}
		p += n;
		if (*p == '\n')
			p++;
	}
	json_close(&j);
	if (row->line != NULL)
		json_key_str(&j, "line", row->line);
	else
		json_key_null(&j, "line");
	r = json_end(&j);
	if (rd->n > 0)
		r = r ?: buf_putc(rd->out, ',');
	r = r ?: buf_append(rd->out, one.data, one.len);
	buf_release(&one);
	if (r < 0)
		return r;
	rd->last_id = row->id;
	rd->n++;
	return rd->out->len > EVENTS_BYTES_MAX ? 1 : 0;
}

/* Runs an alerts query and answers; returns the count (1 when it answered
 * with none or an error, 0 when it did not answer). */
static unsigned
alerts_answer(struct server *s, struct conn *c, const struct db_alert_filter *f, bool always)
{
	struct buf out;
	struct render rd = { .out = &out, .last_id = f->after_id };
	int r;

	buf_init(&out, EVENTS_BYTES_MAX * 2);
	(void)buf_puts(&out, "{\"alerts\":[");
	r = db_alerts_query(s->reader, f, render_alert, &rd);
	if (r < 0) {
		buf_release(&out);
		respond_error(s, c, 500, "store", db_errmsg(s->reader));
		return 1;
	}
	if (rd.n == 0 && !always) {
		buf_release(&out);
		return 0;
	}
	(void)buf_appendf(&out, "],\"next\":%lld}\n", (long long)rd.last_id);
	respond_json(s, c, 200, &out);
	buf_release(&out);
	return rd.n ? rd.n : 1;
}

static bool
level_known(const char *l)
{
	static const char *const names[] = { "informational", "low", "medium", "high",
		"critical" };

	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(l, names[i]) == 0)
			return true;
	return false;
}

static void
get_alerts(struct server *s, struct conn *c, const struct http_request *req)
{
	struct alert_wait *w = xcalloc(1, sizeof(*w));
	struct db_alert_filter *f = &w->f;
	struct buf v;
	int64_t n, wait = 0;
	int r;

	f->limit = EVENTS_LIMIT_DEFAULT;
	buf_init(&v, ALERT_RULE_MAX);
	if ((r = query_i64(req, "after", 0, INT64_MAX, &f->after_id)) < 0 && r != -ENOENT)
		goto bad;
	if ((r = query_i64(req, "agent", 1, INT64_MAX, &f->agent)) < 0 && r != -ENOENT)
		goto bad;
	if ((r = query_i64(req, "limit", 1, EVENTS_LIMIT_MAX, &n)) == 0)
		f->limit = (unsigned)n;
	else if (r != -ENOENT)
		goto bad;
	if ((r = query_i64(req, "wait", 0, WAIT_MAX_S, &wait)) < 0 && r != -ENOENT)
		goto bad;
	r = http_query_get(req->query, req->query_len, "level", &v);
	if (r == 0) {
		if (v.len >= sizeof(w->level) || !level_known(v.data))
			goto bad;
		memcpy(w->level, v.data, v.len + 1);
		f->level = w->level;
	} else if (r != -ENOENT) {
		goto bad;
	}
	r = http_query_get(req->query, req->query_len, "rule", &v);
	if (r == 0) {
		if (v.len == 0 || v.len >= sizeof(w->rule) || memchr(v.data, '\0', v.len) != NULL)
			goto bad;
		memcpy(w->rule, v.data, v.len + 1);
		f->rule_id = w->rule;
	} else if (r != -ENOENT) {
		goto bad;
	}
	buf_release(&v);
	if (alerts_answer(s, c, f, wait == 0) > 0) {
		free(w);
		return;
	}
	w->conn = c->id;
	w->deadline = now_monotonic_ns() + wait * 1000000000;
	w->next = alert_waits;
	alert_waits = w;
	c->park = PARK_COMMAND;
	c->park_cmd = 0;
	conn_update_events(s, c);
	return;
bad:
	buf_release(&v);
	free(w);
	respond_error(s, c, 400, "bad_request", L("查询参数无效", "bad query parameter"));
}

/* Answers the parked alert requests that have something (or whose time is
 * up: now_mono >= deadline; now_mono 0: only those with alerts), forgetting
 * those whose connection went. */
static void
alerts_wake(struct server *s, int64_t now_mono)
{
	struct alert_wait **pw = &alert_waits, *w;

	while ((w = *pw) != NULL) {
		struct conn *c = conn_get(s, w->conn);
		bool done;

		if (c == NULL || c->closing || c->park != PARK_COMMAND || c->park_cmd != 0)
			done = true;
		else if (now_mono != 0 && now_mono >= w->deadline)
			done = alerts_answer(s, c, &w->f, true) > 0;
		else
			done = alerts_answer(s, c, &w->f, false) > 0;
		if (done) {
			*pw = w->next;
			free(w);
		} else {
			pw = &w->next;
		}
	}
}

struct agents_ctx {
	struct server	*s;
	struct agent_mem **list;
	size_t		 n;
};

static void
collect_agent(void *value, void *data)
{
	struct agents_ctx *a = data;

	a->list[a->n++] = value;
}

static int
agent_cmp(const void *x, const void *y)
{
	const struct agent_mem *a = *(struct agent_mem *const *)x, *b = *(struct agent_mem *const *)y;

	return a->rec.id < b->rec.id ? -1 : a->rec.id > b->rec.id;
}

static const char *
agent_state_now(const struct agent_mem *am)
{
	if (am->rec.state == AGENT_REVOKED)
		return "revoked";
	return am->conn != 0 ? "connected" : am->online ? "connected" : "lost";
}

static void
render_agent(struct json *j, const struct agent_mem *am)
{
	char t[48];

	json_key_i64(j, "id", am->rec.id);
	json_key_str(j, "name", am->rec.name);
	json_key_str(j, "state", agent_state_now(am));
	json_key_bool(j, "online", am->conn != 0);
	json_key_str(j, "addr", am->rec.addr);
	time_format_local(am->rec.enrolled_ns, t, sizeof(t));
	json_key_str(j, "enrolled", t);
	if (am->rec.last_seen_ns != 0) {
		time_format_local(am->rec.last_seen_ns, t, sizeof(t));
		json_key_str(j, "last_seen", t);
	} else {
		json_key_null(j, "last_seen");
	}
	json_key_u64(j, "backlog", am->rec.backlog);
	json_key_u64(j, "acked_urgent", am->committed[WIRE_LANE_URGENT]);
	json_key_u64(j, "acked_bulk", am->committed[WIRE_LANE_BULK]);
}

static struct agent_mem **
agents_sorted(struct server *s, size_t *ret_n)
{
	struct agents_ctx a = { .s = s };

	a.list = xcalloc(s->agents.used + 1, sizeof(*a.list));
	bmap_each(&s->agents, collect_agent, &a);
	qsort(a.list, a.n, sizeof(*a.list), agent_cmp);
	*ret_n = a.n;
	return a.list;
}

static void
get_agents(struct server *s, struct conn *c)
{
	struct agent_mem **list;
	struct buf b;
	struct json j;
	size_t n;

	list = agents_sorted(s, &n);
	buf_init(&b, HTTP_OUT_MAX);
	json_begin(&j, &b);
	json_key_array(&j, "agents");
	for (size_t i = 0; i < n; i++) {
		json_array_object(&j);
		render_agent(&j, list[i]);
		json_close(&j);
	}
	(void)json_end(&j);
	(void)buf_putc(&b, '\n');
	respond_json(s, c, 200, &b);
	buf_release(&b);
	free(list);
}

static void
count_states(struct server *s, uint64_t counts[3], uint64_t *ret_backlog)
{
	struct agent_mem **list;
	size_t n;

	list = agents_sorted(s, &n);
	counts[0] = counts[1] = counts[2] = 0;
	*ret_backlog = 0;
	for (size_t i = 0; i < n; i++) {
		const char *st = agent_state_now(list[i]);

		counts[strcmp(st, "connected") == 0 ? 0 : strcmp(st, "lost") == 0 ? 1 : 2]++;
		*ret_backlog += list[i]->rec.backlog;
	}
	free(list);
}

static void
get_status(struct server *s, struct conn *c)
{
	uint64_t counts[3], backlog, alerts;
	size_t rules, corrs;
	struct buf b;
	struct json j;
	char t[48];
	int err = engine_error(s->engine);

	count_states(s, counts, &backlog);
	buf_init(&b, 64 * 1024);
	json_begin(&j, &b);
	json_key_str(&j, "version", YINGJI_VERSION);
	time_format_local(s->started_ns, t, sizeof(t));
	json_key_str(&j, "started", t);
	json_key_i64(&j, "uptime_s", (now_realtime_ns() - s->started_ns) / 1000000000);
	json_key_str(&j, "http", s->http_addr);
	json_key_str(&j, "agents_listen", s->agents_addr);
	json_key_object(&j, "agents");
	json_key_u64(&j, "total", counts[0] + counts[1] + counts[2]);
	json_key_u64(&j, "connected", counts[0]);
	json_key_u64(&j, "lost", counts[1]);
	json_key_u64(&j, "revoked", counts[2]);
	json_key_u64(&j, "backlog", backlog);
	json_close(&j);
	json_key_object(&j, "events");
	json_key_u64(&j, "received", s->m.received);
	json_key_u64(&j, "stored", s->m.stored);
	json_key_u64(&j, "duplicates", s->m.duplicates);
	json_key_u64(&j, "invalid", s->m.invalid);
	json_key_i64(&j, "last_id", db_events_max_id(s->reader));
	json_close(&j);
	json_key_object(&j, "store");
	if (err != 0)
		json_key_str(&j, "error", strerror(-err));
	else
		json_key_null(&j, "error");
	json_key_u64(&j, "queued_bytes", engine_queued_bytes(s->engine));
	json_key_bool(&j, "backpressure", s->paused);
	json_close(&j);
	if (engine_detection(s->engine, &rules, &corrs)) {
		json_key_object(&j, "detection");
		json_key_u64(&j, "rules", rules);
		json_key_u64(&j, "correlations", corrs);
		if (db_alerts_count(s->reader, &alerts) < 0)
			alerts = 0;
		json_key_u64(&j, "alerts", alerts);
		json_close(&j);
	} else {
		json_key_null(&j, "detection");
	}
	(void)json_end(&j);
	(void)buf_putc(&b, '\n');
	respond_json(s, c, 200, &b);
	buf_release(&b);
}

static void
get_metrics(struct server *s, struct conn *c)
{
	uint64_t counts[3], backlog, alerts;
	struct agent_mem **list;
	struct buf b;
	size_t n;

	count_states(s, counts, &backlog);
	buf_init(&b, HTTP_OUT_MAX);
	(void)buf_appendf(&b,
		"# HELP yingji_events_received_total Event frames received from agents.\n"
		"# TYPE yingji_events_received_total counter\n"
		"yingji_events_received_total %" PRIu64 "\n"
		"# HELP yingji_events_stored_total Events committed to the database.\n"
		"# TYPE yingji_events_stored_total counter\n"
		"yingji_events_stored_total %" PRIu64 "\n"
		"# HELP yingji_events_duplicate_total Events received again and not stored twice.\n"
		"# TYPE yingji_events_duplicate_total counter\n"
		"yingji_events_duplicate_total %" PRIu64 "\n"
		"# HELP yingji_events_invalid_total Malformed events (stored with the reason).\n"
		"# TYPE yingji_events_invalid_total counter\n"
		"yingji_events_invalid_total %" PRIu64 "\n"
		"# HELP yingji_agents_connected Agents connected now.\n"
		"# TYPE yingji_agents_connected gauge\n"
		"yingji_agents_connected %" PRIu64 "\n"
		"# HELP yingji_agents_lost Agents silent for longer than lost_after.\n"
		"# TYPE yingji_agents_lost gauge\n"
		"yingji_agents_lost %" PRIu64 "\n"
		"# HELP yingji_agents_revoked Revoked agents.\n"
		"# TYPE yingji_agents_revoked gauge\n"
		"yingji_agents_revoked %" PRIu64 "\n"
		"# HELP yingji_agents_lost_total Times an agent became lost.\n"
		"# TYPE yingji_agents_lost_total counter\n"
		"yingji_agents_lost_total %" PRIu64 "\n"
		"# HELP yingji_ingest_queue_bytes Events waiting for the database.\n"
		"# TYPE yingji_ingest_queue_bytes gauge\n"
		"yingji_ingest_queue_bytes %" PRIu64 "\n"
		"# HELP yingji_store_commits_total Database transactions committed.\n"
		"# TYPE yingji_store_commits_total counter\n"
		"yingji_store_commits_total %" PRIu64 "\n"
		"# HELP yingji_store_failing 1 while commits fail (disk full...).\n"
		"# TYPE yingji_store_failing gauge\n"
		"yingji_store_failing %d\n",
		s->m.received, s->m.stored, s->m.duplicates, s->m.invalid, counts[0], counts[1],
		counts[2], s->m.lost_total, engine_queued_bytes(s->engine), engine_commits(s->engine),
		engine_error(s->engine) != 0);
	if (db_alerts_count(s->reader, &alerts) < 0)
		alerts = 0;
	(void)buf_appendf(&b,
		"# HELP yingji_alerts_total Alerts the detector raised and stored.\n"
		"# TYPE yingji_alerts_total counter\n"
		"yingji_alerts_total %" PRIu64 "\n", alerts);
	(void)buf_puts(&b, "# HELP yingji_agent_backlog Events an agent holds that the server has "
		"not acknowledged.\n# TYPE yingji_agent_backlog gauge\n");
	list = agents_sorted(s, &n);
	for (size_t i = 0; i < n; i++)
		(void)buf_appendf(&b, "yingji_agent_backlog{agent=\"%lld\"} %" PRIu64 "\n",
			(long long)list[i]->rec.id, list[i]->rec.backlog);
	free(list);
	respond(s, c, 200, "text/plain; version=0.0.4; charset=utf-8", b.data, b.len);
	buf_release(&b);
}

static void
post_token(struct server *s, struct conn *c, const struct http_request *req)
{
	uint8_t secret[TOKEN_SECRET_LEN];
	int64_t ttl = s->o->token_ttl_ns;
	struct buf v;
	struct job *job;

	buf_init(&v, 64);
	if (http_query_get(req->query, req->query_len, "ttl", &v) == 0 ||
		(req->body != NULL && json_get_str(req->body, req->body_len, "ttl", &v) == 0)) {
		if (duration_parse(v.data, &ttl) < 0 || ttl <= 0 ||
			ttl > 30ll * 86400 * 1000000000) {
			buf_release(&v);
			respond_error(s, c, 400, "bad_request",
				L("有效期无效（如 30m、1h，最长 30d）", "bad ttl (e.g. 30m, 1h; at most 30d)"));
			return;
		}
	}
	buf_release(&v);
	if (getrandom(secret, sizeof(secret), 0) != (ssize_t)sizeof(secret)) {
		respond_error(s, c, 500, "random", "getrandom failed");
		return;
	}
	job = job_new(JOB_TOKEN, c->id);
	token_format(s->dd.server_fp, secret, job->token);
	sha256_buf(secret, sizeof(secret), job->token_hash);
	explicit_bzero(secret, sizeof(secret));
	job->expires_ns = now_realtime_ns() + ttl;
	c->park = PARK_JOB;
	conn_update_events(s, c);
	engine_submit(s->engine, job);
}

static void
post_revoke(struct server *s, struct conn *c, int64_t id)
{
	struct job *job;

	if (agent_mem_get(s, id) == NULL) {
		respond_error(s, c, 404, "not_found", L("没有这个代理", "no such agent"));
		return;
	}
	job = job_new(JOB_REVOKE, c->id);
	job->agent = id;
	c->park = PARK_JOB;
	conn_update_events(s, c);
	engine_submit(s->engine, job);
}

static void post_command_raw(struct server *s, struct conn *c, int64_t id, const char *body,
	size_t len, int64_t timeout);

static void
post_command(struct server *s, struct conn *c, const struct http_request *req, int64_t id)
{
	struct buf cmd;
	int64_t timeout = COMMAND_TIMEOUT_S;
	int r;

	buf_init(&cmd, 64);
	if (req->body == NULL || json_get_str(req->body, req->body_len, "command", &cmd) < 0 ||
		cmd.len == 0) {
		buf_release(&cmd);
		respond_error(s, c, 400, "bad_request", L("需要 {\"command\":...}",
			"needs {\"command\":...}"));
		return;
	}
	buf_release(&cmd);
	r = query_i64(req, "timeout", 1, 600, &timeout);
	if (r < 0 && r != -ENOENT) {
		respond_error(s, c, 400, "bad_request", "bad timeout");
		return;
	}
	post_command_raw(s, c, id, req->body, req->body_len, timeout);
}

/* Send a command (checked JSON) and park c until its result or timeout_s. */
static void
post_command_raw(struct server *s, struct conn *c, int64_t id, const char *body, size_t len,
	int64_t timeout)
{
	struct command_wait *w;
	int r;

	if (agent_mem_get(s, id) == NULL) {
		respond_error(s, c, 404, "not_found", L("没有这个代理", "no such agent"));
		return;
	}
	r = agent_channel_send_command(s, id, s->next_cmd_id, body, len);
	if (r < 0) {
		respond_error(s, c, 409, "not_connected", L("代理当前未连接", "the agent is not connected"));
		return;
	}
	w = xcalloc(1, sizeof(*w));
	w->id = s->next_cmd_id++;
	w->conn = c->id;
	w->agent = id;
	w->deadline = now_monotonic_ns() + timeout * 1000000000;
	w->next = command_waits;
	command_waits = w;
	c->park = PARK_COMMAND;
	c->park_cmd = w->id;
	conn_update_events(s, c);
}

/* ---- incidents (incidents.h; the plan's steps are engine jobs) ---- */

static void
get_incidents(struct server *s, struct conn *c, const struct http_request *req)
{
	struct buf b;
	int64_t after = 0, limit = 1000, open = 0;
	int r;

	if (((r = query_i64(req, "after", 0, INT64_MAX, &after)) < 0 && r != -ENOENT) ||
		((r = query_i64(req, "limit", 1, EVENTS_LIMIT_MAX, &limit)) < 0 && r != -ENOENT) ||
		((r = query_i64(req, "open", 0, 1, &open)) < 0 && r != -ENOENT)) {
		respond_error(s, c, 400, "bad_request", "after, limit (1..10000), open (0|1)");
		return;
	}
	buf_init(&b, EVENTS_BYTES_MAX);
	r = incident_list_json(s->reader, s->plan, after, (unsigned)limit, open != 0, &b);
	if (r < 0)
		respond_error(s, c, 503, "store", strerror(-r));
	else
		respond(s, c, 200, "application/x-ndjson; charset=utf-8", b.data, b.len);
	buf_release(&b);
}

static void
get_incident(struct server *s, struct conn *c, int64_t id)
{
	struct buf b;
	int r;

	buf_init(&b, EVENTS_BYTES_MAX);
	r = incident_doc_json(s->reader, s->plan, id, &b);
	if (r == -ENOENT)
		respond_error(s, c, 404, "not_found", L("没有这个事件", "no such incident"));
	else if (r < 0)
		respond_error(s, c, 503, "store", strerror(-r));
	else {
		(void)buf_putc(&b, '\n');
		respond_json(s, c, 200, &b);
	}
	buf_release(&b);
}

/* POST /api/v1/incidents/ID with {"action":...,"actor":...}: the id in the
 * path wins over any in the body. */
static void
post_incident(struct server *s, struct conn *c, const struct http_request *req, int64_t id)
{
	struct job *job;
	struct buf body;

	if (s->plan == NULL) {
		respond_error(s, c, 409, "no_plan", L("服务端未加载预案（yingji serve --plan FILE）",
			"the server runs without a plan (yingji serve --plan FILE)"));
		return;
	}
	if (req->body == NULL || req->body_len < 2 || req->body[0] != '{') {
		respond_error(s, c, 400, "bad_request", L("请求体须为 JSON 对象", "the body must be a JSON object"));
		return;
	}
	buf_init(&body, HTTP_MAX_BODY_DEFAULT + 64);
	(void)buf_appendf(&body, "{\"id\":%lld,", (long long)id);
	(void)buf_append(&body, req->body + 1, req->body_len - 1);
	job = job_new(JOB_INCIDENT, c->id);
	job->request = body.data;
	job->request_len = body.len;
	body.data = NULL;	/* handed over (buf_release would free it) */
	c->park = PARK_JOB;
	conn_update_events(s, c);
	engine_submit(s->engine, job);
}

/* ---- first-response actions (responses.h) ---- */

static bool
resp_was_sent(struct agent_mem *am, uint64_t key)
{
	for (size_t i = 0; i < am->nresp_sent; i++)
		if (am->resp_sent[i] == key)
			return true;
	return false;
}

void
api_responses_dispatch(struct server *s, int64_t agent, bool reconnected)
{
	struct agent_mem *am;
	struct buf b, req;
	const char *p, *nl;
	int r;

	if (reconnected && (am = agent_mem_get(s, agent)) != NULL)
		am->nresp_sent = 0;
	buf_init(&b, 64u << 20);
	buf_init(&req, WIRE_MAX_FRAME);
	r = responses_open_json(s->reader, agent, &b);
	if (r < 0)
		log_warn("respond", "%s: %s", L("无法读取待下发的处置动作", "cannot read open responses"),
			strerror(-r));
	for (p = b.data; r == 0 && p < b.data + b.len; p = nl + 1) {
		int64_t id = 0, ag = 0;
		const char *raw;
		size_t rawlen;
		uint64_t key;

		nl = memchr(p, '\n', (size_t)(b.data + b.len - p));
		if (nl == NULL)
			break;
		if (json_get_i64(p, (size_t)(nl - p), "id", &id) < 0 ||
			json_get_i64(p, (size_t)(nl - p), "agent", &ag) < 0 ||
			json_get_raw(p, (size_t)(nl - p), "request", &raw, &rawlen) < 0)
			continue;
		am = agent_mem_get(s, ag);
		if (am == NULL || am->conn == 0)
			continue;	/* offline: it waits, and goes when the agent connects */
		key = (uint64_t)id * 2 + (memmem(raw, rawlen, "\"op\":\"undo\"", 11) != NULL);
		if (resp_was_sent(am, key))
			continue;
		if (agent_channel_send_command(s, ag, RESPONSE_CMD_FLAG | (uint64_t)id, raw,
			rawlen) < 0)
			continue;
		if (am->nresp_sent == am->resp_sent_cap) {
			am->resp_sent_cap = am->resp_sent_cap ? 2 * am->resp_sent_cap : 16;
			am->resp_sent = xrealloc(am->resp_sent, am->resp_sent_cap * sizeof(uint64_t));
		}
		am->resp_sent[am->nresp_sent++] = key;
	}
	buf_release(&req);
	buf_release(&b);
}

/* The centre's address as the agent reaches it: no block may cover it. */
static void
agent_server_addr(struct server *s, int64_t agent, char *out, size_t size)
{
	struct agent_mem *am = agent_mem_get(s, agent);
	struct conn *c = am != NULL && am->conn != 0 ? conn_get(s, am->conn) : NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);

	out[0] = '\0';
	if (c == NULL || getsockname(c->fd, (struct sockaddr *)&ss, &sl) < 0)
		return;
	if (ss.ss_family == AF_INET)
		inet_ntop(AF_INET, &((struct sockaddr_in *)&ss)->sin_addr, out, (socklen_t)size);
	else if (ss.ss_family == AF_INET6)
		inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&ss)->sin6_addr, out, (socklen_t)size);
}

static void
submit_response_job(struct server *s, struct conn *c, const char *body, size_t len)
{
	struct job *job = job_new(JOB_RESPONSE, c != NULL ? c->id : 0);

	job->request = xstrndup(body, len);
	job->request_len = len;
	if (c != NULL) {
		c->park = PARK_JOB;
		conn_update_events(s, c);
	}
	engine_submit(s->engine, job);
}

/* POST /api/v1/responses {"action","agent",target...,"for","dry_run","actor"}.
 * A dry run goes to the agent as it is and comes back with exactly what it
 * would run; anything else is recorded first (the engine), then sent. */
static void
post_response(struct server *s, struct conn *c, const struct http_request *req)
{
	struct buf body;
	const char *v;
	size_t vl;
	int64_t agent = 0;
	char addr[64];

	if (req->body == NULL || req->body_len < 2 || req->body[0] != '{' ||
		json_check_object(req->body, req->body_len, 8, NULL) < 0) {
		respond_error(s, c, 400, "bad_request", L("请求体须为 JSON 对象", "the body must be a JSON object"));
		return;
	}
	if (json_get_i64(req->body, req->body_len, "agent", &agent) < 0 ||
		agent_mem_get(s, agent) == NULL) {
		respond_error(s, c, 404, "unknown_agent", L("没有这个代理（--agent）", "no such agent (--agent)"));
		return;
	}
	agent_server_addr(s, agent, addr, sizeof(addr));
	if (json_get_raw(req->body, req->body_len, "dry_run", &v, &vl) == 0 && vl == 4 &&
		memcmp(v, "true", 4) == 0) {
		struct buf action;
		const char *why = NULL;

		buf_init(&action, 64);
		(void)json_get_str(req->body, req->body_len, "action", &action);
		if (strcmp(action.data, "block") == 0) {
			struct buf a;

			buf_init(&a, 256);
			(void)json_get_str(req->body, req->body_len, "addr", &a);
			if (response_check_cidr(a.data, addr, &why) < 0) {
				buf_release(&a);
				buf_release(&action);
				respond_error(s, c, 400, "bad_target", why);
				return;
			}
			buf_release(&a);
		}
		buf_init(&body, HTTP_MAX_BODY_DEFAULT + 256);
		(void)buf_puts(&body, "{\"command\":\"respond\",\"op\":\"apply\",\"id\":0,");
		(void)buf_append(&body, req->body + 1, req->body_len - 1);
		buf_release(&action);
		post_command_raw(s, c, agent, body.data, body.len, COMMAND_TIMEOUT_S);
		buf_release(&body);
		return;
	}
	buf_init(&body, HTTP_MAX_BODY_DEFAULT + 256);
	(void)buf_appendf(&body, "{\"agent_online\":%s,", agent_mem_get(s, agent)->conn != 0 ?
		"true" : "false");
	(void)buf_puts(&body, "\"op\":\"create\",\"server_addr\":");
	(void)json_append_string(&body, addr, strlen(addr));
	(void)buf_putc(&body, ',');
	(void)buf_append(&body, req->body + 1, req->body_len - 1);
	submit_response_job(s, c, body.data, body.len);
	buf_release(&body);
}

/* POST /api/v1/responses/ID/undo|approve {"actor":...} */
static void
post_response_op(struct server *s, struct conn *c, const struct http_request *req, int64_t id,
	const char *op)
{
	struct buf body, actor;

	buf_init(&actor, 256);
	buf_init(&body, 1024);
	if (req->body != NULL && req->body_len > 0)
		(void)json_get_str(req->body, req->body_len, "actor", &actor);
	(void)buf_appendf(&body, "{\"op\":\"%s\",\"id\":%lld", op, (long long)id);
	if (actor.len > 0) {
		(void)buf_puts(&body, ",\"actor\":");
		(void)json_append_string(&body, actor.data, actor.len);
	}
	(void)buf_putc(&body, '}');
	submit_response_job(s, c, body.data, body.len);
	buf_release(&actor);
	buf_release(&body);
}

static void
get_responses(struct server *s, struct conn *c, const struct http_request *req)
{
	struct buf b;
	int64_t after = 0, limit = 1000, agent = 0;
	int r;

	if (((r = query_i64(req, "after", 0, INT64_MAX, &after)) < 0 && r != -ENOENT) ||
		((r = query_i64(req, "limit", 1, EVENTS_LIMIT_MAX, &limit)) < 0 && r != -ENOENT) ||
		((r = query_i64(req, "agent", 1, INT64_MAX, &agent)) < 0 && r != -ENOENT)) {
		respond_error(s, c, 400, "bad_request", "after, limit (1..10000), agent");
		return;
	}
	buf_init(&b, EVENTS_BYTES_MAX);
	r = responses_list_json(s->reader, agent, after, (unsigned)limit, &b);
	if (r < 0)
		respond_error(s, c, 503, "store", strerror(-r));
	else
		respond(s, c, 200, "application/x-ndjson; charset=utf-8", b.data, b.len);
	buf_release(&b);
}

static void
route(struct server *s, struct conn *c, const struct http_request *req)
{
	int64_t id;

	s->m.http_requests++;
	if (!authorized(s, req)) {
		s->m.http_unauthorized++;
		respond_error(s, c, 401, "unauthorized", L("缺少或错误的令牌",
			"missing or wrong token"));
		return;
	}
	if (path_is(req, "/metrics")) {
		if (req->method != HTTP_GET)
			goto method;
		get_metrics(s, c);
	} else if (path_is(req, "/api/v1/status")) {
		if (req->method != HTTP_GET)
			goto method;
		get_status(s, c);
	} else if (path_is(req, "/api/v1/agents")) {
		if (req->method != HTTP_GET)
			goto method;
		get_agents(s, c);
	} else if (path_is(req, "/api/v1/events")) {
		if (req->method != HTTP_GET)
			goto method;
		get_events(s, c, req);
	} else if (path_is(req, "/api/v1/alerts")) {
		if (req->method != HTTP_GET)
			goto method;
		get_alerts(s, c, req);
	} else if (path_is(req, "/api/v1/tokens")) {
		if (req->method != HTTP_POST)
			goto method;
		post_token(s, c, req);
	} else if (path_is(req, "/api/v1/responses")) {
		if (req->method == HTTP_GET)
			get_responses(s, c, req);
		else if (req->method == HTTP_POST)
			post_response(s, c, req);
		else
			goto method;
	} else if (path_id(req, "/api/v1/responses/", "/undo", &id)) {
		if (req->method != HTTP_POST)
			goto method;
		post_response_op(s, c, req, id, "undo");
	} else if (path_id(req, "/api/v1/responses/", "/approve", &id)) {
		if (req->method != HTTP_POST)
			goto method;
		post_response_op(s, c, req, id, "approve");
	} else if (path_is(req, "/api/v1/incidents")) {
		if (req->method != HTTP_GET)
			goto method;
		get_incidents(s, c, req);
	} else if (path_id(req, "/api/v1/incidents/", "", &id)) {
		if (req->method == HTTP_GET)
			get_incident(s, c, id);
		else if (req->method == HTTP_POST)
			post_incident(s, c, req, id);
		else
			goto method;
	} else if (path_agent(req, "/revoke", &id)) {
		if (req->method != HTTP_POST)
			goto method;
		post_revoke(s, c, id);
	} else if (path_agent(req, "/commands", &id)) {
		if (req->method != HTTP_POST)
			goto method;
		post_command(s, c, req, id);
	} else if (path_agent(req, "", &id)) {
		struct agent_mem *am = agent_mem_get(s, id);
		struct buf b;
		struct json j;

		if (req->method != HTTP_GET)
			goto method;
		if (am == NULL) {
			respond_error(s, c, 404, "not_found", L("没有这个代理", "no such agent"));
			return;
		}
		buf_init(&b, 64 * 1024);
		json_begin(&j, &b);
		render_agent(&j, am);
		(void)json_end(&j);
		(void)buf_putc(&b, '\n');
		respond_json(s, c, 200, &b);
		buf_release(&b);
	} else {
		respond_error(s, c, 404, "not_found", L("没有这个接口", "no such endpoint"));
	}
	return;
method:
	respond_error(s, c, 405, "method_not_allowed", L("不支持此方法", "method not allowed"));
}

void
api_input(struct server *s, struct conn *c)
{
	size_t off = 0;
	uint64_t id = c->id;

	if (c->req_start_ns == 0)
		c->req_start_ns = now_monotonic_ns();
	while (c->park == PARK_NONE && !c->closing && off < c->in.len) {
		struct http_request req;
		int status = 400;
		long n = http_parse_request(c->in.data + off, c->in.len - off,
			HTTP_MAX_BODY_DEFAULT, &req, &status);

		if (n == 0)
			break;
		if (n < 0) {
			c->keep_alive = false;
			respond_error(s, c, status, "bad_request", http_status_text(status));
			buf_reset(&c->in);
			return;
		}
		c->keep_alive = req.keep_alive;
		route(s, c, &req);
		off += (size_t)n;
		if (conn_get(s, id) == NULL)
			return;
	}
	if (off > 0) {
		memmove(c->in.data, c->in.data + off, c->in.len - off);
		c->in.len -= off;
		c->in.data[c->in.len] = '\0';
		c->last_rx_ns = now_monotonic_ns();
		/* What is left is the start of the next request. */
		c->req_start_ns = c->in.len > 0 ? c->last_rx_ns : 0;
	}
}

void
api_job_done(struct server *s, struct job *job)
{
	struct conn *c;
	struct buf b;
	struct json j;
	char t[48];

	if (job->kind == JOB_EVENTS || job->kind == JOB_ENROLL || job->conn_id == 0)
		return;
	c = conn_get(s, job->conn_id);
	if (c == NULL || c->kind != CONN_HTTP)
		return;
	if (job->kind == JOB_INCIDENT || job->kind == JOB_RESPONSE) {
		(void)buf_putc(&job->response, '\n');
		respond_json(s, c, job->http_status > 0 ? job->http_status : 503, &job->response);
		return;
	}
	if (job->result < 0) {
		if (job->kind == JOB_REVOKE && job->result == -EALREADY)
			respond_error(s, c, 409, "already_revoked", L("该代理已被吊销",
				"the agent was already revoked"));
		else if (job->result == -ENOENT)
			respond_error(s, c, 404, "not_found", L("没有这个代理", "no such agent"));
		else
			respond_error(s, c, 503, "store", strerror(-job->result));
		return;
	}
	buf_init(&b, 4096);
	json_begin(&j, &b);
	if (job->kind == JOB_TOKEN) {
		json_key_str(&j, "token", job->token);
		time_format_local(job->expires_ns, t, sizeof(t));
		json_key_str(&j, "expires", t);
	} else {
		json_key_i64(&j, "id", job->agent);
		json_key_str(&j, "state", "revoked");
	}
	(void)json_end(&j);
	(void)buf_putc(&b, '\n');
	respond_json(s, c, job->kind == JOB_TOKEN ? 201 : 200, &b);
	explicit_bzero(b.data, b.len);
	buf_release(&b);
}

static void
collect_parked(void *value, void *data)
{
	struct conn *c = value;
	struct conn ***pp = data;

	if (c->kind == CONN_HTTP && c->park == PARK_EVENTS)
		*(*pp)++ = c;
}

void
api_events_committed(struct server *s)
{
	struct conn **all = xcalloc(s->nconns + 1, sizeof(*all)), **p = all;

	bmap_each(&s->conns, collect_parked, &p);
	for (struct conn **q = all; q < p; q++)
		(void)events_answer(s, *q, false);
	free(all);
	alerts_wake(s, 0);
}

void
api_command_result(struct server *s, uint64_t cmd_id, int64_t agent, const char *json, size_t len)
{
	struct command_wait **pw, *w;
	struct conn *c;
	struct buf b;

	/* A first-response request's result: recorded by the engine. */
	if (cmd_id & RESPONSE_CMD_FLAG) {
		buf_init(&b, HTTP_MAX_BODY_DEFAULT + WIRE_MAX_FRAME);
		(void)buf_appendf(&b, "{\"op\":\"result\",\"id\":%llu,\"agent\":%lld,\"answer\":",
			(unsigned long long)(cmd_id & ~RESPONSE_CMD_FLAG), (long long)agent);
		(void)buf_append(&b, json, len);
		(void)buf_putc(&b, '}');
		submit_response_job(s, NULL, b.data, b.len);
		buf_release(&b);
		return;
	}
	for (pw = &command_waits; (w = *pw) != NULL; pw = &w->next)
		if (w->id == cmd_id && w->agent == agent)
			break;
	if (w == NULL)
		return;		/* timed out already, or not ours */
	*pw = w->next;
	c = conn_get(s, w->conn);
	free(w);
	if (c == NULL || c->park != PARK_COMMAND || c->park_cmd != cmd_id)
		return;
	buf_init(&b, HTTP_OUT_MAX);
	(void)buf_appendf(&b, "{\"agent\":%lld,\"result\":", (long long)agent);
	(void)buf_append(&b, json, len);
	(void)buf_puts(&b, "}\n");
	respond_json(s, c, 200, &b);
	buf_release(&b);
}

static void
tick_parked(void *value, void *data)
{
	struct conn *c = value;
	struct conn ***pp = data;

	if (c->kind == CONN_HTTP)
		*(*pp)++ = c;
}

void
api_tick(struct server *s, int64_t now)
{
	struct conn **all = xcalloc(s->nconns + 1, sizeof(*all)), **p = all;
	struct command_wait **pw = &command_waits, *w;

	while ((w = *pw) != NULL) {
		if (now < w->deadline) {
			pw = &w->next;
			continue;
		}
		*pw = w->next;
		struct conn *c = conn_get(s, w->conn);
		if (c != NULL && c->park == PARK_COMMAND && c->park_cmd == w->id)
			respond_error(s, c, 504, "timeout", L("代理未在时限内答复",
				"the agent did not answer in time"));
		free(w);
	}
	alerts_wake(s, now);
	bmap_each(&s->conns, tick_parked, &p);
	for (struct conn **q = all; q < p; q++) {
		struct conn *c = *q;

		if (c->closing) {
			if (c->closing_since == 0)
				c->closing_since = now;
			else if (now - c->closing_since > HANDSHAKE_DEADLINE_NS)
				conn_close(s, c);
			continue;
		}
		if (c->park == PARK_EVENTS && now >= c->park_deadline_ns) {
			(void)events_answer(s, c, true);
			continue;
		}
		if (c->park != PARK_NONE)
			continue;
		/* Slowloris: a request must be whole within the deadline; an idle
		 * keep-alive connection goes after HTTP_IDLE_NS. */
		if ((c->handshaking && now - c->created_ns > HANDSHAKE_DEADLINE_NS) ||
			(c->in.len > 0 && c->req_start_ns != 0 &&
			now - c->req_start_ns > HANDSHAKE_DEADLINE_NS)) {
			if (c->handshaking) {
				conn_close(s, c);
				continue;
			}
			c->keep_alive = false;
			respond_error(s, c, 408, "timeout", L("请求超时", "request timeout"));
			buf_reset(&c->in);
		} else if (c->in.len == 0 && now - c->last_rx_ns > HTTP_IDLE_NS) {
			conn_close(s, c);
		}
	}
	free(all);
}

void
api_shutdown(struct server *s)
{
	struct command_wait *w;

	(void)s;
	while ((w = command_waits) != NULL) {
		command_waits = w->next;
		free(w);
	}
	while (alert_waits != NULL) {
		struct alert_wait *a = alert_waits;

		alert_waits = a->next;
		free(a);
	}
}
