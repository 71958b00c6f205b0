#!/usr/bin/env bash
# First response end to end (issue 6): the centre in this namespace, a real
# agent in a network namespace of its own ("host"), an attacker in a third,
# joined by veth pairs; real nftables in the host namespace. A block stops
# the attacker's traffic and undo / expiry bring it back; isolation cuts the
# attacker while the agent's channel to the centre stays up; a restart of
# the agent (with its table gone, as after a reboot) re-applies what is
# active; an agent offline when asked gets the request when it connects; the
# allow list refuses the centre's own address; bad targets and durations are
# refused; a brute-force alert triggers an automatic block when the plan
# allows it, and an isolation the plan reserves for approval waits for the
# approver.
. "$(dirname "$0")/lib.sh"
export YINGJI_LANG=zh

command -v nft >/dev/null || fail "nft is missing (scripts/deps.sh build installs nftables)"
command -v curl >/dev/null || fail "curl is missing (scripts/deps.sh check)"

# ---- namespaces: root <-> host (the centre's link), host <-> attacker ----
N=yjr$$
HOST=$N-h
ATT=$N-a
cleanup_ns() {
	ip netns pids "$HOST" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	ip netns pids "$ATT" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	ip netns del "$HOST" 2>/dev/null
	ip netns del "$ATT" 2>/dev/null
	ip link del "$N-c" 2>/dev/null
	return 0
}
on_cleanup cleanup_ns
ip netns add "$HOST" || fail "ip netns add"
ip netns add "$ATT" || fail "ip netns add"
ip link add "$N-c" type veth peer name "$N-hc" || fail "veth"
ip link set "$N-hc" netns "$HOST"
ip addr add 10.231.1.1/24 dev "$N-c"
ip link set "$N-c" up
ip -n "$HOST" addr add 10.231.1.2/24 dev "$N-hc"
ip -n "$HOST" link set "$N-hc" up
ip -n "$HOST" link set lo up
ip -n "$HOST" link add "$N-ha" type veth peer name "$N-ah" || fail "veth 2"
ip -n "$HOST" link set "$N-ah" netns "$ATT"
ip -n "$HOST" addr add 10.231.2.1/24 dev "$N-ha"
ip -n "$HOST" link set "$N-ha" up
ip -n "$ATT" addr add 10.231.2.2/24 dev "$N-ah"
ip -n "$ATT" link set "$N-ah" up
ip -n "$ATT" link set lo up

# a web server in the host namespace, the attacker's way in
mkdir -p "$T/web"
echo "portal" >"$T/web/index.html"
ip netns exec "$HOST" python3 -m http.server --bind 10.231.2.1 --directory "$T/web" 8080 \
	>"$T/web.log" 2>&1 &
YJ_PIDS+=($!)
reach() {	# the attacker fetches the portal
	ip netns exec "$ATT" curl -s -m 2 -o /dev/null http://10.231.2.1:8080/index.html
}
wait_until reach 10 "the attacker reaching the portal before anything is blocked"

# ---- a webhook receiver for the approvers' notices ----
HOOK_LOG=$T/hook.jsonl
python3 - "$T/hook.port" "$HOOK_LOG" <<'PY' &
import http.server, os, sys
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        with open(sys.argv[2], "ab") as f:
            f.write(body.replace(b"\n", b" ") + b"\n")
        self.send_response(200)
        self.end_headers()
    def log_message(self, *a):
        pass
