"""Registrations with the APIs that dispatch on importer or path types, and re's compiled patterns.

``pkg_resources`` and ``importlib.resources.as_file`` know zipimport's and pathlib's types, not
the bundle's. Just as they register zipimport's themselves, these functions register the
bundle's, right after those modules are imported (``AFTER_IMPORT``, keyed by module name).
``linecache`` gets lazy entries (its own mechanism for loaders' sources) for the bundle's
modules, so that warnings show source lines as they do in a venv. ``re``'s compiler gets the
regular expressions the bundle's modules compile as they are imported, compiled by the builder.
"""

TYPE_CHECKING = False  # the runtime cannot import typing when it starts
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from types import ModuleType
    from typing import Any

    from .finder import PathHook


def _as_file(common: "ModuleType", hook: "PathHook") -> None:
    """``as_file(files(pkg) / name)`` gives a file in the per-app cache, not a temporary copy."""
    import contextlib
    import pathlib

    from .resources import BundlePath

    fallback = common.as_file.dispatch(object)

    def bundle_as_file(path: BundlePath) -> "Any":
        try:
            return contextlib.nullcontext(pathlib.Path(path.real_path()))
        except OSError:
            return fallback(path)

    common.as_file.register(BundlePath, bundle_as_file)


LINECACHE: "dict[str, Any] | None" = None  # linecache.cache, once linecache is imported


def remember_source(co_filename: str, loader: "Any", fullname: str) -> None:
    """A lazy linecache entry for a module of the bundle (its source read when first needed)."""
    if LINECACHE is not None and co_filename not in LINECACHE:
        LINECACHE[co_filename] = (lambda: loader.get_source(fullname),)


def _linecache(linecache: "ModuleType", hook: "PathHook") -> None:
    import sys

    global LINECACHE
    LINECACHE = linecache.cache
    from .finder import BundleLoader

    for name, module in list(sys.modules.items()):
        loader = getattr(module, "__loader__", None)
        if isinstance(loader, BundleLoader):
            remember_source(getattr(module, "__file__", None) or loader.path, loader, name)
    _frozen_sources(hook)


def _frozen_sources(hook: "PathHook") -> None:
    """The stdlib's frozen modules have their __file__ in the bundle (bootstrap.py), where
    linecache, which reads a module's file from disk for inspect.getsource(), finds nothing."""
    import _imp
    import sys

    bundle = hook.bundle
    frozen = sys.modules["_frozen_importlib"].FrozenImporter
    names = getattr(_imp, "_frozen_module_names", lambda: ())()
    for name in names:
        info = _imp.find_frozen(name) if not name.startswith("__") else None
        if info is None:
            continue
        filename, _ = frozen._resolve_filename(info[2], name, info[1])
        relpath = bundle.relpath(filename) if filename else None
        if relpath is not None and relpath in bundle.index.files and LINECACHE is not None:
            LINECACHE.setdefault(filename, (lambda relpath=relpath: _decoded(bundle.read(relpath)),))


def _decoded(source: bytes) -> str:
    from importlib.util import decode_source

    return decode_source(source)


def _pkg_resources(pkg_resources: "Any", hook: "PathHook") -> None:
    """Resources, distributions and namespace packages of the bundle, for pkg_resources."""
    import os
    import pkgutil

    from .finder import BundleFinder, BundleLoader

    bundle = hook.bundle

    class Provider(pkg_resources.NullProvider):  # type: ignore[misc]
        """Resources of a module in the bundle (or beside it in the cache, once written)."""

        def _relpath(self, path: str) -> "str | None":
            return bundle.relpath(path)

        def _has(self, path: str) -> bool:
            rel = self._relpath(path)
            if rel is None:
                return os.path.exists(path)
            return rel in bundle.index.files or rel in bundle.index.dirs

        def _isdir(self, path: str) -> bool:
            rel = self._relpath(path)
            return os.path.isdir(path) if rel is None else rel in bundle.index.dirs

        def _listdir(self, path: str) -> "list[str]":
            rel = self._relpath(path)
            return os.listdir(path) if rel is None else bundle.children(rel)

        def _get(self, path: str) -> bytes:
            rel = self._relpath(path)
            if rel is None:
                with open(path, "rb") as f:
                    return f.read()
            return bundle.read(rel)

        def get_resource_filename(self, manager: object, resource_name: str) -> str:
            path = self._fn(self.module_path, resource_name)
            rel = self._relpath(path)
            return path if rel is None else hook.cache.path_for(rel)

    class Metadata(Provider):
        """A *.dist-info or *.egg-info directory of the bundle, as PathMetadata serves one."""

        def __init__(self, location: str, egg_info: str) -> None:
            self.module_path = location
            self.egg_info = egg_info

        def _relpath(self, path: str) -> "str | None":  # in a written unit, still from memory
            relpath = bundle.relpath(path)
            return relpath if relpath is not None else hook.cache.relpath(path)

    class FileMetadata(pkg_resources.FileMetadata):  # type: ignore[misc]
        """A *.egg-info file of the bundle: its PKG-INFO, as distutils installed it."""

        def __init__(self, path: str, relpath: str) -> None:
            self.path = path
            self._relpath = relpath

        def has_metadata(self, name: str) -> bool:
            return name == "PKG-INFO"

        def get_metadata(self, name: str) -> str:
            if name != "PKG-INFO":
                raise KeyError("No metadata except PKG-INFO is available")
            text = bundle.read(self._relpath).decode("utf-8", "replace")
            self._warn_on_replacement(text)
            return text

    def find_distributions(importer: object, path_item: str, only: bool = False) -> "Iterator[Any]":
        """What ``find_on_path`` finds in a directory on disk, for a directory of the bundle:
        the distributions of its *.dist-info and *.egg-info, as the build listed them, in the
        order pkg_resources sorts a listing in. Not eggs nor *.egg-link files (``only=False``):
        pip installs none."""
        relpath = bundle.relpath(path_item)
        if relpath is None:  # a written copy: a root's holds no metadata (read from memory)
            relpath = hook.cache.relpath(path_item)
            if relpath is None or relpath in bundle.index.roots:
                return
        listed = {
            os.path.join(path_item, path.rpartition("/")[2]): path
            for _, path in bundle.index.distributions.get(relpath, ())
        }
        # setuptools before 69 lists a directory's entries by version, highest first
        for entry in getattr(pkg_resources, "_by_version_descending", sorted)(listed):
            location, _, basename = entry.rpartition("/")
            path = listed[entry]
            metadata = Metadata(location, entry) if path in bundle.index.dirs else FileMetadata(entry, path)
            yield pkg_resources.Distribution.from_location(
                location, basename, metadata, precedence=pkg_resources.DEVELOP_DIST
            )

    pkg_resources.register_loader_type(BundleLoader, Provider)
    pkg_resources.register_finder(BundleFinder, find_distributions)
    pkg_resources.register_namespace_handler(BundleFinder, pkg_resources.file_ns_handler)
    # Its working set was built as it was imported, before these registrations. They join it
    # as in a venv, where they are there before pkg_resources subscribes dist.activate() with
    # existing=False: no subscriber runs (activating one whose package was written to the cache
    # would warn "Module X was already imported from <cache>").
    working_set = pkg_resources.working_set
    callbacks, working_set.callbacks = working_set.callbacks, []
    try:
        for entry in list(working_set.entries):
            if isinstance(entry, str) and isinstance(pkgutil.get_importer(entry), BundleFinder):
                for dist in find_distributions(None, entry):
                    working_set.add(dist, entry, False)
    finally:
        working_set.callbacks = callbacks


