/*
 * net.c - `yingji serve`'s network thread: one epoll loop over the agent
 * listener, the HTTP listener, every connection (TLS where it applies), the
 * engine's completion eventfd, a 1 s tick and the signals. It parses and hands
 * over; it never writes the database itself.
 */
#include "server/server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "core/conf.h"
#include "core/i18n.h"
#include "core/json.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "plan/plan.h"
#include "server/server_int.h"
#include "server/http/http.h"
#include "core/banned.h"

/* epoll data: small numbers are the fixed fds, anything else a conn id. */
enum { TAG_SIGNAL = 1, TAG_TIMER, TAG_ENGINE, TAG_AGENT_LISTEN, TAG_HTTP_LISTEN, TAG_FIRST_CONN };

#define AGENT_IN_MAX	(2 * WIRE_MAX_FRAME)
#define HTTP_IN_MAX	(HTTP_MAX_HEAD + HTTP_MAX_BODY_DEFAULT + 1024)

void
server_opts_init(struct server_opts *o)
{
	memset(o, 0, sizeof(*o));
	snprintf(o->agents_addr, sizeof(o->agents_addr), "0.0.0.0:8641");
	snprintf(o->http_addr, sizeof(o->http_addr), "127.0.0.1:8640");
	o->lost_after_ns = 30ll * 1000000000;
	o->heartbeat_ns = 5ll * 1000000000;
	o->token_ttl_ns = 3600ll * 1000000000;
	o->suppress_ns = 600ll * 1000000000;
	o->max_queue_bytes = 64ull << 20;
	o->max_conns = 10000;
}

void
server_opts_release(struct server_opts *o)
{
	for (size_t i = 0; i < o->nrule_dirs; i++)
		free((char *)o->rule_dirs[i]);
	o->nrule_dirs = 0;
	free(o->plan_path);
	o->plan_path = NULL;
}

int
server_opts_add_rules(struct server_opts *o, const char *dir)
{
	if (o->nrule_dirs >= SERVER_MAX_RULE_DIRS)
		return -E2BIG;
	o->rule_dirs[o->nrule_dirs++] = xstrdup(dir);
	return 0;
}

int
server_opts_load(struct server_opts *o, const char *path, char **ret_datadir)
{
	struct conf c = { 0 };
	const char *msg = NULL;
	unsigned line = 0;
	int r;

	r = conf_load_file(path, &c, &line, &msg);
	if (r < 0) {
		if (msg != NULL)
			fprintf(stderr, "yingji: %s:%u: %s\n", path, line, msg);
		else
			fprintf(stderr, "yingji: %s: %s\n", path, strerror(-r));
		goto out;
	}
	for (size_t i = 0; i < c.n; i++) {
		const struct conf_entry *e = &c.entries[i];
		uint64_t n;

		if (strcmp(e->key, "data") == 0) {
			free(*ret_datadir);
			*ret_datadir = xstrdup(e->value);
		} else if (strcmp(e->key, "agents") == 0) {
			snprintf(o->agents_addr, sizeof(o->agents_addr), "%s", e->value);
		} else if (strcmp(e->key, "http") == 0) {
			snprintf(o->http_addr, sizeof(o->http_addr), "%s", e->value);
		} else if (strcmp(e->key, "lost_after") == 0) {
			r = duration_parse(e->value, &o->lost_after_ns);
		} else if (strcmp(e->key, "heartbeat") == 0) {
			r = duration_parse(e->value, &o->heartbeat_ns);
		} else if (strcmp(e->key, "token_ttl") == 0) {
			r = duration_parse(e->value, &o->token_ttl_ns);
		} else if (strcmp(e->key, "suppress") == 0) {
			r = duration_parse(e->value, &o->suppress_ns);
		} else if (strcmp(e->key, "max_queue") == 0) {
			r = size_parse(e->value, &o->max_queue_bytes);
		} else if (strcmp(e->key, "max_conns") == 0) {
			r = size_parse(e->value, &n);
			if (r == 0 && (n < 1 || n > 1000000))
				r = -ERANGE;
			o->max_conns = (unsigned)n;
		} else if (strcmp(e->key, "rules") == 0) {
			r = server_opts_add_rules(o, e->value);
		} else if (strcmp(e->key, "plan") == 0) {
			free(o->plan_path);
			o->plan_path = xstrdup(e->value);
		} else {
			fprintf(stderr, "yingji: %s:%u: %s '%s'\n", path, e->line,
				L("未知的配置项", "unknown key"), e->key);
			r = -EINVAL;
		}
		if (r < 0) {
			if (strcmp(e->key, "data") != 0 && r != -EINVAL)
				fprintf(stderr, "yingji: %s:%u: %s: %s\n", path, e->line, e->key,
					L("取值无效", "bad value"));
			else if (r == -EINVAL && msg == NULL)
				fprintf(stderr, "yingji: %s:%u: %s: %s\n", path, e->line, e->key,
					L("取值无效", "bad value"));
			goto out;
		}
	}
	r = 0;
out:
	conf_release(&c);
	return r;
}

