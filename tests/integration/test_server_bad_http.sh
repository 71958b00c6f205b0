# test_server_bad_http.sh - `yingji serve`'s HTTP API against bad requests: no
# token, a wrong token, a body over the limit (64 KiB), malformed request
# lines and headers, slowloris clients. Each gets its status code and a JSON
# error, and the server still answers good requests (and agents) afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"

start_server "$T/data"
setup_canary
assert_healthy "at start"
ADMIN=$(cat "$SRV_DATA/admin.token")

# http_raw REQUEST [WRITE_BODY_BYTES]: send REQUEST (Python escapes such as
# \r\n are decoded; {TOKEN} is the admin token) on a fresh connection, then
# WRITE_BODY_BYTES of 'a' (unless the server answers within 0.5 s), and read
# the answer until the server closes (or 15 s). Sets STATUS (the status code, or "none"), REPLY (the whole answer).
http_raw() {
	REPLY=$(python3 - "$HTTP" "$ADMIN" "$1" "${2:-0}" <<-'EOF'
	import codecs, select, socket, sys
	host, port = sys.argv[1].rsplit(":", 1)
	req = codecs.decode(sys.argv[3], "unicode_escape").replace("{TOKEN}", sys.argv[2])
	s = socket.create_connection((host, int(port)))
	s.settimeout(15)
	try:
	    s.sendall(req.encode("latin-1"))
	    n = int(sys.argv[4])
	    # a server that answers from the head alone need not get the body
	    if n > 0 and select.select([s], [], [], 0.5)[0]:
	        n = 0
	    while n > 0:
	        k = min(n, 65536)
	        s.sendall(b"a" * k)
	        n -= k
	except OSError as e:
	    pass    # the server may answer and close before reading it all
	out = b""
	try:
	    while True:
	        b = s.recv(65536)
	        if not b:
	            break
	        out += b
	        if b"\r\n\r\n" in out:
	            head, _, body = out.partition(b"\r\n\r\n")
	            cl = [l for l in head.split(b"\r\n") if l.lower().startswith(b"content-length:")]
	            if cl and len(body) >= int(cl[0].split(b":")[1]):
	                break
	except OSError as e:
	    out += ("\n[%s]" % e).encode()
	sys.stdout.write(out.decode("utf-8", "replace"))
	EOF
	)
	STATUS=$(printf '%s\n' "$REPLY" | sed -n '1s/^HTTP\/1\.[01] \([0-9][0-9][0-9]\) .*/\1/p')
	[ -n "$STATUS" ] || STATUS=none
}

# expect_http WHAT STATUS ERROR-CODE REQUEST [BODY_BYTES]
expect_http() {
	local what=$1 want=$2 code=$3

	http_raw "$4" "${5:-0}"
	[ "$STATUS" = "$want" ] || fail "$what: status $STATUS, expected $want:"$'\n'"$REPLY"
	if [ -n "$code" ]; then
		printf '%s\n' "$REPLY" | grep -q "\"error\":\"$code\"" ||
			fail "$what: no JSON error \"$code\" in:"$'\n'"$REPLY"
	fi
	good_request "after $what"
}

good_request() {
	http_raw 'GET /api/v1/status HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n'
	[ "$STATUS" = 200 ] || fail "$1: a good request got $STATUS:"$'\n'"$REPLY"
	printf '%s\n' "$REPLY" | grep -q '"agents_listen"' || fail "$1: no status in:"$'\n'"$REPLY"
}

good_request "at start"
for p in /api/v1/status /api/v1/agents /api/v1/events /metrics; do
	expect_http "GET $p without a token" 401 unauthorized \
		"GET $p HTTP/1.1\\r\\nHost: x\\r\\nConnection: close\\r\\n\\r\\n"
	expect_http "GET $p with a wrong token" 401 unauthorized \
		"GET $p HTTP/1.1\\r\\nHost: x\\r\\nAuthorization: Bearer 0000000000000000000000000000000000000000000000000000000000000000\\r\\nConnection: close\\r\\n\\r\\n"
