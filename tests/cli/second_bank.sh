#!/bin/bash
# tests/cli/second_bank.sh -- second hashes supplied by a source next to the
# match hash: the second_hash column of `vouch bank import` (CSV, TSV, JSON
# lines), stored with the entry, exported, and used by `vouch psi open --db`
# as the matched entry's second hash: pass (a genuine edit), fail (a photo
# forged to collide bit for bit) and unknown (an entry with none), which one
# wins against a --second file; a source's signed second hashes (.vss) next
# to its signed list (.vsl) (`vouch audit source seconds`, `vouch bank import
# --signed --seconds`), refused when tampered or made for another list; and
# the same on PostgreSQL when its server binaries are installed.
set -u
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
EX=$SRC/examples
LIB=$(cd "$(dirname "$0")/lib" && pwd)
. "$LIB/check.sh"
. "$LIB/forged_vouchers.sh"
command -v python3 >/dev/null || { echo "python3 needed; skipping"; exit 77; }
cd "$T"

$V hash --derivative "$EX/bridge.jpg" "$EX/wee.jpg" > second.txt
BRIDGE=$(awk 'NR==1{print $1}' second.txt); BRIDGE2=$(awk 'NR==1{print $3}' second.txt)
WEE=$(awk 'NR==2{print $1}' second.txt); WEE2=$(awk 'NR==2{print $3}' second.txt)
# 50 random hashes without a second hash, and the two photos with theirs
{
  echo "hash,id,second_hash"
  echo "$BRIDGE,bridge.jpg,$BRIDGE2"
  echo "$WEE,wee.jpg,$WEE2"
  for i in $(seq 1 50); do echo "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n'),r$i,"; done
} > list.csv
cut -d, -f1 list.csv | tail -n +2 > db.txt

# ---- import and export
DB=bank.sqlite
$V bank create --db $DB known >/dev/null
$V bank import --db $DB known list.csv --source org-a > imp.out 2>&1
check "CSV import with second_hash: 52 added" grep -q ": 52 added" imp.out
$V bank export --db $DB known --format csv > exp.csv
check "CSV export header names second_hash" test "$(head -1 exp.csv)" = "hash,id,sources,tags,enabled,added_at,entry,second_hash"
check "CSV export carries both second hashes" python3 -c "
import csv,sys
rows={r['id']:r for r in csv.DictReader(open(sys.argv[1]))}
assert rows['bridge.jpg']['second_hash']==sys.argv[2] and rows['wee.jpg']['second_hash']==sys.argv[3], rows['wee.jpg']
assert sum(1 for r in rows.values() if r['second_hash']=='')==50" exp.csv "$BRIDGE2" "$WEE2"
$V bank export --db $DB known --format jsonl > exp.jsonl
check "JSON lines export carries second_hash" python3 -c "
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
s={r['id']:r.get('second_hash') for r in rows}
assert s['bridge.jpg']==sys.argv[2] and s['wee.jpg']==sys.argv[3] and list(s.values()).count(None)==50, s" exp.jsonl "$BRIDGE2" "$WEE2"
# the exports import back with the second hashes (CSV into one bank, JSON lines into another)
$V bank create --db $DB again >/dev/null
$V bank import --db $DB again exp.csv >/dev/null 2>&1
$V bank create --db $DB again2 >/dev/null
$V bank import --db $DB again2 exp.jsonl >/dev/null 2>&1
check "CSV export re-imports the same" test "$($V bank export --db $DB again --format csv | cut -d, -f1,2,8 | md5sum)" = "$(cut -d, -f1,2,8 exp.csv | md5sum)"
check "JSON lines export re-imports the same" test "$($V bank export --db $DB again2 --format csv | cut -d, -f1,2,8 | md5sum)" = "$(cut -d, -f1,2,8 exp.csv | md5sum)"
# TSV, and the column's other name
printf 'pdq\tsecond\n%s\t%s\n' "$WEE" "$WEE2" > list.tsv
$V bank create --db $DB tsv >/dev/null
$V bank import --db $DB tsv list.tsv >/dev/null 2>&1
check "TSV with a 'second' column" sh -c "$V bank export --db $DB tsv --format jsonl | grep -q '\"second_hash\":\"$WEE2\"'"

