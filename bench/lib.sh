# lib.sh - shared by the bench scripts (sourced, not run).
# Environment: BENCH_DIR (default /var/tmp/yingji-bench), BENCH_FILES (100000),
# BENCH_TOTAL_MB (2000), BENCH_RESULTS (the file run.sh prints its table from).

BENCH_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ROOT=$(cd "$BENCH_SRC/.." && pwd)
AGENT=${AGENT:-$ROOT/build/bin/yingji-agent}
BENCH_DIR=${BENCH_DIR:-/var/tmp/yingji-bench}
BENCH_FILES=${BENCH_FILES:-100000}
BENCH_TOTAL_MB=${BENCH_TOTAL_MB:-2000}
BENCH_RESULTS=${BENCH_RESULTS:-$BENCH_DIR/results.txt}
BIN=$BENCH_DIR/bin
# shellcheck disable=SC2034 # used by the scripts that source this
NPROC=$(nproc)

mkdir -p "$BENCH_DIR" "$BIN"

say() { printf '%s\n' "$*" >&2; }

# result SECTION METRIC OURS PEER PEER_LABEL: one row of run.sh's summary table.
result() {
	printf '%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" "$5" >>"$BENCH_RESULTS"
}

# Compile bench/NAME.c into $BIN/NAME when the source is newer.
build_tool() {
	local name=$1
	if [ ! -x "$BIN/$name" ] || [ "$BENCH_SRC/$name.c" -nt "$BIN/$name" ]; then
		cc -O2 -std=c17 -Wall -o "$BIN/$name" "$BENCH_SRC/$name.c" -lm
	fi
}

# The generated tree, reused while its marker matches. Sets TREE.
ensure_tree() {
	local total=$((BENCH_TOTAL_MB * 1000000))
	local want="gentree-v1 files=$BENCH_FILES bytes=$total"
	TREE=$BENCH_DIR/tree-$BENCH_FILES-${BENCH_TOTAL_MB}M
	local marker=$TREE.ok
	build_tool gentree
	if [ -f "$marker" ] && [ "$(cat "$marker")" = "$want" ] && [ -d "$TREE" ]; then
		say "tree: reusing $TREE"
		return
	fi
	say "tree: generating $BENCH_FILES files, $BENCH_TOTAL_MB MB in $TREE ..."
	rm -rf "$TREE" "$marker"
	local t0=$SECONDS
	"$BIN/gentree" "$TREE" "$BENCH_FILES" "$total" >&2
	sync
	echo "$want" >"$marker"
	say "tree: done in $((SECONDS - t0)) s"
}

# Monotonic-enough wall clock in seconds with ns resolution.
now() { date +%s.%N; }

# Median of the numbers on stdin.
median() { sort -g | awk '{v[NR]=$1} END {if (NR==0) print "nan"; else if (NR%2) print v[(NR+1)/2]; else print (v[NR/2]+v[NR/2+1])/2}'; }

# Value of a numeric or string key in a one-line JSON object on stdin.
json_num() { grep -o "\"$1\":[-0-9.eE+]*" | head -1 | cut -d: -f2; }

# Floating point via awk: calc 'EXPR'
calc() { awk "BEGIN { printf \"%.6g\", $1 }"; }
fmt() { awk -v v="$1" -v d="${2:-0}" 'BEGIN { if (v == "" || v == "nan" || v == "n/a") print "n/a"; else printf "%.*f", d, v }'; }

# --- agents ---------------------------------------------------------------
# Every agent this script starts is remembered and stopped on exit.
AGENT_PIDS=()
cleanup_agents() {
	local p
	for p in "${AGENT_PIDS[@]+"${AGENT_PIDS[@]}"}"; do
		kill -0 "$p" 2>/dev/null && stop_agent "$p"
	done
	AGENT_PIDS=()
}
trap cleanup_agents EXIT
trap 'exit 130' INT TERM

# start_agent STATE GUARD LOG: the agent in the background; sets AGENT_PID.
start_agent() {
	"$AGENT" run --state "$1" --guard "$2" >"$3" 2>&1 &
	AGENT_PID=$!
	AGENT_PIDS+=("$AGENT_PID")
}

# stop_agent PID
# stop_agent PID [WHAT]: SIGTERM; SIGKILL after 10 s. Says so when the process
# had to be killed or exited with an error (a figure taken from it is then
# suspect). WHAT names it in those lines (default: agent).
stop_agent() {
	local p=$1 what=${2:-agent} rc=0
	if kill -0 "$p" 2>/dev/null; then
		kill -TERM "$p" 2>/dev/null || say "bench: $what $p was gone before SIGTERM"
	fi
	for _ in $(seq 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	if kill -0 "$p" 2>/dev/null; then
		say "bench: $what $p did not stop within 10 s of SIGTERM; killing it"
		kill -KILL "$p" 2>/dev/null || say "bench: $what $p exited just before SIGKILL"
	fi
	wait "$p" 2>/dev/null || rc=$?
	# 127: not a child of this shell (already reaped); 137: our SIGKILL above.
	[ $rc -eq 0 ] || [ $rc -eq 127 ] || [ $rc -eq 137 ] ||
		say "bench: $what $p exited with status $rc"
}

# wait_ready STATE PID TIMEOUT_S: 0 once status shows every guard ready,
# 1 if the agent exited or the time ran out (the caller prints n/a).
wait_ready() {
	local state=$1 pid=$2 deadline=$((SECONDS + $3)) out
	while [ $SECONDS -lt "$deadline" ]; do
		kill -0 "$pid" 2>/dev/null || return 1
		# Exit 3 (not running yet) is expected while it starts; say anything else.
		out=$("$AGENT" status --state "$state" --json 2>/dev/null) || {
			local rc=$?
			[ $rc -eq 3 ] || say "bench: yingji-agent status exited with $rc"
		}
		if printf '%s' "$out" | grep -Eq '"state" *: *"ready"' &&
			! printf '%s' "$out" | grep -Eq '"state" *: *"(starting|error|paused)"'; then
			return 0
		fi
		sleep 0.1
	done
	return 1
}

# proc_ticks PID: utime+stime of the whole process, in clock ticks.
proc_ticks() { sed 's/^.*) //' "/proc/$1/stat" | awk '{print $12 + $13}'; }
# proc_kb PID FIELD: VmRSS / VmHWM in kB.
proc_kb() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status"; }
