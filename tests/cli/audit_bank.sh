#!/usr/bin/env bash
# tests/cli/audit_bank.sh -- signed source lists stored in a bank:
# `vouch bank import --signed`, `vouch bank lists [--export DIR]` and
# `vouch index build --db DB --require-sources N`; the auditor who exports
# the stored lists and runs the --list path gets the same table and index.
set -u
V="${VOUCH_BIN:-}"
[ -x "$V" ] || { echo "VOUCH_BIN not set or not executable; skipping"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 2
# the banks under test: files, or postgresql:// URIs (tests/cli/bank_pg.sh)
BDB=${VOUCH_TEST_BANK_DB:-b.sqlite}
RDB=${VOUCH_TEST_BANK_DB2:-r.sqlite}
fails=0
ok()   { echo "ok   $*"; }
bad()  { echo "FAIL $*"; fails=$((fails + 1)); }
expect() { # expect STATUS DESCRIPTION COMMAND...
  local want=$1 what=$2; shift 2
  "$@" >out.txt 2>err.txt
  local got=$?
  if [ "$got" = "$want" ]; then ok "$what"; else bad "$what (exit $got, wanted $want)"; cat out.txt err.txt; fi
}
gen() { local i; for ((i = $1; i < $2; i++)); do printf '%s' "$i" | sha256sum | cut -c1-64; done; }
flip() { # flip one bit of byte $2 of file $1 into $3
  cp "$1" "$3"
  local b; b=$(od -An -tu1 -j "$2" -N1 "$1" | tr -d ' ')
  printf "$(printf '\\%03o' $(( (b ^ 1) & 255 )))" | dd of="$3" bs=1 seek="$2" conv=notrunc status=none
}
root_of() { "$V" index info --json "$1" | sed 's/.*"root":"\([0-9a-f]*\)".*/\1/'; }
nlists() { "$V" bank lists --db "$1" --json | wc -l; }

# us1 and us2: one jurisdiction; gb: another.
gen 0 100 >us1.txt; gen 50 150 >us2.txt; gen 80 120 >gb.txt; gen 90 130 >gb2.txt
for s in us1:US us2:US gb:GB; do
  expect 0 "keygen ${s%%:*}" "$V" audit source keygen --name "org-${s%%:*}" --jurisdiction "${s##*:}" -o "${s%%:*}.key"
done
for s in us1 us2 gb; do
  expect 0 "sign $s" "$V" audit source sign --key $s.key --list-version 1 --date 2026-11-29 -o $s.vsl $s.txt
done
expect 0 "sign gb v2" "$V" audit source sign --key gb.key --list-version 2 --date 2026-11-30 -o gb2.vsl gb2.txt
gen 0 5 >other.txt
expect 0 "sign another gb v1" "$V" audit source sign --key gb.key --list-version 1 --date 2026-11-29 -o gbx.vsl other.txt

expect 0 "bank lists --help" "$V" bank --help
grep -q -- "--signed" out.txt && ok "bank --help names --signed" || bad "bank --help"
expect 0 "index build --help" "$V" index build --help
grep -q -- "--db FILE.sqlite \[--bank NAME\]... --require-sources" out.txt && ok "index --help names --db --require-sources" \
  || bad "index --help"

# ---- import and refusals
expect 0 "create bank" "$V" bank create --db "$BDB" lists
expect 0 "create phash bank" "$V" bank create --db "$BDB" --algo phash ph
flip gb.vsl $(( $(stat -c %s gb.vsl) / 2 )) bad.vsl
expect 2 "a tampered list is refused" "$V" bank import --db "$BDB" lists --signed bad.vsl
grep -q "signature" err.txt && ok "refusal names the signature" || { bad "tamper message"; cat err.txt; }
expect 2 "a pdq list into a phash bank is refused" "$V" bank import --db "$BDB" ph --signed us1.vsl
expect 0 "bank lists on a bank without lists" "$V" bank lists --db "$BDB"
[ ! -s out.txt ] && ok "no list stored after the refusals" || bad "refused lists were stored"
expect 0 "bank show: no entries after the refusals" "$V" bank show --db "$BDB" lists --json
grep -q '"entries":0' out.txt && ok "refused imports added nothing" || bad "refused import added entries"
expect 2 "--signed takes no FILE" "$V" bank import --db "$BDB" lists --signed us1.vsl us1.txt
expect 2 "--signed with --source" "$V" bank import --db "$BDB" lists --signed us1.vsl --source x
for s in us1 us2 gb; do expect 0 "import --signed $s" "$V" bank import --db "$BDB" lists --signed $s.vsl; done
expect 0 "re-import of the same list changes nothing" "$V" bank import --db "$BDB" lists --signed gb.vsl
expect 2 "another list with the same version is refused" "$V" bank import --db "$BDB" lists --signed gbx.vsl
[ "$(nlists "$BDB")" = 3 ] && ok "three lists stored" || bad "stored lists: $(nlists "$BDB")"
expect 0 "bank show" "$V" bank show --db "$BDB" lists --json
grep -q '"entries":150' out.txt && ok "entries are the union of the lists" || { bad "entry count"; cat out.txt; }
expect 0 "export entries" "$V" bank export --db "$BDB" lists --format jsonl
H_US1=$(sed -n 11p us1.txt)   # hash 10: org-us1 only
H_USUS=$(sed -n 1p us2.txt)   # hash 50: org-us1 and org-us2 (both US)
H_BOTH=$(sed -n 1p gb.txt)    # hash 80: two US sources and GB
grep "\"$H_BOTH\"" out.txt | grep -q '"source":"org-gb,org-us1,org-us2"' && ok "sources accumulate per entry" \
  || bad "sources of $H_BOTH"

# ---- index build from the bank
expect 0 "index build --db --require-sources 2" "$V" index build --db "$BDB" --require-sources 2 \
  --audit-out bank-v1.vdb -o bank-v1.vidx
grep -q ": 40 entries" out.txt && ok "the index holds the US+GB overlap (40)" || bad "entry count: $(cat out.txt)"
printf '%s\n' "$H_US1" >one.txt; printf '%s\n' "$H_USUS" >usus.txt; printf '%s\n' "$H_BOTH" >both.txt
expect 0 "a hash from one source is absent" "$V" match --index bank-v1.vidx --hashes one.txt
expect 0 "a hash from two sources in one jurisdiction is absent" "$V" match --index bank-v1.vidx --hashes usus.txt
expect 1 "a hash from two jurisdictions is present" "$V" match --index bank-v1.vidx --json --hashes both.txt
SET=$(sed 's/.*"source":"\([^"]*\)".*/\1/' out.txt | tr , '\n' | sort | tr '\n' ' ')
[ "$SET" = "org-gb org-us1 org-us2 " ] && ok "its attestation set is recorded" || bad "attestation set '$SET'"
expect 0 "--bank names the bank" "$V" index build --db "$BDB" --bank lists --require-sources 2 \
  --audit-out bank-v1b.vdb -o bank-v1b.vidx
cmp -s bank-v1.vdb bank-v1b.vdb && ok "--bank lists gives the same table" || bad "--bank table differs"
expect 0 "--any-jurisdiction from the bank" "$V" index build --db "$BDB" --require-sources 2 --any-jurisdiction \
  --audit-out any.vdb -o any.vidx
grep -q ": 70 entries" out.txt && ok "any jurisdiction: 70 entries" || bad "any-jurisdiction count: $(cat out.txt)"
expect 2 "no signed lists in the phash bank" "$V" index build --db "$BDB" --bank ph --require-sources 2 \
  --audit-out x.vdb -o x.vidx
expect 0 "the same as audit build from the original files" "$V" audit build --require-sources 2 -o files-v1.vdb \
  us1.vsl us2.vsl gb.vsl
cmp -s files-v1.vdb bank-v1.vdb && ok "table identical to audit build" || bad "table differs from audit build"

# ---- the auditor: export the stored lists, run the --list path
mkdir ex1
expect 0 "bank lists --export" "$V" bank lists --db "$BDB" --export ex1
[ "$(ls ex1 | wc -l)" = 3 ] && ok "three lists exported" || bad "exported: $(ls ex1)"
for s in us1 us2 gb; do
  f=$(ls ex1/org-$s-*-v1.vsl 2>/dev/null | head -1)
  [ -n "$f" ] && cmp -s "$f" $s.vsl && ok "$s exported byte for byte" || bad "$s export"
done
expect 0 "auditor: index build --list the exported lists" "$V" index build --require-sources 2 \
  $(for f in ex1/*.vsl; do printf -- '--list %s ' "$f"; done) --audit-out aud-v1.vdb -o aud-v1.vidx
cmp -s aud-v1.vdb bank-v1.vdb && ok "auditor's table is byte-identical" || bad "auditor's table differs"
[ "$(root_of aud-v1.vidx)" = "$(root_of bank-v1.vidx)" ] && ok "auditor's index root is the same" \
  || bad "index roots differ"

# ---- a new list version; versions never go back
expect 0 "import gb v2" "$V" bank import --db "$BDB" lists --signed gb2.vsl
expect 2 "gb v1 after v2 is refused" "$V" bank import --db "$BDB" lists --signed gb.vsl
grep -q "older" err.txt && ok "refusal says the list is older" || { bad "version message"; cat err.txt; }
expect 0 "bank lists" "$V" bank lists --db "$BDB" --json
[ "$(grep -c '"current":true' out.txt)" = 3 ] && grep '"list_version":1' out.txt | grep -q '"source":"org-gb".*"current":false' \
  && ok "gb v1 kept, v2 current" || { bad "current flags"; cat out.txt; }
expect 0 "index build v2 from the bank" "$V" index build --db "$BDB" --require-sources 2 --audit-prev bank-v1.vdb \
  --audit-out bank-v2.vdb -o bank-v2.vidx
mkdir ex2 exall
expect 0 "export v2 lists" "$V" bank lists --db "$BDB" --export ex2
expect 0 "export all lists" "$V" bank lists --db "$BDB" --export exall --all
[ "$(ls ex2 | wc -l)" = 3 ] && [ "$(ls exall | wc -l)" = 4 ] && ok "--export: current lists; --all: every list" \
  || bad "export counts $(ls ex2) / $(ls exall)"
expect 0 "auditor v2" "$V" index build --require-sources 2 --audit-prev aud-v1.vdb \
  $(for f in ex2/*.vsl; do printf -- '--list %s ' "$f"; done) --audit-out aud-v2.vdb -o aud-v2.vidx
cmp -s aud-v2.vdb bank-v2.vdb && [ "$(root_of aud-v2.vidx)" = "$(root_of bank-v2.vidx)" ] \
  && ok "v2: same table and index root" || bad "v2 differs"
expect 0 "consistency v1 -> v2" "$V" audit consistency --json --old bank-v1.vdb --new bank-v2.vdb
grep -q '"ok":true' out.txt && ok "v2 extends v1" || bad "consistency"

# ---- the auditor checks a signed head against the lists stored in the bank
expect 0 "keygen server" "$V" audit source keygen --server --name operator --jurisdiction CH -o srv.key
expect 0 "sign-root v2" "$V" audit sign-root --key srv.key --db bank-v2.vdb --time 1764403200 -o v2.vsth
expect 0 "audit verify --bank" "$V" audit verify --json --sth v2.vsth --db bank-v2.vdb --prev bank-v1.vdb --bank "$BDB"
grep -q '"lists_rebuild_table":"ok"' out.txt && ok "the bank's current lists rebuild the v2 table" \
  || { bad "lists check with --bank"; cat out.txt; }
expect 1 "audit verify --bank against the v1 table fails" "$V" audit verify --json --sth v2.vsth --db bank-v1.vdb \
  --bank "$BDB"
grep -q '"lists_rebuild_table":"FAIL"' out.txt && ok "v2 lists do not rebuild v1" || { bad "v1 vs v2 lists"; cat out.txt; }
expect 0 "a bank file without signed lists" "$V" bank create --db nolists.sqlite plain
expect 2 "audit verify --bank of a file without lists" "$V" audit verify --sth v2.vsth --db bank-v2.vdb --bank nolists.sqlite
grep -q "no signed lists" err.txt && ok "says there are no signed lists" || { bad "no-lists message"; cat err.txt; }

# ---- a second bank holding the same source: counted once
expect 0 "create bank 2" "$V" bank create --db "$BDB" more
expect 0 "the same gb v2 in bank 2" "$V" bank import --db "$BDB" more --signed gb2.vsl
expect 0 "index build over both banks" "$V" index build --db "$BDB" --require-sources 2 --audit-prev bank-v1.vdb \
  --audit-out both-v2.vdb -o both-v2.vidx
cmp -s both-v2.vdb bank-v2.vdb && ok "a list in two banks counts once" || bad "duplicate list changed the table"
expect 0 "an older gb list in bank 2 is allowed there" "$V" bank create --db "$BDB" old
expect 0 "import gb v1 into bank 3" "$V" bank import --db "$BDB" old --signed gb.vsl
expect 0 "index build over all banks takes the newest gb list" "$V" index build --db "$BDB" --require-sources 2 \
  --audit-prev bank-v1.vdb --audit-out all-v2.vdb -o all-v2.vidx
cmp -s all-v2.vdb bank-v2.vdb && ok "newest list per source key across banks" || bad "older list was used"

# ---- removing one stored list; --prune deletes the entries only it attested
expect 0 "bank for removal" "$V" bank create --db "$RDB" p
expect 0 "import us1 signed" "$V" bank import --db "$RDB" p --signed us1.vsl
expect 0 "import us2 signed" "$V" bank import --db "$RDB" p --signed us2.vsl
gen 0 10 >manual.txt
expect 0 "import 10 of us1's hashes from another source" "$V" bank import --db "$RDB" p manual.txt --source manual
entries() { "$V" bank show --db "$RDB" p --json | sed 's/.*"entries":\([0-9]*\).*/\1/'; }
listid() { "$V" bank lists --db "$RDB" --json | grep "\"source\":\"$1\"" | sed 's/{"id":\([0-9]*\).*/\1/'; }
[ "$(entries)" = 150 ] && ok "150 entries before" || bad "entries before: $(entries)"
expect 0 "audited build, two sources" "$V" index build --db "$RDB" --require-sources 2 --any-jurisdiction \
  --audit-out r1.vdb -o r1.vidx
grep -q ": 50 entries" out.txt err.txt && ok "us1 and us2 share 50 hashes" || { bad "two-source build"; cat out.txt err.txt; }
id1=$(listid org-us1)
expect 0 "remove us1's list (entries stay)" "$V" bank lists --db "$RDB" --remove "$id1"
[ "$(nlists "$RDB")" = 1 ] && [ "$(entries)" = 150 ] && ok "one list left, entries kept" \
  || bad "after remove: $(nlists "$RDB") lists, $(entries) entries"
expect 0 "audited build after the removal" "$V" index build --db "$RDB" --require-sources 2 --any-jurisdiction \
  --audit-out r2.vdb -o r2.vidx
grep -q ": 0 entries" out.txt err.txt && ok "the removed list no longer counts" || { bad "build after removal"; cat out.txt err.txt; }
expect 0 "import us1 signed again" "$V" bank import --db "$RDB" p --signed us1.vsl
id1=$(listid org-us1)
expect 0 "remove us1's list with --prune" "$V" bank lists --db "$RDB" --remove "$id1" --prune
grep -q "40 entries" err.txt && ok "prune reports 40 entries" || { bad "prune message"; cat err.txt; }
# us1 alone: hashes 0..49; of those, 0..9 also came from 'manual'
[ "$(entries)" = 110 ] && ok "entries only us1 attested are gone, the others stay" || bad "after prune: $(entries)"
expect 0 "export after prune" "$V" bank export --db "$RDB" p --format hex -o left.txt
gen 0 10 | sort >want1.txt; sort left.txt | cut -c1-64 >got.txt
comm -23 want1.txt got.txt | grep -q . && bad "a manual entry was pruned" || ok "entries with another source kept"
expect 2 "remove an unknown list" "$V" bank lists --db "$RDB" --remove 999
grep -q "no signed list 999" err.txt && ok "says which list" || { bad "unknown list message"; cat err.txt; }
expect 2 "--prune without --remove" "$V" bank lists --db "$RDB" --prune
expect 2 "--remove with a bad id" "$V" bank lists --db "$RDB" --remove x

# ---- a damaged stored list is caught when read
if [ -f "$BDB" ] && command -v sqlite3 >/dev/null 2>&1; then
  cp "$BDB" d.sqlite
  sqlite3 d.sqlite "UPDATE signed_lists SET vsl = CAST(substr(vsl, 1, length(vsl) - 1) || CASE WHEN substr(vsl, -1) = x'00' THEN x'01' ELSE x'00' END AS BLOB) WHERE id = 1" \
    && expect 2 "a stored list changed in the file is refused" "$V" index build --db d.sqlite --require-sources 2 \
      --audit-out d.vdb -o d.vidx
  grep -q "signature" err.txt && ok "the damaged list's signature fails" || { bad "damage message"; cat err.txt; }
  [ ! -e d.vdb ] && ok "nothing written" || bad "table written from a damaged bank"
else
  echo "skip damaged-file check: no sqlite3, or the bank is not a file"
fi

echo "$fails failed"
[ $fails = 0 ]
