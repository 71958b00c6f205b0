# test_server_bad_frames.sh - `yingji serve` against agents that send bad
# frames: unknown types, a length of 0, truncated frames, lengths over
# WIRE_MAX_FRAME; agents replaying sequence numbers already acknowledged;
# NULs and invalid UTF-8 inside events; slowloris peers on the agent port.
# Each gets a clear error (or is stored as it came), and the server goes on
# working and loses nothing (the canary agent after each case).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"

start_server "$T/data"
CA=$SRV_DATA/pki/ca.crt
setup_canary
assert_healthy "at start"
enroll_peer frames
F=$PEER_ID
FSEQ=0		# the last of F's events acknowledged so far

# bad_frame WHAT MESSAGE-REGEX STEP...: after HELLO and one good event, the
# steps make the server answer ERROR bad_frame and close; only the good
# events are stored.
bad_frame() {
	local what=$1 re=$2
	shift 2

	FSEQ=$((FSEQ + 1))
	peer_send frames "hello $F" welcome "events 1 $FSEQ $FSEQ" "waitack 1 $FSEQ" "$@" \
		"waitclose 5000"
	[ $RC -eq 0 ] || fail "$what: the server did not close the connection (exit $RC)"
	assert_out "^ERROR .*\"error\":\"bad_frame\".*$re" "$what"
	assert_out '^closed$' "$what: the server closes"
	assert_seqs "$F" bulk "$FSEQ"
	assert_healthy "after $what"
}

bad_frame "an unknown frame type" 'malformed frame' "frame 99 7b7d"
bad_frame "frame type 0" 'malformed frame' "frame 0 7b7d"
bad_frame "a frame of length 0" 'malformed frame' "header 0 5"
bad_frame "an EVENT too short for its header" 'malformed frame' "frame 5 0100000000"
bad_frame "an EVENT on lane 7" 'malformed frame' "event 7 100 {\"type\":\"test\"}"
bad_frame "an EVENT with sequence number 0" 'malformed frame' "event 1 0 {\"type\":\"test\"}"
bad_frame "an ACK sent to the server" 'unexpected frame type' "frame 6 01ffffffffffffffff"
bad_frame "an ENROLLED sent to the server" 'unexpected frame type' "json enrolled {\"agent\":1}"
bad_frame "a second HELLO" 'unexpected frame type' "hello $F"

# Oversized: only the header claiming more than WIRE_MAX_FRAME (1 MiB + 64) is
# sent; the server must answer at once, neither waiting for the body nor
# allocating it.
rss_before=$(awk '/^VmRSS/ {print $2}' /proc/"$SRV_PID"/status)
bad_frame "a frame over WIRE_MAX_FRAME" 'frame too large' "header 1048641 5"
bad_frame "a frame claiming 4 GiB" 'frame too large' "header 0xffffffff 5"
anon_send "header 0x7fffffff 1" "waitclose 5000"
assert_out '^ERROR .*"error":"bad_frame".*frame too large' "an oversized ENROLL without a certificate"
rss_after=$(awk '/^VmRSS/ {print $2}' /proc/"$SRV_PID"/status)
# (a 4 GiB or even 2 GiB allocation would show; sanitizer builds vary by some MiB)
[ $((rss_after - rss_before)) -lt 200000 ] ||
	fail "the server grew from $rss_before to $rss_after KiB after oversized frame headers"
# The biggest frame allowed is still taken.
FSEQ=$((FSEQ + 1))
peer_send frames "hello $F" welcome "bigevents 1 $FSEQ $FSEQ 524288" "waitack 1 $FSEQ"
[ $RC -eq 0 ] || fail "a 512 KiB event was not acknowledged"
assert_seqs "$F" bulk "$FSEQ"

# Truncated frames, then the peer goes away: nothing of them is stored.
for cut in "header 100 5" "raw 6400000005010900000000000000" "raw 0a00" \
	"raw 15000000050100"; do
	FSEQ=$((FSEQ + 1))
	peer_send frames "hello $F" welcome "events 1 $FSEQ $FSEQ" "waitack 1 $FSEQ" "$cut" close
	[ $RC -eq 0 ] || fail "truncated frame '$cut': badpeer failed"
	assert_seqs "$F" bulk "$FSEQ"
	assert_healthy "after a truncated frame ($cut) and a close"
done

# ---- replay: old sequence numbers again are acknowledged, not stored again

