# server_lib.sh - helpers for the tests of `yingji serve` (test_server_*.sh).
#
# Sourced after lib.sh. Needs YINGJI_TOOLS (the directory holding badpeer,
# built from tests/tools/badpeer.c). The server's logs are $T/server.N.log;
# fail() shows their last lines too.
#
#   start_server DATADIR [--opt ...]
#                           `yingji serve` on 127.0.0.1 with free ports, lost
#                           after 5 s, heartbeats every 1 s; waits for its
#                           serve.json. Sets SRV_PID, SRV_LOG, SRV_DATA, AGENTS
#                           (host:port) and HTTP (host:port).
#   stop_server             SIGTERM; it must exit 0 within 30 s
#   yjc ARGS...             yingji --data $SRV_DATA ARGS
#   new_token [TTL]         print a fresh enrollment token
#   enroll_peer NAME        enroll a badpeer named NAME with a fresh token;
#                           its files in $T/peers/NAME; sets PEER_ID
#   peer_id NAME            print the agent id of peer NAME
#   peer_send NAME STEP...  badpeer send with NAME's certificate; its output
#                           in OUT, its exit status in RC (PEER_LINGER: ms
#                           to read at the end, 300; PEER_OPTS: more options)
#   anon_send STEP...       the same without a client certificate
#   assert_out REGEX WHAT   OUT matches the (grep -E) REGEX, else fail
#   assert_out_not REGEX WHAT
#   log_mark                only server log lines from now on count for:
#   assert_log REGEX WHAT   wait (10 s) for such a server log line
#   agent_seqs ID           "lane seq" of the agent's own stored events, sorted
#   assert_seqs ID LANE N   the agent's events of LANE are exactly seq 1..N,
#                           each once (and none in the other lane unless
#                           ASSERT_OTHER_LANE=N2 says so); ASSERT_SOFT=1:
#                           fail_later and return 1 instead of failing
#   setup_canary            enroll the peer "canary"
#   assert_healthy WHAT     the server is running, answers the API, and the
#                           canary's next event is acknowledged and stored
#                           exactly once with all its earlier ones
#   api_get PATH            GET with the admin token; body on stdout

: "${YINGJI_TOOLS:?set YINGJI_TOOLS to the directory holding badpeer}"
YINGJI=$YINGJI_BIN/yingji
BADPEER=$YINGJI_TOOLS/badpeer
for yj_x in "$YINGJI" "$BADPEER"; do
	if [ ! -x "$yj_x" ]; then
		echo "FAIL: $yj_x is not an executable (build first)" >&2
		exit 1
	fi
done

SRV_PID=
SRV_LOG=
SRV_DATA=
SRV_N=0
SRV_LOG_MARK=0
AGENTS=
HTTP=
OUT=
RC=
CANARY_ID=
CANARY_SEQ=0
PEER_OPTS=
mkdir -p "$T/peers"

# fail() also shows the server's log (lib.sh's shows the agents').
eval "yj_base_fail() $(declare -f fail | tail -n +2)"
fail() {
	local f

	for f in "$T"/server.*.log; do
		[ -f "$f" ] || continue
		echo "---- $f (last 60 lines)" >&2
		tail -n 60 "$f" >&2
	done
	[ -n "$OUT" ] && printf -- '---- last badpeer output:\n%s\n' "$OUT" >&2
	yj_base_fail "$@"
}

yjc() {
	"$YINGJI" --data "$SRV_DATA" "$@"
}

yj_serve_json_pid() {
	python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
sys.exit(0 if s.get("pid") == int(sys.argv[2]) else 1)' "$SRV_DATA/serve.json" "$SRV_PID"
}

start_server() {
	SRV_DATA=$1
	shift
	SRV_N=$((SRV_N + 1))
	SRV_LOG=$T/server.$SRV_N.log
	echo "+ yingji serve --data $SRV_DATA $*" >"$SRV_LOG"
	"$YINGJI" serve --data "$SRV_DATA" --agents 127.0.0.1:0 --http 127.0.0.1:0 \
		--lost-after 5s --heartbeat 1s "$@" >>"$SRV_LOG" 2>&1 &
	SRV_PID=$!
	YJ_PIDS+=("$SRV_PID")
	wait_until 'yj_serve_json_pid || ! kill -0 $SRV_PID' 30 "the server's serve.json"
	kill -0 "$SRV_PID" 2>/dev/null || fail "the server exited during start-up"
	AGENTS=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["agents"])' \
		"$SRV_DATA/serve.json")
	HTTP=$(python3 -c 'import json, sys; print(json.load(open(sys.argv[1]))["http"])' \
		"$SRV_DATA/serve.json")
	SRV_LOG_MARK=0
}

stop_server() {
	local rc i

	kill -TERM "$SRV_PID" 2>/dev/null || fail "the server is not running"
	for ((i = 0; i < 1500; i++)); do
		kill -0 "$SRV_PID" 2>/dev/null || break
		sleep 0.02
	done
	if kill -0 "$SRV_PID" 2>/dev/null; then
		kill -KILL "$SRV_PID"
		wait "$SRV_PID" 2>/dev/null
		yj_forget_pid "$SRV_PID"
		fail "the server did not stop within 30 s of SIGTERM"
	fi
	wait "$SRV_PID"
	rc=$?
	yj_forget_pid "$SRV_PID"
	[ $rc -eq 0 ] || fail "the server exited with status $rc after SIGTERM"
	if yj_sanitizer_reports; then
		fail "sanitizer report from the server or a command"
	fi
}

