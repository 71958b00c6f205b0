/* test_api_client.c - the CLI finds the server from a data directory or a URL,
 * and makes one request against a small HTTP server in a thread: what the
 * server sees, what the CLI gets back, and each way the server can fail it
 * (refused, silent, garbage, cut short, too big). */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli/api_client.h"
#include "core/buf.h"
#include "core/xalloc.h"
#include "server/http/http.h"
#include "core/banned.h"

/* ---- a data directory ---- */

struct datadir {
	char	 path[64];
};

static void
write_file(const char *dir, const char *name, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "we");
	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

static void
remove_file(const char *dir, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	(void)unlink(path);
}

static int
datadir_setup(void **state)
{
	struct datadir *d = xcalloc(1, sizeof(*d));

	snprintf(d->path, sizeof(d->path), "/tmp/yingji-test-api-XXXXXX");
	if (mkdtemp(d->path) == NULL)
		return -1;
	*state = d;
	return 0;
}

static int
datadir_teardown(void **state)
{
	struct datadir *d = *state;

	remove_file(d->path, "serve.json");
	remove_file(d->path, "admin.token");
	(void)rmdir(d->path);
	free(d);
	return 0;
}

static void
reads_serve_json_and_token(void **state)
{
	struct datadir *d = *state;
	struct api_client c;

	write_file(d->path, "serve.json", "{\"http\":\"127.0.0.1:8640\",\"agents\":\"0.0.0.0:8641\","
		"\"pid\":123,\"http_tls\":false}\n");
	write_file(d->path, "admin.token", "yj_admin_0123456789abcdef\n");
	assert_int_equal(api_client_from_datadir(d->path, &c), 0);
	assert_string_equal(c.host, "127.0.0.1");
	assert_string_equal(c.port, "8640");
	assert_false(c.tls);
	assert_string_equal(c.token, "yj_admin_0123456789abcdef");
	assert_string_equal(c.ca_path, "");
}

static void
token_without_newline(void **state)
{
	struct datadir *d = *state;
	struct api_client c;

	write_file(d->path, "serve.json", "{\"http\":\"127.0.0.1:8640\"}");
	write_file(d->path, "admin.token", "abc");
	assert_int_equal(api_client_from_datadir(d->path, &c), 0);
	assert_string_equal(c.token, "abc");
	assert_false(c.tls);	/* no http_tls: plain */
}

static void
any_address_becomes_loopback(void **state)
{
	static const struct {
		const char	*json, *host, *port;
	} cases[] = {
		{ "{\"http\":\"0.0.0.0:9000\"}", "127.0.0.1", "9000" },
		{ "{\"http\":\"[::]:9001\"}", "::1", "9001" },
		{ "{\"http\":\"[::1]:9002\"}", "::1", "9002" },
		{ "{\"http\":\"10.1.2.3:9003\"}", "10.1.2.3", "9003" },
		{ "{\"http\":\"localhost:9004\"}", "localhost", "9004" },
	};
	struct datadir *d = *state;
	struct api_client c;

	write_file(d->path, "admin.token", "t\n");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		write_file(d->path, "serve.json", cases[i].json);
		assert_int_equal(api_client_from_datadir(d->path, &c), 0);
		assert_string_equal(c.host, cases[i].host);
		assert_string_equal(c.port, cases[i].port);
	}
}

static void
tls_uses_the_data_directory_ca(void **state)
{
	struct datadir *d = *state;
	struct api_client c;
	char want[256];

	write_file(d->path, "serve.json", "{\"http\":\"0.0.0.0:8640\",\"http_tls\":true}");
	write_file(d->path, "admin.token", "t\n");
	assert_int_equal(api_client_from_datadir(d->path, &c), 0);
	assert_true(c.tls);
	snprintf(want, sizeof(want), "%s/pki/ca.crt", d->path);
	assert_string_equal(c.ca_path, want);
}

static void
no_server_json(void **state)
{
	struct datadir *d = *state;
	struct api_client c;

	write_file(d->path, "admin.token", "t\n");
	memset(&c, 0x5a, sizeof(c));
	assert_int_equal(api_client_from_datadir(d->path, &c), -ENOENT);
	assert_int_equal((unsigned char)c.host[0], 0x5a);	/* untouched */
}

static void
no_token_file(void **state)
{
	struct datadir *d = *state;
	struct api_client c;

	write_file(d->path, "serve.json", "{\"http\":\"127.0.0.1:8640\"}");
	assert_int_equal(api_client_from_datadir(d->path, &c), -ENOENT);
}

