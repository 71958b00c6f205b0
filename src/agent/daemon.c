/* daemon.c - the agent's main loop: watcher, guards, folding, status, control. */
#include "agent/daemon.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "agent/control.h"
#include "agent/event.h"
#include "agent/guard/guard.h"
#include "agent/guard/lockmode.h"
#include "agent/guard/store.h"
#include "agent/guard/syncer.h"
#include "agent/guard/watch.h"
#include "agent/journal/journal.h"
#include "agent/logs/journald.h"
#include "agent/logs/logs.h"
#include "agent/responder/responder.h"
#include "agent/state.h"
#include "agent/transport/enrollment.h"
#include "agent/transport/shipper.h"
#include "core/bmap.h"
#include "core/i18n.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "core/banned.h"

/* One path that keeps being tampered with: its events are folded into one. */
struct fold {
	char		*path;
	uint64_t	 count;
	int64_t		 first_ns, last_ns;	/* monotonic */
	bool		 persistent;
	struct event_writer writer;
	char		*guard;
	uint64_t	 actions[ACT_BLOCKED + 1];	/* outcome of each repair */
	enum event_action last_action;
};

struct daemon {
	const struct daemon_opts	*o;
	int				 statefd, lockfd, quarantinefd;
	struct store			*store;
	struct journal			*journal;
	struct journal_writer		*writer;
	struct enrollment		 enrollment;
	struct shipper			*shipper;	/* NULL when not enrolled */
	struct responder		*responder;	/* NULL when not enrolled or no nftables */
	pthread_mutex_t			 respond_mu;	/* the shipper's thread and ours */
	struct logs			*logs;		/* NULL without --log */
	struct journald			*journald;	/* NULL without --journal */
	const struct watcher_ops	*wops;
	struct watcher			*watcher;
	struct guard			*guards;
	uint64_t			*watched_gen;
	bool				*rescan_pending;
	int64_t				 last_overflow_rescan;
	int64_t				 last_periodic;
	size_t				 nguards;
	struct bmap			 folds;		/* path -> struct fold */
	bool				 status_dirty;
	bool				 in_window;
	bool				 overflow;
	int64_t				 started_ns;
	int64_t				 last_journal_warn;
	uint64_t			 events;
	char				 blocked[1400];	/* the last content_blocked, for the control reply */
};

static void
daemon_log_event(const struct event *ev)
{
	char changes[128], writer[320] = "";

	if (ev->type != EV_TAMPER && ev->type != EV_DRIFT && ev->type != EV_TAMPER_PERSISTENT) {
		log_info("agent", "%s %s%s%s", event_type_name(ev->type), ev->path ? ev->path : "",
			ev->detail ? ": " : "", ev->detail ? ev->detail : "");
		return;
	}
	event_changes_str(ev->changes, changes, sizeof(changes));
	if (ev->writer.pid > 0)
		snprintf(writer, sizeof(writer), ", pid %d %s", (int)ev->writer.pid, ev->writer.exe);
	log_warn("guard", "%s %s [%s] %s %.3f ms%s%s%s", event_type_name(ev->type),
		ev->path ? ev->path : "", changes, event_action_name(ev->action),
		(double)ev->latency_ns / 1e6, writer, ev->detail ? ": " : "",
		ev->detail ? ev->detail : "");
}

static void
daemon_record(struct daemon *d, struct event *ev)
{
	struct buf line;

	buf_init(&line, JOURNAL_MAX_RECORD);
	if (event_to_json(ev, &line) == 0 && d->writer != NULL)
		journal_writer_submit(d->writer, ev->time_ns, line.data, line.len);
	buf_release(&line);
	daemon_log_event(ev);
	d->events++;
	d->status_dirty = true;
}

/* A line from a followed log file: journaled, not logged. */
static void
daemon_log_line(int64_t time_ns, const void *payload, size_t len, void *data)
{
	struct daemon *d = data;

	journal_writer_submit(d->writer, time_ns, payload, len);
	d->events++;
}

static void
emit_persistent(struct daemon *d, struct fold *f, bool ended)
{
	struct event ev;
	char detail[200];

	event_init(&ev, EV_TAMPER_PERSISTENT);
	ev.guard = f->guard;
	ev.path = f->path;
	ev.count = f->count;
	ev.writer = f->writer;
	ev.action = f->last_action;
	/* Say what really happened to each of them, not what we hoped. */
	snprintf(detail, sizeof(detail),
		"persistent attack%s: %llu changes in %.1f s; restored %llu, quarantined %llu, "
		"recreated %llu, alerted only %llu, failed %llu",
		ended ? " ended" : "", (unsigned long long)f->count,
		(double)(f->last_ns - f->first_ns) / 1e9,
		(unsigned long long)f->actions[ACT_RESTORED],
		(unsigned long long)f->actions[ACT_QUARANTINED],
		(unsigned long long)f->actions[ACT_RECREATED],
		(unsigned long long)f->actions[ACT_ALERTED],
		(unsigned long long)f->actions[ACT_FAILED]);
	ev.detail = detail;
	daemon_record(d, &ev);
}

