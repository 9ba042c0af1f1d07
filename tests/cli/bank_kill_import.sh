#!/bin/bash
# tests/cli/bank_kill_import.sh -- an import killed with SIGKILL half-way
# leaves the bank exactly as it was; importing again then works.
set -u
V=${VOUCH_BIN:?VOUCH_BIN not set}
T=$(mktemp -d /tmp/vouch-cli-kill.XXXXXX)
trap 'rm -rf "$T"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
N=1000000
head -c $((N * 32)) /dev/urandom | od -An -v -tx1 -w32 | tr -d ' ' > "$T/big.txt"
[ "$(wc -l < "$T/big.txt")" -eq $N ] || fail "could not generate the list"
head -c 3200 /dev/urandom | od -An -v -tx1 -w32 | tr -d ' ' > "$T/small.txt"
$V bank create --db "$T/b.sqlite" list || fail "create"
$V bank import --db "$T/b.sqlite" list "$T/small.txt" 2>/dev/null || fail "small import"
$V bank export --db "$T/b.sqlite" list --format csv > "$T/before.csv" || fail "export"
[ "$(wc -l < "$T/before.csv")" -eq 101 ] || fail "baseline has $(wc -l < "$T/before.csv") lines"

killed=0
for attempt in 1 2 3; do
  $V bank import --db "$T/b.sqlite" list "$T/big.txt" 2>/dev/null &
  pid=$!
  # wait until the transaction has written a few MB to the WAL, then kill it
  for i in $(seq 1 600); do
    sz=$(stat -c %s "$T/b.sqlite-wal" 2>/dev/null || echo 0)
    [ "$sz" -gt 4000000 ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.02
  done
  if kill -9 $pid 2>/dev/null; then
    wait $pid 2>/dev/null
    killed=1
    echo "killed import (pid $pid) with a WAL of $sz bytes"
    break
  fi
  wait $pid
  echo "import finished before it could be killed (attempt $attempt); resetting"
  $V bank remove --db "$T/b.sqlite" list && $V bank create --db "$T/b.sqlite" list &&
    $V bank import --db "$T/b.sqlite" list "$T/small.txt" 2>/dev/null || fail "reset"
done
[ $killed -eq 1 ] || fail "never managed to kill the import mid-way"

$V bank export --db "$T/b.sqlite" list --format csv > "$T/after.csv" || fail "export after kill"
cmp -s "$T/before.csv" "$T/after.csv" || fail "bank changed by the killed import: $(wc -l < "$T/after.csv") lines"
$V bank list --db "$T/b.sqlite" | grep -q "100 entries (100 enabled)" || fail "count after kill"
if command -v sqlite3 >/dev/null; then
  [ "$(sqlite3 "$T/b.sqlite" 'PRAGMA integrity_check')" = ok ] || fail "integrity_check"
fi
$V bank import --db "$T/b.sqlite" list "$T/big.txt" 2>/dev/null || fail "import after kill"
$V bank list --db "$T/b.sqlite" | grep -q "$((N + 100)) entries" || fail "count after re-import: $($V bank list --db "$T/b.sqlite")"
echo "ok: killed import left the bank unchanged; re-import added $N entries"
