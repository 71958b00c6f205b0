/*
 * tls.c - TLS 1.3 contexts and connections over OpenSSL 3 (see tls.h).
 *
 * Each connection keeps the reason for its last failure, so nothing depends on
 * OpenSSL's per-thread error queue between calls: every call empties the queue
 * before it starts and after it has read the reason. Different connections may
 * be used from different threads; one connection from one thread at a time.
 */
#include "tls/tls.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/bn.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "core/log.h"
#include "core/xalloc.h"
#include "core/banned.h"

struct tls_ctx {
	SSL_CTX		*ssl_ctx;
	bool		 is_server;
	bool		 pinned;			/* client: check pin, not a CA */
	uint8_t		 pin[TLS_FINGERPRINT_LEN];
};

struct tls_conn {
	SSL		*ssl;
	bool		 want_write;		/* the last -EAGAIN waits for POLLOUT */
	bool		 pin_mismatch;		/* set by pin_verify() */
	char		 err[256];
};

/* Why a context could not be made: logged at debug (the caller reports the
 * failure), turned into -errno for a file that cannot be opened, else -EINVAL. */
static int
ctx_fail(const char *what, const char *path)
{
	unsigned long e = ERR_peek_error();
	char reason[200] = "";
	int r = -EINVAL;

	if (e != 0) {
		if (ERR_SYSTEM_ERROR(e) && ERR_GET_REASON(e) > 0)
			r = -ERR_GET_REASON(e);
		ERR_error_string_n(e, reason, sizeof(reason));
	}
	log_debug("tls", "%s %s: %s", what, path != NULL ? path : "", reason);
	ERR_clear_error();
	return r;
}

/* What every context shares: TLS 1.3 only, no compression, no session reuse
 * (a revoked agent must go through a full handshake), partial writes. */
static int
ctx_new(bool is_server, struct tls_ctx **ret)
{
	struct tls_ctx *ctx;
	SSL_CTX *s;

	s = SSL_CTX_new(is_server ? TLS_server_method() : TLS_client_method());
	if (s == NULL)
		return ctx_fail("SSL_CTX_new", NULL);
	if (SSL_CTX_set_min_proto_version(s, TLS1_3_VERSION) != 1 ||
		SSL_CTX_set_max_proto_version(s, TLS1_3_VERSION) != 1) {
		SSL_CTX_free(s);
		return ctx_fail("setting the protocol version", NULL);
	}
	SSL_CTX_set_options(s, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET);
	SSL_CTX_set_session_cache_mode(s, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(s, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (is_server) {
		(void)SSL_CTX_set_num_tickets(s, 0);
		/* Unused with no cache and no tickets, but OpenSSL wants one
		 * whenever it verifies client certificates. */
		(void)SSL_CTX_set_session_id_context(s, (const unsigned char *)"yingji", 6);
	}

	ctx = xcalloc(1, sizeof(*ctx));
	ctx->ssl_ctx = s;
	ctx->is_server = is_server;
	*ret = ctx;
	return 0;
}

static int
ctx_use_cert(struct tls_ctx *ctx, const char *cert_path, const char *key_path)
{
	if (SSL_CTX_use_certificate_chain_file(ctx->ssl_ctx, cert_path) != 1)
		return ctx_fail("loading the certificate", cert_path);
	if (SSL_CTX_use_PrivateKey_file(ctx->ssl_ctx, key_path, SSL_FILETYPE_PEM) != 1)
		return ctx_fail("loading the key", key_path);
	if (SSL_CTX_check_private_key(ctx->ssl_ctx) != 1)
		return ctx_fail("the key does not match the certificate", key_path);
	return 0;
}

/* The CA file is the only trust anchor (no system paths). */
static int
ctx_trust_ca(struct tls_ctx *ctx, const char *ca_cert_path, int purpose)
{
	if (SSL_CTX_load_verify_locations(ctx->ssl_ctx, ca_cert_path, NULL) != 1)
		return ctx_fail("loading the CA", ca_cert_path);
	if (SSL_CTX_set_purpose(ctx->ssl_ctx, purpose) != 1)
		return ctx_fail("setting the certificate purpose", NULL);
	return 0;
}

int
tls_ctx_server_new(const char *ca_cert_path, const char *cert_path, const char *key_path,
	bool ask_client_cert, struct tls_ctx **ret)
{
	struct tls_ctx *ctx = NULL;
	int r;

	if (cert_path == NULL || key_path == NULL || (ask_client_cert && ca_cert_path == NULL))
		return -EINVAL;
	ERR_clear_error();
	r = ctx_new(true, &ctx);
	if (r < 0)
		goto out;
	r = ctx_use_cert(ctx, cert_path, key_path);
	if (r < 0)
		goto out;
	if (ask_client_cert) {
		STACK_OF(X509_NAME) *names;

		r = ctx_trust_ca(ctx, ca_cert_path, X509_PURPOSE_SSL_CLIENT);
		if (r < 0)
			goto out;
		names = SSL_load_client_CA_file(ca_cert_path);
		if (names == NULL) {
			r = ctx_fail("reading the CA's name", ca_cert_path);
			goto out;
		}
		SSL_CTX_set_client_CA_list(ctx->ssl_ctx, names);
		/* Without FAIL_IF_NO_PEER_CERT: a peer with no certificate may
		 * only enroll, and tls_conn_peer() says it has none. */
		SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_PEER, NULL);
	} else {
		SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_NONE, NULL);
	}

	*ret = ctx;
	ctx = NULL;
	r = 0;
out:
	tls_ctx_free(ctx);
	ERR_clear_error();
	return r;
}