static void
fold_free(void *value, void *data)
{
	struct fold *f = value;

	free(f->path);
	free(f->guard);
	free(f);
}

/* The guards' event sink: fold repeated tampers of one path, record the rest. */
static void
daemon_emit(struct event *ev, void *data)
{
	struct daemon *d = data;
	struct fold *f;
	int64_t now = now_monotonic_ns();
	size_t plen;

	if (ev->type == EV_CONTENT_BLOCKED && ev->content_kind != NULL)
		snprintf(d->blocked, sizeof(d->blocked), "content_blocked\t%s\t%s\t%llu\t%s",
			ev->content_kind, ev->path != NULL ? ev->path : "",
			(unsigned long long)ev->content_offset,
			ev->content_what != NULL ? ev->content_what : "");
	if (ev->type != EV_TAMPER || ev->path == NULL) {
		daemon_record(d, ev);
		return;
	}
	plen = strlen(ev->path);
	f = plen <= BMAP_MAX_KEY ? bmap_get(&d->folds, ev->path, plen) : NULL;
	if (f == NULL || now - f->last_ns > d->o->fold_window_ns) {
		if (f == NULL && plen <= BMAP_MAX_KEY) {
			f = xcalloc(1, sizeof(*f));
			f->path = xstrdup(ev->path);
			f->guard = xstrdup(ev->guard != NULL ? ev->guard : "");
			bmap_put(&d->folds, ev->path, plen, f);
		}
		if (f != NULL) {
			if (f->persistent)
				emit_persistent(d, f, true);
			f->count = 1;
			f->first_ns = f->last_ns = now;
			f->persistent = false;
			f->writer = ev->writer;
			memset(f->actions, 0, sizeof(f->actions));
			if ((size_t)ev->action < sizeof(f->actions) / sizeof(f->actions[0]))
				f->actions[ev->action]++;
			f->last_action = ev->action;
		}
		daemon_record(d, ev);
		return;
	}
	f->count++;
	f->last_ns = now;
	if ((size_t)ev->action < sizeof(f->actions) / sizeof(f->actions[0]))
		f->actions[ev->action]++;
	f->last_action = ev->action;
	if (ev->writer.pid > 0)
		f->writer = ev->writer;
	if (f->persistent)
		return;		/* folded: counted, restored, not recorded one by one */
	if (f->count >= d->o->fold_threshold) {
		f->persistent = true;
		emit_persistent(d, f, false);
		return;
	}
	daemon_record(d, ev);
}

struct expire_ctx {
	struct daemon	*d;
	int64_t		 now;
	struct fold	*expired[64];
	size_t		 n;
};

static void
collect_expired(void *value, void *data)
{
	struct expire_ctx *c = data;
	struct fold *f = value;

	if (c->n < 64 && c->now - f->last_ns > c->d->o->fold_window_ns)
		c->expired[c->n++] = f;
}

static void
expire_folds(struct daemon *d)
{
	struct expire_ctx c = { .d = d, .now = now_monotonic_ns() };

	bmap_each(&d->folds, collect_expired, &c);
	for (size_t i = 0; i < c.n; i++) {
		struct fold *f = c.expired[i];

		if (f->persistent)
			emit_persistent(d, f, true);
		bmap_del(&d->folds, f->path, strlen(f->path));
		fold_free(f, NULL);
	}
}

static const char *
guard_state_name(enum guard_state s)
{
	static const char *const names[] = { "starting", "ready", "paused", "error" };

	return names[s];
}

