#!/usr/bin/env bash
# The systemd journal as a log source (`run --journal`), with a real
# systemd-journald in a private mount namespace (tmpfs on /run and on
# /var/log/journal: the host's journal is not touched): entries written after
# the start arrive as "log" events with an RFC 5424 line and a cursor, and
# those from before the first start do not; entries written while the agent
# was stopped, or killed, arrive exactly once; a 100 KiB message is cut and
# marked, one with newlines and a NUL stays one line; an entry whose saved
# cursor was vacuumed away is reported and reading goes on after it; 12
# failed sshd logins through the journal raise the centre's SSH brute-force
# alert.

# Everything below runs in a mount namespace of its own (root only: lib.sh
# skips otherwise).
if [ -z "${YJ_JOURNALD_NS:-}" ] && [ "$(id -u)" -eq 0 ]; then
	YJ_JOURNALD_NS=1 exec unshare --mount --propagation private bash "$0" "$@"
fi
. "$(dirname "$0")/lib.sh"

JOURNALD=
for p in /lib/systemd/systemd-journald /usr/lib/systemd/systemd-journald; do
	if [ -x "$p" ]; then
		JOURNALD=$p
		break
	fi
done
[ -n "$JOURNALD" ] || fail "no systemd-journald (scripts/deps.sh check installs the systemd package)"
[ -n "${YJ_JOURNALD_NS:-}" ] || fail "not in a private mount namespace (unshare failed?)"

# A private /run (journald's sockets and the volatile journal) and, if the
# host keeps a persistent journal, a tmpfs over it.
mount -t tmpfs -o mode=755 tmpfs /run || fail "cannot mount a tmpfs on /run"
mkdir -p /run/systemd/journal /run/log/journal
if [ -d /var/log/journal ]; then
	mount -t tmpfs -o mode=2755 tmpfs /var/log/journal || fail "cannot mount a tmpfs on /var/log/journal"
fi
# journald needs a machine id; a file of our own over an empty one (a missing
# one is made in an overlay of /etc, so the host's /etc stays as it is).
if [ ! -s /etc/machine-id ]; then
	systemd-id128 new >"$T/machine-id" 2>/dev/null || dbus-uuidgen >"$T/machine-id" ||
		fail "cannot make a machine id"
	if [ -e /etc/machine-id ]; then
		mount --bind "$T/machine-id" /etc/machine-id || fail "cannot bind a machine id"
	else
		mkdir -p "$T/etc-upper" "$T/etc-work"
		mount -t overlay overlay -o lowerdir=/etc,upperdir="$T/etc-upper",workdir="$T/etc-work" /etc ||
			fail "no /etc/machine-id and no overlay to give one"
		cp "$T/machine-id" /etc/machine-id
	fi
fi

JD_PID=
start_journald() {
	local i

	# Its own messages to its stderr, not to the host's kernel log.
	SYSTEMD_LOG_TARGET=console "$JOURNALD" >>"$T/agent.journald.log" 2>&1 &
	JD_PID=$!
	YJ_PIDS+=("$JD_PID")
	for ((i = 0; i < 1500; i++)); do
		[ -S /run/systemd/journal/socket ] && [ -S /run/systemd/journal/dev-log ] && break
		kill -0 "$JD_PID" 2>/dev/null || fail "systemd-journald exited: $(cat "$T/agent.journald.log")"
		sleep 0.02
	done
	[ -S /run/systemd/journal/socket ] || fail "systemd-journald did not make its socket within 30 s"
	# Up when an entry sent now can be read back.
	jsend MESSAGE="journald up $JD_PID" SYSLOG_IDENTIFIER=yjprobe
	wait_until 'journalctl --no-pager -q -t yjprobe 2>/dev/null | grep -q "journald up $JD_PID"' 10 \
		"systemd-journald to store an entry"
}

stop_journald() {
	kill -TERM "$JD_PID"
	wait "$JD_PID"
	yj_forget_pid "$JD_PID"
	rm -f /run/systemd/journal/socket /run/systemd/journal/dev-log /run/systemd/journal/stdout
}

# jsend NAME=VALUE...: one entry over journald's native protocol (values may
# hold newlines; python escapes such as \n or \x00 in VALUE are decoded when
# the name is given as NAME:=VALUE).
jsend() {
	python3 - "$@" <<-'EOF'
	import socket, struct, sys
	msg = b""
	for a in sys.argv[1:]:
	    k, v = a.split("=", 1)
	    if k.endswith(":"):
	        k = k[:-1]
	        v = v.encode("latin-1").decode("unicode_escape").encode("latin-1")
	    else:
	        v = v.encode()
	    msg += k.encode() + b"\n" + struct.pack("<Q", len(v)) + v + b"\n"
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 4 << 20)
	s.sendto(msg, "/run/systemd/journal/socket")
	EOF
}

# syslog IDENT MSG: through journald's syslog socket, as a daemon's syslog() does.
syslog() {
	logger -u /run/systemd/journal/dev-log -i -p authpriv.info -t "$1" -- "$2"
}