static void
empty_token_file(void **state)
{
	struct datadir *d = *state;
	struct api_client c;

	write_file(d->path, "serve.json", "{\"http\":\"127.0.0.1:8640\"}");
	write_file(d->path, "admin.token", "\n");
	assert_int_equal(api_client_from_datadir(d->path, &c), -EINVAL);
}

static void
token_with_two_lines(void **state)
{
	struct datadir *d = *state;
	struct api_client c;

	write_file(d->path, "serve.json", "{\"http\":\"127.0.0.1:8640\"}");
	write_file(d->path, "admin.token", "abc\nX-Evil: 1\n");
	assert_int_equal(api_client_from_datadir(d->path, &c), -EINVAL);
}

static void
serve_json_without_http(void **state)
{
	struct datadir *d = *state;
	struct api_client c;

	write_file(d->path, "serve.json", "{\"agents\":\"0.0.0.0:8641\"}");
	write_file(d->path, "admin.token", "t\n");
	assert_int_equal(api_client_from_datadir(d->path, &c), -EINVAL);
}

static void
serve_json_bad_address(void **state)
{
	static const char *const bad[] = {
		"{\"http\":\"127.0.0.1\"}", "{\"http\":\"127.0.0.1:\"}", "{\"http\":\"h:0\"}",
		"{\"http\":\"h:65536\"}", "{\"http\":\"h:80x\"}", "{\"http\":\"::1:8640\"}",
		"{\"http\":\"[::1]8640\"}", "{\"http\":\"a b:1\"}", "{\"http\":8640}",
		"{\"http\":\"h:1\",\"http_tls\":\"yes\"}", "not json",
	};
	struct datadir *d = *state;
	struct api_client c;

	write_file(d->path, "admin.token", "t\n");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_file(d->path, "serve.json", bad[i]);
		assert_int_equal(api_client_from_datadir(d->path, &c), -EINVAL);
	}
}

/* ---- a URL and the environment ---- */

static void
from_url(void **state)
{
	struct api_client c;

	setenv("YINGJI_TOKEN", "envtoken", 1);
	unsetenv("YINGJI_CA");
	assert_int_equal(api_client_from_url("http://centre.example:8640", &c), 0);
	assert_string_equal(c.host, "centre.example");
	assert_string_equal(c.port, "8640");
	assert_false(c.tls);
	assert_string_equal(c.token, "envtoken");
	assert_int_equal(api_client_from_url("http://[fd00::1]:8640/", &c), 0);
	assert_string_equal(c.host, "fd00::1");

	assert_int_equal(api_client_from_url("https://10.0.0.5:8640", &c), -ENOENT);
	setenv("YINGJI_CA", "/etc/yingji/ca.crt", 1);
	assert_int_equal(api_client_from_url("https://10.0.0.5:8640", &c), 0);
	assert_true(c.tls);
	assert_string_equal(c.ca_path, "/etc/yingji/ca.crt");
	unsetenv("YINGJI_CA");
	unsetenv("YINGJI_TOKEN");
}

static void
from_url_without_token(void **state)
{
	struct api_client c;

	unsetenv("YINGJI_TOKEN");
	assert_int_equal(api_client_from_url("http://h:8640", &c), -ENOKEY);
	setenv("YINGJI_TOKEN", "", 1);
	assert_int_equal(api_client_from_url("http://h:8640", &c), -ENOKEY);
	setenv("YINGJI_TOKEN", "two words", 1);
	assert_int_equal(api_client_from_url("http://h:8640", &c), -EINVAL);
	unsetenv("YINGJI_TOKEN");
}

static void
from_url_refuses_bad_urls(void **state)
{
	static const char *const bad[] = {
		"ftp://h:1", "h:8640", "http://h", "http://:8640", "http://h:0", "http://h:99999",
		"http://h:80/api", "http://::1:8640", "http://user@h:80", "http://h:80?x",
	};
	struct api_client c;

	setenv("YINGJI_TOKEN", "t", 1);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(api_client_from_url(bad[i], &c), -EINVAL);
	unsetenv("YINGJI_TOKEN");
}

/* ---- requests against a server in a thread ---- */

enum behaviour { REPLY, TRICKLE, GARBAGE, CUT_SHORT, SILENT, CLOSE_AT_ONCE };

struct server {
	int		 lfd;
	pthread_t	 thread;
	enum behaviour	 how;
	int		 status;
	char		*reply_body;
	size_t		 reply_len;
	/* what it saw */
	bool		 parsed;
	enum http_method method;
	char		 target[256];
	char		 authorization[256];
	char		 body[256];
	size_t		 body_len;
	bool		 keep_alive;
	char		 head[4096];
};

