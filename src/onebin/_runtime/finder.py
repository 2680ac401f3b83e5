"""Path entry finders and loaders that serve modules from the bundle, as zipimport does.

The bundle's directories appear on ``sys.path`` (and in packages' ``__path__``) as virtual paths
under the executable, e.g. ``/opt/app/lib/python3.12/site-packages``. ``PathHook`` turns such a
path into a ``BundleFinder``; every other path is declined, so the ordinary ``sys.path``
semantics hold: the stdlib before site-packages, a directory the app inserts before the bundle.
"""

import _imp
import _io
import marshal
import sys

from . import bundle as _bundle
from . import cache as _cache
from . import execution as _execution
from . import integrations as _integrations
from . import native as _native
from . import resources as _resources
from . import trace as _trace
from .cache import unit_of

TYPE_CHECKING = False  # the runtime cannot import typing when it starts
if TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from importlib.machinery import ModuleSpec as _ModuleSpec
    from types import CodeType, FrameType, ModuleType
    from typing import Any, BinaryIO

_bootstrap = sys.modules["_frozen_importlib"]
# Gives a code object, and the code in its constants naming the same file, another file name, as
# importlib's SourceLoader does to a .pyc's code (typeshed does not list it).
_fix_co_filename: "Callable[[CodeType, str], None]" = _imp.__dict__["_fix_co_filename"]
ModuleSpec: "Callable[..., _ModuleSpec]" = _bootstrap.ModuleSpec
_ENOENT, _EISDIR = 2, 21  # errno's, the same on every Linux architecture