static void
write_status(struct daemon *d)
{
	char when[48];
	struct buf out;
	struct json j;
	int r;

	buf_init(&out, 0);
	json_begin(&j, &out);
	json_key_i64(&j, "pid", getpid());
	json_key_str(&j, "version", YINGJI_VERSION);
	json_key_str(&j, "watcher", d->wops != NULL ? d->wops->name : "none");
	json_key_bool(&j, "watcher_fallback", d->wops == &watcher_inotify);
	time_format_local(d->started_ns, when, sizeof(when));
	json_key_str(&j, "started", when);
	json_key_u64(&j, "events", d->events);
	if (d->shipper != NULL) {
		int connected;
		uint64_t backlog;

		shipper_state(d->shipper, &connected, &backlog);
		json_key_object(&j, "centre");
		json_key_str(&j, "server", d->enrollment.server);
		json_key_i64(&j, "agent", d->enrollment.agent);
		json_key_bool(&j, "connected", connected != 0);
		json_key_u64(&j, "backlog", backlog);
		json_close(&j);
	}
	r = d->writer != NULL ? journal_writer_error(d->writer) : 0;
	if (r < 0)
		json_key_str(&j, "journal_error", strerror(-r));
	json_key_array(&j, "guards");
	for (size_t i = 0; i < d->nguards; i++) {
		struct guard *g = &d->guards[i];
		uint64_t files = 0, dirs = 0, unstored = 0;

		for (size_t k = 0; k < g->base.n; k++) {
			files += g->base.e[k].type == FT_REG;
			dirs += g->base.e[k].type == FT_DIR;
			unstored += g->base.e[k].type == FT_REG && !(g->base.e[k].flags & FE_STORED);
		}
		json_array_object(&j);
		json_key_str(&j, "path", g->root != NULL ? g->root : d->o->guards[i]);
		json_key_u64(&j, "files", files);
		json_key_u64(&j, "dirs", dirs);
		json_key_str(&j, "state", guard_state_name(g->state));
		json_key_bool(&j, "lock", g->lock && g->lock_supported);
		json_key_u64(&j, "tampers", g->tampers);
		/* files whose change can only be alerted (not in the store) */
		json_key_u64(&j, "alert_only", unstored);
		if (g->last_tamper_ns > 0) {
			time_format_local(g->last_tamper_ns, when, sizeof(when));
			json_key_str(&j, "last_tamper", when);
		}
		json_close(&j);
	}
	json_close(&j);
	json_end(&j);
	buf_putc(&out, '\n');
	r = state_write_file(d->statefd, STATE_STATUS_FILE, out.data, out.len);
	if (r < 0)
		log_debug("agent", "cannot write status: %s", strerror(-r));
	else
		d->status_dirty = false;
	buf_release(&out);
}

static void rewatch_changed(struct daemon *d);

static void
on_hit(void *data, size_t idx, const char *rel, pid_t pid)
{
	struct daemon *d = data;
	struct guard *g;

	if (idx >= d->nguards || d->guards[idx].root == NULL)
		return;
	g = &d->guards[idx];
	guard_reconcile(g, rel, pid, now_monotonic_ns());
	if (g->generation != d->watched_gen[idx]) {
		/* A directory was recreated (or the root's parent reopened): watch it
		 * before reading on, and look over the guard once more soon, for what
		 * was written there before the watch. */
		rewatch_changed(d);
		d->rescan_pending[idx] = true;
	}
}

static void
on_overflow(void *data, ssize_t idx)
{
	struct daemon *d = data;

	d->overflow = true;
}

static void
rewatch_changed(struct daemon *d)
{
	for (size_t i = 0; i < d->nguards; i++) {
		struct guard *g = &d->guards[i];
		int r;

		if (g->root == NULL || g->generation == d->watched_gen[i])
			continue;
		d->watched_gen[i] = g->generation;
		/* recreated directories and their content are locked again too */
		if (g->lock && g->lock_supported && g->state == GUARD_READY)
			lock_tree(g, true);
		r = d->wops->watch_guard(d->watcher, i, g);
		if (r < 0)
			log_error("guard", "%s: cannot watch: %s", g->root, strerror(-r));
	}
}

static void
handle_overflow(struct daemon *d)
{
	int64_t now = now_monotonic_ns();

	d->overflow = false;
	/* Anyone who can write on the filesystem can overflow the queue: rescan
	 * at once, but at most once a second; later ones go to the next tick. */
	if (now - d->last_overflow_rescan < 1000000000) {
		for (size_t i = 0; i < d->nguards; i++)
			d->rescan_pending[i] = true;
		return;
	}
	d->last_overflow_rescan = now;
	log_warn("guard", "%s", L("事件队列溢出: 重新扫描所有防护目录",
				 "event queue overflow: rescanning every guard"));
	for (size_t i = 0; i < d->nguards; i++)
		if (d->guards[i].root != NULL)
			guard_rescan(&d->guards[i], EV_RESCAN, "event queue overflow");
}

static struct guard *
find_guard(struct daemon *d, const char *path)
{
	for (size_t i = 0; i < d->nguards; i++)
		if (d->guards[i].root != NULL && strcmp(d->guards[i].root, path) == 0)
			return &d->guards[i];
	return NULL;
}

