"""The target interpreter: the CPython whose stdlib, bytecode and libpython go into the executable."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from .cachedir import store
from .errors import TargetError
from .record import signature

MINIMUM = (3, 10)

# Runs under any Python, even 2.7, so that a too-old interpreter gets a clear message.
_PROBE = r"""
import json, sys, sysconfig
info = {"version": list(sys.version_info[:3]), "implementation": sys.implementation.name
        if hasattr(sys, "implementation") else "cpython", "executable": sys.executable}
if sys.version_info >= (3, 10):
    import importlib.util
    cv = sysconfig.get_config_var
    info.update(
        magic=importlib.util.MAGIC_NUMBER.hex(), ext_suffix=cv("EXT_SUFFIX"),
        stdlib=sysconfig.get_path("stdlib"), dynload=cv("DESTSHARED"), libpl=cv("LIBPL"),
        library=cv("LIBRARY"), include=cv("INCLUDEPY"), cc=cv("CC"),
        libs=" ".join(cv(k) or "" for k in ("LIBS", "SYSLIBS", "MODLIBS")),
        builtins=list(sys.builtin_module_names), multiarch=cv("MULTIARCH") or "",
        frozen=list(getattr(__import__("_imp"), "_frozen_module_names", list)()),
    )
print(json.dumps(info))
"""


@dataclass(frozen=True)
class Target:
    """What the builder needs to know about a target CPython."""

    executable: str
    version: tuple[int, int, int]
    magic: str
    ext_suffix: str
    stdlib: Path
    dynload: Path
    static_library: Path
    include: Path
    cc: str
    link_libs: tuple[str, ...]
    builtins: frozenset[str]
    frozen: frozenset[str]  # the stdlib modules it imports from its own frozen copies (3.11+)

    @property
    def short_version(self) -> str:
        return "%d.%d" % self.version[:2]

    @property
    def stdlib_root(self) -> str:
        """Where the stdlib appears inside the executable (as under a prefix)."""
        return "lib/python" + self.short_version

    @property
    def identity(self) -> str:
        """A string that changes whenever the interpreter's build does."""
        st = self.static_library.stat()
        return "%s|%s|%s|%d|%d" % (self.executable, self.version, self.magic, st.st_size, st.st_mtime_ns)

    @property
    def build_identity(self) -> str:
        """What a launcher is compiled from, however the interpreter is reached (each venv made
        from it, python or python3): its static library and headers, version and magic."""
        library = self.static_library.resolve()
        st = library.stat()
        return "%s|%s|%s|%s|%d|%d" % (
            library,
            self.include.resolve(),
            self.version,
            self.magic,
            st.st_size,
            st.st_mtime_ns,
        )

    @classmethod
    def find(cls, python: str | None, cache_dir: Path | None = None) -> Target:
        """Probes ``python`` (a path or a command name; default: the running interpreter), or
        takes what a probe of the same, unchanged interpreter found from ``cache_dir``."""
        path = _locate(python)
        info = _probe_cached(path, cache_dir / "targets") if cache_dir is not None else _probe(path)
        version = tuple(info["version"])
        if info["implementation"] != "cpython":
            raise TargetError(
                f"{path} is {info['implementation']}, not CPython: pass --python with a CPython 3.10 or newer"
            )
        if version < MINIMUM:
            raise TargetError(
                "%s is Python %s, which is too old: onebin needs CPython 3.10 or newer; "
                "pass --python with a newer interpreter" % (path, ".".join(map(str, version)))
            )
        static = Path(info["libpl"]) / info["library"]
        include = Path(info["include"])
        missing = [str(p) for p in (static, include / "Python.h") if not p.is_file()]
        if missing:
            raise TargetError(
                f"{path} has no static libpython or headers ({', '.join(missing)} missing): "
                "install its development files (Debian: apt-get install libpython3.X-dev) "
                "or use an interpreter built with them, such as pyenv's"
            )
        return cls(
            executable=info["executable"] or str(path),
            version=(version[0], version[1], version[2]),
            magic=info["magic"],
            ext_suffix=info["ext_suffix"],
            stdlib=Path(info["stdlib"]),
            dynload=Path(info["dynload"]),
            static_library=static,
            include=include,
            cc=info["cc"] or "cc",
            link_libs=tuple(info["libs"].split()),
            builtins=frozenset(info["builtins"]),
            frozen=frozenset(info["frozen"]),
        )


def _locate(python: str | None) -> Path:
    if python is None:
        return Path(sys.executable)
    if os.sep in python:
        path = Path(python)
        if not path.exists():
            raise TargetError(f"--python {python}: no such file; pass the path of a CPython 3.10+ interpreter")
        return path
    found = shutil.which(python)
    if found is None:
        raise TargetError(f"--python {python}: no such command on PATH; pass the path of a CPython 3.10+ interpreter")
    return Path(found)


def _probe_cached(path: Path, directory: Path) -> dict:  # type: ignore[type-arg]
    """A probe's result, kept under what identifies the interpreter file and its venv: a
    probe runs the interpreter, which takes 100 ms of a rebuild on a slow CPU."""
    real = path.resolve()
    venv = path.absolute().parent.parent / "pyvenv.cfg"
    parts = [str(path.absolute()), str(real), signature(real), signature(venv)]
    entry = directory / (hashlib.sha256(repr(parts).encode()).hexdigest()[:32] + ".json")
    try:
        found = json.loads(entry.read_text())
        if isinstance(found, dict) and found.get("identity") == parts:
            return found["info"]  # type: ignore[no-any-return]
    except (OSError, ValueError, KeyError):
        pass
    info = _probe(path)
    if info.get("implementation") == "cpython" and tuple(info["version"]) >= MINIMUM:
        store(entry, json.dumps({"identity": parts, "info": info}).encode())
    return info


def _probe(path: Path) -> dict:  # type: ignore[type-arg]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}
    try:
        proc = subprocess.run([str(path), "-c", _PROBE], capture_output=True, text=True, env=env, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise TargetError(
            f"--python {path}: cannot run it ({exc}); pass the path of a CPython 3.10+ interpreter"
        ) from None
    try:
        info = json.loads(proc.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        info = None
    if proc.returncode != 0 or not isinstance(info, dict):
        raise TargetError(
            f"--python {path}: this is not a Python interpreter; pass the path of a CPython 3.10+ interpreter"
        )
    return info