static void
send_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w <= 0)
			return;
		p += w;
		n -= (size_t)w;
	}
}

/* Until the peer closes. */
static void
drain(int fd)
{
	char tmp[4096];

	while (recv(fd, tmp, sizeof(tmp), 0) > 0)
		;
}

static void
copy_view(char *dst, size_t cap, const char *p, size_t n)
{
	if (p == NULL || n >= cap)
		n = 0;
	if (n > 0)
		memcpy(dst, p, n);
	dst[n] = '\0';
}

static void
serve_request(struct server *s, int fd)
{
	struct http_request req;
	struct buf in, out;
	int status;
	long r = 0;

	buf_init(&in, 1 << 20);
	buf_init(&out, 0);
	for (;;) {
		char tmp[4096];
		ssize_t n = recv(fd, tmp, sizeof(tmp), 0);

		if (n <= 0)
			goto out;
		if (buf_append(&in, tmp, (size_t)n) < 0)
			goto out;
		r = http_parse_request(in.data, in.len, 1 << 20, &req, &status);
		if (r != 0)
			break;
	}
	if (r < 0)
		goto out;
	s->parsed = true;
	s->method = req.method;
	copy_view(s->target, sizeof(s->target), req.path,
		req.path_len + (req.query ? req.query_len + 1 : 0));
	copy_view(s->authorization, sizeof(s->authorization), req.authorization,
		req.authorization_len);
	copy_view(s->body, sizeof(s->body), req.body, req.body_len);
	s->body_len = req.body_len;
	s->keep_alive = req.keep_alive;
	copy_view(s->head, sizeof(s->head), in.data, (size_t)(r - (long)req.body_len));

	switch (s->how) {
	case REPLY:
	case TRICKLE:
		/* no cmocka asserts here: they may not jump out of this thread */
		if (http_response(&out, s->status, "application/json", s->reply_body,
			s->reply_len, false) < 0)
			goto out;
		if (s->how == REPLY) {
			send_all(fd, out.data, out.len);
		} else {
			for (size_t i = 0; i < out.len; i++) {
				send_all(fd, out.data + i, 1);
				usleep(100);
			}
		}
		break;
	case GARBAGE:
		send_all(fd, "SSH-2.0-OpenSSH_9.2\r\n\r\n", 23);
		break;
	case CUT_SHORT:
		send_all(fd, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc", 42);
		break;
	case SILENT:
		drain(fd);	/* until the client gives up */
		break;
	case CLOSE_AT_ONCE:
		break;
	}
out:
	buf_release(&in);
	buf_release(&out);
}

static void *
server_main(void *arg)
{
	struct server *s = arg;
	int fd;

	fd = accept4(s->lfd, NULL, NULL, SOCK_CLOEXEC);
	if (fd < 0)
		return NULL;
	if (s->how == CLOSE_AT_ONCE) {
		close(fd);
		return NULL;
	}
	serve_request(s, fd);
	close(fd);
	return NULL;
}

/* Listen on 127.0.0.1 (a free port) and answer one connection as told. */
static void
server_start(struct server *s, enum behaviour how, struct api_client *c)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);

	s->how = how;
	s->lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(s->lfd >= 0);
	assert_int_equal(bind(s->lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(s->lfd, 4), 0);
	assert_int_equal(getsockname(s->lfd, (struct sockaddr *)&sin, &len), 0);
	memset(c, 0, sizeof(*c));
	snprintf(c->host, sizeof(c->host), "127.0.0.1");
	snprintf(c->port, sizeof(c->port), "%u", ntohs(sin.sin_port));
	snprintf(c->token, sizeof(c->token), "s3cret-token");
	assert_int_equal(pthread_create(&s->thread, NULL, server_main, s), 0);
}

static void
server_stop(struct server *s)
{
	pthread_join(s->thread, NULL);
	close(s->lfd);
	free(s->reply_body);
}

static void
server_reply(struct server *s, int status, const char *body)
{
	s->status = status;
	s->reply_len = strlen(body);
	s->reply_body = xstrdup(body);
}

static void
posts_and_reads_the_answer(void **state)
{
	struct server s = { 0 };
	struct api_client c;
	struct buf body;
	char want[64];
	int status = 0;

	server_reply(&s, 201, "{\"token\":\"yjt_1\"}");
	server_start(&s, REPLY, &c);
	buf_init(&body, 4096);
	assert_int_equal(api_request(&c, "POST", "/api/v1/tokens?ttl=600", "{\"ttl\":600}", 11,
		5000, &status, &body), 0);
	server_stop(&s);

	assert_int_equal(status, 201);
	assert_string_equal(body.data, "{\"token\":\"yjt_1\"}");
	assert_true(s.parsed);
	assert_int_equal(s.method, HTTP_POST);
	assert_string_equal(s.target, "/api/v1/tokens?ttl=600");
	assert_string_equal(s.authorization, "Bearer s3cret-token");
	assert_string_equal(s.body, "{\"ttl\":600}");
	assert_false(s.keep_alive);
	snprintf(want, sizeof(want), "\r\nHost: 127.0.0.1:%s\r\n", c.port);
	assert_non_null(strstr(s.head, want));
	assert_non_null(strstr(s.head, "\r\nContent-Type: application/json\r\n"));
	buf_release(&body);
}

