"""--trim-stdlib: leave out the standard library's modules that nothing bundled imports.

Opt-in, because it reads code, not what runs. A stdlib module is kept if an import statement
anywhere in kept code names it (in a function too: a lazy import counts), or a string constant
does in code that calls ``import_module()``, ``__import__()``, ``run_module()`` or
``resolve_name()``, or a word of a bundled extension module does (Cython compiles ``import os``
to a call with the string "os"); importing ``a.b`` keeps ``a`` too. The kept code starts as the app, every
bundled distribution (whole, as they are bundled), onebin's runtime and the modules CPython
imports at start-up; then each kept stdlib module's imports, to a fixpoint. A stdlib module's
imports under ``if __name__ == "__main__":`` do not count (``heapq`` runs its doctests there),
nor do those of the interactive helpers the runtime defines: ``help()`` (pydoc) and the REPL's
line editing (readline), which a trimmed app has only if it imports them. A module imported by
a name computed at run time is missed, and so is one that only code given to ``python -c`` (a
child process of ``sys.executable``) imports; ``--exclude`` is the precise tool.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Collection, Iterable

from ._runtime import bundle as fmt
from .compile import BundleCompiler, runtime_jobs
from .target import Target
from .tree import Tree

Import = tuple[int, str, tuple[str, ...]]  # (level, name, fromlist), as __import__ takes them

# What the interpreter's tracebacks and warnings import (the runtime's own imports are read).
_RUNTIME_NEEDS = ("traceback", "linecache", "tokenize", "warnings")
# What CPython's C code imports by name: the interpreter's own (time.strptime(); from 3.12,
# int's conversions of very large numbers), and each extension module's when it is kept.
_IMPLIED = {
    "": ("_strptime", "_pylong", "codecs", "copyreg", "io", "abc"),
    "_asyncio": ("asyncio.events", "asyncio.base_futures", "asyncio.exceptions", "asyncio.base_tasks", "traceback"),
    "_ctypes": ("ctypes",),
    "_curses": ("curses",),
    "_datetime": ("_strptime",),
    "_decimal": ("collections", "numbers"),
    "_elementtree": ("copy", "xml.etree.ElementPath"),
    "_json": ("json.decoder",),
    "_pickle": ("_compat_pickle", "copyreg", "functools"),
    "_zoneinfo": ("zoneinfo._common", "zoneinfo._tzpath"),
}
# Packages that import their modules by computed names: kept whole when kept.
_WHOLE = ("encodings",)
# Imports that do not count (see above): the interactive helpers' (the runtime defines help()
# with _sitebuiltins, and site is imported for the interpreter's REPL).
_NOT_FOLLOWED = {("_sitebuiltins", "pydoc"), ("site", "readline"), ("site", "rlcompleter")}


def unused_stdlib(
    tree: Tree, modules: dict[str, tuple[int, str]], compiler: BundleCompiler, target: Target, entry: str
) -> list[str]:
    """The stdlib's modules and packages (dotted names) that nothing bundled imports, sorted; a
    package's modules are not listed when it is. ``entry`` is the bundle path of the entry
    point's source, which runs as ``__main__``."""
    roots = tree.roots
    stdlib_roots = (f"{target.stdlib_root}/lib-dynload", target.stdlib_root)
    stdlib: dict[str, tuple[int, str]] = {}  # dotted name -> (kind, relpath)
    others: dict[str, str] = {}  # relpath -> dotted name, for the bundle's other Python modules
    natives: list[str] = []  # the bundle's other extension modules
    for key, (kind, rel) in modules.items():
        root = max((r for r in roots if key.startswith(r + "/")), key=len, default=None)  # lib-dynload in lib
        name = key[len(root) + 1 :].replace("/", ".") if root is not None else "__init__"
        if name.rpartition(".")[2] == "__init__":
            continue  # a package's own file: the package's entry
        if root in stdlib_roots:
            if name.split(".")[0].isidentifier():  # not site-packages, _sysconfigdata_...-gnu
                stdlib[name] = (kind, rel)
        elif kind in (fmt.SOURCE, fmt.PACKAGE):
            others[rel] = name
        elif kind in (fmt.EXTENSION, fmt.EXTENSION_PACKAGE):
            natives.append(rel)
    sources = sorted(rel for kind, rel in stdlib.values() if kind in (fmt.SOURCE, fmt.PACKAGE))
    name_of = {rel: name for name, (kind, rel) in stdlib.items()}
    outside = sorted({*others, entry})
    results = compiler.compile([*sources, *outside], runtime_jobs())
    imports = {
        name_of[rel]: _resolve(name_of[rel], stdlib[name_of[rel]][0] == fmt.PACKAGE, result.imported)
        for rel, result in zip(sources, results[: len(sources)], strict=True)
    }
    kept = {*_startup_modules(target), *_RUNTIME_NEEDS, *_IMPLIED[""]}
    for rel, result in zip([*outside, *(name for name, _ in runtime_jobs())], results[len(sources) :], strict=True):
        name = others.get(rel, "__main__")
        package = rel.endswith("/__init__.py")
        kept |= _resolve(name, package, [*result.imported, *result.main_imports])
    for rel in natives:  # Cython's `import os` is a call with the string "os" in machine code
        source = tree.files[rel]
        kept |= _named(source if isinstance(source, bytes) else source.read_bytes(), stdlib)
    kept |= {name for name in stdlib if name.split(".")[0] in _WHOLE and name.split(".")[0] in kept}
    todo = [name for name in kept if name in stdlib]
    kept = set(todo)
    while todo:
        name = todo.pop()
        for other in [*imports.get(name, ()), *_IMPLIED.get(name, ()), *_parents(name)]:
            if other in stdlib and other not in kept and (name, other) not in _NOT_FOLLOWED:
                kept.add(other)
                todo.append(other)
    unused = sorted(name for name in stdlib if name not in kept)
    left = set(unused)
    return [name for name in unused if not any(parent in left for parent in _parents(name))]


