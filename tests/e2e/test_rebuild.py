"""Rebuilds: nothing changed, nothing to do (the executable is left alone); any change to what
the executable is made from (the script, a module beside it, an option, the output itself)
builds again; unpinned requirements and --check always build."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from conftest import run_onebin

pytestmark = pytest.mark.e2e

UP_TO_DATE = "up to date: nothing it is made from changed"


@pytest.fixture(scope="module")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("rebuild-cache")  # shared: a record is kept per output path


@pytest.fixture
def app(tmp_path: Path, cache: Path) -> tuple[Path, dict[str, str]]:
    """A script importing a module beside it and a pinned requirement, built once."""
    (tmp_path / "app.py").write_text("import helper, pyflakes\nprint(helper.WORD, pyflakes.__version__)\n")
    (tmp_path / "helper.py").write_text("WORD = 'one'\n")
    env = dict(os.environ, ONEBIN_CACHE_DIR=str(cache))
    first = _build(tmp_path, env)
    assert UP_TO_DATE not in first.stdout
    return tmp_path, env


def _build(root: Path, env: dict[str, str], *extra: str) -> subprocess.CompletedProcess[str]:
    proc = run_onebin("build", "pyflakes==3.2.0", "app.py", "-o", "app", *extra, cwd=root, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc


def _run(root: Path) -> str:
    return subprocess.run([root / "app"], capture_output=True, text=True, check=True).stdout


def test_an_unchanged_rebuild_leaves_the_executable_alone(app: tuple[Path, dict[str, str]]) -> None:
    root, env = app
    first_notes = run_onebin("build", "pyflakes==3.2.0", "app.py", "-o", "app", "--compress", cwd=root, env=env)
    assert first_notes.returncode == 0 and UP_TO_DATE not in first_notes.stdout  # another option
    before = os.stat(root / "app")
    again = _build(root, env, "--compress")
    assert UP_TO_DATE in again.stdout
    after = os.stat(root / "app")
    assert (after.st_ino, after.st_mtime_ns, after.st_size) == (before.st_ino, before.st_mtime_ns, before.st_size)
    assert again.stderr == first_notes.stderr  # the same notes and warnings, shown again
    assert _run(root) == "one 3.2.0\n"


@pytest.mark.parametrize(
    "change",
    ["script", "module beside it", "file touched", "output replaced", "output removed", "option"],
)
def test_a_change_builds_again(app: tuple[Path, dict[str, str]], change: str) -> None:
    root, env = app
    extra: list[str] = []
    expected = "one 3.2.0\n"
    if change == "script":
        (root / "app.py").write_text("import helper, pyflakes\nprint(helper.WORD.upper(), pyflakes.__version__)\n")
        expected = "ONE 3.2.0\n"
    elif change == "module beside it":
        (root / "helper.py").write_text("WORD = 'two'\n")  # the same size: its mtime tells
        expected = "two 3.2.0\n"
    elif change == "file touched":
        os.utime(root / "helper.py", ns=(1, 1))
    elif change == "output replaced":
        (root / "app").write_bytes((root / "app").read_bytes())
    elif change == "output removed":
        (root / "app").unlink()
    elif change == "option":
        extra = ["--exclude", "tkinter"]
    proc = _build(root, env, *extra)
    assert UP_TO_DATE not in proc.stdout and "built in" in proc.stdout
    assert _run(root) == expected
    assert UP_TO_DATE in _build(root, env, *extra).stdout  # and then it is up to date again


def test_unpinned_requirements_and_checks_always_build(app: tuple[Path, dict[str, str]]) -> None:
    root, env = app
    for args in (["pyflakes>=3.2,<3.3"], ["pyflakes==3.2.0", "--check="]):
        for _ in range(2):
            proc = run_onebin("build", *args, "app.py", "-o", "app", cwd=root, env=env)
            assert proc.returncode == 0, proc.stderr
            assert UP_TO_DATE not in proc.stdout


def test_a_rebuild_never_bundles_the_executable_it_replaces(tmp_path: Path, cache: Path) -> None:
    # "hello" names the file ./hello beside the script, and "out" the directory ./out: the data
    # rule takes what they name, but not the executable being built.
    env = dict(os.environ, ONEBIN_CACHE_DIR=str(cache))
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "data.txt").write_text("data\n")
    for output, script, files in (("hello", 'print("hello")', "hello.py"), ("out/x", 'print("out")', "hello.py, out/")):
        sizes = []
        for change in ("", "  # changed"):
            (tmp_path / "hello.py").write_text(script + change + "\n")
            proc = run_onebin("build", "hello.py", "-o", output, cwd=tmp_path, env=env)
            assert proc.returncode == 0, proc.stderr
            assert f"app files beside the script: {files}\n" in proc.stderr
            sizes.append((tmp_path / output).stat().st_size)
        assert sizes[1] < sizes[0] * 1.1, sizes
        (tmp_path / output).unlink()
