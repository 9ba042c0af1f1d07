#!/bin/bash
# tests/cli/vouchd_hma_types.sh -- vouchd's HMA signal type settings
# (programs/httpd/routes_hma_types.c, docs/hma.md): GET /c/signal_type and
# PUT /c/signal_type/NAME with the request and answer shapes of HMA's
# curation blueprint and schemas; a type switched off (enabled_ratio 0.0) is
# left out of /h/hash and media lookups and refused by raw and signal
# lookups and /m/compare with HMA's messages; a change made by another
# process (`vouch bank signal-type`) is seen within a second; the setting
# survives a restart.  Then /c/signal_type/index's db_size is exact right
# after changes made by other processes (the count is cached against the
# database's data version).  With VOUCH_TEST_BANK_DB set (a postgresql://
# URI) it runs on that database; run on SQLite, it runs itself again on a
# scratch PostgreSQL server when the server binaries are installed.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
EX=$SRC/examples
G=$SRC/tests/golden/videos
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/vouchd_harness.sh"
. "$HERE/lib/hma_server.sh"
J='Content-Type: application/json'
BRIDGE=$($V hash --exact "$EX/bridge.jpg" | awk '{print $1}')
WEE=$($V hash --exact "$EX/wee.jpg" | awk '{print $1}')
put() { code -H "$1" -X PUT -H "$J" -d "$2" "$U/c/signal_type/$3"; } # put AUTH JSON NAME
restart() {
  kill "$PID"; wait "$PID" 2>/dev/null; rm -f "$T/port"
  $D --db "$DB" --index "$T/idx.vidx" --listen 127.0.0.1:0 --port-file "$T/port" --threads 2 2>> "$T/log" &
  PID=$!
  for i in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
  U=http://127.0.0.1:$(cat "$T/port")
}

# ---- GET /c/signal_type: every type on (1.0) until one is set
check "list signal types (reader)" test "$(code -H "$R" $U/c/signal_type)" = 200
check "... HMA's [{name, enabled_ratio}], all 1.0" py 'assert o==[{"name":"pdq","enabled_ratio":1.0},{"name":"vpdq","enabled_ratio":1.0},{"name":"video_md5","enabled_ratio":1.0}], o'
check "no token: 401" test "$(code $U/c/signal_type)" = 401

# a bank, an entry and an index to look up
check "create TEST_BANK" test "$(code -H "$A" -X POST -H "$J" -d '{"name":"TEST_BANK"}' $U/c/banks)" = 201
check "add bridge.jpg" test "$(code -H "$A" -F "photo=@$EX/bridge.jpg" $U/c/bank/TEST_BANK/content)" = 200
ID=$(py 'print(o["id"])')
check "rebuild" test "$(code -H "$A" -X POST $U/v1/index/rebuild)" = 200
check "raw_lookup matches while pdq is on" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$BRIDGE")" = 200
check "... the entry" py 'assert o=={"matches":['$ID']}, o'

# ---- PUT /c/signal_type/NAME: refusals
check "PUT by a reader: 403" test "$(put "$R" '{"enabled_ratio":0.0}' pdq)" = 403
check "PUT by a matcher: 403" test "$(put "$M" '{"enabled_ratio":0.0}' pdq)" = 403
check "PUT without enabled_ratio: 400" test "$(put "$A" '{}' pdq)" = 400
check "... HMA's message" py 'assert o=={"message":"enabled_ratio is required"}, o'
check "PUT enabled_ratio null: 400" test "$(put "$A" '{"enabled_ratio":null}' pdq)" = 400
check "PUT a ratio that is no float: 400" test "$(put "$A" '{"enabled_ratio":"abc"}' pdq)" = 400
check "... HMA's message" py 'assert o=={"message":"Invalid float: '"'"'abc'"'"'"}, o'
check "PUT a list: 400" test "$(put "$A" '{"enabled_ratio":[1]}' pdq)" = 400
check "PUT a ratio above 1: 400" test "$(put "$A" '{"enabled_ratio":1.5}' pdq)" = 400
check "... says the range" py 'assert "0.0-1.0 inclusive" in o["message"], o'
check "PUT a negative ratio: 400" test "$(put "$A" '{"enabled_ratio":-0.1}' pdq)" = 400
check "PUT nan: 400" test "$(put "$A" '{"enabled_ratio":"nan"}' pdq)" = 400
check "PUT not an object: 400" test "$(put "$A" '[0]' pdq)" = 400
check "PUT an unknown type: 404" test "$(put "$A" '{"enabled_ratio":0}' tmk)" = 404
check "GET /c/signal_type/pdq: 405" test "$(code -H "$A" $U/c/signal_type/pdq)" = 405
check "POST /c/signal_type: 405" test "$(code -H "$A" -X POST -d '{}' $U/c/signal_type)" = 405
check "nothing stored by the refusals" test "$(code -H "$R" $U/c/signal_type)" = 200
check "... all 1.0" py 'assert all(t["enabled_ratio"]==1.0 for t in o), o'

