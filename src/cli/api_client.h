/*
 * api_client.h - how every `yingji` command but `serve` talks to the centre:
 * one HTTP/1.1 request per connection to the HTTP API, plain or over TLS.
 *
 * Where the API is and the credential come either from the data directory
 * (on the server's machine: serve.json and admin.token, which `yingji serve`
 * writes) or from a URL and the environment (anywhere else).
 *
 * The token is a secret: nothing here prints or logs it, and buffers that
 * held it are wiped before they are freed.
 */
#ifndef YINGJI_API_CLIENT_H
#define YINGJI_API_CLIENT_H

#include <stdbool.h>
#include <stddef.h>

#include "core/buf.h"

#define API_MAX_RESPONSE_BODY	(64u * 1024 * 1024)

struct api_client {
	char	 host[256];	/* a name or an address, IPv6 without brackets */
	char	 port[8];
	bool	 tls;
	char	 token[256];	/* sent as "Authorization: Bearer <token>" */
	char	 ca_path[4096];	/* with tls: the CA the server's certificate must chain to */
};

/* From <datadir>/serve.json, the one-line JSON object the running server
 * writes ({"http":"127.0.0.1:8640",...,"http_tls":false}), and the admin
 * credential in <datadir>/admin.token (the token alone; a trailing newline is
 * fine). An "http" address of 0.0.0.0 or [::] is reached at 127.0.0.1 or
 * ::1. With "http_tls": true, ca_path is <datadir>/pki/ca.crt.
 * Returns 0; -ENOENT (or another -errno) when a file cannot be read (no
 * serve.json: the server has not been started here); -EINVAL when their
 * content is wrong; -ENAMETOOLONG. */
int	api_client_from_datadir(const char *datadir, struct api_client *ret);

/* From "http://HOST:PORT" or "https://HOST:PORT" (a trailing '/' is allowed,
 * HOST may be "[v6 address]"), the token from $YINGJI_TOKEN and, for https,
 * the CA certificate's path from $YINGJI_CA. Returns 0; -EINVAL for a bad
 * URL or token; -ENOKEY when YINGJI_TOKEN is unset or empty; -ENOENT for
 * https when YINGJI_CA is unset or empty. */
int	api_client_from_url(const char *url, struct api_client *ret);

/* One request: connect, send method and target (origin-form, e.g.
 * "/api/v1/agents?limit=10") with the token and body[0..body_len) as
 * application/json, read the whole response, close. The whole operation is
 * bounded by timeout_ms (negative: no limit; name resolution is not covered).
 * On success (any HTTP status) returns 0 with the status in *ret_status and
 * the body in ret_body (reset first; may be NULL to drop it). Errors:
 *   -EINVAL        a bad method (HEAD is not supported), target, or client
 *   -ENXIO         the host name does not resolve
 *   -ECONNREFUSED, -ENETUNREACH, ... from connect; -ECONNRESET, -EPIPE
 *   -ETIMEDOUT     timeout_ms passed
 *   -EKEYREJECTED  TLS handshake failed (e.g. certificate not trusted)
 *   -EPROTO        a response that is not valid HTTP, or cut short
 *   -E2BIG         a body over API_MAX_RESPONSE_BODY or ret_body's cap */
int	api_request(struct api_client *c, const char *method, const char *target, const char *body,
		size_t body_len, int timeout_ms, int *ret_status, struct buf *ret_body);

#endif
