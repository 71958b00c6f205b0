/*
 * loadgen.c - the centre's load generator: N simulated agents in one process,
 * each over its own mutual TLS 1.3 connection, enrolling and then streaming
 * events to `yingji serve` exactly as an agent does, and checking at the end
 * that the database holds every event once.
 *
 * Each agent enrolls once (a one-time token from POST /api/v1/tokens with the
 * admin credential in DIR/admin.token, a fresh P-256 key and CSR, ENROLL on a
 * connection without a client certificate, pinned to the server's
 * fingerprint), keeps its certificate (in an OpenSSL context; the PEM files
 * exist only for the moment it takes to load them), reconnects with it, says
 * HELLO and streams its share of the events: sequence numbers 1, 2, ... in one
 * space per agent, every Kth on the urgent lane and the rest on the bulk lane,
 * pipelined up to a window of unacknowledged events. An ACK (lane, seq)
 * acknowledges that lane up to seq. On any error (connection refused or reset,
 * an ERROR frame, silence) the agent reconnects with backoff and resumes from
 * what WELCOME says is committed, resending what was not acknowledged: that is
 * how the channel is exactly-once, and what the crash benchmark checks.
 *
 * With --kill-server-every S the main thread sends SIGKILL to the pid in
 * --server-pid-file every S seconds while events are still unacknowledged
 * (something else - bench/server.sh - restarts the server on the same ports).
 *
 * At the end it counts, with the sqlite3 command-line tool on DIR/yingji.db,
 * the stored events of its agents per agent (rows, distinct sequence numbers,
 * highest sequence number, urgent rows) and the (agent, seq) pairs stored more
 * than once, and compares them with what it sent. The last line of the
 * output is "RESULT key=value ..." for scripts.
 *
 * Usage: loadgen --server HOST:PORT --data DIR --agents N --events M
 *                [--rate R] [--window W] [--urgent-every K] [--threads T |
 *                --conns-per-thread C] [--kill-server-every S
 *                --server-pid-file FILE] [--timeout S] [--quiet]
 * Build: bench/server.sh (cc -O2, linked with build/libyingji_{cli,tls,proto,core}.a).
 * Exit: 0 when the database holds exactly what was sent, 3 when it does not,
 * 1 when the run could not be done, 2 for bad usage.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/api_client.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/json_get.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "proto/token.h"
#include "proto/wire.h"
#include "tls/pki.h"
#include "tls/tls.h"
#include "core/banned.h"

#define MAX_THREADS		8
#define OUT_HIGH		(64u * 1024)	/* stop making frames with this much unsent */
#define WRITE_CHUNK		(256u * 1024)
#define PHASE_DEADLINE_NS	(15ll * 1000000000)	/* connect, handshake, ENROLLED, WELCOME */
#define SILENCE_NS		(40ll * 1000000000)	/* streaming, unacked, nothing heard */
#define BACKOFF_MIN_MS		50
#define BACKOFF_MAX_MS		1000
#define ENROLL_INFLIGHT		32		/* per thread */
#define TICK_NS			(5ll * 1000000)
#define HIST_BUCKETS		(40 * 8)	/* log2 of microseconds, 8 steps per octave */

enum phase {
	P_ENROLL_WAIT_SLOT,	/* to enroll; waits for a slot */
	P_READY,		/* enrolled; waits for the start of streaming */
	P_CONNECTING,
	P_HANDSHAKE,
	P_ENROLLING,		/* ENROLL sent, ENROLLED awaited */
	P_HELLO,		/* HELLO sent, WELCOME awaited */
	P_STREAM,
	P_BACKOFF,
	P_DONE,
};

struct hist {
	uint64_t	 n[HIST_BUCKETS];
	uint64_t	 count;
	int64_t		 max_us;
};

struct agent {
	struct worker	*w;
	unsigned	 idx;
	int64_t		 id;			/* the server's, after enrollment */
	char		 name[32];
	char		 token[TOKEN_STR_LEN + 1];
	bool		 need_token;		/* the one it had failed: ask for another */
	struct buf	 key_pem;		/* during enrollment */
	struct tls_ctx	*ctx;			/* with its certificate */
	bool		 enrolled;

	enum phase	 phase;
	int		 fd;
	struct tls_conn	*tls;
	uint32_t	 ev;			/* epoll interest */
	struct buf	 in, out;
	size_t		 out_off, pending_n;	/* pending_n: a write to retry as it was */
	int64_t		 deadline_ns, retry_at_ns, last_rx_ns;
	int		 backoff_ms;
	bool		 enroll_slot;

	uint64_t	 total;			/* sends seq 1..total */
	uint64_t	 next_seq;
	uint64_t	 max_sent;		/* highest seq ever put on the wire */
	uint64_t	 acked[WIRE_LANES];
	uint64_t	 nacked;
	int64_t		*sent_ns;		/* ring of window slots: when seq was sent */
};

struct worker {
	unsigned	 idx;
	pthread_t	 th;
	int		 epfd;
	struct agent	**agents;
	size_t		 nagents, ndone, rr;
	unsigned	 enrolling;
	double		 tokens;		/* rate limit */
	int64_t		 last_refill_ns;
	char		 now_str[48];
	int64_t		 now_str_ns;
	struct hist	 lat;
	char		 scratch[2048];
};

static struct {
	/* options */
	const char	*server, *datadir, *pid_file;
	unsigned	 nagents, nthreads, conns_per_thread;
	uint64_t	 nevents;
	double		 rate, kill_every_s, timeout_s;
	unsigned	 window, urgent_every;
	bool		 quiet;

	struct sockaddr_storage addr;
	socklen_t	 addrlen;
	struct tls_ctx	*enroll_ctx;
	struct api_client api;
	char		 certdir[64];
	char		*ca_path;
	pthread_mutex_t	 mu;			/* ca_path, certdir files, api, stderr */
	struct agent	*agents;
	struct worker	*workers;

	atomic_bool	 go, stop;
	atomic_uint_fast64_t acked_total, frames_sent, resent, connects, failures, enrolled;
	atomic_uint_fast64_t enroll_failures, done_agents, anomalies, ack_regressions;
	atomic_uint_fast64_t server_errors;
} lg;

static void
warnx_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void
warnx_(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&lg.mu);
	fputs("loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	pthread_mutex_unlock(&lg.mu);
}

static double
secs(int64_t ns)
{
	return (double)ns / 1e9;
}

/* ---- sequence numbers and lanes ---- */

static int
lane_of(uint64_t seq)
{
	return lg.urgent_every > 0 && seq % lg.urgent_every == 0 ? WIRE_LANE_URGENT : WIRE_LANE_BULK;
}

