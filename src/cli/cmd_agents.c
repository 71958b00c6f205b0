/*
 * cmd_agents.c - `yingji agents [--json]`, `yingji agent revoke ID`,
 * `yingji agent command ID NAME [--timeout S]`.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/i18n.h"
#include "core/json_get.h"
#include "core/banned.h"

static void
agents_help(FILE *out)
{
	fprintf(out, "%s", L(
		"用法: yingji agents [--json]\n"
		"\n"
		"列出已登记的代理：编号、名称、状态（connected 已连接 / lost 失联 / revoked 已吊销）、\n"
		"地址、最后联系时间、未确认的积压事件数。--json 每行输出一个对象，含 id、name、\n"
		"state、online、addr、enrolled、last_seen、backlog。\n",
		"Usage: yingji agents [--json]\n"
		"\n"
		"List enrolled agents: id, name, state (connected / lost / revoked), address,\n"
		"last contact, events not yet acknowledged. --json prints one object per line\n"
		"with id, name, state, online, addr, enrolled, last_seen, backlog.\n"));
}

static void
agent_help(FILE *out)
{
	fprintf(out, "%s", L(
		"用法: yingji agent revoke ID\n"
		"      yingji agent command ID 命令 [--timeout 秒]\n"
		"\n"
		"revoke   立即吊销代理：其证书不再被接受，现有连接当即断开。\n"
		"command  向已连接的代理下发命令并等待结果（JSON）。现有命令：\n"
		"         ping（连通检查）、status（代理的守护状态）。\n",
		"Usage: yingji agent revoke ID\n"
		"       yingji agent command ID NAME [--timeout SECONDS]\n"
		"\n"
		"revoke   cut an agent off at once: its certificate is refused from now on and\n"
		"         a live connection is closed.\n"
		"command  send a connected agent a command and wait for its result (JSON).\n"
		"         Commands: ping (reachability), status (the agent's guards).\n"));
}

/* The state in the reader's words; an agent never heard from is "not yet
 * connected" rather than lost. */
static void
print_state(const char *obj, size_t len)
{
	struct buf st, seen;
	const char *word;

	buf_init(&st, 64);
	buf_init(&seen, 64);
	(void)json_get_str(obj, len, "state", &st);
	if (strcmp(st.data, "connected") == 0)
		word = L("已连接", "connected");
	else if (strcmp(st.data, "revoked") == 0)
		word = L("已吊销", "revoked");
	else if (json_get_str(obj, len, "last_seen", &seen) < 0)
		word = L("未连接过", "never seen");
	else
		word = L("失联", "lost");
	cli_pad(word, 10);
	buf_release(&st);
	buf_release(&seen);
}

int
cmd_agents(int argc, char **argv)
{
	struct api_client c;
	struct buf body;
	const char *arr, *obj;
	size_t arrlen, objlen, pos = 0;
	bool json = false;
	int r;

	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			json = true;
		} else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			agents_help(stdout);
			return 0;
		} else {
			agents_help(stderr);
			return 2;
		}
	}
	if (cli_client(&c) < 0)
		return 1;
	buf_init(&body, API_MAX_RESPONSE_BODY);
	r = cli_call(&c, "GET", "/api/v1/agents", NULL, 30000, &body);
	if (r < 0)
		goto out;
	r = json_get_raw(body.data, body.len, "agents", &arr, &arrlen);
	if (r < 0)
		goto bad;
	if (!json) {
		static const int widths[] = { 6, 24, 10, 22, 36, 0 };
		const char *heads[] = { L("编号", "ID"), L("名称", "NAME"), L("状态", "STATE"),
			L("地址", "ADDRESS"), L("最后联系", "LAST SEEN"), L("积压", "BACKLOG") };

		for (size_t i = 0; i < sizeof(widths) / sizeof(widths[0]); i++) {
			cli_pad(heads[i], widths[i]);
			putchar(i + 1 < sizeof(widths) / sizeof(widths[0]) ? ' ' : '\n');
		}
	}
	while ((r = json_array_next(arr, arrlen, &pos, &obj, &objlen)) == 0) {
		if (json) {
			fwrite(obj, 1, objlen, stdout);
			putchar('\n');
			continue;
		}
		cli_print_field(obj, objlen, "id", 6);
		putchar(' ');
		cli_print_field(obj, objlen, "name", 24);
		putchar(' ');
		print_state(obj, objlen);
		putchar(' ');
		cli_print_field(obj, objlen, "addr", 22);
		putchar(' ');
		cli_print_field(obj, objlen, "last_seen", 36);
		putchar(' ');
		cli_print_field(obj, objlen, "backlog", 0);
		putchar('\n');
	}
	if (r == -ENOENT) {
		r = 0;
		goto out;
	}
bad:
	fprintf(stderr, "yingji: %s\n", L("服务器答复无效", "bad answer from the server"));
	r = -EPROTO;
out:
	buf_release(&body);
	return r < 0 ? 1 : 0;
}

static int
parse_id(const char *s, long long *ret)
{
	char *end;
	long long id = strtoll(s, &end, 10);

	if (end == s || *end != '\0' || id <= 0) {
		fprintf(stderr, "yingji agent: %s '%s'\n", L("代理编号无效", "bad agent id"), s);
		return -EINVAL;
	}
	*ret = id;
	return 0;
}

int
cmd_agent(int argc, char **argv)
{
	struct api_client c;
	struct buf body;
	char target[128], req[256];
	long long id, timeout = 30;
	int r;

	if (argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
		agent_help(stdout);
		return 0;
	}
	if (argc == 3 && strcmp(argv[1], "revoke") == 0) {
		if (parse_id(argv[2], &id) < 0)
			return 2;
		snprintf(target, sizeof(target), "/api/v1/agents/%lld/revoke", id);
		req[0] = '\0';
	} else if ((argc == 4 || argc == 6) && strcmp(argv[1], "command") == 0) {
		if (parse_id(argv[2], &id) < 0)
			return 2;
		if (argc == 6) {
			char *end;

			timeout = strtoll(argv[5], &end, 10);
			if (strcmp(argv[4], "--timeout") != 0 || *end != '\0' || timeout < 1 ||
				timeout > 600) {
				agent_help(stderr);
				return 2;
			}
		}
		if (strlen(argv[3]) > 64 || strpbrk(argv[3], "\"\\") != NULL) {
			agent_help(stderr);
			return 2;
		}
		snprintf(target, sizeof(target), "/api/v1/agents/%lld/commands?timeout=%lld", id,
			timeout);
		snprintf(req, sizeof(req), "{\"command\":\"%s\"}", argv[3]);
	} else {
		agent_help(stderr);
		return 2;
	}
	if (cli_client(&c) < 0)
		return 1;
	buf_init(&body, API_MAX_RESPONSE_BODY);
	r = cli_call(&c, "POST", target, req[0] ? req : NULL, (int)(timeout + 10) * 1000, &body);
	if (r == 0 && strcmp(argv[1], "revoke") == 0)
		printf("%s %lld\n", L("已吊销代理", "revoked agent"), id);
	else if (r == 0)
		printf("%s", body.data);
	buf_release(&body);
	return r < 0 ? 1 : 0;
}
