"""Bytecode for the target interpreter, compiled by that interpreter and cached by content."""

from __future__ import annotations

import hashlib
import marshal
import os
import subprocess
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .errors import BuildError
from .target import Target

_WORKER = Path(__file__).with_name("_compile_worker.py")


class Compiler:
    """Compiles (co_filename, source file) pairs with ``target``, reusing ``cache_dir``."""

    def __init__(self, target: Target, cache_dir: Path):
        self._target = target
        self._cache = cache_dir / "bytecode" / target.magic

    def compile(self, jobs: Sequence[tuple[str, Path]]) -> list[bytes | None]:
        """Marshalled code for each job, or None where the source has a syntax error."""
        keys = [self._key(name, path) for name, path in jobs]
        results: list[bytes | None] = []
        todo = []
        for i, key in enumerate(keys):
            cached = self._cached(key)
            results.append(cached)
            if cached is None:
                todo.append(i)
        if todo:
            compiled = self._run([jobs[i] for i in todo])
            for i, code in zip(todo, compiled, strict=True):
                results[i] = code
                self._store(keys[i], code)
        return results

    def _key(self, name: str, path: Path) -> str:
        digest = hashlib.sha256(name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()

    def _cached(self, key: str) -> bytes | None:
        try:
            data = (self._cache / key[:2] / key).read_bytes()
        except OSError:
            return None
        return data

    def _store(self, key: str, code: bytes | None) -> None:
        if code is None:
            return
        directory = self._cache / key[:2]
        try:
            directory.mkdir(parents=True, exist_ok=True)
            tmp = directory / f".{key}.{os.getpid()}"
            tmp.write_bytes(code)
            os.replace(tmp, directory / key)
        except OSError:
            pass  # a cache that cannot be written only makes the next build slower

    def _run(self, jobs: Sequence[tuple[str, Path]]) -> list[bytes | None]:
        workers = max(1, min(os.cpu_count() or 1, len(jobs) // 50, 8))
        chunks = [jobs[i::workers] for i in range(workers)]
        with ThreadPoolExecutor(workers) as pool:
            outputs = list(pool.map(self._run_worker, chunks))
        merged: list[bytes | None] = [None] * len(jobs)
        for w, out in enumerate(outputs):
            merged[w::workers] = out
        return merged

    def _run_worker(self, jobs: Sequence[tuple[str, Path]]) -> list[bytes | None]:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
        env["PYTHONHASHSEED"] = "0"  # frozensets in constants are marshalled in hash order
        payload = marshal.dumps([(name, str(path)) for name, path in jobs])
        proc = subprocess.run(
            # Not -I: it would ignore PYTHONHASHSEED. -c: no onebin directory on sys.path.
            [self._target.executable, "-S", "-s", "-B", "-c", _WORKER.read_text()],
            input=payload,
            capture_output=True,
            env=env,
        )
        if proc.returncode != 0:
            raise BuildError(
                f"compiling with {self._target.executable} failed: {proc.stderr.decode(errors='replace').strip()}"
            )
        result: list[bytes | None] = marshal.loads(proc.stdout)
        return result
