#!/bin/bash
# bench/pg_replicas.sh -- vouchd replicas on PostgreSQL: what a new replica
# takes to join, what an added entry takes to be matchable on every replica,
# and the index build from PostgreSQL against the same build from an SQLite
# bank file (the single-box baseline, measured in the same run).
#
# usage: bench/pg_replicas.sh [ENTRIES] [REPLICAS]     (default 100000, 2)
#
# A scratch PostgreSQL is started as in the tests (tests/cli/lib/pg_harness.sh).
# The entries (random PDQ hashes) are loaded with COPY, not through vouch: the
# bench measures the replicas, not the import.  Then:
#  1. vouch index build from the SQLite file and from PostgreSQL (same rows);
#  2. REPLICAS vouchd --db postgresql:// --index (following): time from start
#     to /readyz = 200 (join: the first build from the database and its load),
#     and each one's resident memory;
#  3. add-to-match: one entry imported through replica 0, time until every
#     replica matches it (median of 5).
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
pg_psql rb "\\copy entries(bank_id, hash, ext_id, enabled, added_at) FROM '$T/copy.csv' WITH (FORMAT csv)"
echo "load (COPY into PostgreSQL): $(ms $t) ms"
$V bank create --db "$T/b.sqlite" big >/dev/null 2>&1
t=$(date +%s%N)
$V bank import --db "$T/b.sqlite" big "$T/list.csv" >/dev/null 2>&1
echo "load (vouch bank import into SQLite): $(ms $t) ms"

t=$(date +%s%N); $V index build --db "$T/b.sqlite" -o "$T/s.vidx" >/dev/null 2>&1; SQ=$(ms $t)
t=$(date +%s%N); $V index build --db "$DB" -o "$T/p.vidx" >/dev/null 2>&1; PG=$(ms $t)
echo "index build: SQLite $SQ ms, PostgreSQL $PG ms (ratio $(python3 -c "print(round($PG/max($SQ,1),2))"))"
cmp -s "$T/s.vidx" "$T/p.vidx" && echo "  (the two index files are byte-identical)" || echo "  (index files differ: COPY numbers the entries in file order, vouch bank import in hash order)"

ADMIN=$($D token create --db "$DB" --role admin --name admin)
MATCH=$($D token create --db "$DB" --role matcher --name matcher)
for k in $(seq 0 $((R - 1))); do
  t=$(date +%s%N)
  $D --db "$DB" --index "$T/i$k.vidx" --listen 127.0.0.1:0 --port-file "$T/port$k" --threads 2 --no-access-log \
    2>>"$T/log$k" &
  PIDS+=($!)
  while [ ! -s "$T/port$k" ]; do sleep 0.02; done
  U=http://127.0.0.1:$(cat "$T/port$k")
  while [ "$(curl -s -o /dev/null -w '%{http_code}' "$U/readyz")" != 200 ]; do sleep 0.05; done
  echo "replica $k: joined (start to /readyz 200) in $(ms $t) ms; RSS $(awk '/VmRSS/{print $2, $3}' /proc/${PIDS[$k]}/status)"
done

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
