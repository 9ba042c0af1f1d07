#!/usr/bin/env bash
# tests/cli/psi.sh -- `vouch psi setup | voucher | open` end to end.
# Uses hex hash lists (no images needed); when the shared test images are
# present, also runs the photo path.
set -u
B=${VOUCH_BIN:?VOUCH_BIN not set}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fail=0
ok() { echo "ok   $1"; }
bad() { echo "FAIL $1"; fail=1; }
check() { if eval "$2"; then ok "$1"; else bad "$1"; fi; }
randhex() { od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; echo; }
jq_field() { sed -n "s/.*\"$1\":\\([a-z0-9]*\\).*/\\1/p" | head -1; }

for c in "psi --help" "psi setup --help" "psi voucher --help" "psi open --help"; do
  $B $c >/dev/null 2>&1; check "$c exits 0" '[ $? -eq 0 ]'
done
$B psi setup >/dev/null 2>&1; check "setup without arguments is a usage error" '[ $? -eq 2 ]'
$B psi frobnicate >/dev/null 2>&1; check "unknown subcommand" '[ $? -eq 2 ]'

cd "$T"
for i in $(seq 1 200); do randhex; done > db.txt
head -6 db.txt > match6.txt
for i in $(seq 1 10); do randhex; done > other.txt
cat match6.txt other.txt > photos.txt

$B psi setup --hashes db.txt --key server.key -o public.vpd > setup.out 2>/dev/null
check "setup succeeds" '[ $? -eq 0 ] && [ -s public.vpd ]'
check "server key created with mode 0600" '[ "$(stat -c %a server.key)" = 600 ]'
signer=$(awk '/^signer/{print $2}' setup.out)
check "setup prints the signer" '[ ${#signer} -eq 64 ]'

# The tests below that count openings exactly pass --synthetic-rate 0: they
# test matching, and synthetic vouchers (on by default) would add a random
# number of openings and could turn a match into a synthetic. The default is
# tested on its own further down.
# t = 5: six distinct matches cross the threshold.
$B psi voucher --public public.vpd --signer "$signer" --account a5.key --threshold 5 --synthetic-rate 0 \
  --hashes photos.txt -o v5 > /dev/null 2>&1
check "voucher succeeds" '[ $? -eq 0 ] && [ $(ls v5 | wc -l) -eq 16 ]'
check "account key created with mode 0600" '[ "$(stat -c %a a5.key)" = 600 ]'
check "all vouchers have the same size" '[ $(stat -c %s v5/* | sort -u | wc -l) -eq 1 ]'
$B psi open --key server.key --public public.vpd --json v5 > open5.json 2>/dev/null
rc=$?
check "open exits 1 when the threshold is crossed" '[ $rc -eq 1 ]'
check "summary line" 'head -1 open5.json | grep -q "{\"vouchers\":16,\"opened\":6,\"multi_opened\":0,\"threshold_crossed\":true}"'
check "six payloads" '[ $(tail -n +2 open5.json | wc -l) -eq 6 ]'
got=$(tail -n +2 open5.json | sed 's/.*"hash":"\([0-9a-f]*\)".*/\1/' | sort)
check "the payloads are exactly the matching hashes" '[ "$got" = "$(sort match6.txt)" ]'

check "setup defaults to probe mode for PDQ" 'grep -q "^match probe$" setup.out && grep -q "^probes 96$" setup.out && grep -q "^band 44$" setup.out'
check "probe vouchers: 4388 + 224 P + 8 s bytes (P = 96, s = 15)" '[ "$(stat -c %s v5/* | sort -u)" = $((4388 + 224 * 96 + 8 * 15)) ]'
check "each payload opened one slot" '[ $(tail -n +2 open5.json | grep -c "\"slots\":1") -eq 6 ]'

# The post-reveal check: every payload within radius 31 of the database.
$B psi open --key server.key --public public.vpd --hashes db.txt --json v5 > check5.json 2>/dev/null
check "post-reveal check: six confirmed, no collision" \
  'head -1 check5.json | grep -q "\"confirmed\":6,\"collisions\":0" && [ $(grep -c "\"check\":\"confirmed\",\"distance\":0" check5.json) -eq 6 ]'
