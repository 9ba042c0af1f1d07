#!/bin/bash
# tests/cli/bank_match.sh -- vouch bank / index / match: command shapes,
# output, exit statuses (0 nothing matched, 1 matched, 2 error), enable and
# disable, corrupt index handling.
set -u
V=${VOUCH_BIN:?VOUCH_BIN not set}
T=$(mktemp -d /tmp/vouch-cli-bank.XXXXXX)
trap 'rm -rf "$T"' EXIT
# the bank under test: a file, or a postgresql:// URI (tests/cli/bank_pg.sh)
DB=${VOUCH_TEST_BANK_DB:-$T/b.sqlite}
fails=0
check() { # check DESC EXPECTED_STATUS ACTUAL_STATUS
  if [ "$2" != "$3" ]; then echo "FAIL: $1 (status $3, want $2)"; fails=$((fails+1)); else echo "ok: $1"; fi
}
has() { # has DESC FILE PATTERN
  if grep -q -- "$3" "$2"; then echo "ok: $1"; else echo "FAIL: $1: '$3' not in $2:"; cat "$2"; fails=$((fails+1)); fi
}
H1=f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22
H2=0000000000000000000000000000000000000000000000000000000000000001
H3=ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff
# H1 with 3 bits flipped (last byte 22 -> 25: 0x22^0x25 = 0x07)
H1N=f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b25

$V bank --help >/dev/null; check "bank --help" 0 $?
$V index --help >/dev/null; check "index --help" 0 $?
$V match --help >/dev/null; check "match --help" 0 $?
$V bank create --db "$DB" ncmec; check "create" 0 $?
$V bank create --db "$DB" ncmec 2>/dev/null; check "create twice" 2 $?
$V bank create --db "$DB" --algo phash p64; check "create phash" 0 $?
printf 'hash,id,source\n%s,A1,ncmec\n%s,A2,"ncmec,tx"\nbad,A3,x\n' $H1 $H2 > "$T/l.csv"
$V bank import --db "$DB" ncmec "$T/l.csv" 2>"$T/err"; check "import csv with a bad line" 0 $?
has "bad line reported with its number" "$T/err" "l.csv:4:"
$V bank import --db "$DB" ncmec "$T/l.csv" --strict 2>/dev/null; check "strict import fails" 2 $?
printf '%s\n' $H3 | $V bank import --db "$DB" ncmec - --source stdin-list 2>/dev/null; check "import stdin" 0 $?
$V bank list --db "$DB" > "$T/list"; check "list" 0 $?
has "list counts" "$T/list" "3 entries (3 enabled)"
$V bank show --db "$DB" ncmec --json > "$T/show"; check "show" 0 $?
has "show json" "$T/show" '"entries":3'
$V bank show --db "$DB" nobank 2>/dev/null; check "show missing bank" 2 $?
$V bank export --db "$DB" ncmec --format jsonl > "$T/exp.jsonl"; check "export jsonl" 0 $?
has "export has sources" "$T/exp.jsonl" '"source":"ncmec,tx"'
$V bank export --db "$DB" ncmec --format csv -o "$T/exp.csv"; check "export csv" 0 $?
$V bank create --db "$DB" copy && $V bank import --db "$DB" copy "$T/exp.csv" 2>/dev/null
$V bank export --db "$DB" copy --format csv | cut -d, -f1-4 > "$T/c1"
cut -d, -f1-4 "$T/exp.csv" > "$T/c2"
cmp -s "$T/c1" "$T/c2"; check "csv export/import round trip" 0 $?
$V bank rename --db "$DB" copy copy2; check "rename" 0 $?
$V bank export --db "$DB" copy2 --format csv | cut -d, -f1-4 | cmp -s - "$T/c2"; check "renamed bank keeps its entries" 0 $?
$V bank rename --db "$DB" copy2 ncmec 2>/dev/null; check "rename to a taken name refused" 2 $?
$V bank remove --db "$DB" copy2; check "remove" 0 $?

$V index build --db "$DB" -o "$T/i.vidx" 2>/dev/null; check "index of mixed algorithms refused" 2 $?
$V index build --db "$DB" --bank ncmec -o "$T/i.vidx" > "$T/build"; check "index build" 0 $?
has "index build prints count" "$T/build" "3 entries"
$V index info "$T/i.vidx" --verify > "$T/info"; check "index info --verify" 0 $?
has "index info" "$T/info" "recomputed: ok"
has "index info memory" "$T/info" "memory to search it: MIH tables [0-9.]* kB (of which entry links [0-9.]* [kM]*B); the file, .* with 96 B of hashes, is mapped"
$V index info "$T/i.vidx" --json > "$T/info.json"
has "index info --json memory" "$T/info.json" '"hash_bytes":96,"mih_tables_bytes":[1-9][0-9]*,"mih_links_bytes":[1-9][0-9]*}'

