#!/bin/bash
# tests/cli/exchange_formats.sh -- every exchange list format imports exactly
# (tests/fixtures/exchange, written by hand from the field layouts): counts
# of added, merged, skipped (other signal types), bad rows, deletions and
# re-enabled entries; the checkpoint a page leaves; the quality floor; a list
# vouch takes nothing from fails; vouch match --hashes reads tx lines.
set -u
V=${VOUCH_BIN:?VOUCH_BIN not set}
F=${VOUCH_SRC:?VOUCH_SRC not set}/tests/fixtures/exchange
T=$(mktemp -d /tmp/vouch-cli-exchange.XXXXXX)
trap 'rm -rf "$T"' EXIT
fails=0 passes=0
ok() { echo "ok: $1"; passes=$((passes+1)); }
bad() { echo "FAIL: $1"; fails=$((fails+1)); }
# imp DESC WANT_STATUS BANK FILE [ARGS...]: import into a fresh or existing bank of $T/b.sqlite
imp() {
  local desc=$1 want=$2 bank=$3 file=$4; shift 4
  $V bank list --db "$T/b.sqlite" 2>/dev/null | grep -q "^$bank " || $V bank create --db "$T/b.sqlite" "$bank" 2>/dev/null
  $V bank import --db "$T/b.sqlite" "$bank" "$file" "$@" 2>"$T/err"
  local st=$?
  [ "$st" = "$want" ] && ok "$desc (status $st)" || { bad "$desc: status $st, want $want"; cat "$T/err"; }
}
has() { # has DESC PATTERN [FILE]: an extended regex in the last import's messages (or FILE)
  if grep -Eq -- "$2" "${3:-$T/err}"; then ok "$1"; else bad "$1: /$2/ not in:"; cat "${3:-$T/err}"; fi
}
export_csv() { $V bank export --db "$T/b.sqlite" "$1" --format csv; }
P1=331241a982f11ec01ee57012853d452fe539a78bc8eff3460b12ae6ead581e57
P2=9851e4d525f45a8295af4c654a13d22e877994afff2f650458e00e8c64beb012
P4=9e1b43fd91b9b6a205da31934fa1f5f5e5aefe755353f361c5f6ffa81b8e8d8d
P6=044d2cc96a1895051936bcaecd954f4612de1bfbbbc4ba50ddb860ca6378c977

# ---- tx hash output and a local_file collab
imp "tx hash lines" 0 txh "$F/tx_hash.txt"
has "tx hash: 2 added, 1 video_md5 skipped, format tx" ": 2 added, 0 already .*, 0 bad lines, 1 of another signal type skipped; format tx;"
imp "tx hash --rotations lines" 0 rot "$F/tx_rotations.txt"
has "rotations: 8 added" ": 8 added, 0 already"
export_csv rot > "$T/rot.csv"
has "a rotated variant is tagged" "^[0-9a-f]{64},,tx_rotations.txt,rotation:rotate90,1," "$T/rot.csv"
[ "$(grep -c 'rotation:' "$T/rot.csv")" = 7 ] && ok "ORIGINAL carries no rotation tag" || bad "rotation tags: $(cat "$T/rot.csv")"
imp "local_file collab" 0 local "$F/local_file.txt"
has "local_file: 3 added, 2 bad, 2 skipped" ": 3 added, 0 already .*, 2 bad lines, 2 of another signal type skipped"
has "malformed row numbered" "local_file.txt:6: not a pdq hash"
has "unknown signal type numbered" "local_file.txt:7: unknown signal type 'frobnicate'"

# ---- tx dataset --csv
imp "tx dataset csv" 0 ds "$F/tx_dataset.csv"
has "dataset: 2 added, 1 merged, 1 bad, 2 skipped" ": 2 added, 1 already .*, 1 bad lines, 2 of another signal type skipped; format csv"
export_csv ds > "$T/ds.csv"
has "collab -> source, category and tags kept" "^$P1,,\"Other Collab,Sample Collab\",\"category:POSITIVE_HIT,nudity,adult\",1," "$T/ds.csv"
has "second collab's category" "^$P2,,Other Collab,category:INVESTIGATION_SEED,1," "$T/ds.csv"

