# test_bad_state.sh - the state directory in trouble (taken by another agent,
# read-only, full, on another filesystem), a guarded path that does not exist,
# and files above the store size cap. The agent says so clearly, and never
# leaves a guarded file with partial content.
. "$(dirname "$0")/lib.sh"

# mount_tmpfs DIR SIZE: a tmpfs unmounted at exit (after the agents are gone).
mount_tmpfs() {
	mkdir -p "$1"
	mount -t tmpfs -o "size=$2,mode=0755" tmpfs "$1" || fail "cannot mount a tmpfs on $1"
	on_cleanup "umount -l '$1'"
}

# A guarded tree with some big incompressible files and small ones.
make_big_tree() {
	local d=$1 i

	mkdir -p "$d/small"
	for i in 1 2 3; do head -c 1000000 /dev/urandom >"$d/big$i"; done
	for i in $(seq 1 20); do printf 'small file %d\n' "$i" >"$d/small/s$i"; done
	printf '<html>home</html>\n' >"$d/index.html"
}

########## Two agents on one state directory.
G=$T/www
S=$T/state
make_site "$G"
start_agent "$S" "$G"
first=$AGENT_PID
mkdir -p "$T/www2"
launch_agent "$S" "$T/www2"
if wait_agent any; then
	fail "a second agent started on a state directory in use"
fi
[ "$AGENT_RC" -eq 2 ] || fail "the second agent exited $AGENT_RC, expected 2"
grep -q "pid $first" "$AGENT_LOG" || fail "the second agent does not name the first one's pid $first: $(cat "$AGENT_LOG")"
yj_agent_ready "$S" "$first" 1 || fail "the first agent is disturbed by the second"
stop_agent "$first"

########## Refused set-ups: the state inside a guard, overlapping guards.
launch_agent "$G/state" "$G"
wait_agent any && fail "the agent accepted a state directory inside the guard"
[ "$AGENT_RC" -eq 2 ] || fail "state inside the guard: exit $AGENT_RC, expected 2"
grep -q "inside a guard" "$AGENT_LOG" || fail "state inside the guard: unclear message: $(cat "$AGENT_LOG")"
[ ! -e "$G/state" ] || fail "state inside the guard: the state directory was created in the guard"
launch_agent "$T/state-overlap" "$G" "$G/sub"
wait_agent any && fail "the agent accepted overlapping guards"
[ "$AGENT_RC" -eq 2 ] || fail "overlapping guards: exit $AGENT_RC, expected 2"
grep -q "overlap" "$AGENT_LOG" || fail "overlapping guards: unclear message: $(cat "$AGENT_LOG")"

########## A read-only state directory.
RO=$T/ro
mount_tmpfs "$RO" 4m
mount -o remount,ro "$RO" || fail "cannot remount $RO read-only"
launch_agent "$RO/state" "$G"
wait_agent any && fail "the agent started with a state directory it cannot create (read-only)"
[ "$AGENT_RC" -eq 2 ] || fail "read-only, new state: exit $AGENT_RC, expected 2"
grep -q "Read-only file system" "$AGENT_LOG" ||
	fail "read-only, new state: the message does not say read-only: $(cat "$AGENT_LOG")"
# A state directory made before, then read-only; the tree changed meanwhile.
mount -o remount,rw "$RO" || fail "cannot remount $RO read-write"
cp -a "$G" "$T/pristine"
start_agent "$RO/state" "$G"
stop_agent
echo "changed while down" >"$G/index.html"
echo "planted while down" >"$G/planted.php"
cp -a "$G" "$T/before-ro-start"
mount -o remount,ro "$RO" || fail "cannot remount $RO read-only"
launch_agent "$RO/state" "$G"
if wait_agent any; then
	fail_later "read-only state: the agent started (it can neither lock, journal nor quarantine)"
	stop_agent
else
	[ "$AGENT_RC" -eq 2 ] || fail "read-only state: exit $AGENT_RC, expected 2"
	grep -qE "Read-only file system" "$AGENT_LOG" ||
		fail "read-only state: the message does not say read-only: $(cat "$AGENT_LOG")"
	grep -q "$RO/state" "$AGENT_LOG" || fail "read-only state: the message does not name the state directory"
	assert_tree_same "$G" "$T/before-ro-start" "read-only state: the guarded tree was touched"
fi
mount -o remount,rw "$RO"
rm -rf "$G"
cp -a "$T/pristine" "$G"

########## A state directory too small for the tree's content.
FULL=$T/full
mount_tmpfs "$FULL" 256k
B=$T/big
make_big_tree "$B"
cp -a "$B" "$T/big.pristine"
mark_events
launch_agent "$FULL/state" "$B"
if ! wait_agent any; then
	[ "$AGENT_RC" -eq 2 ] || fail "full state: exit $AGENT_RC, expected 2"
	grep -q "No space left" "$AGENT_LOG" || fail "full state: the agent exited without saying the disk is full"
