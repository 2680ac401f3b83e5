"""Many simultaneous first starts: all succeed, and the cache ends complete and consistent."""

from __future__ import annotations

import shlex
import stat
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from conftest import PACKAGES, build, build_script_app, needs_root_tools

pytestmark = [pytest.mark.e2e, needs_root_tools]

STARTS = 100
APP = """\
import datapkg, decimal, json, sys
print(json.dumps([datapkg.config()["answer"], str(decimal.Decimal("0.1") * 3)]))
"""
EXPECTED = '[42, "0.3"]\n'

# Runs inside a mount namespace where /proc is an empty tmpfs: the executables cannot load
# native code from memfds there and fall back to the cache.
DRIVER = textwrap.dedent(
    """\
    import subprocess, sys
    exe, cache, n, expected = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
    env = {"PATH": "/usr/bin:/bin", "ONEBIN_CACHE_DIR": cache}
    procs = [subprocess.Popen([exe], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env) for _ in range(n)]
    results = [(p.wait(timeout=300), p.stdout.read().decode(), p.stderr.read().decode()) for p in procs]
    bad = [r for r in results if r[0] != 0 or r[1] != expected]
    print(len(bad), bad[:3])
    """
)


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_script_app(tmp_path_factory.mktemp("concurrency"), APP, PACKAGES / "datapkg")


def _start_many(app: Path, cache: Path, hide_proc: bool) -> str:
    driver = cache.parent / "driver.py"
    driver.write_text(DRIVER)
    command = f"exec {sys.executable} {driver} {app} {cache} {STARTS} {shlex.quote(EXPECTED)}"
    if hide_proc:
        command = "mount --make-rprivate / && mount -t tmpfs none /proc && " + command
    proc = subprocess.run(["unshare", "-m", "sh", "-c", command], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_simultaneous_first_starts_with_the_fallback_cache(app: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    assert _start_many(app, cache, hide_proc=True).startswith("0 ")
    (base,) = (cache / "apps").iterdir()
    everything = list(base.rglob("*"))
    assert not [p for p in everything if ".tmp-" in p.name], "stray temporary files"
    assert any(p.name == "data.json" for p in everything)
    assert any(p.name.startswith("_decimal") for p in everything)  # loaded from the cache
    for path in everything:
        mode = stat.S_IMODE(path.lstat().st_mode)
        assert not mode & 0o077, f"{path} is open to other users"
    manifests = list((base / ".manifest").iterdir())
    assert manifests and all(m.read_text() and "missing" not in m.read_text() for m in manifests)


def test_simultaneous_starts_of_a_memory_only_app(app: Path, tmp_path: Path) -> None:
    memory_only = tmp_path / "memory-only"
    (tmp_path / "m.py").write_text("import decimal, json\nprint(json.dumps([42, str(decimal.Decimal('0.1') * 3)]))\n")
    build("m.py", "-o", memory_only, cwd=tmp_path)
    cache = tmp_path / "cache"
    assert _start_many(memory_only, cache, hide_proc=False).startswith("0 ")
    assert not cache.exists(), "a memory-only app wrote to the cache"


def test_a_changed_cache_file_is_replaced_not_trusted(app: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    env = {"PATH": "/usr/bin:/bin", "ONEBIN_CACHE_DIR": str(cache)}
    assert subprocess.run([app], capture_output=True, text=True, env=env).stdout == EXPECTED
    data = next(cache.rglob("data.json"))
    data.chmod(0o600)
    data.write_text('{"name": "tampered", "answer": 666}')
    data.chmod(0o400)
    proc = subprocess.run([app], capture_output=True, text=True, env=env)
    assert proc.stdout == EXPECTED, proc.stderr
    assert "tampered" not in data.read_text()
