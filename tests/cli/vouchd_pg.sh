#!/bin/bash
# tests/cli/vouchd_pg.sh -- vouchd on PostgreSQL: cli/vouchd_api.sh (banks,
# index rebuild, matching, tokens, device accounts, voucher intake, kill -9
# during an import and during a voucher upload) with `vouchd --db
# postgresql://...` on a scratch server (lib/pg_harness.sh); then two vouchd
# on the same database share tokens and banks.  Skipped (77) only when the
# PostgreSQL server binaries or curl are absent.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
HERE=$(cd "$(dirname "$0")" && pwd)
command -v curl >/dev/null || { echo "curl not installed; skipping"; exit 77; }
. "$HERE/lib/check.sh"
. "$HERE/lib/pg_harness.sh"
pg_start

pg_createdb api
check "vouchd_api.sh on PostgreSQL" env VOUCH_TEST_BANK_DB="$(pg_uri api)" bash "$HERE/vouchd_api.sh"
# it really ran there: its tokens, vouchers and banks are in the database
check "tokens in PostgreSQL" test "$(pg_psql api 'SELECT count(*) FROM vouchd_tokens')" -ge 7
check "vouchers in PostgreSQL" test "$(pg_psql api 'SELECT count(*) FROM vouchd_vouchers')" -ge 45
check "banks in PostgreSQL" test "$(pg_psql api 'SELECT count(*) FROM banks')" -ge 3

# two replicas on one database: a token made through one database URI works
# on both, a bank created through one is listed by the other
pg_createdb two
U=$(pg_uri two)
TOK=$($D token create --db "$U" --role admin --name admin)
P1= P2=
stop_both() { for p in $P1 $P2; do kill -9 "$p" 2>/dev/null; done; }
trap 'stop_both; pg_stop' EXIT
$D --db "$U" --listen 127.0.0.1:0 --port-file "$T/p1" --threads 2 2>>"$T/log1" & P1=$!
$D --db "$U" --listen 127.0.0.1:0 --port-file "$T/p2" --threads 2 2>>"$T/log2" & P2=$!
for i in $(seq 1 200); do [ -s "$T/p1" ] && [ -s "$T/p2" ] && break; sleep 0.05; done
U1=http://127.0.0.1:$(cat "$T/p1") U2=http://127.0.0.1:$(cat "$T/p2")
A="Authorization: Bearer $TOK"
check "replica 1 creates a bank" test "$(curl -s -o /dev/null -w '%{http_code}' -H "$A" -X POST -d '{"name":"shared","algo":"pdq"}' $U1/v1/banks)" = 201
check "replica 2 lists it" sh -c "curl -s -H '$A' $U2/v1/banks | grep -q '\"shared\"'"
check "replica 2 refuses a second create (409)" test "$(curl -s -o /dev/null -w '%{http_code}' -H "$A" -X POST -d '{"name":"shared"}' $U2/v1/banks)" = 409
$V bank list --db "$U" > "$T/list" 2>&1; check "the CLI sees it too" grep -q shared "$T/list"
stop_both

echo "vouchd_pg: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