# ---- switch pdq off
check "PUT pdq 0.0: 204" test "$(put "$A" '{"enabled_ratio":0.0}' pdq)" = 204
check "... no body (204)" test ! -s "$T/body"
check "GET shows it" test "$(code -H "$R" $U/c/signal_type)" = 200
check "... pdq 0.0, the others 1.0" py 'assert o==[{"name":"pdq","enabled_ratio":0.0},{"name":"vpdq","enabled_ratio":1.0},{"name":"video_md5","enabled_ratio":1.0}], o'
check "the CLI reads it from the bank database" sh -c "$V bank signal-type --db '$DB' pdq | grep -qx 'pdq *0'"
check "raw_lookup of pdq: 400" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$BRIDGE")" = 400
check "... HMA's message" py 'assert o=={"message":"SignalType '"'"'pdq'"'"' is not enabled"}, o'
check "lookup by signal: 400 too" test "$(code -H "$M" "$U/m/lookup?signal_type=pdq&signal=$BRIDGE")" = 400
check "... same message" py 'assert o["message"]=="SignalType '"'"'pdq'"'"' is not enabled", o'
check "compare of pdq: 400" test "$(code -H "$M" -X POST -H "$J" -d '{"pdq":["'$BRIDGE'","'$WEE'"]}' $U/m/compare)" = 400
check "... same message" py 'assert o["message"]=="SignalType '"'"'pdq'"'"' is not enabled", o'
check "hashing a photo (its only type off): HMA's 500" test "$(code -H "$M" -F "photo=@$EX/wee.jpg" $U/h/hash)" = 500
check "... No signal types configured!" py 'assert o=={"message":"No signal types configured!"}, o'
check "lookup of a photo: 500 too" test "$(code -H "$M" -F "photo=@$EX/bridge.jpg" $U/m/lookup)" = 500
check "an unknown type is still 'No such SignalType'" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=tmk&signal=00")" = 400
check "... message" py 'assert o["message"]=="No such SignalType '"'"'tmk'"'"'", o'
check "index/status still lists pdq (HMA lists every type)" test "$(code -H "$R" "$U/m/index/status?signal_type=pdq")" = 200
check "compare of video_md5 (still on) works" test "$(code -H "$M" -X POST -H "$J" -d '{"video_md5":["d41d8cd98f00b204e9800998ecf8427e","d41d8cd98f00b204e9800998ecf8427e"]}' $U/m/compare)" = 200
check "... matched" py 'assert o["video_md5"][0] is True, o'
check "curation still adds pdq signals (HMA checks only that the type exists)" \
  test "$(code -H "$A" -X POST -H "$J" -d '{"pdq":"'$WEE'"}' $U/c/bank/TEST_BANK/signal)" = 200
check "but a photo uploaded to a bank is hashed as /h/hash: 500" test "$(code -H "$A" -F "photo=@$EX/wee.jpg" $U/c/bank/TEST_BANK/content)" = 500

# ---- on again, as an integer; a partial ratio leaves it on
check "PUT pdq 1 (an integer): 204" test "$(put "$A" '{"enabled_ratio":1}' pdq)" = 204
check "raw_lookup works again at once" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$BRIDGE")" = 200
check "... the entry" py 'assert o=={"matches":['$ID']}, o'
check "PUT pdq \"0.5\" (a string, as HMA's float() takes it): 204" test "$(put "$A" '{"enabled_ratio":"0.5"}' pdq)" = 204
check "... stored 0.5" sh -c "curl -s -H '$R' $U/c/signal_type | python3 -c 'import json,sys; o=json.load(sys.stdin); assert o[0]==dict(name=\"pdq\",enabled_ratio=0.5), o'"
check "... and pdq on: /h/hash answers it" test "$(code -H "$M" -F "photo=@$EX/wee.jpg" $U/h/hash)" = 200
check "... the reference hash" py 'assert o=={"pdq":"'$WEE'"}, o'