/* ---- connections ---- */

struct conn *
conn_get(struct server *s, uint64_t id)
{
	return bmap_get(&s->conns, &id, sizeof(id));
}

struct agent_mem *
agent_mem_get(struct server *s, int64_t id)
{
	return bmap_get(&s->agents, &id, sizeof(id));
}

struct job *
server_pending(struct server *s)
{
	if (s->pending == NULL)
		s->pending = job_new(JOB_EVENTS, 0);
	return s->pending;
}

void
server_event(struct server *s, const char *type, int64_t agent, const char *detail)
{
	struct buf body;
	int64_t now = now_realtime_ns();

	buf_init(&body, 8192);
	server_event_json(&body, type, agent, now, detail);
	job_add_event(server_pending(s), agent, -1, 0, now, type, NULL, body.data, body.len);
	buf_release(&body);
}

void
conn_update_events(struct server *s, struct conn *c)
{
	struct epoll_event ev = { 0 };
	uint32_t want = 0;

	if (c->tls != NULL && tls_conn_want_write(c->tls))
		want |= EPOLLOUT;
	if (c->out.len > c->out_off)
		want |= EPOLLOUT;
	if (!c->closing) {
		bool read = true;

		if (c->kind == CONN_AGENT && (c->busy || (s->paused && c->agent != 0)))
			read = false;
		if (c->kind == CONN_HTTP && c->park != PARK_NONE)
			read = false;
		if (c->tls != NULL && c->handshaking)
			read = !tls_conn_want_write(c->tls);
		if (read)
			want |= EPOLLIN;
	}
	if (want == c->events)
		return;
	ev.events = want;
	ev.data.u64 = c->id;
	if (epoll_ctl(s->epfd, EPOLL_CTL_MOD, c->fd, &ev) == 0)
		c->events = want;
}

void
conn_close(struct server *s, struct conn *c)
{
	if (c->kind == CONN_AGENT)
		agent_channel_closed(s, c);
	(void)epoll_ctl(s->epfd, EPOLL_CTL_DEL, c->fd, NULL);
	if (c->tls != NULL)
		tls_conn_free(c->tls);
	close(c->fd);
	bmap_del(&s->conns, &c->id, sizeof(c->id));
	buf_release(&c->in);
	buf_release(&c->out);
	s->nconns--;
	free(c);
}

/* Write what is queued. Returns -errno when the connection is dead. */
static int
conn_flush(struct server *s, struct conn *c)
{
	while (c->out.len > c->out_off) {
		ssize_t n;

		if (c->tls != NULL)
			n = tls_conn_write(c->tls, c->out.data + c->out_off, c->out.len - c->out_off);
		else {
			n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off,
				MSG_NOSIGNAL);
			if (n < 0)
				n = errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		if (n == -EAGAIN)
			break;
		if (n <= 0)
			return n < 0 ? (int)n : -EPIPE;
		c->out_off += (size_t)n;
	}
	if (c->out_off == c->out.len) {
		buf_reset(&c->out);
		c->out_off = 0;
	}
	(void)s;
	return 0;
}

