#!/usr/bin/env bash
# Detection at the centre: `yingji serve --rules DIR` runs the Sigma rules over
# every event it stores and serves the alerts (GET /api/v1/alerts, `yingji
# alerts`). A real agent's tamper sets off a rule on the guard's event; "log"
# events (sent by a test peer) set off the project's web rule and the SSH
# brute-force correlation; alerts survive a restart; refused rules are logged
# and the good ones still work; a version 1 database gains the alerts table.
. "$(dirname "$0")/lib.sh"

: "${YINGJI_TOOLS:?set YINGJI_TOOLS to the directory holding badpeer}"
BADPEER=$YINGJI_TOOLS/badpeer
[ -x "$BADPEER" ] || fail "$BADPEER is not an executable (build first)"

# ---- rules: two of ours, one refused, and the project's rules/ ----
R=$T/rules
mkdir -p "$R"
cat >"$R/guard.yml" <<'EOF'
title: 'Web page tampered and restored'
id: 5c0a6d6e-0000-4000-8000-000000000001
logsource:
    product: yingji
    service: agent
detection:
    selection:
        type: tamper
        action: restored
    condition: selection
level: high
EOF
cat >"$R/canary.yml" <<'EOF'
title: 'Canary page requested'
id: 5c0a6d6e-0000-4000-8000-000000000002
logsource:
    category: webserver
detection:
    selection:
        cs-uri-stem|endswith: '/yingji-canary.php'
    condition: selection
level: medium
EOF
cat >"$R/broken.yml" <<'EOF'
title: 'A rule with an unknown modifier'
id: 5c0a6d6e-0000-4000-8000-000000000003
logsource:
    category: webserver
detection:
    selection:
        cs-uri|nosuchmodifier: 'x'
    condition: selection
level: low
EOF
printf 'title: [unclosed\n' >"$R/not_yaml.yml"

start_server "$T/centre" --rules "$R" --rules "$YINGJI_SRC/rules"
grep -q "rule refused.*broken.yml" "$SERVER_LOG" || fail "the refused rule was not logged"
grep -q "rule refused.*not_yaml.yml" "$SERVER_LOG" || fail "the unparsable file was not logged"
[ "$(grep -c "rule refused.*broken.yml" "$SERVER_LOG")" = 1 ] || fail "a refusal was logged more than once"
grep -q "detection rules" "$SERVER_LOG" || fail "how many rules loaded was not logged"

yjc status --json >"$T/status.json" || fail "status failed"
python3 - "$T/status.json" <<'PY' || fail "status lacks detection: $(cat "$T/status.json")"
import json, sys
s = json.load(open(sys.argv[1]))
d = s["detection"]
assert d["rules"] >= 3 and d["correlations"] >= 1 and d["alerts"] == 0, d
PY

# ---- a real agent's tamper ----
new_site one
enroll "$S" web-1
start_agent "$S" "$G"
echo defaced >"$G/index.html"
wait_until "[ \$(centre_count 'e[\"type\"]==\"tamper\" and e.get(\"action\")==\"restored\"') -ge 1 ]" 10 \
	"tamper event at the centre"
wait_until '[ "$(yjc alerts --json --rule 5c0a6d6e-0000-4000-8000-000000000001 | wc -l)" -ge 1 ]' 10 \
	"an alert on the tamper"
alert=$(yjc alerts --json --rule 5c0a6d6e-0000-4000-8000-000000000001 | head -n 1)
tamper_ids=$(centre_events 'e["type"]=="tamper" and e.get("action")=="restored"' |
	python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["id"]) for l in sys.stdin))')
python3 - "$alert" "$AGENT_ID" "$tamper_ids" <<'PY' || fail "bad tamper alert: $alert (tampers: $tamper_ids)"
import json, sys
a = json.loads(sys.argv[1])
assert a["level"] == "high", a
assert a["title"] == "Web page tampered and restored", a
assert a["agent"] == int(sys.argv[2]), a
assert a["event_id"] in [int(x) for x in sys.argv[3].split()], a
assert a["correlation"] is False and a["count"] == 1, a
assert a["matched"].get("type") == "tamper" or a["matched"].get("action") == "restored", a
assert '"tamper"' in a["line"], a
assert a["time"].endswith("+08:00"), a
PY
yjc alerts >"$T/human.txt" || fail "alerts (human form) failed"
grep -q "\[high\] Web page tampered and restored" "$T/human.txt" ||
	fail "alerts (human form): $(cat "$T/human.txt")"
