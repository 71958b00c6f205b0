# test_scan.sh - `yingji-agent scan`: the summary, baselines, every kind of
# difference, hostile names, bad input, unreadable and vanishing files.
. "$(dirname "$0")/lib.sh"

P=$T/pristine
D=$T/site
make_site "$P"
cp -a "$P" "$D"

# scan_json OUT ARGS...: run scan --json, stdout to OUT, stderr to OUT.err; sets RC.
scan_json() {
	local out=$1
	shift
	"$YJ" scan --json "$@" >"$out" 2>"$out.err"
	RC=$?
}

# summary FILE KEY: a key of the summary line.
summary() {
	python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8", errors="surrogateescape") if l.strip()]
s = [l for l in lines if l.get("type") == "summary"]
assert len(s) == 1, "expected one summary line, got %d" % len(s)
assert lines[-1] is s[0], "the summary is not the last line"
print(s[0][sys.argv[2]])' "$1" "$2" || fail "no usable summary in $1: $(cat "$1")"
}

# changes FILE: "kind path" for each change line, sorted.
changes() {
	python3 -c '
import json, sys
for l in open(sys.argv[1], encoding="utf-8", errors="surrogateescape"):
    if not l.strip():
        continue
    e = json.loads(l)
    if e.get("type") == "change":
        print(e["kind"], repr(e["path"]))' "$1" | sort
}

fresh_copy() {
	rm -rf "$D"
	cp -a "$P" "$D"
}

# The plain summary.
"$YJ" scan "$D" >"$T/out" 2>"$T/err" || fail "scan $D exited $?: $(cat "$T/err")"
# (the root itself is not counted among the directories)
grep -q "scanned $D: 9 files, 3 dirs, 1 symlinks" "$T/out" || fail "unexpected summary: $(cat "$T/out")"

# The JSON summary: the counts a user can check with find and du.
scan_json "$T/out" "$D"
[ $RC -eq 0 ] || fail "scan --json exited $RC: $(cat "$T/out.err")"
files=$(find "$D" -type f | wc -l)
bytes=$(find "$D" -type f -printf '%s\n' | awk '{s += $1} END {print s}')
[ "$(summary "$T/out" files)" = "$files" ] || fail "summary files is not $files: $(cat "$T/out")"
[ "$(summary "$T/out" bytes)" = "$bytes" ] || fail "summary bytes is not $bytes: $(cat "$T/out")"
python3 -c "import sys; float(sys.argv[1]) >= 0 or sys.exit(1)" "$(summary "$T/out" seconds)" ||
	fail "summary seconds is not a number"

# A baseline is created (exit 0), then an unchanged tree compares equal.
B=$T/site.baseline
scan_json "$T/out" --baseline "$B" "$D"
[ $RC -eq 0 ] || fail "creating the baseline exited $RC: $(cat "$T/out.err")"
[ -s "$B" ] || fail "the baseline file $B was not created"
[ "$(summary "$T/out" baseline)" = created ] || fail "summary does not say the baseline was created"
scan_json "$T/out" --baseline "$B" "$D"
[ $RC -eq 0 ] || fail "unchanged tree: exit $RC: $(cat "$T/out")"
[ "$(summary "$T/out" changes)" = 0 ] || fail "unchanged tree reports changes: $(cat "$T/out")"
# A copy with new inodes (cp -a keeps content, modes, owners and mtimes) is unchanged too.
fresh_copy
scan_json "$T/out" --baseline "$B" "$D"
[ $RC -eq 0 ] || fail "a faithful copy of the tree reports changes: $(cat "$T/out")"

