#!/bin/bash
# tests/cli/exchange_sync.sh -- vouch bank sync against a fake exchange on
# 127.0.0.1 (tests/cli/lib/fake_exchange.py serving tests/fixtures/exchange):
# paging, checkpoints stored and used by the next sync, deletions, retries of
# a 503, an interrupted sync that resumes at the failed page, a malformed
# page, a stall, a next page on another host, credentials from a 0600 file.
set -u
V=${VOUCH_BIN:?VOUCH_BIN not set}
SRC=${VOUCH_SRC:?VOUCH_SRC not set}
F=$SRC/tests/fixtures/exchange
command -v python3 >/dev/null || { echo "python3 not installed; skipping"; exit 77; }
T=$(mktemp -d /tmp/vouch-cli-sync.XXXXXX)
SPID=
trap '[ -n "$SPID" ] && kill "$SPID" 2>/dev/null; rm -rf "$T"' EXIT
fails=0 passes=0
ok() { echo "ok: $1"; passes=$((passes+1)); }
bad() { echo "FAIL: $1"; fails=$((fails+1)); }
has() { if grep -Eq -- "$2" "${3:-$T/err}"; then ok "$1"; else bad "$1: /$2/ not in:"; cat "${3:-$T/err}"; fi; }
serve() { # serve TYPE SCENARIO [fake_exchange args...]: (re)starts the fake exchange, sets $URL
  [ -n "$SPID" ] && kill "$SPID" 2>/dev/null && wait "$SPID" 2>/dev/null
  local type=$1 scen=$2; shift 2
  rm -f "$T/port"
  python3 "$SRC/tests/cli/lib/fake_exchange.py" --type "$type" --scenario "$scen" --port-file "$T/port" \
    --log "$T/requests" --lifetime 60 "$@" &
  SPID=$!
  for i in $(seq 1 100); do [ -s "$T/port" ] && break; sleep 0.05; done
  URL=http://127.0.0.1:$(cat "$T/port")
  : > "$T/requests"
}
sync_() { # sync_ WANT_STATUS DESC BANK ARGS...
  local want=$1 desc=$2 bank=$3; shift 3
  $V bank sync --db "$T/b.sqlite" "$bank" --retry-delay 10 --timeout 10000 "$@" 2>"$T/err"
  local st=$?
  [ "$st" = "$want" ] && ok "$desc (status $st)" || { bad "$desc: status $st, want $want"; cat "$T/err"; }
}
P4=9e1b43fd91b9b6a205da31934fa1f5f5e5aefe755353f361c5f6ffa81b8e8d8d
P6=044d2cc96a1895051936bcaecd954f4612de1bfbbbc4ba50ddb860ca6378c977
for b in sn tat nc stall far; do $V bank create --db "$T/b.sqlite" $b 2>/dev/null; done

# ---- StopNCII: two keys from a 0600 file; page 2 answers 503 once
printf 'subscription_key=sub-secret-1\nfetch_function_key=fn-secret-2\n' > "$T/sn.cred"
chmod 644 "$T/sn.cred"
serve stopncii fail-once:2 --pages "$F/stopncii_page1.json" "$F/stopncii_page2.json" \
  --header "Ocp-Apim-Subscription-Key: sub-secret-1" --header "x-functions-key: fn-secret-2"
