#!/bin/bash
# tests/cli/vouchd_hma_exchange.sh -- vouchd's HMA exchange routes
# (programs/httpd/routes_hma_exchange.c, docs/hma.md), driven with the
# requests and answers of HMA's own tests (test_api.py: test_exchange_api_set_auth,
# test_exchange_api_schema, test_exchange_delete, test_exchange_get_fetch_status),
# then end to end: exchanges of the four API types created over HTTP, their
# credentials set over HTTP, synced by --sync-every from the fake exchange
# (tests/cli/lib/fake_exchange.py on 127.0.0.1), their entries matched at
# /m/raw_lookup, and no credential ever in an answer, the log or the bank file.
set -u
D=${VOUCHD_BIN:?}
V=${VOUCH_BIN:?}
SRC=${VOUCH_SRC:?}
F=$SRC/tests/fixtures/exchange
command -v python3 >/dev/null || { echo "python3 not installed; skipping"; exit 77; }
. "$(dirname "$0")/lib/vouchd_harness.sh"
. "$(dirname "$0")/lib/hma_server.sh"
SPIDS=
trap 'for p in $SPIDS; do kill "$p" 2>/dev/null; done; cleanup' EXIT
CODE_MAX_TIME=10
J='Content-Type: application/json'
post() { code -H "$1" -X "${3:-POST}" -H "$J" -d "$2" "$4"; } # post AUTH JSON [METHOD] URL
# The secrets: none of them may ever show up in an answer or the log.
TE_TOKEN=te-secret-token-41 NC_PW=nc-secret-pw-42 SN_KEY=sn-secret-key-43 TAT_PW=tat-secret-pw-44
ANSWERS=$T/answers   # every body, for the final secret check
keep() { cat "$T/body" >> "$ANSWERS"; echo >> "$ANSWERS"; }

# ==== phase 1: vouchd without --sync-every, --exchange-credentials or --fetch-allow
# ---- test_exchange_api_set_auth
check "apis: no token 401" test "$(code $U/c/exchanges/apis)" = 401
check "apis: reader 200" test "$(code -H "$R" $U/c/exchanges/apis)" = 200
check "... the API types vouch syncs, by HMA's names" py 'assert sorted(o)==["fb_threatexchange","ncmec","stop_ncii","tat"], o'
check "api sample: 400 as HMA answers an unknown API" test "$(code -H "$R" $U/c/exchanges/api/sample)" = 400
check "... HMA's message" py 'assert o=={"message":"no such Exchange API '"'"'sample'"'"'"}, o'
check "api local_file: unknown here too (400)" test "$(code -H "$R" $U/c/exchanges/api/local_file)" = 400
check "api fb_threatexchange: 200" test "$(code -H "$R" $U/c/exchanges/api/fb_threatexchange)" = 200
check "... supports, not set" py 'assert o=={"supports_authentification":True,"has_set_authentification":False}, o'
check "setting credentials without --exchange-credentials: 409" \
  test "$(post "$A" "{\"credential_json\":{\"api_token\":\"$TE_TOKEN\"}}" POST $U/c/exchanges/api/fb_threatexchange)" = 409
keep
check "... HMA's error body" py 'assert set(o)=={"message"} and "--exchange-credentials" in o["message"], o'

# ---- test_exchange_api_schema
check "schema fb_threatexchange 200" test "$(code -H "$R" $U/c/exchanges/api/fb_threatexchange/schema)" = 200
check "... privacy_group a required number, api_token a string" py '
c={f["name"]:f for f in o["config_schema"]["fields"]}; k={f["name"]:f for f in o["credentials_schema"]["fields"]}
assert c["privacy_group"]["type"]=="number" and c["privacy_group"]["required"] is True, c
assert k["api_token"]["type"]=="string", k
assert all(set(f)=={"name","type","required","default","help","choices"} for f in o["config_schema"]["fields"]), o'
check "schema ncmec: environment an enum of NCMEC's URLs" sh -c "[ \$(curl -s -H '$R' $U/c/exchanges/api/ncmec/schema | python3 -c 'import json,sys; o=json.load(sys.stdin); c={f[\"name\"]:f for f in o[\"config_schema\"][\"fields\"]}; print(c[\"environment\"][\"type\"]==\"enum\" and \"https://report.cybertip.org/hashsharing\" in c[\"environment\"][\"choices\"])') = True ]"
check "schema sample: 404 as HMA" test "$(code -H "$R" $U/c/exchanges/api/sample/schema)" = 404
check "... message" py 'assert o=={"message":"Exchange API '"'"'sample'"'"' not found"}, o'

