# test_publish.sh - authorised changes: publish --from a staging tree, pause,
# accept in place, resume, publish while the agent is down, and refusals.
. "$(dirname "$0")/lib.sh"

G=$T/www
S=$T/state
make_site "$G"
start_agent "$S" "$G"

# A release: changed, added, removed entries, a new subdirectory, a new mode.
ST=$T/staging
cp -a "$G" "$ST"
printf '<html>release 2</html>\n' >"$ST/index.html"
printf 'new page\n' >"$ST/new.html"
rm "$ST/a.txt" "$ST/sub/deep/c.txt"
rm -rf "$ST/img"
mkdir -p "$ST/news/2024"
printf 'item\n' >"$ST/news/2024/item.html"
chmod 700 "$ST/run.sh"
ln -sfn new.html "$ST/link"
rm "$ST/empty" && mkdir "$ST/empty" && printf 'now a dir\n' >"$ST/empty/x"
rm -rf "$ST/sub/deep" && printf 'now a file\n' >"$ST/sub/deep"
chown 1234:1234 "$ST/new.html"

mark_events
"$YJ" publish --state "$S" --from "$ST" "$G" >"$T/out" 2>&1 || fail "publish --from failed: $(cat "$T/out")"
diff -r "$ST" "$G" >"$T/diff" 2>&1 || fail "after publish the tree differs from staging: $(cat "$T/diff")"
assert_tree_same "$G" "$ST" "after publish --from"
assert_event publish "$G" accepted "'by root (uid 0' in e.get('detail', '')"
# Nothing is put back afterwards: give the agent time to (wrongly) react.
sleep 1
assert_tree_same "$G" "$ST" "one second after publish --from"
[ "$(count_events "e.get('type') in ('tamper', 'tamper_persistent')")" -eq 0 ] ||
	fail "the publish was taken for tampering: $(select_events "e.get('type') == 'tamper'")"
# The staging tree is untouched, and the new version is the one guarded now.
[ -f "$ST/new.html" ] || fail "publish changed the staging tree"
echo defaced >"$G/new.html"
echo defaced >"$G/news/2024/item.html"
wait_restored "$G" "$ST" 15 "tamper after publish"
assert_event tamper "$G/new.html" restored
cmp -s "$G/new.html" "$ST/new.html" || fail "new.html is not the published version"

# pause, a change by hand, accepted in place by publish.
"$YJ" pause --state "$S" "$G" >"$T/out" 2>&1 || fail "pause failed: $(cat "$T/out")"
assert_event pause "$G"
"$YJ" status --state "$S" --json | grep -q '"state":"paused"' || fail "status does not say paused"
mark_events
printf 'edited by hand\n' >"$G/index.html"
printf 'hotfix\n' >"$G/hotfix.html"
rm "$G/new.html"
sleep 1
[ "$(cat "$G/index.html")" = "edited by hand" ] || fail "a change during the pause was undone"
[ -f "$G/hotfix.html" ] || fail "a file added during the pause was quarantined"
[ "$(count_events "e.get('type') == 'tamper'")" -eq 0 ] || fail "tamper events during the pause"
"$YJ" publish --state "$S" "$G" >"$T/out" 2>&1 || fail "publish (accept in place) failed: $(cat "$T/out")"
assert_event publish "$G" accepted
yj_agent_ready "$S" "$AGENT_PID" 1 || fail "the guard is not ready after publish in place"
P2=$T/pristine2
cp -a "$G" "$P2"
echo defaced >"$G/index.html"
rm "$G/hotfix.html"
echo back >"$G/new.html"
wait_restored "$G" "$P2" 15 "tamper after publish in place"
[ "$(cat "$G/index.html")" = "edited by hand" ] || fail "index.html was not restored to the accepted version"
[ -e "$G/new.html" ] && fail "new.html (removed and accepted) is back"
assert_event tamper "$G/new.html" quarantined

# publish without --from when not paused is refused.
"$YJ" publish --state "$S" "$G" >"$T/out" 2>&1
[ $? -eq 2 ] || fail "publish in place without pause should be refused"
grep -q "not paused" "$T/out" || fail "publish in place without pause: unclear message: $(cat "$T/out")"

# pause, edit, resume: the edit is undone.
"$YJ" pause --state "$S" "$G" >"$T/out" 2>&1 || fail "pause failed: $(cat "$T/out")"
"$YJ" pause --state "$S" "$G" >"$T/out" 2>&1
[ $? -eq 2 ] || fail "a second pause should be refused"
grep -q "already paused" "$T/out" || fail "second pause: unclear message: $(cat "$T/out")"
printf 'temporary\n' >"$G/index.html"
printf 'temp\n' >"$G/tmp.html"
chmod 600 "$G/run.sh"
mark_events
"$YJ" resume --state "$S" "$G" >"$T/out" 2>&1 || fail "resume failed: $(cat "$T/out")"
wait_restored "$G" "$P2" 15 "resume"
assert_event resume "$G"
"$YJ" resume --state "$S" "$G" >"$T/out" 2>&1
[ $? -eq 2 ] || fail "resume when not paused should be refused"

