#!/bin/bash
# tests/cli/vouchd_multi.sh -- one vouchd serving every signal type of its
# SQLite database (--index-dir DIR: DIR/ALGO.vidx per algorithm of the enabled
# banks, programs/httpd/index_dir.c): a database with pdq, vpdq and md5 banks;
# `vouch index build` refusing the mixed database without --algo/--out-dir
# and writing one index per algorithm with --out-dir; /v1/match and the HMA
# routes each answered from the index of their signal type; an entry added
# to each bank matchable after POST /v1/index/rebuild, after a CLI build and
# SIGHUP, and with --follow; a disabled bank's algorithm dropped; --index
# and --index-dir refused together.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
G=$SRC/tests/golden/videos
WEE=$SRC/examples/wee.jpg
. "$(dirname "$0")/lib/vouchd_harness.sh"
py() { python3 -c "import json,sys; o=json.load(open('$T/body')); $1"; }
jid() { python3 -c "import json; print(json.load(open('$T/body'))['id'])"; }
md5() { md5sum "$1" | cut -c1-32; }
rndpdq() { python3 -c "import random; random.seed($1); print('%064x' % random.getrandbits(256))"; }

DB=$T/db.sqlite
$V bank create --db "$DB" --algo pdq PHOTOS >/dev/null
$V bank create --db "$DB" --algo vpdq VIDEOS >/dev/null
$V bank create --db "$DB" --algo md5 FILES >/dev/null
ADMIN=$($D token create --db "$DB" --role admin --name admin)
MATCH=$($D token create --db "$DB" --role matcher --name matcher)
A="Authorization: Bearer $ADMIN"; M="Authorization: Bearer $MATCH"

# ---- the bank file: one photo, one video, one file digest
$V hash --json "$WEE" > "$T/wee.jsonl"
WEEH=$(python3 -c "import json; print(json.loads(open('$T/wee.jsonl').readline())['hash'])")
$V bank import --db "$DB" PHOTOS "$T/wee.jsonl" 2>/dev/null; check "import the photo" test $? = 0
$V bank import --db "$DB" VIDEOS "$G/h264.mp4" 2>/dev/null; check "import the video" test $? = 0
md5 "$G/mjpeg.mov" > "$T/md5.txt"
$V bank import --db "$DB" FILES "$T/md5.txt" 2>/dev/null; check "import the md5" test $? = 0

# ---- vouch index build on a mixed database
$V index build --db "$DB" -o "$T/all.vidx" 2> "$T/e"; check "one index of all banks: exit 2" test $? = 2
check "... the error names the algorithms and the options" \
  sh -c "grep -q 'pdq, vpdq, md5' '$T/e' && grep -q -- '--algo' '$T/e' && grep -q -- '--out-dir' '$T/e'"
$V index build --db "$DB" --algo video_md5 -o "$T/md5.vidx" > "$T/o"; check "--algo video_md5" test $? = 0
check "... an md5 index of 1 entry" sh -c "$V index info '$T/md5.vidx' | grep -q 'md5, 1 entries'"
$V index build --db "$DB" --out-dir "$T/ix" > "$T/o"; check "--out-dir" test $? = 0
check "... pdq.vidx, vpdq.vidx, md5.vidx" sh -c "ls '$T/ix' | tr '\n' ' ' | grep -qx 'md5.vidx pdq.vidx vpdq.vidx '"
check "... vpdq.vidx holds the video's frames (a PDQ index)" sh -c "$V index info '$T/ix/vpdq.vidx' | grep -q 'pdq, [1-9][0-9]* entries'"

"$D" --db "$DB" --index "$T/x.vidx" --index-dir "$T/ix" --port-file "$T/p0" 2>/dev/null
check "--index with --index-dir: exit 2" test $? = 2

