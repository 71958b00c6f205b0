/*
 * cmd_publish.c - authorised change: `publish`, `pause` and `resume`.
 *
 * When the agent is running, the request goes to it over the control socket,
 * so the agent that watches the tree makes the change itself and never takes
 * it for tampering. When it is not, the command takes the state directory's
 * lock and does the same work itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/commands.h"
#include "agent/control.h"
#include "agent/event.h"
#include "agent/guard/guard.h"
#include "agent/guard/store.h"
#include "agent/inspect/inspect.h"
#include "agent/journal/journal.h"
#include "agent/state.h"
#include "core/buf.h"
#include "core/i18n.h"
#include "core/path.h"
#include "core/xalloc.h"
#include "core/banned.h"

static const char publish_help[] =
	"Usage: yingji-agent publish --state DIR --from STAGING PATH [INSPECTION]\n"
	"       yingji-agent publish --state DIR PATH [INSPECTION]\n"
	"       yingji-agent pause --state DIR PATH\n"
	"       yingji-agent resume --state DIR PATH\n"
	"\n"
	"publish --from STAGING  make the guarded directory PATH an exact copy of\n"
	"                        STAGING (new, changed and removed entries), then record\n"
	"                        it as the new baseline; contents go to the store first,\n"
	"                        so a failure changes nothing.\n"
	"publish (no --from)     after `pause`: accept what is in PATH now as the new\n"
	"                        baseline, and guard again.\n"
	"pause                   stop restoring PATH so it can be changed by hand (lock\n"
	"                        mode is lifted); the pause survives a restart.\n"
	"resume                  end a pause without accepting: every change made during\n"
	"                        it is undone.\n"
	"\n"
	"Every web file that would change (.html .htm .shtml .php .jsp .asp .aspx .js\n"
	"and .txt, up to 8 MiB) is inspected first: a harmful keyword or a hidden link\n"
	"refuses the whole publish (nothing changes) and is recorded as a\n"
	"content_blocked event. A running agent uses its own --keywords and\n"
	"--own-host; when it is not running, give them here (INSPECTION):\n"
	"  --keywords FILE       keyword list (one per line, UTF-8, '#' comments)\n"
	"  --own-host HOST       a host of the site itself (repeatable)\n"
	"\n"
	"Each is recorded as an event with who asked (login name, uid, pid).\n"
	"Exit status: 0 done, 2 refused or failed.\n";

static const char *
login_name(void)
{
	const char *s = getenv("SUDO_USER");
	struct passwd *pw;

	if (s != NULL && s[0] != '\0')
		return s;
	pw = getpwuid(getuid());
	return pw != NULL ? pw->pw_name : "unknown";
}

/* A refused publish, in the reader's language. */
static void
print_blocked(const char *path, const char *kind, const char *what, unsigned long long offset)
{
	bool link = strcmp(kind, "hidden_link") == 0;

	fprintf(stderr, "yingji-agent: %s: %s: %s \"%s\" (%s %llu)\n",
		L("发布被拒绝, 发现有害内容", "publish refused, harmful content found"), path,
		link ? L("暗链", "hidden link") : L("有害关键词", "harmful keyword"), what,
		L("偏移", "offset"), offset);
}

/* The running agent's reply "content_blocked\tKIND\tPATH\tOFFSET\tWHAT". */
static bool
print_blocked_reply(char *msg)
{
	char *f[5], *p = msg;

	for (int i = 0; i < 5; i++) {
		f[i] = p;
		p = i < 4 ? strchr(p, '\t') : NULL;
		if (i < 4 && p == NULL)
			return false;
		if (p != NULL)
			*p++ = '\0';
	}
	if (strcmp(f[0], "content_blocked") != 0)
		return false;
	print_blocked(f[2], f[1], f[4], strtoull(f[3], NULL, 10));
	return true;
}

static void
offline_emit(struct event *ev, void *data)
{
	struct journal *j = data;
	struct buf line;

	buf_init(&line, JOURNAL_MAX_RECORD);
	if (event_to_json(ev, &line) == 0)
		journal_append(j, ev->time_ns, line.data, line.len, NULL);
	buf_release(&line);
	if (ev->type == EV_CONTENT_BLOCKED && ev->content_kind != NULL)
		print_blocked(ev->path != NULL ? ev->path : "", ev->content_kind,
			ev->content_what != NULL ? ev->content_what : "",
			(unsigned long long)ev->content_offset);
	else if (ev->detail != NULL)
		fprintf(stderr, "yingji-agent: %s %s: %s\n", event_type_name(ev->type),
			ev->path ? ev->path : "", ev->detail);
}

