#!/bin/bash
# tests/cli/vouchd_review.sh -- the review console's JSON API (docs/review.md):
# reviewer tokens and role separation, second hashes uploaded by an admin,
# an account past its threshold entering the queue with the second-hash
# verdict and the matched entry's sources, a forgery withheld, decisions
# (append-only, stale pages refused), the export, the views log, the page's
# headers, and the second-hash verdict in the account status.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
. "$(dirname "$0")/lib/vouchd_harness.sh"
# VOUCH_TEST_BANK_DB=postgresql://... (with VOUCH_TEST_PG_DB, PG_BIN, PG_HOST,
# PG_PORT from lib/pg_harness.sh): the same test on PostgreSQL (cli/review_pg)
. "$(dirname "$0")/lib/review_setup.sh"
py() { python3 -c "import json,sys; o=json.load(open('$T/body')); $1"; }
R="Authorization: Bearer $REV"
check "vouchd is up" test "$(code $U/healthz)" = 200
check "reviewer create prints a token" test "${#REV}" -eq 46
check "reviewer list" sh -c "$D reviewer list --db '$DB' | grep -q '^rita	reviewer	'"

# ---- roles
check "queue without a token: 401" test "$(code $U/v1/review/queue)" = 401
check "queue with an admin token: 403" test "$(code -H "$A" $U/v1/review/queue)" = 403
check "... says it needs the reviewer role" py 'assert "reviewer" in o["error"]["message"], o'
check "queue with a device token: 403" test "$(code -H "$DALICE" $U/v1/review/queue)" = 403
check "queue with a bad token: 401" test "$(code -H "Authorization: Bearer vr_nope_nope_nope" $U/v1/review/queue)" = 401
check "a reviewer token opens nothing else: banks 401" test "$(code -H "$R" $U/v1/banks)" = 401
check "... an account's status 401" test "$(code -H "$R" $U/v1/accounts/alice/status)" = 401
check "... uploading second hashes 401" test "$(code -H "$R" -X POST --data-binary @"$T/second.txt" $U/v1/review/second-hashes)" = 401

# ---- second hashes (admin)
check "a bad second-hash list: 400" test "$(code -H "$A" -X POST --data-binary 'zz' $U/v1/review/second-hashes)" = 400
check "... bad_list, line 1" py 'assert o["error"]["code"]=="bad_list" and "line 1" in o["error"]["message"], o'
check "second hashes uploaded" test "$(code -H "$A" -X POST --data-binary @"$T/second.txt" $U/v1/review/second-hashes)" = 200
check "... 3 entries" py 'assert o=={"entries":3}, o'

# ---- an account past its threshold
check "queue empty before any voucher" test "$(code -H "$R" $U/v1/review/queue)" = 200
check "... 0 items" py 'assert o["items"]==[] and o["reviewer"]=="rita", o'
check "alice uploads 2 vouchers" test "$(code -H "$DALICE" -X POST --data-binary @"$T/alice.json" $U/v1/vouchers)" = 200
check "bob uploads 2 vouchers" test "$(code -H "$DBOB" -X POST --data-binary @"$T/bob.json" $U/v1/vouchers)" = 200
check "status: second-hash verdicts and entries" test "$(code -H "$A" $U/v1/accounts/alice/status)" = 200
check "... the edit passes, the forgery fails" py '
assert o["threshold_crossed"] and o["second_hash"]=={"pass":1,"fail":1,"unknown":0}, o
v=sorted(m["second"] for m in o["matches"]); assert v==["fail","pass"], v
f=[m for m in o["matches"] if m["second"]=="fail"][0]; assert 0 <= f["second_score"] < 800 and f["entry"]["source"]=="org-b", f
assert all(m["entry"]["bank"]=="known" for m in o["matches"]), o'
cp "$T/body" "$T/status.json"
check "queue: 200" test "$(code -H "$R" $U/v1/review/queue)" = 200
check "... 3 items, the forgery withheld and counted" py '
assert len(o["items"])==3 and o["suspected_forgeries"]==1 and o["suspected_forgeries_by_account"]=={"alice":1,"bob":0}, o
assert [it["account"] for it in o["items"]]==["alice","bob","bob"], o
for it in o["items"]:
  assert it["second"]["verdict"]=="pass" and it["second"]["score"]>=800, it
  assert it["entry"]["bank"]=="known" and it["decision"] is None, it
  assert 1 <= it["thumb"]["w"] <= 64 and len(__import__("base64").b64decode(it["thumb"]["grey"]))==it["thumb"]["w"]*it["thumb"]["h"], it
