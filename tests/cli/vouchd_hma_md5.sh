#!/bin/bash
# tests/cli/vouchd_hma_md5.sh -- HMA's video_md5 signal type on vouchd's HMA
# routes (programs/httpd/routes_hma.c, docs/hma.md): a bank of video MD5s
# made and filled through /c/ (a signal, an uploaded video), /h/hash giving
# video_md5 next to vpdq, lookups of a video_md5 signal and of an uploaded
# video against an index of that bank (exact: distance "-", as
# python-threatexchange prints it), /m/compare and /m/index/status.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
G=$SRC/tests/golden/videos
. "$(dirname "$0")/lib/vouchd_harness.sh"
. "$(dirname "$0")/lib/hma_server.sh"
md5() { md5sum "$1" | cut -c1-32; }
H264=$(md5 "$G/h264.mp4"); MJPEG=$(md5 "$G/mjpeg.mov"); VP9=$(md5 "$G/vp9.webm")

check "create a video_md5 bank 201" test "$(code -H "$A" -X POST -d '{"name":"MD5_BANK","signal_type":"video_md5"}' $U/c/banks)" = 201
check "hash a video upload (200)" test "$(code -H "$M" -F "video=@$G/h264.mp4" $U/h/hash)" = 200
check "... video_md5 = md5sum, next to vpdq" py 'assert o["video_md5"]=="'$H264'" and "vpdq" in o, o'
check "types=video_md5 only (200)" test "$(code -H "$M" -F "video=@$G/not-video.txt" "$U/h/hash?types=video_md5")" = 200
check "... any bytes have an MD5" py 'assert list(o)==["video_md5"] and o["video_md5"]=="'$(md5 "$G/not-video.txt")'", o'
check "add a video by upload" test "$(code -H "$A" -F "video=@$G/h264.mp4" $U/c/bank/MD5_BANK/content)" = 200
check "... {id, signals:{video_md5}}" py 'assert list(o["signals"])==["video_md5"] and o["signals"]["video_md5"]=="'$H264'", o'
ID_H264=$(python3 -c "import json; print(json.load(open('$T/body'))['id'])")
check "add a video_md5 signal (upper case, spaces: normalised)" test "$(code -H "$A" -X POST -d "{\"video_md5\":\" ${MJPEG^^} \"}" $U/c/bank/MD5_BANK/signal)" = 200
ID_MJPEG=$(python3 -c "import json; print(json.load(open('$T/body'))['id'])")
check "... a new entry" test "$ID_MJPEG" != "$ID_H264"
check "a short video_md5 400" test "$(code -H "$A" -X POST -d '{"video_md5":"0123"}' $U/c/bank/MD5_BANK/signal)" = 400
check "a pdq signal into the md5 bank 400" test "$(code -H "$A" -X POST -d "{\"pdq\":\"$(printf '0%.0s' $(seq 64))\"}" $U/c/bank/MD5_BANK/signal)" = 400
check "content with its signal" test "$(code -H "$R" "$U/c/bank/MD5_BANK/content/$ID_MJPEG?include_signals=true")" = 200
check "... the stored md5" py 'assert o["signals"]=={"video_md5":"'$MJPEG'"}, o'

check "rebuild" test "$(code -H "$A" -X POST $U/v1/index/rebuild)" = 200
check "index/status" test "$(code -H "$R" "$U/m/index/status")" = 200
check "... video_md5 present with 2, vpdq and pdq not" py 'assert o["video_md5"]["present"] is True and o["video_md5"]["size"]==2 and not o["vpdq"]["present"] and not o["pdq"]["present"], o'
check "raw_lookup" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=video_md5&signal=$H264")" = 200
check "... {matches:[id]}" py 'assert o=={"matches":['$ID_H264']}, o'
check "raw_lookup include_distance" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=video_md5&signal=$MJPEG&include_distance=true")" = 200
check "... distance '-'" py 'assert o=={"matches":[{"bank_content_id":'$ID_MJPEG',"distance":"-"}]}, o'
check "raw_lookup of another md5" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=video_md5&signal=$VP9")" = 200
check "... no match" py 'assert o=={"matches":[]}, o'
check "raw_lookup bad md5 400" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=video_md5&signal=zz")" = 400
check "vpdq lookups: index not ready 503" test "$(code -H "$M" -G --data-urlencode "signal=[\"$(printf '0%.0s' $(seq 64)),100,0.0\"]" "$U/m/raw_lookup?signal_type=vpdq")" = 503
check "lookup GET" test "$(code -H "$M" "$U/m/lookup?signal_type=video_md5&signal=$H264")" = 200
check "... {MD5_BANK:[...]}" py 'assert [m["bank_content_id"] for m in o["MD5_BANK"]]==['$ID_H264'], o'
check "lookup POST a video" test "$(code -H "$M" -F "video=@$G/mjpeg.mov" $U/m/lookup)" = 200
check "... {vpdq:{}, video_md5:{MD5_BANK:[...]}}" py 'assert o["vpdq"]=={} and [m["bank_content_id"] for m in o["video_md5"]["MD5_BANK"]]==['$ID_MJPEG'], o'
check "lookup POST another video" test "$(code -H "$M" -F "video=@$G/vp9.webm" $U/m/lookup)" = 200
check "... no bank" py 'assert o["video_md5"]=={}, o'
check "compare equal" test "$(code -H "$M" -X POST -d "{\"video_md5\":[\"$H264\",\"${H264^^}\"]}" $U/m/compare)" = 200
check "... [true, {}]" py 'assert o=={"video_md5":[True,{}]}, o'
check "compare different" test "$(code -H "$M" -X POST -d "{\"video_md5\":[\"$H264\",\"$VP9\"]}" $U/m/compare)" = 200
check "... [false, {}]" py 'assert o=={"video_md5":[False,{}]}, o'
check "delete content" test "$(code -H "$A" -X DELETE "$U/c/bank/MD5_BANK/content/$ID_H264")" = 200
check "rebuild" test "$(code -H "$A" -X POST $U/v1/index/rebuild)" = 200
check "deleted content no longer matches" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=video_md5&signal=$H264")" = 200
check "... no match" py 'assert o=={"matches":[]}, o'
check "server still up" test "$(code $U/healthz)" = 200
kill "$PID"; wait "$PID" 2>/dev/null; PID=
check "no sanitizer report" sh -c "! grep -q 'Sanitizer' '$T/log'"
echo "vouchd_hma_md5: $pass passed, $fail failed"
[ "$fail" = 0 ]
