#!/usr/bin/env bash
# scan.sh - full-scan throughput: `yingji-agent scan TREE --json` against
# `aide --init` (SHA-256 only) on the same warm tree, and against the SHA-256
# limit of this machine (`openssl speed -evp sha256 -bytes 1048576 -multi N`).
# Wall-clock medians of BENCH_RUNS runs (default 3). Prints figures, asserts nothing.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

RUNS=${BENCH_RUNS:-3}
ensure_tree

if [ ! -x "$AGENT" ]; then
	say "scan: $AGENT is missing (make); skipped"
	result scan "files/s" n/a n/a "agent not built"
	exit 0
fi

# Warm the page cache (and the dentry/inode caches) with one untimed scan.
say "scan: warming the page cache ..."
# (scan exits 1 only when comparing with a baseline; here any non-zero is an error)
"$AGENT" scan "$TREE" --json >/dev/null || say "scan: the warming scan failed (exit $?)"
warm_json=$("$AGENT" scan "$TREE" --json | tail -1) || say "scan: the agent's scan failed (exit $?)"
files=$(printf '%s' "$warm_json" | json_num files)
bytes=$(printf '%s' "$warm_json" | json_num bytes)
if [ -z "$files" ] || [ -z "$bytes" ] || [ "$files" = 0 ]; then
	say "scan: cannot read the agent's JSON summary: $warm_json"
	result scan "files/s" n/a n/a "agent scan failed"
	exit 0
fi
mb=$(calc "$bytes / 1e6")
say "scan: tree holds $files files, $(fmt "$mb") MB"

# time_cmd CMD...: prints the wall-clock seconds; the command's output goes to $LOG.
LOG=$BENCH_DIR/scan.log
: >"$LOG"
time_cmd() {
	local t0 t1
	t0=$(now)
	"$@" >>"$LOG" 2>&1 || say "scan: '$*' exited with $?"
	t1=$(now)
	calc "$t1 - $t0"
}

# --- AIDE's configuration -------------------------------------------------------
have_aide=
if command -v aide >/dev/null; then
	AIDE_DIR=$BENCH_DIR/aide
	mkdir -p "$AIDE_DIR"
	tree_re=$(printf '%s' "$TREE" | sed 's/[][\.*^$+?(){}|]/\\&/g')
	cat >"$AIDE_DIR/aide.conf" <<EOF
# SHA-256 and the usual metadata only: no other hash, no ACL/xattr/SELinux,
# no compression, no hashes of the database file itself.
database_out=file:$AIDE_DIR/aide.db.new
gzip_dbout=no
database_attrs=E
log_level=warning
report_level=minimal
report_url=stdout
Yingji = p+u+g+s+m+c+i+n+sha256
$tree_re Yingji
EOF
	if aide -D -c "$AIDE_DIR/aide.conf" >>"$LOG" 2>&1; then
		have_aide=1
		run_aide() { rm -f "$AIDE_DIR/aide.db.new"; aide --init -c "$AIDE_DIR/aide.conf" "$@"; }
	else
		say "scan: aide rejected its configuration, see $LOG"
	fi
else
	say "scan: aide is not installed (scripts/deps.sh bench)"
fi

# --- timed runs, interleaved so background load hits all alike ---------------------
# (Each run reads the whole tree, so the cache stays warm between them; some
# VMs page out page cache left idle for ~30 s, hence no pauses here.)
ours_t=() aide_t=() aidew_t=()
for i in $(seq "$RUNS"); do
	ours_t+=("$(time_cmd "$AGENT" scan "$TREE" --json)")
	say "scan: run $i: ours ${ours_t[-1]} s"
	if [ -n "$have_aide" ]; then
		aide_t+=("$(time_cmd run_aide)")
		say "scan: run $i: aide (1 worker, its default) ${aide_t[-1]} s"
		aidew_t+=("$(time_cmd run_aide --workers="$NPROC")")
		say "scan: run $i: aide --workers=$NPROC ${aidew_t[-1]} s"
	fi
done
ours_s=$(printf '%s\n' "${ours_t[@]}" | median)
aide_s=n/a aide_w_s=n/a
if [ -n "$have_aide" ]; then
	aide_s=$(printf '%s\n' "${aide_t[@]}" | median)
	aide_w_s=$(printf '%s\n' "${aidew_t[@]}" | median)
	# grep -c exits 1 for a count of 0; 2 means the database is missing.
	aide_entries=$(grep -c "^/" "$AIDE_DIR/aide.db.new") || [ $? -eq 1 ] ||
		say "scan: aide wrote no database ($AIDE_DIR/aide.db.new)"
	say "scan: aide's database holds ${aide_entries:-?} entries (files and directories)"
	rm -f "$AIDE_DIR/aide.db.new"