# ---- test_exchange_delete
check "delete an exchange that is not there: 200" test "$(code -H "$A" -X DELETE $U/c/exchange/TEST_EXCHANGE)" = 200
check "... Exchange deleted" py 'assert o=={"message":"Exchange deleted"}, o'
check "create with api sample: 400 (no vouch counterpart)" \
  test "$(post "$A" '{"api":"sample","bank":"FOO_EXCHANGE","api_json":{}}' POST $U/c/exchanges)" = 400
check "... HMA's unknown-type message" py 'assert o=={"message":"No such exchange type '"'"'sample'"'"'"}, o'
check "create fb_threatexchange: 201" \
  test "$(post "$A" '{"api":"fb_threatexchange","bank":"FOO_EXCHANGE","api_json":{"privacy_group":12345}}' POST $U/c/exchanges)" = 201
check "... Created successfully" py 'assert o=={"message":"Created successfully"}, o'
check "reader cannot create (403)" test "$(post "$R" '{"api":"tat","bank":"BAR","api_json":{}}' POST $U/c/exchanges)" = 403
check "list exchanges" test "$(code -H "$R" $U/c/exchanges)" = 200
check "... the names" py 'assert o==["FOO_EXCHANGE"], o'
check "its bank was made with it (HMA)" test "$(code -H "$R" $U/c/bank/FOO_EXCHANGE)" = 200
check "the vouch CLI sees it" sh -c "$V exchange list --db '$DB' | grep -q FOO_EXCHANGE"
check "get the exchange" test "$(code -H "$R" $U/c/exchange/FOO_EXCHANGE)" = 200
check "... HMA's config fields, the Graph API URL of the privacy group" py '
assert o["name"]=="FOO_EXCHANGE" and o["api"]=="fb_threatexchange" and o["enabled"] is True and o["privacy_group"]==12345, o
assert o["url"]=="https://graph.facebook.com/v21.0/12345" and o["bank"]=="FOO_EXCHANGE", o'
check "duplicate: 403" test "$(post "$A" '{"api":"fb_threatexchange","bank":"FOO_EXCHANGE","api_json":{"privacy_group":1}}' POST $U/c/exchanges)" = 403
check "PUT enabled true: 200 and the config" test "$(post "$A" '{"enabled":true}' PUT $U/c/exchange/FOO_EXCHANGE)" = 200
check "... config" py 'assert o["name"]=="FOO_EXCHANGE" and o["enabled"] is True, o'
check "PUT enabled false: 200 and the config" test "$(post "$A" '{"enabled":false}' PUT $U/c/exchange/FOO_EXCHANGE)" = 200
check "... shows it disabled" py 'assert o["name"]=="FOO_EXCHANGE" and o["enabled"] is False, o'
check "GET shows it disabled (stored)" test "$(code -H "$R" $U/c/exchange/FOO_EXCHANGE)" = 200
check "... enabled false" py 'assert o["enabled"] is False, o'
check "the vouch CLI sees it disabled" sh -c "$V exchange list --db '$DB' --json | grep FOO_EXCHANGE | grep -q '\"enabled\":false'"
check "... and does not sync it, also by name" sh -c "$V exchange sync --db '$DB' FOO_EXCHANGE 2>&1 | grep -q 'FOO_EXCHANGE is disabled'"
check "PUT {} changes nothing: 200" test "$(post "$A" '{}' PUT $U/c/exchange/FOO_EXCHANGE)" = 200
check "... still disabled" py 'assert o["enabled"] is False, o'
check "PUT enabled true again: 200" test "$(post "$A" '{"enabled":true}' PUT $U/c/exchange/FOO_EXCHANGE)" = 200
check "... enabled" py 'assert o["enabled"] is True, o'
check "PUT enabled not a bool: 400" test "$(post "$A" '{"enabled":"maybe"}' PUT $U/c/exchange/FOO_EXCHANGE)" = 400
check "PUT by a reader: 403" test "$(post "$R" '{"enabled":true}' PUT $U/c/exchange/FOO_EXCHANGE)" = 403
check "PUT unknown exchange: 404" test "$(post "$A" '{"enabled":true}' PUT $U/c/exchange/NOPE)" = 404
check "real delete" test "$(code -H "$A" -X DELETE $U/c/exchange/FOO_EXCHANGE)" = 200
check "... Exchange deleted" py 'assert o["message"]=="Exchange deleted", o'
check "... gone" test "$(code -H "$R" $U/c/exchange/FOO_EXCHANGE)" = 404
check "... HMA's message" py 'assert o=={"message":"Exchange '"'"'FOO_EXCHANGE'"'"' not found"}, o'
check "... and its bank with it" test "$(code -H "$R" $U/c/bank/FOO_EXCHANGE)" = 404

