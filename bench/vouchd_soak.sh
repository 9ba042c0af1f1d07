#!/bin/bash
# bench/vouchd_soak.sh [SECONDS] -- a soak of vouchd under the attacks of issue 14.
# Builds a 100,000-entry random PDQ index with the CLI, starts build/vouchd with its default limits
# (--threads 2), and runs bench/vouchd_soak.py: 4 honest matchers (one photo's 8 hashes per request,
# 50 requests/s each) against unauthenticated uploads, radius 256, 32 MiB JSON, heavy photo batches,
# slowloris and an endless chunked body, all at once for SECONDS (default 60), after a baseline of
# SECONDS / 4 with the honest matchers alone (same run, same machine).  Prints the honest
# p50/p90/p99 latency and lost requests, what each attack got, and the server's peak RSS.
# The clients share the machine with the server: say so next to any figure you quote.
set -eu
SECS=${1:-60}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$ROOT/build}
T=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill "$PID" 2>/dev/null; rm -rf "$T"' EXIT
python3 -c '
import random
random.seed(1)
print("hash,id")
for i in range(100000): print("%064x,r%d" % (random.getrandbits(256), i))' > "$T/list.csv"
"$BUILD/vouch" bank create --db "$T/db.sqlite" soak >/dev/null
"$BUILD/vouch" bank import --db "$T/db.sqlite" soak "$T/list.csv" >/dev/null 2>&1
"$BUILD/vouch" index build --db "$T/db.sqlite" -o "$T/idx.vidx" >/dev/null 2>&1
for i in 1 2 3 4; do "$BUILD/vouchd" token create --db "$T/db.sqlite" --role matcher --name "honest$i"; done > "$T/honest"
BAD=$("$BUILD/vouchd" token create --db "$T/db.sqlite" --role matcher --name attacker)
"$BUILD/vouchd" --db "$T/db.sqlite" --index "$T/idx.vidx" --listen 127.0.0.1:0 --port-file "$T/port" \
  --threads 2 --no-access-log 2> "$T/log" &
PID=$!
for _ in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.05; done
echo "vouchd pid $PID on port $(cat "$T/port"), default limits, --threads 2; soak of $SECS s"
python3 "$ROOT/bench/vouchd_soak.py" "$(cat "$T/port")" "$SECS" "$T/honest" "$BAD"
echo "server peak RSS: $(awk '/^VmHWM/{print int($2/1024)}' /proc/$PID/status) MB; still answering: $(curl -s --max-time 1 http://127.0.0.1:$(cat "$T/port")/healthz)"
kill -TERM "$PID"; wait "$PID" 2>/dev/null || true; PID=