class PathHook:
    """The sys.path_hooks entry for the bundle's virtual directories."""

    def __init__(self, bundle: _bundle.Bundle) -> None:
        self.bundle = bundle
        self.cache = _cache.Cache(bundle)
        self.natives = _native.NativeLoader(bundle, self.cache)
        self.cache.on_ready = self._relocate
        self._scripts: str | None = None  # the prefix's stand-in, once its bin/ has its scripts

    def __call__(self, path: str) -> "BundleFinder | MainFinder":
        relpath = self.bundle.relpath(path)
        if relpath is None:
            relpath = self.cache.relpath(path)  # a package written to the cache: still from memory
        if relpath is not None and relpath in self.bundle.index.dirs:
            finder = BundleFinder(self, relpath)
            finder.path = path
            return finder
        if relpath is not None and relpath == self.bundle.index.main[0]:
            return MainFinder(self)
        if relpath is not None and relpath == self.bundle.index.main[0].rpartition("/")[0]:
            finder = BundleFinder(self, relpath)  # a console script's bin/, first on sys.path
            finder.path = path
            return finder
        raise ImportError("not a directory of the bundle", path=path)

    def _relocate(self, unit: str, real: str) -> None:
        self._relocate_units({unit: real})

    def _relocate_units(self, written: "dict[str, str]") -> None:
        """The modules of the units ``written`` (unit -> its real path), imported before their
        files were written, now name them, as the ones imported after do: their ``__file__``, a
        package's ``__path__`` (in place, so that its spec agrees; django finds its project
        templates through it), and the paths their code derived from those when it ran (sphinx's
        ``package_dir``): every global that is a path inside its unit, or a list of such paths."""
        roots = self.bundle.index.roots
        # A root's unit, the files directly in it, is written before any is imported (a
        # script's), or with every unit (write_every_package): its modules keep their paths.
        # Native libraries and the data outside sys.path (prefix_data()) hold no modules.
        written = {u: r for u, r in written.items() if "/" in u and not u.startswith("native/") and u not in roots}
        for written_unit, written_path in written.items():
            root = written_unit.rpartition("/")[0]
            self._beside_root(root, written_path[: len(written_path) - len(written_unit)] + root)
        if not written:
            return
        # Only type() here, never isinstance() or getattr(): a value may be a lazy object whose
        # __class__ or attributes run code (django's settings raise until configured).
        frames: list[FrameType] = []
        frame: FrameType | None = sys._getframe(1)
        while frame is not None:
            frames.append(frame)
            frame = frame.f_back
        for module in list(sys.modules.values()):
            if not issubclass(type(module), type(sys)):
                continue
            namespace = module.__dict__
            file = namespace.get("__file__")
            if type(file) is not str:
                continue
            relpath = self.bundle.relpath(file)
            unit = unit_of(relpath, roots) if relpath is not None else None
            if unit is None or unit not in written:
                continue
            virtual, real = self.bundle.path(unit), written[unit]
            running = [f.f_code for f in frames if f.f_globals is namespace]
            _rename_code(namespace, running, file, real + file[len(virtual) :])
            _moved_spec(module, file, real + file[len(virtual) :])
            for key, value in list(namespace.items()):
                if type(value) is list:
                    if key != "__path__" and not _may_hold(value, virtual):
                        continue
                    value[:] = [_moved(item, virtual, real) for item in value]
                    if key == "__path__":
                        for entry in value:
                            self.cache_finder(entry)
                else:
                    moved = _moved(value, virtual, real)
                    if moved is not value:
                        namespace[key] = moved

    def written_spec(self, spec: "Any") -> "Any":
        """See ``bootstrap.written_spec``: ``spec`` itself if it names nothing in the bundle but
        a root's own files, or if the cache cannot be written (``Cache.write`` warns once)."""
        if not isinstance(spec, _bootstrap.ModuleSpec):
            return spec
        origin, locations = spec.origin, spec.submodule_search_locations
        moved = self.write_units([origin, *(locations or ())])
        if moved == [origin, *(locations or ())]:
            return spec
        copy = object.__new__(type(spec))
        copy.__dict__.update(spec.__dict__)
        copy.origin = moved[0]
        if locations is not None:
            copy.submodule_search_locations = moved[1:]
        return copy

    def write_units(self, paths: "list[Any]", with_script: bool = False) -> "list[Any]":
        """``paths``, each one inside the bundle (but in a root's own files; ``with_script``:
        the script's directory counts) naming its written copy, once the unit holding it is
        written to the cache; the others as they are."""
        result = []
        script_root = self.bundle.index.main[0].rpartition("/")[0] if with_script else None
        for path in paths:
            relpath = self.bundle.relpath(path) if type(path) is str else None
            if relpath is not None and relpath in self.bundle.index.dirs:
                relpath += "/"  # a package's directory: the unit is its top-level one, not the root
            unit = unit_of(relpath, self.bundle.index.roots) if relpath is not None else None
            writable = unit not in self.bundle.index.roots or unit == script_root
            real = self.cache.write(unit) if unit is not None and writable else None
            result.append(path if unit is None or real is None else _moved(path, self.bundle.path(unit), real))
        return result

    def prefix_data(self, top: str) -> "str | None":
        """The cache's directory standing for the prefix, once the bundle's data under ``top``
        (``share``, ``etc``: what wheels install outside site-packages) is written there; None
        if the bundle holds none (or the cache cannot be written: ``Cache.write`` warns). For
        ``bin``, also the scripts a venv has there (see ``write_scripts``)."""
        if top == "bin" and _bundle.SCRIPT_WRAPPERS in self.bundle.index.files:
            return self.write_scripts()
        if top not in self.bundle.index.prefix_data or self.cache.write(top) is None:
            return None
        return self.cache.base_path()

    def write_scripts(self) -> "str | None":
        """The cache's directory standing for the prefix, once its ``bin/`` holds what a venv's
        does: the programs of the bundle's distributions, and a script for each of their console
        scripts and Python scripts whose ``#!`` line names this executable as their python
        (``sys.executable``, which makes it the interpreter), as pip writes them. A tool that
        puts that directory on ``PATH`` and runs one of them by name (semgrep's ``semgrep-core``
        runs ``pysemgrep``) runs it. Each process checks them once: the same app at another path
        rewrites them, naming itself. None if the bundle holds none (or, warned, if the cache
        cannot be written)."""
        if self._scripts is None:
            index = self.bundle.index
            has_scripts = _bundle.SCRIPT_WRAPPERS in index.files
            if not has_scripts and "bin" not in index.prefix_data:
                return None  # nothing a venv would have in bin/ but python
            if "bin" in index.prefix_data and self.cache.write("bin") is None:
                return None
            first = _shebang(sys.executable)
            try:
                if first is not None and has_scripts:
                    scripts = _bundle.unpack_wrappers(self.bundle.read(_bundle.SCRIPT_WRAPPERS))
                    self.cache.write_scripts("bin", [(name, first + body) for name, body in scripts])
                self._scripts = self.cache.base_path()
            except OSError as exc:
                self.cache.warn(_bundle.SCRIPT_WRAPPERS, exc)
                return None
        return self._scripts

    def write_every_package(self) -> None:
        """Writes every package of the bundle's sys.path entries to the cache and puts the
        directories holding them on sys.path, each after the bundle's own entry: for code that
        looks for modules' files under each sys.path entry (see
        ``_compile_worker._searches_sys_path``). Warns once if the cache cannot be written."""
        bundle, cache = self.bundle, self.cache
        roots = [root for root in bundle.index.roots if bundle.path(root) in sys.path]
        try:
            written = cache.write_roots(roots)
        except OSError as exc:
            cache.warn(roots[0] if roots else "", exc)
            return
        self._relocate_units(written)
        self.put_cache_on_sys_path()

    def write_root(self, root: str) -> "str | None":
        """Writes every package of the sys.path root ``root`` (site-packages) to the cache;
        returns the directory holding them, or None if the cache cannot be written (warned)."""
        try:
            written = self.cache.write_roots([root])
        except OSError as exc:
            self.cache.warn(root, exc)
            return None
        self._relocate_units(written)
        return self.cache.base_path() + "/" + root

    def put_cache_on_sys_path(self) -> None:
        """Puts the directory that holds (or will hold) the written packages of each of the
        bundle's sys.path entries right after it on sys.path (see ``_beside_root``)."""
        base = self.cache.planned_base_path()
        for root in self.bundle.index.roots:
            self._beside_root(root, base + "/" + root)

    def _beside_root(self, root: str, real: str) -> None:
        """Puts the real directory that holds the written packages of ``root`` on sys.path
        right after the root's own entry, so that code which maps a file to its module through
        sys.path (astroid, loading pylint's checkers) finds theirs. Its imports are served from
        memory as the root's are, and the root's entry, first, shadows it."""
        entry = self.bundle.path(root)
        if real in sys.path or entry not in sys.path:
            return
        try:
            self.cache_finder(real)
        except ImportError:
            return  # not a directory of the bundle: nothing to find there
        sys.path.insert(sys.path.index(entry) + 1, real)

    def traversable(self, path: object) -> "Any":
        """What ``importlib.resources`` serves the bundled directory at ``path`` as, as it does a
        package's files (see ``resources.Reader.files``); None if it is not one."""
        relpath = self.bundle.relpath(path) if type(path) is str else None
        if relpath is None and type(path) is str:
            relpath = self.cache.relpath(path)
        if relpath is not None and relpath in self.bundle.index.dirs:
            return _resources.Reader(self.bundle, self.cache, relpath).files()
        return None

    def open_code(self, path: object) -> "BinaryIO | None":
        """``io.open_code(path)`` for a path in the bundle (importlib's file loaders and runpy
        read Python files with it: ``spec_from_file_location()`` of a bundled file works): its
        bytes from memory; for a path where the bundle has nothing, FileNotFoundError, as for a
        missing file on disk (yt-dlp probes for a plugin file beside its package so, and opening
        a path through the executable would raise NotADirectoryError). None for other paths."""
        relpath = self.bundle.relpath(path) if type(path) is str else None
        if relpath is None:
            return None
        if relpath in self.bundle.index.files:
            return _io.BytesIO(bytes(self.bundle.read(relpath)))
        if relpath in self.bundle.index.dirs or not relpath:
            raise IsADirectoryError(_EISDIR, "Is a directory", path)
        raise FileNotFoundError(_ENOENT, "No such file or directory", path)

    def cache_finder(self, path: str) -> None:
        """Registers the finder for ``path`` so PathFinder need not consult sys.path_hooks."""
        cache = sys.path_importer_cache
        if path not in cache:
            cache[path] = self(path)

    def __repr__(self) -> str:
        return "<onebin PathHook %r>" % self.bundle.root


