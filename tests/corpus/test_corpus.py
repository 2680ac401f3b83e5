"""Every smoke command of the corpus (cases.py), run in a venv and as a onebin executable.

For each case the test builds the executable with the installed ``onebin`` and, at the same time,
creates a venv and pip-installs the same pinned requirements into it. Each command then runs
twice in a fresh working directory (the same path both times, recreated between the runs): with
the venv's Python or console script, and as the executable with every Python on the machine
hidden (``run_hidden``: a mount namespace and ``env -i PATH=/usr/bin:/bin``). The venv run gets
the same environment, ``PATH=/usr/bin:/bin`` and nothing else. ``normalise`` then replaces the
paths that legitimately differ, and (returncode, stdout, stderr) must be equal.

While one case's commands run, the next selected case is prepared in the background (one build
and one venv at a time), and the directories of finished cases are removed.
"""

from __future__ import annotations

import difflib
import os
import re
import shutil
import subprocess
import sys
import sysconfig
import venv
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import build, run_hidden

from .cases import CASES, Case, Command

PACKAGES = Path(__file__).resolve().parent / "packages"
PYTHON_DIR = f"python{sys.version_info.major}.{sys.version_info.minor}"  # onebin's default target is this Python
ENV = {"PATH": "/usr/bin:/bin"}  # what run_hidden gives the executable (`env -i PATH=/usr/bin:/bin`)

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("unshare"),
        reason="run_hidden needs root and unshare",
    ),
]


@dataclass(frozen=True)
class Prepared:
    """A case's executable and its venv, under ``root``."""

    case: Case
    root: Path
    exe: Path
    venv: Path

    def venv_argv(self, command: Command) -> list[str]:
        """The venv's equivalent of running the executable with ``command``'s arguments."""
        case, bin_dir = self.case, self.venv / "bin"
        if case.script is not None:
            return [str(bin_dir / "python"), str(self.root / "app" / f"{case.exe_name}.py"), *command.args]
        if case.console_script is not None:
            return [str(bin_dir / case.console_script), *command.args]
        assert case.module is not None
        return [str(bin_dir / "python"), "-m", case.module, *command.args]

    def venv_paths(self) -> dict[str, str]:
        """The venv side's paths that differ legitimately, with their replacements (see normalise)."""
        roots = [
            self.root / "app",
            Path(sysconfig.get_path("stdlib")),
            self.venv / "lib" / PYTHON_DIR / "site-packages",
        ]
        paths = {f"{root}/": "" for root in roots}
        paths.update({str(self.venv / "bin" / "python"): "<python>", str(self.venv): "<prefix>"})
        return paths

    def exe_paths(self) -> dict[str, str]:
        """The executable's: ``sys.executable`` is spelled ``<dir>/./<name>``, ``sys.prefix`` is the file."""
        roots = [self.exe / "app", self.exe / "lib" / PYTHON_DIR, self.exe / "lib" / PYTHON_DIR / "site-packages"]
        paths = {f"{root}/": "" for root in roots}
        paths.update({f"{self.exe.parent}/./{self.exe.name}": "<python>", str(self.exe): "<prefix>"})
        return paths


PYTEST_DURATION = re.compile(r"\b(in )\d+\.\d+s\b")
PYTEST_RULE = re.compile(r"^=+ (.*<duration>.*?) =+$", re.MULTILINE)  # padded to the duration's width


def normalise(text: str, paths: dict[str, str]) -> str:
    """The output with what legitimately differs between a venv and a bundle replaced.

    - A path under a ``sys.path`` root (the script's directory, the stdlib, site-packages) is
      named relative to that root: a bundle names its modules so (``co_filename``, as in its
      tracebacks and warnings: ``docutils/__main__.py``), python by their absolute path.
    - ``sys.executable`` becomes ``<python>`` (the venv's ``bin/python``, the executable spelled
      ``<dir>/./<name>``) and ``sys.prefix`` ``<prefix>`` (the venv, the executable).
    - The duration in pytest's summary line (``5 passed in 0.02s``), and the width of the ``=``
      rule around it, which follows the duration's.

    ``paths`` is one side's, from ``Prepared.venv_paths`` or ``exe_paths``; they are replaced
    longest first, so a prefix never eats a longer path.
    """
    for path in sorted(paths, key=len, reverse=True):
        text = text.replace(path, paths[path])
    return PYTEST_RULE.sub(r"=== \g<1> ===", PYTEST_DURATION.sub(r"\g<1><duration>", text))


def _copy_package(name: str, dest: Path) -> Path:
    """A copy of a local package: pip builds in the source tree, which must stay clean."""
    target = dest / name
    shutil.copytree(PACKAGES / name, target, ignore=shutil.ignore_patterns("build", "*.egg-info", "__pycache__"))
    return target


def _build(case: Case, root: Path) -> Path:
    """``onebin build`` of the case, in ``root``; returns the executable."""
    out = root / "bin" / case.exe_name
    out.parent.mkdir(parents=True)
    sources = [*case.requirements, *(str(_copy_package(p, root / "build-src")) for p in case.local_packages)]
    if case.script is not None:
        app = root / "app"  # the script alone: its neighbours would be bundled too
        app.mkdir()
        (app / f"{case.exe_name}.py").write_text(case.script)
        build(*sources, f"{case.exe_name}.py", "-o", out, cwd=app)
    elif case.console_script is not None:
        build(*sources, "-c", case.console_script, "-o", out, cwd=root)
    else:
        assert case.module is not None
        build(*sources, "-m", case.module, "-o", out, cwd=root)
    return out


