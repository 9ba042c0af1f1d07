#!/bin/bash
# tests/cli/video.sh -- `vouch hash --algo vpdq` and the exact digests end to
# end: output shapes (text, JSON, -o DIR as the reference names files),
# frame selection, downscaling, rotation, damaged files, exit statuses.
# Videos: tests/golden/videos/ (made by tests/golden/make_videos.sh).
set -u
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
G=$SRC/tests/golden/videos
EX=$SRC/examples
. "$(dirname "$0")/lib/check.sh"
LINE='^[0-9]+,[0-9]{1,3},[0-9a-f]{64},[0-9]+\.[0-9]{3}$'

$V hash --help > "$T/help"; check "help mentions --seconds-per-hash" grep -q -- --seconds-per-hash "$T/help"
$V hash --seconds-per-hash 1 "$G/h264.mp4" 2>/dev/null; check "video options need --algo vpdq" test $? -eq 2
$V hash --algo vpdq --seconds-per-hash -1 "$G/h264.mp4" 2>/dev/null; check "negative seconds exit 2" test $? -eq 2
$V hash --algo vpdq --downsample x "$G/h264.mp4" 2>/dev/null; check "bad downsample exits 2" test $? -eq 2

# text: '# PATH', then one line per frame in the reference's format
$V hash --algo vpdq "$G/h264.mp4" > "$T/h264.txt"; check "h264 exits 0" test $? -eq 0
check "first line names the file" test "$(head -1 "$T/h264.txt")" = "# $G/h264.mp4"
check "12 frame lines" test "$(grep -cE "$LINE" "$T/h264.txt")" -eq 12
check "frames 0..11 with 12 fps timestamps" test "$(sed -n '2p;13p' "$T/h264.txt" | cut -d, -f1,4 | tr '\n' ' ')" = "0,0.000 11,0.917 "

# every container and codec of the golden set decodes, and frames agree
# across codecs (the same test pattern): frame 0 within distance 31 of H.264's
h0=$(sed -n 2p "$T/h264.txt" | cut -d, -f3)
for f in mpeg4.mkv mjpeg.mov mpeg4.avi ffv1.mkv vp9.webm anim.gif; do
  $V hash --algo vpdq "$G/$f" > "$T/o.txt"; check "$f exits 0" test $? -eq 0
  check "$f has 12 frames" test "$(grep -cE "$LINE" "$T/o.txt")" -eq 12
  h=$(sed -n 2p "$T/o.txt" | cut -d, -f3)
  check "$f frame 0 near h264's" python3 -c "assert bin(int('$h',16)^int('$h0',16)).count('1') <= 31"
done

# --seconds-per-hash 0.5 at 12 fps: every 6th frame
$V hash --algo vpdq --seconds-per-hash 0.5 "$G/h264.mp4" > "$T/half.txt"
check "one frame per half second" test "$(grep -E "$LINE" "$T/half.txt" | cut -d, -f1 | tr '\n' ' ')" = "0 6 "
check "selected frames hash as in the full run" test "$(sed -n 8p "$T/h264.txt")" = "$(sed -n 3p "$T/half.txt")"

# --downsample: other hashes, same frames
$V hash --algo vpdq --downsample 16 "$G/h264.mp4" > "$T/ds.txt"
check "downsampled: 12 frames" test "$(grep -cE "$LINE" "$T/ds.txt")" -eq 12
check "downsampled hash differs" test "$(sed -n 2p "$T/ds.txt")" != "$(sed -n 2p "$T/h264.txt")"

# rotation: the turned copy hashes differently unless told to ignore it
$V hash --algo vpdq "$G/rot90.mp4" | sed 1d > "$T/rot.txt"
$V hash --algo vpdq --no-rotate "$G/rot90.mp4" | sed 1d > "$T/norot.txt"
check "rotation applied" test "$(head -1 "$T/rot.txt")" != "$(sed -n 2p "$T/h264.txt")"
check "--no-rotate gives the stored frames" test "$(cat "$T/norot.txt")" = "$(sed 1d "$T/h264.txt")"

# JSON: one line per video with the issue's fields
$V hash --algo vpdq --json "$G/rot90.mp4" "$G/h264.mp4" > "$T/j"
check "two JSON lines" test "$(wc -l < "$T/j")" -eq 2
check "JSON fields" python3 - "$T/j" "$G" <<'PY'
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1])]
a, b = lines
assert a["path"] == sys.argv[2] + "/rot90.mp4" and a["algo"] == "vpdq"
assert (a["width"], a["height"]) == (32, 48) and (b["width"], b["height"]) == (48, 32)
assert abs(b["duration"] - 1.0) < 0.01
assert [f["frame"] for f in b["frames"]] == list(range(12))
f = b["frames"][11]
assert set(f) == {"frame", "quality", "hash", "seconds"} and abs(f["seconds"] - 0.917) < 1e-9
assert len(f["hash"]) == 64 and 0 <= f["quality"] <= 100
PY