sync_ 2 "a credentials file others can read is refused" sn --type stopncii --url "$URL/v1" --credentials "$T/sn.cred"
has "says why" "readable by other users"
[ ! -s "$T/requests" ] && ok "nothing was sent" || bad "requests sent with a refused credentials file"
chmod 600 "$T/sn.cred"
sync_ 2 "no credentials: the exchange's 401 is an error" sn --type stopncii --url "$URL/v1"
has "names the page and the status" "page 1 \(http://127.0.0.1:[0-9]+/v1/FetchHashes\?pageSize=800&startTimestamp=0\): HTTP 401 \(1 try\)"
sync_ 0 "stopncii sync" sn --type stopncii --url "$URL/v1" --credentials "$T/sn.cred"
has "2 pages, 3 requests (the 503 retried), counts" "2 pages \(3 requests\): 3 added, 0 already in bank 'sn', 1 bad records, 1 of another signal type skipped, 0 below the quality floor, 1 deleted by the exchange \(1 entries disabled\)"
has "the bad record is named with its page" "record 3 of page 2: hashRecords\[2\]: unknown hashStatus"
grep -q "nextPageToken=cGFnZS0y" "$T/requests" && ok "page 2 asked for with page 1's token" || bad "no token: $(cat "$T/requests")"
grep -q "secret" "$T/err" && bad "a secret was printed" || ok "no secret in the output"
$V bank export --db "$T/b.sqlite" sn --format csv | grep -q "^$P4,,,,0," && ok "withdrawn hash disabled" || bad "P4 not disabled"
$V bank checkpoint --db "$T/b.sqlite" sn --source stopncii > "$T/cp"
has "checkpoint of the last page stored, no next page" "^checkpoint	1764950000$" "$T/cp"
has "no next page stored" "^next	$" "$T/cp"
sync_ 0 "the next sync starts at the checkpoint" sn --type stopncii --url "$URL/v1" --credentials "$T/sn.cred"
has "one empty page" "1 page \(1 request\): 0 added"
has "asked from the checkpoint" "startTimestamp=1764950000" "$T/requests"

# ---- TAT: page 2 fails until the server is fixed; the next sync resumes at page 2
printf 'token=tat-token-3\n' > "$T/tat.cred"; chmod 600 "$T/tat.cred"
serve tat fail-always:2 --pages "$F/tat_page1.json" "$F/tat_page2.json" --header "Authorization: Bearer tat-token-3"
sync_ 2 "tat: page 2 keeps failing" tat --type tat --url "$URL/api/hash-list" --credentials "$T/tat.cred" --retries 2
has "the error names page 2 and the tries" "page 2 \(http://127.0.0.1:[0-9]+/api/hash-list\?after=1764000000.5,31\): HTTP 500 \(3 tries\)"
has "page 1 was committed" "1 page \(4 requests\): 2 added"
$V bank checkpoint --db "$T/b.sqlite" tat --source tat > "$T/cp"
has "page 1's next page stored" "^next	http://127.0.0.1:[0-9]+/api/hash-list\?after=1764000000.5,31$" "$T/cp"
serve tat "" --port "$(cat "$T/port")" --pages "$F/tat_page1.json" "$F/tat_page2.json" \
  --header "Authorization: Bearer tat-token-3"
sync_ 0 "tat: the interrupted sync resumes" tat --type tat --url "$URL/api/hash-list" --credentials "$T/tat.cred"
has "resumes at page 2, not page 1" "^/api/hash-list\?after=1764000000.5,31$" "$T/requests"
[ "$(wc -l < "$T/requests")" = 1 ] && ok "one request" || bad "requests: $(cat "$T/requests")"
has "page 2 deletes" "1 page \(1 request\): 0 added, .*1 deleted by the exchange \(1 entries disabled\)"
$V bank export --db "$T/b.sqlite" tat --format csv | grep -q "^$P6,28,tat," && bad "P6 still sourced" || ok "deleted TAT entry lost its source"

# ---- TAT: a login (user=, password=) exchanged for the bearer token
$V bank create --db "$T/b.sqlite" tatl 2>/dev/null
printf 'user=analyst@example.org\npassword=pw&secret=5\n' > "$T/tatl.cred"; chmod 600 "$T/tatl.cred"
serve tat "" --pages "$F/tat_page1.json" "$F/tat_page2.json" --header "Authorization: Bearer jwt-token-6" \
  --login "analyst@example.org:pw&secret=5:jwt-token-6"
