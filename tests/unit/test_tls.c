/* test_tls.c - the private CA and TLS 1.3 connections, for real: keys,
 * certificates and CSRs from pki.h, handshakes and data over non-blocking
 * socketpairs. Who gets in (an agent certificate from our CA, or no
 * certificate at all) and who does not (another CA, expired, an agent
 * certificate posing as the server, a wrong pin), and the CSRs the CA refuses. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/xalloc.h"
#include "tls/pki.h"
#include "tls/tls.h"
#include "core/banned.h"

#define AGENT_ID	"agent-0001"
#define DAYS		30

/* Everything the tests share, made once: PEMs in memory and as files. */
static struct {
	char	 dir[64];
	struct buf ca, ca_key, srv, srv_key;			/* our CA and server */
	struct buf agent, agent_key;				/* an enrolled agent */
	char	 agent_serial[64];
	struct buf other_ca, other_ca_key, other_agent, other_agent_key, other_srv, other_srv_key;
	struct buf expired, expired_key;
	char	*ca_path, *srv_path, *srv_key_path, *agent_path, *agent_key_path;
	char	*other_agent_path, *other_agent_key_path, *other_srv_path, *other_srv_key_path;
	char	*expired_path, *expired_key_path;
} F;

static char *
write_pem(const char *name, const struct buf *b)
{
	char *path = xasprintf("%s/%s", F.dir, name);
	FILE *f = fopen(path, "we");

	assert_non_null(f);
	assert_int_equal(fwrite(b->data, 1, b->len, f), b->len);
	assert_int_equal(fclose(f), 0);
	return path;
}

/* A CSR round trip: the agent makes key and CSR, the CA signs it. */
static void
make_agent(const struct buf *ca, const struct buf *ca_key, int days, struct buf *cert,
	struct buf *key, char serial[64])
{
	struct buf csr;

	buf_init(&csr, PKI_MAX_PEM);
	buf_init(cert, PKI_MAX_PEM);
	buf_init(key, PKI_MAX_PEM);
	/* The CSR asks for a name; the CA decides it. */
	assert_int_equal(pki_csr_create("what-the-agent-asked-for", &csr, key), 0);
	assert_non_null(strstr(csr.data, "BEGIN CERTIFICATE REQUEST"));
	assert_non_null(strstr(key->data, "BEGIN PRIVATE KEY"));
	assert_int_equal(pki_csr_sign(ca->data, ca_key->data, csr.data, csr.len, AGENT_ID, days,
		cert, serial), 0);
	buf_release(&csr);
}

static int
setup(void **state)
{
	char tmpl[] = "/tmp/yingji-test-tls-XXXXXX";

	signal(SIGPIPE, SIG_IGN);
	assert_non_null(mkdtemp(tmpl));
	snprintf(F.dir, sizeof(F.dir), "%s", tmpl);

	buf_init(&F.ca, PKI_MAX_PEM);
	buf_init(&F.ca_key, PKI_MAX_PEM);
	buf_init(&F.srv, PKI_MAX_PEM);
	buf_init(&F.srv_key, PKI_MAX_PEM);
	assert_int_equal(pki_ca_create("Yingji test CA", 365, &F.ca, &F.ca_key), 0);
	assert_non_null(strstr(F.ca.data, "BEGIN CERTIFICATE"));
	assert_int_equal(pki_server_cert_create(F.ca.data, F.ca_key.data, DAYS, &F.srv, &F.srv_key), 0);
	make_agent(&F.ca, &F.ca_key, DAYS, &F.agent, &F.agent_key, F.agent_serial);
	make_agent(&F.ca, &F.ca_key, 0, &F.expired, &F.expired_key, NULL);

	buf_init(&F.other_ca, PKI_MAX_PEM);
	buf_init(&F.other_ca_key, PKI_MAX_PEM);
	buf_init(&F.other_srv, PKI_MAX_PEM);
	buf_init(&F.other_srv_key, PKI_MAX_PEM);
	assert_int_equal(pki_ca_create("Yingji test CA", 365, &F.other_ca, &F.other_ca_key), 0);
	assert_int_equal(pki_server_cert_create(F.other_ca.data, F.other_ca_key.data, DAYS,
		&F.other_srv, &F.other_srv_key), 0);
	make_agent(&F.other_ca, &F.other_ca_key, DAYS, &F.other_agent, &F.other_agent_key, NULL);

	F.ca_path = write_pem("ca.pem", &F.ca);
	F.srv_path = write_pem("server.pem", &F.srv);
	F.srv_key_path = write_pem("server.key", &F.srv_key);
	F.agent_path = write_pem("agent.pem", &F.agent);
	F.agent_key_path = write_pem("agent.key", &F.agent_key);
	F.other_agent_path = write_pem("other-agent.pem", &F.other_agent);
	F.other_agent_key_path = write_pem("other-agent.key", &F.other_agent_key);
	F.other_srv_path = write_pem("other-server.pem", &F.other_srv);
	F.other_srv_key_path = write_pem("other-server.key", &F.other_srv_key);
	F.expired_path = write_pem("expired.pem", &F.expired);
	F.expired_key_path = write_pem("expired.key", &F.expired_key);
	return 0;
}

