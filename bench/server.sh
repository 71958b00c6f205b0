#!/usr/bin/env bash
# server.sh - the centre (`yingji serve`) under load, with bench/loadgen.c:
#  ingest  BENCH_SERVER_AGENTS (1000) simulated agents over mutual TLS 1.3
#          stream BENCH_SERVER_EVENTS (2,000,000) events as fast as the server
#          acknowledges them: events/s, and whether the database holds each
#          exactly once. Peer: the sqlite3 CLI loading the same rows into the
#          same schema in one transaction (.import), the ceiling of the store.
#  crash   BENCH_CRASH_AGENTS (50) agents, BENCH_CRASH_EVENTS (1,000,000)
#          events, the server killed with SIGKILL every BENCH_KILL_EVERY (1.5) s
#          and restarted on the same data directory and ports: kills, stored
#          vs sent, duplicates.
#  tamper  tamper-to-API latency with the real agent and centre, p50/p99.
# Usage: bench/server.sh [ingest] [crash] [tamper]   (default: all)
# Environment: YINGJI_BUILD (the build directory, default build/: bin/yingji
# and the lib*.a archives loadgen links), BENCH_LOADGEN_THREADS (1),
# BENCH_KEEP_STATE (keep the servers' data directories; logs are always kept).
# Prints figures; never fails on timing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

BUILD=${YINGJI_BUILD:-$ROOT/build}
YINGJI=$BUILD/bin/yingji
AGENTS_N=${BENCH_SERVER_AGENTS:-1000}
EVENTS_N=${BENCH_SERVER_EVENTS:-2000000}
CRASH_AGENTS=${BENCH_CRASH_AGENTS:-50}
CRASH_EVENTS=${BENCH_CRASH_EVENTS:-1000000}
KILL_EVERY=${BENCH_KILL_EVERY:-1.5}
LG_THREADS=${BENCH_LOADGEN_THREADS:-1}
W=$BENCH_DIR/server
LOADGEN=$BIN/loadgen

parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(ingest crash tamper)

# --- servers this script started ---------------------------------------------
SERVER_PID=
SUPERVISOR_PID=
cleanup_servers() {
	if [ -n "$SUPERVISOR_PID" ]; then
		: >"$W/crash/stop" || say "server: cannot tell the supervisor to stop"
	fi
	if [ -n "$SERVER_PID" ]; then
		stop_agent "$SERVER_PID" "yingji serve"	# TERM, then KILL after 10 s
		SERVER_PID=
	fi
	if [ -n "$SUPERVISOR_PID" ]; then
		[ -f "$W/crash/server.pid" ] && stop_agent "$(cat "$W/crash/server.pid")" "yingji serve"
		wait "$SUPERVISOR_PID" 2>/dev/null || say "server: the crash supervisor exited with $?"
		SUPERVISOR_PID=
	fi
}
trap 'cleanup_servers; cleanup_agents' EXIT

# serve_json_field DIR KEY: a string field of DIR/serve.json ("agents", "http").
serve_json_field() { grep -o "\"$2\":\"[^\"]*\"" "$1/serve.json" 2>/dev/null | cut -d'"' -f4; }

# start_server DATA LOG [AGENTS_ADDR HTTP_ADDR]: in the background; sets
# SERVER_PID, AGENTS_ADDR and HTTP_ADDR once serve.json names them. 1 on failure.
start_server() {
	local data=$1 log=$2 a=${3:-127.0.0.1:0} h=${4:-127.0.0.1:0}
	rm -f "$data/serve.json"
	"$YINGJI" serve --data "$data" --agents "$a" --http "$h" >>"$log" 2>&1 &
	SERVER_PID=$!
	for _ in $(seq 100); do
		if [ -f "$data/serve.json" ]; then
			AGENTS_ADDR=$(serve_json_field "$data" agents)
			HTTP_ADDR=$(serve_json_field "$data" http)
			return 0
		fi
		kill -0 "$SERVER_PID" 2>/dev/null || break
		sleep 0.1
	done
	say "server: yingji serve did not start; see $log"
	return 1
}