# ---- test_exchange_get_fetch_status
check "status of an unknown exchange: 404" test "$(code -H "$R" $U/c/exchange/NONEXISTENT_EXCHANGE/status)" = 404
check "create ncmec" test "$(post "$A" '{"api":"ncmec","bank":"BAR_EXCHANGE","api_json":{"environment":"https://report.cybertip.org/hashsharing"}}' POST $U/c/exchanges)" = 201
check "status 200" test "$(code -H "$R" $U/c/exchange/BAR_EXCHANGE/status)" = 200
check "... FetchStatus fields, nothing fetched (no --sync-every)" py '
assert set(o)=={"checkpoint_ts","running_fetch_start_ts","last_fetch_complete_ts","last_fetch_succeeded","up_to_date","fetched_items"}, o
assert o["fetched_items"]==0 and o["up_to_date"] is False and o["last_fetch_succeeded"] is None and o["checkpoint_ts"] is None, o'
check "ncmec config: environment, no ESP filter" sh -c "curl -s -H '$R' $U/c/exchange/BAR_EXCHANGE | grep -q '\"environment\": *\"https://report.cybertip.org/hashsharing\"'"
check "delete it" test "$(code -H "$A" -X DELETE $U/c/exchange/BAR_EXCHANGE)" = 200

# ---- what POST /c/exchanges refuses, with HMA's messages
check "no bank: 400" test "$(post "$A" '{"api":"tat"}' POST $U/c/exchanges)" = 400
check "... bank is required" py 'assert o=={"message":"bank is required"}, o'
check "lower-case bank: 400" test "$(post "$A" '{"api":"tat","bank":"lower"}' POST $U/c/exchanges)" = 400
check "... HMA's rule" py 'assert o=={"message":"Field `bank` must match /^[A-Z0-9_]+$/"}, o'
check "api_json not an object: 400" test "$(post "$A" '{"api":"tat","bank":"X1","api_json":[]}' POST $U/c/exchanges)" = 400
check "no api: 400" test "$(post "$A" '{"bank":"X1"}' POST $U/c/exchanges)" = 400
check "... HMA's message" py 'assert o=={"message":"Field `api_type` is required"}, o'
check "fb_threatexchange without privacy_group: 400" test "$(post "$A" '{"api":"fb_threatexchange","bank":"X1","api_json":{}}' POST $U/c/exchanges)" = 400
check "... names the field" py 'assert o["message"].startswith("Failed to parse `api_json` - missing value for field \"privacy_group\""), o'
check "privacy_group a string: 400" test "$(post "$A" '{"api":"fb_threatexchange","bank":"X1","api_json":{"privacy_group":"12"}}' POST $U/c/exchanges)" = 400
check "ncmec with an unknown environment: 400" test "$(post "$A" '{"api":"ncmec","bank":"X1","api_json":{"environment":"https://evil.example/"}}' POST $U/c/exchanges)" = 400
check "ncmec with only_esp_ids: 501 (not supported)" test "$(post "$A" '{"api":"ncmec","bank":"X1","api_json":{"environment":"https://hashsharing.ncmec.org/npo","only_esp_ids":[5]}}' POST $U/c/exchanges)" = 501
check "create with api_json enabled false: 201" test "$(post "$A" '{"api":"tat","bank":"X1","api_json":{"enabled":false}}' POST $U/c/exchanges)" = 201
check "... made disabled" test "$(code -H "$R" $U/c/exchange/X1)" = 200
check "... enabled false" py 'assert o["enabled"] is False and o["api"]=="tat", o'
check "enabled not a bool in api_json: 400" test "$(post "$A" '{"api":"tat","bank":"X3","api_json":{"enabled":"no"}}' POST $U/c/exchanges)" = 400
check "... deleted again" test "$(code -H "$A" -X DELETE $U/c/exchange/X1)" = 200
check "a url without --fetch-allow: 400" test "$(post "$A" '{"api":"tat","bank":"X1","api_json":{"url":"http://127.0.0.1:9/x"}}' POST $U/c/exchanges)" = 400
check "... says why" py 'assert "--fetch-allow" in o["message"], o'
check "nothing was left behind by the refusals" test "$(code -H "$R" $U/c/exchanges)$(cat $T/body)" = "200[]"
check "... no bank X1 either" test "$(code -H "$R" $U/c/bank/X1)" = 404
check "an exchange of the vouch CLI (other name rules) is listed and shown" sh -c "
  $V bank create --db '$DB' clibank >/dev/null 2>&1 && mkdir -p '$T/drop' &&
  $V exchange add --db '$DB' cli-files --type file --url '$T/drop' --bank clibank >/dev/null 2>&1 &&
  curl -s -H '$R' $U/c/exchange/cli-files | python3 -c 'import json,sys; o=json.load(sys.stdin); assert o[\"api\"]==\"local_file\" and o[\"bank\"]==\"clibank\" and o[\"filename\"]==\"$T/drop\", o'"
