#!/usr/bin/env python3
"""Start-up of popular apps from PyPI, each built with onebin, against the same app in a venv.

    python3 benchmarks/apps.py                          # every app below, 20 interleaved runs
    python3 benchmarks/apps.py --apps black,mypy --runs 10
    python3 benchmarks/apps.py --onebin-source git:HEAD --update-readme

run.py measures five workloads against every peer; this script measures breadth instead: apps
that nobody tuned onebin for, pure Python and native, against a venv only. Each app is installed
at a pinned version into its own venv from PyPI, built with `onebin build` from exactly what that
venv holds (`pip freeze`), checked to print what the venv prints (the program's name and the
paths of its files aside) and to exit alike, then both are run interleaved, in a shuffled order
each round. The table also says how each onebin run ended (`ONEBIN_TRACE=1`): with the quick
exit, or with CPython's teardown and why, how many native files it loaded from memory, and what
its first start (with an empty cache directory of its own) wrote there: the packages whose code
needs their files on disk, written once per version of the app; the timed runs come after it.

Only the standard library is used; the helpers (venvs, the fork-and-time helper, the timing
loop) are run.py's. The work directory is benchmarks/.work/apps-bench/ by default (git-ignored).
"""

from __future__ import annotations

import argparse
import datetime
import re
import shlex
import shutil
import statistics
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import run as bench


@dataclass(frozen=True)
class App:
    name: str
    requirement: str  # pinned, so that a run is repeatable; the venv resolves the rest
    script: str  # the console script, in the venv and as the executable's entry point
    args: tuple[str, ...]


APPS = {
    a.name: a
    for a in (
        App("pylint", "pylint==4.1.4", "pylint", ("--version",)),
        App("pytest", "pytest==9.2.0", "pytest", ("--version",)),
        App("black", "black==26.10.1", "black", ("--version",)),
        App("mypy", "mypy==2.4.1", "mypy", ("--version",)),
        App("sphinx", "Sphinx==9.0.4", "sphinx-build", ("--version",)),
        App("mkdocs", "mkdocs==1.6.1", "mkdocs", ("--version",)),
        App("yt-dlp", "yt-dlp==2026.10.26", "yt-dlp", ("--version",)),
        App("pre-commit", "pre-commit==4.7.0", "pre-commit", ("--version",)),
        App("httpie", "httpie==3.2.4", "http", ("--version",)),
        App("ansible-core", "ansible-core==2.19.14", "ansible", ("--version",)),
        App("django", "Django==5.2.19", "django-admin", ("--version",)),
        App("poetry", "poetry==2.5.1", "poetry", ("--version",)),
        App("scrapy", "Scrapy==2.19.0", "scrapy", ("version",)),
        App("streamlit", "streamlit==1.67.0", "streamlit", ("version",)),
        App("awscli", "awscli==1.46.3", "aws", ("--version",)),  # a script file, not an entry point
        App("datasette", "datasette==0.65.5", "datasette", ("--version",)),
        App("tox", "tox==4.67.15", "tox", ("--version",)),
        App("fastapi", "fastapi[standard]==0.165.0", "fastapi", ("--version",)),
    )
}

START, END = "<!-- apps:start -->", "<!-- apps:end -->"


@dataclass
class Row:
    name: str
    command: str
    venv_ms: float | None = None
    onebin_ms: float | None = None
    venv_spread: str = ""
    onebin_spread: str = ""
    size: int | None = None
    natives: int | None = None
    ending: str = ""
    error: str = ""
    differs: str = ""
    written: int = 0  # files its first start writes to the cache (packages that need real files)
    written_bytes: int = 0


def normalise(text: str, site: str) -> str:
    """Output with the paths of the app's packages made alike: a venv's site-packages, the
    executable's virtual one, or its cache directory for packages written to disk."""
    text = re.sub(r"/[^\s'\"]*/apps/[^/]+/lib/python[0-9.]+/site-packages", "<site>", text)
    return text.replace(site, "<site>")


def short_reason(line: str) -> str:
    """ONEBIN_TRACE's reason for running the teardown, short enough for a table cell."""
    reason = line.removeprefix("onebin: exit: the interpreter's teardown runs: ")
    found = re.match(r"(\S+) \(of .*, with (\w+)\(\)\) may hold a resource", reason)
    return f"{found[1]} has {found[2]}()" if found else reason[:80]


