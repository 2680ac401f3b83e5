"""Packed blobs: LZ4 by default, zlib with `--compress`; smaller executables that behave as
the same app stored as it is would, still from memory."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import (
    PACKAGES,
    assert_no_disk_imports,
    build,
    needs_root_tools,
    run_hidden,
    run_onebin,
    run_traced,
)

from onebin import hashing, packing
from onebin._runtime import bundle as fmt

pytestmark = [pytest.mark.e2e, needs_root_tools]

APP = """\
import json
import sqlite3
import sys
from importlib import resources

import datapkg

db = sqlite3.connect(":memory:")
print(json.dumps(db.execute("select 6 * 7").fetchone()))
print(resources.files(datapkg).joinpath("data.json").read_text().strip())
print(sorted(sys.modules)[:3], len(sys.argv))
"""


@pytest.fixture(scope="module")
def apps(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    root = tmp_path_factory.mktemp("compress")
    (root / "app.py").write_text(APP)
    build(PACKAGES / "datapkg", "app.py", "-o", "plain", cwd=root)
    build(PACKAGES / "datapkg", "app.py", "--compress", "-o", "small", cwd=root)
    return root / "plain", root / "small"


def test_the_default_packs_bytecode_and_libraries(apps: tuple[Path, Path]) -> None:
    plain, _ = apps
    _, bundle = fmt.read_executable(str(plain), hashing.digest, packing.lz4_unpack)
    libraries = {rel: entry for rel, entry in bundle.index.files.items() if ".so" in rel.rpartition("/")[2]}
    codes = [entry[2:] for entry in bundle.index.modules.values() if entry[3] > 4096]
    for entries in (list(libraries.values()), codes):
        packed = [entry for entry in entries if entry[3:4] == (fmt.LZ4,)]
        assert len(packed) > 0.9 * len(entries)
        assert sum(e[1] for e in packed) < 0.65 * sum(e[4] for e in packed)
    # What the launcher unpacks is what was bundled: a library's bytes, as inspect reads them.
    assert bundle.read("lib/libz.so.1")[:4] == b"\x7fELF"


def test_compressed_is_smaller(apps: tuple[Path, Path]) -> None:
    plain, small = apps
    assert os.path.getsize(small) < 0.95 * os.path.getsize(plain)


def test_compressed_runs_as_the_plain_one_with_python_hidden(apps: tuple[Path, Path]) -> None:
    plain, small = apps
    expected = subprocess.run([plain, "x"], capture_output=True, text=True, timeout=60)
    assert expected.returncode == 0, expected.stderr
    proc = run_hidden(small, "x")
    assert (proc.returncode, proc.stdout, proc.stderr) == (0, expected.stdout, "")


def test_compressed_reads_nothing_from_disk(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import json, sqlite3, decimal\nprint(json.dumps(str(decimal.Decimal(1) / 8)))\n")
    build("app.py", "--compress", "-o", "small", cwd=tmp_path)
    proc, trace = run_traced(tmp_path / "small", cwd=tmp_path)
    assert (proc.returncode, proc.stdout) == (0, '"0.125"\n'), proc.stderr
    assert_no_disk_imports(trace)
    assert sum("memfd_create" in line for line in trace) >= 4  # _json, _sqlite3, libsqlite3, _decimal


def test_inspect_lists_compressed_libraries(apps: tuple[Path, Path]) -> None:
    plain, small = apps
    listed = [run_onebin("inspect", exe).stdout for exe in (plain, small)]
    libraries = [[line.split()[0] for line in text.splitlines() if line.startswith("  lib/lib")] for text in listed]
    assert libraries[0] and libraries[0] == libraries[1]


RSS_APP = """\
import os