sync_ 0 "tat: login, then both pages with the token" tatl --type tat --url "$URL/api/hash-list" --credentials "$T/tatl.cred"
has "tat login: 2 pages (3 requests: the login and 2 pages)" "2 pages \(3 requests\): 2 added"
has "the login was a POST of username, password, resend" "^POST /token-auth/tcap/ password,resend,username$" "$T/requests"
grep -Eq "secret|jwt-token" "$T/err" && bad "a secret or the token was printed" || ok "no secret or token in the output"
printf 'user=analyst@example.org\npassword=wrong\n' > "$T/tatl.cred"
sync_ 2 "tat: a refused login" tatl --type tat --url "$URL/api/hash-list" --credentials "$T/tatl.cred" --retries 0
has "names the login and the status" "the login \(http://127.0.0.1:[0-9]+/token-auth/tcap/\): HTTP 401 \(1 try\)"
[ "$(grep -c '^/api' "$T/requests")" = 2 ] && ok "no page asked for after a refused login" || bad "pages fetched: $(cat "$T/requests")"

# ---- NCMEC: basic authentication; page 2 malformed, then fixed
printf 'user=member7\npassword=pw-secret-4\n' > "$T/nc.cred"; chmod 600 "$T/nc.cred"
serve ncmec malformed:2 --pages "$F/ncmec_page1.xml" "$F/ncmec_page2.xml" --basic member7:pw-secret-4
sync_ 2 "ncmec: a malformed page 2 stops the sync" nc --type ncmec --url "$URL" --credentials "$T/nc.cred"
has "names the page" "page 2 \(http://127.0.0.1:[0-9]+/v2/entries\?from=2026-11-01T00%3A00%3A00.000Z&to=2026-11-03T00%3A00%3A00.000Z&start=5&size=4&max=8\): malformed page: not a well-formed XML page"
has "page 1 committed" "1 page \(2 requests\): 2 added"
serve ncmec "" --pages "$F/ncmec_page1.xml" "$F/ncmec_page2.xml" --basic member7:pw-secret-4
sync_ 0 "ncmec: the sync resumes at page 2" nc --type ncmec --url "$URL" --credentials "$T/nc.cred"
has "page 2: 1 added, 2 deletions, 1 disabled" "1 page \(1 request\): 1 added, .*2 deleted by the exchange \(1 entries disabled\)"
has "asked for page 2 only" "^/v2/entries\?from=.*start=5" "$T/requests"
sync_ 0 "ncmec: the next sync asks from the checkpoint" nc --type ncmec --url "$URL" --credentials "$T/nc.cred"
has "from the stored maxTimestamp" "^/v2/entries\?from=2026-11-03T08%3A00%3A00Z$" "$T/requests"

: > "$T/requests"
sync_ 2 "a bank that does not exist" nobank --type ncmec --url "$URL" --credentials "$T/nc.cred"
has "says so" "no bank named 'nobank'"
[ ! -s "$T/requests" ] && ok "before any request" || bad "requests for a missing bank: $(cat "$T/requests")"

# ---- ThreatExchange /threat_updates: a bearer token; the next links' access_token is never stored
$V bank create --db "$T/b.sqlite" te 2>/dev/null
printf 'token=123|te-secret-9\n' > "$T/te.cred"; chmod 600 "$T/te.cred"
serve te "" --pages "$F/te_updates_page1.json" "$F/te_updates_page2.json" --header "Authorization: Bearer 123|te-secret-9"
sync_ 0 "te sync" te --type te --url "$URL/v21.0/1234" --credentials "$T/te.cred"
has "te: 2 pages, counts" "2 pages \(2 requests\): 3 added, 0 already in bank 'te', 1 bad records, 1 of another signal type skipped, 0 below the quality floor, 2 deleted by the exchange \(1 entries disabled\)"
has "te: the first request asks from 0 with the fields" "^/v21.0/1234/threat_updates/\?limit=500&start_time=0&fields=id%2Cindicator%2Ctype%2Clast_updated%2Cshould_delete%2Cdescriptors%7Bid%2Ctags%2Cstatus%2Cadded_on%7D$" "$T/requests"
has "te: page 2 from page 1's cursor, without the access token" "^/v21.0/1234/threat_updates/\?limit=500&after=QVFIUa$" "$T/requests"
$V bank export --db "$T/b.sqlite" te --format csv > "$T/te.csv"
has "te: tags from the descriptors, the indicator id as id" "^9ec95ee991269d3e2ee05d82245d9e36f2d40c91b868a1086269e4a899df1741,1003,te,terror,1," "$T/te.csv"
has "te: should_delete disabled the entry" "^136cb94838da83a906263ec23d03dce95d736c644f3e0ef3ffbd50720ece384f,1001,,\"media_type_photo,nsfw\",0," "$T/te.csv"
$V bank checkpoint --db "$T/b.sqlite" te --source te > "$T/cp"
has "te: checkpoint is the latest last_updated" "^checkpoint	1764300001$" "$T/cp"
if command -v sqlite3 >/dev/null; then
  sqlite3 "$T/b.sqlite" .dump | grep -q "te-secret" && bad "the te token is in the bank file" || ok "no te token in the bank file"
