#!/usr/bin/env bash
# detect.sh - log detection: `yingji detect` (Sigma rules compiled to
# Hyperscan) against fail2ban-regex with its stock filters, on the same
# generated corpus with known attacks (bench/genlogs.c). Single-threaded,
# pinned to CPU 0: lines/s per core, and attacks found against the truth.
# Environment: BENCH_DETECT_SSHD, BENCH_DETECT_NGINX (500000 each),
# BENCH_DETECT_SEED (1), BENCH_RUNS (3: timed runs of ours, the median;
# fail2ban-regex is run once, it takes ~10x longer), YINGJI (the yingji
# binary), BENCH_SIGMA (extra Sigma rules, default /work/shared/sigma/rules
# when present).
set -uo pipefail
. "$(dirname "$0")/lib.sh"

YINGJI=${YINGJI:-$(dirname "$AGENT")/yingji}
NSSHD=${BENCH_DETECT_SSHD:-500000}
NNGINX=${BENCH_DETECT_NGINX:-500000}
SEED=${BENCH_DETECT_SEED:-1}
SIGMA=${BENCH_SIGMA:-/work/shared/sigma/rules}
F2B_FILTERS=/etc/fail2ban/filter.d

pin() { if command -v taskset >/dev/null; then taskset -c 0 "$@"; else "$@"; fi; }

# The corpus, reused while its marker matches.
build_tool genlogs
D=$BENCH_DIR/detect-$NSSHD-$NNGINX-s$SEED
want="genlogs-v1 sshd=$NSSHD nginx=$NNGINX seed=$SEED $(md5sum <"$BENCH_SRC/genlogs.c" | cut -c1-12)"
if [ ! -f "$D.ok" ] || [ "$(cat "$D.ok")" != "$want" ]; then
	say "detect: generating $NSSHD sshd + $NNGINX nginx lines in $D ..."
	rm -rf "$D" "$D.ok"
	mkdir -p "$D"
	"$BIN/genlogs" --sshd "$NSSHD" --nginx "$NNGINX" --seed "$SEED" --truth "$D/truth.txt" "$D/all.log" >&2 ||
		{ say "detect: genlogs failed"; exit 1; }
	# fail2ban reads one kind of log per filter: the two parts, in order.
	grep ' sshd\[' "$D/all.log" >"$D/sshd.log"
	grep -v ' sshd\[' "$D/all.log" >"$D/nginx.log"
	echo "$want" >"$D.ok"
else
	say "detect: reusing $D"
fi
LINES=$(wc -l <"$D/all.log")
NTRUTH=$(wc -l <"$D/truth.txt")
OUT=$BENCH_DIR/detect-out
mkdir -p "$OUT"

# --- ours -------------------------------------------------------------------
ours_lps=n/a ours_own=n/a ours_cold=n/a ours_nofilter=n/a
rules=(--rules "$ROOT/rules")
if [ -d "$SIGMA" ]; then
	rules+=(--rules "$SIGMA")
	say "detect: with the Sigma rules in $SIGMA"
