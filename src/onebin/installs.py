"""pip's results for pinned inputs, kept by content: an unchanged rebuild does not run pip.

Inputs are pinned when every requirement names one exact version (``name==1.2``), and files
(wheels, requirements files, lock files) and local project directories are hashed by content.
Anything else (``flake8>=7``, a URL) may resolve differently tomorrow, so pip runs every time.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterable
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement

_IGNORED_DIRS = frozenset([".git", ".hg", ".svn", "__pycache__", ".tox", ".nox", ".venv", "build", "dist"])


class InstallCache:
    """Staged site-packages directories, by a hash of everything that decides their content."""

    def __init__(self, cache_dir: Path):
        self._dir = cache_dir / "installs"

    def key(self, pip_args: Iterable[str], lock: Path | None, options: Iterable[str], target: str) -> str | None:
        """The key for these inputs, or None if they are not all pinned."""
        digest = hashlib.sha256()
        for part in [target, *options, *_pip_environment()]:
            digest.update(part.encode() + b"\0")
        args = list(pip_args)
        for i, arg in enumerate(args):
            if arg == "-r":
                continue
            if i > 0 and args[i - 1] == "-r" and not _pinned_requirements_file(Path(arg)):
                return None
            if not _add_input(digest, arg):
                return None
        if lock is not None:
            digest.update(lock.read_bytes())
        return digest.hexdigest()[:32]

    def get(self, key: str) -> tuple[Path, dict[str, object]] | None:
        """The cached site-packages directory and pip's report, if present."""
        entry = self._dir / key
        try:
            report = json.loads((entry / "report.json").read_text())
        except (OSError, ValueError):
            return None
        return entry / "site-packages", report

    def put(self, key: str, site: Path, report: Path) -> None:
        """Keeps a copy of a successful installation (best effort: a full disk only costs time)."""
        try:
            self._dir.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryDirectory(dir=self._dir) as tmp:
                shutil.copytree(site, Path(tmp) / "site-packages", symlinks=True)
                shutil.copy(report, Path(tmp) / "report.json")
                os.replace(tmp, self._dir / key)
                os.mkdir(tmp)  # for TemporaryDirectory's cleanup
        except OSError:
            pass


def _add_input(digest: hashlib._Hash, arg: str) -> bool:
    path = Path(arg)
    if path.is_file():
        digest.update(b"file\0" + path.read_bytes())
        return True
    if path.is_dir():
        digest.update(b"dir\0")
        _hash_tree(digest, path)
        return True
    digest.update(arg.encode() + b"\0")
    return _is_pinned(arg)


def _is_pinned(text: str) -> bool:
    try:
        requirement = Requirement(text)
    except InvalidRequirement:
        return False
    specs = list(requirement.specifier)
    return (
        requirement.url is None
        and len(specs) == 1
        and specs[0].operator in ("==", "===")
        and "*" not in specs[0].version
    )


def _pinned_requirements_file(path: Path) -> bool:
    """Whether every requirement in a requirements file is pinned (options and hashes allowed)."""
    try:
        lines = path.read_text().splitlines()
    except (OSError, UnicodeDecodeError):
        return False
    for line in lines:
        line = line.split(" #", 1)[0].strip().rstrip("\\").strip()
        if not line or line.startswith(("#", "--hash")):
            continue
        if line.startswith("-"):
            return False  # -r/-c/-e and index options: let pip decide every time
        if not _is_pinned(line.split(" --hash", 1)[0].strip()):
            return False
    return True


def _hash_tree(digest: hashlib._Hash, directory: Path) -> None:
    for dirpath, dirnames, filenames in os.walk(directory):
        dirnames[:] = sorted(d for d in dirnames if d not in _IGNORED_DIRS and not d.endswith(".egg-info"))
        for name in sorted(filenames):
            path = Path(dirpath, name)
            digest.update(str(path.relative_to(directory)).encode() + b"\0")
            try:
                digest.update(path.read_bytes())
            except OSError:
                pass


def _pip_environment() -> list[str]:
    return sorted(f"{k}={v}" for k, v in os.environ.items() if k.startswith("PIP_"))
