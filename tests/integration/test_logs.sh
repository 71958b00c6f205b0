#!/usr/bin/env bash
# Log collection (`run --log FILE`): appended lines become "log" events in
# order; rotation by rename and by copytruncate; a file created later; lines
# written while the agent was down or killed arrive exactly once; a 1 MB line
# is cut with a mark; binary garbage arrives escaped; log events travel to the
# centre in the bulk lane.
. "$(dirname "$0")/lib.sh"

# The "line" of every log event of PATH (exact) since the mark, in order.
log_lines() {
	events_json | python3 -c '
import json, sys
path, mark = sys.argv[1], int(sys.argv[2])
for raw in sys.stdin:
    e = json.loads(raw)
    if e.get("type") == "log" and e.get("path") == path and e.get("time_ns", 0) >= mark:
        print(e["line"])' "$1" "$YJ_MARK"
}

# check_once PREFIX FILE...: every line starting with PREFIX in the FILEs came
# as exactly one event of any followed file since the mark, and no other event
# line starts with PREFIX. Prints what is wrong; true when nothing is.
check_once() {
	local prefix=$1
	shift
	events_json | python3 -c '
import collections, json, sys
prefix, mark, files = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
want = collections.Counter()
for f in files:
    with open(f, "rb") as fh:
        for l in fh.read().decode("utf-8", "surrogateescape").split("\n"):
            if l.startswith(prefix):
                want[l] += 1
got = collections.Counter()
for raw in sys.stdin:
    e = json.loads(raw)
    if e.get("type") == "log" and e.get("time_ns", 0) >= mark and e["line"].startswith(prefix):
        got[e["line"]] += 1
missing = want - got
extra = got - want
if missing or extra:
    print("%d lines wanted, %d got; missing %d (e.g. %s), extra/duplicate %d (e.g. %s)" % (
        sum(want.values()), sum(got.values()), sum(missing.values()), list(missing)[:3],
        sum(extra.values()), list(extra)[:3]))
    sys.exit(1)' "$prefix" "$YJ_MARK" "$@"
}

L=$T/logs
mkdir -p "$L"
A=$L/access.log
printf 'before the first start\n' >"$A"

new_site logs
LOGOPTS=(--log "$A" --log "$L/late.log" --log "$L/ct.log" --log "$L/big.log" --log "$L/down.log")
mark_events
start_agent "$S" "$G" "${LOGOPTS[@]}"

# 1. Appended lines arrive in order with their text; a file that existed at
# the first start is read from its end.
for i in 1 2 3; do
	printf '10.0.0.%d - - "GET /page%d HTTP/1.1" 200 %d "ua/%d"\n' "$i" "$i" "$i" "$i" >>"$A"
done
wait_until '[ "$(log_lines "$A" | wc -l)" -ge 3 ]' 10 "three log events"
got=$(log_lines "$A")
want=$(for i in 1 2 3; do
	printf '10.0.0.%d - - "GET /page%d HTTP/1.1" 200 %d "ua/%d"\n' "$i" "$i" "$i" "$i"
done)
[ "$got" = "$want" ] || fail "log lines differ: got
$got
want
$want"
ev=$(select_events "e['type']=='log'" | head -n 1)
[ "$(ev_get "$ev" 'e["truncated"]')" = False ] || fail "truncated set on a short line: $ev"
[ "$(ev_get "$ev" 'e["offset"]')" -gt 0 ] || fail "no offset: $ev"

# A last line without its newline waits for it.
printf 'half a li' >>"$A"
sleep 1.2	# a tick: the half line must not have been emitted by then
[ "$(log_lines "$A" | grep -c 'half a li')" -eq 0 ] || fail "a line without its newline was emitted"
printf 'ne\n' >>"$A"
wait_until '[ "$(log_lines "$A" | grep -cx "half a line")" -eq 1 ]' 10 "the completed line"