# Compile loadgen against the build's archives when anything is newer.
build_loadgen() {
	local libs=("$BUILD/libyingji_cli.a" "$BUILD/libyingji_server.a" "$BUILD/libyingji_tls.a"
		"$BUILD/libyingji_proto.a" "$BUILD/libyingji_core.a") f stale=0
	for f in "${libs[@]}"; do
		[ -f "$f" ] || { say "server: $f is missing; run make first"; return 1; }
		[ "$f" -nt "$LOADGEN" ] && stale=1
	done
	if [ ! -x "$LOADGEN" ] || [ "$BENCH_SRC/loadgen.c" -nt "$LOADGEN" ] || [ $stale = 1 ]; then
		cc -O2 -std=c17 -D_GNU_SOURCE -Wall -I"$ROOT/lib" -I"$ROOT/src" \
			-o "$LOADGEN" "$BENCH_SRC/loadgen.c" "${libs[@]}" -lssl -lcrypto -lpthread -lm
	fi
}

# field FILE KEY: KEY=value from loadgen's RESULT line.
field() { awk -v k="$2" '$1 == "RESULT" { for (i = 2; i <= NF; i++) { split($i, kv, "=");
	if (kv[1] == k) { print kv[2]; exit } } }' "$1" 2>/dev/null; }

# The sqlite3 CLI (the peer and the database check) comes from scripts/deps.sh bench.
command -v sqlite3 >/dev/null ||
	say "server: no sqlite3 command (scripts/deps.sh bench installs it); the peer and the database check read n/a"

if [ ! -x "$YINGJI" ]; then
	say "server: $YINGJI is missing (make); skipped"
	result server "ingest events/s" n/a n/a "yingji not built"
	exit 0
fi
if ! build_loadgen; then
	say "server: cannot build loadgen; skipped"
	result server "ingest events/s" n/a n/a "loadgen did not build"
	exit 0
fi
mkdir -p "$W"

# peer_import SRC_DB CSV ROWS JOURNAL_MODE: rows/s of the sqlite3 CLI loading
# CSV into a fresh database with SRC_DB's events schema (n/a on failure).
peer_import() {
	local src=$1 csv=$2 rows=$3 mode=$4 db=$W/peer.db t0 s
	rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
	{ echo "PRAGMA journal_mode = $mode;"; sqlite3 "$src" ".schema events"; } |
		sqlite3 -batch "$db" >/dev/null
	say "server: peer: sqlite3 .import of $rows rows, journal_mode=$mode ..."
	t0=$(now)
	if sqlite3 -batch "$db" "PRAGMA synchronous = FULL" "PRAGMA cache_size = -65536" \
		".import --csv $csv events" >"$W/peer.txt" 2>&1; then
		s=$(calc "$(now) - $t0")
		say "server: peer: $(fmt "$s" 2) s, $(sqlite3 "$db" 'SELECT count(*) FROM events') rows stored"
		fmt "$(calc "$rows / $s")"
	else
		say "server: peer: sqlite3 .import failed: $(head -3 "$W/peer.txt")"
		echo n/a
	fi
	rm -f "$db" "$db-wal" "$db-shm" "$db-journal"
}

