#!/usr/bin/env bash
# tamper.sh - tamper-to-restored latency (bench/tamper_latency.c): the agent
# guarding a generated site, then the peer (a bare inotify-and-rewrite loop) on
# an identical site, measured the same way. p50/p99/max in microseconds.
# Environment: BENCH_TAMPER_FILES (1000), BENCH_TAMPERS (1000 per kind),
# BENCH_PACE_US (2000, pause after each repair).
set -euo pipefail
. "$(dirname "$0")/lib.sh"

NFILES=${BENCH_TAMPER_FILES:-1000}
COUNT=${BENCH_TAMPERS:-1000}
PACE=${BENCH_PACE_US:-2000}
KINDS=(modify chmod delete create symlink)

build_tool tamper_latency
TL=$BIN/tamper_latency
W=$BENCH_DIR/tamper
rm -rf "$W"
mkdir -p "$W"

# --- ours -----------------------------------------------------------------------
ours_out=$W/ours.txt
: >"$ours_out"
if [ -x "$AGENT" ]; then
	"$TL" gen "$W/site" "$NFILES" >&2
	say "tamper: starting the agent on $W/site ..."
	start_agent "$W/state" "$W/site" "$W/agent.log"
	if wait_ready "$W/state" "$AGENT_PID" 120; then
		say "tamper: agent ready; $COUNT tampers per kind"
		"$TL" measure "$W/site" --count "$COUNT" --pace-us "$PACE" | tee "$ours_out" ||
			say "tamper: the measurement of ours failed (exit $?): its figures read n/a"
	else
		say "tamper: the agent did not become ready; see $W/agent.log"
	fi
	stop_agent "$AGENT_PID"
else
	say "tamper: $AGENT is missing (make); ours skipped"
fi

# --- peer -----------------------------------------------------------------------
peer_out=$W/peer.txt
"$TL" gen "$W/peer-site" "$NFILES" >&2
say "tamper: the peer (bare inotify loop) on $W/peer-site"
"$TL" measure "$W/peer-site" --peer --count "$COUNT" --pace-us "$PACE" | tee "$peer_out" ||
	say "tamper: the measurement of the peer failed (exit $?): its figures read n/a"

# --- figures ----------------------------------------------------------------------
# fig FILE KIND: "p50/p99/max" (us), with the count of misses if any.
fig() {
	awk -v k="$2" '$1 == "RESULT" && $2 == k {
		s = $6 "/" $7 "/" $8
		if ($4 + $5 > 0) s = s " (" $4 " timeouts, " $5 " skipped)"
		print s; found = 1 }
		END { if (!found) print "n/a" }' "$1"
}
echo
echo "== tamper-to-restored latency, $NFILES files of 1-64 KiB, $COUNT tampers per kind: p50/p99/max us =="
printf '  %-8s  %-34s  %s\n' kind "ours (yingji-agent run)" "peer (bare inotify rewrite loop)"
for k in "${KINDS[@]}"; do
	o=$(fig "$ours_out" "$k")
	p=$(fig "$peer_out" "$k")
	printf '  %-8s  %-34s  %s\n' "$k" "$o" "$p"
	result tamper "tamper $k p50/p99/max us" "$o" "$p" "bare inotify rewrite loop (aim p99 <= 2000)"
done
if grep -q 'in-place repairs: [1-9]' "$ours_out" 2>/dev/null; then
	say "tamper: note: some modify repairs reused the tampered inode (expected a rename-replace)"
fi
