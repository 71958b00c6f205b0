/*
 * cmd_events.c - `yingji-agent events`: print the local event journal, as the
 * JSON lines it holds or as one readable line per event (Chinese by default,
 * English under an "en" locale), and with --follow keep printing new events
 * until SIGINT or SIGTERM.
 *
 * File names come from whoever wrote to the guarded tree, so everything shown
 * in the readable form is passed through put_safe(): a name cannot move the
 * cursor or recolour an administrator's terminal.
 */
#include "agent/commands.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "agent/journal/journal.h"
#include "core/buf.h"
#include "core/i18n.h"
#include "core/json_get.h"
#include "core/timeutil.h"
#include "core/utf8.h"
#include "core/xalloc.h"
#include "core/banned.h"

#define FIELD_MAX	(64u << 10)	/* one decoded string field */
#define POLL_MS		200		/* without inotify */
#define POLL_SAFETY_MS	1000		/* with it: also look now and then */

static volatile sig_atomic_t events_stop;

struct word {
	const char	*name, *zh, *en;
};

static const struct word type_names[] = {
	{ "tamper",		"篡改",		"tamper" },
	{ "tamper_persistent",	"持续篡改",	"persistent tamper" },
	{ "drift",		"离线期间变更",	"changed while offline" },
	{ "rescan",		"重新扫描",	"rescan" },
	{ "publish",		"发布",		"publish" },
	{ "pause",		"暂停防护",	"guard paused" },
	{ "resume",		"恢复防护",	"guard resumed" },
	{ "guard_ready",	"防护就绪",	"guard ready" },
	{ "guard_error",	"防护故障",	"guard error" },
	{ "agent_start",	"代理启动",	"agent start" },
	{ "agent_stop",		"代理停止",	"agent stop" },
	{ "state_error",	"状态目录故障",	"state directory error" },
	{ "change",		"扫描差异",	"scan difference" },
	{ "content_blocked",	"有害内容拦截",	"harmful content blocked" },
	{ "log",		"日志",		"log" },
};

static const struct word action_names[] = {
	{ "restored",		"已恢复",	"restored" },
	{ "quarantined",	"已隔离",	"quarantined" },
	{ "recreated",		"已重建",	"recreated" },
	{ "alerted",		"已告警",	"alerted" },
	{ "failed",		"失败",		"failed" },
	{ "accepted",		"已接受",	"accepted" },
	{ "blocked",		"已阻止",	"blocked" },
};

/* In the order of enum change_bits, for a "changes" given as a number. */
static const struct word change_names[] = {
	{ "added",	"新增",		"added" },
	{ "removed",	"删除",		"removed" },
	{ "content",	"内容",		"content" },
	{ "mode",	"权限",		"mode" },
	{ "owner",	"属主",		"owner" },
	{ "type",	"类型",		"type" },
	{ "link",	"链接目标",	"link" },
	{ "mtime",	"修改时间",	"mtime" },
	{ "inode",	"inode",	"inode" },
};

