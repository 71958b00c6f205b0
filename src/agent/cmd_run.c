/*
 * cmd_run.c - `yingji-agent run --state DIR --guard PATH [--guard PATH ...]
 * [--lock] [--log FILE ...] [--config FILE]`: the guard daemon (and log collector)
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

static const char run_help[] =
	"Usage: yingji-agent run --state DIR --guard PATH [--guard PATH ...] [OPTIONS]\n"
	"       yingji-agent run --state DIR --log FILE [--log FILE ...] [OPTIONS]\n"
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
	"                       rescan_interval, journal_max, bulk_rate, log, keywords,\n"
	"                       own_host, allow (the last four repeatable)\n"
	"  --verbose            debug logging\n"
	"\n"
	"When the state directory holds an enrollment (`yingji-agent enroll`), every\n"
	"event also goes to the centre over mutual TLS 1.3; a journal record is let go\n"
	"only once the centre acknowledged it as stored.\n"
	"\n"
	"Stops on SIGINT or SIGTERM. Exit status 0, or 2 on error.\n";

struct run_args {
	struct daemon_opts	 o;
	char			**guards;
	size_t			 nguards, capguards;
	char			*state;
	struct maintenance_window *windows;
	size_t			 nwindows, capwindows;
	char			**logs;
	size_t			 nlogs, caplogs;
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
		{ 'L', "log" }, { 'K', "keywords" }, { 'H', "own_host" }, { 'A', "allow" } };
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
	while ((opt = getopt_long(argc, argv, "s:g:lw:m:f:M:R:J:B:L:K:H:A:c:vh", longopts, NULL)) != -1) {
		const char *key = NULL;

		switch (opt) {
		case 'l':
			a.o.lock = true;
			continue;
		case 'c':
			continue;
		case 'v':
			log_set_level(LOG_DEBUG);
			continue;
		case 'h':
			fputs(run_help, stdout);
			status = 0;
			goto out;
		case '?':
			fputs(run_help, stderr);
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
	if (optind != argc || a.state == NULL || (a.nguards == 0 && a.nlogs == 0)) {
		fputs(run_help, stderr);
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
	inspector_free(a.inspector);
	free(a.state);
	free(state_abs);
	return status;
}