check "... removed by DELETE, its bank (another name) kept" sh -c "
  [ \$(curl -s -o /dev/null -w '%{http_code}' -H '$A' -X DELETE $U/c/exchange/cli-files) = 200 ] &&
  [ \$(curl -s -o /dev/null -w '%{http_code}' -H '$R' $U/c/exchange/cli-files) = 404 ] &&
  $V bank list --db '$DB' | grep -q clibank"

# ==== phase 2: --sync-every 1, credentials over HTTP, the fake exchanges on 127.0.0.1
kill "$PID"; wait "$PID" 2>/dev/null
mkdir -m 700 "$T/creds"
serve() { # serve TYPE PORTVAR fake_exchange args...: starts a fake exchange, its port in $PORTVAR
  local type=$1 var=$2; shift 2
  python3 "$SRC/tests/cli/lib/fake_exchange.py" --type "$type" --port-file "$T/$type.port" --log "$T/$type.log" \
    --lifetime 120 "$@" &
  SPIDS="$SPIDS $!"
  for i in $(seq 1 100); do [ -s "$T/$type.port" ] && break; sleep 0.05; done
  printf -v "$var" %s "$(cat "$T/$type.port")"
}
serve te TEP --pages "$F/te_updates_page1.json" "$F/te_updates_page2.json" --header "Authorization: Bearer $TE_TOKEN"
serve ncmec NCP --pages "$F/ncmec_page1.xml" "$F/ncmec_page2.xml" --basic "member7:$NC_PW"
serve stopncii SNP --pages "$F/stopncii_page1.json" "$F/stopncii_page2.json" \
  --header "Ocp-Apim-Subscription-Key: sub-$SN_KEY" --header "x-functions-key: $SN_KEY"
serve tat TAP --pages "$F/tat_page1.json" "$F/tat_page2.json" --login "analyst:$TAT_PW:tat-bearer-7" \
  --header "Authorization: Bearer tat-bearer-7"
