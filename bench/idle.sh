#!/usr/bin/env bash
# idle.sh - the agent guarding the generated tree (BENCH_FILES files), idle:
# CPU% from utime+stime in /proc/PID/stat over BENCH_IDLE_SECONDS (30) after it
# is ready, and VmRSS. Peer: AIDE has no resident mode, so `inotifywait -m -r`
# on the same tree (inotify-tools; installed if missing and possible).
# Also prints how long the first start took to become ready (fresh state).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

IDLE=${BENCH_IDLE_SECONDS:-30}
SETTLE=${BENCH_SETTLE_SECONDS:-3}
READY_TIMEOUT=${BENCH_READY_TIMEOUT:-1800}
HZ=$(getconf CLK_TCK)
ensure_tree

# sample PID: "CPU% RSS_MiB" over $IDLE seconds, after $SETTLE.
sample() {
	local pid=$1 a b rss
	sleep "$SETTLE"
	# A process that exited mid-sample has no /proc entry: its figures are n/a.
	if ! a=$(proc_ticks "$pid" 2>/dev/null) || ! sleep "$IDLE" ||
		! b=$(proc_ticks "$pid" 2>/dev/null) || ! rss=$(proc_kb "$pid" VmRSS 2>/dev/null) ||
		[ -z "$a" ] || [ -z "$b" ] || [ -z "$rss" ]; then
		echo "n/a n/a"
		return
	fi
	echo "$(calc "100 * ($b - $a) / $HZ / $IDLE") $(calc "$rss / 1024")"
}

# --- ours -------------------------------------------------------------------
ours_cpu=n/a ours_rss=n/a ours_hwm=n/a ready_s=n/a
W=$BENCH_DIR/idle
if [ -x "$AGENT" ]; then
	rm -rf "$W"
	mkdir -p "$W"
	say "idle: starting the agent on $TREE (fresh state; it hashes and stores every file) ..."
	t0=$(now)
	start_agent "$W/state" "$TREE" "$W/agent.log"
	if wait_ready "$W/state" "$AGENT_PID" "$READY_TIMEOUT"; then
		ready_s=$(calc "$(now) - $t0")
		say "idle: ready after $(fmt "$ready_s" 1) s; sampling for $IDLE s ..."
		read -r ours_cpu ours_rss < <(sample "$AGENT_PID")
		if hwm=$(proc_kb "$AGENT_PID" VmHWM 2>/dev/null) && [ -n "$hwm" ]; then
			ours_hwm=$(calc "$hwm / 1024")
		fi
		if guards=$("$AGENT" status --state "$W/state" --json); then
			say "idle: status: $guards"
		else
			say "idle: status failed (the agent exited?)"
		fi
	else
		say "idle: the agent did not become ready within $READY_TIMEOUT s; see $W/agent.log"
	fi
	stop_agent "$AGENT_PID"
	[ -n "${BENCH_KEEP_STATE:-}" ] || rm -rf "$W/state"
else
	say "idle: $AGENT is missing (make); ours skipped"
fi

# --- peer: inotifywait -m -r --------------------------------------------------
peer_cpu=n/a peer_rss=n/a peer_label="n/a (AIDE has no resident mode; inotify-tools unavailable)"
if ! command -v inotifywait >/dev/null && [ "$(id -u)" -eq 0 ]; then
	say "idle: installing inotify-tools for the peer figure ..."
	export DEBIAN_FRONTEND=noninteractive
	apt-get install -y -qq --no-install-recommends inotify-tools >/dev/null 2>&1 ||
		{ apt-get update -qq >/dev/null 2>&1 &&
			apt-get install -y -qq --no-install-recommends inotify-tools >/dev/null 2>&1; } ||
		say "idle: inotify-tools not installable; peer skipped"
fi
if command -v inotifywait >/dev/null; then
	mkdir -p "$W"
	inotifywait -m -r -e modify,attrib,close_write,move,create,delete "$TREE" \
		>/dev/null 2>"$W/inotifywait.log" &
	peer=$!
	AGENT_PIDS+=("$peer")
	deadline=$((SECONDS + READY_TIMEOUT))
	until grep -q 'Watches established' "$W/inotifywait.log" 2>/dev/null; do
		if ! kill -0 "$peer" 2>/dev/null || [ $SECONDS -ge "$deadline" ]; then
			say "idle: inotifywait did not start: $(cat "$W/inotifywait.log")"
			break
		fi
		sleep 0.1
	done
	if grep -q 'Watches established' "$W/inotifywait.log" 2>/dev/null; then
		say "idle: inotifywait -m -r watching; sampling for $IDLE s ..."
		read -r peer_cpu peer_rss < <(sample "$peer")
		peer_label="inotifywait -m -r on the same tree (AIDE has no resident mode)"
	fi
	stop_agent "$peer"
fi

cat <<EOF

== idle: guarding $BENCH_FILES files, $IDLE s after ready ==
  yingji-agent run   CPU $(fmt "$ours_cpu" 2)%   RSS $(fmt "$ours_rss" 1) MiB (peak $(fmt "$ours_hwm" 1) MiB)   first start to ready $(fmt "$ready_s" 1) s
  peer               CPU $(fmt "$peer_cpu" 2)%   RSS $(fmt "$peer_rss" 1) MiB   ($peer_label)
EOF

result idle "idle CPU %" "$(fmt "$ours_cpu" 2)" "$(fmt "$peer_cpu" 2)" "$peer_label (aim ~0)"
result idle "idle RSS MiB" "$(fmt "$ours_rss" 1)" "$(fmt "$peer_rss" 1)" "$peer_label (aim <= 64)"
result idle "first start to ready, s" "$(fmt "$ready_s" 1)" "n/a" "hash + store every file (fresh state)"
