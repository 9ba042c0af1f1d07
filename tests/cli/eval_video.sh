#!/bin/bash
# tests/cli/eval_video.sh -- `vouch eval video`: edits, re-encodes and
# matches the golden videos (one test pattern in several containers, so they
# are all one source: --related ''), with the report's shapes, the outputs of
# -o DIR, usage errors and exit statuses.
set -u
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
G=$SRC/tests/golden/videos
. "$(dirname "$0")/lib/check.sh"

$V eval video --help > "$T/help"; check "help lists the edits" grep -q "half-size" "$T/help"
$V eval --help 2>&1 | grep -q "eval video"; check "eval --help names eval video" test $? -eq 0
$V eval video 2>/dev/null; check "no operand exits 2" test $? -eq 2
$V eval video --edits sepia "$G/h264.mp4" 2>/dev/null; check "unknown edit exits 2" test $? -eq 2
$V eval video --query-match 101 "$G/h264.mp4" 2>/dev/null; check "bad percentage exits 2" test $? -eq 2

# two of the golden videos, every edit, JSON
$V eval video --related '' --json "$G/h264.mp4" "$G/mpeg4.avi" > "$T/r.json"; check "exits 0" test $? -eq 0
check "JSON: 2 videos, 6 edits, recode and bitrate-low found, nothing unrelated" python3 - "$T/r.json" <<'PY'
import json, sys
o = json.load(open(sys.argv[1]))
assert o["videos"] == 2 and o["failed"] == 0, o
e = {x["edit"]: x for x in o["edits"]}
assert list(e) == ["recode", "bitrate-low", "half-size", "crop", "logo", "clip"], o
assert all(x["total"] == 2 and x["failed"] == 0 for x in e.values()), o
assert e["recode"]["matched"] == 2 and e["recode"]["recall"] == 1.0, o
assert e["bitrate-low"]["matched"] == 2, o
assert o["unrelated_pairs"] == 0 and all(x["false_matches"] == 0 for x in e.values()), o
PY
# --limit keeps the first videos (sorted by path) and frees the rest
$V eval video --related '' --edits recode --limit 1 --json "$G/h264.mp4" "$G/mpeg4.avi" > "$T/l.json"; check "--limit 1 exits 0" test $? -eq 0
check "... one video" python3 -c "import json; assert json.load(open('$T/l.json'))['videos'] == 1"
# without --related the two (one test pattern) match each other: false matches, counted
$V eval video --edits recode --json "$G/h264.mp4" "$G/mpeg4.avi" > "$T/f.json"
check "one source without --related: both ordered pairs match" python3 -c "
import json; o = json.load(open('$T/f.json')); assert o['unrelated_pairs'] == 2 and o['unrelated_pair_matches'] == 2, o
assert o['edits'][0]['false_matches'] == 2, o"

# a folder: non-videos skipped and counted, damaged videos fail (exit 1); -o DIR
$V eval video --related '' --edits recode,clip -o "$T/out" "$G" > "$T/table.txt" 2> "$T/err"; rc=$?
check "damaged videos in the folder: exit 1" test $rc -eq 1
check "they are named" grep -q "truncated-data.mp4" "$T/err"
check "table: a row per edit" test "$(grep -cE '^\| (recode|clip) \|' "$T/table.txt")" -eq 2
check "skipped count" grep -q "skipped 1 not videos" "$T/table.txt"
for f in report.md results.json false_matches.tsv recall_video.dat plots.gp; do
  check "-o wrote $f" test -s "$T/out/$f"
done
check "results.json parses" python3 -c "import json; json.load(open('$T/out/results.json'))"
if command -v gnuplot >/dev/null; then check "the plot" test -s "$T/out/recall_video.png"; fi

echo "eval_video: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
