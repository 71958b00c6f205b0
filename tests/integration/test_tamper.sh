# test_tamper.sh - every kind of tampering with a guarded tree is undone, for
# both watchers: the tree ends as it was (content byte for byte, mode, owner,
# mtime), intruders end in quarantine with their content, and each repair is
# journaled with its type, action, path and (fanotify) the writer's pid.
. "$(dirname "$0")/lib.sh"

# One file per kind of tamper: repeated tampers of one path are folded into a
# persistent-attack event, which test_persistent.sh covers.
make_tree() {
	local d=$1

	mkdir -p "$d/d_rmrf/inner" "$d/d_swap/x" "$d/d_keep"
	for f in modify append trunc chmod chown delete rename symlink touch todir suid; do
		printf 'original content of %s\n' "$f" >"$d/f_$f"
	done
	head -c 100000 /dev/urandom >"$d/f_binary"
	chmod 640 "$d/f_chmod"
	chown 1000:1000 "$d/f_chmod"
	chown 1000:1000 "$d/f_suid"
	chmod 6755 "$d/f_suid"
	printf 'r1\n' >"$d/d_rmrf/r1"
	printf 'r2\n' >"$d/d_rmrf/inner/r2"
	printf 's1\n' >"$d/d_swap/s1"
	printf 's2\n' >"$d/d_swap/x/s2"
	printf 'k\n' >"$d/d_keep/k"
	chmod 751 "$d/d_swap"
	ln -s f_modify "$d/l_rel"
	touch -d '2021-03-04 05:06:07.123456789' "$d/f_touch"
}

sha256() {
	sha256sum "$1" | cut -d' ' -f1
}

step() {
	STEP="$watcher: $1"
	mark_events
}

# The event's writer is a real process (fanotify), the expected one if given.
check_writer() {
	local want=${1:-} pid

	[ "$watcher" = fanotify ] || return 0
	pid=$(ev_get "$EVENT" "e.get('writer', {}).get('pid', 0)")
	[ "$pid" -gt 0 ] || fail "$STEP: no writer pid in the event: $EVENT"
	if [ -n "$want" ] && [ "$pid" != "$want" ]; then
		fail "$STEP: writer pid $pid, expected $want: $EVENT"
	fi
}

# Run a command as its own process; WRITER is its pid.
as_writer() {
	"$@" &
	WRITER=$!
	wait "$WRITER"
}

check_changes() {
	local want=$1 got

	got=$(ev_get "$EVENT" "e.get('changes', '')")
	case ",$got," in
	*",$want,"*) ;;
	*) fail "$STEP: expected \"$want\" in changes, got \"$got\": $EVENT" ;;
	esac
}

passwd_sum=$(sha256 /etc/passwd)
etc_stat=$(stat -c '%a %u %g %i' /etc)

