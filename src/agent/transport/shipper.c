/* shipper.c - journal → centre, acknowledged (see shipper.h). */
#include "agent/transport/shipper.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "agent/state.h"
#include "agent/transport/channel.h"
#include "core/i18n.h"
#include "core/json_check.h"
#include "core/json_get.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "proto/wire.h"
#include "core/banned.h"

#define CONNECT_TIMEOUT_MS	10000
#define WINDOW_EVENTS		1024		/* sent and not acknowledged, per lane */
#define WINDOW_BYTES		(8u << 20)
#define BACKOFF_MIN_MS		250
#define BACKOFF_MAX_MS		10000
#define REVOKED_BACKOFF_MS	60000

struct lane {
	uint64_t	 cursor;		/* next journal seq to look at */
	uint64_t	 acked;			/* the centre has every record of this lane <= acked */
	uint64_t	*inflight;		/* sent seqs, oldest first */
	size_t		 n, cap, head;
};

struct shipper {
	struct shipper_opts	 o;
	pthread_t		 thread;
	int			 wakefd;	/* the journal's sync notification and stop */
	pthread_mutex_t		 mu;
	bool			 stopping;
	int64_t			 drain_deadline;
	bool			 connected;
	uint64_t		 backlog;
	struct tls_ctx		*ctx;
	struct lane		 lanes[WIRE_LANES];
	int64_t			 heartbeat_ns;
	double			 bulk_tokens;
	int64_t			 bulk_last_ns;
};

static const char *const bulk_types[] = {
	"agent_start", "agent_stop", "guard_ready", "publish", "pause", "resume", "scan_change",
	"log",
};

int
shipper_lane_of(const char *payload, size_t len)
{
	char type[64];
	struct buf t;
	int lane = WIRE_LANE_URGENT;

	buf_init(&t, sizeof(type));
	if (json_get_str(payload, len, "type", &t) == 0)
		for (size_t i = 0; i < sizeof(bulk_types) / sizeof(bulk_types[0]); i++)
			if (strcmp(t.data, bulk_types[i]) == 0)
				lane = WIRE_LANE_BULK;
	buf_release(&t);
	return lane;
}

static void
lane_push(struct lane *l, uint64_t seq)
{
	if (l->n == l->cap) {
		size_t oldcap = l->cap;
		uint64_t *nb = xcalloc(oldcap ? oldcap * 2 : 64, sizeof(*nb));

		for (size_t i = 0; i < l->n; i++)
			nb[i] = l->inflight[(l->head + i) % oldcap];
		free(l->inflight);
		l->inflight = nb;
		l->cap = oldcap ? oldcap * 2 : 64;
		l->head = 0;
	}
	l->inflight[(l->head + l->n) % l->cap] = seq;
	l->n++;
}

static void
lane_ack(struct lane *l, uint64_t seq)
{
	if (seq > l->acked)
		l->acked = seq;
	while (l->n > 0 && l->inflight[l->head] <= seq) {
		l->head = (l->head + 1) % l->cap;
		l->n--;
	}
}

/* Every record below this is acknowledged, whatever its lane. */
static uint64_t
safe_below(const struct shipper *sh)
{
	uint64_t low = UINT64_MAX;

	for (int i = 0; i < WIRE_LANES; i++) {
		const struct lane *l = &sh->lanes[i];
		uint64_t v = l->n > 0 ? l->inflight[l->head] : l->cursor;

		if (v < low)
			low = v;
	}
	return low;
}

struct fill_ctx {
	struct shipper	*sh;
	struct channel	*ch;
	int		 lane;
	uint64_t	 durable;
	unsigned	 budget;	/* events this lane may still send now */
	int		 err;
	bool		 stopped;	/* left a record unsent: the reader's next is past it */
};

static int
fill_cb(uint64_t seq, int64_t time_ns, const void *payload, size_t len, void *data)
{
	struct fill_ctx *fc = data;
	struct lane *l = &fc->sh->lanes[fc->lane];

	if (seq > fc->durable || fc->budget == 0 || l->n >= WINDOW_EVENTS ||
		fc->ch->out.len > WINDOW_BYTES) {
		fc->stopped = true;
		return 1;
	}
	if (shipper_lane_of(payload, len) == fc->lane) {
		fc->err = wire_put_event(&fc->ch->out, (uint8_t)fc->lane, seq, time_ns, payload, len);
		if (fc->err < 0) {
			fc->stopped = true;
			return 1;
		}
		lane_push(l, seq);
		fc->budget--;
	}
	l->cursor = seq + 1;
	return 0;
}

