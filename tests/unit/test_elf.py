from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest

from onebin import elf


def _ssl_extension() -> Path:
    found = sorted(Path(sysconfig.get_config_var("DESTSHARED")).glob("_ssl*.so"))
    if not found:
        pytest.skip("this interpreter has no _ssl extension file")
    return found[0]


def test_reads_needed_libraries_of_a_real_extension() -> None:
    info = elf.read(_ssl_extension().read_bytes())
    assert info.soname is None
    assert any(name.startswith("libssl.so") for name in info.needed)


def test_without_runpath_removes_runpath_and_keeps_the_rest() -> None:
    data = _ssl_extension().read_bytes()
    stripped = elf.without_runpath(data)
    assert len(stripped) == len(data)
    assert elf.read(stripped).runpath == ()
    assert elf.read(stripped).needed == elf.read(data).needed


def test_reads_a_soname() -> None:
    libc = Path("/lib/x86_64-linux-gnu/libc.so.6")
    if not libc.exists():
        pytest.skip("no x86_64 glibc here")
    assert elf.read(libc.read_bytes()).soname == "libc.so.6"


@pytest.mark.parametrize("data", [b"", b"not elf at all", b"\x7fELF\x02\x01" + bytes(12)])
def test_rejects_what_is_not_a_shared_object(data: bytes) -> None:
    assert not elf.is_shared_object(data) or len(data) >= 18
    with pytest.raises(elf.ELFError):
        elf.read(data)
