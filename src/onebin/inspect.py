"""What an executable holds, read back from its payload: ``onebin inspect``.

``read_contents(path)`` returns ``Contents``; ``as_json`` turns it into the ``--json`` document,
``summary`` into the text a person reads. The JSON schema (version 1; keys are only ever added)::

    schema            1
    file              the path inspected
    size              its size in bytes
    sha256            of the whole file
    payload_offset    where the payload starts in the file (the launcher ELF comes before it)
    payload_size      its length in bytes; the 104-byte trailer follows it
    sections          {"paths"|"runtime"|"index"|"ahead": {"offset", "size"}}: byte ranges in the file
    python            the bundled CPython's version, "3.12.4"
    entry             what runs: "script app.py", "console script flake8", "module m"
    id                the app's id: the output name and a hash of the payload
    onebin            the version of onebin that built the file
    glibc_min         the oldest glibc the file runs on, "2.34" (null if it needs no version)
    glibc_min_required_by   the files that need that version ("(launcher)" or a bundle path)
    roots             the sys.path entries, relative to the executable
    distributions     [{name, version, root, path}]: path is the .dist-info directory
    modules           [{name, kind, root, path, size, code_size}]: name is dotted, kind is
                      "source", "package", "extension" or "namespace", path is the module's
                      file, size the bytes it takes in the file (packed, if it is; 0 for a
                      namespace), code_size those of its bytecode
    native_libraries  [{path, soname, size, sha256, origin, distribution, glibc_min}]: the
                      shared libraries that are not extension modules (size and sha256: of
                      the library itself, unpacked); origin is "distribution"
                      (listed in the RECORD of ``distribution``), "build-machine" (copied from
                      the build machine: under lib/, the interpreter's own) or "app"
    inputs            [{name, version, url, sha256}]: each distribution pip installed (url and
                      sha256 of the archive) and the script (sha256 of its source)

Paths are relative to the executable, as the bundle's virtual tree spells them.
"""

from __future__ import annotations

import csv
import hashlib
import posixpath
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from email.parser import HeaderParser
from typing import Any

from . import __version__, elf, hashing, packing
from ._runtime import bundle as fmt
from .errors import OnebinError
from .launcher import launcher_files
from .natives import LIBRARY_DIR

__all__ = [
    "Contents",
    "Distribution",
    "Input",
    "InspectError",
    "Module",
    "NativeLibrary",
    "as_json",
    "read_contents",
]

LAUNCHER = "(launcher)"
_KINDS = {
    fmt.SOURCE: "source",
    fmt.PACKAGE: "package",
    fmt.EXTENSION: "extension",
    fmt.NAMESPACE: "namespace",
    fmt.EXTENSION_PACKAGE: "extension package",
}
_REBUILD = "rebuild it with `onebin build`"


class InspectError(OnebinError):
    """The file cannot be inspected: missing, unreadable, not a onebin executable, or damaged."""


@dataclass(frozen=True)
class Distribution:
    name: str
    version: str
    root: str
    path: str


@dataclass(frozen=True)
class Module:
    name: str
    kind: str
    root: str
    path: str
    size: int
    code_size: int


@dataclass(frozen=True)
class NativeLibrary:
    path: str
    soname: str | None
    size: int
    sha256: str
    origin: str
    distribution: str | None
    glibc_min: str | None


@dataclass(frozen=True)
class Input:
    name: str
    version: str
    url: str
    sha256: str


@dataclass(frozen=True)
class Contents:
    """Everything ``onebin inspect`` reports about one executable."""

    file: str
    size: int
    sha256: str
    payload_offset: int
    payload_size: int
    sections: dict[str, dict[str, int]]
    python: str
    entry: str
    id: str
    onebin: str
    glibc_min: str | None
    glibc_min_required_by: tuple[str, ...]
    roots: tuple[str, ...]
    distributions: tuple[Distribution, ...]
    modules: tuple[Module, ...]
    native_libraries: tuple[NativeLibrary, ...]
    inputs: tuple[Input, ...]


def read_contents(path: str) -> Contents:
    """Reads the executable at ``path``; raises InspectError naming the problem and the fix."""
    trailer, bundle, data = open_executable(path)
    try:
        return _contents(path, data, trailer, bundle)
    except fmt.PayloadError as exc:
        raise InspectError(f"{path}: a damaged onebin executable ({exc}); {_REBUILD}") from None
    except (KeyError, TypeError, ValueError, IndexError) as exc:
        # An index that unmarshals but lacks the shape this onebin reads: written by another.
        raise InspectError(
            f"{path}: a damaged onebin executable (an inconsistent index: {exc!r}); {_REBUILD}"
        ) from None