rm -f "$T/port"
$D --db "$DB" --index "$T/idx.vidx" --listen 127.0.0.1:0 --port-file "$T/port" --threads 2 --sync-every 1 \
   --exchange-credentials "$T/creds" --fetch-allow 127.0.0.1 2>> "$T/log" &
PID=$!
for i in $(seq 1 200); do [ -s "$T/port" ] && break; sleep 0.05; done
U=http://127.0.0.1:$(cat "$T/port")
wait_status() { # wait_status SECONDS NAME PYTHON-CONDITION on its FetchStatus o
  local end=$((SECONDS + $1))
  while [ $SECONDS -le $end ]; do
    code -H "$R" "$U/c/exchange/$2/status" >/dev/null
    py "assert $3" 2>/dev/null && return 0
    sleep 0.2
  done
  echo "timed out waiting for $3 in: $(cat "$T/body")" >&2
  return 1
}

# ---- an exchange without its credentials fails, and says so in its status
check "create TE_X (url on a --fetch-allow host)" \
  test "$(post "$A" "{\"api\":\"fb_threatexchange\",\"bank\":\"TE_X\",\"api_json\":{\"privacy_group\":1234,\"url\":\"http://127.0.0.1:$TEP/v21.0/1234\"}}" POST $U/c/exchanges)" = 201
check "... synced at once, and fails without credentials" wait_status 15 TE_X 'o["last_fetch_succeeded"] is False'
check "... not up to date, nothing fetched" py 'assert o["up_to_date"] is False and o["fetched_items"]==0, o'
check "a url with a user and password: 400 (secrets go in the credentials)" \
  test "$(post "$A" "{\"api\":\"tat\",\"bank\":\"X2\",\"api_json\":{\"url\":\"http://u:p@127.0.0.1:$TAP/api\"}}" POST $U/c/exchanges)" = 400
check "a url on a host not allowed: 400" \
  test "$(post "$A" '{"api":"tat","bank":"X2","api_json":{"url":"http://localhost:1/api"}}' POST $U/c/exchanges)" = 400

# ---- credentials over HTTP: set, stored 0600, never answered
check "set fb_threatexchange credentials" \
  test "$(post "$A" "{\"credential_json\":{\"api_token\":\"$TE_TOKEN\"}}" POST $U/c/exchanges/api/fb_threatexchange)" = 200
keep
check "... supports and set (HMA's answer)" py 'assert o=={"supports_authentification":True,"has_set_authentification":True}, o'
check "... a 0600 file of vouch's credential keys" sh -c "[ \$(stat -c %a '$T/creds/fb_threatexchange.cred') = 600 ] && grep -qx 'token=$TE_TOKEN' '$T/creds/fb_threatexchange.cred'"
check "GET says set" test "$(code -H "$R" $U/c/exchanges/api/fb_threatexchange)" = 200
check "... true" py 'assert o["has_set_authentification"] is True, o'
check "a reader cannot set them (403)" test "$(post "$R" '{"credential_json":{"api_token":"x"}}' POST $U/c/exchanges/api/fb_threatexchange)" = 403
check "a value with a newline is refused (no key injection)" \
  test "$(post "$A" '{"credential_json":{"api_token":"abc\nheader=X-Evil: 1"}}' POST $U/c/exchanges/api/fb_threatexchange)" = 400
