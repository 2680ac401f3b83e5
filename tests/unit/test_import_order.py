"""The list of what the launcher prepares ahead: the modules the entry point's imports reach,
in the order the import system runs them, and the section that carries it."""

from __future__ import annotations

from onebin import _compile_worker
from onebin._runtime import bundle as fmt
from onebin.ahead import STARTUP, ImportOrder
from onebin.payload import AHEAD_CODE, AHEAD_NATIVE, AHEAD_SHARED, _from_memory, ahead_section

SP = "lib/python3.12/site-packages"
MODULES = {
    f"{SP}/pkg": (fmt.PACKAGE, f"{SP}/pkg/__init__.py"),
    f"{SP}/pkg/core": (fmt.SOURCE, f"{SP}/pkg/core.py"),
    f"{SP}/pkg/_speed": (fmt.EXTENSION, f"{SP}/pkg/_speed.so"),
    f"{SP}/pkg/lazy": (fmt.SOURCE, f"{SP}/pkg/lazy.py"),
    f"{SP}/other": (fmt.SOURCE, f"{SP}/other.py"),
    "lib/python3.12/os": (fmt.SOURCE, "lib/python3.12/os.py"),
}
IMPORTS = {
    f"{SP}/pkg/__init__.py": [(0, "other", ()), (1, "core", ("thing",))],
    f"{SP}/pkg/core.py": [(0, "os", ()), (2, "", ("x",)), (1, "", ("_speed",))],
    f"{SP}/other.py": [(0, "pkg.core", ())],  # a cycle: pkg is being imported already
}
PRELOAD = {f"{SP}/pkg/_speed.so": ("lib/libz.so.1", ("libs/a.so", "libs/b.so"))}


def _order(main_imports, elsewhere=frozenset()):
    walk = ImportOrder(MODULES, ["lib/python3.12", SP], IMPORTS, PRELOAD, elsewhere)
    return [name for _, name in walk.files(main_imports) if not name.startswith("lib/python3.12/encodings")]


def test_the_order_is_the_import_systems() -> None:
    assert _order([(0, "pkg.core", ("run",))]) == [
        f"{SP}/pkg",  # a package runs before its submodules
        f"{SP}/other",  # and what it imports first, depth first
        f"{SP}/pkg/core",
        "lib/python3.12/os",
        "lib/libz.so.1",  # an extension's libraries, in load order, then the extension
        "libs/a.so",
        "libs/b.so",
        f"{SP}/pkg/_speed.so",
    ]


def test_what_is_built_in_or_frozen_is_left_out() -> None:
    assert "lib/python3.12/os" not in _order([(0, "pkg", ())], frozenset({"os"}))
    assert _order([(0, "nowhere", ())]) == []


def test_startup_modules_come_first() -> None:
    modules = {f"lib/python3.12/{name.replace('.', '/')}": (fmt.SOURCE, name) for name in STARTUP}
    walk = ImportOrder(modules, ["lib/python3.12"], {}, {})
    assert [name for _, name in walk.files([])] == [f"lib/python3.12/{n.replace('.', '/')}" for n in STARTUP]


def test_the_section_lists_blobs_by_offset_in_import_order() -> None:
    blobs = [
        (True, "b.py", (300, 10, 7)),
        (False, "libs/a.so", (100, 50, 8, fmt.LZ4, 120)),
        (True, "again.py", (300, 10, 7)),  # the same blob: listed once
        (True, "src.py", (500, 10, 9, fmt.ZLIB)),  # deflated: left to the imports
        (False, "libs/linked.so", (200, 5, 6)),
    ]
    data = ahead_section(blobs, {"libs/linked.so": ()}, least=0)
    count = int.from_bytes(data[:4], "little")
    assert count == 3
    records = [data[8 + 40 * i : 48 + 40 * i] for i in range(count)]
    offsets = [int.from_bytes(r[:8], "little") for r in records]
    assert offsets == [100, 200, 300]
    kinds = [int.from_bytes(r[32:36], "little") for r in records]
    assert kinds == [AHEAD_SHARED, AHEAD_NATIVE, AHEAD_CODE]
    assert int.from_bytes(records[0][24:32], "little") == 120  # the unpacked size
    order = [int.from_bytes(data[8 + 40 * count + 4 * k : 12 + 40 * count + 4 * k], "little") for k in range(3)]
    assert order == [2, 0, 1]  # b.py, then libs/a.so, then libs/linked.so
    names = data[8 + 44 * count :]
    assert [names[int.from_bytes(r[36:40], "little") :].split(b"\0")[0] for r in records] == [
        b"libs/a.so",
        b"libs/linked.so",
        b"b.py",
    ]