void
conn_send(struct server *s, struct conn *c, const void *p, size_t n)
{
	/* Compact before growing: appends only ever go at the end, so a TLS
	 * write retried after EAGAIN still starts with the same bytes. */
	if (c->out_off > 0 && c->out_off == c->out.len) {
		buf_reset(&c->out);
		c->out_off = 0;
	}
	if (buf_append(&c->out, p, n) < 0) {
		/* A peer that reads nothing while we keep writing: cut it off. */
		log_warn("net", "%s: %s", c->addr, L("对端不读取数据，断开", "peer is not reading; "
			"closing"));
		c->closing = true;
		c->out_off = c->out.len;
	}
}

static void
conn_output(struct server *s, struct conn *c)
{
	int r = conn_flush(s, c);

	if (r < 0 || (c->closing && c->out.len == c->out_off)) {
		if (c->closing && c->tls != NULL && r == 0)
			tls_conn_shutdown(c->tls);
		conn_close(s, c);
		return;
	}
	conn_update_events(s, c);
}

static void
addr_string(const struct sockaddr_storage *ss, char *out, size_t outlen)
{
	char host[INET6_ADDRSTRLEN] = "?";
	unsigned port = 0;

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *a = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
		port = ntohs(a->sin_port);
		snprintf(out, outlen, "%s:%u", host, port);
	} else if (ss->ss_family == AF_INET6) {
		const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
		port = ntohs(a->sin6_port);
		snprintf(out, outlen, "[%s]:%u", host, port);
	} else {
		snprintf(out, outlen, "?");
	}
}

