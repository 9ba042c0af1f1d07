#!/bin/bash
# tests/cli/vouchd_hma.sh -- vouchd's HMA 2.x routes (programs/httpd/routes_hma.c,
# docs/hma.md), driven with the request and response shapes HMA's own tests
# use: /status, /c/ bank curation, /h/hash, /m/raw_lookup, /m/lookup (GET and
# multipart POST), /m/compare, /m/index/status; auth and admission as for /v1.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
EX=$SRC/examples
. "$(dirname "$0")/lib/vouchd_harness.sh"
. "$(dirname "$0")/lib/hma_server.sh"
BRIDGE=$($V hash --exact "$EX/bridge.jpg" | awk '{print $1}')
WEE=$($V hash --exact "$EX/wee.jpg" | awk '{print $1}')
BLUR=$($V hash --exact "$EX/bridge-blurred.jpg" | awk '{print $1}')

# ---- /status: HMA's readiness answer, open like /healthz
check "status 503 before an index is loaded" test "$(code $U/status)" = 503
check "... INDEX-NOT-LOADED" grep -qx 'INDEX-NOT-LOADED' "$T/body"
check "readyz 503 too" test "$(code $U/readyz)" = 503
check "status/live 200 without an index (HMA's liveness check)" test "$(code $U/status/live)" = 200
check "... I-AM-ALIVE" grep -qx 'I-AM-ALIVE' "$T/body"
check "livez 200 OK" test "$(code $U/livez)" = 200
check "... OK" grep -qx 'OK' "$T/body"

# ---- /c/: banks
check "no token: 401" test "$(code -X POST -H 'Content-Type: application/json' -d '{"name":"TEST_BANK"}' $U/c/banks)" = 401
check "reader cannot create a bank (403)" test "$(code -H "$R" -X POST -H 'Content-Type: application/json' -d '{"name":"TEST_BANK"}' $U/c/banks)" = 403
check "create bank 201" test "$(code -H "$A" -X POST -H 'Content-Type: application/json' -d '{"name":"TEST_BANK"}' $U/c/banks)" = 201
check "... BankConfig shape" py 'assert o=={"name":"TEST_BANK","matching_enabled_ratio":1.0}, o'
check "create disabled bank (enabled_ratio 0)" test "$(code -H "$A" -X POST -d '{"name":"OFF_BANK","enabled_ratio":0.0}' $U/c/banks)" = 201
check "... ratio 0" py 'assert o["matching_enabled_ratio"]==0.0, o'
check "duplicate bank 403 (as HMA)" test "$(code -H "$A" -X POST -d '{"name":"TEST_BANK"}' $U/c/banks)" = 403
check "... message" py 'assert o=={"message":"Bank already exists"}, o'
check "lower-case bank name 400 (HMA's rule)" test "$(code -H "$A" -X POST -d '{"name":"my_test_bank"}' $U/c/banks)" = 400
check "bank name starting with a digit 400" test "$(code -H "$A" -X POST -d '{"name":"01_TEST_BANK"}' $U/c/banks)" = 400
check "partial enabled_ratio refused 400 (vouch: on or off)" test "$(code -H "$A" -X POST -d '{"name":"HALF","enabled_ratio":0.5}' $U/c/banks)" = 400
check "create without name 400" test "$(code -H "$A" -X POST -d '{}' $U/c/banks)" = 400
check "list banks (reader)" test "$(code -H "$R" $U/c/banks)" = 200
check "... a list of BankConfig" py 'assert sorted(b["name"] for b in o)==["OFF_BANK","TEST_BANK"], o'
check "show one bank" test "$(code -H "$R" $U/c/bank/TEST_BANK)" = 200
check "unknown bank 404" test "$(code -H "$R" $U/c/bank/NOPE)" = 404
check "... HMA's message" py 'assert o=={"message":"bank '"'"'NOPE'"'"' not found"}, o'
check "PUT enabled false" test "$(code -H "$A" -X PUT -d '{"enabled":false}' $U/c/bank/OFF_BANK)" = 200
check "PUT rename" test "$(code -H "$A" -X PUT -d '{"name":"OTHER_BANK"}' $U/c/bank/OFF_BANK)" = 200
check "... the bank under its new name" py 'assert o["name"]=="OTHER_BANK", o'
check "... the old name is gone (404)" test "$(code -H "$R" $U/c/bank/OFF_BANK)" = 404
check "rename to a taken name 403" test "$(code -H "$A" -X PUT -d '{"name":"TEST_BANK"}' $U/c/bank/OTHER_BANK)" = 403
check "rename to a bad name 400" test "$(code -H "$A" -X PUT -d '{"name":"lower"}' $U/c/bank/OTHER_BANK)" = 400
check "rename it back" test "$(code -H "$A" -X PUT -d '{"name":"OFF_BANK"}' $U/c/bank/OTHER_BANK)" = 200

