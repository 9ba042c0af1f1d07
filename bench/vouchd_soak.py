#!/usr/bin/env python3
"""bench/vouchd_soak.py -- honest matchers under attack (issue 14), run by bench/vouchd_soak.sh.

usage: vouchd_soak.py PORT SECONDS HONEST_TOKENS_FILE ATTACKER_TOKEN [BASELINE_SECONDS]

First, for BASELINE_SECONDS (default SECONDS / 4), the honest clients alone: the baseline of the same run.

Honest clients (one process each, keep-alive, paced at one request per 20 ms) send one photo's 8 PDQ
hashes to /v1/match at the default radius.  Meanwhile attacker processes run the attacks of issue 14 in
loops: unauthenticated 32 MiB uploads (1), radius 256 (2), 32 MiB of {} (4), 2,000 photos at radius 64
from one token (5, 6), slowloris from other loopback addresses (7) and an endless chunked body (10).
Prints honest latency percentiles and lost requests (anything but a 200 in time), and what the attacks got.
"""
import http.client, json, multiprocessing as mp, os, random, socket, sys, time

PORT, SECS = int(sys.argv[1]), float(sys.argv[2])
HONEST = open(sys.argv[3]).read().split()
ATTACKER = sys.argv[4]
BASE_SECS = float(sys.argv[5]) if len(sys.argv) > 5 else SECS / 4


def rand_hash(rng):
    return "%064x" % rng.getrandbits(256)


def honest(token, seed, out, secs):
    rng = random.Random(seed)
    lat, lost, end = [], 0, time.time() + secs
    conn = None
    while time.time() < end:
        body = json.dumps({"photos": [[rand_hash(rng) for _ in range(8)]]})
        t0 = time.time()
        try:
            if conn is None:
                conn = http.client.HTTPConnection("127.0.0.1", PORT, timeout=10)
            conn.request("POST", "/v1/match", body, {"Authorization": "Bearer " + token,
                                                     "Content-Type": "application/json"})
            r = conn.getresponse()
            r.read()
            if r.status != 200:
                lost += 1
            else:
                lat.append(time.time() - t0)
        except (OSError, http.client.HTTPException):
            lost += 1
            conn = None
        time.sleep(max(0.0, 0.02 - (time.time() - t0)))
    out.put(("honest", lat, lost))


def count(out, name, fn):
    codes, end = {}, time.time() + SECS
    while time.time() < end:
        try:
            c = fn()
        except OSError:
            c = "closed"
        codes[c] = codes.get(c, 0) + 1
    out.put((name, codes, 0))


def status_of(s):
    s.settimeout(15)
    data = s.recv(64)
    return data.split(b" ")[1].decode() if data.startswith(b"HTTP/") else "closed"


def a1_unauth():
    s = socket.create_connection(("127.0.0.1", PORT))
    s.sendall(b"POST /v1/hash HTTP/1.1\r\nHost: x\r\nContent-Length: 33554431\r\n\r\n" + b"\0" * 65536)
    try:
        return status_of(s)
    finally:
        s.close()


def http_post(path, body, token, ctype="application/json"):
    c = http.client.HTTPConnection("127.0.0.1", PORT, timeout=30)
    try:
        c.request("POST", path, body, {"Authorization": "Bearer " + token, "Content-Type": ctype})
        r = c.getresponse()
        r.read()
        return str(r.status)
    finally:
        c.close()


def a10_chunked():
    s = socket.create_connection(("127.0.0.1", PORT))
    s.sendall(("POST /v1/hash HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
               "Transfer-Encoding: chunked\r\n\r\n" % ATTACKER).encode())
    chunk = b"100000\r\n" + b"\0" * 0x100000 + b"\r\n"
    try:
        for _ in range(200):
            s.sendall(chunk)
        return "read-200MB"
    except OSError:
        return "cut"
    finally:
        s.close()


def a7_slowloris(out):
    socks, cut, end = [], 0, time.time() + SECS
    while time.time() < end:
        while len(socks) < 200:
            s = socket.socket()
            s.bind(("127.0.0.%d" % (2 + len(socks) % 8), 0))
            try:
                s.connect(("127.0.0.1", PORT))
                socks.append(s)
            except OSError:
                s.close()
                break
        for s in list(socks):
            try:
                s.send(b"G")
            except OSError:
                socks.remove(s)
                cut += 1
        time.sleep(1)
    out.put(("7 slowloris (connections cut by the deadline)", {"cut": cut}, 0))


def report(label, results, n):
    lat, lost = [], 0
    for name, a, b in results:
        if name == "honest":
            lat += a
            lost += b
    lat.sort()
    pct = lambda q: 1000 * lat[min(len(lat) - 1, int(q * len(lat)))] if lat else float("nan")
    print("%s: %d honest clients, %d answered, %d lost; latency ms p50 %.2f p90 %.2f p99 %.2f max %.2f"
          % (label, n, len(lat), lost, pct(0.5), pct(0.9), pct(0.99), 1000 * lat[-1] if lat else float("nan")),
          flush=True)
    return pct(0.99)


def run_all(procs, out):
    for p in procs:
        p.start()
    results = [out.get() for _ in procs]
    for p in procs:
        p.join()
    return results


def main():
    rng = random.Random(7)
    out = mp.Queue()
    results = run_all([mp.Process(target=honest, args=(t, 100 + i, out, BASE_SECS)) for i, t in enumerate(HONEST)], out)
    p99_base = report("baseline (no attack, %.0f s)" % BASE_SECS, results, len(HONEST))
    big = b'{"hashes":[' + b"{}," * ((32 << 20) // 3 - 10) + b"{}]}"
    heavy = json.dumps({"photos": [[rand_hash(rng) for _ in range(8)] for _ in range(2000)]})
    q100 = json.dumps({"hashes": [rand_hash(rng) for _ in range(100)]})
    procs = [mp.Process(target=honest, args=(t, i, out, SECS)) for i, t in enumerate(HONEST)]
    procs += [
        mp.Process(target=count, args=(out, "1 unauthenticated 32 MiB uploads", a1_unauth)),
        mp.Process(target=count, args=(out, "2 radius 256", lambda: http_post("/v1/match?radius=256", q100, ATTACKER))),
        mp.Process(target=count, args=(out, "4 32 MiB of {}", lambda: http_post("/v1/match", big, ATTACKER))),
        mp.Process(target=count, args=(out, "5/6 2,000 photos at radius 64",
                                       lambda: http_post("/v1/match?radius=64", heavy, ATTACKER))),
        mp.Process(target=count, args=(out, "5/6 2,000 photos at radius 64 (2nd client)",
                                       lambda: http_post("/v1/match?radius=64", heavy, ATTACKER))),
        mp.Process(target=count, args=(out, "10 endless chunked body", a10_chunked)),
        mp.Process(target=a7_slowloris, args=(out,)),
    ]
    results = run_all(procs, out)
    p99 = report("under attack (%.0f s)" % SECS, results, len(HONEST))
    print("p99 under attack / baseline p99: %.2f" % (p99 / p99_base))
    for name, a, b in sorted(r for r in results if r[0] != "honest"):
        print("attack %s: %s" % (name, " ".join("%s:%d" % kv for kv in sorted(a.items()))))


if __name__ == "__main__":
    main()
