#!/usr/bin/env bash
# The centre end to end: enrollment, a tamper arriving at the centre with the
# contract's fields, push commands, liveness (lost / back), the event filters
# and /metrics, and revocation cutting a live connection.
. "$(dirname "$0")/lib.sh"

start_server "$T/centre" --lost-after 3s --heartbeat 1s
[ "$(stat -c %a "$T/centre")" = 700 ] || fail "data directory is not 0700"
[ "$(stat -c %a "$T/centre/admin.token")" = 600 ] || fail "admin.token is not 0600"
[ "$(stat -c %a "$T/centre/pki/ca.key")" = 600 ] || fail "ca.key is not 0600"
grep -q "$(cat "$T/centre/admin.token")" "$SERVER_LOG" || fail "the admin token was not shown at the first start"

new_site one
enroll "$S" web-1
[ "$(stat -c %a "$S/tls/agent.key")" = 600 ] || fail "agent.key is not 0600"
start_agent "$S" "$G"

# The contract: `yingji --data DIR agents --json` has id, name, state.
wait_until '[ "$(yjc agents --json | python3 -c "import json,sys; a=[json.loads(l) for l in sys.stdin]; print(a[0][\"state\"], a[0][\"name\"], a[0][\"id\"])")" = "connected web-1 $AGENT_ID" ]' 10 \
	"agent connected at the centre"

# A tamper on the agent arrives at the centre: agent, seq, type, time, path.
echo defaced >"$G/index.html"
wait_until "[ \$(centre_count 'e[\"type\"]==\"tamper\" and e[\"path\"]==\"$G/index.html\"') -ge 1 ]" 10 \
	"tamper event at the centre"
ev=$(centre_events "e['type']=='tamper'" | head -n 1)
python3 - "$ev" "$AGENT_ID" <<'PY' || fail "bad event at the centre: $ev"
import json, sys
e = json.loads(sys.argv[1])
assert e["agent"] == int(sys.argv[2]), e
assert isinstance(e["seq"], int) and e["seq"] >= 1, e
assert e["time"].endswith("+08:00"), e
assert e["action"] == "restored", e
assert e["lane"] == "urgent", e
PY
# Informational events travel in the bulk lane.
[ "$(centre_count "e['type']=='agent_start' and e['lane']=='bulk'")" -ge 1 ] || fail "agent_start not in the bulk lane"

# Filters and paging.
[ "$(yjc events --json --type tamper | wc -l)" = "$(centre_count "e['type']=='tamper'")" ] ||
	fail "--type filter"
[ "$(yjc events --json --agent 999 | wc -l)" = 0 ] || fail "--agent filter"
[ "$(yjc events --json --since 2099-01-01T00:00:00+08:00 | wc -l)" = 0 ] || fail "--since filter"
yjc events --json --since 9999-01-01T00:00:00Z >/dev/null 2>&1 && fail "a year past what ns hold was taken"
yjc events >"$T/human.txt" || fail "events (human form) failed"
grep -q tamper "$T/human.txt" || fail "events (human form) lacks the tamper"

# Follow: a new event shows up in a running `events --follow`.
yjc events --follow --json --type tamper >"$T/follow.txt" 2>&1 &
FOLLOW=$!
YJ_PIDS+=("$FOLLOW")
sleep 0.5
echo again >"$G/a.txt"
wait_until "grep -q '\"path\":\"$G/a.txt\"' '$T/follow.txt'" 10 "events --follow to show the new tamper"
kill "$FOLLOW"
wait "$FOLLOW" 2>/dev/null
yj_forget_pid "$FOLLOW"

# Push path: a command to the agent and its result.
out=$(yjc agent command "$AGENT_ID" status) || fail "agent command status failed: $out"
python3 -c 'import json,sys; r=json.loads(sys.argv[1])["result"]; assert r["ok"] and r["status"]["guards"][0]["state"]=="ready", r' "$out" ||
	fail "bad command result: $out"
out=$(yjc agent command "$AGENT_ID" no-such 2>&1)
echo "$out" | grep -q '"ok":false' || fail "unknown command not reported: $out"

# Status and metrics.
yjc status --json | python3 -c 'import json,sys; s=json.load(sys.stdin); assert s["agents"]["connected"]==1 and s["events"]["stored"]>=3, s' ||
	fail "status --json"
TOKEN=$(cat "$T/centre/admin.token")
curl -sf -H "Authorization: Bearer $TOKEN" "http://$HTTP_ADDR/metrics" >"$T/metrics" || fail "GET /metrics"
grep -q '^yingji_events_stored_total [1-9]' "$T/metrics" || fail "metrics lack stored events"
grep -q '^yingji_agents_connected 1' "$T/metrics" || fail "metrics lack the connected agent"