/* Events of this agent acknowledged: each lane's seqs up to its acked. */
static uint64_t
count_acked(const struct agent *a)
{
	uint64_t k = lg.urgent_every, u = a->acked[WIRE_LANE_URGENT], b = a->acked[WIRE_LANE_BULK];

	if (k == 0)
		return b;
	return u / k + (b - b / k);
}

/* The lowest seq not acknowledged (total + 1 when all are). */
static uint64_t
first_unacked(const struct agent *a)
{
	uint64_t k = lg.urgent_every, first = a->acked[WIRE_LANE_BULK] + 1;

	if (k > 0) {
		uint64_t u = (a->acked[WIRE_LANE_URGENT] / k + 1) * k;

		if (first % k == 0)
			first++;
		if (u < first)
			first = u;
	}
	return first > a->total + 1 ? a->total + 1 : first;
}

/* ---- ack latency histogram ---- */

static void
hist_add(struct hist *h, int64_t us)
{
	int b = 0;

	if (us < 1)
		us = 1;
	b = (int)(log2((double)us) * 8);
	if (b >= HIST_BUCKETS)
		b = HIST_BUCKETS - 1;
	h->n[b]++;
	h->count++;
	if (us > h->max_us)
		h->max_us = us;
}

static double
hist_pct_ms(const struct hist *h, double pct)
{
	uint64_t want, seen = 0;

	if (h->count == 0)
		return NAN;
	want = (uint64_t)ceil(pct / 100.0 * (double)h->count);
	for (int b = 0; b < HIST_BUCKETS; b++) {
		seen += h->n[b];
		if (seen >= want)	/* the bucket's upper edge, but never above the max */
			return fmin(exp2((b + 1) / 8.0), (double)h->max_us) / 1000.0;
	}
	return (double)h->max_us / 1000.0;
}

/* ---- connections ---- */

static void
set_interest(struct agent *a)
{
	struct epoll_event e = { 0 };
	uint32_t want = EPOLLIN;

	if (a->fd < 0)
		return;
	if (a->phase == P_CONNECTING || a->out.len > a->out_off ||
		(a->tls != NULL && tls_conn_want_write(a->tls)))
		want |= EPOLLOUT;
	if (a->phase == P_HANDSHAKE && a->tls != NULL)
		want = tls_conn_want_write(a->tls) ? EPOLLOUT : EPOLLIN;
	if (want == a->ev)
		return;
	e.events = want;
	e.data.ptr = a;
	if (epoll_ctl(a->w->epfd, EPOLL_CTL_MOD, a->fd, &e) == 0)
		a->ev = want;
}

static void
conn_drop(struct agent *a, bool clean)
{
	if (a->fd >= 0) {
		if (clean && a->tls != NULL)
			tls_conn_shutdown(a->tls);
		(void)epoll_ctl(a->w->epfd, EPOLL_CTL_DEL, a->fd, NULL);
		close(a->fd);
		a->fd = -1;
	}
	tls_conn_free(a->tls);
	a->tls = NULL;
	a->ev = 0;
	buf_reset(&a->in);
	buf_reset(&a->out);
	a->out_off = a->pending_n = 0;
}

static void
release_enroll_slot(struct agent *a)
{
	if (a->enroll_slot) {
		a->enroll_slot = false;
		a->w->enrolling--;
	}
}

/* Something went wrong: drop the connection and try again after a while. */
static void
agent_fail(struct agent *a, int64_t now, const char *why)
{
	uint64_t n = atomic_fetch_add(&lg.failures, 1) + 1;

	/* Killing the server makes every agent fail: only say what is not that. */
	if (!lg.quiet && (n <= 10 || (n & (n - 1)) == 0) && (lg.kill_every_s == 0 ||
		(strncmp(why, "connect", 7) != 0 && strcmp(why, strerror(ECONNRESET)) != 0 &&
		strcmp(why, strerror(EPIPE)) != 0 && strstr(why, "closed") == NULL)))
		warnx_("agent %s: %s (failure #%" PRIu64 ")", a->name, why, n);
	conn_drop(a, false);
	release_enroll_slot(a);
	a->phase = P_BACKOFF;
	a->retry_at_ns = now + (int64_t)a->backoff_ms * 1000000 +
		(int64_t)(rand() % (a->backoff_ms + 1)) * 500000;
	a->backoff_ms = a->backoff_ms * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : a->backoff_ms * 2;
}