s = http.server.HTTPServer(("127.0.0.1", 0), H)
open(sys.argv[1] + ".tmp", "w").write(str(s.server_address[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
s.serve_forever()
PY
YJ_PIDS+=($!)
wait_until '[ -s "$T/hook.port" ]' 10 "the webhook receiver"
HOOK_PORT=$(cat "$T/hook.port")

# ---- a plan: brute force blocked automatically, isolation needs the leader ----
PLAN=$T/plan.yaml
cat >"$PLAN" <<PLAN_END
version: 1
organisation: { name: 测试单位 }
operator_type: other
roles:
  - { id: leader, name: 组长, group: leadership, may: [activate, close, grade, approve] }
  - { id: office, name: 办公室, escalates_to: leader, may: [report, assess, task] }
members:
  - { id: director, name: 局长, roles: [leader] }
  - { id: clerk, name: 值班员, roles: [office] }
escalation: { start: office, step: 15m, channels: [hook] }
channels:
  - { id: hook, type: webhook, url: "http://127.0.0.1:$HOOK_PORT/hook", timeout: 5s, retries: 1 }
playbooks:
  - category: 网络攻击事件
    subcategory: 凭据攻击事件
    actions:
      - { action: block, automatic: true }
      - { action: isolate, approve: [leader] }
PLAN_END

AG="$T/agent-in-ns"
printf '#!/bin/sh\nexec ip netns exec %s %s/yingji-agent "$@"\n' "$HOST" "$YINGJI_BIN" >"$AG"
chmod +x "$AG"
YJ=$AG

# The centre: agents connect over the veth, the API on loopback.
SERVER_DATA=$T/centre
"$YJS" serve --data "$T/centre" --agents 10.231.1.1:0 --http 127.0.0.1:0 --plan "$PLAN" \
	--rules "$YINGJI_SRC/rules" --heartbeat 1s --lost-after 3s >"$T/centre2.log" 2>&1 &
SERVER_PID=$!
YJ_PIDS+=("$SERVER_PID")
SERVER_LOG=$T/centre2.log
wait_until '[ -s "$T/centre/serve.json" ]' 30 "the centre on the veth"
AGENTS_ADDR=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["agents"])' "$T/centre/serve.json")
HTTP_ADDR=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$T/centre/serve.json")

new_site one
touch "$T/auth.log"
enroll "$S" web-1
start_agent "$S" "$G" --log "$T/auth.log" --allow 10.231.2.99
wait_until '[ "$(yjc agents --json | python3 -c "import json,sys; print([json.loads(l)[\"state\"] for l in sys.stdin][0])")" = connected ]' 15 \
	"the agent connected over the veth"

rstate() {	# rstate ID -> the response's state
	yjc respond list --json | python3 -c 'import json,sys
for l in sys.stdin:
    d = json.loads(l)
    if d["id"] == int(sys.argv[1]): print(d["state"])' "$1"
}
new_id() {	# the id in a respond --json answer
	python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])'
}

# ---- bad requests ----
for bad in "0.0.0.0/0" "::/0" "1.2.3" "10.0.0.0/33" "10.0.0.0/4" "127.0.0.1" "x; nft flush ruleset"; do
	out=$(yjc respond block --agent "$AGENT_ID" --addr "$bad" 2>&1) && fail "block $bad was accepted"
done
out=$(yjc respond block --agent "$AGENT_ID" --addr 10.231.1.1 2>&1) && fail "the centre's own address was blocked"
echo "$out" | grep -q "中心服务器" || fail "allow list refusal unclear: $out"
out=$(yjc respond block --agent "$AGENT_ID" --addr 10.231.1.0/24 2>&1) && fail "a range covering the centre was blocked"
out=$(yjc respond block --agent 999 --addr 10.231.2.2 2>&1) && fail "an unknown agent was accepted"
out=$(yjc respond block --agent "$AGENT_ID" --addr 10.231.2.2 --for 99d 2>&1) && fail "99 days was accepted"
out=$(yjc respond block --agent "$AGENT_ID" --addr 10.231.2.2 --for 0s 2>&1) && fail "0 s was accepted"
out=$(yjc respond kill --agent "$AGENT_ID" --pid 1 2>&1) && fail "kill of pid 1 was accepted"
[ "$(yjc respond list --json | wc -l)" = 0 ] || fail "a refused request left a row"
reach || fail "a refused request changed the firewall"

# an admin address (yingji-agent run --allow): the agent refuses, the row says why
id=$(yjc respond block --agent "$AGENT_ID" --addr 10.231.2.99 --json | new_id) || fail "block request failed"
wait_until "[ \"\$(rstate $id)\" = failed ]" 10 "a block of an admin address refused by the agent"
yjc respond list --json | grep "\"id\":$id," | grep -q "白名单" || fail "the refusal does not say allow list"

# ---- dry run ----
out=$(yjc respond block --agent "$AGENT_ID" --addr 10.231.2.2 --dry-run 2>&1) || fail "dry run failed: $out"
echo "$out" | grep -q "10.231.2.2" || fail "the dry run does not show the address: $out"
reach || fail "a dry run changed the firewall"

# ---- block, undo ----
id=$(yjc respond block --agent "$AGENT_ID" --addr 10.231.2.2 --json | new_id) || fail "block failed"
wait_until "[ \"\$(rstate $id)\" = applied ]" 10 "the block applied"
reach && fail "the blocked attacker still reaches the portal"
# (a netlink dump can be interrupted by a concurrent change: asked again)
has_element() {
	local set4
	set4=$(ip netns exec "$HOST" nft list set inet yingji block4 2>&1) || return 1
	case $set4 in *"10.231.2.2"*) return 0 ;; esac
	return 1
}
wait_until has_element 5 "the element in the table inet yingji"
yjc agent command "$AGENT_ID" ping >/dev/null || fail "the channel to the centre was cut by the block"
yjc respond undo "$id" >/dev/null || fail "undo failed"
wait_until "[ \"\$(rstate $id)\" = undone ]" 10 "the block undone"
wait_until reach 5 "the attacker back after undo"

