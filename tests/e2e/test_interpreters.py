"""Every CPython on this machine works as a target: pyenv's 3.10 to 3.13 and Debian's 3.11."""

from __future__ import annotations

import glob
import os
from pathlib import Path

import pytest
from conftest import build, needs_root_tools, run_hidden

pytestmark = [pytest.mark.e2e, needs_root_tools]

PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
INTERPRETERS = sorted(glob.glob(str(PYENV / "3.1[0-9]*/bin/python3.1[0-9]"))) + sorted(
    glob.glob("/usr/bin/python3.1[0-9]")
)

APP = """\
import json, sqlite3, ssl, sys, decimal, ctypes
print(sys.version_info[:2], json.dumps([1]), sqlite3.connect(":memory:").execute("select 1").fetchone(),
      ssl.OPENSSL_VERSION.split()[0], decimal.Decimal("1.10") + 1, ctypes.sizeof(ctypes.c_int))
"""


@pytest.mark.parametrize("python", INTERPRETERS, ids=lambda p: p.split("/")[-3] if "pyenv" in p else p)
def test_target_interpreter(python: str, tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(APP)
    build("app.py", "--python", python, "-o", "app", cwd=tmp_path)
    proc = run_hidden(tmp_path / "app")
    assert proc.returncode == 0, proc.stderr
    name = Path(python).name.removeprefix("python")
    major, minor = name.split(".")[:2]
    assert proc.stdout == f"({major}, {minor}) [1] (1,) OpenSSL 2.10 4\n"
