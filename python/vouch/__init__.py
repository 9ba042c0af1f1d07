"""vouch: perceptual hashing and exact hash matching, over libvouch.

    import vouch
    r = vouch.hash_file("photo.jpg")                  # r.hash (hex), r.quality
    bank = vouch.Bank("banks.sqlite"); bank.create("list-a"); bank.import_("list-a", "list.csv")
    bank.build_index("hashes.vidx")
    for m in vouch.Index("hashes.vidx").search([r], radius=31): print(m.bank, m.id, m.distance)

A thin binding: every result comes from libvouch (include/vouch/*.h).  Calls
into the library release the GIL (cffi does so on every call), so hashing and
searching on several Python threads use several cores.
"""
import os
import threading
from typing import NamedTuple, Optional, Tuple

from ._ffi import ffi, lib
from . import _ffi

__all__ = ["VouchError", "HashResult", "Match", "BankInfo", "Entry", "ImportStats", "hash_file",
           "hash_bytes", "hamming", "Index", "Bank", "version", "__version__"]


def version() -> str:
    """The version of the libvouch actually loaded."""
    return ffi.string(lib.vouch_version_string()).decode()


__version__ = "0.1.0"  # this package; version() is the library's

# The error codes of include/vouch/errors.h without their prefix:
# vouch.E_IMAGE_EMPTY == 13, and so on (VouchError.code holds one).
globals().update({n[len("VOUCH_"):]: getattr(lib, n) for n in dir(lib)
                  if n.startswith("VOUCH_E_") and not n.endswith("_")})
__all__ += sorted(n for n in globals() if n.startswith("E_"))


class VouchError(Exception):
    """A libvouch call failed.  `code` is the vouch_rc (include/vouch/errors.h),
    `code_class` its class (0, 10, 20, ...), `name` the library's description,
    `detail` the handle's error message when there is one."""

    def __init__(self, code: int, detail: str = ""):
        self.code = code
        self.code_class = lib.vouch_rc_class(code)
        self.name = ffi.string(lib.vouch_strerror(code)).decode()
        self.detail = detail
        super().__init__(f"{self.name}: {detail}" if detail else self.name)


def _check(rc: int, detail=None):
    if rc != 0:
        raise VouchError(rc, detail() if callable(detail) else (detail or ""))


def _str(p) -> Optional[str]:
    return None if p == ffi.NULL else ffi.string(p).decode("utf-8", "replace")


def _algo(name: str) -> int:
    a = lib.vouch_algo_from_name(name.encode())
    if a == 0:
        raise VouchError(lib.VOUCH_E_INVALID, f"unknown algorithm {name!r} (pdq, phash, dhash, ahash)")
    return a


def _hex(buf, n: int) -> str:
    return bytes(ffi.buffer(buf, n)).hex()


# ---------------------------------------------------------------- hashing

class HashResult(NamedTuple):
    hash: str                 # lowercase hex (64 digits for PDQ, 16 for the 64-bit hashes)
    quality: Optional[int]    # PDQ quality 0..100 (below 50: unreliable); None for the 64-bit hashes
    variants: Optional[Tuple[str, ...]]  # the 8 dihedral hashes (original first) when asked
    width: int                # full-resolution size after orientation
    height: int
    algo: str


class _Worker:
    """One decoder and hasher: libvouch's are one per thread."""

    def __init__(self, exact: bool, orient: bool):
        o = lib.vouch_decode_opts_default()
        o.apply_orientation = 1 if orient else 0
        o.min_side = 0 if exact else lib.vouch_fast_min_side()
        dec = ffi.new("vouch_decoder **")
        _check(lib.vouch_decoder_create(dec, ffi.new("vouch_decode_opts *", o)))
        self.dec = ffi.gc(dec[0], lib.vouch_decoder_free)
        h = ffi.new("vouch_hasher **")
        _check(lib.vouch_hasher_create(h))
        self.h = ffi.gc(h[0], lib.vouch_hasher_free)


_local = threading.local()


def _worker(exact: bool, orient: bool) -> _Worker:
    cache = getattr(_local, "workers", None)
    if cache is None:
        cache = _local.workers = {}
    w = cache.get((exact, orient))
    if w is None:
        w = cache[(exact, orient)] = _Worker(exact, orient)
    return w


