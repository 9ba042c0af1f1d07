#!/bin/bash
# tests/cli/vouchd_attack_slow.sh -- slow clients (issue 14, attack 7): 300
# slowloris connections (a header one byte at a time, never finished) from ten
# addresses, a client over the per-address limit, and a body that stops
# coming.  /healthz must answer within 1 s throughout; the header deadline
# (--header-timeout, 2 s here) and the body rate close the slow connections.
set -u
. "$(dirname "$0")/lib/vouchd_harness.sh"
. "$(dirname "$0")/lib/vouchd_attack.sh"

DB=$T/db.sqlite
MATCH=$($D token create --db "$DB" --role matcher --name matcher)
start_vouchd --db "$DB" --threads 2 --header-timeout 2
check "listening" healthz_within 2

cat > "$T/loris.py" <<'PY'
import socket, sys, time
port, n, naddr, first = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
mode = sys.argv[5]  # header: dribble a header; body: a whole header, then 10 body bytes and silence
socks = []
for i in range(n):
    s = socket.socket()
    s.bind(("127.0.0.%d" % (first + i % naddr), 0))
    s.settimeout(2)
    try:
        s.connect(("127.0.0.1", port))
        if mode == "body":
            s.sendall(("POST /v1/hash HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
                       "Content-Length: 100000\r\n\r\n0123456789" % sys.argv[6]).encode())
        socks.append(s)
    except OSError:
        pass
print("open %d" % len(socks), flush=True)
msg = b"GET /healthz HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 1000
alive = set(range(len(socks)))
t0 = time.time()
for k in range(int(sys.argv[7]) if len(sys.argv) > 7 else 12):
    for i in list(alive):
        try:
            if mode == "header": socks[i].send(msg[k:k + 1])
            else: socks[i].send(b"")
        except OSError:
            alive.discard(i)
    time.sleep(0.5)
# a closed connection reads as end of stream (or a reset)
for i in list(alive):
    socks[i].setblocking(False)
    try:
        if socks[i].recv(1) == b"": alive.discard(i)
    except BlockingIOError:
        pass
    except OSError:
        alive.discard(i)
print("alive %d after %.1f s" % (len(alive), time.time() - t0), flush=True)
PY

# 300 dribbling headers from 127.0.0.2..11 (30 each, under the limit of 64 per address)
python3 "$T/loris.py" "$P" 300 10 2 header x 8 > "$T/loris" &
LORIS=$!
for _ in $(seq 1 100); do grep -q open "$T/loris" 2>/dev/null && break; sleep 0.05; done
check "attack 7: 300 slowloris connections open ($(head -1 "$T/loris"))" test "$(head -1 "$T/loris")" = "open 300"
worst=0
for i in $(seq 1 5); do  # within the 2 s the slow connections are allowed
  t0=$(date +%s%N)
  healthz_within 1 || worst=9999
  ms=$(( ($(date +%s%N) - t0) / 1000000 )); [ "$ms" -gt "$worst" ] && worst=$ms
  sleep 0.2
done
check "attack 7: /healthz answered within 1 s x$S every time (worst ${worst} ms)" ms_lt "$worst" 1000
wait $LORIS
check "attack 7: the header deadline closed them all ($(tail -1 "$T/loris"))" grep -q "^alive 0 " "$T/loris"
check "attack 7: counted in metrics" sh -c "curl -s $U/metrics | grep -q '^vouchd_dropped_slow_total [1-9]'"

# over the per-address limit (64) the rest are refused at once; and, from
# another address meanwhile, a body that stops after 10 bytes is closed by
# the body rate
python3 "$T/loris.py" "$P" 100 1 12 header x 2 > "$T/perip" &
python3 "$T/loris.py" "$P" 5 1 13 body "$MATCH" 6 > "$T/slowbody"
wait $(jobs -p | grep -vx "$PID")
check "per-address limit: 64 of 100 kept ($(tail -1 "$T/perip"))" grep -q "^alive 64 " "$T/perip"
check "slow body: closed ($(tail -1 "$T/slowbody"))" grep -q "^alive 0 " "$T/slowbody"
check "still healthy" healthz_within 1
H=$(hwm_mb)
check "peak RSS $H MB < 200 MB" test "$H" -lt 200
stop_vouchd
echo "$pass passed, $fail failed"
test $fail -eq 0
