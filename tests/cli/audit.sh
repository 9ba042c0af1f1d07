#!/usr/bin/env bash
# tests/cli/audit.sh -- `vouch audit` end to end: sources sign lists, the
# two-source rule builds the table, the operator signs heads and keeps the
# log, a client verifies against pinned trust; every tampering, the
# single-source and same-jurisdiction cases and a fork are refused.
set -u
V="${VOUCH_BIN:-}"
[ -x "$V" ] || { echo "VOUCH_BIN not set or not executable; skipping"; exit 77; }
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cd "$T" || exit 2
fails=0
ok()   { echo "ok   $*"; }
bad()  { echo "FAIL $*"; fails=$((fails + 1)); }
# expect STATUS DESCRIPTION COMMAND...
expect() {
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
pk() { od -An -tx1 -j 76 -N 32 "$1" | tr -d ' \n'; }

gen 0 100 >us1.txt; gen 50 150 >us2.txt; gen 80 120 >gb.txt; gen 90 130 >gb2.txt; gen 0 10 >fr.txt
gen 500 501 >solo.txt

# ---- help everywhere
for c in "audit" "audit source" "audit log" "audit source keygen" "audit source sign" "audit source verify" \
         "audit build" "audit root" "audit prove" "audit verify-proof" "audit consistency" "audit sign-root" \
         "audit log append" "audit log show" "audit log verify" "audit verify"; do
  # shellcheck disable=SC2086
  expect 0 "vouch $c --help" "$V" $c --help
  grep -q usage out.txt || bad "vouch $c --help prints no usage"
done
expect 2 "unknown audit command" "$V" audit frobnicate
expect 2 "keygen without --name" "$V" audit source keygen --jurisdiction US -o x.key
expect 2 "keygen with a bad jurisdiction" "$V" audit source keygen --name a --jurisdiction usa -o x.key

# ---- keys
for s in us1:US us2:US gb:GB fr:FR; do
  expect 0 "keygen ${s%%:*}" "$V" audit source keygen --name "org-${s%%:*}" --jurisdiction "${s##*:}" -o "${s%%:*}.key"
done
expect 0 "keygen server" "$V" audit source keygen --server --name operator --jurisdiction CH -o srv.key
expect 0 "keygen rogue server" "$V" audit source keygen --server --name rogue --jurisdiction CH -o rogue.key
[ "$(stat -c %a us1.key)" = 600 ] && ok "secret key mode 0600" || bad "secret key mode $(stat -c %a us1.key)"

# ---- lists
D=--date
expect 0 "sign us1" "$V" audit source sign --key us1.key --list-version 1 $D 2026-11-29 -o us1.vsl us1.txt
expect 0 "sign us2" "$V" audit source sign --key us2.key --list-version 1 $D 2026-11-29 -o us2.vsl us2.txt
expect 0 "sign gb" "$V" audit source sign --key gb.key --list-version 1 $D 2026-11-29 -o gb.vsl gb.txt
expect 0 "sign gb v2" "$V" audit source sign --key gb.key --list-version 2 $D 2026-11-30 -o gb2.vsl gb2.txt
expect 0 "sign fr" "$V" audit source sign --key fr.key --list-version 1 $D 2026-11-30 -o fr.vsl fr.txt
grep -q "readable by other users" err.txt && bad "no mode warning for a 0600 key" || ok "no mode warning for a 0600 key"
cp fr.key fr-open.key; chmod 644 fr-open.key
expect 0 "sign with a world-readable key" "$V" audit source sign --key fr-open.key --list-version 1 $D 2026-11-30 -o fr-open.vsl fr.txt
grep -q "fr-open.key is readable by other users (mode 644)" err.txt && ok "mode warning for a 0644 key" || bad "no mode warning for a 0644 key"
expect 0 "sign from stdin" sh -c "'$V' audit source sign --key us1.key --list-version 1 $D 2026-11-29 -o stdin.vsl - <us1.txt"
cmp -s us1.vsl stdin.vsl && ok "signing is deterministic" || bad "same list signed twice differs"
expect 2 "server key cannot sign a list" "$V" audit source sign --key srv.key --list-version 1 -o x.vsl us1.txt
expect 0 "verify lists" "$V" audit source verify us1.vsl us2.vsl gb.vsl
expect 0 "verify list --json" "$V" audit source verify --json gb.vsl
grep -q '"jurisdiction":"GB"' out.txt && ok "list JSON names the jurisdiction" || bad "list JSON"
size=$(stat -c %s gb.vsl)
undetected=0
for off in 0 9 40 41 43 55 70 90 $((size / 2)) $((size - 70)) $((size - 1)); do
  flip gb.vsl "$off" t.vsl
  "$V" audit source verify t.vsl >/dev/null 2>&1 && undetected=$((undetected + 1))
done
[ $undetected = 0 ] && ok "tampered lists refused" || bad "$undetected tampered lists accepted"

# ---- the two-source rule
expect 0 "build v1" "$V" audit build --require-sources 2 -o v1.vdb us1.vsl us2.vsl gb.vsl
expect 0 "root v1 --json" "$V" audit root --json v1.vdb
grep -q '"live":40' out.txt && ok "v1 has exactly the US+GB overlap (40)" || { bad "v1 live count"; cat out.txt; }
H_USUS=$(sed -n 1p us2.txt)   # hash 50: two US sources only
H_BOTH=$(sed -n 81p us1.txt)  # hash 80: US and GB
expect 2 "US+US hash never enters" "$V" audit prove --db v1.vdb "$H_USUS"
expect 0 "US+GB hash enters" "$V" audit prove --db v1.vdb -o p1.txt "$H_BOTH"
expect 0 "single-source list builds" "$V" audit source sign --key fr.key --list-version 9 $D 2026-11-29 -o solo.vsl solo.txt
expect 0 "build with a lone source" "$V" audit build -o lone.vdb solo.vsl
expect 0 "root lone --json" "$V" audit root --json lone.vdb
grep -q '"live":0' out.txt && ok "a hash from one source never enters" || bad "lone source entered"
expect 0 "build --any-jurisdiction" "$V" audit build --any-jurisdiction -o any.vdb us1.vsl us2.vsl
expect 0 "root any --json" "$V" audit root --json any.vdb
grep -q '"live":50' out.txt && grep -q '"distinct_jurisdictions":false' out.txt \
  && ok "the rule is a visible parameter" || bad "any-jurisdiction table"

# ---- heads, log, second version
expect 0 "sign-root v1" "$V" audit sign-root --key srv.key --db v1.vdb --time 1764403200 -o v1.vsth
expect 2 "a source key cannot sign a head" "$V" audit sign-root --key us1.key --db v1.vdb -o x.vsth
expect 0 "log append v1" "$V" audit log append --log db.vlog --sth v1.vsth --db v1.vdb
cp db.vlog db-v1.vlog
expect 0 "build v2" "$V" audit build --prev v1.vdb -o v2.vdb us1.vsl us2.vsl gb2.vsl fr.vsl
expect 0 "consistency v1->v2" "$V" audit consistency --json --old v1.vdb --new v2.vdb
grep -q '"ok":true' out.txt && ok "v2 only appends to v1" || bad "consistency"
expect 1 "v1 is not an extension of v2" "$V" audit consistency --old v2.vdb --new v1.vdb
expect 0 "sign-root v2" "$V" audit sign-root --key srv.key --db v2.vdb --time 1764489600 --psi-digest \
  "$(printf psi | sha256sum | cut -c1-64)" -o v2.vsth
expect 1 "head for v2 does not describe v1" "$V" audit log append --log db.vlog --sth v2.vsth --db v1.vdb
expect 0 "log append v2" "$V" audit log append --log db.vlog --sth v2.vsth --db v2.vdb
expect 0 "log show --json" "$V" audit log show --json db.vlog
[ "$(wc -l <out.txt)" = 2 ] && ok "two heads logged" || bad "log show"
expect 0 "log verify" "$V" audit log verify db.vlog
expect 0 "log verify against its own prefix" "$V" audit log verify --against db-v1.vlog db.vlog

# ---- proofs
H2=$(sed -n 35p gb2.txt)
expect 0 "prove in v2" "$V" audit prove --db v2.vdb -o p2.txt "$H2"
expect 0 "verify-proof" "$V" audit verify-proof --sth v2.vsth p2.txt
expect 1 "proof for v2 against head v1" "$V" audit verify-proof --sth v1.vsth p2.txt
sed 's/^index \(.*\)$/index 0/' p2.txt >p2b.txt
expect 1 "proof with a wrong index" "$V" audit verify-proof --sth v2.vsth p2b.txt
awk 'NR==6 { $2 = substr($2, 1, 63) (substr($2, 64, 1) == "0" ? "1" : "0") } { print }' p2.txt >p2c.txt
expect 1 "proof with a changed node" "$V" audit verify-proof --sth v2.vsth p2c.txt
expect 0 "prove --json" "$V" audit prove --json --db v2.vdb "$H2"

# ---- trust and verification
R1=$(od -An -tx1 -j 64 -N 32 v1.vsth | tr -d ' \n')
{
  echo "vouch-trust 1"
  echo "server $(pk srv.key.pub)"
  for k in us1 us2 gb fr; do echo "source $(pk $k.key.pub) $(case $k in us*) echo US;; gb) echo GB;; fr) echo FR;; esac)"; done
  echo "policy 2 distinct-jurisdictions"
  echo "root 1 40 $R1"
} >trust.txt
PSI=$(printf psi | sha256sum | cut -c1-64)
expect 0 "full verify (auditor: lists rebuild v2)" "$V" audit verify --sth v2.vsth --db v2.vdb --log db.vlog \
  --trusted trust.txt --prev v1.vdb --psi-digest "$PSI" us1.vsl us2.vsl gb2.vsl fr.vsl
grep -q '^verified' out.txt && ok "verify prints what it checked" || bad "verify output"
expect 0 "verify --json" "$V" audit verify --json --sth v2.vsth --db v2.vdb --log db.vlog --trusted trust.txt
grep -q '"pinned_roots":"ok"' out.txt && ok "pinned root linked by the log" || bad "pins"
expect 0 "verify without trust checks everything internal" "$V" audit verify --sth v2.vsth --db v2.vdb
expect 1 "pinned root without the log cannot be linked" "$V" audit verify --sth v2.vsth --db v2.vdb --trusted trust.txt
expect 1 "wrong PSI digest" "$V" audit verify --sth v2.vsth --db v2.vdb --psi-digest "$R1"
expect 1 "lists that do not give the table" "$V" audit verify --sth v2.vsth --db v2.vdb --prev v1.vdb us1.vsl us2.vsl gb.vsl fr.vsl
expect 1 "head of another table" "$V" audit verify --sth v1.vsth --db v2.vdb
sed "s/^server .*/server $(pk rogue.key.pub)/" trust.txt >trust-otherserver.txt
expect 1 "untrusted server key" "$V" audit verify --sth v2.vsth --db v2.vdb --log db.vlog --trusted trust-otherserver.txt
grep -q "FAIL trusted_server" out.txt && ok "names the failing check" || bad "trusted_server line"
sed '/^server/d' trust.txt >trust-rootsonly.txt
expect 0 "pinned roots alone (no key) with the log" "$V" audit verify --sth v2.vsth --db v2.vdb --log db.vlog --trusted trust-rootsonly.txt
grep -v '^root' trust-rootsonly.txt >trust-nothing.txt
expect 1 "a trust file pinning nothing trusts nothing" "$V" audit verify --sth v2.vsth --db v2.vdb --log db.vlog --trusted trust-nothing.txt
sed '/FR$/d' trust.txt >trust-nofr.txt
expect 1 "unpinned source" "$V" audit verify --sth v2.vsth --db v2.vdb --log db.vlog --trusted trust-nofr.txt
sed 's/^policy 2/policy 3/' trust.txt >trust-p3.txt
expect 1 "rule weaker than pinned" "$V" audit verify --sth v2.vsth --trusted trust-p3.txt
R2=$(od -An -tx1 -j 64 -N 32 v2.vsth | tr -d ' \n')
printf 'root 2 70 %s\n' "$R2" >>trust.txt
expect 1 "rollback to v1 after pinning v2" "$V" audit verify --sth v1.vsth --db v1.vdb --log db.vlog --trusted trust.txt

# ---- tampering with the table, the head, the log
for f in v2.vdb v2.vsth db.vlog; do
  size=$(stat -c %s $f); undetected=0; n=0
  for off in 0 7 8 17 20 40 64 100 150 $((size / 3)) $((size / 2)) $((size - 33)) $((size - 1)); do
    [ $off -lt "$size" ] || continue
    n=$((n + 1))
    flip $f $off t.bin
    case $f in
      *.vdb) "$V" audit verify --sth v2.vsth --db t.bin >/dev/null 2>&1 && undetected=$((undetected + 1)) ;;
      *.vsth) "$V" audit verify --sth t.bin --db v2.vdb >/dev/null 2>&1 && undetected=$((undetected + 1)) ;;
      *.vlog) "$V" audit log verify t.bin >/dev/null 2>&1 && undetected=$((undetected + 1)) ;;
    esac
  done
  [ $undetected = 0 ] && ok "$n tamperings of $f detected" || bad "$undetected of $n tamperings of $f undetected"
