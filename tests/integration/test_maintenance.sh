#!/usr/bin/env bash
# A configured maintenance window (from --config): during it the guard is
# paused and hand edits stay; at its end they are accepted as a publish, and
# from then on that new content is what gets restored. Also: a config file
# with a bad line is refused with its line number.
. "$(dirname "$0")/lib.sh"

site=$T/site
mkdir -p "$site"
echo original >"$site/index.html"

# A bad config file: the agent says which line and exits 2.
printf 'state = %s/s0\nguard = %s\nmaintenance = someday 25:00-26:00\n' "$T" "$site" >"$T/bad.conf"
"$YJ" run --config "$T/bad.conf" >"$T/bad.out" 2>&1
rc=$?
[ $rc -eq 2 ] || fail "a bad config file: exit $rc, want 2"
grep -q 'bad.conf:3' "$T/bad.out" || fail "the message does not name line 3: $(cat "$T/bad.out")"

# A window from the current minute (Asia/Shanghai) to the next one. Avoid the
# last seconds of a minute so the window is surely open when the agent starts.
while [ "$(date -u +%S)" -ge 50 ]; do sleep 1; done
start=$(date -u -d '+8 hours' +%H:%M)
end=$(date -u -d '+8 hours +1 minute' +%H:%M)
[ "$end" = "00:00" ] && end=24:00
cat >"$T/agent.conf" <<CONF
# maintenance window for this test
maintenance = "daily $start-$end"
fold_window = 1s
CONF

launch_agent "$T/state" "$site" --config "$T/agent.conf"
wait_agent paused || fail "the agent exited with status $AGENT_RC (log $AGENT_LOG)"
assert_event pause "$site"

echo "edited by hand in the window" >"$site/index.html"
sleep 1
grep -q 'edited by hand' "$site/index.html" || fail "an edit inside the window was undone"

# The window ends within about a minute: the edit is accepted as a publish.
wait_until 'yj_agent_ready "$T/state" "$AGENT_PID" 1 ready' 90 "the guard is ready again after the window"
assert_event publish "$site" accepted '"maintenance" in e.get("detail", "")'
grep -q 'edited by hand' "$site/index.html" || fail "the accepted edit was lost"

# A tamper now restores the accepted version.
echo "tampered" >"$site/index.html"
wait_until 'grep -q "edited by hand" "$site/index.html"' 10 "the accepted version is restored"
stop_agent
echo "PASS: $TEST_NAME"