# A photo with the same band as a database entry but 32 other bits changed
# (bytes 0..3 are coefficients 224..255, outside the band): its key opens,
# and the check calls it a collision, at distance 32.
far=$(head -1 db.txt | python3 -c 'import sys; h=sys.stdin.read().strip(); b=bytearray.fromhex(h); b[0]^=0xff; b[1]^=0xff; b[2]^=0xff; b[3]^=0xff; print(b.hex())')
{ sed -n 2,6p db.txt; echo "$far"; } > coll.txt
$B psi voucher --public public.vpd --signer "$signer" --account ac.key --threshold 5 --synthetic-rate 0 --hashes coll.txt -o vc >/dev/null 2>&1
$B psi open --key server.key --public public.vpd --hashes db.txt vc > coll.out 2>/dev/null
check "a band-key collision is reported as a collision, not a match" \
  'grep -q "^confirmed 5$" coll.out && grep -q "^collisions 1$" coll.out && grep -q "^collision .* $far distance 32 slots 1$" coll.out'

# --match exact: one slot pair per voucher, the exact hash bits.
$B psi setup --hashes db.txt --key server.key --match exact -o exact.vpd > setupx.out 2>/dev/null
check "setup --match exact" '[ $? -eq 0 ] && grep -q "^match exact$" setupx.out'
$B psi voucher --public exact.vpd --signer "$signer" --account ae.key --threshold 5 --synthetic-rate 0 --hashes photos.txt -o ve >/dev/null 2>&1
$B psi open --key server.key --public exact.vpd --json ve > exact.json 2>/dev/null
check "exact vouchers: 4612 + 8 s bytes, six matches" \
  '[ "$(stat -c %s ve/* | sort -u)" = $((4612 + 8 * 15)) ] && [ $(tail -n +2 exact.json | wc -l) -eq 6 ]'
$B psi setup --hashes db.txt --key server.key --match exact --probes 8 -o x.vpd >/dev/null 2>&1
check "--probes with --match exact is an error" '[ $? -eq 2 ]'
$B psi setup --hashes db.txt --key server.key --match fuzzy -o x.vpd >/dev/null 2>&1
check "--match fuzzy is an error" '[ $? -eq 2 ]'
$B psi open --key server.key --public exact.vpd --json v5 > /dev/null 2> mixed.err
check "probe vouchers against exact public data: rejected" '[ $? -eq 2 ] && grep -q rejected mixed.err'

# Version 1 data (exact keys, two slots) is refused with a clear error, not misread.
f=$(ls ve | head -1)
mkdir vold
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[4]=1; open(sys.argv[2],"wb").write(b)' "ve/$f" "vold/$f"
$B psi open --key server.key --public exact.vpd vold > /dev/null 2> old.err
check "a version-1 voucher is refused as an older format" '[ $? -eq 2 ] && grep -q "older format version" old.err'
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[8]=1; open(sys.argv[2],"wb").write(b)' public.vpd old.vpd
$B psi voucher --public old.vpd --signer "$signer" --account a9.key --hashes photos.txt -o v10 >/dev/null 2> oldpd.err
check "version-1 public data is refused as an older format" '[ $? -eq 2 ] && [ ! -e v10 ] && grep -q "older format version" oldpd.err'

# t = 6: six matches reveal nothing.
$B psi voucher --public public.vpd --signer "$signer" --account a6.key --threshold 6 --synthetic-rate 0 --hashes photos.txt -o v6 >/dev/null 2>&1
$B psi open --key server.key --public public.vpd --json v6 > open6.json 2>/dev/null
rc=$?
check "t=6 with 6 matches: exit 0" '[ $rc -eq 0 ]'
check "t=6: counts only" '[ "$(cat open6.json)" = "{\"vouchers\":16,\"opened\":6,\"multi_opened\":0,\"threshold_crossed\":false}" ]'

# A replayed voucher (same bytes, another name) counts once.
one=$(ls v6 | head -1)
cp "v6/$one" "v6/replay-$one"
$B psi open --key server.key --public public.vpd --json v6 > replay.json 2>/dev/null
check "replay counted once" '[ "$(jq_field opened < replay.json)" = 6 ] && [ "$(jq_field threshold_crossed < replay.json)" = false ]'
rm "v6/replay-$one"

# A corrupted voucher is rejected, the others still processed.
cp -r v5 vbad
f=$(ls vbad | head -1)
printf 'XXXX' | dd of="vbad/$f" bs=1 seek=0 conv=notrunc 2>/dev/null
$B psi open --key server.key --public public.vpd --json vbad > bad.json 2> bad.err
check "corrupt voucher: exit 2 and a message" '[ $? -eq 2 ] && grep -q rejected bad.err'
check "corrupt voucher: the others counted" '[ "$(jq_field vouchers < bad.json)" = 15 ]'

# Another server key opens nothing.
$B psi setup --hashes db.txt --key other.key -o other.vpd >/dev/null 2>&1
$B psi open --key other.key --public public.vpd --json v5 > wrong.json 2> wrong.err
check "another server's key is refused for this public data" '[ $? -eq 2 ] && [ ! -s wrong.json ] && grep -q "inconsistent" wrong.err'