/*
 * Before enrollment the client knows the server only by its certificate's
 * fingerprint. This replaces chain verification (there is no CA to chain
 * to yet): the leaf must be exactly the pinned certificate. TLS 1.3's
 * CertificateVerify proves the server holds its key.
 */
static int
pin_verify(X509_STORE_CTX *sctx, void *arg)
{
	const struct tls_ctx *ctx = arg;
	X509 *leaf = X509_STORE_CTX_get0_cert(sctx);
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	SSL *ssl;

	if (leaf != NULL && X509_digest(leaf, EVP_sha256(), md, &len) == 1 &&
		len == TLS_FINGERPRINT_LEN && CRYPTO_memcmp(md, ctx->pin, TLS_FINGERPRINT_LEN) == 0) {
		X509_STORE_CTX_set_error(sctx, X509_V_OK);
		return 1;
	}
	ssl = X509_STORE_CTX_get_ex_data(sctx, SSL_get_ex_data_X509_STORE_CTX_idx());
	if (ssl != NULL) {
		struct tls_conn *c = SSL_get_app_data(ssl);

		if (c != NULL)
			c->pin_mismatch = true;
	}
	X509_STORE_CTX_set_error(sctx, X509_V_ERR_CERT_REJECTED);
	return 0;
}

int
tls_ctx_client_new(const char *ca_cert_path, const uint8_t *pin, const char *cert_path,
	const char *key_path, struct tls_ctx **ret)
{
	struct tls_ctx *ctx = NULL;
	int r;

	if ((ca_cert_path == NULL) == (pin == NULL) || (cert_path == NULL) != (key_path == NULL))
		return -EINVAL;
	ERR_clear_error();
	r = ctx_new(false, &ctx);
	if (r < 0)
		goto out;
	if (cert_path != NULL) {
		r = ctx_use_cert(ctx, cert_path, key_path);
		if (r < 0)
			goto out;
	}
	if (ca_cert_path != NULL) {
		r = ctx_trust_ca(ctx, ca_cert_path, X509_PURPOSE_SSL_SERVER);
		if (r < 0)
			goto out;
		if (X509_VERIFY_PARAM_set1_host(SSL_CTX_get0_param(ctx->ssl_ctx), TLS_SERVER_NAME, 0) != 1) {
			r = ctx_fail("setting the server name", NULL);
			goto out;
		}
		SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_PEER, NULL);
	} else {
		ctx->pinned = true;
		memcpy(ctx->pin, pin, TLS_FINGERPRINT_LEN);
		SSL_CTX_set_verify(ctx->ssl_ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_cert_verify_callback(ctx->ssl_ctx, pin_verify, ctx);
	}

	*ret = ctx;
	ctx = NULL;
	r = 0;
out:
	tls_ctx_free(ctx);
	ERR_clear_error();
	return r;
}

void
tls_ctx_free(struct tls_ctx *ctx)
{
	if (ctx == NULL)
		return;
	SSL_CTX_free(ctx->ssl_ctx);
	free(ctx);
}

