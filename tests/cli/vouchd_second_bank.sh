#!/bin/bash
# tests/cli/vouchd_second_bank.sh -- vouchd's post-threshold check takes the
# matched entry's second hash from the bank (the second_hash column of
# `vouch bank import`), with no list uploaded: the edit passes, the forgery
# fails and is withheld from the queue; the bank's second hash wins over an
# uploaded list (POST /v1/review/second-hashes), which fills in an entry the
# bank has none for; an entry with neither is unknown.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
. "$(dirname "$0")/lib/vouchd_harness.sh"
REVIEW_SECOND_IN_BANK=1
. "$(dirname "$0")/lib/review_setup.sh"
py() { python3 -c "import json,sys; o=json.load(open('$T/body')); $1"; }
R="Authorization: Bearer $REV"
check "vouchd is up" test "$(code $U/healthz)" = 200
check "the bank holds 3 second hashes" test "$(sql 'SELECT count(*) FROM entries WHERE length(second) = 256')" = 3

check "alice uploads 2 vouchers" test "$(code -H "$DALICE" -X POST --data-binary @"$T/alice.json" $U/v1/vouchers)" = 200
check "bob uploads 2 vouchers" test "$(code -H "$DBOB" -X POST --data-binary @"$T/bob.json" $U/v1/vouchers)" = 200
status() { code -H "$A" $U/v1/accounts/$1/status; }
check "alice's status: 200" test "$(status alice)" = 200
check "... no list uploaded: the edit passes and the forgery fails, from the bank" py '
assert o["threshold_crossed"] and o["second_hash"]=={"pass":1,"fail":1,"unknown":0}, o
f=[m for m in o["matches"] if m["second"]=="fail"][0]
assert 0 <= f["second_score"] < 800 and f["entry"]["id"]=="wee.jpg" and f["entry"]["source"]=="org-b", f'
check "bob's status: both pass" test "$(status bob)" = 200
check "... pass 2" py 'assert o["second_hash"]=={"pass":2,"fail":0,"unknown":0}, o'
check "queue: 3 items, the forgery withheld" test "$(code -H "$R" $U/v1/review/queue)" = 200
check "... all pass" py '
assert len(o["items"])==3 and o["suspected_forgeries"]==1, o
assert all(it["second"]["verdict"]=="pass" for it in o["items"]), o'

# an uploaded list that gives bridge.jpg the wrong second hash (wee.jpg's):
# the bank's own second hash wins
BR=$(awk 'NR==1{print $1}' "$T/second.txt"); WEE2=$(awk 'NR==2{print $3}' "$T/second.txt")
echo "$BR 100 $WEE2 wrong" > "$T/wrong.txt"
check "a list upload: 200" test "$(code -H "$A" -X POST --data-binary @"$T/wrong.txt" $U/v1/review/second-hashes)" = 200
check "alice's status with the wrong list" test "$(status alice)" = 200
check "... the bank's second hash wins" py 'assert o["second_hash"]=={"pass":1,"fail":1,"unknown":0}, o'

# wee.jpg's entry loses its second hash: unknown, then the list fills it in
sql "UPDATE entries SET second = NULL WHERE ext_id = 'wee.jpg'"
check "no second hash for the entry anywhere" test "$(status alice)" = 200
check "... unknown" py '
assert o["second_hash"]=={"pass":1,"fail":0,"unknown":1}, o
assert [m for m in o["matches"] if m["second"]=="unknown"][0]["entry"]["id"]=="wee.jpg", o'
check "a list with wee.jpg's second hash: 200" test "$(code -H "$A" -X POST --data-binary @"$T/second.txt" $U/v1/review/second-hashes)" = 200
check "... fills in: the forgery fails again" test "$(status alice)" = 200
check "... fail 1" py 'assert o["second_hash"]=={"pass":1,"fail":1,"unknown":0}, o'

kill "$PID" 2>/dev/null; wait "$PID" 2>/dev/null; PID=
echo "vouchd_second_bank.sh: $pass passed, $fail failed"
test $fail -eq 0