enroll_peer replay
P=$PEER_ID
peer_send replay "hello $P" welcome "events 1 1 10" "waitack 1 10"
[ $RC -eq 0 ] || fail "replay: events 1..10 were not acknowledged"
assert_seqs "$P" bulk 10
peer_send replay "hello $P" welcome "events 1 1 12" "waitack 1 12"
[ $RC -eq 0 ] || fail "replay: events 1..12 after 1..10 were not acknowledged"
assert_out '^WELCOME .*"acked":\[0,10\]' "replay: WELCOME says what is committed"
assert_seqs "$P" bulk 12
# Within one connection, in a jumble.
peer_send replay "hello $P" welcome "events 1 5 7" "events 1 1 1" "events 1 13 13" \
	"events 1 12 13" "waitack 1 13"
[ $RC -eq 0 ] || fail "replay: jumbled resends were not acknowledged"
assert_seqs "$P" bulk 13
# An old number after a gap never overwrites anything: 20 is stored, 14..19
# were never sent, and then 15 (below the highest taken) is a duplicate.
peer_send replay "hello $P" welcome "events 1 20 20" "waitack 1 20" "events 1 15 15" "read 500"
dup=$(api_get /metrics | awk '$1 == "yingji_events_duplicate_total" {print $2}')
[ "${dup:-0}" -ge 16 ] || fail "replay: /metrics counts $dup duplicates, expected at least 16"
n=$(agent_seqs "$P" | grep -c '^bulk ')
[ "$n" -eq 14 ] || fail "replay: $n bulk events stored, expected 14 (1..13 and 20)"

# Sequence numbers belong to the agent, not to a lane (one journal): the two
# lanes interleave them, each in increasing order, and each lane is
# acknowledged on its own. A number already used on one lane, sent again on
# the other, is a duplicate: the centre keeps the first.
enroll_peer lanes
L=$PEER_ID
peer_send lanes "hello $L" welcome "events 1 1 1" "events 0 2 2" "events 1 3 3" "events 0 4 4" \
	"waitack 0 4" "waitack 1 3" "events 0 3 3" "events 0 5 5" "waitack 0 5" "events 1 6 6" \
	"waitack 1 6"
[ $RC -eq 0 ] || fail "lanes: events on both lanes were not acknowledged"
got=$(agent_seqs "$L" | tr '\n' ' ')
[ "$got" = "bulk 1 bulk 3 bulk 6 urgent 2 urgent 4 urgent 5 " ] ||
	fail "lanes: stored (lane seq) pairs are not exactly the six sent once: $got"
assert_healthy "after replays"

# ---- NULs and invalid UTF-8: stored as invalid_event, with the bytes, and acknowledged

