"""Bytecode for the target interpreter, compiled by that interpreter and cached by content."""

from __future__ import annotations

import hashlib
import json
import marshal
import os
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

from . import datafiles
from ._runtime import bundle as fmt
from ._runtime.cache import unit_of
from .cachedir import store
from .entry import Entry
from .errors import BuildError
from .record import signature
from .target import Target
from .tree import Tree

RUNTIME_PACKAGE = "_onebin_runtime"
# Executed by the launcher in this order: each imports only the ones before it.
RUNTIME_MODULES = (
    "__init__",
    "bundle",
    "trace",
    "cache",
    "resources",
    "integrations",
    "native",
    "teardown",
    "execution",
    "finder",
    "metadata",
    "bootstrap",
)
_RUNTIME_DIR = Path(__file__).with_name("_runtime")
# The runtime module whose code runs a module's as importlib's loaders do, named as theirs
# (see _runtime/execution.py): import tracebacks and warnings skip its frames as theirs.
RUNTIME_AS_IMPORTLIB = {"execution": "<frozen importlib._bootstrap_external>"}


def _runtime_filename(name: str) -> str:
    """The file name of a runtime module's code, as a frozen module's: tools that measure or
    show the app's files (coverage, profilers) skip it as they skip importlib's frames."""
    return f"<frozen {RUNTIME_PACKAGE}>" if name == "__init__" else f"<frozen {RUNTIME_PACKAGE}.{name}>"


def runtime_jobs() -> list[tuple[str, Path]]:
    """(co_filename, source) of each runtime module, in RUNTIME_MODULES' order."""
    return [(RUNTIME_AS_IMPORTLIB.get(n, _runtime_filename(n)), _RUNTIME_DIR / f"{n}.py") for n in RUNTIME_MODULES]


_WORKER = Path(__file__).with_name("_compile_worker.py")
_WORKER_SOURCE = _WORKER.read_bytes()  # part of every cache key: what it computes may change
_WORKER_MODULE = "_onebin_compile_worker"
_KEYS = "keys.json"  # (name, source file) -> [its signature, its key] when last hashed


# (pattern, flags, then what re's compiler hands to _sre.compile(): flags, code as u32 bytes,
# groups, groupindex, indexgroup); see _compile_worker._regexes.
Regex = tuple[str | bytes, int, int, bytes, int, dict[str, int], tuple[str | None, ...]]


class Result(NamedTuple):
    """What compiling one source gives (see _compile_worker.py)."""

    code: bytes | None  # marshalled; None: the source does not compile
    names: list[str] | None  # its short string constants, "__file__"/"__path__" first if read
    compressed: bytes  # the source, deflated
    imported: list[tuple[int, str, tuple[str, ...]]]  # (level, name, fromlist) of what it may import
    imports: list[tuple[int, str, tuple[str, ...]]]  # its top-level imports: (level, name, fromlist)
    main_imports: list[tuple[int, str, tuple[str, ...]]]  # those under `if __name__ == "__main__":`
    regexes: list[Regex]  # the regular expressions its import compiles, compiled
    directories: list[str]  # the names its top-level code binds to its own directory
    joined: list[str]  # the first components of the paths it joins to its own directory, or whole ones
    paths: list[str]  # the names its top-level code binds to its own directory or a path in it
    handed_imports: list[str]  # the names it imports from other modules and hands out


_NOTHING = Result(None, None, b"", [], [], [], [], [], [], [], [])


