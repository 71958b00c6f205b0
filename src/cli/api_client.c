/*
 * api_client.c - the CLI's side of the HTTP API: finding the server and the
 * credential, and one bounded request per connection (plain or TLS 1.3).
 *
 * The socket is non-blocking and every wait is a poll() against one deadline
 * for the whole request, so a server that accepts and then says nothing, or
 * trickles its answer, costs at most timeout_ms.
 */
#include "cli/api_client.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fdio.h"
#include "core/json_get.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "server/http/http.h"
#include "tls/tls.h"
#include "core/banned.h"

#define SERVE_JSON_MAX	(64 * 1024)
#define TOKEN_FILE_MAX	4096
#define READ_CHUNK	(64 * 1024)

/* ---- where the server is ---- */

/* Printable ASCII without spaces: what may go into a header line as is. */
static bool
is_plain(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

/* "host:port" or "[v6]:port" from s[0..n) into host (brackets removed) and
 * port (1..65535, digits only). */
static int
split_host_port(const char *s, size_t n, char host[256], char port[8])
{
	const char *h, *p;
	size_t hlen, plen;
	unsigned long v = 0;

	if (n > 0 && s[0] == '[') {
		const char *close = memchr(s, ']', n);

		if (close == NULL || (size_t)(close - s) + 1 >= n || close[1] != ':')
			return -EINVAL;
		h = s + 1;
		hlen = (size_t)(close - h);
		p = close + 2;
	} else {
		const char *colon = NULL;

		for (size_t i = 0; i < n; i++)
			if (s[i] == ':')
				colon = s + i;
		if (colon == NULL || memchr(s, ':', (size_t)(colon - s)) != NULL)
			return -EINVAL;	/* an IPv6 address needs brackets */
		h = s;
		hlen = (size_t)(colon - s);
		p = colon + 1;
	}
	plen = (size_t)(s + n - p);
	if (hlen >= 256 || !is_plain(h, hlen) || memchr(h, '/', hlen) != NULL ||
		memchr(h, '@', hlen) != NULL || plen == 0 || plen > 5)
		return -EINVAL;
	for (size_t i = 0; i < plen; i++) {
		if (p[i] < '0' || p[i] > '9')
			return -EINVAL;
		v = v * 10 + (unsigned long)(p[i] - '0');
	}
	if (v == 0 || v > 65535)
		return -EINVAL;
	memcpy(host, h, hlen);
	host[hlen] = '\0';
	memcpy(port, p, plen);
	port[plen] = '\0';
	return 0;
}

/* A token as it may be sent: 1..255 visible ASCII characters. */
static int
set_token(struct api_client *c, const char *t, size_t n)
{
	if (n == 0 || n >= sizeof(c->token) || !is_plain(t, n))
		return -EINVAL;
	memcpy(c->token, t, n);
	c->token[n] = '\0';
	return 0;
}

static int
read_file(const char *dir, const char *name, size_t max, char **ret, size_t *ret_len)
{
	char path[4096];
	int fd, r, n;

	n = snprintf(path, sizeof(path), "%s/%s", dir, name);
	if (n < 0 || (size_t)n >= sizeof(path))
		return -ENAMETOOLONG;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -errno;
	r = fd_read_all(fd, max, ret, ret_len);
	close(fd);
	return r == -EFBIG ? -EINVAL : r;
}

int
api_client_from_datadir(const char *datadir, struct api_client *ret)
{
	struct api_client c = { 0 };
	char *json = NULL, *token = NULL;
	size_t json_len = 0, token_len = 0;
	const char *raw;
	size_t raw_len;
	struct buf addr;
	int r, n;

	buf_init(&addr, 512);
	r = read_file(datadir, "serve.json", SERVE_JSON_MAX, &json, &json_len);
	if (r < 0)
		goto out;
	r = json_get_str(json, json_len, "http", &addr);
	if (r < 0) {
		r = -EINVAL;
		goto out;
	}
	r = split_host_port(addr.data, addr.len, c.host, c.port);
	if (r < 0)
		goto out;
	/* the server listens on every address: talk to it on loopback */
	if (c.host[0] == '\0' || strcmp(c.host, "0.0.0.0") == 0)
		snprintf(c.host, sizeof(c.host), "127.0.0.1");
	else if (strcmp(c.host, "::") == 0)
		snprintf(c.host, sizeof(c.host), "::1");

	r = json_get_raw(json, json_len, "http_tls", &raw, &raw_len);
	if (r == 0 && raw_len == 4 && memcmp(raw, "true", 4) == 0) {
		c.tls = true;
	} else if (r == 0 && !(raw_len == 5 && memcmp(raw, "false", 5) == 0)) {
		r = -EINVAL;
		goto out;
	} else if (r < 0 && r != -ENOENT) {
		goto out;
	}
	if (c.tls) {
		n = snprintf(c.ca_path, sizeof(c.ca_path), "%s/pki/ca.crt", datadir);
		if (n < 0 || (size_t)n >= sizeof(c.ca_path)) {
			r = -ENAMETOOLONG;
			goto out;
		}
	}

	r = read_file(datadir, "admin.token", TOKEN_FILE_MAX, &token, &token_len);
	if (r < 0)
		goto out;
	if (token_len > 0 && token[token_len - 1] == '\n')
		token_len--;
	if (token_len > 0 && token[token_len - 1] == '\r')
		token_len--;
	r = set_token(&c, token, token_len);
	if (r < 0)
		goto out;

	*ret = c;
out:
	if (token != NULL) {
		explicit_bzero(token, token_len);
		free(token);
	}
	explicit_bzero(&c, sizeof(c));
	free(json);
	buf_release(&addr);
	return r;
}

int
api_client_from_url(const char *url, struct api_client *ret)
{
	struct api_client c = { 0 };
	const char *rest, *env;
	size_t n;
	int r;

	if (strncasecmp(url, "http://", 7) == 0) {
		rest = url + 7;
	} else if (strncasecmp(url, "https://", 8) == 0) {
		rest = url + 8;
		c.tls = true;
	} else {
		return -EINVAL;
	}
	n = strlen(rest);
	if (n > 0 && rest[n - 1] == '/')
		n--;
	r = split_host_port(rest, n, c.host, c.port);
	if (r < 0)
		goto out;
	if (c.host[0] == '\0') {
		r = -EINVAL;
		goto out;
	}

	env = getenv("YINGJI_TOKEN");
	if (env == NULL || env[0] == '\0') {
		r = -ENOKEY;
		goto out;
	}
	r = set_token(&c, env, strlen(env));
	if (r < 0)
		goto out;
	if (c.tls) {
		env = getenv("YINGJI_CA");
		if (env == NULL || env[0] == '\0') {
			r = -ENOENT;
			goto out;
		}
		if (strlen(env) >= sizeof(c.ca_path)) {
			r = -ENAMETOOLONG;
			goto out;
		}
		memcpy(c.ca_path, env, strlen(env) + 1);
	}

	*ret = c;
out:
	explicit_bzero(&c, sizeof(c));
	return r;
}

/* ---- one request ---- */

struct conn {
	int		 fd;
	struct tls_ctx	*ctx;
	struct tls_conn	*tls;
	int64_t		 deadline;	/* monotonic ns, or -1: none */
};

/* Wait until fd is ready for events or the deadline passes (-ETIMEDOUT). */
static int
conn_wait(struct conn *c, short events)
{
	struct pollfd pfd = { .fd = c->fd, .events = events };
	int timeout = -1, n;

	for (;;) {
		if (c->deadline >= 0) {
			int64_t left = c->deadline - now_monotonic_ns();

			if (left <= 0)
				timeout = 0;
			else if (left / 1000000 >= INT32_MAX)
				timeout = INT32_MAX;
			else
				timeout = (int)((left + 999999) / 1000000);
		}
		n = poll(&pfd, 1, timeout);
		if (n > 0)
			return 0;	/* errors and hang-ups show at the next call */
		if (n == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

static int
conn_wait_tls(struct conn *c)
{
	return conn_wait(c, tls_conn_want_write(c->tls) ? POLLOUT : POLLIN);
}

/* A connected non-blocking socket to one of host's addresses. */
static int
conn_open(struct conn *c, const char *host, const char *port)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV };
	struct addrinfo *res = NULL;
	int r = -EHOSTUNREACH;

	hints.ai_family = AF_UNSPEC;
	switch (getaddrinfo(host, port, &hints, &res)) {
	case 0:
		break;
	case EAI_SYSTEM:
		return errno > 0 ? -errno : -EIO;
	case EAI_MEMORY:
		return -ENOMEM;
	case EAI_AGAIN:
		return -EAGAIN;
	default:
		return -ENXIO;
	}
	for (struct addrinfo *ai = res; ai != NULL; ai = ai->ai_next) {
		socklen_t len = sizeof(int);
		int fd, err = 0, one = 1;

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
			ai->ai_protocol);
		if (fd < 0) {
			r = -errno;
			continue;
		}
		c->fd = fd;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
			if (errno != EINPROGRESS) {
				err = errno;
			} else {
				r = conn_wait(c, POLLOUT);
				if (r < 0) {
					close(fd);
					c->fd = -1;
					goto out;	/* the deadline is spent for every address */
				}
				if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
					err = errno;
			}
		}
		if (err == 0) {
			(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
			r = 0;
			goto out;
		}
		r = -err;
		close(fd);
		c->fd = -1;
	}
out:
	freeaddrinfo(res);
	return r;
}

static int
conn_handshake(struct conn *c, const char *ca_path)
{
	int r;

	r = tls_ctx_client_new(ca_path, NULL, NULL, NULL, &c->ctx);
	if (r < 0)
		return r;
	r = tls_conn_new(c->ctx, c->fd, false, &c->tls);
	if (r < 0)
		return r;
	for (;;) {
		r = tls_conn_handshake(c->tls);
		if (r != -EAGAIN)
			break;
		r = conn_wait_tls(c);
		if (r < 0)
			return r;
	}
	if (r == -EPROTO) {
		log_debug("api", "TLS handshake: %s", tls_conn_error(c->tls));
		return -EKEYREJECTED;
	}
	return r;
}

static int
conn_write_all(struct conn *c, const char *p, size_t n)
{
	size_t off = 0;
	int r;

	while (off < n) {
		ssize_t w;

		if (c->tls != NULL) {
			w = tls_conn_write(c->tls, p + off, n - off);
			if (w == -EAGAIN) {
				r = conn_wait_tls(c);
				if (r < 0)
					return r;
				continue;
			}
			if (w < 0)
				return (int)w;
		} else {
			w = send(c->fd, p + off, n - off, MSG_NOSIGNAL);
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0 && errno == EAGAIN) {
				r = conn_wait(c, POLLOUT);
				if (r < 0)
					return r;
				continue;
			}
			if (w < 0)
				return -errno;
		}
		off += (size_t)w;
	}
	return 0;
}