def hash_bytes(data, algo: str = "pdq", dihedral: bool = False, exact: bool = False,
               orient: bool = True) -> HashResult:
    """Hashes an encoded image (JPEG, PNG, WebP, GIF, BMP, PNM bytes), as `vouch hash`
    does: fast mode unless `exact` (full-resolution decode, bit-exact with the PDQ
    reference), EXIF orientation applied unless `orient` is False."""
    a = _algo(algo)
    n = lib.vouch_algo_bytes(a)
    w = _worker(exact, orient)
    data = ffi.from_buffer(data)
    out = ffi.new("uint8_t[]", _ffi.DIHEDRAL_N * _ffi.HASH_MAX_BYTES)
    q = ffi.new("int *")
    wh = ffi.new("uint32_t[2]")
    rc = lib.vouch_hash_encoded(w.h, w.dec, data, len(data), a, _ffi.HASH_DIHEDRAL if dihedral else 0,
                                out, len(out), q, wh, wh + 1)
    _check(rc, lambda: _str(lib.vouch_decoder_errmsg(w.dec)))
    raw = bytes(ffi.buffer(out, n * (_ffi.DIHEDRAL_N if dihedral else 1)))
    variants = tuple(raw[i * n:(i + 1) * n].hex() for i in range(_ffi.DIHEDRAL_N)) if dihedral else None
    return HashResult(raw[:n].hex(), q[0] if q[0] >= 0 else None, variants, wh[0], wh[1],
                      _str(lib.vouch_algo_name(a)))


def hash_file(path, algo: str = "pdq", dihedral: bool = False, exact: bool = False,
              orient: bool = True) -> HashResult:
    """Reads and hashes one image file; see hash_bytes()."""
    try:
        with open(path, "rb") as f:
            # read(n) would allocate n bytes up front: check the size first
            if os.fstat(f.fileno()).st_size > _ffi.IMAGE_MAX_BYTES:
                raise VouchError(lib.VOUCH_E_IMAGE_TOO_LARGE, f"{path}: file larger than the image size limit")
            data = f.read()
    except OSError as e:
        raise VouchError(lib.VOUCH_E_IO, f"{path}: {e.strerror}") from e
    if len(data) > _ffi.IMAGE_MAX_BYTES:
        raise VouchError(lib.VOUCH_E_IMAGE_TOO_LARGE, f"{path}: file larger than the image size limit")
    try:
        return hash_bytes(data, algo, dihedral, exact, orient)
    except VouchError as e:
        raise VouchError(e.code, f"{path}: {e.detail}" if e.detail else str(path)) from None


def _hash_bytes_of(h, nbytes: int) -> bytes:
    if isinstance(h, (bytes, bytearray, memoryview)):
        b = bytes(h)
    else:
        s = h.encode() if isinstance(h, str) else None
        if s is None or len(s) != 2 * nbytes:
            raise VouchError(lib.VOUCH_E_HASH_PARSE, f"not a {2 * nbytes}-digit hex hash: {h!r}")
        out = ffi.new("uint8_t[]", nbytes)
        _check(lib.vouch_hash_from_hex(s, len(s), out, nbytes), f"not a hex hash: {h!r}")
        return bytes(ffi.buffer(out, nbytes))
    if len(b) != nbytes:
        raise VouchError(lib.VOUCH_E_HASH_PARSE, f"a hash of {len(b)} bytes where {nbytes} were expected")
    return b


def hamming(a, b) -> int:
    """Bits that differ between two hashes of one length (hex text or bytes)."""
    n = len(a) // 2 if isinstance(a, str) else len(a)
    x, y = _hash_bytes_of(a, n), _hash_bytes_of(b, n)
    return lib.vouch_hamming(x, y, n)


# ---------------------------------------------------------------- handles

class _Handle:
    """An open library handle (vouch_index, vouch_bank), freed by close(), at
    the end of a with block, or when the object is collected."""
    _h = None

    def _open(self, kind: str, path, opener, errmsg, free):
        out = ffi.new(f"{kind} **")
        rc = opener(out)
        if rc != 0:
            detail = _str(errmsg(out[0])) if out[0] != ffi.NULL else ""
            free(out[0])
            raise VouchError(rc, f"{path}: {detail}" if detail else str(path))
        self._h = ffi.gc(out[0], free)

    def _live(self):
        if self._h is None:
            raise VouchError(lib.VOUCH_E_INVALID, f"{type(self).__name__.lower()} is closed")
        return self._h

    def close(self):
        """Releases the handle now (a no-op when already closed)."""
        if self._h is not None:
            h, self._h = self._h, None
            ffi.release(h)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