else
	# Running: it must say loudly, where an operator looks (events, status),
	# that it cannot keep the content it would need to restore.
	sleep 1
	if ! has_event "" "" "" "e.get('type') in ('state_error', 'guard_error')"; then
		fail_later "full state directory: no state_error or guard_error event (the log only says" \
			"'$(grep -m1 "No space" "$AGENT_LOG" | cut -c1-120)'), and status says:" \
			"$("$YJ" status --state "$FULL/state" --json | cut -c1-300)"
	fi
	if yj_agent_ready "$FULL/state" "$AGENT_PID" 1; then
		# Tampers: what the agent can restore comes back exactly; what it
		# could not store may stay as the attacker left it; nothing is ever
		# left with partial content.
		head -c 1000000 /dev/urandom >"$T/attack2"
		for i in 1 2 3 4 5; do echo "defaced $i" >"$B/small/s$i"; done
		rm "$B/small/s6"
		printf 'tail\n' >>"$B/big1"
		cp -a "$B/big1" "$T/attack1"
		cat "$T/attack2" >"$B/big2"
		rm "$B/big3"
		for f in small/s1 small/s2 small/s3 small/s4 small/s5 small/s6 big1 big2 big3; do
			assert_event tamper "$B/$f"
		done
		assert_event tamper "$B/big1"
		ev1=$EVENT
		for i in 1 2 3 4 5; do
			cmp -s "$B/small/s$i" "$T/big.pristine/small/s$i" ||
				[ "$(cat "$B/small/s$i")" = "defaced $i" ] ||
				fail "full state: small/s$i has partial content"
		done
		[ ! -e "$B/small/s6" ] || cmp -s "$B/small/s6" "$T/big.pristine/small/s6" ||
			fail "full state: small/s6 came back with partial content"
		for i in $(seq 7 20); do
			cmp -s "$B/small/s$i" "$T/big.pristine/small/s$i" ||
				fail "full state: small/s$i (not tampered) changed"
		done
		cmp -s "$B/big1" "$T/big.pristine/big1" || cmp -s "$B/big1" "$T/attack1" ||
			fail "full state: big1 has partial content"
		cmp -s "$B/big2" "$T/big.pristine/big2" || cmp -s "$B/big2" "$T/attack2" ||
			fail "full state: big2 has partial content"
		[ ! -e "$B/big3" ] || cmp -s "$B/big3" "$T/big.pristine/big3" ||
			fail "full state: big3 came back with partial content"
		if ev_get "$ev1" "e.get('detail', '')" | grep -q "size cap"; then
			fail_later "full state: big1's event blames the store size cap (none was set; the store" \
				"was full): $ev1"
		fi
	else
		fail_later "full state: the guard is not ready and there is no clear error"
	fi
	stop_agent
fi