# --- (a) ingest -------------------------------------------------------------------
ingest() {
	local d=$W/ingest out=$W/ingest.txt log=$W/ingest-server.log csv=$W/ingest-events.csv
	local ours=n/a exact=n/a peer=n/a peer_wal=n/a rows
	rm -rf "$d" "$out" "$log" "$csv" "$W/peer.db"*
	if start_server "$d" "$log"; then
		say "server: ingest: $AGENTS_N agents, $EVENTS_N events into $AGENTS_ADDR ..."
		"$LOADGEN" --server "$AGENTS_ADDR" --data "$d" --agents "$AGENTS_N" \
			--events "$EVENTS_N" --threads "$LG_THREADS" | tee "$out" ||
			say "server: ingest: loadgen exited with $? (see above)"
		stop_agent "$SERVER_PID"
		SERVER_PID=
	fi
	ours=$(fmt "$(field "$out" rate)")
	exact=$(field "$out" exact)
	# The peer: the same rows (exported from the server's database, untimed)
	# loaded by the sqlite3 CLI into a fresh database with the same schema,
	# synchronous=FULL and cache size, in one transaction (.import does BEGIN
	# ... COMMIT). Twice: with a rollback journal (the fastest way SQLite can
	# take them: the ceiling of the store) and in WAL mode like the server.
	if command -v sqlite3 >/dev/null && [ -f "$d/yingji.db" ]; then
		say "server: peer: exporting the events as CSV (untimed) ..."
		sqlite3 -batch -csv "$d/yingji.db" "SELECT id, agent, lane, seq, time_ns, received_ns, \
			type, path, body FROM events WHERE lane IS NOT NULL ORDER BY id" >"$csv"
		rows=$(wc -l <"$csv")
		peer=$(peer_import "$d/yingji.db" "$csv" "$rows" DELETE)
		peer_wal=$(peer_import "$d/yingji.db" "$csv" "$rows" WAL)
		rm -f "$csv"
	fi
	[ -n "${BENCH_KEEP_STATE:-}" ] || rm -rf "$d"	# ~500 bytes an event
	echo
	echo "== ingest: $AGENTS_N agents over mutual TLS 1.3, $EVENTS_N events of ~330 bytes =="
	printf '  %-26s %-14s %s\n' "" ours "peer: sqlite3 CLI .import of the same rows, 1 transaction"
	printf '  %-26s %-14s %s\n' "events/s into SQLite" "$ours" \
		"$peer (rollback journal), $peer_wal (WAL, as the server)"
	printf '  %-26s %-14s\n' "stored == sent, once each" "${exact:-n/a}"
	printf '  %-26s %-14s\n' "ack latency p50/p99 ms" \
		"$(field "$out" ack_p50_ms)/$(field "$out" ack_p99_ms)"
	result server "ingest events/s ($AGENTS_N agents)" "$ours" "$peer" \
		"sqlite3 CLI .import, same rows, 1 txn; WAL: $peer_wal (aim 100000)"
	result server "ingest stored == sent, no dups" "${exact:-n/a} ($(field "$out" stored)/$EVENTS_N)" \
		"n/a" "count(*), per-agent max(seq), duplicate (agent,seq)"
}

# --- (b) crash ----------------------------------------------------------------------
# supervise DATA LOG AGENTS HTTP: restart the server whenever it dies, until
# $W/crash/stop exists; the pid of the current one is in $W/crash/server.pid.
supervise() {
	local data=$1 log=$2 a=$3 h=$4 starts=0 pid rc
	while [ ! -e "$W/crash/stop" ]; do
		"$YINGJI" serve --data "$data" --agents "$a" --http "$h" >>"$log" 2>&1 &
		pid=$!
		echo "$pid" >"$W/crash/server.pid"
		starts=$((starts + 1))
		rc=0
		{ wait "$pid"; } 2>/dev/null || rc=$?	# (braces: no "Killed" line from bash)
		# 137: the SIGKILL this benchmark is about; anything else is worth a line.
		[ $rc -eq 0 ] || [ $rc -eq 137 ] ||
			echo "bench: yingji serve (start $starts) exited with status $rc" >>"$log"
		echo "$starts" >"$W/crash/starts"
		[ -e "$W/crash/stop" ] || sleep 0.1
	done
}

