#!/bin/bash
# tests/cli/vouchd_video.sh -- POST /v1/hash with a video body (algo=vpdq)
# and exact digests (algo=md5|sha1|sha256): the same answers as the CLI,
# clear errors for damaged and foreign bodies.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
G=$SRC/tests/golden/videos
. "$(dirname "$0")/lib/vouchd_harness.sh"
DB=$T/db.sqlite
# the served index: a bank of two videos
$V bank create --db "$DB" --algo vpdq known >/dev/null
$V bank import --db "$DB" known "$G/h264.mp4" "$G/mjpeg.mov" --source org-a >/dev/null 2>&1
$V index build --db "$DB" -o "$T/idx.vidx" >/dev/null 2>&1
MATCH=$($D token create --db "$DB" --role matcher --name matcher)
M="Authorization: Bearer $MATCH"
$D --db "$DB" --index "$T/idx.vidx" --listen 127.0.0.1:0 --port-file "$T/port" --threads 2 2>> "$T/log" &
PID=$!
for i in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
U=http://127.0.0.1:$(cat "$T/port")

check "vpdq of a video (200)" test "$(code -H "$M" -X POST --data-binary @$G/h264.mp4 "$U/v1/hash?algo=vpdq")" = 200
$V hash --algo vpdq --json "$G/h264.mp4" > "$T/cli.json"
check "same frames as the CLI" python3 - "$T/body" "$T/cli.json" <<'PY'
import json, sys
a = json.load(open(sys.argv[1])); b = json.load(open(sys.argv[2]))
assert a["algo"] == "vpdq" and (a["width"], a["height"]) == (48, 32)
assert [(f["frame"], f["quality"], f["hash"], f["seconds"]) for f in a["frames"]] == \
       [(f["frame"], f["quality"], f["hash"], f["seconds"]) for f in b["frames"]]
PY
check "seconds_per_hash=0.5 (200)" test "$(code -H "$M" -X POST --data-binary @$G/h264.mp4 "$U/v1/hash?algo=vpdq&seconds_per_hash=0.5")" = 200
check "frames 0 and 6" python3 -c "import json; assert [f['frame'] for f in json.load(open('$T/body'))['frames']] == [0, 6]"
check "downsample=16 (200)" test "$(code -H "$M" -X POST --data-binary @$G/vp9.webm "$U/v1/hash?algo=vpdq&downsample=16")" = 200
check "bad seconds_per_hash 400" test "$(code -H "$M" -X POST --data-binary @$G/h264.mp4 "$U/v1/hash?algo=vpdq&seconds_per_hash=x")" = 400
check "truncated video 422" test "$(code -H "$M" -X POST --data-binary @$G/truncated-data.mp4 "$U/v1/hash?algo=vpdq")" = 422
check "says truncated" grep -q "truncated" "$T/body"
check "text body 415" test "$(code -H "$M" -X POST --data-binary @$G/not-video.txt "$U/v1/hash?algo=vpdq")" = 415
printf '#EXTM3U\n#EXTINF:1,\nh264.mp4\n' > "$T/p.m3u8"
check "playlist refused 415" test "$(code -H "$M" -X POST --data-binary @$T/p.m3u8 "$U/v1/hash?algo=vpdq")" = 415
check "no token 401" test "$(code -X POST --data-binary @$G/h264.mp4 "$U/v1/hash?algo=vpdq")" = 401
for a in md5 sha1 sha256; do
  check "$a (200)" test "$(code -H "$M" -X POST --data-binary @$G/h264.mp4 "$U/v1/hash?algo=$a")" = 200
  check "$a = ${a}sum" python3 -c "
import json; o=json.load(open('$T/body')); assert o['algo']=='$a' and o['hash']=='$(${a}sum "$G/h264.mp4" | cut -d' ' -f1)', o"
done
# POST /v1/match?algo=vpdq: a video, or a vPDQ list, against the bank's videos
check "match a video (200)" test "$(code -H "$M" -X POST --data-binary @$G/h264.mp4 "$U/v1/match?algo=vpdq")" = 200
check "h264 matches itself 100/100" python3 -c "
import json; o=json.load(open('$T/body')); v=[x for x in o['videos'] if x['id']=='h264'][0]
assert o['query_frames'] > 0 and v['match'] is True and v['query_match'] == 100.0 and v['index_match'] == 100.0
assert v['bank'] == 'known' and v['source'] == 'org-a', o"
$V hash --algo vpdq "$G/h264.mp4" | sed 1d > "$T/h264.txt"
check "match a vPDQ list (200)" test "$(code -H "$M" -X POST --data-binary @$T/h264.txt "$U/v1/match?algo=vpdq")" = 200
check "the list matches h264" python3 -c "
import json; o=json.load(open('$T/body')); assert any(x['id']=='h264' and x['match'] for x in o['videos']), o"
printf '0,100,%064x,0.000\n' 7 > "$T/other.txt"
check "an unrelated list (200)" test "$(code -H "$M" -X POST --data-binary @$T/other.txt "$U/v1/match?algo=vpdq")" = 200
check "matches nothing" python3 -c "import json; assert json.load(open('$T/body'))['videos'] == []"
check "query_match=101 400" test "$(code -H "$M" -X POST --data-binary @$T/h264.txt "$U/v1/match?algo=vpdq&query_match=101")" = 400
check "a text body that is neither 415" test "$(code -H "$M" -X POST --data-binary @$G/not-video.txt "$U/v1/match?algo=vpdq")" = 415
check "images still hash (200)" test "$(code -H "$M" -X POST --data-binary @$SRC/examples/wee.jpg "$U/v1/hash")" = 200
check "server alive" kill -0 "$PID"
kill -TERM "$PID"; wait "$PID" 2>/dev/null; PID=
echo "$pass passed, $fail failed"
test $fail -eq 0
