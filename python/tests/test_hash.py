import csv
import json
import os
import pathlib

import pytest

import vouch
from conftest import pnm


def cli_json(cli, *args):
    rc, out = cli("hash", "--json", *args)
    assert rc == 0
    return [json.loads(line) for line in out.splitlines()]


@pytest.mark.parametrize("extra,kw", [((), {}), (("--exact",), {"exact": True}),
                                      (("--algo", "phash"), {"algo": "phash"}),
                                      (("--algo", "dhash", "--no-orient"), {"algo": "dhash", "orient": False})])
def test_same_as_cli(cli, examples, extra, kw):
    want = cli_json(cli, "--dihedral", *extra, *examples)
    assert len(want) == len(examples) >= 5
    for path, w in zip(examples, want):
        r = vouch.hash_file(path, dihedral=True, **kw)
        assert (r.hash, r.algo, r.width, r.height) == (w["hash"], w["algo"], w["width"], w["height"])
        assert r.quality == w["quality"]
        assert list(r.variants) == w["dihedral"]
        assert r.variants[0] == r.hash
        plain = vouch.hash_file(path, **kw)
        assert plain.variants is None and plain.hash == r.hash


def test_known_answer(examples):
    # README's example output (`vouch hash examples/bridge-blurred.jpg`)
    r = vouch.hash_file(next(p for p in examples if p.name == "bridge-blurred.jpg"))
    assert r == ("f8f8f0cee0f4a84f0637022a038f67f0b36e26d596621e1d33e6b39c4e9c9b22", 100, None, 1600, 1004, "pdq")


def test_bytes_and_file_agree(examples, tmp_path):
    for p in examples:
        assert vouch.hash_bytes(p.read_bytes()) == vouch.hash_file(p)
    img = pnm(200, 120)
    (tmp_path / "x.pgm").write_bytes(img)
    assert vouch.hash_bytes(bytearray(img)) == vouch.hash_file(tmp_path / "x.pgm")
    assert vouch.hash_bytes(memoryview(img)).width == 200


def test_hamming():
    a = "f8f8f0cee0f4a84f0637022a038f67f0b36e26d596621e1d33e6b39c4e9c9b22"
    b = "f8f8f0cee0f4a84f0637022a038f67f0b36e26d596621e1d33e6b39c4e9c9b23"
    assert vouch.hamming(a, a) == 0 and vouch.hamming(a, b) == 1
    assert vouch.hamming(bytes(32), b"\xff" * 32) == 256
    with pytest.raises(vouch.VouchError) as e:
        vouch.hamming(a, "zz" * 32)
    assert e.value.code == 20


@pytest.mark.parametrize("data,code", [(b"", 13), (b"not an image at all", 10),
                                       (b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 40, 11)])
def test_errors_carry_codes(data, code):
    with pytest.raises(vouch.VouchError) as e:
        vouch.hash_bytes(data)
    assert e.value.code == code
    assert code in (vouch.E_IMAGE_EMPTY, vouch.E_IMAGE_FORMAT, vouch.E_IMAGE_CORRUPT)
    assert e.value.code_class == 10
    assert e.value.name  # vouch_strerror()


def test_file_and_argument_errors(tmp_path):
    with pytest.raises(vouch.VouchError) as e:
        vouch.hash_file(tmp_path / "missing.jpg")
    assert e.value.code == 50 and "missing.jpg" in str(e.value)
    with pytest.raises(vouch.VouchError) as e:
        vouch.hash_bytes(pnm(8, 8), algo="sha1")
    assert e.value.code == 2


def test_reference_vectors():
    # Meta's PDQ reference on the shared vectors (as unit/test_pdq): full-resolution
    # decode, EXIF ignored; hash, quality and all 8 dihedral variants, bit-exact
    shared = os.environ.get("VOUCH_SHARED")
    csv_path = pathlib.Path(shared or "/nonexistent") / "testdata" / "pdq" / "expected" / "reference_fullres.csv"
    if not csv_path.exists():
        pytest.skip("shared/testdata/pdq absent (VOUCH_SHARED)")
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) >= 64
    for row in rows:
        r = vouch.hash_file(csv_path.parents[1] / row["file"], exact=True, orient=False, dihedral=True)
        want = [row[k] for k in ("pdq", "rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1", "flipminus1")]
        assert (r.hash, r.quality, list(r.variants), r.width, r.height) == (
            row["pdq"], int(row["quality"]), want, int(row["width"]), int(row["height"])), row["file"]
