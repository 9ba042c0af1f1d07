#!/bin/bash
# tests/cli/digest_bank.sh -- banks of exact file digests (md5, sha1,
# sha256): imports of the exchange formats that carry them (python-
# threatexchange CSV and tx lines with video_md5, NCMEC XML fingerprints,
# a TE state file, JSON Lines, CSV columns named MD5/SHA1), export, an
# index of them, and `vouch match` of files (exact digests, any file type).
set -u
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
F=$SRC/tests/fixtures/exchange
G=$SRC/tests/golden/videos
. "$(dirname "$0")/lib/check.sh"
DB=$T/b.sqlite
md5() { md5sum "$1" | cut -c1-32; }

for a in md5 sha1 sha256; do
  $V bank create --db "$DB" --algo $a "b$a" >/dev/null; check "create a $a bank" test $? -eq 0
done
$V bank list --db "$DB" > "$T/list"
check "the banks list their algorithm" grep -qE '^bmd5 +md5 ' "$T/list"

# python-threatexchange's dataset CSV: only the video_md5 row is an md5
$V bank import --db "$DB" bmd5 "$F/tx_dataset.csv" 2> "$T/e"; check "tx dataset CSV exits 0" test $? -eq 0
check "1 added, the other signal types skipped" grep -q ": 1 added, .* of another signal type skipped" "$T/e"
# tx hash lines
printf 'video_md5 %s\npdq %064x\n' "$(md5 "$G/h264.mp4")" 1 > "$T/tx.txt"
$V bank import --db "$DB" bmd5 "$T/tx.txt" --source partner 2> "$T/e"; check "tx lines exit 0" test $? -eq 0
check "the video_md5 line added" grep -q ": 1 added, .*1 of another signal type skipped; format tx" "$T/e"
# NCMEC XML: the md5 and sha1 fingerprints
$V bank import --db "$DB" bmd5 "$F/ncmec_page1.xml" --source ncmec 2> "$T/e"; check "NCMEC md5 exits 0" test $? -eq 0
check "2 md5 fingerprints" grep -q ": 2 added" "$T/e"
$V bank import --db "$DB" bsha1 "$F/ncmec_page1.xml" --source ncmec 2> "$T/e"; check "NCMEC sha1 exits 0" test $? -eq 0
check "2 sha1 fingerprints" grep -q ": 2 added" "$T/e"
# a ThreatExchange state file of HASH_MD5
$V bank import --db "$DB" bmd5 "$F/simple.HASH_MD5.te" --format te --source te 2> "$T/e"
check "TE HASH_MD5 state file: one new, one NCMEC had" grep -q ": 1 added, 1 already" "$T/e"
# JSON Lines and a CSV whose columns are named after the digests
printf '{"hash":"%s","id":"mkv-1","signal_type":"video_md5"}\n' "$(md5 "$G/mpeg4.mkv")" > "$T/j.jsonl"
$V bank import --db "$DB" bmd5 "$T/j.jsonl" 2> "$T/e"; check "JSON Lines" grep -q ": 1 added" "$T/e"
printf 'id,MD5,SHA1,SHA256\nwebm-1,%s,%s,%s\n' "$(md5 "$G/vp9.webm")" "$(sha1sum "$G/vp9.webm" | cut -c1-40)" \
  "$(sha256sum "$G/vp9.webm" | cut -c1-64)" > "$T/n.csv"
for a in md5 sha1 sha256; do
  $V bank import --db "$DB" "b$a" "$T/n.csv" --source csv 2> "$T/e"; check "CSV column $a" grep -q ": 1 added" "$T/e"
done
printf '%s\n' 0123 > "$T/bad.txt"
$V bank import --db "$DB" bmd5 "$T/bad.txt" --strict 2>/dev/null; check "a short hash is refused (strict)" test $? -eq 2
$V bank export --db "$DB" bmd5 --format csv > "$T/exp.csv"
check "export: 7 md5 entries" test "$(grep -cE '^[0-9a-f]{32},' "$T/exp.csv")" -eq 7
check "export keeps the NCMEC id" grep -q '^939bfedb8b95a17fc65244fb3b9b7ca3,9-img-102,ncmec,,1,' "$T/exp.csv"
check "an entry from two lists has both sources" grep -q '^351357e3cd2d6a7e1b936545bb3b89fe,[^,]*,"ncmec,te",' "$T/exp.csv"
# the export reads back into a new bank unchanged
$V bank create --db "$DB" --algo md5 again >/dev/null
$V bank import --db "$DB" again "$T/exp.csv" 2>/dev/null
$V bank export --db "$DB" again --format csv | cut -d, -f1-4 > "$T/a2"
cut -d, -f1-4 "$T/exp.csv" > "$T/a1"
check "export round trip" cmp -s "$T/a1" "$T/a2"

