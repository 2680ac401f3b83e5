"""The build: sources installed by pip, the tree assembled, compiled, and written as one file."""

from __future__ import annotations

import hashlib
import os
import shlex
import subprocess
import tempfile
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from . import datafiles, entry, licenses, natives, trim
from ._runtime import bundle as fmt
from .cachedir import cache_dir
from .compile import BundleCompiler, Compiler
from .errors import BuildError
from .installs import InstallCache
from .launcher import deflated_launcher_for, launcher_for
from .packing import Packer
from .payload import write_executable
from .record import BuildKey, Records
from .sources import Installed, PipOptions, Sources, install
from .target import Target
from .tree import Tree


@dataclass(frozen=True)
class BuildResult:
    """What was built, for the summary line."""

    output: Path
    size: int
    python: str
    modules: int
    distributions: int
    entry: str
    app_files: tuple[str, ...]
    seconds: float
    unchanged: bool = False  # the executable was left as it was: nothing it is made from changed


class Reporter:
    """Where the build's messages go. This one drops them; the CLI's shows what its flags ask."""

    def step(self, message: str) -> None:
        """A long step starts (installing, compiling...): progress for a person watching."""

    def note(self, message: str) -> None:
        """Something the user should know: what was included, or left out, and why."""

    def detail(self, message: str) -> None:
        """pip's own output and other particulars, for --verbose."""


def build(
    sources: Sequence[str],
    output: str | os.PathLike[str],
    *,
    requirements: Sequence[str] = (),
    console_script: str | None = None,
    module: str | None = None,
    python: str | None = None,
    check: Sequence[str] | None = None,
    exclude: Sequence[str] = (),
    trim_stdlib: bool = False,
    compress: bool = False,
    full_teardown: bool = False,
    pip: PipOptions | None = None,
    reporter: Reporter | None = None,
) -> BuildResult:
    """Builds one executable from ``sources`` (pip requirements, projects, wheels, a script).

    ``exclude`` lists modules or packages to leave out. With ``check``, the new executable is
    run with those arguments before it is put in place; the build fails, writing nothing, if
    that exits with an error. Blobs are packed with LZ4 (packing.py), or with zlib if ``compress``;
    ``full_teardown`` makes the executable always end with CPython's interpreter teardown.
    """
    started = time.monotonic()
    pip = pip or PipOptions()
    reporter = reporter or Reporter()
    out = _check_output(Path(output))
    options: dict[str, object] = {  # with what the build reads, the key of its record (record.py)
        "output": str(out),
        "sources": tuple(sources),
        "requirements": tuple(requirements),
        "console_script": console_script,
        "module": module,
        "exclude": tuple(exclude),
        "trim_stdlib": trim_stdlib,
        "compress": compress,
        "full_teardown": full_teardown,
        "pip": tuple(pip.args()),
        "cwd": os.getcwd(),
    }
    cache = cache_dir()
    target = Target.find(python, cache)
    parsed = Sources.parse(sources, requirements)
    if not parsed.script and not parsed.pip_args and parsed.lock is None:
        raise BuildError("nothing to build: pass a script, a requirement, a project directory or -r FILE")
    records = Records(cache)
    reporter.step(f"target: CPython {'.'.join(map(str, target.version))} ({target.executable})")
    launcher = deflated_launcher_for(target, cache) if compress else launcher_for(target, cache)
    with tempfile.TemporaryDirectory(prefix="onebin-") as tmp:
        staging = Path(tmp)
        reporter.step("installing with pip")
        installed = install(parsed, target, staging, reporter.detail, pip, InstallCache(cache))
        main = entry.resolve(installed.site_packages, installed.requested, parsed.script, console_script, module)
        reporter.step(f"entry point: {main.description}")
        tree = Tree.assemble(target, installed.site_packages, parsed.script)
        compiler = BundleCompiler(Compiler(target, cache), tree, staging / "generated")
        if parsed.script:
            tree.app_files += _add_script_data(tree, parsed.script, compiler, out)
            reporter.note(f"app files beside the script: {', '.join(tree.app_files)}")
        _exclude(tree, exclude, reporter)
        if main.relpath.startswith("bin/") and main.relpath in tree.files:
            # -m ruff's wrapper and ruff's binary: the program a wheel installs keeps its name.
            main = replace(main, filename=main.filename + "-main", relpath=main.relpath + "-main")
        tree.files.setdefault(main.relpath, main.source)
        key = None
        if check is None and not any(isinstance(p, Path) and p.is_relative_to(staging) for p in tree.files.values()):
            # Every file comes from where it stays (the stdlib, the install cache, the app), and
            # no check asks for a run: a record tells whether anything changed since the last
            # build of ``out``.
            key = _key(target, launcher, installed, main, tree, options)
            last = records.up_to_date(key, out)
            if last is not None:
                for message in last["notes"]:
                    reporter.note(message)
                summary = {**last["result"], "app_files": tuple(last["result"]["app_files"])}
                return replace(BuildResult(out, **summary), seconds=time.monotonic() - started, unchanged=True)
        reporter = notes = _Notes(reporter)
        if trim_stdlib:
            _trim(tree, compiler, target, main, reporter)
        linkage = natives.link_tree(tree, target, reporter.note, natives.DebugStripper(cache))
        licenses.add_system_licenses(tree, linkage.added, linkage.preload, reporter.note, cache)
        licenses.warn_gpl_distributions(tree, reporter.note)
        modules = tree.modules(target.ext_suffix)
        reporter.step(f"compiling {sum(1 for k, _ in modules.values() if k in (fmt.SOURCE, fmt.PACKAGE))} modules")
        compiled = compiler.compile_all(modules, main)
        inputs = list(installed.inputs)
        if parsed.script:
            digest = hashlib.sha256(parsed.script.read_bytes()).hexdigest()
            inputs.append((parsed.script.name, "", "", digest))  # no path: builds elsewhere are identical
        verify = (lambda path: _check_run(path, check, reporter)) if check is not None else (lambda path: None)
        reporter.step("writing the executable")
        written = write_executable(
            out,
            launcher.read_bytes(),
            tree,
            modules,
            linkage.preload,
            linkage.needed_paths,
            linkage.unit_libraries,
            main,
            compiled,
            target,
            inputs,
            verify,
            Packer(cache / "packed", reporter.step),
            compress,
            {"teardown": "full"} if full_teardown else {},
        )
    result = BuildResult(
        out,
        written.size,
        ".".join(map(str, target.version)),
        len(modules),
        written.distributions,
        main.description,
        tuple(tree.app_files),
        time.monotonic() - started,
    )
    if key is not None:
        summary = {k: v for k, v in asdict(result).items() if k not in ("output", "unchanged")}
        records.keep(key, out, linkage.added.values(), summary, notes.kept)
    return result