# ---- /c/: content, by upload and by signal
check "add content by upload" test "$(code -H "$A" -F "photo=@$EX/bridge.jpg" $U/c/bank/TEST_BANK/content)" = 200
check "... {id, signals:{pdq}} with the reference PDQ" py 'assert set(o)=={"id","signals"} and o["signals"]=={"pdq":"'$BRIDGE'"}, o'
ID_BRIDGE=$(py 'print(o["id"])')
check "add content by upload with HMA's metadata form field" test "$(code -H "$A" -F "photo=@$EX/bridge-rotated.jpg" -F 'metadata={"content_id":"form-id-7"}' $U/c/bank/OFF_BANK/content)" = 200
ID_ROT=$(py 'print(o["id"])')
check "... content_id kept" test "$(code -H "$R" "$U/c/bank/OFF_BANK/content/$ID_ROT")" = 200
check "... as metadata" py 'assert o["metadata"]=={"content_id":"form-id-7"}, o'
check "metadata form field not JSON: 400" test "$(code -H "$A" -F "photo=@$EX/bridge-rotated.jpg" -F 'metadata={oops' $U/c/bank/OFF_BANK/content)" = 400
check "... HMA's message" py 'assert o=={"message":"metadata form field must be valid JSON"}, o'
check "metadata form field with an unexpected key: 400" test "$(code -H "$A" -F "photo=@$EX/bridge-rotated.jpg" -F 'metadata={"invalid_metadata":5}' $U/c/bank/OFF_BANK/content)" = 400
check "metadata form field not an object: 400" test "$(code -H "$A" -F "photo=@$EX/bridge-rotated.jpg" -F 'metadata=5' $U/c/bank/OFF_BANK/content)" = 400
check "add signal" test "$(code -H "$A" -X POST -H 'Content-Type: application/json' -d "{\"pdq\":\"$WEE\"}" $U/c/bank/TEST_BANK/signal)" = 200
check "... id and signal" py 'assert o["signals"]=={"pdq":"'$WEE'"} and isinstance(o["id"],int), o'
ID_WEE=$(py 'print(o["id"])')
check "get content" test "$(code -H "$R" "$U/c/bank/TEST_BANK/content/$ID_BRIDGE?include_signals=true")" = 200
check "... BankContent shape with signals" py 'assert o["id"]=='$ID_BRIDGE' and o["bank"]=={"name":"TEST_BANK","matching_enabled_ratio":1.0} and o["disable_until_ts"]==1 and o["signals"]=={"pdq":"'$BRIDGE'"}, o'
check "get content without signals" test "$(code -H "$R" "$U/c/bank/TEST_BANK/content/$ID_BRIDGE")" = 200
check "... no signals key" py 'assert "signals" not in o, o'
check "get unknown content 404" test "$(code -H "$R" "$U/c/bank/TEST_BANK/content/99999")" = 404
check "get content of unknown bank 404" test "$(code -H "$R" "$U/c/bank/NOPE/content/$ID_BRIDGE")" = 404
check "PUT content: disable_until_ts over 5 years ahead 400 (HMA's rule)" test "$(code -H "$A" -X PUT -d '{"disable_until_ts":9999999999}' $U/c/bank/TEST_BANK/content/$ID_BRIDGE)" = 400
check "PUT content: negative disable_until_ts 400" test "$(code -H "$A" -X PUT -d '{"disable_until_ts":-1}' $U/c/bank/TEST_BANK/content/$ID_BRIDGE)" = 400
UNTIL=$(( $(date +%s) + 365 * 86400 ))
check "PUT content disable_until_ts a year ahead" test "$(code -H "$A" -X PUT -d "{\"disable_until_ts\":$UNTIL}" $U/c/bank/TEST_BANK/content/$ID_BRIDGE)" = 200
check "... echoed" py 'assert o["disable_until_ts"]=='$UNTIL' and o["enabled"] is True, o'
check "PUT content disable_until_ts 0 disables it (HMA's DISABLED)" test "$(code -H "$A" -X PUT -d '{"disable_until_ts":0}' $U/c/bank/TEST_BANK/content/$ID_BRIDGE)" = 200
check "... disabled, 0" py 'assert o["disable_until_ts"]==0 and o["enabled"] is False, o'
check "PUT content disable_until_ts 1 enables it (HMA's ENABLED)" test "$(code -H "$A" -X PUT -d '{"disable_until_ts":1}' $U/c/bank/TEST_BANK/content/$ID_BRIDGE)" = 200
check "... enabled, 1, the year-ahead time cleared" py 'assert o["disable_until_ts"]==1 and o["enabled"] is True, o'
check "PUT content enabled false (vouch's flag)" test "$(code -H "$A" -X PUT -d '{"enabled":false}' $U/c/bank/TEST_BANK/content/$ID_BRIDGE)" = 200
check "... disabled" py 'assert o["enabled"] is False, o'
check "PUT content enabled true" test "$(code -H "$A" -X PUT -d '{"enabled":true}' $U/c/bank/TEST_BANK/content/$ID_BRIDGE)" = 200
check "... enabled" py 'assert o["enabled"] is True and o["disable_until_ts"]==1, o'
check "PUT unknown content 404" test "$(code -H "$A" -X PUT -d '{"enabled":true}' $U/c/bank/TEST_BANK/content/99999)" = 404
check "content POST with neither url nor upload 400" test "$(code -H "$A" -X POST -d '{}' $U/c/bank/TEST_BANK/content)" = 400
check "bad signal 400" test "$(code -H "$A" -X POST -d '{"pdq":"abc"}' $U/c/bank/TEST_BANK/signal)" = 400
check "unknown signal type 400" test "$(code -H "$A" -X POST -d '{"md5":"abc"}' $U/c/bank/TEST_BANK/signal)" = 400
check "no signals 400" test "$(code -H "$A" -X POST -d '{}' $U/c/bank/TEST_BANK/signal)" = 400
check "content into an unknown bank 404" test "$(code -H "$A" -F "photo=@$EX/wee.jpg" $U/c/bank/NOPE/content)" = 404
check "content by ?url= refused (no fetching) 403" test "$(code -H "$A" -X POST "$U/c/bank/TEST_BANK/content?url=http://127.0.0.1:1/x.jpg")" = 403
check "matcher cannot add content (403)" test "$(code -H "$M" -F "photo=@$EX/wee.jpg" $U/c/bank/TEST_BANK/content)" = 403

