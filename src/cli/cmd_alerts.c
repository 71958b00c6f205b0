/*
 * cmd_alerts.c - `yingji alerts [--follow] [--json] [--agent ID] [--level L]
 * [--rule ID] [--after ID]`: the alerts the centre's detector raised on the
 * events it stored (GET /api/v1/alerts), paged with the API's cursor;
 * --follow then long-polls for new ones. Mirrors cmd_events.c.
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

#define SHOW_VALUE_MAX	200	/* bytes of a matched value in the human form */

static void
alerts_help(FILE *out)
{
	fprintf(out, "%s", L(
		"用法: yingji alerts [--follow] [--json] [--agent ID] [--level 级别]\n"
		"                    [--rule 规则ID] [--after 编号]\n"
		"\n"
		"列出中心检测到的告警（yingji serve --rules 加载的 Sigma 规则对每条存入的事件\n"
		"检测的结果），按产生顺序。\n"
		"  --follow        列完后继续等待并显示新告警（Ctrl-C 结束）\n"
		"  --json          每行一个 JSON 对象：id、rule_id、title、level、agent、event_id\n"
		"                  （触发告警的事件编号）、time、received、count、correlation、\n"
		"                  group、matched（命中的字段）、line（日志行或事件内容）\n"
		"  --agent ID      只看某个代理\n"
		"  --level 级别    只看某一级别：informational、low、medium、high、critical\n"
		"  --rule 规则ID   只看某条规则\n"
		"  --after 编号    从某个告警编号之后开始\n",
		"Usage: yingji alerts [--follow] [--json] [--agent ID] [--level LEVEL]\n"
		"                     [--rule RULE_ID] [--after ID]\n"
		"\n"
		"List the alerts the centre raised (the Sigma rules loaded by yingji serve\n"
		"--rules, run over every stored event), in the order they were raised.\n"
		"  --follow        then wait for new alerts and show them (Ctrl-C ends)\n"
		"  --json          one JSON object per line: id, rule_id, title, level, agent,\n"
		"                  event_id (the event that set it off), time, received, count,\n"
		"                  correlation, group, matched (the fields that matched), line\n"
		"                  (the log line or the event's body)\n"
		"  --agent ID      one agent only\n"
		"  --level LEVEL   one level only: informational, low, medium, high, critical\n"
		"  --rule RULE_ID  one rule only\n"
		"  --after ID      start after this alert id\n"));
}

/* Bytes for a terminal: control characters and DEL as \xHH, at most max
 * bytes (then "..."). */
static void
put_shown(const char *s, size_t len, size_t max)
{
	size_t n = len < max ? len : max;

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else
			putchar(c);
	}
	if (n < len)
		fputs("...", stdout);
}

static const char *
level_label(const char *l)
{
	if (strcmp(l, "informational") == 0)
		return L("信息", "info");
	if (strcmp(l, "low") == 0)
		return L("低", "low");
	if (strcmp(l, "medium") == 0)
		return L("中", "medium");
	if (strcmp(l, "high") == 0)
		return L("高", "high");
	if (strcmp(l, "critical") == 0)
		return L("严重", "critical");
	return l;
}

/* time [level] title  代理 N  (关联，次数 N)  field=value, ... */
static void
print_human(const char *obj, size_t len)
{
	struct buf v;
	const char *m;
	size_t mlen, pos = 0;
	int64_t n = 0;
	bool corr = false;

	buf_init(&v, 64 * 1024);
	if (json_get_str(obj, len, "time", &v) == 0) {
		/* "2026-11-22T11:49:38" is enough for a person */
		fwrite(v.data, 1, v.len > 19 ? 19 : v.len, stdout);
	} else {
		putchar('-');
	}
	if (json_get_str(obj, len, "level", &v) == 0)
		printf(" [%s] ", level_label(v.data));
	else
		fputs(" [?] ", stdout);
	if (json_get_str(obj, len, "title", &v) == 0)
		put_shown(v.data, v.len, SHOW_VALUE_MAX);
	printf("  %s ", L("代理", "agent"));
	cli_print_field(obj, len, "agent", 0);
	if (json_get_raw(obj, len, "correlation", &m, &mlen) == 0)
		corr = mlen == 4 && memcmp(m, "true", 4) == 0;
	(void)json_get_i64(obj, len, "count", &n);
	if (json_get_raw(obj, len, "continued", &m, &mlen) == 0 && mlen == 4 &&
		memcmp(m, "true", 4) == 0)
		printf("  (%s %lld)", L("续：同一攻击此后又有", "continued: the same attack, "
			"further matches"), (long long)n);
	else if (corr)
		printf("  (%s %lld)", L("关联，次数", "correlation, count"), (long long)n);
	else if (n > 1)
		printf("  (x%lld)", (long long)n);
	if (json_get_str(obj, len, "group", &v) == 0 && v.len > 0) {
		printf("  %s ", L("分组", "group"));
		put_shown(v.data, v.len, SHOW_VALUE_MAX);
	}
	/* matched: {"field":"value",...}: walk its members with the key scan. */
	if (json_get_raw(obj, len, "matched", &m, &mlen) == 0 && mlen > 2) {
		bool first = true;

		fputs("  ", stdout);
		pos = 1;
		while (pos < mlen) {
			const char *k = memchr(m + pos, '"', mlen - pos);
			const char *kend;
			struct buf key;

			if (k == NULL)
				break;
			kend = k + 1;
			while (kend < m + mlen && *kend != '"') {
				if (*kend == '\\')
					kend++;
				kend++;
			}
			if (kend >= m + mlen)
				break;
			buf_init(&key, 256);
			(void)buf_append(&key, k + 1, (size_t)(kend - k - 1));
			if (json_get_str(m, mlen, key.data, &v) == 0) {
				if (!first)
					fputs(", ", stdout);
				printf("%s=", key.data);
				put_shown(v.data, v.len, SHOW_VALUE_MAX);
				first = false;
			}
			buf_release(&key);
			/* skip the value: a string (the API's matched values are strings) */
			k = memchr(kend + 1, '"', (size_t)(m + mlen - kend - 1));
			if (k == NULL)
				break;
			kend = k + 1;
			while (kend < m + mlen && *kend != '"') {
				if (*kend == '\\')
					kend++;
				kend++;
			}
			pos = (size_t)(kend - m) + 1;
		}
	}
	putchar('\n');
	buf_release(&v);
}

int
cmd_alerts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "follow", no_argument, NULL, 'f' },
		{ "json", no_argument, NULL, 'j' },
		{ "agent", required_argument, NULL, 'a' },
		{ "level", required_argument, NULL, 'l' },
		{ "rule", required_argument, NULL, 'r' },
		{ "after", required_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *agent = NULL, *level = NULL, *rule = NULL;
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
		case 'l':
			level = optarg;
			break;
		case 'r':
			rule = optarg;
			break;
		case 'A':
			after = strtoll(optarg, &end, 10);
			if (*end != '\0' || after < 0) {
				alerts_help(stderr);
				return 2;
			}
			break;
		case 'h':
			alerts_help(stdout);
			return 0;
		default:
			alerts_help(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		alerts_help(stderr);
		return 2;
	}
	if (cli_client(&c) < 0)
		return 1;
	signal(SIGPIPE, SIG_DFL);
	buf_init(&params, 4096);
	cli_query_param(&params, "agent", agent);
	cli_query_param(&params, "level", level);
	cli_query_param(&params, "rule", rule);
	r = cli_pages(&c, "/api/v1/alerts", params.data, "alerts", after, follow, json, print_human);
	buf_release(&params);
	return r < 0 ? 1 : 0;
}