start() { # start DIR [ARGS...]: vouchd on $DB with --index-dir DIR; its URL in $U
  local dir=$1; shift
  rm -f "$T/port"
  "$D" --db "$DB" --index-dir "$dir" --listen 127.0.0.1:0 --port-file "$T/port" --threads 2 --max-body 4000000 \
       --no-access-log "$@" 2>> "$T/log" &
  PID=$!
  for i in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
  U=http://127.0.0.1:$(cat "$T/port")
}
start "$T/ix"

# ---- every signal type from one process
# (vouchd's start wrote to the database after the CLI build: the indexes look stale until rebuilt)
check "/status?format=json" sh -c "c=\$(curl -s -o '$T/body' -w '%{http_code}' '$U/status?format=json'); [ \$c = 200 ] || [ \$c = 503 ]"
check "... the three indexes loaded at start" py 'i=o["indexes"]; assert sorted(i)==["md5","pdq","vpdq"] and i["pdq"]["entries"]==1 and i["md5"]["entries"]==1 and i["vpdq"]["video"] is True and i["vpdq"]["entries"]>=1, o'
check "v1 match pdq hashes" test "$(code -H "$M" -X POST -H 'Content-Type: application/json' -d "{\"hashes\":[\"$WEEH\"]}" "$U/v1/match")" = 200
check "... PHOTOS" py 'assert o["algo"]=="pdq" and o["results"][0]["matches"][0]["bank"]=="PHOTOS", o'
check "v1 match a photo" test "$(code -H "$M" -X POST --data-binary @"$WEE" "$U/v1/match")" = 200
check "... PHOTOS" py 'assert o["results"][0]["matches"][0]["bank"]=="PHOTOS", o'
check "v1 match a video (vpdq)" test "$(code -H "$M" -X POST --data-binary @"$G/h264.mp4" "$U/v1/match?algo=vpdq")" = 200
check "... VIDEOS" py 'assert [v["bank"] for v in o["videos"] if v["match"]]==["VIDEOS"], o'
check "v1 match a video's md5 (video_md5)" test "$(code -H "$M" -X POST --data-binary @"$G/mjpeg.mov" "$U/v1/match?algo=video_md5")" = 200
check "... FILES" py 'assert o["algo"]=="md5" and o["results"][0]["matches"][0]["bank"]=="FILES", o'
check "v1 match another video's md5: none" test "$(code -H "$M" -X POST --data-binary @"$G/vp9.webm" "$U/v1/match?algo=md5")" = 200
check "... no match" py 'assert o["results"][0]["matches"]==[], o'
check "v1 match sha1 (no such index) 409" test "$(code -H "$M" -X POST --data-binary @"$WEE" "$U/v1/match?algo=sha1")" = 409

check "hma raw_lookup pdq" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$WEEH")" = 200
check "... one match" py 'assert len(o["matches"])==1, o'
check "hma raw_lookup video_md5" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=video_md5&signal=$(md5 "$G/mjpeg.mov")")" = 200
check "... one match" py 'assert len(o["matches"])==1, o'
check "hma hash h264.mp4" test "$(code -H "$M" -F "video=@$G/h264.mp4" "$U/h/hash")" = 200
H264=$(python3 -c "import json; print(json.load(open('$T/body'))['vpdq'])")
check "hma raw_lookup vpdq" test "$(code -H "$M" -G --data-urlencode "signal=$H264" "$U/m/raw_lookup?signal_type=vpdq")" = 200
check "... one match" py 'assert len(o["matches"])==1, o'
check "hma lookup POST a photo" test "$(code -H "$M" -F "photo=@$WEE" "$U/m/lookup")" = 200
check "... {pdq:{PHOTOS:[...]}}" py 'assert list(o["pdq"])==["PHOTOS"], o'
check "hma lookup POST h264.mp4" test "$(code -H "$M" -F "video=@$G/h264.mp4" "$U/m/lookup")" = 200
check "... vpdq VIDEOS, video_md5 none" py 'assert list(o["vpdq"])==["VIDEOS"] and o["video_md5"]=={}, o'
check "hma lookup POST mjpeg.mov" test "$(code -H "$M" -F "video=@$G/mjpeg.mov" "$U/m/lookup")" = 200
check "... video_md5 FILES" py 'assert list(o["video_md5"])==["FILES"], o'
check "rebuild" test "$(code -H "$A" -X POST "$U/v1/index/rebuild")" = 200
check "/readyz READY" test "$(code "$U/readyz")" = 200
check "hma index/status" test "$(code -H "$M" "$U/m/index/status")" = 200
check "... all three present, one each" py 'assert all(o[t]["present"] and o[t]["size"]==1 and o[t]["built_to"]>0 for t in ("pdq","vpdq","video_md5")), o'
check "hma signal_type/index" test "$(code -H "$M" "$U/c/signal_type/index")" = 200
check "... db_size = index_size, up to date" py 'assert all(o[t]["db_size"]==1 and o[t]["index_size"]==1 and not o[t]["index_out_of_date"] for t in ("pdq","vpdq","video_md5")), o'

