# test_persistent.sh - a loop rewriting one file as fast as it can: the file
# ends restored, and the journal holds one persistent-attack event with a
# count instead of hundreds of tamper events. Both watchers.
. "$(dirname "$0")/lib.sh"

REWRITES=200

for watcher in fanotify inotify; do
	new_site "$watcher"
	start_agent "$S" "$G" --watcher "$watcher" --fold-window 1s

	mark_events
	for ((i = 1; i <= REWRITES; i++)); do
		echo "defaced $i" >"$G/index.html"
	done
	wait_restored "$G" "$P" 15 "$watcher: after $REWRITES rewrites"

	# Once the fold window has passed with no rewrite, the attack is over.
	assert_event tamper_persistent "$G/index.html" "" \
		"e.get('detail', '').startswith('persistent attack ended')"
	count=$(ev_get "$EVENT" "e.get('count', 0)")
	[ "$count" -ge 3 ] && [ "$count" -le $REWRITES ] ||
		fail "$watcher: the persistent-attack event counts $count rewrites: $EVENT"
	if [ "$watcher" = fanotify ]; then
		pid=$(ev_get "$EVENT" "e.get('writer', {}).get('pid', 0)")
		[ "$pid" = $$ ] || fail "$watcher: the persistent-attack event names writer $pid, not $$: $EVENT"
	fi
	n=$(count_events "e.get('type') == 'tamper' and e.get('path') == '$G/index.html'")
	[ "$n" -lt $((REWRITES / 4)) ] ||
		fail "$watcher: $n tamper events journaled for $REWRITES rewrites: not folded"
	[ "$n" -ge 1 ] || fail "$watcher: not even the first tamper was journaled"
	# The first tampers are journaled one by one, then the attack is announced
	# while it goes on, and its end comes last.
	starts=$(count_events "e.get('type') == 'tamper_persistent' and e.get('detail', '').startswith('persistent attack:')")
	[ "$starts" -eq 1 ] || fail "$watcher: $starts persistent-attack start events, expected 1"

	# A later single tamper of the same file is a new, ordinary event.
	mark_events
	echo "once more" >"$G/index.html"
	wait_restored "$G" "$P" 15 "$watcher: a tamper after the attack"
	assert_event tamper "$G/index.html" restored
	stop_agent
done

# A persistent attack on a file that cannot be restored (above the store size
# cap: each change is only alerted) must not be reported as restored.
W=$T/alerted
G=$W/www
S=$W/state
mkdir -p "$G"
head -c 2000000 /dev/urandom >"$G/video.bin"
printf 'home\n' >"$G/index.html"
start_agent "$S" "$G" --max-store-size 1M --fold-window 1s
mark_events
# One change at a time, each seen by the agent, so the third one is folded.
for i in 1 2; do
	printf 'rewrite %d\n' "$i" >>"$G/video.bin"
	wait_until "[ \$(count_events \"e.get('type') == 'tamper' and e.get('path') == '$G/video.bin'\") -ge $i ]" 10 \
		"alert $i for video.bin"
done
printf 'rewrite 3\n' >>"$G/video.bin"
assert_event tamper_persistent "$G/video.bin"
printf 'rewrite 4\n' >>"$G/video.bin"
cp "$G/video.bin" "$W/tampered"
assert_event tamper "$G/video.bin" alerted
assert_event tamper_persistent "$G/video.bin" "" \
	"e.get('detail', '').startswith('persistent attack ended')"
cmp -s "$G/video.bin" "$W/tampered" || fail "the file above the cap was changed by the agent"
if [ "$(ev_get "$EVENT" "e.get('action')")" = restored ] ||
	ev_get "$EVENT" "e.get('detail', '')" | grep -q "restored every time"; then
	fail_later "a persistent attack on a file that was only alerted (never restored) is reported as" \
		"restored: $EVENT"
fi
stop_agent
exit 0