YINGJI_LANG=zh yjc alerts >"$T/human_zh.txt" || fail "alerts (Chinese) failed"
grep -q "\[高\] Web page tampered and restored  代理 $AGENT_ID" "$T/human_zh.txt" ||
	fail "alerts (Chinese form): $(cat "$T/human_zh.txt")"

# ---- "log" events from a peer ----
tok=$(yjc token create | tail -n 1) || fail "token create failed"
out=$("$BADPEER" enroll --server "$AGENTS_ADDR" --token "$tok" --out "$T/peer" --name logs 2>&1) ||
	fail "enrolling the peer failed: $out"
PEER=$(cat "$T/peer/agent.id")
SEQ=0
# log_events LINE... : one "log" event per line, in one connection, acknowledged.
log_events() {
	local steps=() l body
	for l in "$@"; do
		SEQ=$((SEQ + 1))
		body=$(python3 -c 'import json,sys; print(json.dumps({"type":"log","path":"/var/log/x.log","line":sys.argv[1]}))' "$l")
		steps+=("event 1 $SEQ $body")
	done
	out=$("$BADPEER" send --server "$AGENTS_ADDR" --ca "$SERVER_DATA/pki/ca.crt" --cert "$T/peer/agent.crt" \
		--key "$T/peer/agent.key" --linger 300 "hello $PEER" welcome "${steps[@]}" "waitack 1 $SEQ" 2>&1) ||
		fail "the log events were not acknowledged: $out"
}
# follow new alerts while they come
yjc alerts --follow --json >"$T/follow.txt" 2>&1 &
FOLLOW=$!
YJ_PIDS+=("$FOLLOW")
sleep 0.5

log_events '203.0.113.7 - - [22/Nov/2026:10:00:00 +0800] "GET /item.php?id=1+union+select+1,2,3 HTTP/1.1" 200 512 "-" "Mozilla/5.0"' \
	'203.0.113.8 - - [22/Nov/2026:10:00:01 +0800] "GET /yingji-canary.php HTTP/1.1" 404 10 "-" "Mozilla/5.0"' \
	'203.0.113.9 - - [22/Nov/2026:10:00:02 +0800] "GET /index.html HTTP/1.1" 200 10 "-" "Mozilla/5.0"'
wait_until '[ "$(yjc alerts --json --agent '"$PEER"' | wc -l)" -ge 2 ]' 10 "alerts on the log lines"
yjc alerts --json --agent "$PEER" >"$T/peer_alerts.txt"
peer_events=$(yjc events --json --agent "$PEER" --type log)
python3 - "$T/peer_alerts.txt" "$PEER" "$peer_events" <<'PY' || fail "bad alerts on the log lines: $(cat "$T/peer_alerts.txt")"
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
events = {json.loads(l)["id"]: json.loads(l) for l in sys.argv[3].splitlines()}
by_title = {}
for a in alerts:
    by_title.setdefault(a["title"], []).append(a)
sqli = by_title["SQL injection attempt in a request"]
assert len(sqli) == 1, alerts
a = sqli[0]
assert a["agent"] == int(sys.argv[2]) and a["level"] in ("high", "critical"), a
assert "union+select" in events[a["event_id"]]["line"], (a, events)
assert "union+select" in a["line"] and "union+select" in a["matched"].get("cs-uri-query", ""), a
canary = by_title["Canary page requested"]
assert len(canary) == 1 and canary[0]["level"] == "medium", alerts
assert "/yingji-canary.php" in events[canary[0]["event_id"]]["line"], canary
# the harmless line alerted on nothing
harmless = [i for i, e in events.items() if "/index.html" in e["line"]]
assert harmless and not [a for a in alerts if a["event_id"] in harmless], alerts
PY
wait_until "grep -q 'SQL injection attempt' '$T/follow.txt'" 10 "alerts --follow to show the new alert"
kill "$FOLLOW"
wait "$FOLLOW" 2>/dev/null
yj_forget_pid "$FOLLOW"

