#!/usr/bin/env bash
# The agent's responder alone (tests/tools/respond_tool: the responder on a
# state directory, one request per run, no agent, no centre) against real
# traffic: a "host" namespace with a web server and table inet yingji, an
# "attacker" namespace and a "centre" namespace (in the allow list), joined
# to the host by veth pairs (10.231.12.0/24, 10.231.11.0/24). A block stops
# the attacker and undo lets it back; a block with an expiry lapses by the
# kernel's timeout and the ledger drops it; the centre's address cannot be
# blocked; isolation cuts the attacker while the centre still connects; a
# restart with the table gone re-applies the ledger; another table in the
# host namespace is left as it was. test_respond.sh does the same through
# the real agent and centre.
. "$(dirname "$0")/lib.sh"

command -v nft >/dev/null || fail "nft is missing (scripts/deps.sh build installs nftables)"
command -v curl >/dev/null || fail "curl is missing (scripts/deps.sh check)"
TOOL=${YINGJI_TOOLS:-$YINGJI_BIN/../tests/tools}/respond_tool
[ -x "$TOOL" ] || fail "$TOOL is not built"

N=yjn$$
HOST=$N-h
ATT=$N-a
CEN=$N-c
cleanup_ns() {
	local ns

	for ns in "$HOST" "$ATT" "$CEN"; do
		ip netns pids "$ns" 2>/dev/null | xargs -r kill -KILL 2>/dev/null
		ip netns del "$ns" 2>/dev/null
	done
	return 0
}
on_cleanup cleanup_ns
for ns in "$HOST" "$ATT" "$CEN"; do
	ip netns add "$ns" || fail "ip netns add $ns"
	ip -n "$ns" link set lo up
done
ip -n "$HOST" link add "$N-hc" type veth peer name "$N-ch" || fail "veth to the centre"
ip -n "$HOST" link set "$N-ch" netns "$CEN"
ip -n "$HOST" link add "$N-ha" type veth peer name "$N-ah" || fail "veth to the attacker"
ip -n "$HOST" link set "$N-ah" netns "$ATT"
ip -n "$HOST" addr add 10.231.11.1/24 dev "$N-hc"
ip -n "$HOST" addr add 10.231.12.1/24 dev "$N-ha"
ip -n "$CEN" addr add 10.231.11.2/24 dev "$N-ch"
ip -n "$ATT" addr add 10.231.12.2/24 dev "$N-ah"
ip -n "$HOST" link set "$N-hc" up
ip -n "$HOST" link set "$N-ha" up
ip -n "$CEN" link set "$N-ch" up
ip -n "$ATT" link set "$N-ah" up

# someone else's table in the host namespace: must survive everything below
ip netns exec "$HOST" nft -f - <<'NFT' || fail "the other table"
add table inet theirs
add chain inet theirs keep { type filter hook input priority 10; policy accept; }
add rule inet theirs keep tcp dport 9 counter accept comment "theirs"
NFT

mkdir -p "$T/web" "$T/state"
echo portal >"$T/web/index.html"
ip netns exec "$HOST" python3 -m http.server --bind 0.0.0.0 --directory "$T/web" 8080 \
	>"$T/web.log" 2>&1 &
YJ_PIDS+=($!)

fetch() {	# fetch NS ADDR: the portal, as seen from NS
	ip netns exec "$1" curl -s -m 1 -o /dev/null http://"$2":8080/index.html
}
att() { fetch "$ATT" 10.231.12.1; }
cen() { fetch "$CEN" 10.231.11.1; }
respond() {	# respond JSON...: one request in the host namespace, result in $OUT
	OUT=$(ip netns exec "$HOST" "$TOOL" "$T/state" --allow 10.231.11.2 "$@" 2>>"$T/tool.log")
}
ledger() { cat "$T/state/respond.ledger" 2>/dev/null; }
# (nft's output is taken whole before it is searched: with pipefail, grep -q
# leaving early would make a SIGPIPE of nft look like a missing element)
in_set() {
	local out
	out=$(ip netns exec "$HOST" nft list set inet yingji block4) || return 1
	case $out in *"$1"*) return 0 ;; esac
	return 1
}

