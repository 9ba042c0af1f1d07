"""`pip install ./python` (offline: --no-build-isolation, Debian's setuptools)
gives a package that imports and hashes from outside the source tree."""
import os
import shutil
import subprocess
import sys

import vouch
from conftest import SRC


def test_pip_install(tmp_path, examples):
    target = tmp_path / "site"
    # from a copy: the build writes build/ and *.egg-info next to the sources
    src = tmp_path / "python"
    shutil.copytree(SRC / "python", src, ignore=shutil.ignore_patterns("__pycache__", "build", "*.egg-info", "tests"))
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-build-isolation", "--no-deps", "--no-index",
                        "--target", str(target), str(src)], capture_output=True, text=True, timeout=300,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    assert (target / "vouch" / "_ffi.py").exists()
    env = dict(os.environ, PYTHONPATH=str(target))
    code = "import vouch, sys; print(vouch.__file__); print(vouch.hash_file(sys.argv[1]).hash)"
    out = subprocess.run([sys.executable, "-c", code, str(examples[0])], capture_output=True, text=True,
                         env=env, cwd=tmp_path, check=True).stdout.split()
    assert out[0].startswith(str(target))
    assert out[1] == vouch.hash_file(examples[0]).hash
