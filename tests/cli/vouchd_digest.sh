#!/bin/bash
# tests/cli/vouchd_digest.sh -- vouchd serving an index of exact file
# digests: POST /v1/match with any file body (its digest is looked up),
# with {"hashes":[...]} JSON, ?algo= checked against the index; a digest
# bank created and filled over HTTP.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
G=$SRC/tests/golden/videos
. "$(dirname "$0")/lib/vouchd_harness.sh"
DB=$T/db.sqlite
$V bank create --db "$DB" --algo md5 known >/dev/null
printf 'id,video_md5\nh264,%s\n' "$(md5sum "$G/h264.mp4" | cut -c1-32)" > "$T/l.csv"
$V bank import --db "$DB" known "$T/l.csv" --source org-a >/dev/null 2>&1
$V index build --db "$DB" -o "$T/idx.vidx" >/dev/null 2>&1
MATCH=$($D token create --db "$DB" --role matcher --name matcher)
ADMIN=$($D token create --db "$DB" --role admin --name admin)
M="Authorization: Bearer $MATCH"
A="Authorization: Bearer $ADMIN"
$D --db "$DB" --index "$T/idx.vidx" --listen 127.0.0.1:0 --port-file "$T/port" --threads 2 2>> "$T/log" &
PID=$!
for i in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
U=http://127.0.0.1:$(cat "$T/port")

check "match a video body (200)" test "$(code -H "$M" -X POST --data-binary @$G/h264.mp4 "$U/v1/match")" = 200
check "found by its md5" python3 -c "
import json; o=json.load(open('$T/body')); r=o['results']; assert o['algo']=='md5' and o['radius']==0 and len(r)==1, o
m=r[0]['matches']; assert r[0]['hash']=='$(md5sum "$G/h264.mp4" | cut -c1-32)' and len(m)==1, o
assert m[0]['bank']=='known' and m[0]['id']=='h264' and m[0]['source']=='org-a' and m[0]['distance']==0, o"
check "?algo=md5 (200)" test "$(code -H "$M" -X POST --data-binary @$G/h264.mp4 "$U/v1/match?algo=md5")" = 200
check "another file (200)" test "$(code -H "$M" -X POST --data-binary @$G/vp9.webm "$U/v1/match?algo=video_md5")" = 200
check "matches nothing" python3 -c "import json; assert json.load(open('$T/body'))['results'][0]['matches'] == []"
printf '{"x":1}' > "$T/brace.txt"
check "a body starting with { is a file too (200)" test "$(code -H "$M" -X POST --data-binary @$T/brace.txt "$U/v1/match")" = 200
check "JSON hashes (200)" test "$(code -H "$M" -H 'Content-Type: application/json' -X POST \
  --data "{\"hashes\":[\"$(md5sum "$G/h264.mp4" | cut -c1-32)\",\"$(md5sum "$G/vp9.webm" | cut -c1-32)\"]}" "$U/v1/match")" = 200
check "the first of two matches" python3 -c "
import json; r=json.load(open('$T/body'))['results']; assert len(r[0]['matches'])==1 and r[1]['matches']==[], r"
check "a pdq hash in JSON 400" test "$(code -H "$M" -H 'Content-Type: application/json' -X POST \
  --data "{\"hashes\":[\"$(printf '%064x' 1)\"]}" "$U/v1/match")" = 400
check "?algo=sha1 on an md5 index 409" test "$(code -H "$M" -X POST --data-binary @$G/h264.mp4 "$U/v1/match?algo=sha1")" = 409
check "?radius=1 400" test "$(code -H "$M" -X POST --data-binary @$G/h264.mp4 "$U/v1/match?radius=1")" = 400
check "md5 hash (200)" test "$(code -H "$M" -X POST --data-binary @$G/vp9.webm "$U/v1/hash?algo=md5")" = 200
check "equals md5sum" grep -q "$(md5sum "$G/vp9.webm" | cut -c1-32)" "$T/body"
# a sha1 bank over HTTP: create, import a list
check "create a sha1 bank (201)" test "$(code -H "$A" -X POST --data '{"name":"s1","algo":"sha1"}' "$U/v1/banks")" = 201
printf 'sha1 %s\n' "$(sha1sum "$G/vp9.webm" | cut -c1-40)" > "$T/s.txt"
check "import into it (200)" test "$(code -H "$A" -X POST --data-binary @$T/s.txt "$U/v1/banks/s1/import?source=x")" = 200
check "1 added" python3 -c "import json; o=json.load(open('$T/body')); assert o['added']==1, o"
check "server alive" kill -0 "$PID"
kill -TERM "$PID"; wait "$PID" 2>/dev/null; PID=
echo "vouchd_digest: $pass passed, $fail failed"
test $fail -eq 0
