#!/bin/bash
# tests/cli/vouchd_replicas.sh -- three vouchd replicas on one PostgreSQL
# (lib/pg_harness.sh), each following the database (replica.c):
#  (a) an entry added through one replica matches on all three within 5 s,
#      and one disabled through another stops matching on all within 5 s;
#  (b) a replica killed with -9 and restarted serves the same answers;
#  (c) PostgreSQL restarted: matching goes on from memory meanwhile, and a
#      change made afterwards reaches every replica within 5 s;
#  a client matching on two replicas meanwhile gets only 200s, and the answers
#  of the three replicas are identical throughout.
# Skipped (77) only when the PostgreSQL server binaries or curl are absent.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
HERE=$(cd "$(dirname "$0")" && pwd)
command -v curl >/dev/null || { echo "curl not installed; skipping"; exit 77; }
. "$HERE/lib/check.sh"
. "$HERE/lib/pg_harness.sh"
pg_start
PIDS=(0 0 0)
stop_all() { for p in "${PIDS[@]}"; do [ "$p" != 0 ] && kill -9 "$p" 2>/dev/null; done; }
trap 'stop_all; pg_stop' EXIT

pg_createdb rep
DB=$(pg_uri rep)
hx() { python3 -c "import hashlib,sys; print(hashlib.sha256(sys.argv[1].encode()).hexdigest())" "$1"; }
python3 -c 'import hashlib
print("hash,id")
for i in range(1, 201): print("%s,base%d" % (hashlib.sha256(b"base%d" % i).hexdigest(), i))' > "$T/base.csv"
$V bank create --db "$DB" list >/dev/null 2>&1
$V bank import --db "$DB" list "$T/base.csv" --source s >/dev/null 2>&1
ADMIN=$($D token create --db "$DB" --role admin --name admin)
MATCH=$($D token create --db "$DB" --role matcher --name matcher)
A="Authorization: Bearer $ADMIN" M="Authorization: Bearer $MATCH"

start() { # start K
  rm -f "$T/port$1"
  $D --db "$DB" --index "$T/idx$1.vidx" --listen 127.0.0.1:0 --port-file "$T/port$1" --threads 2 \
     --no-access-log 2>>"$T/log$1" &
  PIDS[$1]=$!
  for i in $(seq 1 200); do [ -s "$T/port$1" ] && break; sleep 0.05; done
  eval "U$1=http://127.0.0.1:$(cat "$T/port$1")"
}
url() { eval echo "\$U$1"; }
ready() { test "$(curl -s -o /dev/null -w '%{http_code}' "$(url "$1")/readyz")" = 200; }
# match K HASH: the entry ids vouchd reports for HASH at radius 0, sorted
match() {
  curl -s --max-time 10 -H "$M" -X POST -d "{\"hashes\":[\"$2\"]}" "$(url "$1")/v1/match?radius=0" |
    python3 -c 'import json,sys
o=json.load(sys.stdin); print(" ".join(sorted(m["id"] for r in o["results"] for m in r["matches"])))' 2>/dev/null
}
# within S K HASH WANT: polls until replica K answers WANT for HASH, at most S seconds
within() {
  local end=$(($(date +%s%N) + $1 * 1000000000))
  while [ "$(date +%s%N)" -lt $end ]; do [ "$(match "$2" "$3")" = "$4" ] && return 0; sleep 0.1; done
  echo "replica $2 answers '$(match "$2" "$3")' for $3, want '$4'" >&2
  return 1
}
same_answers() { # the three replicas answer a batch identically
  local body='{"hashes":["'$(hx base1)'","'$(hx base2)'","'$(hx added1)'","'$(hx nothing)'"]}'
  for k in 0 1 2; do
    curl -s -H "$M" -X POST -d "$body" "$(url $k)/v1/match?radius=0" | python3 -c 'import json,sys
o=json.load(sys.stdin); print(json.dumps([[(m["id"],m["bank"],m["distance"]) for m in r["matches"]] for r in o["results"]]))' > "$T/ans$k"
  done
  cmp -s "$T/ans0" "$T/ans1" && cmp -s "$T/ans0" "$T/ans2" && test -s "$T/ans0"
}

for k in 0 1 2; do start $k; done
for k in 0 1 2; do
  for i in $(seq 1 100); do ready $k && break; sleep 0.1; done
  check "replica $k ready (its first build loaded)" ready $k
done
check "replica 0 matches a base entry" test "$(match 0 "$(hx base7)")" = base7

