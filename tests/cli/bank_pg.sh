#!/bin/bash
# tests/cli/bank_pg.sh -- the bank tests on the PostgreSQL backend: a scratch
# server (lib/pg_harness.sh), then unit/test_bank's bank tests and
# cli/bank_match.sh with their banks in PostgreSQL databases, and the CLI on
# a postgresql:// URI (create, import, export, index build, match, the same
# answers as on SQLite).  Skipped (77) only when the server binaries are absent.
set -u
V=${VOUCH_BIN:?VOUCH_BIN not set}
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/lib/check.sh"
. "$HERE/lib/pg_harness.sh"
pg_start
TESTS=$(dirname "$V")/tests

# a unit test program with its banks in PostgreSQL
pg_unit() {
  if [ -x "$TESTS/$1" ]; then
    check "$1 on PostgreSQL" env VOUCH_TEST_PG_HOST="$PG_HOST" VOUCH_TEST_PG_PORT="$PG_PORT" \
      VOUCH_TEST_PG_BIN="$PG_BIN" "$TESTS/$1"
  else
    echo "FAIL: $TESTS/$1 not built" >&2
    fail=$((fail + 1))
  fi
}
pg_unit test_bank   # the bank tests
pg_unit test_follow # snapshot + delta against rebuilds, published snapshots

# cli/bank_match.sh with its bank in PostgreSQL
pg_createdb bm
check "bank_match.sh on PostgreSQL" env VOUCH_TEST_BANK_DB="$(pg_uri bm)" bash "$HERE/bank_match.sh"

# cli/audit_bank.sh (stored signed lists, audited index builds) with its banks in PostgreSQL
pg_createdb ab1 && pg_createdb ab2
check "audit_bank.sh on PostgreSQL" env VOUCH_TEST_BANK_DB="$(pg_uri ab1)" VOUCH_TEST_BANK_DB2="$(pg_uri ab2)" \
  bash "$HERE/audit_bank.sh"

# the same import on both backends gives the same export and the same index root
H1=f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22
H2=0000000000000000000000000000000000000000000000000000000000000001
printf 'hash,id,source,tags\n%s,A1,"ncmec,tx",x\n%s,A2,ncmec,\n' $H1 $H2 > "$T/l.csv"
pg_createdb same
U=$(pg_uri same)
for db in "$T/s.sqlite" "$U"; do
  $V bank create --db "$db" b >/dev/null 2>&1 && $V bank import --db "$db" b "$T/l.csv" --source s 2>/dev/null
done
# (the added_at column is the time of each import: masked)
$V bank export --db "$T/s.sqlite" b --format csv | sed -E 's/,[0-9]+,([0-9]+),([0-9a-f]*)$/,T,\1,\2/' > "$T/e1"
$V bank export --db "$U" b --format csv | sed -E 's/,[0-9]+,([0-9]+),([0-9a-f]*)$/,T,\1,\2/' > "$T/e2"
check "exports identical" cmp -s "$T/e1" "$T/e2"
check "export has both entries" test "$(grep -c ',T,' "$T/e2")" -eq 2
r1=$($V index build --db "$T/s.sqlite" -o "$T/s.vidx" 2>&1 | grep -o 'root [0-9a-f]*')
r2=$($V index build --db "$U" -o "$T/p.vidx" 2>&1 | grep -o 'root [0-9a-f]*')
check "index roots identical ($r1)" test -n "$r1" -a "$r1" = "$r2"
echo $H1 | $V match --index "$T/p.vidx" --hashes - >/dev/null; check "match from a PostgreSQL-built index" test $? -eq 1
$V bank disable --db "$U" b --id A1 >/dev/null 2>&1
$V index build --db "$U" -o "$T/p2.vidx" >/dev/null 2>&1
echo $H1 | $V match --index "$T/p2.vidx" --hashes - >/dev/null; check "disabled entry no longer matches" test $? -eq 0

# a schema version this build does not know is refused
pg_psql same "INSERT INTO vouch_schema VALUES(99, 0)"
$V bank list --db "$U" >/dev/null 2>"$T/err"; check "unknown schema refused" test $? -eq 2
check "refusal names the version" grep -q "version 99" "$T/err"

# a server restart: the next command connects again
pg_restart
$V bank list --db "$(pg_uri bm)" >/dev/null 2>&1; check "works after a server restart" test $? -eq 0

# an unreachable server is a clean error
$V bank list --db "postgresql:///x?host=$T/nowhere&user=vouch" >/dev/null 2>"$T/err"; check "no server: status 2" test $? -eq 2
check "no server: message" grep -qi "postgresql" "$T/err"

echo "bank_pg: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