_FunctionType = type(lambda: None)
_CodeType = type((lambda: None).__code__)


def _rename_code(namespace: "dict[str, Any]", running: "list[CodeType]", old: str, new: str) -> None:
    """The code of the functions a module defined (in its globals, its classes, their methods
    and properties), which names its file ``old``, names ``new`` instead, as the code of the
    modules imported after its unit was written does (``inspect.getmodule()`` of a frame).
    ``running``: the code of its frames on the stack (its own, if it is being imported, whose
    functions are yet to be made)."""
    module = namespace.get("__name__")
    todo, seen = [*namespace.values(), *running], set()
    while todo:
        value = todo.pop()
        kind: Any = type(value)
        if kind is _FunctionType:
            todo.append(value.__code__)
        elif kind is _CodeType:
            if value.co_filename == old:
                _fix_co_filename(value, new)
        elif kind is staticmethod or kind is classmethod:
            todo.append(value.__func__)
        elif kind is property:
            todo += (value.fget, value.fset, value.fdel)
        elif issubclass(kind, type) and id(value) not in seen:
            seen.add(id(value))
            attributes = type.__dict__["__dict__"].__get__(value)
            if attributes.get("__module__") == module:
                todo += attributes.values()


def _moved_spec(module: "ModuleType", old: str, new: str) -> None:
    """The module's spec names its file ``new`` where it named ``old``, as its ``__file__``
    does (``importlib.util.find_spec()`` of an imported module gives that spec)."""
    spec: Any = module.__dict__.get("__spec__")
    if type(spec) is ModuleSpec and spec.origin == old:
        spec.origin = new


