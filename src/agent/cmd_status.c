/*
 * cmd_status.c - `yingji-agent status --state DIR [--json]`: the running
 * agent's guards, from the status file it keeps up to date.
 * Exit 0 when the agent is running, 3 when it is not, 2 on error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/commands.h"
#include "agent/state.h"
#include "core/buf.h"
#include "core/i18n.h"
#include "core/json_get.h"
#include "core/banned.h"

static const char status_help[] =
	"Usage: yingji-agent status --state DIR [--json]\n"
	"\n"
	"Show whether the agent using DIR is running, its watcher, and for each guard:\n"
	"path, files, state (starting, ready, paused, error), lock mode and tampers\n"
	"repaired since start.\n"
	"\n"
	"  --json   print the status as one JSON object:\n"
	"           {\"running\":true,\"pid\":N,\"watcher\":\"fanotify\",\n"
	"            \"guards\":[{\"path\":\"...\",\"files\":N,\"state\":\"ready\",...}]}\n"
	"\n"
	"Exit status: 0 running, 3 not running, 2 error.\n";

/* Call fn for each object in a JSON array's raw text. */
static void
each_object(const char *a, size_t len, void (*fn)(const char *o, size_t n))
{
	size_t start = 0;
	int depth = 0;
	bool in_str = false;

	for (size_t i = 0; i < len; i++) {
		char c = a[i];

		if (in_str) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_str = false;
			continue;
		}
		if (c == '"')
			in_str = true;
		else if (c == '{' && depth++ == 0)
			start = i;
		else if (c == '}' && --depth == 0)
			fn(a + start, i - start + 1);
	}
}

static void
print_guard(const char *o, size_t n)
{
	struct buf path, state;
	int64_t files = 0, tampers = 0;

	buf_init(&path, 8192);
	buf_init(&state, 64);
	json_get_str(o, n, "path", &path);
	json_get_str(o, n, "state", &state);
	json_get_i64(o, n, "files", &files);
	json_get_i64(o, n, "tampers", &tampers);
	printf("  %-40s %s %-8s %s %lld  %s %lld\n", path.data, L("状态", "state"), state.data,
		L("文件", "files"), (long long)files, L("已修复篡改", "tampers repaired"),
		(long long)tampers);
	buf_release(&path);
	buf_release(&state);
}

int
cmd_status(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	const char *state = NULL, *raw;
	char *data = NULL;
	size_t len = 0, rawlen;
	struct buf watcher;
	bool json = false, running;
	pid_t pid = 0;
	int opt, fd = -1, r, status = 2;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:jh", longopts, NULL)) != -1) {
		switch (opt) {
		case 's':
			state = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			fputs(status_help, stdout);
			return 0;
		default:
			fputs(status_help, stderr);
			return 2;
		}
	}
	if (state == NULL || optind != argc) {
		fputs(status_help, stderr);
		return 2;
	}
	r = state_open(state, false, &fd);
	if (r < 0) {
		fprintf(stderr, "yingji-agent: %s %s: %s\n", L("无法打开状态目录", "cannot open state directory"),
			state, strerror(-r));
		return 2;
	}
	running = state_agent_running(fd, &pid);
	if (running)
		r = state_read_file(fd, STATE_STATUS_FILE, 1 << 20, &data, &len);
	if (!running || r < 0) {
		if (json)
			printf("{\"running\":%s,\"guards\":[]}\n", running ? "true" : "false");
		else
			printf("%s\n", running ? L("代理正在启动", "the agent is starting")
					       : L("代理未运行", "the agent is not running"));
		status = running ? 0 : 3;
		goto out;
	}
	if (json) {
		/* The daemon's file, with "running" in front. */
		printf("{\"running\":true,%s", data + 1);
		status = 0;
		goto out;
	}
	buf_init(&watcher, 64);
	json_get_str(data, len, "watcher", &watcher);
	printf(L("代理运行中 (pid %d), 实时监视: %s\n", "agent running (pid %d), watcher: %s\n"),
		(int)pid, watcher.data);
	buf_release(&watcher);
	if (json_get_raw(data, len, "guards", &raw, &rawlen) == 0)
		each_object(raw, rawlen, print_guard);
	status = 0;
out:
	free(data);
	close(fd);
	return status;
}
