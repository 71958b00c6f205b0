/*
 * badpeer.c - a peer of `yingji serve`'s agent channel that misbehaves on
 * purpose, for the integration tests (tests/integration/test_server_*.sh).
 *
 *   badpeer enroll --server H:P --token T --out DIR [--ca CA | --pin HEX]
 *                  [--name NAME] [--timeout MS]
 *       Enroll like an agent: writes DIR/agent.key, DIR/agent.crt, DIR/ca.crt
 *       and DIR/agent.id. The server is checked by the token's fingerprint,
 *       or by --ca / --pin (so that a bad token can be sent at all).
 *       Prints "ENROLLED agent=ID", or what came back instead. Exit 0 only
 *       when enrolled.
 *   badpeer send --server H:P --ca CA [--cert C --key K] [--linger MS]
 *                [--timeout MS] [-v] STEP...
 *       Connect (mutual TLS when --cert is given) and run the steps, each one
 *       argument of words:
 *         hello ID                HELLO {"agent":ID,...}
 *         json TYPE TEXT...       a frame of TYPE (name or number), body TEXT
 *         event LANE SEQ TEXT...  an EVENT with payload TEXT
 *         eventhex LANE SEQ HEX   an EVENT whose payload is these bytes
 *         events LANE FROM TO     EVENTs FROM..TO, payload {"type":"test","n":SEQ}
 *         bigevents LANE FROM TO SIZE   the same, padded to SIZE bytes each
 *         frame TYPE HEX          a frame with any type number and body ("-": none)
 *         header LEN TYPE         only a frame header claiming LEN bytes
 *         raw HEX                 these bytes
 *         read MS                 print what comes for MS ms (or until closed)
 *         welcome [MS]            read until WELCOME (exit 3 if none)
 *         waitack LANE SEQ [MS]   read until ACK of LANE >= SEQ (exit 3 if none)
 *         waitclose [MS]          read until the server closes (exit 3 if not)
 *         pause MS                sleep without reading
 *         close                   close the connection at once and exit 0
 *       Then reads for --linger ms (default 1000) unless closed already.
 *       Server heartbeats are answered (and printed only with -v).
 *   badpeer mkca --out DIR        another CA: DIR/ca.crt, DIR/ca.key, and a
 *                                 server certificate DIR/server.crt/.key
 *   badpeer mkcert --ca-cert F --ca-key F --cn CN --days N --out DIR
 *                                 DIR/agent.crt and DIR/agent.key signed by
 *                                 that CA (days <= 0: already expired)
 *   badpeer mktoken --cert F      a well-formed token carrying F's fingerprint
 *
 * Output, one line per thing received: "WELCOME {json}", "ACK LANE SEQ",
 * "ERROR {json}", "ENROLLED agent=ID", "COMMAND ID {json}", "closed",
 * "connection failed: REASON", "handshake failed: REASON", "connect failed:
 * REASON", "write failed: REASON".
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/fdio.h"
#include "core/json_get.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "proto/token.h"
#include "proto/wire.h"
#include "tls/pki.h"
#include "tls/tls.h"
#include "core/banned.h"

#define EXIT_USAGE	2
#define EXIT_UNMET	3

struct peer {
	int		 fd;
	struct tls_conn	*tls;
	struct buf	 in;
	bool		 closed;		/* the server closed, or the connection failed */
	bool		 verbose;
	bool		 welcome;
	int64_t		 write_timeout_ns;
	uint64_t	 acked[WIRE_LANES];
	/* ENROLLED */
	bool		 enrolled;
	int64_t		 agent;
	struct buf	 cert, ca;
};

static void
usage(void)
{
	fprintf(stderr, "usage: badpeer enroll|send|mkca|mkcert|mktoken ... (see badpeer.c)\n");
	exit(EXIT_USAGE);
}

static int
hexval(char ch)
{
	if (ch >= '0' && ch <= '9')
		return ch - '0';
	if (ch >= 'a' && ch <= 'f')
		return ch - 'a' + 10;
	if (ch >= 'A' && ch <= 'F')
		return ch - 'A' + 10;
	return -1;
}

