"""The command line: the one place that prints errors and chooses exit codes."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from . import __version__, cachedir, licenses, options
from .builder import BuildResult, Reporter, build
from .errors import ConfigError, OnebinError
from .sources import PipOptions

_BUILD_EXAMPLES = """\
examples:
  onebin build hello.py -o hello
      a script; the modules and packages beside it come along
  onebin build flake8 flake8-comprehensions -c flake8 -o flake8
      requirements from PyPI; -c names the console script to run
  onebin build numpy app.py -o app
      a script and the requirements it imports
  onebin build ./myproject -o myapp
      a project directory; its one [project.scripts] entry is the entry point

Every option can also live in the project's pyproject.toml, under the same name:
  [tool.onebin]
  console-script = "myapp"
  output = "dist/myapp"
  exclude = ["myproject.tests"]
The command line wins over the file. With no SOURCE, the current directory's project is built.

The executable needs no Python on the machine that runs it: the interpreter, the standard
library, every dependency and the shared libraries they need are inside, loaded from memory.
"""


_INSPECT_EXAMPLES = """\
examples:
  onebin inspect app                    a summary for people
  onebin inspect app --modules          with every module and its size
  onebin inspect app --json             the same as JSON, with the payload's byte range
  onebin inspect app --sbom app.cdx.json
      a CycloneDX SBOM: CPython, the distributions, the bundled libraries, the script
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="onebin", description="Turn a Python application into one executable file.")
    parser.add_argument("--version", action="version", version=f"onebin {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    b = commands.add_parser(
        "build",
        help="build an executable",
        description="Build one executable file from a Python application.",
        epilog=_BUILD_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    b.add_argument(
        "sources",
        nargs="*",
        metavar="SOURCE",
        help="a requirement (flake8==7.*), a project directory, a wheel, or one script (app.py); "
        "default: the current directory, if it holds a project",
    )
    options.add_arguments(b)
    _inspect_parser(commands)
    c = commands.add_parser(
        "cache",
        help="show or clear the cache",
        description="Show where onebin keeps what builds compute (installs, bytecode, packed blobs, launchers) "
        "and what executables write for modules that need files on disk, and how much room each part takes. "
        "Everything in it is made again when needed.",
        epilog="The directory is $ONEBIN_CACHE_DIR, else $XDG_CACHE_HOME/onebin, else ~/.cache/onebin.",
    )
    c.add_argument("--clear", action="store_true", help="remove everything in it")
    return parser


def _inspect_parser(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    i = commands.add_parser(
        "inspect",
        help="list what an executable holds",
        description="List what an executable that onebin built holds: its Python, distributions, modules, "
        "native libraries, the oldest glibc it runs on, and the hashes of its build inputs.",
        epilog=_INSPECT_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    i.add_argument("file", metavar="FILE", help="an executable that `onebin build` wrote")
    output = i.add_mutually_exclusive_group()
    output.add_argument("--json", action="store_true", help="print JSON (its schema: pydoc onebin.inspect)")
    output.add_argument("--sbom", metavar="PATH", help="write a CycloneDX 1.6 JSON SBOM to PATH (- for stdout)")
    output.add_argument(
        "--licenses", action="store_true", help="print the licence texts of CPython, each distribution and library"
    )
    i.add_argument("-v", "--modules", action="store_true", help="list every module, not only a count per root")


def _parse(argv: list[str]) -> argparse.Namespace:
    """The command line, with `build`'s options allowed between its sources (as pip allows)."""
    parser = _parser()
    if argv and argv[0] == "build":
        commands = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
        build_parser: argparse.ArgumentParser = commands.choices["build"]
        args = build_parser.parse_intermixed_args(argv[1:])
        args.command = "build"
        return args
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the onebin command; returns its exit code."""
    args = _parse(list(sys.argv[1:] if argv is None else argv))
    if args.command == "inspect":
        return _inspect(args)
    if args.command == "cache":
        return _cache(args)
    try:
        chosen = _build_options(args)
        reporter = TerminalReporter(quiet=bool(chosen["quiet"]), verbose=bool(chosen["verbose"]))
        pip = PipOptions(
            index_url=chosen["index_url"],
            extra_index_url=tuple(chosen["extra_index_url"] or ()),
            find_links=tuple(chosen["find_links"] or ()),
            no_index=bool(chosen["no_index"]),
            constraint=tuple(chosen["constraint"] or ()),
            require_hashes=bool(chosen["require_hashes"]),
            pre=bool(chosen["pre"]),
        )
        result = build(
            chosen["sources"],
            chosen["output"],
            requirements=chosen["requirement"] or (),
            console_script=chosen["console_script"],
            module=chosen["module"],
            python=chosen["python"],
            check=chosen["check"],
            exclude=chosen["exclude"] or (),
            trim_stdlib=bool(chosen["trim_stdlib"]),
            compress=bool(chosen["compress"]),
            full_teardown=bool(chosen["full_teardown"]),
            pip=pip,
            reporter=reporter,
        )
    except OnebinError as exc:
        _clear_progress()
        print(f"onebin: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        _clear_progress()
        print("onebin: interrupted; nothing was written", file=sys.stderr)
        return 130
    reporter.done()
    if not chosen["quiet"]:
        print(_summary(result))
    return 0


def _build_options(args: argparse.Namespace) -> dict[str, Any]:
    """The command line's options over [tool.onebin]'s, with the sources to build."""
    sources = list(args.sources)
    pyproject = options.find_pyproject(sources)
    config = options.read_pyproject(pyproject) if pyproject else {}
    chosen = options.merge(args, config)
    if not sources and not chosen["requirement"]:
        sources = list(config.get("sources", ())) or (["."] if Path("pyproject.toml").is_file() else [])
    chosen["sources"] = sources
    if not chosen["output"]:
        raise ConfigError("no output: pass -o OUTPUT, or set output in [tool.onebin] of pyproject.toml")
    return chosen


class TerminalReporter(Reporter):
    """Progress on one rewritten line on a terminal; silent in pipes and CI unless --verbose."""

    def __init__(self, *, quiet: bool, verbose: bool):
        self._quiet = quiet
        self._verbose = verbose
        self._live = sys.stderr.isatty() and not quiet and not verbose and not os.environ.get("CI")

    def step(self, message: str) -> None:
        if self._verbose:
            print(f"onebin: {message}", file=sys.stderr, flush=True)
        elif self._live:
            width = shutil.get_terminal_size().columns - 1
            print(f"\r\033[K{f'onebin: {message} ...'[:width]}", end="", file=sys.stderr, flush=True)

    def note(self, message: str) -> None:
        if not self._quiet:
            self.done()
            print(f"onebin: {message}", file=sys.stderr, flush=True)

    def detail(self, message: str) -> None:
        if self._verbose:
            print(f"onebin: {message}", file=sys.stderr, flush=True)

    def done(self) -> None:
        if self._live:
            _clear_progress()


def _clear_progress() -> None:
    if sys.stderr.isatty():
        print("\r\033[K", end="", file=sys.stderr, flush=True)


def _summary(result: BuildResult) -> str:
    return (
        f"{result.output}: {result.size / 1e6:.1f} MB, Python {result.python}, {result.modules} modules, "
        f"{result.distributions} distributions, {result.entry}, "
        + ("up to date: nothing it is made from changed" if result.unchanged else f"built in {result.seconds:.1f} s")
    )


def _inspect(args: argparse.Namespace) -> int:
    try:
        # Here: a build needs none of these (nor email's parser, which they import).
        from .inspect import as_json, read_contents
        from .report import summary

        contents = read_contents(args.file)
        if args.sbom is not None:
            from . import sbom  # it imports cyclonedx-python-lib, an optional dependency

            text = sbom.cyclonedx_json(contents)
            if args.sbom != "-":
                sbom.write(args.sbom, text)
                print(f"onebin: wrote {args.sbom} (CycloneDX {sbom.SPEC_VERSION})", file=sys.stderr)
                return 0
        elif args.licenses:
            text = licenses.report(args.file)
        else:
            text = json.dumps(as_json(contents), indent=2) if args.json else summary(contents, args.modules)
    except OnebinError as exc:
        print(f"onebin: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("onebin: interrupted", file=sys.stderr)
        return 130
    return _print(text)


def _cache(args: argparse.Namespace) -> int:
    from .report import human_size

    root = cachedir.cache_dir()
    try:
        if args.clear:
            freed = cachedir.clear(root)
            print(f"onebin: cleared {root} ({human_size(freed)} freed)", file=sys.stderr)
            return 0
        parts = cachedir.usage(root)
    except OSError as exc:
        print(
            f"onebin: error: {root}: cannot {'clear' if args.clear else 'read'} it ({exc.strerror or exc}); "
            "check its permissions, or set ONEBIN_CACHE_DIR to another directory",
            file=sys.stderr,
        )
        return 2
    except KeyboardInterrupt:
        print("onebin: interrupted", file=sys.stderr)
        return 130
    lines = [f"{root}" + ("" if parts else " (empty)")]
    lines += [f"  {p.name:<10} {human_size(p.size):>9}  {p.description}" for p in parts]
    if parts:
        lines.append(
            f"  {'total':<10} {human_size(sum(p.size for p in parts)):>9}  `onebin cache --clear` removes it all"
        )
    return _print("\n".join(lines))


def _print(text: str) -> int:
    try:
        print(text.rstrip("\n"), flush=True)
    except BrokenPipeError:
        # The reader went away (`onebin inspect app | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0
