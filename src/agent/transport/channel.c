/* channel.c - the agent's TLS connection to the centre (see channel.h). */
#include "agent/transport/channel.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/timeutil.h"
#include "core/banned.h"

#define CHANNEL_IN_MAX	(2 * WIRE_MAX_FRAME)
#define CHANNEL_OUT_MAX	(64u << 20)

int
hostport_split(const char *s, char *host, size_t hostlen, char *port, size_t portlen)
{
	const char *colon, *h = s;
	size_t hl;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end[1] != ':')
			return -EINVAL;
		h = s + 1;
		hl = (size_t)(end - h);
		colon = end + 1;
	} else {
		colon = strrchr(s, ':');
		if (colon == NULL)
			return -EINVAL;
		hl = (size_t)(colon - s);
	}
	if (hl == 0 || hl >= hostlen || strlen(colon + 1) == 0 || strlen(colon + 1) >= portlen ||
		strspn(colon + 1, "0123456789") != strlen(colon + 1))
		return -EINVAL;
	memcpy(host, h, hl);
	host[hl] = '\0';
	memcpy(port, colon + 1, strlen(colon + 1) + 1);
	return 0;
}

static int
remaining_ms(int64_t deadline)
{
	int64_t left = deadline - now_monotonic_ns();

	return left <= 0 ? 0 : (int)(left / 1000000 + 1);
}