# ---- ThreatExchange state files
imp "simple.HASH_PDQ.te" 0 te "$F/simple.HASH_PDQ.te"
has "te: 3 added, format te" ": 3 added, 0 already .*, 0 bad lines; format te"
export_csv te > "$T/te.csv"
has "descriptor id and labels kept" ",3058061737574159,simple.HASH_PDQ.te,\"media_type_photo,true_positive\",1," "$T/te.csv"
imp "simple.HASH_MD5.te into a pdq bank: nothing to take, exit 2" 2 te "$F/simple.HASH_MD5.te"
has "says why" "nothing imported: 2 rows of another signal type"
cp "$F/simple.HASH_PDQ.te" "$T/renamed.csv"
imp "a TE state file by content alone" 0 te2 "$T/renamed.csv"
has "te detected without its name" ": 3 added, .*format te"

# ---- NCMEC pages: a second page deletes an entry of the first
imp "ncmec page 1" 0 nc "$F/ncmec_page1.xml"
has "ncmec 1: 2 added, 1 bad, 2 skipped" ": 2 added, 0 already .*, 1 bad lines, 2 of another signal type skipped; format ncmec"
has "ncmec bad fingerprint numbered by its line" "ncmec_page1.xml:34: not a pdq hash"
has "ncmec 1 names its next page" "page of 5 records; checkpoint '2026-11-02T10:00:00Z'; next page '/v2/entries\?from="
imp "ncmec page 2" 0 nc "$F/ncmec_page2.xml"
has "ncmec 2: 1 added, 2 deletions, 1 entry disabled" ": 1 added, .*2 deleted by the exchange \(1 entries disabled\)"
export_csv nc > "$T/nc.csv"
has "deleted NCMEC entry disabled" "^$P2,7-img-101,,category:B2,0," "$T/nc.csv"
has "kept NCMEC entry enabled" "^$P1,7-img-100,ncmec,category:A1,1," "$T/nc.csv"
$V bank checkpoint --db "$T/b.sqlite" nc --source ncmec > "$T/cp" 2>&1
has "ncmec checkpoint stored" "^checkpoint	2026-11-03T08:00:00Z$" "$T/cp"
$V bank tombstones --db "$T/b.sqlite" nc > "$T/tomb"
[ "$(wc -l < "$T/tomb")" = 2 ] && ok "two tombstones recorded" || bad "tombstones: $(cat "$T/tomb")"

# ---- StopNCII pages: withdrawn, then active again
imp "stopncii page 1" 0 sn "$F/stopncii_page1.json"
has "stopncii 1: 2 added, 1 skipped" ": 2 added, 0 already .*, 0 bad lines, 1 of another signal type skipped; format stopncii"
imp "stopncii page 2" 0 sn "$F/stopncii_page2.json"
has "stopncii 2: withdrawn disables, unknown status is a numbered error" ": 1 added, .*1 bad lines, 1 deleted by the exchange \(1 entries disabled\)"
has "record number" "stopncii_page2.json:3: hashRecords\[2\]: unknown hashStatus"
export_csv sn | grep -q "^$P4,,,,0," && ok "withdrawn hash disabled" || bad "withdrawn hash not disabled"
imp "stopncii page 1 again: the hash is active again" 0 sn "$F/stopncii_page1.json"
has "re-enabled" "1 re-enabled"
export_csv sn | grep -q "^$P4,,stopncii,,1," && ok "re-listed hash enabled with its source" || bad "P4 not re-enabled"
$V bank disable --db "$T/b.sqlite" sn --hash $P4 2>/dev/null
imp "stopncii page 1 once more" 0 sn "$F/stopncii_page1.json"
export_csv sn | grep -q "^$P4,,stopncii,,0," && ok "an entry a user disabled stays disabled" || bad "user-disabled entry re-enabled"