def _may_hold(items: "list[object]", virtual: str) -> bool:
    """Whether the list ``items`` may hold a path inside ``virtual``: a list of strings is
    searched in C (mimesis' modules hold lists of 100,000 names, relocated at every start:
    30 ms item by item); one that starts with anything but a path holds none."""
    if not items:
        return False
    first: Any = type(items[0])
    if issubclass(first, str):
        try:
            return virtual in "\0".join(items)  # type: ignore[arg-type]
        except TypeError:  # not only strings
            return True
    return _is_path_type(first)


def _is_path_type(kind: "type") -> bool:
    """Whether ``kind`` is a pathlib class (or one of its subclasses; pathlib._local's in 3.13).
    A class's ``__module__`` may be something else than a string: zope.interface's
    ``InterfaceBase`` has a slot of that name (twisted's plugins)."""
    for t in kind.__mro__:
        module = t.__module__
        if type(module) is str and module.partition(".")[0] == "pathlib":
            return True
    return False


def _moved(value: object, virtual: str, real: str) -> object:
    """``value`` with the directory ``virtual`` replaced by ``real`` if it is a path (a str or a
    pathlib path) inside it; else ``value`` itself."""
    kind: Any = type(value)
    if issubclass(kind, str):
        text = str.__str__(value)
    elif _is_path_type(kind):
        text = str(value)
    else:
        return value
    if text != virtual and not text.startswith(virtual + "/"):
        return value
    moved = real + text[len(virtual) :]
    return moved if kind is str else kind(moved)