static int
teardown(void **state)
{
	char **paths[] = {
		&F.ca_path, &F.srv_path, &F.srv_key_path, &F.agent_path, &F.agent_key_path,
		&F.other_agent_path, &F.other_agent_key_path, &F.other_srv_path,
		&F.other_srv_key_path, &F.expired_path, &F.expired_key_path,
	};
	struct buf *bufs[] = {
		&F.ca, &F.ca_key, &F.srv, &F.srv_key, &F.agent, &F.agent_key, &F.other_ca,
		&F.other_ca_key, &F.other_agent, &F.other_agent_key, &F.other_srv,
		&F.other_srv_key, &F.expired, &F.expired_key,
	};

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		unlink(*paths[i]);
		free(*paths[i]);
	}
	for (size_t i = 0; i < sizeof(bufs) / sizeof(bufs[0]); i++)
		buf_release(bufs[i]);
	rmdir(F.dir);
	return 0;
}

/* A server and a client connection over a non-blocking socketpair. */
struct pair {
	int		 fd[2];		/* server, client */
	struct tls_conn	*conn[2];
	int		 r[2];		/* handshake results */
};

static void
pair_open(struct pair *p, struct tls_ctx *server, struct tls_ctx *client)
{
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, p->fd), 0);
	assert_int_equal(tls_conn_new(server, p->fd[0], true, &p->conn[0]), 0);
	assert_int_equal(tls_conn_new(client, p->fd[1], false, &p->conn[1]), 0);
	p->r[0] = p->r[1] = -EAGAIN;
}

static void
pair_close(struct pair *p)
{
	for (int i = 0; i < 2; i++) {
		tls_conn_free(p->conn[i]);
		close(p->fd[i]);
	}
}

static short
wait_events(const struct tls_conn *c)
{
	return tls_conn_want_write(c) ? POLLOUT : POLLIN;
}

/* Drive both handshakes until neither waits; false if nothing moves for 10
 * seconds. A side that fails stops writing, so the other sees its alert,
 * then the end of the stream. Asserts nothing: the threads test uses it. */
static bool
pair_drive(struct pair *p)
{
	for (;;) {
		struct pollfd pfd[2];
		nfds_t n = 0;

		for (int i = 0; i < 2; i++) {
			if (p->r[i] != -EAGAIN)
				continue;
			p->r[i] = tls_conn_handshake(p->conn[i]);
			if (p->r[i] < 0 && p->r[i] != -EAGAIN)
				shutdown(p->fd[i], SHUT_WR);
		}
		for (int i = 0; i < 2; i++) {
			if (p->r[i] == -EAGAIN) {
				pfd[n].fd = p->fd[i];
				pfd[n].events = wait_events(p->conn[i]);
				n++;
			}
		}
		if (n == 0)
			return true;
		if (poll(pfd, n, 10000) <= 0)
			return false;
	}
}

static void
pair_handshake(struct pair *p)
{
	assert_true(pair_drive(p));
}

static struct tls_ctx *
server_ctx(const char *cert, const char *key, bool ask)
{
	struct tls_ctx *ctx = NULL;

	assert_int_equal(tls_ctx_server_new(F.ca_path, cert, key, ask, &ctx), 0);
	return ctx;
}

static struct tls_ctx *
client_ctx(const uint8_t *pin, const char *cert, const char *key)
{
	struct tls_ctx *ctx = NULL;

	assert_int_equal(tls_ctx_client_new(pin != NULL ? NULL : F.ca_path, pin, cert, key, &ctx), 0);
	return ctx;
}

/* A read by a client whose certificate the server refused after the client's
 * side of the handshake was done (TLS 1.3): the server's alert. */