#define N_ELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char help_en[] =
	"NAME\n"
	"    yingji-agent events - show the agent's local event journal\n"
	"\n"
	"SYNOPSIS\n"
	"    yingji-agent events --state DIR [--json] [--follow] [--since SEQ]\n"
	"    yingji-agent events --help\n"
	"\n"
	"DESCRIPTION\n"
	"    Prints the events recorded in DIR/journal, oldest first: tampering\n"
	"    noticed and what was done about it (restored, quarantined, ...),\n"
	"    changes made while the agent was down, publishes, pauses, and the\n"
	"    agent's own start, stop and errors. Reading takes no lock and does not\n"
	"    disturb a running agent. A record torn by a crash is not shown.\n"
	"\n"
	"    By default each event is one line: the time in Asia/Shanghai (UTC+8),\n"
	"    the event type, the path, what changed, the action taken, and the\n"
	"    process that made the change when the kernel reported it. Control\n"
	"    characters and bytes that are not UTF-8 in names are shown as \\xHH.\n"
	"\n"
	"OPTIONS\n"
	"    --state DIR   The agent's state directory (required).\n"
	"    --json        One JSON object per line: the event as journaled, with\n"
	"                  its journal sequence number first (\"seq\", the number the\n"
	"                  centre stores it under). For scripts and log shippers.\n"
	"    --follow, -f  After the existing events, keep printing new ones as the\n"
	"                  agent records them, until interrupted (SIGINT, SIGTERM).\n"
	"    --since SEQ   Start at journal sequence number SEQ (numbers start at 1\n"
	"                  and are never reused).\n"
	"    --help, -h    Show this text.\n"
	"\n"
	"ENVIRONMENT\n"
	"    YINGJI_LANG, LC_ALL, LC_MESSAGES, LANG\n"
	"                  The first one set decides the language of the readable\n"
	"                  form and of messages: English when it starts with \"en\",\n"
	"                  Chinese otherwise.\n"
	"\n"
	"EXIT STATUS\n"
	"    0  success (also when --follow is ended by SIGINT or SIGTERM)\n"
	"    2  bad usage, no such state directory, no journal in it, or a read error\n"
	"\n"
	"EXAMPLES\n"
	"    yingji-agent events --state /var/lib/yingji\n"
	"    yingji-agent events --state /var/lib/yingji --json --follow | jq .path\n";

static const char help_zh[] =
	"名称\n"
	"    yingji-agent events - 查看代理的本地事件日志\n"
	"\n"
	"用法\n"
	"    yingji-agent events --state 目录 [--json] [--follow] [--since 序号]\n"
	"    yingji-agent events --help\n"
	"\n"
	"说明\n"
	"    按时间顺序输出 目录/journal 中记录的事件：发现的篡改及处置结果（已恢复、\n"
	"    已隔离等）、代理停止期间发生的变更、发布、暂停，以及代理自身的启动、\n"
	"    停止和故障。读取不加锁，不影响正在运行的代理。因崩溃而不完整的记录不显示。\n"
	"\n"
	"    默认每个事件一行：北京时间（UTC+8）、事件类型、路径、变更内容、处置\n"
	"    结果，以及内核报告的修改者进程。名称中的控制字符和非 UTF-8 字节显示为\n"
	"    \\xHH。\n"
	"\n"
	"选项\n"
	"    --state 目录  代理的状态目录（必需）。\n"
	"    --json        每行一个 JSON 对象：日志中的事件，前面加上其日志序号\n"
	"                  （\"seq\"，中心以此序号保存），供脚本和日志采集程序使用。\n"
	"    --follow, -f  输出已有事件后继续等待并输出新事件，直到收到 SIGINT 或\n"
	"                  SIGTERM。\n"
	"    --since 序号  从日志序号开始输出（序号从 1 开始，永不重复）。\n"
	"    --help, -h    显示本帮助。\n"
	"\n"
	"环境变量\n"
	"    YINGJI_LANG、LC_ALL、LC_MESSAGES、LANG\n"
	"                  取第一个已设置的变量：以 \"en\" 开头时使用英文，否则使用中文。\n"
	"\n"
	"退出状态\n"
	"    0  成功（--follow 被 SIGINT 或 SIGTERM 结束时也是 0）\n"
	"    2  用法错误、状态目录不存在、其中没有事件日志，或读取出错\n"
	"\n"
	"示例\n"
	"    yingji-agent events --state /var/lib/yingji\n"
	"    yingji-agent events --state /var/lib/yingji --json --follow | jq .path\n";

struct events_ctx {
	FILE		*out;
	bool		 json;
	struct buf	 field;		/* scratch for one decoded string */
};

/* The code point of the valid k-byte UTF-8 sequence at p. */
static unsigned
utf8_cp(const unsigned char *p, size_t k)
{
	unsigned cp = k == 1 ? p[0] : p[0] & (0x7fu >> k);

	for (size_t i = 1; i < k; i++)
		cp = cp << 6 | (p[i] & 0x3f);
	return cp;
}

/* Would this character, shown as is, hide or reorder what is around it?
 * Controls, and the bidirectional marks that make "evil\u202egnp.php" look
 * like "evilphp.png". */