def measure_app(app: App, env: bench.Env, onebin: Path, runner: bench.Runner, args: argparse.Namespace) -> Row:
    name, requirement, script, app_args = app.name, app.requirement, app.script, app.args
    row = Row(name, shlex.join([script, *app_args]))
    venv = bench.make_venv(env, f"app-{name}", [requirement])
    pins = args.work / "pins" / f"{name}.txt"
    pins.parent.mkdir(parents=True, exist_ok=True)
    frozen = bench.run_logged([venv / "bin/python", "-m", "pip", "freeze", "--exclude-editable"], env=bench.clean_env())
    pins.write_text(frozen.stdout)
    out = args.work / "builds" / name / script
    out.parent.mkdir(parents=True, exist_ok=True)
    built = bench.run_logged(
        [onebin, "build", "-q", "--python", env.python, "-r", pins, "-c", script, "-o", out],
        env=bench.clean_env(),
        check=False,
    )
    if built.returncode != 0:
        row.error = "build failed: " + bench.last_line(built)
        return row
    row.size = out.stat().st_size

    lib = f"lib/python{env.python_version.rsplit('.', 1)[0]}/site-packages"
    theirs = runner.capture([str(venv / "bin" / script), *app_args])
    # Its first start, with a cache of its own (emptied): what it writes there, once per version.
    cache = args.work / "cache" / name
    shutil.rmtree(cache, ignore_errors=True)
    ours = runner.capture(
        [str(out), *app_args], env={**runner.env, "ONEBIN_TRACE": "1", "ONEBIN_CACHE_DIR": str(cache)}
    )
    trace = [line for line in ours.stderr.splitlines() if line.startswith("onebin: ")]
    written = [Path(line[len("onebin: write ") :]) for line in trace if line.startswith("onebin: write ")]
    row.written = len(written)
    row.written_bytes = sum(path.stat().st_size for path in written if path.is_file())
    stderr = "".join(line + "\n" for line in ours.stderr.splitlines() if not line.startswith("onebin: "))
    row.natives = sum(" from memory " in line for line in trace)
    ending = next((line for line in trace if line.startswith("onebin: exit: ")), "")
    row.ending = "quick exit" if "without the interpreter's teardown" in ending else "teardown: " + short_reason(ending)
    if ours.returncode != theirs.returncode:
        row.error = f"exit {ours.returncode} (venv: {theirs.returncode}): {bench.last_line(ours)}"
        return row
    mine = normalise(ours.stdout + stderr, f"{out}/{lib}").splitlines()
    base = normalise(theirs.stdout + theirs.stderr, f"{venv}/{lib}").splitlines()
    if mine != base:
        row.differs = next((a for a, b in zip(mine + [""], base + [""], strict=False) if a != b), "").strip()[:80]

    m = bench.Measurement(
        "apps",
        name,
        [
            bench.Candidate("venv", "venv", [str(venv / "bin" / script)], baseline=True),
            bench.Candidate("onebin", "onebin", [str(out)]),
        ],
    )
    bench.time_measurement(runner, m, app_args, args.warmup, args.runs, theirs.returncode)
    venv_c, onebin_c = m.candidates
    for c, attr in ((venv_c, "venv"), (onebin_c, "onebin")):
        if c.error:
            row.error = f"{attr}: {c.error}"
            return row
        setattr(row, f"{attr}_ms", statistics.median(c.times) * 1000)
        p10, p90 = bench.percentile(c.times, 0.1) * 1000, bench.percentile(c.times, 0.9) * 1000
        setattr(row, f"{attr}_spread", f"{p10:.1f}–{p90:.1f}")
    return row


