"""The file tree inside an executable: the stdlib, site-packages and the app, under a prefix.

Paths are relative to the executable, which stands for an installation prefix::

    app/                          a script and its neighbours (first on sys.path)
    lib/python3.X/                the stdlib
    lib/python3.X/lib-dynload/    its extension modules
    lib/python3.X/site-packages/  the installed distributions
    lib/                          shared libraries they need from this machine
"""

from __future__ import annotations

import csv
import io
import os
import posixpath
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

from . import elf
from ._runtime.bundle import EXTENSION, EXTENSION_PACKAGE, NAMESPACE, PACKAGE, SCRIPT_WRAPPERS, SOURCE, pack_wrappers
from .entry import SCRIPT_ROOT, runs_with_python, script_wrappers
from .target import Target

# The stdlib's own test suites are left out; nothing else is.
_STDLIB_TEST_DIRS = frozenset(["test", "tests", "idle_test"])
_STDLIB_SKIP_TOP = frozenset(["site-packages", "dist-packages", "lib-dynload", "__pycache__"])
_TEST_EXTENSIONS = ("_test", "_xxtest", "xxlimited", "_ctypes_test", "xxsubtype")


@dataclass
class Tree:
    """Files by bundle-relative path, with the sys.path roots in order."""

    files: dict[str, Path | bytes] = field(default_factory=dict)
    roots: list[str] = field(default_factory=list)
    app_files: list[str] = field(default_factory=list)
    prefix_data: set[str] = field(default_factory=set)  # top directories of data under the prefix

    @classmethod
    def assemble(cls, target: Target, site_packages: Path, script: Path | None) -> Tree:
        tree = cls()
        stdlib = target.stdlib_root
        if script is not None:
            tree.roots.append(SCRIPT_ROOT)
            tree.app_files = tree._add_neighbours(script, (target.ext_suffix, ".abi3.so"))
        tree.roots += [stdlib, f"{stdlib}/lib-dynload", f"{stdlib}/site-packages"]
        tree._add_walk(stdlib, target.stdlib, _STDLIB)
        for so in sorted(target.dynload.glob("*.so")):
            if not so.name.startswith(_TEST_EXTENSIONS):
                tree.files[f"{stdlib}/lib-dynload/{so.name}"] = so
        tree._add_walk(f"{stdlib}/site-packages", site_packages, _SITE_PACKAGES)
        tree._move_prefix_data(f"{stdlib}/site-packages", site_packages)
        programs = [relpath.partition("/")[2] for relpath in tree.files if relpath.startswith("bin/")]
        wrappers = script_wrappers(site_packages, programs)
        if wrappers:
            tree.files[SCRIPT_WRAPPERS] = pack_wrappers(wrappers)
        return tree

    def _move_prefix_data(self, root: str, site_packages: Path) -> None:
        """Puts the data that wheels install outside site-packages (a wheel's ``.data/data``:
        jupyter's ``share/jupyter``, which holds nbconvert's templates) where a venv has it:
        under the prefix, which is the executable. pip's ``--target`` leaves it beside the
        packages, and its RECORD names it relative to that scheme (``../../share/...``);
        the bundle's RECORD names it as a venv's does (``../../../share/...``). So do the
        programs a wheel installs in ``bin/`` that are not Python scripts (ruff's and uv's
        binaries, from ``.data/scripts``); the console scripts' wrappers, which name the build
        machine's python, stay out (the executable runs its entry points itself)."""
        for record in sorted(site_packages.glob("*.dist-info/RECORD")):
            rows = list(csv.reader(record.read_text(encoding="utf-8", errors="replace").splitlines()))
            outside = [
                row for row in rows if row and row[0].startswith("../../") and not row[0].startswith("../../../")
            ]
            if not outside:
                continue
            for row in outside:
                inner = row[0][len("../../") :]
                moved = self.files.pop(f"{root}/{inner}", None)
                program = site_packages / inner
                if moved is None and inner.startswith("bin/") and runs_with_python(program) is False:
                    moved = program
                if moved is not None:
                    self.files[inner] = moved
                    self.prefix_data.add(inner.partition("/")[0])
                row[0] = "../" + row[0]
            text = io.StringIO()
            csv.writer(text, lineterminator="\n").writerows(rows)
            self.files[f"{root}/{record.parent.name}/RECORD"] = text.getvalue().encode()
        # Not the directories that hold sys.path's roots (lib/): a path made from sys.prefix and
        # "lib" names the stdlib, which stays where it is.
        self.prefix_data -= {r.partition("/")[0] for r in self.roots}

    def exclude(self, module: str, roots: Iterable[str] | None = None) -> list[str]:
        """Removes the module or package ``module`` (dotted) from every root (or those given);
        returns what went."""
        parts = module.replace(".", "/")
        gone = []
        for root in self.roots if roots is None else roots:
            base = f"{root}/{parts}"
            for relpath in list(self.files):
                stem, dot, _ = relpath.rpartition("/")[2].partition(".")
                is_module_file = relpath.rpartition("/")[0] + "/" + stem == base and dot
                if relpath.startswith(base + "/") or is_module_file:
                    del self.files[relpath]
                    gone.append(relpath)
        return gone

    def add_directory(self, relpath: str, directory: Path) -> None:
        """Adds every file under ``directory`` but hidden ones and caches, at ``relpath``."""
        self._add_walk(relpath, directory, _HIDDEN)

    def _add_walk(self, root: str, directory: Path, skip: _Filter) -> None:
        for relative, path in _walk(directory, skip):
            self.files[f"{root}/{relative}"] = path

    def _add_neighbours(self, script: Path, ext_suffixes: tuple[str, ...]) -> list[str]:
        """The script, the modules beside it (.py files, and extension modules built for the
        target, as ``build_ext --inplace`` or ``cythonize -i`` leave them), and the package
        directories beside it."""
        directory = script.parent
        added = []
        for child in sorted(directory.iterdir()):
            if child.name.startswith(".") or child.name == "__pycache__":
                continue
            is_extension = child.name.endswith(ext_suffixes) and child.name.partition(".")[0].isidentifier()
            if child.is_file() and (child.suffix == ".py" or is_extension):
                self.files[f"{SCRIPT_ROOT}/{child.name}"] = child
                added.append(child.name)
            elif child.is_dir() and _is_package_dir(child):
                self._add_walk(f"{SCRIPT_ROOT}/{child.name}", child, _SITE_PACKAGES)
                added.append(child.name + "/")
        return added

    def directories(self) -> dict[str, int]:
        """Every directory holding a file, and every root, sorted."""
        dirs = set(self.roots)
        for relpath in self.files:
            parent = relpath.rpartition("/")[0]
            while parent and parent not in dirs:
                dirs.add(parent)
                parent = parent.rpartition("/")[0]
        return dict.fromkeys(sorted(dirs), 0)

    def modules(self, ext_suffix: str) -> dict[str, tuple[int, str]]:
        """ "<dir>/<name>" -> (kind, relpath) for what ``import`` finds, as FileFinder ranks it."""
        suffixes = [(ext_suffix, EXTENSION), (".abi3.so", EXTENSION), (".so", EXTENSION), (".py", SOURCE)]
        found: dict[str, tuple[int, str]] = {}
        dirs = self.directories()
        for directory in dirs:  # sorted, so a parent comes before its children
            parent = directory.rpartition("/")[0]
            if not (parent in self.roots or parent in found):
                continue  # not reachable by import
            if "." in directory.rpartition("/")[2]:
                continue  # not a module name (e.g. a *.dist-info directory)
            found[directory] = self._package(directory, ext_suffix)
        for relpath in self.files:
            directory, _, filename = relpath.rpartition("/")
            if not (directory in self.roots or directory in found and found[directory][0] != EXTENSION):
                continue  # not a directory that import can reach (e.g. numpy.libs)
            for suffix, kind in suffixes:
                if filename.endswith(suffix):
                    name = filename[: -len(suffix)]
                    key = f"{directory}/{name}"
                    if name and "." not in name and _outranks(kind, suffix, found.get(key), suffixes):
                        found[key] = (kind, relpath)
                    break
        return dict(sorted(found.items()))

    def owners(self) -> dict[str, str]:
        """Bundle path -> "name version" of the distribution whose RECORD lists it."""
        owners: dict[str, str] = {}
        for relpath in self.files:
            directory, _, name = relpath.rpartition("/")
            if name == "RECORD" and directory.endswith(".dist-info"):
                root = directory.rpartition("/")[0]
                dist = " ".join(directory.rpartition("/")[2][: -len(".dist-info")].split("-")[:2])
                for row in csv.reader(_read(self.files[relpath]).decode("utf-8", "replace").splitlines()):
                    if row:
                        owners.setdefault(posixpath.normpath(f"{root}/{row[0]}"), dist)
        return owners

    def _package(self, directory: str, ext_suffix: str) -> tuple[int, str]:
        """A directory's entry: its __init__ as FileFinder ranks them (extension first)."""
        for suffix in (ext_suffix, ".abi3.so", ".so"):
            if f"{directory}/__init__{suffix}" in self.files:
                return EXTENSION_PACKAGE, f"{directory}/__init__{suffix}"
        if f"{directory}/__init__.py" in self.files:
            return PACKAGE, f"{directory}/__init__.py"
        return NAMESPACE, directory

    def native_files(self) -> Iterator[tuple[str, Path | bytes]]:
        """The ELF shared objects in the tree."""
        for relpath, source in self.files.items():
            if relpath.endswith(".so") or ".so." in relpath:
                head = source[:18] if isinstance(source, bytes) else _head(source)
                if elf.is_shared_object(head):
                    yield relpath, source