# Tampered public data, or the wrong signer, is refused by the client.
# (flip the byte's bits: writing a fixed value would change nothing 1 time in 256)
python3 -c 'import sys; b=bytearray(open(sys.argv[1],"rb").read()); b[500]^=0xFF; open(sys.argv[2],"wb").write(b)' public.vpd tampered.vpd
$B psi voucher --public tampered.vpd --signer "$signer" --account a7.key --hashes photos.txt -o v7 >/dev/null 2>&1
check "tampered public data refused" '[ $? -eq 2 ] && [ ! -e v7 ]'
$B psi voucher --public tampered.vpd --any-signer --account a7.key --hashes photos.txt -o v7 >/dev/null 2>&1
check "tampered public data refused with --any-signer too" '[ $? -eq 2 ] && [ ! -e v7 ]'
other_signer=$(randhex)
$B psi voucher --public public.vpd --signer "$other_signer" --account a7.key --hashes photos.txt -o v7 >/dev/null 2>&1
check "wrong signer refused" '[ $? -eq 2 ]'

# The client must be told whose public data to trust.
$B psi voucher --public public.vpd --account a8.key --hashes photos.txt -o v8 >/dev/null 2> notrust.err
check "no --signer/--trusted/--any-signer: refused, and says what to give" \
  '[ $? -eq 2 ] && [ ! -e v8 ] && grep -q -- "--signer HEX" notrust.err'
$B psi voucher --public public.vpd --any-signer --account a8.key --hashes photos.txt -o v8 >/dev/null 2>&1
check "--any-signer accepts validly signed data" '[ $? -eq 0 ] && [ $(ls v8 | wc -l) -eq 16 ]'
$B psi voucher --public public.vpd --any-signer --signer "$signer" --account a8.key --hashes photos.txt -o v9 >/dev/null 2>&1
check "--any-signer with --signer is a usage error" '[ $? -eq 2 ] && [ ! -e v9 ]'

# Synthetic vouchers: rate 1 with a budget of 3 gives 3 synthetic openings
# among the non-matching photos; the account file remembers the budget.
$B psi voucher --public public.vpd --signer "$signer" --account s.key --threshold 2 --dhf 3 --synthetic-rate 1 \
  --hashes other.txt -o vs >/dev/null 2>&1
$B psi open --key server.key --public public.vpd --json vs > syn.json 2>/dev/null
check "synthetic vouchers open (3 of 10)" '[ "$(jq_field opened < syn.json)" = 3 ] && [ "$(jq_field threshold_crossed < syn.json)" = false ]'
$B psi voucher --public public.vpd --signer "$signer" --account s.key --threshold 9 --hashes other.txt -o vs2 >/dev/null 2>&1
check "an account's threshold cannot change" '[ $? -eq 2 ]'

# The default rate (auto): a fresh account with t = 30 and 40 photos that match
# nothing makes synthetic vouchers (expected 11.6; none at all has probability
# below 1e-5), fewer than s = 90.
for i in $(seq 1 40); do randhex; done > inno.txt
$B psi voucher --public public.vpd --signer "$signer" --account d.key --hashes inno.txt -o vd >/dev/null 2>&1
$B psi open --key server.key --public public.vpd --json vd > dflt.json 2>/dev/null
n_d=$(jq_field opened < dflt.json)
check "default: an innocent account of 40 photos shows synthetic openings (got $n_d)" \
  '[ "$n_d" -ge 1 ] && [ "$n_d" -lt 40 ] && [ "$(jq_field threshold_crossed < dflt.json)" = false ]'
