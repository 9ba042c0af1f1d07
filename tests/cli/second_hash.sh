#!/bin/bash
# tests/cli/second_hash.sh -- the post-threshold second-hash check end to
# end: a source gives its entries' second hashes (`vouch hash --derivative`);
# an account uploads a genuine edited copy of one entry and a photo forged
# to collide with another bit for bit (`vouch eval attack`); both open and
# pass the PDQ check after the threshold, and `vouch psi open --second`
# passes the genuine copy and flags the forgery.
set -u
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
EX=$SRC/examples
. "$(dirname "$0")/lib/check.sh"
. "$(dirname "$0")/lib/forged_vouchers.sh"
command -v python3 >/dev/null || { echo "python3 needed; skipping"; exit 77; }
cd "$T"

# --- vouch hash --derivative
$V hash --derivative "$EX/bridge.jpg" "$EX/wee.jpg" > second.txt
check "hash --derivative exits 0" test $? -eq 0
check "text: HASH QUALITY SECOND PATH" awk 'length($1)==64 && $2==100 && length($3)==512 && $4 ~ /examples/ {n++} END {exit n!=2}' second.txt
$V hash --derivative --json "$EX/bridge.jpg" > one.json
check "JSON has the derivative" python3 -c "
import json,sys; r=json.load(open(sys.argv[1])); assert len(r['derivative'])==512 and r['derivative'][:2]=='01', r" one.json
check "same second hash in text and JSON" test "$(python3 -c "import json;print(json.load(open('one.json'))['derivative'])")" = "$(awk 'NR==1{print $3}' second.txt)"
$V hash --derivative --algo phash "$EX/bridge.jpg" >/dev/null 2>&1; check "--derivative with phash exits 2" test $? -eq 2

# --- the database: the two photos and 50 random hashes
cut -d' ' -f1 second.txt > db.txt
for i in $(seq 1 50); do od -An -tx1 -N32 /dev/urandom | tr -d ' \n'; echo; done >> db.txt
wee=$(awk 'NR==2{print $1}' second.txt)
forged_vouchers "$wee"

$V psi open --key server.key --public public.vpd --hashes db.txt --second second.txt --json v > open.json
check "open crosses the threshold (exit 1)" test $? -eq 1
check "genuine copy passes, forgery fails" python3 -c "
import json,sys
rows=[json.loads(l) for l in open(sys.argv[1])]
assert rows[0]['threshold_crossed'] and rows[0]['confirmed']==2, rows[0]
p=rows[1:-1]
assert len(p)==2 and all(x['check']=='confirmed' for x in p), p
byhash={x['hash'][:8]:x for x in p}
f=byhash['6227401f']; g=[x for x in p if x is not f][0]
assert f['distance']==0 and f['second']=='fail' and 0 <= f['second_score'] < 800, f
assert g['second']=='pass' and g['second_score'] >= 800, g
assert rows[-1]=={'second_hash':{'pass':1,'fail':1,'unknown':0}}, rows[-1]
" open.json
$V psi open --key server.key --public public.vpd --hashes db.txt --second second.txt v > open.txt
check "text names the suspected forgery" grep -q "second fail (suspected forgery)" open.txt
check "text counts" grep -q "^second_fail 1$" open.txt
# an entry without a second hash gives 'unknown'
head -1 second.txt > only-bridge.txt
$V psi open --key server.key --public public.vpd --hashes db.txt --second only-bridge.txt --json v > unk.json
check "no second hash for the entry: unknown" python3 -c "
import json,sys; rows=[json.loads(l) for l in open(sys.argv[1])]
assert rows[-1]=={'second_hash':{'pass':1,'fail':0,'unknown':1}}, rows[-1]" unk.json
# a malformed second-hash file is an error, named by line
printf '%s\nnot a line\n' "$(head -1 second.txt)" > bad.txt
$V psi open --key server.key --public public.vpd --second bad.txt v > /dev/null 2> bad.err
check "malformed --second file exits 2" test $? -eq 2
check "its line is named" grep -q "bad.txt:2:" bad.err

echo "second_hash.sh: $pass passed, $fail failed"
test $fail -eq 0