def test_the_imports_that_run_with_a_module() -> None:
    source = """\
import os, sys
from . import sibling
if os.environ.get("GPU"):
    import cupy
else:
    import numpy
try:
    import ujson as json
except ImportError:
    import json
from typing import TYPE_CHECKING
if TYPE_CHECKING:
    import typeonly
if __name__ == "__main__":
    from .cli import main
def later():
    import inside
"""
    code = compile(source, "m.py", "exec")
    always, as_main, main_offsets = _compile_worker._imports(code)
    assert always == [
        (0, "os", ()),
        (0, "sys", ()),
        (1, "", ("sibling",)),
        (0, "numpy", ()),  # an else branch runs unless the if one does
        (0, "ujson", ()),
        (0, "typing", ("TYPE_CHECKING",)),
    ]
    assert as_main == [(1, "cli", ("main",))]  # when it runs as __main__ only
    # What it may import, for --trim-stdlib: conditional and lazy imports too, not __main__'s.
    assert _compile_worker._imported(code, main_offsets) == [
        (0, "cupy", ()),
        (0, "inside", ()),
        (0, "json", ()),
        (0, "numpy", ()),
        (0, "os", ()),
        (0, "sys", ()),
        (0, "typeonly", ()),
        (0, "typing", ("TYPE_CHECKING",)),
        (0, "ujson", ()),
        (1, "", ("sibling",)),
    ]


def test_the_modules_named_to_import_module() -> None:
    source = """import importlib
def codec(name):
    return importlib.import_module("json"), importlib.import_module(f"encodings.{name}"), "not a-name"
def other():
    return "csv"
"""
    code = compile(source, "m.py", "exec")
    imported = _compile_worker._imported(code, _compile_worker._imports(code)[2])
    assert imported == [(0, "importlib", ()), (0, "json", ())]  # not "csv": other() imports nothing


def test_imports_under_the_main_guard_count_only_for_the_module_run_as_main() -> None:
    guarded = {f"{SP}/other.py": [(0, "os", ())]}
    as_library = ImportOrder(MODULES, ["lib/python3.12", SP], {}, {}, as_main=("", guarded))
    assert [name for _, name in as_library.files([(0, "other", ())])][-1] == f"{SP}/other"
    run_by_name = ImportOrder(MODULES, ["lib/python3.12", SP], {}, {}, as_main=("other", guarded))
    assert [name for _, name in run_by_name.files([(0, "other", ())])][-2:] == [f"{SP}/other", "lib/python3.12/os"]


def test_too_little_work_writes_an_empty_section() -> None:
    blobs = [(True, "a.py", (0, 100, 1)), (False, "libs/a.so", (100, 50, 2, fmt.LZ4, 1000))]
    assert ahead_section(blobs, {}, least=1101) == b""
    assert ahead_section(blobs, {}, least=1100) != b""


def test_natives_that_load_from_a_written_package_are_left_out() -> None:
    # pkg/core.py reads a data file beside it: importing it writes pkg to the cache, and the
    # extensions of pkg imported after it load from there (Cache.real_path), not from memfds.
    walk = [
        (True, f"{SP}/pkg"),
        (False, f"{SP}/pkg/_early.so"),
        (True, f"{SP}/pkg/core"),
        (False, f"{SP}/pkg/_speed.so"),
    ]
    walk.append((False, "lib/libz.so.1"))  # outside any written package
    listed = _from_memory(iter(walk), MODULES, {f"{SP}/pkg/core.py": (f"{SP}/pkg",)}, ("lib/python3.12", SP))
    assert [name for _, name in listed] == [f"{SP}/pkg", f"{SP}/pkg/_early.so", f"{SP}/pkg/core", "lib/libz.so.1"]
