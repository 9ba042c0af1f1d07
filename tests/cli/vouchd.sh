#!/bin/bash
# tests/cli/vouchd.sh -- the HTTP service end to end, with a real server on a
# loopback port and curl as the client: auth and roles, hashing, limits,
# malformed requests, concurrency, SIGHUP reload, graceful SIGTERM.
set -u
D=${VOUCHD_BIN:?}
SRC=${VOUCH_SRC:?}
EX=$SRC/examples
. "$(dirname "$0")/lib/vouchd_harness.sh"
CODE_MAX_TIME=20  # seconds per request for code() (lib/vouchd_harness.sh)

ADMIN=$($D token create --db "$T/db.sqlite" --role admin --name admin)
MATCH=$($D token create --db "$T/db.sqlite" --role matcher --name phone-svc)
READ=$($D token create --db "$T/db.sqlite" --role reader --name auditor)
check "tokens created" test -n "$ADMIN" -a -n "$MATCH" -a -n "$READ"
$D token create --db "$T/db.sqlite" --role admin --name admin >/dev/null 2>&1; check "duplicate token name refused" test $? -eq 2
check "token list shows names, not secrets" bash -c "$D token list --db '$T/db.sqlite' | grep -q phone-svc && ! $D token list --db '$T/db.sqlite' | grep -q '$MATCH'"
check "only hashes at rest" bash -c "! grep -a -q '${MATCH#vd_}' '$T/db.sqlite'*"

$D --db "$T/db.sqlite" --listen 127.0.0.1:0 --port-file "$T/port" --max-body 1000000 --threads 2 --max-inflight 32 --max-inflight-per-token 32 2> "$T/log" &
PID=$!
for i in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.1; done
P=$(cat "$T/port")
U=http://127.0.0.1:$P
check "listening" test -n "$P"

check "healthz 200" test "$(code $U/healthz)" = 200
check "no token 401" test "$(code -X POST --data-binary @$EX/wee.jpg $U/v1/hash)" = 401
check "401 has a JSON error code" grep -q '"code":"unauthorized"' "$T/body"
check "bad token 401" test "$(code -H 'Authorization: Bearer vd_nope_nope_nope' -X POST --data-binary @$EX/wee.jpg $U/v1/hash)" = 401
check "reader cannot hash (403)" test "$(code -H "Authorization: Bearer $READ" -X POST --data-binary @$EX/wee.jpg $U/v1/hash)" = 403
check "matcher hashes (200)" test "$(code -H "Authorization: Bearer $MATCH" -X POST --data-binary @$EX/bridge.jpg "$U/v1/hash?exact=1")" = 200
check "exact hash = reference" grep -q '"hash":"f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"' "$T/body"
check "dihedral + phash" test "$(code -H "Authorization: Bearer $ADMIN" -X POST --data-binary @$EX/bridge.jpg "$U/v1/hash?algo=phash&dihedral=1")" = 200
check "8 variants" python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["algo"]=="phash" and len(o["dihedral"])==8 and o["quality"] is None' "$T/body"

# malformed bodies and requests
printf 'hello' > "$T/text"
check "not an image 415" test "$(code -H "Authorization: Bearer $MATCH" -X POST --data-binary @$T/text $U/v1/hash)" = 415
head -c 3000 "$EX/bridge.jpg" > "$T/trunc.jpg"
check "truncated JPEG 422" test "$(code -H "Authorization: Bearer $MATCH" -X POST --data-binary @$T/trunc.jpg $U/v1/hash)" = 422
check "empty body 400" test "$(code -H "Authorization: Bearer $MATCH" -X POST $U/v1/hash)" = 400
check "unknown algo 400" test "$(code -H "Authorization: Bearer $MATCH" -X POST --data-binary @$EX/wee.jpg "$U/v1/hash?algo=md6")" = 400
head -c 2000000 /dev/zero > "$T/big"
check "body over --max-body 413" test "$(code -H "Authorization: Bearer $MATCH" -X POST --data-binary @$T/big $U/v1/hash)" = 413
check "unknown endpoint 404" test "$(code $U/nope)" = 404
check "wrong method 405" test "$(code -H "Authorization: Bearer $MATCH" $U/v1/hash)" = 405
# raw garbage on the socket must not hurt the server
printf 'GARBAGE \x00\x01\x02 / HTTP/9.9\r\n\r\n' | timeout 5 curl -s --max-time 3 telnet://127.0.0.1:$P >/dev/null 2>&1
printf 'POST /v1/hash HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999999999999\r\n\r\nabc' | timeout 5 curl -s --max-time 3 telnet://127.0.0.1:$P >/dev/null 2>&1
check "still healthy after garbage" test "$(code $U/healthz)" = 200

# concurrent clients get the same answers (--max-inflight(-per-token) 32: none is refused)
CPIDS=
for i in $(seq 1 12); do
  curl -s --max-time 30 -H "Authorization: Bearer $MATCH" -X POST --data-binary @$EX/bridge-square.jpg "$U/v1/hash?exact=1" > "$T/c$i" &
  CPIDS="$CPIDS $!"
done
wait $CPIDS
check "12 concurrent answers identical" test "$(cat "$T"/c* | sort -u | wc -l)" -eq 1
check "and correct" grep -q '"hash":"d8f8f0cec4f4a84f0637022a078f67f0b36e2ee5b6621e1d33e6239c4e9c9b22"' "$T/c1"

# metrics
check "metrics 200" test "$(code $U/metrics)" = 200
check "metrics count hashes" grep -q '^vouchd_requests_total{route="hash",code="2xx"} 1[0-9]' "$T/body"
check "metrics latency histogram" grep -q 'vouchd_request_duration_seconds_bucket{route="hash",le="+Inf"}' "$T/body"
check "metrics index memory (no index: 0)" grep -q "^vouchd_index_memory_bytes 0$" "$T/body"

# a token created while running works after SIGHUP, not before
NEW=$($D token create --db "$T/db.sqlite" --role matcher --name late)
check "new token unknown before SIGHUP" test "$(code -H "Authorization: Bearer $NEW" -X POST --data-binary @$EX/wee.jpg $U/v1/hash)" = 401
kill -HUP "$PID"; sleep 0.5
check "new token works after SIGHUP" test "$(code -H "Authorization: Bearer $NEW" -X POST --data-binary @$EX/wee.jpg $U/v1/hash)" = 200
$D token revoke --db "$T/db.sqlite" --name late >/dev/null; kill -HUP "$PID"; sleep 0.5
check "revoked token refused after SIGHUP" test "$(code -H "Authorization: Bearer $NEW" -X POST --data-binary @$EX/wee.jpg $U/v1/hash)" = 401

# access log: one JSON line per request
check "access log lines are JSON" python3 -c '
import json,sys
n=0
for l in open(sys.argv[1]):
    if l.startswith("{"): json.loads(l); n+=1
assert n>=20, n' "$T/log"

# graceful stop: a request in flight finishes, then the process exits 0
# (the upload is slowed to ~2 s so the connection is surely open when TERM arrives)
curl -s --max-time 60 --limit-rate 180k -H "Authorization: Bearer $MATCH" -X POST --data-binary @$EX/bridge.jpg "$U/v1/hash?exact=1" > "$T/inflight" &
CURL=$!
sleep 0.7
kill -TERM "$PID"
wait "$PID"; rc=$?
PID=
wait $CURL
check "SIGTERM exits 0" test $rc -eq 0
check "log says stopped" grep -q "vouchd: stopped" "$T/log"
check "in-flight request answered" grep -q '"hash"' "$T/inflight"

echo "$pass passed, $fail failed"
test $fail -eq 0