# ---------------------------------------------------------------- index

class Match(NamedTuple):
    query: int        # position of the query in the search() call
    bank: str
    id: Optional[str]  # the external id the list gave, None when it gave none
    source: Optional[str]
    distance: int     # smallest distance over the query's variants
    variant: int      # the variant that gave it (0 = original; see vouch_dihedral)
    hash: str         # the entry's hash
    entry: int        # entry number in the index file
    entry_id: int     # the entry's number in the bank database


class Index(_Handle):
    """An index file (`vouch index build`, Bank.build_index()), opened read-only,
    memory-mapped and validated.  Searches are exact and may run on several
    threads at once."""

    def __init__(self, path, threads: int = 1):
        cfg = lib.vouch_index_config_default()
        cfg.build_threads = max(1, threads)
        self._open("vouch_index", path,
                   lambda out: lib.vouch_index_open(out, str(path).encode(), ffi.new("vouch_index_config *", cfg)),
                   lib.vouch_index_errmsg, lib.vouch_index_free)
        self.algo = _str(lib.vouch_algo_name(lib.vouch_index_algo(self._h)))
        self.hash_bytes = lib.vouch_index_hash_bytes(self._h)
        self.banks = tuple(_str(lib.vouch_index_bank_name(self._h, i))
                           for i in range(lib.vouch_index_bank_count(self._h)))

    def __len__(self) -> int:
        return lib.vouch_index_count(self._live())

    def _queries(self, hashes):
        """Each query is a hash (hex or bytes), a HashResult (its dihedral variants
        when it has them), or a sequence of 1..8 variant hashes.  All queries of
        one call must have the same number of variants (libvouch's batch shape)."""
        n = self.hash_bytes
        rows = []
        for q in hashes:
            if isinstance(q, HashResult):
                q = q.variants if q.variants else (q.hash,)
            elif isinstance(q, (str, bytes, bytearray, memoryview)):
                q = (q,)
            rows.append(b"".join(_hash_bytes_of(v, n) for v in q))
        nvar = len(rows[0]) // n if rows else 1
        if not 1 <= nvar <= _ffi.DIHEDRAL_N or any(len(r) != nvar * n for r in rows):
            raise VouchError(lib.VOUCH_E_INVALID, "every query of one search needs the same number (1..8) of variants")
        return b"".join(rows), nvar

    def search(self, hashes, radius: Optional[int] = None, engine: str = "auto",
               threads: int = 1):
        """Every entry within `radius` (default 31 for PDQ, 10 for the 64-bit
        hashes) of at least one variant of each query, as a list of Match,
        ordered by query, then distance, then entry.  The search itself runs
        without the GIL; `threads` > 1 also splits one call over threads."""
        idx = self._live()
        buf, nvar = self._queries(hashes)
        nq = len(buf) // (nvar * self.hash_bytes)
        if nq == 0:
            return []
        algo = lib.vouch_index_algo(idx)
        opts = ffi.new("vouch_search_opts *")
        opts.radius = lib.vouch_default_radius(algo) if radius is None else radius
        if engine not in _ffi.ENGINES:
            raise VouchError(lib.VOUCH_E_INVALID, f"unknown engine {engine!r} (auto, scan, mih)")
        opts.engine = _ffi.ENGINES[engine]
        opts.threads = threads
        out = ffi.new("vouch_match **")
        nout = ffi.new("size_t *")
        _check(lib.vouch_index_search(idx, buf, nq, nvar, opts, out, nout))
        try:
            return [self._match(out[0][i]) for i in range(nout[0])]
        finally:
            lib.vouch_matches_free(out[0])

    def _match(self, m) -> Match:
        e = ffi.new("vouch_index_entry *")
        _check(lib.vouch_index_get(self._h, m.entry, e))
        ext = bytes(ffi.buffer(e.ext_id, e.ext_len)).decode("utf-8", "replace") if e.ext_len else None
        src = bytes(ffi.buffer(e.source, e.src_len)).decode("utf-8", "replace") if e.src_len else None
        return Match(m.query, self.banks[e.bank], ext, src, m.distance, m.variant,
                     _hex(e.hash, self.hash_bytes), m.entry, e.entry_id)


