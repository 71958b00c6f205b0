# test_server_bad_peers.sh - `yingji serve` against peers that should not get
# in: no client certificate, a certificate from another CA, an expired one, one
# not made for clients, a revoked agent (reconnecting, and live), tokens used
# twice, expired, malformed or made by another server, and agents claiming
# another agent's id. Each gets a clear error, and the server goes on working
# and loses nothing (the canary agent after each case).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/server_lib.sh"

start_server "$T/data"
CA=$SRV_DATA/pki/ca.crt
setup_canary
assert_healthy "at start"

# ---- no client certificate: only ENROLL is accepted

anon_send "hello $CANARY_ID" "waitclose 5000"
assert_out '^ERROR .*"error":"no_certificate"' "HELLO without a certificate"
assert_out '^closed$' "HELLO without a certificate: the server closes"
assert_out_not '^WELCOME' "HELLO without a certificate"
anon_send "events 1 1 3" "waitclose 5000"
assert_out '^ERROR .*"error":"no_certificate"' "EVENT without a certificate"
assert_out '^closed$' "EVENT without a certificate: the server closes"
anon_send "json heartbeat {\"time_ns\":1,\"backlog\":0}" "waitclose 5000"
assert_out '^ERROR .*"error":"no_certificate"' "HEARTBEAT without a certificate"
assert_healthy "after peers without a certificate"

# ---- certificates the handshake must refuse

"$BADPEER" mkca --out "$T/other" >/dev/null || fail "badpeer mkca failed"

# bad_cert WHAT CERT KEY LOGREGEX: the TLS handshake fails, the server says why.
bad_cert() {
	local what=$1 cert=$2 key=$3 re=$4

	log_mark
	OUT=$("$BADPEER" send --server "$AGENTS" --ca "$CA" --cert "$cert" --key "$key" \
		"hello $CANARY_ID" "waitclose 5000" 2>&1)
	RC=$?
	assert_out '^(handshake failed|connection failed): ' "$what: the handshake must fail"
	assert_out_not '^WELCOME' "$what"
	assert_log "TLS handshake failed: .*($re)" "$what"
	assert_healthy "after $what"
}

"$BADPEER" mkcert --ca-cert "$T/other/ca.crt" --ca-key "$T/other/ca.key" --cn "$CANARY_ID" \
	--days 365 --out "$T/foreign" >/dev/null || fail "badpeer mkcert (other CA) failed"
bad_cert "a certificate from another CA" "$T/foreign/agent.crt" "$T/foreign/agent.key" \
	'unable to get local issuer|unknown ca|certificate verify failed'

"$BADPEER" mkcert --ca-cert "$CA" --ca-key "$SRV_DATA/pki/ca.key" --cn "$CANARY_ID" \
	--days -1 --out "$T/expired" >/dev/null || fail "badpeer mkcert (expired) failed"
openssl x509 -in "$T/expired/agent.crt" -noout -checkend 0 >/dev/null 2>&1 &&
	fail "the test's expired certificate is not expired"
bad_cert "an expired certificate" "$T/expired/agent.crt" "$T/expired/agent.key" 'expired'

# The server's own certificate is for servers only.
bad_cert "a server certificate used as a client's" "$SRV_DATA/pki/server.crt" \
	"$SRV_DATA/pki/server.key" 'purpose|unsupported certificate'

# ---- tokens

tok=$(new_token)
"$BADPEER" enroll --server "$AGENTS" --token "$tok" --out "$T/peers/first" >/dev/null 2>&1 ||
	fail "enrolling with a fresh token failed"
log_mark
OUT=$("$BADPEER" enroll --server "$AGENTS" --token "$tok" --out "$T/peers/second" 2>&1)
RC=$?
[ $RC -ne 0 ] || fail "a token was used twice"
assert_out '^ERROR .*"error":"enroll_failed".*token already used' "token used twice"
assert_out '^closed$' "token used twice: the server closes"
[ ! -e "$T/peers/second/agent.crt" ] || fail "token used twice: a certificate was issued"
assert_log 'token already used' "token used twice"
assert_healthy "after a token used twice"