# ---- Tech Against Terrorism pages
imp "tat page 1" 0 tat "$F/tat_page1.json"
has "tat 1: 2 added, 1 bad, 1 skipped" ": 2 added, 0 already .*, 1 bad lines, 1 of another signal type skipped; format tat"
has "tat malformed record numbered" "tat_page1.json:4: results\[3\]"
imp "tat page 2" 0 tat "$F/tat_page2.json"
has "tat 2: deleted disables" "1 deleted by the exchange \(1 entries disabled\)"
export_csv tat | grep -q "^$P6,28,,\"category:far-right,jpg\",0," && ok "deleted TAT entry disabled" || bad "tat export: $(export_csv tat)"
$V bank checkpoint --db "$T/b.sqlite" tat --source tat > "$T/cp" 2>&1
has "tat checkpoint" "^checkpoint	1764100000.0,32$" "$T/cp"

# ---- a malformed page is an error as a whole, nothing imported
printf '{"hashRecords": 7}' > "$T/badpage.json"
imp "stopncii page without a record array" 2 sn "$T/badpage.json"
printf '<queryResult><images><image><id>x</id>' > "$T/trunc.xml"
imp "truncated NCMEC page" 2 nc "$T/trunc.xml"
has "says where" "trunc.xml:1: not a well-formed XML page"

# ---- quality floor
printf '{"hash":"%s","quality":30}\n{"hash":"%s","quality":80}\n' $P1 $P2 > "$T/q.jsonl"
imp "quality floor 50 by default" 0 q "$T/q.jsonl"
has "one below the floor" ": 1 added, .*1 below the quality floor skipped"
imp "--min-quality 0: no floor" 0 q0 "$T/q.jsonl" --min-quality 0
has "both taken" ": 2 added,"
printf 'hash,quality\n%s,49\n' $P1 > "$T/q.csv"
imp "all rows below the floor: exit 2" 2 q1 "$T/q.csv"
has "says why (quality)" "nothing imported: 0 rows of another signal type than the bank's, 1 below the quality floor"
printf '# only a comment\n\n' > "$T/empty.txt"
imp "a list with no hash rows: exit 2" 2 q1 "$T/empty.txt"

# ---- vouch match --hashes reads the same lines
$V index build --db "$T/b.sqlite" --bank txh -o "$T/txh.vidx" >/dev/null 2>&1
$V match --index "$T/txh.vidx" --hashes "$F/tx_hash.txt" > "$T/m.out" 2>"$T/m.err"
st=$?
[ "$st" = 1 ] && ok "match --hashes on tx hash output: matches (status 1)" || { bad "match --hashes status $st"; cat "$T/m.err"; }
[ "$(wc -l < "$T/m.out")" = 2 ] && ok "two pdq lines matched" || bad "match output: $(cat "$T/m.out")"
has "the video_md5 line is skipped, not an error" "1 line of another signal type skipped" "$T/m.err"
$V match --index "$T/txh.vidx" --hashes "$F/tx_rotations.txt" > "$T/m.out" 2>"$T/m.err"
[ $? = 1 ] && grep -q "^ORIGINAL" "$T/m.out" && ok "rotation lines are queries labelled by rotation" || { bad "rotations"; cat "$T/m.out" "$T/m.err"; }

# ---- match results carry the entry's exchange metadata from the bank file
$V index build --db "$T/b.sqlite" --bank nc -o "$T/nc.vidx" >/dev/null 2>&1
echo "pdq $P1" | $V match --index "$T/nc.vidx" --hashes - --db "$T/b.sqlite" --json > "$T/m.out" 2>"$T/m.err"
has "match --db: the NCMEC category comes with the match" '"id":"7-img-100","source":"ncmec",.*"tags":"category:A1"\}$' "$T/m.out"
echo "pdq $P1" | $V match --index "$T/nc.vidx" --hashes - --db "$T/b.sqlite" > "$T/m.out" 2>"$T/m.err"
[ "$(cut -f7,8 "$T/m.out")" = "ncmec	category:A1" ] && ok "match --db: tags as the eighth text column" || bad "text: $(cat "$T/m.out")"

