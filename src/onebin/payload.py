"""Writing an executable: the launcher, then the payload; ``_runtime/bundle.py`` reads it."""

from __future__ import annotations

import hashlib
import marshal
import os
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from . import __version__, hashing
from ._runtime.bundle import EXTENSION, TRAILER_SIZE, ZLIB, Index, Trailer
from ._runtime.metadata import normalize
from .compile import Compiled
from .entry import Entry
from .errors import BuildError
from .target import Target
from .tree import Tree

_ALIGN = 4096  # the payload starts on a page, so it can be mapped or dropped by page


class PayloadWriter:
    """Appends blobs (deduplicated by content) and the sections to an open output file."""

    def __init__(self, out: BinaryIO, launcher: bytes):
        self._out = out
        out.write(launcher)
        out.write(bytes(-len(launcher) % _ALIGN))
        self._start = out.tell()
        self._size = 0
        self._digest = hashlib.sha256()
        self._seen: dict[bytes, tuple[int, int, int]] = {}

    def add(self, data: bytes) -> tuple[int, int, int]:
        """Stores ``data``; returns its (offset, size, hash) in the payload."""
        digest = hashlib.sha256(data).digest()
        found = self._seen.get(digest)
        if found is None:
            found = self._seen[digest] = (*self._append(data), hashing.digest(data))
        return found

    def _append(self, data: bytes) -> tuple[int, int]:
        offset = self._size
        self._out.write(data)
        self._digest.update(data)
        self._size += len(data)
        return offset, len(data)

    def digest(self) -> str:
        """A hash of everything added so far: it names this build of the app."""
        return self._digest.hexdigest()

    def finish(self, paths: Sequence[str], runtime: Sequence[tuple[str, str, bytes]], index: dict[str, Any]) -> int:
        """Writes the sections and the trailer; returns the size of the whole file. ``index``
        has the fields of ``bundle.Index``, ``modules`` and ``files`` as dicts."""
        rest = {key: value for key, value in index.items() if key not in ("modules", "files")}
        blobs = {
            "paths": "\n".join(paths).encode(),
            "runtime": marshal.dumps(tuple(runtime)),
            "index": Index.pack(index["modules"], index["files"], rest),
        }
        sections = {name: self._append(data) for name, data in blobs.items()}
        trailer = Trailer(self._start, self._size, sections)
        hash = hashing.digest(trailer.head())
        for name in Trailer.SECTIONS:
            hash = hashing.digest(blobs[name], hash)
        trailer.hash = hash
        self._out.write(trailer.pack())
        return self._start + self._size + TRAILER_SIZE


class Deflater:
    """``--compress``: deflates blobs with zlib, keeping each result in the build cache by the
    content's hash, so that a rebuild deflates only what changed. A blob that deflating does
    not shrink by an eighth is stored as it is."""

    def __init__(self, cache: Path, step: Callable[[str], None] = lambda message: None) -> None:
        self._cache = cache
        self._step = step

    def deflate_all(self, blobs: Sequence[bytes]) -> dict[bytes, bytes | None]:
        """{sha256 of each blob: its deflated bytes, or None where deflating does not pay}."""
        todo = {hashlib.sha256(b).digest(): b for b in blobs if len(b) >= 512}
        self._step(f"compressing {len(todo)} files and modules")
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # zlib releases the GIL
            results = dict(zip(todo, pool.map(self._deflated, todo.keys(), todo.values()), strict=True))
        return results

    def _deflated(self, digest: bytes, data: bytes) -> bytes | None:
        path = self._cache / digest.hex()[:2] / digest.hex()
        try:
            packed = path.read_bytes()
        except OSError:
            packed = zlib.compress(data, 9)
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            tmp.write_bytes(packed)
            os.replace(tmp, path)
        return packed if len(packed) <= len(data) - len(data) // 8 else None


@dataclass(frozen=True)
class Written:
    size: int
    distributions: int


