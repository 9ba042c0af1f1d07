#!/bin/bash
# bench/hma_index_status.sh -- latency of HMA's GET /c/signal_type/index on a
# bank of ENTRIES PDQ entries (SQLite).  vouchd keeps the enabled-entry counts
# it answers with, keyed on the database's data version
# (vouch_bank_data_version()): a request after a change counts every entry
# again, one with no change in between is answered from the cache.  The
# baseline, measured in the same run, is the request right after a change:
# the cost every request had when the route counted per request.  With
# BASE_VOUCHD=path (a vouchd built before the cache, bank schema 4), its
# per-request time on a copy of the file is printed too.
#
# usage: bench/hma_index_status.sh [ENTRIES] [REQUESTS]    (default 1000000, 20)
# Needs: build/vouch, build/vouchd, curl, python3.
set -eu
N=${1:-1000000}
K=${2:-20}
B=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$B/build}
V=$BUILD/vouch D=$BUILD/vouchd
T=$(mktemp -d)
PID=
trap '{ [ -n "$PID" ] && kill "$PID" 2>/dev/null; } || true; rm -rf "$T"' EXIT
DB=$T/bank.sqlite

python3 -c "
import random
r = random.Random(7)
with open('$T/list.txt', 'w') as f:
    for i in range($N): f.write('%064x\n' % r.getrandbits(256))
"
$V bank create --db "$DB" BIG >/dev/null
t0=$(date +%s.%N)
$V bank import --db "$DB" BIG "$T/list.txt" >/dev/null 2>&1
echo "import of $N entries: $(python3 -c "print('%.1f' % ($(date +%s.%N) - $t0))") s"
TOK=$($D token create --db "$DB" --role reader --name r)
ONE=$(head -1 "$T/list.txt")

start() { # start VOUCHD
  rm -f "$T/port"
  "$1" --db "$DB" --listen 127.0.0.1:0 --port-file "$T/port" --threads 2 2>>"$T/log" &
  PID=$!
  for i in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
  U=http://127.0.0.1:$(cat "$T/port")
}
stop() { kill "$PID"; wait "$PID" 2>/dev/null || true; PID=; }
get() { curl -s -o "$T/body" -w '%{time_total}\n' -H "Authorization: Bearer $TOK" "$U/c/signal_type/index?signal_type=pdq"; }
median() { sort -n | awk '{a[NR]=$1} END {m=(NR%2)?a[(NR+1)/2]:(a[NR/2]+a[NR/2+1])/2; printf "%.4f", m}'; }

start "$D"
get >/dev/null
python3 -c "import json; o=json.load(open('$T/body')); assert o['pdq']['db_size']==$N, o"
: > "$T/cached"; : > "$T/changed"
for i in $(seq 1 "$K"); do get >> "$T/cached"; done
for i in $(seq 1 "$K"); do # one entry disabled or enabled by another process, then the request
  if [ $((i % 2)) = 1 ]; then $V bank disable --db "$DB" BIG --hash "$ONE" 2>/dev/null; else $V bank enable --db "$DB" BIG --hash "$ONE" 2>/dev/null; fi
  get >> "$T/changed"
  want=$((N - i % 2))
  python3 -c "import json; o=json.load(open('$T/body')); assert o['pdq']['db_size']==$want, (o, $want)"
done
stop
c=$(median < "$T/cached") r=$(median < "$T/changed")
echo "GET /c/signal_type/index at $N entries, median of $K: after a change (counted) $r s, unchanged (cached) $c s; ratio $(python3 -c "print('%.0f' % ($r / $c))") x"
if [ -n "${BASE_VOUCHD:-}" ]; then # a copy taken back to bank schema 4, which it reads
  python3 -c "
import sqlite3, shutil
shutil.copy('$DB', '$T/base.sqlite')
c = sqlite3.connect('$T/base.sqlite')
c.executescript('DROP TABLE signal_types; ALTER TABLE exchanges DROP COLUMN enabled; PRAGMA user_version=4')
c.close()"
  DB=$T/base.sqlite
  start "$BASE_VOUCHD"
  get >/dev/null
  : > "$T/base"
  for i in $(seq 1 "$K"); do get >> "$T/base"; done
  stop
  echo "baseline vouchd ($BASE_VOUCHD), counting per request: median $(median < "$T/base") s"
fi
