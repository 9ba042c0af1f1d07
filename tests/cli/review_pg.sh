#!/bin/bash
# tests/cli/review_pg.sh -- the review store and console on PostgreSQL, on a
# scratch server (lib/pg_harness.sh): unit/test_review's store checks
# (queue, decisions, stale pages, views, reviewers, second hashes) against a
# fresh database; the triggers refusing UPDATE, DELETE and TRUNCATE of
# decisions and views; then cli/vouchd_review.sh and cli/vouchd_second_bank.sh
# with `vouchd --db postgresql://...` (reviewer tokens, the queue fed past the
# threshold, decisions, double decisions, the export, second hashes from the
# bank).  Skipped (77) only when the PostgreSQL server binaries or curl are
# absent.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
HERE=$(cd "$(dirname "$0")" && pwd)
command -v curl >/dev/null || { echo "curl not installed; skipping"; exit 77; }
. "$HERE/lib/check.sh"
. "$HERE/lib/pg_harness.sh"
cd / && pg_start

UNIT=$(dirname "$V")/tests/test_review
pg_createdb unit
if [ -x "$UNIT" ]; then
  env VOUCH_TEST_PG_URI="$(pg_uri unit)" "$UNIT" > "$T/unit.out" 2>&1
  check "test_review's store checks on PostgreSQL" test $? -eq 0
  check "... the PostgreSQL part ran" sh -c "! grep -q 'PostgreSQL part skipped' '$T/unit.out'"
  check "... its reviewers and decisions are there" test "$(pg_psql unit 'SELECT count(*) FROM review_decisions')" = 3
  for t in review_decisions review_views; do
    pg_psql unit "UPDATE $t SET item = item" > /dev/null 2> "$T/upd.err"
    check "$t: UPDATE refused" grep -q "append-only" "$T/upd.err"
    pg_psql unit "DELETE FROM $t" > /dev/null 2> "$T/del.err"
    check "$t: DELETE refused" grep -q "append-only" "$T/del.err"
    pg_psql unit "TRUNCATE $t CASCADE" > /dev/null 2> "$T/trunc.err"
    check "$t: TRUNCATE refused" grep -q "append-only" "$T/trunc.err"
  done
  check "schema version 5 (the review tables) recorded" test "$(pg_psql unit 'SELECT count(*) FROM vouch_schema WHERE version = 5')" = 1
else
  echo "FAIL: $UNIT not built" >&2
  fail=$((fail + 1))
fi

pg_createdb console
check "vouchd_review.sh on PostgreSQL" env VOUCH_TEST_BANK_DB="$(pg_uri console)" VOUCH_TEST_PG_DB=console \
  bash "$HERE/vouchd_review.sh"
check "... its decisions are in PostgreSQL" test "$(pg_psql console 'SELECT count(*) FROM review_decisions')" = 4
check "... and its reviewer" test "$(pg_psql console 'SELECT count(*) FROM vouchd_reviewers')" = 0 # revoked at its end
pg_createdb seconds
check "vouchd_second_bank.sh on PostgreSQL" env VOUCH_TEST_BANK_DB="$(pg_uri seconds)" VOUCH_TEST_PG_DB=seconds \
  bash "$HERE/vouchd_second_bank.sh"

echo "review_pg: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
