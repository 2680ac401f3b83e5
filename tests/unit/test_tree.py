"""Module discovery follows FileFinder's ranking; the tree walk is sorted and skips caches."""

from __future__ import annotations

from pathlib import Path

from onebin._runtime.bundle import EXTENSION, NAMESPACE, PACKAGE, SOURCE
from onebin.tree import Tree

SUFFIX = ".cpython-311-x86_64-linux-gnu.so"


def _tree(files: list[str]) -> Tree:
    tree = Tree(roots=["lib/site"])
    for name in files:
        tree.files[f"lib/site/{name}"] = b""
    return tree


def test_ranks_packages_then_extensions_then_sources() -> None:
    tree = _tree(["pkg/__init__.py", "pkg.py", f"fast{SUFFIX}", "fast.py", "plain.py", "ns/data.txt"])
    modules = tree.modules(SUFFIX)
    assert modules["lib/site/pkg"] == (PACKAGE, "lib/site/pkg/__init__.py")
    assert modules["lib/site/fast"] == (EXTENSION, f"lib/site/fast{SUFFIX}")
    assert modules["lib/site/plain"] == (SOURCE, "lib/site/plain.py")
    assert modules["lib/site/ns"] == (NAMESPACE, "lib/site/ns")


def test_directories_that_import_cannot_reach_hold_no_modules() -> None:
    tree = _tree(["numpy.libs/libopenblas.so", "x-1.0.dist-info/METADATA", "pkg/__init__.py", "pkg/sub/mod.py"])
    modules = tree.modules(SUFFIX)
    assert not any("numpy.libs" in key or "dist-info" in key for key in modules)
    assert modules["lib/site/pkg/sub/mod"] == (SOURCE, "lib/site/pkg/sub/mod.py")


def test_directories_include_roots_and_parents() -> None:
    tree = _tree(["a/b/c.py"])
    assert list(tree.directories()) == ["lib/site", "lib/site/a", "lib/site/a/b"]


def test_script_neighbours_skip_hidden_directories_and_venvs(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("")
    (tmp_path / "util.py").write_text("")
    (tmp_path / "notes.txt").write_text("")
    for name in ("pkg", ".hidden", "venv"):
        (tmp_path / name).mkdir()
        (tmp_path / name / "__init__.py").write_text("")
    (tmp_path / "venv" / "pyvenv.cfg").write_text("")
    # an extension module built in place for the target is a module too; a library is not
    for name in ("fast.cpython-311-x86_64-linux-gnu.so", "other.cpython-312-x86_64-linux-gnu.so", "libx.so.1"):
        (tmp_path / name).write_bytes(b"\x7fELF")
    tree = Tree()
    suffixes = (".cpython-311-x86_64-linux-gnu.so", ".abi3.so")
    neighbours = tree._add_neighbours(tmp_path / "app.py", suffixes)
    assert neighbours == ["app.py", "fast.cpython-311-x86_64-linux-gnu.so", "pkg/", "util.py"]
