# test_lock.sh - lock mode (`run --lock`): every guarded file and directory is
# immutable, so tampering fails outright; publish and pause lift the attribute
# and it is back afterwards. A filesystem without the attribute is reported.
. "$(dirname "$0")/lib.sh"

G=$T/www
S=$T/state
P=$T/pristine
make_site "$G"
cp -a "$G" "$P"

# Every regular file and directory below $1 (and $1) has the immutable flag
# (with "off": none has it). Prints the offenders.
all_locked() {
	local want=${2:-on}

	find "$1" \( -type f -o -type d \) -print0 | xargs -0 lsattr -d 2>&1 |
		python3 -c '
import sys
want = sys.argv[1] == "on"
bad = []
for line in sys.stdin:
    flags, _, path = line.rstrip("\n").partition(" ")
    if ("i" in flags) != want:
        bad.append(line.rstrip())
print("\n".join(bad))
sys.exit(1 if bad else 0)' "$want"
}

# attempt WHAT CMD...: the command must fail with "Operation not permitted".
attempt() {
	local what=$1
	shift
	if "$@" >"$T/attempt.out" 2>&1; then
		fail "lock mode: $what succeeded"
	fi
	grep -q "Operation not permitted" "$T/attempt.out" ||
		fail "lock mode: $what failed for another reason: $(cat "$T/attempt.out")"
}

start_agent "$S" "$G" --lock
"$YJ" status --state "$S" --json | grep -q '"lock":true' || fail "status does not show lock mode"
bad=$(all_locked "$G") || fail "not immutable after start:"$'\n'"$bad"

mark_events
attempt "overwriting a file" sh -c "echo x >'$G/index.html'"
attempt "appending to a file" sh -c "echo x >>'$G/a.txt'"
attempt "deleting a file" rm "$G/sub/b.txt"
attempt "creating a file" sh -c "echo x >'$G/new.php'"
attempt "creating a file in a subdirectory" sh -c "echo x >'$G/sub/deep/new.php'"
attempt "chmod" chmod 777 "$G/run.sh"
attempt "chown" chown nobody "$G/a.txt"
attempt "renaming a file" mv "$G/a.txt" "$G/b.txt"
attempt "touch -d" touch -d 2001-01-01 "$G/a.txt"
attempt "deleting the guarded directory" rm -rf "$G"
attempt "renaming the guarded directory" mv "$G" "$T/www.old"
assert_tree_same "$G" "$P" "lock mode let a change through"

# A root attacker lifts the attribute first: the write is undone and the file
# is immutable again.
chattr -i "$G/index.html" && echo "defaced by root" >"$G/index.html" || fail "cannot lift the attribute as root"
wait_restored "$G" "$P" 15 "lock mode: a write after chattr -i"
assert_event tamper "$G/index.html" restored
wait_until "lsattr -d '$G/index.html' | cut -d' ' -f1 | grep -q i" 10 "index.html immutable again"
chattr -i "$G/sub" && echo "planted" >"$G/sub/x.php" || fail "cannot plant after chattr -i"
wait_restored "$G" "$P" 15 "lock mode: a file planted after chattr -i"
wait_until "lsattr -d '$G/sub' | cut -d' ' -f1 | grep -q i" 10 "sub immutable again"

# publish --from lifts the lock, changes the tree, and locks it again.
ST=$T/staging
cp -a "$G" "$ST"
printf 'release 2\n' >"$ST/index.html"
printf 'new\n' >"$ST/new.html"
mkdir -p "$ST/news" && printf 'n\n' >"$ST/news/n.html"
rm "$ST/a.txt"
"$YJ" publish --state "$S" --from "$ST" "$G" >"$T/out" 2>&1 || fail "publish in lock mode failed: $(cat "$T/out")"
assert_tree_same "$G" "$ST" "publish in lock mode"
bad=$(all_locked "$G") || fail "not immutable again after publish:"$'\n'"$bad"
attempt "overwriting a published file" sh -c "echo x >'$G/new.html'"
attempt "creating a file in a published directory" sh -c "echo x >'$G/news/x.php'"
[ "$(cat "$G/new.html")" = new ] || fail "the published file changed"

# pause lifts the lock; resume undoes the edit and locks again.
"$YJ" pause --state "$S" "$G" >"$T/out" 2>&1 || fail "pause failed: $(cat "$T/out")"
bad=$(all_locked "$G" off) || fail "still immutable while paused:"$'\n'"$bad"
echo "hand edit" >"$G/index.html" || fail "cannot edit while paused"
echo "tmp" >"$G/tmp.html" || fail "cannot add a file while paused"
"$YJ" resume --state "$S" "$G" >"$T/out" 2>&1 || fail "resume failed: $(cat "$T/out")"
wait_restored "$G" "$ST" 15 "resume in lock mode"
bad=$(all_locked "$G") || fail "not immutable again after resume:"$'\n'"$bad"

# A filesystem without the immutable attribute (ramfs): said so in an event,
# and the guard still restores.
R=$T/ramfs
mkdir -p "$R"
mount -t ramfs ramfs "$R" || fail "cannot mount a ramfs"
on_cleanup "umount -l '$R'"
make_site "$R/www"
cp -a "$R/www" "$T/ramfs.pristine"
S2=$T/state2
mark_events
start_agent "$S2" "$R/www" --lock
assert_event guard_error "$R/www" "" "'immutable' in e.get('detail', '')"
"$YJ" status --state "$S2" --json | grep -q '"lock":false' ||
	fail "status claims lock mode on a filesystem without the attribute"
echo defaced >"$R/www/index.html"
wait_restored "$R/www" "$T/ramfs.pristine" 15 "restore on a filesystem without lock support"
stop_agent

stop_agent "${YJ_PIDS[0]}"

# The agent stopped, the tree is still locked: an offline publish must still
# be able to change it.
ST2=$T/staging2
cp -a "$ST" "$ST2"
chattr -R -i "$ST2"
printf 'release 3 (offline)\n' >"$ST2/index.html"
if "$YJ" publish --state "$S" --from "$ST2" "$G" >"$T/out" 2>&1; then
	assert_tree_same "$G" "$ST2" "offline publish of a locked tree"
else
	fail_later "offline publish of a tree left locked by a lock-mode agent fails: $(cat "$T/out")"
fi
# Nor may a restart without --lock leave publish unable to work.
start_agent "$S" "$G"
cp -a "$G" "$T/staging3"
chattr -R -i "$T/staging3"
printf 'release 4 (lock mode off)\n' >"$T/staging3/index.html"
if "$YJ" publish --state "$S" --from "$T/staging3" "$G" >"$T/out" 2>&1; then
	assert_tree_same "$G" "$T/staging3" "publish after lock mode was turned off"
else
	fail_later "publish after restarting without --lock fails: $(cat "$T/out")"
fi
stop_agent
exit 0