fi
if [ -x "$YINGJI" ]; then
	dirs=("$ROOT/rules")
	[ -d "$SIGMA" ] && dirs+=("$SIGMA")
	YINGJI_LANG=en "$YINGJI" rules check "${dirs[@]}" >"$OUT/rules-check.txt" 2>&1 ||
		say "detect: rules check exited with $? (see $OUT/rules-check.txt)"
	tail -n 1 "$OUT/rules-check.txt" >&2
	# Compiled rules are kept in a cache of this benchmark's own: the first
	# run (cold: every Hyperscan database compiled) is timed on its own.
	export YINGJI_CACHE=$BENCH_DIR/detect-cache
	rm -rf "$YINGJI_CACHE"
	t0=$(now)
	YINGJI_LANG=en pin "$YINGJI" detect "${rules[@]}" --json "$D/all.log" >/dev/null 2>"$OUT/cold.err" ||
		say "detect: the cold run exited with $? (the timed runs will say why)"
	t1=$(now)
	ours_cold=$(calc "$LINES / ($t1 - $t0)")
	say "detect: ours, cold (no compiled rules kept yet) $(fmt "$ours_cold") lines/s; $(grep -h 'line filter' "$OUT/cold.err" | head -n 1)"
	# every line decoded (--no-filter), for comparison
	t0=$(now)
	YINGJI_LANG=en pin "$YINGJI" detect --no-filter "${rules[@]}" --json "$D/all.log" >"$OUT/nofilter.jsonl" 2>/dev/null
	t1=$(now)
	ours_nofilter=$(calc "$LINES / ($t1 - $t0)")
	say "detect: ours with every line decoded (--no-filter) $(fmt "$ours_nofilter") lines/s"
	runs=${BENCH_RUNS:-3} rates=() own=() rc=0
	for ((i = 0; i < runs; i++)); do
		t0=$(now)
		YINGJI_LANG=en pin "$YINGJI" detect "${rules[@]}" --json "$D/all.log" >"$OUT/ours.jsonl" 2>"$OUT/ours.err"
		rc=$?
		t1=$(now)
		[ $rc -eq 0 ] || break
		rates+=("$(calc "$LINES / ($t1 - $t0)")")
		own+=("$(grep -o '[0-9.]* lines/s' "$OUT/ours.err" | tail -n 1 | cut -d' ' -f1)")
	done
	if [ $rc -eq 0 ] && ! cmp -s "$OUT/ours.jsonl" "$OUT/nofilter.jsonl"; then
		say "detect: the line filter changed the alerts (see $OUT/ours.jsonl, $OUT/nofilter.jsonl)"
	fi
	if [ $rc -eq 0 ]; then
		ours_lps=$(printf '%s\n' "${rates[@]}" | median)
		ours_own=$(printf '%s\n' "${own[@]}" | median)
		say "detect: ours $(fmt "$ours_lps") lines/s (wall, incl. loading rules; median of $runs: ${rates[*]}); its own figure (reading and matching) $(fmt "$ours_own") lines/s"
	else
		say "detect: yingji detect exited with $rc: $(tail -n 3 "$OUT/ours.err")"
		ours_lps=n/a
	fi
else
	say "detect: $YINGJI is missing (ours will read n/a)"
fi

# --- fail2ban ---------------------------------------------------------------
f2b_lps=n/a
web_filter=$F2B_FILTERS/nginx-botsearch.conf
if command -v fail2ban-regex >/dev/null && [ -f "$F2B_FILTERS/sshd.conf" ] && [ -f "$web_filter" ]; then
	t0=$(now)
	pin fail2ban-regex -o row "$D/sshd.log" "$F2B_FILTERS/sshd.conf" >"$OUT/f2b-sshd.txt" 2>"$OUT/f2b-sshd.err"
	rc1=$?
	t1=$(now)
	pin fail2ban-regex -o row "$D/nginx.log" "$web_filter" >"$OUT/f2b-nginx.txt" 2>"$OUT/f2b-nginx.err"
	rc2=$?
	t2=$(now)
	if [ $rc1 -eq 0 ] && [ $rc2 -eq 0 ]; then
		f2b_lps=$(calc "$LINES / ($t2 - $t0)")
		say "detect: fail2ban-regex $(fmt "$f2b_lps") lines/s (sshd $(calc "$(wc -l <"$D/sshd.log") / ($t1 - $t0)"), nginx $(calc "$(wc -l <"$D/nginx.log") / ($t2 - $t1)"))"
	else
		say "detect: fail2ban-regex exited with $rc1/$rc2"
	fi
else
	say "detect: fail2ban-regex or its filters are missing (peer will read n/a)"
fi