tok=$(new_token 1s)
sleep 2
OUT=$("$BADPEER" enroll --server "$AGENTS" --token "$tok" --out "$T/peers/late" 2>&1)
RC=$?
[ $RC -ne 0 ] || fail "an expired token was accepted"
assert_out '^ERROR .*"error":"enroll_failed".*token expired' "expired token"
assert_healthy "after an expired token"

# Well-formed, this server's fingerprint, but a secret the server never made.
fp=$(printf '%s' "$tok" | cut -d- -f2)
OUT=$("$BADPEER" enroll --server "$AGENTS" --token "yj1-$fp-0123456789abcdef0123456789abcdef" \
	--out "$T/peers/unknown" 2>&1)
RC=$?
[ $RC -ne 0 ] || fail "a token the server never made was accepted"
assert_out '^ERROR .*"error":"enroll_failed".*unknown token' "unknown token"

for bad in "yj1-nothex" "" "yj1-$fp-0123" "yj2-$fp-0123456789abcdef0123456789abcdef" \
	"$tok$tok" "yj1-$fp-0123456789abcdef0123456789abcdeg"; do
	OUT=$("$BADPEER" enroll --server "$AGENTS" --ca "$CA" --token "$bad" \
		--out "$T/peers/malformed" 2>&1)
	RC=$?
	[ $RC -ne 0 ] || fail "the malformed token '$bad' was accepted"
	assert_out '^ERROR .*"error":"bad_token".*malformed' "malformed token '$bad'"
	assert_out '^closed$' "malformed token '$bad': the server closes"
done
# JSON that is no ENROLL at all.
anon_send 'json enroll {"name":"x"}' "waitclose 5000"
assert_out '^ERROR .*"error":"bad_request"' "ENROLL without token and csr"
anon_send 'json enroll [1,2' "waitclose 5000"
assert_out '^ERROR .*"error":"(bad_request|bad_frame)"' "ENROLL that is not JSON"

other=$("$BADPEER" mktoken --cert "$T/other/server.crt") || fail "badpeer mktoken failed"
log_mark
OUT=$("$BADPEER" enroll --server "$AGENTS" --ca "$CA" --token "$other" --out "$T/peers/other" 2>&1)
RC=$?
[ $RC -ne 0 ] || fail "a token made for another server was accepted"
assert_out '^ERROR .*"error":"bad_token".*another server' "token for another server"
assert_log 'another server' "token for another server"
# An agent that checks the fingerprint never even talks to this server.
OUT=$("$BADPEER" enroll --server "$AGENTS" --token "$other" --out "$T/peers/other" 2>&1)
RC=$?
[ $RC -ne 0 ] || fail "the pinned fingerprint of another server was accepted"
assert_out '^(handshake failed|connection failed): .*(fingerprint|certificate)' \
	"pinning another server's fingerprint"
[ ! -e "$T/peers/other/agent.crt" ] || fail "a bad token got a certificate"
assert_healthy "after bad tokens"

# ---- identity: a HELLO must name the agent of the certificate

enroll_peer alice
A=$PEER_ID
enroll_peer bob
B=$PEER_ID
peer_send bob "hello $B" welcome "events 1 1 2" "waitack 1 2"
[ $RC -eq 0 ] || fail "bob's first events were not acknowledged"

log_mark
peer_send alice "hello $B" "events 1 3 5" "waitclose 5000"
assert_out '^ERROR .*"error":"identity"' "alice's certificate claiming bob's id"
assert_out_not '^WELCOME' "alice's certificate claiming bob's id"
assert_out '^closed$' "alice claiming bob: the server closes"
assert_log 'identity' "alice claiming bob"
peer_send alice "hello 999999" "waitclose 5000"
assert_out '^ERROR .*"error":"identity"' "claiming an agent that does not exist"
peer_send alice 'json hello {"name":"no id"}' "waitclose 5000"
assert_out '^ERROR .*"error":"identity"' "HELLO without an agent id"
peer_send alice "events 1 1 1" "waitclose 5000"
assert_out '^ERROR .*"error":"bad_frame".*HELLO must come first' "EVENT before HELLO"