class BundleFinder:
    """Finds modules in one directory of the bundle."""

    def __init__(self, hook: PathHook, relpath: str) -> None:
        self._hook = hook
        self._bundle = hook.bundle
        self._dir = relpath
        self.path = hook.bundle.path(relpath)

    def find_spec(self, fullname: str, target: object = None) -> "_ModuleSpec | None":
        key = self._dir + "/" + fullname.rpartition(".")[2]
        entry = self._bundle.index.modules.get(key)
        if entry is None:
            external = sys.modules["_frozen_importlib_external"]  # installed after the runtime
            return self._other_source(fullname, key, external) if len(external.SOURCE_SUFFIXES) > 1 else None
        kind, relpath = entry[0], entry[1]
        if kind == _bundle.NAMESPACE:
            spec = ModuleSpec(fullname, None, is_package=True)
            spec.submodule_search_locations = [self._subdir(relpath)]
            return spec
        loader: BundleLoader | ExtensionLoader
        if kind in (_bundle.EXTENSION, _bundle.EXTENSION_PACKAGE):
            loader = ExtensionLoader(self._hook, fullname, relpath, kind == _bundle.EXTENSION_PACKAGE)
        else:
            loader = BundleLoader(self._hook, fullname, entry)
        spec = ModuleSpec(fullname, loader, origin=self._bundle.path(relpath))
        spec.has_location = True
        if kind in (_bundle.PACKAGE, _bundle.EXTENSION_PACKAGE):
            spec.submodule_search_locations = [self._subdir(key)]
        if _trace.ON:
            _trace.emit("import %s from %s" % (fullname, relpath))
        return spec

    def _other_source(self, fullname: str, key: str, external: "Any") -> "_ModuleSpec | None":
        """A module in a language that an import hook added to importlib's source suffixes
        (hy's ``.hy``, in ``SOURCE_SUFFIXES``, compiled by its patched
        ``SourceFileLoader.source_to_code``): loaded by that loader from the bundle's bytes."""
        files = self._bundle.index.files
        for suffix in external.SOURCE_SUFFIXES:
            for relpath, package in ((key + "/__init__" + suffix, True), (key + suffix, False)):
                if suffix != ".py" and relpath in files:
                    loader = _source_loader_class(external)(fullname, relpath, self._hook)
                    search = [self._subdir(key)] if package else None
                    spec: _ModuleSpec = external.spec_from_file_location(
                        fullname, loader.path, loader=loader, submodule_search_locations=search
                    )
                    return spec
        return None

    def _subdir(self, relpath: str) -> str:
        path = self._bundle.path(relpath)
        self._hook.cache_finder(path)
        return path

    def invalidate_caches(self) -> None:
        """The bundle never changes."""

    def iter_modules(self, prefix: str = "") -> "Iterator[tuple[str, bool]]":
        """Yields (name, ispkg) for pkgutil.iter_modules(), as it lists a directory on disk:
        modules and regular packages, not ``__init__`` nor namespace directories; any name
        without a dot, as there (django's migrations: ``0001_initial``)."""
        start = self._dir + "/"
        modules = self._bundle.index.modules
        for key in modules.keys():
            name = key[len(start) :]
            if key.startswith(start) and "/" not in name and "." not in name and name != "__init__":
                kind = modules[key][0]
                if kind != _bundle.NAMESPACE:
                    yield prefix + name, kind == _bundle.PACKAGE

    def __repr__(self) -> str:
        return "<onebin BundleFinder %r>" % self.path


_SourceLoader: "type | None" = None


