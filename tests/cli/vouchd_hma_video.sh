#!/bin/bash
# tests/cli/vouchd_hma_video.sh -- HMA's vpdq signal type on vouchd's HMA
# routes (programs/httpd/routes_hma.c, docs/hma.md): a bank of videos made
# and filled through /c/, hashing a video upload on /h/hash, lookups of a
# vpdq signal (python-threatexchange's JSON) and of an uploaded video, and
# /m/compare, against an index of video frames; the pdq signal type is not
# served by such an index.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
G=$SRC/tests/golden/videos
. "$(dirname "$0")/lib/vouchd_harness.sh"
. "$(dirname "$0")/lib/hma_server.sh"

# the CLI's vPDQ of the videos at HMA's one frame per second, as "HEX,QUALITY" pairs
cli_frames() { $V hash --algo vpdq --seconds-per-hash 1 "$1" | grep -v '^#' | awk -F, '{print $3","$2}'; }
cli_frames "$G/h264.mp4" > "$T/h264.cli"
cli_frames "$G/mjpeg.mov" > "$T/mjpeg.cli"
# an HMA vpdq signal's frames as "HEX,QUALITY" lines
frames_of() { python3 -c "import json,sys; [print(','.join(s.split(',')[:2])) for s in json.loads(sys.argv[1])]" "$1"; }

# ---- a bank of videos (vouch's "signal_type" on bank creation)
check "create a vpdq bank 201" test "$(code -H "$A" -X POST -d '{"name":"VIDEO_BANK","signal_type":"vpdq"}' $U/c/banks)" = 201
check "unknown bank signal_type 400" test "$(code -H "$A" -X POST -d '{"name":"X_BANK","signal_type":"tmk"}' $U/c/banks)" = 400
check "signal types list vpdq" test "$(code -H "$R" $U/c/signal_type)" = 200
check "... pdq, vpdq and video_md5" py 'assert [t["name"] for t in o]==["pdq","vpdq","video_md5"], o'

# ---- /h/hash of a video upload: python-threatexchange's vpdq string
check "hash a video upload (200)" test "$(code -H "$M" -F "video=@$G/h264.mp4" $U/h/hash)" = 200
check "... {vpdq: JSON list of 'HEX,QUALITY,SECONDS', video_md5}" py 'assert list(o)==["vpdq","video_md5"] and isinstance(json.loads(o["vpdq"]), list), o'
H264=$(python3 -c "import json; print(json.load(open('$T/body'))['vpdq'])")
check "... the CLI's frames" test "$(frames_of "$H264")" = "$(cat "$T/h264.cli")"
check "... seconds as Python's {:.3}" python3 -c "import json,sys; assert json.loads(sys.argv[1])[0].split(',')[2]=='0.0'" "$H264"
check "a damaged video 422/415" sh -c "c=\$(curl -s -o /dev/null -w '%{http_code}' -H '$M' -F 'video=@$G/not-video.txt' $U/h/hash); [ \$c = 415 ] || [ \$c = 422 ]"
check "seconds_per_hash=0.5 gives more frames" test "$(code -H "$M" -F "video=@$G/h264.mp4" "$U/h/hash?seconds_per_hash=0.5")" = 200
check "... 2 frames" py 'assert len(json.loads(o["vpdq"]))==2, o'

# ---- /c/: videos by upload and by signal
check "add a video by upload" test "$(code -H "$A" -F "video=@$G/h264.mp4" $U/c/bank/VIDEO_BANK/content)" = 200
check "... {id, signals:{vpdq}}" py 'assert set(o)=={"id","signals"} and list(o["signals"])==["vpdq"], o'
ID_H264=$(python3 -c "import json; print(json.load(open('$T/body'))['id'])")
check "hash mjpeg.mov" test "$(code -H "$M" -F "video=@$G/mjpeg.mov" $U/h/hash)" = 200
MJPEG=$(python3 -c "import json; print(json.load(open('$T/body'))['vpdq'])")
python3 -c "import json,sys; print(json.dumps({'vpdq': sys.argv[1]}))" "$MJPEG" > "$T/sig.json"
check "add a vpdq signal" test "$(code -H "$A" -X POST --data-binary @"$T/sig.json" $U/c/bank/VIDEO_BANK/signal)" = 200
ID_MJPEG=$(python3 -c "import json; print(json.load(open('$T/body'))['id'])")
check "... a new entry" test "$ID_MJPEG" != "$ID_H264"
check "a photo into the video bank 400" test "$(code -H "$A" -F "photo=@$SRC/examples/wee.jpg" $U/c/bank/VIDEO_BANK/content)" = 400
check "a bad vpdq signal 400" test "$(code -H "$A" -X POST -d '{"vpdq":"[\"zz,1,0.0\"]"}' $U/c/bank/VIDEO_BANK/signal)" = 400
check "content with its signal" test "$(code -H "$R" "$U/c/bank/VIDEO_BANK/content/$ID_MJPEG?include_signals=true")" = 200
check "... the stored frames" test "$(python3 -c "import json; print(json.load(open('$T/body'))['signals']['vpdq'])")" = "$MJPEG"

