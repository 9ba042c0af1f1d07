#!/bin/bash
# tests/cli/classify.sh -- `vouch classify` end to end: output shapes and
# order, the verdict and its exit status, --threshold, --blur (PNG files with
# no detail), --model / $VOUCH_MODEL, bad model files, bad inputs, threads.
# Needs the converted model (scripts/fetch-model.sh); exits 77 without it.
set -u
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
EX=$SRC/examples
MODEL=${VOUCH_CLASSIFY_CACHE:-$SRC/.cache/classify}/nsfw-mobilenet-v2.vcm
if [ ! -r "$MODEL" ]; then
  echo "model $MODEL not found (scripts/fetch-model.sh); skipping" >&2
  exit 77
fi
. "$(dirname "$0")/lib/check.sh"

# --help and usage errors
$V classify --help > "$T/help"; check "help exits 0" test $? -eq 0
check "help documents the rule" grep -q "porn + hentai + sexy" "$T/help"
check "help lists --blur" grep -q -- "--blur DIR" "$T/help"
$V --help | grep -q "^  classify"; check "command table lists classify" test $? -eq 0
$V classify 2>/dev/null; check "no operands exits 2" test $? -eq 2
$V classify --model "$MODEL" --threshold 1.5 "$EX/wee.jpg" 2>/dev/null; check "threshold > 1 exits 2" test $? -eq 2
$V classify --model "$MODEL" --threshold abc "$EX/wee.jpg" 2>/dev/null; check "bad threshold exits 2" test $? -eq 2
$V classify --model "$MODEL" --blur "$T/nope" "$EX/wee.jpg" 2>/dev/null; check "blur dir missing exits 2" test $? -eq 2

# model selection and bad model files
$V classify --model "$T/missing.vcm" "$EX/wee.jpg" 2> "$T/err"; check "missing model exits 2" test $? -eq 2
check "missing model says how to get it" grep -q "fetch-model.sh" "$T/err"
head -c 5000 "$MODEL" > "$T/trunc.vcm"
$V classify --model "$T/trunc.vcm" "$EX/wee.jpg" 2> "$T/err"; check "truncated model exits 2" test $? -eq 2
check "truncated model reported" grep -q "model file" "$T/err"
cp "$MODEL" "$T/flip.vcm"
printf '\x55' | dd of="$T/flip.vcm" bs=1 seek=5000000 conv=notrunc 2>/dev/null
$V classify --model "$T/flip.vcm" "$EX/wee.jpg" 2> "$T/err"; check "corrupt model exits 2" test $? -eq 2
check "corrupt model: checksum" grep -q "checksum" "$T/err"
VOUCH_MODEL="$MODEL" $V classify "$EX/bridge.jpg" > "$T/env"; check "VOUCH_MODEL is used" test $? -eq 0
VOUCH_MODEL="$T/missing.vcm" $V classify --model "$MODEL" "$EX/bridge.jpg" > /dev/null; check "--model wins over VOUCH_MODEL" test $? -eq 0

# text output, input order; none of the examples is sensitive at the default
$V classify --model "$MODEL" "$EX/bridge.jpg" "$EX/wee.jpg" "$EX/bridge-square.jpg" > "$T/out"
check "benign examples exit 0" test $? -eq 0
check "three lines" test "$(wc -l < "$T/out")" -eq 3
check "text shape" grep -Eq "^ok +0\.[0-9]{4} drawing=0\.[0-9]{4} hentai=[0-9.]+ neutral=[0-9.]+ porn=[0-9.]+ sexy=[0-9.]+ $EX/bridge.jpg\$" "$T/out"
check "order kept" bash -c "sed -n 2p '$T/out' | grep -q 'wee.jpg\$' && sed -n 3p '$T/out' | grep -q 'bridge-square.jpg\$'"

# JSON: shape, probabilities sum to 1, verdict = score >= threshold, and the
# values match the nsfwjs reference (measured with scripts/classify/reference.js
# on the same decoded pixels; test_classify_ref checks this for every image)
$V classify --model "$MODEL" --json "$EX/bridge.jpg" "$EX/wee.jpg" > "$T/json"; check "json exit 0" test $? -eq 0
check "json shape and values" python3 -c '
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
assert len(rows)==2
for r in rows:
    p=r["probabilities"]
    assert list(p)==["drawing","hentai","neutral","porn","sexy"], p
    assert abs(sum(p.values())-1)<1e-4
    assert abs(r["score"]-(p["porn"]+p["hentai"]+p["sexy"]))<1e-5
    assert r["sensitive"] == (r["score"]>=0.8)
b,w=rows
assert b["path"].endswith("bridge.jpg") and abs(b["probabilities"]["drawing"]-0.848778)<1e-4, b
assert abs(w["probabilities"]["porn"]-0.161124)<1e-4, w
' "$T/json"

# --threshold: wee.jpg scores 0.165 -> sensitive at 0.1, exit 1 (like grep);
# --blur writes a detail-free PNG of it and only of it
mkdir "$T/blur"
$V classify --model "$MODEL" --json --threshold 0.1 --blur "$T/blur" "$EX/wee.jpg" "$EX/bridge.jpg" > "$T/thr"
check "a sensitive image exits 1" test $? -eq 1
check "wee sensitive, bridge not" python3 -c '
import json,sys
w,b=[json.loads(l) for l in open(sys.argv[1])]
assert w["sensitive"] and not b["sensitive"]
assert w["blurred"].endswith("/wee.blurred.png") and "blurred" not in b
' "$T/thr"
check "one blurred file" test "$(ls "$T/blur" | wc -l)" -eq 1
# (that the blur keeps no detail is checked in tests/unit/test_classify.c)
check "blurred copy: a PNG of the same size" python3 - "$T/blur/wee.blurred.png" <<'PY'
import sys, struct
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n"
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (34, 42), (w, h)
PY
$V classify --model "$MODEL" --threshold 0.1 --blur "$T/blur" "$EX/wee.jpg" > /dev/null
check "a second copy does not overwrite" test -f "$T/blur/wee-2.blurred.png"

# a bad file among good ones: reported, others still classified, exit 2
printf 'not an image' > "$T/bad.jpg"
$V classify --model "$MODEL" "$EX/bridge.jpg" "$T/bad.jpg" "$EX/wee.jpg" > "$T/o2" 2> "$T/e2"
check "bad file exits 2" test $? -eq 2
check "bad file named" grep -q "bad.jpg" "$T/e2"
check "good files still out" test "$(wc -l < "$T/o2")" -eq 2

# directories: -r walks, a non-image found there is skipped
mkdir -p "$T/dir/sub"
cp "$EX/bridge.jpg" "$EX/wee.jpg" "$T/dir/"
cp "$EX/bridge-square.jpg" "$T/dir/sub/"
printf 'notes' > "$T/dir/readme.txt"
$V classify --model "$MODEL" -r "$T/dir" > "$T/o3" 2> "$T/e3"; check "-r exits 0" test $? -eq 0
check "-r finds 3 images" test "$(wc -l < "$T/o3")" -eq 3
check "-r warns about the skipped file" grep -q "skipped 1 file" "$T/e3"

# threads do not change results or order
$V classify --model "$MODEL" --json -j 1 "$EX"/*.jpg > "$T/j1"
$V classify --model "$MODEL" --json -j 3 "$EX"/*.jpg > "$T/j3"
check "-j 1 and -j 3 identical" cmp -s "$T/j1" "$T/j3"

echo "classify CLI: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
