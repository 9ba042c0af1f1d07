#!/usr/bin/env python3
"""Speed of the Python package against the C it wraps, measured in the same run.

  VOUCH_LIBRARY=build/libvouch.so.0 /usr/bin/python3 bench/python_bench.py [--vouch build/vouch] [FILES...]

1. Hashing: the files (default: examples/*.jpg, repeated to --n inputs) hashed
   by `vouch hash -j 1` (one process, one core) against vouch.hash_file() in a
   loop on one thread: ratio = Python time / CLI time (1.0 = no overhead; the
   CLI's time includes its start-up).  Then vouch.hash_file() on 1, 2, ...
   --threads Python threads, against `vouch hash -j N`: threads scale only
   if the binding releases the GIL.  "cores" is CPU time over wall time of
   one run: how many cores the run kept busy, a measure of parallelism that
   holds on a shared machine better than the rates.
2. Search: --queries PDQ queries of 8 variants against an index of --entries
   random hashes (radius 31, MIH): Index.search() (one batch, Match objects
   built) against the bare vouch_index_search() call on the same buffer,
   and one Index.search() call per query.
Timings are best of --repeat runs.  The machine may be shared: say so with
any figure you quote.
"""
import argparse
import os
import pathlib
import random
import resource
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "python"))
if "VOUCH_LIBRARY" not in os.environ and (ROOT / "build" / "libvouch.so.0").exists():
    os.environ["VOUCH_LIBRARY"] = str(ROOT / "build" / "libvouch.so.0")
import vouch  # noqa: E402
from vouch._ffi import ffi, lib  # noqa: E402


def best(fn, repeat):
    t = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        t.append(time.perf_counter() - t0)
    return min(t)


def cores(fn, children=False):
    """CPU time over wall time of one run of fn: how many cores it kept busy
    (this process's threads, or with `children` its child processes).  On a
    shared machine this shows parallelism where wall-clock rates cannot: a
    binding that held the GIL could not use more than one core."""
    who = resource.RUSAGE_CHILDREN if children else resource.RUSAGE_SELF
    r0, t0 = resource.getrusage(who), time.perf_counter()
    fn()
    r1, t1 = resource.getrusage(who), time.perf_counter()
    return (r1.ru_utime - r0.ru_utime + r1.ru_stime - r0.ru_stime) / (t1 - t0)


def bench_hash(a, files):
    def cli(jobs):
        p = subprocess.run([a.vouch, "hash", "-j", str(jobs), *files], capture_output=True, text=True)
        if p.returncode != 0:
            sys.exit("vouch hash failed: " + p.stderr[-500:])
        return p.stdout.split()[0::3]

    want = cli(1)
    got = [vouch.hash_file(f).hash for f in files]
    if got != want:
        sys.exit("the package's hashes differ from the CLI's")
    print(f"hashing {len(files)} files (fast mode, PDQ):")
    base = None
    for n in range(1, a.threads + 1):
        t_cli = best(lambda: cli(n), a.repeat)
        c_cli = cores(lambda: cli(n), children=True)
        with ThreadPoolExecutor(n) as ex:
            t_py = best(lambda: list(ex.map(vouch.hash_file, files)), a.repeat)
            c_py = cores(lambda: list(ex.map(vouch.hash_file, files)))
        base = base or t_py
        print(f"  {n} thread{'s' if n > 1 else ' '}: vouch hash -j {n} {len(files) / t_cli:7.1f} images/s "
              f"({c_cli:4.2f} cores)   python {len(files) / t_py:7.1f} images/s ({c_py:4.2f} cores)   "
              f"python/CLI time {t_py / t_cli:5.2f}   python speed-up over 1 thread {base / t_py:4.2f}")


def bench_search(a):
    rnd = random.Random(1)
    with tempfile.TemporaryDirectory() as d:
        hashes = ["%064x" % rnd.getrandbits(256) for _ in range(a.entries)]
        b = vouch.Bank(os.path.join(d, "b.sqlite"))
        b.create("r")
        b.import_("r", ("\n".join(hashes) + "\n").encode())
        b.build_index(os.path.join(d, "r.vidx"))
        idx = vouch.Index(os.path.join(d, "r.vidx"))
        # each query: a stored hash with 8 bits flipped (a match at distance 8) and 7 random variants
        queries = []
        for i in range(a.queries):
            h = bytearray.fromhex(hashes[rnd.randrange(a.entries)])
            for bit in rnd.sample(range(256), 8):
                h[bit // 8] ^= 1 << (bit % 8)
            queries.append((bytes(h),) + tuple(rnd.getrandbits(256).to_bytes(32, "big") for _ in range(7)))
        buf = b"".join(b"".join(q) for q in queries)
        opts = ffi.new("vouch_search_opts *", {"radius": 31, "engine": 0, "threads": 1})

        def bare():
            out, nout = ffi.new("vouch_match **"), ffi.new("size_t *")
            if lib.vouch_index_search(idx._h, buf, len(queries), 8, opts, out, nout) != 0:
                sys.exit("vouch_index_search failed")
            lib.vouch_matches_free(out[0])
            return nout[0]

        found = idx.search(queries, radius=31)
        if len(found) < len(queries) or bare() != len(found):
            sys.exit("search results disagree")
        t_c = best(bare, a.repeat)
        t_py = best(lambda: idx.search(queries, radius=31), a.repeat)
        t_one = best(lambda: [idx.search([q], radius=31) for q in queries], a.repeat)
        print(f"search: {a.queries} queries x 8 variants, radius 31, {a.entries} entries, 1 thread:")
        print(f"  vouch_index_search() {len(queries) / t_c:9.0f} queries/s")
        print(f"  Index.search(batch)  {len(queries) / t_py:9.0f} queries/s   ratio to C {t_py / t_c:5.2f}")
        print(f"  Index.search(1 each) {len(queries) / t_one:9.0f} queries/s   ratio to C {t_one / t_c:5.2f}")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("files", nargs="*")
    ap.add_argument("--vouch", default=str(ROOT / "build" / "vouch"))
    ap.add_argument("--n", type=int, default=200, help="inputs for the hashing runs (files repeated)")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--queries", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    a = ap.parse_args()
    files = a.files or sorted(str(p) for p in (ROOT / "examples").glob("*.jpg"))
    files = (files * (a.n // len(files) + 1))[:max(a.n, len(files))] if not a.files else files
    print(f"libvouch {vouch.version()} ({os.environ.get('VOUCH_LIBRARY', 'system')}), python {sys.version.split()[0]}")
    bench_hash(a, files)
    bench_search(a)


if __name__ == "__main__":
    main()
