/*
 * cmd_evidence.c - `yingji-agent evidence --state DIR SHA256 > FILE`: write a
 * content version from the store (a baseline version, or tampered content kept
 * as evidence: the "old_sha256" and "new_sha256" of an event) to stdout.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/commands.h"
#include "agent/guard/store.h"
#include "agent/state.h"
#include "core/i18n.h"
#include "tls/sha256.h"
#include "core/banned.h"

static const char evidence_help[] =
	"Usage: yingji-agent evidence --state DIR SHA256\n"
	"\n"
	"Write the stored content with this SHA-256 to standard output, verified\n"
	"against the hash as it is written. Events name them as old_sha256 (the\n"
	"baseline version) and new_sha256 (the tampered content, kept as evidence).\n"
	"Exit status: 0 written, 2 not found, corrupt or error.\n";

int
cmd_evidence(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "state", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint8_t hash[SHA256_LEN];
	struct store *store = NULL;
	const char *state = NULL;
	int opt, fd = -1, r, status = 2;

	optind = 1;
	while ((opt = getopt_long(argc, argv, "s:h", longopts, NULL)) != -1) {
		if (opt == 's') {
			state = optarg;
		} else if (opt == 'h') {
			fputs(evidence_help, stdout);
			return 0;
		} else {
			fputs(evidence_help, stderr);
			return 2;
		}
	}
	if (state == NULL || optind + 1 != argc || sha256_from_hex(argv[optind], hash) < 0) {
		fputs(evidence_help, stderr);
		return 2;
	}
	r = state_open(state, false, &fd);
	if (r == 0)
		r = store_open(fd, 0, &store);
	if (r == 0)
		r = store_get_fd(store, hash, STDOUT_FILENO);
	if (r == 0)
		status = 0;
	else
		fprintf(stderr, "yingji-agent: %s: %s\n", argv[optind],
			r == -ENOENT ? L("内容库中没有", "not in the store")
			: r == -EBADMSG ? L("内容已损坏", "stored content is corrupt") : strerror(-r));
	store_free(store);
	if (fd >= 0)
		close(fd);
	return status;
}