static bool
is_deceptive(unsigned cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || cp == 0x61c || cp == 0x200e ||
		cp == 0x200f || (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Print s[0..n) for a terminal: valid UTF-8 as is, except what is_deceptive()
 * (shown as \xHH or \uXXXX); bytes that are not UTF-8 as \xHH. */
static void
put_safe(FILE *out, const char *s, size_t n)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	while (i < n) {
		size_t k = utf8_char_len(p + i, n - i);
		unsigned cp = k > 0 ? utf8_cp(p + i, k) : 0;

		if (k == 0 || (k == 1 && is_deceptive(cp)))
			fprintf(out, "\\x%02x", p[i]);
		else if (is_deceptive(cp))
			fprintf(out, "\\u%04x", cp);
		else
			fwrite(p + i, 1, k, out);
		i += k > 0 ? k : 1;
	}
}

/* The localised word for a name from one of the tables, or NULL. */
#define TABLE_WORD(table, s, n) table_word((table), N_ELEM(table), (s), (n))

static const char *
table_word(const struct word *t, size_t count, const char *s, size_t n)
{
	for (size_t i = 0; i < count; i++)
		if (strlen(t[i].name) == n && memcmp(t[i].name, s, n) == 0)
			return L(t[i].zh, t[i].en);
	return NULL;
}

static void
put_changes(FILE *out, const char *s, size_t n)
{
	size_t i = 0;

	while (i < n) {
		const char *comma = memchr(s + i, ',', n - i);
		size_t end = comma != NULL ? (size_t)(comma - s) : n;
		const char *w = TABLE_WORD(change_names, s + i, end - i);

		if (i > 0)
			fputc(',', out);
		if (w != NULL)
			fputs(w, out);
		else
			put_safe(out, s + i, end - i);
		i = end + 1;
	}
}

static void
put_change_bits(FILE *out, int64_t bits)
{
	bool first = true;

	for (size_t i = 0; i < N_ELEM(change_names); i++) {
		if (!(bits & (INT64_C(1) << i)))
			continue;
		if (!first)
			fputc(',', out);
		fputs(L(change_names[i].zh, change_names[i].en), out);
		first = false;
	}
}

/* "2026-11-22 11:49:38.123" in Asia/Shanghai. */
static void
put_time(FILE *out, int64_t ns)
{
	char t[48];

	time_format_local(ns, t, sizeof(t));
	if (strlen(t) >= 23) {
		t[10] = ' ';
		t[23] = '\0';
	}
	fputs(t, out);
}

static void
put_event_line(struct events_ctx *ctx, int64_t time_ns, const char *obj, size_t len)
{
	FILE *out = ctx->out;
	struct buf *f = &ctx->field;
	const char *wobj, *word;
	size_t wlen;
	int64_t v;

	if (time_ns != 0)
		put_time(out, time_ns);
	else if (json_get_i64(obj, len, "time_ns", &v) == 0)
		put_time(out, v);
	else if (json_get_str(obj, len, "time", f) == 0)
		put_safe(out, f->data, f->len);
	else
		fputs("-", out);

	fputc(' ', out);
	if (json_get_str(obj, len, "type", f) == 0) {
		word = TABLE_WORD(type_names, f->data, f->len);
		if (word != NULL)
			fputs(word, out);
		else
			put_safe(out, f->data, f->len);
	} else {
		fputs(L("未知事件", "unknown event"), out);
	}

	if (json_get_str(obj, len, "path", f) == 0 || json_get_str(obj, len, "guard", f) == 0) {
		fputc(' ', out);
		put_safe(out, f->data, f->len);
	}
	if (json_get_str(obj, len, "changes", f) == 0 && f->len > 0) {
		fputs(" [", out);
		put_changes(out, f->data, f->len);
		fputc(']', out);
	} else if (json_get_i64(obj, len, "changes", &v) == 0 && v > 0) {
		fputs(" [", out);
		put_change_bits(out, v);
		fputc(']', out);
	}
	if (json_get_str(obj, len, "action", f) == 0 && f->len > 0 &&
		strcmp(f->data, "none") != 0) {
		fputc(' ', out);
		word = TABLE_WORD(action_names, f->data, f->len);
		if (word != NULL)
			fputs(word, out);
		else
			put_safe(out, f->data, f->len);
	}
	if (json_get_i64(obj, len, "latency_ns", &v) == 0 && v > 0)
		fprintf(out, L(" 耗时 %.3f 毫秒", " in %.3f ms"), (double)v / 1e6);
	if (json_get_i64(obj, len, "count", &v) == 0 && v > 1)
		fprintf(out, L(" 共 %" PRId64 " 次", " %" PRId64 " times"), v);
	if (json_get_raw(obj, len, "writer", &wobj, &wlen) == 0 &&
		json_get_i64(wobj, wlen, "pid", &v) == 0 && v > 0) {
		fprintf(out, L(" 进程 %" PRId64, " by pid %" PRId64), v);
		if (json_get_str(wobj, wlen, "exe", f) == 0 && f->len > 0) {
			fputs(" (", out);
			put_safe(out, f->data, f->len);
			fputc(')', out);
		}
	}
	if (json_get_str(obj, len, "quarantine", f) == 0 && f->len > 0) {
		fputs(L(" 隔离至 ", " moved to "), out);
		put_safe(out, f->data, f->len);
	}
	if (json_get_str(obj, len, "detail", f) == 0 && f->len > 0) {
		fputs(L("：", ": "), out);
		put_safe(out, f->data, f->len);
	}
	/* A collected log line: the line itself. */
	if (json_get_str(obj, len, "line", f) == 0) {
		fputs(L("：", ": "), out);
		put_safe(out, f->data, f->len);
	}
	fputc('\n', out);
}

static int
print_record(uint64_t seq, int64_t time_ns, const void *payload, size_t len, void *data)
{
	struct events_ctx *ctx = data;

	if (ctx->json) {
		/* The journal's sequence number first: it is what the centre
		 * stores the event under ("seq"). */
		if (len > 1 && ((const char *)payload)[0] == '{') {
			fprintf(ctx->out, "{\"seq\":%" PRIu64 ",", seq);
			fwrite((const char *)payload + 1, 1, len - 1, ctx->out);
		} else {
			fwrite(payload, 1, len, ctx->out);
		}
		fputc('\n', ctx->out);
	} else {
		put_event_line(ctx, time_ns, payload, len);
	}
	if (ferror(ctx->out))
		return -EIO;
	return events_stop ? 1 : 0;
}

static void
on_signal(int sig)
{
	(void)sig;
	events_stop = 1;
}

static int
parse_seq(const char *s, uint64_t *ret)
{
	uint64_t v = 0;

	if (*s == '\0')
		return -EINVAL;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -EINVAL;
		if (v > (UINT64_MAX - 9) / 10)
			return -ERANGE;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	*ret = v;
	return 0;
}

static void
usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "yingji-agent events%s%s%s%s\n", L("：", ": "), what,
		arg != NULL ? L("：", ": ") : "", arg != NULL ? arg : "");
	fprintf(stderr, "%s", L("用法：yingji-agent events --state 目录 [--json] [--follow] "
		"[--since 序号]（详见 --help）\n", "usage: yingji-agent events --state DIR "
		"[--json] [--follow] [--since SEQ] (see --help)\n"));
}

