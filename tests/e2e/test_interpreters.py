"""Every CPython on this machine works as a target: pyenv's 3.10 to 3.13 and Debian's 3.11."""

from __future__ import annotations

import glob
import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import build, needs_root_tools, run_hidden

pytestmark = [pytest.mark.e2e, needs_root_tools]

PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
INTERPRETERS = sorted(glob.glob(str(PYENV / "3.1[0-9]*/bin/python3.1[0-9]"))) + sorted(
    glob.glob("/usr/bin/python3.1[0-9]")
)

APP = """\
import json, sqlite3, ssl, sys, decimal, ctypes, os, subprocess, tempfile
print(sys.version_info[:2], json.dumps([1]), sqlite3.connect(":memory:").execute("select 1").fetchone(),
      ssl.OPENSSL_VERSION.split()[0], decimal.Decimal("1.10") + 1, ctypes.sizeof(ctypes.c_int))
with tempfile.TemporaryDirectory() as tmp:  # sys.executable given a script (virtualenv's bin/pip)
    with open(os.path.join(tmp, "child.py"), "w") as f:
        f.write("import sys; print('child', sys.argv[1:])")
    child = subprocess.run([sys.executable, f.name, "x"], capture_output=True, text=True)
    print(child.returncode, child.stdout.strip())
"""


@pytest.mark.parametrize("python", INTERPRETERS, ids=lambda p: p.split("/")[-3] if "pyenv" in p else p)
def test_target_interpreter(python: str, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    build("app.py", "--python", python, "-o", "app", cwd=tmp_path)
    proc = run_hidden(tmp_path / "app")
    assert proc.returncode == 0, proc.stderr
    name = Path(python).name.removeprefix("python")
    major, minor = name.split(".")[:2]
    assert proc.stdout == f"({major}, {minor}) [1] (1,) OpenSSL 2.10 4\n0 child ['x']\n"


REGEX_APP = """\
import re, sys, warnings
parser = getattr(re, "_parser", None) or __import__("sre_parse")  # 3.10: sre_parse
parsed = []
real_parse = parser.parse
parser.parse = lambda pattern, *args: parsed.append(pattern) or real_parse(pattern, *args)

A = re.compile(r"(?P<word>\\w+)-(\\d+)", re.I | re.M)
B = re.compile(rb"x+", flags=re.S)
class K:
    C = re.compile("[^\\x09\\x0A\\x0D\\x20-\\x7E\\x85\\xA0-\\uD7FF\\uE000-\\uFFFD\\U00010000-\\U0010ffff]")
print(A.pattern, A.flags, A.groups, dict(A.groupindex), A.match("ab-12").groups(), B.flags, B.sub(b"y", b"axxb"))
print(K.C.search("a\\x00b").start(), A is re.compile(r"(?P<word>\\w+)-(\\d+)", re.I | re.M), re.compile("z+"))
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    W = re.compile("[[nested]")
print([w.category.__name__ for w in caught])
try:
    re.compile("(")
except re.error as exc:
    print("re.error:", exc)
print("parsed at run time:", parsed)
"""


@pytest.mark.parametrize("python", INTERPRETERS, ids=lambda p: p.split("/")[-3] if "pyenv" in p else p)
def test_regular_expressions_compiled_ahead(python: str, tmp_path: Path) -> None:
    """The patterns the app's modules compile when imported come compiled from the build, and
    are the same objects re would make; what warns or fails to compile does so at run time."""
    (tmp_path / "app.py").write_text(REGEX_APP)
    build("app.py", "--python", python, "-o", "app", cwd=tmp_path)
    proc = run_hidden(tmp_path / "app")
    assert proc.returncode == 0, proc.stderr
    expected = subprocess.run([python, "-I", "-S", "app.py"], cwd=tmp_path, capture_output=True, text=True)
    assert expected.returncode == 0, expected.stderr
    *same, parsed = proc.stdout.splitlines()
    *python_same, python_parsed = expected.stdout.splitlines()
    assert same == python_same
    assert "['FutureWarning']" in same and any(line.startswith("re.error: missing )") for line in same)
    # python parses every pattern; the executable only the nested set that warns and the
    # pattern that does not compile.
    assert python_parsed.count("'") > parsed.count("'")
    assert parsed == "parsed at run time: ['[[nested]', '(']"
    traced = subprocess.run([tmp_path / "app"], capture_output=True, text=True, env={**os.environ, "ONEBIN_TRACE": "1"})
    assert re.search(r"onebin: \d+ regular expressions compiled ahead", traced.stderr), traced.stderr
