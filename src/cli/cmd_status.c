/* cmd_status.c - `yingji status [--json]`: the centre's state at a glance. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "core/i18n.h"
#include "core/json_get.h"
#include "core/banned.h"

static void
status_help(FILE *out)
{
	fprintf(out, "%s", L(
		"用法: yingji status [--json]\n"
		"\n"
		"中心服务的状态：版本、运行时长、代理数（已连接/失联/已吊销）、收到和存储的事件数、\n"
		"重复和无效事件数、数据库是否出错。中心服务未运行时退出码为 1。\n",
		"Usage: yingji status [--json]\n"
		"\n"
		"The centre's state: version, uptime, agents (connected/lost/revoked), events\n"
		"received and stored, duplicates and malformed ones, whether the database fails.\n"
		"Exit status 1 when the centre cannot be reached.\n"));
}

static void
line(const char *obj, size_t len, const char *label, const char *key)
{
	int64_t n = 0;

	(void)json_get_i64(obj, len, key, &n);
	fputs("  ", stdout);
	cli_pad(label, 12);
	printf(" %lld\n", (long long)n);
}

int
cmd_status(int argc, char **argv)
{
	struct api_client c;
	struct buf body, err;
	const char *o;
	size_t ol;
	bool json = false;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			status_help(stdout);
			return 0;
		} else {
			status_help(stderr);
			return 2;
		}
	}
	if (cli_client(&c) < 0)
		return 1;
	buf_init(&body, 1 << 20);
	buf_init(&err, 1024);
	r = cli_call(&c, "GET", "/api/v1/status", NULL, 30000, &body);
	if (r < 0)
		goto out;
	if (json) {
		printf("%s", body.data);
		goto out;
	}
	printf("%s ", L("应急中心", "Yingji centre"));
	cli_print_field(body.data, body.len, "version", 0);
	printf(", %s ", L("启动于", "up since"));
	cli_print_field(body.data, body.len, "started", 0);
	printf("\n  API %s:%s\n", c.host, c.port);
	if (json_get_raw(body.data, body.len, "agents", &o, &ol) == 0) {
		printf("%s\n", L("代理", "Agents"));
		line(o, ol, L("已连接", "connected"), "connected");
		line(o, ol, L("失联", "lost"), "lost");
		line(o, ol, L("已吊销", "revoked"), "revoked");
		line(o, ol, L("积压事件", "backlog"), "backlog");
	}
	if (json_get_raw(body.data, body.len, "events", &o, &ol) == 0) {
		printf("%s\n", L("事件", "Events"));
		line(o, ol, L("已收到", "received"), "received");
		line(o, ol, L("已存储", "stored"), "stored");
		line(o, ol, L("重复", "duplicates"), "duplicates");
		line(o, ol, L("格式无效", "malformed"), "invalid");
	}
	if (json_get_raw(body.data, body.len, "store", &o, &ol) == 0 &&
		json_get_str(o, ol, "error", &err) == 0)
		printf("%s: %s\n", L("数据库出错（事件暂存于代理端）", "DATABASE FAILING (agents keep "
			"their events)"), err.data);
out:
	buf_release(&body);
	buf_release(&err);
	return r < 0 ? 1 : 0;
}
