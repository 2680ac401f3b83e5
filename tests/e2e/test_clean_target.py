"""The executable runs in a minimal Debian root with no Python, no libssl and no libsqlite.

The root is made with debootstrap (minbase) once per session; each run happens in a private
mount namespace, under chroot, with /proc mounted or not.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import build, needs_root_tools, run_onebin

pytestmark = [pytest.mark.e2e, needs_root_tools]

APP = """\
import json, sqlite3, ssl, sys
import numpy as np
row = sqlite3.connect(":memory:").execute("select 6 * 7").fetchone()
print(json.dumps([row[0], ssl.OPENSSL_VERSION.split()[0], round(float(np.linalg.det(np.eye(3) * 2)), 6)]))
"""
EXPECTED = '[42, "OpenSSL", 8.0]\n'
MIRROR = os.environ.get("ONEBIN_TEST_DEBIAN_MIRROR", "http://deb.debian.org/debian")


@pytest.fixture(scope="session")
def debian_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not shutil.which("debootstrap"):
        pytest.skip("debootstrap is not installed (apt-get install debootstrap)")
    root = tmp_path_factory.mktemp("debian") / "root"
    proc = subprocess.run(
        ["debootstrap", "--variant=minbase", "bookworm", str(root), MIRROR], capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return root


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clean-target")
    (root / "app.py").write_text(APP)
    build("numpy", "app.py", "-o", "app", cwd=root)
    return root / "app"


@pytest.fixture(scope="module")
def small_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("clean-target-compressed")
    (root / "app.py").write_text(APP)
    build("numpy", "app.py", "--compress", "-o", "small", cwd=root)
    return root / "small"


def _chroot(root: Path, command: str, with_proc: bool) -> subprocess.CompletedProcess[str]:
    mount = f"mount -t proc proc '{root}/proc' && " if with_proc else ""
    script = f"mount --make-rprivate / && {mount}exec chroot '{root}' /usr/bin/env -i PATH=/usr/bin:/bin HOME=/root {command}"
    return subprocess.run(["unshare", "-m", "sh", "-c", script], capture_output=True, text=True, timeout=300)


def test_the_root_has_no_python_libssl_or_libsqlite(debian_root: Path) -> None:
    names = [p.name for d in ("usr/lib", "usr/lib/x86_64-linux-gnu", "usr/bin") for p in (debian_root / d).iterdir()]
    assert not [n for n in names if n.startswith(("python", "libpython", "libssl", "libsqlite"))]


def test_runs_in_the_clean_root(debian_root: Path, app: Path) -> None:
    shutil.copy(app, debian_root / "app")
    proc = _chroot(debian_root, "/app", with_proc=True)
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, EXPECTED, "")


def test_without_proc_it_falls_back_to_the_cache(debian_root: Path, app: Path) -> None:
    shutil.copy(app, debian_root / "app")
    proc = _chroot(debian_root, "/app", with_proc=False)
    assert (proc.returncode, proc.stdout) == (0, EXPECTED), proc.stderr
    assert (debian_root / "root/.cache/onebin/apps").is_dir()


@pytest.mark.parametrize("with_proc", [True, False], ids=["proc", "no-proc"])
def test_compressed_runs_in_the_clean_root(debian_root: Path, small_app: Path, with_proc: bool) -> None:
    # The unpacker and the launcher it inflates need glibc alone; without /proc, the launcher
    # finds the file by the path it was started by, and zlib (which inflates the encodings
    # package, before builtins have open()) is loaded from a copy in the cache.
    shutil.copy(small_app, debian_root / "small")
    proc = _chroot(debian_root, "/small", with_proc=with_proc)
    assert (proc.returncode, proc.stdout) == (0, EXPECTED), proc.stderr


def test_without_proc_or_a_cache_it_says_what_is_missing(debian_root: Path, app: Path) -> None:
    shutil.copy(app, debian_root / "app")
    proc = _chroot(debian_root, "sh -c 'ONEBIN_CACHE_DIR=/dev/null/cache exec /app'", with_proc=False)
    assert proc.returncode != 0
    assert "ONEBIN_CACHE_DIR" in proc.stderr, proc.stderr


def test_inspect_reports_a_glibc_floor_the_root_satisfies(debian_root: Path, app: Path) -> None:
    proc = run_onebin("inspect", "--json", app)
    assert proc.returncode == 0, proc.stderr
    import json

    floor = tuple(int(x) for x in json.loads(proc.stdout)["glibc_min"].split("."))
    libc = next((debian_root / "usr/lib/x86_64-linux-gnu").glob("libc.so.6"))
    assert libc.exists() and floor <= (2, 36)  # bookworm's glibc