enroll_peer bytes
Y=$PEER_ID
hex() { printf '%s' "$1" | od -An -tx1 -v | tr -d ' \n'; }
# payload hex for each case
cases=(
	"$(hex '{"type":"tamper","path":"/a')00$(hex 'b"}')"		# NUL inside a string
	"$(hex '{"type":"tamper","path":"/a')fffe$(hex '"}')"		# bytes never in UTF-8
	"$(hex '{"type":"tamper","path":"/')c0af$(hex '"}')"		# overlong '/'
	"$(hex '{"type":"tamper","path":"/')eda080$(hex '"}')"		# a UTF-16 surrogate
	"$(hex '{"type":"tamper"')00$(hex '}')"				# NUL outside a string
	"$(hex '{"type":"ta')e4$(hex 'mper"}')"				# bad byte in "type"
	"$(hex 'not json at all')"
	"$(hex '{"type":"Tamper Evil"}')"				# a type that is no word
	"$(hex '{"type":"tamper","seq":1}')"				# a reserved key
	"00"
)
s=0
for c in "${cases[@]}"; do
	s=$((s + 1))
	peer_send bytes "hello $Y" welcome "eventhex 1 $s $c" "waitack 1 $s"
	[ $RC -eq 0 ] || fail "invalid event $s ($c) was not acknowledged"
	line=$(yjc events --json --agent "$Y" | python3 -c '
import json, sys
for l in sys.stdin:
    if l.strip():
        e = json.loads(l)
        if e.get("seq") == int(sys.argv[1]) and e.get("lane") == "bulk":
            print(json.dumps(e))' "$s")
	[ -n "$line" ] || fail "invalid event $s ($c) was not stored"
	[ "$(json_field "$line" 'j["type"]')" = invalid_event ] ||
		fail "invalid event $s ($c) stored as another type: $line"
	[ "$(json_field "$line" 'bool(j.get("error"))')" = True ] ||
		fail "invalid event $s ($c) stored without the reason: $line"
	[ "$(json_field "$line" 'j["raw_hex"]')" = "$c" ] ||
		fail "invalid event $s: raw_hex is not the bytes sent ($c): $line"
done
# Escaped NULs and non-ASCII in valid JSON are taken as they are.
s=$((s + 1))
peer_send bytes "hello $Y" welcome \
	"event 1 $s {\"type\":\"tamper\",\"path\":\"/a\\u0000b\",\"note\":\"应急 \\ud83d\\ude00\"}" \
	"waitack 1 $s"
[ $RC -eq 0 ] || fail "an event with escaped NUL was not acknowledged"
line=$(yjc events --json --agent "$Y" --type tamper)
[ "$(json_field "$line" 'j["path"] == "/a\x00b"')" = True ] ||
	fail "the escaped NUL in the path did not come back: $line"
[ "$(json_field "$line" 'j["note"]')" = "应急 😀" ] || fail "the note did not come back: $line"
assert_seqs "$Y" bulk "$s"
assert_healthy "after NULs and invalid UTF-8"

# ---- slowloris on the agent port: cut within the deadline (10 s), others served meanwhile

python3 - "$AGENTS" "$T/slow" <<-'EOF' &
import socket, sys, time, threading
host, port = sys.argv[1].rsplit(":", 1)
res = {}
def slow(name, first):
    s = socket.create_connection((host, int(port)))
    t0 = time.monotonic()
    if first:
        s.sendall(first)
    s.settimeout(30)
    try:
        while s.recv(4096):
            pass
        res[name] = "closed after %.1f s" % (time.monotonic() - t0)
    except socket.timeout:
        res[name] = "still open after %.1f s" % (time.monotonic() - t0)
    except OSError as e:
        res[name] = "closed after %.1f s (%s)" % (time.monotonic() - t0, e)
# nothing; a TLS record header only; half a ClientHello
hello = bytes.fromhex("16030100c4010000c00303") + bytes(32)
ts = [threading.Thread(target=slow, args=a) for a in
      [("silent", b""), ("header", hello[:5]), ("half-hello", hello[:40])]]
for t in ts: t.start()
for t in ts: t.join()
with open(sys.argv[2], "w") as f:
    for k in sorted(res):
        f.write("%s: %s\n" % (k, res[k]))
EOF
slow_pid=$!
YJ_PIDS+=("$slow_pid")
# A peer with a certificate that finishes the handshake but never says HELLO.
"$BADPEER" send --server "$AGENTS" --ca "$CA" --cert "$T/peers/frames/agent.crt" \
	--key "$T/peers/frames/agent.key" "waitclose 25000" >"$T/nohello.out" 2>&1 &
nohello_pid=$!
YJ_PIDS+=("$nohello_pid")
sleep 1
for i in 1 2 3; do
	assert_healthy "while slowloris peers hold connections ($i)"
	api_get /api/v1/status >/dev/null || fail "the API does not answer while slowloris peers wait"
	sleep 1
done
wait "$slow_pid"
yj_forget_pid "$slow_pid"
wait "$nohello_pid"
rc=$?
yj_forget_pid "$nohello_pid"
[ -s "$T/slow" ] || fail "the slowloris client wrote no results"
while read -r name rest; do
	t=$(printf '%s' "$rest" | sed -n 's/^closed after \([0-9.]*\) s.*/\1/p')
	[ -n "$t" ] || fail "slowloris $name: $rest"
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 15 else 1)' "$t" ||
		fail "slowloris $name: $rest (the deadline is 10 s)"
done <"$T/slow"
# (cut without close_notify: "connection failed: connection closed by peer")
[ $rc -eq 0 ] && grep -qE '^(closed|connection failed: connection closed)' "$T/nohello.out" ||
	fail "a peer that never says HELLO was not cut within 25 s: $(cat "$T/nohello.out")"
assert_healthy "after slowloris peers"
assert_seqs "$F" bulk "$FSEQ"
n=$(agent_seqs "$P" | wc -l)
[ "$n" -eq 14 ] || fail "the replay agent's events changed: $n stored, expected 14"

stop_server
