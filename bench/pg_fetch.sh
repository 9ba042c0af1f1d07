#!/usr/bin/env bash
# bench/pg_fetch.sh -- a new replica's join from PostgreSQL at N entries
# without loading N rows: writes (or reuses) an N-entry index file with
# bench_index_open --cache, starts a scratch PostgreSQL (tests/cli/lib/
# pg_harness.sh: unix socket in a temp dir, fsync off), publishes the file as
# a snapshot and times bench_snapshot_fetch (fetch split into parts, open +
# MIH after it, and the same open from the file on disk, in the same run).
#
# usage: bash bench/pg_fetch.sh [N] [REPS]   (default 10000000 2)
# env:   BUILD (default build), CACHE (default /tmp/vouch_pg_fetch_N.vidx),
#        BENCH: bench_snapshot_fetch binaries to compare, run in turn against the
#        same server (default $BUILD/bench/bench_snapshot_fetch)
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-10000000}
REPS=${2:-2}
BUILD=${BUILD:-build}
CACHE=${CACHE:-/tmp/vouch_pg_fetch_$N.vidx}
# shellcheck source=../tests/cli/lib/pg_harness.sh
. tests/cli/lib/pg_harness.sh
[ -f "$CACHE" ] || "$BUILD/bench/bench_index_open" -n "$N" --cache "$CACHE"
pg_start
pg_createdb fetch
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for b in ${BENCH:-$BUILD/bench/bench_snapshot_fetch}; do
  echo "== $b"
  "$b" --db "$(pg_uri fetch)" --file "$CACHE" --reps "$REPS"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