# ---- /h/hash
check "hash an upload" test "$(code -H "$M" -F "photo=@$EX/bridge-blurred.jpg" $U/h/hash)" = 200
check "... {pdq: HEX} = vouch hash --exact" py 'assert o=={"pdq":"'$BLUR'"}, o'
check "two files 400" test "$(code -H "$M" -F "photo=@$EX/wee.jpg" -F "video=@$EX/wee.jpg" $U/h/hash)" = 400
check "... HMA's message" py 'assert o=={"message":"Only one file allowed per request"}, o'
check "types=pdq" test "$(code -H "$M" -F "photo=@$EX/wee.jpg" "$U/h/hash?types=pdq")" = 200
check "... {pdq}" py 'assert o=={"pdq":"'$WEE'"}, o'
check "types=tmk 400" test "$(code -H "$M" -F "photo=@$EX/wee.jpg" "$U/h/hash?types=tmk")" = 400
check "two files under one field 400" test "$(code -H "$M" -F "photo=@$EX/wee.jpg" -F "photo=@$EX/bridge.jpg" $U/h/hash)" = 400
check "... HMA's message" py 'assert o=={"message":"Only one file allowed per request"}, o'
python3 -c '
import sys
b = b"".join(b"--b\r\nContent-Disposition: form-data; name=\"f%d\"\r\n\r\nx\r\n" % i for i in range(30000)) + b"--b--\r\n"
open(sys.argv[1], "wb").write(b)' "$T/fields"
t0=$(date +%s%N)
check "30,000 form fields and no file 400" test "$(code -H "$M" -H 'Content-Type: multipart/form-data; boundary=b' --data-binary @$T/fields $U/h/hash)" = 400
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "... in $ms ms < $((3000 * ${VOUCH_TIME_SCALE:-1}))" test "$ms" -lt $((3000 * ${VOUCH_TIME_SCALE:-1}))
python3 -c '
import sys
b = b"--b\r\nContent-Disposition: form-data; name=\"photo\"; filename=\"" + b"a" * 100000 + b"\"\r\n\r\nxyz\r\n--b--\r\n"
open(sys.argv[1], "wb").write(b)' "$T/longhdr"
check "a part header over the post processor's buffer 400" test "$(code -H "$M" -H 'Content-Type: multipart/form-data; boundary=b' --data-binary @$T/longhdr $U/h/hash)" = 400
check "an unknown content type (field name) 400" test "$(code -H "$M" -F "audio=@$EX/wee.jpg" $U/h/hash)" = 400
check "not multipart 400" test "$(code -H "$M" -X POST --data-binary @$EX/wee.jpg -H 'Content-Type: image/jpeg' $U/h/hash)" = 400
check "... message" py 'assert o=={"message":"Missing multipart/form-data file upload"}, o'
check "form field but no file 400" test "$(code -H "$M" -F "photo=not a file" $U/h/hash)" = 400
printf 'not a jpeg at all' > "$T/junk.jpg"
check "a file that is no image 415" test "$(code -H "$M" -F "photo=@$T/junk.jpg" $U/h/hash)" = 415
check "GET /h/hash?url= refused 403" test "$(code -H "$M" "$U/h/hash?url=http://127.0.0.1:1/a.jpg")" = 403
check "reader cannot hash (403)" test "$(code -H "$R" -F "photo=@$EX/wee.jpg" $U/h/hash)" = 403

