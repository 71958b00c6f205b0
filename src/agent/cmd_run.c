/*
 * cmd_run.c - `yingji-agent run --state DIR --guard PATH [--guard PATH ...]
 * [--lock] [--log FILE ...] [--journal | --journal-dir DIR] [--config FILE]`: the
 * guard daemon (and log collector)
 * in the foreground.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "agent/commands.h"
#include "agent/daemon.h"
#include "agent/inspect/inspect.h"
#include "agent/logs/logs.h"
#include "core/conf.h"
#include "core/i18n.h"
#include "core/log.h"
#include "core/path.h"
#include "core/timeutil.h"
#include "core/xalloc.h"
#include "core/banned.h"

/* The English help; run_help_zh below is the default. */
static const char run_help[] =
	"Usage: yingji-agent run --state DIR --guard PATH [--guard PATH ...] [OPTIONS]\n"
	"       yingji-agent run --state DIR --log FILE [--log FILE ...] [OPTIONS]\n"
	"       yingji-agent run --state DIR --journal [OPTIONS]\n"
	"       yingji-agent run --config FILE [OPTIONS]\n"
	"\n"
	"Guard directories (web roots, data) in the foreground: any change not made\n"
	"through `publish` is put back within milliseconds, unauthorised new entries\n"
	"are moved to quarantine, and every tamper becomes an event in the journal\n"
	"(`yingji-agent events`). The first start records the baseline and keeps every\n"
	"file's content in the state directory; later starts repair what changed while\n"
	"the agent was down.\n"
	"\n"
	"  --state DIR          state directory (created 0700; one agent per directory)\n"
	"  --guard PATH         a directory to guard (repeatable)\n"
	"  --lock               lock mode: set the immutable attribute, so tampering\n"
	"                       fails; publish lifts and restores it\n"
	"  --watcher KIND       auto (default), fanotify or inotify\n"
	"  --max-store-size N   files larger than N (e.g. 64M, default 256M) are hashed\n"
	"                       but not stored: their change is alerted, not restored\n"
	"  --fold-window T      repeated tampers of one path within T (default 10s) are\n"
	"                       folded into one persistent-attack event with a count\n"
	"  --maintenance SPEC   a window during which changes are allowed and accepted\n"
	"                       at its end: \"Sat,Sun 02:00-04:00\" or \"daily 01:00-01:30\"\n"
	"                       (local time, Asia/Shanghai; repeatable)\n"
	"  --rescan-interval T  a full check of every guard this often (default 10m;\n"
	"                       0 turns it off); it catches what no watcher reports,\n"
	"                       such as writes through a hard link made elsewhere\n"
	"  --journal-max N      the event journal keeps at most N (default 256M) of\n"
	"                       events the centre has not acknowledged; past it the\n"
	"                       oldest go, and an event says how many\n"
	"  --bulk-rate N        informational events sent to the centre per second at\n"
	"                       most (default 1000; 0: no limit); security events are\n"
	"                       never held back\n"
	"  --log FILE           follow a log file (access/error logs, auth.log, syslog,\n"
	"                       any path; repeatable, at most 256): each line becomes a\n"
	"                       \"log\" event; rotation and copytruncate are followed and\n"
	"                       positions kept across restarts (lines over 64 KiB are\n"
	"                       cut, marked truncated)\n"
	"  --journal            follow the local systemd journal: each entry becomes a\n"
	"                       \"log\" event with an RFC 5424 syslog line (sshd, sudo,\n"
	"                       su... decoded by the centre as from auth.log); the\n"
	"                       cursor is kept across restarts, so entries written while\n"
	"                       the agent was down are read and none twice; the first\n"
	"                       start begins at the journal's end\n"
	"  --journal-dir DIR    follow the journal files in DIR instead (another\n"
	"                       machine's, a copied /var/log/journal/<id>); implies\n"
	"                       --journal\n"
	"  --keywords FILE      harmful keyword list (one per line, UTF-8, '#' starts a\n"
	"                       comment; repeatable): web files (.html .htm .shtml .php\n"
	"                       .jsp .asp .aspx .js .txt, up to 8 MiB; GB18030/GBK pages\n"
	"                       converted) are inspected on publish and on tamper\n"
	"  --own-host HOST      a host of the site itself (repeatable): hidden links to\n"
	"                       it are not reported; with none, every absolute link in\n"
	"                       a hidden block is (hidden links are always inspected)\n"
	"  --allow ADDR         an admin address no first-response action may cut off\n"
	"                       (repeatable, at most 8; the centre's addresses and\n"
	"                       loopback always are): blocks covering it are refused,\n"
	"                       isolation keeps it reachable\n"
	"  --config FILE        key = value lines: state, guard (repeatable), lock,\n"
	"                       watcher, max_store_size, fold_window, maintenance,\n"
	"                       rescan_interval, journal_max, bulk_rate, log, journal\n"
	"                       (true/false), journal_dir, keywords, own_host, allow\n"
	"                       (log, keywords, own_host and allow repeatable)\n"
	"  --verbose            debug logging\n"
	"\n"
	"When the state directory holds an enrollment (`yingji-agent enroll`), every\n"
	"event also goes to the centre over mutual TLS 1.3; a journal record is let go\n"
	"only once the centre acknowledged it as stored.\n"
	"\n"
	"Stops on SIGINT or SIGTERM. Exit status 0, or 2 on error.\n";

