#!/bin/bash
# tests/cli/vouchd_follow.sh -- vouchd --follow on an SQLite bank file
# (programs/httpd/replica.c): the index is built at start and rebuilt within
# seconds of every change, so an entry added or removed through the HMA
# curation routes matches, or stops matching, without a rebuild request, and
# /status comes back to READY by itself (as HMA's matchers do).
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
EX=$SRC/examples
. "$(dirname "$0")/lib/vouchd_harness.sh"
SCALE=${VOUCH_TIME_SCALE:-1}
DB=$T/db.sqlite
$V bank create --db "$DB" KNOWN >/dev/null
ADMIN=$($D token create --db "$DB" --role admin --name admin)
MATCH=$($D token create --db "$DB" --role matcher --name matcher)
A="Authorization: Bearer $ADMIN"; M="Authorization: Bearer $MATCH"
$D --db "$DB" --index "$T/idx.vidx" --follow --listen 127.0.0.1:0 --port-file "$T/port" --threads 2 2>> "$T/log" &
PID=$!
for i in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
U=http://127.0.0.1:$(cat "$T/port")
WEE=$($V hash --exact "$EX/wee.jpg" | awk '{print $1}')
# wait_for SECONDS COMMAND...: true once COMMAND succeeds
wait_for() { local n=$(( $1 * 10 * SCALE )); shift; for _ in $(seq 1 $n); do "$@" && return 0; sleep 0.1; done; return 1; }
ready() { [ "$(curl -s --max-time 2 $U/readyz)" = READY ]; }
matches() { curl -s --max-time 5 -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=$WEE" | grep -q "\"matches\": \[$1\]\|\"matches\":\[$1\]"; }

check "the first index is built at start: READY within 5 s" wait_for 5 ready
check "nothing matches yet" matches ""
t0=$(date +%s%N)
check "add wee.jpg through /c/" test "$(code -H "$A" -X POST -d "{\"pdq\":\"$WEE\"}" $U/c/bank/KNOWN/signal)" = 200
ID=$(python3 -c "import json; print(json.load(open('$T/body'))['id'])")
check "it matches within 5 s, without a rebuild request" wait_for 5 matches "$ID"
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
echo "added -> matchable in $ms ms"
check "READY again" wait_for 5 ready
check "delete it" test "$(code -H "$A" -X DELETE $U/c/bank/KNOWN/content/$ID)" = 200
check "it stops matching within 5 s" wait_for 5 matches ""
check "the log says why the index changed" grep -q "follow: index rebuilt after a change" "$T/log"
kill "$PID"; wait "$PID" 2>/dev/null; PID=
check "no temporary index left" test ! -e "$T/idx.vidx.follow.tmp"
check "no sanitizer report" sh -c "! grep -q 'Sanitizer' '$T/log'"
echo "vouchd_follow: $pass passed, $fail failed"
[ "$fail" = 0 ]
