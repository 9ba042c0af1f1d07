#!/bin/bash
# bench/pg_replicas.sh -- vouchd replicas on PostgreSQL: what a new replica
# takes to join, what an added entry takes to be matchable on every replica,
# and the index build from PostgreSQL against the same build from an SQLite
# bank file (the single-box baseline, measured in the same run).
#
# usage: bench/pg_replicas.sh [ENTRIES] [REPLICAS]     (default 100000, 2)
#        SKIP_SQLITE=1: no SQLite baseline nor separate build (the slow parts at 10M)
#
# A scratch PostgreSQL is started as in the tests (tests/cli/lib/pg_harness.sh).
# The entries (random PDQ hashes) are loaded with COPY, not through vouch: the
# bench measures the replicas, not the import.  Then:
#  1. vouch index build from the SQLite file and from PostgreSQL (same rows);
#  2. replica 0 starts first and builds the first snapshot (its join = a
#     build); the others join from the published snapshot, alternately from
#     the database's chunks and from a shared --snapshot-dir (join: start to
#     /readyz = 200), and each one's resident memory;
#  3. add-to-match: one entry imported through replica 0, time until every
#     replica matches it (median of 5): snapshot + delta, no rebuild;
#  4. p99 latency of 100-hash /v1/match requests on the last replica, before
#     and during a background snapshot rebuild (forced by creating a bank);
#  5. lookups/s (100 hashes a request, 4 client threads) on one replica and
#     on two at once.
# Needs: build/vouch, build/vouchd, postgresql, curl, python3.
set -eu
N=${1:-100000}
R=${2:-2}
B=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$B/build}
V=$BUILD/vouch D=$BUILD/vouchd
T=$(mktemp -d)
. "$B/tests/cli/lib/pg_harness.sh"
pg_start
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill -9 $p 2>/dev/null; done; pg_stop; rm -rf "$T"' EXIT
ms() { echo $(( ($(date +%s%N) - $1) / 1000000 )); }

echo "== $N entries, $R replicas (shared machine: other jobs run too)"
python3 - "$N" "$T" <<'PY'
import os, sys
n, t = int(sys.argv[1]), sys.argv[2]
rnd = open("/dev/urandom", "rb")
with open(t + "/list.csv", "w") as a, open(t + "/copy.csv", "w") as c:
    a.write("hash,id\n")
    for i in range(n):
        h = rnd.read(32).hex()
        a.write("%s,e%d\n" % (h, i))
        c.write("1,\\x%s,e%d,1,1700000000\n" % (h, i))
PY
pg_createdb rb
DB=$(pg_uri rb)
$V bank create --db "$DB" big >/dev/null 2>&1
t=$(date +%s%N)
# (the per-row change-number triggers are off during the bulk load; the load
# is then recorded as one change a delta cannot express)
pg_psql rb "ALTER TABLE entries DISABLE TRIGGER USER"
pg_psql rb "\\copy entries(bank_id, hash, ext_id, enabled, added_at) FROM '$T/copy.csv' WITH (FORMAT csv)"
pg_psql rb "ALTER TABLE entries ENABLE TRIGGER USER"
pg_psql rb "UPDATE vouch_state SET seq = seq + 1, full_seq = seq + 1"
echo "load (COPY into PostgreSQL): $(ms $t) ms"
if [ "${SKIP_SQLITE:-0}" = 1 ]; then
  echo "(SQLite baseline skipped; replica 0's first snapshot is the build from PostgreSQL)"
else
$V bank create --db "$T/b.sqlite" big >/dev/null 2>&1
  t=$(date +%s%N)
  $V bank import --db "$T/b.sqlite" big "$T/list.csv" >/dev/null 2>&1
  echo "load (vouch bank import into SQLite): $(ms $t) ms"
  
  t=$(date +%s%N); $V index build --db "$T/b.sqlite" -o "$T/s.vidx" >/dev/null 2>&1; SQ=$(ms $t)
  t=$(date +%s%N); $V index build --db "$DB" -o "$T/p.vidx" >/dev/null 2>&1; PG=$(ms $t)
  echo "index build: SQLite $SQ ms, PostgreSQL $PG ms (ratio $(python3 -c "print(round($PG/max($SQ,1),2))"))"
  cmp -s "$T/s.vidx" "$T/p.vidx" && echo "  (the two index files are byte-identical)" || echo "  (index files differ: COPY numbers the entries in file order, vouch bank import in hash order)"
  
fi

