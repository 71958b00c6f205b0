# test_restart.sh - what changed while the agent was down is repaired at the
# next start and reported as drift; after kill -9 (also in the middle of an
# attack) the state directory still works and the journal keeps every event.
. "$(dirname "$0")/lib.sh"

G=$T/www
S=$T/state
P=$T/pristine
make_site "$G"
cp -a "$G" "$P"

# Every line of `events --json` is one JSON object; prints the count.
journal_lines() {
	events_json "$S" >"$T/journal.out" 2>"$T/journal.err" ||
		fail "events --json failed: $(cat "$T/journal.err")"
	python3 - "$T/journal.out" <<-'EOF' || fail "the journal has a line that is not a JSON object"
	import json, sys
	n = 0
	for i, raw in enumerate(open(sys.argv[1], "rb"), 1):
	    e = json.loads(raw.decode("utf-8", "surrogateescape"))
	    if not isinstance(e, dict) or "type" not in e or "time_ns" not in e:
	        print("line %d: %r" % (i, raw), file=sys.stderr)
	        sys.exit(1)
	    n += 1
	print(n)
	EOF
}

start_agent "$S" "$G"
echo hacked >"$G/index.html"
wait_restored "$G" "$P" 15 "tamper before the first stop"
assert_event tamper "$G/index.html" restored
stop_agent
"$YJ" status --state "$S" >/dev/null 2>&1
[ $? -eq 3 ] || fail "status of a stopped agent should exit 3"

# Changes while the agent is down.
echo "defaced while down" >"$G/index.html"
rm "$G/sub/b.txt"
rm -rf "$G/sub/deep"
echo '<?php eval($_POST[1]); ?>' >"$G/backdoor.php"
mkdir "$G/newdir" && echo x >"$G/newdir/x"
chmod 777 "$G/run.sh"
chown nobody "$G/a.txt"
before=$(journal_lines)

mark_events
start_agent "$S" "$G"
# Repaired before the guard says ready.
assert_tree_same "$G" "$P" "changes made while the agent was down are not all repaired at start"
assert_event drift "$G/index.html" restored
assert_event drift "$G/sub/b.txt" restored
assert_event drift "$G/sub/deep" recreated
assert_event drift "$G/backdoor.php" quarantined
q=$(ev_get "$EVENT" "e['quarantine']")
[ "$(cat "$S/$q")" = '<?php eval($_POST[1]); ?>' ] || fail "the backdoor in quarantine lost its content"
assert_event drift "$G/newdir" quarantined
assert_event drift "$G/run.sh" restored
assert_event drift "$G/a.txt" restored
# Guarding again.
echo again >"$G/a.txt"
wait_restored "$G" "$P" 15 "tamper after the restart"
assert_event tamper "$G/a.txt" restored

# kill -9: the journal keeps what it had, and the next start works.
after_tamper=$(journal_lines)
[ "$after_tamper" -gt "$before" ] || fail "no new events after the restart"
crash_agent
n=$(journal_lines)
[ "$n" -ge "$after_tamper" ] || fail "events were lost by kill -9: $n < $after_tamper"
echo "while crashed" >"$G/conf.ini"
mark_events
start_agent "$S" "$G"
assert_tree_same "$G" "$P" "the change made after kill -9 is not repaired at start"
assert_event drift "$G/conf.ini" restored
assert_event agent_start ""
echo "after crash" >"$G/index.html"
wait_restored "$G" "$P" 15 "tamper after a restart from kill -9"
assert_event tamper "$G/index.html" restored
# The control socket of the new agent answers.
"$YJ" pause --state "$S" "$G" >"$T/out" 2>&1 || fail "pause after a restart from kill -9: $(cat "$T/out")"
"$YJ" resume --state "$S" "$G" >"$T/out" 2>&1 || fail "resume after a restart from kill -9: $(cat "$T/out")"

# kill -9 in the middle of an attack: a loop rewriting files while the agent
# restores them and journals every repair.
( for i in $(seq 1 400); do
	echo "attack $i" >"$G/index.html"
	echo "attack $i" >"$G/sub/attack-$((i % 5)).php"
done ) 2>/dev/null &
attacker=$!
wait_until "[ \$(count_events \"e.get('type') in ('tamper', 'tamper_persistent')\") -ge 3 ]" 15 \
	"the agent to journal the attack"
crash_agent
wait $attacker
n=$(journal_lines)
[ "$n" -gt "$after_tamper" ] || fail "the attack's events were lost"

mark_events
start_agent "$S" "$G"
assert_tree_same "$G" "$P" "after kill -9 during an attack the tree is not repaired at start"
ls -A "$G" "$G/sub" | grep -q yingji && fail "temporary files of the agent left in the tree: $(ls -A "$G" "$G/sub")"
journal_lines >/dev/null
stop_agent

# The guarded directory itself replaced by a symlink, then deleted, while down.
etc_stat=$(stat -c '%a %u %g %i' /etc)
mv "$G" "$T/www.old" && ln -s /etc "$G"
mark_events
start_agent "$S" "$G"
[ -d "$G" ] && [ ! -L "$G" ] || fail "the guarded directory is not a directory again after start"
assert_tree_same "$G" "$P" "root replaced by a symlink while down"
assert_event drift "$G" recreated
[ "$(stat -c '%a %u %g %i' /etc)" = "$etc_stat" ] || fail "/etc was changed through the symlink"
stop_agent
rm -rf "$G"
mark_events
start_agent "$S" "$G"
assert_tree_same "$G" "$P" "root deleted while down"
assert_event drift "$G" recreated
stop_agent

# Every start and stop is in the journal, in order.
YJ_MARK=0
starts=$(count_events "e.get('type') == 'agent_start'")
stops=$(count_events "e.get('type') == 'agent_stop'")
[ "$starts" -eq 6 ] || fail "expected 6 agent_start events, got $starts"
[ "$stops" -eq 4 ] || fail "expected 4 agent_stop events (two runs ended by kill -9), got $stops"
python3 - "$T/journal.out" <<'EOF' || fail "journal times go backwards"
import json, sys
t = [json.loads(l)["time_ns"] for l in open(sys.argv[1], "rb")]
sys.exit(0 if all(a <= b for a, b in zip(t, t[1:])) else 1)
EOF
exit 0
