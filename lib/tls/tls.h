/*
 * tls.h - TLS 1.3 connections over OpenSSL, for the agent channel and the API.
 *
 * Only TLS 1.3 is offered or accepted. Certificate checks are always on:
 *  - a server context presents its certificate and asks for a client
 *    certificate signed by the deployment's CA. A peer without one may finish
 *    the handshake (it can only enroll); a peer with a bad one (another CA,
 *    expired, not for client use) fails the handshake.
 *  - a client context checks the server either against the CA (the server
 *    certificate must be for server use and name TLS_SERVER_NAME) or, before
 *    enrollment, against the SHA-256 fingerprint of the server's certificate.
 *
 * Connections work on non-blocking and blocking sockets alike: read/write/
 * handshake return -EAGAIN when the socket would block; tls_conn_want_write()
 * then says whether to wait for POLLOUT (else POLLIN). The fd is not owned.
 */
#ifndef YINGJI_TLS_H
#define YINGJI_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define TLS_SERVER_NAME		"yingji-server"	/* DNS name in every server certificate */
#define TLS_FINGERPRINT_LEN	32		/* SHA-256 of the certificate's DER */

struct tls_ctx;
struct tls_conn;

/* Server: PEM file paths. ask_client_cert: request (and verify against the
 * CA) a client certificate - the agent channel; false for the HTTPS API. */
int	tls_ctx_server_new(const char *ca_cert_path, const char *cert_path,
		const char *key_path, bool ask_client_cert, struct tls_ctx **ret);
/* Client: cert_path/key_path may be NULL (enrollment). Exactly one of
 * ca_cert_path and pin (a server certificate fingerprint) is non-NULL. */
int	tls_ctx_client_new(const char *ca_cert_path, const uint8_t *pin,
		const char *cert_path, const char *key_path, struct tls_ctx **ret);
void	tls_ctx_free(struct tls_ctx *ctx);	/* accepts NULL */

int	tls_conn_new(struct tls_ctx *ctx, int fd, bool is_server, struct tls_conn **ret);
void	tls_conn_free(struct tls_conn *c);	/* accepts NULL; sends no close_notify */
/* 0 when done; -EAGAIN; -EPROTO for a protocol or certificate failure (the
 * reason in tls_conn_error()); -ECONNRESET when the peer went away. */
int	tls_conn_handshake(struct tls_conn *c);
/* Bytes read (> 0), 0 at a clean close, -EAGAIN, or -errno. */
ssize_t	tls_conn_read(struct tls_conn *c, void *p, size_t n);
/* Bytes written (> 0, may be fewer than n), -EAGAIN, or -errno. After -EAGAIN
 * the next call must pass the same p and n (OpenSSL's retry rule). */
ssize_t	tls_conn_write(struct tls_conn *c, const void *p, size_t n);
bool	tls_conn_want_write(const struct tls_conn *c);
/* Decrypted bytes OpenSSL holds that a poll() would not announce. */
size_t	tls_conn_pending(const struct tls_conn *c);
void	tls_conn_shutdown(struct tls_conn *c);	/* best-effort close_notify */
const char *tls_conn_error(const struct tls_conn *c);	/* last failure, never NULL */

struct tls_peer {
	bool	 has_cert;			/* false: no client certificate */
	char	 cn[128];			/* subject common name */
	char	 serial[64];			/* hex */
	uint8_t	 fingerprint[TLS_FINGERPRINT_LEN];
	int64_t	 not_after_ns;
};
/* After the handshake: who the peer is (its verified certificate). */
int	tls_conn_peer(const struct tls_conn *c, struct tls_peer *ret);

#endif