static int
wait_fd(int fd, short events, int64_t deadline)
{
	struct pollfd p = { .fd = fd, .events = events };
	int n;

	do {
		n = poll(&p, 1, remaining_ms(deadline));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static int
tcp_connect(struct channel *ch, const char *hostport, int64_t deadline)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL, *a;
	char host[256], port[16];
	int r, one = 1;

	r = hostport_split(hostport, host, sizeof(host), port, sizeof(port));
	if (r < 0) {
		snprintf(ch->error, sizeof(ch->error), "bad address %s (want HOST:PORT)", hostport);
		return r;
	}
	r = getaddrinfo(host, port, &hints, &ai);
	if (r != 0) {
		snprintf(ch->error, sizeof(ch->error), "%.100s: %s", host, gai_strerror(r));
		return -ENXIO;
	}
	r = -ECONNREFUSED;
	for (a = ai; a != NULL; a = a->ai_next) {
		int fd = socket(a->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
		int err = 0;
		socklen_t el = sizeof(err);

		if (fd < 0) {
			r = -errno;
			continue;
		}
		if (connect(fd, a->ai_addr, a->ai_addrlen) < 0 && errno != EINPROGRESS) {
			r = -errno;
			close(fd);
			continue;
		}
		r = wait_fd(fd, POLLOUT, deadline);
		if (r == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err != 0)
			r = -err;
		if (r < 0) {
			close(fd);
			continue;
		}
		(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		ch->fd = fd;
		break;
	}
	freeaddrinfo(ai);
	if (ch->fd < 0)
		snprintf(ch->error, sizeof(ch->error), "connect %s: %s", hostport, strerror(-r));
	return ch->fd < 0 ? r : 0;
}

int
channel_open(struct channel *ch, struct tls_ctx *ctx, const char *hostport, int timeout_ms)
{
	int64_t deadline = now_monotonic_ns() + (int64_t)timeout_ms * 1000000;
	int r;

	memset(ch, 0, sizeof(*ch));
	ch->fd = -1;
	buf_init(&ch->in, CHANNEL_IN_MAX);
	buf_init(&ch->out, CHANNEL_OUT_MAX);
	r = tcp_connect(ch, hostport, deadline);
	if (r < 0)
		goto out;
	r = tls_conn_new(ctx, ch->fd, false, &ch->tls);
	if (r < 0) {
		snprintf(ch->error, sizeof(ch->error), "TLS: %s", strerror(-r));
		goto out;
	}
	while ((r = tls_conn_handshake(ch->tls)) == -EAGAIN) {
		r = wait_fd(ch->fd, tls_conn_want_write(ch->tls) ? POLLOUT : POLLIN, deadline);
		if (r < 0)
			break;
	}
	if (r < 0)
		snprintf(ch->error, sizeof(ch->error), "TLS handshake with %s: %s", hostport,
			r == -ETIMEDOUT ? "timed out" : tls_conn_error(ch->tls));
out:
	if (r < 0) {
		char keep[sizeof(ch->error)];

		memcpy(keep, ch->error, sizeof(keep));
		channel_close(ch);
		memcpy(ch->error, keep, sizeof(keep));
	}
	return r;
}

void
channel_close(struct channel *ch)
{
	if (ch->tls != NULL)
		tls_conn_free(ch->tls);
	if (ch->fd >= 0)
		close(ch->fd);
	ch->tls = NULL;
	ch->fd = -1;
	buf_release(&ch->in);
	buf_release(&ch->out);
	ch->in_off = ch->out_off = 0;
}

int
channel_flush(struct channel *ch)
{
	while (ch->out_off < ch->out.len) {
		ssize_t n = tls_conn_write(ch->tls, ch->out.data + ch->out_off,
			ch->out.len - ch->out_off);

		if (n == -EAGAIN)
			return 0;
		if (n <= 0) {
			snprintf(ch->error, sizeof(ch->error), "send: %s",
				n == 0 ? "closed" : tls_conn_error(ch->tls));
			return n < 0 ? (int)n : -EPIPE;
		}
		ch->out_off += (size_t)n;
	}
	buf_reset(&ch->out);
	ch->out_off = 0;
	return 0;
}

int
channel_fill(struct channel *ch)
{
	char chunk[64 * 1024];

	/* Drop what was decoded before reading more. */
	if (ch->in_off > 0) {
		memmove(ch->in.data, ch->in.data + ch->in_off, ch->in.len - ch->in_off);
		ch->in.len -= ch->in_off;
		ch->in.data[ch->in.len] = '\0';
		ch->in_off = 0;
	}
	for (int i = 0; i < 16; i++) {
		ssize_t n = tls_conn_read(ch->tls, chunk, sizeof(chunk));

		if (n == -EAGAIN)
			return 0;
		/* Frames that came before the end are read first; the end (or
		 * error) shows again on the next call. */
		if (n <= 0 && i > 0)
			return 0;
		if (n == 0) {
			snprintf(ch->error, sizeof(ch->error), "the centre closed the connection");
			return -EPIPE;
		}
		if (n < 0) {
			snprintf(ch->error, sizeof(ch->error), "receive: %s", tls_conn_error(ch->tls));
			return (int)n;
		}
		if (buf_append(&ch->in, chunk, (size_t)n) < 0)
			return -E2BIG;
	}
	return 0;
}

int
channel_next(struct channel *ch, struct wire_frame *ret)
{
	long n = wire_decode(ch->in.data + ch->in_off, ch->in.len - ch->in_off, ret);

	if (n < 0) {
		snprintf(ch->error, sizeof(ch->error), "malformed frame from the centre");
		return (int)n;
	}
	if (n == 0)
		return 0;
	ch->in_off += (size_t)n;
	return 1;
}

short
channel_poll_events(const struct channel *ch)
{
	short ev = POLLIN;

	if (ch->out_off < ch->out.len || tls_conn_want_write(ch->tls))
		ev |= POLLOUT;
	return ev;
}

int
channel_roundtrip(struct channel *ch, int timeout_ms, struct wire_frame *ret)
{
	int64_t deadline = now_monotonic_ns() + (int64_t)timeout_ms * 1000000;
	int r;

	for (;;) {
		r = channel_flush(ch);
		if (r < 0)
			return r;
		r = channel_next(ch, ret);
		if (r != 0)
			return r < 0 ? r : 0;
		if (tls_conn_pending(ch->tls) == 0) {
			r = wait_fd(ch->fd, channel_poll_events(ch), deadline);
			if (r < 0) {
				snprintf(ch->error, sizeof(ch->error), "no answer from the centre");
				return r;
			}
		}
		r = channel_fill(ch);
		if (r < 0)
			return r;
	}
}
