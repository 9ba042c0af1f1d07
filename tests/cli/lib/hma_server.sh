# tests/cli/lib/hma_server.sh -- sourced by the tests of vouchd's HMA routes
# after lib/vouchd_harness.sh (which gives code()): py()
# (a Python assertion on that body), a bank database $DB with admin, matcher
# and reader tokens in the headers $A, $M, $R, and vouchd serving it (index
# $T/idx.vidx, built later) at $U, its pid in $PID; $HMA_VOUCHD_ARGS (an
# array, may be unset) adds options.
py() { python3 -c "import json,sys; o=json.load(open('$T/body')); $1"; }
DB=${VOUCH_TEST_BANK_DB:-$T/db.sqlite} # (a postgresql:// URI from a PostgreSQL wrapper)
$V bank create --db "$DB" placeholder >/dev/null   # the database exists before the tokens
ADMIN=$($D token create --db "$DB" --role admin --name admin)
MATCH=$($D token create --db "$DB" --role matcher --name matcher)
READ=$($D token create --db "$DB" --role reader --name reader)
A="Authorization: Bearer $ADMIN"; M="Authorization: Bearer $MATCH"; R="Authorization: Bearer $READ"
$V bank remove --db "$DB" placeholder >/dev/null
$D --db "$DB" --index "$T/idx.vidx" --listen 127.0.0.1:0 --port-file "$T/port" --threads 2 \
   --max-body 2000000 ${HMA_VOUCHD_ARGS[@]+"${HMA_VOUCHD_ARGS[@]}"} 2>> "$T/log" &
PID=$!
for i in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
U=http://127.0.0.1:$(cat "$T/port")
