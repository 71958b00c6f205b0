# test_server_disk_full.sh - `yingji serve` with its data directory on a full
# disk (a small tmpfs): events that cannot be committed are not acknowledged,
# the status says why and that agents are not read (backpressure), the agent
# keeps them; once there is room again every event is stored exactly once and
# acknowledged, and replaying them stores nothing twice.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"

M=$T/disk
mkdir -p "$M"
mount -t tmpfs -o size=24m,mode=0700 yingji-test "$M" || fail "cannot mount a tmpfs on $M"
on_cleanup "umount -l '$M'"

start_server "$M/data"
setup_canary
assert_healthy "at start"
enroll_peer full
F=$PEER_ID
peer_send full "hello $F" welcome "events 1 1 5" "waitack 1 5"
[ $RC -eq 0 ] || fail "the first events were not acknowledged"

# store_field PYEXPR: evaluated on the status's "store" object s.
store_field() {
	local st

	st=$(yjc status --json 2>/dev/null) || return 1
	python3 -c '
import json, sys
s = json.loads(sys.argv[1])["store"]
print(eval(sys.argv[2], {}, {"s": s}))' "$st" "$1"
}

# Fill the disk (dd stops at ENOSPC), leaving nothing for the database.
dd if=/dev/zero of="$M/fill" bs=64k >/dev/null 2>&1
avail=$(df -k --output=avail "$M" | tail -n 1 | tr -d ' ')
[ "$avail" -le 64 ] || fail "the tmpfs still has $avail KiB free"

# 60 events of 64 KiB: far more than the database's WAL could take in place.
log_mark
"$BADPEER" send -v --server "$AGENTS" --ca "$SRV_DATA/pki/ca.crt" --cert "$T/peers/full/agent.crt" \
	--key "$T/peers/full/agent.key" --timeout 120000 "hello $F" welcome \
	"bigevents 1 6 65 65536" "waitack 1 65 120000" >"$T/full.out" 2>&1 &
peer_pid=$!
YJ_PIDS+=("$peer_pid")
wait_until '[ "$(store_field "s[\"error\"] is not None")" = True ]' 30 \
	"the status to report the store's error"
assert_log 'cannot commit' "the store's error in the log"
wait_until '[ "$(store_field "s[\"backpressure\"]")" = True ]' 15 "backpressure in the status"
# (taken whole, then searched: `grep -q` on a pipe can close it early, and the
# writer's broken pipe then fails the line under pipefail)
metrics=$(api_get /metrics) || fail "/metrics could not be read"
grep -q '^yingji_store_failing 1$' <<<"$metrics" || fail "/metrics does not say the store fails"
# While the disk is full nothing beyond event 5 is acknowledged, and nothing is
# lost: the peer still holds its events.
sleep 3
kill -0 "$peer_pid" 2>/dev/null || fail "the peer gave up while the disk was full: $(cat "$T/full.out")"
OUT=$(cat "$T/full.out")
assert_out_not '^ACK 1 ([6-9]|[1-9][0-9])$' "events acknowledged while the disk is full"
assert_out_not '^(ERROR|closed|connection failed)' "the peer's connection while the disk is full"
yjc status --json >/dev/null || fail "the API does not answer while the disk is full"

# Room again: everything is stored and acknowledged, once.
rm -f "$M/fill"
wait "$peer_pid"
rc=$?
yj_forget_pid "$peer_pid"
OUT=$(cat "$T/full.out")
[ $rc -eq 0 ] || fail "the events were not all acknowledged after the disk had room again (exit $rc)"
assert_out '^acked 1 65$' "the last acknowledgement"
wait_until '[ "$(store_field "s[\"error\"] is None and not s[\"backpressure\"]")" = True ]' 15 \
	"the store's error to clear"
assert_seqs "$F" bulk 65
# The agent resends what it had (as after a crash): nothing is stored twice.
peer_send full "hello $F" welcome "events 1 1 65" "waitack 1 65"
[ $RC -eq 0 ] || fail "the replay after the disk was full was not acknowledged"
assert_out '^WELCOME .*"acked":\[0,65\]' "WELCOME after the disk was full"
assert_seqs "$F" bulk 65
assert_healthy "after the disk was full"

# And a restart finds the same.
stop_server
start_server "$M/data"
assert_seqs "$F" bulk 65
assert_healthy "after a restart"
stop_server
