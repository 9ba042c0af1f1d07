"""Shared fixtures.  ctest (CMakeLists.txt) sets VOUCH_LIBRARY to the
libvouch.so.0 it built, VOUCH_SRC to the source tree and VOUCH_BIN to the
`vouch` command, whose output the tests compare with the package's."""
import os
import pathlib
import subprocess
import sys

import pytest

# the tests test the package next to them (test_install.py checks an installed copy)
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

SRC = pathlib.Path(os.environ.get("VOUCH_SRC", pathlib.Path(__file__).resolve().parents[2]))
BIN = os.environ.get("VOUCH_BIN", str(SRC / "build" / "vouch"))
if "VOUCH_LIBRARY" not in os.environ and (SRC / "build" / "libvouch.so.0").exists():
    os.environ["VOUCH_LIBRARY"] = str(SRC / "build" / "libvouch.so.0")


@pytest.fixture(scope="session")
def examples():
    return sorted((SRC / "examples").glob("*.jpg"))


@pytest.fixture(scope="session")
def cli():
    """Runs the `vouch` command; returns (exit status, stdout)."""
    def run(*args, stdin=None):
        p = subprocess.run([BIN, *map(str, args)], input=stdin, capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout
    return run


def pnm(width, height, seed=1):
    """A binary PGM of pseudo-random grey pixels (a deterministic LCG)."""
    x = seed
    px = bytearray(width * height)
    for i in range(0, len(px), 4):
        x = (x * 1103515245 + 12345) & 0x7FFFFFFF
        px[i:i + 4] = x.to_bytes(4, "little")
    return b"P5\n%d %d\n255\n" % (width, height) + bytes(px[:width * height])
