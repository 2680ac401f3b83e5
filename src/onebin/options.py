"""Build options: one table for the command line and ``[tool.onebin]`` in pyproject.toml.

Every option has the same name in both places (``--console-script`` and ``console-script``);
the command line wins over the file. Paths in the file are relative to the file's directory.
"""

from __future__ import annotations

import argparse
import difflib
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib


@dataclass(frozen=True)
class Option:
    """One build option: its flags, its [tool.onebin] key and what values it takes."""

    key: str
    flags: tuple[str, ...]
    kind: str  # "text", "list", "flag" or "words" (a shell-quoted string split into a list)
    help: str
    metavar: str | None = None
    path: bool = False  # relative to pyproject.toml's directory when read from it

    @property
    def dest(self) -> str:
        return self.key.replace("-", "_")


OPTIONS = (
    Option(
        "requirement",
        ("-r", "--requirement"),
        "list",
        "install from this requirements file or pylock.toml lock file (repeatable)",
        "FILE",
        path=True,
    ),
    Option(
        "console-script",
        ("-c", "--console-script"),
        "text",
        "run this console script of the installed distributions (or a Python script one installs in bin/, as awscli's aws)",
        "NAME",
    ),
    Option("module", ("-m", "--module"), "text", "run this module, or call this function", "MODULE[:FUNCTION]"),
    Option(
        "python", ("--python",), "text", "the CPython 3.10+ to bundle (default: the one running onebin)", "INTERPRETER"
    ),
    Option("output", ("-o", "--output"), "text", "the executable to write", "OUTPUT", path=True),
    Option(
        "check",
        ("--check",),
        "words",
        "a smoke test: run the new executable with these arguments (one shell-quoted string, e.g. --check='--version') and fail the build, writing nothing, if it fails",
        "ARGS",
    ),
    Option(
        "exclude",
        ("--exclude",),
        "list",
        "leave out this module or package and what is under it, e.g. mypkg.tests (repeatable)",
        "MODULE",
    ),
    Option(
        "trim-stdlib",
        ("--trim-stdlib",),
        "flag",
        "leave out the stdlib modules no bundled code imports, in a function or by a name given to import_module() (it lists them): about half the stdlib for a small app; a module imported by a computed name is missed, and help() needs an app that imports pydoc. With --compress: the smallest file",
    ),
    Option(
        "compress",
        ("--compress",),
        "flag",
        "deflate bytecode, native libraries and data files with zlib instead of packing them with LZ4, sources with xz, and the launcher (libpython), which a small unpacker runs from a memfd: a quarter smaller, a slower start (each is inflated when first used), 5 MB more memory per process",
    ),
    Option(
        "full-teardown",
        ("--full-teardown",),
        "flag",
        "always end with CPython's interpreter teardown, as python does, instead of skipping it when nothing alive would act when freed (see the README's 'Exit')",
    ),
    Option("index-url", ("--index-url",), "text", "pip: the package index to use instead of PyPI", "URL"),
    Option("extra-index-url", ("--extra-index-url",), "list", "pip: another package index to use (repeatable)", "URL"),
    Option(
        "find-links",
        ("--find-links",),
        "list",
        "pip: a directory or page of wheels to look in (repeatable)",
        "DIR",
        path=True,
    ),
    Option(
        "no-index", ("--no-index",), "flag", "pip: use no index, only --find-links (offline builds from a wheelhouse)"
    ),
    Option("constraint", ("--constraint",), "list", "pip: a constraints file (repeatable)", "FILE", path=True),
    Option("require-hashes", ("--require-hashes",), "flag", "pip: require a hash for every requirement"),
    Option("pre", ("--pre",), "flag", "pip: consider pre-releases"),
    Option("quiet", ("-q", "--quiet"), "flag", "print nothing but errors"),
    Option("verbose", ("-v", "--verbose"), "flag", "print every step, pip's output and what was left out"),
)
_BY_KEY = {option.key: option for option in OPTIONS}
_KINDS = {"text": "a string", "list": "a list of strings", "flag": "true or false", "words": "a string"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Adds every option to the ``build`` parser (defaults None: unset, so the file can set it)."""
    entry = parser.add_mutually_exclusive_group()
    for option in OPTIONS:
        target = entry if option.key in ("console-script", "module") else parser
        if option.kind == "flag":
            target.add_argument(*option.flags, dest=option.dest, action="store_true", default=None, help=option.help)
        elif option.kind == "list":
            target.add_argument(
                *option.flags, dest=option.dest, action="append", metavar=option.metavar, help=option.help
            )
        elif option.kind == "words":
            target.add_argument(
                *option.flags, dest=option.dest, type=_shell_words, metavar=option.metavar, help=option.help
            )
        else:
            target.add_argument(*option.flags, dest=option.dest, metavar=option.metavar, help=option.help)


def _shell_words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"cannot split {text!r} into arguments: {exc}") from None


def find_pyproject(sources: Sequence[str]) -> Path | None:
    """The pyproject.toml whose [tool.onebin] applies: the one project directory among the
    sources, else the current directory's if it has a [tool.onebin] table."""
    projects = [Path(s) / "pyproject.toml" for s in sources if (Path(s) / "pyproject.toml").is_file()]
    if len(projects) == 1:
        return projects[0]
    here = Path("pyproject.toml")
    if not projects and here.is_file() and b"[tool.onebin" in here.read_bytes():
        return here
    return None


def read_pyproject(path: Path) -> dict[str, Any]:
    """The validated [tool.onebin] table of ``path``; raises ConfigError listing every problem."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path}: cannot be read as TOML ({exc}); fix the file's syntax") from None
    table = data.get("tool", {}).get("onebin", {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.onebin] must be a table of options")
    problems, values = [], {}
    for key, value in table.items():
        option = _BY_KEY.get(key) if key != "sources" else Option("sources", (), "list", "", path=False)
        if option is None:
            close = difflib.get_close_matches(key, [*_BY_KEY, "sources"], n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(f"unknown key {key!r}{hint}; allowed keys: sources, {', '.join(_BY_KEY)}")
            continue
        checked = _check(option, value)
        if checked is None:
            problems.append(f"{key!r} must be {_KINDS[option.kind]}, not {value!r}")
            continue
        values[option.dest] = _resolve(option, checked, path.parent)
    if problems:
        raise ConfigError(f"{path}: [tool.onebin] " + "; ".join(problems))
    return values


def _check(option: Option, value: object) -> object | None:
    if option.kind == "flag":
        return value if isinstance(value, bool) else None
    if option.kind == "list":
        if isinstance(value, str):
            value = [value]
        return value if isinstance(value, list) and all(isinstance(v, str) for v in value) else None
    if option.kind == "words":
        if isinstance(value, list) and all(isinstance(v, str) for v in value):
            return value
        return shlex.split(value) if isinstance(value, str) else None
    return value if isinstance(value, str) else None


def _resolve(option: Option, value: object, base: Path) -> object:
    if option.key == "sources":
        # Project directories and files named relative to the pyproject; requirements as they are.
        return [str(base / v) if (base / v).exists() else v for v in value]  # type: ignore[attr-defined]
    if not option.path:
        return value

    def resolve(v: str) -> str:
        return v if "://" in v else os.path.normpath(base / v)

    return [resolve(v) for v in value] if isinstance(value, list) else resolve(value)  # type: ignore[arg-type]


def merge(cli: argparse.Namespace, config: dict[str, Any]) -> dict[str, Any]:
    """The options to build with: each one from the command line if given there, else the file."""
    merged = {option.dest: getattr(cli, option.dest) for option in OPTIONS}
    for dest, value in config.items():
        if dest == "sources":
            continue
        if merged.get(dest) is None:
            merged[dest] = value
    if merged.get("console_script") and merged.get("module"):
        raise ConfigError("both a console script and a module are set (one of them in pyproject.toml): keep one")
    return merged