/* Queue what the lane may send now, at most budget events (*ret_sent of them
 * went). Returns -errno on a journal error. */
static int
fill_lane(struct shipper *sh, struct channel *ch, int lane, unsigned budget, unsigned *ret_sent)
{
	struct fill_ctx fc = { .sh = sh, .ch = ch, .lane = lane, .budget = budget };
	struct lane *l = &sh->lanes[lane];
	uint64_t next;
	int r;

	*ret_sent = 0;
	fc.durable = journal_durable_seq(sh->o.journal);
	if (l->cursor > fc.durable || budget == 0)
		return 0;
	r = journal_read(sh->o.statefd, l->cursor, fill_cb, &fc, &next);
	*ret_sent = budget - fc.budget;
	if (r == -ENOENT)
		return 0;
	if (r < 0)
		return r;
	/* Skip damaged records the reader stepped over (only when it read to
	 * the end: when we stopped it, its next is past a record not sent). */
	if (!fc.stopped && next > l->cursor && next - 1 <= fc.durable)
		l->cursor = next;
	return fc.err;
}

static unsigned
bulk_budget(struct shipper *sh)
{
	int64_t now = now_monotonic_ns();

	if (sh->o.bulk_rate == 0)
		return WINDOW_EVENTS;
	sh->bulk_tokens += (double)(now - sh->bulk_last_ns) / 1e9 * (double)sh->o.bulk_rate;
	if (sh->bulk_tokens > (double)sh->o.bulk_rate)
		sh->bulk_tokens = (double)sh->o.bulk_rate;
	sh->bulk_last_ns = now;
	return sh->bulk_tokens >= 1 ? (unsigned)sh->bulk_tokens : 0;
}

static void
answer_command(struct shipper *sh, struct channel *ch, const struct wire_frame *f)
{
	struct buf cmd, res;
	char *status = NULL;
	size_t slen;

	buf_init(&cmd, 64);
	buf_init(&res, 1 << 20);
	if (json_get_str(f->body, f->body_len, "command", &cmd) < 0)
		(void)buf_puts(&res, "{\"ok\":false,\"error\":\"no command\"}");
	else if (strcmp(cmd.data, "ping") == 0)
		(void)buf_appendf(&res, "{\"ok\":true,\"command\":\"ping\",\"agent\":%lld}",
			(long long)sh->o.enrollment->agent);
	else if (strcmp(cmd.data, "status") == 0 &&
		state_read_file(sh->o.statefd, STATE_STATUS_FILE, 512 * 1024, &status, &slen) == 0 &&
		json_check_object(status, slen, 32, NULL) == 0) {
		while (slen > 0 && (status[slen - 1] == '\n' || status[slen - 1] == ' '))
			slen--;
		(void)buf_puts(&res, "{\"ok\":true,\"command\":\"status\",\"status\":");
		(void)buf_append(&res, status, slen);
		(void)buf_putc(&res, '}');
	} else if (strcmp(cmd.data, "respond") == 0 && sh->o.respond != NULL)
		sh->o.respond(sh->o.respond_data, f->body, f->body_len, &res);
	else if (strcmp(cmd.data, "respond") == 0)
		(void)buf_puts(&res, "{\"ok\":false,\"state\":\"failed\",\"error\":"
			"\"this agent runs without a responder (nftables unavailable?)\"}");
	else
		(void)buf_puts(&res, "{\"ok\":false,\"error\":\"unknown command\"}");
	free(status);
	(void)wire_put_command(&ch->out, WIRE_RESULT, f->id, res.data, res.len);
	buf_release(&cmd);
	buf_release(&res);
}

static void
set_state(struct shipper *sh, bool connected)
{
	uint64_t durable = journal_durable_seq(sh->o.journal), safe = safe_below(sh);

	pthread_mutex_lock(&sh->mu);
	sh->connected = connected;
	sh->backlog = durable + 1 > safe ? durable + 1 - safe : 0;
	pthread_mutex_unlock(&sh->mu);
}

