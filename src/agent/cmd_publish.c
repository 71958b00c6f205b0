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
#include "agent/journal/journal.h"
#include "agent/state.h"
#include "core/buf.h"
#include "core/i18n.h"
#include "core/path.h"
#include "core/xalloc.h"
#include "core/banned.h"

static const char publish_help[] =
	"Usage: yingji-agent publish --state DIR --from STAGING PATH\n"
	"       yingji-agent publish --state DIR PATH\n"
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

static void
offline_emit(struct event *ev, void *data)
{
	struct journal *j = data;
	struct buf line;

	buf_init(&line, JOURNAL_MAX_RECORD);
	if (event_to_json(ev, &line) == 0)
		journal_append(j, ev->time_ns, line.data, line.len, NULL);
	buf_release(&line);
	if (ev->detail != NULL)
		fprintf(stderr, "yingji-agent: %s %s: %s\n", event_type_name(ev->type),
			ev->path ? ev->path : "", ev->detail);
}

/* The agent is not running: do the work here, under the state lock. */
static int
offline(const char *verb, int statefd, const char *path, const char *from, const char *who)
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
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *state = NULL, *from_arg = NULL;
	char *path = NULL, *from = NULL, *msg = NULL;
	int opt, statefd = -1, r, status = 2;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:f:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			state = optarg;
			break;
		case 'f':
			from_arg = optarg;
			break;
		case 'h':
			fputs(publish_help, stdout);
			return 0;
		default:
			fputs(publish_help, stderr);
			return 2;
		}
	}
	if (state == NULL || optind + 1 != argc || (from_arg != NULL && strcmp(verb, "publish"))) {
		fputs(publish_help, stderr);
		return 2;
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
		r = offline(verb, statefd, path, from, who);
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
	else if (r < 0)
		fprintf(stderr, "yingji-agent: %s %s: %s\n", verb, path, strerror(-r));
	else {
		printf("%s: %s\n", verb, path);
		status = 0;
	}
out:
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