# ---- matching before the index: HMA's 503
check "raw_lookup 503 without index" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$BRIDGE")" = 503
check "index/status: not present" test "$(code -H "$R" $U/m/index/status)" = 200
check "... shape" py 'z={"present":False,"built_to":-1,"size":0}; assert o=={"pdq":z,"vpdq":z,"video_md5":z}, o'
check "signal_type/index before the index" test "$(code -H "$R" $U/c/signal_type/index)" = 200
check "... pdq in the db, not in the index, out of date" py 'p=o["pdq"]; assert set(o)=={"pdq","vpdq","video_md5"} and p["db_size"]>=2 and p["index_size"]==0 and p["index_out_of_date"] is True and p["index_built_to"]==-1 and p["newest_db_item"]>1700000000 and o["vpdq"]=={"db_size":0,"index_size":0,"index_out_of_date":False,"newest_db_item":p["newest_db_item"],"index_built_to":-1}, o'
check "rebuild (vouch's own route)" test "$(code -H "$A" -X POST $U/v1/index/rebuild)" = 200
check "status 200 I-AM-ALIVE" test "$(code $U/status)" = 200
check "... text" grep -qx 'I-AM-ALIVE' "$T/body"
check "readyz 200 READY" test "$(code $U/readyz)" = 200
check "... READY" grep -qx 'READY' "$T/body"
check "index/status: present, 2 entries" test "$(code -H "$R" "$U/m/index/status?signal_type=pdq")" = 200
check "... shape" py 'p=o["pdq"]; assert p["present"] is True and p["size"]==2 and p["built_to"]>1700000000, o'
check "index/status unknown type 400" test "$(code -H "$R" "$U/m/index/status?signal_type=nope")" = 400
check "signal_type/index?signal_type=pdq after the build" test "$(code -H "$R" "$U/c/signal_type/index?signal_type=pdq")" = 200
check "... db and index agree, up to date" py 'p=o["pdq"]; assert list(o)==["pdq"] and p["db_size"]==p["index_size"]==2 and p["index_out_of_date"] is False and p["index_built_to"]>1700000000, o'
check "signal_type/index unknown type 400" test "$(code -H "$R" "$U/c/signal_type/index?signal_type=nope")" = 400
check "signal_type/index PUT 405" test "$(code -H "$A" -X PUT $U/c/signal_type/index)" = 405