static const char run_help_zh[] =
	"用法: yingji-agent run --state DIR --guard PATH [--guard PATH ...] [选项]\n"
	"      yingji-agent run --state DIR --log FILE [--log FILE ...] [选项]\n"
	"      yingji-agent run --state DIR --journal [选项]\n"
	"      yingji-agent run --config FILE [选项]\n"
	"\n"
	"在前台防护目录（网站根目录、数据）：任何未经 `publish` 的改动在毫秒内被恢复，\n"
	"未经授权的新文件被移入隔离区，每次篡改都作为事件写入事件日志\n"
	"（`yingji-agent events`）。首次启动记录基线，并在状态目录中保存每个文件的内容；\n"
	"以后启动时修复代理停止期间发生的改动。\n"
	"\n"
	"  --state DIR          状态目录（以 0700 创建；每个目录一个代理）\n"
	"  --guard PATH         要防护的目录（可重复）\n"
	"  --lock               锁定模式：设置不可变属性，使篡改失败；publish 时解除并恢复\n"
	"  --watcher KIND       auto（默认）、fanotify 或 inotify\n"
	"  --max-store-size N   大于 N（如 64M，默认 256M）的文件只计算哈希、不保存内容：\n"
	"                       其改动只告警、不恢复\n"
	"  --fold-window T      同一路径在 T（默认 10s）内的反复篡改合并为一个带次数的\n"
	"                       持续攻击事件\n"
	"  --maintenance SPEC   维护窗口：窗口内允许改动，窗口结束时接受为发布：\n"
	"                       \"Sat,Sun 02:00-04:00\" 或 \"daily 01:00-01:30\"\n"
	"                       （本地时间，Asia/Shanghai；可重复）\n"
	"  --rescan-interval T  每隔 T 完整检查一次所有防护目录（默认 10m；0 为关闭），\n"
	"                       可发现监视器报告不到的改动，如经别处硬链接的写入\n"
	"  --journal-max N      事件日志最多保留 N（默认 256M）中心尚未确认的事件；\n"
	"                       超出时丢弃最旧的，并有事件说明丢弃了多少\n"
	"  --bulk-rate N        每秒最多向中心发送的信息类事件数（默认 1000；0 不限）；\n"
	"                       安全事件从不延后\n"
	"  --log FILE           跟踪日志文件（访问/错误日志、auth.log、syslog 等任意路径；\n"
	"                       可重复，最多 256 个）：每行成为一个 \"log\" 事件；跟随轮转\n"
	"                       与 copytruncate，重启后从原位置继续（超过 64 KiB 的行被截断\n"
	"                       并标记 truncated）\n"
	"  --journal            跟踪本机 systemd 日志（journal）：每个条目成为一个 \"log\"\n"
	"                       事件，内容为 RFC 5424 syslog 行（sshd、sudo、su 等由中心\n"
	"                       按 auth.log 同样解析）；读取位置（cursor）跨重启保存，代理\n"
	"                       停止期间写入的条目会被读取且不重复；首次启动从末尾开始\n"
	"  --journal-dir DIR    改为跟踪 DIR 中的 journal 文件（如另一台机器复制来的\n"
	"                       /var/log/journal/<id>）；隐含 --journal\n"
	"  --keywords FILE      有害关键词表（每行一个，UTF-8，'#' 开始注释；可重复）：\n"
	"                       发布和篡改时检查网页文件（.html .htm .shtml .php .jsp .asp\n"
	"                       .aspx .js .txt，最大 8 MiB；GB18030/GBK 页面自动转换）\n"
	"  --own-host HOST      本站自己的主机名（可重复）：指向它的暗链不报告；未指定时，\n"
	"                       隐藏块中的每个绝对链接都报告（暗链总会检查）\n"
	"  --allow ADDR         先期处置不得切断的管理地址（可重复，最多 8 个；中心地址和\n"
	"                       回环地址总是如此）：覆盖它的封禁被拒绝，隔离时仍可访问\n"
	"  --config FILE        key = value 行：state、guard（可重复）、lock、watcher、\n"
	"                       max_store_size、fold_window、maintenance、rescan_interval、\n"
	"                       journal_max、bulk_rate、log、journal（true/false）、\n"
	"                       journal_dir、keywords、own_host、allow\n"
	"                       （log、keywords、own_host、allow 可重复）\n"
	"  --verbose            调试日志\n"
	"\n"
	"状态目录中有登记信息（`yingji-agent enroll`）时，每个事件还经双向 TLS 1.3 发往\n"
	"中心；中心确认已保存后才释放事件日志中的记录。\n"
	"\n"
	"收到 SIGINT 或 SIGTERM 时停止。退出状态 0，出错时为 2。\n";