# ---- a bank's own radius, used by match --db
P1N=${P1%57}50   # P1 with 3 bits flipped
$V bank radius --db "$T/b.sqlite" nc 2 2>/dev/null && ok "bank radius" || bad "bank radius"
$V bank show --db "$T/b.sqlite" nc --json | grep -q '"radius":2}' && ok "show gives the radius" || bad "show: no radius"
echo "pdq $P1N" | $V match --index "$T/nc.vidx" --hashes - --db "$T/b.sqlite" >/dev/null 2>&1
[ $? = 0 ] && ok "match --db: distance 3 is outside the bank's radius 2" || bad "bank radius not applied"
echo "pdq $P1N" | $V match --index "$T/nc.vidx" --hashes - >/dev/null 2>&1
[ $? = 1 ] && ok "match without --db: the default radius" || bad "default radius"
echo "pdq $P1N" | $V match --index "$T/nc.vidx" --hashes - --db "$T/b.sqlite" --radius 3 >/dev/null 2>&1
[ $? = 1 ] && ok "--radius overrides the bank's" || bad "--radius with --db"
P1F=ccedbe567d${P1#331241a982}   # P1 with its first 40 bits inverted
$V bank radius --db "$T/b.sqlite" nc 40 2>/dev/null
echo "pdq $P1F" | $V match --index "$T/nc.vidx" --hashes - --db "$T/b.sqlite" --json 2>/dev/null | grep -q '"distance":40' \
  && ok "a bank radius above the default widens the search" || bad "radius 40"
echo "pdq $P1F" | $V match --index "$T/nc.vidx" --hashes - >/dev/null 2>&1
[ $? = 0 ] && ok "distance 40 is outside the default radius" || bad "default radius matched 40"
$V bank radius --db "$T/b.sqlite" nc default 2>/dev/null
$V bank show --db "$T/b.sqlite" nc --json | grep -q '"radius"' && bad "radius not cleared" || ok "radius back to default"

# ---- an entry out of index builds until a time
idx_count() { $V index build --db "$T/b.sqlite" --bank nc -o "$T/nc2.vidx" 2>&1 | grep -Eo '[0-9]+ entries'; }
[ "$(idx_count)" = "2 entries" ] && ok "index of nc: 2 enabled entries" || bad "nc index: $(idx_count)"
$V bank disable --db "$T/b.sqlite" nc --hash $P1 --until 2099-01-01 2>/dev/null && ok "disable --until" || bad "disable --until"
[ "$(idx_count)" = "1 entries" ] && ok "an entry disabled until 2099 stays out of the index" || bad "until: $(idx_count)"
$V bank export --db "$T/b.sqlite" nc --format jsonl | grep -q "\"disabled_until\":4070908800" && ok "export shows disabled_until" \
  || bad "disabled_until not exported"
$V bank disable --db "$T/b.sqlite" nc --hash $P1 --until 2001-01-01 2>/dev/null
[ $? = 2 ] && ok "--until in the past is refused" || bad "--until in the past taken"
$V bank enable --db "$T/b.sqlite" nc --hash $P1 2>/dev/null
[ "$(idx_count)" = "2 entries" ] && ok "enable ends the disable-until" || bad "enable: $(idx_count)"

# ---- the quality floor for match queries
printf '{"hash":"%s","quality":30,"path":"low.jpg"}\n%s 90 good.jpg\n%s 20 flat.jpg\n' $P1 $P2 $P1 > "$T/qq"
$V match --index "$T/txh.vidx" --hashes "$T/qq" > "$T/m.out" 2>"$T/m.err"
[ $? = 1 ] && [ "$(cut -f1 "$T/m.out")" = good.jpg ] && ok "match: queries below quality 50 skipped" \
  || { bad "match quality floor"; cat "$T/m.out" "$T/m.err"; }
has "match says how many it skipped" "2 queries below PDQ quality 50 skipped" "$T/m.err"
$V match --index "$T/txh.vidx" --hashes "$T/qq" --min-quality 0 > "$T/m.out" 2>/dev/null
[ "$(wc -l < "$T/m.out")" = 3 ] && ok "match --min-quality 0 keeps them" || bad "min-quality 0: $(cat "$T/m.out")"

echo "$passes passed, $fails failed"
[ $fails = 0 ]