# ---------------------------------------------------------------- banks

class BankInfo(NamedTuple):
    name: str
    algo: str
    enabled: bool
    entries: int
    enabled_entries: int
    created_at: int


class Entry(NamedTuple):
    hash: str
    id: Optional[str]        # external id
    sources: Optional[str]   # sorted, ','-joined
    tags: Optional[str]
    enabled: bool
    added_at: int
    entry: int               # the entry's number in the bank file
    disabled_until: int = 0  # out of index builds until this time (Unix s); 0: not set
    second: Optional[str] = None  # the second hash its source supplied (hex), or None


class ImportStats(NamedTuple):
    added: int
    merged: int
    bad: int
    format: str
    errors: Tuple[Tuple[int, str], ...]  # (line, message) of each bad line


class Bank(_Handle):
    """A bank file (SQLite): named hash lists with provenance.  One handle is
    used by one thread at a time; open one per thread."""

    def __init__(self, path, create: bool = True, readonly: bool = False):
        flags = (_ffi.BANK_OPEN_READONLY if readonly else 0) | (_ffi.BANK_OPEN_CREATE if create and not readonly else 0)
        self._open("vouch_bank", path, lambda out: lib.vouch_bank_open(out, str(path).encode(), flags),
                   lib.vouch_bank_errmsg, lib.vouch_bank_free)
        self.path = str(path)

    def _call(self, rc):
        _check(rc, lambda: _str(lib.vouch_bank_errmsg(self._h)))

    def create(self, name: str, algo: str = "pdq"):
        self._call(lib.vouch_bank_create(self._live(), name.encode(), _algo(algo)))

    def remove(self, name: str):
        self._call(lib.vouch_bank_remove(self._live(), name.encode()))

    def set_enabled(self, name: str, enabled: bool, entry: Optional[str] = None, by: str = "id") -> int:
        """Enables or disables a whole bank, or with `entry` the entries selected
        by it (`by`: "id" external id, "hash" hex hash, "entry" entry number).
        Returns how many entries changed (1 for a whole bank)."""
        if entry is None:
            self._call(lib.vouch_bank_set_enabled(self._live(), name.encode(), 1 if enabled else 0))
            return 1
        if by not in _ffi.SELECTORS:
            raise VouchError(lib.VOUCH_E_INVALID, f"unknown selector {by!r} (id, hash, entry)")
        changed = ffi.new("size_t *")
        self._call(lib.vouch_bank_entry_set_enabled(self._live(), name.encode(), _ffi.SELECTORS[by],
                                                    str(entry).encode(), 1 if enabled else 0, changed))
        return changed[0]

    def list(self):
        """The banks, by name, as BankInfo."""
        out = []

        @ffi.callback("int(void *, const vouch_bank_info *)")
        def cb(_ctx, i):
            out.append(BankInfo(_str(i.name), _str(lib.vouch_algo_name(i.algo)), bool(i.enabled),
                                i.entries, i.enabled_entries, i.created_at))
            return 0
        self._call(lib.vouch_bank_list(self._live(), ffi.NULL, cb, ffi.NULL))
        return out

    def import_(self, name: str, data, source: Optional[str] = None, format: str = "auto",
                column: Optional[str] = None, strict: bool = False) -> ImportStats:
        """Imports a hash list (hex per line, CSV/TSV with a header, JSON Lines;
        detected unless `format` says) into bank `name`, in one transaction.
        `data` is a path (str or os.PathLike) to read, or the list itself as
        bytes; a path also gives the default source (its file name), as
        `vouch bank import` does.  Bad lines are skipped and reported in
        .errors, unless `strict`: then nothing is imported and VouchError
        is raised."""
        if isinstance(data, str) or hasattr(data, "__fspath__"):
            p = os.fspath(data)
            try:
                with open(p, "rb") as f:
                    data = f.read()
            except OSError as e:
                raise VouchError(lib.VOUCH_E_IO, f"{p}: {e.strerror}") from e
            if source is None:
                source = os.path.basename(p)
        if format not in _ffi.LIST_FORMATS:
            raise VouchError(lib.VOUCH_E_INVALID, f"unknown list format {format!r} (auto, hex, csv, tsv, jsonl)")
        errors = []

        @ffi.callback("int(void *, size_t, const char *)")
        def on_error(_ctx, line, msg):
            errors.append((line, _str(msg)))
            return 0
        keep = []
        o = ffi.new("vouch_import_opts *")
        o.list.format = _ffi.LIST_FORMATS[format]
        if column is not None:
            keep.append(ffi.new("char[]", column.encode()))
            o.list.column = keep[-1]
        if source is not None:
            keep.append(ffi.new("char[]", source.encode()))
            o.source = keep[-1]
        o.strict = 1 if strict else 0
        o.error = on_error
        st = ffi.new("vouch_import_stats *")
        buf = ffi.from_buffer(data)
        self._call(lib.vouch_bank_import(self._live(), name.encode(), ffi.cast("const char *", buf), len(buf), o, st))
        return ImportStats(st.added, st.merged, st.bad, _str(lib.vouch_list_format_name(st.format)),
                           tuple(errors))

    def export(self, name: str, path=None, format: str = "hex"):
        """The entries of bank `name` in hash order, as a list of Entry.  With
        `path`, also writes them there as `vouch bank export` does: "hex" (one
        hash per line), "csv" (the library's VOUCH_BANK_CSV_HEADER columns) or
        "jsonl"."""
        out, csv_lines = [], []

        @ffi.callback("int(void *, const vouch_bank_entry *)")
        def cb(_ctx, e):
            out.append(Entry(_hex(e.hash, e.hash_bytes), _str(e.ext_id), _str(e.sources), _str(e.tags),
                             bool(e.enabled), e.added_at, e.id, e.disabled_until,
                             _hex(e.second, _DERIV_HASH_BYTES) if e.second != ffi.NULL else None))
            if path is not None and format == "csv":
                # the library writes the CSV line, as for `vouch bank export` and vouchd
                n = lib.vouch_bank_entry_csv(e, ffi.NULL, 0)
                buf = ffi.new("char[]", n + 1)
                lib.vouch_bank_entry_csv(e, buf, n + 1)
                csv_lines.append(ffi.string(buf).decode())
            return 0
        self._call(lib.vouch_bank_entries(self._live(), name.encode(), cb, ffi.NULL))
        if path is not None:
            _write_entries(path, out, format, csv_lines)
        return out

    def build_index(self, path, banks=None) -> int:
        """Writes an index of the enabled entries of the enabled banks among
        `banks` (all when None) to `path`; returns the entry count."""
        names = [ffi.new("char[]", b.encode()) for b in (banks or [])]
        arr = ffi.new("const char *[]", names) if names else ffi.NULL
        count = ffi.new("size_t *")
        self._call(lib.vouch_bank_build_index(self._live(), arr, len(names), str(path).encode(), ffi.NULL, count))
        return count[0]


