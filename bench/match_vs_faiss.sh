#!/bin/bash
# bench/match_vs_faiss.sh -- bench_match and FAISS on the same data, in one run.
#
# usage: bench/match_vs_faiss.sh [N] [QUERIES]     (defaults: 1e6 2000)
#
# 1. bench/bench_match writes N random PDQ hashes plus planted near-duplicates
#    and the queries to a temporary directory, and measures vouch's engines
#    (scan scalar/AVX2, MIH; 1 and 2 threads; radius 31; 8 variants);
# 2. bench/faiss_compare.py runs FAISS's exact binary indexes on the same
#    hashes and queries and prints the ratios vouch / FAISS.
# At 10M FAISS's IndexBinaryMultiHash takes minutes to build; only the
# configurations that matter are run there (IndexBinaryFlat, nhash=11).
# Needs python3-faiss (scripts/install-bench-deps.sh) and /usr/bin/python3.
set -eu
N=${1:-1e6}
Q=${2:-2000}
B=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${BUILD:-$B/build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
/usr/bin/python3 -c 'import faiss' 2>/dev/null || { echo "python3-faiss is not installed (scripts/install-bench-deps.sh)"; exit 2; }
big=$(/usr/bin/python3 -c "print(1 if float('$N') > 3e6 else 0)")
echo "== vouch: bench_match -n $N -q $Q"
"$BUILD/bench/bench_match" -n "$N" -q "$Q" --scan-queries 16 --dump "$T/data" | tee "$T/vouch.txt"
echo "== FAISS on the same data"
if [ "$big" = 1 ]; then
  /usr/bin/python3 "$B/bench/faiss_compare.py" "$T/data" --vouch "$T/vouch.txt" --only Flat,nhash=11 \
    --flat-queries 8 --mih-queries 200
else
  /usr/bin/python3 "$B/bench/faiss_compare.py" "$T/data" --vouch "$T/vouch.txt"
fi
