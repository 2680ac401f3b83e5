"""Which data files a module reaches by path.

A module that reads ``__file__`` and names a file or directory beside it (``"data.json"``,
``"templates"``, ``"locale/x.mo"``), in its own directory or one above it, opens data by path.
So does one that names a data directory in its own directory without ``__file__``: it finds it
through its package's ``__path__`` (jinja2's ``PackageLoader(__name__, "templates")``). Those
modules get real files at run time (see ``_runtime/cache.py``); the rest of the bundle stays in
memory. So do the modules whose import hands their own directory to other code (a Sphinx
theme's, or ``os.listdir(__path__[0])``); a function that does so has its package written when
first called (``_compile_worker._handouts``). The rule looks at code only, never at package names.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Collection, Iterable, Mapping, Sequence
from pathlib import Path

from ._runtime.cache import unit_of
from .entry import SCRIPT_ROOT

_CODE_SUFFIXES = (".py", ".pyc")
HANDS_OUT_DIRECTORY = "<directory>"  # first in a module's names: its import hands out its directory
READ_WHEN_CALLED = "<called>"  # first in a module's names: only functions that write first read its paths


def referenced(
    relpath: str,
    names: Sequence[str],
    files: Collection[str],
    dirs: Collection[str],
    roots: Collection[str],
    holders: Collection[str] = (),
    listing: Mapping[str, Sequence[str]] | None = None,
) -> set[str]:
    """The bundle paths of the data entries that ``names`` name, looked up beside ``relpath``,
    and above it for a module that reads ``__file__`` or ``__path__`` (``names`` then starts
    with "__file__", "__path__" or both; before those, "<directory>" for one whose import hands
    out its own directory, which needs its own package written). One that reads ``__file__`` names data files and
    directories; one that reads a package's ``__path__`` may name instead another package that
    holds a data directory (``holders``; django's ``conf``, holding its project templates).
    A name with format placeholders names the data files it matches (``listing``: each
    directory's file names): parso's ``"grammar%s%s.txt" % version_info[:2]``."""
    if names[:1] == [HANDS_OUT_DIRECTORY]:  # its directory must be real: its package is written
        return {relpath} | referenced(relpath, names[1:], files, dirs, roots, holders, listing)
    if names[:1] == [READ_WHEN_CALLED]:  # its functions write what they read when called
        return set()
    directory = relpath.rpartition("/")[0]
    markers = {n for n in names[:2] if n in ("__file__", "__path__")}
    names = names[len(markers) :]
    if not markers:  # a name that is also a module's beside it names the module (onnx's __all__)
        return {
            f"{directory}/{n}"
            for n in names
            if "/" not in n and _is_data_dir(f"{directory}/{n}", files, dirs) and f"{directory}/{n}.py" not in files
        }
    root = max((r for r in roots if relpath.startswith(r + "/")), key=len, default="")
    found = set()
    for name in names:
        first = _first_component(name)
        if first in ("", ".", "..") or "\n" in first:
            continue
        pattern = _pattern(first) if listing is not None and "__file__" in markers else None
        if pattern is not None and listing is not None:
            unit = unit_of(relpath, tuple(roots))
            found.update(_matching(pattern, unit, listing, files, dirs, below=unit not in roots))
            continue
        directory = relpath.rpartition("/")[0]
        while directory and directory.startswith(root):
            candidate = f"{directory}/{first}"
            if (
                "__file__" in markers
                and _is_data(candidate, files, dirs)
                and not _installation_file(candidate, files, roots)
            ) or ("__path__" in markers and candidate in holders and not relpath.startswith(candidate + "/")):
                found.add(candidate)
                break
            if directory == root:
                break
            directory = directory.rpartition("/")[0]
    return found


_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[sdr]|\{[^{}]*\}")


def _pattern(name: str) -> re.Pattern[str] | None:
    """The file names ``name`` matches once its format placeholders are filled, if it has
    some and at least three other characters: ``grammar%s%s.txt``, ``{lang}.json``."""
    parts = _PLACEHOLDER.split(name)
    if len(parts) < 2 or sum(map(len, parts)) < 3:
        return None
    return re.compile(".+".join(map(re.escape, parts)))


def _matching(
    pattern: re.Pattern[str],
    unit: str,
    listing: Mapping[str, Sequence[str]],
    files: Collection[str],
    dirs: Collection[str],
    below: bool = True,
) -> list[str]:
    """The data files anywhere in ``unit`` (a top-level package) whose names match ``pattern``:
    a formatted name is joined to subdirectories that other names give (parso's ``python``).
    Not ``below`` it for a module directly in a sys.path root: the root's other packages are
    not its data (pydoc's ``'%s.html'`` names no package's templates)."""
    return [
        f"{directory}/{name}"
        for directory, names in listing.items()
        if directory == unit or (below and directory.startswith(unit + "/"))
        for name in names
        if pattern.fullmatch(name) and _is_data(f"{directory}/{name}", files, dirs)
    ]


def _first_component(name: str) -> str:
    """The first path component a string names, past the placeholders that a format string
    fills with the module's directory: ``"%s/base.yml" % os.path.dirname(__file__)``,
    ``"{}/templates".format(here)``, ``"%(dir)s/data"``."""
    parts = name.strip("/").split("/")
    while len(parts) > 1 and _is_placeholder(parts[0]):
        parts.pop(0)
    return parts[0]


def _is_placeholder(part: str) -> bool:
    if part.startswith("{") and part.endswith("}"):
        return True
    return part.startswith("%") and (part in ("%s", "%r") or (part.startswith("%(") and part.endswith(")s")))


def _installation_file(candidate: str, files: Collection[str], roots: Collection[str]) -> bool:
    """Whether ``candidate`` is a file directly in the stdlib's or site-packages' root: the
    installation's, no module's data. The stdlib's ``LICENSE.txt``, which site.py names for
    ``license()`` beside ``os.__file__``, had ``import site`` write the stdlib's 172 top-level
    files on Python 3.10 (in every child process a spawn or ``sys.executable`` starts). A
    script's neighbours are its own data."""
    directory = candidate.rpartition("/")[0]
    return candidate in files and directory in roots and directory != SCRIPT_ROOT


def _is_data_dir(candidate: str, files: Collection[str], dirs: Collection[str]) -> bool:
    return candidate in dirs and f"{candidate}/__init__.py" not in files and not candidate.endswith("__pycache__")


def _is_data(candidate: str, files: Collection[str], dirs: Collection[str]) -> bool:
    if candidate in files:
        return not candidate.endswith(_CODE_SUFFIXES)
    return candidate in dirs and f"{candidate}/__init__.py" not in files


def data_holders(files: Collection[str], dirs: Collection[str]) -> set[str]:
    """The package directories that directly hold a data directory: naming one of them, with
    the module's location in hand, is how code reaches the data inside."""
    return {
        d.rpartition("/")[0]
        for d in dirs
        if _is_data_dir(d, files, dirs) and f"{d.rpartition('/')[0]}/__init__.py" in files
    }


def _exposed_packages(names_of: Mapping[str, list[str]], roots: tuple[str, ...]) -> set[str]:
    """The top-level packages whose ``__init__`` reads ``__file__``: their directory, which
    their modules may import from it (sphinx's ``package_dir``), leads to their data."""
    exposed = set()
    for relpath, names in names_of.items():
        directory, _, name = relpath.rpartition("/")
        if name == "__init__.py" and "__file__" in names[:2] and unit_of(relpath, roots) == directory:
            exposed.add(directory)
    return exposed


def _named_below(top: str, names: Sequence[str], files: Collection[str], dirs: Collection[str]) -> set[str]:
    """The data directories directly in the package ``top`` that ``names`` name together with
    something in them: ``os.path.join(package_dir, "templates", "quickstart", ...)`` (two names
    that spell a path are evidence enough; one common word alone, "doc", is not)."""
    components = {part for name in names for part in name.strip("/").split("/") if part}
    found = set()
    for name in components:
        directory = f"{top}/{name}"
        if _is_data_dir(directory, files, dirs) and any(
            f"{directory}/{c}" in files or f"{directory}/{c}" in dirs for c in components
        ):
            found.add(directory)
    return found


def materialize_map(
    names_of: Mapping[str, list[str]],
    files: Collection[str],
    dirs: Collection[str],
    roots: tuple[str, ...],
    joined_of: Mapping[str, Sequence[str]] | None = None,
) -> dict[str, tuple[str, ...]]:
    """Module file -> the units it needs written when it is imported, for each module that
    reaches data by path. (Only then: a package's other modules may be all that an app uses,
    and they need nothing written: numpy's f2py reads its sources by path, numpy does not.)
    ``joined_of``: the names each module's import joins to its own directory, which may name
    a package that holds data (``_packages_with_data``)."""
    result = {}
    with_data = _packages_with_data(files) if joined_of else set()
    # A name alone is weak evidence: a directory it names counts if it holds data (marimo's
    # hypertext.py has a dict key "data", and marimo/_output/data/ holds data.py alone).
    # Nor is a sys.path root anyone's data (pydoc's 'site-packages', beside pydoc.py).
    named_dirs = _holding_data(files, dirs) - set(roots)
    holders = data_holders(files, named_dirs)
    exposed = _exposed_packages(names_of, roots)
    listing: dict[str, list[str]] = {}
    for relpath in files:
        directory, _, name = relpath.rpartition("/")
        listing.setdefault(directory, []).append(name)
    for relpath, names in sorted(names_of.items()):
        entries = referenced(relpath, names, files, named_dirs, roots, holders, listing)
        top = unit_of(relpath, roots)
        if top in exposed:
            entries |= _named_below(top, names, files, named_dirs)
        directory = relpath.rpartition("/")[0]
        for name in (joined_of or {}).get(relpath, ()):
            candidate = posixpath.normpath(f"{directory}/{name}")  # a whole path may climb: "../data/x"
            if not candidate.startswith(top + "/"):
                continue  # out of its package: numpy's distutils tests join "../../.."
            if candidate in with_data or _is_data(candidate, files, dirs):
                entries.add(candidate)
        if entries:
            units = {unit_of(relpath, roots)} | {unit_of(e, roots) for e in entries}
            result[relpath] = tuple(sorted(units))
    return result


def _holding_data(files: Collection[str], dirs: Collection[str]) -> set[str]:
    """The directories of ``dirs`` that are packages or hold, in them or below, a file other
    than Python code."""
    packages = {relpath.rpartition("/")[0] for relpath in files if relpath.endswith("/__init__.py")}
    holding: set[str] = set()
    for relpath in files:
        if relpath.endswith(_CODE_SUFFIXES) or "/__pycache__/" in relpath:
            continue
        directory = relpath.rpartition("/")[0]
        while directory and directory not in holding:
            holding.add(directory)
            directory = directory.rpartition("/")[0]
    return (holding | packages) & set(dirs)


def _packages_with_data(files: Collection[str]) -> set[str]:
    """The package directories with data files in them or below them (not Python files or
    extension modules, nor ``py.typed``): mimesis' ``datasets`` package holds a directory of
    JSON files per locale."""
    packages = {f.rpartition("/")[0] for f in files if f.endswith("/__init__.py")}
    found = set()
    for relpath in files:
        if relpath.endswith((*_CODE_SUFFIXES, ".pyi", ".so", "/py.typed")) or "/__pycache__/" in relpath:
            continue
        directory = relpath.rpartition("/")[0]
        while directory and directory not in found:
            if directory in packages:
                found.add(directory)
            directory = directory.rpartition("/")[0]
    return found


def add_directory_importers(
    materialize: dict[str, tuple[str, ...]],
    directories_of: Mapping[str, Sequence[str]],
    imports_of: Mapping[str, Sequence[tuple[int, str, tuple[str, ...]]]],
    roots: tuple[str, ...],
) -> None:
    """Marks the modules that import, when imported, a name that a package's ``__init__``
    binds to its own directory (``directories_of``; sphinx's ``package_dir``, which its
    application reads its translations through at once): that package is written first."""
    exporters = {
        relpath.rpartition("/")[0]: set(names)
        for relpath, names in directories_of.items()
        if relpath.endswith("/__init__.py")
    }
    if not exporters:
        return
    for relpath, imports in imports_of.items():
        needed = set()
        for level, name, fromlist in imports:
            for package in _imported_package_dirs(relpath, level, name, roots):
                if exporters.get(package, set()) & set(fromlist):
                    needed.add(unit_of(package + "/__init__.py", roots))
        if needed:
            materialize[relpath] = tuple(sorted(set(materialize.get(relpath, ())) | needed))


def add_path_importers(
    materialize: dict[str, tuple[str, ...]],
    paths_of: Mapping[str, Sequence[str]],
    handed_of: Mapping[str, Sequence[str]],
    imports_of: Mapping[str, Sequence[tuple[int, str, tuple[str, ...]]]],
    roots: tuple[str, ...],
) -> None:
    """Marks the modules that hand out (list, pass on) a name they import from another module,
    which that module binds to its own directory or a path in it (``paths_of``): glances'
    ``stats`` lists ``plugins_path``, which ``glances.globals`` makes from its ``__file__``.
    That module's package is written first, as a module's own is when it hands out its
    directory (``_compile_worker._imported_handouts``)."""
    for relpath, handed in handed_of.items():
        needed = set()
        for level, name, fromlist in imports_of.get(relpath, ()):
            wanted = set(handed) & set(fromlist)
            if not wanted:
                continue
            for base in _imported_package_dirs(relpath, level, name, roots):
                for exporter in (base + ".py", base + "/__init__.py"):
                    if wanted & set(paths_of.get(exporter, ())):
                        needed.add(unit_of(exporter, roots))
        if needed:
            materialize[relpath] = tuple(sorted(set(materialize.get(relpath, ())) | needed))


def _imported_package_dirs(relpath: str, level: int, name: str, roots: tuple[str, ...]) -> list[str]:
    """The bundle directories that ``from <level dots><name> import ...`` in the module
    ``relpath`` may name: relative to its package, or under each root."""
    dotted = name.replace(".", "/")
    if level:
        base = relpath.rpartition("/")[0]
        for _ in range(level - 1):
            base = base.rpartition("/")[0]
        return [f"{base}/{dotted}" if dotted else base]
    return [f"{root}/{dotted}" for root in roots]


def beside_script(script: Path, names: Iterable[str]) -> list[Path]:
    """Files and directories beside a script that its code names (not hidden, not Python)."""
    found = []
    for name in sorted(set(names)):
        first = name.strip("/").split("/")[0]
        if first in ("", ".", "..") or first.startswith(".") or "\n" in first or "\0" in first:
            continue
        path = script.parent / first
        try:
            if path.exists() and path.suffix not in _CODE_SUFFIXES and path not in found:
                found.append(path)
        except OSError:
            continue
    return found
