#!/usr/bin/env bash
# respond.sh - alert to firewall rule (issue 6): p50/p99 from the moment the
# centre stores a brute-force alert (and, in the same transaction, the plan's
# automatic block) until the agent's answer that the nftables element is in
# place is recorded (responses.updated_ns - created_ns: an upper bound of
# alert -> rule). A real agent in a network namespace follows an auth log;
# BENCH_RESPOND_ATTACKS (100) addresses each fail 12 ssh logins.
# The same run times `nft add element` alone in the namespace: the floor.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

N=${BENCH_RESPOND_ATTACKS:-100}
YINGJI=$ROOT/build/bin/yingji
YAGENT=$ROOT/build/bin/yingji-agent
W=$BENCH_DIR/respond
if [ ! -x "$YINGJI" ] || ! command -v nft >/dev/null || [ "$(id -u)" != 0 ]; then
	say "respond: needs root, nft and make; skipped"
	result respond "alert->rule p99 (ms)" n/a n/a "skipped"
	exit 0
fi
rm -rf "$W"
mkdir -p "$W"
NS=yjb$$
cleanup() {
	set +e		# tearing down: each step on its own, none ends the script
	[ -n "${APID:-}" ] && kill "$APID" 2>/dev/null
	[ -n "${SPID:-}" ] && kill "$SPID" 2>/dev/null
	wait 2>/dev/null
	ip netns pids "$NS" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
	ip netns del "$NS" 2>/dev/null
	ip link del "$NS-c" 2>/dev/null
	return 0
}
trap cleanup EXIT
ip netns add "$NS"
ip link add "$NS-c" type veth peer name "$NS-h"
ip link set "$NS-h" netns "$NS"
ip addr add 10.232.1.1/24 dev "$NS-c"
ip link set "$NS-c" up
ip -n "$NS" addr add 10.232.1.2/24 dev "$NS-h"
ip -n "$NS" link set "$NS-h" up
ip -n "$NS" link set lo up
cat >"$W/plan.yaml" <<'PLAN'
version: 1
organisation: { name: 基准测试单位 }
operator_type: other
roles:
  - { id: leader, name: 组长, group: leadership, may: [activate, close, grade, approve] }
members:
  - { id: director, name: 局长, roles: [leader] }
escalation: { start: leader, channels: [] }
playbooks:
  - category: 网络攻击事件
    subcategory: 凭据攻击事件
    actions:
      - { action: block, automatic: true }
PLAN
"$YINGJI" serve --data "$W/centre" --agents 10.232.1.1:0 --http 127.0.0.1:0 --plan "$W/plan.yaml" \
	--rules "$ROOT/rules" --suppress 0 >"$W/centre.log" 2>&1 &
SPID=$!
for _ in $(seq 1 300); do [ -s "$W/centre/serve.json" ] && break; sleep 0.05; done
agents=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["agents"])' "$W/centre/serve.json")
token=$("$YINGJI" --data "$W/centre" token create | tail -n 1)
mkdir -p "$W/site"
echo portal >"$W/site/index.html"
: >"$W/auth.log"
ip netns exec "$NS" "$YAGENT" enroll --state "$W/state" --server "$agents" --token "$token" --name bench >/dev/null
ip netns exec "$NS" "$YAGENT" run --state "$W/state" --guard "$W/site" --log "$W/auth.log" \
	--bulk-rate 0 >"$W/agent.log" 2>&1 &
APID=$!
sleep 2
say "respond: $N attackers, 12 failed ssh logins each ..."
for i in $(seq 1 "$N"); do
	ip="198.18.$((i / 250)).$((i % 250 + 1))"
	for k in $(seq 1 12); do
		echo "Nov 22 10:00:00 web sshd[42]: Failed password for root from $ip port $((40000 + k)) ssh2"
	done >>"$W/auth.log"
	sleep 0.05
done
for _ in $(seq 1 600); do
	n=$(sqlite3 "$W/centre/yingji.db" "SELECT count(*) FROM responses WHERE state='applied'" 2>/dev/null || echo 0)
	[ "$n" -ge "$N" ] && break
	sleep 0.1
done
sqlite3 "$W/centre/yingji.db" "SELECT (updated_ns - created_ns) / 1000 FROM responses WHERE state='applied' AND requested_by='plan'" >"$W/lat_us.txt"
got=$(wc -l <"$W/lat_us.txt")
pct() { sort -n "$W/lat_us.txt" | awk -v p="$1" '{v[NR]=$1} END { if (NR == 0) print "n/a"; else { i = int(NR * p / 100); if (i < 1) i = 1; printf "%.2f", v[i] / 1000 } }'; }
ours50=$(pct 50); ours99=$(pct 99)
# the floor: one nft element, as the responder adds it
: >"$W/nft_us.txt"
for i in $(seq 1 100); do
	t0=$(date +%s%N)
	ip netns exec "$NS" nft add element inet yingji block4 "{ 192.0.2.$i timeout 60s }"
	t1=$(date +%s%N)
	echo $(((t1 - t0) / 1000)) >>"$W/nft_us.txt"
done
nft50=$(sort -n "$W/nft_us.txt" | awk '{v[NR]=$1} END {printf "%.2f", v[int(NR/2)]/1000}')
nft99=$(sort -n "$W/nft_us.txt" | awk '{v[NR]=$1} END {printf "%.2f", v[int(NR*0.99)]/1000}')
say "respond: $got of $N attackers blocked automatically; alert->rule p50 $ours50 ms p99 $ours99 ms; nft CLI alone p50 $nft50 ms p99 $nft99 ms"
result respond "alert->rule p50 (ms)" "$ours50" "$nft50" "one \`ip netns exec nft add element\` (CLI, fork+exec) alone"
result respond "alert->rule p99 (ms)" "$ours99" "$nft99" "same; aim p99 <= 100 ms"
result respond "attackers blocked" "$got/$N" "-" "automatic, from the plan's playbook"