static ssize_t
read_until_not_eagain(struct tls_conn *c, int fd)
{
	char b[64];
	ssize_t n;

	for (;;) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };

		n = tls_conn_read(c, b, sizeof(b));
		if (n != -EAGAIN)
			return n;
		pfd.events = wait_events(c);
		assert_true(poll(&pfd, 1, 10000) > 0);
	}
}

static void
agent_with_our_cert_gets_in(void **state)
{
	struct tls_ctx *s = server_ctx(F.srv_path, F.srv_key_path, true);
	struct tls_ctx *c = client_ctx(NULL, F.agent_path, F.agent_key_path);
	struct tls_peer peer;
	uint8_t fp[TLS_FINGERPRINT_LEN];
	int64_t now = (int64_t)time(NULL) * 1000000000;
	struct pair p;

	pair_open(&p, s, c);
	pair_handshake(&p);
	assert_int_equal(p.r[0], 0);
	assert_int_equal(p.r[1], 0);

	/* The server knows the agent by the name the CA gave it. */
	assert_int_equal(tls_conn_peer(p.conn[0], &peer), 0);
	assert_true(peer.has_cert);
	assert_string_equal(peer.cn, AGENT_ID);
	assert_string_equal(peer.serial, F.agent_serial);
	assert_int_equal(strlen(peer.serial), 32);		/* 128 bits */
	assert_int_equal(pki_cert_fingerprint(F.agent.data, F.agent.len, fp), 0);
	assert_memory_equal(peer.fingerprint, fp, TLS_FINGERPRINT_LEN);
	assert_true(peer.not_after_ns > now + (int64_t)(DAYS - 1) * 86400 * 1000000000);
	assert_true(peer.not_after_ns <= now + (int64_t)(DAYS + 1) * 86400 * 1000000000);

	/* And the agent knows the server. */
	assert_int_equal(tls_conn_peer(p.conn[1], &peer), 0);
	assert_true(peer.has_cert);
	assert_string_equal(peer.cn, TLS_SERVER_NAME);
	assert_int_equal(pki_cert_fingerprint(F.srv.data, F.srv.len, fp), 0);
	assert_memory_equal(peer.fingerprint, fp, TLS_FINGERPRINT_LEN);

	pair_close(&p);
	tls_ctx_free(c);
	tls_ctx_free(s);
}

static void
client_without_cert_gets_in_as_nobody(void **state)
{
	struct tls_ctx *s = server_ctx(F.srv_path, F.srv_key_path, true);
	struct tls_ctx *c = client_ctx(NULL, NULL, NULL);
	struct tls_peer peer;
	struct pair p;

	pair_open(&p, s, c);
	pair_handshake(&p);
	assert_int_equal(p.r[0], 0);
	assert_int_equal(p.r[1], 0);
	memset(&peer, 0xff, sizeof(peer));
	assert_int_equal(tls_conn_peer(p.conn[0], &peer), 0);
	assert_false(peer.has_cert);
	pair_close(&p);
	tls_ctx_free(c);
	tls_ctx_free(s);
}

/* The server refuses the client's certificate with reason_part in its error;
 * the client, done with its side, reads the alert. */
static void
client_cert_refused(const char *cert, const char *key, const char *reason_part)
{
	struct tls_ctx *s = server_ctx(F.srv_path, F.srv_key_path, true);
	struct tls_ctx *c = client_ctx(NULL, cert, key);
	struct pair p;
	ssize_t n;

	pair_open(&p, s, c);
	pair_handshake(&p);
	assert_int_equal(p.r[0], -EPROTO);
	print_message("server: %s\n", tls_conn_error(p.conn[0]));
	if (strstr(tls_conn_error(p.conn[0]), reason_part) == NULL)
		fail_msg("server error \"%s\" does not say \"%s\"", tls_conn_error(p.conn[0]),
			reason_part);
	/* TLS 1.3: the client finished before the server checked it. */
	if (p.r[1] == 0) {
		n = read_until_not_eagain(p.conn[1], p.fd[1]);
		assert_true(n < 0);
		assert_true(tls_conn_error(p.conn[1])[0] != '\0');
		print_message("client: %s\n", tls_conn_error(p.conn[1]));
	} else {
		assert_true(p.r[1] < 0);
	}
	pair_close(&p);
	tls_ctx_free(c);
	tls_ctx_free(s);
}

