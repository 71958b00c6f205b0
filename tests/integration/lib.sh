# lib.sh - shared helpers for the integration tests (tests/integration/test_*.sh).
#
# Sourced by every test. Each test runs as `bash test_X.sh` with YINGJI_BIN (the
# directory holding yingji-agent) and YINGJI_SRC (the repository root) in the
# environment; it exits 0 on success, non-zero on failure and 77 (skip) only
# when not root. Everything a test makes lives in $T (a mktemp -d under /tmp),
# removed on exit together with every agent the test started.
#
# The tests assert what a user would notice (content, mode, owner and mtime
# back; the event journaled with the right type, action, path and writer), and
# they wait by polling with generous timeouts: no fixed sleep is an assertion,
# and nothing is timed.
#
#   fail MSG                    print MSG and the agents' logs, exit 1
#   on_cleanup CMD              run CMD (eval) at exit, last registered first
#   fail_later MSG              report a failure, go on, fail at exit
#   start_agent STATE GUARD... [--opt ...]
#                               start `yingji-agent run` in the background and
#                               wait until every guard is "ready"; sets
#                               AGENT_PID, AGENT_LOG and AGENT_STATE
#   launch_agent ... ; wait_agent [ready|any]
#                               the same in two steps, for agents that may exit
#                               (wait_agent returns 1 with AGENT_RC then)
#   stop_agent [PID]            SIGTERM, wait, expect exit 0 and no sanitizer report
#   crash_agent [PID]           SIGKILL, wait
#   wait_until COND [SECONDS] [WHAT]
#                               eval COND every 20 ms until it succeeds
#   events_json [STATE]         the journal as JSON lines
#   mark_events                 only events from now on count for the checks below
#   has_event TYPE PATH [ACTION] [PYEXPR]   (an empty argument matches anything)
#                               whether such an event exists (sets EVENT to the last)
#   assert_event TYPE PATH [ACTION] [PYEXPR]
#                               wait (10 s) for such an event, else fail; sets EVENT
#   count_events PYEXPR         number of events (since the mark) matching PYEXPR
#   ev_get JSONLINE PYEXPR      print PYEXPR evaluated on the event e
#   tree_same A B / assert_tree_same A B
#                               same entries, types, content, symlink targets,
#                               mode, owner, and file mtimes
#
# PATH in the event checks: an absolute path must match exactly, anything else
# is a substring. PYEXPR is a Python expression over the event dict `e`.

set -u
set -o pipefail

if [ "$(id -u)" -ne 0 ]; then
	echo "SKIP: the integration tests need root (fanotify, chown, chattr, mounts)"
	exit 77
fi
: "${YINGJI_BIN:?set YINGJI_BIN to the directory holding yingji-agent}"
: "${YINGJI_SRC:?set YINGJI_SRC to the repository root}"
YJ="$YINGJI_BIN/yingji-agent"
if [ ! -x "$YJ" ]; then
	echo "FAIL: $YJ is not an executable (build first)" >&2
	exit 1
fi

TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d /tmp/yj-it.XXXXXX) || exit 1
chmod 755 "$T"

# Messages in English, so the tests can look for them.
export YINGJI_LANG=en
# Sanitizer builds: every report goes to a file in $T as well as failing the
# process, so a report from any command (agent or CLI) fails the test.
YJ_ASAN_BASE=${ASAN_OPTIONS:-}
YJ_UBSAN_BASE=${UBSAN_OPTIONS:-}
mkdir -p "$T/sanitizer" && chmod 1777 "$T/sanitizer"
export ASAN_OPTIONS="${YJ_ASAN_BASE:+$YJ_ASAN_BASE:}log_path=$T/sanitizer/asan"
export UBSAN_OPTIONS="${YJ_UBSAN_BASE:+$YJ_UBSAN_BASE:}print_stacktrace=1:log_path=$T/sanitizer/ubsan"

YJ_PIDS=()
YJ_CLEANUP=()
YJ_NAGENT=0
YJ_MARK=0
YJ_FAILED=0
AGENT_RC=
AGENT_NGUARDS=0
AGENT_PID=
AGENT_LOG=
AGENT_STATE=
EVENT=

now_ns() {
	local t=${EPOCHREALTIME/./}
	echo "${t}000"
}

on_cleanup() {
	YJ_CLEANUP+=("$1")
}

yj_forget_pid() {
	local keep=() p

	for p in "${YJ_PIDS[@]}"; do
		[ "$p" = "$1" ] || keep+=("$p")
	done
	YJ_PIDS=("${keep[@]}")
}

