#!/bin/bash
# bench/http_bench.sh -- vouchd under load with wrk, against the library alone.
#
# usage: bench/http_bench.sh INDEX.vidx [DURATION_S] [CONNECTIONS]
#
# 1. bench_lookup: single-photo lookups (8 variants, r=31) straight through
#    the library on 2 threads -- the baseline -- and the same queries written
#    as JSON request bodies;
# 2. vouchd on a loopback port with that index; wrk replays the bodies against
#    POST /v1/match, then posts a small JPEG (decode + hash + match);
# 3. prints requests/s, p50/p99 latency and the ratio HTTP / library.
# Needs: build/vouchd, build/bench/bench_lookup, wrk (Debian package).
set -eu
IDX=${1:?usage: http_bench.sh INDEX.vidx [DURATION_S] [CONNECTIONS]}
DUR=${2:-20}
CONNS=${3:-32}
B=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$B/build}
command -v wrk >/dev/null || { echo "wrk is not installed (apt-get install wrk)"; exit 2; }
T=$(mktemp -d)
PID=
trap '[ -n "$PID" ] && kill $PID 2>/dev/null; rm -rf "$T"' EXIT

echo "== library baseline"
"$BUILD/bench/bench_lookup" "$IDX" --threads 2 --queries 20000 --write-bodies "$T/bodies.jsonl" | tee "$T/direct.txt"
DIRECT=$(sed -n 's/.* \([0-9]*\) queries\/s.*/\1/p' "$T/direct.txt")

TOK=$("$BUILD/vouchd" token create --db "$T/db.sqlite" --role matcher --name bench)
"$BUILD/vouchd" --db "$T/db.sqlite" --index "$IDX" --listen 127.0.0.1:0 --port-file "$T/port" \
  --no-access-log --threads 2 --max-inflight 1024 2> "$T/log" &
PID=$!
for i in $(seq 1 1200); do [ -s "$T/port" ] && break; sleep 0.1; done
U=http://127.0.0.1:$(cat "$T/port")

cat > "$T/match.lua" <<LUA
local bodies = {}
local n = 0
init = function(args)
  for line in io.lines("$T/bodies.jsonl") do n = n + 1; bodies[n] = line end
end
local i = 0
request = function()
  i = i % n + 1
  return wrk.format("POST", "/v1/match", {["Authorization"] = "Bearer $TOK",
                    ["Content-Type"] = "application/json"}, bodies[i])
end
LUA
echo "== HTTP: POST /v1/match, one photo (8 variants) per request, $CONNS connections, ${DUR}s"
wrk -t 2 -c "$CONNS" -d "${DUR}s" --latency -s "$T/match.lua" "$U" | tee "$T/wrk.txt"
HTTP=$(awk '/Requests\/sec/ {printf "%d", $2}' "$T/wrk.txt")
echo "ratio HTTP / library: $(python3 -c "print('%.2f' % ($HTTP / $DIRECT))")  ($HTTP vs $DIRECT requests/s)"

cat > "$T/img.lua" <<LUA
local f = io.open("$B/examples/bridge-square.jpg", "rb")
local body = f:read("*all")
f:close()
request = function()
  return wrk.format("POST", "/v1/match", {["Authorization"] = "Bearer $TOK"}, body)
end
LUA
echo "== HTTP: POST /v1/match with a 256x256 JPEG (decode + PDQ + 8 variants + search)"
wrk -t 2 -c "$CONNS" -d "${DUR}s" --latency -s "$T/img.lua" "$U" | tee "$T/wrk2.txt"
kill $PID; wait $PID 2>/dev/null || true; PID=