# ---- expiry ----
id=$(yjc respond block --agent "$AGENT_ID" --addr 10.231.2.2 --for 3s --json | new_id) || fail "block --for failed"
wait_until "[ \"\$(rstate $id)\" = applied ]" 10 "the timed block applied"
reach && fail "the timed block does not hold"
wait_until reach 10 "the attacker back after the block expired"
wait_until "[ \"\$(rstate $id)\" = expired ]" 10 "the block marked expired"

# ---- isolation keeps the centre's channel ----
id=$(yjc respond isolate --agent "$AGENT_ID" --json | new_id) || fail "isolate failed"
wait_until "[ \"\$(rstate $id)\" = applied ]" 10 "isolation applied"
reach && fail "the isolated host is still reachable"
sleep 2
yjc agent command "$AGENT_ID" ping >/dev/null || fail "isolation cut the channel to the centre"
yjc respond undo "$id" >/dev/null || fail "undo isolate failed"
wait_until "[ \"\$(rstate $id)\" = undone ]" 10 "isolation undone"
wait_until reach 5 "the attacker back after isolation ended"

# ---- restart re-applies what is active ----
id=$(yjc respond block --agent "$AGENT_ID" --addr 10.231.2.2 --for 1h --json | new_id) || fail "block failed"
wait_until "[ \"\$(rstate $id)\" = applied ]" 10 "the block applied"
stop_agent
ip netns exec "$HOST" nft delete table inet yingji || fail "could not drop the table"
wait_until reach 5 "the attacker back with the table gone"
start_agent "$S" "$G" --log "$T/auth.log" --allow 10.231.2.99
wait_until '! reach' 10 "the block re-applied after the restart"
yjc respond undo "$id" >/dev/null || fail "undo failed"
wait_until "[ \"\$(rstate $id)\" = undone ]" 10 "the block undone"
wait_until reach 5 "the attacker back"

# ---- an agent offline when asked ----
stop_agent
out=$(yjc respond block --agent "$AGENT_ID" --addr 10.231.2.2 --json) || fail "block of an offline agent failed"
id=$(echo "$out" | new_id)
[ "$(rstate "$id")" = pending ] || fail "not pending while offline: $out"
echo "$out" | grep -q "离线" || fail "the answer does not say the agent is offline: $out"
start_agent "$S" "$G" --log "$T/auth.log" --allow 10.231.2.99
wait_until "[ \"\$(rstate $id)\" = applied ]" 15 "the waiting block applied once the agent connected"
reach && fail "the waiting block does not hold"
yjc respond undo "$id" >/dev/null || fail "undo failed"
wait_until "[ \"\$(rstate $id)\" = undone ]" 10 "undone"
wait_until reach 5 "the attacker back"

# ---- a brute-force alert: automatic block, isolation waits for approval ----
for i in $(seq 1 12); do
	echo "Nov 22 10:00:0$((i % 10)) web-1 sshd[4242]: Failed password for root from 10.231.2.2 port 5$i ssh2" >>"$T/auth.log"
