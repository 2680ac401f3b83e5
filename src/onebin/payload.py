"""Writing an executable: the launcher, then the payload; ``_runtime/bundle.py`` reads it."""

from __future__ import annotations

import hashlib
import marshal
import os
import posixpath
import re
import zlib
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO

from . import __version__, hashing, packing
from ._runtime.bundle import EXTENSION, LZ4, SOLID, TRAILER_SIZE, ZLIB, Index, Trailer
from ._runtime.cache import unit_of
from ._runtime.metadata import normalize
from .ahead import ImportOrder
from .compile import Compiled, Regex
from .entry import Entry
from .errors import BuildError
from .packing import Packer
from .target import Target
from .tree import Tree

_ALIGN = 4096  # the payload starts on a page, so it can be mapped or dropped by page
_SOLID_BLOCK = 1 << 20  # --compress: sources are compressed together in blocks of about this size


class PayloadWriter:
    """Appends blobs (deduplicated by content) and the sections to an open output file."""

    def __init__(self, out: BinaryIO, launcher: bytes):
        self._out = out
        out.write(launcher)
        out.write(bytes(-len(launcher) % _ALIGN))
        self._start = out.tell()
        self._size = 0
        self._digest = hashlib.sha256()
        self._seen: dict[bytes, tuple[int, ...]] = {}

    def add(
        self, data: bytes, key: bytes | None = None, packed: tuple[bytes, tuple[int, ...]] | None = None
    ) -> tuple[int, ...]:
        """Stores ``data`` (whose packing.digest() is ``key``), or its ``packed`` form (the
        packed bytes and the entry's codec fields); returns its (offset, size, hash, ...) entry
        in the payload, the hash being of the bytes stored."""
        key = packing.digest(data) if key is None else key
        found = self._seen.get(key)
        if found is None:
            stored, codec = packed if packed is not None else (data, ())
            found = self._seen[key] = (*self._append(stored), hashing.digest(stored), *codec)
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

    def finish(
        self,
        paths: Sequence[str],
        runtime: Sequence[tuple[str, str, bytes]],
        index: dict[str, Any],
        ahead: bytes = b"",
    ) -> int:
        """Writes the sections and the trailer; returns the size of the whole file. ``index``
        has the fields of ``bundle.Index``, ``modules`` and ``files`` as dicts; ``ahead`` is
        that section's bytes (``ahead_section``; none: the imports do all the work)."""
        rest = {key: value for key, value in index.items() if key not in ("modules", "files")}
        blobs = {
            "paths": "\n".join(paths).encode(),
            "runtime": marshal.dumps(tuple(runtime)),
            "index": Index.pack(index["modules"], index["files"], rest),
            "ahead": ahead,
        }
        sections = {name: self._append(data) for name, data in blobs.items()}
        trailer = Trailer(self._start, self._size, sections)
        hash = hashing.digest(trailer.head())
        for name in Trailer.SECTIONS:
            hash = hashing.digest(blobs[name], hash)
        trailer.hash = hash
        self._out.write(trailer.pack())
        return self._start + self._size + TRAILER_SIZE


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
    unit_libraries: dict[str, tuple[str, ...]],
    main: Entry,
    compiled: Compiled,
    target: Target,
    inputs: Sequence[tuple[str, str, str, str]] = (),
    verify: Callable[[Path], None] = lambda path: None,
    packer: Packer | None = None,
    compress: bool = False,
    runtime_options: dict[str, str] | None = None,
) -> Written:
    """Writes the executable atomically: a failure, of the writing or of ``verify`` (called with
    the complete file before it takes the place of ``out``), leaves ``out`` as it was. With a
    ``packer``, blobs are stored packed with LZ4 where that pays, or with zlib if ``compress``
    (but for those that the runtime needs to inflate the others: the zlib extension module and
    its libraries). ``runtime_options`` go into the index's ``info`` (``teardown``: "full" for
    --full-teardown)."""
    tmp = out.with_name(f".{out.name}.onebin-{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as f:
            writer = PayloadWriter(f, launcher)
            contents = {
                rel: source if isinstance(source, bytes) else source.read_bytes()
                for rel, source in tree.files.items()
                if rel not in compiled.compressed
            }
            keys = {rel: packing.digest(data) for rel, data in contents.items()}
            code_keys = {rel: packing.digest(code) for rel, code in compiled.code_of.items() if code}
            packed: dict[bytes, tuple[bytes, tuple[int, ...]]] = {}
            fast = _needed_to_inflate(modules, preload) if compress else set()
            if packer is not None:
                blobs = {code_keys[rel]: code for rel, code in compiled.code_of.items() if code}
                blobs.update((keys[rel], data) for rel, data in contents.items() if rel not in fast)
                packed = packer.pack_all(blobs, ZLIB if compress else LZ4)
                # What zlib itself needs is never deflated, even if another file has its bytes:
                # its own keys, so that deduplication cannot hand it a deflated copy.
                for rel in fast:
                    keys[rel] += b"lz4"
                packed.update(packer.pack_all({keys[rel]: contents[rel] for rel in fast}, LZ4))

            files: dict[str, tuple[int, ...]] = {}
            solid = {}
            if compress and packer is not None and _can_unpack_solid(modules):
                solid = _add_solid(writer, compiled.compressed, tree.roots, packer)
            for rel in tree.files:
                if rel in solid:
                    files[rel] = solid[rel]
                elif rel in compiled.compressed:  # a module's source: read only for tracebacks
                    files[rel] = _add_deflated(writer, compiled.compressed[rel])
                else:
                    files[rel] = writer.add(contents[rel], keys[rel], packed.get(keys[rel]))
            index_modules = {}
            code_entries: dict[str, tuple[int, ...]] = {}
            for key, (kind, rel) in modules.items():
                code = compiled.code_of.get(rel)
                entry = writer.add(code, code_keys[rel], packed.get(code_keys[rel])) if code else (0, 0, 0)
                index_modules[key] = (kind, rel, *entry)
                code_entries[key] = entry
            main_blob = writer.add(compiled.main)
            regexes = _regex_table(compiled.regexes)
            regexes_entry = _add_lz4(writer, regexes, packer) if regexes else None
            distributions = _distributions(tree)
            index: dict[str, Any] = {
                "roots": tuple(tree.roots),
                "files": files,
                "dirs": tree.directories(),
                "modules": index_modules,
                "preload": preload,
                "needed_paths": needed_paths,
                "distributions": distributions,
                "headers": _metadata_headers(contents, distributions),
                "main": (main.relpath, *main_blob),
                "materialize": compiled.materialize,
                "regexes": regexes_entry,
                "pth": _pth_lines(tree, contents),
                "prefix_data": tuple(sorted(tree.prefix_data)),
                "unit_libraries": unit_libraries,
                "info": {
                    "id": f"{out.name}-{writer.digest()[:16]}",
                    "python": ".".join(map(str, target.version)),
                    "entry": main.description,
                    "onebin": __version__,
                    "inputs": tuple(inputs),
                    **(runtime_options or {}),
                },
            }
            imports = ImportOrder(
                modules,
                tree.roots,
                compiled.imports_of,
                preload,
                target.builtins | target.frozen,
                (main.runs, compiled.as_main_imports_of),
            )
            ahead = [(True, main.relpath, main_blob)] + [
                (is_code, name, code_entries[name] if is_code else files[name])
                for is_code, name in _from_memory(
                    imports.files([*compiled.main_imports, *_run_by_name(main)]),
                    modules,
                    compiled.materialize,
                    tuple(tree.roots),
                )
            ]
            size = writer.finish(tree.roots, compiled.runtime, index, ahead_section(ahead, needed_paths))
        os.chmod(tmp, 0o755)
        verify(tmp)
        os.replace(tmp, out)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise BuildError(f"-o {out}: cannot write it ({exc.strerror or exc}); choose another output path") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return Written(size, sum(len(distributions.get(root, ())) for root in tree.roots))


# Kinds of the ahead section's records (launcher.c, "work done ahead").
AHEAD_CODE = 0  # bytecode, unpacked into a buffer
AHEAD_NATIVE = 1  # a native file put in a memfd that other libraries' paths are written into
AHEAD_SHARED = 2  # a native file put in a memfd named after its hash and sealed, for child processes
AHEAD_LEAST = 256 << 10  # less work (unpacked bytes) is not worth a thread: launcher.c's AHEAD_MIN


def ahead_section(
    blobs: Sequence[tuple[bool, str, tuple[int, ...]]], needed_paths: Mapping[str, object], least: int = AHEAD_LEAST
) -> bytes:
    """The ahead section for (is_code, name, payload entry) in import order: u32 count | u32 0 |
    records, by offset | u32 order[count], the records' indices in import order | names,
    NUL-terminated. A record: u64 offset, size, hash, unpacked size (0: stored as is) | u32 kind
    | u32 where its name starts. Blobs deflated with zlib (--compress) are left to the imports.
    Empty if the blobs add up to less than ``least`` bytes: then the launcher starts no thread
    and need not read the section to find that out."""
    seen: dict[int, tuple[int, int, int, int, int, str]] = {}
    for is_code, name, entry in blobs:
        if entry[1] == 0 or entry[0] in seen or entry[3:4] not in ((), (LZ4,)):
            continue  # no code (a syntax error), listed already, or deflated
        kind = AHEAD_CODE if is_code else AHEAD_NATIVE if name in needed_paths else AHEAD_SHARED
        seen[entry[0]] = (entry[0], entry[1], entry[2], entry[4] if len(entry) > 4 else 0, kind, name)
    if sum(record[3] or record[1] for record in seen.values()) < least:
        return b""
    by_offset = sorted(seen)
    position = {offset: i for i, offset in enumerate(by_offset)}
    records, names = bytearray(), bytearray()
    for offset in by_offset:
        *numbers, kind, name = seen[offset]
        records += b"".join(n.to_bytes(8, "little") for n in numbers)
        records += kind.to_bytes(4, "little") + len(names).to_bytes(4, "little")
        names += name.encode() + b"\0"
    order = b"".join(position[offset].to_bytes(4, "little") for offset in seen)
    return len(seen).to_bytes(4, "little") + bytes(4) + bytes(records) + order + bytes(names)


def _from_memory(
    files: Iterable[tuple[bool, str]],
    modules: Mapping[str, tuple[int, str]],
    materialize: Mapping[str, tuple[str, ...]],
    roots: tuple[str, ...],
) -> Iterator[tuple[bool, str]]:
    """``ImportOrder.files`` without the native files that will load from a written copy: those
    whose package an import before them (or they themselves) has the runtime write to the cache,
    as the runtime's ``Cache.real_path`` decides it (mypyc's libraries and extension modules)."""
    written: set[str] = set()
    for is_code, name in files:
        relpath = modules[name][1] if is_code else name
        written.update(materialize.get(relpath, ()))
        if is_code or unit_of(relpath, roots) not in written:
            yield is_code, name


def _can_unpack_solid(modules: dict[str, tuple[int, str]]) -> bool:
    """Whether the runtime can unpack blocks of sources: the bundle has the _lzma extension
    module (Python built with liblzma)."""
    return any(kind == EXTENSION and key.endswith("/lib-dynload/_lzma") for key, (kind, _) in modules.items())


def _add_solid(
    writer: PayloadWriter, deflated: Mapping[str, bytes], roots: Sequence[str], packer: Packer
) -> dict[str, tuple[int, ...]]:
    """Stores modules' sources ({file: its source deflated}) in blocks compressed together
    (bundle.SOLID); returns each file's entry. A block holds files of one sys.path root in path
    order, so that one app's changes leave the blocks of the stdlib and site-packages as they were
    (packing caches them by content)."""
    sources = {rel: zlib.decompress(deflated[rel]) for rel in sorted(deflated)}
    by_root: dict[str, list[str]] = {}
    for rel in sources:
        root = max((r for r in roots if rel.startswith(r + "/")), key=len, default="")
        by_root.setdefault(root, []).append(rel)
    blocks: list[list[str]] = []
    for rels in by_root.values():
        size = _SOLID_BLOCK
        for rel in rels:
            if size >= _SOLID_BLOCK:
                blocks.append([])
                size = 0
            blocks[-1].append(rel)
            size += len(sources[rel])
    joined = [b"".join(sources[rel] for rel in block) for block in blocks]
    keys = [packing.digest(data) + b"solid" for data in joined]
    packed = packer.pack_all(dict(zip(keys, joined, strict=True)), SOLID)
    entries: dict[str, tuple[int, ...]] = {}
    for block, key, data in zip(blocks, keys, joined, strict=True):
        stored = packed.get(key)
        entry = writer.add(data, key, stored) if stored is not None else ()
        start = 0
        for rel in block:
            length = len(sources[rel])
            entries[rel] = (*entry, start, length) if entry else _add_deflated(writer, deflated[rel])
            start += length
    return entries


def _add_deflated(writer: PayloadWriter, deflated: bytes) -> tuple[int, ...]:
    return writer.add(deflated, packing.digest(deflated) + b"zlib", (deflated, (ZLIB,)))


def _add_lz4(writer: PayloadWriter, data: bytes, packer: Packer | None) -> tuple[int, ...]:
    """Stores ``data`` packed with LZ4 where that pays, even for --compress (the runtime reads
    it before it could import zlib); returns its entry."""
    if packer is None:
        return writer.add(data)
    key = packing.digest(data)
    return writer.add(data, key, packer.pack_all({key: data}, LZ4).get(key))


def _regex_table(regexes: Sequence[Regex]) -> bytes:
    """The marshalled table the runtime gives re's compiler (integrations.py): two dicts, for
    str and for bytes patterns, (pattern, flags) -> (flags, code, groups, groupindex,
    indexgroup), what it would hand to _sre.compile(), each once, in the order given (a
    reproducible table); b"" if there is none."""
    if not regexes:
        return b""
    tables: tuple[dict[tuple[Any, int], tuple[Any, ...]], dict[tuple[Any, int], tuple[Any, ...]]] = ({}, {})
    for pattern, flags, *compiled in regexes:
        tables[isinstance(pattern, bytes)].setdefault((pattern, flags), tuple(compiled))
    return marshal.dumps(tables)


def _run_by_name(main: Entry) -> list[tuple[int, str, tuple[str, ...]]]:
    """What ``python -m`` runs of the module the entry point names: the module, or a package's
    ``__main__`` (which is not there for a plain module), as if imported."""
    return [(0, main.runs, ()), (0, f"{main.runs}.__main__", ())] if main.runs else []


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


_FIELD_NAME = re.compile(r"[\x21-\x39\x3b-\x7e]+")  # what email's parser takes for a header's name
_PLAIN_VALUE = re.compile(r" [^\s:]+")


def _metadata_headers(
    contents: Mapping[str, bytes], distributions: Mapping[str, tuple[tuple[str, str], ...]]
) -> dict[str, tuple[str, str]]:
    """{*.dist-info directory: (Name, Version)} from its METADATA, for importlib.metadata's
    ``name`` and ``version`` without parsing the whole file as email at run time (it holds the
    project's long description: 0.3 ms a call measured, and apps ask for their version as they
    import). Only where each of the two is in the header block once, as one plain line
    (``Version: 1.2.3``), so that it is what the email parser returns; any other distribution's
    METADATA is parsed as usual."""
    found = {}
    for infos in distributions.values():
        for _, distinfo in infos:
            try:
                text = contents[distinfo + "/METADATA"].decode("utf-8")
            except (KeyError, UnicodeDecodeError):
                continue  # read_text() raises on it at run time, as in a venv
            if "\r" in text:
                continue  # the email parser ends lines at a lone \r too: left to it
            values: dict[str, list[str]] = {"name": [], "version": []}
            previous = ""
            for line in text.split("\n"):
                if line[:1] in (" ", "\t"):  # continues the header before: a folded value
                    if previous in values:
                        values[previous].append("")
                    continue
                name, colon, value = line.partition(":")
                if not colon or not _FIELD_NAME.fullmatch(name):
                    break  # the body (or a defect) starts here, as for the email parser
                previous = name.lower()
                if previous in values:
                    plain = name in ("Name", "Version") and _PLAIN_VALUE.fullmatch(value)
                    values[previous].append(value[1:] if plain else "")
            if len(values["name"]) == 1 and len(values["version"]) == 1 and values["name"][0] and values["version"][0]:
                found[distinfo] = (values["name"][0], values["version"][0])
    return found


def _pth_lines(tree: Tree, contents: Mapping[str, bytes]) -> tuple[tuple[str, int, str, str], ...]:
    """What ``site`` does with the ``.pth`` files of site-packages, in its order: (file, line
    number, "import", the line) for a line it runs (setuptools' distutils-precedence.pth, which
    makes ``import distutils`` give setuptools' copy: on 3.12 the only one), and (file, line
    number, "path", directory) for a directory of the bundle it adds to sys.path. A directory
    outside the bundle (an editable install's, on the build machine) is left out."""
    site = next((root for root in tree.roots if root.endswith("/site-packages")), None)
    dirs = tree.directories()
    found: list[tuple[str, int, str, str]] = []
    names = sorted(rel for rel in contents if rel.rpartition("/")[0] == site and rel.endswith(".pth"))
    for rel in names:
        name = rel.rpartition("/")[2]
        if name.startswith("."):
            continue  # site skips hidden .pth files
        for number, line in enumerate(contents[rel].decode("utf-8", "replace").splitlines(), 1):
            if not line.strip() or line.startswith("#"):
                continue
            if line.startswith(("import ", "import\t")):
                found.append((name, number, "import", line))
                continue
            directory = posixpath.normpath(f"{site}/{line.rstrip()}")
            if directory in dirs and not any(entry[3] == directory for entry in found):
                found.append((name, number, "path", directory))
    return tuple(found)


def _distributions(tree: Tree) -> dict[str, tuple[tuple[str, str], ...]]:
    """For each sys.path root, its *.dist-info directories with their normalized names; for
    each other directory, what pkg_resources' ``find_on_path`` and importlib.metadata take for
    distributions' metadata in a directory on disk, should code put it on sys.path
    (pkg_resources adds ``setuptools/_vendor``): *.dist-info directories, *.egg-info
    directories and files (distutils' PKG-INFO). Listed here, so that nothing at run time
    walks the index to find them."""
    dirs = tree.directories()
    roots = set(tree.roots)
    found: dict[str, list[tuple[str, str]]] = {}
    for path in sorted([*dirs, *(f for f in tree.files if f.lower().endswith(".egg-info"))]):
        parent, _, name = path.rpartition("/")
        lower = name.lower()
        if (lower.endswith(".dist-info") and path in dirs) or (lower.endswith(".egg-info") and parent not in roots):
            found.setdefault(parent, []).append((normalize(name.rpartition(".")[0].split("-")[0]), path))
    return {parent: tuple(v) for parent, v in found.items()}