static bool
should_stop(struct shipper *sh)
{
	bool stop;

	pthread_mutex_lock(&sh->mu);
	stop = sh->stopping && (now_monotonic_ns() >= sh->drain_deadline ||
		safe_below(sh) > journal_durable_seq(sh->o.journal));
	pthread_mutex_unlock(&sh->mu);
	return stop;
}

/* One connection, from HELLO until it fails. Returns the delay before the
 * next attempt (ms), or -1 to stop. */
static int
session(struct shipper *sh)
{
	const struct enrollment *en = sh->o.enrollment;
	struct channel ch = { .fd = -1 };
	struct wire_frame f;
	struct buf code;
	char hello[512];
	int64_t last_rx, next_hb, acked[WIRE_LANES];
	int delay = -2, r, n;

	r = channel_open(&ch, sh->ctx, en->server, CONNECT_TIMEOUT_MS);
	if (r < 0) {
		log_warn("ship", "%s", ch.error);
		return 0;
	}
	n = snprintf(hello, sizeof(hello), "{\"agent\":%lld,\"version\":\"%s\"}",
		(long long)en->agent, YINGJI_VERSION);
	r = wire_put_json(&ch.out, WIRE_HELLO, hello, (size_t)n);
	if (r == 0)
		r = channel_roundtrip(&ch, CONNECT_TIMEOUT_MS, &f);
	buf_init(&code, 64);
	if (r == 0 && f.type == WIRE_ERROR) {
		(void)json_get_str(f.body, f.body_len, "error", &code);
		log_error("ship", "%s: %.*s", L("中心拒绝连接", "the centre refused"),
			(int)(f.body_len > 300 ? 300 : f.body_len), f.body);
		delay = strcmp(code.data, "revoked") == 0 || strcmp(code.data, "unknown_agent") == 0 ?
			REVOKED_BACKOFF_MS : 0;
		goto out;
	}
	if (r < 0 || f.type != WIRE_WELCOME) {
		log_warn("ship", "%s", r < 0 ? ch.error : "no WELCOME from the centre");
		delay = 0;
		goto out;
	}
	{
		const char *arr, *el;
		size_t arrlen, ellen, pos = 0;
		int64_t hb = 0;

		if (json_get_raw(f.body, f.body_len, "acked", &arr, &arrlen) < 0) {
			delay = 0;
			goto out;
		}
		for (int i = 0; i < WIRE_LANES; i++) {
			char num[32];

			acked[i] = 0;
			if (json_array_next(arr, arrlen, &pos, &el, &ellen) == 0 && ellen < sizeof(num)) {
				memcpy(num, el, ellen);
				num[ellen] = '\0';
				acked[i] = strtoll(num, NULL, 10);
			}
		}
		if (json_get_i64(f.body, f.body_len, "heartbeat_ms", &hb) == 0 && hb > 0)
			sh->heartbeat_ns = hb * 1000000;
	}
	/* The centre cannot hold more than this journal ever made durable: if
	 * it says so, the journal was reset (or the centre is wrong). Sending new
	 * records under numbers it already has would lose them as duplicates,
	 * and trimming up to its word would delete records never sent: neither;
	 * say so loudly and keep everything until someone looks (re-enroll). */
	for (int i = 0; i < WIRE_LANES; i++) {
		uint64_t durable = journal_durable_seq(sh->o.journal);

		if (acked[i] < 0 || (uint64_t)acked[i] > durable) {
			log_error("ship", "%s: %s %lld, %s %" PRIu64, L("中心的确认序号超出本地日志，"
				"可能本地事件日志被重置；为避免丢失事件暂停发送，请重新登记",
				"the centre acknowledges more than this journal ever held (was the "
				"journal reset?); not sending, to lose nothing: re-enroll this agent"),
				L("中心", "centre"), (long long)acked[i], L("本地", "local"), durable);
			delay = REVOKED_BACKOFF_MS;
			goto out;
		}
	}
	for (int i = 0; i < WIRE_LANES; i++) {
		struct lane *l = &sh->lanes[i];

		l->n = l->head = 0;
		l->acked = (uint64_t)acked[i];
		l->cursor = l->acked + 1;
	}
	log_info("ship", "%s %s (%s %" PRIu64 "/%" PRIu64 ")", L("已连接中心", "connected to the centre"),
		en->server, L("中心已有", "it has up to"), sh->lanes[0].acked, sh->lanes[1].acked);
	set_state(sh, true);
	last_rx = now_monotonic_ns();
	next_hb = last_rx + sh->heartbeat_ns;

	for (;;) {
		struct pollfd p[2];
		int64_t now;
		uint64_t ev;
		unsigned sent;
		int timeout;

		if (should_stop(sh)) {
			delay = -1;
			break;
		}
		/* Urgent first; bulk only once urgent has nothing to send, and
		 * within its rate. */
		r = fill_lane(sh, &ch, WIRE_LANE_URGENT, WINDOW_EVENTS, &sent);
		if (r == 0 && sh->lanes[WIRE_LANE_URGENT].cursor >
			journal_durable_seq(sh->o.journal)) {
			r = fill_lane(sh, &ch, WIRE_LANE_BULK, bulk_budget(sh), &sent);
			if (sh->o.bulk_rate > 0)
				sh->bulk_tokens -= sent;
		}
		if (r < 0) {
			log_warn("ship", "journal: %s", strerror(-r));
			delay = 1000;
			break;
		}
		now = now_monotonic_ns();
		if (now >= next_hb) {
			char hb[128];
			uint64_t backlog;

			set_state(sh, true);
			pthread_mutex_lock(&sh->mu);
			backlog = sh->backlog;
			pthread_mutex_unlock(&sh->mu);
			n = snprintf(hb, sizeof(hb), "{\"time_ns\":%lld,\"backlog\":%" PRIu64 "}",
				(long long)now_realtime_ns(), backlog);
			(void)wire_put_json(&ch.out, WIRE_HEARTBEAT, hb, (size_t)n);
			next_hb = now + sh->heartbeat_ns;
		}
		if (now - last_rx > 3 * sh->heartbeat_ns + 5000000000ll) {
			log_warn("ship", "%s", L("中心长时间无响应，重新连接",
				"the centre is silent; reconnecting"));
			delay = 0;
			break;
		}
		r = channel_flush(&ch);
		if (r < 0) {
			log_warn("ship", "%s", ch.error);
			delay = 0;
			break;
		}
		p[0] = (struct pollfd){ .fd = ch.fd, .events = channel_poll_events(&ch) };
		p[1] = (struct pollfd){ .fd = sh->wakefd, .events = POLLIN };
		timeout = (int)((next_hb - now) / 1000000) + 1;
		if (timeout > 1000)
			timeout = 1000;
		/* Bulk held back by its rate: look again soon. */
		if (sh->lanes[WIRE_LANE_BULK].cursor <= journal_durable_seq(sh->o.journal) &&
			timeout > 100)
			timeout = 100;
		if (tls_conn_pending(ch.tls) == 0 && poll(p, 2, timeout) < 0 && errno != EINTR) {
			delay = 1000;
			break;
		}
		if (p[1].revents & POLLIN)
			(void)!read(sh->wakefd, &ev, sizeof(ev));
		r = channel_fill(&ch);
		if (r < 0) {
			log_warn("ship", "%s", ch.error);
			delay = 0;
			break;
		}
		while ((r = channel_next(&ch, &f)) == 1) {
			last_rx = now_monotonic_ns();
			switch (f.type) {
			case WIRE_ACK:
				if (f.lane < WIRE_LANES)
					lane_ack(&sh->lanes[f.lane], f.seq);
				break;
			case WIRE_COMMAND:
				answer_command(sh, &ch, &f);
				break;
			case WIRE_HEARTBEAT:
				break;
			case WIRE_ERROR:
				(void)json_get_str(f.body, f.body_len, "error", &code);
				log_error("ship", "%s: %.*s", L("中心断开连接", "the centre closed"),
					(int)(f.body_len > 300 ? 300 : f.body_len), f.body);
				delay = strcmp(code.data, "revoked") == 0 ? REVOKED_BACKOFF_MS : 0;
				goto out;
			default:
				break;
			}
		}
		if (r < 0) {
			log_warn("ship", "%s", ch.error);
			delay = 0;
			break;
		}
		/* The centre has these: the journal may let them go. */
		{
			uint64_t safe = safe_below(sh);

			if (safe > 1)
				(void)journal_trim(sh->o.journal, safe - 1);
		}
	}
out:
	buf_release(&code);
	if (delay != -1)
		set_state(sh, false);
	channel_close(&ch);
	return delay;
}

