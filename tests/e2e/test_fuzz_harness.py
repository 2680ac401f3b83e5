"""The launcher's payload reader (C) under libFuzzer with AddressSanitizer, seeded with real
payloads: no crash, no out-of-bounds read, in 200,000 runs."""

from __future__ import annotations

import io
import shutil
import subprocess
from pathlib import Path

import pytest

import onebin.launcher
from onebin.payload import PayloadWriter

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
        "main": (0, 0, 0, "app/m.py"),
        "materialize": {},
        "info": {"id": "seed"},
    }
    writer.finish(["lib"], [("_onebin_runtime", "_onebin_runtime", b"c")], index)
    return out.getvalue()


@pytest.mark.skipif(CLANG is None, reason="needs clang with libFuzzer (apt-get install clang-14 libclang-rt-14-dev)")
def test_the_payload_reader_survives_fuzzing(tmp_path: Path) -> None:
    assert CLANG is not None
    headers = Path(onebin.launcher.__file__).parent  # the installed launcher sources: what ships
    fuzzer = tmp_path / "fuzz_payload"
    compile_ = [
        CLANG,
        "-g",
        "-O1",
        "-fsanitize=fuzzer,address,undefined",
        f"-I{headers}",
        str(HARNESS),
        "-o",
        str(fuzzer),
    ]
    built = subprocess.run(compile_, capture_output=True, text=True)
    if built.returncode != 0 and "fuzzer" in built.stderr:
        pytest.skip(f"this clang cannot build libFuzzer targets: {built.stderr[-300:]}")
    assert built.returncode == 0, built.stderr
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "small").write_bytes(_seed(b"\x7fELF", [b"hello", b""]))
    (corpus / "larger").write_bytes(_seed(b"\x7fELF" * 64, [bytes(range(256)) * 4, b"x" * 100]))
    run = subprocess.run(
        [fuzzer, "-runs=200000", "-seed=1", "-max_len=16384", str(corpus)], capture_output=True, text=True, timeout=600
    )
    assert run.returncode == 0, run.stderr[-3000:]
    assert "Done 200000 runs" in run.stderr