# ---- matching against the index of video frames
check "rebuild (vouch's own route)" test "$(code -H "$A" -X POST $U/v1/index/rebuild)" = 200
check "index/status" test "$(code -H "$R" $U/m/index/status)" = 200
check "... vpdq present with 2 videos, pdq not" py 'assert o["vpdq"]["present"] is True and o["vpdq"]["size"]==2 and o["pdq"]["present"] is False, o'
check "raw_lookup vpdq" test "$(code -H "$M" -G --data-urlencode "signal=$H264" "$U/m/raw_lookup?signal_type=vpdq")" = 200
check "... {matches:[id]}" py 'assert '$ID_H264' in o["matches"], o'
check "raw_lookup include_distance" test "$(code -H "$M" -G --data-urlencode "signal=$H264" "$U/m/raw_lookup?signal_type=vpdq&include_distance=true")" = 200
check "... distance 'Q%[I%]' (VPDQSimilarityInfo)" py 'm=[x for x in o["matches"] if x["bank_content_id"]=='$ID_H264']; assert m and m[0]["distance"]=="100%[100%]", o'
FAR='["'$(printf '0%.0s' $(seq 64))',100,0.0"]'
check "raw_lookup of another video" test "$(code -H "$M" -G --data-urlencode "signal=$FAR" "$U/m/raw_lookup?signal_type=vpdq")" = 200
check "... no match" py 'assert o=={"matches":[]}, o'
check "raw_lookup bad vpdq 400" test "$(code -H "$M" -G --data-urlencode 'signal=[1,2]' "$U/m/raw_lookup?signal_type=vpdq")" = 400
check "pdq lookups: index not ready 503 (this index holds video frames)" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$(printf '0%.0s' $(seq 64))")" = 503
check "lookup GET by vpdq signal" test "$(code -H "$M" -G --data-urlencode "signal=$MJPEG" "$U/m/lookup?signal_type=vpdq")" = 200
check "... {VIDEO_BANK:[{bank_content_id}]}" py 'assert '$ID_MJPEG' in [m["bank_content_id"] for m in o["VIDEO_BANK"]], o'
check "lookup POST a video" test "$(code -H "$M" -F "video=@$G/h264.mp4" $U/m/lookup)" = 200
check "... {vpdq:{VIDEO_BANK:[...]}, video_md5:{} (no md5 bank in this index)}" py 'assert list(o)==["vpdq","video_md5"] and o["video_md5"]=={} and '$ID_H264' in [m["bank_content_id"] for m in o["vpdq"]["VIDEO_BANK"]], o'

# ---- /m/compare
python3 -c "import json,sys; print(json.dumps({'vpdq': [sys.argv[1], sys.argv[1]]}))" "$H264" > "$T/cmp.json"
check "compare a video with itself" test "$(code -H "$M" -X POST --data-binary @"$T/cmp.json" $U/m/compare)" = 200
check "... [true, {query_match_percent: 100, compared_match_percent: 100}]" py 'c=o["vpdq"]; assert c[0] is True and c[1]=={"query_match_percent":100.0,"compared_match_percent":100.0}, o'
python3 -c "import json,sys; print(json.dumps({'vpdq': [sys.argv[1], sys.argv[2]]}))" "$H264" "$FAR" > "$T/cmp.json"
check "compare with another video" test "$(code -H "$M" -X POST --data-binary @"$T/cmp.json" $U/m/compare)" = 200
check "... false" py 'c=o["vpdq"]; assert c[0] is False and c[1]["query_match_percent"]==0.0, o'
check "server still up" test "$(code $U/healthz)" = 200
kill "$PID"; wait "$PID" 2>/dev/null; PID=
# in sanitizer builds the server reports errors and leaks on its stderr at exit
check "no sanitizer report" sh -c "! grep -q 'Sanitizer' '$T/log'"
echo "vouchd_hma_video: $pass passed, $fail failed"
[ "$fail" = 0 ]