static void *
shipper_main(void *arg)
{
	struct shipper *sh = arg;
	int backoff = BACKOFF_MIN_MS;
	bool stop_seen = false;

	for (;;) {
		int delay = session(sh);
		struct pollfd p = { .fd = sh->wakefd, .events = POLLIN };
		int64_t until;

		if (delay == -1)
			break;
		if (delay == -2)
			delay = 0;
		if (delay == 0) {
			delay = backoff;
			backoff = backoff * 2 > BACKOFF_MAX_MS ? BACKOFF_MAX_MS : backoff * 2;
		}
		until = now_monotonic_ns() + (int64_t)delay * 1000000;
		for (;;) {
			int64_t now = now_monotonic_ns(), left = until - now, deadline;
			uint64_t ev;
			bool stop;

			pthread_mutex_lock(&sh->mu);
			stop = sh->stopping;
			deadline = sh->drain_deadline;
			pthread_mutex_unlock(&sh->mu);
			/* Asked to stop: one more try at once (to hand over what is
			 * left); after that the wait holds, only up to the drain's
			 * deadline, so a centre that is gone is not asked again in a
			 * tight loop until then. */
			if (stop && !stop_seen) {
				stop_seen = true;
				break;
			}
			if (left <= 0 || (stop && now >= deadline))
				break;
			if (stop && deadline - now < left)
				left = deadline - now;
			if (poll(&p, 1, (int)(left / 1000000) + 1) > 0)
				(void)!read(sh->wakefd, &ev, sizeof(ev));
		}
		pthread_mutex_lock(&sh->mu);
		if (sh->stopping && now_monotonic_ns() >= sh->drain_deadline) {
			pthread_mutex_unlock(&sh->mu);
			break;
		}
		pthread_mutex_unlock(&sh->mu);
		if (delay < BACKOFF_MIN_MS * 2)
			backoff = BACKOFF_MIN_MS;
	}
	return NULL;
}

