"""`--compress`: a smaller executable that behaves as the uncompressed one, still from memory."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import (
    PACKAGES,
    assert_no_disk_imports,
    build,
    needs_root_tools,
    run_hidden,
    run_onebin,
    run_traced,
)

pytestmark = [pytest.mark.e2e, needs_root_tools]

APP = """\
import json
import sqlite3
import sys
from importlib import resources

import datapkg

db = sqlite3.connect(":memory:")
print(json.dumps(db.execute("select 6 * 7").fetchone()))
print(resources.files(datapkg).joinpath("data.json").read_text().strip())
print(sorted(sys.modules)[:3], len(sys.argv))
"""


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("compress")
    (root / "app.py").write_text(APP)
    build(PACKAGES / "datapkg", "app.py", "-o", "plain", cwd=root)
    build(PACKAGES / "datapkg", "app.py", "--compress", "-o", "small", cwd=root)
    return root / "plain", root / "small"


def test_compressed_is_much_smaller(apps: tuple[Path, Path]) -> None:
    plain, small = apps
    assert os.path.getsize(small) < 0.65 * os.path.getsize(plain)


def test_compressed_runs_as_the_plain_one_with_python_hidden(apps: tuple[Path, Path]) -> None:
    plain, small = apps
    expected = subprocess.run([plain, "x"], capture_output=True, text=True, timeout=60)
    assert expected.returncode == 0, expected.stderr
    proc = run_hidden(small, "x")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, expected.stdout, "")


def test_compressed_reads_nothing_from_disk(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import json, sqlite3, decimal\nprint(json.dumps(str(decimal.Decimal(1) / 8)))\n")
    build("app.py", "--compress", "-o", "small", cwd=tmp_path)
    proc, trace = run_traced(tmp_path / "small", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, '"0.125"\n'), proc.stderr
    assert_no_disk_imports(trace)
    assert sum("memfd_create" in line for line in trace) >= 4  # _json, _sqlite3, libsqlite3, _decimal


def test_inspect_lists_compressed_libraries(apps: tuple[Path, Path]) -> None:
    plain, small = apps
    listed = [run_onebin("inspect", exe).stdout for exe in (plain, small)]
    libraries = [[line.split()[0] for line in text.splitlines() if line.startswith("  lib/lib")] for text in listed]
    assert libraries[0] and libraries[0] == libraries[1]
