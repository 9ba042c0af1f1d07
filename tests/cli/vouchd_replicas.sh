#!/bin/bash
# tests/cli/vouchd_replicas.sh -- three vouchd replicas on one PostgreSQL
# (lib/pg_harness.sh), each following the database (replica.c):
#  (a) an entry added through one replica matches on all three within 5 s,
#      and one disabled through another stops matching on all within 5 s;
#  (b) a replica killed with -9 and restarted serves the same answers;
#  (c) PostgreSQL restarted: matching goes on from memory meanwhile, and a
#      change made afterwards reaches every replica within 5 s;
#  (d) background snapshot rebuilds (the delta past --delta-max, a new bank)
#      while the client matches: every replica moves to the same new snapshot
#      root, and later changes still arrive within 5 s;
#  an add, a disable and a source added with psql arrive WITHOUT a rebuild
#  (the replicas keep their snapshot root and report a delta in /status);
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
     --delta-max 6 --no-access-log 2>>"$T/log$1" &
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
# no rebuild for them: one snapshot built (by one replica), the same root everywhere, a delta in /status
st() { curl -s --max-time 10 "$(url "$1")/status?format=json" | python3 -c 'import json,sys; print(json.load(sys.stdin)[sys.argv[1]])' "$2"; }
check "one snapshot built in all, by one replica" test "$(cat "$T"/log* | grep -c 'built and published')" = 1
R0=$(st 0 snapshot_root) S0=$(st 0 snapshot_seq)
for k in 0 1 2; do
  check "replica $k: same snapshot root ($R0)" test -n "$R0" -a "$(st $k snapshot_root)" = "$R0"
  check "replica $k: add and disable in its delta" test "$(st $k delta_entries)" -ge 2
  check "replica $k: status I-AM-ALIVE (HMA's word for fresh), 0 s behind" test "$(st $k status)/$(st $k seconds_behind)" = I-AM-ALIVE/0.0
done
# a source added behind vouchd's back (psql) reaches the answers, also without a rebuild
pg_psql rep "INSERT INTO entry_sources(entry_id, source) SELECT id, 'zz-psql' FROM entries WHERE ext_id = 'base3'"
srcs() { curl -s --max-time 10 -H "$M" -X POST -d "{\"hashes\":[\"$(hx base3)\"]}" "$(url "$1")/v1/match?radius=0" | grep -c zz-psql; }
for k in 0 1 2; do
  ok=0; for i in $(seq 1 50); do [ "$(srcs $k)" -ge 1 ] && { ok=1; break; }; sleep 0.1; done
  check "replica $k: the new source shows within 5 s" test $ok = 1
done
check "still one snapshot built" test "$(cat "$T"/log* | grep -c 'built and published')" = 1

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
check "identical answers after the PostgreSQL restart" same_answers

# (d) background snapshot rebuilds while the client matches: 10 entries at once pass --delta-max 6
python3 -c 'import hashlib
print("hash,id")
for i in range(1, 11): print("%s,bulk%d" % (hashlib.sha256(b"bulk%d" % i).hexdigest(), i))' > "$T/bulk.csv"
check "bulk add through replica 0" test "$(curl -s -o /dev/null -w '%{http_code}' -H "$A" -X POST --data-binary @"$T/bulk.csv" "$(url 0)/v1/banks/list/import?source=s")" = 200
for k in 0 1 2; do check "bulk entry matches on replica $k within 5 s" within 5 $k "$(hx bulk10)" bulk10; done
new_snap() { # new_snap K SEQ: replica K moved to a snapshot of a change after SEQ and needs none, within 30 s
  # (its delta may hold changes made after the snapshot's build began: the add below can land either side;
  # and the root may be the old one: it covers the entries, and a new empty bank adds none)
  local end=$(($(date +%s) + 30)) j
  while [ "$(date +%s)" -lt $end ]; do
    j=$(curl -s --max-time 10 "$(url "$1")/status?format=json")
    echo "$j" | python3 -c 'import json,sys; j=json.load(sys.stdin); sys.exit(not (j["snapshot_seq"] > int(sys.argv[1]) and not j["snapshot_needed"] and j["snapshot_root"]))' "$2" 2>/dev/null && return 0
    sleep 0.1
  done
  echo "replica $1: $j" >&2
  return 1
}
for k in 0 1 2; do check "replica $k: on a new snapshot after the delta passed its bound" new_snap $k "$S0"; done
R1=$(st 0 snapshot_root) S1=$(st 0 snapshot_seq)
for k in 1 2; do check "replica $k: the same new root" test "$(st $k snapshot_root)" = "$R1"; done
# a new bank needs a snapshot (a delta of entries cannot add a bank): rebuilt in the background too
$V bank create --db "$DB" second >/dev/null 2>&1
printf 'hash,id\n%s,second1\n' "$(hx second1)" > "$T/sec.csv"
check "add to the new bank through replica 1" test "$(curl -s -o /dev/null -w '%{http_code}' -H "$A" -X POST --data-binary @"$T/sec.csv" "$(url 1)/v1/banks/second/import?source=s")" = 200
for k in 0 1 2; do check "entry of the new bank matches on replica $k within 10 s" within 10 $k "$(hx second1)" second1; done
for k in 0 1 2; do check "replica $k: on a newer snapshot for the new bank" new_snap $k "$S1"; done
printf 'hash,id\n%s,added3\n' "$(hx added3)" > "$T/add3.csv"
curl -s -o /dev/null -H "$A" -X POST --data-binary @"$T/add3.csv" "$(url 2)/v1/banks/list/import?source=s"
for k in 0 1 2; do check "entry added after the rebuilds matches on replica $k within 5 s" within 5 $k "$(hx added3)" added3; done
check "identical answers at the end" same_answers
echo "snapshots built: $(cat "$T"/log* | grep -c 'built and published'); fetched: $(cat "$T"/log* | grep -c 'from PostgreSQL')"
touch "$T/client.stop"; wait $CLIENT
check "the client's $(wc -l < "$T/client.codes") requests during the failures all answered 200" \
  test "$(grep -vc '^200$' "$T/client.codes")" = 0 -a "$(wc -l < "$T/client.codes")" -gt 10
check "the base entries are all still there" test "$($V bank show --db "$DB" list --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["entries"])')" = 213

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