# -o DIR: DIR/NAME.txt as the reference's -d (extension stripped), no stdout
mkdir "$T/out"
$V hash --algo vpdq -o "$T/out" "$G/h264.mp4" "$G/mpeg4.mkv" > "$T/stdout"; check "-o exits 0" test $? -eq 0
check "-o prints nothing" test ! -s "$T/stdout"
check "-o writes h264.txt = the text lines" test "$(cat "$T/out/h264.txt")" = "$(sed 1d "$T/h264.txt")"
check "-o writes mpeg4.txt" test -s "$T/out/mpeg4.txt"

# damaged and foreign files: clear errors, exit 2, the other files still hashed
$V hash --algo vpdq "$G/truncated-data.mp4" "$G/h264.mp4" > "$T/o" 2> "$T/e"; check "truncated exits 2" test $? -eq 2
check "truncated: corrupt or truncated" grep -q "truncated-data.mp4: corrupt or truncated video" "$T/e"
check "the good file still hashed" test "$(grep -cE "$LINE" "$T/o")" -eq 12
$V hash --algo vpdq "$G/truncated-half.mp4" 2> "$T/e"; check "half file exits 2" test $? -eq 2
check "half file: corrupt" grep -q "corrupt or truncated video" "$T/e"
$V hash --algo vpdq "$EX/wee.jpg" 2> "$T/e"; check "a photo is not a video (exit 2)" test $? -eq 2
check "photo: still image" grep -q "a still image" "$T/e"
mkdir "$T/mixed" && cp "$EX/wee.jpg" "$G/h264.mp4" "$T/mixed/"
$V hash --algo vpdq -r "$T/mixed" > "$T/o"; check "-r over photos and videos: exit 0" test $? -eq 0
check "-r hashes the video only" test "$(grep -c '^# ' "$T/o")" -eq 1
$V hash --algo vpdq "$G/not-video.txt" 2> "$T/e"; check "text file exits 2" test $? -eq 2
check "text file: not a video" grep -q "not a video we can decode" "$T/e"
$V hash --algo vpdq --json "$G/not-video.txt" 2>/dev/null > "$T/j"
check "JSON error line" python3 -c "
import json; e=[json.loads(l) for l in open('$T/j')]
assert [x['error'] for x in e] == ['not a video we can decode'] and e[0]['detail'], e"
$V hash --algo vpdq "$T/missing.mp4" 2>/dev/null; check "missing video exits 2" test $? -eq 2

# video index and matching: an index of two videos (one from its vPDQ file,
# one hashed on the spot); the same video's frames match it 100/100, an
# unrelated list matches nothing, thresholds apply
$V index video -o "$T/v.vidx" "$T/out/h264.txt" "$G/vp9.webm" > "$T/o"; check "index video exits 0" test $? -eq 0
check "index video counts" grep -q "2 videos, 24 frames" "$T/o"
$V match --vpdq --index "$T/v.vidx" "$G/h264.mp4" > "$T/m"; check "a known video matches (exit 1)" test $? -eq 1
check "it matches its own entry 100/100" grep -qP "^$G/h264.mp4\tmatch\t100.000\t100.000\tvideos\th264\$" "$T/m"
$V match --vpdq --index "$T/v.vidx" --json --hashes "$T/out/h264.txt" > "$T/m"
check "match --hashes JSON" python3 -c "
import json; m=[json.loads(l) for l in open('$T/m')]
assert m[0]['id']=='h264' and m[0]['match'] is True and m[0]['query_match']==100.0 and m[0]['index_frames']>0, m"
# the same list in python-threatexchange's JSON form
python3 - "$T/out/h264.txt" "$T/h264.json" <<'PY'
import json, sys
d = {}
for line in open(sys.argv[1]):
    f, q, h, s = line.strip().split(",")
    d[f] = {"quality": int(q), "hash": h, "timestamp": float(s)}
json.dump(d, open(sys.argv[2], "w"))
PY
$V match --vpdq --index "$T/v.vidx" --hashes "$T/h264.json" > "$T/m"; check "JSON list matches (exit 1)" test $? -eq 1
check "JSON list: h264 100/100" grep -qP "\tmatch\t100.000\t100.000\tvideos\th264\$" "$T/m"
printf '0,100,%064x,0.000\n' 7 > "$T/other.txt"
$V match --vpdq --index "$T/v.vidx" --hashes "$T/other.txt" > "$T/m"; check "an unrelated list: exit 0" test $? -eq 0
check "and prints nothing" test ! -s "$T/m"
$V match --vpdq --index "$T/v.vidx" --query-match 101 "$G/h264.mp4" 2>/dev/null; check "bad threshold exits 2" test $? -eq 2
$V match --vpdq --index "$T/v.vidx" "$G/not-video.txt" 2>/dev/null; check "a non-video query exits 2" test $? -eq 2