def render(rows: Sequence[Row], meta: dict[str, str]) -> str:
    lines = [
        f"Command: `{meta['command']}`  ",
        f"Date: {meta['date']}; machine: {meta['machine']}; load average {meta['load_at_start']} at the start, "
        f"{meta['load_at_end']} at the end  ",
        f"Python: CPython {meta['python_version']}; onebin from {meta['onebin_source']}  ",
        f"Runs: {meta['runs']} timed runs of each after {meta['warmup']} warm-up runs, the two interleaved in a "
        "shuffled order; medians, p10–p90 in brackets. Speed: venv median / onebin median (above 1: onebin is "
        "faster).",
        "",
        "| app | command | venv ms | onebin ms | speed | native files from memory | how onebin ended | size MB "
        "| written by its first start |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        if r.error:
            lines.append(f"| {r.name} | `{r.command}` | | | **{r.error}** | | | | |")
            continue
        written = f"{r.written} files, {r.written_bytes / 1e6:.1f} MB" if r.written else "nothing"
        assert r.venv_ms is not None and r.onebin_ms is not None
        speed = f"{r.venv_ms / r.onebin_ms:.2f}x"
        note = f" (output differs: {r.differs!r})" if r.differs else ""
        lines.append(
            f"| {r.name} | `{r.command}` | {r.venv_ms:.1f} ({r.venv_spread}) | {r.onebin_ms:.1f} ({r.onebin_spread}) "
            f"| {speed}{note} | {r.natives} | {r.ending} | {(r.size or 0) / 1e6:.1f} | {written} |"
        )
    return "\n".join(lines) + "\n"


def update_readme(text: str) -> None:
    readme = bench.README.read_text()
    if START not in readme or END not in readme:
        raise bench.BenchError(f"{bench.README} has no {START} ... {END} section to update")
    head, rest = readme.split(START, 1)
    _, tail = rest.split(END, 1)
    bench.README.write_text(f"{head}{START}\n{text}{END}{tail}")


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--apps", default=",".join(APPS), help=f"comma-separated subset of: {','.join(APPS)}")
    p.add_argument("--runs", type=int, default=20, help="timed runs of each program (default 20)")
    p.add_argument("--warmup", type=int, default=2, help="warm-up runs of each program (default 2)")
    p.add_argument("--onebin-source", default=str(bench.REPO), help="as run.py's: a directory, or git:REV")
    p.add_argument("--python", default=None, help="the CPython for the venvs and the builds (default: this one)")
    p.add_argument("--work", type=Path, default=bench.BENCH / ".work" / "apps-bench", help="work directory")
    p.add_argument("--update-readme", action="store_true", help="put the table into benchmarks/README.md")
    args = p.parse_args(argv)
    args.apps = [a.strip() for a in args.apps.split(",") if a.strip()]
    unknown = [a for a in args.apps if a not in APPS]
    if unknown:
        p.error(f"--apps: unknown {', '.join(unknown)}; choose from {', '.join(APPS)}")
    if args.runs < 1 or args.warmup < 0:
        p.error("--runs must be at least 1 and --warmup at least 0")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    python = bench.real_python(args.python)
    version = subprocess.run(
        [python, "-c", "import platform; print(platform.python_version())"], capture_output=True, text=True, check=True
    ).stdout.strip()
    args.work.mkdir(parents=True, exist_ok=True)
    args.work = args.work.resolve()
    bench._LOGFILE = args.work / "log.txt"
    bench._LOGFILE.write_text(f"benchmarks/apps.py {shlex.join(sys.argv[1:])}\n")
    env = bench.Env(python=python, python_version=version, work=args.work, wheelhouse=args.work / "wheelhouse")
    meta = {
        "command": "python3 benchmarks/apps.py" + (" " + shlex.join(sys.argv[1:]) if sys.argv[1:] else ""),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "machine": bench.machine_description(),
        "load_at_start": bench.load_average(),
        "python_version": version,
        "runs": str(args.runs),
        "warmup": str(args.warmup),
    }
    try:
        source, meta["onebin_source"] = bench.onebin_source(args.onebin_source, args.work)
        onebin = bench.make_venv(env, "onebin", force=[str(source)]) / "bin/onebin"
        rundir = bench.fresh_dir(args.work / "run")
        runner = bench.Runner(rundir, bench.clean_env(), 120, bench.build_spawn_helper(args.work))
        rows = []
        for name in args.apps:
            bench.log(f"{name}: venv, build, check, {args.warmup} + {args.runs} interleaved runs")
            rows.append(measure_app(APPS[name], env, onebin, runner, args))
    except (bench.BenchError, subprocess.CalledProcessError) as exc:
        print(f"apps.py: {exc}", file=sys.stderr)
        return 1
    meta["load_at_end"] = bench.load_average()
    text = render(rows, meta)
    print(text)
    if args.update_readme:
        update_readme(text)
        bench.log(f"updated {bench.README}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