# 2. Rotation by rename in the middle of writing: all lines, none twice.
mark_events
(for i in $(seq 1 3000); do
	echo "rot $i" >>"$A"
	[ $((i % 100)) -eq 0 ] && sleep 0.01
done) &
wpid=$!
wait_until '[ "$(wc -l <"$A")" -ge 500 ]' 10 "the writer"
mv "$A" "$A.1"
wait "$wpid"
grep -q '^rot ' "$A" || fail "the writer was done before the rotation (test too slow to race)"
wait_until 'check_once "rot " "$A.1" "$A"' 20 "every rotated line exactly once"
grep -q "rotated" "$AGENT_LOG" || fail "no log line about the rotation"

# A writer that keeps its descriptor (until the reload logrotate's
# postrotate asks for) goes on writing to the renamed file for a while:
# those lines arrive too.
mark_events
exec 3>>"$A"
echo "held 1" >&3
mv "$A" "$A.3"
echo "held new 1" >>"$A"
wait_until '[ "$(log_lines "$A" | grep -cx "held new 1")" -eq 1 ]' 10 "the new file after the rename"
echo "held 2 (old file, after the switch)" >&3
exec 3>&-
wait_until 'check_once "held " "$A.3" "$A"' 10 "the lines written to the renamed file after the switch"

# A rotation leaving the old file's last line without its newline: emitted at the switch.
printf 'last without newline' >>"$A"
mv "$A" "$A.2"
echo "first of the new file" >>"$A"
wait_until '[ "$(log_lines "$A" | grep -cx "first of the new file")" -eq 1 ]' 10 "the new file's line"
wait_until '[ "$(log_lines "$A" | grep -cx "last without newline")" -eq 1 ]' 15 \
	"the old file's unterminated last line (once the rotated file is let go)"

# 3. copytruncate: the copy is taken, the file emptied, writing goes on.
C=$L/ct.log
mark_events
for i in $(seq 1 50); do echo "ct before $i with some padding to make it longer" >>"$C"; done
wait_until 'check_once "ct before " "$C"' 10 "the lines before copytruncate"
cp "$C" "$C.1"
: >"$C"
wait_until 'grep -q "ct.log: truncated" "$AGENT_LOG"' 10 "the truncation noticed"
for i in $(seq 1 5); do echo "ct after $i" >>"$C"; done
wait_until 'check_once "ct after " "$C"' 10 "the lines after copytruncate"
check_once "ct before " "$C.1" >/dev/null || fail "lines before copytruncate repeated: $(check_once "ct before " "$C.1")"

# 4. A file created after the start is read from its beginning.
echo "late 1" >"$L/late.log"
echo "late 2" >>"$L/late.log"
wait_until '[ "$(log_lines "$L/late.log" | tr "\n" ,)" = "late 1,late 2," ]' 10 "the late file's lines"

# 5. A 1 MB line: one event cut at 64 KiB and marked; the next line is fine.
B=$L/big.log
python3 -c 'import sys; sys.stdout.write("B" * 1048576 + "\nafter the big line\n")' >>"$B"
wait_until '[ "$(log_lines "$B" | grep -cx "after the big line")" -eq 1 ]' 10 "the line after the big one"
ev=$(select_events "e['type']=='log' and e['path']=='$B' and e['line'].startswith('BBB')")
[ "$(printf '%s\n' "$ev" | wc -l)" -eq 1 ] || fail "the big line is not exactly one event"
[ "$(ev_get "$ev" 'e["truncated"]')" = True ] || fail "the big line is not marked truncated"
[ "$(ev_get "$ev" 'len(e["line"])')" -eq 65536 ] || fail "the big line was not cut at 64 KiB"
[ "$(ev_get "$ev" 'e["offset"]')" -eq 1048577 ] || fail "the big line's offset is not its end"

# 6. Binary garbage and invalid UTF-8: arrive, escaped; the next line is fine.
printf 'garbage \xff\xfe\x80 bytes \x01\x02\x1b[31m \xe4\xb8\n' >>"$B"
printf 'valid 中文 after garbage\n' >>"$B"
wait_until '[ "$(log_lines "$B" | grep -cx "valid 中文 after garbage")" -eq 1 ]' 10 "the line after the garbage"
raw=$(events_json | grep '"line":"garbage ') || fail "the garbage line did not arrive"
printf '%s' "$raw" | grep -qF '\\xff\\xfe\\x80' || fail "invalid UTF-8 not escaped as \\xHH: $raw"
printf '%s' "$raw" | python3 -c 'import json,sys; json.loads(sys.stdin.read())' ||
	fail "the garbage event is not valid JSON: $raw"