# a bank of videos: vPDQ files and videos in, the same video twice is one
# entry with both sources, hash lists refused, index build + match --vpdq
B=$T/b.sqlite
$V bank create --db "$B" --algo vpdq known; check "create a vpdq bank" test $? -eq 0
$V bank import --db "$B" known "$T/out/h264.txt" "$G/vp9.webm" --source partner-x 2> "$T/e"; check "import 2 videos" test $? -eq 0
check "2 added" grep -q "2 videos added, 0 already" "$T/e"
$V bank import --db "$B" known "$T/h264.json" --id h264 --source partner-y 2> "$T/e"
check "the same video as JSON merges" grep -q "0 videos added, 1 already" "$T/e"
check "bank list: vpdq, 2 entries" grep -qE "^known +vpdq +enabled +2 entries" <($V bank list --db "$B")
$V bank export --db "$B" known --format csv > "$T/x.csv"
check "export names both sources" grep -q "h264,\"partner-x,partner-y\"\|h264,partner-x,partner-y" "$T/x.csv"
printf '%064x\n' 5 > "$T/one.txt"
$V bank import --db "$B" known "$T/one.txt" 2>/dev/null; check "a hash list is not a video (exit 2)" test $? -eq 2
mkdir "$T/exp"
$V bank export --db "$B" known --videos "$T/exp" 2>/dev/null; check "export videos" test $? -eq 0
check "exported h264.txt = the imported vPDQ" test "$(cat "$T/exp/h264.txt")" = "$(cat "$T/out/h264.txt")"
check "exported vp9.txt" test -s "$T/exp/vp9.txt"
$V bank import --db "$B" known "$T/exp/h264.txt" --source partner-z 2> "$T/e"
check "re-importing the export merges" grep -q "0 videos added, 1 already" "$T/e"
# an id that is no plain file name is not used as one
$V bank import --db "$B" known "$T/other.txt" --id "../../evil" --source partner-w 2>/dev/null
mkdir "$T/exp2/" && $V bank export --db "$B" known --videos "$T/exp2" 2>/dev/null
check "unsafe id exported as entry-N.txt" bash -c "ls '$T/exp2' | grep -q '^entry-[0-9]*.txt\$' && test ! -e '$T/evil.txt'"
$V index build --db "$B" -o "$T/b.vidx" > /dev/null 2>&1; check "index build of a vpdq bank" test $? -eq 0
$V match --vpdq --index "$T/b.vidx" --json "$G/h264.mp4" > "$T/m"; check "match against the bank (exit 1)" test $? -eq 1
check "bank match names bank, id and 100/100" python3 -c "
import json; m=[json.loads(l) for l in open('$T/m')]
x=[r for r in m if r['id']=='h264'][0]; assert x['bank']=='known' and x['query_match']==100.0 and x['index_match']==100.0, m"
$V bank disable --db "$B" known --id h264 2>/dev/null && $V index build --db "$B" -o "$T/b.vidx" > /dev/null 2>&1
$V match --vpdq --index "$T/b.vidx" --json "$G/h264.mp4" > "$T/m"
check "a disabled video is not matched" python3 -c "
import json; assert all(json.loads(l)['id'] != 'h264' for l in open('$T/m'))"

# exact digests agree with coreutils on any file
for a in md5 sha1 sha256; do
  $V hash --algo $a "$G/h264.mp4" "$EX/wee.jpg" > "$T/d"; check "$a exits 0" test $? -eq 0
  check "$a = ${a}sum" test "$(cut -d' ' -f1 "$T/d")" = "$(${a}sum "$G/h264.mp4" "$EX/wee.jpg" | cut -d' ' -f1)"
  check "$a text shape" grep -qE "^[0-9a-f]+ - $EX/wee.jpg\$" "$T/d"
done
: > "$T/empty"
check "md5 of an empty file" test "$($V hash --algo md5 "$T/empty" | cut -d' ' -f1)" = d41d8cd98f00b204e9800998ecf8427e
$V hash --algo sha256 --json "$EX/wee.jpg" > "$T/j"
check "digest JSON" python3 -c "
import json; d=json.load(open('$T/j')); assert d['algo']=='sha256' and len(d['hash'])==64"
$V hash --algo sha1 "$T/missing" 2>/dev/null; check "missing file exits 2" test $? -eq 2

echo "$pass passed, $fail failed"
test $fail -eq 0
