"""`pip install ./python` with no access to any index (the package's own
build backend needs nothing but the standard library) gives a package that
imports and hashes from outside the source tree."""
import os
import shutil
import subprocess
import sys
import tarfile

import vouch
from conftest import SRC


def test_pip_install(tmp_path, examples):
    target = tmp_path / "site"
    # from a copy, so that nothing is written next to the sources
    src = tmp_path / "python"
    shutil.copytree(SRC / "python", src, ignore=shutil.ignore_patterns("__pycache__", "tests"))
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index",
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


def test_sdist_builds_and_installs(tmp_path):
    sys.path.insert(0, str(SRC / "python" / "_build_backend"))
    try:
        import vouch_build
    finally:
        sys.path.pop(0)
    name = vouch_build.build_sdist(str(tmp_path))
    assert name == f"vouch-{vouch.__version__}.tar.gz"
    with tarfile.open(tmp_path / name) as t:
        names = set(t.getnames())
    base = f"vouch-{vouch.__version__}"
    assert {f"{base}/{p}" for p in ("pyproject.toml", "PKG-INFO", "vouch/__init__.py", "vouch/_ffi.py",
                                    "_build_backend/vouch_build.py")} <= names
    p = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "--target",
                        str(tmp_path / "site"), str(tmp_path / name)], capture_output=True, text=True, timeout=300,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stdout + p.stderr
    meta = next((tmp_path / "site").glob("vouch-*.dist-info")) / "METADATA"
    assert "Requires-Dist: cffi>=1.15" in meta.read_text()
