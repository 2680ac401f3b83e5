"""A damaged executable says so in one line and exits 2: never a crash, a hang or a traceback.

A seeded fuzz run mutates a real executable in place (flipped bytes in the payload and index,
truncation, appended junk), runs it, and counts the outcomes.
"""

from __future__ import annotations

import collections
import os
import random
import subprocess
from pathlib import Path

import pytest
from conftest import build_script_app

from onebin._runtime.bundle import TRAILER_SIZE, Trailer

pytestmark = pytest.mark.e2e

MUTATIONS = int(os.environ.get("ONEBIN_FUZZ_MUTATIONS", "1000"))
APP = "import json, decimal\nprint(json.dumps({'ok': str(decimal.Decimal('1.5') * 2)}))\n"
EXPECTED = '{"ok": "3.0"}\n'


@pytest.fixture(scope="module")
def exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_script_app(tmp_path_factory.mktemp("damage"), APP)


def _run(exe: Path) -> str:
    try:
        proc = subprocess.run([exe], capture_output=True, text=True, timeout=20)
    except subprocess.TimeoutExpired:
        return "hang"
    if proc.returncode < 0:
        return f"signal {-proc.returncode}"
    if proc.returncode == 0 and proc.stdout == EXPECTED:
        return "ran"  # the damage was in something this run never used
    lines = proc.stderr.splitlines()
    if proc.returncode == 2 and len(lines) == 1 and "this executable is damaged" in lines[0]:
        return "damaged"
    return f"unexpected: exit {proc.returncode}: {proc.stderr[-300:]!r}"


def _mutate(exe: Path, rng: random.Random, trailer: Trailer, size: int) -> tuple[str, object]:
    """Applies one mutation in place; returns how to undo it."""
    kind = rng.choice(["flip", "flip-index", "truncate", "append"])
    with open(exe, "r+b") as f:
        if kind == "truncate":
            cut = rng.randrange(trailer.payload_offset, size)
            f.seek(cut)
            tail = f.read()
            f.truncate(cut)
            return kind, (cut, tail)
        if kind == "append":
            f.seek(0, os.SEEK_END)
            f.write(rng.randbytes(rng.randrange(1, 200)))
            return kind, None
        if kind == "flip-index":
            start = trailer.payload_offset + trailer.sections["index"][0]
        else:
            start = trailer.payload_offset
        at = rng.randrange(start, size)
        f.seek(at)
        old = f.read(1)
        f.seek(at)
        f.write(bytes([old[0] ^ (1 << rng.randrange(8))]))
        return kind, (at, old)


def _undo(exe: Path, kind: str, how: object, size: int) -> None:
    with open(exe, "r+b") as f:
        if kind == "append":
            f.truncate(size)
        elif kind == "truncate":
            cut, tail = how  # type: ignore[misc]
            f.seek(cut)
            f.write(tail)
        else:
            at, old = how  # type: ignore[misc]
            f.seek(at)
            f.write(old)


def test_fuzzed_damage_never_crashes_or_hangs(exe: Path) -> None:
    assert _run(exe) == "ran"
    size = exe.stat().st_size
    with open(exe, "rb") as f:
        f.seek(size - TRAILER_SIZE)
        trailer = Trailer.parse(f.read(), size)
    rng = random.Random(20261126)
    outcomes: collections.Counter[str] = collections.Counter()
    for _ in range(MUTATIONS):
        kind, how = _mutate(exe, rng, trailer, size)
        outcome = _run(exe)
        _undo(exe, kind, how, size)
        outcomes[outcome if outcome.startswith(("ran", "damaged")) else f"{kind}: {outcome}"] += 1
    print(dict(outcomes))
    assert _run(exe) == "ran"
    assert set(outcomes) <= {"ran", "damaged"}, outcomes
    assert outcomes["damaged"] > MUTATIONS // 3
