#!/bin/bash
# tests/cli/vouchd_sync.sh -- vouchd --sync-every: an exchange configured with
# `vouch exchange add` is synced on a schedule from the fake exchange
# (tests/cli/lib/fake_exchange.py, 127.0.0.1), its error is shown at
# GET /v1/exchanges, its entries match at /v1/match without a restart (the
# index is rebuilt), requests are answered while a slow sync runs, an admin
# can ask for a sync at once, and a stop cancels a sync in progress.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
F=$SRC/tests/fixtures/exchange
command -v python3 >/dev/null || { echo "python3 not installed; skipping"; exit 77; }
. "$(dirname "$0")/lib/vouchd_harness.sh"
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; cleanup' EXIT
[ -n "${KEEP_LOG:-}" ] && trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; cp "$T/log" /tmp/vsync.log; cleanup' EXIT
CODE_MAX_TIME=10  # seconds per request for code() (lib/vouchd_harness.sh)
# py EXPR: EXPR over the JSON in $T/body as o; x is the exchange named $X
py() { python3 -c "import json; o=json.load(open('$T/body')); x=([e for e in o.get('exchanges',[]) if e['name']=='${X:-}']+[None])[0]; print($1)"; }
serve() { # serve SCENARIO [fake_exchange args...]: (re)starts the fake TAT exchange on $XPORT (0: any)
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
  local scen=$1; shift
  rm -f "$T/xport"
  python3 "$SRC/tests/cli/lib/fake_exchange.py" --type tat --scenario "$scen" --port-file "$T/xport" \
    --log "$T/requests" --lifetime 90 --port "${XPORT:-0}" --pages "$F/tat_page1.json" "$F/tat_page2.json" "$@" &
  SPID=$!
  for i in $(seq 1 100); do [ -s "$T/xport" ] && break; sleep 0.05; done
  XPORT=$(cat "$T/xport")
  : > "$T/requests"
}
start() { # start [vouchd options...]
  rm -f "$T/port"
  $D --db "$DB" --index "$T/idx.vidx" --listen 127.0.0.1:0 --port-file "$T/port" --threads 2 "$@" 2>> "$T/log" &
  PID=$!
  for i in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
  U=http://127.0.0.1:$(cat "$T/port")
}
wait_for() { # wait_for SECONDS PYTHON-CONDITION: polls GET /v1/exchanges
  local end=$((SECONDS + $1))
  while [ $SECONDS -le $end ]; do
    code -H "$R" "$U/v1/exchanges" >/dev/null
    [ "$(py "bool($2)" 2>/dev/null)" = True ] && return 0
    sleep 0.2
  done
  echo "timed out waiting for $2 in: $(cat "$T/body")" >&2
  return 1
}
P28=044d2cc96a1895051936bcaecd954f4612de1bfbbbc4ba50ddb860ca6378c977 # page 1 adds it, page 2 deletes it
P30=70b796dd65646802da50dff4c17323a56c558429ba5ddf63943fb835196f8d86 # page 1 adds it
matches() { # matches HASH: the banks:ids /v1/match reports for HASH
  curl -s --max-time 10 -H "$M" -H 'Content-Type: application/json' -d "{\"hashes\":[\"$1\"]}" "$U/v1/match?radius=0" > "$T/body"
  py "','.join(m['bank']+':'+m['id'] for r in o.get('results',[]) for m in r['matches'])"
}

DB=$T/db.sqlite
$V bank create --db "$DB" tcap 2>/dev/null
ADMIN=$($D token create --db "$DB" --role admin --name admin)
MATCH=$($D token create --db "$DB" --role matcher --name matcher)
READ=$($D token create --db "$DB" --role reader --name reader)
A="Authorization: Bearer $ADMIN"; M="Authorization: Bearer $MATCH"; R="Authorization: Bearer $READ"
printf 'token=tat-token-3\n' > "$T/tat.cred"; chmod 600 "$T/tat.cred"

# ---- the exchange first refuses our token: the error is logged and shown
serve "" --header "Authorization: Bearer another-token"
$V exchange add --db "$DB" tat1 --type tat --url "http://127.0.0.1:$XPORT/api/hash-list" --bank tcap \
  --credentials "$T/tat.cred" 2>/dev/null
check "exchange configured" test $? = 0
start --sync-every 2
X=tat1
check "the first sync runs at start and fails" wait_for 10 "x and x['runs']>=1"
check "GET /v1/exchanges: not ok, a failure" test "$(py "[x['last']['ok'],x['failures']>=1,x['type'],x['bank']]")" = "[False, True, 'tat', 'tcap']"
check "the error names the page and the status" sh -c "python3 -c \"import json; o=json.load(open('$T/body')); print(o['exchanges'][0]['last']['error'])\" | grep -Eq '^page 1 \(http://127.0.0.1:[0-9]+/api/hash-list\): HTTP 401 \(1 try\)$'"
check "the error is logged" grep -Eq "^vouchd: sync tat1: failed after 0 pages .*HTTP 401" "$T/log"
check "next sync scheduled within --sync-every (or already running)" test "$(py "x['running'] or 0 < x['next_in_seconds'] <= 2")" = True
check "a reader may read it, no token may not" test "$(code "$U/v1/exchanges")" = 401
check "nothing matches yet" test "$(matches $P30)" = ""

