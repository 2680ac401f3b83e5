"""Packed blobs: the builder's LZ4 packing and the launcher's C decoder (onebin_lz4.h, compiled
here from the installed sources) agree on every shape of input; damage is an error."""

from __future__ import annotations

import ctypes
import marshal
import random
import shutil
import subprocess
from pathlib import Path

import pytest

import onebin.launcher
from onebin import packing
from onebin._runtime.bundle import PayloadError

RNG = random.Random(3)
SAMPLES = {
    "empty": b"",
    "one byte": b"x",
    "short": b"hello, world",
    "zeros over three blocks": bytes(2 * packing.BLOCK + 5),
    "period 3": b"abc" * 50_000,
    "random": RNG.randbytes(packing.BLOCK + 99),
    "bytecode": marshal.dumps(compile(Path(random.__file__).read_text(), "random.py", "exec")),
    "a mix": b"".join(RNG.choice([bytes(300), RNG.randbytes(40), b"ab" * 90]) for _ in range(9000)),
}


@pytest.fixture(scope="module")
def decoder(tmp_path_factory: pytest.TempPathFactory) -> ctypes.CDLL:
    compiler = shutil.which("cc") or shutil.which("gcc")
    if compiler is None:
        pytest.skip("needs a C compiler")
    source = tmp_path_factory.mktemp("lz4") / "unpack.c"
    source.write_text(
        '#include "onebin_lz4.h"\n'
        "int unpack(const unsigned char *b, uint64_t n, unsigned char *d, uint64_t r)"
        " { return onebin_lz4_unpack(b, n, d, r); }\n"
    )
    library = source.with_suffix(".so")
    headers = Path(onebin.launcher.__file__).parent
    subprocess.run([compiler, "-O2", "-shared", "-fPIC", f"-I{headers}", str(source), "-o", str(library)], check=True)
    lib = ctypes.CDLL(str(library))
    lib.unpack.argtypes = [ctypes.c_char_p, ctypes.c_uint64, ctypes.c_char_p, ctypes.c_uint64]
    return lib


def _c_unpack(decoder: ctypes.CDLL, packed: bytes, size: int) -> bytes | None:
    out = ctypes.create_string_buffer(size + 1)
    return out.raw[:size] if decoder.unpack(packed, len(packed), out, size) == 0 else None


@pytest.mark.parametrize("name", SAMPLES)
def test_the_launcher_unpacks_what_the_builder_packs(decoder: ctypes.CDLL, name: str) -> None:
    data = SAMPLES[name]
    packed = packing.lz4_pack(data)
    assert _c_unpack(decoder, packed, len(data)) == data
    assert packing.lz4_unpack(packed, len(data)) == data


def test_damage_is_an_error_in_both(decoder: ctypes.CDLL) -> None:
    data = SAMPLES["a mix"]
    packed = packing.lz4_pack(data)
    assert _c_unpack(decoder, packed[:-1], len(data)) is None
    assert _c_unpack(decoder, packed, len(data) + 1) is None
    with pytest.raises(PayloadError):
        packing.lz4_unpack(packed[:-1], len(data))
    wrong = 0
    for _ in range(300):
        damaged = bytearray(packed)
        damaged[RNG.randrange(len(damaged))] ^= 1 << RNG.randrange(8)
        wrong += _c_unpack(decoder, bytes(damaged), len(data)) != data
    assert wrong > 0  # some flips are caught by the decoder; the blob's hash catches the rest


def test_packing_is_cached_and_skips_what_does_not_pay(tmp_path: Path) -> None:
    blobs = {packing.digest(d): d for d in (SAMPLES["bytecode"], SAMPLES["random"], b"tiny")}
    packer = packing.Packer(tmp_path)
    packed = packer.pack_all(blobs, packing.LZ4)
    assert set(packed) == {packing.digest(SAMPLES["bytecode"])}  # random data and tiny blobs stay as they are
    data, fields = packed[packing.digest(SAMPLES["bytecode"])]
    assert fields == (packing.LZ4, len(SAMPLES["bytecode"]))
    assert len(list(tmp_path.rglob("*"))) > 0
    assert packing.Packer(tmp_path).pack_all(blobs, packing.LZ4) == packed