static void
gets_without_a_body(void **state)
{
	struct server s = { 0 };
	struct api_client c;
	struct buf body;
	int status = 0;

	server_reply(&s, 200, "[]");
	server_start(&s, REPLY, &c);
	buf_init(&body, 4096);
	assert_int_equal(buf_puts(&body, "stale"), 0);
	assert_int_equal(api_request(&c, "GET", "/api/v1/agents", NULL, 0, 5000, &status, &body), 0);
	server_stop(&s);
	assert_int_equal(status, 200);
	assert_string_equal(body.data, "[]");
	assert_int_equal(s.method, HTTP_GET);
	assert_int_equal(s.body_len, 0);
	assert_non_null(strstr(s.head, "\r\nContent-Length: 0\r\n"));
	buf_release(&body);
}

static void
an_error_status_is_an_answer(void **state)
{
	struct server s = { 0 };
	struct api_client c;
	struct buf body;
	int status = 0;

	server_reply(&s, 401, "{\"error\":\"bad token\"}");
	server_start(&s, REPLY, &c);
	buf_init(&body, 4096);
	assert_int_equal(api_request(&c, "GET", "/api/v1/agents", NULL, 0, 5000, &status, &body), 0);
	server_stop(&s);
	assert_int_equal(status, 401);
	assert_string_equal(body.data, "{\"error\":\"bad token\"}");
	buf_release(&body);
}

static void
reads_a_trickled_answer(void **state)
{
	struct server s = { 0 };
	struct api_client c;
	int status = 0;

	server_reply(&s, 200, "{\"ok\":true}");
	server_start(&s, TRICKLE, &c);
	/* no body buffer: the caller only wants the status */
	assert_int_equal(api_request(&c, "DELETE", "/api/v1/agents/a1", NULL, 0, 10000, &status,
		NULL), 0);
	server_stop(&s);
	assert_int_equal(status, 200);
	assert_int_equal(s.method, HTTP_DELETE);
}

static void
reads_a_large_answer(void **state)
{
	size_t n = 3 * 1024 * 1024 + 7;
	struct server s = { 0 };
	struct api_client c;
	struct buf body;
	int status = 0;

	s.status = 200;
	s.reply_len = n;
	s.reply_body = xmalloc(n);
	for (size_t i = 0; i < n; i++)
		s.reply_body[i] = (char)('a' + i % 26);
	server_start(&s, REPLY, &c);
	buf_init(&body, 4 * 1024 * 1024);
	assert_int_equal(api_request(&c, "GET", "/api/v1/events", NULL, 0, 10000, &status, &body),
		0);
	assert_int_equal(body.len, n);
	assert_memory_equal(body.data, s.reply_body, n);
	server_stop(&s);
	buf_release(&body);
}

static void
answer_over_the_callers_cap(void **state)
{
	struct server s = { 0 };
	struct api_client c;
	struct buf body;
	int status = 0;

	server_reply(&s, 200, "0123456789abcdef");
	server_start(&s, REPLY, &c);
	buf_init(&body, 8);
	assert_int_equal(api_request(&c, "GET", "/x", NULL, 0, 5000, &status, &body), -E2BIG);
	server_stop(&s);
	assert_int_equal(status, 0);	/* not written on failure */
	buf_release(&body);
}

static void
connection_refused(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	struct api_client c = { 0 };
	int fd, status = 0;

	/* a port that was just free and has nobody listening */
	fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(c.host, sizeof(c.host), "127.0.0.1");
	snprintf(c.port, sizeof(c.port), "%u", ntohs(sin.sin_port));
	snprintf(c.token, sizeof(c.token), "t");
	assert_int_equal(api_request(&c, "GET", "/", NULL, 0, 5000, &status, NULL), -ECONNREFUSED);
	close(fd);
}

static void
silent_server_times_out(void **state)
{
	struct server s = { 0 };
	struct api_client c;
	int status = 0;

	server_start(&s, SILENT, &c);
	assert_int_equal(api_request(&c, "GET", "/api/v1/status", NULL, 0, 200, &status, NULL),
		-ETIMEDOUT);
	server_stop(&s);
	assert_true(s.parsed);	/* the request went out; no answer came */
}