static void
accept_conns(struct server *s, int lfd, enum conn_kind kind)
{
	for (;;) {
		struct sockaddr_storage ss;
		socklen_t sl = sizeof(ss);
		struct epoll_event ev = { 0 };
		struct conn *c;
		int fd, one = 1, r;

		fd = accept4(lfd, (struct sockaddr *)&ss, &sl, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (fd < 0) {
			if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ECONNABORTED)
				log_warn("net", "accept: %s", strerror(errno));
			return;
		}
		if (s->nconns >= s->o->max_conns) {
			close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		c = xcalloc(1, sizeof(*c));
		c->id = s->next_conn_id++;
		c->kind = kind;
		c->fd = fd;
		c->created_ns = c->last_rx_ns = now_monotonic_ns();
		buf_init(&c->in, kind == CONN_AGENT ? AGENT_IN_MAX : HTTP_IN_MAX);
		buf_init(&c->out, kind == CONN_AGENT ? AGENT_OUT_MAX : HTTP_OUT_MAX);
		addr_string(&ss, c->addr, sizeof(c->addr));
		struct tls_ctx *ctx = kind == CONN_AGENT ? s->agent_tls : s->http_tls;
		if (ctx != NULL) {
			r = tls_conn_new(ctx, fd, true, &c->tls);
			if (r < 0) {
				close(fd);
				buf_release(&c->in);
				buf_release(&c->out);
				free(c);
				continue;
			}
			c->handshaking = true;
		}
		ev.events = EPOLLIN;
		ev.data.u64 = c->id;
		if (epoll_ctl(s->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			tls_conn_free(c->tls);
			close(fd);
			buf_release(&c->in);
			buf_release(&c->out);
			free(c);
			continue;
		}
		c->events = EPOLLIN;
		bmap_put(&s->conns, &c->id, sizeof(c->id), c);
		s->nconns++;
	}
}

static void
conn_handshake(struct server *s, struct conn *c)
{
	int r = tls_conn_handshake(c->tls);

	if (r == -EAGAIN) {
		conn_update_events(s, c);
		return;
	}
	if (r < 0) {
		s->m.rejected_peers++;
		log_warn("net", "%s: %s: %s", c->addr, L("TLS 握手失败", "TLS handshake failed"),
			tls_conn_error(c->tls));
		conn_close(s, c);
		return;
	}
	c->handshaking = false;
	if (tls_conn_peer(c->tls, &c->peer) == 0)
		c->has_cert = c->peer.has_cert;
	conn_update_events(s, c);
}

/* Read what is there into c->in. Returns 0, or -errno / -EPIPE at the end. */
static int
conn_read(struct server *s, struct conn *c)
{
	char chunk[64 * 1024];

	for (int rounds = 0; rounds < 16; rounds++) {
		ssize_t n;

		if (c->tls != NULL)
			n = tls_conn_read(c->tls, chunk, sizeof(chunk));
		else {
			n = recv(c->fd, chunk, sizeof(chunk), 0);
			if (n < 0)
				n = errno == EAGAIN || errno == EWOULDBLOCK ? -EAGAIN : -errno;
		}
		if (n == -EAGAIN)
			return 0;
		if (n == 0)
			return -EPIPE;
		if (n < 0)
			return (int)n;
		if (buf_append(&c->in, chunk, (size_t)n) < 0)
			return -E2BIG;
	}
	(void)s;
	return 0;
}

static void
conn_ready(struct server *s, struct conn *c, uint32_t events)
{
	uint64_t id = c->id;
	int r;

	if (c->handshaking) {
		conn_handshake(s, c);
		return;
	}
	if ((events & EPOLLOUT) || (c->tls != NULL && tls_conn_want_write(c->tls))) {
		/* A read that wanted to write (TLS key update) is retried as a read:
		 * with nothing queued, a flush would not touch TLS and the
		 * level-triggered EPOLLOUT would come back for ever. */
		if (c->tls != NULL && tls_conn_want_write(c->tls) && c->out.len == c->out_off)
			events |= EPOLLIN;
		r = conn_flush(s, c);
		if (r < 0) {
			conn_close(s, c);
			return;
		}
	}
	/* Not reading (backpressure, a parked request) and the peer is gone:
	 * a level-triggered HUP would wake the loop for ever. */
	if ((events & (EPOLLHUP | EPOLLERR)) && !(c->events & EPOLLIN)) {
		conn_close(s, c);
		return;
	}
	if ((events & (EPOLLIN | EPOLLHUP | EPOLLERR)) && (c->events & EPOLLIN)) {
		r = conn_read(s, c);
		if (c->in.len > 0) {
			if (c->kind == CONN_AGENT)
				agent_channel_input(s, c);
			else
				api_input(s, c);
			c = conn_get(s, id);	/* the handler may have closed it */
			if (c == NULL)
				return;
		}
		if (r < 0) {
			if (r == -E2BIG)
				log_warn("net", "%s: %s", c->addr,
					L("输入超过上限，断开", "input over the limit; closing"));
			conn_close(s, c);
			return;
		}
	}
	conn_output(s, c);
}

/* ---- listeners ---- */

/* "ADDR:PORT", "[v6]:PORT". Binds, listens; out gets the bound address. */
static int
listen_on(const char *spec, int *ret_fd, char *out, size_t outlen)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
		.ai_flags = AI_PASSIVE | AI_NUMERICHOST | AI_NUMERICSERV };
	struct addrinfo *ai = NULL;
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char host[128], *colon;
	const char *port;
	int fd = -1, one = 1, r;

	if (spec[0] == '[') {
		snprintf(host, sizeof(host), "%s", spec + 1);
		colon = strstr(host, "]:");
		if (colon == NULL)
			return -EINVAL;
		*colon = '\0';
		port = colon + 2;
	} else {
		snprintf(host, sizeof(host), "%s", spec);
		colon = strrchr(host, ':');
		if (colon == NULL)
			return -EINVAL;
		*colon = '\0';
		port = colon + 1;
	}
	r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0)
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	(void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0 || listen(fd, 4096) < 0 ||
		getsockname(fd, (struct sockaddr *)&ss, &sl) < 0) {
		r = -errno;
		goto out;
	}
	addr_string(&ss, out, outlen);
	*ret_fd = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return r;
}