crash() {
	local d=$W/crash/data out=$W/crash.txt log=$W/crash-server.log a h
	local exact=n/a kills=n/a stored=n/a dups=n/a
	rm -rf "$W/crash" "$out" "$log"
	mkdir -p "$W/crash"
	# Fixed ports: the first start picks free ones, every restart reuses them.
	if start_server "$d" "$log"; then
		a=$AGENTS_ADDR h=$HTTP_ADDR
		stop_agent "$SERVER_PID"
		SERVER_PID=
		supervise "$d" "$log" "$a" "$h" &
		SUPERVISOR_PID=$!
		for _ in $(seq 100); do [ -f "$d/serve.json" ] && break; sleep 0.1; done
		say "server: crash: $CRASH_AGENTS agents, $CRASH_EVENTS events, kill -9 every $KILL_EVERY s ..."
		"$LOADGEN" --server "$a" --data "$d" --agents "$CRASH_AGENTS" --events "$CRASH_EVENTS" \
			--threads "$LG_THREADS" --kill-server-every "$KILL_EVERY" \
			--server-pid-file "$W/crash/server.pid" | tee "$out" ||
			say "server: crash: loadgen exited with $? (see above)"
		cleanup_servers
		exact=$(field "$out" exact)
		kills=$(field "$out" kills)
		stored=$(field "$out" stored)
		dups=$(field "$out" dup_pairs)
		[ -n "${BENCH_KEEP_STATE:-}" ] || rm -rf "$d"
	fi
	echo
	echo "== crash: $CRASH_AGENTS agents, $CRASH_EVENTS events, server killed (SIGKILL) every $KILL_EVERY s =="
	echo "  kills: ${kills:-n/a}, server starts: $(cat "$W/crash/starts" 2>/dev/null || echo n/a)," \
		"stored: ${stored:-n/a} of $CRASH_EVENTS sent, (agent,seq) stored twice: ${dups:-n/a}," \
		"resent after reconnects: $(field "$out" resent), exactly once: ${exact:-n/a}"
	result server "crash: stored/sent, dups (kills)" \
		"${stored:-n/a}/$CRASH_EVENTS, ${dups:-n/a} (${kills:-n/a})" n/a \
		"kill -9 every ${KILL_EVERY}s; exactly once: ${exact:-n/a}"
}

# --- (c) tamper-to-API latency --------------------------------------------------------
# The real agent, enrolled with a real centre: a page overwritten, then long
# polls of GET /api/v1/events until the tamper is there (bench/centre_latency.py).
# The row beside it is the same tamper as the agent itself noticed it (the
# event's time_ns): the floor under the whole path.
tamper_to_api_latency() {
	local n=${BENCH_CENTRE_TAMPERS:-300} out centre agent
	if [ ! -x "$YINGJI" ] || [ ! -x "$BUILD/bin/yingji-agent" ]; then
		result server "tamper to API p50 / p99 ms" n/a n/a "yingji not built"
		return
	fi
	say "server: tamper to API latency, $n tampers ..."
	if ! out=$(python3 "$BENCH_SRC/centre_latency.py" "$BUILD/bin" "$BENCH_DIR/centre-latency" "$n"); then
		say "server: centre_latency.py failed"
		result server "tamper to API p50 / p99 ms" n/a n/a "the run failed"
		return
	fi
	centre=$(awk '$1 == "centre" {print $2 " / " $3}' <<<"$out")
	agent=$(awk '$1 == "agent" {print $2 " / " $3}' <<<"$out")
	say "server: tamper to API p50/p99 $centre ms (the agent noticed it at $agent ms)"
	result server "tamper to API p50 / p99 ms" "$centre" "$agent" \
		"the agent noticing it (floor), same run"
}

for p in "${parts[@]}"; do
	case $p in
	ingest) ingest ;;
	crash) crash ;;
	tamper) tamper_to_api_latency ;;
	*) say "usage: bench/server.sh [ingest] [crash] [tamper]"; exit 2 ;;
	esac
done