done
wrong=${ADMIN%?}x
expect_http "a token wrong in its last character" 401 unauthorized \
	"GET /api/v1/agents HTTP/1.1\\r\\nAuthorization: Bearer $wrong\\r\\nConnection: close\\r\\n\\r\\n"
expect_http "the token with something after it" 401 unauthorized \
	"GET /api/v1/agents HTTP/1.1\\r\\nAuthorization: Bearer {TOKEN}x\\r\\nConnection: close\\r\\n\\r\\n"
expect_http "the token as Basic" 401 unauthorized \
	"GET /api/v1/agents HTTP/1.1\\r\\nAuthorization: Basic {TOKEN}\\r\\nConnection: close\\r\\n\\r\\n"
expect_http "the token in the query" 401 unauthorized \
	"GET /api/v1/agents?token={TOKEN} HTTP/1.1\\r\\nConnection: close\\r\\n\\r\\n"
expect_http "POST /api/v1/tokens without a token" 401 unauthorized \
	"POST /api/v1/tokens HTTP/1.1\\r\\nContent-Length: 2\\r\\nConnection: close\\r\\n\\r\\n{}"
expect_http "revoking without a token" 401 unauthorized \
	"POST /api/v1/agents/$CANARY_ID/revoke HTTP/1.1\\r\\nContent-Length: 0\\r\\nConnection: close\\r\\n\\r\\n"
yjc agents --json | grep -q '"state":"revoked"' && fail "an unauthorized revoke took effect"

# Bodies over 64 KiB: refused from the Content-Length alone, or when sent.
expect_http "a body of 64 KiB + 1" 413 "" \
	"POST /api/v1/tokens HTTP/1.1\\r\\nAuthorization: Bearer {TOKEN}\\r\\nContent-Length: 65537\\r\\n\\r\\n" 65537
expect_http "a body of 1 GiB (announced only)" 413 "" \
	"POST /api/v1/tokens HTTP/1.1\\r\\nAuthorization: Bearer {TOKEN}\\r\\nContent-Length: 1073741824\\r\\n\\r\\n"
expect_http "a body of 1 MiB without a token" 413 "" \
	"POST /api/v1/tokens HTTP/1.1\\r\\nContent-Length: 1048576\\r\\n\\r\\n" 1048576
# (64 KiB exactly is within the limit: the request is taken)
http_raw "POST /api/v1/tokens HTTP/1.1\\r\\nAuthorization: Bearer {TOKEN}\\r\\nContent-Length: 65536\\r\\nConnection: close\\r\\n\\r\\n" 65536
[ "$STATUS" != 413 ] && [ "$STATUS" != none ] || fail "a body of exactly 64 KiB got $STATUS"

# Malformed requests.
expect_http "a malformed request line" 400 "" 'GARBAGE\r\n\r\n'
expect_http "a request line without a version" 400 "" 'GET /api/v1/status\r\n\r\n'
expect_http "a request line with a NUL" 400 "" 'GET /api/v1/st\x00atus HTTP/1.1\r\n\r\n'
expect_http "a header without a colon" 400 "" \
	'GET /api/v1/status HTTP/1.1\r\nAuthorization Bearer x\r\n\r\n'
expect_http "a bad Content-Length" 400 "" \
	'POST /api/v1/tokens HTTP/1.1\r\nContent-Length: -5\r\n\r\n'
expect_http "two Content-Lengths that differ" 400 "" \
	'POST /api/v1/tokens HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nab'
expect_http "a chunked body" 501 "" \
	'POST /api/v1/tokens HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n'
expect_http "HTTP/2.0 as text" 505 "" 'GET /api/v1/status HTTP/2.0\r\n\r\n'
expect_http "a head over 16 KiB" 431 "" \
	"GET /api/v1/status HTTP/1.1\\r\\nX-Big: $(head -c 20000 /dev/zero | tr '\0' a)\\r\\n\\r\\n"