# VOUCH_DERIV_HASH_BYTES of vouch/hash.h: the bytes of an entry's second hash
_DERIV_HASH_BYTES = 256

# VOUCH_BANK_CSV_HEADER of vouch/bank.h (a macro: ABI mode cannot read it;
# tests/test_abi.py checks the two agree)
_BANK_CSV_HEADER = "hash,id,sources,tags,enabled,added_at,entry,second_hash\n"


def _write_entries(path, entries, format: str, csv_lines):
    import json
    if format not in ("hex", "csv", "jsonl"):
        raise VouchError(lib.VOUCH_E_INVALID, f"export format is hex, csv or jsonl, not {format!r}")
    with open(path, "w", newline="") as f:
        if format == "hex":
            f.writelines(e.hash + "\n" for e in entries)
        elif format == "csv":
            f.write(_BANK_CSV_HEADER)
            f.writelines(csv_lines)
        else:
            for e in entries:
                d = {"hash": e.hash, "entry": e.entry}
                d.update({k: v for k, v in (("id", e.id), ("source", e.sources), ("tags", e.tags)) if v is not None})
                if e.disabled_until:
                    d["disabled_until"] = e.disabled_until
                if e.second:
                    d["second_hash"] = e.second
                d.update(enabled=e.enabled, added_at=e.added_at)
                f.write(json.dumps(d, separators=(",", ":")) + "\n")
