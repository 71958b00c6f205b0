/*
 * cmd_events.c - `yingji events [--follow] [--json] [--agent ID] [--type T]
 * [--since TIME] [--until TIME] [--after ID]`: page through the centre's
 * events with the API's cursor; --follow then long-polls for new ones.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/i18n.h"
#include "core/json_get.h"
#include "core/banned.h"


static void
events_help(FILE *out)
{
	fprintf(out, "%s", L(
		"用法: yingji events [--follow] [--json] [--agent ID] [--type 类型]\n"
		"                    [--since 时间] [--until 时间] [--after 编号]\n"
		"\n"
		"按到达顺序列出中心保存的事件（篡改、失联、恢复、登记、吊销……）。\n"
		"  --follow        列完后继续等待并显示新事件（Ctrl-C 结束）\n"
		"  --json          每行一个 JSON 对象：id、agent、seq（代理的序号；中心自身产生的\n"
		"                  事件为 null）、lane、received、type、time、path 及代理给出的其他字段\n"
		"  --agent ID      只看某个代理\n"
		"  --type 类型     只看某类事件（如 tamper、agent_lost）\n"
		"  --since/--until 时间范围：RFC 3339（2026-11-22T10:00:00+08:00）或 UTC 纳秒\n"
		"  --after 编号    从某个事件编号之后开始\n",
		"Usage: yingji events [--follow] [--json] [--agent ID] [--type TYPE]\n"
		"                     [--since TIME] [--until TIME] [--after ID]\n"
		"\n"
		"List the centre's events in arrival order (tamper, agent lost/back, enrolled,\n"
		"revoked...).\n"
		"  --follow        then wait for new events and show them (Ctrl-C ends)\n"
		"  --json          one JSON object per line: id, agent, seq (the agent's sequence\n"
		"                  number; null for events the centre made), lane, received, type,\n"
		"                  time, path and the agent's other fields\n"
		"  --agent ID      one agent only\n"
		"  --type TYPE     one kind only (e.g. tamper, agent_lost)\n"
		"  --since/--until time range: RFC 3339 (2026-11-22T10:00:00+08:00) or UTC ns\n"
		"  --after ID      start after this event id\n"));
}

static void
print_human(const char *obj, size_t len)
{
	cli_print_field(obj, len, "time", 36);
	putchar(' ');
	cli_print_field(obj, len, "type", 18);
	printf(" %s ", L("代理", "agent"));
	cli_print_field(obj, len, "agent", 5);
	putchar(' ');
	cli_print_field(obj, len, "path", 0);
	putchar(' ');
	cli_print_field(obj, len, "action", 0);
	{
		struct buf d;

		buf_init(&d, 4096);
		if (json_get_str(obj, len, "detail", &d) == 0)
			printf("  %s", d.data);
		buf_release(&d);
	}
	putchar('\n');
}

int
cmd_events(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "agent", required_argument, NULL, 'a' },
		{ "type", required_argument, NULL, 't' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "after", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *agent = NULL, *type = NULL, *since = NULL, *until = NULL;
	struct api_client c;
	struct buf params;
	long long after = 0;
	bool follow = false, json = false;
	int opt, r = 0;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		char *end;

		switch (opt) {
		case 'f':
			follow = true;
			break;
		case 'j':
			json = true;
			break;
		case 'a':
			agent = optarg;
			break;
		case 't':
			type = optarg;
			break;
		case 's':
			since = optarg;
			break;
		case 'u':
			until = optarg;
			break;
		case 'A':
			after = strtoll(optarg, &end, 10);
			if (*end != '\0' || after < 0) {
				events_help(stderr);
				return 2;
			}
			break;
		case 'h':
			events_help(stdout);
			return 0;
		default:
			events_help(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		events_help(stderr);
		return 2;
	}
	if (cli_client(&c) < 0)
		return 1;
	signal(SIGPIPE, SIG_DFL);
	buf_init(&params, 4096);
	cli_query_param(&params, "agent", agent);
	cli_query_param(&params, "type", type);
	cli_query_param(&params, "since", since);
	cli_query_param(&params, "until", until);
	r = cli_pages(&c, "/api/v1/events", params.data, "events", after, follow, json, print_human);
	buf_release(&params);
	return r < 0 ? 1 : 0;
}