def _source_loader_class(external: "Any") -> type:
    """importlib's SourceFileLoader, reading the bundle's files, keeping their code in the
    cache: made when first needed."""
    global _SourceLoader
    if _SourceLoader is None:

        class BundleSourceLoader(external.SourceFileLoader):  # type: ignore[misc]
            def __init__(self, fullname: str, relpath: str, hook: PathHook) -> None:
                super().__init__(fullname, hook.bundle.path(relpath))
                self._bundle, self._cache, self._relpath = hook.bundle, hook.cache, relpath

            def get_code(self, fullname: str) -> "CodeType":
                """Compiled by the hook's ``source_to_code``, once: its code is kept in the
                cache (hy's compiler takes a second for its own modules at each start)."""
                stored = self._cache.compiled(self._relpath)
                if stored is not None:
                    try:
                        return marshal.loads(stored)  # type: ignore[no-any-return]
                    except (EOFError, ValueError, TypeError):
                        pass
                code = self.source_to_code(self.get_data(self.path), self.path)
                self._cache.store_compiled(self._relpath, marshal.dumps(code))
                return code  # type: ignore[no-any-return]

            def get_data(self, path: str) -> bytes:
                relpath = self._bundle.relpath(path)
                if relpath is None:
                    return super().get_data(path)  # type: ignore[no-any-return]
                return self._bundle.read(relpath)

        _SourceLoader = BundleSourceLoader
    return _SourceLoader


class MainFinder:
    """Serves the app's main script as ``__main__`` for its path, as zipimport does for a zipapp.

    So ``runpy.run_path(__main__.__file__)``, which multiprocessing's spawn start method runs in
    each child, and ``<sys.executable> <that path>`` run the app's script from memory.
    """

    def __init__(self, hook: PathHook) -> None:
        self._hook = hook
        self.path = hook.bundle.path(hook.bundle.index.main[0])

    def find_spec(self, fullname: str, target: object = None) -> "_ModuleSpec | None":
        if fullname != "__main__":
            return None
        loader = BundleLoader(self._hook, fullname, (_bundle.SOURCE, *self._hook.bundle.index.main))
        spec = ModuleSpec(fullname, loader, origin=self.path)
        spec.has_location = True
        return spec

    def invalidate_caches(self) -> None:
        """The bundle never changes."""

    def __repr__(self) -> str:
        return "<onebin MainFinder %r>" % self.path


class BundleLoader:
    """Loads a pure-Python module from its bytecode in the bundle; serves its files too.

    ``entry`` is the module's index entry: (kind, file, code offset, code size, code hash), then
    how the code is stored if it is packed (bundle.ZLIB, or bundle.LZ4 and its unpacked size); a
    size of 0 means the source did not compile, and importing it raises the SyntaxError.
    """

    def __init__(self, hook: PathHook, fullname: str, entry: "tuple[int, str, int, int, int]") -> None:
        self._hook = hook
        self._bundle = hook.bundle
        self.name = fullname
        self._entry = entry
        self.path = hook.bundle.path(entry[1])

    def create_module(self, spec: "_ModuleSpec") -> None:
        return None

    exec_module = _execution.exec_module  # through importlib's frames, as its loaders do

    def code_for(self, module: "ModuleType") -> "CodeType":
        """The module's code, once its paths lead to its written files, if it has some."""
        real = self._hook.cache.real_path(self._entry[1])
        if real is not None:
            # Its data files were written beside it (cache.py): its paths lead there, while
            # its modules are still imported from memory.
            module.__file__ = real
            _moved_spec(module, self.path, real)
            path = getattr(module, "__path__", None)
            if isinstance(path, list) and self._entry[0] == _bundle.PACKAGE:
                path[:] = [real.rpartition("/")[0]]
                self._hook.cache_finder(path[0])
        code = self._code(real or self.path)
        if _integrations.LINECACHE is not None:
            _integrations.remember_source(code.co_filename, self, module.__name__)
        return code

    def imported(self, module: "ModuleType") -> None:
        """Runs what the runtime does after the module's code (``integrations.AFTER_IMPORT``)."""
        if module.__name__ in _integrations.AFTER_IMPORT:
            _integrations.AFTER_IMPORT[module.__name__](module, self._hook)

    def is_package(self, fullname: str) -> bool:
        return self._entry[0] == _bundle.PACKAGE

    def get_code(self, fullname: str) -> "CodeType":
        return self._code(self.path)

    def _code(self, filename: str) -> "CodeType":
        """The module's code, naming ``filename`` (its ``__file__``) as python's does."""
        if self._entry[3] == 0:
            source = self._bundle.read(self._entry[1])
            return compile(source, filename, "exec", dont_inherit=True)  # raises its SyntaxError
        code: CodeType = self._bundle.code(self._entry[2:], self._entry[1])
        # Compiled naming the file relative to its sys.path root (the executable's path is not
        # known at build time): named by its path, as importlib's SourceLoader renames a .pyc's
        # code, so that tools mapping a frame to its module by file name find it.
        _fix_co_filename(code, filename)
        return code

    def get_source(self, fullname: str) -> str:
        from importlib.util import decode_source

        return decode_source(self._bundle.read(self._entry[1]))

    def get_filename(self, fullname: str) -> str:
        """The module's file: its written copy once its package is written (confuse finds an
        app's default configuration beside ``find_spec(name).loader.get_filename(name)``)."""
        return self._hook.cache.real_path(self._entry[1]) or self.path

    def get_resource_reader(self, fullname: str) -> "_resources.Reader":
        relpath = self._entry[1].rpartition("/")[0]
        return _resources.Reader(self._bundle, self._hook.cache, relpath)

    def get_data(self, path: str) -> bytes:
        """The bytes of a file in the bundle, or on disk for a path outside it."""
        relpath = self._bundle.relpath(path)
        if relpath is None:
            with open(path, "rb") as f:
                return f.read()
        return self._bundle.read(relpath)

    def __repr__(self) -> str:
        return "<onebin BundleLoader %r>" % self.path


