#!/usr/bin/python3
"""bench/faiss_compare.py -- FAISS on the data of bench/bench_match.c.

usage:
  build/bench/bench_match -n 1e6 -q 2000 --dump /tmp/vb1m > /tmp/vouch1m.txt
  /usr/bin/python3 bench/faiss_compare.py /tmp/vb1m --vouch /tmp/vouch1m.txt

Needs Debian's python3-faiss (scripts/install-bench-deps.sh).  Runs, on the
same hashes and queries (8 dihedral variants per query, so 8 FAISS queries
per vouch query):
  - IndexBinaryFlat range_search (exhaustive),
  - IndexBinaryMultiHash range_search with configurations that are exact at
    the radius by the pigeonhole principle (nhash * (nflip + 1) > radius),
at 1 and 2 threads; checks recall on the planted near-duplicates and prints
queries/s (wall and per CPU-second, since the machine may be shared) and the
ratios vouch / FAISS from bench_match's output.
"""
import argparse
import ctypes
import re
import sys
import time

import numpy as np

try:
    import faiss
except ImportError:
    sys.exit("faiss_compare.py: needs python3-faiss (run scripts/install-bench-deps.sh); "
             "use /usr/bin/python3 if another python shadows it")


def load(d):
    meta = dict(l.split() for l in open(f"{d}/meta.txt"))
    n, nq, radius = int(meta["n"]), int(meta["queries"]), int(meta["radius"])
    off = int(meta["planted_offset"])
    db = np.fromfile(f"{d}/db.bin", dtype=np.uint8).reshape(n, 32)
    q = np.fromfile(f"{d}/queries.bin", dtype=np.uint8).reshape(nq * 8, 32)
    return db, q, nq, radius, off


def rss_mb():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1e3
    return 0.0


def trim():
    """Give freed heap back to the system so the next RSS delta is the next index's own."""
    try:
        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except OSError:
        pass


def run(index, q, nq, radius, off, threads, limit):
    faiss.omp_set_num_threads(threads)
    qn = min(nq, limit)
    t0, c0 = time.perf_counter(), time.process_time()
    # FAISS binary range search keeps distances < radius: ask for radius + 1
    lims, dist, ids = index.range_search(q[: qn * 8], radius + 1)
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    found = 0
    for k in range(qn):
        v = k % 8  # the planted entry is near variant k % 8 of query k
        row = k * 8 + v
        got = ids[lims[row]:lims[row + 1]]
        found += int((off + k) in set(got.tolist()))
    return qn / wall, qn / cpu, found / qn, qn, wall, cpu


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("dir")
    ap.add_argument("--vouch", help="bench_match output on the same data, for ratios")
    ap.add_argument("--flat-queries", type=int, default=20)
    ap.add_argument("--mih-queries", type=int, default=500)
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--only", help="run only the indexes whose name contains one of these ','-separated words")
    a = ap.parse_args()
    db, q, nq, radius, off = load(a.dir)
    n = db.shape[0]
    print(f"faiss {faiss.__version__}: n {n}, queries {nq} x 8 variants, radius {radius}")
    best = {}
    memory = {}
    configs = [("IndexBinaryFlat", None)]
    for nhash, b, nflip in ((16, 16, 1), (11, 23, 2), (8, 32, 3)):
        if nhash * (nflip + 1) > radius and nhash * b <= 256:
            configs.append((f"IndexBinaryMultiHash nhash={nhash} b={b} nflip={nflip}", (nhash, b, nflip)))
    if a.only:
        configs = [c for c in configs if any(w in c[0] for w in a.only.split(","))]
    for name, cfg in configs:
        trim()
        r0 = rss_mb()
        t0 = time.perf_counter()
        if cfg is None:
            index = faiss.IndexBinaryFlat(256)
        else:
            index = faiss.IndexBinaryMultiHash(256, cfg[0], cfg[1])
            index.nflip = cfg[2]
        index.add(db)
        build = time.perf_counter() - t0
        mem = rss_mb() - r0
        memory[name] = mem
        print(f"{name:45s} memory: +{mem:.1f} MB RSS ({mem / (n * 32 / 1e6):.2f}x the hash bytes)")
        limit = a.flat_queries if cfg is None else a.mih_queries
        for th in (int(x) for x in a.threads.split(",")):
            qps, qpc, recall, qn, wall, cpu = run(index, q, nq, radius, off, th, limit)
            print(f"{name:45s} threads {th}: {qps:9.1f} queries/s wall, {qpc:9.1f} per CPU-second "
                  f"({qn} queries, {wall:.2f} s, recall {recall:.4f}, build {build:.1f} s)")
            sys.stdout.flush()
            if recall == 1.0:
                key = th
                if key not in best or qpc > best[key][1]:
                    best[key] = (qps, qpc, name)
        del index
    if a.vouch:
        text = open(a.vouch).read()
        print("\nratios vouch / best exact FAISS index (same data, same thread count):")
        for m in re.finditer(r"^(\S+)\s+threads (\d+):\s+([\d.]+) queries/s wall,\s+([\d.]+) queries per CPU",
                             text, re.M):
            eng, th, qps, qpc = m.group(1), int(m.group(2)), float(m.group(3)), float(m.group(4))
            if th in best:
                fq, fc, fname = best[th]
                print(f"  vouch {eng:12s} threads {th}: {qps / fq:7.2f}x wall, {qpc / fc:7.2f}x per CPU-second "
                      f"(vs {fname})")
        m = re.search(r"^memory: hashes ([\d.]+) MB, .*?MIH tables ([\d.]+) MB", text, re.M)
        if m and memory:
            mine = float(m.group(2))
            print("\nmemory, vouch MIH (its tables, %.1f MB; it reads the hashes of matches only) / FAISS index:"
                  % mine)
            for name, mem in memory.items():
                if mem > 0:
                    print(f"  vs {name:45s} {mine / mem:6.2f}x ({mem:.1f} MB)")


if __name__ == "__main__":
    main()
