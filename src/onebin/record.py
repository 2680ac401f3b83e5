"""Build records: a rebuild whose inputs have not changed leaves the executable as it is.

After a build, a record is kept for its output path, with a key made of what the build was
asked and what it read: onebin's own files, the interpreter, the options, pip's inputs, and
every file of the assembled tree (its path, size, mtime, ctime and inode, as ``make`` and git
tell a changed file; content built in memory by its hash). The record lists what the later
steps read from this machine (the system libraries found for extensions, the dynamic loader's
cache, dpkg's database), the executable written (the same way), the build's summary and its
notes. A rebuild with the same
key whose recorded files all still look the same, and whose executable is still the one
written, has nothing to do: the notes are shown again and the file is left alone.

Only builds from stable inputs are recorded: a tree drawn from a fresh pip run (unpinned
requirements resolve again each time) is not, nor is a build with ``--check``, which asks for
the run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from . import __version__
from .cachedir import store

_FORMAT = 1
# Read by the steps after the key is made, besides the libraries they bundle: which library a
# name resolves to, and which Debian package (and so which copyright file) it comes from.
_SYSTEM_STATE = ("/etc/ld.so.cache", "/var/lib/dpkg/status")  # see licenses._DPKG_STATUS


def signature(path: str | os.PathLike[str]) -> list[int] | None:
    """What tells a changed file from an unchanged one without reading it; None if missing."""
    try:
        st = os.stat(path)
    except OSError:
        return None
    return [st.st_size, st.st_mtime_ns, st.st_ctime_ns, st.st_ino, st.st_dev]


def _onebin_files() -> Iterable[Path]:
    package = Path(__file__).parent
    for dirpath, dirnames, filenames in os.walk(package):
        dirnames[:] = sorted(d for d in dirnames if d != "__pycache__")
        for name in sorted(filenames):
            yield Path(dirpath, name)


class BuildKey:
    """Collects what decides a build's output, then names it."""

    def __init__(self) -> None:
        self._digest = hashlib.sha256(f"onebin {__version__} record {_FORMAT}\0".encode())
        for path in _onebin_files():
            self.file(path)
        for name in ("CC", "SOURCE_DATE_EPOCH"):
            self.add(f"{name}={os.environ.get(name, '')}")
        self.add(f"strip={shutil.which('strip') or ''}")

    def add(self, *parts: object) -> None:
        """Adds values whose ``repr`` is stable (strings, numbers, tuples, sorted dicts)."""
        for part in parts:
            self._digest.update(repr(part).encode() + b"\0")

    def file(self, path: Path) -> None:
        self.add(str(path), signature(path))

    def files(self, files: Mapping[str, Path | bytes]) -> None:
        """The assembled tree: where each file goes, and where it comes from or its content."""
        for relpath in sorted(files):
            source = files[relpath]
            if isinstance(source, bytes):
                self.add(relpath, hashlib.sha256(source).hexdigest())
            else:
                self.add(relpath, str(source), signature(source))

    def hexdigest(self) -> str:
        return self._digest.hexdigest()[:32]


class Records:
    """The last build of each output path, one small JSON file each, in the cache."""

    def __init__(self, cache_dir: Path):
        self._dir = cache_dir / "builds"

    def _path(self, output: Path) -> Path:
        return self._dir / (hashlib.sha256(os.fsencode(output)).hexdigest()[:32] + ".json")

    def up_to_date(self, key: str, output: Path) -> dict[str, Any] | None:
        """The record of the last build of ``output`` if it had this key and its inputs and
        executable are unchanged (its ``result`` and ``notes``), else None."""
        try:
            record = json.loads(self._path(output).read_text())
        except (OSError, ValueError):
            return None
        if not isinstance(record, dict) or record.get("format") != _FORMAT or record.get("key") != key:
            return None
        files = {**record.get("inputs", {}), str(output): record.get("written")}
        if any(signature(path) != sig for path, sig in files.items()):
            return None
        return record

    def keep(
        self,
        key: str,
        output: Path,
        inputs: Iterable[str | os.PathLike[str]],
        result: Mapping[str, Any],
        notes: Iterable[str],
    ) -> None:
        """Records a build that wrote ``output`` (best effort: a full disk only costs time)."""
        record = {
            "format": _FORMAT,
            "key": key,
            "output": str(output),
            "written": signature(output),
            "inputs": {str(p): signature(p) for p in [*_SYSTEM_STATE, *inputs]},
            "result": dict(result),
            "notes": list(notes),
        }
        store(self._path(output), json.dumps(record).encode())