fi
# The agent's own timing (from its summary line), median over the timed runs.
json_each() { grep -o "\"$1\":[-0-9.eE+]*" | cut -d: -f2; }
self_med() { grep '"type":"summary"' "$LOG" | json_each "$1" | median; }
self_s=$(self_med seconds)
self_fps=$(self_med files_per_second)
self_mbps=$(self_med mb_per_second)

# --- the SHA-256 limit ------------------------------------------------------
limit=n/a one=n/a
if command -v openssl >/dev/null; then
	k=$(openssl speed -evp sha256 -seconds 3 -bytes 1048576 -multi "$NPROC" 2>/dev/null |
		awk '$1 == "sha256" {v = $2} END {print v}' | tr -d k)
	[ -n "$k" ] && limit=$(calc "$k * 1000 / 1e6")
	k=$(openssl speed -evp sha256 -seconds 3 -bytes 1048576 2>/dev/null |
		awk '$1 == "sha256" {v = $2} END {print v}' | tr -d k)
	[ -n "$k" ] && one=$(calc "$k * 1000 / 1e6")
fi

# --- figures ------------------------------------------------------------------
suffix() { local v; v=$(fmt "$1" "$2"); [ "$v" = n/a ] && echo n/a || echo "$v$3"; }
rate() { if [ "$2" = n/a ]; then echo n/a; else calc "$1 / $2"; fi; }
ours_fps=$(rate "$files" "$ours_s")
ours_mbps=$(rate "$mb" "$ours_s")
aide_fps=$(rate "$files" "$aide_s")
aide_mbps=$(rate "$mb" "$aide_s")
aidew_fps=$(rate "$files" "$aide_w_s")
aidew_mbps=$(rate "$mb" "$aide_w_s")
ratio=n/a ratio_w=n/a pct=n/a
[ "$aide_s" != n/a ] && ratio=$(calc "$aide_s / $ours_s")
[ "$aide_w_s" != n/a ] && ratio_w=$(calc "$aide_w_s / $ours_s")
[ "$limit" != n/a ] && pct=$(calc "100 * $ours_mbps / $limit")

cat <<EOF

== scan: $files files, $(fmt "$mb") MB, page cache warm, $NPROC cores, median of $RUNS (wall clock) ==
  yingji-agent scan --json      $(fmt "$ours_s" 2) s   $(fmt "$ours_fps") files/s   $(fmt "$ours_mbps") MB/s
      (its own summary, median: $(fmt "$self_s" 2) s, $(fmt "$self_fps") files/s, $(fmt "$self_mbps") MB/s)
  aide --init (1 worker)        $(fmt "$aide_s" 2) s   $(fmt "$aide_fps") files/s   $(fmt "$aide_mbps") MB/s   ours/AIDE $(suffix "$ratio" 1 x)
  aide --init --workers=$NPROC      $(fmt "$aide_w_s" 2) s   $(fmt "$aidew_fps") files/s   $(fmt "$aidew_mbps") MB/s   ours/AIDE $(suffix "$ratio_w" 1 x)
  SHA-256 limit, openssl -multi $NPROC   $(fmt "$limit") MB/s (1 core: $(fmt "$one") MB/s)   ours = $(fmt "$pct")% of it
EOF

result scan "scan files/s" "$(fmt "$ours_fps")" "$(fmt "$aide_fps")" "aide --init, sha256 (1 worker, default)"
result scan "scan MB/s" "$(fmt "$ours_mbps")" "$(fmt "$aide_mbps")" "aide --init, sha256 (1 worker, default)"
result scan "scan speed-up vs AIDE" "$(suffix "$ratio" 1 x)" "1x" "aim >= 5x"
result scan "scan MB/s vs AIDE, $NPROC workers" "$(fmt "$ours_mbps")" "$(fmt "$aidew_mbps")" "aide --init --workers=$NPROC ($(suffix "$ratio_w" 1 x))"
result scan "scan % of SHA-256 limit" "$(suffix "$pct" 0 %)" "$(fmt "$limit") MB/s" "openssl speed -multi $NPROC (aim >= 80%)"