# Liveness: an agent that goes away is lost after --lost-after, and an event
# says so; back again is an event too.
stop_agent
wait_until "[ \$(centre_count 'e[\"type\"]==\"agent_lost\"') -ge 1 ]" 15 "agent_lost event"
yjc agents --json | grep -q '"state":"lost"' || fail "agent not shown as lost"
start_agent "$S" "$G"
wait_until "[ \$(centre_count 'e[\"type\"]==\"agent_back\"') -ge 1 ]" 15 "agent_back event"
# The clean stop was delivered before the agent went: agent_stop is there.
[ "$(centre_count "e['type']=='agent_stop'")" -ge 1 ] || fail "agent_stop did not reach the centre"

# Revocation cuts the live connection at once and refuses the next one.
yjc agent revoke "$AGENT_ID" >/dev/null || fail "revoke failed"
wait_until "grep -q 'revoked' '$AGENT_LOG'" 10 "the agent to be told it is revoked"
yjc agents --json | grep -q '"state":"revoked"' || fail "agent not shown as revoked"
[ "$(centre_count "e['type']=='agent_revoked'")" = 1 ] || fail "no agent_revoked event"
out=$(yjc agent revoke "$AGENT_ID" 2>&1) && fail "revoking twice succeeded"
echo "$out" | grep -qi 'already' || fail "revoking twice: unclear error: $out"
n=$(centre_count "e['type']=='tamper'")
echo "after revocation" >"$G/index.html"
sleep 2
[ "$(centre_count "e['type']=='tamper'")" = "$n" ] || fail "a revoked agent's event was stored"
out=$(yjc agent revoke 4242 2>&1) && fail "revoking an unknown agent succeeded"

# A token works once.
token=$(yjc token create | tail -n 1)
"$YJ" enroll --state "$T/s2" --server "$AGENTS_ADDR" --token "$token" >/dev/null 2>&1 ||
	fail "enroll with a fresh token failed"
out=$("$YJ" enroll --state "$T/s3" --server "$AGENTS_ADDR" --token "$token" 2>&1) &&
	fail "a token was accepted twice"
echo "$out" | grep -q "token already used" || fail "second use: unclear error: $out"

# The CLI elsewhere: --server and $YINGJI_TOKEN.
YINGJI_TOKEN=$TOKEN "$YJS" --server "http://$HTTP_ADDR" agents --json | grep -q '"state":"revoked"' ||
	fail "--server http://... with YINGJI_TOKEN"
YINGJI_TOKEN=wrong "$YJS" --server "http://$HTTP_ADDR" agents >/dev/null 2>&1 &&
	fail "a wrong YINGJI_TOKEN was accepted"

stop_agent
stop_server

# Off loopback the API speaks HTTPS with the server certificate; clients check
# it against the deployment's CA (and no other).
"$YJS" serve --data "$T/c2" --agents 127.0.0.1:0 --http 0.0.0.0:0 >"$T/agent.centre.https.log" 2>&1 &
C2=$!
YJ_PIDS+=("$C2")
wait_until "[ -s '$T/c2/serve.json' ]" 30 "the HTTPS centre to start"
grep -q '"http_tls":true' "$T/c2/serve.json" || fail "a non-loopback API is not HTTPS"
port=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"].rsplit(":",1)[1])' "$T/c2/serve.json")
YINGJI_TOKEN=$(cat "$T/c2/admin.token") YINGJI_CA=$T/c2/pki/ca.crt \
	"$YJS" --server "https://127.0.0.1:$port" status --json >/dev/null || fail "https with the right CA"
out=$(YINGJI_TOKEN=$(cat "$T/c2/admin.token") YINGJI_CA=$T/centre/pki/ca.crt \
	"$YJS" --server "https://127.0.0.1:$port" status 2>&1) && fail "https accepted a certificate from another CA"
echo "$out" | grep -qi 'certificate' || fail "another CA: unclear error: $out"
YINGJI_TOKEN=$(cat "$T/c2/admin.token") "$YJS" --server "http://127.0.0.1:$port" status >/dev/null 2>&1 &&
	fail "plain HTTP was answered on the HTTPS port"
"$YJS" --data "$T/c2" agents >/dev/null || fail "--data with an HTTPS centre"
kill -TERM "$C2"
yj_wait_exit "$C2" || fail "the HTTPS centre did not exit cleanly"
yj_forget_pid "$C2"