done
wait_until "yjc respond list --json | grep -q '\"requested_by\":\"plan\"'" 20 "the plan's automatic block"
auto=$(yjc respond list --json | python3 -c 'import json,sys
for l in sys.stdin:
    d = json.loads(l)
    if d["requested_by"] == "plan" and d["action"] == "block": print(d["id"])' | head -n 1)
[ -n "$auto" ] || fail "no automatic block: $(yjc respond list --json)"
wait_until "[ \"\$(rstate $auto)\" = applied ]" 10 "the automatic block applied"
reach && fail "the automatic block does not hold"
iso=$(yjc respond list --json | python3 -c 'import json,sys
for l in sys.stdin:
    d = json.loads(l)
    if d["requested_by"] == "plan" and d["action"] == "isolate": print(d["id"])' | head -n 1)
[ -n "$iso" ] || fail "no isolation waiting for approval"
sleep 1
[ "$(rstate "$iso")" = pending ] || fail "the isolation did not wait for approval"
yjc respond list --json | grep "\"id\":$iso," | grep -q awaiting_approval || fail "not marked awaiting approval"
wait_until 'grep -q "待批准" "$HOOK_LOG"' 10 "the approvers' notice at the webhook"
out=$(yjc respond approve "$iso" --as clerk 2>&1) && fail "a member without approve approved"
yjc respond approve "$iso" --as director >/dev/null || fail "the leader could not approve"
wait_until "[ \"\$(rstate $iso)\" = applied ]" 10 "the approved isolation applied"
yjc respond undo "$iso" >/dev/null || fail "undo isolate failed"
yjc respond undo "$auto" >/dev/null || fail "undo block failed"
wait_until "[ \"\$(rstate $auto)\" = undone ] && [ \"\$(rstate $iso)\" = undone ]" 10 "both undone"
wait_until reach 5 "the attacker back at the end"

# ---- kill, quarantine, account lock: real ones, and unknown targets ----
ip netns exec "$HOST" sh -c 'sleep 300 & exec sleep 301' &
VICTIM=$!
YJ_PIDS+=("$VICTIM")
wait_until "pgrep -P $VICTIM sleep >/dev/null" 5 "the victim's child"
CHILD=$(pgrep -P "$VICTIM" sleep)
id=$(yjc respond kill --agent "$AGENT_ID" --pid "$VICTIM" --json | new_id) || fail "kill failed"
wait_until "[ \"\$(rstate $id)\" = applied ]" 10 "the kill applied"
wait_until "! kill -0 $VICTIM 2>/dev/null && ! kill -0 $CHILD 2>/dev/null" 5 "the process and its child gone"
wait "$VICTIM" 2>/dev/null
yj_forget_pid "$VICTIM"
yjc respond list --json | grep "\"id\":$id," | grep -q '"exe":"/usr/bin/sleep"\|"exe":"/bin/sleep"' ||
	fail "the kill did not record the executable: $(yjc respond list --json | grep "\"id\":$id,")"
id=$(yjc respond kill --agent "$AGENT_ID" --pid 4000000 --json | new_id) || fail "kill request failed"
wait_until "[ \"\$(rstate $id)\" = failed ]" 10 "the kill of an unknown process failed"

mkdir -p "$G/up"
echo '<?php eval($_POST[x]);' >"$T/evil.php"
id=$(yjc respond quarantine --agent "$AGENT_ID" --path "$T/evil.php" --json | new_id) || fail "quarantine failed"
wait_until "[ \"\$(rstate $id)\" = applied ]" 10 "the quarantine applied"
[ ! -e "$T/evil.php" ] || fail "the quarantined file is still in place"
ls "$S/respond-quarantine/" | grep -q "evil.php" || fail "the evidence is not kept"
yjc respond undo "$id" >/dev/null || fail "undo quarantine failed"
wait_until "[ \"\$(rstate $id)\" = undone ]" 10 "the quarantine undone"
[ -f "$T/evil.php" ] || fail "the file did not come back"

U=yjt$$
useradd -M -s /bin/sh "$U" || fail "useradd"
on_cleanup "userdel $U"
echo "$U:Yj-test-$$-pass" | chpasswd || fail "chpasswd"
passwd -S "$U" | awk '{print $2}' | grep -q '^P' || fail "the test account has no usable password: $(passwd -S "$U")"
ip netns exec "$HOST" su -s /bin/sh "$U" -c 'exec sleep 300' &
SESSION=$!
YJ_PIDS+=("$SESSION")
wait_until "pgrep -u $U sleep >/dev/null" 5 "the user's session"
id=$(yjc respond lock-account --agent "$AGENT_ID" --user "$U" --json | new_id) || fail "lock failed"
wait_until "[ \"\$(rstate $id)\" = applied ]" 10 "the account locked"
passwd -S "$U" | awk '{print $2}' | grep -q '^L' || fail "the account is not locked: $(passwd -S "$U")"
wait_until "! pgrep -u $U >/dev/null" 5 "the user's processes gone"
wait "$SESSION" 2>/dev/null
yj_forget_pid "$SESSION"
yjc respond undo "$id" >/dev/null || fail "undo lock failed"
wait_until "[ \"\$(rstate $id)\" = undone ]" 10 "the account unlocked"
passwd -S "$U" | awk '{print $2}' | grep -q '^L' && fail "the account is still locked"
id=$(yjc respond lock-account --agent "$AGENT_ID" --user nosuchuser$$ --json | new_id) || fail "lock request failed"
wait_until "[ \"\$(rstate $id)\" = failed ]" 10 "locking an unknown account failed"
id=$(yjc respond lock-account --agent "$AGENT_ID" --user root --json | new_id) || fail "lock request failed"
wait_until "[ \"\$(rstate $id)\" = failed ]" 10 "locking root refused"

# ---- nftables failing: reported, never claimed applied ----
ip netns exec "$HOST" nft delete table inet yingji || fail "could not drop the table"
id=$(yjc respond block --agent "$AGENT_ID" --addr 10.231.2.2 --json | new_id) || fail "block request failed"
wait_until "[ \"\$(rstate $id)\" = failed ]" 10 "a block nft refused marked failed"
yjc respond list --json | grep "\"id\":$id," | grep -q '"error"' || fail "the failure has no reason"
reach || fail "a failed block blocks"

# ---- the audit trail has them ----
stop_agent
kill -TERM "$SERVER_PID"
yj_wait_exit "$SERVER_PID" || fail "the centre did not stop cleanly"
yj_forget_pid "$SERVER_PID"
sqlite3 "$T/centre/yingji.db" "SELECT action FROM audit" | grep -q "response.request" || fail "no response in the audit"
yjc audit verify >/dev/null || fail "audit verify failed"
exit 0
