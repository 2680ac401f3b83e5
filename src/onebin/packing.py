"""Packing blobs smaller for the payload, and unpacking them for ``onebin inspect``.

Three codecs, each marked in the blob's index entry (``_runtime/bundle.py``):

- LZ4, the default: blocks of ``BLOCK`` bytes, each an LZ4 block compressed at the HC level
  (slow to pack, so results are cached), behind a table of their sizes. The launcher unpacks
  them in C (``launcher/onebin_lz4.h``) at memory speed, a large library on every CPU, so a
  packed blob costs about as much to load as a stored one, at about half the size.
- zlib (``--compress``): smaller still, inflated by the runtime with the zlib module, several
  times slower to start; the zlib module's own files are packed with LZ4 instead.
- xz (``--compress``, for modules' sources, which are read only for tracebacks): blocks of
  sources compressed together, a third smaller than each deflated on its own.

A blob that packing does not shrink by an eighth is stored as it is.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from itertools import repeat
from pathlib import Path

import lz4.block

from ._runtime.bundle import LZ4, SOLID, ZLIB, PayloadError
from .cachedir import store

BLOCK = 1 << 20  # onebin_lz4.h: ONEBIN_BLOCK
_SMALLEST = 256  # smaller blobs are stored as they are: they would gain a few bytes at best
_LEVEL = 9  # LZ4 HC: levels above 9 take twice as long here for the same size
_NAMES = {LZ4: "lz4hc9-1m", ZLIB: "zlib9", SOLID: "xz6"}  # the cache's directories: codec, level, LZ4's block size


def digest(data: bytes) -> bytes:
    """The content hash that names a blob in the build cache and in the writer's deduplication."""
    return hashlib.sha256(data).digest()


def pack_blocks(data: bytes, block: int, pack: Callable[[bytes], bytes]) -> bytes:
    """``data`` cut into blocks of ``block`` bytes, each packed on its own, behind a table of
    their sizes (u32 each): what the launcher unpacks on several CPUs."""
    packed = [pack(data[at : at + block]) for at in range(0, len(data), block)]
    return b"".join(len(b).to_bytes(4, "little") for b in packed) + b"".join(packed)


def unpack_blocks(data: bytes | memoryview, size: int, block: int, unpack: Callable[[bytes, int], bytes]) -> bytes:
    """What ``pack_blocks`` made of ``size`` bytes, each block given to ``unpack(block's
    bytes, its unpacked size)``; raises PayloadError if ``data`` is malformed."""
    count = -(-size // block)
    at = 4 * count
    out = []
    try:
        for i in range(count):
            length = int.from_bytes(data[4 * i : 4 * i + 4], "little")
            out.append(unpack(bytes(data[at : at + length]), min(block, size - i * block)))
            at += length
    except (lz4.block.LZ4BlockError, zlib.error):
        raise PayloadError("a packed blob is malformed") from None
    unpacked = b"".join(out)
    if at != len(data) or len(unpacked) != size:
        raise PayloadError("a packed blob is malformed")
    return unpacked


def lz4_pack(data: bytes) -> bytes:
    """``data`` in LZ4 blocks behind their size table (the launcher's format)."""
    return pack_blocks(data, BLOCK, _lz4_block)


def _lz4_block(data: bytes) -> bytes:
    return lz4.block.compress(data, mode="high_compression", compression=_LEVEL, store_size=False)


def xz_pack(data: bytes) -> bytes:
    """``data`` as an xz stream without a check (each blob has its hash in the index)."""
    return lzma.compress(data, format=lzma.FORMAT_XZ, check=lzma.CHECK_NONE, preset=6)


def lz4_unpack(data: bytes | memoryview, size: int) -> bytes:
    """What ``lz4_pack`` made of ``size`` bytes; raises PayloadError if ``data`` is malformed."""
    return unpack_blocks(data, size, BLOCK, lambda block, size: lz4.block.decompress(block, uncompressed_size=size))


class Packer:
    """Packs blobs with a codec, keeping each result in the build cache by the content's hash,
    so that a rebuild packs only what changed (the stdlib's, once per interpreter)."""

    def __init__(self, cache: Path, step: Callable[[str], None] = lambda message: None) -> None:
        self._cache = cache
        self._step = step

    def pack_all(self, blobs: dict[bytes, bytes], codec: int) -> dict[bytes, tuple[bytes, tuple[int, ...]]]:
        """For the blobs ({digest: bytes}) that packing with ``codec`` pays for: {digest:
        (packed bytes, the entry's codec fields)}, the fields being (ZLIB,), (LZ4, size) or
        (SOLID,) (to which the entry of each source in the blob adds its start and length)."""
        todo = {key: data for key, data in blobs.items() if len(data) >= _SMALLEST}
        if not todo:
            return {}
        self._step(f"packing {len(todo)} files and modules ({_NAMES[codec]})")
        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # both codecs release the GIL
            packed = dict(zip(todo, pool.map(self._packed, todo, todo.values(), repeat(codec)), strict=True))
        return {
            key: (data, (LZ4, len(todo[key])) if codec == LZ4 else (codec,))
            for key, data in packed.items()
            if len(data) <= len(todo[key]) - len(todo[key]) // 8
        }

    def _packed(self, key: bytes, data: bytes, codec: int) -> bytes:
        path = self._cache / _NAMES[codec] / key.hex()[:2] / key.hex()
        try:
            return path.read_bytes()
        except OSError:
            pass
        packed = zlib.compress(data, 9) if codec == ZLIB else lz4_pack(data) if codec == LZ4 else xz_pack(data)
        store(path, packed)
        return packed