# The lines of journal log events since the mark whose line contains WORD.
jlines() {
	events_json | python3 -c '
import json, sys
word, mark = sys.argv[1], int(sys.argv[2])
for raw in sys.stdin:
    e = json.loads(raw)
    if e.get("type") == "log" and e.get("source") == "journal" and e.get("time_ns", 0) >= mark \
            and word in e["line"]:
        print(e["line"])' "$1" "$YJ_MARK"
}

# check_once PREFIX N: messages "PREFIX 1" .. "PREFIX N" each arrived exactly
# once since the mark, and no other message starting with PREFIX.
check_once() {
	events_json | python3 -c '
import collections, json, sys
prefix, n, mark = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
want = collections.Counter("%s %d" % (prefix, i) for i in range(1, n + 1))
got = collections.Counter()
for raw in sys.stdin:
    e = json.loads(raw)
    if e.get("type") == "log" and e.get("source") == "journal" and e.get("time_ns", 0) >= mark:
        msg = e["line"].split(" - - ", 1)[-1]
        if msg.startswith(prefix + " "):
            got[msg] += 1
missing, extra = want - got, got - want
if missing or extra:
    print("%d wanted, %d got; missing %d (e.g. %s), extra/duplicate %d (e.g. %s)" % (
        sum(want.values()), sum(got.values()), sum(missing.values()), sorted(missing)[:3],
        sum(extra.values()), sorted(extra)[:3]))
    sys.exit(1)' "$1" "$2" "$YJ_MARK"
}

start_journald
S=$T/state
mkdir -p "$T/w"

# 1. Entries from before the very first start are not read; those after are,
# in order, as RFC 5424 lines with the journal's cursor.
jsend MESSAGE="before the first start" SYSLOG_IDENTIFIER=yjtest
mark_events
start_agent "$S" --journal
for i in 1 2 3; do
	jsend MESSAGE="after start $i" SYSLOG_IDENTIFIER=yjtest SYSLOG_PID=4242 PRIORITY=4 SYSLOG_FACILITY=1
done
wait_until '[ "$(jlines "after start" | wc -l)" -ge 3 ]' 10 "three journal entries as log events"
jlines "yjtest" >"$T/got.txt"
python3 - "$T/got.txt" "$(hostname)" <<'PY' || fail "journal lines not as expected: $(cat "$T/got.txt")"
import re, sys
lines = open(sys.argv[1]).read().splitlines()
host = sys.argv[2]
assert len(lines) == 3, lines
for i, l in enumerate(lines, 1):
    # user.warning = 1 * 8 + 4
    m = re.fullmatch(r"<12>1 (\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z) (\S+) yjtest 4242 - - after start %d" % i, l)
    assert m, l
    assert m.group(2) == host or host.startswith(m.group(2)), (m.group(2), host)
PY
ev=$(select_events "e['type']=='log' and e.get('source')=='journal' and e['line'].endswith('after start 1')")
[ "$(ev_get "$ev" 'e["truncated"]')" = False ] || fail "truncated set on a short entry: $ev"
[ "$(ev_get "$ev" 'e["cursor"].startswith("s=")')" = True ] || fail "no journal cursor: $ev"
[ "$(ev_get "$ev" '"path" in e or "offset" in e')" = False ] || fail "file fields on a journal event: $ev"

# Through the syslog socket, as sshd logs: program name, pid, authpriv.info (10 * 8 + 6).
syslog sshd "Failed password for root from 203.0.113.9 port 5555 ssh2"
wait_until '[ "$(jlines "Failed password" | wc -l)" -ge 1 ]' 10 "sshd's syslog line"
jlines "Failed password" | grep -qE '^<86>1 [0-9T:.-]+Z [^ ]+ sshd [0-9]+ - - Failed password for root from 203\.0\.113\.9 port 5555 ssh2$' ||
	fail "sshd's line: $(jlines "Failed password")"

# 2. A 100 KiB message: one event, cut at 64 KiB, marked; newlines and a NUL
# in a message leave it one line.
jsend MESSAGE="big $(head -c 102400 /dev/zero | tr '\0' B)" SYSLOG_IDENTIFIER=yjbig
jsend 'MESSAGE:=multi\nline\r\nwith a \x00 nul' SYSLOG_IDENTIFIER=yjmulti
wait_until '[ "$(jlines " yjmulti " | wc -l)" -ge 1 ]' 10 "the multi-line entry"
ev=$(select_events "e['type']=='log' and e.get('source')=='journal' and ' yjbig ' in e['line']")
[ "$(printf '%s\n' "$ev" | wc -l)" -eq 1 ] || fail "the big entry is not exactly one event"
[ "$(ev_get "$ev" 'e["truncated"]')" = True ] || fail "the big entry is not marked truncated"
[ "$(ev_get "$ev" 'len(e["line"])')" -eq 65536 ] || fail "the big entry was not cut at 64 KiB: $(ev_get "$ev" 'len(e["line"])')"
[ "$(ev_get "$ev" 'e["line"].endswith("BBBB")')" = True ] || fail "the big entry's message is not its tail"
[ "$(jlines " yjmulti ")" = "$(jlines " yjmulti " | head -n 1)" ] || fail "the multi-line entry split"
jlines " yjmulti " | grep -q ' - - multi line  with a   nul$' ||
	fail "the multi-line entry: $(jlines " yjmulti " | cat -A)"

