"""--trim-stdlib: leave out the standard library's modules that nothing bundled can import.

Opt-in, because it reads code, not what runs: a module is kept if its top-level name appears
among the names used or the strings named by the app, its dependencies, onebin's runtime, the
modules CPython imports at start-up, or any stdlib module kept so far (a fixpoint). A module
imported by a name computed at run time is missed; --exclude is the precise tool.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterable

from ._runtime import bundle as fmt
from .compile import BundleCompiler
from .target import Target
from .tree import Tree

# What onebin's runtime imports when it needs to (tracebacks, resources, metadata, caches).
_RUNTIME_NEEDS = (
    "importlib", "zlib", "select", "traceback", "linecache", "tokenize", "pathlib", "contextlib",
    "pwd", "zipfile", "email", "csv", "json", "warnings", "runpy", "posixpath", "pkgutil", "_sitebuiltins",
)  # fmt: skip


def unused_stdlib(
    tree: Tree, modules: dict[str, tuple[int, str]], compiler: BundleCompiler, target: Target
) -> list[str]:
    """The stdlib's top-level modules and packages that nothing bundled uses, sorted."""
    stdlib, dynload = target.stdlib_root, f"{target.stdlib_root}/lib-dynload"
    tops: dict[str, list[str]] = {}  # stdlib top-level name -> its module files
    others: list[str] = []
    for key, (kind, rel) in modules.items():
        for root in (dynload, stdlib):
            if key.startswith(root + "/"):
                top = key[len(root) + 1 :].split("/")[0]
                if top.isidentifier():  # not lib-dynload, site-packages, _sysconfigdata_...-gnu
                    tops.setdefault(top, []).append(rel)
                break
        else:
            if kind in (fmt.SOURCE, fmt.PACKAGE):
                others.append(rel)
    sources = sorted(rel for rels in tops.values() for rel in rels if rel.endswith(".py")) + others
    used: dict[str, set[str]] = {}
    for rel, result in zip(sources, compiler.compile(sources), strict=True):
        used[rel] = _top_names([*(result.names or ()), *result.used])
    kept = set(_startup_modules(target)) | set(_RUNTIME_NEEDS)
    for rel in others:
        kept |= used.get(rel, set())
    kept |= _top_names(tree.entry_names)
    todo = list(kept & tops.keys())
    while todo:
        for rel in tops.get(todo.pop(), ()):
            for name in used.get(rel, set()) & tops.keys():
                if name not in kept:
                    kept.add(name)
                    todo.append(name)
    return sorted(name for name in tops if name not in kept)


def drop(tree: Tree, names: Iterable[str], target: Target) -> int:
    """Removes those stdlib modules and packages from the tree; returns how many files went."""
    roots = (target.stdlib_root, f"{target.stdlib_root}/lib-dynload")
    return sum(len(tree.exclude(name, roots)) for name in names)


def _top_names(names: Iterable[str]) -> set[str]:
    return {name.split(".")[0] for name in names if name and name.split(".")[0].isidentifier()}


def _startup_modules(target: Target) -> list[str]:
    probe = "import sys; print(' '.join(sys.modules))"
    proc = subprocess.run([target.executable, "-I", "-S", "-c", probe], capture_output=True, text=True)
    return proc.stdout.split()