# --- scoring against the truth ----------------------------------------------
score=$(python3 - "$D/truth.txt" "$OUT/ours.jsonl" "$OUT/f2b-sshd.txt" "$OUT/f2b-nginx.txt" <<'PY'
import ast, json, re, sys
from collections import defaultdict

truth = [l.split() for l in open(sys.argv[1]) if l.strip()]
attack_lines = {}
attack_ips = {}
for kind, ip, first, last, n in truth:
    attack_ips[ip] = kind
    if kind not in ("bruteforce", "spraying"):
        attack_lines[int(first)] = (kind, ip)

def load_ours(path):
    try:
        f = open(path)
    except OSError:
        return None
    found, fp, fp_rules = set(), 0, defaultdict(int)
    for l in f:
        try:
            a = json.loads(l)
        except ValueError:
            continue
        if a.get("correlation"):
            ips = set(re.findall(r"\d+\.\d+\.\d+\.\d+", a.get("group") or ""))
            hit = [ip for ip in ips if ip in attack_ips]
            if hit:
                found.update(hit)
            else:
                fp += 1
                fp_rules[a.get("title")] += 1
        else:
            t = attack_lines.get(a.get("line"))
            if t:
                found.add(t[1])
            else:
                fp += 1
                fp_rules[a.get("title")] += 1
    return found, fp, fp_rules

def f2b_rows(path):
    rows = []
    try:
        for l in open(path):
            l = l.strip().rstrip(",")
            if not l.startswith("["):
                continue
            try:
                r = ast.literal_eval(l.replace("\t", " "))
            except Exception:
                m = re.match(r"\['([^']*)',\s*([0-9.]+)", l)
                if not m:
                    continue
                r = [m.group(1), float(m.group(2))]
            rows.append((r[0], float(r[1])))
    except OSError:
        return None
    return rows

def load_f2b(sshd, nginx, maxretry=5, findtime=600):
    s, n = f2b_rows(sshd), f2b_rows(nginx)
    if s is None or n is None or (not s and not n):
        return None
    found, fp = set(), 0
    # sshd: a ban, as the stock jail would (maxretry 5 within findtime 10 min)
    times = defaultdict(list)
    for ip, t in s:
        times[ip].append(t)
    for ip, ts in times.items():
        ts.sort()
        banned = any(ts[i + maxretry - 1] - ts[i] <= findtime for i in range(len(ts) - maxretry + 1))
        if banned:
            if ip in attack_ips:
                found.add(ip)
            else:
                fp += 1
    # nginx: any matched request (one request is the whole attack)
    for ip, t in n:
        if ip in attack_ips:
            found.add(ip)
        else:
            fp += 1
    return found, fp, {}

def per_kind(found):
    tot, hit = defaultdict(int), defaultdict(int)
    for kind, ip, *_ in truth:
        tot[kind] += 1
        hit[kind] += ip in found
    return " ".join(f"{k}={hit[k]}/{tot[k]}" for k in
        ("bruteforce", "spraying", "sqli", "xss", "traversal", "rfi", "webshell", "scanner") if tot[k])

for name, res in (("ours", load_ours(sys.argv[2])), ("f2b", load_f2b(sys.argv[3], sys.argv[4]))):
    if res is None:
        print(f"{name} n/a n/a -")
        continue
    found, fp, fpr = res
    print(f"{name} {len(found)} {fp} {per_kind(found)}")
    for t, c in sorted(fpr.items(), key=lambda x: -x[1])[:5]:
        print(f"#fp {name} {c} {t}", file=sys.stderr)
PY
)
say "$score"
ours_found=$(awk '$1=="ours"{print $2}' <<<"$score")
ours_fp=$(awk '$1=="ours"{print $3}' <<<"$score")
f2b_found=$(awk '$1=="f2b"{print $2}' <<<"$score")
f2b_fp=$(awk '$1=="f2b"{print $3}' <<<"$score")
say "detect: per kind, ours: $(awk '$1=="ours"{$1=$2=$3=""; print}' <<<"$score")"
say "detect: per kind, fail2ban: $(awk '$1=="f2b"{$1=$2=$3=""; print}' <<<"$score")"

result detect "detect lines/s per core" "$(fmt "$ours_lps")" "$(fmt "$f2b_lps")" "fail2ban-regex (sshd + nginx-botsearch)"
result detect "detect, rules compiled cold" "$(fmt "${ours_cold:-n/a}")" "$(fmt "$f2b_lps")" "fail2ban-regex"
result detect "detect, every line decoded" "$(fmt "${ours_nofilter:-n/a}")" "$(fmt "$f2b_lps")" "fail2ban-regex"
if [ "$ours_lps" != n/a ] && [ "$f2b_lps" != n/a ]; then
	say "detect: ours / fail2ban-regex = $(calc "$ours_lps / $f2b_lps")x (cold: $(calc "${ours_cold:-0} / $f2b_lps")x)"
fi
result detect "attacks found (truth $NTRUTH)" "${ours_found:-n/a}" "${f2b_found:-n/a}" "fail2ban (ssh: a ban at 5 in 10 min)"
result detect "alerts on normal lines/IPs" "${ours_fp:-n/a}" "${f2b_fp:-n/a}" "fail2ban (bans/matches not in truth)"
exit 0