int
tls_conn_new(struct tls_ctx *ctx, int fd, bool is_server, struct tls_conn **ret)
{
	struct tls_conn *c = NULL;
	int r;

	if (ctx == NULL || fd < 0 || ctx->is_server != is_server)
		return -EINVAL;
	ERR_clear_error();
	c = xcalloc(1, sizeof(*c));
	c->ssl = SSL_new(ctx->ssl_ctx);
	if (c->ssl == NULL) {
		(void)ctx_fail("SSL_new", NULL);
		r = -ENOMEM;
		goto out;
	}
	SSL_set_app_data(c->ssl, c);
	if (SSL_set_fd(c->ssl, fd) != 1) {
		r = ctx_fail("SSL_set_fd", NULL);
		goto out;
	}
	if (is_server) {
		SSL_set_accept_state(c->ssl);
	} else {
		if (SSL_set_tlsext_host_name(c->ssl, TLS_SERVER_NAME) != 1) {
			r = ctx_fail("setting SNI", NULL);
			goto out;
		}
		SSL_set_connect_state(c->ssl);
	}

	*ret = c;
	c = NULL;
	r = 0;
out:
	tls_conn_free(c);
	ERR_clear_error();
	return r;
}

void
tls_conn_free(struct tls_conn *c)
{
	if (c == NULL)
		return;
	SSL_free(c->ssl);
	free(c);
}

static void
conn_set_error(struct tls_conn *c, const char *msg)
{
	snprintf(c->err, sizeof(c->err), "%s", msg);
}

/*
 * Turn a failed SSL call's result into -EAGAIN (remembering which way to
 * wait), 0 (close_notify), -ECONNRESET (the peer went away) or -EPROTO, and
 * keep the reason. saved_errno is errno right after the call.
 */
static int
conn_result(struct tls_conn *c, int ret, int saved_errno)
{
	unsigned long e;
	long v;
	int r;

	switch (SSL_get_error(c->ssl, ret)) {
	case SSL_ERROR_WANT_READ:
		c->want_write = false;
		r = -EAGAIN;
		break;
	case SSL_ERROR_WANT_WRITE:
		c->want_write = true;
		r = -EAGAIN;
		break;
	case SSL_ERROR_ZERO_RETURN:
		conn_set_error(c, "connection closed by peer");
		r = 0;
		break;
	case SSL_ERROR_SYSCALL:
		if (saved_errno == 0 || saved_errno == EPIPE || saved_errno == ECONNRESET) {
			conn_set_error(c, "connection closed by peer");
			r = -ECONNRESET;
		} else {
			conn_set_error(c, strerror(saved_errno));
			r = -saved_errno;
		}
		break;
	case SSL_ERROR_SSL:
		e = ERR_peek_error();
		v = SSL_get_verify_result(c->ssl);
		if (ERR_GET_LIB(e) == ERR_LIB_SSL &&
			ERR_GET_REASON(e) == SSL_R_UNEXPECTED_EOF_WHILE_READING) {
			conn_set_error(c, "connection closed by peer without close_notify");
			r = -ECONNRESET;
			break;
		}
		if (c->pin_mismatch)
			conn_set_error(c, "server certificate does not match the pinned fingerprint");
		else if (v != X509_V_OK)
			conn_set_error(c, X509_verify_cert_error_string(v));
		else if (e != 0)
			ERR_error_string_n(e, c->err, sizeof(c->err));
		else
			conn_set_error(c, "TLS protocol error");
		r = -EPROTO;
		break;
	default:
		conn_set_error(c, "unexpected TLS error");
		r = -EPROTO;
		break;
	}
	ERR_clear_error();
	return r;
}

int
tls_conn_handshake(struct tls_conn *c)
{
	int ret, saved_errno, r;

	ERR_clear_error();
	errno = 0;
	ret = SSL_do_handshake(c->ssl);
	saved_errno = errno;
	if (ret == 1) {
		c->want_write = false;
		return 0;
	}
	r = conn_result(c, ret, saved_errno);
	if (r == 0) {
		/* close_notify before the handshake finished */
		r = -ECONNRESET;
	}
	return r;
}

ssize_t
tls_conn_read(struct tls_conn *c, void *p, size_t n)
{
	size_t got = 0;
	int ret, saved_errno;

	if (n == 0)
		return 0;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	ERR_clear_error();
	errno = 0;
	ret = SSL_read_ex(c->ssl, p, n, &got);
	saved_errno = errno;
	if (ret == 1) {
		c->want_write = false;
		return (ssize_t)got;
	}
	return conn_result(c, ret, saved_errno);
}