static void
client_cert_from_other_ca_refused(void **state)
{
	client_cert_refused(F.other_agent_path, F.other_agent_key_path, "issuer certificate");
}

static void
expired_client_cert_refused(void **state)
{
	client_cert_refused(F.expired_path, F.expired_key_path, "expired");
}

/* A server presenting cert must be refused by a client that trusts our CA. */
static void
server_cert_refused(const char *cert, const char *key)
{
	struct tls_ctx *s = server_ctx(cert, key, false);
	struct tls_ctx *c = client_ctx(NULL, NULL, NULL);
	struct pair p;

	pair_open(&p, s, c);
	pair_handshake(&p);
	assert_int_equal(p.r[1], -EPROTO);
	assert_true(p.r[0] < 0);
	assert_true(tls_conn_error(p.conn[1])[0] != '\0');
	print_message("client: %s; server: %s\n", tls_conn_error(p.conn[1]),
		tls_conn_error(p.conn[0]));
	pair_close(&p);
	tls_ctx_free(c);
	tls_ctx_free(s);
}

static void
agent_cert_as_server_refused(void **state)
{
	/* An enrolled agent cannot pose as the centre: clientAuth only, wrong name. */
	server_cert_refused(F.agent_path, F.agent_key_path);
}

static void
server_cert_from_other_ca_refused(void **state)
{
	server_cert_refused(F.other_srv_path, F.other_srv_key_path);
}

static void
pin_mismatch_refused(void **state)
{
	struct tls_ctx *s = server_ctx(F.other_srv_path, F.other_srv_key_path, true);
	uint8_t pin[TLS_FINGERPRINT_LEN];
	struct tls_ctx *c;
	struct pair p;

	/* The token carried our server's fingerprint; another server answers. */
	assert_int_equal(pki_cert_fingerprint(F.srv.data, F.srv.len, pin), 0);
	c = client_ctx(pin, NULL, NULL);
	pair_open(&p, s, c);
	pair_handshake(&p);
	assert_int_equal(p.r[1], -EPROTO);
	assert_non_null(strstr(tls_conn_error(p.conn[1]), "pinned"));
	assert_true(p.r[0] < 0);
	pair_close(&p);
	tls_ctx_free(c);
	tls_ctx_free(s);
}

static void
pin_match_gets_in(void **state)
{
	struct tls_ctx *s = server_ctx(F.srv_path, F.srv_key_path, true);
	uint8_t pin[TLS_FINGERPRINT_LEN];
	struct tls_peer peer;
	struct tls_ctx *c;
	struct pair p;

	assert_int_equal(pki_cert_fingerprint(F.srv.data, F.srv.len, pin), 0);
	c = client_ctx(pin, NULL, NULL);
	pair_open(&p, s, c);
	pair_handshake(&p);
	assert_int_equal(p.r[0], 0);
	assert_int_equal(p.r[1], 0);
	assert_int_equal(tls_conn_peer(p.conn[1], &peer), 0);
	assert_memory_equal(peer.fingerprint, pin, TLS_FINGERPRINT_LEN);
	assert_int_equal(tls_conn_peer(p.conn[0], &peer), 0);
	assert_false(peer.has_cert);
	pair_close(&p);
	tls_ctx_free(c);
	tls_ctx_free(s);
}

/* Move total bytes from conn[from] to the other side in non-blocking mode,
 * with writes as large as OpenSSL takes and reads of readsz. */
static void
transfer(struct pair *p, int from, size_t total, size_t readsz)
{
	struct tls_conn *w = p->conn[from], *r = p->conn[1 - from];
	uint8_t *src = xmalloc(total), *dst = xmalloc(total);
	size_t sent = 0, got = 0;

	for (size_t i = 0; i < total; i++)
		src[i] = (uint8_t)(i * 2654435761u >> 13);
	while (got < total) {
		struct pollfd pfd[2];
		nfds_t n = 0;
		bool progress = false;
		ssize_t k;

		if (sent < total) {
			/* After -EAGAIN the same pointer and length come back. */
			k = tls_conn_write(w, src + sent, total - sent);
			if (k > 0) {
				assert_true((size_t)k <= total - sent);
				sent += (size_t)k;
				progress = true;
			} else {
				assert_int_equal(k, -EAGAIN);
				pfd[n].fd = p->fd[from];
				pfd[n].events = wait_events(w);
				n++;
			}
		}
		k = tls_conn_read(r, dst + got, total - got < readsz ? total - got : readsz);
		if (k > 0) {
			got += (size_t)k;
			progress = true;
		} else {
			assert_int_equal(k, -EAGAIN);
			pfd[n].fd = p->fd[1 - from];
			pfd[n].events = wait_events(r);
			n++;
		}
		if (!progress)
			assert_true(poll(pfd, n, 10000) > 0);
	}
	assert_int_equal(sent, total);
	assert_memory_equal(src, dst, total);
	free(src);
	free(dst);
}

