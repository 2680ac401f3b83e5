"""Every smoke command of the corpus (cases.py), run in a venv and as a onebin executable.

For each case the test builds the executable with the installed ``onebin`` and, at the same time,
creates a venv and pip-installs the same pinned requirements into it. Each command then runs
twice in a fresh working directory (the same path both times, recreated between the runs): with
the venv's Python or console script, and as the executable with every Python on the machine
hidden (``run_hidden``: a mount namespace and ``env -i PATH=/usr/bin:/bin``). The venv run gets
the same environment, ``PATH=/usr/bin:/bin`` and nothing else. ``normalise`` then replaces the
paths that legitimately differ, and (returncode, stdout, stderr) must be equal.

``test_matches_venv_on`` does the same for the cases in ``OTHER_PYTHONS_CASES`` with each of
``OTHER_PYTHONS``: ``onebin build --python INTERPRETER``, and a venv of that interpreter (made
without pip, and filled by this Python's pip with ``--python``). The paths that ``normalise``
replaces (``pythonX.Y``, the stdlib, site-packages) are asked of the venv's interpreter, and the
executable must report that interpreter's version. An interpreter this machine lacks is skipped.

While one case's commands run, the next selected case is prepared in the background (one build
and one venv at a time), and the directories of finished cases are removed.
"""

from __future__ import annotations

import difflib
import functools
import json
import os
import pwd
import re
import shutil
import subprocess
import sys
import venv
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import build, run_hidden, run_onebin

from .cases import CASES, OTHER_PYTHONS_CASES, Case, Command

PACKAGES = Path(__file__).resolve().parent / "packages"
ENV = {"PATH": "/usr/bin:/bin"}  # what run_hidden gives the executable (`env -i PATH=/usr/bin:/bin`)

pytestmark = [
    pytest.mark.corpus,
    pytest.mark.skipif(
        not hasattr(os, "geteuid") or os.geteuid() != 0 or not shutil.which("unshare"),
        reason="run_hidden needs root and unshare",
    ),
]


@dataclass(frozen=True)
class Interpreter:
    """A target CPython: ``python`` is what ``onebin build --python`` gets; None for onebin's default,
    the Python running the tests (and onebin). ``missing`` says why this machine lacks it."""

    name: str
    python: str | None = None
    missing: str = ""


DEFAULT = Interpreter("default")


def _pyenv(version: str) -> Interpreter:
    """pyenv's newest ``X.Y.Z`` build of ``version``."""
    root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    found = {
        tuple(map(int, d.name.split("."))): d / "bin" / f"python{version}"
        for d in root.glob(f"versions/{version}.*")
        if re.fullmatch(r"\d+\.\d+\.\d+", d.name) and (d / "bin" / f"python{version}").is_file()
    }
    if not found:
        return Interpreter(f"pyenv-{version}", missing=f"no pyenv build of Python {version} in {root}/versions")
    return Interpreter(f"pyenv-{version}", str(found[max(found)]))


def _system(name: str, path: str) -> Interpreter:
    return Interpreter(name, path) if Path(path).is_file() else Interpreter(name, missing=f"no {path}")


OTHER_PYTHONS = (_pyenv("3.10"), _pyenv("3.12"), _pyenv("3.13"), _system("debian-3.11", "/usr/bin/python3.11"))


@dataclass(frozen=True)
class Layout:
    """A venv's layout, as its own interpreter tells it: ``pythonX.Y``, the stdlib, site-packages."""

    python_dir: str
    stdlib: Path
    site_packages: Path


LAYOUT = (
    "import json, sys, sysconfig; "
    "print(json.dumps(['python%d.%d' % sys.version_info[:2], sysconfig.get_path('stdlib'), sysconfig.get_path('purelib')]))"
)