# A certificate our CA signed for bob's id, but not the one bob enrolled with.
"$BADPEER" mkcert --ca-cert "$CA" --ca-key "$SRV_DATA/pki/ca.key" --cn "$B" --days 30 \
	--out "$T/forged" >/dev/null || fail "badpeer mkcert (forged) failed"
OUT=$("$BADPEER" send --server "$AGENTS" --ca "$CA" --cert "$T/forged/agent.crt" \
	--key "$T/forged/agent.key" "hello $B" "events 1 3 5" "waitclose 5000" 2>&1)
assert_out '^ERROR .*"error":"unknown_agent"' "a second certificate for bob's id"
assert_out_not '^WELCOME' "a second certificate for bob's id"

# Nothing of that was stored as bob's or alice's; both still work.
assert_seqs "$B" bulk 2
[ -z "$(agent_seqs "$A")" ] || fail "events were stored for alice: $(agent_seqs "$A")"
peer_send bob "hello $B" welcome "events 1 3 4" "waitack 1 4"
[ $RC -eq 0 ] || fail "bob's events after the impostors were not acknowledged"
assert_out '"acked":\[0,2\]' "bob's WELCOME after the impostors"
assert_seqs "$B" bulk 4
peer_send alice "hello $A" welcome "events 0 1 1" "waitack 0 1"
[ $RC -eq 0 ] || fail "alice's own event was not acknowledged"
ASSERT_OTHER_LANE=0 assert_seqs "$A" urgent 1
assert_healthy "after identity claims"

# ---- revocation: a live connection is cut at once, a new one is refused

enroll_peer rev
R=$PEER_ID
"$BADPEER" send --server "$AGENTS" --ca "$CA" --cert "$T/peers/rev/agent.crt" \
	--key "$T/peers/rev/agent.key" "hello $R" welcome "events 1 1 3" "waitack 1 3" \
	"read 60000" >"$T/rev.out" 2>&1 &
rev_pid=$!
YJ_PIDS+=("$rev_pid")
wait_until 'grep -q "^acked 1 3" "$T/rev.out"' 15 "the revoked-to-be agent's events acknowledged"
log_mark
out=$(yjc agent revoke "$R" 2>&1) || fail "yingji agent revoke $R failed: $out"
wait_until 'grep -q "^closed" "$T/rev.out"' 5 "the live connection of a revoked agent to be cut"
OUT=$(cat "$T/rev.out")
assert_out '^ERROR .*"error":"revoked"' "the live connection of a revoked agent"
kill "$rev_pid" 2>/dev/null
wait "$rev_pid" 2>/dev/null
yj_forget_pid "$rev_pid"
assert_log 'revoked' "revocation"

peer_send rev "hello $R" "events 1 4 5" "waitclose 5000"
assert_out '^ERROR .*"error":"revoked"' "a revoked agent reconnecting"
assert_out_not '^WELCOME' "a revoked agent reconnecting"
yjc agents --json | python3 -c '
import json, sys
st = {str(a["id"]): a["state"] for a in map(json.loads, filter(str.strip, sys.stdin))}
sys.exit(0 if st.get(sys.argv[1]) == "revoked" else 1)' "$R" ||
	fail "agents --json does not say agent $R is revoked: $(yjc agents --json)"
yjc events --json --agent "$R" --type agent_revoked | grep -q . ||
	fail "no agent_revoked event for agent $R"
assert_seqs "$R" bulk 3		# what it sent before is kept; nothing after
out=$(yjc agent revoke "$R" 2>&1) && fail "revoking twice succeeded: $out"
assert_healthy "after revocation"

stop_server