# ---- /m/raw_lookup
check "raw_lookup" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$BRIDGE")" = 200
check "... {matches:[id]}" py 'assert o=={"matches":['$ID_BRIDGE']}, o'
check "raw_lookup include_distance=True" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$BLUR&include_distance=True")" = 200
check "... [{bank_content_id, distance}]" py 'm=o["matches"]; assert len(m)==1 and m[0]["bank_content_id"]=='$ID_BRIDGE' and 0<int(m[0]["distance"])<=31, o'
check "raw_lookup banks filter excludes" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$BRIDGE&banks=OFF_BANK")" = 200
check "... no matches" py 'assert o=={"matches":[]}, o'
check "raw_lookup without signal 400" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq")" = 400
check "... message" py 'assert o=={"message":"signal is required"}, o'
check "raw_lookup unknown type 400" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=tmk&signal=00")" = 400
check "raw_lookup bad hex 400" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=zz")" = 400
check "raw_lookup bad bool 400" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$BRIDGE&include_distance=maybe")" = 400
check "raw_lookup no token 401" test "$(code "$U/m/raw_lookup?signal_type=pdq&signal=$BRIDGE")" = 401
check "raw_lookup reader 403" test "$(code -H "$R" "$U/m/raw_lookup?signal_type=pdq&signal=$BRIDGE")" = 403

# ---- /m/lookup
check "lookup GET by signal" test "$(code -H "$M" "$U/m/lookup?signal_type=pdq&signal=$WEE")" = 200
check "... {BANK:[{bank_content_id,distance}]}" py 'assert o=={"TEST_BANK":[{"bank_content_id":'$ID_WEE',"distance":"0"}]}, o'
check "lookup GET, no match: {}" test "$(code -H "$M" "$U/m/lookup?signal_type=pdq&signal=$(printf '0%.0s' $(seq 64))")" = 200
check "... empty" py 'assert o=={}, o'
check "lookup GET needs signal or url 400" test "$(code -H "$M" "$U/m/lookup?signal_type=pdq")" = 400
check "lookup GET ?url= refused 403" test "$(code -H "$M" "$U/m/lookup?url=http://127.0.0.1:1/a.jpg&content_type=photo")" = 403
check "lookup POST multipart" test "$(code -H "$M" -F "photo=@$EX/bridge-blurred.jpg" $U/m/lookup)" = 200
check "... {pdq:{TEST_BANK:[...]}}" py 'm=o["pdq"]["TEST_BANK"]; assert list(o)==["pdq"] and list(o["pdq"])==["TEST_BANK"] and m[0]["bank_content_id"]=='$ID_BRIDGE', o'

# ---- /m/compare
check "compare" test "$(code -H "$M" -X POST -H 'Content-Type: application/json' -d "{\"pdq\":[\"$BRIDGE\",\"$BLUR\"]}" $U/m/compare)" = 200
check "... [true, {distance}]" py 'c=o["pdq"]; assert c[0] is True and 0<c[1]["distance"]<=31, o'
check "compare far apart" test "$(code -H "$M" -X POST -d "{\"pdq\":[\"$BRIDGE\",\"$WEE\"]}" $U/m/compare)" = 200
check "... false" py 'c=o["pdq"]; assert c[0] is False and c[1]["distance"]>31, o'
check "compare 3 hashes 400" test "$(code -H "$M" -X POST -d "{\"pdq\":[\"$BRIDGE\",\"$WEE\",\"$WEE\"]}" $U/m/compare)" = 400
check "compare not a dict 400" test "$(code -H "$M" -X POST -d '[1,2]' $U/m/compare)" = 400