done

# ---- a fork: a second, different head for version 2
expect 0 "sign a different head for v2" "$V" audit sign-root --key srv.key --db v2.vdb --time 1764489601 -o v2b.vsth
cp db-v1.vlog fork.vlog
expect 0 "the forked copy verifies on its own" "$V" audit log append --log fork.vlog --sth v2b.vsth --db v2.vdb
expect 1 "fork detected between two copies" "$V" audit log verify --against fork.vlog db.vlog
grep -q "version 2" out.txt && ok "fork reports its version" || bad "fork version"
expect 1 "a forked head is refused by the log" "$V" audit log append --log db.vlog --sth v2b.vsth --db v2.vdb
expect 1 "client refuses the forked head" "$V" audit verify --sth v2b.vsth --db v2.vdb --log db.vlog
expect 1 "rogue key cannot extend the log" sh -c "'$V' audit sign-root --key rogue.key --db v2.vdb -o r.vsth >/dev/null && '$V' audit log append --log db-v1.vlog --sth r.vsth --db v2.vdb"

# ---- PSI public data bound by the head; the client refuses anything else
if "$V" psi --help >/dev/null 2>&1; then
  expect 0 "psi setup from the audited table's live set" "$V" psi setup --audit-db v2.vdb --key psi.key -o pub.vpd -j 1
  grep -q "audit_root $R2" out.txt && ok "public data names the table's root" || bad "psi audit root"
  expect 0 "head binds the public data" "$V" audit sign-root --key srv.key --db v2.vdb --psi pub.vpd --time 1764489700 -o v2p.vsth
  expect 2 "head refuses public data of another table" "$V" audit sign-root --key srv.key --db v1.vdb --psi pub.vpd -o x.vsth
  expect 0 "log append v1 (second log)" "$V" audit log append --log p.vlog --sth v1.vsth --db v1.vdb
  expect 0 "log append v2 with PSI digest" "$V" audit log append --log p.vlog --sth v2p.vsth --db v2.vdb
  sed -n 1,3p gb2.txt >q.txt
  expect 0 "voucher accepts verified public data" "$V" psi voucher --public pub.vpd --account acct.key -o vdir \
    --hashes q.txt --trusted trust.txt --sth v2p.vsth --log p.vlog
  expect 1 "voucher refuses a head that does not name the data" "$V" psi voucher --public pub.vpd --account acct.key \
    -o vdir --hashes q.txt --trusted trust.txt --sth v2.vsth --log db.vlog
  expect 1 "voucher refuses an untrusted operator" "$V" psi voucher --public pub.vpd --account acct.key -o vdir \
    --hashes q.txt --trusted trust-otherserver.txt --sth v2p.vsth --log p.vlog
  expect 1 "voucher refuses a head not linked to the pinned root" "$V" psi voucher --public pub.vpd \
    --account acct.key -o vdir --hashes q.txt --trusted trust.txt --sth v2p.vsth --log db.vlog
  expect 0 "audit verify public.vpd" "$V" audit verify --sth v2p.vsth --db v2.vdb --log p.vlog --trusted trust.txt pub.vpd
  grep -q "^ok   public_data" out.txt && grep -q "^ok   psi_digest" out.txt && ok "public data checks printed" \
    || bad "public data rows"
  expect 0 "psi setup from another table" "$V" psi setup --audit-db v1.vdb --key psi.key -o pub1.vpd -j 1
  expect 1 "audit verify refuses other public data" "$V" audit verify --sth v2p.vsth pub1.vpd
  # The proof of honest blinding (docs/protocol.md section 13): the auditors' file setup wrote.
  [ "$(stat -c %a pub.vpd.auditor 2>/dev/null)" = 600 ] && ok "setup wrote the auditors' file, mode 0600" \
    || bad "auditors' file"
  expect 0 "blinding proof verifies over the table's live set" "$V" audit verify --sth v2p.vsth --db v2.vdb \
    --blinding pub.vpd.auditor pub.vpd
  grep -q "^ok   blinding_proof" out.txt && ok "blinding_proof row printed" || bad "blinding_proof row"
  expect 1 "blinding: the auditors' file of other public data" "$V" audit verify --sth v2p.vsth --db v2.vdb \
    --blinding pub1.vpd.auditor pub.vpd
  expect 1 "blinding: another table's live set" "$V" audit verify --sth v2p.vsth --db v1.vdb \
    --blinding pub.vpd.auditor pub.vpd
  grep -q "^FAIL blinding_proof" out.txt && ok "blinding_proof row fails" || bad "blinding_proof FAIL row"
  expect 2 "--blinding without the public data is a usage error" "$V" audit verify --sth v2p.vsth --db v2.vdb \
    --blinding pub.vpd.auditor
  size=$(stat -c %s pub.vpd)
  flip pub.vpd $((size - 100)) pubt.vpd
  expect 2 "a tampered table point is refused (PSI signature)" "$V" psi voucher --public pubt.vpd --account acct.key -o vdir \
    --hashes q.txt --trusted trust.txt --sth v2p.vsth --log p.vlog 2>/dev/null
