#!/bin/bash
# tests/cli/eval.sh -- `vouch eval` end to end on the bundled examples plus a
# few generated images: usage errors, the report's files and numbers that
# must hold whatever the photos (dihedral matching undoes rotate:90 and
# mirror for the 64-bit hashes; distances are in range; exclusions move pairs
# out of the counts), and the risk model on known inputs.
set -u
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
EX=$SRC/examples
. "$(dirname "$0")/lib/check.sh"
command -v python3 >/dev/null || { echo "python3 needed; skipping"; exit 77; }

# --- usage
$V eval --help > "$T/help"; check "help exits 0" test $? -eq 0
check "help names the subcommands" grep -q "false-positives" "$T/help"
$V eval robustness --help > /dev/null; check "subcommand help exits 0" test $? -eq 0
$V eval 2>/dev/null; check "no subcommand exits 2" test $? -eq 2
$V eval bogus "$EX" 2>/dev/null; check "unknown subcommand exits 2" test $? -eq 2
$V eval robustness 2>/dev/null; check "no folder exits 2" test $? -eq 2
$V eval robustness -t sharpen:3 "$EX" 2>/dev/null; check "bad transform exits 2" test $? -eq 2
$V eval robustness -a md5 "$EX" 2>/dev/null; check "bad algo exits 2" test $? -eq 2
$V eval robustness --max-side 5 "$EX" 2>/dev/null; check "tiny max-side exits 2" test $? -eq 2
$V eval --list-transforms > "$T/tfs"; check "list-transforms exits 0" test $? -eq 0
check "44 default transforms" test "$(wc -l < "$T/tfs")" -eq 44
check "suite has jpeg:50 and grey" bash -c "grep -qx jpeg:50 '$T/tfs' && grep -qx grey '$T/tfs'"

