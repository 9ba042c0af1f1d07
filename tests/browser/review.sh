#!/bin/bash
# tests/browser/review.sh -- the review console in a real browser: starts
# vouchd in a scratch directory on 127.0.0.1 (tests/cli/lib/review_setup.sh:
# two accounts past their threshold, one forgery), drives Debian's chromium
# headless through puppeteer-core (tests/browser/review.js) to confirm one
# match and reject another through the page, then checks the stored
# decisions through the JSON export and the database.  Bounded: the browser
# gets $BROWSER_TIMEOUT seconds (default 120, times VOUCH_TIME_SCALE), and
# everything started here (vouchd, node, chromium: their own process group)
# is killed on exit.  Screenshots go to $VOUCH_BROWSER_OUT (default
# build/browser-review/).  Skipped (77) when chromium or puppeteer-core
# (scripts/install-browser-deps.sh) is missing.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
CHROMIUM=${CHROMIUM:-$(command -v chromium || true)}
MODULES=${VOUCH_BROWSER_CACHE:-$SRC/.cache/browser}/node_modules
[ -n "$CHROMIUM" ] || { echo "chromium not installed (scripts/install-deps.sh); skipping"; exit 77; }
command -v node >/dev/null || { echo "node not installed; skipping"; exit 77; }
[ -d "$MODULES/puppeteer-core" ] || { echo "puppeteer-core not installed (sh scripts/install-browser-deps.sh); skipping"; exit 77; }
command -v convert >/dev/null || { echo "ImageMagick needed; skipping"; exit 77; }
. "$SRC/tests/cli/lib/vouchd_harness.sh"
BPID=
# the harness's cleanup, plus the browser's whole process group
cleanup() {
  [ -n "$BPID" ] && kill -9 -- "-$BPID" 2>/dev/null
  [ -n "$PID" ] && kill -9 "$PID" 2>/dev/null
  rm -rf "$T"
}
. "$SRC/tests/cli/lib/review_setup.sh"
OUT=${VOUCH_BROWSER_OUT:-$(dirname "$V")/browser-review}
mkdir -p "$OUT"
rm -f "$OUT"/*.png
LIMIT=$(( ${BROWSER_TIMEOUT:-120} * ${VOUCH_TIME_SCALE:-1} ))
check "vouchd is up" test "$(curl -s -o /dev/null -w '%{http_code}' $U/healthz)" = 200
check "second hashes uploaded" test "$(curl -s -o /dev/null -w '%{http_code}' -H "$A" -X POST --data-binary @"$T/second.txt" $U/v1/review/second-hashes)" = 200
check "alice's vouchers" test "$(curl -s -o /dev/null -w '%{http_code}' -H "$DALICE" -X POST --data-binary @"$T/alice.json" $U/v1/vouchers)" = 200
check "bob's vouchers" test "$(curl -s -o /dev/null -w '%{http_code}' -H "$DBOB" -X POST --data-binary @"$T/bob.json" $U/v1/vouchers)" = 200

# node and chromium in a process group of their own (setsid), killed whole
# on exit; `timeout` bounds the run
setsid env NODE_PATH="$MODULES" URL="$U" TOKEN="$REV" CHROMIUM="$CHROMIUM" OUT="$OUT" PROFILE="$T/profile" \
  timeout -k 5 "$LIMIT" node "$SRC/tests/browser/review.js" > "$T/browser.log" 2>&1 &
BPID=$!
wait "$BPID"
brc=$?
BPID_DONE=$BPID
cat "$T/browser.log"
check "the browser run passed (exit $brc)" test "$brc" -eq 0
check "no browser left running" sh -c "! pgrep -g $BPID_DONE >/dev/null"
check "screenshots saved" test "$(ls "$OUT"/*.png 2>/dev/null | wc -l)" -eq 3

# what the page recorded, read back through the API and from the database
curl -s -H "Authorization: Bearer $REV" $U/v1/review/export > "$T/export.json"
check "export: the page's confirm and reject, and the other desk's escalate" python3 -c '
import json,sys
o=json.load(open(sys.argv[1]))
ds=[(d["account"],d["decision"],d["reviewer"]) for d in o["decisions"]]
assert ds==[("alice","confirm","rita"),("bob","reject","rita"),("bob","escalate","rita")], ds
assert o["decisions"][0]["note"].startswith("same picture <img"), o["decisions"][0]
assert all(d["decided_at"]>0 for d in o["decisions"]), o' "$T/export.json"
check "3 decisions in the database" test "$(sqlite3 "$T/db.sqlite" 'SELECT count(*) FROM review_decisions')" = 3
check "the page's views were logged" test "$(sqlite3 "$T/db.sqlite" "SELECT count(*) FROM review_views WHERE reviewer = 'rita'")" -ge 9
kill "$PID"; wait "$PID" 2>/dev/null; PID=
echo "browser/review: $pass passed, $fail failed (screenshots in $OUT)"
[ "$fail" -eq 0 ]