fi
sync_ 0 "te: the next sync starts at the checkpoint" te --type te --url "$URL/v21.0/1234" --credentials "$T/te.cred"
has "te: from start_time=checkpoint" "start_time=1764300001&" "$T/requests"

# ---- the file exchange: a directory whose changed files are imported, oldest first, once
$V bank create --db "$T/b.sqlite" drop 2>/dev/null
mkdir "$T/drop"
cp "$F/tat_page1.json" "$T/drop/a.json"; touch -d '2026-12-01 00:00:01' "$T/drop/a.json"
cp "$F/tx_hash.txt" "$T/drop/.part"   # a file being written: skipped
sync_ 0 "file: a directory" drop --type file --url "$T/drop"
has "file: a.json imported, the hidden file skipped" "1 page \(1 request\): 2 added"
$V bank checkpoint --db "$T/b.sqlite" drop --source file > "$T/cp"
has "file: the position is the checkpoint" "^checkpoint	1796083201000000000 a.json$" "$T/cp"
cp "$F/tat_page2.json" "$T/drop/b.json"; touch -d '2026-12-01 00:00:02' "$T/drop/b.json"
printf 'not a list\x00\n' > "$T/drop/c.bin"; touch -d '2026-12-01 00:00:03' "$T/drop/c.bin"
sync_ 2 "file: a file that is not a list stops the sync" drop --type file --url "file://$T/drop"
has "file: b.json imported first" "1 page \(2 requests\): 0 added, .*1 deleted by the exchange \(1 entries disabled\)"
has "file: then c.bin, which yields nothing, is named" "drop/c.bin: nothing imported: 0 rows of another signal type than the bank's, 0 below the quality floor, 1 bad lines"
$V bank checkpoint --db "$T/b.sqlite" drop --source file > "$T/cp"
has "file: the checkpoint stays before c.bin" "^checkpoint	1796083202000000000 b.json$" "$T/cp"
rm "$T/drop/c.bin"
sync_ 0 "file: nothing new" drop --type file --url "$T/drop"
has "file: no file read" "0 pages \(0 requests\)"
touch -d '2026-12-01 00:00:05' "$T/drop/a.json"
sync_ 0 "file: a changed file is imported again" drop --type file --url "$T/drop"
has "file: a.json again: its entries merge, the deleted one is listed again" "1 page \(1 request\): 0 added, 2 already in bank 'drop', .*1 re-enabled"
sync_ 0 "file: a single file" drop --type file --url "$F/tx_hash.txt" --source tx-file
has "file: the file's rows" "1 page \(1 request\): 2 added, 0 already in bank 'drop', 0 bad records, 1 of another signal type"

# ---- paging that stalls, a next page on another host
serve stopncii stall:1 --pages "$F/stopncii_page1.json" "$F/stopncii_page2.json"
sync_ 2 "a page whose next page is itself" stall --type stopncii --url "$URL/v1"
has "paging stalls named" "paging stalls: page 2 \(.*\) names itself as its next page"
serve tat foreign-next:1 --pages "$F/tat_page1.json" "$F/tat_page2.json"
sync_ 2 "a next page on another host is not followed" far --type tat --url "$URL/api/hash-list"
has "says so" "page 1 names a next page on another host \(http://127.0.0.2:"
grep -q "127.0.0.2" "$T/requests" && bad "followed" || ok "nothing asked of the other host"

