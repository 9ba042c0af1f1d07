#!/bin/bash
# tests/cli/hash.sh -- `vouch hash` end to end: output shapes, order, exit
# statuses, bad files, stdin lists, directories, --exact bit-exactness.
set -u
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
EX=$SRC/examples
. "$(dirname "$0")/lib/check.sh"

# --help and usage errors
$V hash --help > "$T/help" ; check "help exits 0" test $? -eq 0
check "help mentions --dihedral" grep -q -- --dihedral "$T/help"
$V hash --bogus 2>/dev/null; check "unknown option exits 2" test $? -eq 2
$V hash 2>/dev/null; check "no operands exits 2" test $? -eq 2
$V hash --algo md6 "$EX/wee.jpg" 2>/dev/null; check "bad algo exits 2" test $? -eq 2

# text output: HASH QUALITY PATH, one line per file, input order
$V hash --exact "$EX/bridge.jpg" "$EX/wee.jpg" > "$T/out"; check "two good files exit 0" test $? -eq 0
check "two lines" test "$(wc -l < "$T/out")" -eq 2
check "bridge exact hash = reference" grep -q "^f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22 100 $EX/bridge.jpg\$" "$T/out"
check "wee second" bash -c "sed -n 2p '$T/out' | grep -q '^6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d 100 .*wee.jpg\$'"

# JSON lines with dihedral
$V hash --exact --json --dihedral "$EX/bridge.jpg" > "$T/json"; check "json exit 0" test $? -eq 0
check "json parses, 8 variants, reference rot90" python3 -c '
import json,sys
o=json.loads(open(sys.argv[1]).read())
assert o["algo"]=="pdq" and o["quality"]==100 and len(o["dihedral"])==8, o
assert o["dihedral"][0]==o["hash"]
assert o["dihedral"][1]=="30a10efd71c83f429013d48d0ffffc52e34e0e17ada952a9d29685211ea9e5af", o["dihedral"][1]
' "$T/json"

# fast mode decodes at reduced scale but reports the photo's own size
$V hash --json "$EX/bridge.jpg" > "$T/json"
check "fast mode reports full size" python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).read()); assert (o["width"],o["height"])==(1600,1004), o' "$T/json"

# a bad file in the middle: error on stderr naming it, exit 2, others still printed in order
printf 'not an image' > "$T/bad.jpg"
head -c 5000 "$EX/bridge.jpg" > "$T/truncated.jpg"
: > "$T/empty.png"
$V hash "$EX/wee.jpg" "$T/bad.jpg" "$T/truncated.jpg" "$T/empty.png" "$T/missing.jpg" "$EX/bridge-square.jpg" > "$T/out" 2> "$T/err"
check "bad files exit 2" test $? -eq 2
check "good files still printed" test "$(wc -l < "$T/out")" -eq 2
check "order kept" bash -c "tail -1 '$T/out' | grep -q bridge-square.jpg"
check "error names the bad file" grep -q "bad.jpg" "$T/err"
check "error names the truncated file" grep -q "truncated.jpg" "$T/err"
check "error names the empty file" grep -q "empty.png" "$T/err"
check "error names the missing file" grep -q "missing.jpg" "$T/err"
check "one line per error" test "$(grep -c . "$T/err")" -eq 4
$V hash --json "$T/bad.jpg" > "$T/json" 2>/dev/null
check "json error object" python3 -c 'import json,sys; o=json.loads(open(sys.argv[1]).read()); assert o["error"] and o["path"].endswith("bad.jpg")' "$T/json"

# stdin list and directories
printf '%s\n' "$EX/wee.jpg" "$EX/bridge.jpg" | $V hash - > "$T/out"; check "stdin list exit 0" test $? -eq 0
check "stdin list order" bash -c "head -1 '$T/out' | grep -q wee.jpg && tail -1 '$T/out' | grep -q bridge.jpg"
$V hash "$EX" 2>/dev/null; check "directory without -r exits 2" test $? -eq 2
$V hash -r "$EX" > "$T/out" 2> "$T/err"; check "-r exit 0 (README.md skipped)" test $? -eq 0
check "-r reports the skipped non-image" grep -q "skipped 1 file" "$T/err"
check "-r finds the 5 examples" test "$(wc -l < "$T/out")" -eq 5
check "-r sorted" bash -c "awk '{print \$3}' '$T/out' | sort -c"

# many files on many threads: same output as one thread
for i in $(seq 1 40); do cp "$EX/bridge-square.jpg" "$T/f$i.jpg"; done
cp "$EX/wee.jpg" "$T/f17.jpg"
ls "$T"/f*.jpg > "$T/list"
$V hash -j 1 - < "$T/list" > "$T/one"
$V hash -j 4 - < "$T/list" > "$T/four"
check "threads keep order and results" cmp -s "$T/one" "$T/four"
# more files than the photo pipeline holds at once (16 per thread), with
# failures among them: slots are reused many times, order and messages kept
for i in $(seq 1 150); do echo "$T/f$((i % 40 + 1)).jpg"; done > "$T/long"
sed -i -e '37s|.*|'"$T"'/missing.jpg|' -e '90s|.*|'"$EX"'/README.md|' "$T/long"
$V hash -j 1 - < "$T/long" > "$T/one" 2> "$T/one.err"; rc1=$?
$V hash -j 2 - < "$T/long" > "$T/two" 2> "$T/two.err"; rc2=$?
check "150 files on 2 threads: same output, messages and status as on 1" \
  bash -c "cmp -s '$T/one' '$T/two' && cmp -s '$T/one.err' '$T/two.err' && [ $rc1 -eq 2 ] && [ $rc2 -eq 2 ]"
check "... 148 hashes, 2 failures reported" \
  bash -c "[ \$(wc -l < '$T/two') -eq 148 ] && [ \$(grep -c . '$T/two.err') -eq 2 ]"

# other algorithms
for a in phash dhash ahash; do
  $V hash --algo $a "$EX/bridge.jpg" > "$T/out"; check "$a exit 0" test $? -eq 0
  check "$a 16 hex digits" grep -Eq '^[0-9a-f]{16} - ' "$T/out"
done

# fast mode stays close to exact on the big example
e=$($V hash --exact "$EX/bridge.jpg" | cut -d' ' -f1)
f=$($V hash "$EX/bridge.jpg" | cut -d' ' -f1)
check "fast within 16 bits of exact" python3 -c "import sys; assert bin(int('$e',16)^int('$f',16)).count('1') <= 16"

echo "$pass passed, $fail failed"
test $fail -eq 0