struct run_args {
	struct daemon_opts	 o;
	char			**guards;
	size_t			 nguards, capguards;
	char			*state;
	struct maintenance_window *windows;
	size_t			 nwindows, capwindows;
	char			**logs;
	size_t			 nlogs, caplogs;
	char			*journal_dir;
	struct inspector	*inspector;
};

static int
add_guard(struct run_args *a, const char *path)
{
	char *abs = path_absolute(path);

	if (abs == NULL)
		return -EINVAL;
	a->guards = xgrow(a->guards, &a->capguards, a->nguards + 1, sizeof(*a->guards));
	a->guards[a->nguards++] = abs;
	return 0;
}

static int
add_log(struct run_args *a, const char *path)
{
	char *abs;

	if (a->nlogs >= LOGS_MAX_FILES || path[0] == '\0')
		return -EINVAL;
	abs = path_absolute(path);
	if (abs == NULL)
		return -EINVAL;
	a->logs = xgrow(a->logs, &a->caplogs, a->nlogs + 1, sizeof(*a->logs));
	a->logs[a->nlogs++] = abs;
	return 0;
}

static int
add_window(struct run_args *a, const char *spec)
{
	struct maintenance_window w;

	if (maintenance_parse(spec, &w) < 0)
		return -EINVAL;
	a->windows = xgrow(a->windows, &a->capwindows, a->nwindows + 1, sizeof(*a->windows));
	a->windows[a->nwindows++] = w;
	return 0;
}