# ---- the exchange is fixed, and page 1 is slow: requests are answered meanwhile
serve slow:1 --slow 8 --header "Authorization: Bearer tat-token-3"
check "the scheduled sync starts by itself" wait_for 10 "x['running']"
t0=$(date +%s%N)
check "healthz answered during the sync" test "$(code "$U/healthz")" = 200
check "match answered during the sync" test "$(code -H "$M" -d "{\"hashes\":[\"$P30\"]}" "$U/v1/match")" != 000
check "... both within 4 s (page 1 takes 8 s)" test $(( ($(date +%s%N) - t0) / 1000000 )) -lt 4000
check "the sync finishes and succeeds" wait_for 20 "x['runs']>=2 and not x['running'] and x['last']['ok']"
check "2 pages: 2 added, 1 bad, 1 skipped, 1 deleted and disabled" test \
  "$(py "[x['last'][k] for k in ('pages','added','bad','skipped','tombstones','disabled')]")" = "[2, 2, 1, 1, 1, 1]"
check "checkpoint of the last page" test "$(py "x['last']['checkpoint']")" = "1764100000.0,32"
check "the index was rebuilt: one enabled entry" test "$(py "[o['index']['entries'], o['index']['error']]")" = "[1, None]"
check "page 1's entry matches, without a restart" test "$(matches $P30)" = "tcap:30"
check "the entry page 2 deleted does not" test "$(matches $P28)" = ""
matches $P30 >/dev/null
check "the match carries the exchange's category and tags" test "$(py "o['results'][0]['matches'][0]['tags']")" = "category:islamist,png"
check "rebuild logged" grep -q "^vouchd: sync: index rebuilt: 1 entries" "$T/log"
check "no secret in the log" sh -c "! grep -q tat-token-3 '$T/log'"

# ---- an admin asks for a sync at once; it resumes from the checkpoint
: > "$T/requests"
check "a reader may not ask (403)" test "$(code -H "$R" -X POST "$U/v1/exchanges/tat1/sync")" = 403
check "an unknown exchange (404)" test "$(code -H "$A" -X POST "$U/v1/exchanges/nope/sync")" = 404
check "admin: 202, queued" test "$(code -H "$A" -X POST "$U/v1/exchanges/tat1/sync")" = 202
check "... names it" test "$(py "o['queued']")" = "['tat1']"
check "it runs" wait_for 10 "x['runs']>=3 and not x['running']"
check "from the stored checkpoint" grep -q "^/api/hash-list?after=1764100000.0%2C32$" "$T/requests"
check "nothing new: no rebuild" test "$(py "o['index']['rebuilds']")" = 1

# ---- a bank's own radius (vouch bank radius) is honoured by /v1/match after a reload
Q3=$(python3 -c "h=bytearray.fromhex('$P30'); h[0]^=0x07; print(h.hex())") # 3 bits from P30
near() { # near [QUERY-STRING]: the banks:ids and the answer's bank_radius for Q3
  curl -s --max-time 10 -H "$M" -H 'Content-Type: application/json' -d "{\"hashes\":[\"$Q3\"]}" "$U/v1/match${1:-}" > "$T/body"
  py "','.join(m['bank']+':'+m['id'] for r in o['results'] for m in r['matches'])+' '+str(o.get('bank_radius'))+' '+str(o['radius'])"
}
hup() { # SIGHUP, then wait for the reload to be logged
  local n; n=$(grep -c "reloaded the index" "$T/log")
  kill -HUP "$PID"
  for i in $(seq 1 100); do [ "$(grep -c "reloaded the index" "$T/log")" -gt "$n" ] && return; sleep 0.1; done
}
check "3 bits away matches at the default radius" test "$(near)" = "tcap:30 None 31"
$V bank radius --db "$DB" tcap 2 2>/dev/null
hup
check "after SIGHUP, tcap's radius 2 leaves it out" test "$(near)" = " {'tcap': 2} 2"
check "an explicit ?radius= overrides the bank's" test "$(near '?radius=31')" = "tcap:30 None 31"
$V bank radius --db "$DB" tcap 40 2>/dev/null
hup
check "a wider bank radius is searched at" test "$(near)" = "tcap:30 {'tcap': 40} 40"
$V bank radius --db "$DB" tcap default 2>/dev/null
hup
check "default again" test "$(near)" = "tcap:30 None 31"

# ---- a new exchange is picked up by POST /v1/exchanges/sync; a stop cancels its slow sync
$V bank create --db "$DB" tcap2 2>/dev/null
serve slow:1 --slow 30 --header "Authorization: Bearer tat-token-3"
$V exchange add --db "$DB" tat2 --type tat --url "http://127.0.0.1:$XPORT/api/hash-list" --bank tcap2 \
  --credentials "$T/tat.cred" 2>/dev/null
check "sync all: 202" test "$(code -H "$A" -X POST "$U/v1/exchanges/sync")" = 202
X=tat2
check "the new exchange runs" wait_for 10 "x and x['running']"
t0=$SECONDS
kill -TERM "$PID"; wait "$PID"; st=$?; PID=
check "vouchd stops cleanly within 10 s of SIGTERM, mid-sync (page 1 takes 30 s)" test "$st,$(( SECONDS - t0 <= 10 ))" = "0,1"
check "the sync was cancelled" grep -Eq "^vouchd: sync tat2: failed after 0 pages .*cancelled" "$T/log"

# ---- without --sync-every
start
check "GET: sync_every 0, no exchanges" test "$(code -H "$R" "$U/v1/exchanges"),$(py "[o['sync_every'],o['exchanges']]")" = "200,[0, []]"
check "POST: 409" test "$(code -H "$A" -X POST "$U/v1/exchanges/sync")" = 409
kill -TERM "$PID"; wait "$PID"; PID=
echo "$pass passed, $fail failed"
test $fail -eq 0
