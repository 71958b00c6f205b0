#!/usr/bin/env bash
# Priority lanes and the journal's bound, with the centre down for a while:
# a security event overtakes a backlog of informational ones (held to
# --bulk-rate), and an agent whose journal overflows says how much it lost.
. "$(dirname "$0")/lib.sh"

start_server "$T/centre" --heartbeat 1s
new_site lanes
enroll "$S" lanes
start_agent "$S" "$G" --bulk-rate 2
wait_until '[ "$(centre_count "e[\"type\"]==\"guard_ready\"")" -ge 1 ]' 10 "the agent at the centre"

# The centre is down; informational events pile up (pause and resume are
# bulk), then one tamper (urgent).
stop_server
for i in $(seq 1 15); do
	"$YJ" pause --state "$S" "$G" >/dev/null || fail "pause $i failed"
	"$YJ" resume --state "$S" "$G" >/dev/null || fail "resume $i failed"
done
echo defaced >"$G/index.html"
assert_event tamper "$G/index.html" restored
start_server "$T/centre" --heartbeat 1s

wait_until "[ \$(centre_count 'e[\"type\"]==\"tamper\" and e[\"path\"]==\"$G/index.html\"') -ge 1 ]" 20 \
	"the tamper at the centre"
bulk=$(centre_count "e['type'] in ('pause','resume')")
echo "when the tamper arrived, $bulk of the 30 informational events had"
[ "$bulk" -lt 30 ] || fail "the tamper did not overtake the bulk backlog ($bulk of 30 before it)"
ev=$(centre_events "e['type']=='tamper'" | tail -n 1)
[ "$(ev_get "$ev" 'e["lane"]')" = urgent ] || fail "the tamper did not travel urgent: $ev"
wait_until "[ \$(centre_count 'e[\"type\"] in (\"pause\",\"resume\")') -ge 30 ]" 60 \
	"the bulk backlog at the centre"
stop_agent

# The journal's bound: with the centre down, an agent that produces more than
# --journal-max drops the oldest records and says so in an event, which
# reaches the centre once it is back.
new_site full
enroll "$S" full
start_agent "$S" "$G" --journal-max 256k
wait_until '[ "$(centre_count "e[\"type\"]==\"guard_ready\" and e[\"agent\"]=='"$AGENT_ID"'")" -ge 1 ]' 10 \
	"the second agent at the centre"
stop_server
for i in $(seq 0 1499); do
	echo "x$i" >"$G/drop-$i.html"
	[ $((i % 50)) -eq 0 ] && sleep 0.05
done
wait_until '[ "$(count_events "e[\"type\"]==\"state_error\" and \"journal full\" in e.get(\"detail\",\"\")")" -ge 1 ]' 30 \
	"the agent to say its journal overflowed"
start_server "$T/centre" --heartbeat 1s
wait_until "[ \$(centre_count 'e[\"agent\"]==$AGENT_ID and e[\"type\"]==\"state_error\" and \"journal full\" in e.get(\"detail\",\"\")') -ge 1 ]" 30 \
	"the overflow event at the centre"
ev=$(centre_events "e['agent']==$AGENT_ID and e['type']=='state_error'" | head -n 1)
python3 -c 'import json,sys; e=json.loads(sys.argv[1]); assert e["count"] > 0, e' "$ev" ||
	fail "the overflow event does not say how many were lost: $ev"
stop_agent
stop_server