/* Apply one setting from the command line or the config file. */
static int
apply_setting(struct run_args *a, const char *key, const char *value)
{
	if (strcmp(key, "state") == 0) {
		free(a->state);
		a->state = xstrdup(value);
		return 0;
	}
	if (strcmp(key, "guard") == 0)
		return add_guard(a, value);
	if (strcmp(key, "lock") == 0) {
		a->o.lock = strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 ||
			strcmp(value, "1") == 0;
		return 0;
	}
	if (strcmp(key, "watcher") == 0) {
		if (strcmp(value, "auto") && strcmp(value, "fanotify") && strcmp(value, "inotify"))
			return -EINVAL;
		a->o.watcher = strcmp(value, "auto") == 0 ? "auto"
			: strcmp(value, "fanotify") == 0 ? "fanotify" : "inotify";
		return 0;
	}
	if (strcmp(key, "max_store_size") == 0)
		return size_parse(value, &a->o.max_store_bytes);
	if (strcmp(key, "fold_window") == 0)
		return duration_parse(value, &a->o.fold_window_ns);
	if (strcmp(key, "maintenance") == 0)
		return add_window(a, value);
	if (strcmp(key, "rescan_interval") == 0)
		return duration_parse(value, &a->o.rescan_interval_ns);
	if (strcmp(key, "journal_max") == 0)
		return size_parse(value, &a->o.journal_max_bytes);
	if (strcmp(key, "bulk_rate") == 0)
		return size_parse(value, &a->o.bulk_rate);
	if (strcmp(key, "log") == 0)
		return add_log(a, value);
	if (strcmp(key, "journal") == 0) {
		if (strcmp(value, "true") == 0 || strcmp(value, "yes") == 0 || strcmp(value, "1") == 0)
			a->o.journal = true;
		else if (strcmp(value, "false") == 0 || strcmp(value, "no") == 0 ||
			strcmp(value, "0") == 0)
			a->o.journal = false;
		else
			return -EINVAL;
		return 0;
	}
	if (strcmp(key, "journal_dir") == 0) {
		char *abs = value[0] != '\0' ? path_absolute(value) : NULL;

		if (abs == NULL)
			return -EINVAL;
		free(a->journal_dir);
		a->journal_dir = abs;
		a->o.journal = true;
		return 0;
	}
	if (strcmp(key, "keywords") == 0) {
		int r = inspector_add_keywords_file(a->inspector, value);

		if (r < 0)
			fprintf(stderr, "yingji-agent: %s %s: %s\n",
				L("无法读取关键词文件", "cannot read keyword file"), value,
				r == -EINVAL ? L("某行过长或不是 UTF-8", "a line is too long or not UTF-8")
					     : strerror(-r));
		return r < 0 ? -EINVAL : 0;
	}
	if (strcmp(key, "own_host") == 0)
		return inspector_add_own_host(a->inspector, value);
	if (strcmp(key, "allow") == 0) {
		unsigned char bin[16];

		if (a->o.nallow == sizeof(a->o.allow) / sizeof(a->o.allow[0]) ||
			strlen(value) >= sizeof(a->o.allow[0]) ||
			(inet_pton(AF_INET, value, bin) != 1 && inet_pton(AF_INET6, value, bin) != 1))
			return -EINVAL;
		snprintf(a->o.allow[a->o.nallow++], sizeof(a->o.allow[0]), "%s", value);
		return 0;
	}
	return -ENOENT;
}

static int
load_config(struct run_args *a, const char *path)
{
	struct conf c = { 0 };
	const char *msg = NULL;
	unsigned line = 0;
	int r;

	r = conf_load_file(path, &c, &line, &msg);
	if (r < 0) {
		if (line > 0)
			fprintf(stderr, "yingji-agent: %s:%u: %s\n", path, line, msg ? msg : strerror(-r));
		else
			fprintf(stderr, "yingji-agent: %s: %s\n", path, msg ? msg : strerror(-r));
		return r;
	}
	for (size_t i = 0; i < c.n; i++) {
		r = apply_setting(a, c.entries[i].key, c.entries[i].value);
		if (r < 0) {
			fprintf(stderr, "yingji-agent: %s:%u: %s '%s'\n", path, c.entries[i].line,
				r == -ENOENT ? L("未知设置", "unknown setting")
					     : L("无效的值", "invalid value for"),
				c.entries[i].key);
			break;
		}
	}
	conf_release(&c);
	return r;
}

/* Guards may not overlap each other, nor hold or sit in the state directory. */
static int
check_paths(const struct run_args *a, const char *state)
{
	for (size_t i = 0; i < a->nguards; i++) {
		size_t li = strlen(a->guards[i]);

		if (strcmp(a->guards[i], "/") == 0) {
			fprintf(stderr, "yingji-agent: %s\n", L("不能防护根目录 /", "cannot guard / itself"));
			return -EINVAL;
		}
		if ((strncmp(state, a->guards[i], li) == 0 && (state[li] == '/' || state[li] == '\0'))) {
			fprintf(stderr, "yingji-agent: %s: %s\n",
				L("状态目录不能位于防护目录之内", "the state directory is inside a guard"),
				a->guards[i]);
			return -EINVAL;
		}
		for (size_t k = 0; k < a->nguards; k++) {
			if (k == i)
				continue;
			if (strncmp(a->guards[k], a->guards[i], li) == 0 &&
				(a->guards[k][li] == '/' || a->guards[k][li] == '\0')) {
				fprintf(stderr, "yingji-agent: %s: %s, %s\n",
					L("防护目录重叠", "guards overlap"), a->guards[i], a->guards[k]);
				return -EINVAL;
			}
		}
	}
	return 0;
}

