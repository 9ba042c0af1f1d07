# tests/cli/lib/review_setup.sh -- sourced by the review console tests
# (tests/cli/vouchd_review.sh, tests/browser/review.sh) after
# vouchd_harness.sh: a bank of bridge.jpg, wee.jpg and other.png (with sources), their
# second hashes, a photo forged to collide with wee.jpg bit for bit
# (`vouch eval attack`), a third picture (ImageMagick plasma), PSI public data, and vouchd on 127.0.0.1 port 0 in
# $T (VOUCH_TEST_BANK_DB: a postgresql:// database instead, VOUCH_TEST_PG_DB its
# name for sql).  Sets U (base URL), A (admin header), REV (reviewer token), DALICE
# (alice's device header), DBOB, and mkjson ACCOUNT FILES... (a voucher upload).
command -v python3 >/dev/null || { echo "python3 needed; skipping"; exit 77; }
[ -n "${VOUCH_TEST_PG_DB:-}" ] || command -v sqlite3 >/dev/null || { echo "sqlite3 needed; skipping"; exit 77; }
command -v convert >/dev/null || { echo "ImageMagick needed; skipping"; exit 77; }
EX=$SRC/examples
DB=${VOUCH_TEST_BANK_DB:-$T/db.sqlite} # a postgresql:// URI for the PostgreSQL runs
sql() { # SQL on the test's database: sqlite3, or psql when VOUCH_TEST_PG_DB names it
  if [ -n "${VOUCH_TEST_PG_DB:-}" ]; then
    "$PG_BIN/psql" -h "$PG_HOST" -p "$PG_PORT" -U vouch -d "$VOUCH_TEST_PG_DB" -X -q -At -v ON_ERROR_STOP=1 -c "$1"
  else
    sqlite3 "$DB" "$1"
  fi
}
convert -seed 42 -size 320x240 plasma:red-blue -blur 0x2 "$T/other.png"
$V hash --derivative "$EX/bridge.jpg" "$EX/wee.jpg" "$T/other.png" > "$T/second.txt"
# REVIEW_SECOND_IN_BANK=1: the list carries the entries' second hashes (the
# second_hash column), so that vouchd knows them without an uploaded list
if [ "${REVIEW_SECOND_IN_BANK:-0}" = 1 ]; then
  { echo "hash,id,source,second_hash"; awk '{n=split($4,p,"/"); print $1","p[n]",org-" substr("abc",NR,1)","$3}' "$T/second.txt"; } > "$T/list.csv"
else
  { echo "hash,id,source"; awk '{n=split($4,p,"/"); print $1","p[n]",org-" substr("abc",NR,1)}' "$T/second.txt"; } > "$T/list.csv"
fi
$V bank create --db "$DB" known >/dev/null
$V bank import --db "$DB" known "$T/list.csv" >/dev/null 2>&1
$V index build --db "$DB" -o "$T/idx.vidx" >/dev/null 2>&1
WEE=$(awk 'NR==2{print $1}' "$T/second.txt")
$V eval attack --radius 0 --target "$WEE" -o "$T/forged.png" "$EX/bridge-rotated.jpg" >/dev/null 2>&1
$V psi setup --index "$T/idx.vidx" --key "$T/server.key" -o "$T/public.vpd" > "$T/setup.out" 2>&1
# threshold 1, no synthetic vouchers: alice sends a genuine edit of
# bridge.jpg and the forgery (both open: the forgery's PDQ is wee.jpg's bit
# for bit), bob sends bridge.jpg itself and the third picture; both accounts
# cross every time (photos of one family share a key and count once).
SIGNER=$(awk '/^signer/{print $2}' "$T/setup.out")
$V psi voucher --public "$T/public.vpd" --signer "$SIGNER" --account "$T/alice.key" --threshold 1 --synthetic-rate 0 \
  -o "$T/va" "$EX/bridge-blurred.jpg" "$T/forged.png" >/dev/null 2>&1
$V psi voucher --public "$T/public.vpd" --signer "$SIGNER" --account "$T/bob.key" --threshold 1 --synthetic-rate 0 \
  -o "$T/vb" "$EX/bridge.jpg" "$T/other.png" >/dev/null 2>&1
mkjson() { python3 -c '
import base64,json,sys
print(json.dumps({"account":sys.argv[1],"vouchers":[base64.b64encode(open(f,"rb").read()).decode() for f in sys.argv[2:]]}))' "$@"; }
mkjson alice "$T"/va/* > "$T/alice.json"
mkjson bob "$T"/vb/* > "$T/bob.json"
A="Authorization: Bearer $($D token create --db "$DB" --role admin --name admin)"
DALICE="Authorization: Bearer $($D token create --db "$DB" --role device --account alice --name phone-alice)"
DBOB="Authorization: Bearer $($D token create --db "$DB" --role device --account bob --name phone-bob)"
REV=$($D reviewer create --db "$DB" --name rita)
rm -f "$T/port"
$D --db "$DB" --index "$T/idx.vidx" --psi-key "$T/server.key" --public "$T/public.vpd" \
   --listen 127.0.0.1:0 --port-file "$T/port" --threads 2 2>> "$T/log" &
PID=$!
for i in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
U=http://127.0.0.1:$(cat "$T/port")
