"""The package's PEP 517 build backend: writes the pure-Python wheel (and an
sdist) with the standard library only.

With it `pip install ./python` needs nothing beyond pip itself: no
setuptools or wheel to download into the isolated build environment (the
machines vouch is tested on have no access to PyPI), and the same command
works with Debian's python3 and any other.  The wheel holds vouch/*.py and
the dist-info files the wheel format requires (PEP 427, core metadata 2.1).
"""
import base64
import hashlib
import io
import os
import re
import tarfile
import zipfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
NAME = "vouch"
SUMMARY = "Perceptual hashing (PDQ, pHash, dHash, aHash), hash banks and exact matching over libvouch"
REQUIRES = ["cffi>=1.15"]
REQUIRES_PYTHON = ">=3.9"


def _version():
    with open(os.path.join(ROOT, NAME, "__init__.py"), encoding="utf-8") as f:
        return re.search(r'^__version__ = "([^"]+)"', f.read(), re.M).group(1)


def _metadata(version):
    lines = ["Metadata-Version: 2.1", f"Name: {NAME}", f"Version: {version}", f"Summary: {SUMMARY}",
             f"Requires-Python: {REQUIRES_PYTHON}"] + [f"Requires-Dist: {r}" for r in REQUIRES]
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    return "\n".join(lines + ["Description-Content-Type: text/markdown", "", readme])


def _sources():
    pkg = os.path.join(ROOT, NAME)
    return sorted(f"{NAME}/{n}" for n in os.listdir(pkg) if n.endswith(".py"))


def get_requires_for_build_wheel(config_settings=None):
    return []


def get_requires_for_build_sdist(config_settings=None):
    return []


def build_wheel(wheel_directory, config_settings=None, metadata_directory=None):
    version = _version()
    info = f"{NAME}-{version}.dist-info"
    files = [(p, open(os.path.join(ROOT, p), "rb").read()) for p in _sources()]
    files.append((f"{info}/METADATA", _metadata(version).encode()))
    files.append((f"{info}/WHEEL", b"Wheel-Version: 1.0\nGenerator: vouch_build\nRoot-Is-Purelib: true\n"
                                   b"Tag: py3-none-any\n"))
    record = io.StringIO()
    for path, data in files:
        digest = base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
        record.write(f"{path},sha256={digest},{len(data)}\n")
    record.write(f"{info}/RECORD,,\n")
    files.append((f"{info}/RECORD", record.getvalue().encode()))
    name = f"{NAME}-{version}-py3-none-any.whl"
    with zipfile.ZipFile(os.path.join(wheel_directory, name), "w", zipfile.ZIP_DEFLATED) as z:
        for path, data in files:
            zi = zipfile.ZipInfo(path, date_time=(1980, 1, 1, 0, 0, 0))
            zi.external_attr = 0o644 << 16
            z.writestr(zi, data, zipfile.ZIP_DEFLATED)
    return name


def build_sdist(sdist_directory, config_settings=None):
    version = _version()
    base = f"{NAME}-{version}"
    name = f"{base}.tar.gz"
    keep = ["pyproject.toml", "README.md", "_build_backend/vouch_build.py"] + _sources()
    with tarfile.open(os.path.join(sdist_directory, name), "w:gz", format=tarfile.PAX_FORMAT) as t:
        for p in keep:
            t.add(os.path.join(ROOT, p), f"{base}/{p}")
        pkg_info = _metadata(version).encode()
        ti = tarfile.TarInfo(f"{base}/PKG-INFO")
        ti.size = len(pkg_info)
        t.addfile(ti, io.BytesIO(pkg_info))
    return name