expect_http "binary garbage" 400 "" '\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n'
# Authorized, but wrong in what it asks.
expect_http "an unknown endpoint" 404 not_found \
	'GET /api/v1/nothing HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n'
expect_http "a wrong method" 405 method_not_allowed \
	'DELETE /api/v1/agents HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n'
expect_http "a bad query parameter" 400 bad_request \
	'GET /api/v1/events?limit=abc HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\nConnection: close\r\n\r\n'
expect_http "revoking an agent that does not exist" 404 not_found \
	'POST /api/v1/agents/999999/revoke HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
expect_http "a token with a bad ttl" 400 bad_request \
	'POST /api/v1/tokens?ttl=forever HTTP/1.1\r\nAuthorization: Bearer {TOKEN}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n'
assert_healthy "after bad HTTP requests"

# The CLI from elsewhere: wrong token in $YINGJI_TOKEN.
out=$(YINGJI_TOKEN=wrong "$YINGJI" --server "http://$HTTP" status 2>&1) &&
	fail "yingji status with a wrong token succeeded: $out"
printf '%s\n' "$out" | grep -qiE 'token|401|unauthori' ||
	fail "yingji status with a wrong token does not say why: $out"
out=$(YINGJI_TOKEN=$ADMIN "$YINGJI" --server "http://$HTTP" status 2>&1) ||
	fail "yingji status with the right token failed: $out"

# ---- slowloris: a request head that trickles in, and a connection that says nothing

python3 - "$HTTP" "$T/slow" <<-'EOF' &
import socket, sys, time, threading
host, port = sys.argv[1].rsplit(":", 1)
res = {}
def slow(name, first, drip):
    s = socket.create_connection((host, int(port)))
    t0 = time.monotonic()
    s.settimeout(1)
    out = b""
    try:
        s.sendall(first)
        while time.monotonic() - t0 < 30:
            if drip:
                try:
                    s.sendall(drip)
                except OSError:
                    break
            try:
                b = s.recv(4096)
                if not b:
                    break
                out += b
            except socket.timeout:
                pass
    except OSError as e:
        out += ("[%s]" % e).encode()
    line = out.split(b"\r\n", 1)[0].decode("latin-1")
    res[name] = "%.1f %s" % (time.monotonic() - t0, line or "(nothing)")
ts = [threading.Thread(target=slow, args=a) for a in [
    ("drip", b"GET /api/v1/status HTTP/1.1\r\nHost: x\r\n", b"X"),
    ("half-head", b"GET /api/v1/status HTTP/1.1\r\nAuthorization: Bearer ", b""),
    ("body", b"POST /api/v1/tokens HTTP/1.1\r\nContent-Length: 100\r\n\r\n{", b""),
]]
for t in ts: t.start()
for t in ts: t.join()
with open(sys.argv[2], "w") as f:
    for k in sorted(res):
        f.write("%s %s\n" % (k, res[k]))
EOF
slow_pid=$!
YJ_PIDS+=("$slow_pid")
sleep 1
for i in 1 2 3 4; do
	good_request "while slowloris clients hold connections ($i)"
	sleep 1
done
assert_healthy "while slowloris clients hold connections"
wait "$slow_pid"
yj_forget_pid "$slow_pid"
[ -s "$T/slow" ] || fail "the slowloris client wrote no results"
while read -r name secs line; do
	python3 -c 'import sys; sys.exit(0 if float(sys.argv[1]) <= 15 else 1)' "$secs" ||
		fail "slowloris $name: still there after $secs s (the deadline is 10 s): $line"
	case $line in
	"HTTP/1.1 408 "*) ;;
	*) fail "slowloris $name: got '$line' after $secs s, expected 408" ;;
	esac
done <"$T/slow"
good_request "after slowloris clients"
assert_healthy "after slowloris clients"

stop_server
