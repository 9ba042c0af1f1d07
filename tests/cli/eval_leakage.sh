#!/usr/bin/env bash
# tests/cli/eval_leakage.sh -- `vouch eval leakage`: the opened-count model.
set -u
B=${VOUCH_BIN:?VOUCH_BIN not set}
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
field() { sed -n "s/.*\"$1\":\\([0-9.e-]*\\).*/\\1/p"; }

$B eval leakage --help > /dev/null 2>&1; check "--help exits 0" '[ $? -eq 0 ]'
$B eval leakage --library 0 > /dev/null 2>&1; check "--library 0 is a usage error" '[ $? -eq 2 ]'
$B eval leakage --scale -1 > /dev/null 2>&1; check "a negative scale is a usage error" '[ $? -eq 2 ]'

# Scale 0 (no synthetics): the count is the real count, any r >= 1 is told apart for sure.
out=$($B eval leakage --json --scale 0 --library 50 -t 4 --all)
check "scale 0: five rows (r = 0..4)" '[ $(echo "$out" | wc -l) -eq 5 ]'
check "scale 0: tv 1 for r >= 1, rmse 0" \
  '[ "$(echo "$out" | sed -n 2,5p | field tv_vs_innocent | sort -u)" = 1.0000 ] && [ "$(echo "$out" | field rmse | sort -u)" = 0.0000 ]'

# t = 1, N = 1: the first voucher is synthetic with probability 1/2 (scale 1).
# r = 0: O ~ Bernoulli(1/2), mean 0.5; r = 1: O = 1.  tv = 1/2 by hand;
# posterior of r = 0 given O = 1 is 0.5 / 1.5 = 1/3, given O = 0 it is 1:
# p0(r=0) = 0.5 * 1 + 0.5 * 1/3 = 2/3.
out=$($B eval leakage --json --scale 1 --library 1 -t 1 --all)
r0=$(echo "$out" | head -1); r1=$(echo "$out" | sed -n 2p)
check "t=1, N=1: E[O] 0.5 for an innocent account" '[ "$(echo "$r0" | field mean_opened)" = 0.5000 ]'
check "t=1, N=1: tv 0.5 for one match" '[ "$(echo "$r1" | field tv_vs_innocent)" = 0.5000 ]'
check "t=1, N=1: posterior of innocence 2/3 for an innocent account" '[ "$(echo "$r0" | field posterior_innocent)" = 0.6667 ]'

# The default (t = 30): the expected synthetic count approaches t, and the
# advantage of the best test grows with r.
out=$($B eval leakage --json --scale 1 --library 1000)
e=$(echo "$out" | head -1 | field expected_synthetic)
check "default: E[synthetic] over 1,000 photos between 25 and 30.25 ($e)" \
  'awk -v e="$e" "BEGIN{exit !(e > 25 && e < 30.25)}"'
check "default: tv grows with r" \
  '[ "$(echo "$out" | field tv_vs_innocent | tr "\n" " ")" = "$(echo "$out" | field tv_vs_innocent | sort -g | tr "\n" " ")" ]'
exit $fail