# ---- 12 failed sshd logins from one address: the correlation alerts once ----
lines=()
for i in $(seq -w 1 12); do
	lines+=("Nov 22 10:01:$i web-2 sshd[4242]: Failed password for root from 198.51.100.23 port 5$i ssh2")
done
log_events "${lines[@]}"
wait_until '[ "$(yjc alerts --json --agent '"$PEER"' | grep -c "SSH brute force")" -ge 1 ]' 10 \
	"the brute-force correlation alert"
sleep 1
yjc alerts --json --agent "$PEER" | grep "SSH brute force" >"$T/bf.txt"
python3 - "$T/bf.txt" <<'PY' || fail "bad brute-force alerts: $(cat "$T/bf.txt")"
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
assert len(alerts) == 1, alerts
a = alerts[0]
assert a["correlation"] is True and a["count"] >= 10 and a["level"] == "high", a
assert a["group"] is not None and "198.51.100.23" in a["group"], a
assert a["event_id"] is not None, a
PY
# the base rule does not alert on its own
[ "$(yjc alerts --json | grep -c 'base for correlation')" = 0 ] || fail "the base rule alerted on its own"
yjc alerts --json --level medium | python3 -c '
import json, sys
a = [json.loads(l) for l in sys.stdin]
assert a and all(x["level"] == "medium" for x in a), a' || fail "--level filter"

# /metrics
total=$(yjc alerts --json | wc -l)
python3 - "$HTTP_ADDR" "$(cat "$SERVER_DATA/admin.token")" "$total" <<'PY' || fail "/metrics lacks yingji_alerts_total $total"
import sys, urllib.request
req = urllib.request.Request("http://%s/metrics" % sys.argv[1],
    headers={"Authorization": "Bearer " + sys.argv[2]})
body = urllib.request.urlopen(req).read().decode()
assert ("yingji_alerts_total %s\n" % sys.argv[3]) in body, body
PY
# a bad filter is refused
python3 - "$HTTP_ADDR" "$(cat "$SERVER_DATA/admin.token")" <<'PY' || fail "a bad level was not refused"
import sys, urllib.request, urllib.error
req = urllib.request.Request("http://%s/api/v1/alerts?level=urgent" % sys.argv[1],
    headers={"Authorization": "Bearer " + sys.argv[2]})
try:
    urllib.request.urlopen(req)
    sys.exit(1)
except urllib.error.HTTPError as e:
    assert e.code == 400, e.code
PY

# ---- a brute force that straddles a crash of the centre is still one ----
# 6 failures, the centre SIGKILLed, 6 more: the windows are rebuilt from the
# stored events at the start, so the 12 are counted together (threshold 10).
lines=()
for i in 1 2 3 4 5 6; do
	lines+=("Nov 22 10:03:0$i web-2 sshd[4343]: Failed password for admin from 198.51.100.77 port 6$i ssh2")
done
log_events "${lines[@]}"
crash_server
start_server "$T/centre" --rules "$R" --rules "$YINGJI_SRC/rules"
grep -q "correlation and suppression windows rebuilt: [1-9][0-9]* events" "$SERVER_LOG" ||
	fail "the windows were not rebuilt at the start: $(grep detect "$SERVER_LOG")"
[ "$(yjc alerts --json | grep -c '198.51.100.77')" = 0 ] || fail "replaying the events alerted again"
lines=()
for i in 1 2 3 4 5 6; do
	lines+=("Nov 22 10:03:1$i web-2 sshd[4343]: Failed password for admin from 198.51.100.77 port 7$i ssh2")
done
log_events "${lines[@]}"
wait_until '[ "$(yjc alerts --json | grep -c "198.51.100.77")" -ge 1 ]' 10 \
	"the brute force counted across the crash"
sleep 1
yjc alerts --json | grep "198.51.100.77" >"$T/bf2.txt"
python3 - "$T/bf2.txt" <<'PY' || fail "brute force across a crash: $(cat "$T/bf2.txt")"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
assert len(a) == 1 and a[0]["correlation"] and a[0]["count"] >= 10, a
PY

