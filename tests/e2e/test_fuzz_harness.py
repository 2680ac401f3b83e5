"""The launcher's readers of untrusted bytes (C) under libFuzzer with AddressSanitizer, seeded
with real inputs: the payload's trailer and the LZ4 decoder; no crash, no out-of-bounds access,
in 200,000 runs each."""

from __future__ import annotations

import io
import marshal
import shutil
import subprocess
from pathlib import Path

import pytest

import onebin.launcher
from onebin.packing import lz4_pack
from onebin.payload import PayloadWriter, ahead_section

pytestmark = pytest.mark.e2e

HARNESS = Path(__file__).resolve().parents[1] / "fuzz" / "fuzz_payload.c"
CLANG = shutil.which("clang") or shutil.which("clang-14")


def _seed(launcher: bytes, blobs: list[bytes]) -> bytes:
    out = io.BytesIO()
    writer = PayloadWriter(out, launcher)
    files = {f"lib/f{i}": writer.add(b) for i, b in enumerate(blobs)}
    index = {
        "roots": ("lib",),
        "files": files,
        "dirs": {"lib": 0},
        "modules": {},
        "preload": {},
        "needed_paths": {},
        "distributions": {},
        "main": ("app/m.py", 0, 0, 0),
        "materialize": {},
        "headers": {},
        "regexes": None,
        "info": {"id": "seed"},
    }
    ahead = ahead_section([(False, name, entry) for name, entry in files.items()], {}, least=0)
    writer.finish(["lib"], [("_onebin_runtime", "_onebin_runtime", b"c")], index, ahead)
    return out.getvalue()


def _fuzzer(harness: Path, out: Path) -> Path:
    """``harness`` built with libFuzzer and the sanitizers, against the installed launcher
    sources (what ships)."""
    if CLANG is None:
        pytest.skip("needs clang with libFuzzer (apt-get install clang-14 libclang-rt-14-dev)")
    headers = Path(onebin.launcher.__file__).parent
    fuzzer = out / harness.stem
    compile_ = [
        CLANG,
        "-g",
        "-O1",
        "-fsanitize=fuzzer,address,undefined",
        f"-I{headers}",
        str(harness),
        "-o",
        str(fuzzer),
    ]
    built = subprocess.run(compile_, capture_output=True, text=True)
    if built.returncode != 0 and "fuzzer" in built.stderr:
        pytest.skip(f"this clang cannot build libFuzzer targets: {built.stderr[-300:]}")
    assert built.returncode == 0, built.stderr
    return fuzzer


def _fuzz(fuzzer: Path, corpus: Path, max_len: int) -> None:
    run = subprocess.run(
        [fuzzer, "-runs=200000", "-seed=1", f"-max_len={max_len}", str(corpus)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Done 200000 runs" in run.stderr


def test_the_payload_reader_survives_fuzzing(tmp_path: Path) -> None:
    fuzzer = _fuzzer(HARNESS, tmp_path)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "small").write_bytes(_seed(b"\x7fELF", [b"hello", b""]))
    (corpus / "larger").write_bytes(_seed(b"\x7fELF" * 64, [bytes(range(256)) * 4, b"x" * 100]))
    _fuzz(fuzzer, corpus, 16384)


def test_the_lz4_decoder_survives_fuzzing(tmp_path: Path) -> None:
    fuzzer = _fuzzer(HARNESS.with_name("fuzz_lz4.c"), tmp_path)
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    samples = {
        "code": marshal.dumps(compile(Path(io.__file__).read_text(), "io.py", "exec")),
        "zeros": bytes(5000),
        "pattern": b"abc" * 700 + bytes(range(256)),
        "text": Path(__file__).read_bytes(),
    }
    for name, data in samples.items():
        (corpus / name).write_bytes(len(data).to_bytes(4, "little") + lz4_pack(data))
    _fuzz(fuzzer, corpus, 65536)
