"""`onebin cache`: where builds keep what they compute, how much room each part takes, clearing
it; launchers that no build used for a month are removed when a new one is compiled."""

from __future__ import annotations

import os
import sys
import sysconfig
import time
from pathlib import Path

import pytest
from conftest import run_onebin

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """A cache that one cold build filled, which began with two launchers of other versions:
    one unused for 40 days, one used yesterday."""
    root = tmp_path_factory.mktemp("cache-test")
    cache = root / "cache"
    (cache / "launchers").mkdir(parents=True)
    stale, recent = cache / "launchers" / "3.0-stale", cache / "launchers" / "3.0-recent"
    for path, days in ((stale, 40), (recent, 1)):
        path.write_bytes(b"\x7fELF launcher of another onebin")
        os.utime(path, (time.time() - days * 86400,) * 2)
    env = dict(os.environ, ONEBIN_CACHE_DIR=str(cache))
    (root / "app.py").write_text("print('hi')\n")
    proc = run_onebin("build", "app.py", "-o", "app", "-q", cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr
    return cache, env


def test_a_new_launcher_forgets_the_unused_ones(cache: tuple[Path, dict[str, str]]) -> None:
    root, _ = cache
    names = sorted(p.name for p in (root / "launchers").iterdir())
    assert "3.0-stale" not in names and "3.0-recent" in names
    assert len(names) == 2  # and the one just compiled


def test_one_launcher_serves_the_interpreter_however_it_is_reached(cache: tuple[Path, dict[str, str]]) -> None:
    """A build with the same interpreter reached another way (its real file rather than the
    venv's python that runs onebin, as from another venv made from it) compiles no launcher."""
    root, env = cache
    before = sorted(p.name for p in (root / "launchers").iterdir())
    base = Path(sysconfig.get_config_var("BINDIR"), f"python{sys.version_info.major}.{sys.version_info.minor}")
    assert base.resolve() != Path(sys.executable).absolute()
    app = root.parent
    proc = run_onebin("build", "app.py", "--python", base, "-o", "app2", "-q", cwd=app, env=env)
    assert proc.returncode == 0, proc.stderr
    assert sorted(p.name for p in (root / "launchers").iterdir()) == before


def test_cache_lists_each_part_with_its_size(cache: tuple[Path, dict[str, str]]) -> None:
    root, env = cache
    proc = run_onebin("cache", env=env)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == str(root)
    parts = {line.split()[0]: line for line in lines[1:]}
    assert {"bytecode", "packed", "launchers", "total"} <= set(parts)
    assert "MB" in parts["launchers"] and "compiled launchers" in parts["launchers"]
    assert "onebin cache --clear" in parts["total"]


def test_clear_removes_everything_and_says_how_much(cache: tuple[Path, dict[str, str]]) -> None:
    root, env = cache
    proc = run_onebin("cache", "--clear", env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.startswith(f"onebin: cleared {root} (") and "MB freed" in proc.stderr
    assert list(root.iterdir()) == []
    shown = run_onebin("cache", env=env)
    assert (shown.returncode, shown.stdout.strip()) == (0, f"{root} (empty)")


def test_a_cache_path_that_is_a_file_is_a_clear_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("not a directory")
    for args in ((), ("--clear",)):
        proc = run_onebin("cache", *args, env=dict(os.environ, ONEBIN_CACHE_DIR=str(tmp_path / "file")))
        assert proc.returncode == 2 and "Traceback" not in proc.stderr, proc.stderr
        assert proc.stderr.startswith("onebin: error: ") and "ONEBIN_CACHE_DIR" in proc.stderr
    assert (tmp_path / "file").read_text() == "not a directory"