static void
agent_connect(struct agent *a, int64_t now)
{
	struct epoll_event e = { 0 };
	int one = 1;

	a->fd = socket(lg.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (a->fd < 0) {
		agent_fail(a, now, strerror(errno));
		return;
	}
	(void)setsockopt(a->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	atomic_fetch_add(&lg.connects, 1);
	a->phase = P_CONNECTING;
	a->deadline_ns = now + PHASE_DEADLINE_NS;
	if (connect(a->fd, (struct sockaddr *)&lg.addr, lg.addrlen) < 0 && errno != EINPROGRESS) {
		char why[128];

		snprintf(why, sizeof(why), "connect: %s", strerror(errno));
		close(a->fd);
		a->fd = -1;
		agent_fail(a, now, why);
		return;
	}
	e.events = EPOLLOUT;
	e.data.ptr = a;
	if (epoll_ctl(a->w->epfd, EPOLL_CTL_ADD, a->fd, &e) < 0) {
		close(a->fd);
		a->fd = -1;
		agent_fail(a, now, "epoll_ctl");
		return;
	}
	a->ev = EPOLLOUT;
}

/* Write what is queued; false when the connection failed (a->phase is then
 * P_BACKOFF). */
static bool
agent_flush(struct agent *a, int64_t now)
{
	while (a->out.len > a->out_off) {
		size_t n = a->pending_n;
		ssize_t r;

		if (n == 0)
			n = a->out.len - a->out_off > WRITE_CHUNK ? WRITE_CHUNK : a->out.len - a->out_off;
		r = tls_conn_write(a->tls, a->out.data + a->out_off, n);
		if (r == -EAGAIN) {
			a->pending_n = n;
			break;
		}
		if (r <= 0) {
			agent_fail(a, now, r == 0 ? "write: closed" : strerror((int)-r));
			return false;
		}
		a->pending_n = 0;
		a->out_off += (size_t)r;
	}
	if (a->out_off == a->out.len && a->pending_n == 0) {
		buf_reset(&a->out);
		a->out_off = 0;
	}
	return true;
}

static void
queue_json(struct agent *a, enum wire_type type, const char *json, size_t len)
{
	if (wire_put_json(&a->out, type, json, len) < 0)
		atomic_fetch_add(&lg.anomalies, 1);
}

/* ---- events ---- */

static uint64_t
mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static void
hex64(char *out, uint64_t seed)
{
	static const char hexdig[] = "0123456789abcdef";

	for (int i = 0; i < 4; i++) {
		uint64_t v = mix64(seed + (uint64_t)i * 0x9e3779b97f4a7c15ull);

		for (int k = 0; k < 16; k++)
			out[i * 16 + k] = hexdig[(v >> (4 * k)) & 15];
	}
	out[64] = '\0';
}

/* One event's JSON, about 300 bytes, like a guard's tamper report. */
static size_t
event_payload(struct worker *w, const struct agent *a, uint64_t seq, int lane)
{
	char before[65], after[65];
	uint64_t seed = ((uint64_t)a->idx << 40) ^ seq;
	int n;

	hex64(before, seed * 2 + 1);
	hex64(after, seed * 2 + 2);
	n = snprintf(w->scratch, sizeof(w->scratch),
		"{\"type\":\"%s\",\"time\":\"%s\",\"path\":\"/srv/www/site-%u/page-%05" PRIu64
		".html\",\"action\":\"%s\",\"guard\":\"/srv/www/site-%u\",\"size\":%" PRIu64
		",\"sha256_before\":\"%s\",\"sha256_after\":\"%s\"}",
		lane == WIRE_LANE_URGENT ? "tamper" : "file_changed", w->now_str, a->idx,
		seq % 100000, lane == WIRE_LANE_URGENT ? "restored" : "recorded", a->idx,
		1024 + seed % 65536, before, after);
	return n > 0 && (size_t)n < sizeof(w->scratch) ? (size_t)n : 0;
}

static void
refresh_now_str(struct worker *w, int64_t now_rt)
{
	if (now_rt - w->now_str_ns >= 1000000) {
		time_format_local(now_rt, w->now_str, sizeof(w->now_str));
		w->now_str_ns = now_rt;
	}
}

/* Queue events while the window, the output buffer and the rate allow, then
 * write. */
static void
agent_fill(struct agent *a, int64_t now)
{
	struct worker *w = a->w;
	uint64_t first = first_unacked(a);
	int64_t now_rt = now_realtime_ns();

	refresh_now_str(w, now_rt);
	if (a->next_seq < first)	/* acknowledged from an earlier connection */
		a->next_seq = first;
	while (a->next_seq <= a->total && a->next_seq - first < lg.window &&
		a->out.len - a->out_off < OUT_HIGH) {
		uint64_t seq = a->next_seq;
		int lane = lane_of(seq);
		size_t n;

		if (seq <= a->acked[lane]) {
			a->next_seq++;
			continue;
		}
		if (lg.rate > 0) {
			if (w->tokens < 1)
				break;
			w->tokens -= 1;
		}
		n = event_payload(w, a, seq, lane);
		if (n == 0 || wire_put_event(&a->out, (uint8_t)lane, seq, now_rt, w->scratch, n) < 0) {
			atomic_fetch_add(&lg.anomalies, 1);
			break;
		}
		a->sent_ns[seq % lg.window] = now;
		if (seq <= a->max_sent)
			atomic_fetch_add(&lg.resent, 1);
		else
			a->max_sent = seq;
		atomic_fetch_add(&lg.frames_sent, 1);
		a->next_seq++;
	}
	(void)agent_flush(a, now);
}

/* ---- frames in ---- */

static void
enroll_send(struct agent *a)
{
	struct buf csr, body;
	struct json j;
	int r;

	buf_init(&csr, PKI_MAX_PEM);
	buf_init(&a->key_pem, PKI_MAX_PEM);
	buf_init(&body, 4 * PKI_MAX_PEM);
	r = pki_csr_create(a->name, &csr, &a->key_pem);
	if (r == 0) {
		json_begin(&j, &body);
		json_key_str(&j, "token", a->token);
		json_key_str(&j, "csr", csr.data);
		json_key_str(&j, "name", a->name);
		r = json_end(&j);
	}
	if (r == 0)
		queue_json(a, WIRE_ENROLL, body.data, body.len);
	else
		atomic_fetch_add(&lg.anomalies, 1);
	buf_release(&csr);
	buf_release(&body);
}

static int
write_file(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

/* ENROLLED: make the client context with the new certificate. */
static int
on_enrolled(struct agent *a, const struct wire_frame *f)
{
	struct buf cert, ca;
	char cert_path[128], key_path[128];
	int64_t id = 0;
	int r;

	buf_init(&cert, PKI_MAX_PEM);
	buf_init(&ca, PKI_MAX_PEM);
	r = json_get_i64(f->body, f->body_len, "agent", &id);
	if (r == 0)
		r = json_get_str(f->body, f->body_len, "cert", &cert);
	if (r == 0)
		r = json_get_str(f->body, f->body_len, "ca", &ca);
	if (r < 0 || id <= 0)
		goto out;
	snprintf(cert_path, sizeof(cert_path), "%s/%u.crt", lg.certdir, a->idx);
	snprintf(key_path, sizeof(key_path), "%s/%u.key", lg.certdir, a->idx);
	pthread_mutex_lock(&lg.mu);
	if (lg.ca_path == NULL) {
		char p[128];

		snprintf(p, sizeof(p), "%s/ca.crt", lg.certdir);
		if (write_file(p, ca.data, ca.len) == 0)
			lg.ca_path = xstrdup(p);
	}
	pthread_mutex_unlock(&lg.mu);
	r = lg.ca_path == NULL ? -EIO : write_file(cert_path, cert.data, cert.len);
	if (r == 0)
		r = write_file(key_path, a->key_pem.data, a->key_pem.len);
	if (r == 0)
		r = tls_ctx_client_new(lg.ca_path, NULL, cert_path, key_path, &a->ctx);
	(void)unlink(cert_path);
	(void)unlink(key_path);
	if (r == 0) {
		a->id = id;
		a->enrolled = true;
	}
out:
	explicit_bzero(a->key_pem.data, a->key_pem.len);
	buf_release(&a->key_pem);
	buf_release(&cert);
	buf_release(&ca);
	return r < 0 ? r : (id <= 0 ? -EPROTO : 0);
}

static int
on_welcome(struct agent *a, const struct wire_frame *f, int64_t now)
{
	const char *arr, *v;
	size_t arrlen, vlen, pos = 0;
	uint64_t got[WIRE_LANES] = { 0 };
	int64_t id = 0;

	if (json_get_i64(f->body, f->body_len, "agent", &id) < 0 || id != a->id ||
		json_get_raw(f->body, f->body_len, "acked", &arr, &arrlen) < 0)
		return -EPROTO;
	for (int l = 0; l < WIRE_LANES; l++) {
		char tmp[32], *end;

		if (json_array_next(arr, arrlen, &pos, &v, &vlen) < 0 || vlen == 0 ||
			vlen >= sizeof(tmp))
			return -EPROTO;
		memcpy(tmp, v, vlen);
		tmp[vlen] = '\0';
		errno = 0;
		got[l] = strtoull(tmp, &end, 10);
		if (errno != 0 || *end != '\0')
			return -EPROTO;
	}
	for (int l = 0; l < WIRE_LANES; l++) {
		/* The server forgetting what it acknowledged is a lost event: keep
		 * ours (an agent would have trimmed its journal) and count it. */
		if (got[l] < a->acked[l])
			atomic_fetch_add(&lg.ack_regressions, 1);
		else if (got[l] > a->max_sent && got[l] > 0)
			atomic_fetch_add(&lg.anomalies, 1);	/* acked what was never sent */
		else if (got[l] > a->acked[l])
			a->acked[l] = got[l];
	}
	{
		uint64_t n = count_acked(a);

		atomic_fetch_add(&lg.acked_total, n - a->nacked);
		a->nacked = n;
	}
	a->next_seq = first_unacked(a);
	a->phase = P_STREAM;
	a->backoff_ms = BACKOFF_MIN_MS;
	(void)now;
	return 0;
}

static void
on_ack(struct agent *a, const struct wire_frame *f, int64_t now)
{
	uint64_t n;

	if (f->lane >= WIRE_LANES || f->seq > a->max_sent) {
		atomic_fetch_add(&lg.anomalies, 1);
		return;
	}
	if (f->seq <= a->acked[f->lane])
		return;
	/* Latency of the newest acknowledged event (sent in this window). */
	if (f->seq >= first_unacked(a) && f->seq < a->next_seq)
		hist_add(&a->w->lat, (now - a->sent_ns[f->seq % lg.window]) / 1000);
	a->acked[f->lane] = f->seq;
	n = count_acked(a);
	atomic_fetch_add(&lg.acked_total, n - a->nacked);
	a->nacked = n;
}

static void
agent_finished(struct agent *a)
{
	conn_drop(a, true);
	a->phase = P_DONE;
	a->w->ndone++;
	atomic_fetch_add(&lg.done_agents, 1);
}

/* Handle the frames in a->in. */
static void
agent_frames(struct agent *a, int64_t now)
{
	size_t off = 0;

	while (a->fd >= 0 && off < a->in.len) {
		struct wire_frame f;
		long n = wire_decode(a->in.data + off, a->in.len - off, &f);
		char why[400];

		if (n == 0)
			break;
		if (n < 0) {
			agent_fail(a, now, "malformed frame from the server");
			return;
		}
		off += (size_t)n;
		a->last_rx_ns = now;
		switch (f.type) {
		case WIRE_ERROR:
			atomic_fetch_add(&lg.server_errors, 1);
			snprintf(why, sizeof(why), "server: %.*s",
				(int)(f.body_len > 300 ? 300 : f.body_len), f.body);
			if (a->phase == P_ENROLLING)
				a->need_token = true;
			agent_fail(a, now, why);
			return;
		case WIRE_ENROLLED:
			if (a->phase != P_ENROLLING || on_enrolled(a, &f) < 0) {
				a->need_token = true;
				agent_fail(a, now, "bad ENROLLED");
				return;
			}
			conn_drop(a, false);
			release_enroll_slot(a);
			atomic_fetch_add(&lg.enrolled, 1);
			a->phase = P_READY;
			a->backoff_ms = BACKOFF_MIN_MS;
			return;
		case WIRE_WELCOME:
			if (a->phase != P_HELLO || on_welcome(a, &f, now) < 0) {
				agent_fail(a, now, "bad WELCOME");
				return;
			}
			break;
		case WIRE_ACK:
			if (a->phase != P_STREAM) {
				agent_fail(a, now, "ACK before WELCOME");
				return;
			}
			on_ack(a, &f, now);
			break;
		case WIRE_HEARTBEAT: {
			int len = snprintf(why, sizeof(why), "{\"time_ns\":%" PRId64 ",\"backlog\":%"
				PRIu64 "}", now_realtime_ns(), a->total - a->nacked);

			queue_json(a, WIRE_HEARTBEAT, why, (size_t)len);
			break;
		}
		case WIRE_COMMAND: {
			static const char res[] = "{\"ok\":false,\"error\":\"loadgen runs no commands\"}";

			if (wire_put_command(&a->out, WIRE_RESULT, f.id, res, sizeof(res) - 1) < 0)
				atomic_fetch_add(&lg.anomalies, 1);
			break;
		}
		default:
			atomic_fetch_add(&lg.anomalies, 1);
			agent_fail(a, now, "unexpected frame");
			return;
		}
	}
	if (a->fd < 0)
		return;
	if (off > 0) {
		memmove(a->in.data, a->in.data + off, a->in.len - off);
		a->in.len -= off;
		a->in.data[a->in.len] = '\0';
	}
	if (a->phase == P_STREAM) {
		if (a->nacked == a->total) {
			agent_finished(a);
			return;
		}
		agent_fill(a, now);
	}
}

static void
agent_read(struct agent *a, int64_t now)
{
	char chunk[64 * 1024];

	for (;;) {
		ssize_t n = tls_conn_read(a->tls, chunk, sizeof(chunk));

		if (n == -EAGAIN)
			break;
		if (n <= 0) {
			/* What came before the close counts (ENROLLED, an ERROR). */
			agent_frames(a, now);
			if (a->fd >= 0)
				agent_fail(a, now, n == 0 ? "the server closed the connection" :
					strerror((int)-n));
			return;
		}
		if (buf_append(&a->in, chunk, (size_t)n) < 0) {
			agent_fail(a, now, "input over the limit");
			return;
		}
	}
	agent_frames(a, now);
}

static void
agent_handshake(struct agent *a, int64_t now)
{
	int r = tls_conn_handshake(a->tls);
	char hello[128];

	if (r == -EAGAIN)
		return;
	if (r < 0) {
		char why[300];

		snprintf(why, sizeof(why), "handshake: %s", tls_conn_error(a->tls));
		agent_fail(a, now, why);
		return;
	}
	a->last_rx_ns = now;
	if (!a->enrolled) {
		enroll_send(a);
		a->phase = P_ENROLLING;
	} else {
		int n = snprintf(hello, sizeof(hello), "{\"agent\":%" PRId64 ",\"name\":\"%s\","
			"\"version\":\"loadgen\"}", a->id, a->name);

		queue_json(a, WIRE_HELLO, hello, (size_t)n);
		a->phase = P_HELLO;
	}
	a->deadline_ns = now + PHASE_DEADLINE_NS;
	if (agent_flush(a, now))
		agent_read(a, now);	/* OpenSSL may hold a frame already */
}

static void
agent_io(struct agent *a, uint32_t events, int64_t now)
{
	if (a->phase == P_CONNECTING) {
		int err = 0, r;
		socklen_t sl = sizeof(err);

		if (getsockopt(a->fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0)
			err = errno;
		if (err != 0) {
			char why[128];

			snprintf(why, sizeof(why), "connect: %s", strerror(err));
			agent_fail(a, now, why);
			return;
		}
		r = tls_conn_new(a->enrolled ? a->ctx : lg.enroll_ctx, a->fd, false, &a->tls);
		if (r < 0) {
			agent_fail(a, now, "tls_conn_new");
			return;
		}
		a->phase = P_HANDSHAKE;
	}
	if (a->phase == P_HANDSHAKE) {
		agent_handshake(a, now);
	} else {
		if ((events & EPOLLOUT) && !agent_flush(a, now))
			return;
		if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
			agent_read(a, now);
	}
	if (a->fd >= 0 && a->phase != P_BACKOFF)
		set_interest(a);
}

/* ---- tokens ---- */

static int
fetch_token(char out[TOKEN_STR_LEN + 1])
{
	static const char body[] = "{\"ttl\":\"2h\"}";
	struct buf resp, tok;
	int status = 0, r;

	buf_init(&resp, 1 << 20);
	buf_init(&tok, 256);
	pthread_mutex_lock(&lg.mu);
	r = api_request(&lg.api, "POST", "/api/v1/tokens", body, sizeof(body) - 1, 30000, &status,
		&resp);
	pthread_mutex_unlock(&lg.mu);
	if (r == 0 && status != 201)
		r = -EPROTO;
	if (r == 0)
		r = json_get_str(resp.data, resp.len, "token", &tok);
	if (r == 0 && tok.len != TOKEN_STR_LEN)
		r = -EPROTO;
	if (r == 0)
		memcpy(out, tok.data, TOKEN_STR_LEN + 1);
	explicit_bzero(tok.data, tok.len);
	explicit_bzero(resp.data, resp.len);
	buf_release(&resp);
	buf_release(&tok);
	return r;
}

/* ---- the worker threads ---- */

static void
worker_tick(struct worker *w, int64_t now)
{
	bool go = atomic_load(&lg.go);

	if (lg.rate > 0) {
		double per_thread = lg.rate / lg.nthreads;

		w->tokens += per_thread * secs(now - w->last_refill_ns);
		if (w->tokens > per_thread / 20 + 1)	/* at most 50 ms of burst */
			w->tokens = per_thread / 20 + 1;
		w->last_refill_ns = now;
	}
	/* A rotating start, so that a rate limit is shared fairly. */
	w->rr = w->rr + 1 < w->nagents ? w->rr + 1 : 0;
	for (size_t k = 0; k < w->nagents; k++) {
		struct agent *a = w->agents[(w->rr + k) % w->nagents];

		switch (a->phase) {
		case P_ENROLL_WAIT_SLOT:
			if (w->enrolling >= ENROLL_INFLIGHT)
				break;
			if (a->need_token) {
				if (fetch_token(a->token) < 0) {
					atomic_fetch_add(&lg.enroll_failures, 1);
					break;
				}
				a->need_token = false;
			}
			a->enroll_slot = true;
			w->enrolling++;
			agent_connect(a, now);
			break;
		case P_READY:
			if (go)
				agent_connect(a, now);
			break;
		case P_BACKOFF:
			if (now < a->retry_at_ns)
				break;
			if (!a->enrolled) {
				atomic_fetch_add(&lg.enroll_failures, 1);
				a->phase = P_ENROLL_WAIT_SLOT;
			} else if (go) {
				agent_connect(a, now);
			}
			break;
		case P_CONNECTING:
		case P_HANDSHAKE:
		case P_ENROLLING:
		case P_HELLO:
			if (now > a->deadline_ns)
				agent_fail(a, now, "timed out");
			break;
		case P_STREAM:
			if (a->nacked < a->total && now - a->last_rx_ns > SILENCE_NS) {
				agent_fail(a, now, "the server is silent");
				break;
			}
			if (lg.rate > 0 && a->out.len == a->out_off) {
				agent_fill(a, now);
				if (a->fd >= 0)
					set_interest(a);
			}
			break;
		case P_DONE:
			break;
		}
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;
	int64_t next_tick = 0;

	w->last_refill_ns = now_monotonic_ns();
	while (!atomic_load(&lg.stop) && w->ndone < w->nagents) {
		struct epoll_event evs[256];
		int64_t now = now_monotonic_ns();
		int timeout = next_tick > now ? (int)((next_tick - now) / 1000000) + 1 : 0, n;

		n = epoll_wait(w->epfd, evs, 256, timeout);
		now = now_monotonic_ns();
		for (int i = 0; i < n; i++) {
			struct agent *a = evs[i].data.ptr;

			if (a->fd >= 0)
				agent_io(a, evs[i].events, now);
		}
		if (now >= next_tick) {
			worker_tick(w, now);
			next_tick = now + TICK_NS;
		}
	}
	for (size_t i = 0; i < w->nagents; i++)
		conn_drop(w->agents[i], false);
	return NULL;
}

/* ---- verification ---- */

/* 'path' quoted for sh -c. */
static void
shell_quote(struct buf *out, const char *s)
{
	(void)buf_putc(out, '\'');
	for (; *s != '\0'; s++) {
		if (*s == '\'')
			(void)buf_puts(out, "'\\''");
		else
			(void)buf_putc(out, *s);
	}
	(void)buf_putc(out, '\'');
}

struct verdict {
	bool		 ok;			/* the query ran */
	uint64_t	 rows, sum_max_seq, urgent_rows, dup_pairs;
	uint64_t	 agents_exact, agents_seen;	/* rows == distinct == max == total */
	uint64_t	 foreign_rows;		/* rows of agents not ours */
};

static int
agent_cmp(const void *x, const void *y)
{
	int64_t a = (*(struct agent *const *)x)->id, b = (*(struct agent *const *)y)->id;

	return a < b ? -1 : a > b;
}

static struct agent *
find_agent(struct agent **sorted, size_t n, int64_t id)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (sorted[mid]->id == id)
			return sorted[mid];
		if (sorted[mid]->id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void
verify_db(struct verdict *v)
{
	struct agent **sorted = xcalloc(lg.nagents, sizeof(*sorted));
	struct buf cmd;
	char line[512];
	int64_t lo = INT64_MAX, hi = 0;
	FILE *p;

	memset(v, 0, sizeof(*v));
	for (unsigned i = 0; i < lg.nagents; i++) {
		sorted[i] = &lg.agents[i];
		if (lg.agents[i].id > 0 && lg.agents[i].id < lo)
			lo = lg.agents[i].id;
		if (lg.agents[i].id > hi)
			hi = lg.agents[i].id;
	}
	qsort(sorted, lg.nagents, sizeof(*sorted), agent_cmp);
	buf_init(&cmd, 0);
	(void)buf_puts(&cmd, "sqlite3 -batch -noheader -separator ' ' -cmd '.timeout 10000' ");
	{
		struct buf db;

		buf_init(&db, 0);
		(void)buf_appendf(&db, "file:%s/yingji.db?mode=ro", lg.datadir);
		shell_quote(&cmd, db.data);
		buf_release(&db);
	}
	(void)buf_appendf(&cmd, " \"SELECT 'A', agent, count(*), count(DISTINCT seq), max(seq), "
		"sum(lane = 0) FROM events WHERE lane IS NOT NULL AND agent BETWEEN %" PRId64
		" AND %" PRId64 " GROUP BY agent; "
		"SELECT 'D', count(*) FROM (SELECT agent, seq, count(*) FROM events WHERE lane IS "
		"NOT NULL AND agent BETWEEN %" PRId64 " AND %" PRId64 " GROUP BY agent, seq "
		"HAVING count(*) > 1);\" 2>&1", lo, hi, lo, hi);
	p = popen(cmd.data, "r");
	if (p == NULL)
		goto out;
	while (fgets(line, sizeof(line), p) != NULL) {
		long long agent;
		unsigned long long rows, distinct, maxseq, urgent;

		if (sscanf(line, "A %lld %llu %llu %llu %llu", &agent, &rows, &distinct, &maxseq,
			&urgent) == 5) {
			struct agent *a = find_agent(sorted, lg.nagents, agent);

			if (a == NULL) {
				v->foreign_rows += rows;
				continue;
			}
			v->agents_seen++;
			v->rows += rows;
			v->sum_max_seq += maxseq;
			v->urgent_rows += urgent;
			if (rows == distinct && rows == maxseq && rows == a->total)
				v->agents_exact++;
		} else if (sscanf(line, "D %llu", &rows) == 1) {
			v->dup_pairs = rows;
			v->ok = true;
		} else {
			warnx_("sqlite3: %s", line);
		}
	}
	if (pclose(p) != 0)
		v->ok = false;
out:
	buf_release(&cmd);
	free(sorted);
}

static void
server_status(char *out, size_t outlen)
{
	struct buf resp;
	int status = 0;
	const char *ev;
	size_t evlen;
	int64_t received = -1, stored = -1, dups = -1;

	snprintf(out, outlen, "n/a");
	buf_init(&resp, 1 << 20);
	if (api_request(&lg.api, "GET", "/api/v1/status", NULL, 0, 10000, &status, &resp) == 0 &&
		status == 200 && json_get_raw(resp.data, resp.len, "events", &ev, &evlen) == 0) {
		(void)json_get_i64(ev, evlen, "received", &received);
		(void)json_get_i64(ev, evlen, "stored", &stored);
		(void)json_get_i64(ev, evlen, "duplicates", &dups);
		snprintf(out, outlen, "received=%" PRId64 " stored=%" PRId64 " duplicates=%" PRId64,
			received, stored, dups);
	}
	buf_release(&resp);
}

/* ---- main ---- */

static void
usage(FILE *f)
{
	fprintf(f,
		"Usage: loadgen --server HOST:PORT --data DIR --agents N --events M [options]\n"
		"  --server HOST:PORT      the agent channel (serve.json's \"agents\")\n"
		"  --data DIR              the server's data directory (admin.token, serve.json,\n"
		"                          yingji.db for the check at the end)\n"
		"  --agents N              simulated agents, one TLS connection each\n"
		"  --events M              events in all (M/N per agent)\n"
		"  --rate R                events/s in all (default: as fast as acknowledged)\n"
		"  --window W              unacknowledged events per agent (default 1000)\n"
		"  --urgent-every K        every Kth event on the urgent lane (default 10; 0: none)\n"
		"  --threads T             worker threads (default 1, at most %d)\n"
		"  --conns-per-thread C    or: one thread per C agents\n"
		"  --kill-server-every S   SIGKILL the server every S seconds while streaming\n"
		"  --server-pid-file FILE  its pid (a number, or serve.json's \"pid\")\n"
		"  --timeout S             give up streaming after S seconds (default 900)\n"
		"  --quiet                 no progress lines\n", MAX_THREADS);
}

static int
parse_addr(const char *spec)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	char host[256];
	const char *colon = strrchr(spec, ':');
	size_t hl;

	if (colon == NULL || colon == spec)
		return -EINVAL;
	hl = (size_t)(colon - spec);
	if (spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']') {
		spec++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		return -EINVAL;
	memcpy(host, spec, hl);
	host[hl] = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return -EINVAL;
	memcpy(&lg.addr, ai->ai_addr, ai->ai_addrlen);
	lg.addrlen = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}

static pid_t
read_pid(const char *path)
{
	char text[4096], *p;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, text, sizeof(text) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	text[n] = '\0';
	p = strstr(text, "\"pid\":");
	p = p != NULL ? p + 6 : text;
	return (pid_t)strtol(p, NULL, 10);
}

/* Whether pid is a `yingji serve` (the pid file may be stale for a moment
 * after a kill, and pids are reused). */
static bool
is_server(pid_t pid)
{
	char path[64], cmd[4096];
	ssize_t n;
	bool serve = false, yingji = false;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, cmd, sizeof(cmd) - 1);
	close(fd);
	for (ssize_t i = 0; i < n; i += (ssize_t)strlen(cmd + i) + 1) {
		cmd[n] = '\0';
		if (strcmp(cmd + i, "serve") == 0)
			serve = true;
		if (strstr(cmd + i, "yingji") != NULL)
			yingji = true;
	}
	return serve && yingji;
}

static double
median(double *v, size_t n)
{
	for (size_t i = 1; i < n; i++)
		for (size_t k = i; k > 0 && v[k - 1] > v[k]; k--) {
			double t = v[k];

			v[k] = v[k - 1];
			v[k - 1] = t;
		}
	return n == 0 ? NAN : n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

int
main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "data", required_argument, NULL, 'd' },
		{ "agents", required_argument, NULL, 'n' },
		{ "events", required_argument, NULL, 'm' },
		{ "rate", required_argument, NULL, 'r' },
		{ "window", required_argument, NULL, 'w' },
		{ "urgent-every", required_argument, NULL, 'u' },
		{ "threads", required_argument, NULL, 't' },
		{ "conns-per-thread", required_argument, NULL, 'c' },
		{ "kill-server-every", required_argument, NULL, 'k' },
		{ "server-pid-file", required_argument, NULL, 'p' },
		{ "timeout", required_argument, NULL, 'T' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	uint8_t fp[TOKEN_FP_LEN], secret[TOKEN_SECRET_LEN];
	struct hist lat = { 0 };
	struct verdict v;
	double *rates = NULL, rate_median, seconds, tok_s, enroll_s;
	size_t nrates = 0;
	int64_t t_start, t_go, t_end, next_kill = 0, last_progress;
	uint64_t kills = 0, last_acked = 0, expect_urgent = 0;
	char status[256];
	bool exact;
	int opt, r;

	pthread_mutex_init(&lg.mu, NULL);
	lg.window = 1000;
	lg.urgent_every = 10;
	lg.nthreads = 1;
	lg.timeout_s = 900;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (opt) {
		case 's': lg.server = optarg; break;
		case 'd': lg.datadir = optarg; break;
		case 'n': lg.nagents = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'm': lg.nevents = strtoull(optarg, NULL, 10); break;
		case 'r': lg.rate = strtod(optarg, NULL); break;
		case 'w': lg.window = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'u': lg.urgent_every = (unsigned)strtoul(optarg, NULL, 10); break;
		case 't': lg.nthreads = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'c': lg.conns_per_thread = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'k': lg.kill_every_s = strtod(optarg, NULL); break;
		case 'p': lg.pid_file = optarg; break;
		case 'T': lg.timeout_s = strtod(optarg, NULL); break;
		case 'q': lg.quiet = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (lg.conns_per_thread > 0)
		lg.nthreads = (lg.nagents + lg.conns_per_thread - 1) / lg.conns_per_thread;
	if (lg.nthreads > MAX_THREADS)
		lg.nthreads = MAX_THREADS;
	if (lg.nthreads > lg.nagents)
		lg.nthreads = lg.nagents;
	if (optind < argc || lg.server == NULL || lg.datadir == NULL || lg.nagents == 0 ||
		lg.nevents < lg.nagents || lg.window == 0 || lg.nthreads == 0 ||
		(lg.kill_every_s > 0 && lg.pid_file == NULL)) {
		usage(stderr);
		return 2;
	}
	if (parse_addr(lg.server) < 0) {
		warnx_("bad --server %s", lg.server);
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
	srand((unsigned)getpid());
	r = api_client_from_datadir(lg.datadir, &lg.api);
	if (r < 0) {
		warnx_("%s: cannot reach the API (serve.json, admin.token): %s", lg.datadir,
			strerror(-r));
		return 1;
	}
	snprintf(lg.certdir, sizeof(lg.certdir), "/tmp/loadgen-XXXXXX");
	if (mkdtemp(lg.certdir) == NULL) {
		warnx_("mkdtemp: %s", strerror(errno));
		return 1;
	}

	/* Agents and their tokens. */
	lg.agents = xcalloc(lg.nagents, sizeof(*lg.agents));
	t_start = now_monotonic_ns();
	for (unsigned i = 0; i < lg.nagents; i++) {
		struct agent *a = &lg.agents[i];

		a->idx = i;
		a->fd = -1;
		snprintf(a->name, sizeof(a->name), "loadgen-%04u", i);
		a->total = lg.nevents / lg.nagents + (i < lg.nevents % lg.nagents ? 1 : 0);
		a->next_seq = 1;
		a->backoff_ms = BACKOFF_MIN_MS;
		a->sent_ns = xcalloc(lg.window, sizeof(*a->sent_ns));
		buf_init(&a->in, 2 * WIRE_MAX_FRAME);
		buf_init(&a->out, 0);
		r = fetch_token(a->token);
		if (r < 0) {
			warnx_("POST /api/v1/tokens: %s", strerror(-r));
			(void)rmdir(lg.certdir);
			return 1;
		}
		if (lg.urgent_every > 0)
			expect_urgent += a->total / lg.urgent_every;
	}
	tok_s = secs(now_monotonic_ns() - t_start);
	if (token_parse(lg.agents[0].token, fp, secret) < 0 ||
		tls_ctx_client_new(NULL, fp, NULL, NULL, &lg.enroll_ctx) < 0) {
		warnx_("bad token or TLS context");
		(void)rmdir(lg.certdir);
		return 1;
	}
	explicit_bzero(secret, sizeof(secret));

	/* Workers: agents round-robin. */
	lg.workers = xcalloc(lg.nthreads, sizeof(*lg.workers));
	for (unsigned t = 0; t < lg.nthreads; t++) {
		struct worker *w = &lg.workers[t];

		w->idx = t;
		w->epfd = epoll_create1(EPOLL_CLOEXEC);
		w->agents = xcalloc(lg.nagents / lg.nthreads + 1, sizeof(*w->agents));
	}
	for (unsigned i = 0; i < lg.nagents; i++) {
		struct worker *w = &lg.workers[i % lg.nthreads];

		lg.agents[i].w = w;
		w->agents[w->nagents++] = &lg.agents[i];
	}
	t_start = now_monotonic_ns();
	for (unsigned t = 0; t < lg.nthreads; t++)
		pthread_create(&lg.workers[t].th, NULL, worker_main, &lg.workers[t]);

	/* Enrollment. */
	while (atomic_load(&lg.enrolled) < lg.nagents) {
		if (secs(now_monotonic_ns() - t_start) > 300) {
			warnx_("only %" PRIu64 " of %u agents enrolled in 300 s; giving up",
				(uint64_t)atomic_load(&lg.enrolled), lg.nagents);
			atomic_store(&lg.stop, true);
			for (unsigned t = 0; t < lg.nthreads; t++)
				pthread_join(lg.workers[t].th, NULL);
			if (lg.ca_path != NULL)
				(void)unlink(lg.ca_path);
			(void)rmdir(lg.certdir);
			return 1;
		}
		usleep(10000);
	}
	enroll_s = secs(now_monotonic_ns() - t_start);
	(void)rmdir(lg.certdir);	/* the CA file stays until the end */
	if (!lg.quiet)
		fprintf(stderr, "loadgen: %u agents enrolled in %.2f s (tokens: %.2f s); streaming "
			"%" PRIu64 " events, window %u, %u thread(s)%s\n", lg.nagents, enroll_s, tok_s,
			lg.nevents, lg.window, lg.nthreads, lg.rate > 0 ? ", rate-limited" : "");

	/* Streaming. */
	rates = xcalloc((size_t)lg.timeout_s + 2, sizeof(*rates));
	t_go = last_progress = now_monotonic_ns();
	if (lg.kill_every_s > 0)
		next_kill = t_go + (int64_t)(lg.kill_every_s * 1e9);
	atomic_store(&lg.go, true);
	for (;;) {
		int64_t now = now_monotonic_ns();
		uint64_t acked = atomic_load(&lg.acked_total);

		if (atomic_load(&lg.done_agents) == lg.nagents)
			break;
		if (secs(now - t_go) > lg.timeout_s) {
			warnx_("timed out after %.0f s with %" PRIu64 " of %" PRIu64 " acknowledged",
				lg.timeout_s, acked, lg.nevents);
			break;
		}
		if (next_kill != 0 && now >= next_kill) {
			pid_t pid = read_pid(lg.pid_file);

			if (pid > 1 && is_server(pid) && kill(pid, SIGKILL) == 0) {
				kills++;
				if (!lg.quiet)
					fprintf(stderr, "loadgen: %.1f s: kill -9 %d (kill #%" PRIu64 ", %"
						PRIu64 " acknowledged)\n", secs(now - t_go), (int)pid, kills,
						acked);
			}
			next_kill = now + (int64_t)(lg.kill_every_s * 1e9);
		}
		if (now - last_progress >= 1000000000) {
			double r1 = (double)(acked - last_acked) / secs(now - last_progress);

			if (nrates < (size_t)lg.timeout_s + 1)
				rates[nrates++] = r1;
			if (!lg.quiet)
				fprintf(stderr, "loadgen: %5.1f s  acked %" PRIu64 "/%" PRIu64 "  %.0f/s  "
					"agents done %" PRIu64 "  connects %" PRIu64 "  failures %" PRIu64
					"\n", secs(now - t_go), acked, lg.nevents, r1,
					(uint64_t)atomic_load(&lg.done_agents),
					(uint64_t)atomic_load(&lg.connects),
					(uint64_t)atomic_load(&lg.failures));
			last_acked = acked;
			last_progress = now;
		}
		usleep(2000);
	}
	t_end = now_monotonic_ns();
	atomic_store(&lg.stop, true);
	for (unsigned t = 0; t < lg.nthreads; t++) {
		pthread_join(lg.workers[t].th, NULL);
		for (int b = 0; b < HIST_BUCKETS; b++)
			lat.n[b] += lg.workers[t].lat.n[b];
		lat.count += lg.workers[t].lat.count;
		if (lg.workers[t].lat.max_us > lat.max_us)
			lat.max_us = lg.workers[t].lat.max_us;
	}
	seconds = secs(t_end - t_go);
	/* The steady rate: whole seconds, without the first (connecting) and the last. */
	rate_median = nrates > 2 ? median(rates + 1, nrates - 2) : (double)lg.nevents / seconds;
	if (lg.ca_path != NULL)
		(void)unlink(lg.ca_path);
	(void)rmdir(lg.certdir);

	/* What the server has. */
	if (lg.kill_every_s > 0)
		usleep(500000);		/* let the supervisor bring it back for the status call */
	server_status(status, sizeof(status));
	verify_db(&v);
	exact = v.ok && v.rows == lg.nevents && v.sum_max_seq == lg.nevents && v.dup_pairs == 0 &&
		v.agents_exact == lg.nagents && v.urgent_rows == expect_urgent &&
		atomic_load(&lg.acked_total) == lg.nevents;

	printf("agents:            %u (%u thread%s, window %u; urgent lane: ", lg.nagents,
		lg.nthreads, lg.nthreads == 1 ? "" : "s", lg.window);
	if (lg.urgent_every > 0)
		printf("1 event in %u)\n", lg.urgent_every);
	else
		printf("none)\n");
	printf("enrollment:        %.2f s (+ %.2f s for %u tokens over the API)\n", enroll_s,
		tok_s, lg.nagents);
	printf("events:            %" PRIu64 " to send, %" PRIu64 " frames sent (%" PRIu64
		" resent), %" PRIu64 " acknowledged\n", lg.nevents,
		(uint64_t)atomic_load(&lg.frames_sent), (uint64_t)atomic_load(&lg.resent),
		(uint64_t)atomic_load(&lg.acked_total));
	printf("time:              %.2f s from the first connect to the last ACK\n", seconds);
	printf("rate:              %.0f events/s overall, %.0f events/s median of whole seconds\n",
		(double)atomic_load(&lg.acked_total) / seconds, rate_median);
	printf("ack latency:       p50 %.1f ms, p99 %.1f ms, max %.1f ms (send to ACK)\n",
		hist_pct_ms(&lat, 50), hist_pct_ms(&lat, 99), (double)lat.max_us / 1000.0);
	printf("connections:       %" PRIu64 " connects, %" PRIu64 " failures, %" PRIu64
		" ERROR frames, %" PRIu64 " server kills\n", (uint64_t)atomic_load(&lg.connects),
		(uint64_t)atomic_load(&lg.failures), (uint64_t)atomic_load(&lg.server_errors), kills);
	printf("server status:     %s\n", status);
	if (v.ok)
		printf("database:          %" PRIu64 " rows for %" PRIu64 " agents (%" PRIu64
			" exact), sum of max seq %" PRIu64 ", urgent %" PRIu64 "/%" PRIu64
			", (agent,seq) stored twice: %" PRIu64 "\n", v.rows, v.agents_seen,
			v.agents_exact, v.sum_max_seq, v.urgent_rows, expect_urgent, v.dup_pairs);
	else
		printf("database:          the sqlite3 check failed (is sqlite3 installed?)\n");
	printf("anomalies:         %" PRIu64 " protocol oddities, %" PRIu64
		" WELCOMEs below what was acknowledged\n", (uint64_t)atomic_load(&lg.anomalies),
		(uint64_t)atomic_load(&lg.ack_regressions));
	printf("exactly once:      %s\n", exact ? "yes (stored == sent, no duplicates)" : "NO");
	printf("RESULT agents=%u events=%" PRIu64 " acked=%" PRIu64 " seconds=%.3f rate=%.0f "
		"rate_median=%.0f stored=%" PRIu64 " dup_pairs=%" PRIu64 " exact=%s kills=%" PRIu64
		" connects=%" PRIu64 " failures=%" PRIu64 " resent=%" PRIu64 " ack_p50_ms=%.1f "
		"ack_p99_ms=%.1f regressions=%" PRIu64 "\n", lg.nagents, lg.nevents,
		(uint64_t)atomic_load(&lg.acked_total), seconds,
		(double)atomic_load(&lg.acked_total) / seconds, rate_median,
		v.ok ? v.rows : 0, v.dup_pairs, exact ? "yes" : "no", kills,
		(uint64_t)atomic_load(&lg.connects), (uint64_t)atomic_load(&lg.failures),
		(uint64_t)atomic_load(&lg.resent), hist_pct_ms(&lat, 50), hist_pct_ms(&lat, 99),
		(uint64_t)atomic_load(&lg.ack_regressions));
	fflush(stdout);

	for (unsigned i = 0; i < lg.nagents; i++) {
		tls_ctx_free(lg.agents[i].ctx);
		buf_release(&lg.agents[i].in);
		buf_release(&lg.agents[i].out);
		free(lg.agents[i].sent_ns);
	}
	for (unsigned t = 0; t < lg.nthreads; t++) {
		close(lg.workers[t].epfd);
		free(lg.workers[t].agents);
	}
	tls_ctx_free(lg.enroll_ctx);
	free(lg.workers);
	free(lg.agents);
	free(lg.ca_path);
	free(rates);
	return exact ? 0 : 3;
}
