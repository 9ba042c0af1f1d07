#!/bin/bash
# tests/cli/vouchd_multi_pg.sh -- two vouchd replicas with --index-dir on one
# PostgreSQL database (lib/pg_harness.sh) whose banks hold pdq, vpdq and md5
# hashes: each replica follows one index per algorithm (replica.c: a
# follower, snapshot thread and published snapshots per algorithm) and
# answers every signal type, /v1 and HMA routes; a pdq and an md5 entry
# added through one replica match on both within 5 s as a delta (the
# snapshots stay), a video within 20 s (video frames need a new snapshot
# of the vpdq index only); a
# bank of a new algorithm (sha256) gets its own index and loses it when
# disabled; a replica killed with -9 and restarted answers the same.
# Skipped (77) only when the PostgreSQL server binaries or curl are absent.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
G=$SRC/tests/golden/videos
WEE=$SRC/examples/wee.jpg
HERE=$(cd "$(dirname "$0")" && pwd)
command -v curl >/dev/null || { echo "curl not installed; skipping"; exit 77; }
. "$HERE/lib/check.sh"
. "$HERE/lib/pg_harness.sh"
pg_start
PIDS=(0 0)
stop_all() { for p in "${PIDS[@]}"; do [ "$p" != 0 ] && kill -9 "$p" 2>/dev/null; done; }
trap 'stop_all; pg_stop' EXIT
md5() { md5sum "$1" | cut -c1-32; }

pg_createdb multi
DB=$(pg_uri multi)
$V bank create --db "$DB" --algo pdq PHOTOS >/dev/null 2>&1
$V bank create --db "$DB" --algo vpdq VIDEOS >/dev/null 2>&1
$V bank create --db "$DB" --algo md5 FILES >/dev/null 2>&1
$V hash --json "$WEE" > "$T/wee.jsonl"
WEEH=$(python3 -c "import json; print(json.loads(open('$T/wee.jsonl').readline())['hash'])")
$V bank import --db "$DB" PHOTOS "$T/wee.jsonl" >/dev/null 2>&1
$V bank import --db "$DB" VIDEOS "$G/h264.mp4" >/dev/null 2>&1
md5 "$G/mjpeg.mov" > "$T/md5.txt"
$V bank import --db "$DB" FILES "$T/md5.txt" >/dev/null 2>&1
ADMIN=$($D token create --db "$DB" --role admin --name admin)
MATCH=$($D token create --db "$DB" --role matcher --name matcher)
A="Authorization: Bearer $ADMIN" M="Authorization: Bearer $MATCH"

start() { # start K
  rm -f "$T/port$1"
  $D --db "$DB" --index-dir "$T/ix$1" --listen 127.0.0.1:0 --port-file "$T/port$1" --threads 2 --max-body 4000000 \
     --no-access-log 2>>"$T/log$1" &
  PIDS[$1]=$!
  for i in $(seq 1 200); do [ -s "$T/port$1" ] && break; sleep 0.05; done
  eval "U$1=http://127.0.0.1:$(cat "$T/port$1")"
}
url() { eval echo "\$U$1"; }
ready() { test "$(curl -s -o /dev/null -w '%{http_code}' "$(url "$1")/readyz")" = 200; }
get() { curl -s --max-time 20 -H "$M" "$@"; }
# lookups K: one line per signal type, the ids of its matches
raw() { get "$(url "$1")/m/raw_lookup?signal_type=$2&signal=$3" | python3 -c 'import json,sys; print(sorted(json.load(sys.stdin)["matches"]))' 2>/dev/null; }
# within S CMD...: polls CMD until it succeeds, at most S seconds
within() {
  local end=$(($(date +%s%N) + $1 * 1000000000)); shift
  while [ "$(date +%s%N)" -lt $end ]; do "$@" && return 0; sleep 0.1; done
  return 1
}
has_match() { [ "$(raw "$1" "$2" "$3")" != "[]" ] && [ -n "$(raw "$1" "$2" "$3")" ]; }
status_py() { curl -s "$(url "$1")/status?format=json" | python3 -c "import json,sys; o=json.load(sys.stdin); $2" 2>/dev/null; }

start 0
start 1
for k in 0 1; do
  check "replica $k ready (three indexes followed)" within 30 ready $k
  check "... /status lists followers and indexes of pdq, vpdq, md5" status_py $k \
    'assert sorted(o["followers"])==["md5","pdq","vpdq"] and sorted(o["indexes"])==["md5","pdq","vpdq"] and o["index_seq"]==o["db_seq"], o'
  check "... v1 pdq match" sh -c "curl -s -H '$M' -X POST -d '{\"hashes\":[\"$WEEH\"]}' $(url $k)/v1/match | grep -q PHOTOS"
  check "... v1 video match" sh -c "curl -s -H '$M' -X POST --data-binary @$G/h264.mp4 '$(url $k)/v1/match?algo=vpdq' | grep -q VIDEOS"
  check "... v1 md5 match" sh -c "curl -s -H '$M' -X POST --data-binary @$G/mjpeg.mov '$(url $k)/v1/match?algo=video_md5' | grep -q FILES"
  check "... hma pdq" has_match $k pdq "$WEEH"
  check "... hma video_md5" has_match $k video_md5 "$(md5 "$G/mjpeg.mov")"
  check "... hma lookup POST a video: vpdq VIDEOS" sh -c "curl -s -H '$M' -F video=@$G/h264.mp4 $(url $k)/m/lookup | grep -q '\"vpdq\": *{\"VIDEOS\"'"