e=sorted((it["entry"]["id"], it["entry"]["source"], it["entry"]["distance"]) for it in o["items"])
assert [x[:2] for x in e]==[("bridge.jpg","org-a"),("bridge.jpg","org-a"),("other.png","org-c")], e
assert all(0 <= x[2] <= 31 for x in e), e'
python3 -c "import json; o=json.load(open('$T/body')); print(*[i['id'] for i in o['items']])" > "$T/ids"
read I1 I2 I3 < "$T/ids"
check "re-uploading does not queue twice" test "$(code -H "$DALICE" -X POST --data-binary @"$T/alice.json" $U/v1/vouchers)" = 200
code -H "$R" $U/v1/review/queue >/dev/null
check "... still 3 items" py 'assert len(o["items"])==3, o'
check "?account=carol: nothing" test "$(code -H "$R" "$U/v1/review/queue?account=carol")" = 200
check "... 0 items" py 'assert o["items"]==[], o'
check "?account=bad id: 400" test "$(code -H "$R" "$U/v1/review/queue?account=a%20b")" = 400

# ---- decisions
dec() { code -H "$R" -X POST -d "$1" $U/v1/review/decisions; }
check "confirm item 1: 201" test "$(dec "{\"item\":$I1,\"decision\":\"confirm\",\"note\":\"same photo <b>\",\"supersedes\":0}")" = 201
check "... names the reviewer" py 'assert o["reviewer"]=="rita" and o["decision"]=="confirm" and o["id"]>0, o'
D1=$(python3 -c "import json; print(json.load(open('$T/body'))['id'])")
check "a stale page (supersedes 0 again): 409" test "$(dec "{\"item\":$I1,\"decision\":\"reject\",\"note\":\"x\",\"supersedes\":0}")" = 409
check "... stale_decision" py 'assert o["error"]["code"]=="stale_decision", o'
check "escalate over it: 201" test "$(dec "{\"item\":$I1,\"decision\":\"escalate\",\"note\":\"ask legal\",\"supersedes\":$D1}")" = 201
check "reject item 2: 201" test "$(dec "{\"item\":$I2,\"decision\":\"reject\",\"note\":\"different\"}")" = 201
check "bad decision: 400" test "$(dec "{\"item\":$I2,\"decision\":\"maybe\",\"note\":\"x\"}")" = 400
check "no reason: 400" test "$(dec "{\"item\":$I2,\"decision\":\"reject\"}")" = 400
check "empty reason: 400" test "$(dec "{\"item\":$I2,\"decision\":\"reject\",\"note\":\"\"}")" = 400
check "not JSON: 400" test "$(dec "{\"item\":")" = 400
check "no such item: 404" test "$(dec '{"item":999999,"decision":"reject","note":"x"}')" = 404
check "GET on decisions: 405" test "$(code -H "$R" $U/v1/review/decisions)" = 405
code -H "$R" $U/v1/review/export >/dev/null
FORGED=$(python3 -c "import json; o=json.load(open('$T/body')); print([i['id'] for i in o['items'] if i['second']['verdict']=='fail'][0])")
check "the forgery cannot be decided: 400" test "$(dec "{\"item\":$FORGED,\"decision\":\"confirm\",\"note\":\"x\"}")" = 400
check "queue shows the latest decisions" test "$(code -H "$R" $U/v1/review/queue)" = 200
check "... escalate (superseding confirm) and reject" py "
d={it['id']:it['decision'] for it in o['items']}
assert d[$I1]['decision']=='escalate' and d[$I1]['note']=='ask legal' and d[$I2]['decision']=='reject', d"
check "?open=1: the escalated one and the undecided one" test "$(code -H "$R" "$U/v1/review/queue?open=1")" = 200
check "... 2 items" py "assert [it['id'] for it in o['items']]==[$I1, $I3], o"

