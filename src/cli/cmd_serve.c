/*
 * cmd_serve.c - `yingji serve --data DIR [--agents ADDR:PORT] [--http ADDR:PORT]
 * [--config FILE]`: the centre in the foreground.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/i18n.h"
#include "core/log.h"
#include "core/timeutil.h"
#include "server/server.h"
#include "core/banned.h"

static void
serve_help(FILE *out)
{
	fprintf(out, "%s",
		L("用法: yingji serve --data DIR [--agents 地址:端口] [--http 地址:端口] [选项]\n"
		"      yingji serve --config FILE\n"
		"\n"
		"在前台运行中心服务：通过双向 TLS 1.3 接收各代理的事件，每条只存一次（SQLite），\n"
		"代理失联数秒内即知，并提供 HTTP API（yingji 命令行和网页控制台都经由它）。\n"
		"首次启动时建立数据目录：数据库、私有 CA 和服务器证书，以及管理员令牌\n"
		"（只显示这一次，保存在仅 root 可读的 DIR/admin.token）。\n"
		"\n"
		"  --data DIR          数据目录（不存在则创建，0700）\n"
		"  --agents 地址:端口  代理连接的监听地址（默认 0.0.0.0:8641）\n"
		"  --http 地址:端口    HTTP API 的监听地址（默认 127.0.0.1:8640；非回环地址时\n"
		"                      使用 HTTPS 和服务器证书）\n"
		"  --lost-after 时长   代理静默多久即为失联（默认 30s）\n"
		"  --heartbeat 时长    代理心跳间隔（默认 5s）\n"
		"  --token-ttl 时长    登记令牌默认有效期（默认 1h）\n"
		"  --max-queue 大小    待写入数据库的事件超过此量时暂停读取代理（默认 64M）\n"
		"  --rules DIR         Sigma 规则目录（可重复；配置键 rules）：对存入的每条事件\n"
		"                      检测，告警存入数据库（yingji alerts 查看）；不给则不检测\n"
		"  --suppress 时长     同一规则对同一地址（c-ip/src_ip/user）在此时长内只告警一次，\n"
		"                      其后的命中计数，窗口结束时存为一条“续”告警（默认 10m；0 关闭）\n"
		"  --plan FILE         应急预案（plan.yaml，见 docs/plan.md；配置键 plan）：告警和\n"
		"                      代理事件归并为事件单，按预案分级、计时（初报、风险评估、\n"
		"                      向主管部门报告）、逾期升级通知；不给则只存告警和事件\n"
		"  --config FILE       配置文件：每行 键 = 值，键为 data、agents、http、\n"
		"                      lost_after、heartbeat、token_ttl、max_queue、max_conns、\n"
		"                      rules、suppress、plan\n"
		"  --verbose           输出调试日志\n"
		"\n"
		"日志以结构化的行写到标准错误（systemd 下进入 journald）。SIGTERM/SIGINT 停止。\n"
		"端口写 0 时由系统选择，实际地址写入 DIR/serve.json。\n",
		"Usage: yingji serve --data DIR [--agents ADDR:PORT] [--http ADDR:PORT] [OPTIONS]\n"
		"       yingji serve --config FILE\n"
		"\n"
		"Run the centre in the foreground: take every agent's events over mutual TLS 1.3\n"
		"and store each exactly once (SQLite), know within seconds when an agent goes\n"
		"dark, and serve the HTTP API (the yingji command line and the web console use it).\n"
		"The first start creates the data directory: the database, a private CA and the\n"
		"server's certificate, and an admin token (shown this once, kept in the root-only\n"
		"file DIR/admin.token).\n"
		"\n"
		"  --data DIR          data directory (created 0700 if absent)\n"
		"  --agents ADDR:PORT  where agents connect (default 0.0.0.0:8641)\n"
		"  --http ADDR:PORT    the HTTP API (default 127.0.0.1:8640; on a non-loopback\n"
		"                      address it speaks HTTPS with the server certificate)\n"
		"  --lost-after T      silence after which an agent is lost (default 30s)\n"
		"  --heartbeat T       agents' heartbeat interval (default 5s)\n"
		"  --token-ttl T       default lifetime of enrollment tokens (default 1h)\n"
		"  --max-queue N       stop reading agents while this much waits for the\n"
		"                      database (default 64M)\n"
		"  --rules DIR         Sigma rule directory (repeatable; config key rules): every\n"
		"                      stored event is checked, alerts are stored (see\n"
		"                      yingji alerts); without it, no detection\n"
		"  --suppress T        one alert per rule and address (c-ip/src_ip/user) within T;\n"
		"                      the matches after it are counted and stored as one\n"
		"                      \"continued\" alert when the window ends (default 10m; 0 off)\n"
		"  --plan FILE         the emergency plan (plan.yaml, see docs/plan.md; config key\n"
		"                      plan): alerts and agent events become incidents, graded\n"
		"                      and timed by the plan (initial report, risk assessment,\n"
		"                      report to the authority), escalated when late; without\n"
		"                      it, alerts and events are only stored\n"
		"  --config FILE       config file: key = value lines; keys data, agents, http,\n"
		"                      lost_after, heartbeat, token_ttl, max_queue, max_conns,\n"
		"                      rules, suppress, plan\n"
		"  --verbose           debug logging\n"
		"\n"
		"Logs are structured lines on stderr (journald under systemd). SIGTERM/SIGINT stop.\n"
		"Port 0 lets the system choose; the bound addresses are written to DIR/serve.json.\n"));
}

int
cmd_serve(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "agents", required_argument, NULL, 'a' },
		{ "http", required_argument, NULL, 'H' },
		{ "config", required_argument, NULL, 'c' },
		{ "lost-after", required_argument, NULL, 'l' },
		{ "heartbeat", required_argument, NULL, 'b' },
		{ "token-ttl", required_argument, NULL, 't' },
		{ "max-queue", required_argument, NULL, 'q' },
		{ "rules", required_argument, NULL, 'r' },
		{ "suppress", required_argument, NULL, 's' },
		{ "plan", required_argument, NULL, 'p' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct server_opts o;
	char *datadir = NULL;
	int opt, r;

	server_opts_init(&o);
	if (cli_global.datadir != NULL)
		datadir = strdup(cli_global.datadir);
	/* --config first, so that options on the command line win. */
	for (int i = 1; i + 1 < argc; i++)
		if (strcmp(argv[i], "--config") == 0 &&
			server_opts_load(&o, argv[i + 1], &datadir) < 0) {
			free(datadir);
			server_opts_release(&o);
			return 2;
		}
	optind = 1;
	while ((opt = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		r = 0;
		switch (opt) {
		case 'd':
			free(datadir);
			datadir = strdup(optarg);
			break;
		case 'a':
			snprintf(o.agents_addr, sizeof(o.agents_addr), "%s", optarg);
			break;
		case 'H':
			snprintf(o.http_addr, sizeof(o.http_addr), "%s", optarg);
			break;
		case 'c':
			break;
		case 'l':
			r = duration_parse(optarg, &o.lost_after_ns);
			break;
		case 'b':
			r = duration_parse(optarg, &o.heartbeat_ns);
			break;
		case 't':
			r = duration_parse(optarg, &o.token_ttl_ns);
			break;
		case 'q':
			r = size_parse(optarg, &o.max_queue_bytes);
			break;
		case 'r':
			r = server_opts_add_rules(&o, optarg);
			break;
		case 's':
			r = duration_parse(optarg, &o.suppress_ns);
			if (r == 0 && o.suppress_ns < 0)
				r = -EINVAL;
			break;
		case 'p':
			free(o.plan_path);
			o.plan_path = strdup(optarg);
			break;
		case 'v':
			log_set_level(LOG_DEBUG);
			break;
		case 'h':
			serve_help(stdout);
			free(datadir);
			server_opts_release(&o);
			return 0;
		default:
			serve_help(stderr);
			free(datadir);
			server_opts_release(&o);
			return 2;
		}
		if (r < 0 || (opt == 'l' && o.lost_after_ns <= 0) ||
			(opt == 'b' && o.heartbeat_ns <= 0)) {
			fprintf(stderr, "yingji serve: %s '%s'\n", L("取值无效", "bad value"), optarg);
			free(datadir);
			server_opts_release(&o);
			return 2;
		}
	}
	if (datadir == NULL || optind < argc) {
		fprintf(stderr, "yingji serve: %s\n\n", datadir == NULL ?
			L("需要 --data DIR", "--data DIR is required") :
			L("多余的参数", "unexpected argument"));
		serve_help(stderr);
		free(datadir);
		server_opts_release(&o);
		return 2;
	}
	o.datadir = datadir;
	r = server_run(&o);
	free(datadir);
	server_opts_release(&o);
	return r < 0 ? 1 : 0;
}
