#!/bin/bash
# tests/cli/vouchd_api.sh -- banks, index rebuild, matching and voucher intake
# over HTTP, and kill -9 in the middle of an import and of a voucher upload.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
EX=$SRC/examples
. "$(dirname "$0")/lib/vouchd_harness.sh"
jq_() { python3 -c "import json,sys; o=json.load(open('$T/body')); print($1)"; }
# the service database: a file, or a postgresql:// URI (tests/cli/vouchd_pg.sh)
DB=${VOUCH_TEST_BANK_DB:-$T/db.sqlite}
start() {
  rm -f "$T/port"
  $D --db "$DB" --index "$T/idx.vidx" --psi-key "$T/server.key" --public "$T/public.vpd" \
     --listen 127.0.0.1:0 --port-file "$T/port" --max-batch 50 --threads 2 2>> "$T/log" &
  PID=$!
  for i in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
  U=http://127.0.0.1:$(cat "$T/port")
}

# A bank of the example photos made with the CLI, its index and PSI public data.
$V hash --exact "$EX"/*.jpg | awk 'BEGIN{print "hash,id"} {print $1","$3}' > "$T/list.csv"
$V bank create --db "$DB" list-a >/dev/null
$V bank import --db "$DB" list-a "$T/list.csv" --source org-a >/dev/null 2>&1
$V index build --db "$DB" -o "$T/idx.vidx" >/dev/null 2>&1
# --match exact: the checks below count bridge.jpg and its blurred and square
# copies as three distinct matches; with probe keys (the default) the three
# share one band key and count once (docs/protocol.md section 8).
$V psi setup --match exact --index "$T/idx.vidx" --key "$T/server.key" -o "$T/public.vpd" > "$T/setup.out" 2>&1
check "cli set-up" test -s "$T/public.vpd"
ADMIN=$($D token create --db "$DB" --role admin --name admin)
MATCH=$($D token create --db "$DB" --role matcher --name matcher)
READ=$($D token create --db "$DB" --role reader --name reader)
A="Authorization: Bearer $ADMIN"; M="Authorization: Bearer $MATCH"; R="Authorization: Bearer $READ"
# accounts belong to their device tokens (docs/api.md, "Accounts")
DALICE="Authorization: Bearer $($D token create --db "$DB" --role device --account alice --name phone-alice)"
DBOB="Authorization: Bearer $($D token create --db "$DB" --role device --account bob --name phone-bob)"
DCAROL="Authorization: Bearer $($D token create --db "$DB" --role device --account carol --name phone-carol)"
DDAVE="Authorization: Bearer $($D token create --db "$DB" --role device --account dave --name phone-dave)"
start

# ---- banks
check "reader lists banks" test "$(code -H "$R" $U/v1/banks)" = 200
check "list shows list-a with 5 entries" test "$(jq_ '[b["entries"] for b in o["banks"] if b["name"]=="list-a"][0]')" = 5
check "metrics: the loaded index's memory" sh -c "curl -s $U/metrics | grep -q \"^vouchd_index_memory_bytes [1-9]\""
check "reader cannot create (403)" test "$(code -H "$R" -X POST -d '{"name":"x"}' $U/v1/banks)" = 403
check "admin creates (201)" test "$(code -H "$A" -X POST -d '{"name":"list-b","algo":"pdq"}' $U/v1/banks)" = 201
check "duplicate 409" test "$(code -H "$A" -X POST -d '{"name":"list-b"}' $U/v1/banks)" = 409
check "bad name 400" test "$(code -H "$A" -X POST -d '{"name":"a b/c"}' $U/v1/banks)" = 400
check "bad JSON 400" test "$(code -H "$A" -X POST -d '{"name":' $U/v1/banks)" = 400
check "unknown bank 404" test "$(code -H "$R" $U/v1/banks/nope)" = 404
printf 'hash,id\n%s,one\nnot-a-hash,two\n%s,three\n' "$(printf 'ab%.0s' $(seq 32))" "$(printf 'cd%.0s' $(seq 32))" > "$T/b.csv"
check "strict import of a bad list 400" test "$(code -H "$A" -X POST --data-binary @$T/b.csv "$U/v1/banks/list-b/import?strict=1")" = 400
check "strict: nothing imported" bash -c "curl -s -H '$R' $U/v1/banks/list-b | grep -q '\"entries\":0'"
check "lenient import 200" test "$(code -H "$A" -X POST --data-binary @$T/b.csv "$U/v1/banks/list-b/import?source=org-b")" = 200
check "2 added, 1 bad on line 3" test "$(jq_ 'str(o["added"])+","+str(o["bad"])+","+str(o["errors"][0]["line"])')" = "2,1,3"
check "disable an entry by hash" test "$(code -H "$A" -X POST -d "{\"by\":\"hash\",\"value\":\"$(printf 'cd%.0s' $(seq 32))\"}" $U/v1/banks/list-b/entries/disable)" = 200
check "export marks it disabled" bash -c "curl -s -H '$R' $U/v1/banks/list-b/export | grep -Eq '^$(printf 'cd%.0s' $(seq 32)),three,org-b,,0,[0-9]+,[0-9]+,\$'"
curl -s -H "$R" "$U/v1/banks/list-b/export" > "$T/export-http.csv"
$V bank export --db "$DB" list-b --format csv > "$T/export-cli.csv" 2>/dev/null
check "vouchd and the CLI export the same CSV" cmp -s "$T/export-http.csv" "$T/export-cli.csv"
check "disable whole bank" test "$(code -H "$A" -X POST $U/v1/banks/list-b/disable)" = 200
check "rebuild index" test "$(code -H "$A" -X POST $U/v1/index/rebuild)" = 200
check "rebuilt index: 5 entries (list-b disabled)" test "$(jq_ 'o["entries"]')" = 5
check "matcher cannot rebuild (403)" test "$(code -H "$M" -X POST $U/v1/index/rebuild)" = 403

# ---- matching
check "match a rotated photo (200)" test "$(code -H "$M" -X POST --data-binary @$EX/bridge-rotated.jpg $U/v1/match)" = 200
check "rotated photo finds bridge.jpg via a dihedral variant" python3 -c '
import json,sys
o=json.load(open(sys.argv[1]))
ms=o["results"][0]["matches"]
b=[m for m in ms if m["id"].endswith("/bridge.jpg")]
assert b and b[0]["variant"]!="original" and b[0]["distance"]<=31 and b[0]["bank"]=="list-a", ms' "$T/body"
check "match hash batch" test "$(code -H "$M" -X POST -H 'Content-Type: application/json' -d '{"hashes":["6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d","00"]}' $U/v1/match)" = 400
check "bad hex names its position" grep -q 'hashes\[1\]' "$T/body"
python3 -c 'import json; print(json.dumps({"hashes":["00"*32]*51}))' > "$T/big.json"
check "batch over --max-batch 413" test "$(code -H "$M" -X POST -H 'Content-Type: application/json' --data-binary @$T/big.json $U/v1/match)" = 413
check "exact hash matches at distance 0" test "$(code -H "$M" -X POST -d '{"hashes":["6227401f601ff4ccafcc9fad4b0d95d371a2eb7265a3285234d228ca94deeb2d"]}' "$U/v1/match?radius=0")" = 200
check "... wee.jpg" test "$(jq_ 'o["results"][0]["matches"][0]["id"].split("/")[-1]+":"+str(o["results"][0]["matches"][0]["distance"])')" = "wee.jpg:0"

$V hash --exact --dihedral --json "$EX/bridge-rotated.jpg" | python3 -c 'import json,sys; o=json.loads(sys.stdin.read()); print(json.dumps({"photos":[o["dihedral"]]}))' > "$T/photo.json"
check "match one photo given as its 8 variants" test "$(code -H "$M" -X POST --data-binary @$T/photo.json $U/v1/match)" = 200
check "... finds bridge.jpg" python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert len(o["results"])==1 and any(m["id"].endswith("/bridge.jpg") for m in o["results"][0]["matches"]), o' "$T/body"
check "ragged photos 400" test "$(code -H "$M" -X POST -d '{"photos":[["00"],["00","11"]]}' $U/v1/match)" = 400

# the index is swapped (SIGHUP, rebuild) while matching requests run: none
# is dropped or answered from a half-loaded index
rm -f "$T/stop"
for w in 1 2 3; do
  ( i=0; while [ ! -e "$T/stop" ]; do i=$((i+1))
      curl -s -o "$T/r$w.$i" -w '%{http_code}\n' --max-time 60 -H "$M" -X POST --data-binary @$T/photo.json $U/v1/match
    done > "$T/codes$w" ) &
  eval "W$w=\$!"
done
for i in 1 2 3 4 5; do
  sleep 0.2; kill -HUP "$PID"
  [ "$i" = 3 ] && curl -s -o /dev/null --max-time 60 -H "$A" -X POST $U/v1/index/rebuild
done
sleep 0.2; touch "$T/stop"
wait $W1 $W2 $W3
NREQ=$(cat "$T"/codes? | wc -l)
check "$NREQ requests during 5 reloads and a rebuild: all 200" test "$(cat "$T"/codes? | sort -u)" = 200
check "... at least 10 of them" test "$NREQ" -ge 10
check "... all with the same answer" test "$(cat "$T"/r?.* | sort -u | wc -l)" -eq 1
check "... the answer finds bridge.jpg" grep -q '/bridge.jpg"' "$T/r1.1"

# ---- private matching
check "public data served" test "$(code $U/v1/public)" = 200
check "public data = the file" cmp -s "$T/body" "$T/public.vpd"
ROOT=$(curl -s -D - -o /dev/null $U/v1/public | tr -d '\r' | awk -F': ' 'tolower($1)=="x-vouch-audit-root"{print $2}')
check "audit root header = the index root" grep -q "$ROOT" "$T/setup.out"
mkdir -p "$T/photos"
for i in $(seq 1 4); do cp "$EX/bridge.jpg" "$T/photos/m$i.jpg"; done  # 4 matching photos (repeats count once)
cp "$EX/bridge-square.jpg" "$EX/wee.jpg" "$EX/bridge-blurred.jpg" "$T/photos/"
# --synthetic-rate 0: this part tests the threshold crossing, which synthetic
# vouchers (on by default) would make random.
$V psi voucher --public "$T/public.vpd" --signer "$(awk '/^signer/{print $2}' "$T/setup.out")" --account "$T/acct.key" --threshold 2 --synthetic-rate 0 -o "$T/vv" "$T/photos"/*.jpg > /dev/null 2>&1
check "7 vouchers written" test "$(ls "$T/vv" | wc -l)" -eq 7
mkjson() { python3 -c '
import base64,json,sys
acct=sys.argv[1]; fs=sys.argv[2:]
print(json.dumps({"account":acct,"vouchers":[base64.b64encode(open(f,"rb").read()).decode() for f in fs]}))' "$@"; }
mkjson alice $(ls "$T"/vv/* | head -2) > "$T/v1.json"
mkjson alice "$T"/vv/* > "$T/v2.json"
check "matcher may not upload vouchers (403)" test "$(code -H "$M" -X POST --data-binary @$T/v1.json $U/v1/vouchers)" = 403
check "bob's device may not upload for alice (403)" test "$(code -H "$DBOB" -X POST --data-binary @$T/v1.json $U/v1/vouchers)" = 403
check "alice's device uploads 2 vouchers" test "$(code -H "$DALICE" -X POST --data-binary @$T/v1.json $U/v1/vouchers)" = 200
check "2 accepted" test "$(jq_ 'o["accepted"]')" = 2
check "reader may not read an account (403)" test "$(code -H "$R" $U/v1/accounts/alice/status)" = 403
check "bob's device may not read alice (403)" test "$(code -H "$DBOB" $U/v1/accounts/alice/status)" = 403
check "alice's device reads her status" test "$(code -H "$DALICE" $U/v1/accounts/alice/status)" = 200
check "below threshold: no matches revealed" python3 -c 'import json,sys; o=json.load(open(sys.argv[1])); assert o["threshold_crossed"] is False and "matches" not in o, o' "$T/body"
check "upload all 7 (2 replays)" test "$(code -H "$DALICE" -X POST --data-binary @$T/v2.json $U/v1/vouchers)" = 200
check "5 accepted, 2 duplicates" test "$(jq_ 'str(o["accepted"])+","+str(o["duplicates"])')" = "5,2"
check "status 200 (admin)" test "$(code -H "$A" $U/v1/accounts/alice/status)" = 200
check "threshold crossed, payloads revealed" python3 -c '
import json,sys
o=json.load(open(sys.argv[1]))
assert o["threshold_crossed"] is True and o["stored"]==7, o
hs={m["hash"] for m in o["matches"]}
assert "f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22" in hs, hs' "$T/body"
mkjson bob "$T"/vv/* | python3 -c 'import json,sys; o=json.load(sys.stdin); o["vouchers"][3]=o["vouchers"][3][:-40]+"A"*40; print(json.dumps(o))' > "$T/bad.json"
check "a corrupted voucher 400" test "$(code -H "$DBOB" -X POST --data-binary @$T/bad.json $U/v1/vouchers)" = 400
check "names the bad voucher" grep -q 'vouchers\[3\]' "$T/body"
check "nothing stored for bob" test "$(code -H "$DBOB" $U/v1/accounts/bob/status)" = 404
check "bad account id 400" test "$(code -H "$A" -X POST -d '{"account":"a b","vouchers":["AA=="]}' $U/v1/vouchers)" = 400
check "not base64 400" test "$(code -H "$DCAROL" -X POST -d '{"account":"carol","vouchers":["!!!"]}' $U/v1/vouchers)" = 400

# ---- kill -9 during a large import: the bank is exactly as before, or fully imported
python3 -c '
import random
random.seed(5)
print("hash,id")
for i in range(300000): print("%064x,big%d" % (random.getrandbits(256), i))' > "$T/big.csv"
$V bank create --db "$DB" big >/dev/null 2>&1
curl -s --max-time 120 -H "$A" -X POST --data-binary @"$T/big.csv" "$U/v1/banks/big/import" > /dev/null 2>&1 &
CURL=$!
sleep 1.2
kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=
wait $CURL 2>/dev/null
N=$($V bank list --db "$DB" 2>/dev/null | awk '$1=="big"{print $4}')
check "after kill -9 the import is all or nothing ($N entries)" test "$N" = 0 -o "$N" = 300000
[ -f "$DB" ] && check "database integrity after kill -9" test "$(sqlite3 "$DB" 'PRAGMA integrity_check')" = ok
start
check "restarted" test "$(code $U/healthz)" = 200
check "import works after restart" test "$(code -H "$A" -X POST --data-binary @$T/list.csv "$U/v1/banks/big/import")" = 200

# ---- kill -9 during a voucher upload: the batch is stored whole or not at all
mkdir -p "$T/p2"; for i in $(seq 1 45); do cp "$EX/wee.jpg" "$T/p2/x$i.jpg"; done
$V psi voucher --public "$T/public.vpd" --signer "$(awk '/^signer/{print $2}' "$T/setup.out")" --account "$T/acct2.key" --threshold 30 -o "$T/vv2" "$T/p2"/*.jpg > /dev/null 2>&1
mkjson dave "$T"/vv2/* > "$T/v3.json"
curl -s --max-time 60 --limit-rate 100k -H "$DDAVE" -X POST --data-binary @"$T/v3.json" $U/v1/vouchers > /dev/null 2>&1 &
CURL=$!
sleep 0.8
kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=
wait $CURL 2>/dev/null
start
S=$(curl -s -H "$DDAVE" $U/v1/accounts/dave/status | python3 -c 'import json,sys; print(json.load(sys.stdin).get("stored",0))')
check "after kill -9 the batch is all or nothing ($S stored)" test "$S" = 0 -o "$S" = 45
check "upload works after restart" test "$(code -H "$DDAVE" -X POST --data-binary @$T/v3.json $U/v1/vouchers)" = 200
curl -s -H "$DDAVE" $U/v1/accounts/dave/status > "$T/dave.json"; check "all 45 stored" python3 -c "import json,sys; o=json.load(open(sys.argv[1])); assert o[\"stored\"]==45, o" "$T/dave.json"

kill -TERM "$PID"; wait "$PID"; PID=
echo "$pass passed, $fail failed"
test $fail -eq 0