ADMIN=$($D token create --db "$DB" --role admin --name admin)
MATCH=$($D token create --db "$DB" --role matcher --name matcher)
mkdir -p "$T/shared"
for k in $(seq 0 $((R - 1))); do
  t=$(date +%s%N)
  how="builds the first snapshot"; SD=()
  if [ $k -gt 0 ]; then
    if [ $((k % 2)) = 1 ]; then how="fetches it from PostgreSQL"; else how="reads it from --snapshot-dir"; SD=(--snapshot-dir "$T/shared"); fi
  fi
  $D --db "$DB" --index "$T/i$k.vidx" --listen 127.0.0.1:0 --port-file "$T/port$k" --threads 2 --no-access-log \
    "${SD[@]}" 2>>"$T/log$k" &
  PIDS+=($!)
  while [ ! -s "$T/port$k" ]; do sleep 0.02; done
  U=http://127.0.0.1:$(cat "$T/port$k")
  while [ "$(curl -s -o /dev/null -w '%{http_code}' "$U/readyz")" != 200 ]; do sleep 0.05; done
  echo "replica $k ($how): joined (start to /readyz 200) in $(ms $t) ms; RSS $(awk '/VmRSS/{print $2, $3}' /proc/${PIDS[$k]}/status)"
  if [ $k = 0 ]; then # replica 0 published it in PostgreSQL; the shared directory gets a copy under its root
    ROOT=$(curl -s "$U/status?format=json" | python3 -c 'import json,sys; print(json.load(sys.stdin)["snapshot_root"])')
    cp "$T/i0.vidx" "$T/shared/$ROOT.vidx"
  fi
done
grep -h "follow: snapshot" "$T"/log* | sed 's/^/  /'

lat=()
for j in 1 2 3 4 5; do
  h=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
  printf 'hash,id\n%s,new%d\n' "$h" "$j" > "$T/add.csv"
  t=$(date +%s%N)
  curl -s -o /dev/null -H "Authorization: Bearer $ADMIN" -X POST --data-binary @"$T/add.csv" \
    "http://127.0.0.1:$(cat "$T/port0")/v1/banks/big/import?source=bench"
  for k in $(seq 0 $((R - 1))); do
    until curl -s -H "Authorization: Bearer $MATCH" -X POST -d "{\"hashes\":[\"$h\"]}" \
        "http://127.0.0.1:$(cat "$T/port$k")/v1/match?radius=0" | grep -q "new$j"; do sleep 0.05; done
  done
  lat+=($(ms $t))
done
echo "add-to-match on all $R replicas (ms, 5 runs): ${lat[*]}; median $(printf '%s\n' "${lat[@]}" | sort -n | sed -n 3p)"
echo "  rebuilds during them: $(cat "$T"/log* | grep -c 'built and published') snapshot build(s) in all (the first one included)"

# the load client: N threads of 100-hash /v1/match for S seconds on the given ports; prints count, lookups/s, p50, p99
cat > "$T/load.py" <<'PY'
import http.client, json, os, sys, threading, time
secs, threads, tok, ports = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4:]
stopfile = os.environ.get("STOP_FILE")  # stop early once this file exists
body = json.dumps({"hashes": [os.urandom(32).hex() for _ in range(100)]})
lat, lock, stop = [], threading.Lock(), time.time() + secs
t_start = time.time()
bad = [0]
def run(i):
    c = http.client.HTTPConnection("127.0.0.1", int(ports[i % len(ports)]), timeout=30)
    mine = []
    while time.time() < stop and not (stopfile and os.path.exists(stopfile)):
        t = time.perf_counter()
        c.request("POST", "/v1/match?radius=31", body, {"Authorization": "Bearer " + tok})
        r = c.getresponse(); r.read()
        if r.status != 200: bad[0] += 1
        mine.append(time.perf_counter() - t)
    with lock: lat.extend(mine)
ts = [threading.Thread(target=run, args=(i,)) for i in range(threads)]
[t.start() for t in ts]; [t.join() for t in ts]
lat.sort()
n = len(lat)
secs = time.time() - t_start
print("%.0f s: %d requests, %.0f lookups/s, p50 %.1f ms, p99 %.1f ms, %d not 200" % (secs, n, n * 100 / secs, lat[n // 2] * 1e3, lat[min(n - 1, int(n * 0.99))] * 1e3, bad[0]))
PY
L=$((R - 1))
echo "p99 of 100-hash lookups on replica $L (2 client threads, 10 s each):"
echo "  before: $(python3 "$T/load.py" 10 2 "$MATCH" "$(cat "$T/port$L")")"
n0=$(cat "$T"/log* | grep -c 'snapshot .* loaded')
$V bank create --db "$DB" other >/dev/null 2>&1 # a new bank: a snapshot is rebuilt in the background
STOP_FILE="$T/rebuilt" python3 "$T/load.py" 900 2 "$MATCH" "$(cat "$T/port$L")" > "$T/during" &
LOADP=$!
t=$(date +%s%N)
until [ $(( $(cat "$T"/log* | grep -c "snapshot .* loaded") - n0 )) -ge $R ] || [ $(ms $t) -gt 900000 ]; do sleep 0.2; done
touch "$T/rebuilt"; wait $LOADP
echo "  during a background snapshot rebuild (build, publish, every replica fetching and loading it: $(ms $t) ms): $(cat "$T/during")"
echo "lookups/s, 4 client threads for 10 s (client on the same 2 cores):"
echo "  one replica:  $(python3 "$T/load.py" 10 4 "$MATCH" "$(cat "$T/port0")")"
[ $R -ge 2 ] && echo "  two replicas: $(python3 "$T/load.py" 10 4 "$MATCH" "$(cat "$T/port0")" "$(cat "$T/port1")")"
for k in $(seq 0 $((R - 1))); do echo "replica $k RSS $(awk '/VmRSS/{print $2, $3}' /proc/${PIDS[$k]}/status)"; done