# ---- staleness, removal, bank deletion
sleep 0.02
check "add a signal after the build" test "$(code -H "$A" -X POST -d "{\"pdq\":\"$(printf 'f0%.0s' $(seq 32))\"}" $U/c/bank/TEST_BANK/signal)" = 200
check "status 503 INDEX-STALE" test "$(code $U/status)" = 503
check "... text" grep -qx 'INDEX-STALE' "$T/body"
check "disable bridge for a day" test "$(code -H "$A" -X PUT -d "{\"disable_until_ts\":$(( $(date +%s) + 86400 ))}" $U/c/bank/TEST_BANK/content/$ID_BRIDGE)" = 200
check "delete content" test "$(code -H "$A" -X DELETE $U/c/bank/TEST_BANK/content/$ID_WEE)" = 200
check "... {deleted:1}" py 'assert o=={"deleted":1}, o'
check "... kept, disabled: disable_until_ts 0 (HMA's DISABLED)" test "$(code -H "$R" $U/c/bank/TEST_BANK/content/$ID_WEE)" = 200
check "... 0" py 'assert o["disable_until_ts"]==0 and o["enabled"] is False, o'
check "rebuild" test "$(code -H "$A" -X POST $U/v1/index/rebuild)" = 200
check "status fresh again" test "$(code $U/status)" = 200
check "deleted content no longer matches" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$WEE")" = 200
check "... none" py 'assert o=={"matches":[]}, o'
check "content disabled until tomorrow is out of the index" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$BRIDGE")" = 200
check "... none" py 'assert o=={"matches":[]}, o'
check "clear it and rebuild" sh -c "test \"\$(curl -s -o /dev/null -w '%{http_code}' -H '$A' -X PUT -d '{\"disable_until_ts\":1}' $U/c/bank/TEST_BANK/content/$ID_BRIDGE)\" = 200 && test \"\$(curl -s -o /dev/null -w '%{http_code}' -H '$A' -X POST $U/v1/index/rebuild)\" = 200"
check "bridge matches again" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$BRIDGE")" = 200
check "... {matches:[id]}" py 'assert o=={"matches":['$ID_BRIDGE']}, o'
check "delete bank" test "$(code -H "$A" -X DELETE $U/c/bank/OFF_BANK)" = 200
check "... Done" py 'assert o=={"message":"Done"}, o'
check "deleted bank 404" test "$(code -H "$R" $U/c/bank/OFF_BANK)" = 404
check "signal types" test "$(code -H "$R" $U/c/signal_type)" = 200
check "... pdq, vpdq, video_md5" py 'assert o==[{"name":n,"enabled_ratio":1.0} for n in ("pdq","vpdq","video_md5")], o'

# ---- admission: the same limits as /v1, decided from the headers
check "upload over --max-body refused from the header (413)" test "$(code -H "$M" -H 'Content-Type: multipart/form-data; boundary=x' -H 'Content-Length: 9999999' -X POST --data-binary 'x' --max-time 5 $U/m/lookup)" = 413
head -c 3000000 /dev/zero > "$T/big.bin"
check "bad token on a big upload: 401 without reading it" test "$(code -H 'Authorization: Bearer nope' -F "photo=@$T/big.bin" $U/m/lookup)" = 401
printf -- '--b\r\nContent-Disposition: form-data; name="photo"; filename="a"\r\n\r\nabc' > "$T/trunc"
check "truncated multipart 400/415, no crash" sh -c "c=\$(curl -s -o /dev/null -w '%{http_code}' -H '$M' -H 'Content-Type: multipart/form-data; boundary=b' --data-binary @$T/trunc $U/h/hash); [ \$c = 400 ] || [ \$c = 415 ]"
check "metrics count the hma route" sh -c "curl -s $U/metrics | grep -q 'route=\"hma\"'"
check "server still up" test "$(code $U/healthz)" = 200
kill "$PID"; wait "$PID" 2>/dev/null; PID=

# ---- ?url= with --fetch-allow: a local web server on 127.0.0.1 only
mkdir -p "$T/www/sub"
cp "$EX/bridge.jpg" "$EX/bridge-blurred.jpg" "$EX/wee.jpg" "$T/www/"
echo hello > "$T/www/note.txt"
head -c 2100000 /dev/urandom > "$T/www/huge.jpg"
python3 -c '
import http.server, functools, sys
h = functools.partial(http.server.SimpleHTTPRequestHandler, directory=sys.argv[1])
h.func.log_message = lambda *a: None
s = http.server.ThreadingHTTPServer(("127.0.0.1", 0), h)
open(sys.argv[2], "w").write(str(s.server_address[1]))
s.serve_forever()' "$T/www" "$T/wport" 2>/dev/null &
WPID=$!
trap 'kill -9 $WPID 2>/dev/null; cleanup' EXIT
for i in $(seq 1 200); do [ -s "$T/wport" ] && break; sleep 0.05; done
W=http://127.0.0.1:$(cat "$T/wport")
rm -f "$T/port"
$D --db "$DB" --index "$T/idx.vidx" --listen 127.0.0.1:0 --port-file "$T/port" --threads 2 \
   --max-body 2000000 --fetch-allow example.invalid,127.0.0.1 --fetch-timeout 5 2>> "$T/log" &