# ---- bad second hashes: reported by line and skipped, or nothing with --strict
BAD2=02${WEE2#01}
{ echo "hash,second_hash"; echo "$BRIDGE,$BRIDGE2"; echo "$WEE,abcd"; echo "$(od -An -tx1 -N32 /dev/urandom | tr -d ' \n'),$BAD2"; } > bad.csv
$V bank create --db $DB bad >/dev/null
$V bank import --db $DB bad bad.csv > bad.out 2>&1
check "a short second hash is named by line" grep -q "bad.csv:3: second_hash is not a version-1 second hash" bad.out
check "a second hash of another version is refused" grep -q "bad.csv:4: second_hash" bad.out
check "... the good row imported" test "$($V bank export --db $DB bad | wc -l)" -eq 1
$V bank create --db $DB strict >/dev/null
$V bank import --db $DB strict bad.csv --strict >/dev/null 2>&1
check "--strict: bad second hash imports nothing (exit 2)" test $? -eq 2
printf '{"hash":"%s","second_hash":7}\n' "$WEE" > bad.jsonl
$V bank import --db $DB bad bad.jsonl > badj.out 2>&1
check "JSON lines: a non-string second_hash is refused" grep -q 'bad.jsonl:1: "second_hash" is not a string' badj.out

# ---- psi open --db: the matched entry's second hash from the bank
forged_vouchers "$WEE"
verdicts() { # FILE PASS FAIL UNKNOWN [FORGERY-VERDICT]
  python3 -c "
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
assert rows[0]['threshold_crossed'], rows[0]
want={'pass':int(sys.argv[2]),'fail':int(sys.argv[3]),'unknown':int(sys.argv[4])}
assert rows[-1]=={'second_hash':want}, rows[-1]
if len(sys.argv) > 5:
  f=[x for x in rows[1:-1] if x['hash']==sys.argv[6]][0]
  assert f['second']==sys.argv[5], f" "$@"
}
open_() { $V psi open --key server.key --public public.vpd --hashes db.txt --json "$@" v; }
open_ --db $DB --bank known > o1.json
check "psi open --db: the edit passes, the forgery fails" verdicts o1.json 1 1 0 fail "$WEE"
check "... and the forgery is confirmed by PDQ" python3 -c "
import json; r=[json.loads(l) for l in open('o1.json')]; assert r[0]['confirmed']==2, r[0]"
open_ --db $DB > o2.json
check "psi open --db (every PDQ bank)" verdicts o2.json 1 1 0
# a bank whose wee.jpg entry has no second hash: unknown
{ echo "hash,id,second_hash"; echo "$BRIDGE,bridge.jpg,$BRIDGE2"; echo "$WEE,wee.jpg,"; } > part.csv
$V bank create --db $DB part >/dev/null
$V bank import --db $DB part part.csv >/dev/null 2>&1
open_ --db $DB --bank part > o3.json
check "an entry without a second hash: unknown" verdicts o3.json 1 0 1 unknown "$WEE"
# a --second file fills in the entries the bank has none for ...
open_ --db $DB --bank part --second second.txt > o4.json
check "--second fills in an entry the bank has none for" verdicts o4.json 1 1 0 fail "$WEE"
# ... but the bank's own second hash wins over it: a --second file that
# gives bridge.jpg wee.jpg's second hash fails the genuine edit alone
echo "$BRIDGE 100 $WEE2 wrong" > wrong.txt
open_ --second wrong.txt > o5.json
check "the wrong --second file alone fails the edit" verdicts o5.json 0 1 1
open_ --db $DB --bank known --second wrong.txt > o6.json
check "... with --db the bank's second hash wins" verdicts o6.json 1 1 0
# a later import with a second hash sets it on the existing entry
{ echo "hash,second_hash"; echo "$WEE,$WEE2"; } > fill.csv
$V bank import --db $DB part fill.csv --source org-b >/dev/null 2>&1
open_ --db $DB --bank part > o7.json
check "a second hash imported later is used" verdicts o7.json 1 1 0 fail "$WEE"
$V psi open --key server.key --public public.vpd --bank part v >/dev/null 2>&1
check "--bank without --db exits 2" test $? -eq 2
open_ --db $DB --bank nosuch > /dev/null 2> nb.err
check "--bank of no such bank exits 2" test $? -eq 2
check "... and says so" grep -q "nosuch" nb.err
$V bank create --db $DB ph --algo phash >/dev/null
open_ --db $DB --bank ph > /dev/null 2>&1
check "--bank of a pHash bank exits 2" test $? -eq 2

# ---- signed lists: the source signs its list (.vsl, unchanged format) and,
# next to it, the list's second hashes (.vss); the bank takes both in
$V audit source keygen --name org-a --jurisdiction US -o a.key >/dev/null 2>&1
$V audit source keygen --name org-b --jurisdiction GB -o b.key >/dev/null 2>&1
$V audit source sign --key a.key --list-version 1 --date 2026-12-01 -o a1.vsl db.txt >/dev/null
$V audit source seconds --key a.key --list a1.vsl -o a1.vss second.txt > ss.out
check "audit source seconds: 2 of the list's 52 hashes" grep -q "signed 2 second hashes of the 52 hashes" ss.out
check "the list itself still verifies" sh -c "$V audit source verify a1.vsl >/dev/null"
$V bank create --db $DB signed >/dev/null
$V bank import --db $DB signed --signed a1.vsl --seconds a1.vss 2> si.err
check "bank import --signed --seconds" test $? -eq 0
check "... two entries carry their second hashes" test "$($V bank export --db $DB signed --format jsonl | grep -c second_hash)" -eq 2
open_ --db $DB --bank signed > s1.json
check "psi open --db on the signed bank: pass and fail" verdicts s1.json 1 1 0 fail "$WEE"
$V bank create --db $DB plain >/dev/null
$V bank import --db $DB plain --signed a1.vsl 2>/dev/null
check "the list without --seconds imports as before" test "$($V bank export --db $DB plain | wc -l)" -eq 52
open_ --db $DB --bank plain > s2.json
check "... and gives unknown" verdicts s2.json 0 0 2
# refused: tampered, another source's key, another list; nothing is stored
python3 -c "import sys; b=bytearray(open('a1.vss','rb').read()); b[200]^=1; open('bad.vss','wb').write(b)"
$V bank create --db $DB refused >/dev/null
$V bank import --db $DB refused --signed a1.vsl --seconds bad.vss 2> r1.err
check "tampered second hashes: exit 2" test $? -eq 2
check "... named as refused" grep -q "signed second hashes refused" r1.err
check "... nothing stored" test "$($V bank export --db $DB refused | wc -l)" -eq 0
$V audit source seconds --key b.key --list a1.vsl -o b.vss second.txt 2> r2.err
check "another source cannot sign a list's second hashes" test $? -eq 2
$V audit source sign --key a.key --list-version 2 --date 2026-12-02 -o a2.vsl db.txt >/dev/null
$V bank import --db $DB refused --signed a2.vsl --seconds a1.vss 2> r3.err
check "second hashes of another list version: refused" grep -q "made for another list" r3.err
check "... nothing stored" test "$($V bank export --db $DB refused | wc -l)" -eq 0
$V bank import --db $DB refused a1.vss --seconds a1.vss 2>/dev/null
check "--seconds without --signed exits 2" test $? -eq 2

# ---- PostgreSQL: the same bank through libpq (schema migration 4)
. "$LIB/pg_harness.sh"
if pg_find_bin >/dev/null; then
  cd / && pg_start && cd "$T"
  pg_createdb sec
  PGU=$(pg_uri sec)
  $V bank create --db "$PGU" known >/dev/null
  $V bank import --db "$PGU" known list.csv --source org-a > pimp.out 2>&1
  check "PostgreSQL: CSV import with second_hash: 52 added" grep -q ": 52 added" pimp.out
  $V bank export --db "$PGU" known --format csv > pexp.csv
  check "PostgreSQL: the same export (ids and second hashes)" test "$(cut -d, -f1,2,8 pexp.csv | md5sum)" = "$(cut -d, -f1,2,8 exp.csv | md5sum)"
  check "PostgreSQL: migration 4 recorded" test "$(pg_psql sec 'SELECT count(*) FROM vouch_schema WHERE version = 4')" = 1
  open_ --db "$PGU" --bank known > p1.json
  check "PostgreSQL: psi open --db: pass and fail" verdicts p1.json 1 1 0 fail "$WEE"
  $V bank create --db "$PGU" part >/dev/null
  $V bank import --db "$PGU" part part.csv >/dev/null 2>&1
  open_ --db "$PGU" --bank part > p2.json
  check "PostgreSQL: unknown without a second hash" verdicts p2.json 1 0 1 unknown "$WEE"
  # a replica-style read-only open refuses a database at a schema it does not know
  pg_psql sec "INSERT INTO vouch_schema VALUES(99, 0)"
  $V bank export --db "$PGU" known > /dev/null 2> p5.err
  check "PostgreSQL: a newer schema (99) is refused" grep -q "schema version 99" p5.err
else
  echo "skip PostgreSQL part: server binaries not installed"
fi

echo "second_bank.sh: $pass passed, $fail failed"
test $fail -eq 0
