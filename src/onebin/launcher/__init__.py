"""The launcher: launcher.c compiled and linked against the target's static libpython, cached.

The link exports libpython's symbols (``--export-dynamic``) so that extension modules loaded
later find them, and pulls in the whole archive so every C-API function is there. Libraries
that libpython needs beyond glibc's are linked statically, so the executable depends on glibc
alone; if one has no static archive here, the error names the package that provides it.

With --compress, the launcher (libpython, most of a small app's file) is stored deflated
behind an unpacker, stub.c, that inflates it into a memfd and runs that (onebin_stub.h gives
the layout): ``deflated_launcher_for`` makes that lead of the file, ``launcher_files`` takes it
apart again for ``onebin inspect``.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import subprocess
import tempfile
import time
import zlib
from pathlib import Path

from .. import elf, natives
from .._runtime.bundle import PayloadError
from ..errors import BuildError
from ..packing import pack_blocks, unpack_blocks
from ..target import Target

SOURCE = Path(__file__).with_name("launcher.c")
_OTHER_SOURCES = (
    "onebin_internal.c",
    "onebin_internal.h",
    "onebin_missing.c",
    "onebin_missing.h",
    "onebin_hash.h",
    "onebin_lz4.h",
    "onebin_payload.h",
    "onebin_stub.h",
)
_CFLAGS = ("-O2", "-Wall", "-Wno-unused-result")
STUB = SOURCE.with_name("stub.c")
_STUB_SOURCES = ("stub.c", "onebin_stub.h", "onebin_payload.h", "onebin_hash.h")
_STUB_FOOTER_MAGIC = b"\x7fONEBINZ"  # onebin_stub.h
_STUB_FOOTER_SIZE = 32
_STUB_BLOCK = 1 << 19
_PAGE = 4096  # the payload that follows starts on a page (payload.py)
_STATIC_DIRS = ("/usr/lib/x86_64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib")
_GLIBC_LINK_NAMES = frozenset(["c", "m", "pthread", "dl", "rt", "util", "resolv", "anl", "nsl"])
_DEV_PACKAGES = {"z": "zlib1g-dev", "expat": "libexpat1-dev", "crypt": "libcrypt-dev", "ffi": "libffi-dev"}


def find_compiler(target: Target) -> str:
    """The C compiler to use: $CC, the one the target was built with, or cc/gcc."""
    candidates = [os.environ.get("CC", ""), target.cc.split()[0] if target.cc else "", "cc", "gcc"]
    for name in candidates:
        if name and shutil.which(name):
            return name
    raise BuildError("no C compiler found: install one (Debian: apt-get install gcc) or set CC")


def launcher_for(target: Target, cache_dir: Path) -> Path:
    """The launcher executable for ``target``, from the cache or freshly built."""
    compiler = find_compiler(target)
    libs = _link_libraries(target)
    sources = [SOURCE.read_text(), *(SOURCE.with_name(name).read_text() for name in _OTHER_SOURCES)]
    key = hashlib.sha256("\n".join([*sources, target.build_identity, compiler, *_CFLAGS, *libs]).encode()).hexdigest()[
        :32
    ]
    cached = cache_dir / "launchers" / f"{target.short_version}-{key}"
    if cached.is_file():
        with contextlib.suppress(OSError):
            os.utime(cached)  # its last use: what _forget_unused() goes by
        return cached
    cached.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cached.parent) as tmp:
        out = Path(tmp) / "launcher"
        _compile(compiler, target, libs, out)
        _check_dependencies(out)
        os.replace(out, cached)
    _forget_unused(cached.parent)
    return cached


def deflated_launcher_for(target: Target, cache_dir: Path) -> Path:
    """What leads an executable built with --compress, from the cache or freshly made: the
    unpacker, the launcher deflated, padding to a page and the footer (onebin_stub.h)."""
    launcher = launcher_for(target, cache_dir)
    compiler = find_compiler(target)
    stub_sources = [STUB.with_name(name).read_text() for name in _STUB_SOURCES]
    key = hashlib.sha256("\n".join([*stub_sources, compiler, *_CFLAGS, launcher.name]).encode()).hexdigest()[:32]
    cached = cache_dir / "launchers" / f"{target.short_version}-{key}-deflated"
    if cached.is_file():
        with contextlib.suppress(OSError):
            os.utime(cached)
        return cached
    with tempfile.TemporaryDirectory(dir=cached.parent) as tmp:
        stub = Path(tmp) / "stub"
        _compile_stub(compiler, stub)
        _check_dependencies(stub)
        lead = stub.read_bytes()
        data = launcher.read_bytes()
        packed = pack_blocks(data, _STUB_BLOCK, lambda block: zlib.compress(block, 9))
        padding = bytes(-(len(lead) + len(packed) + _STUB_FOOTER_SIZE) % _PAGE)
        footer = _STUB_FOOTER_MAGIC + b"".join(n.to_bytes(8, "little") for n in (len(lead), len(packed), len(data)))
        out = Path(tmp) / "deflated"
        out.write_bytes(lead + packed + padding + footer)
        os.replace(out, cached)
    return cached


def launcher_files(lead: bytes) -> tuple[bytes, ...]:
    """The ELF files in what precedes an executable's payload: the launcher, or (--compress)
    the unpacker and the launcher inflated; raises ValueError if a deflated one is damaged."""
    footer = lead[-_STUB_FOOTER_SIZE:]
    if len(lead) < _STUB_FOOTER_SIZE or footer[:8] != _STUB_FOOTER_MAGIC:
        return (lead,)
    at, size, unpacked = (int.from_bytes(footer[i : i + 8], "little") for i in (8, 16, 24))
    try:
        launcher = unpack_blocks(lead[at : at + size], unpacked, _STUB_BLOCK, lambda block, _: zlib.decompress(block))
    except PayloadError:
        raise ValueError("its deflated launcher cannot be inflated") from None
    return lead[:at], launcher


def _compile_stub(compiler: str, out: Path) -> None:
    command = [
        compiler,
        *_CFLAGS,
        "-Wno-unused-function",
        "-pthread",
        str(STUB),
        "-o",
        str(out),
        "-Wl,-Bstatic",
        "-lz",
        "-Wl,-Bdynamic",
        "-s",
    ]
    proc = subprocess.run(command, capture_output=True, text=True)
    if proc.returncode == 0:
        return
    if not any(Path(d, "libz.a").is_file() for d in _STATIC_DIRS) or "zlib.h" in proc.stderr:
        raise BuildError(
            "--compress needs zlib's header and static library for the launcher's unpacker: install "
            "zlib1g-dev (Debian, Ubuntu) or zlib-devel and zlib-static (Fedora), or build without --compress"
        )
    raise BuildError(f"compiling the launcher's unpacker ({STUB.name}) failed:\n{proc.stderr.strip()[-2000:]}")


_UNUSED_DAYS = 30


def _forget_unused(directory: Path) -> None:
    """Removes the launchers that no build used for _UNUSED_DAYS days (one is left behind by
    each onebin version, and by each interpreter no longer built for): 5 to 7 MB each."""
    limit = time.time() - _UNUSED_DAYS * 86400
    for path in directory.iterdir():
        with contextlib.suppress(OSError):
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()


def _link_libraries(target: Target) -> list[str]:
    """Linker arguments for what libpython needs: glibc's libraries shared, others static."""
    args: list[str] = []
    for flag in target.link_libs:
        if not flag.startswith("-l") or flag in args:
            continue  # -L and -rpath of the build machine have no place in the launcher
        name = flag[2:]
        if name in _GLIBC_LINK_NAMES:
            args.append(flag)
        elif any(Path(d, f"lib{name}.a").is_file() for d in _STATIC_DIRS):
            args += ["-Wl,-Bstatic", flag, "-Wl,-Bdynamic"]
        else:
            args += ["-Wl,--as-needed", flag, "-Wl,--no-as-needed"]
    return args