check "a missing field is refused" test "$(post "$A" '{"credential_json":{"token":"x"}}' POST $U/c/exchanges/api/fb_threatexchange)" = 400
check "... naming the field" py 'assert "api_token" in o["message"], o'
check "a value of the wrong type is refused" test "$(post "$A" '{"credential_json":{"api_token":5}}' POST $U/c/exchanges/api/fb_threatexchange)" = 400
check "not an object: 400" test "$(post "$A" '[1]' POST $U/c/exchanges/api/fb_threatexchange)" = 400
check "... the refusals left the stored ones" sh -c "grep -qx 'token=$TE_TOKEN' '$T/creds/fb_threatexchange.cred'"
check "TE_X syncs with them: succeeded, up to date" wait_status 20 TE_X 'o["last_fetch_succeeded"] is True and o["up_to_date"] is True'
check "... HMA's FetchStatus: the checkpoint (latest last_updated), 2 items, times" py '
assert o["checkpoint_ts"]==1764300001 and o["fetched_items"]==2, o
assert isinstance(o["last_fetch_complete_ts"],int) and o["running_fetch_start_ts"] is None, o'
check "... the token went as a bearer header (the fake exchange checks it)" grep -q "^/v21.0/1234/threat_updates/" "$T/te.log"
check "... its entry matches (index rebuilt by the sync)" sh -c "
  for i in \$(seq 1 50); do curl -s -H '$M' '$U/m/raw_lookup?signal_type=pdq&signal=9ec95ee991269d3e2ee05d82245d9e36f2d40c91b868a1086269e4a899df1741' > '$T/rl';
    grep -q '\"matches\": *\[[0-9]' '$T/rl' && exit 0; sleep 0.2; done; cat '$T/rl' >&2; exit 1"
check "unset them ({})" test "$(post "$A" '{"credential_json":{}}' POST $U/c/exchanges/api/fb_threatexchange)" = 200
check "... not set" py 'assert o=={"supports_authentification":True,"has_set_authentification":False}, o'
check "... no file" test ! -e "$T/creds/fb_threatexchange.cred"
check "set them again" test "$(post "$A" "{\"credential_json\":{\"api_token\":\"$TE_TOKEN\"}}" POST $U/c/exchanges/api/fb_threatexchange)" = 200

# ---- the other three types, each with its kind of credentials
check "ncmec credentials (basic auth)" \
  test "$(post "$A" "{\"credential_json\":{\"user\":\"member7\",\"password\":\"$NC_PW\"}}" POST $U/c/exchanges/api/ncmec)" = 200
check "stop_ncii credentials (two key headers)" \
  test "$(post "$A" "{\"credential_json\":{\"fetch_function_key\":\"$SN_KEY\",\"subscription_key\":\"sub-$SN_KEY\"}}" POST $U/c/exchanges/api/stop_ncii)" = 200
check "stop_ncii base_url_override refused (400)" \
  test "$(post "$A" '{"credential_json":{"fetch_function_key":"a","subscription_key":"b","base_url_override":"http://x/"}}' POST $U/c/exchanges/api/stop_ncii)" = 400
check "tat credentials (a login)" \
  test "$(post "$A" "{\"credential_json\":{\"username\":\"analyst\",\"password\":\"$TAT_PW\"}}" POST $U/c/exchanges/api/tat)" = 200
check "create NC_X" test "$(post "$A" "{\"api\":\"ncmec\",\"bank\":\"NC_X\",\"api_json\":{\"environment\":\"https://report.cybertip.org/hashsharing\",\"url\":\"http://127.0.0.1:$NCP\"}}" POST $U/c/exchanges)" = 201
check "create SN_X" test "$(post "$A" "{\"api\":\"stop_ncii\",\"bank\":\"SN_X\",\"api_json\":{\"url\":\"http://127.0.0.1:$SNP/v1\"}}" POST $U/c/exchanges)" = 201
check "create TAT_X" test "$(post "$A" "{\"api\":\"tat\",\"bank\":\"TAT_X\",\"api_json\":{\"url\":\"http://127.0.0.1:$TAP/api/hash-list\"}}" POST $U/c/exchanges)" = 201
# NCMEC: the checkpoint is the largest maxTimestamp, 2026-11-03T08:00:00Z
check "NC_X synced" wait_status 20 NC_X 'o["last_fetch_succeeded"] is True and o["fetched_items"]>0 and o["checkpoint_ts"]==1793692800'
check "SN_X synced" wait_status 20 SN_X 'o["last_fetch_succeeded"] is True and o["fetched_items"]>0 and o["checkpoint_ts"]==1764950000'
check "TAT_X synced" wait_status 20 TAT_X 'o["last_fetch_succeeded"] is True and o["fetched_items"]>0 and o["checkpoint_ts"]==1764100000'
check "... TAT logged in with the stored login" grep -q "^POST /token-auth/tcap/ password,.*username" "$T/tat.log"
check "list: all four" test "$(code -H "$R" $U/c/exchanges)" = 200
check "... names" py 'assert o==["NC_X","SN_X","TAT_X","TE_X"], o'