static void
mebibyte_round_trip_non_blocking(void **state)
{
	struct tls_ctx *s = server_ctx(F.srv_path, F.srv_key_path, true);
	struct tls_ctx *c = client_ctx(NULL, F.agent_path, F.agent_key_path);
	struct pair p;
	char b[16];
	ssize_t n;

	pair_open(&p, s, c);
	pair_handshake(&p);
	assert_int_equal(p.r[0], 0);
	assert_int_equal(p.r[1], 0);
	transfer(&p, 1, 1 << 20, 16 * 1024);		/* agent to server */
	transfer(&p, 0, 1 << 20, 1000);			/* and back, in odd pieces */

	/* A small read leaves the rest of a record inside OpenSSL, where poll()
	 * cannot see it. */
	assert_int_equal(tls_conn_write(p.conn[0], "0123456789", 10), 10);
	n = read_until_not_eagain(p.conn[1], p.fd[1]);
	assert_int_equal(n, 10);
	assert_int_equal(tls_conn_write(p.conn[0], "abcdefghij", 10), 10);
	do {
		struct pollfd pfd = { .fd = p.fd[1], .events = POLLIN };

		assert_true(poll(&pfd, 1, 10000) > 0);
		n = tls_conn_read(p.conn[1], b, 4);
	} while (n == -EAGAIN);
	assert_int_equal(n, 4);
	assert_int_equal(tls_conn_pending(p.conn[1]), 6);
	assert_int_equal(tls_conn_read(p.conn[1], b + 4, 6), 6);
	assert_memory_equal(b, "abcdefghij", 10);

	/* A clean close reads as 0; the peer going away as -ECONNRESET. */
	tls_conn_shutdown(p.conn[1]);
	assert_int_equal(read_until_not_eagain(p.conn[0], p.fd[0]), 0);
	pair_close(&p);

	pair_open(&p, s, c);
	pair_handshake(&p);
	assert_int_equal(p.r[0], 0);
	assert_int_equal(p.r[1], 0);
	assert_int_equal(shutdown(p.fd[1], SHUT_WR), 0);
	assert_int_equal(read_until_not_eagain(p.conn[0], p.fd[0]), -ECONNRESET);
	pair_close(&p);

	tls_ctx_free(c);
	tls_ctx_free(s);
}

static void
peer_hangs_up_mid_handshake(void **state)
{
	struct tls_ctx *s = server_ctx(F.srv_path, F.srv_key_path, true);
	struct tls_ctx *c = client_ctx(NULL, NULL, NULL);
	struct pair p;

	pair_open(&p, s, c);
	assert_int_equal(tls_conn_handshake(p.conn[1]), -EAGAIN);	/* ClientHello sent */
	assert_int_equal(shutdown(p.fd[1], SHUT_RDWR), 0);
	p.r[1] = -ECONNRESET;
	pair_handshake(&p);
	assert_int_equal(p.r[0], -ECONNRESET);
	pair_close(&p);
	tls_ctx_free(c);
	tls_ctx_free(s);
}

/* Connections in several threads at once, half of them refused: each keeps
 * its own result and reason. */
struct worker {
	struct tls_ctx	*server, *client;
	bool		 good;
	bool		 ok;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;

	w->ok = true;
	for (int i = 0; i < 10; i++) {
		struct pair p;
		int fd[2];

		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fd) != 0 ||
			tls_conn_new(w->server, fd[0], true, &p.conn[0]) != 0 ||
			tls_conn_new(w->client, fd[1], false, &p.conn[1]) != 0) {
			w->ok = false;
			return NULL;
		}
		p.fd[0] = fd[0];
		p.fd[1] = fd[1];
		p.r[0] = p.r[1] = -EAGAIN;
		if (!pair_drive(&p))
			w->ok = false;
		else if (w->good) {
			struct tls_peer peer;

			if (p.r[0] != 0 || p.r[1] != 0 || tls_conn_peer(p.conn[0], &peer) != 0 ||
				strcmp(peer.cn, AGENT_ID) != 0 || tls_conn_error(p.conn[0])[0] != '\0')
				w->ok = false;
		} else {
			if (p.r[0] != -EPROTO || strstr(tls_conn_error(p.conn[0]), "expired") == NULL)
				w->ok = false;
		}
		pair_close(&p);
	}
	return NULL;
}