static void
garbage_answer(void **state)
{
	struct server s = { 0 };
	struct api_client c;
	int status = 0;

	server_start(&s, GARBAGE, &c);
	assert_int_equal(api_request(&c, "GET", "/", NULL, 0, 5000, &status, NULL), -EPROTO);
	server_stop(&s);
}

static void
answer_cut_short(void **state)
{
	struct server s = { 0 };
	struct api_client c;
	int status = 0;

	server_start(&s, CUT_SHORT, &c);
	assert_int_equal(api_request(&c, "GET", "/", NULL, 0, 5000, &status, NULL), -EPROTO);
	server_stop(&s);
}

static void
closed_without_answer(void **state)
{
	struct server s = { 0 };
	struct api_client c;
	int status = 0, r;

	server_start(&s, CLOSE_AT_ONCE, &c);
	r = api_request(&c, "GET", "/", NULL, 0, 5000, &status, NULL);
	server_stop(&s);
	assert_true(r == -EPROTO || r == -ECONNRESET || r == -EPIPE);
}

static void
refuses_bad_arguments(void **state)
{
	struct api_client c = { 0 };
	int status = 0;

	snprintf(c.host, sizeof(c.host), "127.0.0.1");
	snprintf(c.port, sizeof(c.port), "1");
	snprintf(c.token, sizeof(c.token), "t");
	assert_int_equal(api_request(&c, "GE T", "/", NULL, 0, 100, &status, NULL), -EINVAL);
	assert_int_equal(api_request(&c, "HEAD", "/", NULL, 0, 100, &status, NULL), -EINVAL);
	assert_int_equal(api_request(&c, "GET", "x", NULL, 0, 100, &status, NULL), -EINVAL);
	assert_int_equal(api_request(&c, "GET", "/a b", NULL, 0, 100, &status, NULL), -EINVAL);
	assert_int_equal(api_request(&c, "GET", "/\r\nX: 1", NULL, 0, 100, &status, NULL),
		-EINVAL);
	assert_int_equal(api_request(&c, "POST", "/", NULL, 5, 100, &status, NULL), -EINVAL);
	snprintf(c.token, sizeof(c.token), "a\r\nX-Evil: 1");
	assert_int_equal(api_request(&c, "GET", "/", NULL, 0, 100, &status, NULL), -EINVAL);
	snprintf(c.token, sizeof(c.token), "t");
	c.tls = true;	/* without a CA */
	assert_int_equal(api_request(&c, "GET", "/", NULL, 0, 100, &status, NULL), -EINVAL);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(reads_serve_json_and_token, datadir_setup,
			datadir_teardown),
		cmocka_unit_test_setup_teardown(token_without_newline, datadir_setup,
			datadir_teardown),
		cmocka_unit_test_setup_teardown(any_address_becomes_loopback, datadir_setup,
			datadir_teardown),
		cmocka_unit_test_setup_teardown(tls_uses_the_data_directory_ca, datadir_setup,
			datadir_teardown),
		cmocka_unit_test_setup_teardown(no_server_json, datadir_setup, datadir_teardown),
		cmocka_unit_test_setup_teardown(no_token_file, datadir_setup, datadir_teardown),
		cmocka_unit_test_setup_teardown(empty_token_file, datadir_setup, datadir_teardown),
		cmocka_unit_test_setup_teardown(token_with_two_lines, datadir_setup,
			datadir_teardown),
		cmocka_unit_test_setup_teardown(serve_json_without_http, datadir_setup,
			datadir_teardown),
		cmocka_unit_test_setup_teardown(serve_json_bad_address, datadir_setup,
			datadir_teardown),
		cmocka_unit_test(from_url),
		cmocka_unit_test(from_url_without_token),
		cmocka_unit_test(from_url_refuses_bad_urls),
		cmocka_unit_test(posts_and_reads_the_answer),
		cmocka_unit_test(gets_without_a_body),
		cmocka_unit_test(an_error_status_is_an_answer),
		cmocka_unit_test(reads_a_trickled_answer),
		cmocka_unit_test(reads_a_large_answer),
		cmocka_unit_test(answer_over_the_callers_cap),
		cmocka_unit_test(connection_refused),
		cmocka_unit_test(silent_server_times_out),
		cmocka_unit_test(garbage_answer),
		cmocka_unit_test(answer_cut_short),
		cmocka_unit_test(closed_without_answer),
		cmocka_unit_test(refuses_bad_arguments),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