def _layout(env_dir: Path) -> Layout:
    proc = subprocess.run([str(env_dir / "bin" / "python"), "-c", LAYOUT], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    python_dir, stdlib, site_packages = json.loads(proc.stdout)
    return Layout(python_dir, Path(stdlib), Path(site_packages))


@dataclass(frozen=True)
class Prepared:
    """A case's executable and its venv, under ``root``."""

    case: Case
    root: Path
    exe: Path
    venv: Path
    layout: Layout

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
        roots = [self.root / "app", self.layout.stdlib, self.layout.site_packages]
        paths = {f"{root}/": "" for root in roots}
        paths.update({str(self.venv / "bin" / "python"): "<python>", str(self.venv): "<prefix>"})
        return paths

    @functools.cached_property
    def cache(self) -> Path:
        """Where the executable writes the packages that need real files."""
        info = run_onebin("inspect", "--json", self.exe)
        assert info.returncode == 0, info.stderr
        return Path(pwd.getpwuid(os.geteuid()).pw_dir, ".cache", "onebin", "apps", json.loads(info.stdout)["id"])

    def exe_paths(self) -> dict[str, str]:
        """The executable's: ``sys.executable`` is spelled ``<dir>/./<name>``, ``sys.prefix`` is the file.
        A package written to the cache has its files there, in the same tree (under the default
        cache of the account: the executable runs under ``env -i``)."""
        roots = []
        for prefix in (self.exe, self.cache):
            lib = prefix / "lib" / self.layout.python_dir
            roots += [prefix / "app", lib, lib / "site-packages"]
        paths = {f"{root}/": "" for root in roots}
        paths.update({f"{self.exe.parent}/./{self.exe.name}": "<python>", str(self.exe): "<prefix>"})
        return paths


PYTEST_DURATION = re.compile(r"\b(in )\d+\.\d+s\b")
PYTEST_RULE = re.compile(r"^=+ (.*<duration>.*?) =+$", re.MULTILINE)  # padded to the duration's width


def normalise(text: str, paths: dict[str, str]) -> str:
    """The output with what legitimately differs between a venv and a bundle replaced.

    - A path under a ``sys.path`` root (the script's directory, the stdlib, site-packages) is
      named relative to that root: each side names its modules by their path under its own
      roots (in tracebacks and warnings: ``docutils/__main__.py``).
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


def _build(case: Case, root: Path, interpreter: Interpreter) -> Path:
    """``onebin build`` of the case, in ``root``, for ``interpreter``; returns the executable."""
    out = root / "bin" / case.exe_name
    out.parent.mkdir(parents=True)
    sources = [*case.requirements, *(str(_copy_package(p, root / "build-src")) for p in case.local_packages)]
    if interpreter.python is not None:
        sources = ["--python", interpreter.python, *sources]  # options before the sources, as argparse wants
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
    if interpreter.python is not None:
        _check_python(out, interpreter.python)
    return out


def _check_python(exe: Path, python: str) -> None:
    """The executable bundles ``python``'s version: one built for another could print the same lines."""
    asked = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True, timeout=60
    )
    assert asked.returncode == 0, asked.stderr
    proc = run_onebin("inspect", "--json", exe)
    assert proc.returncode == 0, f"onebin inspect failed:\n{proc.stdout}\n{proc.stderr}"
    bundled = json.loads(proc.stdout)["python"]
    assert bundled == asked.stdout.strip(), (
        f"built with --python {python} ({asked.stdout.strip()}), it bundles Python {bundled}"
    )


def _make_venv(case: Case, root: Path, interpreter: Interpreter) -> tuple[Path, Layout]:
    """A venv of ``interpreter`` holding the case's requirements, and its layout.

    The default interpreter's venv holds pip too (not the setuptools that ensurepip adds). Another
    interpreter's is made without pip, which Debian's python lacks, and this Python's pip installs
    into it (``pip --python``).
    """
    env_dir = root / "venv"
    if interpreter.python is None:
        # Symlinks, as `python -m venv` makes: a copied interpreter is open for writing while
        # the other preparing thread forks, and a child holding it makes its exec fail with
        # ETXTBSY ("Text file busy", seen once in CI).
        venv.EnvBuilder(with_pip=True, symlinks=True).create(env_dir)
        python = str(env_dir / "bin" / "python")
        pip = [python, "-m", "pip", "--disable-pip-version-check", "-q"]
        uninstall = subprocess.run([*pip, "uninstall", "-y", "setuptools"], capture_output=True, text=True, timeout=300)
        assert uninstall.returncode == 0, uninstall.stderr
    else:
        proc = subprocess.run(
            [interpreter.python, "-m", "venv", "--without-pip", str(env_dir)],
            capture_output=True,
            text=True,
            timeout=300,
        )
        assert proc.returncode == 0, f"{interpreter.python} -m venv failed:\n{proc.stdout}\n{proc.stderr}"
        python = str(env_dir / "bin" / "python")
        pip = [sys.executable, "-m", "pip", "--python", python, "--disable-pip-version-check", "-q"]
    packages = [str(_copy_package(p, root / "venv-src")) for p in case.local_packages]
    if case.requirements or packages:
        proc = subprocess.run(
            [*pip, "install", *case.requirements, *packages], capture_output=True, text=True, timeout=900
        )
        assert proc.returncode == 0, f"pip install in the venv failed:\n{proc.stdout}\n{proc.stderr}"
    return env_dir, _layout(env_dir)