# the index and matching
$V index build --db "$DB" --bank bmd5 -o "$T/m.vidx" 2>/dev/null; check "index build" test $? -eq 0
$V index info "$T/m.vidx" > "$T/info"; check "index info says md5" grep -q "md5, 7 entries" "$T/info"
$V index build --db "$DB" --bank bmd5 --bank bsha1 -o "$T/x.vidx" 2>/dev/null; check "md5 + sha1 banks refused" test $? -eq 2
$V match --index "$T/m.vidx" "$G/h264.mp4" "$G/mpeg4.mkv" "$G/vp9.webm" "$G/ffv1.mkv" > "$T/m.txt"
check "match exits 1" test $? -eq 1
check "3 files matched" test "$(wc -l < "$T/m.txt")" -eq 3
check "h264 by its partner entry" grep -qP "^$G/h264.mp4\t0\tbmd5\t\t$(md5 "$G/h264.mp4")\toriginal\tpartner$" "$T/m.txt"
check "ffv1 is not in the bank" test "$(grep -c ffv1 "$T/m.txt")" -eq 0
$V match --index "$T/m.vidx" --json --algo md5 "$G/vp9.webm" > "$T/m.json"
check "JSON: bank, id, source, distance 0" python3 -c "
import json; o=json.loads(open('$T/m.json').read())
assert o['bank']=='bmd5' and o['id']=='webm-1' and o['source']=='csv' and o['distance']==0 and o['hash']=='$(md5 "$G/vp9.webm")', o"
$V match --index "$T/m.vidx" "$G/ffv1.mkv" > /dev/null; check "no match exits 0" test $? -eq 0
$V match --index "$T/m.vidx" --algo sha1 "$G/vp9.webm" 2>/dev/null; check "--algo other than the index's exits 2" test $? -eq 2
$V match --index "$T/m.vidx" --radius 3 "$G/vp9.webm" 2>/dev/null; check "a radius above 0 exits 2" test $? -eq 2
$V match --index "$T/m.vidx" --dihedral "$G/vp9.webm" 2>/dev/null; check "--dihedral exits 2" test $? -eq 2
$V match --index "$T/m.vidx" "$T/missing" 2>/dev/null; check "a missing file exits 2" test $? -eq 2
# --hashes: vouch hash output, tx lines, JSON
$V hash --algo md5 "$G/h264.mp4" "$G/ffv1.mkv" | $V match --index "$T/m.vidx" --hashes - > "$T/h.txt"
check "--hashes of vouch hash output" test "$(cut -f1 "$T/h.txt")" = "$G/h264.mp4"
$V match --index "$T/m.vidx" --hashes "$T/tx.txt" > "$T/h.txt" 2> "$T/e"
check "--hashes of tx lines" test "$(wc -l < "$T/h.txt")" -eq 1
check "the pdq line is skipped" grep -q "1 line of another signal type skipped" "$T/e"
$V hash --algo md5 --json "$G/mpeg4.mkv" | $V match --index "$T/m.vidx" --hashes - --db "$DB" > "$T/h.txt"
check "--hashes of JSON, tags from --db" grep -qP "\tmkv-1\t" "$T/h.txt"
# a sha256 index of any file type
$V index build --db "$DB" --bank bsha256 -o "$T/s.vidx" 2>/dev/null
$V match --index "$T/s.vidx" --json "$G/vp9.webm" > "$T/s.json"; check "sha256 match" grep -q '"id":"webm-1"' "$T/s.json"
# a disabled entry leaves the next index
$V bank disable --db "$DB" bmd5 --id webm-1 >/dev/null 2>&1
$V index build --db "$DB" --bank bmd5 -o "$T/m2.vidx" 2>/dev/null
$V match --index "$T/m2.vidx" "$G/vp9.webm" > /dev/null; check "disabled entry: no match" test $? -eq 0

# signed source lists of digests (vouch audit source sign --algo md5)
$V audit source keygen --name org1 --jurisdiction US -o "$T/k.key" >/dev/null 2>&1
md5 "$G/ffv1.mkv" > "$T/sl.txt"
$V audit source sign --key "$T/k.key" --list-version 1 --date 2026-12-01 --algo md5 -o "$T/l.vsl" "$T/sl.txt" 2>/dev/null
check "sign an md5 list" test $? -eq 0
$V bank create --db "$DB" --algo md5 signed >/dev/null
$V bank import --db "$DB" signed --signed "$T/l.vsl" 2>/dev/null; check "import it signed" test $? -eq 0
check "the list is stored" test "$($V bank lists --db "$DB" --json | wc -l)" -eq 1
$V bank import --db "$DB" bsha1 --signed "$T/l.vsl" 2>/dev/null; check "an md5 list into a sha1 bank exits 2" test $? -eq 2
$V index build --db "$DB" --bank signed -o "$T/sg.vidx" 2>/dev/null
$V match --index "$T/sg.vidx" "$G/ffv1.mkv" > "$T/sg.txt"; check "its digest matches, source org1" grep -qP "\torg1$" "$T/sg.txt"

echo "digest_bank: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
