/*
 * fuzz_response_request.c - libFuzzer target: first-response requests as the
 * centre receives them (responses_request: create, undo, approve, an
 * agent's result) on arbitrary bytes, against a real in-memory database
 * with one applied block, and the agent's target check
 * (responder_check_cidr) on the same bytes. Nothing runs nftables. Every
 * answer is a JSON object with a status, the audit chain still verifies,
 * and an accepted block target is one the centre's own check accepts too.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "agent/responder/responder.h"
#include "core/buf.h"
#include "core/json_check.h"
#include "server/responses.h"
#include "server/store/audit.h"
#include "server/store/db.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char seed[] = "{\"op\":\"create\",\"action\":\"block\",\"agent\":1,"
	"\"addr\":\"203.0.113.7\",\"agent_online\":true}";
static const char result[] = "{\"op\":\"result\",\"id\":1,\"agent\":1,\"answer\":{\"ok\":true,\"state\":"
	"\"applied\"}}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct db *s = NULL;
	struct audit_verdict v;
	struct buf resp;
	char text[256], out[64];
	const char *why = NULL, *allow[] = { "10.0.0.1" };
	int64_t now = 1795000000000000000ll;
	int status = 0;
	bool dispatch = false;

	if (db_open(":memory:", false, &s) < 0)
		__builtin_trap();
	buf_init(&resp, 1u << 20);
	responses_request(s, NULL, seed, sizeof(seed) - 1, now, &resp, &status, &dispatch);
	if (status != 200)
		__builtin_trap();
	responses_request(s, NULL, result, sizeof(result) - 1, now, &resp, &status, &dispatch);
	responses_request(s, NULL, (const char *)data, size, now, &resp, &status, &dispatch);
	if (status < 200 || status > 599 || json_check_object(resp.data, resp.len, 16, NULL) < 0)
		__builtin_trap();
	responses_tick(s, now + 7200ll * 1000000000);
	if (audit_verify(s, NULL, &v) < 0 || v.problem != AUDIT_OK)
		__builtin_trap();
	if (size < sizeof(text)) {
		memcpy(text, data, size);
		text[size] = '\0';
		if (responder_check_cidr(text, allow, 1, out, sizeof(out), &why) == 0 &&
			response_check_cidr(out, NULL, &why) < 0)
			__builtin_trap();
	}
	buf_release(&resp);
	db_close(s);
	return 0;
}