static bool
is_loopback_spec(const char *spec)
{
	return strncmp(spec, "127.", 4) == 0 || strncmp(spec, "[::1]:", 6) == 0 ||
		strncmp(spec, "localhost:", 10) == 0;
}

static int
epoll_add(int epfd, int fd, uint64_t tag)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = tag };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ev) < 0 ? -errno : 0;
}

/* ---- agents known at start ---- */

static int
load_agent(const struct db_agent *a, void *data)
{
	struct server *s = data;
	struct agent_mem *am = xcalloc(1, sizeof(*am));

	am->rec = *a;
	for (int l = 0; l < WIRE_LANES; l++)
		am->queued[l] = am->committed[l] = a->acked[l];
	/* Whoever was connected when the server stopped gets lost_after from
	 * now to come back before being reported lost. */
	if (a->state == AGENT_CONNECTED) {
		am->online = true;
		am->gone_since_ns = now_monotonic_ns();
	}
	bmap_put(&s->agents, &am->rec.id, sizeof(am->rec.id), am);
	return 0;
}

static void
free_agent(void *value, void *data)
{
	struct agent_mem *am = value;

	(void)data;
	free(am->resp_sent);
	free(am);
}

static void
collect_conn(void *value, void *data)
{
	struct conn ***pp = data;

	*(*pp)++ = value;
}

/* ---- the loop ---- */

static void
engine_done(struct server *s)
{
	struct job *list = engine_take_done(s->engine);
	bool events = false;

	while (list != NULL) {
		struct job *job = list;

		list = job->next;
		if (job->kind == JOB_EVENTS) {
			s->m.stored += job->stored;
			s->m.duplicates += job->duplicates;
			events = true;
		}
		agent_channel_job_done(s, job);
		api_job_done(s, job);
		job_free(job);
	}
	if (events)
		api_events_committed(s);
	if (engine_take_dispatch(s->engine))
		api_responses_dispatch(s, 0, false);
}

static void
update_backpressure(struct server *s)
{
	bool paused = engine_queued_bytes(s->engine) > s->o->max_queue_bytes ||
		engine_error(s->engine) != 0;
	struct conn **all, **p;

	if (paused == s->paused)
		return;
	s->paused = paused;
	if (paused)
		log_warn("net", "%s", L("数据库写入跟不上或出错：暂停接收代理事件（代理端继续缓存）",
			"the database is behind or failing: not reading agents for now (they keep "
			"their events)"));
	else
		log_info("net", "%s", L("恢复接收代理事件", "reading agents again"));
	all = p = xcalloc(s->nconns + 1, sizeof(*all));
	bmap_each(&s->conns, collect_conn, &p);
	for (struct conn **q = all; q < p; q++)
		if ((*q)->kind == CONN_AGENT) {
			/* Nothing was read while paused: that silence is ours. */
			if (!paused)
				(*q)->last_rx_ns = now_monotonic_ns();
			conn_update_events(s, *q);
		}
	free(all);
}

