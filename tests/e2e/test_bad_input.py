"""Bad input gets one clear error line, exit code 2, and no output file (an old one survives)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import ONEBIN, PACKAGES, run_onebin

pytestmark = pytest.mark.e2e

PYENV = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"


def _old_python(version: str) -> Path:
    found = sorted(PYENV.glob(f"{version}*/bin/python{version}"))
    if not found:
        pytest.skip(f"no Python {version} on this machine")
    return found[0]


@pytest.fixture
def workdir(tmp_path: Path) -> Path:
    (tmp_path / "hello.py").write_text("print('hi')\n")
    (tmp_path / "fail.py").write_text("raise SystemExit('smoke test failed')\n")
    with zipfile.ZipFile(tmp_path / "demo-1.0-cp311-cp311-win_amd64.whl", "w") as wheel:
        wheel.writestr("demo.py", "")
    (tmp_path / "out").write_text("precious")
    return tmp_path


def fake_python_without_static_library(tmp_path: Path) -> Path:
    """A real CPython whose sysconfig points at a directory with no libpython.a."""
    data = tmp_path / "sysconfig"
    data.mkdir()
    import sysconfig

    fake = dict(sysconfig.get_config_vars())
    fake["LIBPL"] = str(tmp_path / "empty")
    (data / "_sysconfigdata_onebin_test.py").write_text(f"build_time_vars = {fake!r}\n")
    wrapper = tmp_path / "python-no-static"
    wrapper.write_text(
        f"#!/bin/sh\nexport _PYTHON_SYSCONFIGDATA_NAME=_sysconfigdata_onebin_test PYTHONPATH='{data}'\n"
        f"exec '{sys.executable}' \"$@\"\n"
    )
    wrapper.chmod(0o755)
    return wrapper


CASES = {
    "missing-path": (["./no-such-dir"], "./no-such-dir: no such file or directory"),
    "missing-script": (["nope.py"], "nope.py: no such script"),
    "bad-requirement": (["flake8>>=1"], "flake8>>=1: not a valid requirement"),
    "unresolvable": (
        ["onebin-no-such-distribution-zz==1.0"],
        "pip could not install onebin-no-such-distribution-zz==1.0",
    ),
    "unknown-console-script": (["pyflakes", "-c", "nope"], "-c nope: no such console script"),
    "no-console-script": (["packaging"], "packaging declares no console script"),
    "no-console-script-but-a-main-module": (
        [str(PACKAGES / "optnative")],
        "-m optnative runs optnative/__main__.py, as `python -m optnative` does",
    ),
    "not-python": (["hello.py", "--python", "/bin/true"], "/bin/true: this is not a Python interpreter"),
    "not-a-file": (["hello.py", "--python", "/no/such/python"], "--python /no/such/python: no such file"),
    "output-is-directory": (["hello.py", "-o", "."], "-o .: is a directory"),
    "output-dir-missing": (["hello.py", "-o", "no/such/dir/app"], "the directory no/such/dir does not exist"),
    "nothing": ([], "nothing to build"),
    "conflicting-requirements": (
        ["packaging==23.2", "packaging==24.0"],
        "pip could not install packaging==23.2 packaging==24.0",
    ),
    "two-scripts": (["hello.py", "fail.py"], "fail.py: only one script can be the entry point"),
    "several-console-scripts": (
        [str(PACKAGES / "twoscripts")],
        "first, second are all scripts of what you named: choose one with -c NAME",
    ),
    "wrong-platform-wheel": (["demo-1.0-cp311-cp311-win_amd64.whl"], "is not a supported wheel on this platform"),
    "broken-pyproject": ([str(PACKAGES / "broken")], "pyproject.toml: cannot be read as TOML"),
    "read-only-output": (["hello.py", "-o", "/proc/onebin-app"], "-o /proc/onebin-app: cannot write it"),
    "check-fails": (
        ["fail.py", "--check=--version"],
        "--check: `app --version` failed with exit code 1 (smoke test failed)",
    ),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_bad_input(workdir: Path, name: str) -> None:
    args, message = CASES[name]
    if "-o" not in args:
        args = [*args, "-o", "out"]
    proc = run_onebin("build", *args, cwd=workdir)
    assert proc.returncode == 2, proc.stderr
    errors = [line for line in proc.stderr.splitlines() if line.startswith("onebin: error:")]
    assert len(errors) == 1 and message in errors[0], proc.stderr
    assert "Traceback" not in proc.stderr
    assert (workdir / "out").read_text() == "precious"
    assert sorted(p.name for p in workdir.iterdir()) == [
        "demo-1.0-cp311-cp311-win_amd64.whl",
        "fail.py",
        "hello.py",
        "out",
    ]


@pytest.mark.parametrize("version", ["2.7", "3.9"])
def test_too_old_python(workdir: Path, version: str) -> None:
    proc = run_onebin("build", "hello.py", "--python", _old_python(version), "-o", "out", cwd=workdir)
    assert proc.returncode == 2
    assert "too old: onebin needs CPython 3.10 or newer" in proc.stderr


def test_no_static_libpython(workdir: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    python = fake_python_without_static_library(tmp_path_factory.mktemp("fake"))
    proc = run_onebin("build", "hello.py", "--python", python, "-o", "out", cwd=workdir)
    assert proc.returncode == 2, proc.stderr
    assert "has no static libpython or headers" in proc.stderr
    assert (workdir / "out").read_text() == "precious"


def test_no_c_compiler(workdir: Path, tmp_path: Path) -> None:
    env = {**os.environ, "PATH": str(tmp_path / "empty-bin"), "CC": "", "ONEBIN_CACHE_DIR": str(tmp_path / "cache")}
    proc = run_onebin("build", "hello.py", "-o", "out", cwd=workdir, env=env)
    assert proc.returncode == 2, proc.stderr
    assert "no C compiler found" in proc.stderr
    assert (workdir / "out").read_text() == "precious"


def test_an_interrupted_build_leaves_nothing(workdir: Path, tmp_path: Path) -> None:
    (workdir / "np.py").write_text("import numpy\n")
    # An empty cache: the build takes longer than the 3 s it is given (with warm caches it can finish).
    env = {**os.environ, "ONEBIN_CACHE_DIR": str(tmp_path / "empty-cache")}
    build = subprocess.Popen(
        [ONEBIN, "build", "numpy", "np.py", "-o", "out"], cwd=workdir, stderr=subprocess.PIPE, text=True, env=env
    )
    time.sleep(3)
    build.send_signal(signal.SIGINT)
    _, err = build.communicate(timeout=60)
    assert build.returncode == 130, err
    assert "interrupted; nothing was written" in err and "Traceback" not in err
    assert (workdir / "out").read_text() == "precious"
    assert not [p for p in workdir.iterdir() if p.name.startswith(".out")]


def test_a_successful_build_replaces_the_output(workdir: Path) -> None:
    proc = run_onebin("build", "-q", "hello.py", "-o", "out", cwd=workdir)
    assert proc.returncode == 0, proc.stderr
    assert subprocess.run([workdir / "out"], capture_output=True, text=True).stdout == "hi\n"