/* The agent is not running: do the work here, under the state lock. */
static int
offline(const char *verb, int statefd, const char *path, const char *from, const char *who,
	const struct inspector *in)
{
	struct journal_opts jo = { 0 };
	struct journal *j = NULL;
	struct store *store = NULL;
	struct guard g = { .rootfd = -1, .parentfd = -1 };
	pid_t holder = 0;
	int lockfd = -1, qfd = -1, r;
	bool opened = false;

	r = state_lock(statefd, &lockfd, &holder);
	if (r < 0)
		goto out;
	qfd = openat(statefd, "quarantine", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	r = store_open(statefd, 256ull << 20, &store);
	if (r < 0)
		goto out;
	r = journal_open(statefd, &jo, &j);
	if (r < 0)
		goto out;
	{
		char *id = guard_id_for(path), *name = xasprintf("guards/%s/baseline", id);
		bool known = faccessat(statefd, name, F_OK, AT_SYMLINK_NOFOLLOW) == 0;

		free(id);
		free(name);
		if (!known) {
			r = -ENOENT;
			goto out;
		}
	}
	g.inspector = in;
	r = guard_open(&g, path, statefd, qfd, store, false, offline_emit, j);
	if (r < 0)
		goto out;
	opened = true;
	if (strcmp(verb, "publish") == 0)
		r = guard_publish(&g, from, who);
	else if (strcmp(verb, "pause") == 0)
		r = guard_pause(&g, who);
	else
		r = guard_resume(&g, who);
out:
	if (opened)
		guard_close(&g);
	journal_close(j);
	store_free(store);
	if (qfd >= 0)
		close(qfd);
	if (lockfd >= 0)
		close(lockfd);
	return r;
}

static int
run_verb(const char *verb, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "from", required_argument, NULL, 'f' },
		{ "keywords", required_argument, NULL, 'k' },
		{ "own-host", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *state = NULL, *from_arg = NULL;
	char *path = NULL, *from = NULL, *msg = NULL;
	struct inspector *in = NULL;
	int opt, statefd = -1, r, status = 2;

	inspector_new(&in);
	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:f:k:o:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			state = optarg;
			break;
		case 'f':
			from_arg = optarg;
			break;
		case 'k':
			r = inspector_add_keywords_file(in, optarg);
			if (r < 0) {
				fprintf(stderr, "yingji-agent: %s %s: %s\n",
					L("无法读取关键词文件", "cannot read keyword file"), optarg,
					strerror(-r));
				goto out;
			}
			break;
		case 'o':
			if (inspector_add_own_host(in, optarg) < 0) {
				fprintf(stderr, "yingji-agent: %s --own-host '%s'\n",
					L("无效的值", "invalid value for"), optarg);
				goto out;
			}
			break;
		case 'h':
			fputs(publish_help, stdout);
			status = 0;
			goto out;
		default:
			fputs(publish_help, stderr);
			goto out;
		}
	}
	if (state == NULL || optind + 1 != argc || (from_arg != NULL && strcmp(verb, "publish"))) {
		fputs(publish_help, stderr);
		goto out;
	}
	path = path_absolute(argv[optind]);
	from = from_arg != NULL ? path_absolute(from_arg) : NULL;
	r = state_open(state, false, &statefd);
	if (r < 0 || path == NULL) {
		fprintf(stderr, "yingji-agent: %s %s: %s\n", L("无法打开状态目录", "cannot open state directory"),
			state, strerror(r < 0 ? -r : EINVAL));
		goto out;
	}
	if (from != NULL && (strcmp(from, path) == 0 ||
		    (strncmp(from, path, strlen(path)) == 0 && from[strlen(path)] == '/'))) {
		fprintf(stderr, "yingji-agent: %s\n", L("发布源不能在防护目录之内",
							"the staging directory cannot be inside the guard"));
		goto out;
	}
	if (state_agent_running(statefd, NULL)) {
		const char *fields[4] = { verb, path, from != NULL ? from : "", login_name() };

		r = control_call(statefd, fields, 4, 600000, &msg);
		if (r == -EREMOTEIO) {
			if (!print_blocked_reply(msg))
				fprintf(stderr, "yingji-agent: %s\n", msg);
			goto out;
		}
		if (r < 0) {
			fprintf(stderr, "yingji-agent: %s: %s\n",
				L("无法联系运行中的代理", "cannot reach the running agent"), strerror(-r));
			goto out;
		}
		printf("%s\n", msg);
		status = 0;
		goto out;
	}
	{
		char who[300];

		snprintf(who, sizeof(who), "%s (uid %d, pid %d, agent not running)", login_name(),
			(int)getuid(), (int)getpid());
		r = offline(verb, statefd, path, from, who, in);
	}
	if (r == -ENOENT)
		fprintf(stderr, "yingji-agent: %s: %s\n", L("不是防护目录", "not a guarded directory"), path);
	else if (r == -EALREADY)
		fprintf(stderr, "yingji-agent: %s\n",
			strcmp(verb, "pause") == 0 ? L("已经暂停", "already paused")
			: L("未暂停: 发布需要 --from STAGING, 或先执行 pause",
			    "not paused: publish needs --from STAGING, or pause first"));
	else if (r == -EBUSY)
		fprintf(stderr, "yingji-agent: %s\n", L("状态目录被占用", "the state directory is in use"));
	else if (r == GUARD_CONTENT_BLOCKED)
		;	/* the finding was printed with its event */
	else if (r < 0)
		fprintf(stderr, "yingji-agent: %s %s: %s\n", verb, path, strerror(-r));
	else {
		printf("%s: %s\n", verb, path);
		status = 0;
	}
out:
	inspector_free(in);
	free(msg);
	free(path);
	free(from);
	if (statefd >= 0)
		close(statefd);
	return status;
}

int
cmd_publish(int argc, char **argv)
{
	return run_verb("publish", argc, argv);
}

int
cmd_pause(int argc, char **argv)
{
	return run_verb("pause", argc, argv);
}

int
cmd_resume(int argc, char **argv)
{
	return run_verb("resume", argc, argv);
}