printf '%s\n' $H1N > "$T/q"
$V match --index "$T/i.vidx" --hashes "$T/q" --json > "$T/m"; check "match finds near duplicate" 1 $?
has "json fields" "$T/m" "\"query\":\"$H1N\",\"hash\":\"$H1\",\"bank\":\"ncmec\",\"id\":\"A1\",\"source\":\"ncmec\",\"distance\":3,\"variant\":\"original\""
$V match --index "$T/i.vidx" --hashes "$T/q" --radius 2 > "$T/m"; check "radius 2: no match" 0 $?
test ! -s "$T/m"; check "no output without match" 0 $?
$V match --index "$T/i.vidx" --hashes "$T/q" --engine mih --json > "$T/m1"; check "mih engine" 1 $?
$V match --index "$T/i.vidx" --hashes "$T/q" --engine scan --json > "$T/m2"; check "scan engine" 1 $?
cmp -s "$T/m1" "$T/m2"; check "engines agree" 0 $?
printf '%s 100 /some/photo.jpg\n' $H1 | $V match --index "$T/i.vidx" --hashes - > "$T/m"; check "vouch hash text output as queries" 1 $?
has "label from path" "$T/m" "^/some/photo.jpg	0	ncmec	A1	$H1	original	ncmec"
printf 'nothex\n' | $V match --index "$T/i.vidx" --hashes - 2>/dev/null; check "bad query line" 2 $?
$V match --index "$T/i.vidx" --hashes "$T/q" --radius 999 2>/dev/null; check "radius out of range" 2 $?
$V match --index "$T/nonexistent.vidx" --hashes "$T/q" 2>/dev/null; check "missing index" 2 $?

# disable one entry by id, then the whole bank: matches disappear after rebuild
$V bank disable --db "$DB" ncmec --id A1 2>/dev/null; check "disable entry" 0 $?
$V index build --db "$DB" --bank ncmec -o "$T/i.vidx" >/dev/null
$V match --index "$T/i.vidx" --hashes "$T/q" >/dev/null; check "disabled entry not matched" 0 $?
$V bank enable --db "$DB" ncmec --hash $H1 2>/dev/null; check "enable entry by hash" 0 $?
$V bank disable --db "$DB" ncmec; check "disable bank" 0 $?
$V index build --db "$DB" -o "$T/i.vidx" >/dev/null; check "index of enabled banks" 0 $?
$V index info "$T/i.vidx" > "$T/info"
has "only the phash bank" "$T/info" "phash, 0 entries"
$V bank enable --db "$DB" ncmec
$V index build --db "$DB" --bank ncmec -o "$T/i.vidx" >/dev/null
$V match --index "$T/i.vidx" --hashes "$T/q" >/dev/null; check "re-enabled entry matched" 1 $?

# damaged index files: clean error, status 2, never a crash
size=$(stat -c %s "$T/i.vidx")
for cut in 0 10 127 160 $((size/2)) $((size-1)); do
  head -c $cut "$T/i.vidx" > "$T/bad.vidx"
  $V match --index "$T/bad.vidx" --hashes "$T/q" 2>"$T/err"; st=$?
  check "truncated to $cut bytes" 2 $st
done
has "says why" "$T/err" "checksum\|too short"
for off in 0 9 12 20 30 100 200 $((size-40)) $((size-1)); do
  cp "$T/i.vidx" "$T/bad.vidx"
  printf '\x5a' | dd of="$T/bad.vidx" bs=1 seek=$off conv=notrunc 2>/dev/null
  $V match --index "$T/bad.vidx" --hashes "$T/q" 2>/dev/null; check "byte $off overwritten" 2 $?
done

# photos, if the test images are there
IMG=${VOUCH_SHARED:-/nonexistent}/testdata/pdq/images/reg-test-input/dih
if [ -f "$IMG/bridge-1-original.jpg" ]; then
  $V hash --json "$IMG/bridge-1-original.jpg" > "$T/h.jsonl"
  $V bank create --db "$T/p.sqlite" photos && $V bank import --db "$T/p.sqlite" photos "$T/h.jsonl" 2>/dev/null
  $V index build --db "$T/p.sqlite" -o "$T/p.vidx" >/dev/null
  $V match --index "$T/p.vidx" "$IMG/bridge-1-original.jpg" >/dev/null; check "photo matches itself" 1 $?
  $V match --index "$T/p.vidx" --radius 31 "$IMG/bridge-3-rotate-180.jpg" >/dev/null; check "rotated photo without --dihedral" 0 $?
  $V match --index "$T/p.vidx" --dihedral --json "$IMG/bridge-3-rotate-180.jpg" > "$T/m"; check "rotated photo with --dihedral" 1 $?
  has "variant named" "$T/m" '"variant":"rot180"'
  $V match --index "$T/p.vidx" "$T/q" 2>/dev/null; check "non-image file" 2 $?
else
  echo "skip: photo tests (no test images)"
fi

echo "$fails failures"
[ $fails -eq 0 ]
