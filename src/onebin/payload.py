"""Writing an executable: the launcher, then the payload; ``_runtime/bundle.py`` reads it."""

from __future__ import annotations

import hashlib
import marshal
from collections.abc import Sequence
from typing import Any, BinaryIO

from ._runtime.bundle import TRAILER_SIZE, Trailer

_ALIGN = 4096  # the payload starts on a page, so it can be mapped or dropped by page


class PayloadWriter:
    """Appends blobs (deduplicated by content) and the sections to an open output file."""

    def __init__(self, out: BinaryIO, launcher: bytes):
        self._out = out
        out.write(launcher)
        out.write(bytes(-len(launcher) % _ALIGN))
        self._start = out.tell()
        self._size = 0
        self._seen: dict[bytes, tuple[int, int]] = {}

    def add(self, data: bytes) -> tuple[int, int]:
        """Stores ``data``; returns its (offset, size) in the payload."""
        digest = hashlib.sha256(data).digest()
        found = self._seen.get(digest)
        if found is None:
            found = self._seen[digest] = self._append(data)
        return found

    def _append(self, data: bytes) -> tuple[int, int]:
        offset = self._size
        self._out.write(data)
        self._size += len(data)
        return offset, len(data)

    def finish(self, paths: Sequence[str], runtime: Sequence[tuple[str, str, bytes]], index: dict[str, Any]) -> int:
        """Writes the sections and the trailer; returns the size of the whole file."""
        sections = {
            "paths": self._append("\n".join(paths).encode()),
            "runtime": self._append(marshal.dumps(tuple(runtime))),
            "index": self._append(marshal.dumps(index)),
        }
        self._out.write(Trailer(self._start, self._size, sections).pack())
        return self._start + self._size + TRAILER_SIZE