# ---- an entry added to each bank: matchable after POST /v1/index/rebuild
P2=$(rndpdq 2)
check "add a pdq signal" test "$(code -H "$A" -X POST -d "{\"pdq\":\"$P2\"}" "$U/c/bank/PHOTOS/signal")" = 200
check "add a video" test "$(code -H "$A" -F "video=@$G/mjpeg.mov" "$U/c/bank/VIDEOS/content")" = 200
VP9=$(md5 "$G/vp9.webm")
check "add a video_md5 signal" test "$(code -H "$A" -X POST -d "{\"video_md5\":\"$VP9\"}" "$U/c/bank/FILES/signal")" = 200
check "/status stale: 503" test "$(code "$U/status")" = 503
check "... before the rebuild the new md5 does not match" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=video_md5&signal=$VP9")" = 200
check "... no match" py 'assert o["matches"]==[], o'
check "rebuild" test "$(code -H "$A" -X POST "$U/v1/index/rebuild")" = 200
check "... each algorithm's index" py 'i=o["indexes"]; assert sorted(i)==["md5","pdq","vpdq"] and i["pdq"]["entries"]==2 and i["md5"]["entries"]==2 and o["entries"]==sum(x["entries"] for x in i.values()), o'
check "/metrics: each index's entries by algorithm" sh -c "curl -s '$U/metrics' > '$T/metrics' && grep -q '^vouchd_index_algo_entries{algo=\"pdq\"} 2\$' '$T/metrics' && grep -q '^vouchd_index_algo_entries{algo=\"md5\"} 2\$' '$T/metrics' && grep -q '^vouchd_index_algo_entries{algo=\"vpdq\"} [1-9]' '$T/metrics'"
check "a bank selection 400 with --index-dir" test "$(code -H "$A" -X POST -d '{"banks":["PHOTOS"]}' "$U/v1/index/rebuild")" = 400
check "/status 200 again" test "$(code "$U/status")" = 200
check "new pdq matches" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$P2")" = 200
check "... one" py 'assert len(o["matches"])==1, o'
check "new md5 matches" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=video_md5&signal=$VP9")" = 200
check "... one" py 'assert len(o["matches"])==1, o'
check "new video matches (v1)" test "$(code -H "$M" -X POST --data-binary @"$G/mjpeg.mov" "$U/v1/match?algo=vpdq")" = 200
check "... VIDEOS" py 'assert [v["bank"] for v in o["videos"] if v["match"]]==["VIDEOS"], o'
check "old photo still matches" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$WEEH")" = 200
check "... one" py 'assert len(o["matches"])==1, o'

# ---- a CLI build into the directory and SIGHUP
P3=$(rndpdq 3)
echo "$P3 p3" > "$T/p3.txt"
$V bank import --db "$DB" PHOTOS "$T/p3.txt" 2>/dev/null
$V index build --db "$DB" --out-dir "$T/ix" > /dev/null
kill -HUP "$PID"
ok=0; for i in $(seq 1 50); do
  [ "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$P3")" = 200 ] && py 'assert len(o["matches"])==1' 2>/dev/null && { ok=1; break; }
  sleep 0.1; done