PID=$!
for i in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
U=http://127.0.0.1:$(cat "$T/port")
check "hash by url" test "$(code -H "$M" "$U/h/hash?url=$W/bridge.jpg")" = 200
check "... = vouch hash --exact" py 'assert o=={"pdq":"'$BRIDGE'"}, o'
check "lookup by url" test "$(code -H "$M" "$U/m/lookup?url=$W/bridge-blurred.jpg&content_type=photo")" = 200
check "... {pdq:{TEST_BANK:[bridge]}}" py 'assert o["pdq"]["TEST_BANK"][0]["bank_content_id"]=='$ID_BRIDGE', o'
check "lookup by url with signal_type: the inner object" test "$(code -H "$M" "$U/m/lookup?url=$W/bridge.jpg&signal_type=pdq")" = 200
check "... {TEST_BANK:[{id, distance 0}]}" py 'assert o=={"TEST_BANK":[{"bank_content_id":'$ID_BRIDGE',"distance":"0"}]}, o'
check "bank content by url" test "$(code -H "$A" -X POST "$U/c/bank/TEST_BANK/content?url=$W/wee.jpg")" = 200
check "... wee's PDQ" py 'assert o["signals"]=={"pdq":"'$WEE'"}, o'
check "bank content by url with metadata" test "$(code -H "$A" -X POST -H 'Content-Type: application/json' -d '{"metadata":{"content_id":"1197433091","json":{"asdf":{}}}}' "$U/c/bank/TEST_BANK/content?url=$W/bridge-blurred.jpg&content_type=photo")" = 200
check "... content_id kept as the entry's id text" sh -c "$V bank export --db '$DB' TEST_BANK --format csv | grep -q '^$BLUR,1197433091,'"
ID_BLUR=$(py 'print(o["id"])')
check "... and shown as HMA's metadata" test "$(code -H "$R" "$U/c/bank/TEST_BANK/content/$ID_BLUR")" = 200
check "... {content_id}" py 'assert o["metadata"]=={"content_id":"1197433091"}, o'
check "... not with include_metadata=false" test "$(code -H "$R" "$U/c/bank/TEST_BANK/content/$ID_BLUR?include_metadata=false")$(py 'print("metadata" in o)')" = 200False
check "unexpected metadata key 400" test "$(code -H "$A" -X POST -H 'Content-Type: application/json' -d '{"metadata":{"invalid_metadata":5}}' "$U/c/bank/TEST_BANK/content?url=$W/bridge-blurred.jpg&content_type=photo")" = 400
check "host not in --fetch-allow (localhost) 403" test "$(code -H "$M" "$U/h/hash?url=http://localhost:${W##*:}/bridge.jpg")" = 403
check "file:// refused 400" test "$(code -H "$M" "$U/h/hash?url=file:///etc/passwd")" = 400
check "not a URL 400" test "$(code -H "$M" "$U/h/hash?url=bridge.jpg")" = 400
check "upstream 404: 502" test "$(code -H "$M" "$U/h/hash?url=$W/missing.jpg")" = 502
check "redirect not followed: 502" test "$(code -H "$M" "$U/h/hash?url=$W/sub")" = 502
check "text/plain: HMA's unsupported ContentType 400" test "$(code -H "$M" "$U/h/hash?url=$W/note.txt")" = 400
check "... names the type" py 'assert "unsupported url ContentType" in o["message"], o'
check "text forced to photo: not an image 415" test "$(code -H "$M" "$U/h/hash?url=$W/note.txt&content_type=photo")" = 415
check "fetch over --max-body 413" test "$(code -H "$M" "$U/h/hash?url=$W/huge.jpg")" = 413
check "fetch needs the matcher role (reader 403)" test "$(code -H "$R" "$U/h/hash?url=$W/bridge.jpg")" = 403
check "server up after the fetches" test "$(code $U/healthz)" = 200
kill "$PID"; wait "$PID" 2>/dev/null; PID=
kill "$WPID"; wait "$WPID" 2>/dev/null
# in sanitizer builds the server reports errors and leaks on its stderr at exit
check "no sanitizer report" sh -c "! grep -q 'Sanitizer' '$T/log'"
echo "vouchd_hma: $pass passed, $fail failed"
[ "$fail" = 0 ]