# --- a small photo set: the examples, a generated pattern, a non-image
mkdir -p "$T/p"
cp "$EX"/*.jpg "$T/p/"
python3 - "$T/p/gen.ppm" <<'EOF'
import sys, math
w, h = 120, 90
with open(sys.argv[1], "wb") as f:
    f.write(b"P6\n%d %d\n255\n" % (w, h))
    for y in range(h):
        for x in range(w):
            v = int(128 + 100 * math.sin(x / 9.0) * math.cos(y / 13.0))
            f.write(bytes((v, (x * 2) % 256, (y * 3) % 256)))
EOF
echo "not an image" > "$T/p/notes.txt"

$V eval all -j2 --max-side 400 -t rotate:90,mirror:0,jpeg:50,crop:0.2 --report "$T/r" "$T/p" 2> "$T/err"
check "eval all exits 0" test $? -eq 0
for f in report.md results.json pairs.tsv plots.gp hist_pdq.dat recall_phash.dat; do
  check "report has $f" test -s "$T/r/$f"
done
check "report counts the photos" grep -q "6 evaluated" "$T/r/report.md"
check "report counts the skipped non-image" grep -q "1 non-image" "$T/r/report.md"
check "report has the risk section" grep -q "per-account risk" "$T/r/report.md"
if command -v gnuplot >/dev/null; then
  check "plots made" test -s "$T/r/hist_pdq.png" -a -s "$T/r/recall_pdq.png"
else
  check "plots skipped with a note" grep -q "Plots skipped" "$T/r/report.md"
fi
check "the private-matching section is in the report" grep -q "^## Private matching: band key with probes" "$T/r/report.md"
check "... with the trade-off table and the probe ranks" sh -c 'grep -q "^### Trade-off" "$0" && grep -q "^### Probe rank" "$0" && grep -q "^### False openings" "$0"' "$T/r/report.md"
check "... and in results.json" python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))["private"]; assert o["rows"] and o["rows"][0]["band"] == 44 and len(o["rank_hist"]) == 1, o' "$T/r/results.json"

# --probe-dump: header (8 + 4 + 40 per transform) and 2124 bytes per copy (6 photos x 2 transforms);
# bench/probe_flips.py reads it; --no-views also runs.
$V eval robustness -j2 --max-side 400 -t gamma:1.5,resize:0.5 --probe-dump "$T/d.bin" "$T/p" > "$T/dump.md" 2>/dev/null
check "probe dump written" test "$(stat -c %s "$T/d.bin")" -eq $((12 + 80 + 12 * 2124))
python3 "$SRC/bench/probe_flips.py" "$T/d.bin" > "$T/flips.md"
check "probe_flips.py reads it" sh -c 'grep -q "^| gamma:1.5 | " "$0" && grep -q "^## 3. Hard flips" "$0"' "$T/flips.md"
$V eval robustness -j2 --max-side 400 -t gamma:1.5 --no-views "$T/p" > "$T/nv.md" 2>/dev/null
check "--no-views runs and reports the private path" grep -q "^## Private matching" "$T/nv.md"
check "results.json holds consistent numbers" python3 - "$T/r/results.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
assert r["photos"] == 6 and r["skipped"] == 1 and r["failed"] == 0, r
assert r["algos"] == ["pdq", "phash", "dhash", "ahash"]
tf = {t["name"]: t for t in r["robustness"]["transforms"]}
assert set(tf) == {"rotate:90", "mirror:0", "jpeg:50", "crop:0.2"}, tf.keys()
for name, t in tf.items():
    for algo, a in t["algos"].items():
        bits = 256 if algo == "pdq" else 64
        for mode in ("plain", "dihedral"):
            m = a[mode]
            assert m["n"] == 6 and len(m["hist"]) == bits + 1 and sum(m["hist"]) == 6
            assert 0 <= m["median"] <= m["p90"] <= m["p99"] <= m["max"] <= bits
            rec = [m["recall"][str(d)] for d in range(bits + 1)]
            assert all(x <= y for x, y in zip(rec, rec[1:])) and rec[-1] == 1.0
        # dihedral matching never loses recall
        assert all(a["dihedral"]["recall"][k] >= a["plain"]["recall"][k] for k in a["plain"]["recall"])
# The 64-bit hashes' variants are the hashes of turned images: exact undo.
for algo in ("phash", "dhash", "ahash"):
    for name in ("rotate:90", "mirror:0"):
        assert tf[name]["algos"][algo]["dihedral"]["max"] == 0, (algo, name)
fp = r["false_positives"]
assert fp["pairs"] == 15 and fp["excluded_pairs"] == 0, fp
for algo, a in fp["algos"].items():
    assert sum(a["plain"]["hist"]) == 15
    th = a["plain"]["thresholds"]
    counts = [th[k]["matches"] for k in sorted(th, key=int)]
    assert counts == sorted(counts)
rows = r["risk"]["rows"]
assert any(x["algo"] == "pdq" and x["threshold"] == 0 for x in rows)
for x in rows:
    assert x["pairs"] == 15
    if x["matches"] == 0:
        assert abs(x["p_upper95"] - 3 / 15) < 1e-9   # rule of three
assert len(r["risk"]["exact_key"]) == 4
EOF

# --- exclusions: the three bridge variants judged one scene
printf '# same scene\nbridge.jpg\tbridge-blurred.jpg\nbridge.jpg\tbridge-square.jpg\nbridge-blurred.jpg\tbridge-square.jpg\nbridge.jpg\tnot-there.jpg\n' > "$T/ex.tsv"
$V eval false-positives --exclude "$T/ex.tsv" --report "$T/r2" "$T/p" 2>/dev/null
check "false-positives with --exclude exits 0" test $? -eq 0
check "excluded pairs leave the counts" python3 - "$T/r2/results.json" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
fp = r["false_positives"]
assert fp["pairs"] == 12 and fp["excluded_pairs"] == 3, fp
assert r["robustness"] is None
ex = [p for p in fp["near_pairs"] if p["excluded"]]
assert len(ex) == 3, ex
EOF
check "report names the exclusion file" grep -q "1 naming photos not in this set" "$T/r2/report.md"
printf 'bridge.jpg only-one-name\n' > "$T/bad.tsv"
$V eval false-positives --exclude "$T/bad.tsv" "$T/p" >/dev/null 2>&1
check "malformed exclusion file exits 2" test $? -eq 2

# --- without gnuplot: data files and script still written, the report says so
PATH=/nonexistent "$V" eval false-positives -a pdq --report "$T/r3" "$T/p" 2>/dev/null
check "no gnuplot still exits 0" test $? -eq 0
check "no gnuplot: plots skipped note" grep -q "Plots skipped: gnuplot was not found" "$T/r3/report.md"
check "no gnuplot: data and script written" test -s "$T/r3/hist_pdq.dat" -a -s "$T/r3/plots.gp"
check "no gnuplot: no png" test ! -e "$T/r3/hist_pdq.png"

# --- without --report: Markdown on stdout; deterministic given the seed
$V eval robustness -j1 -a phash -t noise:20,crop:0.1,overlay:0.2 --seed 7 "$T/p" > "$T/o1" 2>/dev/null
check "stdout report exits 0" test $? -eq 0
$V eval robustness -j2 -a phash -t noise:20,crop:0.1,overlay:0.2 --seed 7 "$T/p" > "$T/o2" 2>/dev/null
check "same seed, same tables (any thread count)" bash -c "diff <(grep '^|' '$T/o1') <(grep '^|' '$T/o2') >/dev/null"
check "stdout report has the phash table" grep -q "^### phash" "$T/o1"

# --- the risk model alone
$V eval risk --matches 0 --pairs 600000 > "$T/risk"; check "risk exits 0" test $? -eq 0
check "rule of three quoted" grep -q "rule of three" "$T/risk"
check "upper bound 5e-06" grep -q "upper 95% p            5.00e-6" "$T/risk"
# p = 5.79e-9 is where N = 200000, M = 5000, t = 30 reaches 1e-12.
check "p needed for 1e-12" grep -q "p needed for 1e-12     5.79e-9" "$T/risk"
$V eval risk --rate 1e-7 --db 1000 --photos 100 --threshold 1 > "$T/risk2"
# q = 1-(1-1e-7)^1000 = 9.9995e-5; P(X>=1) = 1-(1-q)^100 = 0.0099502
check "risk at t=1 is 1-(1-q)^M" grep -q "P(account flagged/yr)  0.00995 " "$T/risk2"
$V eval risk --rate 2 2>/dev/null; check "rate over 1 exits 2" test $? -eq 2
$V eval risk --rate 0.1 --matches 1 --pairs 10 2>/dev/null; check "rate and counts together exit 2" test $? -eq 2

echo "eval.sh: $pass passed, $fail failed"
test $fail -eq 0
