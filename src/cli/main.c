/*
 * main.c - `yingji`: the centre (`yingji serve`) and the command line that
 * talks to it through the HTTP API. A git-style command table; each command
 * lives in its own cmd_*.c file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "core/i18n.h"
#include "core/banned.h"

static const struct {
	const char	*name;
	int		(*run)(int argc, char **argv);
	const char	*summary_zh, *summary_en;
} commands[] = {
	{ "serve",	cmd_serve,	"运行中心服务（接收代理事件、HTTP API）",
		"run the centre (agents' events in, HTTP API)" },
	{ "status",	cmd_status,	"中心服务的状态",	"the centre's status" },
	{ "agents",	cmd_agents,	"列出代理",		"list agents" },
	{ "agent",	cmd_agent,	"吊销代理、向代理下发命令",
		"revoke an agent, send an agent a command" },
	{ "events",	cmd_events,	"查询或跟踪事件",	"query or follow events" },
	{ "incident",	cmd_incident,	"事件单：查看、报告、评估、启动预案、分级、任务、导出报告",
		"incidents: list, report, assess, activate, grade, tasks, export reports" },
	{ "respond",	cmd_respond,	"先期处置：封禁地址、隔离主机、下线网站、隔离文件、结束进程、锁定账号",
		"first response: block, isolate, offline, quarantine, kill, lock an account" },
	{ "alerts",	cmd_alerts,	"查询或跟踪中心的检测告警",
		"query or follow the centre's detection alerts" },
	{ "token",	cmd_token,	"生成一次性代理登记令牌",
		"create a one-time agent enrollment token" },
	{ "detect",	cmd_detect,	"用 Sigma 规则检测日志文件",
		"run Sigma rules over log files" },
	{ "rules",	cmd_rules,	"检查 Sigma 规则目录（加载、编译、拒绝原因）",
		"check a Sigma rules directory (load, compile, reasons for refusals)" },
	{ "plan",	cmd_plan,	"检查应急预案文件（plan.yaml）",
		"check an emergency plan file (plan.yaml)" },
	{ "audit",	cmd_audit,	"核验或列出审计链（在中心服务器上直接读取数据库）",
		"verify or list the audit trail (reads the database on the centre's machine)" },
};

struct cli_global cli_global;

static void
usage(FILE *out)
{
	fprintf(out, "%s\n\n", L("yingji - 应急：网络与信息安全应急响应系统（中心与命令行）",
		"yingji - Yingji (应急): network and information security emergency response "
		"(centre and command line)"));
	fprintf(out, "%s: yingji [--data DIR | --server URL] COMMAND [OPTIONS]\n"
		"       yingji COMMAND --help\n\n", L("用法", "Usage"));
	fprintf(out, "%s:\n", L("全局选项", "Global options"));
	fprintf(out, "  --data DIR     %s\n", L("在中心服务器上：数据目录（地址和管理员令牌从中读取）",
		"on the server's machine: its data directory (address and admin token)"));
	fprintf(out, "  --server URL   %s\n", L("在其他机器上：http(s)://主机:端口，令牌取自 "
		"$YINGJI_TOKEN，https 的 CA 取自 $YINGJI_CA",
		"elsewhere: http(s)://HOST:PORT; the token from $YINGJI_TOKEN, for https "
		"the CA from $YINGJI_CA"));
	fprintf(out, "  %s\n\n", L("两者都未给出时使用 /var/lib/yingji",
		"with neither, --data /var/lib/yingji"));
	fprintf(out, "%s:\n", L("命令", "Commands"));
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-8s %s\n", commands[i].name,
			L(commands[i].summary_zh, commands[i].summary_en));
	fprintf(out, "\n%s\n", L("退出码：0 成功；1 请求被拒绝或出错；2 用法错误。\n"
		"语言：默认中文，YINGJI_LANG=en 为英文。完整手册见 docs/yingji.md。",
		"Exit status: 0 success; 1 the request failed or was refused; 2 usage error.\n"
		"Language: Chinese by default, YINGJI_LANG=en for English. Manual: docs/yingji.md."));
}

int
main(int argc, char **argv)
{
	int i = 1;

	while (i < argc && argv[i][0] == '-') {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			usage(stdout);
			return 0;
		}
		if (strcmp(argv[i], "--version") == 0) {
			printf("yingji %s\n", YINGJI_VERSION);
			return 0;
		}
		if (strcmp(argv[i], "--data") == 0 && i + 1 < argc) {
			cli_global.datadir = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--data=", 7) == 0) {
			cli_global.datadir = argv[i] + 7;
			i++;
		} else if (strcmp(argv[i], "--server") == 0 && i + 1 < argc) {
			cli_global.server = argv[i + 1];
			i += 2;
		} else if (strncmp(argv[i], "--server=", 9) == 0) {
			cli_global.server = argv[i] + 9;
			i++;
		} else {
			fprintf(stderr, "yingji: %s '%s'\n\n", L("未知选项", "unknown option"), argv[i]);
			usage(stderr);
			return 2;
		}
	}
	if (i >= argc) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[i], "help") == 0) {
		usage(stdout);
		return 0;
	}
	for (size_t k = 0; k < sizeof(commands) / sizeof(commands[0]); k++)
		if (strcmp(argv[i], commands[k].name) == 0)
			return commands[k].run(argc - i, argv + i);
	fprintf(stderr, "yingji: %s '%s'\n\n", L("未知命令", "unknown command"), argv[i]);
	usage(stderr);
	return 2;
}
