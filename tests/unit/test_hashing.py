"""The payload hash: XXH64 over 1 MiB chunks; the C build and the Python fallback agree."""

from __future__ import annotations

import random

from onebin import hashing


def test_known_xxh64_values() -> None:
    # Published XXH64 test values: the empty input, and "a", with seed 0.
    assert hashing._xxh64(b"", 0) == 0xEF46DB3751D8E999
    assert hashing._xxh64(b"a", 0) == 0xD24EC4F1A98C6E5B


def test_the_c_library_and_python_agree() -> None:
    rng = random.Random(7)
    samples = [b"", b"x", bytes(31), bytes(32), rng.randbytes(1000), rng.randbytes(hashing.CHUNK + 17)]
    for data in samples:
        for seed in (0, 12345):
            assert hashing.digest(data, seed) == hashing._python_hash(data, seed)


def test_chunks_chain() -> None:
    data = bytes(range(256)) * 8192  # 2 MiB: two chunks
    first = hashing._xxh64(data[: hashing.CHUNK], 0)
    assert hashing.digest(data) == hashing._xxh64(data[hashing.CHUNK :], first)
