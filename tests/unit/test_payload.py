"""The writer and the reader of the payload format agree, and damage is detected."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from onebin._runtime.bundle import TRAILER_SIZE, Bundle, Index, PayloadError, Trailer, read_executable
from onebin.hashing import digest
from onebin.payload import PayloadWriter

LAUNCHER = b"\x7fELF pretend launcher"


def _write() -> bytes:
    out = io.BytesIO()
    writer = PayloadWriter(out, LAUNCHER)
    first = writer.add(b"hello")
    assert writer.add(b"hello") == first  # deduplicated
    index = {
        "roots": ("lib",),
        "files": {"lib/a.txt": first},
        "dirs": {"lib": 0},
        "modules": {},
        "preload": {},
        "needed_paths": {},
        "distributions": {},
        "main": ("app/main.py", 0, 0, 0),
        "materialize": {},
        "headers": {},
        "regexes": None,
        "info": {"id": "test"},
    }
    size = writer.finish(["lib"], [], index)
    data = out.getvalue()
    assert size == len(data)
    return data


def _open(data: bytes) -> Bundle:
    trailer = Trailer.parse(data[-TRAILER_SIZE:], len(data))
    payload = memoryview(data)[trailer.payload_offset : trailer.payload_offset + trailer.payload_size]
    start, length = trailer.sections["index"]
    return Bundle("/opt/app", payload, Index.load(payload[start : start + length]))


def test_checksums_catch_a_flipped_byte(tmp_path: Path) -> None:
    data = bytearray(_write())
    (tmp_path / "good").write_bytes(data)
    _, bundle = read_executable(str(tmp_path / "good"), digest)
    assert bundle.read("lib/a.txt") == b"hello"
    trailer = Trailer.parse(bytes(data[-TRAILER_SIZE:]), len(data))
    blob = trailer.payload_offset  # the first blob: b"hello"
    data[blob] ^= 1
    (tmp_path / "blob").write_bytes(data)
    _, damaged = read_executable(str(tmp_path / "blob"), digest)
    with pytest.raises(PayloadError, match="checksum mismatch in lib/a.txt"):
        damaged.read("lib/a.txt")
    data[blob] ^= 1
    index_start = trailer.payload_offset + trailer.sections["index"][0]
    data[index_start + 5] ^= 0x40
    (tmp_path / "index").write_bytes(data)
    with pytest.raises(PayloadError, match="header checksum mismatch"):
        read_executable(str(tmp_path / "index"), digest)


def test_round_trip() -> None:
    bundle = _open(_write())
    assert bundle.read("lib/a.txt") == b"hello"
    assert bundle.path("lib/a.txt") == "/opt/app/lib/a.txt"
    assert bundle.relpath("/opt/app/lib/") == "lib"
    assert bundle.relpath("/elsewhere/lib") is None
    with pytest.raises(FileNotFoundError):
        bundle.read("lib/missing")


def test_payload_starts_on_a_page() -> None:
    data = _write()
    assert Trailer.parse(data[-TRAILER_SIZE:], len(data)).payload_offset % 4096 == 0


@pytest.mark.parametrize("damage", ["truncate", "append", "magic"])
def test_damage_is_detected(damage: str) -> None:
    data = bytearray(_write())
    if damage == "truncate":
        del data[100:200]
    elif damage == "append":
        data += b"junk"
    else:
        data[-TRAILER_SIZE] ^= 0xFF
    with pytest.raises(PayloadError):
        Trailer.parse(bytes(data[-TRAILER_SIZE:]), len(data))
