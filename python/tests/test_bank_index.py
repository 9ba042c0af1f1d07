import json

import pytest

import vouch


@pytest.fixture
def bank(tmp_path, examples):
    """A bank with the examples' hashes (one disabled) and a few bad lines."""
    hashes = [vouch.hash_file(p).hash for p in examples]
    lines = ["hash,id,tags"] + [f"{h},ex{i},t{i}" for i, h in enumerate(hashes)] + ["nothex,bad,", "12,short,"]
    lst = tmp_path / "list.csv"
    lst.write_text("\n".join(lines) + "\n")
    db = tmp_path / "banks.sqlite"
    b = vouch.Bank(db)
    b.create("list-a")
    st = b.import_("list-a", lst)
    assert (st.added, st.merged, st.bad, st.format) == (len(hashes), 0, 2, "csv")
    assert [line for line, _ in st.errors] == [len(lines) - 1, len(lines)]
    assert b.set_enabled("list-a", False, entry="ex1") == 1
    return b, db, lst, hashes


def test_bank_list_export(bank, cli, tmp_path):
    b, db, lst, hashes = bank
    (info,) = b.list()
    assert (info.name, info.algo, info.enabled, info.entries, info.enabled_entries) == (
        "list-a", "pdq", True, len(hashes), len(hashes) - 1)
    entries = b.export("list-a")
    assert sorted(e.hash for e in entries) == sorted(hashes)
    assert {e.id: e.sources for e in entries} == {f"ex{i}": "list.csv" for i in range(len(hashes))}
    assert not next(e for e in entries if e.id == "ex1").enabled
    for fmt in ("hex", "csv", "jsonl"):
        out = tmp_path / f"out.{fmt}"
        b.export("list-a", out, format=fmt)
        rc, want = cli("bank", "export", "--db", db, "list-a", "--format", fmt)
        assert rc == 0 and out.read_text() == want


def test_bank_errors(bank, tmp_path):
    b, db, lst, hashes = bank
    with pytest.raises(vouch.VouchError) as e:
        b.create("list-a")
    assert e.value.code == 7  # VOUCH_E_EXISTS
    with pytest.raises(vouch.VouchError) as e:
        b.import_("nope", lst)
    assert e.value.code == 6  # VOUCH_E_NOT_FOUND
    with pytest.raises(vouch.VouchError) as e:
        b.import_("list-a", b"0123\n", format="hex", strict=True)
    assert e.value.code == 20  # VOUCH_E_HASH_PARSE: strict, nothing added
    assert len(b.export("list-a")) == len(hashes)
    st = b.import_("list-a", ("\n".join(hashes[:2]) + "\n").encode(), source="other")
    assert (st.added, st.merged, st.format) == (0, 2, "hex")
    with pytest.raises(vouch.VouchError) as e:
        b.set_enabled("list-a", False, entry="x", by="tag")
    assert e.value.code == 2
    with vouch.Bank(db, readonly=True) as ro:
        assert len(ro.export("list-a")) == len(hashes)
        with pytest.raises(vouch.VouchError) as e:
            ro.create("list-b")
        assert e.value.code_class == 20  # VOUCH_E_DB: a read-only handle
    with pytest.raises(vouch.VouchError) as e:
        ro.list()
    assert e.value.code == 2 and "closed" in str(e.value)
    (tmp_path / "junk.sqlite").write_bytes(b"x" * 4096)
    with pytest.raises(vouch.VouchError) as e:
        vouch.Bank(tmp_path / "junk.sqlite")
    assert e.value.code_class == 20


def test_index_search_matches_cli(bank, cli, examples, tmp_path):
    b, db, lst, hashes = bank
    vidx = tmp_path / "h.vidx"
    assert b.build_index(vidx) == len(hashes) - 1
    idx = vouch.Index(vidx)
    assert len(idx) == len(hashes) - 1 and idx.banks == ("list-a",) and idx.algo == "pdq"
    queries = [vouch.hash_file(p, dihedral=True) for p in examples]
    got = idx.search(queries, radius=31)
    rc, out = cli("match", "--index", vidx, "--dihedral", "--json", "--radius", "31", *examples)
    assert rc == 1  # matches found
    want = [json.loads(line) for line in out.splitlines()]
    want = [(m["query"], m["id"], m["distance"], m["variant"]) for m in want]
    names = ["original", "rot90", "rot180", "rot270", "flipx", "flipy", "flipplus1", "flipminus1"]
    assert sorted((str(examples[m.query]), m.id, m.distance, names[m.variant]) for m in got) == sorted(want)
    assert all(m.bank == "list-a" and m.source == "list.csv" for m in got)
    # the disabled entry is not in the index; every other example finds itself at distance 0
    for i, p in enumerate(examples):
        own = [m for m in got if m.query == i and m.hash == hashes[i]]
        assert (own == []) if i == 1 else (own[0].distance == 0 and own[0].id == f"ex{i}")
    # plain hashes, bytes, one engine against the other, radius 0
    one = idx.search([hashes[0], bytes.fromhex(hashes[2])], radius=0)
    assert [(m.query, m.id, m.distance) for m in one] == [(0, "ex0", 0), (1, "ex2", 0)]
    for engine in ("scan", "mih"):
        assert idx.search(queries, radius=31, engine=engine, threads=2) == got
    assert idx.search([]) == []


def test_index_errors(bank, tmp_path):
    b, db, lst, hashes = bank
    with pytest.raises(vouch.VouchError) as e:
        vouch.Index(tmp_path / "none.vidx")
    assert e.value.code == 50
    vidx = tmp_path / "h.vidx"
    b.build_index(vidx)
    raw = bytearray(vidx.read_bytes())
    raw[len(raw) // 2] ^= 1
    (tmp_path / "bad.vidx").write_bytes(bytes(raw))
    with pytest.raises(vouch.VouchError) as e:
        vouch.Index(tmp_path / "bad.vidx")
    assert e.value.code == 21  # VOUCH_E_DB_CORRUPT
    idx = vouch.Index(vidx)
    with pytest.raises(vouch.VouchError) as e:
        idx.search([hashes[0][:16]])
    assert e.value.code == 20
    with pytest.raises(vouch.VouchError) as e:
        idx.search([hashes[0], (hashes[0], hashes[1])])
    assert e.value.code == 2
    with pytest.raises(vouch.VouchError) as e:
        idx.search([hashes[0]], engine="fast")
    assert e.value.code == 2
    idx.close()
    with pytest.raises(vouch.VouchError):
        idx.search([hashes[0]])