/* After the records already printed, wait for more and print them until a
 * signal says stop. */
static int
follow(int statefd, const char *state, uint64_t next, struct events_ctx *ctx)
{
	struct sigaction sa;
	sigset_t block, waitmask;
	struct pollfd pfd = { .fd = -1, .events = POLLIN };
	char *jdir = NULL;
	int r;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* Signals are blocked except inside ppoll(), so none is missed between
	 * the check of events_stop and the wait. */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &waitmask);
	sigdelset(&waitmask, SIGINT);
	sigdelset(&waitmask, SIGTERM);

	jdir = xasprintf("%s/journal", state);
	pfd.fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (pfd.fd >= 0 && inotify_add_watch(pfd.fd, jdir, IN_MODIFY | IN_CREATE | IN_MOVED_TO |
		IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF) < 0) {
		close(pfd.fd);
		pfd.fd = -1;
	}

	r = 0;
	while (!events_stop) {
		int ms = pfd.fd >= 0 ? POLL_SAFETY_MS : POLL_MS;
		struct timespec ts = { .tv_sec = ms / 1000,
			.tv_nsec = (long)(ms % 1000) * 1000000 };

		if (ppoll(&pfd, pfd.fd >= 0 ? 1 : 0, &ts, &waitmask) > 0) {
			char ev[4096];

			while (read(pfd.fd, ev, sizeof(ev)) > 0)
				;
		}
		if (events_stop)
			break;
		r = journal_read(statefd, next, print_record, ctx, &next);
		fflush(ctx->out);
		if (r < 0)
			break;
	}
	if (pfd.fd >= 0)
		close(pfd.fd);
	free(jdir);
	return r;
}

