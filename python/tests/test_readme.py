"""The README's first Python block, run as it stands in a folder that has
the names it uses: hashes.vidx (an index of the examples) and uploads/."""
import contextlib
import io
import os
import re
import shutil

import vouch
from conftest import SRC


def test_readme_example(tmp_path, examples):
    text = (SRC / "python" / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    assert len(code.strip().splitlines()) == 5
    b = vouch.Bank(tmp_path / "b.sqlite")
    b.create("list-a")
    b.import_("list-a", ("\n".join(f"{vouch.hash_file(p).hash} ex{i}" for i, p in enumerate(examples)) + "\n").encode())
    b.build_index(tmp_path / "hashes.vidx")
    (tmp_path / "uploads" / "sub").mkdir(parents=True)
    for p in examples:
        shutil.copy(p, tmp_path / "uploads" / "sub" / p.name)
    out = io.StringIO()
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        with contextlib.redirect_stdout(out):
            exec(compile(code, "README.md", "exec"), {})
    finally:
        os.chdir(cwd)
    lines = out.getvalue().splitlines()
    for i, p in enumerate(examples):
        assert f"uploads/sub/{p.name} list-a ex{i} 0" in lines