# ---- export
check "export: 200" test "$(code -H "$R" $U/v1/review/export)" = 200
check "... every decision, oldest first, with the superseded one" py "
ds=o['decisions']; assert [d['decision'] for d in ds]==['confirm','escalate','reject'], ds
assert all(d['reviewer']=='rita' and d['decided_at']>0 for d in ds), ds
assert [d['account'] for d in ds]==['alice','alice','bob'], ds
assert ds[0]['note']=='same photo <b>' and ds[1]['supersedes']==ds[0]['id'], ds
assert len(o['items'])==4 and sum(i['second']['verdict']=='fail' for i in o['items'])==1, o['items']
assert o['exported_by']=='rita'"
check "export ?account=bob: bob's only" test "$(code -H "$R" "$U/v1/review/export?account=bob")" = 200
check "... two items, one decision" py 'assert len(o["items"])==2 and [d["decision"] for d in o["decisions"]]==["reject"] and o["account"]=="bob", o'

# ---- the store: append-only, views logged
refused() { ! sql "$1" 2>/dev/null; }
check "decisions cannot be updated" refused 'UPDATE review_decisions SET decision = 1'
check "decisions cannot be deleted" refused 'DELETE FROM review_decisions'
check "views cannot be deleted" refused 'DELETE FROM review_views'
check "3 decisions stored" test "$(sql 'SELECT count(*) FROM review_decisions')" = 3
check "views logged (every listing)" test "$(sql "SELECT count(*) FROM review_views WHERE reviewer = 'rita'")" -ge 8

# ---- a double decision: six desks decide the undecided item at once from the
# same page (supersedes 0); exactly one is stored
RACE=
for k in 1 2 3 4 5 6; do
  curl -s -o /dev/null -w '%{http_code}\n' -H "$R" -X POST \
    -d "{\"item\":$I3,\"decision\":\"reject\",\"note\":\"desk $k\",\"supersedes\":0}" $U/v1/review/decisions > "$T/race$k" &
  RACE="$RACE $!"
done
wait $RACE
check "double decisions: one 201" test "$(cat "$T"/race? | grep -c '^201$')" = 1
# (vouchd's per-token in-flight limit may answer 429 busy, and run nothing, for some)
check "... the others 409 stale_decision (or 429 busy)" test "$(cat "$T"/race? | grep -c -e '^409$' -e '^429$')" = 5
check "... at least one 409" grep -q '^409$' "$T"/race1 "$T"/race2 "$T"/race3 "$T"/race4 "$T"/race5 "$T"/race6
check "... one decision stored on the item" test "$(sql "SELECT count(*) FROM review_decisions WHERE item = $I3")" = 1

# ---- the page
curl -s -D "$T/hdr" -o "$T/page" $U/review
check "page: HTML" grep -qi '^content-type: text/html' "$T/hdr"
check "page: strict CSP" grep -qi "^content-security-policy: default-src 'none'; script-src 'self';" "$T/hdr"
check "page: nosniff, no framing" sh -c "grep -qi '^x-content-type-options: nosniff' '$T/hdr' && grep -qi '^x-frame-options: deny' '$T/hdr'"
check "page: no inline script" sh -c "! grep -q '<script>' '$T/page' && grep -q 'src=\"/review/app.js\"' '$T/page'"
check "app.js served as JavaScript" sh -c "curl -s -D - -o /dev/null $U/review/app.js | grep -qi '^content-type: text/javascript'"
check "app.css served" test "$(code $U/review/app.css)" = 200
check "no other page files" test "$(code $U/review/app.txt)" = 404
check "POST on the page: 405" test "$(code -X POST $U/review)" = 405
check "the script never uses innerHTML" sh -c "! grep -q innerHTML '$SRC/programs/httpd/review/review.js'"

# ---- revoking works at once
$D reviewer revoke --db "$DB" --name rita
check "a revoked reviewer: 401" test "$(code -H "$R" $U/v1/review/queue)" = 401
kill "$PID"; wait "$PID" 2>/dev/null; PID=
echo "vouchd_review: $pass passed, $fail failed"
[ "$fail" -eq 0 ]