int
shipper_start(const struct shipper_opts *o, struct shipper **ret)
{
	struct shipper *sh = xcalloc(1, sizeof(*sh));
	sigset_t all, old;
	int r;

	sh->o = *o;
	sh->heartbeat_ns = 5000000000ll;
	sh->bulk_last_ns = now_monotonic_ns();
	sh->bulk_tokens = (double)o->bulk_rate;
	pthread_mutex_init(&sh->mu, NULL);
	sh->wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (sh->wakefd < 0) {
		r = -errno;
		goto out;
	}
	r = tls_ctx_client_new(o->enrollment->ca_path, NULL, o->enrollment->cert_path,
		o->enrollment->key_path, &sh->ctx);
	if (r < 0)
		goto out;
	for (int i = 0; i < WIRE_LANES; i++)
		sh->lanes[i].cursor = 1;
	journal_set_notify_fd(o->journal, sh->wakefd);
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	r = -pthread_create(&sh->thread, NULL, shipper_main, sh);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0)
		goto out;
	*ret = sh;
	sh = NULL;
out:
	if (sh != NULL) {
		journal_set_notify_fd(o->journal, -1);
		tls_ctx_free(sh->ctx);
		if (sh->wakefd >= 0)
			close(sh->wakefd);
		pthread_mutex_destroy(&sh->mu);
		free(sh);
	}
	return r;
}

void
shipper_stop(struct shipper *sh, int drain_ms)
{
	uint64_t one = 1;

	if (sh == NULL)
		return;
	pthread_mutex_lock(&sh->mu);
	sh->stopping = true;
	sh->drain_deadline = now_monotonic_ns() + (int64_t)drain_ms * 1000000;
	pthread_mutex_unlock(&sh->mu);
	(void)!write(sh->wakefd, &one, sizeof(one));
	pthread_join(sh->thread, NULL);
	journal_set_notify_fd(sh->o.journal, -1);
	tls_ctx_free(sh->ctx);
	close(sh->wakefd);
	for (int i = 0; i < WIRE_LANES; i++)
		free(sh->lanes[i].inflight);
	pthread_mutex_destroy(&sh->mu);
	free(sh);
}

void
shipper_state(struct shipper *sh, int *ret_connected, uint64_t *ret_backlog)
{
	pthread_mutex_lock(&sh->mu);
	*ret_connected = sh->connected;
	*ret_backlog = sh->backlog;
	pthread_mutex_unlock(&sh->mu);
}
