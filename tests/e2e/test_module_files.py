"""A module that gives its own ``__file__`` to other code gets a real file when that code can
read what lies beside it (scikit-image's lazy_loader stubs), and writes nothing otherwise."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import PACKAGES, build_script_app, needs_root_tools

pytestmark = [pytest.mark.e2e, needs_root_tools]

APP = r"""
import json, sys
if sys.argv[1] == "stub":
    import stubpkg
    print(json.dumps([stubpkg.area(3), stubpkg.shapes.__name__, sorted(stubpkg.__all__)]))
else:
    import filenames
    print(json.dumps(filenames.SEEN))
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_script_app(tmp_path_factory.mktemp("module-files"), APP, PACKAGES / "stubpkg")


def run(app: Path, tmp_path: Path, mode: str) -> tuple[object, list[Path]]:
    cache = tmp_path / "cache"
    env = {**os.environ, "ONEBIN_CACHE_DIR": str(cache)}
    proc = subprocess.run([app, mode], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout), sorted(p for p in cache.rglob("*") if p.is_file())


def test_a_stub_read_beside_the_file_a_package_hands_out(app: Path, tmp_path: Path) -> None:
    # skimage/__init__.py: __getattr__, *_ = lazy_loader.attach_stub(__name__, __file__), which
    # checks that __init__.pyi exists beside __file__ and parses it ("non-existent stub" before)
    result, written = run(app, tmp_path, "stub")
    assert result == [9, "stubpkg.shapes", ["area", "shapes"]]
    assert any(p.name == "__init__.pyi" and p.parent.name == "stubpkg" for p in written)


def test_a_file_handed_to_code_that_keeps_its_name_writes_nothing(app: Path, tmp_path: Path) -> None:
    # torch's intern_string(__file__), a FrameSummary(__file__, ...): no file is named after it
    result, written = run(app, tmp_path, "name")
    assert result == ["__init__.py"]
    assert written == []