else
  echo "skip PSI integration: no 'vouch psi' in this build"
fi

# ---- the index built under the two-source rule
if "$V" index --help >/dev/null 2>&1; then
  expect 0 "index build --require-sources 2" "$V" index build --require-sources 2 --list us1.vsl --list us2.vsl \
    --list gb.vsl --audit-out iv1.vdb -o v1.vidx
  cmp -s iv1.vdb v1.vdb && ok "index build writes the same table as audit build" || bad "tables differ"
  expect 0 "an auditor rebuilds the index from the lists" "$V" index build --require-sources 2 --list gb.vsl \
    --list us2.vsl --list us1.vsl --audit-out iv1b.vdb -o v1b.vidx
  "$V" index info --json v1.vidx >i1.json 2>/dev/null; "$V" index info --json v1b.vidx | sed 's/v1b.vidx/v1.vidx/' >i2.json
  cmp -s i1.json i2.json && cmp -s iv1.vdb iv1b.vdb && ok "same index root and table, lists in any order" \
    || bad "rebuilt index differs"
  expect 0 "index info --verify" "$V" index info --verify --json v1.vidx
  grep -q '"entries":40' out.txt && ok "index holds exactly the live set" || bad "index entries"
  IR=$(sed 's/.*"root":"\([0-9a-f]*\)".*/\1/' out.txt)
  printf '%s\n' "$H_BOTH" >both.txt
  printf '%s\n' "$H_USUS" >usus.txt
  expect 1 "an attested hash matches, with its attestation set" "$V" match --index v1.vidx --json --hashes both.txt
  grep -q '"source":"[^"]*,[^"]*"' out.txt && ok "match reports the attesting sources" || bad "attestation set"
  expect 0 "a US+US hash is not in the index" "$V" match --index v1.vidx --hashes usus.txt
  expect 0 "three jurisdictions required, two available" "$V" index build --require-sources 3 --list us1.vsl \
    --list us2.vsl --list gb.vsl --audit-out x.vdb -o x.vidx
  grep -q ": 0 entries" out.txt && ok "nothing enters without three jurisdictions" || bad "rule 3"
  expect 0 "head binds the index root" "$V" audit sign-root --key srv.key --db v1.vdb --index-root "$IR" -o v1i.vsth
  expect 0 "verify --index-root" "$V" audit verify --sth v1i.vsth --db v1.vdb --index-root "$IR"
  expect 1 "verify refuses another index" "$V" audit verify --sth v1i.vsth --db v1.vdb --index-root "$R1"
else
  echo "skip index integration: no 'vouch index' in this build"
fi

echo "$fails failed"
[ $fails = 0 ]