def payload_rss():
    exe = os.path.realpath("/proc/self/exe")
    size = -(-os.path.getsize(exe) // 4096) * 4096
    mine = False
    with open("/proc/self/smaps") as f:
        for line in f:
            fields = line.split()
            if "-" in fields[0] and len(fields) >= 5:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                mine = fields[-1] == exe and end - start == size  # the launcher's map of the whole file
            elif mine and fields[0] == "Rss:":
                return int(fields[1]) * 1024

before = payload_rss()
import _hashlib  # loads libcrypto
print(payload_rss() - before)
"""


def test_unpacked_libraries_leave_no_pages_behind(tmp_path: Path) -> None:
    # The launcher reads a packed library from its map of the file to unpack it into a memfd,
    # then drops those pages: libcrypto must not stay resident twice.
    (tmp_path / "app.py").write_text(RSS_APP)
    build("app.py", "-o", "app", cwd=tmp_path)
    _, bundle = fmt.read_executable(str(tmp_path / "app"), hashing.digest, packing.lz4_unpack)
    libraries = [e for rel, e in bundle.index.files.items() if rel.startswith("lib/libcrypto")]
    packed = sum(e[1] for e in libraries)
    assert libraries and packed > 1_000_000
    proc = subprocess.run([tmp_path / "app"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert int(proc.stdout) < packed / 2


def test_compressed_launcher_is_deflated_behind_an_unpacker(apps: tuple[Path, Path]) -> None:
    # libpython is most of a small app's file: --compress stores it deflated, and a small
    # unpacker runs it from a memfd, under the name it was started by.
    plain, small = apps
    leads = [json.loads(run_onebin("inspect", exe, "--json").stdout)["payload_offset"] for exe in (plain, small)]
    assert leads[1] < 0.45 * leads[0]
    assert small.read_bytes()[:4] == b"\x7fELF"
    probe = (
        "import os, sys; print(open('/proc/self/comm').read().strip(), os.readlink('/proc/self/exe'), "
        "'ONEBIN_STUB' in os.environ, sys.executable, sep='|')"
    )
    proc = subprocess.run(
        [small], env={**os.environ, "ONEBIN_PYTHON": "1"}, input=probe, capture_output=True, text=True
    )
    comm, exe, leaked, executable = proc.stdout.strip().split("|")
    assert (proc.returncode, comm, leaked) == (0, small.name, "False"), proc.stderr
    assert exe.startswith("/memfd:onebin:launcher ")
    assert os.path.samefile(executable, small)


CHILDREN_APP = """\
import multiprocessing, os, subprocess, sys

def work(x):
    import _json  # an extension module: the worker shares the parent's memfd of it
    return x * 2, "ONEBIN_STUB" in os.environ

if __name__ == "__main__":
    import _json
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        print(pool.map(work, [1, 2]))
    code = "import sys; print(sys.argv[1:])"
    print(subprocess.run([sys.executable, "-c", code, "a"], capture_output=True, text=True, check=True).stdout.strip())
    if sys.argv[1:] != ["again"]:
        print(subprocess.run([sys.executable, sys.argv[0], "again"], capture_output=True, text=True).stdout.strip())
"""


def test_compressed_children_share_and_restart(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(CHILDREN_APP)
    build("app.py", "--compress", "-o", "small", cwd=tmp_path)
    env = {**os.environ, "ONEBIN_TRACE": "1"}
    proc = subprocess.run([tmp_path / "small"], capture_output=True, text=True, timeout=120, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[:3] == ["[(2, False), (4, False)]", "['a']", "[(2, False), (4, False)]"]
    assert lines[3] == "['a']"  # the restart ran the app, which printed its own lines
    shared = [line for line in proc.stderr.splitlines() if line.endswith("with the parent process") and "_json" in line]
    assert shared, proc.stderr[-2000:]
    # The children run the parent's launcher as it is: only the first process inflates it.
    traced, trace = run_traced(tmp_path / "small", cwd=tmp_path)
    assert traced.returncode == 0, traced.stderr
    assert sum('memfd_create("onebin:launcher ' in line for line in trace) == 1
    assert sum("execveat(" in line for line in trace) >= 5  # the app, two workers, two subprocesses


def test_compressed_sources_are_stored_together(apps: tuple[Path, Path]) -> None:
    # Sources are read only for tracebacks: --compress stores them in xz blocks, which the
    # runtime unpacks for linecache, and inspect for its listing.
    plain, small = apps
    _, bundle = fmt.read_executable(str(small), hashing.digest, packing.lz4_unpack)
    sources = {rel: e for rel, e in bundle.index.files.items() if rel.endswith(".py")}
    solid = [e for e in sources.values() if e[3:4] == (fmt.SOLID,)]
    assert len(solid) > 0.9 * len(sources)
    for rel in ("app/app.py", next(r for r in sources if r.endswith("/json/decoder.py"))):
        assert bundle.read(rel).startswith((b"import", b'"""', b"#")), rel
    code = "import json, linecache; print(linecache.getline(json.__file__, 1).strip()); json.loads('{')"
    proc = subprocess.run([small], env={**os.environ, "ONEBIN_PYTHON": "1"}, input=code, capture_output=True, text=True)
    assert proc.stdout.startswith('r"""JSON (JavaScript')
    assert "    obj, end = self.scan_once(s, idx)" in proc.stderr  # the traceback's source lines


def test_damaged_deflated_launcher_says_so(apps: tuple[Path, Path], tmp_path: Path) -> None:
    _, small = apps
    data = bytearray(small.read_bytes())
    offset = json.loads(run_onebin("inspect", small, "--json").stdout)["payload_offset"]
    data[offset // 2 : offset // 2 + 64] = bytes(64)  # inside the deflated launcher
    damaged = tmp_path / "damaged"
    damaged.write_bytes(bytes(data))
    damaged.chmod(0o755)
    proc = subprocess.run([damaged], capture_output=True, text=True, timeout=60)
    assert (proc.returncode, proc.stdout) == (2, "")
    assert proc.stderr == f"{damaged}: this executable is damaged (its launcher cannot be inflated); rebuild it\n"
    listed = run_onebin("inspect", damaged)
    assert listed.returncode != 0 and "damaged" in listed.stderr and "Traceback" not in listed.stderr


def test_compressed_runs_where_memfds_are_not_executable_by_default(apps: tuple[Path, Path]) -> None:
    # vm.memfd_noexec=1 (Linux 6.3+, per pid namespace) makes memfds non-executable unless
    # asked: the unpacker asks. (With 2, none may be: it says so, see the README.)
    plain, small = apps
    expected = subprocess.run([plain, "x"], capture_output=True, text=True, timeout=60)
    script = f"echo 1 > /proc/sys/vm/memfd_noexec || exit 77; exec '{small}' x"
    proc = subprocess.run(
        ["unshare", "--pid", "--fork", "--mount-proc", "sh", "-c", script], capture_output=True, text=True, timeout=60
    )
    if proc.returncode == 77:
        pytest.skip("this kernel has no vm.memfd_noexec")
    assert (proc.returncode, proc.stdout) == (0, expected.stdout), proc.stderr
