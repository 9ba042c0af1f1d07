#!/bin/bash
# tests/cli/vouchd_attack_body.sh -- attacks on request bodies and framing
# (issue 14, attacks 1, 8, 9, 10, 11): a request is judged on its headers
# before any of its body is read; bodies held at once are capped by
# --body-budget; a chunked body is cut as soon as it passes --max-body;
# conflicting framing and bytes that are not UTF-8 get a 400 with a JSON error.
set -u
. "$(dirname "$0")/lib/vouchd_harness.sh"
. "$(dirname "$0")/lib/vouchd_attack.sh"

DB=$T/db.sqlite
ADMIN=$($D token create --db "$DB" --role admin --name admin)
MATCH=$($D token create --db "$DB" --role matcher --name matcher)
READ=$($D token create --db "$DB" --role reader --name reader)
check "database created 0600" test "$(stat -c %a "$DB")" = 600
start_vouchd --db "$DB" --threads 2
check "listening" healthz_within 2

# attack 1: 480 connections (the default limit is 512) without a token, each
# declaring 32 MiB - 1 and sending 1 MiB of it, then holding
cat > "$T/flood.py" <<'PY'
import socket, sys, time
port, n, token, body_mb = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], int(sys.argv[4])
path = sys.argv[5] if len(sys.argv) > 5 else "/v1/hash"
length = 32 * 1024 * 1024 - 1
hdr = "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n" % (path, length)
if token != "-": hdr += "Authorization: Bearer %s\r\n" % token
hdr = (hdr + "\r\n").encode()
chunk = b"\0" * (1 << 20)
socks, codes = [], {}
for i in range(n):
    s = socket.socket()
    s.bind(("127.0.0.%d" % (2 + i % 8), 0))  # 8 addresses: under the per-address limit
    s.settimeout(10)
    try:
        s.connect(("127.0.0.1", port))
        s.sendall(hdr)
        socks.append(s)
    except OSError:
        codes["connect-failed"] = codes.get("connect-failed", 0) + 1
for s in socks:
    try:
        for _ in range(body_mb): s.sendall(chunk)
    except OSError:
        pass
time.sleep(0.5)
for s in socks:
    s.settimeout(0.2)
    try:
        line = s.recv(64).split(b"\r\n")[0].decode(errors="replace")
        c = line.split(" ")[1] if line.startswith("HTTP/") else "none"
    except OSError:
        c = "none"
    codes[c] = codes.get(c, 0) + 1
print(" ".join("%s:%d" % kv for kv in sorted(codes.items())), flush=True)
sys.stdin.read()  # hold every connection until the test is done with them
PY
# flood N TOKEN|- MIB OUT [PATH]: starts the flood, which holds its connections
# until fd 7 (its stdin) is closed; returns once OUT has the codes
flood() {
  rm -f "$T/hold"; mkfifo "$T/hold"
  python3 "$T/flood.py" "$P" "$1" "$2" "$3" ${5:-/v1/hash} < "$T/hold" > "$4" &
  FLOOD=$!
  exec 7> "$T/hold"
  for _ in $(seq 1 300); do [ -s "$4" ] && break; sleep 0.1; done
}
# flood_checks NAME EXPECTED_CODES MAX_MB OUT: what every flood must show, then lets it go
flood_checks() {
  check "$1: $2 ($(cat "$4"))" test "$(cat "$4")" = "$2"
  check "$1: /healthz answers in 1 s" healthz_within 1
  H=$(hwm_mb)
  check "$1: peak RSS $H MB < $3 MB" test "$H" -lt "$3"
  exec 7>&-
  wait $FLOOD
}
flood 480 - 1 "$T/flood1"
flood_checks "attack 1 (all 480 refused with 401 from the headers)" "401:480" 400 "$T/flood1"
# the same on HMA's upload route (multipart bodies are admitted like any other)
flood 200 - 1 "$T/flood1h" /m/lookup
flood_checks "attack 1 on POST /m/lookup (all 200 refused with 401)" "401:200" 400 "$T/flood1h"

# attack 1 with a valid token: the global body budget (64 MiB here) admits
# two 32 MiB bodies at a time; the rest get 503 busy before being read
stop_vouchd
start_vouchd --db "$DB" --threads 2 --body-budget 67108864
flood 30 "$MATCH" 8 "$T/flood2"
check "budget: metrics count the refusals" sh -c "curl -s $U/metrics | grep -q '^vouchd_rejected_budget_total 28'"
flood_checks "budget (28 of 30 refused with 503, 2 still reading)" "503:28 none:2" 200 "$T/flood2"

