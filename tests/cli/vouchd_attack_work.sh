#!/bin/bash
# tests/cli/vouchd_attack_work.sh -- attacks on the work one request can ask
# for (issue 14, attacks 2, 4, 5, 6), against a 100,000-entry index: the radius
# is capped per algorithm, matches are capped per query and per request, a huge
# JSON array is refused before it is parsed, a request's search time is capped,
# and heavy requests beyond --max-inflight get 429 while /healthz answers.
set -u
. "$(dirname "$0")/lib/vouchd_harness.sh"
. "$(dirname "$0")/lib/vouchd_attack.sh"

DB=$T/db.sqlite
# 100,000 random PDQ hashes, plus 150 within 2 bits of one base hash
python3 - "$T" <<'PY'
import random, sys
random.seed(14)
with open(sys.argv[1] + "/list.csv", "w") as f:
    f.write("hash,id\n")
    for i in range(100000): f.write("%064x,r%d\n" % (random.getrandbits(256), i))
    base = int("f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22", 16)
    for i in range(150): f.write("%064x,near%d\n" % (base ^ (1 << i) ^ (1 << (i + 100)), i))
with open(sys.argv[1] + "/q100.json", "w") as f:
    f.write('{"hashes":[%s]}' % ",".join('"%064x"' % random.getrandbits(256) for _ in range(100)))
def photos(n):
    return '{"photos":[%s]}' % ",".join("[%s]" % ",".join('"%064x"' % random.getrandbits(256) for _ in range(8))
                                          for _ in range(n))