int
cmd_run(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "guard", required_argument, NULL, 'g' },
		{ "lock", no_argument, NULL, 'l' },
		{ "watcher", required_argument, NULL, 'w' },
		{ "max-store-size", required_argument, NULL, 'm' },
		{ "fold-window", required_argument, NULL, 'f' },
		{ "maintenance", required_argument, NULL, 'M' },
		{ "rescan-interval", required_argument, NULL, 'R' },
		{ "journal-max", required_argument, NULL, 'J' },
		{ "bulk-rate", required_argument, NULL, 'B' },
		{ "log", required_argument, NULL, 'L' },
		{ "journal", no_argument, NULL, 'j' },
		{ "journal-dir", required_argument, NULL, 'D' },
		{ "keywords", required_argument, NULL, 'K' },
		{ "own-host", required_argument, NULL, 'H' },
		{ "allow", required_argument, NULL, 'A' },
		{ "config", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	static const struct {
		int opt;
		const char *key;
	} keys[] = { { 's', "state" }, { 'g', "guard" }, { 'w', "watcher" },
		{ 'm', "max_store_size" }, { 'f', "fold_window" }, { 'M', "maintenance" },
		{ 'R', "rescan_interval" }, { 'J', "journal_max" }, { 'B', "bulk_rate" },
		{ 'L', "log" }, { 'D', "journal_dir" }, { 'K', "keywords" }, { 'H', "own_host" }, { 'A', "allow" } };
	struct run_args a = { 0 };
	char *state_abs = NULL;
	int opt, r, status = 2;

	a.o.watcher = "auto";
	a.o.max_store_bytes = 256ull << 20;
	a.o.fold_window_ns = 10ll * 1000000000;
	a.o.fold_threshold = 3;
	a.o.rescan_interval_ns = 600ll * 1000000000;
	a.o.bulk_rate = 1000;
	inspector_new(&a.inspector);
	/* The config file first, so the command line can override it. */
	for (int i = 1; i + 1 < argc; i++) {
		if (strcmp(argv[i], "--config") == 0 && load_config(&a, argv[i + 1]) < 0)
			goto out;
	}
	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:g:lw:m:f:M:R:J:B:L:jD:K:H:A:c:vh", longopts, NULL)) != -1) {
		const char *key = NULL;

		switch (opt) {
		case 'l':
			a.o.lock = true;
			continue;
		case 'j':
			a.o.journal = true;
			continue;
		case 'c':
			continue;
		case 'v':
			log_set_level(LOG_DEBUG);
			continue;
		case 'h':
			fputs(L(run_help_zh, run_help), stdout);
			status = 0;
			goto out;
		case '?':
			fputs(L(run_help_zh, run_help), stderr);
			goto out;
		}
		for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++)
			if (keys[k].opt == opt)
				key = keys[k].key;
		if (key == NULL || apply_setting(&a, key, optarg) < 0) {
			fprintf(stderr, "yingji-agent: %s %s '%s'\n", L("无效的值", "invalid value for"),
				argv[optind - 1], optarg);
			goto out;
		}
	}
	if (optind != argc || a.state == NULL || (a.nguards == 0 && a.nlogs == 0 && !a.o.journal)) {
		fputs(L(run_help_zh, run_help), stderr);
		goto out;
	}
	state_abs = path_absolute(a.state);
	if (check_paths(&a, state_abs) < 0)
		goto out;
	a.o.state = state_abs;
	a.o.guards = a.guards;
	a.o.nguards = a.nguards;
	a.o.windows = a.windows;
	a.o.nwindows = a.nwindows;
	a.o.logs = a.logs;
	a.o.nlogs = a.nlogs;
	a.o.journal_dir = a.journal_dir;
	a.o.inspector = a.inspector;
	r = daemon_run(&a.o);
	status = r;
out:
	for (size_t i = 0; i < a.nguards; i++)
		free(a.guards[i]);
	free(a.guards);
	free(a.windows);
	for (size_t i = 0; i < a.nlogs; i++)
		free(a.logs[i]);
	free(a.logs);
	free(a.journal_dir);
	inspector_free(a.inspector);
	free(a.state);
	free(state_abs);
	return status;
}