int
cmd_events(int argc, char **argv)
{
	struct events_ctx ctx = { .out = stdout };
	const char *state = NULL;
	bool follow_mode = false;
	uint64_t since = 0, next = 0;
	int statefd = -1, ret = 2, r;

	buf_init(&ctx.field, FIELD_MAX);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			fputs(L(help_zh, help_en), stdout);
			ret = 0;
			goto out;
		} else if (strcmp(a, "--json") == 0) {
			ctx.json = true;
		} else if (strcmp(a, "--follow") == 0 || strcmp(a, "-f") == 0) {
			follow_mode = true;
		} else if (strcmp(a, "--state") == 0 || strcmp(a, "--since") == 0) {
			if (i + 1 >= argc) {
				usage_error(L("缺少参数值", "missing value"), a);
				goto out;
			}
			if (strcmp(a, "--state") == 0) {
				state = argv[++i];
			} else if (parse_seq(argv[++i], &since) < 0) {
				usage_error(L("无效的序号", "bad sequence number"), argv[i]);
				goto out;
			}
		} else if (strncmp(a, "--state=", 8) == 0) {
			state = a + 8;
		} else if (strncmp(a, "--since=", 8) == 0) {
			if (parse_seq(a + 8, &since) < 0) {
				usage_error(L("无效的序号", "bad sequence number"), a + 8);
				goto out;
			}
		} else {
			usage_error(L("未知参数", "unknown argument"), a);
			goto out;
		}
	}
	if (state == NULL || *state == '\0') {
		usage_error(L("必须指定 --state", "--state is required"), NULL);
		goto out;
	}

	statefd = open(state, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (statefd < 0) {
		if (errno == ENOENT)
			fprintf(stderr, L("yingji-agent events：状态目录 %s 不存在\n",
				"yingji-agent events: state directory %s does not exist\n"), state);
		else
			fprintf(stderr, L("yingji-agent events：无法打开状态目录 %s：%s\n",
				"yingji-agent events: cannot open state directory %s: %s\n"),
				state, strerror(errno));
		goto out;
	}
	r = journal_read(statefd, since, print_record, &ctx, &next);
	fflush(stdout);
	if (r == 0 && follow_mode && !events_stop)
		r = follow(statefd, state, next, &ctx);
	if (r == -ENOENT) {
		fprintf(stderr, L("yingji-agent events：%s 中没有事件日志（%s/journal）\n",
			"yingji-agent events: no journal in %s (%s/journal)\n"), state, state);
		goto out;
	}
	if (r < 0) {
		fprintf(stderr, L("yingji-agent events：读取事件日志失败：%s\n",
			"yingji-agent events: cannot read the journal: %s\n"), strerror(-r));
		goto out;
	}
	if (fflush(stdout) == EOF || ferror(stdout)) {
		fprintf(stderr, L("yingji-agent events：写出失败：%s\n",
			"yingji-agent events: cannot write output: %s\n"), strerror(errno));
		goto out;
	}
	ret = 0;
out:
	if (statefd >= 0)
		close(statefd);
	buf_release(&ctx.field);
	return ret;
}