# ---- a disabled exchange is not synced by --sync-every until it is enabled
check "create TAT_OFF disabled" test "$(post "$A" "{\"api\":\"tat\",\"bank\":\"TAT_OFF\",\"api_json\":{\"enabled\":false,\"url\":\"http://127.0.0.1:$TAP/api/hash-list\"}}" POST $U/c/exchanges)" = 201
sleep 3 # three rounds of --sync-every 1
check "... never synced: no fetch in its status" test "$(code -H "$R" $U/c/exchange/TAT_OFF/status)" = 200
check "... (nulls, nothing fetched)" py 'assert o["last_fetch_complete_ts"] is None and o["last_fetch_succeeded"] is None and o["fetched_items"]==0 and o["checkpoint_ts"] is None, o'
check "... GET /v1/exchanges shows it disabled" sh -c "curl -s -H '$A' $U/v1/exchanges | python3 -c 'import json,sys; o=json.load(sys.stdin); x=[e for e in o[\"exchanges\"] if e[\"name\"]==\"TAT_OFF\"]; assert x and x[0][\"enabled\"] is False and x[0][\"runs\"]==0, o'"
check "enable it over HTTP" test "$(post "$A" '{"enabled":true}' PUT $U/c/exchange/TAT_OFF)" = 200
check "... then it syncs" wait_status 20 TAT_OFF 'o["last_fetch_succeeded"] is True and o["fetched_items"]>0'
check "disable TE_X: its syncs stop" test "$(post "$A" '{"enabled":false}' PUT $U/c/exchange/TE_X)" = 200
te_runs() { curl -s -H "$A" "$U/v1/exchanges" | python3 -c 'import json,sys; print([e["runs"] for e in json.load(sys.stdin)["exchanges"] if e["name"]=="TE_X"][0])'; }
sleep 1.5; r1=$(te_runs); sleep 3; r2=$(te_runs)
check "... no run in 3 s of --sync-every 1 ($r1 then $r2)" test -n "$r1" -a "$r1" = "$r2"
check "POST /v1/exchanges/TE_X/sync of a disabled one: 409" test "$(code -H "$A" -X POST $U/v1/exchanges/TE_X/sync)" = 409
check "... says disabled" grep -q '"disabled"' "$T/body"
check "POST /v1/exchanges/sync leaves it out" test "$(code -H "$A" -X POST $U/v1/exchanges/sync)" = 202
check "... queued the others only" py 'assert "TE_X" not in o["queued"] and "NC_X" in o["queued"], o'
for x in TE_X NC_X SN_X TAT_X; do code -H "$R" "$U/c/exchange/$x" >/dev/null; keep; code -H "$R" "$U/c/exchange/$x/status" >/dev/null; keep; done
code -H "$R" "$U/v1/exchanges" >/dev/null; keep
check "no secret in any answer" sh -c "! grep -E '$TE_TOKEN|$NC_PW|$SN_KEY|$TAT_PW' '$ANSWERS'"
check "no secret in vouchd's log" sh -c "! grep -E '$TE_TOKEN|$NC_PW|$SN_KEY|$TAT_PW' '$T/log'"
check "no secret in the bank file" sh -c "! grep -aE '$TE_TOKEN|$NC_PW|$SN_KEY|$TAT_PW' '$DB' '$DB-wal' 2>/dev/null"
check "the config names the credentials file, not its contents" sh -c "$V exchange list --db '$DB' | grep -q 'creds/ncmec.cred'"
[ -n "${KEEP_LOG:-}" ] && cp "$T"/*.log "$T/log" /tmp/ 2>/dev/null
check "no sanitizer report" sh -c "! grep -q 'ERROR: AddressSanitizer\|runtime error:\|WARNING: ThreadSanitizer' '$T/log'"

echo "vouchd_hma_exchange: $pass passed, $fail failed"
[ "$fail" = 0 ]
