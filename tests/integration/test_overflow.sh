# test_overflow.sh - the kernel's event queue overflows: the agent notices,
# rescans, and everything is restored in the end (inotify with a tiny queue;
# fanotify with its default queue of 16384 flooded from elsewhere on the
# filesystem).
. "$(dirname "$0")/lib.sh"

QFILE=/proc/sys/fs/inotify/max_queued_events
[ -w "$QFILE" ] || fail "$QFILE is not writable"
old_queue=$(cat "$QFILE")
on_cleanup "echo $old_queue >$QFILE"

# An agent's inotify queue size is fixed when it starts: lower the limit just
# for the agent's start, then put it back for everyone else.
G=$T/inotify/www
S=$T/inotify/state
P=$T/inotify/pristine
mkdir -p "$T/inotify"
make_site "$G"
for i in $(seq 1 60); do printf 'page %d\n' "$i" >"$G/sub/page$i.html"; done
cp -a "$G" "$P"
echo 64 >"$QFILE"
start_agent "$S" "$G" --watcher inotify
echo "$old_queue" >"$QFILE"

mark_events
# While the agent cannot read (SIGSTOP), hundreds of changes: the queue of 64
# overflows, so most events are lost.
kill -STOP "$AGENT_PID"
for i in $(seq 1 60); do echo "defaced $i" >"$G/sub/page$i.html"; done
for i in $(seq 1 200); do echo "planted $i" >"$G/planted$i.php"; done
rm "$G/sub/deep/c.txt"
chmod 777 "$G/run.sh"
echo "defaced last" >"$G/index.html"
kill -CONT "$AGENT_PID"
wait_restored "$G" "$P" 30 "inotify: after the overflow"
assert_event rescan "$G" "" "'overflow' in e.get('detail', '')"

# Hundreds of changes as fast as possible while the agent runs.
mark_events
for i in $(seq 1 300); do
	echo "fast $i" >"$G/sub/page$((i % 60 + 1)).html"
	echo "fast $i" >"$G/fast$i.php"
done
wait_restored "$G" "$P" 30 "inotify: after fast changes"
stop_agent

# fanotify: one mark per filesystem, so changes anywhere on it fill the queue.
G=$T/fanotify/www
S=$T/fanotify/state
P=$T/fanotify/pristine
F=$T/fanotify/flood
mkdir -p "$T/fanotify" "$F"
make_site "$G"
cp -a "$G" "$P"
start_agent "$S" "$G" --watcher fanotify
mark_events
kill -STOP "$AGENT_PID"
python3 - "$F" <<'EOF'
import os, sys
for i in range(20000):
    with open(os.path.join(sys.argv[1], "f%05d" % i), "w") as f:
        pass
EOF
echo "defaced after the flood" >"$G/index.html"
echo "planted after the flood" >"$G/planted.php"
kill -CONT "$AGENT_PID"
wait_restored "$G" "$P" 60 "fanotify: after the overflow"
assert_event rescan "$G" "" "'overflow' in e.get('detail', '')"
stop_agent
exit 0
