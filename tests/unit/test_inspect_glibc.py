"""The glibc versions an ELF file needs (DT_VERNEED), read from real files of this machine."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from onebin import elf

LIBSSL = Path("/lib/x86_64-linux-gnu/libssl.so.3")


def _system_file(path: Path) -> bytes:
    if not path.is_file():
        pytest.skip(f"no {path} on this machine")
    return path.read_bytes()


def _readelf_needs(path: Path) -> dict[str, set[str]]:
    """What binutils reads from .gnu.version_r, to check ours against."""
    if not shutil.which("readelf"):
        pytest.skip("no readelf here")
    out = subprocess.run(["readelf", "-V", "--wide", str(path)], capture_output=True, text=True, check=True).stdout
    needs: dict[str, set[str]] = {}
    section = out[out.index(".gnu.version_r") :]
    for line in section.splitlines():
        file = re.search(r"File: (\S+)", line)
        if file:
            current = needs.setdefault(file.group(1), set())
        name = re.search(r"Name: (\S+)", line)
        if name:
            current.add(name.group(1))
    return needs


@pytest.mark.parametrize(
    "name, version",
    [
        ("GLIBC_2.2.5", (2, 2, 5)),
        ("GLIBC_2.34", (2, 34)),
        ("GLIBC_2.3", (2, 3)),
        ("GLIBC_PRIVATE", None),
        ("GLIBCXX_3.4.29", None),
        ("OPENSSL_3.0.0", None),
        ("GLIBC_2", None),
    ],
)
def test_glibc_version_names(name: str, version: tuple[int, ...] | None) -> None:
    assert elf.glibc_version(name) == version


def test_version_needs_match_readelf() -> None:
    needs = elf.version_needs(_system_file(LIBSSL))
    assert {k: set(v) for k, v in needs.items()} == _readelf_needs(LIBSSL)
    assert "GLIBC_2.2.5" in needs["libc.so.6"]


def test_the_floor_is_the_newest_glibc_version_needed() -> None:
    data = _system_file(LIBSSL)
    versions = [elf.glibc_version(n) for names in elf.version_needs(data).values() for n in names]
    floor = elf.glibc_floor(data)
    assert floor is not None and floor == max(v for v in versions if v) and floor >= (2, 14)


def test_an_executable_has_a_floor_too() -> None:
    assert elf.glibc_floor(_system_file(Path("/bin/true"))) is not None


def test_a_static_executable_needs_no_version() -> None:
    data = _system_file(Path("/sbin/ldconfig"))  # static-pie on Debian and Ubuntu
    if elf.read(data).needed:
        pytest.skip("ldconfig is dynamically linked here")
    assert elf.version_needs(data) == {}
    assert elf.glibc_floor(data) is None


@pytest.mark.parametrize("cut", [64, 1000, 12000])
def test_a_truncated_file_is_an_elf_error(cut: int) -> None:
    data = _system_file(LIBSSL)[:cut]
    with pytest.raises(elf.ELFError):
        elf.version_needs(data)


@pytest.mark.parametrize("data", [b"", b"\x7fELF\x02\x01", b"text, not ELF" * 3])
def test_what_is_not_elf_is_an_elf_error(data: bytes) -> None:
    with pytest.raises(elf.ELFError):
        elf.glibc_floor(data)