def _compile(compiler: str, target: Target, libs: list[str], out: Path) -> None:
    sources = [str(SOURCE), *(str(SOURCE.with_name(name)) for name in ("onebin_internal.c", "onebin_missing.c"))]
    base = [compiler, *_CFLAGS, f"-I{target.include}", *sources, "-o", str(out), "-Wl,--export-dynamic"]
    archive = ["-Wl,--whole-archive", str(target.static_library), "-Wl,--no-whole-archive"]
    tail = [*libs, "-lm", "-ldl", "-lpthread", "-lutil", "-s"]
    # Not position-independent, as Debian builds its python3: a PIE would make the dynamic
    # loader relocate ~36,000 pointers in libpython's data (and copy their pages) at every start.
    attempts = [base + ["-fno-pie", "-no-pie"] + archive + tail, base + ["-fPIE", "-pie"] + archive + tail]
    errors = []
    for command in attempts:
        proc = subprocess.run(command, capture_output=True, text=True)
        if proc.returncode == 0:
            return
        errors.append(proc.stderr.strip())
    raise BuildError(
        f"compiling the launcher against {target.static_library} failed:\n{errors[-1][-2000:]}\n"
        "Check that the C compiler works and that the target's development files are complete."
    )


def _check_dependencies(path: Path) -> None:
    info = elf.read(path.read_bytes())
    foreign = [name for name in info.needed if name not in natives.GLIBC]
    if foreign:
        hints = ", ".join(_DEV_PACKAGES.get(n[3:].split(".so")[0], f"the static archive of {n}") for n in foreign)
        raise BuildError(
            f"the launcher would need {', '.join(foreign)}, which a machine without Python may lack: "
            f"install {hints} so that it can be linked statically"
        )