static int
server_setup(struct server *s)
{
	sigset_t mask;
	struct itimerspec its = { .it_interval = { 0, 250000000 }, .it_value = { 0, 250000000 } };
	int r;

	r = datadir_open(s->o->datadir, &s->dd);
	if (r < 0) {
		log_error("serve", "%s %s: %s", L("无法建立数据目录", "cannot set up the data directory"),
			s->o->datadir, strerror(-r));
		return r;
	}
	if (s->dd.created_admin_token) {
		printf("%s\n  %s\n%s %s/admin.token\n",
			L("管理员令牌（只显示这一次，请妥善保管）：", "Admin token (shown this once; keep it safe):"),
			s->dd.admin_token, L("它保存在仅 root 可读的文件", "It is kept in the root-only file"),
			s->o->datadir);
		fflush(stdout);
	}
	s->ecfg.db_path = s->dd.db_path;
	s->ecfg.ca_cert_pem = s->dd.ca_cert_pem.data;
	s->ecfg.ca_key_pem = s->dd.ca_key_pem.data;
	s->ecfg.agent_cert_days = 3650;
	s->ecfg.rule_dirs = s->o->rule_dirs;
	s->ecfg.nrule_dirs = s->o->nrule_dirs;
	s->ecfg.cache_dir = s->dd.cache_path;
	s->ecfg.suppress_ns = s->o->suppress_ns;
	s->audit_head_path = xasprintf("%s/audit.head", s->o->datadir);
	s->ecfg.audit_head_path = s->audit_head_path;
	if (s->o->plan_path != NULL) {
		struct plan_errors errs;

		r = plan_load(s->o->plan_path, &s->plan, &errs);
		if (r < 0) {
			for (size_t i = 0; i < errs.n; i++)
				log_error("plan", "%s:%u: %s", s->o->plan_path, errs.items[i].line,
					errs.items[i].msg);
			log_error("plan", "%s %s (yingji plan check %s)",
				L("预案文件无效，未启动：", "the plan is not valid, not starting:"),
				s->o->plan_path, s->o->plan_path);
			return r;
		}
		s->ecfg.plan = s->plan;
		log_info("plan", "%s %s (%s)", L("已加载预案", "plan loaded"), s->o->plan_path,
			s->plan->name);
	}
	r = engine_start(&s->ecfg, &s->engine);
	if (r < 0) {
		log_error("serve", "%s %s: %s", L("无法打开数据库", "cannot open the database"),
			s->dd.db_path, strerror(-r));
		return r;
	}
	r = db_open(s->dd.db_path, true, &s->reader);
	if (r == 0)
		r = db_agents_list(s->reader, load_agent, s);
	if (r < 0) {
		log_error("serve", "%s: %s", L("无法读取数据库", "cannot read the database"),
			strerror(-r));
		return r;
	}
	r = tls_ctx_server_new(s->dd.ca_cert_path, s->dd.server_cert_path, s->dd.server_key_path,
		true, &s->agent_tls);
	if (r < 0) {
		log_error("serve", "%s: %s", L("无法加载 TLS 证书", "cannot load the TLS certificates"),
			strerror(-r));
		return r;
	}
	s->epfd = epoll_create1(EPOLL_CLOEXEC);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	s->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	s->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (s->epfd < 0 || s->sigfd < 0 || s->timerfd < 0 ||
		timerfd_settime(s->timerfd, 0, &its, NULL) < 0)
		return -errno;

	r = listen_on(s->o->agents_addr, &s->agent_lfd, s->agents_addr, sizeof(s->agents_addr));
	if (r < 0) {
		log_error("serve", "%s %s: %s", L("无法监听代理端口", "cannot listen for agents on"),
			s->o->agents_addr, strerror(-r));
		return r;
	}
	r = listen_on(s->o->http_addr, &s->http_lfd, s->http_addr, sizeof(s->http_addr));
	if (r < 0) {
		log_error("serve", "%s %s: %s", L("无法监听 HTTP 端口", "cannot listen for HTTP on"),
			s->o->http_addr, strerror(-r));
		return r;
	}
	/* Off loopback the API speaks HTTPS with the server's certificate. */
	if (!is_loopback_spec(s->http_addr)) {
		r = tls_ctx_server_new(s->dd.ca_cert_path, s->dd.server_cert_path,
			s->dd.server_key_path, false, &s->http_tls);
		if (r < 0)
			return r;
	}
	if ((r = epoll_add(s->epfd, s->sigfd, TAG_SIGNAL)) < 0 ||
		(r = epoll_add(s->epfd, s->timerfd, TAG_TIMER)) < 0 ||
		(r = epoll_add(s->epfd, engine_done_fd(s->engine), TAG_ENGINE)) < 0 ||
		(r = epoll_add(s->epfd, s->agent_lfd, TAG_AGENT_LISTEN)) < 0 ||
		(r = epoll_add(s->epfd, s->http_lfd, TAG_HTTP_LISTEN)) < 0)
		return r;
	r = datadir_write_serve_json(&s->dd, s->http_addr, s->agents_addr, s->http_tls != NULL);
	if (r < 0) {
		log_error("serve", "serve.json: %s", strerror(-r));
		return r;
	}
	log_info("serve", "%s %s, %s %s%s (%s %s)", L("代理端口", "agents on"), s->agents_addr,
		L("API", "API on"), s->http_tls != NULL ? "https://" : "http://", s->http_addr,
		L("数据目录", "data in"), s->o->datadir);
	return 0;
}

