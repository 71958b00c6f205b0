/*
 * fuzz_respond.c - libFuzzer target: what the agent's responder reads that a
 * centre or a damaged disk can shape, without carrying anything out.
 *
 *   - the bytes as a block target: responder_check_cidr() either refuses them
 *     with a reason or gives a canonical address that it accepts again
 *     unchanged, that has no byte nft could read as syntax, and that never
 *     covers an allowed address;
 *   - the bytes as a request's "addr" (escaped into a JSON string, in a
 *     dry-run block built here: the answer is one JSON object with "ok" and
 *     "state", never "applied"), and as a request of their own, let through
 *     only when it names no action but block or isolate (so at worst it
 *     changes the firewall of the fuzzer's own network namespace): the
 *     answer is one JSON object with "ok" and "state".
 *
 * responder_handle() needs an open responder, and opening one sets up table
 * inet yingji; so LLVMFuzzerInitialize moves the process into a network
 * namespace of its own first (root only) and the responder is opened there
 * once. Without root only the first part runs. The ledger's own parser is
 * static in responder.c and is reached only by responder_open (which runs
 * nft); it is exercised by tests/unit/test_respond.c instead.
 */
#include <sched.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent/responder/responder.h"
#include "agent/state.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/json_check.h"
#include "core/log.h"
#include "core/banned.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const allow[] = { "10.231.1.1", "2001:db8::1" };
static struct responder *resp;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/yj-fuzz-respond-XXXXXX";
	int fd;

	(void)argc;
	(void)argv;
	if (geteuid() != 0 || unshare(CLONE_NEWNET) < 0 || mkdtemp(dir) == NULL)
		return 0;
	if (state_open(dir, false, &fd) < 0)
		return 0;
	if (responder_open(fd, allow, 2, 1, &resp) < 0)
		resp = NULL;
	return 0;
}

static void
check_cidr(const char *s)
{
	char out[64], again[64];
	const char *why = NULL;

	if (responder_check_cidr(s, allow, 2, out, sizeof(out), &why) < 0) {
		if (why == NULL)
			abort();
		return;
	}
	if (why != NULL || strspn(out, "0123456789abcdef.:/") != strlen(out))
		abort();
	if (responder_check_cidr(out, allow, 2, again, sizeof(again), &why) < 0 ||
		strcmp(out, again) != 0)
		abort();
	for (size_t i = 0; i < 2; i++)	/* an allowed address is never inside */
		if (strcmp(out, allow[i]) == 0)
			abort();
}

static void
check_answer(const struct buf *out, bool dry)
{
	if (json_check_object(out->data, out->len, 8, NULL) < 0 ||
		strstr(out->data, "\"ok\":") == NULL || strstr(out->data, "\"state\":") == NULL)
		abort();
	if (dry && strstr(out->data, "\"state\":\"applied\"") != NULL)
		abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf s, req, out;
	struct json j;

	buf_init(&s, 1 << 16);
	buf_init(&req, 1 << 18);
	buf_init(&out, 1 << 18);
	if (buf_append(&s, data, size) < 0 || memchr(data, '\0', size) != NULL)
		goto out;
	check_cidr(s.data);
	if (resp == NULL)
		goto out;

	/* as the address of a dry-run block */
	json_begin(&j, &req);
	json_key_bool(&j, "dry_run", true);
	json_key_str(&j, "op", "apply");
	json_key_i64(&j, "id", 1);
	json_key_str(&j, "action", "block");
	json_key_str(&j, "addr", s.data);
	if (json_end(&j) == 0) {
		responder_handle(resp, req.data, req.len, &out);
		check_answer(&out, true);
	}

	/* as a request of its own: only if it is a dry-run block or isolate,
	 * decided the way the responder itself reads it */
	if (size > 0 && data[0] == '{' && strstr(s.data, "\"dry_run\":true") != NULL &&
		strstr(s.data, "\"dry_run\":false") == NULL && strstr(s.data, "undo") == NULL &&
		(strstr(s.data, "\"action\":\"block\"") != NULL ||
		strstr(s.data, "\"action\":\"isolate\"") != NULL) &&
		strstr(s.data, "kill") == NULL && strstr(s.data, "lock") == NULL &&
		strstr(s.data, "offline") == NULL && strstr(s.data, "quarantine") == NULL &&
		strchr(s.data, '\\') == NULL) {
		buf_reset(&out);
		responder_handle(resp, s.data, s.len, &out);
		check_answer(&out, false);	/* inside our own namespace, harmless */
	}
out:
	buf_release(&s);
	buf_release(&req);
	buf_release(&out);
	return 0;
}
