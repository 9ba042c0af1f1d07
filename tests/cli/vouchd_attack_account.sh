#!/bin/bash
# tests/cli/vouchd_attack_account.sh -- accounts belong to their owner (issue
# 14, attack 3): a device token acts for its own account only; an account's
# parameters are fixed by its first accepted voucher and a voucher that does
# not fit is refused with 409 at upload, never stored to be dropped later.
set -u
. "$(dirname "$0")/lib/vouchd_harness.sh"
. "$(dirname "$0")/lib/vouchd_attack.sh"
EX=${VOUCH_SRC:?}/examples

DB=$T/db.sqlite
$V hash --exact "$EX"/*.jpg | awk 'BEGIN{print "hash,id"} {print $1","$3}' > "$T/list.csv"
$V bank create --db "$DB" list-a >/dev/null
$V bank import --db "$DB" list-a "$T/list.csv" --source org-a >/dev/null 2>&1
$V index build --db "$DB" -o "$T/idx.vidx" >/dev/null 2>&1
$V psi setup --index "$T/idx.vidx" --key "$T/server.key" -o "$T/public.vpd" > "$T/setup.out" 2>&1
SIGNER=$(awk '/^signer/{print $2}' "$T/setup.out")
mkdir -p "$T/photos"
for i in 1 2 3; do cp "$EX/bridge.jpg" "$T/photos/m$i.jpg"; done
cp "$EX/bridge-square.jpg" "$EX/wee.jpg" "$EX/bridge-blurred.jpg" "$T/photos/"
voucher() { $V psi voucher --public "$T/public.vpd" --signer "$SIGNER" --account "$T/$1.key" --threshold 2 \
              -o "$T/v-$1" "$T/photos"/*.jpg > /dev/null 2>&1; }
voucher dave; voucher mallory
mkjson() { python3 -c '
import base64,json,sys
print(json.dumps({"account":sys.argv[1],"vouchers":[base64.b64encode(open(f,"rb").read()).decode() for f in sys.argv[2:]]}))' "$@"; }
mkjson dave "$T"/v-dave/* > "$T/dave.json"
mkjson dave $(ls "$T"/v-mallory/* | head -1) > "$T/foreign-dave.json"
mkjson carol "$T"/v-mallory/* > "$T/foreign-carol.json"
mkjson mallory "$T"/v-mallory/* > "$T/mallory.json"

ADMIN=$($D token create --db "$DB" --role admin --name admin)
READ=$($D token create --db "$DB" --role reader --name reader)
MATCH=$($D token create --db "$DB" --role matcher --name matcher)
DAVE=$($D token create --db "$DB" --role device --account dave --name phone-dave)
MAL=$($D token create --db "$DB" --role device --account mallory --name phone-mallory)
$D token create --db "$DB" --role device --name no-account >/dev/null 2>&1
check "a device token needs --account" test $? -eq 2
$D token create --db "$DB" --role matcher --account dave --name x >/dev/null 2>&1
check "--account only with --role device" test $? -eq 2
check "token list shows the account" sh -c "$D token list --db '$DB' | grep -q 'phone-dave.*device.*dave'"
start_vouchd --db "$DB" --psi-key "$T/server.key" --public "$T/public.vpd" --threads 2
check "listening" healthz_within 2
up() { code -H "Authorization: Bearer $1" --data-binary @"$2" "$U/v1/vouchers"; }
st() { code -H "Authorization: Bearer $1" "$U/v1/accounts/$2/status"; }

check "mallory's device cannot file under dave (403)" test "$(up "$MAL" "$T/foreign-dave.json")" = 403
check "... nor under carol (403)" test "$(up "$MAL" "$T/foreign-carol.json")" = 403
check "a matcher token cannot file vouchers (403)" test "$(up "$MATCH" "$T/foreign-carol.json")" = 403
check "nothing stored for carol" test "$(st "$ADMIN" carol)" = 404
check "dave uploads his 6 vouchers" test "$(up "$DAVE" "$T/dave.json")" = 200
check "... 6 accepted" grep -q '"accepted":6' "$T/body"
check "a voucher made with another account key is refused at upload (409)" test "$(up "$ADMIN" "$T/foreign-dave.json")" = 409
check "... account_mismatch" grep -q '"code":"account_mismatch"' "$T/body"
check "dave reads his status" test "$(st "$DAVE" dave)" = 200
check "... 6 stored, all 6 counted, none rejected" python3 -c '
import json,sys; o=json.load(open(sys.argv[1]))
assert o["stored"]==6 and o["vouchers"]==6 and "rejected" not in o, o' "$T/body"
check "mallory cannot read dave's status (403)" test "$(st "$MAL" dave)" = 403
check "a reader cannot read dave's status (403)" test "$(st "$READ" dave)" = 403
check "admin reads dave's status" test "$(st "$ADMIN" dave)" = 200
check "mallory files under her own account" test "$(up "$MAL" "$T/mallory.json")" = 200
check "HEAD of an account needs its token too (403)" test "$(curl -s -o /dev/null -w '%{http_code}' -I -H "Authorization: Bearer $MAL" "$U/v1/accounts/dave/status")" = 403
check "still healthy" healthz_within 1
# attack 11: a database locked by another process gives 503 busy_database
# (with Retry-After) once SQLite's 5 s busy wait runs out, not 500
python3 -c '
import sqlite3, sys, time
c = sqlite3.connect(sys.argv[1], isolation_level=None)
c.execute("BEGIN IMMEDIATE")
print("locked", flush=True)
time.sleep(7)
c.execute("ROLLBACK")' "$DB" > "$T/lock" &
LOCK=$!
for _ in $(seq 1 100); do grep -q locked "$T/lock" 2>/dev/null && break; sleep 0.05; done
curl -s -o "$T/lb1" -D "$T/lh1" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $MAL" --data-binary @"$T/mallory.json" "$U/v1/vouchers" > "$T/lc1" &
curl -s -o "$T/lb2" -w '%{http_code}' --max-time 30 -H "Authorization: Bearer $ADMIN" -d '{"name":"list-c"}' "$U/v1/banks" > "$T/lc2" &
wait $(jobs -p | grep -vx "$PID" | grep -vx "$LOCK")
check "locked database: voucher upload 503 busy_database" sh -c "test \"\$(cat '$T/lc1')\" = 503 && grep -q busy_database '$T/lb1' && grep -qi '^Retry-After' '$T/lh1'"
check "locked database: bank create 503 busy_database" sh -c "test \"\$(cat '$T/lc2')\" = 503 && grep -q busy_database '$T/lb2'"
wait $LOCK

# attack 11: files others can read are named at start-up, as the CLI does for keys
check "warns that the database (made 0644 by the CLI) is readable by others" grep -q "warning: $DB is readable by other users" "$T/log"
chmod 644 "$T/server.key"
stop_vouchd
start_vouchd --db "$DB" --psi-key "$T/server.key" --public "$T/public.vpd" --threads 2
check "warns that a 0644 key is readable by others" grep -q "warning: $T/server.key is readable by other users (mode 644); it holds a secret key" "$T/log"
stop_vouchd
echo "$pass passed, $fail failed"
test $fail -eq 0