int
server_run(const struct server_opts *o)
{
	struct server s = { .o = o, .epfd = -1, .sigfd = -1, .timerfd = -1, .agent_lfd = -1,
		.http_lfd = -1, .next_conn_id = TAG_FIRST_CONN, .next_cmd_id = 1 };
	sigset_t mask;
	int r;

	s.dd.fd = -1;
	bmap_init(&s.conns);
	bmap_init(&s.agents);
	s.started_ns = now_realtime_ns();
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigprocmask(SIG_BLOCK, &mask, NULL);	/* before the engine thread starts */

	r = server_setup(&s);
	if (r < 0)
		goto out;

	while (!s.stopping) {
		struct epoll_event evs[256];
		int n = epoll_wait(s.epfd, evs, 256, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			r = -errno;
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tag = evs[i].data.u64;
			struct conn *c;

			switch (tag) {
			case TAG_SIGNAL: {
				struct signalfd_siginfo si;

				while (read(s.sigfd, &si, sizeof(si)) == sizeof(si))
					if (si.ssi_signo != SIGHUP)
						s.stopping = true;
				break;
			}
			case TAG_TIMER: {
				uint64_t ticks;
				int64_t now = now_monotonic_ns();

				(void)!read(s.timerfd, &ticks, sizeof(ticks));
				agent_channel_tick(&s, now);
				api_tick(&s, now);
				break;
			}
			case TAG_ENGINE:
				engine_done(&s);
				break;
			case TAG_AGENT_LISTEN:
				accept_conns(&s, s.agent_lfd, CONN_AGENT);
				break;
			case TAG_HTTP_LISTEN:
				accept_conns(&s, s.http_lfd, CONN_HTTP);
				break;
			default:
				c = conn_get(&s, tag);
				if (c != NULL)
					conn_ready(&s, c, evs[i].events);
				break;
			}
		}
		/* Everything gathered in this round goes to the engine at once. */
		if (s.pending != NULL && (s.pending->nitems > 0 || s.pending->nupdates > 0)) {
			engine_submit(s.engine, s.pending);
			s.pending = NULL;
		}
		update_backpressure(&s);
	}
	log_info("serve", "%s", L("正在停止", "stopping"));
	r = 0;
out:
	if (s.nconns > 0) {
		struct conn **all = xcalloc(s.nconns + 1, sizeof(*all)), **p = all;

		bmap_each(&s.conns, collect_conn, &p);
		for (struct conn **q = all; q < p; q++)
			conn_close(&s, *q);
		free(all);
	}
	if (s.pending != NULL && s.engine != NULL && (s.pending->nitems > 0 ||
		s.pending->nupdates > 0)) {
		engine_submit(s.engine, s.pending);
		s.pending = NULL;
	}
	job_free(s.pending);
	api_shutdown(&s);
	engine_stop(s.engine);
	db_close(s.reader);
	plan_free(s.plan);
	free(s.audit_head_path);
	tls_ctx_free(s.agent_tls);
	tls_ctx_free(s.http_tls);
	int fds[] = { s.epfd, s.sigfd, s.timerfd, s.agent_lfd, s.http_lfd };
	for (size_t i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (fds[i] >= 0)
			close(fds[i]);
	bmap_each(&s.agents, free_agent, NULL);
	bmap_release(&s.agents);
	bmap_release(&s.conns);
	if (s.dd.fd >= 0) {
		char serve_json[] = "serve.json";

		(void)unlinkat(s.dd.fd, serve_json, 0);
	}
	datadir_release(&s.dd);
	return r;
}