# ---- an exchange configured in the bank file, synced by name
$V bank create --db "$T/b.sqlite" cfg 2>/dev/null
serve stopncii "" --pages "$F/stopncii_page1.json" "$F/stopncii_page2.json" \
  --header "Ocp-Apim-Subscription-Key: sub-secret-1" --header "x-functions-key: fn-secret-2"
chmod 640 "$T/sn.cred"
$V exchange add --db "$T/b.sqlite" ncii --type stopncii --url "$URL/v1" --bank cfg --credentials "$T/sn.cred" 2>"$T/err"
[ $? = 2 ] && ok "exchange add refuses a credentials file others can read" || bad "exchange add took a 0640 file"
chmod 600 "$T/sn.cred"
$V exchange add --db "$T/b.sqlite" ncii --type stopncii --url "$URL/v1" --bank cfg --source ncii-x \
  --credentials "$T/sn.cred" 2>"$T/err" && ok "exchange add" || { bad "exchange add"; cat "$T/err"; }
$V exchange add --db "$T/b.sqlite" ncii --type tat --url "$URL" --bank cfg 2>/dev/null
[ $? = 2 ] && ok "a second exchange of the same name is refused" || bad "duplicate exchange added"
$V exchange list --db "$T/b.sqlite" --json > "$T/list"
has "listed with the credentials' path" "\"name\":\"ncii\",\"type\":\"stopncii\".*\"bank\":\"cfg\",\"source\":\"ncii-x\",\"credentials\":\"$T/sn.cred\"" "$T/list"
if command -v sqlite3 >/dev/null; then
  sqlite3 "$T/b.sqlite" .dump | grep -q "secret" && bad "a secret is in the bank file" || ok "no secret in the bank file"
fi
$V exchange sync --db "$T/b.sqlite" ncii --retry-delay 10 2>"$T/err" && ok "exchange sync by name" || { bad "exchange sync"; cat "$T/err"; }
has "synced with the stored settings" "sync ncii-x: 2 pages \(2 requests\): 3 added"
$V bank checkpoint --db "$T/b.sqlite" cfg --source ncii-x > "$T/cp" 2>&1
has "checkpoint under the configured source" "^checkpoint	1764950000$" "$T/cp"
$V exchange remove --db "$T/b.sqlite" ncii && ok "exchange remove" || bad "exchange remove"
$V exchange sync --db "$T/b.sqlite" ncii 2>/dev/null
[ $? = 2 ] && ok "a removed exchange is unknown" || bad "removed exchange synced"


# ---- te and file exchanges configured too; an unknown type refused
mkdir "$T/drops"
printf '%s\n' 'f8f8f0cee0f4a84f06370a22038f63f0b36e2ed596621e1d33e6b39c4e9c9b22' > "$T/drops/a.txt"
$V bank create --db "$T/b.sqlite" dropped 2>/dev/null
$V exchange add --db "$T/b.sqlite" drops --type file --url "$T/drops" --bank dropped 2>"$T/err" \
  && ok "exchange add --type file" || { bad "exchange add --type file"; cat "$T/err"; }
$V exchange add --db "$T/b.sqlite" te1 --type te --url "$URL/v21.0/1/threat_updates" --bank dropped 2>"$T/err" \
  && ok "exchange add --type te" || { bad "exchange add --type te"; cat "$T/err"; }
$V exchange add --db "$T/b.sqlite" nope --type tmk --url "$URL" --bank dropped 2>"$T/err"
[ $? = 2 ] && grep -q "ncmec, stopncii, tat, te or file" "$T/err" && ok "an unknown type is refused" || bad "unknown type"
$V exchange list --db "$T/b.sqlite" --json > "$T/list"
has "file listed with its type" '"name":"drops","type":"file"' "$T/list"
has "te listed with its type" '"name":"te1","type":"te"' "$T/list"
$V exchange sync --db "$T/b.sqlite" drops 2>"$T/err" && ok "a configured file exchange syncs" || { bad "file sync"; cat "$T/err"; }
has "its list imported" "sync file: 1 page .*1 added"

echo "$passes passed, $fails failed"
[ $fails = 0 ]