def open_executable(path: str) -> tuple[fmt.Trailer, fmt.Bundle, bytes]:
    """The trailer, bundle and bytes of an executable; raises InspectError naming the problem."""
    try:
        trailer, bundle = fmt.read_executable(path, hashing.digest, packing.lz4_unpack)
    except FileNotFoundError:
        raise InspectError(f"{path}: no such file; pass the path of an executable that `onebin build` wrote") from None
    except IsADirectoryError:
        raise InspectError(
            f"{path}: is a directory; pass the path of an executable that `onebin build` wrote"
        ) from None
    except OSError as exc:
        raise InspectError(f"{path}: cannot be read ({exc.strerror}); check its permissions") from None
    except fmt.PayloadError as exc:
        raise InspectError(_payload_problem(path, str(exc))) from None
    data = bundle.payload.obj if isinstance(bundle.payload, memoryview) else bundle.payload
    return trailer, bundle, bytes(data)


def _payload_problem(path: str, reason: str) -> str:
    with open(path, "rb") as f:
        data = f.read()
    version = _format_version(data)
    if version is not None and version != fmt.FORMAT_VERSION:
        return (
            f"{path}: its payload has format version {version}, and onebin {__version__} reads version "
            f"{fmt.FORMAT_VERSION}; inspect it with the onebin that built it, or {_REBUILD}"
        )
    if version is None and reason.startswith(("no onebin trailer", "too short")):
        if fmt.TRAILER_MAGIC not in data:
            return f"{path}: not a onebin executable ({reason}); inspect a file that `onebin build` wrote"
        reason = "a onebin launcher without a trailer at its end: the file was cut short, or bytes were appended"
    return f"{path}: a damaged onebin executable ({reason}); {_REBUILD}"


def _format_version(data: bytes) -> int | None:
    """The format version in a trailer near the end of ``data`` (of any onebin's layout), if any."""
    tail = data[-1024:]
    at = tail.rfind(fmt.TRAILER_MAGIC)
    if at < 0 or len(tail) < at + 12:
        return None
    return int.from_bytes(tail[at + 8 : at + 12], "little")


def _contents(path: str, data: bytes, trailer: fmt.Trailer, bundle: fmt.Bundle) -> Contents:
    index, info = bundle.index, bundle.index.info
    floors = dict(_glibc_floors(data[: trailer.payload_offset], bundle))
    glibc_min = max((v for v in floors.values() if v is not None), default=None)
    return Contents(
        file=path,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        payload_offset=trailer.payload_offset,
        payload_size=trailer.payload_size,
        sections={k: {"offset": trailer.payload_offset + o, "size": n} for k, (o, n) in trailer.sections.items()},
        python=str(info["python"]),
        entry=str(info["entry"]),
        id=str(info["id"]),
        onebin=str(info["onebin"]),
        glibc_min=_dotted(glibc_min),
        glibc_min_required_by=tuple(p for p, v in floors.items() if v is not None and v == glibc_min),
        roots=tuple(index.roots),
        distributions=tuple(_distributions(bundle)),
        modules=tuple(_modules(bundle)),
        native_libraries=tuple(_native_libraries(bundle, floors)),
        inputs=tuple(Input(*map(str, item)) for item in info["inputs"]),
    )


def _dotted(version: tuple[int, ...] | None) -> str | None:
    return None if version is None else ".".join(map(str, version))


def _glibc_floors(launcher: bytes, bundle: fmt.Bundle) -> Iterator[tuple[str, tuple[int, ...] | None]]:
    """(file, the newest glibc version it needs) for the launcher and every bundled ELF file."""
    try:
        yield LAUNCHER, max((elf.glibc_floor(part) for part in launcher_files(launcher)), key=lambda v: v or ())
    except (elf.ELFError, ValueError) as exc:
        raise InspectError(f"{bundle.root}: a damaged onebin executable (its launcher: {exc}); {_REBUILD}") from None
    for relpath in sorted(_elf_files(bundle)):
        try:
            yield relpath, elf.glibc_floor(bundle.read(relpath))
        except elf.ELFError:
            yield relpath, None  # not a shared object or an executable (an object file, say)


