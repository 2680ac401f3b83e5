"""The native files of a bundle: the libraries they need, found on this machine, in load order.

Every library an extension needs is bundled, except glibc's own, so that the executable runs on a
machine without them. The runtime loads them before the extension, in the order computed here.
"""

from __future__ import annotations

import functools
import hashlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import elf
from ._runtime import bundle as fmt
from ._runtime.cache import unit_of
from .target import Target
from .tree import Tree

# Libraries that glibc itself provides: every Linux system has them, matched to its own libc.
GLIBC = frozenset(
    [
        "libc.so.6",
        "libm.so.6",
        "libpthread.so.0",
        "libdl.so.2",
        "librt.so.1",
        "libutil.so.1",
        "libresolv.so.2",
        "libanl.so.1",
        "libnsl.so.1",
        "libmvec.so.1",
        "libBrokenLocale.so.1",
        "libthread_db.so.1",
        "ld-linux-x86-64.so.2",
        "ld-linux-aarch64.so.1",
        "linux-vdso.so.1",
    ]
)
LIBRARY_DIR = "lib"
_DEFAULT_DIRS = ("/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib")


@dataclass
class Missing:
    """A library that a bundled file needs and this machine does not have."""

    needed_by: str
    name: str


@dataclass
class Linkage:
    """The outcome: system libraries to add, each extension's preload order, what is missing."""

    added: dict[str, Path] = field(default_factory=dict)  # relpath in the bundle -> file here
    preload: dict[str, tuple[str | tuple[str, ...], ...]] = field(default_factory=dict)
    needed_paths: dict[str, tuple[tuple[int, int, str], ...]] = field(default_factory=dict)
    missing: list[Missing] = field(default_factory=list)
    needs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # each file: the bundled ones it needs
    # A package (unit) -> the other units holding libraries its native files need: a wheel's
    # ``*.libs``, which its files find through their RPATH once the package is written to the
    # cache (xgboost's libxgboost.so, loaded by ctypes, needs xgboost.libs' libgomp).
    unit_libraries: dict[str, tuple[str, ...]] = field(default_factory=dict)


def link(natives: Mapping[str, tuple[Path, elf.SharedObject]], extensions: set[str]) -> Linkage:
    """Resolves the needs of ``natives`` (bundle relpath -> (file here, its ELF facts))."""
    objects = dict(natives)
    provided: dict[str, str] = {}
    for relpath, (_, info) in sorted(objects.items()):
        # Extensions too: some packages link one extension against another.
        provided.setdefault(info.soname or relpath.rpartition("/")[2], relpath)
    result = Linkage()
    queue = sorted(objects)
    while queue:
        relpath = queue.pop(0)
        origin, info = objects[relpath]
        for name in info.needed:
            if name in GLIBC or name in provided:
                continue
            found = _find_system_library(name, origin, info.runpath)
            if found is None:
                result.missing.append(Missing(relpath, name))
                provided[name] = ""
                continue
            added = f"{LIBRARY_DIR}/{name}"
            provided[name] = added
            result.added[added] = found
            objects[added] = (found, elf.read(found.read_bytes()))
            queue.append(added)
    for relpath, (_, info) in objects.items():
        result.needs[relpath] = tuple(provided[n] for n in info.needed if n not in GLIBC and provided.get(n))
    for relpath in sorted(extensions):
        result.preload[relpath] = _load_order(relpath, objects, provided)
    result.needed_paths = cycle_paths(result, objects)
    return result


def _load_order(
    relpath: str, objects: Mapping[str, tuple[Path, elf.SharedObject]], provided: Mapping[str, str]
) -> tuple[str | tuple[str, ...], ...]:
    """The bundled libraries ``relpath`` needs, dependencies first. Libraries that need each
    other (Pillow's freetype and harfbuzz) come as one group: they must be loaded together."""

    def deps(current: str) -> list[str]:
        return [d for d in (provided.get(n) for n in objects[current][1].needed) if d and d != relpath]

    # Tarjan's strongly connected components, which it emits dependencies first.
    order: list[str | tuple[str, ...]] = []
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for dep in deps(node):
            if dep not in index:
                visit(dep)
                low[node] = min(low[node], low[dep])
            elif dep in stack:
                low[node] = min(low[node], index[dep])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                component.append(member)
                if member == node:
                    break
            order.append(component[0] if len(component) == 1 else tuple(sorted(component)))

    for dep in deps(relpath):
        if dep not in index:
            visit(dep)
    return tuple(order)


def _module_name(relpath: str, roots: list[str]) -> str | None:
    """The dotted name of the extension module at ``relpath``, if it is under one of ``roots``."""
    root = max((r for r in roots if relpath.startswith(r + "/")), key=len, default=None)
    return None if root is None else relpath[len(root) + 1 :].partition(".")[0].replace("/", ".")


def cycle_paths(
    linkage: Linkage, objects: Mapping[str, tuple[Path, elf.SharedObject]]
) -> dict[str, tuple[tuple[int, int, str], ...]]:
    """For each library in a group that needs each other: (offset, length, library) of each of
    its DT_NEEDED strings naming another member. The runtime writes the member's memfd path
    there, so the dynamic loader opens the group's members by path, in one dlopen()."""
    provided = {info.soname or rel.rpartition("/")[2]: rel for rel, (_, info) in objects.items()}
    patches: dict[str, tuple[tuple[int, int, str], ...]] = {}
    groups = {item for order in linkage.preload.values() for item in order if isinstance(item, tuple)}
    for group in groups:
        for member in group:
            info = objects[member][1]
            patches[member] = tuple(
                (offset, len(name), provided[name])
                for name, offset in zip(info.needed, info.needed_at, strict=True)
                if provided.get(name) in group
            )
    return patches