# Re-uploads decide the same way: the same 40 photos again, at a fixed rate,
# from a copy of the account (another device) and from the account itself,
# open the same photos (every second-round opening is a duplicate of the first).
cp d.key d2.key
$B psi voucher --public public.vpd --signer "$signer" --account d.key --synthetic-rate 0.5 --hashes inno.txt -o vr1 >/dev/null 2>&1
$B psi voucher --public public.vpd --signer "$signer" --account d2.key --synthetic-rate 0.5 --hashes inno.txt -o vr2 >/dev/null 2>&1
$B psi open --key server.key --public public.vpd --json vr1 > r1.json 2>/dev/null
mkdir vr12 && cp vr1/* vr2/* vr12/
$B psi open --key server.key --public public.vpd --json vr12 > r12.json 2>/dev/null
n_r1=$(jq_field opened < r1.json)
check "re-uploads from two devices open the same photos ($n_r1 of 40 at rate 0.5)" \
  '[ "$n_r1" -ge 5 ] && [ "$n_r1" -le 35 ] && [ "$(jq_field opened < r12.json)" = "$n_r1" ] && [ "$(jq_field vouchers < r12.json)" = 80 ]'

# --index: a bank, an index of it, public data whose audit root is the index's root.
if $B bank create --db bank.sqlite known >/dev/null 2>&1 &&
   $B bank import --db bank.sqlite known db.txt >/dev/null 2>&1 &&
   $B index build --db bank.sqlite -o db.vidx > build.out 2>&1; then
  $B psi setup --index db.vidx --key server.key -o pidx.vpd > setupidx.out 2>/dev/null
  check "setup --index succeeds" '[ $? -eq 0 ] && grep -q "^keys 200$" setupidx.out'
  iroot=$($B index info db.vidx 2>/dev/null | grep -io "[0-9a-f]\{64\}" | head -1)
  check "audit root is the index's Merkle root" '[ -n "$iroot" ] && grep -q "audit_root $iroot" setupidx.out'
  $B psi voucher --public pidx.vpd --signer "$signer" --account ax.key --threshold 5 --synthetic-rate 0 --hashes photos.txt -o vx >/dev/null 2>&1
  $B psi open --key server.key --public pidx.vpd --json vx > idx.json 2>/dev/null
  check "index path: six matches recovered" '[ $(tail -n +2 idx.json | wc -l) -eq 6 ]'
else
  bad "could not build an index with vouch bank/index"
fi

# Photos, when the shared test images are there.
imgs=${VOUCH_SHARED:-/nonexistent}/testdata/pdq/images/reg-test-input/dih
if [ -d "$imgs" ]; then
  ls "$imgs"/*.jpg | head -4 > list.txt
  $B hash --exact $(cat list.txt) | awk '{print $1}' > ih.txt
  cat ih.txt db.txt > db2.txt
  $B psi setup --hashes db2.txt --key server.key -o p2.vpd >/dev/null 2>&1
  $B psi voucher --public p2.vpd --signer "$signer" --account ai.key --threshold 3 --synthetic-rate 0 -o vi $(cat list.txt) >/dev/null 2>&1
  check "photos: vouchers made" '[ $? -eq 0 ] && [ $(ls vi | wc -l) -eq 4 ]'
  $B psi open --key server.key --public p2.vpd --json --thumbs th vi > img.json 2>/dev/null
  check "photos: 4 matches over t=3 recovered with thumbnails" \
    '[ $(tail -n +2 img.json | wc -l) -eq 4 ] && [ $(ls th/*.pgm | wc -l) -eq 4 ] && grep -q "\"thumb\":\"64x40\"\|\"thumb\":\"40x64\"" img.json'
else
  echo "skip photos (no shared test images)"
fi

# Tonal views (docs/protocol.md section 4.3): photos make their vouchers with
# views by default; --no-views leaves them out; the size does not change.
ex=${VOUCH_SRC:-.}/examples
if [ -f "$ex/bridge.jpg" ]; then
  $B hash "$ex/bridge.jpg" "$ex/wee.jpg" | awk '{print $1}' > exh.txt
  cat exh.txt db.txt > db3.txt
  $B psi setup --hashes db3.txt --key server.key -o p3.vpd >/dev/null 2>&1
  $B psi voucher --public p3.vpd --signer "$signer" --account av.key --threshold 1 --synthetic-rate 0 -o vv \
    "$ex/bridge.jpg" "$ex/wee.jpg" >/dev/null 2>&1
  check "views: vouchers made" '[ $? -eq 0 ] && [ $(ls vv | wc -l) -eq 2 ]'
  $B psi voucher --public p3.vpd --signer "$signer" --account an.key --threshold 1 --synthetic-rate 0 -o vn \
    --no-views "$ex/bridge.jpg" "$ex/wee.jpg" >/dev/null 2>&1
  check "--no-views: vouchers made" '[ $? -eq 0 ] && [ $(ls vn | wc -l) -eq 2 ]'
  check "views do not change the voucher size" '[ "$(stat -c %s vv/* vn/* | sort -u)" = $((4388 + 224 * 96 + 8 * 3)) ]'
  $B psi open --key server.key --public p3.vpd --hashes db3.txt --json vv > vv.json 2>/dev/null
  check "views: both photos open one slot each and are confirmed" \
    'head -1 vv.json | grep -q "\"opened\":2," && [ $(grep -c "\"slots\":1,\"check\":\"confirmed\"" vv.json) -eq 2 ]'
fi

exit $fail