# Each kind of change, on a fresh copy: exit 1 and exactly those changes.
# expect_change WHAT KIND PATH [KIND PATH ...]
expect_change() {
	local what=$1 got want n=0
	shift

	scan_json "$T/out" --baseline "$B" "$D"
	[ $RC -eq 1 ] || fail "$what: exit $RC, expected 1: $(cat "$T/out") $(cat "$T/out.err")"
	got=$(changes "$T/out")
	want=$(while [ $# -gt 0 ]; do
		echo "$1 $(python3 -c 'import sys; print(repr(sys.argv[1]))' "$2")"
		shift 2
	done | sort)
	n=$(echo "$want" | wc -l)
	[ "$got" = "$want" ] || fail "$what: expected the changes"$'\n'"$want"$'\n'"got"$'\n'"$got"
	[ "$(summary "$T/out" changes)" = "$n" ] || fail "$what: summary changes is not $n"
	fresh_copy
}

# Same size and mtime: only the hash can tell.
printf 'LINE ONE\nline two\n' >"$D/a.txt"
touch -r "$P/a.txt" "$D/a.txt"
expect_change "content modified (same size, same mtime)" modified "$D/a.txt"
echo more >>"$D/index.html"
expect_change "content appended" modified "$D/index.html"
echo new >"$D/sub/new.txt"
expect_change "file added" added "$D/sub/new.txt"
rm "$D/sub/deep/c.txt"
expect_change "file removed" removed "$D/sub/deep/c.txt"
chmod 600 "$D/run.sh"
expect_change "chmod" metadata "$D/run.sh"
chown nobody "$D/a.txt"
expect_change "chown" metadata "$D/a.txt"
ln -sfn a.txt "$D/link"
expect_change "symlink target changed" modified "$D/link"
rm "$D/a.txt" && ln -s /etc/passwd "$D/a.txt"
expect_change "file replaced by a symlink" modified "$D/a.txt"
rm -rf "$D/sub/deep" && echo x >"$D/sub/deep"
expect_change "directory replaced by a file" modified "$D/sub/deep" removed "$D/sub/deep/c.txt"

# --update records the current state: the next comparison is clean.
echo updated >>"$D/index.html"
"$YJ" scan --baseline "$B" --update "$D" >/dev/null 2>&1
[ $? -eq 1 ] || fail "scan --update of a changed tree should exit 1"
scan_json "$T/out" --baseline "$B" "$D"
[ $RC -eq 0 ] || fail "after --update the tree still differs: $(cat "$T/out")"
fresh_copy

# Hostile names: newline, spaces, bytes that are not UTF-8, an empty file.
N=$T/names
mkdir -p "$N"
printf 'nl\n' >"$N/new"$'\n'"line"
printf 'sp\n' >"$N/  lots of  spaces  "
printf 'bad\n' >"$N/$(printf 'bad\xff\xfename')"
printf 'quote\n' >"$N/q\"uo\\te"
: >"$N/empty"
mkdir "$N/dir"$'\n'"with newline"
printf 'inner\n' >"$N/dir"$'\n'"with newline/file"
NB=$T/names.baseline
scan_json "$T/out" --baseline "$NB" "$N"
[ $RC -eq 0 ] || fail "hostile names: creating the baseline exited $RC: $(cat "$T/out.err")"
[ "$(summary "$T/out" files)" = 6 ] || fail "hostile names: expected 6 files: $(cat "$T/out")"
scan_json "$T/out" --baseline "$NB" "$N"
[ $RC -eq 0 ] || fail "hostile names: unchanged tree reports changes: $(cat "$T/out")"
echo changed >>"$N/new"$'\n'"line"
echo changed >>"$N/$(printf 'bad\xff\xfename')"
echo changed >>"$N/dir"$'\n'"with newline/file"
echo changed >"$N/empty"
scan_json "$T/out" --baseline "$NB" "$N"
[ $RC -eq 1 ] || fail "hostile names: changes not reported (exit $RC): $(cat "$T/out")"
got=$(changes "$T/out")
want=$(python3 -c '
import sys
n = sys.argv[1]
for p in sorted(["modified " + repr(x) for x in [n + "/new\nline", n + "/bad\\xff\\xfename",
        n + "/dir\nwith newline/file", n + "/empty"]]):
    print(p)' "$N")
[ "$got" = "$want" ] || fail "hostile names: expected"$'\n'"$want"$'\n'"got"$'\n'"$got"
# The readable form keeps one change per line: names are escaped.
"$YJ" scan --baseline "$NB" "$N" >"$T/out" 2>&1
lines=$(wc -l <"$T/out")
[ "$lines" -eq 6 ] || fail "hostile names: the readable report has $lines lines, expected 4 changes + 2: $(cat -A "$T/out")"
grep -q $'\xff' "$T/out" && fail "hostile names: raw invalid UTF-8 printed"

# A symlink as the root is not followed.
ln -s "$D" "$T/link-root"
"$YJ" scan "$T/link-root" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] || fail "scan of a symlink root: exit $rc, expected 2"
grep -q "symlink" "$T/err" || fail "scan of a symlink root: no message naming the symlink: $(cat "$T/err")"

# A missing path, a file as the root.
"$YJ" scan "$T/does-not-exist" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] || fail "scan of a missing path: exit $rc, expected 2"
grep -q "does-not-exist" "$T/err" || fail "scan of a missing path: the message does not name it: $(cat "$T/err")"
"$YJ" scan "$D/a.txt" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 2 ] || fail "scan of a regular file: exit $rc, expected 2"
[ -s "$T/err" ] || fail "scan of a regular file: no message"