def _make_venv(case: Case, root: Path) -> Path:
    """A venv holding pip and the case's requirements (not the setuptools that ensurepip adds)."""
    env_dir = root / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    python = str(env_dir / "bin" / "python")
    pip = [python, "-m", "pip", "--disable-pip-version-check", "-q"]
    uninstall = subprocess.run([*pip, "uninstall", "-y", "setuptools"], capture_output=True, text=True, timeout=300)
    assert uninstall.returncode == 0, uninstall.stderr
    packages = [str(_copy_package(p, root / "venv-src")) for p in case.local_packages]
    if case.requirements or packages:
        proc = subprocess.run(
            [*pip, "install", *case.requirements, *packages], capture_output=True, text=True, timeout=900
        )
        assert proc.returncode == 0, f"pip install in the venv failed:\n{proc.stdout}\n{proc.stderr}"
    return env_dir


class Preparer:
    """Builds executables and venvs for the selected cases, one case ahead of the tests."""

    def __init__(self, base: Path, order: list[Case]) -> None:
        self.base = base
        self.order = order
        self.builds = ThreadPoolExecutor(max_workers=1, thread_name_prefix="corpus-build")
        self.venvs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="corpus-venv")
        self.jobs: dict[str, tuple[Future[Path], Future[Path]]] = {}

    def _submit(self, case: Case) -> None:
        if case.id not in self.jobs:
            root = self.base / case.id
            root.mkdir()
            self.jobs[case.id] = (self.builds.submit(_build, case, root), self.venvs.submit(_make_venv, case, root))

    def get(self, case: Case) -> Prepared:
        index = self.order.index(case)
        for done in self.order[:index]:
            if done.id in self.jobs and all(f.done() for f in self.jobs[done.id]):
                shutil.rmtree(self.base / done.id, ignore_errors=True)
        for upcoming in self.order[index : index + 2]:
            self._submit(upcoming)
        exe_future, venv_future = self.jobs[case.id]
        exe, env_dir = exe_future.result(), venv_future.result()  # a failure fails every command of the case
        return Prepared(case, self.base / case.id, exe, env_dir)

    def close(self) -> None:
        for pool in (self.builds, self.venvs):
            pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="module")
def preparer(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Preparer]:
    order: list[Case] = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("case") if callspec is not None else None
        if isinstance(case, Case) and case not in order:
            order.append(case)
    p = Preparer(tmp_path_factory.mktemp("corpus"), order)
    yield p
    p.close()


def _run_in(
    cwd: Path, command: Command, run: Callable[[Path], subprocess.CompletedProcess[str]]
) -> subprocess.CompletedProcess[str]:
    """Runs ``run(cwd)`` in a fresh ``cwd`` holding ``command.files``."""
    shutil.rmtree(cwd, ignore_errors=True)
    cwd.mkdir()
    for name, content in command.files.items():
        (cwd / name).write_text(content)
    return run(cwd)


def _diff(name: str, expected: str, got: str) -> str:
    lines = difflib.unified_diff(
        expected.splitlines(keepends=True), got.splitlines(keepends=True), f"{name} (venv)", f"{name} (onebin)"
    )
    text = "".join(lines)
    return text if len(text) < 6000 else text[:6000] + "\n[... diff cut ...]\n"


PARAMS = [pytest.param(case, command, id=f"{case.id}-{command.name}") for case in CASES for command in case.commands]


@pytest.mark.parametrize(("case", "command"), PARAMS)
def test_matches_venv(case: Case, command: Command, preparer: Preparer) -> None:
    prepared = preparer.get(case)
    cwd = prepared.root / "work"

    def in_venv(cwd: Path) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            prepared.venv_argv(command),
            cwd=cwd,
            env=ENV,
            input=command.stdin,
            capture_output=True,
            text=True,
            timeout=300,
        )

    expected = _run_in(cwd, command, in_venv)
    assert expected.returncode == command.returncode and (expected.stdout or expected.stderr), (
        f"the smoke command itself misbehaves in the venv (exit {expected.returncode}):\n{expected.stdout}\n{expected.stderr}"
    )
    got = _run_in(cwd, command, lambda cwd: run_hidden(prepared.exe, *command.args, cwd=cwd, input=command.stdin))

    want = (
        expected.returncode,
        normalise(expected.stdout, prepared.venv_paths()),
        normalise(expected.stderr, prepared.venv_paths()),
    )
    have = (got.returncode, normalise(got.stdout, prepared.exe_paths()), normalise(got.stderr, prepared.exe_paths()))
    if have != want:
        report = [f"returncode: venv {want[0]}, onebin {have[0]}"]
        report += [
            _diff(name, w, h) for name, w, h in (("stdout", want[1], have[1]), ("stderr", want[2], have[2])) if w != h
        ]
        pytest.fail("\n".join(report), pytrace=False)