/* Bytes read (> 0), 0 at the end, or -errno. */
static ssize_t
conn_read(struct conn *c, char *p, size_t n)
{
	ssize_t got;
	int r;

	for (;;) {
		if (c->tls != NULL) {
			got = tls_conn_read(c->tls, p, n);
			if (got != -EAGAIN)
				return got;
			r = conn_wait_tls(c);
		} else {
			got = recv(c->fd, p, n, 0);
			if (got >= 0)
				return got;
			if (errno == EINTR)
				continue;
			if (errno != EAGAIN)
				return -errno;
			r = conn_wait(c, POLLIN);
		}
		if (r < 0)
			return r;
	}
}

/* Read until http_parse_response() has a whole response in rx. */
static int
conn_read_response(struct conn *c, struct buf *rx, struct http_response *ret)
{
	char *chunk = xmalloc(READ_CHUNK);
	int r;

	for (;;) {
		ssize_t n;
		long pr;

		n = conn_read(c, chunk, READ_CHUNK);
		if (n < 0) {
			r = (int)n;
			break;
		}
		if (n == 0) {
			r = -EPROTO;	/* closed before the response was whole */
			break;
		}
		r = buf_append(rx, chunk, (size_t)n);
		if (r < 0)
			break;
		pr = http_parse_response(rx->data, rx->len, API_MAX_RESPONSE_BODY, ret);
		if (pr > 0) {
			r = 0;
			break;
		}
		if (pr < 0) {
			r = pr == -E2BIG ? -E2BIG : -EPROTO;
			break;
		}
	}
	free(chunk);
	return r;
}

