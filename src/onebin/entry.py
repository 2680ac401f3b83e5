"""The entry point: a script, a console script, or a module, turned into __main__'s source."""

from __future__ import annotations

import csv
import importlib.metadata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from .errors import EntryPointError

SCRIPT_ROOT = "app"  # where a script and its neighbours appear inside the executable


@dataclass(frozen=True)
class Entry:
    """What runs as __main__: its source, the file name tracebacks show, its bundle path."""

    source: bytes
    filename: str
    relpath: str
    description: str
    runs: str = ""  # a module its source runs by name (-m MODULE: runpy), not by importing it


def resolve(
    site_packages: Path, requested: tuple[str, ...], script: Path | None, console_script: str | None, module: str | None
) -> Entry:
    """The entry point the user chose, or the only one the named project declares."""
    chosen = [
        c for c in (script and str(script), console_script and f"-c {console_script}", module and f"-m {module}") if c
    ]
    if len(chosen) > 1:
        raise EntryPointError(f"several entry points given ({', '.join(chosen)}): give one script, -c or -m")
    if script is not None:
        return Entry(script.read_bytes(), script.name, f"{SCRIPT_ROOT}/{script.name}", f"script {script.name}")
    if module is not None:
        return _module_entry(module)
    # An entry point wins over a script file of the same name.
    scripts: dict[str, tuple[str | Path, str]] = {
        **_file_scripts(site_packages),
        **_entry_points(site_packages, ("console_scripts",)),
    }
    if console_script is not None:
        program = site_packages / "bin" / console_script
        if console_script not in scripts and program.is_file() and runs_with_python(program) is False:
            raise EntryPointError(
                f"-c {console_script}: a program a distribution installs in bin/, not Python: it is "
                f"bundled for the app to run, but cannot be the entry point; choose one of: {_listing(scripts)}"
            )
        if console_script not in scripts:
            raise EntryPointError(
                f"-c {console_script}: no such console script among the installed distributions; "
                f"choose one of: {_listing(scripts)}"
            )
        return _script_entry(console_script, *scripts[console_script])
    ours = {_normalize(r) for r in requested}
    own = {name: v for name, v in scripts.items() if _normalize(v[1]) in ours}
    if any(isinstance(v[0], str) for v in own.values()):  # its entry points, if it declares any
        own = {name: v for name, v in own.items() if isinstance(v[0], str)}
    if len(own) == 1:
        name, value = next(iter(own.items()))
        return _script_entry(name, *value)
    if own:
        raise EntryPointError(f"{_listing(own)} are all scripts of what you named: choose one with -c NAME")
    named = ", ".join(requested) or "nothing to install"
    runnable = _runnable_packages(site_packages, ours)
    hint = "".join(f"; -m {m} runs {m}/__main__.py, as `python -m {m}` does" for m in runnable)
    raise EntryPointError(
        f"no entry point: {named} declares no console script. Pass a script (app.py), "
        f"-c NAME (one of: {_listing(scripts)}) or -m MODULE[:FUNCTION]{hint}"
    )


def _runnable_packages(site_packages: Path, distributions: set[str]) -> list[str]:
    """The top-level packages with a ``__main__`` module in the named distributions (ruff's)."""
    found: set[str] = set()
    for dist in importlib.metadata.distributions(path=[str(site_packages)]):
        if _normalize(dist.metadata["Name"] or "") in distributions:
            found.update(f.parts[0] for f in dist.files or () if len(f.parts) == 2 and f.name == "__main__.py")
    return sorted(found)


def _module_entry(spec: str) -> Entry:
    module, _, function = spec.partition(":")
    if not all(part.isidentifier() for part in module.split(".")) or (function and not _is_attribute(function)):
        raise EntryPointError(f"-m {spec}: not a module name; write it as pkg.module or pkg.module:function")
    if function:
        return _call_entry(module, function, _wrapper_path(module), f"function {spec}")
    # What `python -m` runs: sys.argv[0] becomes the module's file, as under python.
    source = f"import runpy\nrunpy._run_module_as_main({module!r})\n"
    return Entry(source.encode(), _wrapper_path(module), _wrapper_path(module), f"module {module}", module)


def _wrapper_path(module: str) -> str:
    return "bin/" + module.rpartition(".")[2]


def _script_entry(name: str, value: str | Path, distribution: str) -> Entry:
    if isinstance(value, Path):  # a script file: its code runs as __main__, as its shebang would run it
        return Entry(value.read_bytes(), f"bin/{name}", f"bin/{name}", f"script {name} (from {distribution})")
    module, function = _reference(value)
    return _call_entry(module, function, f"bin/{name}", f"console script {name} ({value} from {distribution})")


