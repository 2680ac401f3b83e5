"""The build: sources installed by pip, the tree assembled, compiled, and written as one file."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from . import __version__, elf, entry, natives
from ._runtime import bundle as fmt
from ._runtime.metadata import normalize
from .compile import Compiler
from .errors import BuildError
from .launcher import launcher_for
from .payload import PayloadWriter
from .sources import Sources, install
from .target import Target
from .tree import Tree

RUNTIME_PACKAGE = "_onebin_runtime"
# Executed by the launcher in this order: each imports only the ones before it.
RUNTIME_MODULES = ("__init__", "bundle", "native", "finder", "metadata", "bootstrap")
_RUNTIME_DIR = Path(__file__).with_name("_runtime")


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


def cache_dir() -> Path:
    """Where compiled launchers and bytecode are kept between builds."""
    if os.environ.get("ONEBIN_CACHE_DIR"):
        return Path(os.environ["ONEBIN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "onebin"


def build(
    sources: Sequence[str],
    output: str | os.PathLike[str],
    *,
    requirements: Sequence[str] = (),
    console_script: str | None = None,
    module: str | None = None,
    python: str | None = None,
    log: Callable[[str], None] = lambda message: None,
) -> BuildResult:
    """Builds one executable from ``sources`` (pip requirements, projects, wheels, a script)."""
    started = time.monotonic()
    out = _check_output(Path(output))
    target = Target.find(python)
    parsed = Sources.parse(sources, requirements)
    if not parsed.script and not parsed.pip_args:
        raise BuildError("nothing to build: pass a script, a requirement, a project directory or -r FILE")
    cache = cache_dir()
    log(f"target: CPython {'.'.join(map(str, target.version))} ({target.executable})")
    launcher = launcher_for(target, cache)
    with tempfile.TemporaryDirectory(prefix="onebin-") as tmp:
        staging = Path(tmp)
        if parsed.pip_args:
            log(f"installing with pip: {' '.join(parsed.pip_args)}")
        installed = install(parsed, target, staging, log)
        main = entry.resolve(installed.site_packages, installed.requested, parsed.script, console_script, module)
        log(f"entry point: {main.description}")
        tree = Tree.assemble(target, installed.site_packages, parsed.script)
        if tree.app_files:
            log(f"app files beside the script: {', '.join(tree.app_files)}")
        tree.files.setdefault(main.relpath, main.source)
        preload = _link_natives(tree, target, log)
        modules = tree.modules(target.ext_suffix)
        log(f"compiling {sum(1 for k, _ in modules.values() if k in (fmt.SOURCE, fmt.PACKAGE))} modules")
        size, distributions = _write(out, launcher.read_bytes(), tree, modules, preload, main, target, cache, staging)
    return BuildResult(
        out,
        size,
        ".".join(map(str, target.version)),
        len(modules),
        distributions,
        main.description,
        tuple(tree.app_files),
        time.monotonic() - started,
    )


def _check_output(out: Path) -> Path:
    if out.is_dir():
        raise BuildError(f"-o {out}: is a directory; give the path of the executable to write, e.g. {out}/app")
    parent = out.parent if str(out.parent) else Path(".")
    if not parent.is_dir():
        raise BuildError(f"-o {out}: the directory {parent} does not exist; create it first")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise BuildError(f"-o {out}: the directory {parent} is not writable; choose another output path")
    return out.absolute()


def _link_natives(tree: Tree, target: Target, log: Callable[[str], None]) -> dict[str, tuple[str, ...]]:
    """Strips RUNPATHs, adds the system libraries extensions need, and returns preload orders."""
    objects = {}
    for relpath, source in list(tree.native_files()):
        data = source if isinstance(source, bytes) else source.read_bytes()
        try:
            stripped = elf.without_runpath(data)
            objects[relpath] = (Path(source) if not isinstance(source, bytes) else Path(relpath), elf.read(stripped))
        except elf.ELFError:
            continue
        tree.files[relpath] = stripped
    while True:
        extensions = {rel for kind, rel in tree.modules(target.ext_suffix).values() if kind == fmt.EXTENSION}
        linkage = natives.link(objects, extensions)
        dynload = f"{target.stdlib_root}/lib-dynload/"
        optional = [m for m in linkage.missing if m.needed_by.startswith(dynload)]
        required = [m for m in linkage.missing if not m.needed_by.startswith(dynload)]
        if required:
            needs = "; ".join(f"{m.needed_by} needs {m.name}" for m in required)
            raise BuildError(
                f"libraries that the bundled code needs are not on this machine: {needs}. "
                "Install them on the build machine (they are then bundled), or leave out the package that needs them"
            )
        if not optional:
            break
        for m in optional:
            log(f"leaving out {m.needed_by.rpartition('/')[2]}: it needs {m.name}, which this machine lacks")
            tree.files.pop(m.needed_by, None)
            objects.pop(m.needed_by, None)
    for relpath, path in linkage.added.items():
        tree.files[relpath] = elf.without_runpath(path.read_bytes())
    return {k: v for k, v in linkage.preload.items() if v}


def _write(
    out: Path,
    launcher: bytes,
    tree: Tree,
    modules: dict[str, tuple[int, str]],
    preload: dict[str, tuple[str, ...]],
    main: entry.Entry,
    target: Target,
    cache: Path,
    staging: Path,
) -> tuple[int, int]:
    compiler = Compiler(target, cache)
    materialized = _materialize(tree, staging / "generated")
    sources = sorted({rel for kind, rel in modules.values() if kind in (fmt.SOURCE, fmt.PACKAGE)})
    runtime_files = [_RUNTIME_DIR / f"{name}.py" for name in RUNTIME_MODULES]
    jobs = [(_co_filename(rel, tree.roots), materialized[rel]) for rel in sources]
    jobs += [(f"{RUNTIME_PACKAGE}/{p.name}", p) for p in runtime_files]
    jobs.append((main.filename, materialized[main.relpath]))
    codes = compiler.compile(jobs)
    runtime_codes, main_code = codes[len(sources) : -1], codes[-1]
    if None in runtime_codes:
        raise BuildError(f"onebin's runtime does not compile for Python {target.short_version}; please report this bug")
    if main_code is None:
        raise BuildError(f"{main.filename} does not compile for Python {target.short_version}: fix its syntax error")
    runtime = []
    for name, code in zip(RUNTIME_MODULES, runtime_codes, strict=True):
        full = RUNTIME_PACKAGE if name == "__init__" else f"{RUNTIME_PACKAGE}.{name}"
        runtime.append((full, RUNTIME_PACKAGE, code))
    code_of = dict(zip(sources, codes[: len(sources)], strict=True))
    tmp = out.with_name(f".{out.name}.onebin-{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            writer = PayloadWriter(f, launcher)
            files = {rel: writer.add(_read(src)) for rel, src in tree.files.items()}
            index_modules = {}
            for key, (kind, rel) in modules.items():
                code = code_of.get(rel)
                index_modules[key] = (kind, rel) + (writer.add(code) if code else (0, 0))
            distributions = _distributions(tree)
            index: dict[str, Any] = {
                "roots": tuple(tree.roots),
                "files": files,
                "dirs": tree.directories(),
                "modules": index_modules,
                "preload": preload,
                "distributions": distributions,
                "main": writer.add(main_code) + (main.relpath,),
                "info": {
                    "python": ".".join(map(str, target.version)),
                    "entry": main.description,
                    "onebin": __version__,
                },
            }
            size = writer.finish(tree.roots, runtime, index)  # type: ignore[arg-type]
        os.chmod(tmp, 0o755)
        os.replace(tmp, out)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return size, sum(len(v) for v in distributions.values())


def _materialize(tree: Tree, directory: Path) -> dict[str, Path]:
    """Paths for the tree's files; generated ones (bytes) are written under ``directory``."""
    paths = {}
    for relpath, source in tree.files.items():
        if isinstance(source, bytes):
            path = directory / relpath
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(source)
            paths[relpath] = path
        else:
            paths[relpath] = source
    return paths


def _read(source: Path | bytes) -> bytes:
    return source if isinstance(source, bytes) else source.read_bytes()


def _co_filename(relpath: str, roots: Sequence[str]) -> str:
    """The path tracebacks show: relative to the sys.path root holding the file."""
    best = max((r for r in roots if relpath.startswith(r + "/")), key=len, default="")
    return relpath[len(best) + 1 :] if best else relpath


def _distributions(tree: Tree) -> dict[str, tuple[tuple[str, str], ...]]:
    found: dict[str, list[tuple[str, str]]] = {root: [] for root in tree.roots}
    for directory in tree.directories():
        parent, _, name = directory.rpartition("/")
        if parent in found and name.endswith(".dist-info"):
            found[parent].append((normalize(name[: -len(".dist-info")].split("-")[0]), directory))
    return {root: tuple(v) for root, v in found.items() if v}