# Corrupt baselines: refused with a clear message, and left as they were.
corrupt_baseline() {
	local what=$1 f=$2 sum

	sum=$(sha256sum "$f")
	"$YJ" scan --baseline "$f" "$D" >"$T/out" 2>"$T/err"
	rc=$?
	[ $rc -eq 2 ] || fail "$what baseline: exit $rc, expected 2: $(cat "$T/out")"
	grep -q "corrupt" "$T/err" || fail "$what baseline: the message does not say corrupt: $(cat "$T/err")"
	[ "$(sha256sum "$f")" = "$sum" ] || fail "$what baseline: the file was overwritten"
}
head -c 4096 /dev/urandom >"$T/random.baseline"
corrupt_baseline "random bytes" "$T/random.baseline"
head -c $(($(stat -c %s "$B") / 2)) "$B" >"$T/truncated.baseline"
corrupt_baseline "truncated" "$T/truncated.baseline"
head -c 3 "$B" >"$T/tiny.baseline"
corrupt_baseline "3-byte" "$T/tiny.baseline"
python3 - "$B" "$T/flipped.baseline" <<'EOF'
import sys
b = bytearray(open(sys.argv[1], "rb").read())
b[len(b) // 2] ^= 0x40
open(sys.argv[2], "wb").write(b)
EOF
corrupt_baseline "bit-flipped" "$T/flipped.baseline"
: >"$T/empty.baseline"
corrupt_baseline "empty" "$T/empty.baseline"

# Not root: a file nobody can read is reported and the scan completes.
U=$T/unreadable
mkdir -p "$U/sub"
for i in 1 2 3; do echo "$i" >"$U/sub/f$i"; done
echo secret >"$U/sub/secret"
chmod 000 "$U/sub/secret"
chmod -R a+rX "$U"
chmod 000 "$U/sub/secret"
env ASAN_OPTIONS="$YJ_ASAN_BASE" UBSAN_OPTIONS="$YJ_UBSAN_BASE" \
	setpriv --reuid=65534 --regid=65534 --clear-groups "$YJ" scan --json "$U" >"$T/out" 2>"$T/err"
rc=$?
[ $rc -eq 0 ] || fail "scan as nobody: exit $rc, expected 0: $(cat "$T/err")"
grep -q "sub/secret" "$T/err" || fail "scan as nobody: the unreadable file is not reported: $(cat "$T/err")"
grep -qE "AddressSanitizer|runtime error" "$T/err" && fail "scan as nobody: sanitizer report: $(cat "$T/err")"
[ "$(summary "$T/out" unreadable)" = 1 ] || fail "scan as nobody: summary unreadable is not 1: $(cat "$T/out")"
[ "$(summary "$T/out" files)" = 4 ] || fail "scan as nobody: summary files is not 4: $(cat "$T/out")"

# Files vanishing while the scan runs: half of 20000 deleted in parallel.
V=$T/vanish
python3 - "$V" <<'EOF'
import os, sys
root = sys.argv[1]
for d in range(100):
    p = os.path.join(root, "d%03d" % d)
    os.makedirs(p)
    for f in range(200):
        with open(os.path.join(p, "f%03d" % f), "w") as fh:
            fh.write("x" * (f * 7))
EOF
scan_json "$T/vanish.before" --baseline "$T/vanish.baseline" "$V"
[ $RC -eq 0 ] || fail "20000 files: creating the baseline exited $RC"
[ "$(summary "$T/vanish.before" files)" = 20000 ] || fail "20000 files: wrong count"
for round in 1 2; do
	python3 - "$V" "$round" <<-'EOF' &
	import os, sys
	root, r = sys.argv[1], int(sys.argv[2])
	for d in range(100):
	    p = os.path.join(root, "d%03d" % d)
	    for f in range(r - 1, 200, 4):
	        try:
	            os.unlink(os.path.join(p, "f%03d" % f))
	        except FileNotFoundError:
	            pass
	EOF
	deleter=$!
	if [ $round -eq 1 ]; then
		scan_json "$T/vanish.out" --baseline "$T/vanish.baseline" "$V"
	else
		scan_json "$T/vanish.out" --threads 2 "$V"	# reads every file
	fi
	wait $deleter
	[ $RC -eq 0 ] || [ $RC -eq 1 ] || fail "vanishing files (round $round): exit $RC: $(tail -5 "$T/vanish.out.err")"
	summary "$T/vanish.out" files >/dev/null
done
left=$(find "$V" -type f | wc -l)
[ "$left" -eq 10000 ] || fail "the deleters left $left files, expected 10000"
scan_json "$T/vanish.out" --baseline "$T/vanish.baseline" "$V"
[ $RC -eq 1 ] || fail "after deleting half: exit $RC, expected 1"
[ "$(summary "$T/vanish.out" changes)" = 10000 ] ||
	fail "after deleting half: expected 10000 changes, got $(summary "$T/vanish.out" changes)"
# --- hashing many small files at once in SIMD lanes gives the same hashes --------
# Files of every size around the lanes' limit (65535 bytes), empty ones, big
# ones and ones whose content repeats: the baseline made with the lanes forced
# and the one made with OpenSSL forced are the same file.
L=$T/lanes
mkdir -p "$L/d"
python3 - "$L/d" <<'PY'
import os, random, sys
random.seed(11)
sizes = [0, 1, 55, 56, 63, 64, 65, 4096, 65534, 65535, 65536, 65537, 200000, 1 << 20]
sizes += [random.randrange(0, 70000) for _ in range(400)]
for i, n in enumerate(sizes):
    with open(os.path.join(sys.argv[1], "f%04d" % i), "wb") as f:
        f.write(bytes(random.getrandbits(8) for _ in range(n)) if i % 3 else b"y" * n)
PY
YINGJI_SHA256_BATCH=mb "$YJ" scan "$L/d" --baseline "$L/lanes.baseline" >/dev/null ||
	fail "scan with the lanes forced: exit $?"
YINGJI_SHA256_BATCH=openssl "$YJ" scan "$L/d" --baseline "$L/openssl.baseline" >/dev/null ||
	fail "scan with OpenSSL forced: exit $?"
cmp -s "$L/lanes.baseline" "$L/openssl.baseline" || fail "the lanes and OpenSSL disagree on some file's hash"
exit 0