def _precompiled_regexes(compiler: "Any", hook: "PathHook") -> None:
    """``re._compiler.compile`` (3.10: ``sre_compile.compile``) first looks in the builder's
    table of the patterns that the bundle's modules compile when imported (the builder's
    _compile_worker._regexes): for those, it hands what the builder's run of this same compiler
    gave to ``_sre.compile()``, without parsing and compiling the pattern again (pycodestyle
    compiles about 40 at import). re's own cache works on as before, above this function; every
    other pattern is compiled as usual."""
    import marshal
    import sys

    from . import trace as _trace

    entry = hook.bundle.index.regexes
    if entry is None or (compiler.__name__ == "sre_compile" and sys.version_info >= (3, 11)):
        return  # from 3.11, sre_compile is a deprecated alias that re does not use
    tables = marshal.loads(hook.bundle.unpack(entry, "the table of compiled regular expressions"))
    compile_pattern, sre = compiler.compile, compiler._sre
    if _trace.ON:
        _trace.emit("%d regular expressions compiled ahead" % (len(tables[0]) + len(tables[1])))

    def compile(p: "Any", flags: int = 0) -> "Any":
        kind = type(p)
        plain = (kind is str or kind is bytes) and isinstance(flags, int)  # 2.0 == 2, yet re refuses it
        found = tables[kind is bytes].get((p, flags)) if plain else None
        if found is None:
            return compile_pattern(p, flags)
        final, code, groups, groupindex, indexgroup = found
        return sre.compile(p, final, memoryview(code).cast("I").tolist(), groups, dict(groupindex), indexgroup)

    compile.__doc__, compile.__wrapped__ = compile_pattern.__doc__, compile_pattern  # type: ignore[attr-defined]
    compile.__module__ = compile_pattern.__module__
    compiler.compile = compile


def _namespace_reader(readers: "Any", hook: "PathHook") -> None:
    """``importlib.resources.files()`` of a namespace package (a data directory without
    ``__init__.py``) in the bundle: each of its portions in the bundle is served as a package's
    are, the others as before. CPython's NamespaceReader takes every portion for a directory
    on disk, and refuses the bundle's (WeasyPrint's pyphen failed at import so)."""
    import os
    import pathlib

    base = readers.NamespaceReader
    if getattr(base, "_onebin", False):
        return  # 3.12+: importlib.readers re-exports importlib.resources.readers' reader

    class NamespaceReader(base):  # type: ignore[misc,valid-type]
        _onebin = True

        def __init__(self, namespace_path: "Any") -> None:
            entries = list(namespace_path)
            found = [hook.traversable(entry) for entry in entries]
            if all(portion is None for portion in found):
                super().__init__(namespace_path)
                return
            portions = [
                portion if portion is not None else pathlib.Path(entry)
                for entry, portion in zip(entries, found, strict=True)
                if portion is not None or os.path.isdir(entry)
            ]
            if len(portions) == 1:
                self.path = portions[0]
            else:  # MultiplexedPath's __init__ would make each a pathlib.Path
                self.path = readers.MultiplexedPath.__new__(readers.MultiplexedPath)
                self.path._paths = portions

    NamespaceReader.__qualname__ = NamespaceReader.__name__ = base.__name__
    NamespaceReader.__module__ = base.__module__
    readers.NamespaceReader = NamespaceReader


AFTER_IMPORT: "dict[str, Callable[[Any, PathHook], None]]" = {
    "re._compiler": _precompiled_regexes,
    "sre_compile": _precompiled_regexes,  # Python 3.10
    "importlib._common": _as_file,  # Python 3.10
    "importlib.resources.readers": _namespace_reader,
    "importlib.readers": _namespace_reader,  # Python 3.10's; later, a shim of the one above
    "importlib.resources._common": _as_file,
    "pkg_resources": _pkg_resources,
    "linecache": _linecache,
}
