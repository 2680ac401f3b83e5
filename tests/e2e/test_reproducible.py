"""The same pinned inputs give a byte-identical executable, wherever and whenever built."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest
from conftest import ONEBIN, PACKAGES

pytestmark = pytest.mark.e2e

SCRIPT = "import pyflakes, myproject\nprint(pyflakes.__version__)\n"


def _build(where: Path, cache: Path) -> str:
    where.mkdir(parents=True)
    (where / "app.py").write_text(SCRIPT)
    shutil.copytree(PACKAGES / "myproject", where / "myproject")
    env = {**os.environ, "ONEBIN_CACHE_DIR": str(cache), "SOURCE_DATE_EPOCH": "1700000000"}
    proc = subprocess.run(
        [ONEBIN, "build", "-q", "pyflakes==3.2.0", "./myproject", "app.py", "-o", "app"],
        cwd=where,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    return hashlib.sha256((where / "app").read_bytes()).hexdigest()


def test_two_builds_in_different_places_and_times_are_identical(tmp_path: Path) -> None:
    first = _build(tmp_path / "one", tmp_path / "cache-one")
    time.sleep(1.1)
    second = _build(tmp_path / "elsewhere" / "two", tmp_path / "cache-two")  # nothing cached either
    assert first == second
    run = subprocess.run([tmp_path / "one" / "app"], capture_output=True, text=True)
    assert run.stdout == "3.2.0\n"
