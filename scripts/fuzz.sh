#!/usr/bin/env bash
# Run every libFuzzer target for a while. Usage: scripts/fuzz.sh BINDIR SECONDS
# Corpora persist in fuzz/corpus-NAME/ (ignored by git) so runs build on each other.
set -euo pipefail
bindir=$1
seconds=${2:-30}
status=0
for f in "$bindir"/fuzz_*; do
	[ -x "$f" ] || continue
	name=$(basename "$f")
	corpus="fuzz/corpus-$name"
	mkdir -p "$corpus"
	echo "== $name ($seconds s)"
	if ! "$f" -max_total_time="$seconds" -max_len=65536 -print_final_stats=1 "$corpus" \
		>"/tmp/$name.log" 2>&1; then
		echo "!! $name found a problem: see /tmp/$name.log"
		tail -n 40 "/tmp/$name.log"
		status=1
	else
		grep -E 'stat::number_of_executed_units' "/tmp/$name.log" || echo "   (no run statistics in /tmp/$name.log)"
	fi
done
exit $status
