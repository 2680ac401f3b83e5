"""Work done ahead: what an app's first imports need is prepared on another CPU as it starts.

The launcher unpacks the bytecode of the modules the entry point imports at its top level (and
what those import), and copies the extension modules among them, with their libraries, into
memfds, while the interpreter starts (launcher.c, "work done ahead"; onebin/ahead.py). These
tests run that together with what can go wrong around it: a fork() while it works (Python 3.12+
warns about forking a process that has threads), descriptors closed under it.
"""

from __future__ import annotations

import glob
import os
import re
import subprocess
from pathlib import Path

import pytest
from conftest import build, needs_root_tools, run_hidden

pytestmark = [
    pytest.mark.e2e,
    needs_root_tools,
    pytest.mark.skipif(len(os.sched_getaffinity(0)) < 2, reason="the work is done ahead only with a second CPU"),
]

PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
NEWEST = (sorted(glob.glob(str(PYENV / "3.1[2-9]*/bin/python3.1[2-9]"))) or [None])[-1]

APP = """\
import os, sys
mode = sys.argv[1] if len(sys.argv) > 1 else ""
if mode == "close-fds":
    os.closerange(3, 4096)
pid = os.fork() if mode == "fork" else -1
import ctypes, decimal, json, sqlite3
import numpy as np

def work():
    row = sqlite3.connect(":memory:").execute("select 6 * 7").fetchone()
    total = int(np.arange(10).sum())
    return json.dumps([row[0], str(decimal.Decimal("0.1") * 3), ctypes.sizeof(ctypes.c_int), total])

print("child" if pid == 0 else "app", work(), flush=True)
if pid == 0:
    os._exit(0)
if pid > 0:
    os.waitpid(pid, 0)
"""
RESULT = '[42, "0.3", 4, 45]'


@pytest.fixture(scope="module", params=["default", *(["newest"] if NEWEST else [])])
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("ahead")
    (root / "app.py").write_text(APP)
    python = ("--python", NEWEST) if request.param == "newest" and NEWEST else ()
    build("numpy", "app.py", "-o", "app", *python, cwd=root)
    return root / "app"


def test_the_first_imports_are_prepared_ahead(app: Path) -> None:
    proc = subprocess.run([app], capture_output=True, text=True, env={**os.environ, "ONEBIN_TRACE": "1"}, timeout=120)
    assert (proc.returncode, proc.stdout) == (0, f"app {RESULT}\n"), proc.stderr
    ahead = [line for line in proc.stderr.splitlines() if line.endswith(" was copied ahead")]
    for native in ("_sqlite3", "libsqlite3", "_multiarray_umath", "openblas"):
        assert any(native in line for line in ahead), f"{native} was not copied ahead: {ahead}"
    summary = re.search(r"onebin: ahead: (\d+) of (\d+) listed taken ready", proc.stderr)
    assert summary and int(summary[1]) > 50, proc.stderr[-2000:]


def test_a_fork_while_the_work_is_done_ahead(app: Path) -> None:
    # numpy's libraries take the second CPU ~10 ms: the fork comes in the middle of them.
    for _ in range(5):
        proc = run_hidden(app, "fork")
        assert proc.returncode == 0, proc.stderr
        assert sorted(proc.stdout.splitlines()) == [f"app {RESULT}", f"child {RESULT}"]
        assert proc.stderr == ""  # no DeprecationWarning: the worker ended before the fork


def test_the_app_closes_descriptors_under_the_work_done_ahead(app: Path) -> None:
    proc = run_hidden(app, "close-fds")
    assert (proc.returncode, proc.stdout) == (0, f"app {RESULT}\n"), proc.stderr