check "SIGHUP reloads every DIR/ALGO.vidx: the new pdq matches" test $ok = 1

# ---- a disabled bank: its algorithm's index goes
check "disable FILES" test "$(code -H "$A" -X PUT -d '{"enabled":false}' "$U/c/bank/FILES")" = 200
check "rebuild" test "$(code -H "$A" -X POST "$U/v1/index/rebuild")" = 200
check "... no md5 index" py 'assert sorted(o["indexes"])==["pdq","vpdq"], o'
check "... md5.vidx removed" test ! -e "$T/ix/md5.vidx"
cp "$T/md5.vidx" "$T/ix/md5.vidx"; cp "$T/md5.vidx" "$T/ix/sha1.vidx"; echo keep > "$T/ix/notes.txt"
$V index build --db "$DB" --out-dir "$T/ix" > "$T/o"; check "the CLI's --out-dir also removes them" test $? = 0
check "... md5.vidx and sha1.vidx gone, other files kept" \
  sh -c "ls '$T/ix' | tr '\n' ' ' | grep -qx 'notes.txt pdq.vidx vpdq.vidx ' && grep -q 'md5.vidx: removed' '$T/o'"
check "video_md5 lookups: no index 503" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=video_md5&signal=$VP9")" = 503
check "pdq still matches" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$WEEH")" = 200
check "... one" py 'assert len(o["matches"])==1, o'
check "enable FILES" test "$(code -H "$A" -X PUT -d '{"enabled":true}' "$U/c/bank/FILES")" = 200
kill "$PID"; wait "$PID" 2>/dev/null; PID=

# ---- --follow: a fresh directory built at start, then every change followed
start "$T/ix2" --follow
wait_match() { # wait_match NAME URL...: up to 10 s for a 200 with one match (or $WANT_ID among them)
  local n=$1; shift; local ok=0
  for i in $(seq 1 100); do
    [ "$(code -H "$M" "$@")" = 200 ] &&
      py "assert ${WANT_ID:+$WANT_ID in o['matches'] and }${WANT_ID:-len(o['matches'])==1}" 2>/dev/null && { ok=1; break; }
    sleep 0.1; done
  check "$n" test $ok = 1
}
wait_match "follow: the indexes are built at start (md5)" "$U/m/raw_lookup?signal_type=video_md5&signal=$VP9"
check "... three files" sh -c "ls '$T/ix2' | tr '\n' ' ' | grep -qx 'md5.vidx pdq.vidx vpdq.vidx '"
P4=$(rndpdq 4)
check "add a pdq signal" test "$(code -H "$A" -X POST -d "{\"pdq\":\"$P4\"}" "$U/c/bank/PHOTOS/signal")" = 200
H4=$(md5 "$G/h264.mp4")
check "add a video_md5 signal" test "$(code -H "$A" -X POST -d "{\"video_md5\":\"$H4\"}" "$U/c/bank/FILES/signal")" = 200
check "add a video" test "$(code -H "$A" -F "video=@$G/vp9.webm" "$U/c/bank/VIDEOS/content")" = 200
VID=$(jid)
wait_match "follow: the new pdq matches" "$U/m/raw_lookup?signal_type=pdq&signal=$P4"
wait_match "follow: the new md5 matches" "$U/m/raw_lookup?signal_type=video_md5&signal=$H4"
check "hma hash vp9.webm" test "$(code -H "$M" -F "video=@$G/vp9.webm" "$U/h/hash")" = 200
VP9V=$(python3 -c "import json; print(json.load(open('$T/body'))['vpdq'])")
WANT_ID=$VID wait_match "follow: the new video matches" -G --data-urlencode "signal=$VP9V" "$U/m/raw_lookup?signal_type=vpdq"
check "server still up" test "$(code "$U/healthz")" = 200
kill "$PID"; wait "$PID" 2>/dev/null; PID=
check "no sanitizer report" sh -c "! grep -q 'Sanitizer' '$T/log'"
echo "vouchd_multi: $pass passed, $fail failed"
[ "$fail" = 0 ]
