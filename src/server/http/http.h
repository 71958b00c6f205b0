/*
 * http.h - a bounded HTTP/1.1 request parser and response writer for the API.
 *
 * The API is small and served to our own clients, so this parser accepts a
 * strict subset: a request line "METHOD SP target SP HTTP/1.1|HTTP/1.0",
 * header lines, Content-Length bodies (no chunked requests: 411/501). It is
 * incremental (call again with more bytes) and never reads past len.
 * Limits (HTTP_MAX_HEAD for request line + headers, the caller's body
 * limit) are checked before anything is copied.
 */
#ifndef YINGJI_HTTP_H
#define YINGJI_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/buf.h"

#define HTTP_MAX_HEAD		(16 * 1024)
#define HTTP_MAX_HEADERS	64
#define HTTP_MAX_BODY_DEFAULT	(64 * 1024)

enum http_method { HTTP_GET = 1, HTTP_POST, HTTP_PUT, HTTP_DELETE, HTTP_HEAD, HTTP_OTHER };

struct http_request {
	enum http_method method;
	const char	*path;		/* the target up to '?', still percent-encoded */
	size_t		 path_len;
	const char	*query;		/* after '?', or NULL */
	size_t		 query_len;
	const char	*authorization;	/* the Authorization header's value, or NULL */
	size_t		 authorization_len;
	const char	*body;		/* Content-Length bytes, or NULL */
	size_t		 body_len;
	bool		 keep_alive;	/* HTTP/1.1 without "Connection: close" */
	bool		 http10;
};

/* Parse the request at the start of p[0..len). Returns the bytes it spans
 * (> 0) with *ret pointing into p; 0 when incomplete; or an error, with
 * *ret_status the status to answer before closing:
 *   -EPROTO   400 malformed request line, header or Content-Length
 *   -E2BIG    431 head over HTTP_MAX_HEAD or too many headers,
 *             413 body over max_body
 *   -ENOSYS   501 Transfer-Encoding (chunked bodies are not accepted)
 *   -ENOTSUP  505 another HTTP version */
long	http_parse_request(const char *p, size_t len, size_t max_body, struct http_request *ret,
		int *ret_status);

/* Query parameter key from query[0..len), percent-decoded into out (reset
 * first). -ENOENT absent, -EINVAL bad escape, -E2BIG over out's cap. */
int	http_query_get(const char *query, size_t len, const char *key, struct buf *out);
/* Percent-decode a path segment into out. */
int	http_percent_decode(const char *s, size_t len, struct buf *out);

/* Append a whole response: status line, Content-Type, Content-Length,
 * Connection, Cache-Control: no-store, X-Content-Type-Options: nosniff, then
 * the body. content_type may be NULL when body_len is 0. */
int	http_response(struct buf *out, int status, const char *content_type, const char *body,
		size_t body_len, bool keep_alive);
const char *http_status_text(int status);

/* ---- the client side (the CLI) ---- */

struct http_response {
	int		 status;
	const char	*body;		/* points into the input */
	size_t		 body_len;
};
/* Parse a whole response in p[0..len) (status line, headers, a
 * Content-Length body). 0 incomplete, > 0 its size, -EPROTO, -E2BIG. */
long	http_parse_response(const char *p, size_t len, size_t max_body, struct http_response *ret);

#endif
