# test_guard_root.sh - the guarded directory itself is attacked: deleted,
# replaced by a symlink, renamed away. Each time it is back as a directory
# with all its content, for both watchers.
. "$(dirname "$0")/lib.sh"

passwd_sum=$(sha256sum /etc/passwd | cut -d' ' -f1)
etc_stat=$(stat -c '%a %u %g %i' /etc)

for watcher in fanotify inotify; do
	W=$T/$watcher
	G=$W/www
	S=$W/state
	P=$W/pristine
	mkdir -p "$W"
	make_site "$G"
	chmod 711 "$G"
	cp -a "$G" "$P"
	# Each attack here is a separate one: no folding into a persistent attack.
	start_agent "$S" "$G" --watcher "$watcher" --fold-window 1ms

	STEP="$watcher: rm -rf the guarded directory"
	# The agent may put entries back faster than rm removes them (rm then
	# fails): either way everything must be back.
	mark_events
	rm -rf "$G" 2>/dev/null
	wait_restored "$G" "$P" 20 "$STEP"
	assert_event tamper "" "" \
		"e.get('path', '').startswith('$G') and e.get('action') in ('restored', 'recreated')"

	# The same attacks while the agent cannot react (SIGSTOP), so they complete:
	# the agent finds the result when it goes on.
	STEP="$watcher: the guarded directory deleted while the agent was stopped"
	mark_events
	kill -STOP "$AGENT_PID"
	rm -rf "$G" || { kill -CONT "$AGENT_PID"; fail "$STEP: rm -rf failed"; }
	kill -CONT "$AGENT_PID"
	wait_restored "$G" "$P" 20 "$STEP"
	assert_event tamper "$G" recreated

	STEP="$watcher: the guarded directory replaced by a symlink to /etc"
	mark_events
	kill -STOP "$AGENT_PID"
	mv "$G" "$W/www.gone" && ln -s /etc "$G"
	rc=$?
	kill -CONT "$AGENT_PID"
	[ $rc -eq 0 ] || fail "$STEP: could not swap the directory"
	wait_restored "$G" "$P" 20 "$STEP"
	[ -d "$G" ] && [ ! -L "$G" ] || fail "$STEP: $G is not a directory"
	assert_event tamper "$G" recreated "e.get('quarantine')"
	q=$(ev_get "$EVENT" "e['quarantine']")
	[ -L "$S/$q" ] && [ "$(readlink "$S/$q")" = /etc ] ||
		fail "$STEP: the symlink is not in quarantine at $S/$q: $EVENT"
	[ "$(stat -c '%a %u %g %i' /etc)" = "$etc_stat" ] || fail "$STEP: /etc was changed"
	[ "$(sha256sum /etc/passwd | cut -d' ' -f1)" = "$passwd_sum" ] || fail "$STEP: /etc/passwd changed"
	for f in index.html a.txt sub img; do
		[ ! -e "/etc/$f" ] || fail "$STEP: the agent wrote /etc/$f through the symlink"
	done

	STEP="$watcher: the guarded directory replaced by a symlink, agent running"
	mark_events
	swap_dir_for_symlink "$G" "$W/www.gone2" /etc || fail "$STEP: could not swap the directory"
	wait_restored "$G" "$P" 20 "$STEP"
	[ -d "$G" ] && [ ! -L "$G" ] || fail "$STEP: $G is not a directory"
	[ "$(stat -c '%a %u %g %i' /etc)" = "$etc_stat" ] || fail "$STEP: /etc was changed"
	for f in index.html a.txt sub img; do
		[ ! -e "/etc/$f" ] || fail "$STEP: the agent wrote /etc/$f through the symlink"
	done

	STEP="$watcher: the guarded directory renamed away"
	mark_events
	mv "$G" "$W/www.old" 2>/dev/null
	wait_restored "$G" "$P" 20 "$STEP"
	assert_event tamper "$G" recreated

	STEP="$watcher: still guarded after the root was recreated"
	mark_events
	echo defaced >"$G/index.html"
	echo intruder >"$G/sub/new.php"
	wait_restored "$G" "$P" 20 "$STEP"
	assert_event tamper "$G/index.html" restored
	assert_event tamper "$G/sub/new.php" quarantined

	stop_agent
	rm -rf "$W"/www.old "$W"/www.gone*
done
exit 0