def drop(tree: Tree, names: Iterable[str], target: Target) -> int:
    """Removes those stdlib modules and packages from the tree; returns how many files went."""
    roots = (target.stdlib_root, f"{target.stdlib_root}/lib-dynload")
    return sum(len(tree.exclude(name, roots)) for name in names)


def _resolve(importer: str, is_package: bool, imports: Iterable[Import]) -> set[str]:
    """The modules that ``importer``'s imports may load, and their packages: ``from a import b``
    loads ``a`` and, if it is a module, ``a.b``; a relative one is resolved from its package."""
    package = importer.split(".") if is_package else importer.split(".")[:-1]
    found: set[str] = set()
    for level, name, fromlist in imports:
        if level:
            if level - 1 > len(package) or importer == "__main__":
                continue
            base = package[: len(package) - (level - 1)]
            full = ".".join([*base, name] if name else base)
        else:
            full = name
        if not full:
            continue
        found.add(full)
        found.update(_parents(full))
        found.update(f"{full}.{item}" for item in fromlist)
    return found


_WORD = re.compile(rb"[A-Za-z_][A-Za-z0-9_.]*")


def _named(data: bytes, modules: Collection[str]) -> set[str]:
    """The modules of ``modules`` whose names appear as words in a native file's bytes (its
    string constants among them; other words that happen to be module names keep those too)."""
    return {word for word in map(bytes.decode, set(_WORD.findall(data))) if word in modules}


def _parents(name: str) -> list[str]:
    parts = name.split(".")
    return [".".join(parts[:i]) for i in range(1, len(parts))]


def _startup_modules(target: Target) -> list[str]:
    probe = "import sys; print(' '.join(sys.modules))"
    proc = subprocess.run([target.executable, "-I", "-S", "-c", probe], capture_output=True, text=True)
    return proc.stdout.split()
