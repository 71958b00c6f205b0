#!/usr/bin/env bash
# incidents.sh - alert to incident (issue 5): p50/p99 from an alert's arrival
# until it is grouped, graded, its clocks started, its notification in the
# outbox and all of it committed, at BENCH_ALERT_RATE alerts/s (1000) for
# BENCH_ALERT_SECONDS (10). The same run stores the same alerts without the
# incident step: that floor (the alert's own group commit) is the figure
# beside ours; no package in Debian runs an emergency plan to compare with.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RATE=${BENCH_ALERT_RATE:-1000}
SECS=${BENCH_ALERT_SECONDS:-10}
TOOL=$ROOT/build/bench/incident_bench
W=$BENCH_DIR/incidents
if [ ! -x "$TOOL" ]; then
	say "incidents: $TOOL is missing (make); skipped"
	result incidents "alert->incident p99" n/a n/a "not built"
	exit 0
fi
rm -rf "$W"
mkdir -p "$W"
# A plan whose notices go to a closed local port: sending fails fast and
# never leaves the machine (the notifier's thread, not the measured path).
cat >"$W/plan.yaml" <<'PLAN'
version: 1
organisation: { name: 基准测试单位 }
operator_type: other
duty: oncall
roles:
  - { id: leader, name: 组长, group: leadership, may: [activate, close, grade, approve] }
  - { id: office, name: 办公室, group: office, escalates_to: leader, may: [report, assess, task] }
members:
  - { id: director, name: 局长, roles: [leader], contact: { email: a@example.gov.cn } }
  - { id: oncall, name: 值班员, roles: [office], contact: { phone: "13800000000" } }
escalation: { start: office, step: 15m, channels: [hook] }
channels:
  - { id: hook, type: webhook, url: "http://127.0.0.1:9/hook", timeout: 1s, retries: 0 }
PLAN
say "incidents: $RATE alerts/s for $SECS s, twice (alerts only, then with incidents) ..."
"$TOOL" --plan "$W/plan.yaml" --rate "$RATE" --seconds "$SECS" "$W" >"$W/out.txt" 2>"$W/err.txt" ||
	{ say "incidents: incident_bench failed: $(tail -n 3 "$W/err.txt")"; }
cat "$W/out.txt" >&2
get() { awk -v m="$1" -v k="$2" '$1 == "RESULT" && $2 == "mode=" m {
	for (i = 2; i <= NF; i++) { split($i, kv, "="); if (kv[1] == k) print kv[2] } }' "$W/out.txt"; }
ours50=$(get incidents p50_us); ours99=$(get incidents p99_us)
base50=$(get alerts_only p50_us); base99=$(get alerts_only p99_us)
n=$(get incidents incidents)
result incidents "alert->incident p50 (us)" "${ours50:-n/a}" "${base50:-n/a}" "alerts stored alone (no peer in Debian)"
result incidents "alert->incident p99 (us)" "${ours99:-n/a}" "${base99:-n/a}" "alerts stored alone; aim p99 <= 10000"
result incidents "incidents opened" "${n:-n/a}" "-" "$RATE alerts/s x $SECS s, 50 hosts, 3 kinds"
