#!/usr/bin/env bash
# `yingji plan check`: both example plans (plans/county.yaml, plans/city.yaml)
# are valid and summarised; broken plans exit 1 with every problem as
# FILE:LINE: message (the right line, all problems at once, typos in keys
# named); usage errors exit 2; messages are Chinese by default. No centre.
. "$(dirname "$0")/lib.sh"

Y=$YINGJI_BIN/yingji
[ -x "$Y" ] || fail "$Y is not an executable"

# check FILE: run `yingji plan check FILE`, output in $T/out, exit status in $RC.
check() {
	"$Y" plan check "$1" >"$T/out" 2>&1
	RC=$?
}

# expect_error FILE LINE TEXT: exit 1 and an error "FILE:LINE: ...TEXT...".
expect_error() {
	check "$1"
	[ "$RC" -eq 1 ] || fail "plan check $1: exit $RC, expected 1: $(cat "$T/out")"
	grep -qF "$1:$2: " "$T/out" || fail "plan check $1: no error on line $2: $(cat "$T/out")"
	grep -F "$1:$2: " "$T/out" | grep -qF "$3" ||
		fail "plan check $1: line $2 does not say '$3': $(cat "$T/out")"
}

# --- usage ------------------------------------------------------------------------
"$Y" plan --help | grep -q 'Usage: yingji plan check FILE' || fail "plan --help (English)"
"$Y" plan check --help | grep -q 'Exit status: 0 the plan is valid' || fail "plan check --help"
YINGJI_LANG=zh "$Y" plan --help | grep -q '用法: yingji plan check 文件' || fail "plan --help (Chinese)"
"$Y" --help | grep -q 'plan' || fail "plan missing from yingji --help"
"$Y" plan >/dev/null 2>&1; [ $? -eq 2 ] || fail "plan without a subcommand should exit 2"
"$Y" plan check >/dev/null 2>&1; [ $? -eq 2 ] || fail "plan check without a file should exit 2"
"$Y" plan verify x >/dev/null 2>&1; [ $? -eq 2 ] || fail "an unknown subcommand should exit 2"
"$Y" plan check --strict x >/dev/null 2>&1; [ $? -eq 2 ] || fail "an unknown option should exit 2"
"$Y" plan check a.yaml b.yaml >/dev/null 2>&1; [ $? -eq 2 ] || fail "two files should exit 2"

# --- the examples -------------------------------------------------------------------
for f in county city; do
	check "$YINGJI_SRC/plans/$f.yaml"
	[ "$RC" -eq 0 ] || fail "plans/$f.yaml: exit $RC: $(cat "$T/out")"
	grep -q 'the plan is valid' "$T/out" || fail "plans/$f.yaml: no summary: $(cat "$T/out")"
done
check "$YINGJI_SRC/plans/county.yaml"
grep -q 'organisation: 某县司法局' "$T/out" || fail "county: organisation not shown: $(cat "$T/out")"
grep -q 'escalation: office → deputy → leader, every 15m' "$T/out" ||
	fail "county: escalation chain not shown: $(cat "$T/out")"
grep -q 'initial report 30m, risk assessment 1h' "$T/out" ||
	fail "county: deadlines not shown: $(cat "$T/out")"
grep -q 'Network attack / Web page tampering' "$T/out" ||
	fail "county: playbooks not shown: $(cat "$T/out")"
YINGJI_LANG=zh "$Y" plan check "$YINGJI_SRC/plans/city.yaml" | grep -q '预案有效' ||
	fail "city: no Chinese summary"
# The examples name no one: titles only, placeholder addresses.
for f in county city; do
	grep -E 'email: [^ ,}]+' -o "$YINGJI_SRC/plans/$f.yaml" | grep -vqE '@example\.(gov\.cn|com)$' &&
		fail "plans/$f.yaml: an address outside example.gov.cn"
done