ssize_t
tls_conn_write(struct tls_conn *c, const void *p, size_t n)
{
	size_t done = 0;
	int ret, saved_errno;

	if (n == 0)
		return 0;
	if (n > SSIZE_MAX)
		n = SSIZE_MAX;
	ERR_clear_error();
	errno = 0;
	ret = SSL_write_ex(c->ssl, p, n, &done);
	saved_errno = errno;
	if (ret == 1) {
		c->want_write = false;
		return (ssize_t)done;
	}
	ret = conn_result(c, ret, saved_errno);
	/* The peer has closed: a write cannot go on. */
	return ret == 0 ? -ECONNRESET : ret;
}

bool
tls_conn_want_write(const struct tls_conn *c)
{
	return c->want_write;
}

size_t
tls_conn_pending(const struct tls_conn *c)
{
	int n = SSL_pending(c->ssl);

	return n > 0 ? (size_t)n : 0;
}

void
tls_conn_shutdown(struct tls_conn *c)
{
	if (c == NULL)
		return;
	ERR_clear_error();
	(void)SSL_shutdown(c->ssl);
	ERR_clear_error();
}

const char *
tls_conn_error(const struct tls_conn *c)
{
	return c->err;
}

/* The subject's common name as UTF-8; "" when there is none. */
static int
peer_cn(X509 *x, char *out, size_t outlen)
{
	X509_NAME *name = X509_get_subject_name(x);
	unsigned char *u = NULL;
	int i, n;

	out[0] = '\0';
	i = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
	if (i < 0)
		return 0;
	n = ASN1_STRING_to_UTF8(&u, X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, i)));
	if (n < 0)
		return -EPROTO;
	if ((size_t)n >= outlen || memchr(u, '\0', (size_t)n) != NULL) {
		OPENSSL_free(u);
		return -EPROTO;
	}
	memcpy(out, u, (size_t)n);
	out[n] = '\0';
	OPENSSL_free(u);
	return 0;
}

/* The serial number in lowercase hex, as pki_csr_sign() writes it. */
static int
peer_serial(X509 *x, char *out, size_t outlen)
{
	BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(x), NULL);
	char *h = NULL;
	size_t n;
	int r;

	if (bn == NULL || (h = BN_bn2hex(bn)) == NULL) {
		r = -ENOMEM;
		goto out;
	}
	n = strlen(h);
	if (n >= outlen) {
		r = -EPROTO;
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		out[i] = (h[i] >= 'A' && h[i] <= 'F') ? (char)(h[i] - 'A' + 'a') : h[i];
	out[n] = '\0';
	r = 0;
out:
	OPENSSL_free(h);
	BN_free(bn);
	return r;
}

static int
peer_not_after(X509 *x, int64_t *ret_ns)
{
	struct tm tm;
	time_t t;

	memset(&tm, 0, sizeof(tm));
	if (ASN1_TIME_to_tm(X509_get0_notAfter(x), &tm) != 1)
		return -EPROTO;
	t = timegm(&tm);
	if (t > INT64_MAX / 1000000000)
		*ret_ns = INT64_MAX;
	else if (t < INT64_MIN / 1000000000)
		*ret_ns = INT64_MIN;
	else
		*ret_ns = (int64_t)t * 1000000000;
	return 0;
}

int
tls_conn_peer(const struct tls_conn *c, struct tls_peer *ret)
{
	struct tls_peer p;
	uint8_t md[EVP_MAX_MD_SIZE];
	unsigned int len = 0;
	X509 *x;
	int r;

	if (!SSL_is_init_finished(c->ssl))
		return -EINVAL;
	memset(&p, 0, sizeof(p));
	x = SSL_get0_peer_certificate(c->ssl);
	if (x == NULL) {
		*ret = p;
		return 0;
	}
	/* A failed check ends the handshake; this is a second lock on the door. */
	if (SSL_get_verify_result(c->ssl) != X509_V_OK)
		return -EPROTO;
	ERR_clear_error();
	p.has_cert = true;
	r = peer_cn(x, p.cn, sizeof(p.cn));
	if (r < 0)
		goto out;
	r = peer_serial(x, p.serial, sizeof(p.serial));
	if (r < 0)
		goto out;
	if (X509_digest(x, EVP_sha256(), md, &len) != 1 || len != TLS_FINGERPRINT_LEN) {
		r = -ENOMEM;
		goto out;
	}
	memcpy(p.fingerprint, md, TLS_FINGERPRINT_LEN);
	r = peer_not_after(x, &p.not_after_ns);
	if (r < 0)
		goto out;

	*ret = p;
	r = 0;
out:
	ERR_clear_error();
	return r;
}
