/*
 * fuzz_incident_request.c - libFuzzer target: a person's request on an
 * incident (POST /api/v1/incidents/ID bodies, incidents_request) on
 * arbitrary bytes, against a real in-memory database holding one incident
 * made from a tamper event, must never crash, leak or read past the input;
 * every answer is a JSON object with a status, and the audit chain still
 * verifies afterwards.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json_check.h"
#include "plan/plan.h"
#include "server/incidents.h"
#include "server/store/audit.h"
#include "server/store/db.h"
#include "core/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char plan_text[] =
	"version: 1\n"
	"organisation: { name: 测试单位 }\n"
	"operator_type: other\n"
	"duty: oncall\n"
	"roles:\n"
	"  - { id: leader, name: 组长, group: leadership, may: [activate, close, grade, approve] }\n"
	"  - { id: office, name: 办公室, escalates_to: leader, may: [report, assess, task, recover,"
	" investigate, report_authority, command, inform, grade] }\n"
	"members:\n"
	"  - { id: director, name: 局长, roles: [leader] }\n"
	"  - { id: oncall, name: 值班员, roles: [office] }\n"
	"escalation: { start: office, channels: [] }\n";

static const char tamper[] =
	"{\"type\":\"tamper\",\"path\":\"/var/www/index.html\",\"action\":\"restored\","
	"\"latency_ns\":500000}";

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct plan *plan = NULL;
	struct db *s = NULL;
	struct incidents *im = NULL;
	struct audit_verdict v;
	struct buf resp;
	int64_t now = 1795000000000000000ll;
	int status = 0;

	if (plan_parse(plan_text, sizeof(plan_text) - 1, "fuzz.yaml", &plan, NULL) < 0)
		__builtin_trap();
	if (db_open(":memory:", false, &s) < 0 || incidents_new(plan, s, NULL, &im) < 0)
		__builtin_trap();
	if (db_begin(s) < 0 || incidents_on_event(im, s, 1, "tamper", tamper, sizeof(tamper) - 1,
		1, now - 1000, now) < 0 || db_commit(s) < 0)
		__builtin_trap();
	incidents_committed(im);
	buf_init(&resp, 16u << 20);
	incidents_request(im, s, (const char *)data, size, now, &resp, &status);
	if (status < 200 || status > 599 || json_check_object(resp.data, resp.len, 16, NULL) < 0)
		__builtin_trap();
	if (audit_verify(s, NULL, &v) < 0 || v.problem != AUDIT_OK)
		__builtin_trap();
	buf_release(&resp);
	incidents_free(im);
	db_close(s);
	plan_free(plan);
	return 0;
}