# --- broken plans -------------------------------------------------------------------
cd "$T" || fail "cd $T"
base='version: 1
organisation: { name: 某县司法局 }
operator_type: party_government
roles:
  - id: leader
    name: 领导小组组长
    may: [activate, approve]
  - id: office
    name: 领导小组办公室主任
    may: [report, assess]
    escalates_to: leader
members:
  - { id: director, name: 局长, roles: [leader] }
  - { id: office_head, name: 办公室主任, roles: [office] }
escalation:
  start: office'
printf '%s\n' "$base" >ok.yaml
check ok.yaml
[ "$RC" -eq 0 ] || fail "the small plan should be valid: $(cat "$T/out")"

printf '%s\n' "${base/roles: \[office\]/roles: [offce]}" >member.yaml
expect_error member.yaml 14 'unknown role "offce"'

printf '%s\n' "${base/escalates_to: leader/escalates_to: office}" >self.yaml
expect_error self.yaml 11 'escalates to itself'

printf '%s\n' "$base" 'clocks:' '  initial_report: 2h' '  risk_assessment: 1h' >clocks.yaml
expect_error clocks.yaml 19 'initial_report (2h) must not come after risk_assessment (1h)'

printf '%s\n' "$base" 'grading:' '  portal_down: { 一般: 6h, 较大: 1h }' >grading.yaml
expect_error grading.yaml 18 'threshold for 一般 is above'

printf '%s\n' "$base" 'escalaton: { step: 5m }' >typo.yaml
expect_error typo.yaml 17 'unknown key "escalaton" (did you mean "escalation"?)'

printf '%s\n' "$base" 'audit: { retention_days: 90 }' >retention.yaml
expect_error retention.yaml 17 'at least 180 days'

printf '%s\n' "$base" 'playbooks:' '  - category: 网络攻击事件' '    subcategory: 网页涂改事件' >cat.yaml
expect_error cat.yaml 19 'no subcategory "网页涂改事件"'

printf '%s\n' "$base" 'roles: [' >yaml.yaml
expect_error yaml.yaml 18 'malformed YAML'

printf 'organisation: { name: "\xff" }\n' >utf8.yaml
expect_error utf8.yaml 1 'UTF-8'

# Several problems: all of them, in the order of the file.
printf '%s\n' "${base/roles: \[office\]/roles: [offce]}" 'channels:' \
	'  - { id: robot, type: wechat, url: "http://10.0.0.5/hook" }' \
	'audit: { retention_days: 30 }' >many.yaml
check many.yaml
[ "$RC" -eq 1 ] || fail "many.yaml: exit $RC"
lines=$(grep -oE '^many\.yaml:[0-9]+:' "$T/out" | cut -d: -f2 | tr '\n' ' ')
[ "$lines" = "14 18 19 " ] || fail "many.yaml: expected errors on lines 14 18 19, got '$lines': $(cat "$T/out")"
grep -q 'the plan is invalid (3 problems)' "$T/out" || fail "many.yaml: no count: $(cat "$T/out")"

# Chinese by default.
YINGJI_LANG= LC_ALL= LANG= "$Y" plan check member.yaml >"$T/out" 2>&1
grep -q 'member.yaml:14: members.roles: 未知角色 "offce"' "$T/out" ||
	fail "the Chinese message is missing: $(cat "$T/out")"

# The file as a whole: no line number.
head -c 1100000 /dev/zero | tr '\0' '#' >big.yaml
check big.yaml
[ "$RC" -eq 1 ] && grep -q '^big.yaml: the file is too large' "$T/out" ||
	fail "big.yaml: exit $RC: $(cat "$T/out")"
check missing.yaml
[ "$RC" -eq 1 ] && grep -q '^missing.yaml: cannot open' "$T/out" ||
	fail "missing.yaml: exit $RC: $(cat "$T/out")"
check "$T"
[ "$RC" -eq 1 ] && grep -q 'not a regular file' "$T/out" || fail "a directory: exit $RC: $(cat "$T/out")"

echo "PASS: $TEST_NAME"
