"""The hand-written cdef in vouch/_ffi.py against the real headers: a C
program repeats the cdef's function prototypes after the headers (C rejects
a redeclaration whose types differ: "conflicting types") and prints the size
and every field's offset and size of every struct the cdef declares, and
the value of every error code, which must equal what cffi computed from the
cdef."""
import os
import re
import shutil
import subprocess

import pytest

from conftest import SRC
from vouch._ffi import CDEF, ffi, lib


def test_cdef_matches_headers(tmp_path):
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.fail("no C compiler to check the declarations with")
    funcs = sorted(n for n in dir(lib) if n.startswith("vouch_"))
    assert len(funcs) > 40
    structs = sorted(n for n in ffi.list_types()[0] if ffi.typeof(n).kind == "struct" and ffi.typeof(n).fields)
    assert "vouch_import_opts" in structs and "vouch_match" in structs
    c = ["#include <stddef.h>", "#include <stdio.h>", "#include <vouch/vouch.h>",
         "#include <vouch/index.h>", "#include <vouch/bank.h>", "int main(void) {"]
    want = []
    protos = re.sub(r"typedef[^;{]*(\{[^}]*\})?[^;]*;", "", CDEF)
    assert all(re.search(r"\b%s\(" % f, protos) for f in funcs)
    c.insert(5, protos)
    for s in structs:
        t = ffi.typeof(s)
        c.append('  printf("%s %%zu\\n", sizeof(%s));' % (s, s))
        want.append(f"{s} {ffi.sizeof(t)}")
        for name, field in t.fields:
            c.append('  printf("%s.%s %%zu %%zu\\n", offsetof(%s, %s), sizeof(((%s *)0)->%s));'
                     % (s, name, s, name, s, name))
            want.append(f"{s}.{name} {field.offset} {ffi.sizeof(field.type)}")
    for name, value in sorted(ffi.typeof("vouch_rc").relements.items()):
        c.append('  printf("%s %%d\\n", (int)%s);' % (name, name))
        want.append(f"{name} {value}")
    c.append("  return 0;\n}\n")
    (tmp_path / "abi.c").write_text("\n".join(c))
    subprocess.run([cc, "-std=c11", "-Wall", "-Werror", "-I", str(SRC / "include"), "-o", str(tmp_path / "abi"),
                    str(tmp_path / "abi.c")], check=True, capture_output=True, timeout=120)
    got = subprocess.run([str(tmp_path / "abi")], check=True, capture_output=True, text=True).stdout
    assert got.splitlines() == want


def test_csv_header_matches_bank_h():
    """vouch._BANK_CSV_HEADER repeats the VOUCH_BANK_CSV_HEADER macro, which
    ABI mode cannot read."""
    import vouch
    with open(os.path.join(SRC, "include", "vouch", "bank.h")) as f:
        m = re.search(r'#define VOUCH_BANK_CSV_HEADER "([^"]*)\\n"', f.read())
    assert m and vouch._BANK_CSV_HEADER == m.group(1) + "\n"
