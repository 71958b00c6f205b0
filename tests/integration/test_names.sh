# test_names.sh - file names chosen by an attacker (newlines, bytes that are
# not UTF-8, terminal escapes, quotes, 255 bytes) are guarded, quarantined and
# reported like any other: the events parse as JSON, name the right path, point
# at the quarantined entry, and print safely. Both watchers.
. "$(dirname "$0")/lib.sh"

LONG=$(printf 'L%.0s' $(seq 1 250)).txt
NAMES=("nl"$'\n'"name.html" "$(printf 'bad\xff\xfe.html')" "  spaced  " 'q"uote\back\slash'
	"-dash" '*glob?[x]' "$LONG" "中文页面.html" "$(printf 'esc\033[31mred')")

# The path as the events write it: JSON-escaped, with each byte that is not
# UTF-8 shown as the four characters \xHH.
event_path() {
	python3 -c '
import os, sys
b = os.fsencode(sys.argv[1])
out, i = "", 0
while i < len(b):
    for n in (4, 3, 2, 1):
        try:
            out += b[i:i + n].decode("utf-8")
            i += n
            break
        except UnicodeDecodeError:
            continue
    else:
        out += "\\x%02x" % b[i]
        i += 1
sys.stdout.write(out)' "$1"
}

for watcher in fanotify inotify; do
	W=$T/$watcher
	G=$W/www
	S=$W/state
	P=$W/pristine
	mkdir -p "$G/sub"
	for n in "${NAMES[@]}"; do
		printf 'content of %s\n' "$n" >"$G/$n"
	done
	mkdir "$G/dir"$'\n'"nl"
	printf 'inner\n' >"$G/dir"$'\n'"nl/inner"
	cp -a "$G" "$P"
	start_agent "$S" "$G" --watcher "$watcher"

	for n in "${NAMES[@]}"; do
		STEP="$watcher: modify $(printf '%q' "$n")"
		mark_events
		echo defaced >"$G/$n"
		wait_restored "$G" "$P" 15 "$STEP"
		YJ_EXPR="e.get('type') == 'tamper' and e.get('path') == $(yj_pyquote "$G/$(event_path "$n")")"
		wait_until 'yj_has_event_expr "$YJ_EXPR"' 10 "$STEP: the tamper event naming it"
	done
	STEP="$watcher: delete a directory with a newline in its name"
	rm -rf "$G/dir"$'\n'"nl" 2>/dev/null
	wait_restored "$G" "$P" 15 "$STEP"

	for n in "evil"$'\n'"shell.php" "$(printf 'x\xff.php')" "$(printf '\033]0;owned\007.php')"; do
		STEP="$watcher: plant $(printf '%q' "$n")"
		mark_events
		printf 'planted %s\n' "$n" >"$W/plant"
		mv "$W/plant" "$G/$n"
		wait_restored "$G" "$P" 15 "$STEP"
		YJ_EXPR="e.get('type') == 'tamper' and e.get('action') == 'quarantined' and e.get('path') == $(yj_pyquote "$G/$(event_path "$n")")"
		wait_until 'yj_has_event_expr "$YJ_EXPR"' 10 "$STEP: the quarantine event naming it"
		q=$(ev_get "$EVENT" "e.get('quarantine', '')")
		if [ ! -f "$S/$q" ]; then
			fail_later "$STEP: the event's quarantine location $(printf '%q' "$q") does not exist;" \
				"quarantine holds: $(cd "$S/quarantine" && ls -b | grep -v json | tr '\n' ' ')"
		elif [ "$(cat "$S/$q")" != "planted $n" ]; then
			fail "$STEP: the quarantined file lost its content"
		fi
	done

	# Every event is one JSON line, and the readable form is one line per event
	# with no raw control character.
	events_json "$S" | python3 -c '
import json, sys
for raw in sys.stdin.buffer:
    json.loads(raw.decode("utf-8", "surrogateescape"))' || fail "$watcher: an event is not valid JSON"
	njson=$(events_json "$S" | wc -l)
	"$YJ" events --state "$S" >"$T/readable" 2>&1 || fail "$watcher: events failed"
	nread=$(wc -l <"$T/readable")
	[ "$njson" -eq "$nread" ] || fail "$watcher: $njson events but $nread readable lines"
	if LC_ALL=C grep -q $'[\x01-\x09\x0b-\x1f\x7f]' "$T/readable"; then
		fail "$watcher: raw control characters in the readable events: $(grep -n $'\033' "$T/readable" | cat -A | head -3)"
	fi
	stop_agent
done
exit 0