done
# published snapshots: one per algorithm, built once (by one replica) and fetched by the other
check "one snapshot build or fetch per algorithm in the logs" \
  sh -c "for a in pdq vpdq md5; do cat '$T/log0' '$T/log1' | grep -q \"follow: \$a snapshot\" || exit 1; done"
ROOT_PDQ=$(status_py 0 'print(o["followers"]["pdq"]["snapshot_root"])')

# ---- a pdq and an md5 entry through replica 0: a delta on both replicas
P2=$(python3 -c "import random; random.seed(7); print('%064x' % random.getrandbits(256))")
check "add a pdq signal" test "$(curl -s -o /dev/null -w '%{http_code}' -H "$A" -X POST -d "{\"pdq\":\"$P2\"}" "$U0/c/bank/PHOTOS/signal")" = 200
VP9=$(md5 "$G/vp9.webm")
check "add a video_md5 signal" test "$(curl -s -o /dev/null -w '%{http_code}' -H "$A" -X POST -d "{\"video_md5\":\"$VP9\"}" "$U0/c/bank/FILES/signal")" = 200
for k in 0 1; do
  check "replica $k: the new pdq within 5 s" within 5 has_match $k pdq "$P2"
  check "replica $k: the new md5 within 5 s" within 5 has_match $k video_md5 "$VP9"
done
check "... as a delta: the pdq snapshot is the same" status_py 1 \
  'assert o["followers"]["pdq"]["snapshot_root"]=="'"$ROOT_PDQ"'" and o["followers"]["pdq"]["delta_entries"]>=1 and o["followers"]["md5"]["delta_entries"]>=1, o'

# ---- a video: its frames need a new vpdq snapshot
SEQ_PDQ=$(status_py 1 'print(o["followers"]["pdq"]["snapshot_seq"])')
check "add a video through replica 1" test "$(curl -s -o "$T/v.json" -w '%{http_code}' -H "$A" -F "video=@$G/vp9.webm" "$U1/c/bank/VIDEOS/content")" = 200
VID=$(python3 -c "import json; print(json.load(open('$T/v.json'))['id'])")
curl -s -H "$M" -F "video=@$G/vp9.webm" "$U0/h/hash" > "$T/h.json"
VP9V=$(python3 -c "import json; print(json.load(open('$T/h.json'))['vpdq'])")
vid_on() { curl -s -G -H "$M" --data-urlencode "signal=$VP9V" "$(url "$1")/m/raw_lookup?signal_type=vpdq" | python3 -c "import json,sys; assert $VID in json.load(sys.stdin)['matches']" 2>/dev/null; }
for k in 0 1; do check "replica $k: the new video within 20 s" within 20 vid_on $k; done
check "... the pdq index kept its snapshot (video frames need only the vpdq one's)" status_py 1 \
  'f=o["followers"]["pdq"]; assert f["snapshot_seq"]=='"$SEQ_PDQ"' and f["delta_entries"]>=1 and o["followers"]["vpdq"]["snapshot_seq"]>'"$SEQ_PDQ"', o'
for k in 0 1; do check "replica $k: the older entries still match" sh -c "$(declare -f raw has_match url get); M='$M' U0='$U0' U1='$U1'; has_match $k pdq $WEEH && has_match $k video_md5 $VP9"; done

# ---- a bank of a new algorithm gets its own index; disabled, it goes
sha256sum "$WEE" | cut -c1-64 > "$T/sha.txt"
$V bank create --db "$DB" --algo sha256 DIGESTS >/dev/null 2>&1
$V bank import --db "$DB" DIGESTS "$T/sha.txt" >/dev/null 2>&1
sha_on() { curl -s -H "$M" -X POST --data-binary @"$WEE" "$(url "$1")/v1/match?algo=sha256" | grep -q DIGESTS; }
for k in 0 1; do check "replica $k: a sha256 index within 20 s" within 20 sha_on $k; done
check "... and a follower for it" status_py 0 'assert "sha256" in o["followers"], o'
check "disable the sha256 bank" test "$(curl -s -o /dev/null -w '%{http_code}' -H "$A" -X PUT -d '{"enabled":false}' "$U0/c/bank/DIGESTS")" = 200
no_sha() { test "$(curl -s -o /dev/null -w '%{http_code}' -H "$M" -X POST --data-binary @"$WEE" "$(url "$1")/v1/match?algo=sha256")" = 409; }
for k in 0 1; do check "replica $k: no sha256 index within 20 s (409)" within 20 no_sha $k; done
check "... its follower gone" status_py 1 'assert sorted(o["followers"])==["md5","pdq","vpdq"], o'
for k in 0 1; do check "replica $k ready again within 20 s" within 20 ready $k; done

# ---- kill -9 and restart: the same answers
kill -9 "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null; PIDS[1]=0
start 1
check "restarted replica ready within 20 s" within 20 ready 1
for t in "pdq $P2" "pdq $WEEH" "video_md5 $VP9" "video_md5 $(md5 "$G/mjpeg.mov")"; do
  set -- $t
  check "restarted replica answers $1 as replica 0" test "$(raw 1 "$1" "$2")" = "$(raw 0 "$1" "$2")"
done
check "... and finds the new video" vid_on 1
stop_all; PIDS=(0 0)
check "no sanitizer report" sh -c "! grep -q 'Sanitizer' '$T/log0' '$T/log1'"
echo "vouchd_multi_pg: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