new_token() {
	local out

	if [ $# -gt 0 ]; then
		out=$(yjc token create --ttl "$1") || fail "token create --ttl $1 failed: $out"
	else
		out=$(yjc token create) || fail "token create failed: $out"
	fi
	printf '%s\n' "${out##*$'\n'}"
}

enroll_peer() {
	local name=$1 tok

	tok=$(new_token)
	rm -rf "$T/peers/$name"
	OUT=$("$BADPEER" enroll --server "$AGENTS" --token "$tok" --out "$T/peers/$name" \
		--name "$name" 2>&1)
	RC=$?
	[ $RC -eq 0 ] || fail "enrolling $name failed ($RC): $OUT"
	PEER_ID=$(cat "$T/peers/$name/agent.id")
}

peer_id() {
	cat "$T/peers/$1/agent.id"
}

peer_send() {
	local d=$T/peers/$1
	shift
	OUT=$("$BADPEER" send --server "$AGENTS" --ca "$SRV_DATA/pki/ca.crt" --cert "$d/agent.crt" \
		--key "$d/agent.key" --linger "${PEER_LINGER:-300}" ${PEER_OPTS:-} "$@" 2>&1)
	RC=$?
}

anon_send() {
	OUT=$("$BADPEER" send --server "$AGENTS" --ca "$SRV_DATA/pki/ca.crt" \
		--linger "${PEER_LINGER:-300}" ${PEER_OPTS:-} "$@" 2>&1)
	RC=$?
}

assert_out() {
	printf '%s\n' "$OUT" | grep -qE -- "$1" || fail "$2: expected /$1/ in the peer's output"
}

assert_out_not() {
	if printf '%s\n' "$OUT" | grep -qE -- "$1"; then
		fail "$2: unexpected /$1/ in the peer's output"
	fi
}

log_mark() {
	SRV_LOG_MARK=$(wc -l <"$SRV_LOG")
}

yj_log_since_mark() {
	tail -n +"$((SRV_LOG_MARK + 1))" "$SRV_LOG"
}

assert_log() {
	YJ_LOG_RE=$1
	wait_until 'yj_log_since_mark | grep -qE -- "$YJ_LOG_RE"' 10 "server log line /$1/ ($2)"
}

# The agent's own events (not those the server made about it).
agent_seqs() {
	yjc events --json --agent "$1" | python3 -c '
import json, sys
for l in sys.stdin:
    if l.strip():
        e = json.loads(l)
        if e.get("lane") != "server":
            print(e.get("lane"), e.get("seq"))' | sort -k1,1 -k2n
}

assert_seqs() {
	local id=$1 lane=$2 n=$3 got want other=${ASSERT_OTHER_LANE:-0} olane msg

	got=$(agent_seqs "$id") || fail "cannot list the events of agent $id"
	olane=$([ "$lane" = urgent ] && echo bulk || echo urgent)
	want=$( (for ((i = 1; i <= n; i++)); do echo "$lane $i"; done
		for ((i = 1; i <= other; i++)); do echo "$olane $i"; done) | sort -k1,1 -k2n)
	[ "$got" = "$want" ] && return 0
	msg="agent $id: stored events are not exactly $lane 1..$n (and $olane 1..$other); got:"
	msg+=$'\n'"$(printf '%s\n' "$got" | uniq -c | head -40)"
	[ -n "${ASSERT_SOFT:-}" ] || fail "$msg"
	fail_later "$msg"
	return 1
}

setup_canary() {
	enroll_peer canary
	CANARY_ID=$PEER_ID
	CANARY_SEQ=0
}

assert_healthy() {
	local what=$1

	kill -0 "$SRV_PID" 2>/dev/null || fail "$what: the server is gone"
	yjc status --json >/dev/null 2>&1 || fail "$what: the server does not answer the API"
	CANARY_SEQ=$((CANARY_SEQ + 1))
	PEER_LINGER=0 peer_send canary "hello $CANARY_ID" welcome \
		"events 1 $CANARY_SEQ $CANARY_SEQ" "waitack 1 $CANARY_SEQ"
	[ $RC -eq 0 ] || fail "$what: the canary's event $CANARY_SEQ was not acknowledged"
	assert_seqs "$CANARY_ID" bulk "$CANARY_SEQ"
}

api_get() {
	python3 - "$HTTP" "$(cat "$SRV_DATA/admin.token")" "$1" <<-'EOF'
	import http.client, sys
	h, p = sys.argv[1].rsplit(":", 1)
	c = http.client.HTTPConnection(h, int(p), timeout=20)
	c.request("GET", sys.argv[3], headers={"Authorization": "Bearer " + sys.argv[2]})
	r = c.getresponse()
	body = r.read().decode()
	print(body)
	sys.exit(0 if r.status == 200 else 1)
	EOF
}

# json_field JSON PYEXPR: evaluate PYEXPR on the object j.
json_field() {
	python3 -c '
import json, sys
j = json.loads(sys.argv[1])
v = eval(sys.argv[2], {}, {"j": j})
print(v if not isinstance(v, (dict, list)) else json.dumps(v))' "$1" "$2"
}