class _Notes(Reporter):
    """Passes messages on, keeping the notes: a rebuild with nothing to do shows them again."""

    def __init__(self, reporter: Reporter):
        self._reporter = reporter
        self.kept: list[str] = []

    def step(self, message: str) -> None:
        self._reporter.step(message)

    def note(self, message: str) -> None:
        self.kept.append(message)
        self._reporter.note(message)

    def detail(self, message: str) -> None:
        self._reporter.detail(message)


def _key(
    target: Target, launcher: Path, installed: Installed, main: entry.Entry, tree: Tree, options: dict[str, object]
) -> str:
    key = BuildKey()
    key.add(target.identity, sorted(options.items()), installed.inputs, main, tree.app_files, tree.roots)
    key.add(str(launcher))  # named by a hash of what it is built from
    key.files(tree.files)
    return key.hexdigest()


def _trim(tree: Tree, compiler: BundleCompiler, target: Target, main: entry.Entry, reporter: Reporter) -> None:
    reporter.step("finding the stdlib modules nothing imports")
    unused = trim.unused_stdlib(tree, tree.modules(target.ext_suffix), compiler, target, main.relpath)
    files = trim.drop(tree, unused, target)
    reporter.note(f"--trim-stdlib left out {len(unused)} stdlib modules ({files} files): {', '.join(unused)}")


def _exclude(tree: Tree, modules: Sequence[str], reporter: Reporter) -> None:
    for module in modules:
        gone = tree.exclude(module)
        if not gone:
            raise BuildError(f"--exclude {module}: no such module or package in the build; check its dotted name")
        reporter.note(f"left out {module}: {len(gone)} files")


def _check_output(out: Path) -> Path:
    if out.is_dir():
        raise BuildError(f"-o {out}: is a directory; give the path of the executable to write, e.g. {out}/app")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise BuildError(f"-o {out}: the directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BuildError(f"-o {out}: the directory {parent} is not writable; choose another output path")
    return out.absolute()


def _add_script_data(tree: Tree, script: Path, compiler: BundleCompiler, out: Path) -> list[str]:
    """Adds the data files and directories beside the script that its modules name; never the
    executable being built (``print("hello")`` in hello.py names ./hello)."""
    app_modules = [rel for rel in tree.files if rel.startswith(f"{entry.SCRIPT_ROOT}/") and rel.endswith(".py")]
    names = [n for result in compiler.compile(app_modules) for n in result.names or ()]
    added = []
    for path in datafiles.beside_script(script, names):
        if path.absolute() == out:
            continue
        relpath = f"{entry.SCRIPT_ROOT}/{path.name}"
        if path.is_dir():
            tree.add_directory(relpath, path)
            if out.is_relative_to(path.absolute()):
                tree.files.pop(f"{relpath}/{out.relative_to(path.absolute()).as_posix()}", None)
            added.append(path.name + "/")
        elif relpath not in tree.files:
            tree.files[relpath] = path
            added.append(path.name)
    return added


def _check_run(executable: Path, args: Sequence[str], reporter: Reporter) -> None:
    """Runs the freshly built executable as the smoke test of --check."""
    shown = " ".join(shlex.quote(a) for a in ["app", *args])
    reporter.step(f"checking: {shown}")
    try:
        proc = subprocess.run(
            [str(executable), *args], capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL
        )
    except subprocess.TimeoutExpired:
        raise BuildError(f"--check: `{shown}` did not finish within 300 s; nothing was written") from None
    if proc.returncode != 0:
        detail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-1:] or ["no output"]
        raise BuildError(
            f"--check: `{shown}` failed with exit code {proc.returncode} ({detail[0]}); nothing was written. "
            "Run the same command on the built app to see why, e.g. with a missing package added to the sources"
        )
