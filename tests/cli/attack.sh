#!/bin/bash
# tests/cli/attack.sh -- `vouch eval attack` on the bundled examples: a
# forged image written with --target really hashes (by `vouch hash`, from
# the PNG file) within the radius of the target, bit for bit with --radius 0;
# the pairs mode forges every pair, the second hash throws the forgeries
# out and passes genuine edits; usage errors exit 2.
set -u
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
EX=$SRC/examples
. "$(dirname "$0")/lib/check.sh"
command -v python3 >/dev/null || { echo "python3 needed; skipping"; exit 77; }
dist() { python3 -c "import sys; a,b=int(sys.argv[1],16),int(sys.argv[2],16); print(bin(a^b).count('1'))" "$1" "$2"; }

# --- usage
$V eval attack --help > "$T/help"; check "help exits 0" test $? -eq 0
check "help names --target" grep -q -- "--target" "$T/help"
$V eval --help | grep -q "eval attack"; check "eval help names attack" test $? -eq 0
$V eval attack 2>/dev/null; check "no photo exits 2" test $? -eq 2
$V eval attack --target abc -o "$T/x.png" "$EX/bridge.jpg" 2>/dev/null; check "short target exits 2" test $? -eq 2
$V eval attack --target "$(printf 'g%.0s' {1..64})" -o "$T/x.png" "$EX/bridge.jpg" 2>/dev/null
check "non-hex target exits 2" test $? -eq 2
$V eval attack --target 00 "$EX/bridge.jpg" 2>/dev/null; check "--target without -o exits 2" test $? -eq 2
$V eval attack -o "$T/x.png" "$EX" 2>/dev/null; check "-o without --target exits 2" test $? -eq 2
$V eval attack --radius 10 --slack 11 "$EX" 2>/dev/null; check "slack over radius exits 2" test $? -eq 2
$V eval attack --radius 200 "$EX" 2>/dev/null; check "radius over 128 exits 2" test $? -eq 2
$V eval attack "$T/missing.jpg" "$EX/wee.jpg" 2>/dev/null; check "missing photo exits 2" test $? -eq 2

# --- one forgery: bridge.jpg made to hash like wee.jpg
target=$($V hash "$EX/wee.jpg" | cut -d' ' -f1)
before=$($V hash "$EX/bridge.jpg" | cut -d' ' -f1)
check "the two photos are unrelated" test "$(dist "$target" "$before")" -gt 60
$V eval attack --target "$target" -o "$T/forged.png" "$EX/bridge.jpg" > "$T/one.txt"
check "forgery exits 0" test $? -eq 0
check "forgery says ok" grep -q "radius ok" "$T/one.txt"
got=$($V hash --exact "$T/forged.png" | cut -d' ' -f1)
check "forged PNG hashes within 31 of the target" test "$(dist "$target" "$got")" -le 31
$V eval attack --json --radius 0 --target "$target" -o "$T/exact.png" "$EX/bridge.jpg" > "$T/exact.json"
check "exact forgery exits 0" test $? -eq 0
got=$($V hash --exact "$T/exact.png" | cut -d' ' -f1)
check "exact forgery has the target's very bits" test "$got" = "$target"
check "exact JSON" python3 -c "
import json,sys; r=json.load(open(sys.argv[1]))
assert r['radius']['success'] is True and r['radius']['distance']==0, r
assert 10 < r['radius']['psnr'] < 60 and r['target']==sys.argv[2]" "$T/exact.json" "$target"
# one iteration cannot get there: exit 1 and the closest image is still written
$V eval attack --iters 1 --target "$target" -o "$T/fail.png" "$EX/bridge.jpg" > /dev/null
check "failed forgery exits 1" test $? -eq 1
check "failed forgery still writes its image" test -s "$T/fail.png"

# --- pairs over the examples folder, with the second hash
$V eval attack --json --out-dir "$T/out" "$EX" > "$T/pairs.json"
check "pairs exit 0" test $? -eq 0
check "pairs JSON" python3 -c "
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
pairs=[r for r in rows if 'source' in r]; s=rows[-1]['summary']
assert len(pairs)==5 and s['radius']['pairs']==5, s
for p in pairs:
    for m in ('radius','exact'):
        f=p[m]
        assert f['success'] is True, p
        assert f['distance'] <= (31 if m=='radius' else 0), p
        # near-duplicate photos (the bridge edits) need no change; unrelated ones must be thrown out
        if f['start_distance'] > 80: assert f['second_score'] < s['genuine']['pass_min'], p
g=s['genuine']
assert g['suite']==44 and g['matched'] > 100 and g['second_hash_passed'] >= 0.95*g['matched'], g
" "$T/pairs.json"
check "forgeries written" test "$(ls "$T/out" | wc -l)" -eq 10
$V eval attack "$EX" > "$T/pairs.md"
check "text summary table" grep -q "^| within radius | 31 | 5 / 5" "$T/pairs.md"

# --- the adaptive attack (told the second hash) gets past both checks, at a visible price
$V eval attack --json --adaptive "$EX" > "$T/adaptive.json"
check "adaptive exits 0" test $? -eq 0
check "adaptive JSON" python3 -c "
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
s=rows[-1]['summary']; pm=s['genuine']['pass_min']
assert s['adaptive']['pairs']==5, s
for p in [r for r in rows if 'source' in r]:
    a=p['adaptive']
    if a['success']: assert a['distance'] <= 31 and a['second_score'] >= pm, p
    if p['radius']['start_distance'] > 80 and a['success']: assert a['psnr'] < p['radius']['psnr'], p
assert s['adaptive']['success'] >= 4, s
" "$T/adaptive.json"

echo "attack.sh: $pass passed, $fail failed"
test $fail -eq 0
