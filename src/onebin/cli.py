"""The command line: the one place that prints errors and chooses exit codes."""

from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
from collections.abc import Sequence

from . import __version__
from .builder import BuildResult, build
from .errors import OnebinError
from .inspect import as_json, read_contents, summary

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
        help="a requirement (flake8==7.*), a project directory, a wheel, or one script (app.py)",
    )
    b.add_argument(
        "-r",
        "--requirement",
        action="append",
        default=[],
        metavar="FILE",
        dest="requirements",
        help="install from this requirements file (repeatable)",
    )
    entry = b.add_mutually_exclusive_group()
    entry.add_argument(
        "-c", "--console-script", metavar="NAME", help="run this console script of the installed distributions"
    )
    entry.add_argument("-m", "--module", metavar="MODULE[:FUNCTION]", help="run this module, or call this function")
    b.add_argument(
        "--python", metavar="INTERPRETER", help="the CPython 3.10+ to bundle (default: the one running onebin)"
    )
    b.add_argument("-o", "--output", required=True, metavar="OUTPUT", help="the executable to write")
    b.add_argument(
        "--check",
        metavar="ARGS",
        type=_shell_words,
        help="a smoke test: run the new executable with these arguments (one shell-quoted string, "
        "e.g. --check='--version') and fail the build, writing nothing, if it fails",
    )
    b.add_argument("-q", "--quiet", action="store_true", help="print nothing but errors")
    _inspect_parser(commands)
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
    i.add_argument("-v", "--modules", action="store_true", help="list every module, not only a count per root")


def _shell_words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"cannot split {text!r} into arguments: {exc}") from None


def main(argv: Sequence[str] | None = None) -> int:
    """Runs the onebin command; returns its exit code."""
    args = _parser().parse_args(argv)
    if args.command == "inspect":
        return _inspect(args)
    log = (lambda message: None) if args.quiet else _progress
    try:
        result = build(
            args.sources,
            args.output,
            requirements=args.requirements,
            console_script=args.console_script,
            module=args.module,
            python=args.python,
            check=args.check,
            log=log,
        )
    except OnebinError as exc:
        print(f"onebin: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("onebin: interrupted; nothing was written", file=sys.stderr)
        return 130
    if not args.quiet:
        print(_summary(result))
    return 0


def _progress(message: str) -> None:
    print(f"onebin: {message}", file=sys.stderr, flush=True)


def _summary(result: BuildResult) -> str:
    return (
        f"{result.output}: {result.size / 1e6:.1f} MB, Python {result.python}, {result.modules} modules, "
        f"{result.distributions} distributions, {result.entry}, built in {result.seconds:.1f} s"
    )


def _inspect(args: argparse.Namespace) -> int:
    try:
        contents = read_contents(args.file)
        if args.sbom is not None:
            from . import sbom  # it imports cyclonedx-python-lib, an optional dependency

            text = sbom.cyclonedx_json(contents)
            if args.sbom != "-":
                sbom.write(args.sbom, text)
                print(f"onebin: wrote {args.sbom} (CycloneDX {sbom.SPEC_VERSION})", file=sys.stderr)
                return 0
        else:
            text = json.dumps(as_json(contents), indent=2) if args.json else summary(contents, args.modules)
    except OnebinError as exc:
        print(f"onebin: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("onebin: interrupted", file=sys.stderr)
        return 130
    return _print(text)


def _print(text: str) -> int:
    try:
        print(text.rstrip("\n"), flush=True)
    except BrokenPipeError:
        # The reader went away (`onebin inspect app | head`): stop quietly.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return 0