class Compiler:
    """Compiles (co_filename, source file) pairs with ``target``, reusing ``cache_dir``."""

    def __init__(self, target: Target, cache_dir: Path):
        self.target = target
        self._target = target
        self._cache = cache_dir / "bytecode" / target.magic
        self._keys: dict[str, list[object]] | None = None  # see _key()
        self._keys_changed = False

    def compile(self, jobs: Sequence[tuple[str, Path]]) -> list[Result]:
        """For each job: its marshalled code (None for a syntax error) and its names, if it
        reads its own ``__file__`` (see _compile_worker.py)."""
        keys = [self._key(name, path) for name, path in jobs]
        self._save_keys()
        cached = [self._cached(key) for key in keys]
        todo = [i for i, found in enumerate(cached) if found is None]
        results: list[Result] = [found or _NOTHING for found in cached]
        if todo:
            for i, compiled in zip(todo, self._run([jobs[i] for i in todo]), strict=True):
                results[i] = compiled
                self._store(keys[i], compiled)
        return results

    def _key(self, name: str, path: Path) -> str:
        """A hash of the source, its name, the worker and the exact version; taken from the
        last build that hashed this file if its signature is the same (reading and hashing
        every module took a tenth of a rebuild)."""
        if self._keys is None:
            self._keys = self._load_keys()
        known, sig = self._keys.get(f"{name}\0{path}"), signature(path)
        if known is not None and sig is not None and known[0] == sig:
            return str(known[1])
        # The exact version too, not only the bytecode's magic: the compiled regular
        # expressions come from the target's re, which patch releases change (3.11.5's fix of
        # possessive quantifiers, gh-106052).
        version = ".".join(map(str, self.target.version)).encode()
        key = hashlib.sha256(_WORKER_SOURCE + version + b"\0" + name.encode() + b"\0" + path.read_bytes()).hexdigest()
        if sig is not None and sig == signature(path):  # not changed while it was read
            self._keys[f"{name}\0{path}"] = [sig, key]
            self._keys_changed = True
        return key

    def _load_keys(self) -> dict[str, list[object]]:
        try:
            found = json.loads((self._cache / _KEYS).read_text())
        except (OSError, ValueError):
            return {}
        if not isinstance(found, dict) or found.get("worker") != self._worker_hash():
            return {}
        return found.get("keys", {})  # type: ignore[no-any-return]

    def _save_keys(self) -> None:
        if not self._keys_changed or self._keys is None:
            return
        self._keys_changed = False
        store(self._cache / _KEYS, json.dumps({"worker": self._worker_hash(), "keys": self._keys}).encode())

    def _worker_hash(self) -> str:
        version = ".".join(map(str, self.target.version))
        return hashlib.sha256(_WORKER_SOURCE + version.encode()).hexdigest()

    def _cached(self, key: str) -> Result | None:
        try:
            data = (self._cache / key[:2] / key).read_bytes()
            return Result(*marshal.loads(data))
        except (OSError, ValueError, EOFError, TypeError):
            return None

    def _store(self, key: str, compiled: Result) -> None:
        if compiled[0] is None:
            return
        store(self._cache / key[:2] / key, marshal.dumps(tuple(compiled)))

    def _run(self, jobs: Sequence[tuple[str, Path]]) -> list[Result]:
        # A worker starts in about 50 ms (its bytecode cached) and compiles a module in 5 to 20.
        workers = max(1, min(os.cpu_count() or 1, len(jobs) // 20, 8))
        chunks = [jobs[i::workers] for i in range(workers)]
        with ThreadPoolExecutor(workers) as pool:
            outputs = list(pool.map(self._run_worker, chunks))
        merged: list[Result] = [_NOTHING] * len(jobs)
        for w, out in enumerate(outputs):
            merged[w::workers] = out
        return merged

    def _worker_directory(self) -> Path:
        """A directory holding only a copy of the worker, where the target keeps its bytecode
        (``__pycache__``): compiling the worker's source took each run 60 ms on a slow CPU."""
        directory = self._cache.parent / "worker" / hashlib.sha256(_WORKER_SOURCE).hexdigest()[:32]
        path = directory / f"{_WORKER_MODULE}.py"
        if not path.is_file():
            store(path, _WORKER_SOURCE)
        return directory

    def _run_worker(self, jobs: Sequence[tuple[str, Path]]) -> list[Result]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONHASHSEED"] = "0"  # frozensets in constants are marshalled in hash order
        payload = marshal.dumps([(name, str(path)) for name, path in jobs])
        where = self._worker_directory()
        if (where / f"{_WORKER_MODULE}.py").is_file():
            start = f"import sys; sys.path[:1] = [{str(where)!r}]; import {_WORKER_MODULE}; {_WORKER_MODULE}.main()"
        else:
            start = _WORKER.read_text()  # a cache that cannot be written: compiled at each run
        proc = subprocess.run(
            # Not -I: it would ignore PYTHONHASHSEED. -c: no onebin directory on sys.path.
            [self.target.executable, "-S", "-s", "-c", start],
            input=payload,
            capture_output=True,
            env=env,
        )
        if proc.returncode != 0:
            raise BuildError(
                f"compiling with {self.target.executable} failed: {proc.stderr.decode(errors='replace').strip()}"
            )
        return [Result(*item) for item in marshal.loads(proc.stdout)]


@dataclass
class Compiled:
    """Everything compiled for one executable."""

    code_of: dict[str, bytes | None]  # module file -> marshalled code (None: a syntax error)
    compressed: dict[str, bytes]  # module file -> its source, compressed with zlib
    materialize: dict[str, tuple[str, ...]]  # see datafiles.py
    runtime: list[tuple[str, str, bytes]]  # (module name, package, code), for the launcher
    main: bytes
    imports_of: dict[str, list[tuple[int, str, tuple[str, ...]]]]  # module file -> its top-level imports
    main_imports: list[tuple[int, str, tuple[str, ...]]]  # the entry point's, `if __name__ == "__main__":` too
    as_main_imports_of: dict[str, list[tuple[int, str, tuple[str, ...]]]]  # module file -> those run as __main__
    regexes: list[Regex]  # those the modules and the entry point compile as they are imported, in file order


class BundleCompiler:
    """Compiles a tree's modules, onebin's runtime and the entry point for the target."""

    def __init__(self, compiler: Compiler, tree: Tree, generated: Path):
        self._compiler = compiler
        self._tree = tree
        self._generated = generated  # where generated sources (bytes in the tree) are written

    def compile(self, relpaths: Sequence[str], extra: Sequence[tuple[str, Path]] = ()) -> list[Result]:
        jobs = [(co_filename(rel, self._tree.roots), self._path(rel)) for rel in relpaths]
        return self._compiler.compile([*jobs, *extra])

    def compile_all(self, modules: dict[str, tuple[int, str]], main: Entry) -> Compiled:
        version = self._compiler.target.short_version
        siblings = self._shadowed_sources(modules)
        sources = sorted(
            {rel for kind, rel in modules.values() if kind in (fmt.SOURCE, fmt.PACKAGE)} | set(siblings.values())
        )
        extra = runtime_jobs()
        extra.append((main.filename, self._path(main.relpath)))
        results = self.compile(sources, extra)
        runtime_codes = [result.code for result in results[len(sources) : -1]]
        main_code = results[-1].code
        if main_code is None:
            raise BuildError(f"{main.filename} does not compile for Python {version}: fix its syntax error")
        runtime = []
        for name, code in zip(RUNTIME_MODULES, runtime_codes, strict=True):
            if code is None:
                raise BuildError(f"onebin's runtime does not compile for Python {version}; please report this bug")
            runtime.append(
                (RUNTIME_PACKAGE if name == "__init__" else f"{RUNTIME_PACKAGE}.{name}", RUNTIME_PACKAGE, code)
            )
        by_file = dict(zip(sources, results[: len(sources)], strict=True))
        names_of = {rel: result.names for rel, result in by_file.items() if result.names}
        for extension, source in siblings.items():  # mypyc: the .py says what the .so does
            if source in names_of:
                names_of[extension] = names_of[source]
        materialize = datafiles.materialize_map(
            names_of,
            self._tree.files,
            self._tree.directories(),
            tuple(self._tree.roots),
            {rel: result.joined for rel, result in by_file.items() if result.joined},
        )
        imports_of = {rel: result.imports for rel, result in by_file.items() if result.imports}
        datafiles.add_directory_importers(
            materialize,
            {rel: result.directories for rel, result in by_file.items() if result.directories},
            imports_of,
            tuple(self._tree.roots),
        )
        datafiles.add_path_importers(
            materialize,
            {rel: result.paths for rel, result in by_file.items() if result.paths},
            {rel: result.handed_imports for rel, result in by_file.items() if result.handed_imports},
            imports_of,
            tuple(self._tree.roots),
        )
        self._mypyc_groups(modules, siblings, materialize)
        return Compiled(
            {rel: result.code for rel, result in by_file.items()},
            {rel: result.compressed for rel, result in by_file.items() if result.compressed},
            materialize,
            runtime,
            main_code,
            {rel: result.imports for rel, result in by_file.items() if result.imports},
            [*results[-1].imports, *results[-1].main_imports],
            {rel: result.main_imports for rel, result in by_file.items() if result.main_imports},
            [regex for result in [*results[: len(sources)], results[-1]] for regex in result.regexes],
        )

    def _mypyc_groups(
        self, modules: dict[str, tuple[int, str]], siblings: dict[str, str], materialize: dict[str, tuple[str, ...]]
    ) -> None:
        """mypyc compiles a distribution's modules into one shared library (``<hash>__mypyc``)
        that initialises them without the import system, their ``__file__`` beside its own. So
        loading it writes the units its marked modules need, and it then lives there too."""
        roots = tuple(self._tree.roots)
        marked: dict[str, tuple[str, ...]] = {}
        for ext in siblings:
            needs = materialize.get(ext)
            if needs:
                marked[ext] = needs
        if not marked:
            return
        owners = self._tree.owners()
        for key, (kind, rel) in modules.items():
            if kind == fmt.EXTENSION and key.endswith("__mypyc"):
                units = {unit for ext, its in marked.items() if owners.get(ext) == owners.get(rel) for unit in its}
                if units:
                    materialize[rel] = tuple(sorted(units | {unit_of(rel, roots)}))

    def _shadowed_sources(self, modules: dict[str, tuple[int, str]]) -> dict[str, str]:
        """Extension module file -> the .py of the same module beside it (as mypyc wheels ship)."""
        shadowed = {}
        for key, (kind, rel) in modules.items():
            source = f"{key}.py" if kind == fmt.EXTENSION else f"{key}/__init__.py"
            if kind in (fmt.EXTENSION, fmt.EXTENSION_PACKAGE) and source in self._tree.files:
                shadowed[rel] = source
        return shadowed

    def _path(self, relpath: str) -> Path:
        source = self._tree.files[relpath]
        if not isinstance(source, bytes):
            return source
        path = self._generated / relpath
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(source)
        return path


def co_filename(relpath: str, roots: Sequence[str]) -> str:
    """The path tracebacks show: relative to the sys.path root holding the file."""
    best = max((r for r in roots if relpath.startswith(r + "/")), key=len, default="")
    return relpath[len(best) + 1 :] if best else relpath