def _reference(value: str) -> tuple[str, str]:
    """An entry point's ``module:function [extras]``, as (module, function)."""
    module, _, function = value.partition(":")
    return module.strip(), function.split("[")[0].strip()


def _call_entry(module: str, function: str, relpath: str, description: str) -> Entry:
    # The first line stands for the #! line of the script pip writes (the pip that
    # `python -m venv` brings, 23 or 24): a traceback through it names the same line numbers
    # as in such a venv.
    return Entry(b"#!python\n" + _call_source(module, function), relpath, relpath, description)


def _call_source(module: str, function: str) -> bytes:
    """The body of the console script pip writes, after its #! line, line for line (but for
    its ``import re`` and the ``sys.argv[0]`` it edits for Windows' ``.exe``: comments here)."""
    head = function.split(".")[0]
    return (
        "# -*- coding: utf-8 -*-\n"
        "# (pip's script imports re here, to edit sys.argv[0] below)\n"
        "import sys\n"
        f"from {module} import {head}\n"
        "if __name__ == '__main__':\n"
        "    # (pip's script removes a '-script.pyw' or '.exe' suffix from sys.argv[0] here)\n"
        f"    sys.exit({function}())\n"
    ).encode()


def script_wrappers(site_packages: Path, programs: Iterable[str]) -> dict[str, bytes]:
    """What pip writes in a venv's ``bin/`` for each console (and GUI) script of the installed
    distributions and each Python script file they install, but the ``#!`` line, which names
    the python to run it: the runtime writes them with the executable's own (``sys.executable``)
    when code asks for the scripts directory, so that a tool running one of them by name through
    ``PATH`` (semgrep's ``semgrep-core`` runs ``pysemgrep``) finds it. Not those named as one
    of ``programs`` (the other files in ``bin/``), which a venv would have overwritten."""
    wrappers = {name: path.read_bytes().partition(b"\n")[2] for name, (path, _) in _file_scripts(site_packages).items()}
    for name, (value, _) in _entry_points(site_packages, ("console_scripts", "gui_scripts")).items():
        wrappers[name] = _call_source(*_reference(value))
    for name in programs:
        wrappers.pop(name, None)
    return {name: body for name, body in sorted(wrappers.items()) if b"\0" not in body}  # not a Python file


def _is_attribute(text: str) -> bool:
    return all(part.isidentifier() for part in text.split("."))


def _entry_points(site_packages: Path, groups: tuple[str, ...]) -> dict[str, tuple[str, str]]:
    """Entry point name -> (object reference, distribution name), for each installed one of
    ``groups``; the first distribution found wins a name."""
    scripts: dict[str, tuple[str, str]] = {}
    for dist in importlib.metadata.distributions(path=[str(site_packages)]):
        for ep in dist.entry_points:
            if ep.group in groups:
                scripts.setdefault(ep.name, (ep.value, dist.metadata["Name"]))
    return dict(sorted(scripts.items()))


def _file_scripts(site_packages: Path) -> dict[str, tuple[Path, str]]:
    """Python scripts that distributions install as files rather than declare as entry points
    (setuptools' ``scripts=``, a wheel's ``.data/scripts/``: awscli's ``aws``), which pip puts
    in ``bin/`` beside the packages: name -> (file, distribution name)."""
    scripts: dict[str, tuple[Path, str]] = {}
    for dist in importlib.metadata.distributions(path=[str(site_packages)]):
        # RECORD itself: from 3.12, dist.files leaves out the files not where it names them
        for row in csv.reader((dist.read_text("RECORD") or "").splitlines()):
            parts = PurePosixPath(row[0]).parts if row else ()
            if len(parts) != 4 or parts[:3] != ("..", "..", "bin"):
                continue  # RECORD names them relative to a --target install's lib/python
            path = site_packages / "bin" / parts[3]
            if runs_with_python(path):
                scripts.setdefault(parts[3], (path, dist.metadata["Name"]))
    return scripts


def runs_with_python(path: Path) -> bool | None:
    """Whether a file pip installed in ``bin/`` is a Python script: its first line a ``#!``
    naming python (a console script's wrapper, or a script from a wheel's ``.data/scripts``,
    which pip points at the installing python). None if it cannot be read."""
    try:
        with open(path, "rb") as f:
            first = f.readline(200)
    except OSError:
        return None
    return first.startswith(b"#!") and b"python" in first


def _normalize(name: str) -> str:
    return name.lower().replace("-", "_").replace(".", "_")


def _listing(names: object) -> str:
    listed = ", ".join(sorted(names))  # type: ignore[call-overload]
    return listed or "none"