static void
threads_keep_their_own_errors(void **state)
{
	struct tls_ctx *s = server_ctx(F.srv_path, F.srv_key_path, true);
	struct tls_ctx *good = client_ctx(NULL, F.agent_path, F.agent_key_path);
	struct tls_ctx *bad = client_ctx(NULL, F.expired_path, F.expired_key_path);
	struct worker w[4];
	pthread_t t[4];

	for (int i = 0; i < 4; i++) {
		w[i].server = s;
		w[i].good = i % 2 == 0;
		w[i].client = w[i].good ? good : bad;
		assert_int_equal(pthread_create(&t[i], NULL, worker_run, &w[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pthread_join(t[i], NULL), 0);
		assert_true(w[i].ok);
	}
	tls_ctx_free(bad);
	tls_ctx_free(good);
	tls_ctx_free(s);
}

static void
context_arguments_checked(void **state)
{
	uint8_t pin[TLS_FINGERPRINT_LEN] = { 0 };
	struct tls_ctx *ctx = NULL;
	char *missing = xasprintf("%s/none.pem", F.dir);

	assert_int_equal(tls_ctx_client_new(F.ca_path, pin, NULL, NULL, &ctx), -EINVAL);
	assert_int_equal(tls_ctx_client_new(NULL, NULL, NULL, NULL, &ctx), -EINVAL);
	assert_int_equal(tls_ctx_client_new(F.ca_path, NULL, F.agent_path, NULL, &ctx), -EINVAL);
	assert_int_equal(tls_ctx_server_new(NULL, F.srv_path, F.srv_key_path, true, &ctx), -EINVAL);
	assert_int_equal(tls_ctx_server_new(F.ca_path, missing, F.srv_key_path, true, &ctx), -ENOENT);
	/* A key that is not the certificate's. */
	assert_int_equal(tls_ctx_server_new(F.ca_path, F.srv_path, F.agent_key_path, true, &ctx),
		-EINVAL);
	/* A certificate where a key should be. */
	assert_int_equal(tls_ctx_server_new(F.ca_path, F.srv_path, F.srv_path, true, &ctx), -EINVAL);
	assert_null(ctx);
	/* A server context does not make client connections. */
	ctx = server_ctx(F.srv_path, F.srv_key_path, false);
	{
		struct tls_conn *c = NULL;

		assert_int_equal(tls_conn_new(ctx, 0, false, &c), -EINVAL);
		assert_null(c);
	}
	tls_ctx_free(ctx);
	tls_ctx_free(NULL);
	tls_conn_free(NULL);
	free(missing);
}

/* --- the CA and what it signs --- */

static char *
exact_copy(const char *text, size_t len)
{
	char *p = xmalloc(len ? len : 1);

	memcpy(p, text, len);
	return p;
}

/* Sign len bytes of csr (with nothing after them in memory). */
static int
sign(const char *csr, size_t len, struct buf *out)
{
	char *p = exact_copy(csr, len);
	int r = pki_csr_sign(F.ca.data, F.ca_key.data, p, len, AGENT_ID, DAYS, out, NULL);

	free(p);
	return r;
}

static void
fresh_csr(struct buf *csr)
{
	struct buf key;

	buf_init(csr, PKI_MAX_PEM);
	buf_init(&key, PKI_MAX_PEM);
	assert_int_equal(pki_csr_create("agent", csr, &key), 0);
	buf_release(&key);
}

static void
csr_garbage_refused(void **state)
{
	static const char garbage[] = "hello, I am definitely a certificate request";
	static const char fake[] = "-----BEGIN CERTIFICATE REQUEST-----\n"
		"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA\n-----END CERTIFICATE REQUEST-----\n";
	struct buf out;

	buf_init(&out, PKI_MAX_PEM);
	assert_int_equal(sign(garbage, sizeof(garbage) - 1, &out), -EINVAL);
	assert_true(pki_last_error()[0] != '\0');
	assert_int_equal(sign(fake, sizeof(fake) - 1, &out), -EINVAL);
	assert_int_equal(sign("", 0, &out), -EINVAL);
	assert_int_equal(out.len, 0);
	buf_release(&out);
}

static void
csr_truncated_refused(void **state)
{
	struct buf csr, out;

	fresh_csr(&csr);
	buf_init(&out, PKI_MAX_PEM);
	assert_int_equal(sign(csr.data, csr.len, &out), 0);	/* whole: fine */
	buf_reset(&out);
	assert_int_equal(sign(csr.data, csr.len / 2, &out), -EINVAL);
	assert_int_equal(sign(csr.data, csr.len - 30, &out), -EINVAL);
	assert_int_equal(out.len, 0);
	buf_release(&out);
	buf_release(&csr);
}

static void
csr_over_long_refused(void **state)
{
	struct buf good, csr, out;

	/* A good CSR, then blank lines to one byte over the limit. */
	fresh_csr(&good);
	buf_init(&csr, 2 * PKI_MAX_PEM);
	assert_int_equal(buf_append(&csr, good.data, good.len), 0);
	buf_release(&good);
	buf_init(&out, PKI_MAX_PEM);
	while (csr.len < PKI_MAX_PEM + 1)
		assert_int_equal(buf_putc(&csr, '\n'), 0);
	assert_int_equal(sign(csr.data, PKI_MAX_PEM, &out), 0);
	buf_reset(&out);
	assert_int_equal(sign(csr.data, PKI_MAX_PEM + 1, &out), -EINVAL);
	assert_int_equal(out.len, 0);
	buf_release(&out);
	buf_release(&csr);
}

static void
csr_tampered_signature_refused(void **state)
{
	struct buf csr, out;
	char *end, *c;

	/* The DER ends with the ECDSA signature: change one base64 digit a few
	 * bytes before the end, and the signature no longer verifies. */
	fresh_csr(&csr);
	buf_init(&out, PKI_MAX_PEM);
	end = strstr(csr.data, "\n-----END");
	assert_non_null(end);
	c = end - 1;
	while (*c == '=')
		c--;
	for (int k = 0; k < 6; c--)
		if (*c != '\n')
			k++;
	while (*c == '\n')
		c--;
	*c = *c == 'A' ? 'B' : 'A';
	assert_int_equal(sign(csr.data, csr.len, &out), -EINVAL);
	assert_non_null(strstr(pki_last_error(), "signature"));
	buf_release(&out);
	buf_release(&csr);
}

/* A CSR made by the openssl command (RSA, another curve); NULL when the
 * command is not there. */
static char *
openssl_csr(const char *newkey_args, size_t *ret_len)
{
	char *path = xasprintf("%s/foreign.csr", F.dir);
	char *cmd = xasprintf("openssl req -new %s -nodes -subj /CN=foreign -keyout /dev/null "
		"-out %s >/dev/null 2>&1", newkey_args, path);
	char *text = NULL;
	struct stat st;
	FILE *f;

	if (system(cmd) == 0 && (f = fopen(path, "re")) != NULL) {
		if (fstat(fileno(f), &st) == 0 && st.st_size > 0 && st.st_size < PKI_MAX_PEM) {
			text = xmalloc((size_t)st.st_size);
			if (fread(text, 1, (size_t)st.st_size, f) != (size_t)st.st_size) {
				free(text);
				text = NULL;
			} else {
				*ret_len = (size_t)st.st_size;
			}
		}
		fclose(f);
	}
	unlink(path);
	free(cmd);
	free(path);
	return text;
}

static void
csr_with_other_key_refused(const char *newkey_args)
{
	struct buf out;
	size_t len = 0;
	char *csr = openssl_csr(newkey_args, &len);

	if (csr == NULL)
		skip();
	buf_init(&out, PKI_MAX_PEM);
	assert_int_equal(sign(csr, len, &out), -EINVAL);
	assert_non_null(strstr(pki_last_error(), "P-256"));
	buf_release(&out);
	free(csr);
}

static void
csr_rsa_refused(void **state)
{
	csr_with_other_key_refused("-newkey rsa:2048");
}

static void
csr_p384_refused(void **state)
{
	csr_with_other_key_refused("-newkey ec -pkeyopt ec_paramgen_curve:P-384");
}

static void
csr_openssl_p256_accepted(void **state)
{
	/* Any client that makes a proper P-256 CSR can enroll, not just ours. */
	struct buf out;
	size_t len = 0;
	char *csr = openssl_csr("-newkey ec -pkeyopt ec_paramgen_curve:P-256", &len);

	if (csr == NULL)
		skip();
	buf_init(&out, PKI_MAX_PEM);
	assert_int_equal(sign(csr, len, &out), 0);
	buf_release(&out);
	free(csr);
}

static void
sign_arguments_checked(void **state)
{
	struct buf csr, out;
	char serial[64] = "untouched";

	fresh_csr(&csr);
	buf_init(&out, PKI_MAX_PEM);
	/* The CA's key must be the CA's. */
	assert_int_equal(pki_csr_sign(F.ca.data, F.other_ca_key.data, csr.data, csr.len, AGENT_ID,
		DAYS, &out, serial), -EINVAL);
	assert_int_equal(pki_csr_sign(F.ca.data, F.ca_key.data, csr.data, csr.len, "", DAYS, &out,
		serial), -EINVAL);
	assert_int_equal(pki_csr_sign(F.ca.data, F.ca_key.data, csr.data, csr.len, AGENT_ID, 1000000,
		&out, serial), -EINVAL);
	assert_string_equal(serial, "untouched");
	assert_int_equal(out.len, 0);
	/* An output buffer too small is left alone. */
	buf_release(&out);
	buf_init(&out, 100);
	assert_int_equal(pki_csr_sign(F.ca.data, F.ca_key.data, csr.data, csr.len, AGENT_ID, DAYS,
		&out, serial), -E2BIG);
	assert_int_equal(out.len, 0);
	assert_string_equal(serial, "untouched");
	buf_release(&out);
	buf_release(&csr);
}

static void
serials_differ(void **state)
{
	struct buf csr, out;
	char a[64], b[64];

	fresh_csr(&csr);
	buf_init(&out, PKI_MAX_PEM);
	assert_int_equal(pki_csr_sign(F.ca.data, F.ca_key.data, csr.data, csr.len, AGENT_ID, DAYS,
		&out, a), 0);
	assert_int_equal(pki_csr_sign(F.ca.data, F.ca_key.data, csr.data, csr.len, AGENT_ID, DAYS,
		&out, b), 0);
	assert_string_not_equal(a, b);
	for (const char *p = a; *p != '\0'; p++)
		assert_true((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f'));
	buf_release(&out);
	buf_release(&csr);
}

static void
fingerprint_needs_a_certificate(void **state)
{
	uint8_t fp[TLS_FINGERPRINT_LEN], fp2[TLS_FINGERPRINT_LEN];

	assert_int_equal(pki_cert_fingerprint("junk", 4, fp), -EINVAL);
	assert_int_equal(pki_cert_fingerprint(F.srv_key.data, F.srv_key.len, fp), -EINVAL);
	assert_int_equal(pki_cert_fingerprint(F.srv.data, PKI_MAX_PEM + 1, fp), -EINVAL);
	assert_int_equal(pki_cert_fingerprint(F.srv.data, F.srv.len, fp), 0);
	assert_int_equal(pki_cert_fingerprint(F.agent.data, F.agent.len, fp2), 0);
	assert_memory_not_equal(fp, fp2, TLS_FINGERPRINT_LEN);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(agent_with_our_cert_gets_in),
		cmocka_unit_test(client_without_cert_gets_in_as_nobody),
		cmocka_unit_test(client_cert_from_other_ca_refused),
		cmocka_unit_test(expired_client_cert_refused),
		cmocka_unit_test(agent_cert_as_server_refused),
		cmocka_unit_test(server_cert_from_other_ca_refused),
		cmocka_unit_test(pin_mismatch_refused),
		cmocka_unit_test(pin_match_gets_in),
		cmocka_unit_test(mebibyte_round_trip_non_blocking),
		cmocka_unit_test(peer_hangs_up_mid_handshake),
		cmocka_unit_test(threads_keep_their_own_errors),
		cmocka_unit_test(context_arguments_checked),
		cmocka_unit_test(csr_garbage_refused),
		cmocka_unit_test(csr_truncated_refused),
		cmocka_unit_test(csr_over_long_refused),
		cmocka_unit_test(csr_tampered_signature_refused),
		cmocka_unit_test(csr_rsa_refused),
		cmocka_unit_test(csr_p384_refused),
		cmocka_unit_test(csr_openssl_p256_accepted),
		cmocka_unit_test(sign_arguments_checked),
		cmocka_unit_test(serials_differ),
		cmocka_unit_test(fingerprint_needs_a_certificate),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