wait_until att 10 "the attacker reaching the portal before anything is done"
wait_until cen 10 "the centre reaching the portal"

# ---- block, undo ----
respond '{"op":"apply","id":1,"action":"block","addr":"10.231.12.2"}' || fail "block: $OUT"
echo "$OUT" | grep -q '"state":"applied"' || fail "block not applied: $OUT"
in_set 10.231.12.2 || fail "the block is not in block4"
wait_until '! att' 10 "the blocked attacker being cut"
cen || fail "the centre was cut by a block of the attacker"
ledger | grep -q '"id":1' || fail "the block is not in the ledger: $(ledger)"
respond '{"op":"apply","id":1,"action":"block","addr":"10.231.12.2"}' || fail "a repeated block failed: $OUT"
respond '{"op":"undo","id":1}' || fail "undo: $OUT"
echo "$OUT" | grep -q '"state":"undone"' || fail "undo: $OUT"
wait_until att 10 "the attacker back after undo"
in_set 10.231.12.2 && fail "undo left the element"
respond '{"op":"undo","id":999}' && fail "undo of an unknown id claimed success: $OUT"

# ---- the allow list ----
respond '{"op":"apply","id":2,"action":"block","addr":"10.231.11.0/24"}' &&
	fail "a block covering the centre was accepted: $OUT"
echo "$OUT" | grep -q '"state":"failed"' || fail "refused block: $OUT"
cen || fail "the centre was cut by a refused block"
respond '{"op":"apply","id":2,"action":"block","addr":"0.0.0.0/0"}' && fail "0.0.0.0/0 accepted: $OUT"

# ---- dry run: exactly what would run, and nothing done ----
respond '{"op":"apply","id":3,"action":"block","addr":"10.231.12.2","dry_run":true}' ||
	fail "dry run: $OUT"
echo "$OUT" | grep -qF '"detail":"add element inet yingji block4 { 10.231.12.2 }\n"' ||
	fail "dry run text: $OUT"
att || fail "a dry run cut the attacker"

# ---- expiry: the kernel drops the element, the ledger follows ----
exp=$(($(now_ns) + 2000000000))
respond "{\"op\":\"apply\",\"id\":4,\"action\":\"block\",\"addr\":\"10.231.12.0/24\",\"expires_ns\":$exp}" ||
	fail "block with expiry: $OUT"
wait_until '! att' 10 "the attacker cut by the expiring block"
ledger | grep -q '"id":4' || fail "the expiring block is not in the ledger"
wait_until att 15 "the attacker back after the block expired"
respond --tick || fail "tick"
ledger | grep -q '"id":4' && fail "the ledger still has the expired block: $(ledger)"

# ---- isolation keeps the centre ----
respond '{"op":"apply","id":5,"action":"isolate"}' || fail "isolate: $OUT"
wait_until '! att' 10 "the attacker cut by isolation"
cen || fail "isolation cut the centre"
fetch "$HOST" 127.0.0.1 || fail "isolation cut loopback"
respond '{"op":"undo","id":5}' || fail "unisolate: $OUT"
wait_until att 10 "the attacker back after isolation was lifted"

# ---- a restart with the table gone re-applies the ledger ----
respond '{"op":"apply","id":6,"action":"block","addr":"10.231.12.2"}' || fail "block: $OUT"
wait_until '! att' 10 "the attacker cut"
ip netns exec "$HOST" nft delete table inet yingji || fail "delete the table"
wait_until att 10 "the attacker back with the table gone"
respond --reapply || fail "reapply"
wait_until '! att' 10 "the attacker cut again after the restart"
cen || fail "the centre was cut after the restart"
respond '{"op":"undo","id":6}' || fail "undo after the restart: $OUT"
wait_until att 10 "the attacker back after undo"

theirs=$(ip netns exec "$HOST" nft list table inet theirs) || fail "the other table is gone"
[[ $theirs == *'comment "theirs"'* ]] ||
	fail "the other table was changed"
yj_sanitizer_reports && fail "a sanitizer report (above)"
exit 0