yj_cleanup() {
	local rc=$? p i

	trap - EXIT
	for p in "${YJ_PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${YJ_PIDS[@]}"; do
		for ((i = 0; i < 500; i++)); do
			kill -0 "$p" 2>/dev/null || break
			sleep 0.02
		done
		kill -KILL "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	for ((i = ${#YJ_CLEANUP[@]} - 1; i >= 0; i--)); do
		eval "${YJ_CLEANUP[i]}" >/dev/null 2>&1
	done
	if [ $rc -eq 0 ] && [ "$YJ_FAILED" -ne 0 ]; then
		for p in "$T"/agent.*.log; do
			[ -f "$p" ] || continue
			echo "---- $p (last 40 lines)" >&2
			tail -n 40 "$p" >&2
		done
		rc=1
	fi
	if [ $rc -eq 0 ] && yj_sanitizer_reports; then
		echo "FAIL: $TEST_NAME: sanitizer report (see above)" >&2
		rc=1
	fi
	chattr -R -i "$T" >/dev/null 2>&1
	if [ -n "${YJ_KEEP:-}" ]; then
		echo "kept $T" >&2
	else
		rm -rf "$T"
	fi
	exit $rc
}
trap yj_cleanup EXIT
trap 'exit 130' INT TERM

# Print every sanitizer report so far; true when there is one.
yj_sanitizer_reports() {
	local found=1 f

	for f in "$T"/sanitizer/*; do
		[ -s "$f" ] || continue
		echo "---- sanitizer report $f" >&2
		cat "$f" >&2
		found=0
	done
	for f in "$T"/agent.*.log; do
		[ -f "$f" ] || continue
		if grep -qE "ERROR: (Address|Leak)Sanitizer|runtime error:" "$f"; then
			echo "---- sanitizer report in $f" >&2
			cat "$f" >&2
			found=0
		fi
	done
	return $found
}

# fail_later MSG: report a failure but go on (the test fails at exit).
fail_later() {
	echo "FAIL: $TEST_NAME: $*" >&2
	YJ_FAILED=1
}

fail() {
	local f

	echo "FAIL: $TEST_NAME: $*" >&2
	for f in "$T"/agent.*.log; do
		[ -f "$f" ] || continue
		echo "---- $f (last 60 lines)" >&2
		tail -n 60 "$f" >&2
	done
	if [ -n "$AGENT_STATE" ] && [ -d "$AGENT_STATE" ]; then
		echo "---- events of $AGENT_STATE (last 30)" >&2
		"$YJ" events --state "$AGENT_STATE" --json 2>&1 | tail -n 30 >&2
	fi
	yj_sanitizer_reports
	exit 1
}

# wait_until COND [SECONDS] [WHAT]: eval COND (in this shell) every 20 ms.
wait_until() {
	local cond=$1 timeout=${2:-10} what=${3:-$1}
	local end=$(($(now_ns) + timeout * 1000000000))

	while ! eval "$cond" >/dev/null 2>&1; do
		if [ "$(now_ns)" -gt "$end" ]; then
			fail "timed out after ${timeout}s waiting for: $what"
		fi
		sleep 0.02
	done
}

# The agent named by its status file is this pid, and it lists n guards, all
# in the state wanted ("ready", or "any").
yj_agent_ready() {
	"$YJ" status --state "$1" --json 2>/dev/null | python3 -c '
import json, sys
s = json.loads(sys.stdin.read())
g = s.get("guards", [])
want = sys.argv[3]
ok = s.get("running") and s.get("pid") == int(sys.argv[1]) and len(g) == int(sys.argv[2]) \
	and all(want == "any" or x.get("state") == want for x in g)
sys.exit(0 if ok else 1)' "$2" "$3" "${4:-ready}" 2>/dev/null
}

# launch_agent STATE GUARD... [--option ...]: start it in the background and
# return at once; sets AGENT_PID, AGENT_LOG, AGENT_STATE and AGENT_NGUARDS.
launch_agent() {
	local state=$1 guards=() args i
	shift
	while [ $# -gt 0 ] && [ "${1#--}" = "$1" ]; do
		guards+=("$1")
		shift
	done
	args=(run --state "$state")
	for i in "${guards[@]}"; do
		args+=(--guard "$i")
	done
	YJ_NAGENT=$((YJ_NAGENT + 1))
	AGENT_LOG="$T/agent.$YJ_NAGENT.log"
	AGENT_STATE=$state
	AGENT_NGUARDS=${#guards[@]}
	echo "+ yingji-agent ${args[*]} $*" >"$AGENT_LOG"
	"$YJ" "${args[@]}" "$@" >>"$AGENT_LOG" 2>&1 &
	AGENT_PID=$!
	YJ_PIDS+=("$AGENT_PID")
}

# wait_agent [ready|any]: wait (30 s) until the agent just launched lists its
# guards (all ready, or in any state) and return 0; or until it exits, and
# return 1 with its exit status in AGENT_RC.
wait_agent() {
	local want=${1:-ready} i

	for ((i = 0; i < 1500; i++)); do
		if ! kill -0 "$AGENT_PID" 2>/dev/null; then
			wait "$AGENT_PID"
			AGENT_RC=$?
			yj_forget_pid "$AGENT_PID"
			return 1
		fi
		if yj_agent_ready "$AGENT_STATE" "$AGENT_PID" "$AGENT_NGUARDS" "$want"; then
			return 0
		fi
		sleep 0.02
	done
	fail "the agent neither exited nor listed its guards ($want) within 30 s"
}

# start_agent STATE GUARD... [--option ...]: start and wait until every guard is ready.
start_agent() {
	launch_agent "$@"
	wait_agent ready ||
		fail "the agent exited with status $AGENT_RC during start-up (log $AGENT_LOG)"
}

yj_wait_exit() {
	local pid=$1 i

	for ((i = 0; i < 1500; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.02
	done
	if kill -0 "$pid" 2>/dev/null; then
		kill -KILL "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		yj_forget_pid "$pid"
		fail "process $pid did not stop within 30 s of SIGTERM"
	fi
	wait "$pid"
}

# stop_agent [PID]: SIGTERM; the agent must exit 0 with no sanitizer report.
stop_agent() {
	yj_stop "${1:-$AGENT_PID}" agent
}

# yj_stop PID WHAT: SIGTERM; exit 0 and no sanitizer report expected.
yj_stop() {
	local pid=$1 what=$2 rc

	kill -TERM "$pid" 2>/dev/null || fail "$what $pid is not running"
	yj_wait_exit "$pid"
	rc=$?
	yj_forget_pid "$pid"
	if yj_sanitizer_reports; then
		fail "sanitizer report from the $what or a command"
	fi
	[ $rc -eq 0 ] || fail "$what $pid exited with status $rc after SIGTERM"
}

crash_agent() {
	local pid=${1:-$AGENT_PID}

	kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	yj_forget_pid "$pid"
}

events_json() {
	"$YJ" events --state "${1:-$AGENT_STATE}" --json
}

mark_events() {
	YJ_MARK=$(now_ns)
}

# The Python side of the event checks: JSON lines on stdin, events since the
# mark that satisfy the expression on stdout; exit 0 when there is one.
YJ_PY_SELECT='
import json, sys
expr, mark, mode = sys.argv[1], int(sys.argv[2]), sys.argv[3]
code = compile(expr, "<expr>", "eval")
n = 0
for raw in sys.stdin.buffer:
    raw = raw.rstrip(b"\n")
    if not raw:
        continue
    e = json.loads(raw.decode("utf-8", "surrogateescape"))
    if e.get("time_ns", 0) < mark:
        continue
    if eval(code, {}, {"e": e}):
        n += 1
        if mode == "lines":
            print(raw.decode("utf-8", "surrogateescape"))
if mode == "count":
    print(n)
sys.exit(0 if n else 1)
'

# The Python expression for TYPE PATH [ACTION] [EXTRA].
yj_event_expr() {
	local type=$1 path=$2 action=${3:-} extra=${4:-}
	local expr

	expr="True"
	[ -n "$type" ] && expr+=" and e.get('type') == $(yj_pyquote "$type")"
	if [ -n "$path" ]; then
		if [ "${path#/}" != "$path" ]; then
			expr+=" and e.get('path') == $(yj_pyquote "$path")"
		else
			expr+=" and $(yj_pyquote "$path") in e.get('path', '')"
		fi
	fi
	[ -n "$action" ] && expr+=" and e.get('action') == $(yj_pyquote "$action")"
	[ -n "$extra" ] && expr+=" and ($extra)"
	printf '%s' "$expr"
}

yj_pyquote() {
	python3 -c 'import sys; print(repr(sys.argv[1]))' "$1"
}

# select_events PYEXPR: matching event lines since the mark.
select_events() {
	events_json "$AGENT_STATE" | python3 -c "$YJ_PY_SELECT" "$1" "$YJ_MARK" lines
}

count_events() {
	events_json "$AGENT_STATE" | python3 -c "$YJ_PY_SELECT" "$1" "$YJ_MARK" count
}

has_event() {
	yj_has_event_expr "$(yj_event_expr "$@")"
}

yj_has_event_expr() {
	local lines

	lines=$(select_events "$1") || return 1
	EVENT=${lines##*$'\n'}
	return 0
}

assert_event() {
	YJ_EXPR=$(yj_event_expr "$@")
	wait_until 'yj_has_event_expr "$YJ_EXPR"' 10 \
		"a \"$1\" event for ${2:-any path}${3:+ with action $3}${4:+ where $4}"
}

# ev_get JSONLINE PYEXPR: print the expression's value (e is the event).
ev_get() {
	python3 -c '
import json, sys
e = json.loads(sys.argv[1])
v = eval(sys.argv[2], {}, {"e": e})
print(v if not isinstance(v, (dict, list)) else json.dumps(v))' "$1" "$2"
}

YJ_PY_TREE='
import os, stat, sys

def walk(root):
    out = {}
    def visit(rel):
        p = os.path.join(root, rel) if rel else root
        st = os.lstat(p)
        m = st.st_mode
        ent = {"mode": oct(stat.S_IMODE(m)), "uid": st.st_uid, "gid": st.st_gid}
        if stat.S_ISREG(m):
            ent["type"] = "file"
            with open(p, "rb") as f:
                ent["content"] = f.read()
            ent["mtime_ns"] = st.st_mtime_ns
        elif stat.S_ISLNK(m):
            ent["type"] = "symlink"
            ent["target"] = os.readlink(p)
            del ent["mode"]
        elif stat.S_ISDIR(m):
            ent["type"] = "dir"
        else:
            ent["type"] = "other"
        out[rel] = ent
        if stat.S_ISDIR(m):
            for name in sorted(os.listdir(p)):
                visit(os.path.join(rel, name) if rel else name)
    visit(b"")
    return out

a, b = walk(os.fsencode(sys.argv[1])), walk(os.fsencode(sys.argv[2]))
diffs = []
for rel in sorted(set(a) | set(b)):
    name = os.fsdecode(rel) or "."
    if rel not in a:
        diffs.append("only in %s: %r" % (sys.argv[2], name))
    elif rel not in b:
        diffs.append("only in %s: %r" % (sys.argv[1], name))
    else:
        for k in sorted(set(a[rel]) | set(b[rel])):
            if a[rel].get(k) != b[rel].get(k):
                va, vb = a[rel].get(k), b[rel].get(k)
                if k == "content":
                    va, vb = "%d bytes" % len(va or b""), "%d bytes" % len(vb or b"")
                diffs.append("%r: %s differs: %s vs %s" % (name, k, va, vb))
for d in diffs[:40]:
    print(d)
sys.exit(1 if diffs else 0)
'

# tree_same A B: true when the two trees look the same to a user.
tree_same() {
	python3 -c "$YJ_PY_TREE" "$1" "$2" >/dev/null 2>&1
}

tree_diff() {
	python3 -c "$YJ_PY_TREE" "$1" "$2" 2>&1
}

assert_tree_same() {
	local d

	d=$(tree_diff "$1" "$2") || fail "${3:-$1 differs from $2}:"$'\n'"$d"
}

# wait_restored G PRISTINE [SECONDS] [WHAT]
wait_restored() {
	local g=$1 p=$2 s=${3:-15} what=${4:-}

	if ! wait_until_quiet "tree_same '$g' '$p'" "$s"; then
		fail "${what:+$what: }$g was not put back within ${s}s:"$'\n'"$(tree_diff "$g" "$p")"
	fi
}

# Like wait_until, but returns 1 instead of failing.
wait_until_quiet() {
	local cond=$1 timeout=${2:-10}
	local end=$(($(now_ns) + timeout * 1000000000))

	while ! eval "$cond" >/dev/null 2>&1; do
		[ "$(now_ns)" -gt "$end" ] && return 1
		sleep 0.02
	done
	return 0
}

# A small web root: files of several sizes and modes, owners, a subtree,
# a symlink, an empty file, a name with a space.
# swap_dir_for_symlink DIR AWAY TARGET: rename DIR to AWAY<n> and put a symlink
# to TARGET in its place, retrying while the agent keeps putting DIR back.
swap_dir_for_symlink() {
	python3 - "$1" "$2" "$3" <<-'EOF'
	import os, sys, time
	for attempt in range(20):
	    try:
	        os.rename(sys.argv[1], sys.argv[2] + str(attempt))
	        os.symlink(sys.argv[3], sys.argv[1])
	        sys.exit(0)
	    except OSError:
	        time.sleep(0.1)
	sys.exit(1)
	EOF
}

# new_site NAME: W=$T/NAME with a fresh site in G=$W/www, its pristine copy in
# P=$W/pristine, and S=$W/state for the agent.
new_site() {
	W=$T/$1
	G=$W/www
	S=$W/state
	P=$W/pristine
	mkdir -p "$W"
	make_site "$G"
	cp -a "$G" "$P"
}

make_site() {
	local d=$1

	mkdir -p "$d/sub/deep" "$d/img"
	printf '<html><body>Yingji test page</body></html>\n' >"$d/index.html"
	printf 'line one\nline two\n' >"$d/a.txt"
	: >"$d/empty"
	printf '#!/bin/sh\necho hi\n' >"$d/run.sh"
	chmod 755 "$d/run.sh"
	printf 'secret=1\n' >"$d/conf.ini"
	chmod 640 "$d/conf.ini"
	chown 1000:1000 "$d/conf.ini"
	printf 'b\n' >"$d/sub/b.txt"
	printf 'c\n' >"$d/sub/deep/c.txt"
	head -c 200000 /dev/urandom >"$d/img/logo.bin"
	printf 'spaced\n' >"$d/name with space.txt"
	ln -s index.html "$d/link"
	chmod 750 "$d/sub"
	touch -d '2020-02-02 02:02:02' "$d/a.txt"
}

# ---- the centre (yingji serve) ----
#
#   start_server DATA [--opt ...]  start `yingji serve --data DATA` on free
#                                  loopback ports (or those of an earlier start
#                                  with the same DATA); sets SERVER_PID,
#                                  SERVER_DATA, SERVER_LOG, AGENTS_ADDR, HTTP_ADDR
#   stop_server / crash_server     SIGTERM (expect exit 0) / SIGKILL
#   yjc ARGS...                    `yingji --data $SERVER_DATA ARGS...`
#   enroll STATE [NAME]            a token from the centre, then
#                                  `yingji-agent enroll`; sets AGENT_ID
#   centre_events [PYFILTER]       the centre's events (JSON lines), filtered
#   centre_count PYFILTER          how many of them match
YJS="$YINGJI_BIN/yingji"
SERVER_PID=
SERVER_DATA=
AGENTS_ADDR=
HTTP_ADDR=
YJ_NSERVER=0

start_server() {
	local data=$1 i
	shift
	local agents=127.0.0.1:0 http=127.0.0.1:0

	# The same ports after a restart: agents reconnect to the address they know.
	if [ "$data" = "$SERVER_DATA" ] && [ -n "$AGENTS_ADDR" ]; then
		agents=$AGENTS_ADDR
		http=$HTTP_ADDR
	fi
	rm -f "$data/serve.json"
	YJ_NSERVER=$((YJ_NSERVER + 1))
	SERVER_LOG="$T/agent.centre.$YJ_NSERVER.log"
	"$YJS" serve --data "$data" --agents "$agents" --http "$http" "$@" >"$SERVER_LOG" 2>&1 &
	SERVER_PID=$!
	YJ_PIDS+=("$SERVER_PID")
	SERVER_DATA=$data
	for ((i = 0; i < 1500; i++)); do
		[ -s "$data/serve.json" ] && break
		kill -0 "$SERVER_PID" 2>/dev/null || fail "yingji serve exited during start-up (log $SERVER_LOG)"
		sleep 0.02
	done
	[ -s "$data/serve.json" ] || fail "yingji serve did not start within 30 s"
	AGENTS_ADDR=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["agents"])' "$data/serve.json")
	HTTP_ADDR=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["http"])' "$data/serve.json")
}

stop_server() {
	yj_stop "${1:-$SERVER_PID}" server
}

crash_server() {
	crash_agent "${1:-$SERVER_PID}"
}

yjc() {
	"$YJS" --data "$SERVER_DATA" "$@"
}

enroll() {
	local state=$1 name=${2:-agent-$RANDOM} token out

	token=$(yjc token create | tail -n 1) || fail "token create failed"
	out=$("$YJ" enroll --state "$state" --server "$AGENTS_ADDR" --token "$token" --name "$name" 2>&1) ||
		fail "enroll failed: $out"
	AGENT_ID=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["agent"])' "$state/server.json")
}

centre_events() {
	yjc events --json | python3 -c '
import json, sys
f = sys.argv[1] if len(sys.argv) > 1 and sys.argv[1] else "True"
for line in sys.stdin:
    e = json.loads(line)
    if eval(f):
        sys.stdout.write(line)
' "${1:-}"
}

centre_count() {
	centre_events "$1" | wc -l
}