for watcher in fanotify inotify; do
	W=$T/$watcher
	G=$W/site
	S=$W/state
	P=$W/pristine
	mkdir -p "$W"
	make_tree "$G"
	cp -a "$G" "$P"
	start_agent "$S" "$G" --watcher "$watcher"
	got=$("$YJ" status --state "$S" --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["watcher"])')
	[ "$got" = "$watcher" ] || fail "status says watcher $got, asked for $watcher"

	step "modify content"
	echo x >"$G/f_modify"
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "$G/f_modify" restored
	check_changes content
	check_writer $$

	step "append (and the tampered content kept as evidence)"
	echo "appended by the attacker" >>"$G/f_append"
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "$G/f_append" restored
	check_changes content
	check_writer $$
	cat "$P/f_append" >"$W/expected_evidence"
	echo "appended by the attacker" >>"$W/expected_evidence"
	new=$(ev_get "$EVENT" "e.get('new_sha256', '')")
	old=$(ev_get "$EVENT" "e.get('old_sha256', '')")
	[ "$new" = "$(sha256 "$W/expected_evidence")" ] ||
		fail "$STEP: new_sha256 $new is not the tampered content's hash: $EVENT"
	[ "$old" = "$(sha256 "$P/f_append")" ] ||
		fail "$STEP: old_sha256 $old is not the baseline content's hash: $EVENT"
	"$YJ" evidence --state "$S" "$new" >"$W/evidence" || fail "$STEP: evidence $new failed"
	cmp -s "$W/evidence" "$W/expected_evidence" ||
		fail "$STEP: evidence does not return the tampered content"
	"$YJ" evidence --state "$S" "$old" >"$W/evidence.old" || fail "$STEP: evidence $old failed"
	cmp -s "$W/evidence.old" "$P/f_append" || fail "$STEP: evidence of old_sha256 is not the original"

	step "truncate"
	as_writer truncate -s 0 "$G/f_trunc"
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "$G/f_trunc" restored
	check_changes content
	check_writer "$WRITER"

	step "overwrite a binary file with the same size"
	head -c 100000 /dev/zero | dd of="$G/f_binary" conv=notrunc status=none
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "$G/f_binary" restored
	check_changes content

	step "chmod"
	as_writer chmod 4777 "$G/f_chmod"
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "$G/f_chmod" restored
	check_changes mode
	check_writer "$WRITER"

	step "chown to nobody"
	as_writer chown nobody:nogroup "$G/f_chown"
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "$G/f_chown" restored
	check_changes owner
	check_writer "$WRITER"

	step "chown a set-id file (the kernel clears the set-id bits)"
	as_writer chown nobody "$G/f_suid"
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "$G/f_suid" restored
	[ "$(stat -c %a "$G/f_suid")" = 6755 ] || fail "$STEP: mode $(stat -c %a "$G/f_suid"), expected 6755"

	step "delete a file"
	as_writer rm "$G/f_delete"
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "$G/f_delete" restored
	check_changes removed
	check_writer "$WRITER"

	step "delete a directory tree"
	# The agent may put entries back while rm is still at work: rm may fail.
	rm -rf "$G/d_rmrf" 2>/dev/null
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "d_rmrf" "" \
		"e.get('path', '').startswith('$G/d_rmrf') and e.get('action') in ('restored', 'recreated')"
	check_writer
	# The recreated directory is watched like the old one.
	mark_events
	echo x >"$G/d_rmrf/inner/r2"
	echo x >"$G/d_rmrf/new.php"
	wait_restored "$G" "$P" 15 "$STEP: a tamper inside the recreated directory"
	assert_event tamper "$G/d_rmrf/inner/r2" restored

	step "create a new file"
	echo '<?php system($_GET["c"]); ?>' >"$G/shell.php"
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "$G/shell.php" quarantined
	check_changes added
	check_writer $$
	q=$(ev_get "$EVENT" "e.get('quarantine', '')")
	[ -n "$q" ] || fail "$STEP: no quarantine location in the event: $EVENT"
	echo '<?php system($_GET["c"]); ?>' >"$W/expected_shell"
	wait_until "cmp -s '$S/$q' '$W/expected_shell'" 10 "$STEP: $S/$q holds the new file's content"
	grep -qF "\"quarantine\":\"${q#quarantine/}\"" "$S/quarantine/index.jsonl" ||
		fail "$STEP: $q is not in $S/quarantine/index.jsonl"

	step "create a new directory with files"
	(mkdir "$G/newdir" && echo one >"$G/newdir/one" && echo two >"$G/newdir/two") 2>/dev/null
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "$G/newdir" quarantined
	q=$(ev_get "$EVENT" "e.get('quarantine', '')")
	[ -d "$S/$q" ] || fail "$STEP: quarantined directory $S/$q is not there"
	for f in one two; do
		if [ -e "$S/$q/$f" ]; then
			[ "$(cat "$S/$q/$f")" = "$f" ] || fail "$STEP: $S/$q/$f lost its content"
		fi
	done

	step "rename a file away"
	as_writer mv "$G/f_rename" "$G/f_renamed"
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "$G/f_rename" restored
	check_writer "$WRITER"
	assert_event tamper "$G/f_renamed" quarantined
	q=$(ev_get "$EVENT" "e.get('quarantine', '')")
	cmp -s "$S/$q" "$P/f_rename" || fail "$STEP: the renamed file in quarantine lost its content"

	step "move a file in from outside"
	printf 'planted\n' >"$W/outside.txt"
	as_writer mv "$W/outside.txt" "$G/planted.txt"
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "$G/planted.txt" quarantined
	check_writer "$WRITER"
	q=$(ev_get "$EVENT" "e.get('quarantine', '')")
	[ "$(cat "$S/$q")" = planted ] || fail "$STEP: the planted file in quarantine lost its content"

	step "replace a file with a symlink to /etc/passwd"
	ln -s /etc/passwd "$W/evil-link"
	as_writer mv -T "$W/evil-link" "$G/f_symlink"
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "$G/f_symlink" restored
	check_changes type
	check_writer "$WRITER"
	q=$(ev_get "$EVENT" "e.get('quarantine', '')")
	[ -L "$S/$q" ] && [ "$(readlink "$S/$q")" = /etc/passwd ] ||
		fail "$STEP: the symlink is not in quarantine ($S/$q): $EVENT"
	[ "$(sha256 /etc/passwd)" = "$passwd_sum" ] || fail "$STEP: /etc/passwd was written through the symlink"

	step "swap a directory for a symlink to /etc"
	swap_dir_for_symlink "$G/d_swap" "$W/d_swap.away" /etc || fail "$STEP: could not swap the directory"
	wait_restored "$G" "$P" 15 "$STEP"
	# On a loaded machine the agent may put the directory back between the
	# rename and the symlink, so the swap is retried; three tampers of one
	# path by one writer are then folded into a persistent-writer event, which
	# keeps only a summary. The quarantine index names the symlink either way.
	wait_until "grep -q '\"path\":\"$G/d_swap\"' '$S/quarantine/index.jsonl' 2>/dev/null" 10 \
		"$STEP: the symlink noted in the quarantine index"
	q=quarantine/$(python3 -c '
import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("path") == sys.argv[2]:
        q = e["quarantine"]
print(q)' "$S/quarantine/index.jsonl" "$G/d_swap")
	[ -L "$S/$q" ] && [ "$(readlink "$S/$q")" = /etc ] ||
		fail "$STEP: the symlink is not in quarantine ($S/$q)"
	has_event tamper "$G/d_swap" || has_event tamper_persistent "$G/d_swap" ||
		fail "$STEP: no event for the swap"
	[ "$(stat -c '%a %u %g %i' /etc)" = "$etc_stat" ] || fail "$STEP: /etc itself was changed"
	for f in s1 x; do
		[ ! -e "/etc/$f" ] || fail "$STEP: the agent wrote /etc/$f through the symlink"
	done
	[ "$(sha256 /etc/passwd)" = "$passwd_sum" ] || fail "$STEP: /etc/passwd changed"

	echo x >"$G/d_swap/x/s2"
	wait_restored "$G" "$P" 15 "$STEP: a tamper inside the directory put back"

	step "replace a file with a directory"
	mkdir -p "$W/todir/inner" && echo planted >"$W/todir/inner/p.php"
	rm "$G/f_todir" && mv "$W/todir" "$G/f_todir" 2>/dev/null
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "$G/f_todir" "" "e.get('action') in ('restored', 'quarantined')"

	step "touch -d (mtime only)"
	as_writer touch -d '1999-12-31 23:59:59' "$G/f_touch"
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "$G/f_touch" restored
	check_changes mtime
	check_writer "$WRITER"

	step "retarget a symlink"
	ln -sfn /etc/shadow "$W/relink"
	mv -T "$W/relink" "$G/l_rel"
	wait_restored "$G" "$P" 15 "$STEP"
	assert_event tamper "$G/l_rel" restored
	check_changes link

	# Nothing else was touched, and the guard is still ready.
	assert_tree_same "$G" "$P" "$watcher: the tree at the end"
	yj_agent_ready "$S" "$AGENT_PID" 1 || fail "$watcher: the guard is no longer ready"
	stop_agent
	assert_tree_same "$G" "$P" "$watcher: the tree after the agent stopped"
done
exit 0