open(sys.argv[1] + "/p10000.json", "w").write(photos(10000))
open(sys.argv[1] + "/p2000.json", "w").write(photos(2000))
with open(sys.argv[1] + "/empties.json", "w") as f:  # attack 4: 32 MiB of {"hashes":[{},{},...]}
    f.write('{"hashes":[' + "{}," * ((32 * 1024 * 1024 - 20) // 3) + '{}]}')
PY
$V bank create --db "$DB" big >/dev/null
$V bank import --db "$DB" big "$T/list.csv" >/dev/null 2>&1
$V index build --db "$DB" -o "$T/idx.vidx" >/dev/null 2>&1
MATCH=$($D token create --db "$DB" --role matcher --name matcher)
M="Authorization: Bearer $MATCH"
for k in 1 2 3 4 5 6; do $D token create --db "$DB" --role matcher --name "m$k" > "$T/tok$k"; done
start_vouchd --db "$DB" --index "$T/idx.vidx" --threads 2 --max-work-seconds 0.3
check "listening" healthz_within 2

# attack 2: radius 256 on 100 hashes
t0=$(date +%s%N)
check "attack 2: radius=256 refused (400)" test "$(code -H "$M" -H 'Content-Type: application/json' --data-binary @"$T/q100.json" "$U/v1/match?radius=256")" = 400
check "attack 2: ... answered in 1 s (x$S)" ms_lt $(( ($(date +%s%N) - t0) / 1000000 )) 1000
check "attack 2: ... names the limit" grep -q 'radius must be 0..64 for pdq' "$T/body"
t0=$(date +%s%N)
check "attack 2: radius=64 (the cap) 200" test "$(code -H "$M" -H 'Content-Type: application/json' --data-binary @"$T/q100.json" "$U/v1/match?radius=64")" = 200
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "attack 2: ... in ${ms} ms < 1000 (x$S)" ms_lt "$ms" 1000
H=$(hwm_mb)
check "attack 2: peak RSS $H MB < 1000 MB" test "$H" -lt 1000

# matches per query are capped (--max-matches 100): 150 entries are near the base hash
echo '{"hashes":["f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22"]}' > "$T/near.json"
check "max matches: 200" test "$(code -H "$M" --data-binary @"$T/near.json" "$U/v1/match?radius=8")" = 200
check "max matches: 100 listed of 150, truncated" python3 -c '
import json,sys; o=json.load(open(sys.argv[1])); r=o["results"][0]
assert len(r["matches"])==100 and r["truncated"] is True and o["truncated"] is True, (len(r["matches"]), o.get("truncated"))' "$T/body"

# ... and on HMA's raw lookup (no "truncated" field in HMA's answer: the cap is silent there, docs/hma.md)
check "max matches: HMA raw_lookup 200" test "$(code -H "$M" "$U/m/raw_lookup?signal_type=pdq&signal=f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22")" = 200
check "max matches: HMA raw_lookup lists 100 of 150" python3 -c '
import json,sys; o=json.load(open(sys.argv[1])); assert len(o["matches"])==100, len(o["matches"])' "$T/body"

# attack 4: 32 MiB of empty objects, refused before jansson builds them
R0=$(rss_mb)
t0=$(date +%s%N)
check "attack 4: 32 MiB of {} refused (413)" test "$(code -H "$M" --data-binary @"$T/empties.json" "$U/v1/match")" = 413
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "attack 4: ... batch_too_large in ${ms} ms < 5000" sh -c "grep -q batch_too_large '$T/body' && test $ms -lt $((5000 * S))"
H=$(hwm_mb)
check "attack 4: peak RSS $H MB < 400 MB" test "$H" -lt 400
R=$(rss_mb)
if [ "$S" != 1 ]; then
  # sanitizer builds (VOUCH_TIME_SCALE > 1): ASan's quarantine and TSan's allocator keep
  # freed memory, so RSS says nothing about vouchd giving it back (measured under ASan:
  # 82 MB before, 154 MB after)
  echo "skip: attack 4: memory given back (a sanitizer's allocator keeps freed memory; RSS $R0 -> $R MB)"
else
  # given back: RSS within 24 MB of what it was before the 32 MiB request, and under 150 MB
  check "attack 4: memory given back after the request: RSS $R MB < $R0 + 24 MB" test "$R" -lt $((R0 + 24))
  check "attack 4: ... RSS $R MB < 150 MB" test "$R" -lt 150
fi

# attack 6: 10,000 photos x 8 at radius 64 stop at --max-work-seconds (0.3 here)
t0=$(date +%s%N)
check "attack 6: 10,000 photos 200" test "$(code -H "$M" --data-binary @"$T/p10000.json" "$U/v1/match?radius=64")" = 200
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "attack 6: ... cut at the work limit: ${ms} ms < 4000 (x$S)" ms_lt "$ms" 4000
check "attack 6: ... truncated, fewer results than photos" python3 -c '
import json,sys; o=json.load(open(sys.argv[1])); assert o["truncated"] is True and 0 < len(o["results"]) < 10000, len(o["results"])' "$T/body"

# attacks 5 and 6: 12 heavy requests at once, two from each of six tokens,
# with the default --max-inflight (4 x 2 threads = 8): the rest get 429 with
# Retry-After, /healthz and an honest one-photo lookup keep answering
for k in 1 2 3 4 5 6; do
  TK=$(cat "$T/tok$k")
  for j in 1 2; do
    curl -s -o /dev/null -D "$T/h$k$j" -w '%{http_code}\n' --max-time 60 -H "Authorization: Bearer $TK" \
      --data-binary @"$T/p2000.json" "$U/v1/match?radius=64" > "$T/c$k$j" &
  done
done
sleep 0.5
t0=$(date +%s%N)
check "attack 5: /healthz answers in 1 s while heavy work is queued" healthz_within 1
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "attack 5: /metrics too" sh -c "curl -s --max-time 1 $U/metrics | grep -q '^vouchd_inflight [1-9]'"
head -c 600 "$T/p2000.json" | sed 's/,\[[^]]*$/]}/' > "$T/one.json"
t1=$(date +%s%N)
check "attack 5: an honest one-photo lookup is answered meanwhile" test "$(code -H "$M" --data-binary @"$T/one.json" "$U/v1/match")" = 200
ms1=$(( ($(date +%s%N) - t1) / 1000000 ))
check "attack 5: ... in ${ms1} ms < 1000 x$S (the light queue)" ms_lt "$ms1" 1000
wait $(jobs -p | grep -vx "$PID")
n200=$(cat "$T"/c* | grep -c '^200$'); n429=$(cat "$T"/c* | grep -c '^429$')
# (8 admitted and 4 refused when all 12 arrive before the first is done; on a
# slow machine an early one may finish first and let one more in)
check "attack 5: $n200 x 200 and $n429 x 429 (at least 8 admitted, some refused)" \
  test "$n200" -ge 8 -a "$n429" -ge 1 -a $((n200 + n429)) -eq 12
check "attack 5: 429 carries Retry-After" sh -c "grep -l '^HTTP/1.1 429' '$T'/h* | xargs grep -qi '^Retry-After: 1'"
# one token alone gets its share of heavy work: --max-inflight-per-token (default 8 / 4 = 2)
rm -f "$T"/c*
for j in 1 2 3 4; do
  curl -s -o /dev/null -w '%{http_code}\n' --max-time 60 -H "$M" --data-binary @"$T/p2000.json" "$U/v1/match?radius=64" > "$T/c$j" &
done
wait $(jobs -p | grep -vx "$PID")
n200=$(cat "$T"/c* | grep -c '^200$'); n429=$(cat "$T"/c* | grep -c '^429$')
check "attack 5: one token: $n200 x 200 and $n429 x 429 (2 admitted, the rest refused)" \
  test "$n200" -ge 2 -a "$n429" -ge 1 -a $((n200 + n429)) -eq 4
echo "under load: healthz $ms ms, one-photo lookup $ms1 ms"
H=$(hwm_mb)
check "peak RSS $H MB < 1000 MB over the whole run" test "$H" -lt 1000
check "still running" kill -0 "$PID"
stop_vouchd
echo "$pass passed, $fail failed"
test $fail -eq 0