# ---- another process switches it off: seen within a second (the cache's bound)
check "vouch bank signal-type pdq 0 (another process)" sh -c "$V bank signal-type --db '$DB' pdq 0 >/dev/null"
check "GET /c/signal_type sees it at once (exact)" sh -c "curl -s -H '$R' $U/c/signal_type | python3 -c 'import json,sys; o=json.load(sys.stdin); assert o[0][\"enabled_ratio\"]==0.0, o'"
sleep 1.2
check "lookups refuse it within a second" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$BRIDGE")" = 400
check "video_md5 off too, from the CLI by HMA's name" sh -c "$V bank signal-type --db '$DB' video_md5 0.0 >/dev/null"

# ---- it is stored: a restarted vouchd keeps it
restart
check "after a restart: pdq and video_md5 still 0.0" test "$(code -H "$R" $U/c/signal_type)" = 200
check "... stored values" py 'assert [t["enabled_ratio"] for t in o]==[0.0,1.0,0.0], o'
check "... and honoured" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$BRIDGE")" = 400
check "PUT vpdq 0.25: 204" test "$(put "$A" '{"enabled_ratio":0.25}' vpdq)" = 204
check "PUT pdq and video_md5 back on" sh -c "[ \$(curl -s -o /dev/null -w '%{http_code}' -H '$A' -X PUT -d '{\"enabled_ratio\":1.0}' $U/c/signal_type/pdq) = 204 ] && [ \$(curl -s -o /dev/null -w '%{http_code}' -H '$A' -X PUT -d '{\"enabled_ratio\":1.0}' $U/c/signal_type/video_md5) = 204 ]"
check "... listed" test "$(code -H "$R" $U/c/signal_type)" = 200
check "... [1.0, 0.25, 1.0]" py 'assert [t["enabled_ratio"] for t in o]==[1.0,0.25,1.0], o'
check "PUT vpdq 0: 204" test "$(put "$A" '{"enabled_ratio":0}' vpdq)" = 204
check "a video hashed with vpdq off: video_md5 only" test "$(code -H "$M" -F "video=@$G/h264.mp4" $U/h/hash)" = 200
check "... the file's MD5, no vpdq" py 'assert list(o)==["video_md5"] and o["video_md5"]=="'$(md5sum "$G/h264.mp4" | cut -c1-32)'", o'
check "types=vpdq while it is off: 400" test "$(code -H "$M" -F "video=@$G/h264.mp4" "$U/h/hash?types=vpdq")" = 400
check "... HMA's message" py 'assert o=={"message":"signal type '"'"'vpdq'"'"' doesn'"'"'t exist or is disabled"}, o'
check "PUT vpdq 0.25 again: 204" test "$(put "$A" '{"enabled_ratio":0.25}' vpdq)" = 204
check "... vpdq hashed again" test "$(code -H "$M" -F "video=@$G/h264.mp4" "$U/h/hash?types=vpdq")" = 200

# ---- lookups on 8 connections while pdq is switched off and on (for the sanitizers: the cache's locks)
seq 1 160 | xargs -P 8 -I{} curl -s -o /dev/null -w '%{http_code}\n' -H "$M" \
  "$U/m/raw_lookup?signal_type=pdq&signal=$BRIDGE" > "$T/codes" &
BURST=$!
for i in 1 2 3; do put "$A" '{"enabled_ratio":0}' pdq >/dev/null; sleep 0.3; put "$A" '{"enabled_ratio":1}' pdq >/dev/null; sleep 0.3; done
wait "$BURST"
check "160 lookups during the switching: each 200, 400 (off) or 429 (--max-inflight-per-token), some 200" \
  sh -c "[ \$(wc -l < '$T/codes') = 160 ] && ! grep -qv '^\(200\|400\|429\)\$' '$T/codes' && grep -q '^200\$' '$T/codes'"
check "... on again at the end" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$BRIDGE")" = 200

