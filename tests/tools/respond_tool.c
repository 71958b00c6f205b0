/*
 * respond_tool.c - the agent's responder without the agent or the centre,
 * for tests/integration/test_respond_netns.sh (run inside a namespace with
 * `ip netns exec`).
 *
 *   respond_tool STATEDIR [--allow ADDR]... [REQUEST_JSON | --tick | --reapply]
 *
 * Opens the responder on STATEDIR (which sets up table inet yingji and
 * re-applies the ledger, as an agent start does), then:
 *   REQUEST_JSON   runs one request ({"op":"apply",...}) and prints the result
 *   --tick         expires what is due now and prints {"expired":N}
 *   --reapply      nothing more (the open did it); prints {"ok":true}
 * Exit 0 when the result says "ok":true (or for --tick / --reapply), 1 when
 * it does not, 2 on usage or when the responder cannot be opened.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "agent/responder/responder.h"
#include "agent/state.h"
#include "core/buf.h"
#include "core/timeutil.h"
#include "core/banned.h"

#define MAX_ALLOW	16

int
main(int argc, char **argv)
{
	const char *allow[MAX_ALLOW];
	const char *request = NULL;
	struct responder *r = NULL;
	struct buf out;
	size_t nallow = 0;
	int fd = -1, rc = 2, i, ret;
	int tick = 0;

	buf_init(&out, 1 << 20);
	if (argc < 2) {
		fprintf(stderr, "usage: respond_tool STATEDIR [--allow ADDR]... "
			"[REQUEST_JSON | --tick | --reapply]\n");
		goto out;
	}
	for (i = 2; i < argc; i++) {
		if (strcmp(argv[i], "--allow") == 0 && i + 1 < argc && nallow < MAX_ALLOW)
			allow[nallow++] = argv[++i];
		else if (strcmp(argv[i], "--tick") == 0)
			tick = 1;
		else if (strcmp(argv[i], "--reapply") == 0)
			;
		else if (request == NULL && argv[i][0] == '{')
			request = argv[i];
		else {
			fprintf(stderr, "respond_tool: unexpected argument %s\n", argv[i]);
			goto out;
		}
	}
	ret = state_open(argv[1], true, &fd);
	if (ret < 0) {
		fprintf(stderr, "respond_tool: %s: %s\n", argv[1], strerror(-ret));
		goto out;
	}
	ret = responder_open(fd, allow, nallow, nallow > 0 ? 1 : 0, &r);
	if (ret < 0) {
		fprintf(stderr, "respond_tool: responder_open: %s\n", strerror(-ret));
		goto out;
	}
	if (request != NULL) {
		responder_handle(r, request, strlen(request), &out);
		printf("%s\n", out.data);
		rc = strstr(out.data, "\"ok\":true") != NULL ? 0 : 1;
	} else if (tick) {
		printf("{\"expired\":%d}\n", responder_tick(r, now_realtime_ns()));
		rc = 0;
	} else {
		printf("{\"ok\":true}\n");
		rc = 0;
	}
out:
	responder_close(r);
	if (fd >= 0)
		close(fd);
	buf_release(&out);
	return rc;
}
