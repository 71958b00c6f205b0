# test_evasion.sh - ways around the guard that a user would still notice as a
# defaced site: the content served at the guarded path must come back.
#   - an ancestor of the guarded directory renamed away and a fake tree put
#     at the guarded path (both watchers);
#   - a guarded file changed through a hard link made outside the guarded
#     tree (both watchers; the periodic check is the backstop).
. "$(dirname "$0")/lib.sh"

for watcher in fanotify inotify; do
	W=$T/$watcher
	G=$W/srv/www
	S=$W/state
	P=$W/pristine
	mkdir -p "$W/srv"
	make_site "$G"
	cp -a "$G" "$P"
	start_agent "$S" "$G" --watcher "$watcher"

	STEP="$watcher: ancestor renamed away, a fake tree at the guarded path"
	mark_events
	mv "$W/srv" "$W/srv.moved"
	mkdir -p "$G"
	echo "DEFACED" >"$G/index.html"
	if wait_until_quiet "tree_same '$G' '$P'" 10; then
		assert_event tamper "$G"
	else
		fail_later "$STEP: the guarded path $G still serves the fake tree 10 s later" \
			"($(tree_diff "$G" "$P" | head -3 | tr '\n' ';')); events since:" \
			"$(select_events True | cut -c1-200)"
	fi
	stop_agent
	rm -rf "$W/srv.moved"
done

# A hard link made outside the guard lets writes reach a guarded file without
# naming it. The agent gives a guarded path a fresh inode when it sees a link
# count above one, and its periodic check (here every 2 s) finds the change
# when no watcher reports the write at all (inotify never does).
for watcher in fanotify inotify; do
	new_site "hardlink-$watcher"
	start_agent "$S" "$G" --watcher "$watcher" --rescan-interval 2s
	STEP="$watcher: a guarded file written through a hard link outside the guard"
	mark_events
	ln "$G/index.html" "$W/outside-link" || fail "$STEP: cannot make the hard link"
	echo "DEFACED through a hard link" >"$W/outside-link"
	if wait_until_quiet "cmp -s '$G/index.html' '$P/index.html'" 10; then
		assert_event tamper "$G/index.html" restored
	else
		fail_later "$STEP: $G/index.html still holds the defaced content 10 s later, and no event:" \
			"$(select_events True | cut -c1-200)"
	fi
	# Later writes through the old link no longer reach the site.
	echo "DEFACED again" >"$W/outside-link"
	sleep 0.5
	cmp -s "$G/index.html" "$P/index.html" || wait_until "cmp -s '$G/index.html' '$P/index.html'" 10 \
		"$STEP: the site is right after a second write through the link"
	stop_agent
done
exit 0