/* Hex (blanks ignored) into out; "-" is empty. */
static int
hex_decode(const char *s, struct buf *out)
{
	buf_reset(out);
	if (strcmp(s, "-") == 0)
		return 0;
	while (*s != '\0') {
		int hi, lo;

		if (*s == ' ' || *s == ':') {
			s++;
			continue;
		}
		hi = hexval(s[0]);
		lo = hi < 0 ? -1 : hexval(s[1]);
		if (hi < 0 || lo < 0)
			return -EINVAL;
		if (buf_putc(out, (char)(hi << 4 | lo)) < 0)
			return -E2BIG;
		s += 2;
	}
	return 0;
}

static int
write_file(const char *dir, const char *name, const char *data, size_t len, mode_t mode)
{
	char path[4096];
	int fd, r;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd < 0) {
		fprintf(stderr, "badpeer: %s: %s\n", path, strerror(errno));
		return -errno;
	}
	r = fd_write_all(fd, data, len);
	close(fd);
	if (r < 0)
		fprintf(stderr, "badpeer: %s: %s\n", path, strerror(-r));
	return r;
}

static char *
read_file(const char *path, size_t *ret_len)
{
	char *data = NULL;
	size_t len = 0;
	int fd, r;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "badpeer: %s: %s\n", path, strerror(errno));
		exit(1);
	}
	r = fd_read_all(fd, 1 << 20, &data, &len);
	close(fd);
	if (r < 0) {
		fprintf(stderr, "badpeer: %s: %s\n", path, strerror(-r));
		exit(1);
	}
	if (ret_len != NULL)
		*ret_len = len;
	return data;
}

/* ---- the connection ---- */

static int
wait_fd(struct peer *p, bool for_write, int64_t deadline)
{
	struct pollfd pfd = { .fd = p->fd, .events = for_write ? POLLOUT : POLLIN };
	int64_t left = deadline - now_monotonic_ns();
	int n;

	if (left <= 0)
		return -ETIMEDOUT;
	n = poll(&pfd, 1, (int)(left / 1000000 + 1));
	if (n < 0)
		return errno == EINTR ? 0 : -errno;
	return n == 0 ? -ETIMEDOUT : 0;
}

static int
tcp_connect(const char *hostport, int64_t deadline, int *ret_fd)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct addrinfo *ai = NULL;
	char host[256], *colon;
	struct pollfd pfd;
	socklen_t sl = sizeof(int);
	int fd = -1, err = 0, r;

	snprintf(host, sizeof(host), "%s", hostport);
	colon = strrchr(host, ':');
	if (colon == NULL)
		return -EINVAL;
	*colon = '\0';
	if (getaddrinfo(host, colon + 1, &hints, &ai) != 0)
		return -EINVAL;
	fd = socket(ai->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		r = -errno;
		goto out;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		r = -errno;
		goto out;
	}
	pfd.fd = fd;
	pfd.events = POLLOUT;
	if (poll(&pfd, 1, (int)((deadline - now_monotonic_ns()) / 1000000)) <= 0) {
		r = -ETIMEDOUT;
		goto out;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) < 0 || err != 0) {
		r = err != 0 ? -err : -errno;
		goto out;
	}
	*ret_fd = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	freeaddrinfo(ai);
	return r;
}

static int
peer_open(struct peer *p, const char *server, struct tls_ctx *ctx, int64_t deadline)
{
	int r;

	r = tcp_connect(server, deadline, &p->fd);
	if (r < 0) {
		printf("connect failed: %s\n", strerror(-r));
		return r;
	}
	r = tls_conn_new(ctx, p->fd, false, &p->tls);
	if (r < 0) {
		printf("handshake failed: cannot set up TLS\n");
		return r;
	}
	for (;;) {
		r = tls_conn_handshake(p->tls);
		if (r != -EAGAIN)
			break;
		r = wait_fd(p, tls_conn_want_write(p->tls), deadline);
		if (r < 0) {
			printf("handshake failed: %s\n", strerror(-r));
			return r;
		}
	}
	if (r < 0) {
		printf("handshake failed: %s\n", tls_conn_error(p->tls));
		return r;
	}
	if (p->verbose)
		printf("handshake ok\n");
	fflush(stdout);
	return 0;
}

static void
peer_release(struct peer *p)
{
	tls_conn_free(p->tls);
	if (p->fd >= 0)
		close(p->fd);
	buf_release(&p->in);
	buf_release(&p->cert);
	buf_release(&p->ca);
}