static void
conn_close(struct conn *c)
{
	if (c->tls != NULL)
		tls_conn_shutdown(c->tls);
	tls_conn_free(c->tls);
	tls_ctx_free(c->ctx);
	if (c->fd >= 0)
		close(c->fd);
}

static bool
is_token(const char *s)
{
	if (*s == '\0')
		return false;
	for (; *s != '\0'; s++)
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f ||
			strchr("\"(),/:;<=>?@[\\]{}", *s) != NULL)
			return false;
	return true;
}

/* OpenSSL writes to the socket with write(2): a server that has gone away
 * would kill the CLI with SIGPIPE. Hold it blocked for the request and
 * swallow one that arrived meanwhile. */
static void
sigpipe_block(sigset_t *old, bool *was_pending)
{
	sigset_t set, pending;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	sigpending(&pending);
	*was_pending = sigismember(&pending, SIGPIPE) == 1;
	pthread_sigmask(SIG_BLOCK, &set, old);
}

static void
sigpipe_restore(const sigset_t *old, bool was_pending)
{
	struct timespec zero = { 0, 0 };
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGPIPE);
	if (!was_pending)
		while (sigtimedwait(&set, NULL, &zero) == SIGPIPE)
			;
	pthread_sigmask(SIG_SETMASK, old, NULL);
}