# (a) add through replica 0: matchable everywhere within 5 s
printf 'hash,id\n%s,added1\n' "$(hx added1)" > "$T/add1.csv"
t0=$(date +%s%N)
check "add through replica 0" test "$(curl -s -o /dev/null -w '%{http_code}' -H "$A" -X POST --data-binary @"$T/add1.csv" "$(url 0)/v1/banks/list/import?source=s")" = 200
for k in 0 1 2; do check "added entry matches on replica $k within 5 s" within 5 $k "$(hx added1)" added1; done
date +%s%N > "$T/t1"
echo "add-to-match on all three: $((($(cat "$T/t1") - t0) / 1000000)) ms"
# disable through replica 1: gone everywhere within 5 s
check "disable through replica 1" test "$(curl -s -o /dev/null -w '%{http_code}' -H "$A" -X POST -d "{\"by\":\"id\",\"value\":\"base2\"}" "$(url 1)/v1/banks/list/entries/disable")" = 200
for k in 0 1 2; do check "disabled entry gone on replica $k within 5 s" within 5 $k "$(hx base2)" ""; done
check "identical answers after add and disable" same_answers

# a client keeps matching on replicas 0 and 2 through (b) and (c): every answer must be a 200
client() {
  local body="{\"hashes\":[\"$(hx base7)\"]}"
  while [ ! -f "$T/client.stop" ]; do
    for k in 0 2; do
      curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 -H "$M" -X POST -d "$body" "$(url $k)/v1/match?radius=0" >> "$T/client.codes"
    done
    sleep 0.1
  done
}
client & CLIENT=$!

# (b) kill -9 a replica and restart it
kill -9 "${PIDS[1]}"; wait "${PIDS[1]}" 2>/dev/null; PIDS[1]=0
check "the others still answer while replica 1 is down" test "$(match 2 "$(hx added1)")" = added1
start 1
for i in $(seq 1 100); do ready 1 && break; sleep 0.1; done
check "restarted replica ready" ready 1
check "identical answers after the restart" same_answers

# (c) restart PostgreSQL: matching goes on from memory; later changes still arrive
pg_as "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m fast -w stop >/dev/null
check "matching while PostgreSQL is down" test "$(match 0 "$(hx base7)")" = base7
pg_launch
printf 'hash,id\n%s,added2\n' "$(hx added2)" > "$T/add2.csv"
code=000
for i in $(seq 1 50); do
  code=$(curl -s -o /dev/null -w '%{http_code}' -H "$A" -X POST --data-binary @"$T/add2.csv" "$(url 2)/v1/banks/list/import?source=s")
  [ "$code" = 200 ] && break; sleep 0.1
done
check "add through replica 2 after the PostgreSQL restart ($code)" test "$code" = 200
for k in 0 1 2; do check "entry added after the restart matches on replica $k within 5 s" within 5 $k "$(hx added2)" added2; done
check "identical answers at the end" same_answers
touch "$T/client.stop"; wait $CLIENT
check "the client's $(wc -l < "$T/client.codes") requests during the failures all answered 200" \
  test "$(grep -vc '^200$' "$T/client.codes")" = 0 -a "$(wc -l < "$T/client.codes")" -gt 10
check "the base entries are all still there" test "$($V bank show --db "$DB" list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])')" = 202

# --roles: a replica for hashing and vouchers only answers 404 on the others and is ready without an index
$D --db "$DB" --roles hash,vouchers --listen 127.0.0.1:0 --port-file "$T/port3" --threads 2 --no-access-log 2>>"$T/log3" &
PIDS+=($!)
for i in $(seq 1 200); do [ -s "$T/port3" ] && break; sleep 0.05; done
U3=http://127.0.0.1:$(cat "$T/port3")
check "--roles hash,vouchers: match not served (404)" test "$(curl -s -o "$T/ns" -w '%{http_code}' -H "$M" -X POST -d "{\"hashes\":[\"$(hx base1)\"]}" $U3/v1/match)" = 404
check "--roles: says not_served" grep -q not_served "$T/ns"
check "--roles hash,vouchers: banks not served (404)" test "$(curl -s -o /dev/null -w '%{http_code}' -H "$A" $U3/v1/banks)" = 404
check "--roles hash,vouchers: ready without an index" test "$(curl -s -o /dev/null -w '%{http_code}' $U3/readyz)" = 200
$D --db "$DB" --roles bogus --listen 127.0.0.1:0 2>/dev/null; check "--roles bogus refused (2)" test $? = 2

stop_all
echo "vouchd_replicas: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
