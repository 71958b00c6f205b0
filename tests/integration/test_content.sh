# test_content.sh - web-content inspection: a publish whose content holds a
# hidden link (暗链) or a harmful keyword is refused and changes nothing; a
# clean one (links to the site itself included) goes through; a tamper that
# inserts a keyword is restored and its event says what was found.
. "$(dirname "$0")/lib.sh"

G=$T/www
S=$T/state
KW=$T/keywords.txt
make_site "$G"
printf '# harmful keywords, one a line\n\n赌博网站\nCasino Bonus\n# not-a-keyword\n' >"$KW"
start_agent "$S" "$G" --keywords "$KW" --own-host site.example
P=$T/pristine
cp -a "$G" "$P"

# A release with a hidden link in one page: refused, nothing changes.
ST=$T/staging
cp -a "$G" "$ST"
printf 'new page\n' >"$ST/new.html"
printf '<html><body>release 2<div style="position:absolute;left:-9999px">' >"$ST/index.html"
printf '<a href="http://spam.example/casino">x</a></div></body></html>\n' >>"$ST/index.html"
mark_events
"$YJ" publish --state "$S" --from "$ST" "$G" >"$T/out" 2>&1
[ $? -eq 2 ] || fail "a publish with a hidden link was not refused: $(cat "$T/out")"
grep -q "hidden link" "$T/out" && grep -q "http://spam.example/casino" "$T/out" &&
	grep -q "$ST/index.html" "$T/out" || fail "refusal does not name the finding: $(cat "$T/out")"
assert_tree_same "$G" "$P" "after a refused publish"
assert_event content_blocked "$ST/index.html" blocked \
	"e['content']['kind'] == 'hidden_link' and e['content']['what'] == 'http://spam.example/casino' and e['content']['offset'] == 65 and e.get('category') == 'information_content'"
sleep 0.5
[ "$(count_events "e.get('type') in ('publish', 'tamper')")" -eq 0 ] ||
	fail "a refused publish left publish or tamper events"

# The same in Chinese.
YINGJI_LANG=zh "$YJ" publish --state "$S" --from "$ST" "$G" >"$T/out" 2>&1
[ $? -eq 2 ] && grep -q "暗链" "$T/out" || fail "no Chinese refusal: $(cat "$T/out")"

# A link hidden by the page's style sheet (a class), and a keyword split by
# markup and written as character references: refused too.
printf '<html><head><style>\n.ad { position: absolute; left: -9999px }\n</style></head>' >"$ST/index.html"
printf '<body><p class="x ad"><a href="http://spam.example/sheet">x</a></p></body></html>\n' >>"$ST/index.html"
"$YJ" publish --state "$S" --from "$ST" "$G" >"$T/out" 2>&1
[ $? -eq 2 ] && grep -q "http://spam.example/sheet" "$T/out" ||
	fail "a link hidden by a style sheet was not refused: $(cat "$T/out")"
printf '<p>欢迎 &#36172;<b>博</b>网站</p>\n' >"$ST/index.html"
"$YJ" publish --state "$S" --from "$ST" "$G" >"$T/out" 2>&1
[ $? -eq 2 ] && grep -q "赌博网站" "$T/out" ||
	fail "a keyword split by markup and references was not refused: $(cat "$T/out")"
assert_tree_same "$G" "$P" "after refused publishes (style sheet, split keyword)"

# A keyword (in a GB18030 page) is refused too.
printf '<html><body>ok</body></html>\n' >"$ST/index.html"
printf '<meta charset="gbk"><p>欢迎 赌博网站</p>\n' | iconv -f UTF-8 -t GB18030 >"$ST/gb.htm"
"$YJ" publish --state "$S" --from "$ST" "$G" >"$T/out" 2>&1
[ $? -eq 2 ] && grep -q "harmful keyword" "$T/out" && grep -q "赌博网站" "$T/out" ||
	fail "a GB18030 page with a keyword was not refused: $(cat "$T/out")"
assert_tree_same "$G" "$P" "after a refused publish (keyword)"
rm "$ST/gb.htm"

# Clean: a hidden link to the site itself, a keyword in a file that is not
# inspected (an image), and a visible link elsewhere.
printf '<div style="display:none"><a href="https://www.site.example/x">x</a></div>' >"$ST/index.html"
printf '<a href="http://other.example/">visible</a>\n' >>"$ST/index.html"
printf 'casino bonus' >"$ST/img/logo.png"
mark_events
"$YJ" publish --state "$S" --from "$ST" "$G" >"$T/out" 2>&1 || fail "a clean publish failed: $(cat "$T/out")"
assert_tree_same "$G" "$ST" "after a clean publish"
assert_event publish "$G" accepted

# A tamper that inserts a keyword: restored, and the event carries the finding.
mark_events
# (written elsewhere and renamed in: with `>` the guard may restore the file
# between the truncation and the write, and its evidence is then empty)
printf '<html><body>hacked: CASINO BONUS here</body></html>\n' >"$T/new.tmp"
mv "$T/new.tmp" "$G/new.html"
wait_restored "$G" "$ST" 15 "keyword tamper"
assert_event tamper "$G/new.html" restored \
	"e.get('content', {}).get('kind') == 'keyword' and e['content']['what'] == 'casino bonus' and e['content']['offset'] == 20 and e.get('category') == 'information_content'"
# A tamper without harmful content has neither field.
mark_events
printf 'plain defacement\n' >"$G/a.txt"
assert_event tamper "" restored "'content' not in e and 'category' not in e"
wait_restored "$G" "$ST" 15 "plain tamper"

# Accept in place: a keyword added during a pause is refused; resume undoes it.
"$YJ" pause --state "$S" "$G" >"$T/out" 2>&1 || fail "pause failed: $(cat "$T/out")"
printf '<p>赌博网站</p>\n' >"$G/index.html"
"$YJ" publish --state "$S" "$G" >"$T/out" 2>&1
[ $? -eq 2 ] && grep -q "harmful keyword" "$T/out" || fail "accept in place with a keyword: $(cat "$T/out")"
"$YJ" resume --state "$S" "$G" >"$T/out" 2>&1 || fail "resume failed: $(cat "$T/out")"
wait_restored "$G" "$ST" 15 "after resume"

# Agent not running: publish inspects with its own --keywords and --own-host.
stop_agent
printf '<p>casino bonus</p>\n' >"$ST/index.html"
"$YJ" publish --state "$S" --from "$ST" "$G" --keywords "$KW" >"$T/out" 2>&1
[ $? -eq 2 ] && grep -q "harmful keyword" "$T/out" || fail "offline publish with a keyword: $(cat "$T/out")"
printf '<div style="display:none"><a href="http://site.example/">x</a></div>\n' >"$ST/index.html"
"$YJ" publish --state "$S" --from "$ST" "$G" --keywords "$KW" --own-host site.example >"$T/out" 2>&1 ||
	fail "offline clean publish failed: $(cat "$T/out")"
assert_tree_same "$G" "$ST" "after an offline publish"
echo "PASS: $TEST_NAME"