def write_executable(
    out: Path,
    launcher: bytes,
    tree: Tree,
    modules: dict[str, tuple[int, str]],
    preload: dict[str, tuple[str | tuple[str, ...], ...]],
    needed_paths: dict[str, tuple[tuple[int, int, str], ...]],
    main: Entry,
    compiled: Compiled,
    target: Target,
    inputs: Sequence[tuple[str, str, str, str]] = (),
    verify: Callable[[Path], None] = lambda path: None,
    deflater: Deflater | None = None,
    runtime_options: dict[str, str] | None = None,
) -> Written:
    """Writes the executable atomically: a failure, of the writing or of ``verify`` (called with
    the complete file before it takes the place of ``out``), leaves ``out`` as it was. With a
    ``deflater``, blobs are stored deflated, but for those that the runtime needs to inflate
    the others (the zlib extension module and its libraries). ``runtime_options`` go into the
    index's ``info`` (``teardown``: "full" for --full-teardown)."""
    tmp = out.with_name(f".{out.name}.onebin-{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            writer = PayloadWriter(f, launcher)
            contents = {
                rel: source if isinstance(source, bytes) else source.read_bytes()
                for rel, source in tree.files.items()
                if rel not in compiled.compressed
            }
            deflated: dict[bytes, bytes | None] = {}
            raw: set[str] = set()
            if deflater is not None:
                raw = _needed_to_inflate(modules, preload)
                codes = [code for code in compiled.code_of.values() if code]
                deflated = deflater.deflate_all([*codes, *(data for rel, data in contents.items() if rel not in raw)])

            def add(data: bytes) -> tuple[int, ...]:
                packed = deflated.get(hashlib.sha256(data).digest()) if deflated else None
                return writer.add(data) if packed is None else (*writer.add(packed), ZLIB)

            files: dict[str, tuple[int, ...]] = {}
            for rel in tree.files:
                if rel in compiled.compressed:  # a module's source: read only for tracebacks
                    files[rel] = (*writer.add(compiled.compressed[rel]), ZLIB)
                else:
                    files[rel] = add(contents[rel]) if rel not in raw else writer.add(contents[rel])
            index_modules = {}
            for key, (kind, rel) in modules.items():
                code = compiled.code_of.get(rel)
                index_modules[key] = (kind, rel) + (add(code) if code else (0, 0, 0))
            main_blob = writer.add(compiled.main)
            distributions = _distributions(tree)
            index: dict[str, Any] = {
                "roots": tuple(tree.roots),
                "files": files,
                "dirs": tree.directories(),
                "modules": index_modules,
                "preload": preload,
                "needed_paths": needed_paths,
                "distributions": distributions,
                "main": (*main_blob, main.relpath),
                "materialize": compiled.materialize,
                "info": {
                    "id": f"{out.name}-{writer.digest()[:16]}",
                    "python": ".".join(map(str, target.version)),
                    "entry": main.description,
                    "onebin": __version__,
                    "inputs": tuple(inputs),
                    **(runtime_options or {}),
                },
            }
            size = writer.finish(tree.roots, compiled.runtime, index)
        os.chmod(tmp, 0o755)
        verify(tmp)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BuildError(f"-o {out}: cannot write it ({exc.strerror or exc}); choose another output path") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Written(size, sum(len(v) for v in distributions.values()))


def _needed_to_inflate(
    modules: dict[str, tuple[int, str]], preload: dict[str, tuple[str | tuple[str, ...], ...]]
) -> set[str]:
    """The files of the stdlib's zlib extension module and of the libraries it loads first."""
    for key, (kind, rel) in modules.items():
        if kind == EXTENSION and key.endswith("/lib-dynload/zlib"):
            needed = {rel}
            for item in preload.get(rel, ()):
                needed.update(item if isinstance(item, tuple) else (item,))
            return needed
    return set()


def _distributions(tree: Tree) -> dict[str, tuple[tuple[str, str], ...]]:
    """For each sys.path root, its *.dist-info directories with their normalized names."""
    found: dict[str, list[tuple[str, str]]] = {root: [] for root in tree.roots}
    for directory in tree.directories():
        parent, _, name = directory.rpartition("/")
        if parent in found and name.endswith(".dist-info"):
            found[parent].append((normalize(name[: -len(".dist-info")].split("-")[0]), directory))
    return {root: tuple(v) for root, v in found.items() if v}
