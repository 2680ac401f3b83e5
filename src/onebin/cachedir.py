"""The cache directory: where it is, what each part holds, how much room it takes, clearing it.

Builds keep what they compute by content, so that the next build is fast; executables keep
there the files that a module needs on disk (``_runtime/cache.py``, under ``apps/``). Nothing
in it is needed: a part that is gone is computed or written again.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

# Each part: what it holds, for `onebin cache`.
PARTS = {
    "installs": "pip's results for pinned inputs",
    "bytecode": "compiled modules, per interpreter",
    "packed": "LZ4- and zlib-packed blobs",
    "stripped": "libraries without their debug sections",
    "launchers": "compiled launchers, per interpreter and onebin version",
    "hash": "the payload hash for the builder",
    "targets": "what each interpreter built for is (its version, paths, suffixes)",
    "copyrights": "which Debian package each bundled system library comes from (dpkg's answer)",
    "builds": "the last build of each output: what it was made from, to tell an unchanged rebuild",
    "apps": "files that executables wrote for modules that need them on disk",
}


def store(path: Path, data: bytes) -> None:
    """Writes ``data`` to the cache file ``path`` whole or not at all (another build may read
    it meanwhile); best effort: a cache that cannot be written only makes the next build slower."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError:
        pass


def cache_dir() -> Path:
    """$ONEBIN_CACHE_DIR, else $XDG_CACHE_HOME/onebin, else ~/.cache/onebin (as the runtime's
    cache.py finds it)."""
    if os.environ.get("ONEBIN_CACHE_DIR"):
        return Path(os.environ["ONEBIN_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "onebin"


@dataclass(frozen=True)
class Part:
    name: str
    description: str
    size: int  # bytes, as files' sizes


def usage(root: Path) -> list[Part]:
    """The parts of the cache at ``root`` that exist, with their sizes; anything else found
    there is listed as "other"."""
    found = []
    if root.exists() and not root.is_dir():
        raise NotADirectoryError(f"{root} is not a directory")
    names = sorted(p.name for p in root.iterdir()) if root.is_dir() else []
    for name in [*(n for n in PARTS if n in names), *(n for n in names if n not in PARTS)]:
        size = 0
        for path in _files(root / name):
            try:
                size += path.lstat().st_size
            except OSError:
                continue  # removed meanwhile
        found.append(Part(name, PARTS.get(name, "other"), size))
    return found


def clear(root: Path) -> int:
    """Removes everything in the cache at ``root``; returns the bytes freed. A file that cannot
    be removed raises OSError naming it."""
    freed = sum(part.size for part in usage(root))
    if root.is_dir():
        for child in root.iterdir():
            if child.is_dir() and not child.is_symlink():
                _remove_tree(child)
            else:
                child.unlink()
    return freed


def _remove_tree(path: Path) -> None:
    try:
        shutil.rmtree(path)
    except PermissionError:
        # A directory without write permission (a package's files as pip left them): give it
        # back to its owner, then try again.
        for directory, _, _ in os.walk(path):
            os.chmod(directory, 0o700)
        shutil.rmtree(path)


def _files(path: Path) -> Iterator[Path]:
    if path.is_file() or path.is_symlink():
        yield path
        return
    for directory, _, names in os.walk(path):
        for name in names:
            yield Path(directory, name)