static int
peer_write(struct peer *p, const void *data, size_t len)
{
	const char *c = data;
	int64_t deadline = now_monotonic_ns() + p->write_timeout_ns;

	while (len > 0) {
		ssize_t n = tls_conn_write(p->tls, c, len);

		if (n == -EAGAIN) {
			if (wait_fd(p, tls_conn_want_write(p->tls), deadline) < 0) {
				printf("write failed: timed out\n");
				return -ETIMEDOUT;
			}
			continue;
		}
		if (n <= 0) {
			printf("write failed: %s\n", tls_conn_error(p->tls));
			return n < 0 ? (int)n : -EPIPE;
		}
		c += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
send_json(struct peer *p, enum wire_type type, const char *json)
{
	struct buf f;
	int r;

	buf_init(&f, WIRE_MAX_FRAME + 16);
	r = wire_put_json(&f, type, json, strlen(json));
	if (r == 0)
		r = peer_write(p, f.data, f.len);
	buf_release(&f);
	return r;
}

/* A frame built by hand: anything goes (unknown types, empty bodies...). */
static void
put_frame(struct buf *f, uint32_t len, unsigned type, const void *body, size_t body_len)
{
	unsigned char h[WIRE_HEADER_LEN] = { (unsigned char)len, (unsigned char)(len >> 8),
		(unsigned char)(len >> 16), (unsigned char)(len >> 24), (unsigned char)type };

	(void)buf_append(f, h, sizeof(h));
	if (body_len > 0)
		(void)buf_append(f, body, body_len);
}

static void
put_event(struct buf *f, unsigned lane, uint64_t seq, int64_t time_ns, const void *payload,
	size_t len)
{
	unsigned char h[WIRE_EVENT_HEADER_LEN];

	h[0] = (unsigned char)lane;
	for (int i = 0; i < 8; i++) {
		h[1 + i] = (unsigned char)(seq >> (8 * i));
		h[9 + i] = (unsigned char)((uint64_t)time_ns >> (8 * i));
	}
	put_frame(f, (uint32_t)(1 + sizeof(h) + len), WIRE_EVENT, NULL, 0);
	(void)buf_append(f, h, sizeof(h));
	(void)buf_append(f, payload, len);
}

static void
print_body(const char *what, const struct wire_frame *f)
{
	printf("%s %.*s\n", what, (int)f->body_len, f->body);
}

static void
on_frame(struct peer *p, const struct wire_frame *f)
{
	char hb[96];

	switch (f->type) {
	case WIRE_WELCOME:
		p->welcome = true;
		print_body("WELCOME", f);
		break;
	case WIRE_ACK:
		if (f->lane < WIRE_LANES && f->seq > p->acked[f->lane])
			p->acked[f->lane] = f->seq;
		if (p->verbose || f->lane >= WIRE_LANES)
			printf("ACK %u %" PRIu64 "\n", f->lane, f->seq);
		break;
	case WIRE_HEARTBEAT:
		if (p->verbose)
			print_body("HEARTBEAT", f);
		snprintf(hb, sizeof(hb), "{\"time_ns\":%lld,\"backlog\":0}",
			(long long)now_realtime_ns());
		(void)send_json(p, WIRE_HEARTBEAT, hb);
		break;
	case WIRE_ENROLLED:
		if (json_get_i64(f->body, f->body_len, "agent", &p->agent) == 0 &&
			json_get_str(f->body, f->body_len, "cert", &p->cert) == 0 &&
			json_get_str(f->body, f->body_len, "ca", &p->ca) == 0) {
			p->enrolled = true;
			printf("ENROLLED agent=%lld\n", (long long)p->agent);
		} else {
			print_body("ENROLLED (unreadable)", f);
		}
		break;
	case WIRE_COMMAND:
		printf("COMMAND %" PRIu64 " %.*s\n", f->id, (int)f->body_len, f->body);
		break;
	default:
		print_body(wire_type_name(f->type), f);
		break;
	}
}

typedef bool (*done_fn)(const struct peer *p, const void *arg);

/* Read and handle frames until done(p, arg), the connection ends, or the
 * deadline. Returns true when done() was met. */
static bool
pump(struct peer *p, int64_t deadline, done_fn done, const void *arg)
{
	char chunk[64 * 1024];

	for (;;) {
		if (done != NULL && done(p, arg))
			return true;
		if (p->closed)
			return false;
		ssize_t n = tls_conn_read(p->tls, chunk, sizeof(chunk));

		if (n == -EAGAIN) {
			if (wait_fd(p, tls_conn_want_write(p->tls), deadline) == -ETIMEDOUT)
				return false;
			continue;
		}
		if (n == 0) {
			printf("closed\n");
			p->closed = true;
			continue;
		}
		if (n < 0) {
			printf("connection failed: %s\n", tls_conn_error(p->tls));
			p->closed = true;
			continue;
		}
		if (buf_append(&p->in, chunk, (size_t)n) < 0) {
			printf("connection failed: the server sent too much\n");
			p->closed = true;
			continue;
		}
		size_t off = 0;
		for (;;) {
			struct wire_frame f;
			long m = wire_decode(p->in.data + off, p->in.len - off, &f);

			if (m == 0)
				break;
			if (m < 0) {
				printf("connection failed: bad frame from the server (%s)\n",
					strerror((int)-m));
				p->closed = true;
				break;
			}
			off += (size_t)m;
			on_frame(p, &f);
		}
		if (off > 0) {
			memmove(p->in.data, p->in.data + off, p->in.len - off);
			p->in.len -= off;
		}
		fflush(stdout);
	}
}

static bool
done_welcome(const struct peer *p, const void *arg)
{
	(void)arg;
	return p->welcome;
}

static bool
done_enrolled(const struct peer *p, const void *arg)
{
	(void)arg;
	return p->enrolled;
}

struct ack_want {
	unsigned	lane;
	uint64_t	seq;
};

static bool
done_ack(const struct peer *p, const void *arg)
{
	const struct ack_want *w = arg;

	return p->acked[w->lane] >= w->seq;
}

static bool
done_closed(const struct peer *p, const void *arg)
{
	(void)arg;
	return p->closed;
}

static int64_t
ms_deadline(const char *s, long dflt)
{
	long ms = s != NULL ? strtol(s, NULL, 10) : dflt;

	return now_monotonic_ns() + (int64_t)ms * 1000000;
}

/* ---- steps ---- */

static int
type_number(const char *s)
{
	for (int t = WIRE_ENROLL; t <= WIRE_ERROR; t++)
		if (strcasecmp(s, wire_type_name((enum wire_type)t)) == 0)
			return t;
	return (int)strtol(s, NULL, 0);
}

/* Split step into at most max words; the last one takes the rest. */
static int
split(char *step, char **w, int max)
{
	int n = 0;

	while (*step == ' ')
		step++;
	while (*step != '\0' && n < max) {
		w[n++] = step;
		if (n == max)
			break;
		step = strchr(step, ' ');
		if (step == NULL)
			break;
		*step++ = '\0';
		while (*step == ' ')
			step++;
	}
	return n;
}

static int
run_step(struct peer *p, char *step)
{
	char *w[4] = { 0 };
	int n = split(step, w, 4), r = 0;
	struct buf f, bytes;

	if (n == 0)
		return 0;
	buf_init(&f, 4 * WIRE_MAX_FRAME);
	buf_init(&bytes, 4 * WIRE_MAX_FRAME);
	if (strcmp(w[0], "hello") == 0 && n >= 2) {
		char json[256];

		snprintf(json, sizeof(json), "{\"agent\":%s,\"name\":\"badpeer\",\"version\":\"0\"}",
			w[1]);
		r = send_json(p, WIRE_HELLO, json);
	} else if (strcmp(w[0], "json") == 0 && n >= 3) {
		/* re-join: split() cut the text at its first blank */
		char *text = w[2];

		if (n == 4)
			text[strlen(text)] = ' ';
		put_frame(&f, (uint32_t)(1 + strlen(text)), (unsigned)type_number(w[1]), text,
			strlen(text));
		r = peer_write(p, f.data, f.len);
	} else if (strcmp(w[0], "event") == 0 && n == 4) {
		put_event(&f, (unsigned)strtoul(w[1], NULL, 10), strtoull(w[2], NULL, 10),
			now_realtime_ns(), w[3], strlen(w[3]));
		r = peer_write(p, f.data, f.len);
	} else if (strcmp(w[0], "eventhex") == 0 && n == 4) {
		r = hex_decode(w[3], &bytes);
		if (r == 0) {
			put_event(&f, (unsigned)strtoul(w[1], NULL, 10), strtoull(w[2], NULL, 10),
				now_realtime_ns(), bytes.data, bytes.len);
			r = peer_write(p, f.data, f.len);
		}
	} else if (strcmp(w[0], "events") == 0 && n == 4) {
		uint64_t from = strtoull(w[2], NULL, 10), to = strtoull(w[3], NULL, 10);

		for (uint64_t s = from; s <= to; s++) {
			char json[128];
			int len = snprintf(json, sizeof(json), "{\"type\":\"test\",\"n\":%" PRIu64 "}", s);

			put_event(&f, (unsigned)strtoul(w[1], NULL, 10), s, now_realtime_ns(), json,
				(size_t)len);
		}
		r = peer_write(p, f.data, f.len);
	} else if (strcmp(w[0], "bigevents") == 0 && n == 4) {
		/* the last word is "TO SIZE" */
		unsigned long long from = strtoull(w[2], NULL, 10), to, size;
		char *end;

		to = strtoull(w[3], &end, 10);
		size = strtoull(end, NULL, 10);
		if (size < 64 || size > WIRE_MAX_FRAME / 2)
			r = -EINVAL;
		for (unsigned long long s = from; r == 0 && s <= to; s++) {
			buf_reset(&bytes);
			(void)buf_appendf(&bytes, "{\"type\":\"test\",\"n\":%llu,\"pad\":\"", s);
			while (bytes.len < size - 2)
				(void)buf_putc(&bytes, 'x');
			(void)buf_puts(&bytes, "\"}");
			buf_reset(&f);
			put_event(&f, (unsigned)strtoul(w[1], NULL, 10), s, now_realtime_ns(),
				bytes.data, bytes.len);
			r = peer_write(p, f.data, f.len);
		}
	} else if (strcmp(w[0], "frame") == 0 && n >= 3) {
		r = hex_decode(w[2], &bytes);
		if (r == 0) {
			put_frame(&f, (uint32_t)(1 + bytes.len), (unsigned)type_number(w[1]),
				bytes.data, bytes.len);
			r = peer_write(p, f.data, f.len);
		}
	} else if (strcmp(w[0], "header") == 0 && n >= 3) {
		put_frame(&f, (uint32_t)strtoul(w[1], NULL, 0), (unsigned)type_number(w[2]), NULL, 0);
		r = peer_write(p, f.data, f.len);
	} else if (strcmp(w[0], "raw") == 0 && n >= 2) {
		r = hex_decode(w[1], &bytes);
		if (r == 0)
			r = peer_write(p, bytes.data, bytes.len);
	} else if (strcmp(w[0], "read") == 0) {
		(void)pump(p, ms_deadline(w[1], 1000), NULL, NULL);
	} else if (strcmp(w[0], "welcome") == 0) {
		if (!pump(p, ms_deadline(w[1], 10000), done_welcome, NULL)) {
			printf("no welcome\n");
			r = -EXIT_UNMET;
		}
	} else if (strcmp(w[0], "waitack") == 0 && n >= 3) {
		struct ack_want want = { (unsigned)strtoul(w[1], NULL, 10), strtoull(w[2], NULL, 10) };

		if (want.lane >= WIRE_LANES) {
			r = -EINVAL;
		} else if (!pump(p, ms_deadline(w[3], 10000), done_ack, &want)) {
			printf("no ack: lane %u acked up to %" PRIu64 ", wanted %" PRIu64 "\n",
				want.lane, p->acked[want.lane], want.seq);
			r = -EXIT_UNMET;
		} else {
			printf("acked %u %" PRIu64 "\n", want.lane, p->acked[want.lane]);
		}
	} else if (strcmp(w[0], "waitclose") == 0) {
		if (!pump(p, ms_deadline(w[1], 10000), done_closed, NULL)) {
			printf("still open\n");
			r = -EXIT_UNMET;
		}
	} else if (strcmp(w[0], "pause") == 0 && n >= 2) {
		struct timespec ts = { strtol(w[1], NULL, 10) / 1000,
			strtol(w[1], NULL, 10) % 1000 * 1000000 };

		nanosleep(&ts, NULL);
	} else if (strcmp(w[0], "close") == 0) {
		printf("closing\n");
		fflush(stdout);
		peer_release(p);
		buf_release(&f);
		buf_release(&bytes);
		exit(0);
	} else {
		fprintf(stderr, "badpeer: bad step '%s'\n", w[0]);
		r = -EINVAL;
	}
	if (r == -EINVAL)
		fprintf(stderr, "badpeer: step '%s': bad argument\n", w[0]);
	fflush(stdout);
	buf_release(&f);
	buf_release(&bytes);
	return r;
}

static void
peer_init(struct peer *p)
{
	memset(p, 0, sizeof(*p));
	p->fd = -1;
	buf_init(&p->in, 4 * WIRE_MAX_FRAME);
	buf_init(&p->cert, PKI_MAX_PEM);
	buf_init(&p->ca, PKI_MAX_PEM);
}

static const struct option peer_options[] = {
	{ "server", required_argument, NULL, 's' },
	{ "token", required_argument, NULL, 't' },
	{ "out", required_argument, NULL, 'o' },
	{ "ca", required_argument, NULL, 'a' },
	{ "pin", required_argument, NULL, 'p' },
	{ "name", required_argument, NULL, 'n' },
	{ "timeout", required_argument, NULL, 'T' },
	{ "cert", required_argument, NULL, 'c' },
	{ "key", required_argument, NULL, 'k' },
	{ "linger", required_argument, NULL, 'l' },
	{ "verbose", no_argument, NULL, 'v' },
	{ "ca-cert", required_argument, NULL, 'C' },
	{ "ca-key", required_argument, NULL, 'K' },
	{ "cn", required_argument, NULL, 'N' },
	{ "days", required_argument, NULL, 'd' },
	{ 0 }
};

struct args {
	const char	*server, *token, *out, *ca, *pin, *name, *cert, *key;
	const char	*ca_cert, *ca_key, *cn;
	long		 timeout_ms, linger_ms;
	int		 days;
	bool		 verbose;
};

static void
parse_args(int argc, char **argv, struct args *a)
{
	int opt;

	memset(a, 0, sizeof(*a));
	a->timeout_ms = 10000;
	a->linger_ms = 1000;
	a->days = 365;
	optind = 2;
	while ((opt = getopt_long(argc, argv, "v", peer_options, NULL)) != -1) {
		switch (opt) {
		case 's': a->server = optarg; break;
		case 't': a->token = optarg; break;
		case 'o': a->out = optarg; break;
		case 'a': a->ca = optarg; break;
		case 'p': a->pin = optarg; break;
		case 'n': a->name = optarg; break;
		case 'T': a->timeout_ms = strtol(optarg, NULL, 10); break;
		case 'c': a->cert = optarg; break;
		case 'k': a->key = optarg; break;
		case 'l': a->linger_ms = strtol(optarg, NULL, 10); break;
		case 'v': a->verbose = true; break;
		case 'C': a->ca_cert = optarg; break;
		case 'K': a->ca_key = optarg; break;
		case 'N': a->cn = optarg; break;
		case 'd': a->days = (int)strtol(optarg, NULL, 10); break;
		default: usage();
		}
	}
}

/* ---- commands ---- */

static int
cmd_enroll(const struct args *a)
{
	uint8_t fp[TOKEN_FP_LEN], secret[TOKEN_SECRET_LEN];
	const uint8_t *pin = NULL;
	struct buf csr, key, pinbuf, body;
	struct tls_ctx *ctx = NULL;
	struct peer p;
	char idtext[32];
	int r;

	if (a->server == NULL || a->token == NULL || a->out == NULL)
		usage();
	peer_init(&p);
	buf_init(&csr, PKI_MAX_PEM);
	buf_init(&key, PKI_MAX_PEM);
	buf_init(&pinbuf, 64);
	buf_init(&body, 4 * PKI_MAX_PEM);
	if (a->pin != NULL) {
		if (hex_decode(a->pin, &pinbuf) < 0 || pinbuf.len != TOKEN_FP_LEN)
			usage();
		pin = (const uint8_t *)pinbuf.data;
	} else if (a->ca == NULL) {
		if (token_parse(a->token, fp, secret) < 0) {
			fprintf(stderr, "badpeer: malformed token: give --ca or --pin to send it anyway\n");
			r = EXIT_USAGE;
			goto out;
		}
		pin = fp;
	}
	r = tls_ctx_client_new(pin != NULL ? NULL : a->ca, pin, NULL, NULL, &ctx);
	if (r < 0) {
		fprintf(stderr, "badpeer: TLS setup: %s\n", strerror(-r));
		r = 1;
		goto out;
	}
	r = pki_csr_create(a->name != NULL ? a->name : "badpeer", &csr, &key);
	if (r < 0) {
		fprintf(stderr, "badpeer: csr: %s\n", pki_last_error());
		r = 1;
		goto out;
	}
	(void)buf_puts(&body, "{\"token\":\"");
	(void)buf_puts(&body, a->token);	/* verbatim: the tests send bad ones */
	(void)buf_puts(&body, "\",\"csr\":\"");
	for (size_t i = 0; i < csr.len; i++) {
		if (csr.data[i] == '\n')
			(void)buf_puts(&body, "\\n");
		else
			(void)buf_putc(&body, csr.data[i]);
	}
	(void)buf_appendf(&body, "\",\"name\":\"%s\"}", a->name != NULL ? a->name : "badpeer");
	p.verbose = a->verbose;
	p.write_timeout_ns = a->timeout_ms * 1000000;
	int64_t deadline = now_monotonic_ns() + a->timeout_ms * 1000000;
	if (peer_open(&p, a->server, ctx, deadline) < 0 ||
		send_json(&p, WIRE_ENROLL, body.data) < 0) {
		r = 1;
		goto out;
	}
	(void)pump(&p, deadline, done_enrolled, NULL);
	if (!p.enrolled) {
		if (!p.closed)
			printf("no answer\n");
		r = 1;
		goto out;
	}
	snprintf(idtext, sizeof(idtext), "%lld\n", (long long)p.agent);
	if (mkdir(a->out, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "badpeer: %s: %s\n", a->out, strerror(errno));
		r = 1;
		goto out;
	}
	if (write_file(a->out, "agent.key", key.data, key.len, 0600) < 0 ||
		write_file(a->out, "agent.crt", p.cert.data, p.cert.len, 0644) < 0 ||
		write_file(a->out, "ca.crt", p.ca.data, p.ca.len, 0644) < 0 ||
		write_file(a->out, "agent.id", idtext, strlen(idtext), 0644) < 0) {
		r = 1;
		goto out;
	}
	r = 0;
out:
	fflush(stdout);
	tls_ctx_free(ctx);
	peer_release(&p);
	buf_release(&csr);
	buf_release(&key);
	buf_release(&pinbuf);
	buf_release(&body);
	return r;
}

static int
cmd_send(const struct args *a, int nsteps, char **steps)
{
	struct tls_ctx *ctx = NULL;
	struct peer p;
	int r;

	if (a->server == NULL || a->ca == NULL || (a->cert == NULL) != (a->key == NULL))
		usage();
	peer_init(&p);
	p.verbose = a->verbose;
	p.write_timeout_ns = a->timeout_ms * 1000000;
	r = tls_ctx_client_new(a->ca, NULL, a->cert, a->key, &ctx);
	if (r < 0) {
		fprintf(stderr, "badpeer: TLS setup: %s\n", strerror(-r));
		r = 1;
		goto out;
	}
	if (peer_open(&p, a->server, ctx, now_monotonic_ns() + a->timeout_ms * 1000000) < 0) {
		r = 1;
		goto out;
	}
	r = 0;
	for (int i = 0; i < nsteps && r == 0; i++) {
		char *step = xstrdup(steps[i]);

		r = run_step(&p, step);
		free(step);
		if (r == -EPIPE || r == -ECONNRESET || r == -EPROTO) {
			/* the server may have said why before it closed */
			r = 0;
			(void)pump(&p, now_monotonic_ns() + 2000000000ll, NULL, NULL);
			if (p.closed)
				break;
		}
	}
	if (r == 0 && !p.closed)
		(void)pump(&p, ms_deadline(NULL, a->linger_ms), NULL, NULL);
	r = r == -EXIT_UNMET ? EXIT_UNMET : r < 0 ? 1 : 0;
out:
	fflush(stdout);
	tls_ctx_free(ctx);
	peer_release(&p);
	return r;
}

static int
cmd_mkca(const struct args *a)
{
	struct buf cert, key, scert, skey;
	int r = 1;

	if (a->out == NULL)
		usage();
	buf_init(&cert, PKI_MAX_PEM);
	buf_init(&key, PKI_MAX_PEM);
	buf_init(&scert, PKI_MAX_PEM);
	buf_init(&skey, PKI_MAX_PEM);
	if (mkdir(a->out, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "badpeer: %s: %s\n", a->out, strerror(errno));
		goto out;
	}
	if (pki_ca_create("Another CA", 365, &cert, &key) < 0 ||
		pki_server_cert_create(cert.data, key.data, 365, &scert, &skey) < 0) {
		fprintf(stderr, "badpeer: %s\n", pki_last_error());
		goto out;
	}
	if (write_file(a->out, "ca.crt", cert.data, cert.len, 0644) < 0 ||
		write_file(a->out, "ca.key", key.data, key.len, 0600) < 0 ||
		write_file(a->out, "server.crt", scert.data, scert.len, 0644) < 0 ||
		write_file(a->out, "server.key", skey.data, skey.len, 0600) < 0)
		goto out;
	r = 0;
out:
	buf_release(&cert);
	buf_release(&key);
	buf_release(&scert);
	buf_release(&skey);
	return r;
}

static int
cmd_mkcert(const struct args *a)
{
	struct buf csr, key, cert;
	char *ca_cert, *ca_key;
	int r = 1;

	if (a->ca_cert == NULL || a->ca_key == NULL || a->cn == NULL || a->out == NULL)
		usage();
	ca_cert = read_file(a->ca_cert, NULL);
	ca_key = read_file(a->ca_key, NULL);
	buf_init(&csr, PKI_MAX_PEM);
	buf_init(&key, PKI_MAX_PEM);
	buf_init(&cert, PKI_MAX_PEM);
	if (mkdir(a->out, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "badpeer: %s: %s\n", a->out, strerror(errno));
		goto out;
	}
	if (pki_csr_create("badpeer", &csr, &key) < 0 ||
		pki_csr_sign(ca_cert, ca_key, csr.data, csr.len, a->cn, a->days, &cert, NULL) < 0) {
		fprintf(stderr, "badpeer: %s\n", pki_last_error());
		goto out;
	}
	if (write_file(a->out, "agent.crt", cert.data, cert.len, 0644) < 0 ||
		write_file(a->out, "agent.key", key.data, key.len, 0600) < 0)
		goto out;
	r = 0;
out:
	free(ca_cert);
	free(ca_key);
	buf_release(&csr);
	buf_release(&key);
	buf_release(&cert);
	return r;
}

static int
cmd_mktoken(const struct args *a)
{
	uint8_t fp[TOKEN_FP_LEN], secret[TOKEN_SECRET_LEN];
	char tok[TOKEN_STR_LEN + 1];
	size_t len;
	char *pem;
	int r;

	if (a->cert == NULL)
		usage();
	pem = read_file(a->cert, &len);
	r = pki_cert_fingerprint(pem, len, fp);
	free(pem);
	if (r < 0 || getrandom(secret, sizeof(secret), 0) != (ssize_t)sizeof(secret)) {
		fprintf(stderr, "badpeer: %s: no certificate\n", a->cert);
		return 1;
	}
	token_format(fp, secret, tok);
	printf("%s\n", tok);
	return 0;
}

int
main(int argc, char **argv)
{
	struct args a;

	if (argc < 2)
		usage();
	setvbuf(stdout, NULL, _IOLBF, 0);
	parse_args(argc, argv, &a);
	if (strcmp(argv[1], "enroll") == 0)
		return cmd_enroll(&a);
	if (strcmp(argv[1], "send") == 0)
		return cmd_send(&a, argc - optind, argv + optind);
	if (strcmp(argv[1], "mkca") == 0)
		return cmd_mkca(&a);
	if (strcmp(argv[1], "mkcert") == 0)
		return cmd_mkcert(&a);
	if (strcmp(argv[1], "mktoken") == 0)
		return cmd_mktoken(&a);
	usage();
	return EXIT_USAGE;
}