# attack 10: a 200 MB chunked body is cut soon after --max-body (4 MiB here)
stop_vouchd
start_vouchd --db "$DB" --threads 2 --max-body 4194304
cat > "$T/chunked.py" <<'PY'
import socket, sys
port, token = int(sys.argv[1]), sys.argv[2]
path = sys.argv[3] if len(sys.argv) > 3 else "/v1/hash"
s = socket.create_connection(("127.0.0.1", port))
ctype = "Content-Type: multipart/form-data; boundary=b\r\n" if path != "/v1/hash" else ""
s.sendall(("POST %s HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n%s"
           "Transfer-Encoding: chunked\r\n\r\n" % (path, token, ctype)).encode())
chunk = b"100000\r\n" + b"\0" * 0x100000 + b"\r\n"
sent = 0
try:
    while sent < 200 << 20:
        s.sendall(chunk)
        sent += 0x100000
except OSError:
    pass
print(sent >> 20)
PY
MB=$(timeout 20 python3 "$T/chunked.py" "$P" "$MATCH")
check "attack 10: chunked body cut after ${MB} MiB (< 16; limit 4)" test -n "$MB" -a "${MB:-999}" -lt 16
MB=$(timeout 20 python3 "$T/chunked.py" "$P" "$MATCH" /h/hash)
check "attack 10 on HMA's POST /h/hash: cut after ${MB} MiB (< 16)" test -n "$MB" -a "${MB:-999}" -lt 16
check "attack 10: a declared body over the limit gets 413 unread" \
  test "$(head -c 5000000 /dev/zero | code -H "Authorization: Bearer $MATCH" --data-binary @- $U/v1/hash)" = 413
check "attack 10: still healthy" healthz_within 1

# attack 9: conflicting framing
cat > "$T/raw.py" <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
s.settimeout(5)
s.sendall(sys.argv[2].encode("latin-1").decode("unicode_escape").encode("latin-1"))
out = b""
try:
    while True:
        b = s.recv(65536)
        if not b: break
        out += b
        if b"\r\n\r\n" in out and out.count(b"\n") > 5: break
except OSError:
    pass
sys.stdout.write(out.decode("latin-1"))
PY
raw() { python3 "$T/raw.py" "$P" "$1" > "$T/raw"; head -1 "$T/raw" | cut -d' ' -f2; }
check "attack 9: Content-Length + chunked 400" test "$(raw 'POST /v1/hash HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')" = 400
check "attack 9: ... with a JSON error" grep -q '"code":"bad_framing"' "$T/raw"
check "attack 9: two different Content-Lengths 400" test "$(raw 'POST /v1/hash HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 6\r\n\r\nabcdef')" = 400
check "attack 9: refused before the token is even looked at" grep -q '"code":"bad_framing"' "$T/raw"
check "attack 9: the same on HMA's POST /m/lookup 400" test "$(raw 'POST /m/lookup HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n')" = 400

# attack 8: bytes that are not UTF-8
check "attack 8: GET /%ff 400" test "$(code "$U/%ff")" = 400
check "attack 8: ... with a JSON error" grep -q '"code":"bad_utf8"' "$T/body"
check "attack 8: %ff in an HMA query argument 400" test "$(code -H "Authorization: Bearer $MATCH" "$U/m/raw_lookup?signal_type=pdq&banks=%ff&signal=00")" = 400
check "attack 8: ... bad_utf8" grep -q '"code":"bad_utf8"' "$T/body"
check "attack 8: raw 0xff in the path 400" test "$(raw 'GET /v1/banks/\xff\xfe HTTP/1.1\r\nHost: x\r\n\r\n')" = 400
$V bank create --db "$DB" list >/dev/null 2>&1
printf 'hash,id\n%s,caf\xe9\n' "$(printf 'ab%.0s' $(seq 32))" > "$T/latin1.csv"
check "attack 8: import of a non-UTF-8 id 400" test "$(code -H "Authorization: Bearer $ADMIN" --data-binary @"$T/latin1.csv" "$U/v1/banks/list/import")" = 400
check "attack 8: ... bad_utf8" grep -q '"code":"bad_utf8"' "$T/body"
printf 'hash,id\n%s,ok\n' "$(printf 'ab%.0s' $(seq 32))" > "$T/ok.csv"
check "attack 8: import with a non-UTF-8 source 400" test "$(code -H "Authorization: Bearer $ADMIN" --data-binary @"$T/ok.csv" "$U/v1/banks/list/import?source=%ff")" = 400
check "attack 8: nothing imported" test "$($V bank list --db "$DB" | awk '$1=="list"{print $4}')" = 0

# attack 11: HEAD follows GET's role
check "attack 11: HEAD /v1/banks as reader 200" test "$(curl -s -o /dev/null -w '%{http_code}' -I -H "Authorization: Bearer $READ" $U/v1/banks)" = 200
check "still running" kill -0 "$PID"
stop_vouchd
echo "$pass passed, $fail failed"
test $fail -eq 0