# A pause survives a restart of the agent.
"$YJ" pause --state "$S" "$G" >"$T/out" 2>&1 || fail "pause failed: $(cat "$T/out")"
stop_agent
launch_agent "$S" "$G"
wait_agent any || fail "the agent did not start with a paused guard (exit $AGENT_RC)"
wait_until "'$YJ' status --state '$S' --json | grep -q '\"state\":\"paused\"'" 10 \
	"the guard paused after the restart"
printf 'edited after restart\n' >"$G/index.html"
sleep 1
[ "$(cat "$G/index.html")" = "edited after restart" ] || fail "the pause did not survive the restart"
"$YJ" resume --state "$S" "$G" >"$T/out" 2>&1 || fail "resume after restart failed: $(cat "$T/out")"
wait_restored "$G" "$P2" 15 "resume after a restart"
yj_agent_ready "$S" "$AGENT_PID" 1 || fail "the guard is not ready after resume"

# Refusals: a path that is not guarded, staging inside the guard, a missing staging tree.
mkdir -p "$T/other"
"$YJ" publish --state "$S" --from "$ST" "$T/other" >"$T/out" 2>&1
[ $? -eq 2 ] || fail "publish to a path that is not guarded should exit 2"
grep -q "not a guarded directory" "$T/out" || fail "publish to an unguarded path: unclear message: $(cat "$T/out")"
[ -z "$(ls -A "$T/other")" ] || fail "publish wrote into an unguarded directory"
mkdir -p "$G/../www/sub"
"$YJ" publish --state "$S" --from "$G/sub" "$G" >"$T/out" 2>&1
[ $? -eq 2 ] || fail "publish from inside the guard should be refused"
grep -q "inside the guard" "$T/out" || fail "staging inside the guard: unclear message: $(cat "$T/out")"
"$YJ" publish --state "$S" --from "$G" "$G" >"$T/out" 2>&1
[ $? -eq 2 ] || fail "publish from the guard itself should be refused"
"$YJ" publish --state "$S" --from "$T/no-such-staging" "$G" >"$T/out" 2>&1
[ $? -eq 2 ] || fail "publish from a missing staging tree should exit 2"
assert_tree_same "$G" "$P2" "the refused publishes changed the tree"

# Offline: the agent is down, publish does the work itself.
stop_agent
ST2=$T/staging2
cp -a "$P2" "$ST2"
printf 'release 3\n' >"$ST2/index.html"
mkdir "$ST2/offline" && printf 'o\n' >"$ST2/offline/o.html"
mark_events
"$YJ" publish --state "$S" --from "$ST2" "$G" >"$T/out" 2>&1 || fail "offline publish failed: $(cat "$T/out")"
assert_tree_same "$G" "$ST2" "after the offline publish"
assert_event publish "$G" accepted "'agent not running' in e.get('detail', '')"
"$YJ" publish --state "$S" --from "$ST2" "$T/other" >"$T/out" 2>&1
[ $? -eq 2 ] || fail "offline publish to a path that is not guarded should exit 2"
grep -q "not a guarded directory" "$T/out" || fail "offline, unguarded path: unclear message: $(cat "$T/out")"
# The next start takes the offline publish as the baseline: nothing to repair.
mark_events
start_agent "$S" "$G"
assert_tree_same "$G" "$ST2" "the agent undid the offline publish at start"
[ "$(count_events "e.get('type') == 'drift'")" -eq 0 ] || fail "the offline publish was taken for drift"
echo defaced >"$G/offline/o.html"
wait_restored "$G" "$ST2" 15 "tamper after the offline publish"
stop_agent

# A release with a file the store may not keep is refused as a whole.
start_agent "$S" "$G" --max-store-size 1M
ST3=$T/staging3
cp -a "$ST2" "$ST3"
printf 'release 4\n' >"$ST3/index.html"
head -c 2000000 /dev/urandom >"$ST3/video.bin"
"$YJ" publish --state "$S" --from "$ST3" "$G" >"$T/out" 2>&1
[ $? -eq 2 ] || fail "a publish with a file above the store cap should be refused"
[ -s "$T/out" ] || fail "a refused publish says nothing"
assert_tree_same "$G" "$ST2" "a refused publish changed the tree"
echo defaced >"$G/index.html"
wait_restored "$G" "$ST2" 15 "tamper after a refused publish"
stop_agent
exit 0