class ExtensionLoader:
    """Loads a C extension module from a memfd copy of its bundled .so file."""

    def __init__(self, hook: PathHook, fullname: str, relpath: str, package: bool = False) -> None:
        self._hook = hook
        self._package = package
        self._natives = hook.natives
        self.name = fullname
        self._relpath = relpath
        self.path = hook.bundle.path(relpath)

    def create_module(self, spec: "_ModuleSpec") -> "ModuleType":
        cache = self._hook.cache
        # Before its code runs (mypyc's may read it), or an earlier run wrote its package.
        real = cache.real_path(self._relpath) or cache.written_earlier(self._relpath)
        if real is not None:
            spec.origin = real
        module = self._create(spec, real)
        try:
            module.__file__ = real or self.path
        except AttributeError:
            pass
        return module

    def _create(self, spec: "_ModuleSpec", written: "str | None") -> "ModuleType":
        path = self._natives.load_extension_file(self._relpath, written)
        try:
            module: ModuleType = _imp.create_dynamic(ModuleSpec(spec.name, self, origin=path))
        except ImportError as exc:
            if not self._natives.fall_back(exc, written=path == written):
                raise
            return self._create(spec, written)
        return module

    exec_module = _execution.exec_extension

    def is_package(self, fullname: str) -> bool:
        return self._package

    def get_code(self, fullname: str) -> None:
        return None

    def get_source(self, fullname: str) -> None:
        return None

    def get_filename(self, fullname: str) -> str:
        return self.path

    def get_resource_reader(self, fullname: str) -> "_resources.Reader":
        relpath = self._relpath.rpartition("/")[0]
        return _resources.Reader(self._hook.bundle, self._hook.cache, relpath)

    def __repr__(self) -> str:
        return "<onebin ExtensionLoader %r>" % self.path


def _shebang(executable: str) -> "bytes | None":
    """The first lines of a script that ``executable`` runs, as pip writes them: a ``#!`` line
    naming it, or where the kernel cannot take that line (too long, or holding a space), a
    ``/bin/sh`` line and a line that is both a shell ``exec`` of it and a Python string. None
    for a path that neither can name (one with a quote or a backslash)."""
    path = executable.encode("utf-8", "surrogateescape")
    if len(path) <= 125 and not any(c in path for c in b" \t\n"):
        return b"#!" + path + b"\n"
    if any(c in path for c in b"'\\\n"):
        return None
    return b"#!/bin/sh\n'''exec' '" + path + b"' \"$0\" \"$@\"\n' '''\n"