def _outranks(kind: int, suffix: str, current: tuple[int, str] | None, suffixes: list[tuple[str, int]]) -> bool:
    if current is None or current[0] == NAMESPACE:
        return True
    if current[0] in (PACKAGE, EXTENSION_PACKAGE):
        return False
    order = [s for s, _ in suffixes]
    current_suffix = next(s for s in order if current[1].endswith(s))
    return order.index(suffix) < order.index(current_suffix)


def _read(source: Path | bytes) -> bytes:
    return source if isinstance(source, bytes) else source.read_bytes()


def _head(path: Path) -> bytes:
    with open(path, "rb") as f:
        return f.read(18)


def _is_package_dir(directory: Path) -> bool:
    if (directory / "pyvenv.cfg").exists():
        return False
    return (directory / "__init__.py").is_file()


@dataclass(frozen=True)
class _Filter:
    """What a walk leaves out: directories by name (at the top, or anywhere) and file suffixes."""

    top: frozenset[str] = frozenset()
    top_prefixes: tuple[str, ...] = ()
    anywhere: frozenset[str] = frozenset(["__pycache__"])
    suffixes: tuple[str, ...] = (".pyc",)
    hidden: bool = False

    def skips_dir(self, name: str, at_top: bool) -> bool:
        return (
            name in self.anywhere
            or (at_top and (name in self.top or name.startswith(self.top_prefixes)))
            or (self.hidden and name.startswith("."))
        )

    def skips_file(self, name: str) -> bool:
        return name.endswith(self.suffixes) or (self.hidden and name.startswith("."))


# The stdlib without its own test suites and without what is not the stdlib (site-packages,
# the build configuration with its static library); lib-dynload is added by itself.
_STDLIB = _Filter(
    top=_STDLIB_SKIP_TOP,
    top_prefixes=("config-",),
    anywhere=_STDLIB_TEST_DIRS | {"__pycache__"},
    suffixes=(".pyc", ".exe"),
)
_SITE_PACKAGES = _Filter(top=frozenset(["bin"]))
_HIDDEN = _Filter(hidden=True)


def _walk(directory: Path, skip: _Filter) -> Iterator[tuple[str, Path]]:
    """(relative path, path) of the files under ``directory``, sorted, following symlinks to
    files, pruning what ``skip`` leaves out."""

    def walk(path: str, prefix: str) -> Iterator[tuple[str, Path]]:
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError:
            return
        for entry in entries:
            if entry.is_dir():
                if not skip.skips_dir(entry.name, not prefix):
                    yield from walk(entry.path, f"{prefix}{entry.name}/")
            elif entry.is_file() and not skip.skips_file(entry.name):
                yield prefix + entry.name, Path(entry.path)

    yield from walk(str(directory), "")