static void
handle_control(struct daemon *d, int lfd)
{
	char buf[CONTROL_MAX_REQUEST + 1], who[256], msg[1600];
	struct control_request req;
	struct ucred cred;
	socklen_t clen = sizeof(cred);
	struct timeval tv = { .tv_sec = 2 };
	struct guard *g = NULL;
	size_t len = 0;
	int fd, r = -EINVAL;

	fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) < 0 || cred.uid != 0) {
		snprintf(msg, sizeof(msg), "1only root may control the agent");
		goto reply;
	}
	for (;;) {
		ssize_t n = read(fd, buf + len, sizeof(buf) - len);

		if (n <= 0)
			break;
		len += (size_t)n;
		if (len == sizeof(buf))
			break;
	}
	if (control_parse(buf, len, &req) < 0 || req.nfields < 3) {
		snprintf(msg, sizeof(msg), "1malformed request");
		goto reply;
	}
	snprintf(who, sizeof(who), "%s (uid %d, pid %d)", req.field[req.nfields - 1],
		(int)cred.uid, (int)cred.pid);
	g = find_guard(d, req.field[1]);
	if (g == NULL) {
		snprintf(msg, sizeof(msg), "1not a guarded directory of this agent: %s", req.field[1]);
		goto reply;
	}
	d->blocked[0] = '\0';
	if (strcmp(req.field[0], "publish") == 0 && req.nfields == 4) {
		r = guard_publish(g, req.field[2][0] != '\0' ? req.field[2] : NULL, who);
	} else if (strcmp(req.field[0], "pause") == 0) {
		r = guard_pause(g, who);
	} else if (strcmp(req.field[0], "resume") == 0) {
		r = guard_resume(g, who);
	} else {
		snprintf(msg, sizeof(msg), "1unknown request");
		goto reply;
	}
	if (r == 0)
		snprintf(msg, sizeof(msg), "0%s: %s", req.field[0], g->root);
	else if (r == -EALREADY)
		snprintf(msg, sizeof(msg), "1%s", strcmp(req.field[0], "pause") == 0
			? "already paused" : "not paused: publish needs --from STAGING, or pause first");
	else if (r == GUARD_CONTENT_BLOCKED && d->blocked[0] != '\0')
		snprintf(msg, sizeof(msg), "1%s", d->blocked);	/* the client words it */
	else
		snprintf(msg, sizeof(msg), "1%s failed: %s", req.field[0], strerror(-r));
	d->status_dirty = true;
	rewatch_changed(d);
reply:
	(void)!write(fd, msg, strlen(msg));
	close(fd);
}

