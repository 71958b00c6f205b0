#!/usr/bin/env bash
# The emergency plan at work (issue 5): `yingji serve --plan FILE`. A real
# agent's tamper becomes an incident with the right GB/T 20986 category,
# grade and both clocks; the initial report, not filed in time, marks the
# incident late (缓报) for good and notifies the escalation chain through a
# local webhook receiver; a second channel that hangs blocks nothing; steps
# out of order or by the wrong role are refused; reports missing fields are
# refused; the reports export as PDF and DOCX that open; a report edited in
# the database behind the server raises a flag; an agent down longer than
# the plan's limit raises one too; `yingji audit verify` holds, and names the
# record an edit broke.
. "$(dirname "$0")/lib.sh"
# What people read is Chinese by default; this test reads it.
export YINGJI_LANG=zh

# ---- a webhook receiver, and a channel that accepts and never answers ----
HOOK_LOG=$T/hook.jsonl
python3 - "$T/hook.port" "$HOOK_LOG" <<'PY' &
import http.server, json, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        n = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(n)
        with open(sys.argv[2], "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"ok":true}')
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
YJ_PIDS+=($!)
python3 - "$T/hang.port" <<'PY' &
import socket, sys, os, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(64)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
conns = []
while True:
    c, _ = s.accept(); conns.append(c)     # accepted, never answered
PY
YJ_PIDS+=($!)
wait_until '[ -s "$T/hook.port" ] && [ -s "$T/hang.port" ]' 10 "the local receivers"
HOOK_PORT=$(cat "$T/hook.port")
HANG_PORT=$(cat "$T/hang.port")

# ---- a plan with deadlines in seconds ----
PLAN=$T/plan.yaml
cat >"$PLAN" <<PLAN_END
version: 1
organisation:
  name: 测试县司法局
  unit: 测试县司法局办公室
  system: 门户网站
  authority: 县委网信办
operator_type: party_government
duty: oncall
roles:
  - id: leader
    name: 领导小组组长
    group: leadership
    may: [activate, close, grade, approve]
  - id: office
    name: 领导小组办公室主任
    group: office
    escalates_to: leader
    may: [report, assess, grade, task, investigate, report_authority, recover, command, inform, close]
  - id: duty
    name: 值班员
    group: working
    escalates_to: office
    may: [report, task]
members:
  - id: director
    name: 局长
    roles: [leader]
    contact: { email: director@example.gov.cn, phone: "13800000001" }
  - id: office_head
    name: 办公室主任
    roles: [office]
    contact: { email: office@example.gov.cn, phone: "13800000002" }
  - id: oncall
    name: 值班员
    roles: [duty]
    contact: { phone: "13800000003" }
clocks:
  initial_report: 3s
  risk_assessment: 30s
  summary: 30d
escalation: { start: duty, step: 2s, channels: [hook, hang] }
grouping: { window: 30m }
channels:
  - { id: hook, type: webhook, url: "http://127.0.0.1:$HOOK_PORT/hook", timeout: 5s, retries: 2 }
  - { id: hang, type: webhook, url: "http://127.0.0.1:$HANG_PORT/hook", timeout: 30s, retries: 0 }
grading:
  portal_down: { 一般: 1s, 较大: 1h }
accountability: { portal_down_limit: 3s }
playbooks:
  - category: 网络攻击事件
    subcategory: 网页篡改事件
    tasks:
      - { title: 核实篡改范围并确认页面已恢复, role: office, due: 15m }
PLAN_END
"$YJS" plan check "$PLAN" >"$T/check.txt" 2>&1 || fail "the test plan does not check: $(cat "$T/check.txt")"

incident_json() {	# incident_json ID -> the document
	yjc incident show "$1" --json
}
jq_py() {	# jq_py JSON EXPR
	python3 -c 'import json,sys; d=json.loads(sys.argv[1]); print(eval(sys.argv[2]))' "$1" "$2"
}

start_server "$T/centre" --plan "$PLAN" --lost-after 2s --heartbeat 1s
grep -q "plan loaded\|已加载预案" "$SERVER_LOG" || fail "the plan was not logged"

# ---- a tamper becomes an incident ----
new_site one
enroll "$S" web-1
start_agent "$S" "$G"
echo defaced >"$G/index.html"
wait_until '[ "$(yjc incident list --json | wc -l)" -ge 1 ]' 15 "an incident from the tamper"
line=$(yjc incident list --json | head -n 1)
python3 - "$line" <<'PY' || fail "bad incident: $line"
import json, sys, datetime
i = json.loads(sys.argv[1])
for k in ("id", "category", "grade", "state", "detected_at", "report_due", "assess_due", "late"):
    assert k in i, k
assert i["category"] == "网络攻击事件", i
assert i["subcategory"] == "网页篡改事件", i
assert i["grade"] == "一般" and i["colour"] == "蓝" and i["response"] == "Ⅳ级", i
assert i["state"] == "first_response", i
assert i["late"] is False, i
d = datetime.datetime.fromisoformat(i["detected_at"])
r = datetime.datetime.fromisoformat(i["report_due"])
a = datetime.datetime.fromisoformat(i["assess_due"])
assert 2 <= (r - d).total_seconds() <= 4, (d, r)
assert 29 <= (a - d).total_seconds() <= 31, (d, a)
assert i["authority_due"] is None, i     # 一般: the statutory clock does not run
assert i["detected_at"].endswith("+08:00"), i
PY
ID=$(jq_py "$line" 'd["id"]')
wait_until 'grep -q "新事件" "$HOOK_LOG"' 10 "the new-incident notice at the webhook"
doc=$(incident_json "$ID")
[ "$(jq_py "$doc" 'len(d["tasks"])')" = 1 ] || fail "the playbook's task is missing: $doc"

# ---- the initial report is late: flagged, escalated ----
wait_until "[ \"\$(jq_py \"\$(incident_json $ID)\" 'd[\"late\"]')\" = True ]" 15 "the incident marked late"
doc=$(incident_json "$ID")
python3 - "$doc" <<'PY' || fail "late flags: $doc"
import json, sys
d = json.loads(sys.argv[1])
assert "initial_report" in d["late_items"], d["late_items"]
kinds = [f["kind"] for f in d["flags"]]
assert "late" in kinds and "tamper_not_reported" in kinds, kinds
PY
wait_until 'grep -q "缓报" "$HOOK_LOG"' 10 "the late notice at the webhook"
# escalation goes one role up per step: duty, office (2 s later), then the leader
wait_until 'grep "缓报" "$HOOK_LOG" | grep -q "领导小组组长"' 15 "escalation up to the leader"

# ---- steps: order, roles, fields ----
t0=$(date +%s)
yjc incident report "$ID" --source "代理防篡改告警" --scope "门户网站首页" --nature "网页篡改" \
	--trend "已自动恢复，未再发生" --measures "已恢复页面，保留证据" >"$T/r1.txt" 2>&1 ||
	fail "the initial report (by the member on duty) failed: $(cat "$T/r1.txt")"
t1=$(date +%s)
# the hanging channel (30 s timeout) holds nothing up
[ $((t1 - t0)) -lt 10 ] || fail "filing a report took $((t1 - t0)) s while a channel hangs"
doc=$(incident_json "$ID")
[ "$(jq_py "$doc" 'd["state"]')" = reported ] || fail "not reported: $doc"
[ "$(jq_py "$doc" 'd["reports"][0]["late"]')" = True ] || fail "the late report is not marked late"
[ "$(jq_py "$doc" 'd["late"]')" = True ] || fail "late was cleared by the report"

out=$(yjc incident report "$ID" --source a --scope b --nature c --trend d --measures e 2>&1) &&
	fail "a second initial report was accepted"
echo "$out" | grep -q -- "--amend" || fail "a second initial report: unclear refusal: $out"
out=$(yjc incident activate "$ID" --as director 2>&1) && fail "activation before the assessment was accepted"
echo "$out" | grep -q "风险评估" || fail "activation out of order: unclear refusal: $out"
out=$(yjc incident assess "$ID" --as director --risk r --impact i --recommendation x 2>&1) &&
	fail "the leader (no assess permission) assessed"
echo "$out" | grep -q "无权" || fail "wrong role: unclear refusal: $out"
out=$(yjc incident assess "$ID" --as office_head --risk r 2>&1) && fail "an assessment missing fields was accepted"
echo "$out" | grep -q "impact" || fail "missing fields: unclear refusal: $out"
out=$(yjc incident assess "$ID" --as nobody --risk r --impact i --recommendation x 2>&1) &&
	fail "an unknown member was accepted"
out=$(yjc incident grade "$ID" --as office_head --grade 较大 2>&1) && fail "a grade change without a reason was accepted"

yjc incident assess "$ID" --as office_head --risk "低" --impact "首页 1 秒内恢复" --recommendation "加强口令" \
	>"$T/a.txt" 2>&1 || fail "the assessment failed: $(cat "$T/a.txt")"
yjc incident grade "$ID" --as office_head --grade 较大 --reason "涉及门户首页，从严定级" >"$T/g.txt" 2>&1 ||
	fail "the grade change failed: $(cat "$T/g.txt")"
doc=$(incident_json "$ID")
python3 - "$doc" <<'PY' || fail "after grading: $doc"
import json, sys
d = json.loads(sys.argv[1])
assert d["grade"] == "较大" and d["colour"] == "黄" and d["response"] == "Ⅲ级", d
assert d["grade_manual"] is True
assert d["authority_due"] is not None and d["summary_due"] is not None, d
assert any(t["kind"] == "grade" and "从严定级" in t["text"] for t in d["timeline"]), d["timeline"]
PY
yjc incident activate "$ID" --as director --note "启动本预案" >"$T/x.txt" 2>&1 || fail "activation failed: $(cat "$T/x.txt")"
yjc incident report "$ID" --as office_head --kind authority --impact "首页被篡改约 1 秒" \
	--measures "自动恢复并封禁来源" >"$T/x.txt" 2>&1 || fail "the report to the authority failed: $(cat "$T/x.txt")"
yjc incident recover "$ID" --as office_head >"$T/x.txt" 2>&1 || fail "recover failed: $(cat "$T/x.txt")"
yjc incident task "$ID" add --as office_head --title "复查全部页面" --assignee oncall --due 1h >"$T/x.txt" 2>&1 ||
	fail "adding a task failed: $(cat "$T/x.txt")"
task=$(jq_py "$(incident_json "$ID")" 'd["tasks"][-1]["id"]')
yjc incident task "$ID" done "$task" --as oncall >"$T/x.txt" 2>&1 ||
	fail "the assignee could not finish the task: $(cat "$T/x.txt")"
yjc incident investigate "$ID" --as office_head --cause "弱口令" --losses "无" --recovery-time "1 秒" \
	--cost "0 元" --lessons "启用双因子" >"$T/x.txt" 2>&1 || fail "the investigation report failed: $(cat "$T/x.txt")"
yjc incident close "$ID" --as director --note "处置完毕" >"$T/x.txt" 2>&1 || fail "close failed: $(cat "$T/x.txt")"
doc=$(incident_json "$ID")
python3 - "$doc" <<'PY' || fail "closed incident: $doc"
import json, sys
d = json.loads(sys.argv[1])
assert d["state"] == "closed", d["state"]
kinds = [f["kind"] for f in d["flags"]]
assert "closed_without_investigation" not in kinds, kinds
assert d["late"] is True
assert [r["kind"] for r in d["reports"]] == ["initial", "assessment", "authority", "investigation"], d["reports"]
PY
out=$(yjc incident close "$ID" --as director 2>&1) && fail "a closed incident was closed again"

# ---- reports as PDF and DOCX ----
yjc incident export "$ID" --format pdf --out "$T/incident.pdf" >"$T/x.txt" 2>&1 || fail "PDF export failed: $(cat "$T/x.txt")"
yjc incident export "$ID" --format docx --out "$T/incident.docx" >"$T/x.txt" 2>&1 || fail "DOCX export failed: $(cat "$T/x.txt")"
yjc incident export "$ID" --format pdf --kind initial --out "$T/initial.pdf" >"$T/x.txt" 2>&1 ||
	fail "initial report PDF failed: $(cat "$T/x.txt")"
pdftotext "$T/incident.pdf" - >"$T/incident.txt" || fail "pdftotext cannot read the PDF"
grep -q "代理防篡改告警" "$T/incident.txt" || fail "the PDF lacks the report's text"
grep -q "缓报" "$T/incident.txt" || fail "the PDF lacks the late flag"
pdftotext "$T/initial.pdf" - | grep -q "信息来源" || fail "the initial report PDF lacks 信息来源"
# Debian's python3-docx (the system interpreter, whatever python3 is first in PATH)
/usr/bin/python3 - "$T/incident.docx" <<'PY' || fail "the DOCX does not open"
import docx, sys
d = docx.Document(sys.argv[1])
text = "\n".join(p.text for p in d.paragraphs)
for t in d.tables:
    for row in t.rows:
        for c in row.cells:
            text += "\n" + c.text
assert "代理防篡改告警" in text, text[:2000]
assert "缓报" in text
PY

# ---- a filed report edited behind the server ----
sqlite3 "$SERVER_DATA/yingji.db" "UPDATE reports SET body = replace(body, '弱口令', '不明原因') WHERE kind = 'investigation'" ||
	fail "could not edit the report"
wait_until "jq_py \"\$(incident_json $ID)\" '[f[\"kind\"] for f in d[\"flags\"]]' | grep -q report_edited" 20 \
	"the report_edited flag"

# ---- an agent down longer than the plan's limit ----
stop_agent
facility_id() {
	yjc incident list --json | python3 -c 'import json,sys
for l in sys.stdin:
    d = json.loads(l)
    if d["category"] == "设备设施故障事件": print(d["id"])' | head -n 1
}
wait_until '[ -n "$(facility_id)" ]' 20 "an incident for the lost agent"
FID=$(facility_id)
wait_until "jq_py \"\$(incident_json $FID)\" '[f[\"kind\"] for f in d[\"flags\"]]' | grep -q portal_down_over_limit" 15 \
	"the down-too-long flag"

# ---- notifications were logged ----
python3 - "$(incident_json "$ID")" <<'PY' || fail "delivery log: $(incident_json "$ID")"
import json, sys
d = json.loads(sys.argv[1])
states = {(n["channel"], n["state"]) for n in d["notifications"]}
assert ("hook", "sent") in states, states
PY

# ---- the audit chain ----
stop_server
yjc audit verify >"$T/verify.txt" 2>&1 || fail "audit verify failed on an untouched chain: $(cat "$T/verify.txt")"
n=$(sqlite3 "$SERVER_DATA/yingji.db" "SELECT count(*) FROM audit")
[ "$n" -ge 8 ] || fail "only $n audit records"
sqlite3 "$SERVER_DATA/yingji.db" "SELECT action FROM audit" | grep -q "report.file" || fail "no report in the audit"
sqlite3 "$SERVER_DATA/yingji.db" "SELECT action FROM audit" | grep -q "incident.grade" || fail "no grade change in the audit"
sqlite3 "$SERVER_DATA/yingji.db" "UPDATE audit SET actor = 'someone_else' WHERE id = 3" || fail "could not edit"
out=$(yjc audit verify 2>&1) && fail "audit verify passed an edited chain"
echo "$out" | grep -q "#3\|3" || fail "audit verify does not name record 3: $out"
exit 0