# 3. Stopped, 5 entries written, started: exactly those 5, none again.
stop_agent
mark_events
for i in 1 2 3 4 5; do
	jsend MESSAGE="down $i" SYSLOG_IDENTIFIER=yjtest
done
start_agent "$S" --journal
wait_until 'check_once down 5' 10 "the 5 entries written while down"
jsend MESSAGE="after restart" SYSLOG_IDENTIFIER=yjtest
wait_until '[ "$(jlines "after restart" | wc -l)" -ge 1 ]' 10 "an entry after the restart"
sleep 1.5	# a tick or so: nothing more may come
check_once down 5 >/dev/null || fail "entries written while down: $(check_once down 5)"
# Nothing of ours but those (the last entry read before the stop, yjmulti's,
# must not come again).
[ "$(count_events "e['type']=='log' and e.get('source')=='journal' and e['line'].split(' ')[3].startswith('yj') and not e['line'].endswith(' - - after restart') and ' - - down ' not in e['line']")" -eq 0 ] ||
	fail "entries read before the stop came again after the start: $(select_events "e['type']=='log' and ' - - down ' not in e['line']" | cut -c1-300)"

# 4. SIGKILL while 1,000 entries are written at speed: after the restart
# every one is there exactly once (as for files: the saved cursor plus the
# agent journal's records after it; nothing lost, nothing repeated).
mark_events
python3 - <<-'EOF' &
	import socket, struct, time
	s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
	def send(**f):
	    m = b"".join(k.encode() + b"\n" + struct.pack("<Q", len(v.encode())) + v.encode() + b"\n"
	                 for k, v in f.items())
	    s.sendto(m, "/run/systemd/journal/socket")
	for i in range(1, 1001):
	    send(MESSAGE="kill %d" % i, SYSLOG_IDENTIFIER="yjkill")
	    if i % 10 == 0:
	        time.sleep(0.01)
	EOF
wpid=$!
wait_until '[ "$(jlines " yjkill " | wc -l)" -ge 100 ]' 10 "entries before the kill"
kill -0 "$wpid" 2>/dev/null || fail "the writer was done before the kill (test too slow to race)"
crash_agent
wait "$wpid"
start_agent "$S" --journal
wait_until 'check_once kill 1000' 20 "the 1,000 entries after the kill"
sleep 1.5
check_once kill 1000 >/dev/null || fail "after the kill: $(check_once kill 1000)"

# 5. The saved cursor's entry vacuumed away while the agent was down (the
# journal files removed, journald restarted): a loud warning, and what the
# journal holds after it is read.
stop_agent
stop_journald
rm -rf /run/log/journal/*
start_journald
mark_events
for i in 1 2 3; do
	jsend MESSAGE="after vacuum $i" SYSLOG_IDENTIFIER=yjtest
done
start_agent "$S" --journal
wait_until 'check_once "after vacuum" 3' 10 "the entries after the vacuum"
grep -q "ENTRY AT THE SAVED POSITION IS GONE" "$AGENT_LOG" || fail "no warning about the vacuumed position"
stop_agent

# 6. With a centre: 12 failed sshd logins through the journal raise the SSH
# brute-force correlation (config file keys this time).
start_server "$T/centre" --rules "$YINGJI_SRC/rules" --heartbeat 1s
S2=$T/state2
enroll "$S2" journal-host
printf 'journal = true\n' >"$T/agent.conf"
mark_events
start_agent "$S2" --config "$T/agent.conf"
for i in $(seq 1 12); do
	syslog sshd "Failed password for root from 203.0.113.9 port 50$i ssh2"
done
wait_until "[ \$(centre_count 'e[\"type\"]==\"log\" and \"203.0.113.9 port 5012\" in e.get(\"line\", \"\")') -ge 1 ]" 20 \
	"the journal's sshd lines at the centre"
wait_until '[ "$(yjc alerts --json --agent "$AGENT_ID" | grep -c "SSH brute force")" -ge 1 ]' 20 \
	"the SSH brute-force alert"
yjc alerts --json --agent "$AGENT_ID" | grep "SSH brute force" >"$T/bf.txt"
python3 - "$T/bf.txt" <<'PY' || fail "bad brute-force alert: $(cat "$T/bf.txt")"
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
assert len(alerts) == 1, alerts
a = alerts[0]
assert a["correlation"] is True and a["count"] >= 10 and a["level"] == "high", a
assert "203.0.113.9" in (a["group"] or ""), a
PY
stop_agent
stop_server
stop_journald

echo "PASS: $TEST_NAME"
