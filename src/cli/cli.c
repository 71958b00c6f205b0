/* cli.c - the API client the global options describe, and error printing. */
#include "cli/cli.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "core/i18n.h"
#include "core/json_get.h"
#include "core/utf8.h"
#include "core/banned.h"

#define DEFAULT_DATADIR	"/var/lib/yingji"

int
cli_client(struct api_client *ret)
{
	const char *dir = cli_global.datadir;
	int r;

	if (cli_global.server != NULL) {
		r = api_client_from_url(cli_global.server, ret);
		if (r == -ENOKEY)
			fprintf(stderr, "yingji: %s\n", L("使用 --server 时需设置环境变量 YINGJI_TOKEN",
				"--server needs the YINGJI_TOKEN environment variable"));
		else if (r == -ENOENT)
			fprintf(stderr, "yingji: %s\n", L("https 需设置 YINGJI_CA（中心的 CA 证书路径）",
				"https needs YINGJI_CA (the path of the centre's CA certificate)"));
		else if (r < 0)
			fprintf(stderr, "yingji: --server %s: %s\n", cli_global.server,
				L("地址无效（应为 http(s)://主机:端口）", "bad URL (want http(s)://HOST:PORT)"));
		return r;
	}
	if (dir == NULL)
		dir = DEFAULT_DATADIR;
	r = api_client_from_datadir(dir, ret);
	if (r == -ENOENT)
		fprintf(stderr, "yingji: %s: %s\n", dir, L("中心服务未在此运行（没有 serve.json）；"
			"请先运行 yingji serve --data DIR，或使用 --server",
			"no centre running here (no serve.json); start `yingji serve --data DIR` or "
			"use --server"));
	else if (r == -EACCES || r == -EPERM)
		fprintf(stderr, "yingji: %s: %s\n", dir, L("无权读取管理员令牌（需要 root）",
			"cannot read the admin token (needs root)"));
	else if (r < 0)
		fprintf(stderr, "yingji: %s: %s\n", dir, strerror(-r));
	return r;
}

int
cli_call(struct api_client *c, const char *method, const char *target, const char *body,
	int timeout_ms, struct buf *ret_body)
{
	struct buf msg;
	int status = 0, r;

	r = api_request(c, method, target, body, body != NULL ? strlen(body) : 0, timeout_ms,
		&status, ret_body);
	if (r < 0) {
		fprintf(stderr, "yingji: %s %s:%s: %s\n", L("无法访问中心服务", "cannot reach the centre at"),
			c->host, c->port, r == -ETIMEDOUT ? L("超时", "timed out") :
			r == -EKEYREJECTED ? L("TLS 证书校验失败", "TLS certificate check failed") :
			strerror(-r));
		return r;
	}
	if (status >= 200 && status < 300)
		return 0;
	buf_init(&msg, 4096);
	if (json_get_str(ret_body->data, ret_body->len, "message", &msg) == 0)
		fprintf(stderr, "yingji: %s (HTTP %d)\n", msg.data, status);
	else
		fprintf(stderr, "yingji: HTTP %d\n", status);
	buf_release(&msg);
	return -EPROTO;
}

void
cli_pad(const char *s, int width)
{
	size_t w = utf8_display_width(s, strlen(s));

	fputs(s, stdout);
	for (; (int)w < width; w++)
		putchar(' ');
}

void
cli_print_field(const char *obj, size_t len, const char *key, int width)
{
	struct buf v;
	int64_t n;
	char num[32];

	buf_init(&v, 4096);
	if (json_get_str(obj, len, key, &v) == 0) {
		cli_pad(v.data, width);
	} else if (json_get_i64(obj, len, key, &n) == 0) {
		snprintf(num, sizeof(num), "%lld", (long long)n);
		cli_pad(num, width);
	} else {
		cli_pad("-", width);
	}
	buf_release(&v);
}

void
cli_query_param(struct buf *t, const char *key, const char *val)
{
	static const char hexdig[] = "0123456789ABCDEF";

	if (val == NULL)
		return;
	(void)buf_appendf(t, "&%s=", key);
	for (const unsigned char *p = (const unsigned char *)val; *p; p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
			*p == '-' || *p == '_' || *p == '.' || *p == ':')
			(void)buf_putc(t, (char)*p);
		else
			(void)buf_appendf(t, "%%%c%c", hexdig[*p >> 4], hexdig[*p & 15]);
	}
}

int
cli_pages(struct api_client *c, const char *path, const char *params, const char *key,
	long long after, bool follow, bool json, cli_print_fn print)
{
	struct buf body, target;
	int r = 0;

	buf_init(&body, API_MAX_RESPONSE_BODY);
	buf_init(&target, 8192);
	for (;;) {
		const char *arr, *obj;
		size_t arrlen, objlen, pos = 0;
		int64_t next = after;
		unsigned n = 0;

		buf_reset(&target);
		(void)buf_appendf(&target, "%s?after=%lld&limit=%d%s", path, after, CLI_PAGE, params);
		if (follow)
			(void)buf_appendf(&target, "&wait=%d", CLI_FOLLOW_WAIT_S);
		r = cli_call(c, "GET", target.data, NULL, (CLI_FOLLOW_WAIT_S + 30) * 1000, &body);
		if (r < 0)
			break;
		if (json_get_raw(body.data, body.len, key, &arr, &arrlen) < 0 ||
			json_get_i64(body.data, body.len, "next", &next) < 0) {
			r = -EPROTO;
			break;
		}
		while ((r = json_array_next(arr, arrlen, &pos, &obj, &objlen)) == 0) {
			if (json) {
				fwrite(obj, 1, objlen, stdout);
				putchar('\n');
			} else {
				print(obj, objlen);
			}
			n++;
		}
		if (r != -ENOENT) {
			r = -EPROTO;
			break;
		}
		r = 0;
		fflush(stdout);
		after = next;
		if (n == 0 && !follow)
			break;
	}
	if (r == -EPROTO)
		fprintf(stderr, "yingji: %s\n", L("服务器答复无效", "bad answer from the server"));
	buf_release(&body);
	buf_release(&target);
	return r;
}

int
cli_lines(struct api_client *c, const char *path, const char *params, bool json,
	cli_print_fn print)
{
	struct buf body, target;
	long long after = 0;
	int r = 0;

	buf_init(&body, API_MAX_RESPONSE_BODY);
	buf_init(&target, 4096);
	for (;;) {
		const char *p, *nl;
		size_t n = 0;

		buf_reset(&target);
		(void)buf_appendf(&target, "%s?after=%lld&limit=%d%s", path, after, CLI_PAGE,
			params != NULL ? params : "");
		r = cli_call(c, "GET", target.data, NULL, 30000, &body);
		if (r < 0)
			break;
		for (p = body.data; p < body.data + body.len; p = nl + 1) {
			int64_t id = 0;

			nl = memchr(p, '\n', (size_t)(body.data + body.len - p));
			if (nl == NULL)
				nl = body.data + body.len;
			if (nl == p)
				continue;
			if (json_get_i64(p, (size_t)(nl - p), "id", &id) == 0 && id > after)
				after = id;
			n++;
			if (json) {
				fwrite(p, 1, (size_t)(nl - p), stdout);
				putchar('\n');
			} else {
				print(p, (size_t)(nl - p));
			}
		}
		if (n < CLI_PAGE)
			break;
	}
	buf_release(&body);
	buf_release(&target);
	return r;
}
