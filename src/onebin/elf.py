"""Just enough of ELF for shared libraries: their SONAME and needs, and dropping RUNPATH.

Only 64-bit little-endian objects (x86_64, aarch64) are read; anything else is "not ELF".
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

DT_NULL, DT_NEEDED, DT_STRTAB, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 5, 14, 15, 29
_PT_LOAD, _PT_DYNAMIC = 1, 2
_ET_EXEC, _ET_DYN = 2, 3


class ELFError(ValueError):
    """The bytes are not a well-formed 64-bit little-endian ELF shared object."""


@dataclass(frozen=True)
class SharedObject:
    """The dynamic-linking facts of one shared object."""

    soname: str | None
    needed: tuple[str, ...]
    runpath: tuple[str, ...]


def is_shared_object(head: bytes) -> bool:
    """Whether ``head`` (the first 18 bytes or more of a file) starts an ELF64 LE shared object."""
    return len(head) >= 18 and head[:4] == b"\x7fELF" and head[4] == 2 and head[5] == 1 and head[16] == _ET_DYN


def _dynamic(data: bytes) -> tuple[int, list[tuple[int, int]], int]:
    """(file offset of the dynamic array, its entries, file offset of the string table)."""
    if not (is_shared_object(data) or data[:4] == b"\x7fELF" and data[4:6] == b"\x02\x01" and data[16] == _ET_EXEC):
        raise ELFError("not an ELF64 little-endian executable or shared object")
    try:
        (phoff,) = struct.unpack_from("<Q", data, 0x20)
        phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
        loads, dyn = [], None
        for i in range(phnum):
            p_type, _, p_offset, p_vaddr, _, p_filesz, _, _ = struct.unpack_from(
                "<IIQQQQQQ", data, phoff + i * phentsize
            )
            if p_type == _PT_LOAD:
                loads.append((p_vaddr, p_offset, p_filesz))
            elif p_type == _PT_DYNAMIC:
                dyn = (p_offset, p_filesz)
        if dyn is None:
            raise ELFError("no dynamic section")
        entries = []
        for off in range(dyn[0], dyn[0] + dyn[1] - 15, 16):
            tag, val = struct.unpack_from("<qQ", data, off)
            entries.append((tag, val))
            if tag == DT_NULL:
                break
    except struct.error:
        raise ELFError("truncated ELF headers") from None
    strtab = next((v for t, v in entries if t == DT_STRTAB), None)
    if strtab is None:
        raise ELFError("no string table")
    for vaddr, offset, size in loads:
        if vaddr <= strtab < vaddr + size:
            return dyn[0], entries, strtab - vaddr + offset
    raise ELFError("string table outside the loaded segments")


def read(data: bytes) -> SharedObject:
    """The SONAME, DT_NEEDED and RUNPATH/RPATH entries of a shared object or executable."""
    _, entries, strtab = _dynamic(data)

    def string(offset: int) -> str:
        end = data.index(b"\0", strtab + offset)
        return data[strtab + offset : end].decode("utf-8", "replace")

    soname = next((string(v) for t, v in entries if t == DT_SONAME), None)
    needed = tuple(string(v) for t, v in entries if t == DT_NEEDED)
    runpath = tuple(p for t, v in entries if t in (DT_RPATH, DT_RUNPATH) for p in string(v).split(":") if p)
    return SharedObject(soname, needed, runpath)


def without_runpath(data: bytes) -> bytes:
    """A copy of the shared object with its RPATH and RUNPATH entries removed.

    They name directories of the build machine, which the dynamic loader would probe at run time.
    The dynamic array is compacted and padded with DT_NULL; nothing else moves.
    """
    start, entries, _ = _dynamic(data)
    kept = [(t, v) for t, v in entries if t not in (DT_RPATH, DT_RUNPATH)]
    if len(kept) == len(entries):
        return data
    kept += [(DT_NULL, 0)] * (len(entries) - len(kept))
    packed = b"".join(struct.pack("<qQ", t, v) for t, v in kept)
    return data[:start] + packed + data[start + len(packed) :]
