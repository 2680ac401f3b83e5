"""Shared helpers: run the installed `onebin` command, and run executables as users would."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import onebin

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = Path(__file__).resolve().parent / "packages"
ONEBIN = Path(sys.executable).with_name("onebin")


def pytest_configure(config: pytest.Config) -> None:
    # Test what ships: the installed package, never the checkout's src/ by accident.
    if Path(onebin.__file__).resolve().is_relative_to(ROOT / "src") and not os.environ.get("ONEBIN_TEST_SOURCE_TREE"):
        raise pytest.UsageError(f"onebin is imported from the source tree ({onebin.__file__}); `pip install .` first")


def run_onebin(
    *args: str | os.PathLike[str], cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs the installed `onebin` command."""
    return subprocess.run([str(ONEBIN), *map(str, args)], cwd=cwd, capture_output=True, text=True, env=env, timeout=900)


def build(*args: str | os.PathLike[str], cwd: Path | None = None) -> None:
    """`onebin build ARGS`, failing the test with onebin's output if it fails."""
    proc = run_onebin("build", *args, cwd=cwd)
    assert proc.returncode == 0, f"onebin build failed:\n{proc.stdout}\n{proc.stderr}"


def build_script_app(root: Path, script: str, *sources: str | os.PathLike[str]) -> Path:
    """Writes ``script`` as ``root/app.py`` and builds it (with ``sources``) into ``root/app``."""
    (root / "app.py").write_text(script)
    build(*sources, "app.py", "-o", "app", cwd=root)
    return root / "app"


def python_hidden_script() -> str:
    """Shell commands that hide every Python installation of this machine in a mount namespace."""
    lines = ["set -e", "mount --make-rprivate /"]
    pyenv_root = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv"))
    dirs = [pyenv_root] + sorted(
        Path(p)
        for pattern in ("/usr/lib/python3*", "/usr/local/lib/python3*", "/usr/lib/x86_64-linux-gnu/python3*")
        for p in _glob(pattern)
    )
    for d in dirs:
        if d.is_dir():
            lines.append(f"mount -t tmpfs tmpfs '{d}'")
    for lib in sorted(_glob("/usr/lib/x86_64-linux-gnu/libpython3*") + _glob("/usr/local/lib/libpython3*")):
        if Path(lib).is_file() and not Path(lib).is_symlink():
            lines.append(f"mount --bind /dev/null '{lib}'")
    return "\n".join(lines)


def _glob(pattern: str) -> list[str]:
    import glob

    return glob.glob(pattern)


def run_hidden(
    exe: Path, *args: str, cwd: Path | None = None, input: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Runs ``exe`` under `env -i` with every Python on the machine hidden (needs root)."""
    script = python_hidden_script() + '\nexec env -i PATH=/usr/bin:/bin "$@"'
    command = ["unshare", "-m", "bash", "-c", script, "hidden", str(exe), *args]
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, input=input, timeout=300)


def run_traced(exe: Path, *args: str, cwd: Path) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """Runs ``exe`` under strace; returns the run and the traced file system calls."""
    log = cwd / f"strace-{exe.name}.log"
    command = ["strace", "-f", "-qq", "-o", str(log), "-e", "trace=%file,memfd_create,creat", str(exe), *args]
    proc = subprocess.run(command, cwd=cwd, capture_output=True, text=True, timeout=300)
    return proc, log.read_text().splitlines()


WRITES = {
    "creat",
    "mkdir",
    "mkdirat",
    "rename",
    "renameat",
    "renameat2",
    "link",
    "linkat",
    "symlink",
    "symlinkat",
    "unlink",
    "unlinkat",
}
GLIBC = re.compile(r"/(libc|libm|libpthread|libdl|librt|libutil|libresolv|ld-linux-x86-64)\.so")


def assert_no_disk_imports(trace: list[str], inputs: tuple[str, ...] = ()) -> None:
    """No module or library read from disk but glibc's, nothing created, no build prefix probed.

    ``inputs`` are files the app is asked to read, such as the file flake8 lints.
    """
    prefixes = {str(Path(sys.base_prefix)), str(Path.home() / ".pyenv")}
    for line in trace:
        path = next(iter(re.findall(r'"([^"]*)"', line)), "")
        if GLIBC.search(path) or "memfd_create(" in line or path in inputs:
            continue
        syscall = re.match(r"(?:\d+\s+)?(\w+)\(", line)
        assert syscall is None or syscall.group(1) not in WRITES, line
        assert "O_CREAT" not in line, line
        assert not re.search(r"\.(py|pyc|so)(\.[0-9.]+)?$", path) or path.startswith("/proc/self/fd/"), line
        assert not any(path.startswith(p) for p in prefixes), line


needs_root_tools = pytest.mark.skipif(
    os.geteuid() != 0 or not shutil.which("unshare") or not shutil.which("strace"),
    reason="needs root, unshare and strace",
)
