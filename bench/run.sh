#!/usr/bin/env bash
# run.sh - Yingji's benchmarks, our figure beside the peer's from the same run.
# Usage: bench/run.sh [scan] [tamper] [idle] [server] [detect] [incidents] [respond]   (default: all)
# Environment (see bench/README.md): BENCH_DIR, BENCH_FILES, BENCH_TOTAL_MB,
# BENCH_RUNS, BENCH_TAMPERS, BENCH_TAMPER_FILES, BENCH_PACE_US, BENCH_IDLE_SECONDS.
# Prints figures only: nothing here asserts a target.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(scan tamper idle server detect incidents respond)
for p in "${parts[@]}"; do
	case $p in
	scan | tamper | idle | server | detect | incidents | respond) ;;
	*) say "usage: bench/run.sh [scan] [tamper] [idle] [server] [detect] [incidents] [respond]"; exit 2 ;;
	esac
done

export BENCH_DIR BENCH_FILES BENCH_TOTAL_MB BENCH_RESULTS
: >"$BENCH_RESULTS"
[ -x "$AGENT" ] || say "bench: $AGENT is missing; run make first (ours will read n/a)"

started=$(date '+%Y-%m-%d %H:%M:%S')
for p in "${parts[@]}"; do
	say ""
	say "=== bench: $p ==="
	bash "$BENCH_SRC/$p.sh" || say "bench: $p.sh exited with $? (its figures may be missing)"
done

echo
echo "== Yingji benchmark summary ($started; $NPROC cores; $(uname -r)) =="
echo "   tree: $BENCH_FILES files, $BENCH_TOTAL_MB MB; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-34s  %-26s  %-26s  %s\n' metric ours peer "peer is"
printf '%-34s  %-26s  %-26s  %s\n' ------ ---- ---- -------
while IFS='|' read -r _ metric ours peer label; do
	printf '%-34s  %-26s  %-26s  %s\n' "$metric" "$ours" "$peer" "$label"
done <"$BENCH_RESULTS"