int
api_request(struct api_client *c, const char *method, const char *target, const char *body,
		size_t body_len, int timeout_ms, int *ret_status, struct buf *ret_body)
{
	struct conn conn = { .fd = -1, .deadline = -1 };
	struct http_response resp;
	struct buf req, rx;
	sigset_t oldmask;
	bool host_v6, was_pending;
	int r, wr;

	if (!is_token(method) || strcmp(method, "HEAD") == 0 || target[0] != '/' ||
		!is_plain(target, strlen(target)) || (body == NULL && body_len > 0) ||
		!is_plain(c->host, strlen(c->host)) || c->host[0] == '\0' ||
		!is_plain(c->port, strlen(c->port)) || c->port[0] == '\0' ||
		!is_plain(c->token, strlen(c->token)) || c->token[0] == '\0' ||
		(c->tls && c->ca_path[0] == '\0'))
		return -EINVAL;

	if (timeout_ms >= 0)
		conn.deadline = now_monotonic_ns() + (int64_t)timeout_ms * 1000000;
	buf_init(&req, 0);
	buf_init(&rx, HTTP_MAX_HEAD + API_MAX_RESPONSE_BODY);
	sigpipe_block(&oldmask, &was_pending);

	host_v6 = strchr(c->host, ':') != NULL;
	r = buf_appendf(&req, "%s %s HTTP/1.1\r\n"
		"Host: %s%s%s:%s\r\n"
		"Authorization: Bearer %s\r\n"
		"Connection: close\r\n"
		"Content-Type: application/json\r\n"
		"Content-Length: %zu\r\n\r\n",
		method, target, host_v6 ? "[" : "", c->host, host_v6 ? "]" : "", c->port,
		c->token, body_len);
	if (r == 0 && body_len > 0)
		r = buf_append(&req, body, body_len);
	if (r < 0)
		goto out;

	r = conn_open(&conn, c->host, c->port);
	if (r < 0)
		goto out;
	if (c->tls) {
		r = conn_handshake(&conn, c->ca_path);
		if (r < 0)
			goto out;
	}
	/* A server may answer (413, 401) and close before it has read all of
	 * the body: a failed write still leaves its answer to be read. */
	wr = conn_write_all(&conn, req.data, req.len);
	if (wr == -ETIMEDOUT) {
		r = wr;
		goto out;
	}
	r = conn_read_response(&conn, &rx, &resp);
	if (r < 0) {
		if (wr < 0)
			r = wr;
		goto out;
	}

	if (ret_body != NULL) {
		if (ret_body->max > 0 && resp.body_len > ret_body->max) {
			r = -E2BIG;
			goto out;
		}
		buf_reset(ret_body);
		r = buf_append(ret_body, resp.body, resp.body_len);
		if (r < 0)
			goto out;
	}
	*ret_status = resp.status;
out:
	conn_close(&conn);
	sigpipe_restore(&oldmask, was_pending);
	explicit_bzero(req.data, req.len);	/* it held the token */
	buf_release(&req);
	buf_release(&rx);
	return r;
}
