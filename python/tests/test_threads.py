"""Calls into libvouch release the GIL, and threads give the same results.

How the GIL test works: the switch interval is set very long, so a thread
that holds the GIL keeps it until it blocks or releases it.  A ticker
thread sleeps and counts.  The worker reads the count, makes one long
libvouch call and reads it again: the count can move in between only if the
call let the GIL go.  This does not time anything (speed is bench/'s job)."""
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest

import vouch
from conftest import pnm


def ticks_during(call):
    ticks = [0]
    done = threading.Event()

    def ticker():
        while not done.is_set():
            ticks[0] += 1
            done.wait(0.0005)
    old = sys.getswitchinterval()
    sys.setswitchinterval(30.0)
    t = threading.Thread(target=ticker)
    t.start()
    try:
        done.wait(0.01)
        before = ticks[0]
        call()
        after = ticks[0]
    finally:
        done.set()
        sys.setswitchinterval(old)
        t.join()
    return after - before


@pytest.fixture(scope="module")
def big_image():
    return pnm(3000, 2000, seed=7)


def test_the_probe_sees_a_held_gil():
    # the control: pure Python holds the GIL, so the ticker must not move
    assert ticks_during(lambda: sum(range(3_000_000))) == 0


def test_hashing_releases_the_gil(big_image):
    assert ticks_during(lambda: vouch.hash_bytes(big_image, exact=True, dihedral=True)) > 0


def test_search_releases_the_gil(tmp_path):
    import random
    rnd = random.Random(5)
    hashes = ["%064x" % rnd.getrandbits(256) for _ in range(50000)]
    b = vouch.Bank(tmp_path / "b.sqlite")
    b.create("r")
    b.import_("r", ("\n".join(hashes) + "\n").encode())
    b.build_index(tmp_path / "r.vidx")
    idx = vouch.Index(tmp_path / "r.vidx")
    queries = [tuple(hashes[i + k] for k in range(8)) for i in range(0, 800, 8)]
    got = []
    assert ticks_during(lambda: got.extend(idx.search(queries, radius=40, engine="scan"))) > 0
    assert len(got) >= 100 and all(m.distance == 0 for m in got)


def test_threads_agree(examples, big_image):
    inputs = [p.read_bytes() for p in examples] * 4 + [big_image]
    want = [vouch.hash_bytes(d, dihedral=True) for d in inputs]
    with ThreadPoolExecutor(4) as ex:
        assert list(ex.map(lambda d: vouch.hash_bytes(d, dihedral=True), inputs)) == want
