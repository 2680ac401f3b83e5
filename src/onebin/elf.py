"""Just enough of ELF for shared libraries: their SONAME and needs, the glibc versions they need,
and dropping RUNPATH.

Only 64-bit little-endian objects (x86_64, aarch64) are read; anything else is "not ELF".
"""

from __future__ import annotations

import re
import struct
from dataclasses import dataclass

DT_NULL, DT_NEEDED, DT_STRTAB, DT_SONAME, DT_RPATH, DT_RUNPATH = 0, 1, 5, 14, 15, 29
DT_VERNEED, DT_VERNEEDNUM = 0x6FFFFFFE, 0x6FFFFFFF
_GLIBC_VERSION = re.compile(r"GLIBC_([0-9]+(?:\.[0-9]+)+)")
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
    needed_at: tuple[int, ...] = ()  # the file offset of each DT_NEEDED string


def is_shared_object(head: bytes) -> bool:
    """Whether ``head`` (the first 18 bytes or more of a file) starts an ELF64 LE shared object."""
    return len(head) >= 18 and head[:4] == b"\x7fELF" and head[4] == 2 and head[5] == 1 and head[16] == _ET_DYN


def _dynamic(data: bytes) -> tuple[int, list[tuple[int, int]], int]:
    """(file offset of the dynamic array, its entries, file offset of the string table)."""
    start, entries, loads = _segments(data)
    if start is None:
        raise ELFError("no dynamic section")
    strtab = next((v for t, v in entries if t == DT_STRTAB), None)
    if strtab is None:
        raise ELFError("no string table")
    return start, entries, _file_offset(loads, strtab, "string table")


def _segments(data: bytes) -> tuple[int | None, list[tuple[int, int]], list[tuple[int, int, int]]]:
    """(file offset of the dynamic array or None, its entries, the loaded segments' (vaddr, offset, size))."""
    if not (is_shared_object(data) or data[:6] == b"\x7fELF\x02\x01" and data[16:17] == bytes([_ET_EXEC])):
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
            return None, [], loads
        entries = []
        for off in range(dyn[0], dyn[0] + dyn[1] - 15, 16):
            tag, val = struct.unpack_from("<qQ", data, off)
            entries.append((tag, val))
            if tag == DT_NULL:
                break
    except struct.error:
        raise ELFError("truncated ELF headers") from None
    return dyn[0], entries, loads


def _file_offset(loads: list[tuple[int, int, int]], vaddr: int, what: str) -> int:
    for start, offset, size in loads:
        if start <= vaddr < start + size:
            return vaddr - start + offset
    raise ELFError(f"{what} outside the loaded segments")


def read(data: bytes) -> SharedObject:
    """The SONAME, DT_NEEDED and RUNPATH/RPATH entries of a shared object or executable."""
    _, entries, strtab = _dynamic(data)

    def string(offset: int) -> str:
        end = data.index(b"\0", strtab + offset)
        return data[strtab + offset : end].decode("utf-8", "replace")

    soname = next((string(v) for t, v in entries if t == DT_SONAME), None)
    needed = tuple(string(v) for t, v in entries if t == DT_NEEDED)
    runpath = tuple(p for t, v in entries if t in (DT_RPATH, DT_RUNPATH) for p in string(v).split(":") if p)
    needed_at = tuple(strtab + v for t, v in entries if t == DT_NEEDED)
    return SharedObject(soname, needed, runpath, needed_at)


def without_runpath(data: bytes) -> bytes:
    """A copy of the shared object without the build machine's RPATH and RUNPATH directories.

    They would be probed at run time. Only ``$ORIGIN``-relative directories stay: they name
    the object's neighbours, which is how libraries written to the cache find each other. An
    entry left with no directory is removed, compacting the dynamic array and padding it with
    DT_NULL; a shortened one is rewritten in place. Nothing else moves.
    """
    start, entries, strtab = _dynamic(data)
    out = bytearray(data)
    kept = []
    for tag, value in entries:
        if tag in (DT_RPATH, DT_RUNPATH):
            at = strtab + value
            old = data[at : data.index(b"\0", at)]
            origin = [p for p in old.split(b":") if p.startswith((b"$ORIGIN", b"${ORIGIN}"))]
            if not origin:
                continue
            new = b":".join(origin)
            out[at : at + len(old)] = new + bytes(len(old) - len(new))
        kept.append((tag, value))
    if len(kept) < len(entries):
        kept += [(DT_NULL, 0)] * (len(entries) - len(kept))
        packed = b"".join(struct.pack("<qQ", t, v) for t, v in kept)
        out[start : start + len(packed)] = packed
    return bytes(out)


def version_needs(data: bytes) -> dict[str, tuple[str, ...]]:
    """The symbol versions an object needs, by library (DT_VERNEED): {"libc.so.6": ("GLIBC_2.34", ...)}.

    A static executable, which has no dynamic section, needs none.
    """
    _, entries, loads = _segments(data)
    tags = {t: v for t, v in entries if t in (DT_STRTAB, DT_VERNEED, DT_VERNEEDNUM)}
    if DT_VERNEED not in tags or DT_STRTAB not in tags:
        return {}
    strtab = _file_offset(loads, tags[DT_STRTAB], "string table")
    at = _file_offset(loads, tags[DT_VERNEED], "version needs")
    needs: dict[str, tuple[str, ...]] = {}
    try:
        for _ in range(tags.get(DT_VERNEEDNUM, 0xFFFF)):
            _, count, file, aux, following = struct.unpack_from("<HHIII", data, at)
            needs[_string(data, strtab + file)] = _version_names(data, at + aux, count, strtab)
            if following == 0:
                break
            at += following
    except (struct.error, ValueError):
        raise ELFError("truncated symbol version needs") from None
    return needs


def _version_names(data: bytes, at: int, count: int, strtab: int) -> tuple[str, ...]:
    names = []
    for _ in range(count):
        _, _, _, name, following = struct.unpack_from("<IHHII", data, at)
        names.append(_string(data, strtab + name))
        at += following
    return tuple(names)


def _string(data: bytes, offset: int) -> str:
    return data[offset : data.index(b"\0", offset)].decode("utf-8", "replace")


def glibc_version(name: str) -> tuple[int, ...] | None:
    """The version in a glibc symbol version name ("GLIBC_2.2.5" -> (2, 2, 5)); None for others."""
    match = _GLIBC_VERSION.fullmatch(name)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None


def glibc_floor(data: bytes) -> tuple[int, ...] | None:
    """The newest glibc version an object needs (the oldest glibc it runs on), or None if none."""
    versions = [glibc_version(name) for names in version_needs(data).values() for name in names]
    return max((v for v in versions if v is not None), default=None)