# ---- /c/signal_type/index: db_size exact after other processes' changes
dbsize() { curl -s -H "$R" "$U/c/signal_type/index?signal_type=pdq" | python3 -c 'import json,sys; print(json.load(sys.stdin)["pdq"]["db_size"])'; }
n0=$(dbsize)
check "db_size: the two pdq entries ($n0)" test "$n0" = 2
check "... the same when asked again (cached)" test "$(dbsize)" = 2
printf '%s\n' 0000000000000000000000000000000000000000000000000000000000000001 00000000000000000000000000000000000000000000000000000000000000ff > "$T/two.txt"
$V bank import --db "$DB" TEST_BANK "$T/two.txt" >/dev/null 2>&1
check "an import by the CLI: 4 at once" test "$(dbsize)" = 4
$V bank disable --db "$DB" TEST_BANK --hash 00000000000000000000000000000000000000000000000000000000000000ff >/dev/null 2>&1
check "an entry disabled by the CLI: 3 at once" test "$(dbsize)" = 3
$V bank create --db "$DB" OTHER >/dev/null 2>&1 && $V bank import --db "$DB" OTHER "$T/two.txt" >/dev/null 2>&1
check "a second bank: 5" test "$(dbsize)" = 5
$V bank disable --db "$DB" OTHER >/dev/null 2>&1
check "that bank disabled: 3" test "$(dbsize)" = 3
check "a content DELETE over HTTP (disables it): 2" sh -c "
  [ \$(curl -s -o /dev/null -w '%{http_code}' -H '$A' -X DELETE $U/c/bank/TEST_BANK/content/$ID) = 200 ] && [ \$(curl -s -H '$R' '$U/c/signal_type/index?signal_type=pdq' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"pdq\"][\"db_size\"])') = 2 ]"
check "a bank removed: 0 pdq... of TEST_BANK's left 0" sh -c "$V bank remove --db '$DB' TEST_BANK >/dev/null 2>&1 && [ \$(curl -s -H '$R' '$U/c/signal_type/index?signal_type=pdq' | python3 -c 'import json,sys; print(json.load(sys.stdin)[\"pdq\"][\"db_size\"])') = 0 ]"

[ -n "${KEEP_LOG:-}" ] && cp "$T/log" /tmp/vouchd_hma_types.log
check "no sanitizer report" sh -c "! grep -q 'ERROR: AddressSanitizer\|runtime error:\|WARNING: ThreadSanitizer' '$T/log'"
echo "vouchd_hma_types${VOUCH_TEST_BANK_DB:+ (PostgreSQL)}: $pass passed, $fail failed"

# ---- the same on PostgreSQL, when its server binaries are installed
if [ -z "${VOUCH_TEST_BANK_DB:-}" ] && [ "$fail" = 0 ]; then
  kill "$PID"; wait "$PID" 2>/dev/null; PID=
  (
    . "$HERE/lib/check.sh"
    . "$HERE/lib/pg_harness.sh"
    pg_start
    pg_createdb types
    env VOUCH_TEST_BANK_DB="$(pg_uri types)" bash "$0" || exit 1
    P=$(pg_uri types)
    check "PostgreSQL: migration 8 recorded" test "$(pg_psql types 'SELECT count(*) FROM vouch_schema WHERE version = 8')" = 1
    check "PostgreSQL: the ratios stored" test "$(pg_psql types "SELECT enabled_ratio FROM signal_types WHERE name = 'vpdq'")" = 0.25
    $V bank create --db "$P" XB >/dev/null 2>&1
    $V exchange add --db "$P" XX --type tat --url https://x.invalid/a --bank XB --disabled
    check "PostgreSQL: an exchange added disabled" test "$(pg_psql types "SELECT enabled FROM exchanges WHERE name = 'XX'")" = 0
    check "PostgreSQL: enabled" sh -c "$V exchange enable --db '$P' XX && $V exchange list --db '$P' --json | grep -q '\"enabled\":true'"
    check "PostgreSQL: unknown exchange" sh -c "! $V exchange disable --db '$P' NOPE 2>/dev/null"
    echo "vouchd_hma_types (PostgreSQL schema): $pass passed, $fail failed"
    [ "$fail" = 0 ]
  )
  rc=$?
  [ "$rc" = 77 ] && echo "vouchd_hma_types: PostgreSQL server binaries not installed: ran on SQLite only"
  [ "$rc" = 0 ] || [ "$rc" = 77 ] || fail=$((fail + 1))
fi
[ "$fail" = 0 ]