########## The state directory on another filesystem: intruders are moved (whole,
# atomically) into .yingji-quarantine beside the guarded root instead; the
# event's "quarantine" is then an absolute path.
qpath() {
	case $1 in
	/*) echo "$1" ;;
	*) echo "$S3/$1" ;;
	esac
}
OTHER=$T/other
mount_tmpfs "$OTHER" 64m
G3=$T/www3
make_site "$G3"
cp -a "$G3" "$T/www3.pristine"
for watcher in fanotify inotify; do
	S3=$OTHER/state-$watcher
	start_agent "$S3" "$G3" --watcher "$watcher"
	mark_events
	head -c 3000000 /dev/urandom >"$T/planted.bin"
	cp "$T/planted.bin" "$T/planted.copy"
	mv "$T/planted.copy" "$G3/planted.bin"
	rm -rf "$T/kit"
	mkdir -p "$T/kit/inner"
	printf 'a\n' >"$T/kit/a.php"
	printf 'b\n' >"$T/kit/inner/b.php"
	ln -s /etc/passwd "$T/kit/inner/pw"
	cp -a "$T/kit" "$T/kit.copy"
	mv "$T/kit.copy" "$G3/kit"
	ln -s /etc/passwd "$T/evil-link"
	mv -T "$T/evil-link" "$G3/index.html"
	echo defaced >"$G3/a.txt"
	wait_restored "$G3" "$T/www3.pristine" 20 "$watcher: state on another filesystem"
	assert_event tamper "$G3/planted.bin" quarantined
	q=$(ev_get "$EVENT" "e['quarantine']")
	cmp -s "$(qpath "$q")" "$T/planted.bin" || fail "$watcher: the planted file in quarantine is not intact"
	assert_event tamper "$G3/kit" quarantined
	q=$(ev_get "$EVENT" "e['quarantine']")
	diff -r --no-dereference "$(qpath "$q")" "$T/kit" >/dev/null 2>&1 ||
		fail "$watcher: the planted directory in quarantine is not intact"
	assert_event tamper "$G3/index.html" restored
	q=$(ev_get "$EVENT" "e.get('quarantine', '')")
	[ -L "$(qpath "$q")" ] && [ "$(readlink "$(qpath "$q")")" = /etc/passwd ] ||
		fail "$watcher: the symlink is not in quarantine: $EVENT"
	assert_event tamper "$G3/a.txt" restored
	stop_agent
done

########## The state directory fills up while the agent runs.
SMALL=$T/small
mount_tmpfs "$SMALL" 1m
G4=$T/www4
make_site "$G4"
rm "$G4/img/logo.bin"
cp -a "$G4" "$T/www4.pristine"
start_agent "$SMALL/state" "$G4"
mark_events
# Evidence of a big rewrite cannot be kept: the restore must still happen.
head -c 3000000 /dev/urandom >"$G4/index.html"
wait_restored "$G4" "$T/www4.pristine" 15 "state full during evidence capture"
assert_event tamper "$G4/index.html" restored
# A planted file too big to copy into quarantine: it must not be lost or cut.
head -c 3000000 /dev/urandom >"$T/huge.bin"
cp "$T/huge.bin" "$T/huge.copy"
mv "$T/huge.copy" "$G4/huge.bin"
assert_event tamper "$G4/huge.bin"
if [ -e "$G4/huge.bin" ]; then
	cmp -s "$G4/huge.bin" "$T/huge.bin" || fail "a planted file that could not be quarantined was damaged"
else
	q=$(ev_get "$EVENT" "e.get('quarantine', '')")
	case $q in /*) ;; *) q=$SMALL/state/$q ;; esac
	cmp -s "$q" "$T/huge.bin" || fail "the planted file is gone and not intact in quarantine"
fi
partial=$(find "$SMALL/state/quarantine" -type f ! -name '*.json' -size +100k 2>/dev/null)
[ -z "$partial" ] || fail_later "a partial copy of the planted file is left in quarantine, filling the" \
	"state directory: $(ls -l $partial)"
rm -f "$G4/huge.bin"
# Still guarding, still able to quarantine small things once the big file is gone.
mark_events
echo "small plant" >"$G4/small.php"
echo defaced >"$G4/a.txt"
if wait_until_quiet "tree_same '$G4' '$T/www4.pristine'" 15; then
	assert_event tamper "$G4/small.php" quarantined
else
	fail_later "after a quarantine failed for lack of space, a small planted file is not quarantined" \
		"either: $(tree_diff "$G4" "$T/www4.pristine" | head -3);" \
		"$(select_events "e.get('path') == '$G4/small.php'" | cut -c1-400)"
fi
stop_agent

########## A guarded path that does not exist (next to one that does).
G5=$T/www5
make_site "$G5"
cp -a "$G5" "$T/www5.pristine"
launch_agent "$T/state5" "$T/no-such-dir" "$G5"
if wait_agent any; then
	# The other guard works.
	wait_until "'$YJ' status --state '$T/state5' --json | grep -q '\"path\":\"$G5\",[^}]*\"state\":\"ready\"'" 10 \
		"the existing guard ready"
	echo defaced >"$G5/index.html"
	wait_restored "$G5" "$T/www5.pristine" 15 "the existing guard next to a missing one"
	"$YJ" status --state "$T/state5" --json | grep -q '"state":"error"' ||
		fail "missing guard path: the agent runs and status does not show the guard in error"
	assert_event guard_error "" "" \
		"'$T/no-such-dir' in e.get('detail', '') and 'No such file' in e.get('detail', '')"
	stop_agent
else
	[ "$AGENT_RC" -eq 2 ] || fail "missing guard path: exit $AGENT_RC, expected 2"
fi
grep -q "no-such-dir.*No such file" "$AGENT_LOG" ||
	fail "missing guard path: no clear message naming it: $(cat "$AGENT_LOG")"

########## A file above --max-store-size: alerted, not restored.
G6=$T/www6
make_big_tree "$G6"
head -c 3000000 /dev/urandom >"$G6/video.bin"
cp -a "$G6" "$T/www6.pristine"
start_agent "$T/state6" "$G6" --max-store-size 1M
grep -q "above the store size cap" "$AGENT_LOG" || fail "no warning at start about files above the cap"
mark_events
printf 'appended\n' >>"$G6/video.bin"
cp "$G6/video.bin" "$T/video.tampered"
echo defaced >"$G6/index.html"
wait_until "cmp -s '$G6/index.html' '$T/www6.pristine/index.html'" 15 "small file restored"
assert_event tamper "$G6/video.bin" alerted
cmp -s "$G6/video.bin" "$T/video.tampered" || fail "the file above the cap was changed by the agent"
# The next change of it is alerted again.
mark_events
printf 'again\n' >>"$G6/video.bin"
assert_event tamper "$G6/video.bin" alerted
stop_agent
exit 0