Key = tuple[Interpreter, Case]


def _dir_name(key: Key) -> str:
    interpreter, case = key
    return case.id if interpreter == DEFAULT else f"{interpreter.name}-{case.id}"


class Preparer:
    """Builds executables and venvs for the selected (interpreter, case) pairs, one ahead of the tests."""

    def __init__(self, base: Path, order: list[Key]) -> None:
        self.base = base
        self.order = order
        self.builds = ThreadPoolExecutor(max_workers=1, thread_name_prefix="corpus-build")
        self.venvs = ThreadPoolExecutor(max_workers=1, thread_name_prefix="corpus-venv")
        self.jobs: dict[str, tuple[Future[Path], Future[tuple[Path, Layout]]]] = {}  # by _dir_name

    def _submit(self, key: Key) -> None:
        if _dir_name(key) not in self.jobs:
            interpreter, case = key
            root = self.base / _dir_name(key)
            root.mkdir()
            self.jobs[_dir_name(key)] = (
                self.builds.submit(_build, case, root, interpreter),
                self.venvs.submit(_make_venv, case, root, interpreter),
            )

    def get(self, case: Case, interpreter: Interpreter = DEFAULT) -> Prepared:
        key = (interpreter, case)
        index = self.order.index(key)
        for done in self.order[:index]:
            if _dir_name(done) in self.jobs and all(f.done() for f in self.jobs[_dir_name(done)]):
                shutil.rmtree(self.base / _dir_name(done), ignore_errors=True)
        for upcoming in self.order[index : index + 2]:
            self._submit(upcoming)
        exe_future, venv_future = self.jobs[_dir_name(key)]
        exe, (env_dir, layout) = exe_future.result(), venv_future.result()  # a failure fails every command of the case
        return Prepared(case, self.base / _dir_name(key), exe, env_dir, layout)

    def close(self) -> None:
        for pool in (self.builds, self.venvs):
            pool.shutdown(wait=True, cancel_futures=True)
        shutil.rmtree(self.base, ignore_errors=True)


@pytest.fixture(scope="module")
def preparer(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Preparer]:
    order: list[Key] = []
    for item in request.session.items:
        callspec = getattr(item, "callspec", None)
        case = callspec.params.get("case") if callspec is not None else None
        interpreter = callspec.params.get("interpreter", DEFAULT) if callspec is not None else DEFAULT
        if isinstance(case, Case) and not interpreter.missing and (interpreter, case) not in order:
            order.append((interpreter, case))
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
    _compare(preparer.get(case), command)


OTHER_CASES = [case for case in CASES if case.id in OTHER_PYTHONS_CASES]
assert len(OTHER_CASES) == len(OTHER_PYTHONS_CASES), "OTHER_PYTHONS_CASES names an unknown case"
OTHER_PARAMS = [
    pytest.param(
        interpreter,
        case,
        command,
        id=f"{interpreter.name}-{case.id}-{command.name}",
        marks=pytest.mark.skipif(bool(interpreter.missing), reason=interpreter.missing),
    )
    for interpreter in OTHER_PYTHONS
    for case in OTHER_CASES
    for command in case.commands
]


@pytest.mark.parametrize(("interpreter", "case", "command"), OTHER_PARAMS)
def test_matches_venv_on(interpreter: Interpreter, case: Case, command: Command, preparer: Preparer) -> None:
    """The same comparison, built with ``--python`` and against a venv of that interpreter."""
    _compare(preparer.get(case, interpreter), command)


def _compare(prepared: Prepared, command: Command) -> None:
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
