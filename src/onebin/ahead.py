"""What the launcher prepares ahead: the files the app's first imports will need.

Before the app's first line runs, its entry point imports modules, which import others. The
launcher (launcher.c, "work done ahead") checks and unpacks their bytecode, and copies the
extension modules among them (with the libraries those load first) into memfds, on another CPU
while the interpreter starts; each import then finds its part done. This module lists them, in
the order the imports should ask for them, from the import statements that run with each
module (``_compile_worker._imports``: not those in functions, nor in the body of an ``if`` or an
``except`` clause, so that ``if os.environ.get("GPU"): import cupy`` does not copy cupy's
libraries at every start). The list is a guess: a module it names that is never imported costs
the other CPU some work, one it misses is imported as usual.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence

from ._runtime import bundle as fmt

# What CPython's main phase imports from the bundle at every start, before the app.
STARTUP = ("encodings", "encodings.aliases", "encodings.utf_8")

_DEEPEST = 400  # imports nested deeper than this are left to run as usual

Import = tuple[int, str, tuple[str, ...]]  # (level, name, fromlist), as given to __import__


class ImportOrder:
    """Walks the modules that imports reach, depth first, as the import system runs them."""

    def __init__(
        self,
        modules: Mapping[str, tuple[int, str]],
        roots: Sequence[str],
        imports_of: Mapping[str, Sequence[Import]],
        preload: Mapping[str, tuple[str | tuple[str, ...], ...]],
        elsewhere: frozenset[str] = frozenset(),
        as_main: tuple[str, Mapping[str, Sequence[Import]]] = ("", {}),
    ) -> None:
        self._modules = modules  # "<root>/<a>/<b>" -> (kind, file), as Tree.modules()
        self._roots = roots  # sys.path order
        self._imports_of = imports_of  # module file -> its top-level imports
        self._preload = preload  # extension file -> the libraries it loads first
        self._seen: set[str] = set(elsewhere)  # built in, or frozen: never imported from the bundle
        # The module that `-m` runs as __main__ (or whose package's __main__ it runs), and each
        # module file's imports under `if __name__ == "__main__":`, which run only then.
        self._as_main, self._as_main_imports_of = as_main

    def files(self, main_imports: Sequence[Import]) -> Iterator[tuple[bool, str]]:
        """(is_code, key) in import order: a module's key, for its bytecode, or the bundle path
        of a native file (an extension module, or a library one of them loads first)."""
        for name in STARTUP:
            yield from self._visit(name, 0)
        for level, name, fromlist in main_imports:
            if level == 0:
                for target in self._targets(name, fromlist):
                    yield from self._visit(target, 0)

    def _find(self, name: str) -> str | None:
        path = name.replace(".", "/")
        for root in self._roots:
            if f"{root}/{path}" in self._modules:
                return f"{root}/{path}"
        return None

    def _targets(self, name: str, fromlist: Sequence[str]) -> list[str]:
        """What ``import name`` / ``from name import fromlist`` imports: the module, and the
        submodules among the names from it."""
        return [name, *(f"{name}.{item}" for item in fromlist if self._find(f"{name}.{item}"))]

    def _visit(self, name: str, depth: int) -> Iterator[tuple[bool, str]]:
        if name in self._seen or depth > _DEEPEST:
            return
        parent = name.rpartition(".")[0]
        if parent:
            yield from self._visit(parent, depth + 1)  # which may import this module
            if name in self._seen:
                return
        self._seen.add(name)
        key = self._find(name)
        if key is None:
            return
        kind, relpath = self._modules[key]
        if kind in (fmt.EXTENSION, fmt.EXTENSION_PACKAGE):
            for item in self._preload.get(relpath, ()):
                yield from ((False, lib) for lib in (item if isinstance(item, tuple) else (item,)))
            yield False, relpath
        elif kind in (fmt.SOURCE, fmt.PACKAGE):
            yield True, key
            imports = self._imports_of.get(relpath, ())
            if self._as_main and name in (self._as_main if kind == fmt.SOURCE else "", f"{self._as_main}.__main__"):
                imports = [*imports, *self._as_main_imports_of.get(relpath, ())]
            for level, imported, fromlist in imports:
                absolute = _absolute(name, kind == fmt.PACKAGE, level, imported)
                for target in self._targets(absolute, fromlist) if absolute else ():
                    yield from self._visit(target, depth + 1)


def _absolute(module: str, is_package: bool, level: int, name: str) -> str:
    """The module an import statement in ``module`` names ("" if it reaches above the top)."""
    if level == 0:
        return name
    base = module if is_package else module.rpartition(".")[0]
    for _ in range(level - 1):
        base = base.rpartition(".")[0]
    if not base:
        return ""
    return f"{base}.{name}" if name else base
