/*
 * main.c - yingji-agent: the guard that runs on every server.
 * A git-style command table; each command lives in its own cmd_*.c file.
 */
#include <stdio.h>
#include <string.h>

#include "agent/commands.h"
#include "core/banned.h"

static const struct {
	const char	*name;
	int		(*run)(int argc, char **argv);
	const char	*summary;
} commands[] = {
	{ "run",	cmd_run,	"guard directories: restore every unauthorised change" },
	{ "scan",	cmd_scan,	"one-shot scan of a tree, optionally against a baseline file" },
	{ "status",	cmd_status,	"show the running agent's guards" },
	{ "publish",	cmd_publish,	"make an authorised change to a guarded tree" },
	{ "pause",	cmd_pause,	"stop restoring a guard so a change can be made by hand" },
	{ "resume",	cmd_resume,	"end a pause, putting the baseline back" },
	{ "events",	cmd_events,	"print the local event journal" },
	{ "enroll",	cmd_enroll,	"join a centre (yingji serve) with a one-time token" },
	{ "evidence",	cmd_evidence,	"write a stored content version (by SHA-256) to stdout" },
};

static void
usage(FILE *out)
{
	fprintf(out,
		"yingji-agent - Yingji (应急) host agent: web-page anti-tamper and file integrity\n"
		"\n"
		"Usage: yingji-agent COMMAND [OPTIONS]\n"
		"       yingji-agent COMMAND --help\n"
		"\n"
		"Commands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\n"
		"Exit status: 0 success; 1 a change was found (scan); 2 error.\n"
		"See docs/yingji-agent.md for the full manual.\n");
}

int
main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
		strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0) {
		printf("yingji-agent %s\n", YINGJI_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "yingji-agent: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return 2;
}