# 7. Stopped, 100 lines appended, started: exactly those 100.
stop_agent
mark_events
for i in $(seq 1 100); do echo "down $i" >>"$A"; done
start_agent "$S" "$G" "${LOGOPTS[@]}"
wait_until 'check_once "down " "$A"' 10 "the 100 lines written while down"
sleep 1.5	# a tick or so: nothing more may come
check_once "down " "$A" >/dev/null || fail "lines written while down: $(check_once "down " "$A")"
[ "$(count_events "e['type']=='log' and not e['line'].startswith('down ')")" -eq 0 ] ||
	fail "lines read before the stop came again after the start"

# Many lines at once (more than a turn's share): all of them, none twice.
stop_agent
mark_events
python3 -c '
import sys
with open(sys.argv[1], "a") as f:
    for i in range(1, 25001):
        f.write("many %d\n" % i)' "$L/ct.log"
start_agent "$S" "$G" "${LOGOPTS[@]}"
echo "share other" >>"$A"
wait_until '[ "$(log_lines "$A" | grep -cx "share other")" -eq 1 ]' 10 "a line of another file meanwhile"
wait_until 'check_once "many " "$L/ct.log"' 30 "the 25,000 lines"

# 8. SIGKILL while 2,000 lines are written at speed; after the restart every
# line is there exactly once.
mark_events
python3 -c '
import sys, time
with open(sys.argv[1], "a") as f:
    for i in range(1, 2001):
        f.write("kill %d %s\n" % (i, "x" * (i % 50)))
        f.flush()
        if i % 20 == 0:
            time.sleep(0.01)' "$A" &
wpid=$!
wait_until '[ "$(log_lines "$A" | wc -l)" -ge 200 ]' 10 "lines before the kill"
kill -0 "$wpid" 2>/dev/null || fail "the writer was done before the kill (test too slow to race)"
crash_agent
wait "$wpid"
start_agent "$S" "$G" "${LOGOPTS[@]}"
wait_until 'check_once "kill " "$A"' 20 "the 2,000 lines after the kill"
sleep 1.5
check_once "kill " "$A" >/dev/null || fail "after the kill: $(check_once "kill " "$A")"

# 9. A file replaced while the agent was down: the new one read from 0.
stop_agent
mark_events
mv "$L/late.log" "$L/late.log.old"
printf 'replaced 1\nreplaced 2\n' >"$L/late.log"
# A path that never had a file until the agent was down: read from 0.
printf 'created while down 1\ncreated while down 2\n' >"$L/down.log"
start_agent "$S" "$G" "${LOGOPTS[@]}"
wait_until '[ "$(log_lines "$L/late.log" | tr "\n" ,)" = "replaced 1,replaced 2," ]' 10 "the replaced file from 0"
grep -q "replaced while the agent was down" "$AGENT_LOG" || fail "no log line about the replaced file"
wait_until '[ "$(log_lines "$L/down.log" | tr "\n" ,)" = "created while down 1,created while down 2," ]' 10 \
	"a file created while the agent was down, from 0"
stop_agent

# 10. With a centre: log events arrive there, in the bulk lane.
start_server "$T/centre" --heartbeat 1s
new_site centre
enroll "$S" logs
mark_events
printf 'log = %s\n' "$L/centre.log" >"$W/agent.conf"	# the config key, this time
start_agent "$S" "$G" --config "$W/agent.conf"
echo "to the centre" >>"$L/centre.log"
wait_until "[ \$(centre_count 'e[\"type\"]==\"log\" and e.get(\"line\")==\"to the centre\"') -ge 1 ]" 20 \
	"the log event at the centre"
ev=$(centre_events "e['type']=='log'" | tail -n 1)
[ "$(ev_get "$ev" 'e["lane"]')" = bulk ] || fail "the log event did not travel bulk: $ev"
stop_agent
stop_server

echo "PASS: $TEST_NAME"
