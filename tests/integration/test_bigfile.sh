#!/usr/bin/env bash
# A multi-GB file (sparse, so the test is cheap on disk) is streamed: scan
# hashes all of it; the agent hashes it but does not store it (above the store
# size cap), reports it as alert-only, and alerts on its change instead of
# restoring it, while every other file is still restored.
. "$(dirname "$0")/lib.sh"

G=$T/site
mkdir -p "$G"
echo '<h1>portal</h1>' >"$G/index.html"
truncate -s 5G "$G/archive.iso"

"$YJ" scan "$G" --json >"$T/scan.json" || fail "scan of a tree with a 5 GB file failed"
tail -n 1 "$T/scan.json" | python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
assert s["files"] == 2, s
assert s["bytes"] >= 5 * 1024**3, s
assert s["hashed_bytes"] >= 5 * 1024**3, s' || fail "scan summary: $(tail -n 1 "$T/scan.json")"

start_agent "$T/state" "$G" --max-store-size 64M
"$YJ" status --state "$T/state" --json | python3 -c '
import json, sys
g = json.loads(sys.stdin.read())["guards"][0]
assert g["alert_only"] == 1, g' || fail "status does not count the big file as alert-only"
[ "$(du -sm "$T/state/store" | cut -f1)" -lt 64 ] || fail "the 5 GB file went into the store"

mark_events
printf 'X' | dd of="$G/archive.iso" bs=1 seek=4096 conv=notrunc status=none
assert_event tamper "$G/archive.iso" alerted
echo defaced >"$G/index.html"
wait_until 'grep -q portal "$G/index.html"' 10 "the small file is restored"
stop_agent
echo "PASS: $TEST_NAME"