def _find_system_library(name: str, origin: Path, runpath: tuple[str, ...]) -> Path | None:
    dirs = [p.replace("$ORIGIN", str(origin.parent)).replace("${ORIGIN}", str(origin.parent)) for p in runpath]
    for directory in dirs:
        candidate = Path(directory, name)
        if candidate.is_file():
            return candidate.resolve()
    cached = _ldconfig_cache().get(name)
    if cached:
        return Path(cached).resolve()
    for directory in _DEFAULT_DIRS:
        candidate = Path(directory, name)
        if candidate.is_file():
            return candidate.resolve()
    return None


@functools.lru_cache(maxsize=1)
def _ldconfig_cache() -> dict[str, str]:
    for ldconfig in ("/sbin/ldconfig", "/usr/sbin/ldconfig", "ldconfig"):
        try:
            out = subprocess.run([ldconfig, "-p"], capture_output=True, text=True, check=True).stdout
        except (OSError, subprocess.CalledProcessError):
            continue
        cache: dict[str, str] = {}
        machine = "x86-64" if os.uname().machine == "x86_64" else os.uname().machine
        for line in out.splitlines()[1:]:
            name, _, rest = line.strip().partition(" (")
            flags, _, path = rest.partition(") => ")
            if path and (machine in flags or "64" in flags):
                cache.setdefault(name, path)
        return cache
    return {}


class DebugStripper:
    """Removes debug sections (binutils' ``strip --strip-debug``), cached by content.

    Interpreters built from source (pyenv's) ship extension modules with their debug
    information: about half of lib-dynload's bytes, copied into memory at every load. Symbols
    stay. Without ``strip`` on the machine, files are bundled as they are. It is applied to the
    interpreter's extension modules and the system libraries they need, not to wheels' files,
    which auditwheel has already stripped and patchelf has laid out in ways binutils can break.
    """

    def __init__(self, cache_dir: Path):
        self._tool = shutil.which("strip")
        self._dir = cache_dir / "stripped"

    def __call__(self, data: bytes) -> bytes:
        if self._tool is None or b".debug_info" not in data:
            return data
        cached = self._dir / hashlib.sha256(data).hexdigest()
        if cached.is_file():
            return cached.read_bytes()
        self._dir.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=self._dir) as tmp:
            source, out = Path(tmp, "in"), Path(tmp, "out")
            source.write_bytes(data)
            proc = subprocess.run([self._tool, "--strip-debug", "-o", str(out), str(source)], capture_output=True)
            if proc.returncode != 0 or not out.is_file():
                return data
            os.replace(out, cached)
        return cached.read_bytes()


def link_tree(
    tree: Tree, target: Target, log: Callable[[str], None], strip: Callable[[bytes], bytes] = lambda data: data
) -> Linkage:
    """Strips debug sections and RUNPATHs, adds the system libraries extensions need; returns
    those libraries and each extension's preload order.

    A stdlib extension whose library this machine lacks is left out, with a message. Any other
    bundled file with a missing library stays, with a warning naming it: loading it fails as it
    would in a venv on this machine (numba's ``tbbpool`` needs libtbb, which numba does
    without), unless the machine that runs it has the library.
    """
    objects = {}
    dynload = f"{target.stdlib_root}/lib-dynload/"
    for relpath, source in list(tree.native_files()):
        data = source if isinstance(source, bytes) else source.read_bytes()
        if relpath.startswith(dynload):
            # Only the interpreter's own files: binutils can break wheels' patchelf-edited ones.
            data = strip(data)
        try:
            stripped = elf.without_runpath(data)
            info = elf.read(stripped)
        except elf.ELFError:
            continue
        objects[relpath] = (Path(relpath) if isinstance(source, bytes) else source, info)
        tree.files[relpath] = stripped
    while True:
        modules = tree.modules(target.ext_suffix).values()
        extensions = {rel for kind, rel in modules if kind in (fmt.EXTENSION, fmt.EXTENSION_PACKAGE)}
        linkage = link(objects, extensions)
        stdlib = [m for m in linkage.missing if m.needed_by.startswith(dynload)]
        if not stdlib:
            break
        for m in stdlib:
            log(f"leaving out {m.needed_by.rpartition('/')[2]}: it needs {m.name}, which this machine lacks")
            tree.files.pop(m.needed_by, None)
            objects.pop(m.needed_by, None)
    owners = tree.owners()
    for m in linkage.missing:
        module = _module_name(m.needed_by, tree.roots) if m.needed_by in extensions else None
        log(
            f"warning: {owners.get(m.needed_by, 'the app')} ({m.needed_by}) needs {m.name}, which this machine "
            "lacks: loading it will fail where the running machine lacks it too, as in a venv. Install the "
            "library here to bundle it" + (f", or leave the module out: --exclude {module}" if module else "")
        )
    for relpath, path in linkage.added.items():
        tree.files[relpath] = elf.without_runpath(strip(path.read_bytes()))
    linkage.preload = {k: v for k, v in linkage.preload.items() if v}
    linkage.unit_libraries = _unit_libraries(linkage.needs, tuple(tree.roots))
    return linkage


def _unit_libraries(needs: Mapping[str, tuple[str, ...]], roots: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """Each package (unit) whose native files need libraries of another package in the same
    sys.path roots (a wheel's ``*.libs``): those units, to be written with it."""
    found: dict[str, set[str]] = {}
    inside = tuple(root + "/" for root in roots)
    for relpath, needed in needs.items():
        unit = unit_of(relpath, roots)
        for library in needed:
            other = unit_of(library, roots)
            if unit not in roots and other not in roots and other != unit and library.startswith(inside):
                found.setdefault(unit, set()).add(other)
    return {unit: tuple(sorted(others)) for unit, others in sorted(found.items())}