# ---- a restart keeps the alerts ----
yjc alerts --json >"$T/before.txt"
stop_server
start_server "$T/centre" --rules "$R" --rules "$YINGJI_SRC/rules"
yjc alerts --json >"$T/after.txt" || fail "alerts after the restart failed"
cmp -s "$T/before.txt" "$T/after.txt" || fail "the alerts changed over a restart"
# ... and detection goes on
log_events '203.0.113.8 - - [22/Nov/2026:10:05:00 +0800] "GET /yingji-canary.php HTTP/1.1" 404 10 "-" "Mozilla/5.0"'
wait_until '[ "$(yjc alerts --json --rule 5c0a6d6e-0000-4000-8000-000000000002 | wc -l)" = 2 ]' 10 \
	"an alert after the restart"

# ---- one attack, one alert: suppression per rule and address ----
stop_server
start_server "$T/centre" --rules "$R" --rules "$YINGJI_SRC/rules" --suppress 1m
sqli=()
for i in 1 2 3 4 5; do
	sqli+=("203.0.113.50 - - [22/Nov/2026:10:06:0$i +0800] \"GET /item.php?id=$i+union+select+1,2 HTTP/1.1\" 200 512 \"-\" \"Mozilla/5.0\"")
done
# (The lines' own times are used: a minute after 10:06 this morning is long
# past, so the window has ended by the centre's next look.)
log_events "${sqli[@]}"
wait_until '[ "$(yjc alerts --json | grep -c "203.0.113.50")" -ge 1 ]' 10 "the first SQL injection alert"
# The four after it are counted, and stored as one "continued" alert once the
# window has ended (the centre reports ended windows every few seconds).
wait_until '[ "$(yjc alerts --json | grep "203.0.113.50" | grep -c "\"continued\":true")" -ge 1 ]' 20 \
	"the continued alert with the count"
yjc alerts --json | grep "203.0.113.50" >"$T/supp.txt"
python3 - "$T/supp.txt" <<'PY' || fail "suppression: $(cat "$T/supp.txt")"
import json, sys
a = [json.loads(l) for l in open(sys.argv[1])]
first = [x for x in a if not x["continued"]]
rest = [x for x in a if x["continued"]]
assert len(first) == 1 and first[0]["count"] == 1, a
assert len(rest) == 1 and rest[0]["count"] == 4 and rest[0]["rule_id"] == first[0]["rule_id"], a
PY
stop_agent

# ---- no --rules: no detection; a rule dir that cannot be read: no start ----
stop_server
start_server "$T/centre"
yjc status --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["detection"] is None' ||
	fail "status without --rules"
grep -q "no detection" "$SERVER_LOG" || fail "no --rules was not logged"
stop_server
"$YJS" serve --data "$T/centre" --agents 127.0.0.1:0 --http 127.0.0.1:0 --rules "$T/no-such-dir" \
	>"$T/nodir.log" 2>&1 && fail "the server started with a rule directory that does not exist"
grep -q "no-such-dir" "$T/nodir.log" || fail "the missing rule directory was not named: $(cat "$T/nodir.log")"

# ---- a version 1 database gains the alerts table (and keeps its events) ----
n_events=$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("select count(*) from events").fetchone()[0])' \
	"$T/centre/yingji.db" 2>/dev/null) || n_events=
if [ -n "$n_events" ]; then
	python3 - "$T/centre/yingji.db" <<'PY' || fail "could not make a version 1 database"
import sqlite3, sys
db = sqlite3.connect(sys.argv[1])
db.execute("DROP TABLE alerts")
db.execute("PRAGMA user_version = 1")
db.commit()
PY
	start_server "$T/centre" --rules "$R"
	[ "$(yjc alerts --json | wc -l)" = 0 ] || fail "alerts in a migrated database"
	[ "$(yjc events --json | wc -l)" -ge "$n_events" ] || fail "events lost in the migration"
	[ "$(python3 -c 'import sqlite3,sys; print(sqlite3.connect(sys.argv[1]).execute("pragma user_version").fetchone()[0])' "$T/centre/yingji.db")" = 4 ] ||
		fail "the schema version is not 4 after the migration"
	stop_server
fi
exit 0
