"""The native files of a bundle: the libraries they need, found on this machine, in load order.

Every library an extension needs is bundled, except glibc's own, so that the executable runs on a
machine without them. The runtime loads them before the extension, in the order computed here.
"""

from __future__ import annotations

import functools
import os
import subprocess
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from . import elf

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
    preload: dict[str, tuple[str, ...]] = field(default_factory=dict)
    missing: list[Missing] = field(default_factory=list)


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
    for relpath in sorted(extensions):
        result.preload[relpath] = _load_order(relpath, objects, provided)
    return result


def _load_order(
    relpath: str, objects: Mapping[str, tuple[Path, elf.SharedObject]], provided: Mapping[str, str]
) -> tuple[str, ...]:
    order: list[str] = []
    seen = {relpath}

    def visit(current: str) -> None:
        for name in objects[current][1].needed:
            dep = provided.get(name)
            if dep and dep not in seen:
                seen.add(dep)
                visit(dep)
                order.append(dep)

    visit(relpath)
    return tuple(order)


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