def _elf_files(bundle: fmt.Bundle) -> Iterator[str]:
    for relpath, entry in bundle.index.files.items():
        # A packed file is unpacked whole; ELF files are read whole after this anyway.
        head = bytes(bundle.blob(entry[0], min(entry[1], 18))) if len(entry) == 3 else bundle.read(relpath)[:18]
        if len(head) == 18 and head[:4] == b"\x7fELF":
            yield relpath


def _distributions(bundle: fmt.Bundle) -> Iterator[Distribution]:
    found = []
    for root in bundle.index.roots:
        for normalized, distinfo in bundle.index.distributions.get(root, ()):
            name, version = _name_and_version(bundle, distinfo, normalized)
            found.append(Distribution(name, version, root, distinfo))
    yield from sorted(found, key=lambda d: (d.name.lower(), d.root))


def _name_and_version(bundle: fmt.Bundle, distinfo: str, normalized: str) -> tuple[str, str]:
    """From the METADATA file, else from the directory's name ("name-1.0.dist-info")."""
    stem = posixpath.basename(distinfo).removesuffix(".dist-info")
    fallback = (normalized, stem.partition("-")[2])
    try:
        headers = HeaderParser().parsestr(bundle.read(f"{distinfo}/METADATA").decode("utf-8", "replace"))
    except FileNotFoundError:
        return fallback
    return headers.get("Name") or fallback[0], headers.get("Version") or fallback[1]


def _modules(bundle: fmt.Bundle) -> Iterator[Module]:
    roots = sorted(bundle.index.roots, key=len, reverse=True)  # the innermost root names a module
    order = {root: i for i, root in enumerate(bundle.index.roots)}
    found = []
    solid: dict[int, int] = {}  # a block of sources (bundle.SOLID): the sum of their lengths
    for entry in bundle.index.files.values():
        if entry[3:4] == (fmt.SOLID,):
            solid[entry[0]] = solid.get(entry[0], 0) + entry[5]
    for key, entry in bundle.index.modules.items():
        kind, relpath, code_size = entry[0], entry[1], entry[3]  # (kind, file, code offset, code size, ...)
        root = next((r for r in roots if key.startswith(r + "/")), "")
        name = key[len(root) + 1 :] if root else key
        if posixpath.basename(name) == "__init__":
            continue  # the package's own entry lists that file
        stored = bundle.index.files.get(relpath, (0, 0))
        # A source in a block of them: its share of the block's size
        size = stored[1] * stored[5] // solid[stored[0]] if stored[3:4] == (fmt.SOLID,) else stored[1]
        found.append(Module(name.replace("/", "."), _KINDS.get(kind, str(kind)), root, relpath, size, code_size))
    yield from sorted(found, key=lambda m: (order.get(m.root, -1), m.name))


def _native_libraries(bundle: fmt.Bundle, floors: dict[str, tuple[int, ...] | None]) -> Iterator[NativeLibrary]:
    extensions = {e[1] for e in bundle.index.modules.values() if e[0] in (fmt.EXTENSION, fmt.EXTENSION_PACKAGE)}
    owners = _owners(bundle)
    for relpath in sorted(floors):
        if relpath == LAUNCHER or relpath in extensions:
            continue
        data = bundle.read(relpath)
        if not elf.is_shared_object(data):
            continue
        owner = owners.get(relpath)
        origin = "distribution" if owner else "build-machine" if relpath.startswith(f"{LIBRARY_DIR}/") else "app"
        sha256 = hashlib.sha256(data).hexdigest()
        yield NativeLibrary(relpath, _soname(data), len(data), sha256, origin, owner, _dotted(floors[relpath]))


def _soname(data: bytes) -> str | None:
    try:
        return elf.read(data).soname
    except elf.ELFError:
        return None


def _owners(bundle: fmt.Bundle) -> dict[str, str]:
    """Bundle path -> name of the distribution whose RECORD lists it."""
    owners: dict[str, str] = {}
    for dist in _distributions(bundle):
        try:
            record = bundle.read(f"{dist.path}/RECORD").decode("utf-8", "replace")
        except FileNotFoundError:
            continue
        for row in csv.reader(record.splitlines()):
            if row:
                owners.setdefault(posixpath.normpath(f"{dist.root}/{row[0]}"), dist.name)
    return owners


def as_json(contents: Contents) -> dict[str, Any]:
    """The ``--json`` document (see the module's docstring)."""
    document = asdict(contents)
    return {"schema": 1, **document}