int
maintenance_parse(const char *s, struct maintenance_window *ret)
{
	static const char *const days[] = { "Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat" };
	struct maintenance_window w = { 0 };
	char dayspec[64];
	int h1, m1, h2, m2, n = 0;

	if (sscanf(s, "%63s %d:%d-%d:%d%n", dayspec, &h1, &m1, &h2, &m2, &n) != 5 || s[n] != '\0')
		return -EINVAL;
	if (h1 < 0 || h1 > 23 || h2 < 0 || h2 > 24 || m1 < 0 || m1 > 59 || m2 < 0 || m2 > 59)
		return -EINVAL;
	if (strcmp(dayspec, "daily") == 0) {
		w.days = 0x7f;
	} else {
		char *save = NULL, *tok;

		for (tok = strtok_r(dayspec, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
			size_t k;

			for (k = 0; k < 7 && strcmp(tok, days[k]) != 0; k++)
				;
			if (k == 7)
				return -EINVAL;
			w.days |= (uint8_t)(1u << k);
		}
	}
	w.start_min = h1 * 60 + m1;
	w.end_min = h2 * 60 + m2;
	if (w.end_min <= w.start_min)
		return -EINVAL;
	*ret = w;
	return 0;
}

static bool
in_maintenance(const struct daemon *d)
{
	time_t now = time(NULL) + 8 * 3600;	/* Asia/Shanghai */
	struct tm tm;
	int min;

	gmtime_r(&now, &tm);
	min = tm.tm_hour * 60 + tm.tm_min;
	for (size_t i = 0; i < d->o->nwindows; i++) {
		const struct maintenance_window *w = &d->o->windows[i];

		if ((w->days & (1u << tm.tm_wday)) && min >= w->start_min && min < w->end_min)
			return true;
	}
	return false;
}

/* Windows pause guards at their start and accept what changed at their end.
 * Only pauses the window made are ended by it (the marker says who paused),
 * so an operator's own pause is left alone, and a window that ended while the
 * agent was down is finished at start. */
static void
check_maintenance(struct daemon *d, bool starting)
{
	bool in = in_maintenance(d);

	if (in == d->in_window && !starting)
		return;
	d->in_window = in;
	for (size_t i = 0; i < d->nguards; i++) {
		struct guard *g = &d->guards[i];

		if (g->root == NULL)
			continue;
		if (in && g->state == GUARD_READY)
			guard_pause(g, GUARD_WINDOW_WHO);
		else if (!in && g->state == GUARD_PAUSED && guard_paused_by_window(g))
			guard_publish(g, NULL, GUARD_WINDOW_WHO " (changes accepted at its end)");
	}
	rewatch_changed(d);
}

/* The 1 s tick: the root still where it should be, rescans asked for, the
 * periodic full check that makes up for anything a watcher cannot see (writes
 * through a mapping or a hard link made elsewhere). */
static void
check_guards(struct daemon *d)
{
	int64_t now = now_monotonic_ns();
	bool periodic = d->o->rescan_interval_ns > 0 &&
		now - d->last_periodic >= d->o->rescan_interval_ns;

	if (periodic)
		d->last_periodic = now;
	for (size_t i = 0; i < d->nguards; i++) {
		struct guard *g = &d->guards[i];

		if (g->root == NULL || g->state != GUARD_READY)
			continue;
		if (!guard_root_intact(g))
			guard_reconcile(g, "", 0, now);
		if (d->rescan_pending[i] || g->needs_rescan || periodic) {
			d->rescan_pending[i] = false;
			g->needs_rescan = false;
			guard_rescan(g, EV_TAMPER, periodic ? "periodic check" : "after a repair");
		}
	}
	rewatch_changed(d);
}

static void
check_journal(struct daemon *d)
{
	int r = journal_writer_error(d->writer);
	int64_t now = now_monotonic_ns();
	uint64_t dropped = journal_take_dropped(d->journal);

	if (dropped > 0) {
		struct event ev;
		char detail[160];

		event_init(&ev, EV_STATE_ERROR);
		snprintf(detail, sizeof(detail), "event journal full: the %llu oldest records "
			"were dropped (journal_max reached; with a centre: not yet acknowledged)",
			(unsigned long long)dropped);
		ev.detail = detail;
		ev.count = dropped;
		daemon_record(d, &ev);
	}
	if (r == 0 || now - d->last_journal_warn < 60ll * 1000000000)
		return;
	d->last_journal_warn = now;
	log_error("agent", "%s: %s", L("状态目录无法写入事件日志, 事件暂存内存并持续重试",
				      "state directory: cannot write the event journal; events are "
				      "kept in memory and retried"), strerror(-r));
}

static int
open_watcher(struct daemon *d)
{
	const char *want = d->o->watcher != NULL ? d->o->watcher : "auto";
	int r = -EINVAL;

	if (strcmp(want, "inotify") != 0) {
		d->wops = &watcher_fanotify;
		r = d->wops->open(&d->watcher);
		for (size_t i = 0; r == 0 && i < d->nguards; i++)
			if (d->guards[i].root != NULL)
				r = d->wops->watch_guard(d->watcher, i, &d->guards[i]);
		if (r == 0 || strcmp(want, "fanotify") == 0)
			return r;
		log_warn("agent", "%s (%s); %s", L("fanotify 不可用", "fanotify is not available"),
			strerror(-r), L("改用 inotify (后备: 不能识别写入进程, 每个目录一个监视)",
				       "using inotify (fallback: no writer pid, one watch per directory)"));
		if (d->watcher != NULL)
			d->wops->close(d->watcher);
		d->watcher = NULL;
	}
	d->wops = &watcher_inotify;
	r = d->wops->open(&d->watcher);
	for (size_t i = 0; r == 0 && i < d->nguards; i++)
		if (d->guards[i].root != NULL)
			r = d->wops->watch_guard(d->watcher, i, &d->guards[i]);
	return r;
}

static void
emit_agent(struct daemon *d, enum event_type type, const char *detail)
{
	struct event ev;

	event_init(&ev, type);
	ev.detail = detail;
	daemon_record(d, &ev);
}

/* ---- first response (the responder, src/agent/respond) ---- */

/* The shipper's thread: one "respond" command from the centre. */
static void
respond_command(void *data, const char *json, size_t len, struct buf *out)
{
	struct daemon *d = data;

	pthread_mutex_lock(&d->respond_mu);
	if (d->responder != NULL)
		responder_handle(d->responder, json, len, out);
	else
		(void)buf_puts(out, "{\"ok\":false,\"state\":\"failed\",\"error\":"
			"\"the responder is not available (nftables?)\"}");
	pthread_mutex_unlock(&d->respond_mu);
}

/* The centre's addresses (from the enrollment's host:port) are the allow
 * list no block may cover, so that no response ever cuts the agent off. */
static void
open_responder(struct daemon *d)
{
	char host[256], addrs[8][64];
	const char *allow[16];
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *res = NULL, *ai;
	const char *colon;
	size_t n = 0, hl, nserver;
	int r;

	snprintf(host, sizeof(host), "%s", d->enrollment.server);
	if (host[0] == '[') {
		colon = strchr(host, ']');
		hl = colon != NULL ? (size_t)(colon - host - 1) : 0;
		memmove(host, host + 1, hl);
	} else {
		colon = strrchr(host, ':');
		hl = colon != NULL ? (size_t)(colon - host) : strlen(host);
	}
	host[hl] = '\0';
	if (getaddrinfo(host, NULL, &hints, &res) == 0) {
		for (ai = res; ai != NULL && n < 8; ai = ai->ai_next) {
			void *a = ai->ai_family == AF_INET ?
				(void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr :
				(void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;

			if (inet_ntop(ai->ai_family, a, addrs[n], sizeof(addrs[n])) != NULL) {
				allow[n] = addrs[n];
				n++;
			}
		}
		freeaddrinfo(res);
	}
	nserver = n;
	if (nserver == 0)
		log_warn("respond", "%s %s", L("无法解析中心服务器的地址，隔离将被拒绝：",
			"cannot resolve the centre's address; isolation will be refused:"), host);
	for (size_t i = 0; i < d->o->nallow && n < sizeof(allow) / sizeof(allow[0]); i++)
		allow[n++] = d->o->allow[i];
	r = responder_open(d->statefd, allow, n, nserver, &d->responder);
	if (r < 0) {
		d->responder = NULL;
		log_warn("respond", "%s: %s", L("先期处置模块不可用（nftables？），处置请求将被回报为失败",
			"the responder is not available (nftables?); response requests will fail"),
			strerror(-r));
	}
}

int
daemon_run(const struct daemon_opts *o)
{
	struct daemon d = { .o = o, .statefd = -1, .lockfd = -1, .quarantinefd = -1 };

	pthread_mutex_init(&d.respond_mu, NULL);
	struct journal_opts jopts = { .max_bytes = o->journal_max_bytes };
	struct watch_sink sink = { .hit = on_hit, .overflow = on_overflow, .data = &d };
	struct epoll_event ev;
	struct itimerspec tick = { .it_interval = { .tv_sec = 1 }, .it_value = { .tv_sec = 1 } };
	sigset_t mask;
	pid_t holder = 0;
	int epfd = -1, sigfd = -1, timerfd = -1, ctlfd = -1, status = 2, r;
	bool running = true;

	d.started_ns = now_realtime_ns();
	bmap_init(&d.folds);
	/* Blocked before any thread starts, so every thread inherits the mask and
	 * a SIGTERM always reaches the loop (and the journal is drained). */
	sigemptyset(&mask);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	r = state_open(o->state, true, &d.statefd);
	if (r < 0) {
		log_error("agent", "%s %s: %s", L("无法打开状态目录", "cannot open state directory"),
			o->state, strerror(-r));
		goto out;
	}
	r = state_lock(d.statefd, &d.lockfd, &holder);
	if (r == -EBUSY) {
		log_error("agent", L("另一个 yingji-agent (pid %d) 正在使用状态目录 %s",
				     "another yingji-agent (pid %d) is using the state directory %s"),
			(int)holder, o->state);
		goto out;
	}
	if (r < 0) {
		log_error("agent", "%s %s: %s", L("无法锁定状态目录", "cannot lock state directory"),
			o->state, strerror(-r));
		goto out;
	}
	if (mkdirat(d.statefd, "quarantine", 0700) < 0 && errno != EEXIST) {
		r = -errno;
		log_error("agent", "%s: %s", L("无法创建隔离区", "cannot create quarantine"),
			strerror(-r));
		goto out;
	}
	d.quarantinefd = openat(d.statefd, "quarantine", O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
		O_CLOEXEC);
	r = store_open(d.statefd, o->max_store_bytes, &d.store);
	if (r < 0 || d.quarantinefd < 0) {
		log_error("agent", "%s: %s", L("无法打开内容库", "cannot open the content store"),
			strerror(r < 0 ? -r : errno));
		goto out;
	}
	/* Room for several segments, so that reaching the cap drops a part of
	 * the journal, not all of it. */
	if (jopts.max_bytes > 0) {
		jopts.segment_bytes = jopts.max_bytes / 8;
		if (jopts.segment_bytes < 64 * 1024)
			jopts.segment_bytes = 64 * 1024;
		if (jopts.segment_bytes > 16u << 20)
			jopts.segment_bytes = 16u << 20;
	}
	r = journal_open(d.statefd, &jopts, &d.journal);
	if (r == 0)
		r = journal_writer_start(d.journal, &d.writer);
	if (r < 0) {
		log_error("agent", "%s: %s", L("无法打开事件日志", "cannot open the event journal"),
			strerror(-r));
		goto out;
	}
	syncer_start();
	r = enrollment_load(d.statefd, o->state, &d.enrollment);
	if (r == 0) {
		struct shipper_opts so = { .statefd = d.statefd, .journal = d.journal,
			.enrollment = &d.enrollment, .bulk_rate = o->bulk_rate,
			.respond = respond_command, .respond_data = &d };

		open_responder(&d);
		r = shipper_start(&so, &d.shipper);
		if (r < 0) {
			log_error("agent", "%s: %s", L("无法启动向中心的传输（证书？）",
				"cannot start sending to the centre (certificates?)"), strerror(-r));
			goto out;
		}
	} else if (r != -ENOENT) {
		log_error("agent", "%s %s: %s", L("登记信息无效", "bad enrollment in"), o->state,
			strerror(-r));
		goto out;
	}
	emit_agent(&d, EV_AGENT_START, "yingji-agent " YINGJI_VERSION);

	d.guards = xcalloc(o->nguards, sizeof(*d.guards));
	d.watched_gen = xcalloc(o->nguards, sizeof(*d.watched_gen));
	d.rescan_pending = xcalloc(o->nguards, sizeof(*d.rescan_pending));
	d.last_periodic = now_monotonic_ns();
	d.nguards = o->nguards;
	for (size_t i = 0; i < o->nguards; i++) {
		struct guard *g = &d.guards[i];

		g->inspector = o->inspector;
		r = guard_open(g, o->guards[i], d.statefd, d.quarantinefd, d.store, o->lock,
			daemon_emit, &d);
		if (r < 0) {
			char detail[512];

			snprintf(detail, sizeof(detail), "%s: %s", o->guards[i],
				r == -ELOOP ? "is a symlink (not followed); nothing recorded to restore"
				: r == -EBADMSG ? "baseline file is corrupt or belongs to another path"
						: strerror(-r));
			log_error("guard", "%s %s", L("无法防护", "cannot guard"), detail);
			guard_close(g);
			g->root = NULL;
			g->state = GUARD_ERROR;
			emit_agent(&d, EV_GUARD_ERROR, detail);
			continue;
		}
	}
	r = open_watcher(&d);
	if (r < 0) {
		log_error("agent", "%s: %s", L("无法启动实时监视", "cannot start the watcher"),
			strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < d.nguards; i++) {
		struct guard *g = &d.guards[i];
		char detail[128];

		if (g->root == NULL)
			continue;
		d.watched_gen[i] = g->generation;
		/* Anything that changed between the first scan and the first watch. */
		guard_rescan(g, EV_DRIFT, "start-up");
		rewatch_changed(&d);
		snprintf(detail, sizeof(detail), "watcher %s%s", d.wops->name,
			d.wops == &watcher_inotify ? " (fallback)" : "");
		{
			struct event e;

			event_init(&e, EV_GUARD_READY);
			e.guard = g->root;
			e.path = g->root;
			e.detail = detail;
			for (size_t k = 0; k < g->base.n; k++)
				e.files += g->base.e[k].type == FT_REG;
			daemon_record(&d, &e);
		}
	}

	if (o->nlogs > 0) {
		struct logs_opts lo = { .statefd = d.statefd, .journal = d.journal,
			.writer = d.writer, .paths = o->logs, .npaths = o->nlogs,
			.emit = daemon_log_line, .data = &d };

		r = logs_open(&lo, &d.logs);
		if (r < 0) {
			log_error("agent", "%s: %s", L("无法启动日志采集", "cannot start log collection"),
				strerror(-r));
			goto out;
		}
	}
	if (o->journal) {
		struct journald_opts jo = { .statefd = d.statefd, .journal = d.journal,
			.writer = d.writer, .dir = o->journal_dir,
			.emit = daemon_log_line, .data = &d };

		r = journald_open(&jo, &d.journald);
		if (r < 0) {
			log_error("agent", "%s %s: %s", L("无法读取 systemd 日志",
				"cannot read the systemd journal"),
				o->journal_dir != NULL ? o->journal_dir : "", strerror(-r));
			goto out;
		}
	}
	sigfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
	timerfd_settime(timerfd, 0, &tick, NULL);
	ctlfd = control_listen(d.statefd);
	if (ctlfd < 0)
		log_warn("agent", "control socket: %s", strerror(-ctlfd));
	epfd = epoll_create1(EPOLL_CLOEXEC);
	ev.events = EPOLLIN;
	ev.data.fd = d.wops->fd(d.watcher);
	epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	ev.data.fd = sigfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, sigfd, &ev);
	ev.data.fd = timerfd;
	epoll_ctl(epfd, EPOLL_CTL_ADD, timerfd, &ev);
	if (ctlfd >= 0) {
		ev.data.fd = ctlfd;
		epoll_ctl(epfd, EPOLL_CTL_ADD, ctlfd, &ev);
	}
	if (d.logs != NULL) {
		ev.data.fd = logs_fd(d.logs);
		epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	}
	if (d.journald != NULL) {
		ev.data.fd = journald_fd(d.journald);
		epoll_ctl(epfd, EPOLL_CTL_ADD, ev.data.fd, &ev);
	}
	check_maintenance(&d, true);
	write_status(&d);
	log_info("agent", "%s (%s)", L("防护已就绪", "guards ready"), d.wops->name);

	while (running) {
		struct epoll_event evs[8];
		bool ticked = false;
		bool busy = (d.logs != NULL && logs_busy(d.logs)) ||
			(d.journald != NULL && journald_busy(d.journald));
		bool journal_ready = false;
		int n = epoll_wait(epfd, evs, 8, busy ? 0 : -1);

		if (n < 0 && errno == EINTR)
			continue;
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == d.wops->fd(d.watcher)) {
				r = d.wops->read(d.watcher, &sink);
				if (r < 0)
					log_error("agent", "watcher: %s", strerror(-r));
				if (d.overflow)
					handle_overflow(&d);
				rewatch_changed(&d);
			} else if (fd == sigfd) {
				struct signalfd_siginfo si;

				if (read(sigfd, &si, sizeof(si)) == sizeof(si) && si.ssi_signo != SIGHUP)
					running = false;
			} else if (fd == timerfd) {
				uint64_t ticks;

				(void)!read(timerfd, &ticks, sizeof(ticks));
				expire_folds(&d);
				if (d.responder != NULL) {
					pthread_mutex_lock(&d.respond_mu);
					(void)responder_tick(d.responder, now_realtime_ns());
					pthread_mutex_unlock(&d.respond_mu);
				}
				check_maintenance(&d, false);
				check_guards(&d);
				check_journal(&d);
				ticked = true;
			} else if (fd == ctlfd) {
				handle_control(&d, ctlfd);
			} else if (d.logs != NULL && fd == logs_fd(d.logs)) {
				logs_read_events(d.logs);
			} else if (d.journald != NULL && fd == journald_fd(d.journald)) {
				journal_ready = true;
			}
		}
		/* The journal on its descriptor, on the tick (in case a change was
		 * not signalled) and while it has more than a turn's share. */
		if (d.journald != NULL && (journal_ready || ticked || journald_busy(d.journald)))
			journald_read(d.journald, ticked);
		if (d.logs != NULL) {
			logs_continue(d.logs);
			if (ticked)
				logs_tick(d.logs);
		}
		if (d.status_dirty)
			write_status(&d);
	}
	log_info("agent", "%s", L("正在停止", "stopping"));
	{
		struct expire_ctx c = { .d = &d, .now = INT64_MAX / 2 };

		bmap_each(&d.folds, collect_expired, &c);
		for (size_t i = 0; i < c.n; i++)
			if (c.expired[i]->persistent)
				emit_persistent(&d, c.expired[i], true);
	}
	/* Before agent_stop: a rotated file's last lines; saves positions. */
	logs_close(d.logs);
	d.logs = NULL;
	journald_close(d.journald);
	d.journald = NULL;
	emit_agent(&d, EV_AGENT_STOP, NULL);
	status = 0;
out:
	logs_close(d.logs);	/* saves positions: the writer must still run */
	journald_close(d.journald);
	if (d.watcher != NULL)
		d.wops->close(d.watcher);
	for (size_t i = 0; i < d.nguards; i++)
		if (d.guards[i].root != NULL)
			guard_close(&d.guards[i]);
	free(d.guards);
	free(d.watched_gen);
	free(d.rescan_pending);
	bmap_each(&d.folds, fold_free, NULL);
	bmap_release(&d.folds);
	syncer_stop();
	if (d.shipper != NULL) {
		/* agent_stop and whatever came before it reach the centre if it
		 * answers within a few seconds; otherwise they wait in the journal. */
		(void)journal_writer_flush(d.writer);
		shipper_stop(d.shipper, 3000);
	}
	journal_writer_stop(d.writer);
	responder_close(d.responder);
	pthread_mutex_destroy(&d.respond_mu);
	journal_close(d.journal);
	store_free(d.store);
	if (ctlfd >= 0) {
		close(ctlfd);
		unlinkat(d.statefd, STATE_CONTROL_SOCKET, 0);
	}
	if (d.statefd >= 0 && status == 0)
		unlinkat(d.statefd, STATE_STATUS_FILE, 0);
	for (int *fd = (int[]){ epfd, sigfd, timerfd, d.quarantinefd, d.lockfd, d.statefd, -2 };
		*fd != -2; fd++)
		if (*fd >= 0)
			close(*fd);
	return status;
}
