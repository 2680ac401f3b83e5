"""The payload's 64-bit hash, as the launcher computes it (launcher/onebin_hash.h).

The builder hashes every blob, so it uses the same C code, compiled once into a small shared
library and loaded with ctypes. Where no C compiler is at hand (``onebin inspect`` on another
machine), a pure-Python version gives the same values, slowly.
"""

from __future__ import annotations

import ctypes
import functools
import hashlib
import os
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

_SOURCE = Path(__file__).with_name("launcher") / "onebin_hash.c"
_HEADER = _SOURCE.with_name("onebin_hash.h")
CHUNK = 1 << 20
_MASK = (1 << 64) - 1
_P1, _P2, _P3, _P4, _P5 = (
    0x9E3779B185EBCA87,
    0xC2B2AE3D27D4EB4F,
    0x165667B19E3779F9,
    0x85EBCA77C2B2AE63,
    0x27D4EB2F165667C5,
)


def digest(data: bytes | memoryview, seed: int = 0) -> int:
    """The hash of ``data``, continuing from ``seed`` (the hash of what came before)."""
    return _implementation()(data, seed)


@functools.lru_cache(maxsize=1)
def _implementation() -> Callable[[bytes | memoryview, int], int]:
    library = _compiled()
    if library is None:
        return _python_hash
    function = library.onebin_hash_buffer
    function.restype = ctypes.c_uint64
    function.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64]

    def hash_with_c(data: bytes | memoryview, seed: int) -> int:
        buffer = data if isinstance(data, bytes) else bytes(data)
        return int(function(buffer, len(buffer), seed))

    return hash_with_c


def _compiled() -> ctypes.CDLL | None:
    from .cachedir import cache_dir  # the build cache, shared with launchers and bytecode

    source = _SOURCE.read_bytes() + _HEADER.read_bytes()
    path = cache_dir() / "hash" / f"libonebin_hash-{hashlib.sha256(source).hexdigest()[:16]}.so"
    if not path.is_file():
        compiler = os.environ.get("CC") or "cc"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
                out = Path(tmp) / path.name
                command = [compiler, "-O2", "-shared", "-fPIC", str(_SOURCE), "-o", str(out)]
                if subprocess.run(command, capture_output=True).returncode != 0:
                    return None
                os.replace(out, path)
        except OSError:
            return None
    try:
        return ctypes.CDLL(str(path))
    except OSError:
        return None


def _python_hash(data: bytes | memoryview, seed: int) -> int:
    view = memoryview(data).cast("B")
    h = _xxh64(bytes(view[:CHUNK]), seed)
    for start in range(CHUNK, len(view), CHUNK):
        h = _xxh64(bytes(view[start : start + CHUNK]), h)
    return h


def _rotl(x: int, r: int) -> int:
    return ((x << r) | (x >> (64 - r))) & _MASK


def _round(acc: int, value: int) -> int:
    return (_rotl((acc + value * _P2) & _MASK, 31) * _P1) & _MASK


def _xxh64(data: bytes, seed: int) -> int:
    n, p = len(data), 0
    if n >= 32:
        v = [(seed + _P1 + _P2) & _MASK, (seed + _P2) & _MASK, seed, (seed - _P1) & _MASK]
        while p <= n - 32:
            for i in range(4):
                v[i] = _round(v[i], int.from_bytes(data[p + 8 * i : p + 8 * i + 8], "little"))
            p += 32
        h = (_rotl(v[0], 1) + _rotl(v[1], 7) + _rotl(v[2], 12) + _rotl(v[3], 18)) & _MASK
        for lane in v:
            h = ((h ^ _round(0, lane)) * _P1 + _P4) & _MASK
    else:
        h = (seed + _P5) & _MASK
    h = (h + n) & _MASK
    while p + 8 <= n:
        h ^= _round(0, int.from_bytes(data[p : p + 8], "little"))
        h = (_rotl(h, 27) * _P1 + _P4) & _MASK
        p += 8
    if p + 4 <= n:
        h ^= (int.from_bytes(data[p : p + 4], "little") * _P1) & _MASK
        h = (_rotl(h, 23) * _P2 + _P3) & _MASK
        p += 4
    while p < n:
        h ^= (data[p] * _P5) & _MASK
        h = (_rotl(h, 11) * _P1) & _MASK
        p += 1
    h ^= h >> 33
    h = (h * _P2) & _MASK
    h ^= h >> 29
    h = (h * _P3) & _MASK
    return h ^ (h >> 32)
