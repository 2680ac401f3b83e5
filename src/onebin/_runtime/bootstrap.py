"""Start-up of an executable, in the steps the launcher calls.

1. ``install()``, in the core phase: read the index, register the path hook.
2. (CPython's main phase imports ``encodings`` and the rest through that hook.)
3. ``complete()``: finish setting up the import system.
4. As the app: ``main_code()`` prepares ``__main__`` and returns the app's code; then
   ``exit_status(exc)`` if that code raised, and ``flush_stdio()``, as ``python app.py`` would.
   Then ``ending(status)``, before CPython's finalisation: see teardown.py.
   As an interpreter for the app's child processes, CPython's Py_RunMain() takes over instead.
"""

import sys

import _onebin

from . import bundle as _bundle
from . import finder as _finder
from . import metadata as _metadata
from . import teardown as _teardown
from . import trace as _trace

TYPE_CHECKING = False  # the runtime cannot import typing when it starts
if TYPE_CHECKING:
    import _sitebuiltins
    from importlib.machinery import ModuleSpec as _ModuleSpec
    from types import CodeType, ModuleType, TracebackType
    from typing import Any, TypeVar

    T = TypeVar("T")

_hook: "_finder.PathHook | None" = None


def install() -> None:
    """Serves the bundle's sys.path entries from memory; called before `encodings` is imported."""
    global _hook
    _trace.configure()
    payload = _onebin.payload
    at = _onebin.index_offset
    index = _bundle.Index.load(payload[at : at + _onebin.index_size], _onebin.lookup, at, _onebin.keys)
    bundle = _bundle.Bundle(
        _onebin.executable,
        payload,
        index,
        _onebin.payload_offset,
        _onebin.check,
        _onebin.release,
        _onebin.code,
        _onebin.unpacked,
    )
    _hook = _finder.PathHook(bundle)
    sys.path_hooks.insert(0, _hook)
    # sys.path is set later, in the main phase, from the launcher's copy of the same roots.
    for root in index.roots:
        _hook.cache_finder(bundle.path(root))


def write_files_of(path: object) -> None:
    """Writes the package of the module whose ``__file__`` is ``path`` to the cache, pointing
    its modules there, unless it is there already. The builder has each function that hands
    out its module's directory (a Sphinx theme's setup(), pylint's checkers) call this first
    (``_compile_worker._handouts``), so that the directory it hands out is a real one."""
    hook = _hook
    if hook is not None and type(path) is str:
        relpath = hook.bundle.relpath(path)
        if relpath is not None:
            hook.cache.write_unit_of(relpath)


def written(module: "T") -> "T":
    """``module``, once its package is written to the cache (its ``__file__`` and
    ``__path__`` then naming the written files). The builder has each function that hands out
    another module's directory read that module's paths through this
    (``_compile_worker._other_handouts``): mkdocs' ``get_theme_dir()``, flask's
    ``get_root_path()``, which finds the templates beside an app's module."""
    # type() and the module's dict only: a lazy module object runs code on getattr().
    if not issubclass(type(module), type(sys)):
        return module
    namespace = module.__dict__
    file = namespace.get("__file__")
    if file is not None or _hook is None:
        write_files_of(file)
        return module
    # A namespace package (mkdocstrings_handlers, which its handlers' distributions share):
    # the directories of its portions in the bundle are written; its __path__ recomputes itself
    # from sys.path, so what reads it gets a stand-in that lists the written ones.
    paths = list(namespace.get("__path__") or ())
    written_paths = _hook.write_units(paths)
    return module if written_paths == paths else _Written(namespace.get("__name__"), written_paths)  # type: ignore[return-value]


def written_path(path: "T") -> "T":
    """``path``, or, if it is a file of the bundle, the same file in the cache once the package
    holding it (or the script's directory) is written there. The builder has each path made
    from ``inspect.getfile()`` read it through this (``_compile_worker._file_lookups``):
    textual finds an app's ``CSS_PATH`` beside the module of its class."""
    hook = _hook
    return path if hook is None else hook.write_units([path], with_script=True)[0]


def located(path: object) -> object:
    """What a distribution's ``locate_file()`` gave, as a path to its written copy: the
    package holding it written to the cache, or for a sys.path root itself (``locate_file("")``:
    site-packages), every package in it. The builder has each ``locate_file()`` made into a
    path (``str()``, ``os.fspath()``, ``Path()``) read through this: pdm gives
    ``str(distribution("dep_logic").locate_file(""))`` to another python, to import from."""
    hook = _hook
    text = str(path)
    relpath = None if hook is None else hook.bundle.relpath(text)
    if hook is None or relpath is None:
        return path
    if relpath in hook.bundle.index.roots:
        real = hook.write_root(relpath)
        return path if real is None else real
    return hook.write_units([text])[0]


def prefix_data(path: "T", top: str) -> "T":
    """``path`` (``sys.prefix``, or the scripts directory ``sysconfig`` names under it), or
    the same path in the directory that stands for the prefix in the cache once the data the
    bundle holds under ``prefix/top`` is written there: data that wheels install outside
    site-packages (jupyter's ``share/jupyter``, ruff's binary in ``bin``), which code finds
    under ``sys.prefix``. The builder has each path made from ``sys.prefix`` and a constant
    read it through this (``_compile_worker._prefix_joins``)."""
    hook = _hook
    prefix = sys.prefix
    if hook is None or not isinstance(path, str) or prefix != sys.base_prefix:
        return path  # (in a venv made from the executable, its prefix is the venv's)
    if path == prefix:
        rest = ""
    elif path.startswith(prefix + "/" + top) and path[len(prefix) + 1 + len(top) :][:1] in ("", "/"):
        rest = path[len(prefix) :]
    else:
        return path
    real = hook.prefix_data(top)
    return path if real is None else real + rest  # type: ignore[return-value]


def scripts_beside(path: "T") -> "T":
    """``path`` (the directory of ``sys.executable``), or the scripts directory that stands for
    it in the cache (``PathHook.write_scripts``): in a venv, ``bin/`` holds python and the
    commands of its distributions, which code looks for beside ``sys.executable``
    (ansible-lint for ansible's, then puts that directory on PATH). The builder has each
    ``os.path.dirname(sys.executable)`` and ``Path(sys.executable).parent`` read through this
    (``_compile_worker._executable_dirs``)."""
    hook = _hook
    beside = sys.executable.rpartition("/./")[0]  # spelled so when it is this file (the app's python)
    if hook is None or not beside or sys.prefix != sys.base_prefix or str(path) not in (beside, beside + "/."):
        return path
    real = hook.write_scripts()
    if real is None:
        return path
    return (real + "/bin") if type(path) is str else type(path)(real + "/bin")  # type: ignore[call-arg,return-value]


class _Written:
    """What ``written()`` gives for a namespace package whose portions were written."""

    __file__ = None

    def __init__(self, name: object, paths: "list[object]") -> None:
        self.__name__ = name
        self.__path__ = paths


def written_spec(spec: "T") -> "T":
    """``spec``, or a copy of it naming its module's files in the cache once the package holding
    them is written there. The builder has each function that looks for files beside a module
    found by ``find_spec()`` read the spec's paths through this (``_compile_worker._spec_lookups``):
    jinja2's ``PackageLoader("pkg")``, starlette's ``StaticFiles(packages=["pkg"])``."""
    hook = _hook
    return spec if hook is None else hook.written_spec(spec)


_every_package_written = False


def write_every_package() -> None:
    """Writes every package of the bundle to the cache, once, the directories holding them then
    on sys.path. The builder has each function that looks for modules' files under the entries
    of sys.path (astroid's, for pylint) call this first (``_compile_worker._searches_sys_path``)."""
    global _every_package_written
    if _hook is not None and not _every_package_written:
        _every_package_written = True
        _hook.write_every_package()


def put_cache_on_sys_path() -> None:
    """Puts the directories that hold the written packages on sys.path, each after the bundle's
    entry it copies, before they are written: called by the import of a module that looks for
    modules' files under the entries of sys.path (see ``write_every_package``), while the app
    has not yet copied sys.path to restore it later (pylint does, around linting)."""
    if _hook is not None:
        _hook.put_cache_on_sys_path()


def _locate_frozen_stdlib(stdlib: str) -> None:
    """The stdlib's frozen modules (os, codecs, ...) get their __file__ in the bundle, as in
    python they get theirs on disk: CPython's path calculation found no stdlib on disk."""
    if sys.version_info < (3, 11):
        return  # frozen modules carry no __file__ before 3.11
    sys._stdlib_dir = stdlib  # type: ignore[attr-defined]  # read by FrozenImporter.find_spec
    frozen = sys.modules["_frozen_importlib"].FrozenImporter
    for name, module in list(sys.modules.items()):  # those the main phase imported: codecs, io, abc
        spec = getattr(module, "__spec__", None)
        state = getattr(spec, "loader_state", None)
        if spec is not None and spec.loader is frozen and state is not None and not state.filename:
            state.filename, _ = frozen._resolve_filename(
                state.origname, name, spec.submodule_search_locations is not None
            )
            module.__file__ = state.filename


def complete(app: bool = False) -> None:
    """Finishes setting up the import system once CPython's main phase has run; ``app``:
    started as the app (else as python, for the app's child processes)."""
    hook = _hook
    assert hook is not None, "install() runs first"
    # The main phase put zipimport's hook first; the bundle's paths are not zip files.
    if sys.path_hooks[0] is not hook:
        sys.path_hooks.remove(hook)
        sys.path_hooks.insert(0, hook)
    sys.meta_path.append(_metadata.DistributionFinder(hook))
    try:
        _onebin.open_code_with(hook.open_code)
    except SystemError:
        pass  # an embedder's open_code hook came first
    _locate_frozen_stdlib(hook.bundle.path("lib/python%d.%d" % sys.version_info[:2]))
    _add_site_builtins()
    if not app and sys.version_info < (3, 13) and sys.excepthook is sys.__excepthook__:
        sys.excepthook = sys.__excepthook__ = _print_exception  # as exit_status() does for the app
    if app:
        _import_site_later()
    own_venv = _onebin.venv and not _onebin.venv_system_site  # the bundle's site-packages left out
    if (app or _onebin.site) and not own_venv:  # where a venv's python runs site: its .pth files
        _process_pth(hook.bundle)
    if _onebin.venv:
        _enter_venv(hook, _onebin.venv)
    if _onebin.site:
        # Started as python, without -S: site's last step, which pip's build isolation needs
        # (the sitecustomize it puts on PYTHONPATH adds the build environment).
        import site  # while no_site is 1 (see _import_site_later): importing it runs nothing

        _onebin.set_flag("no_site", 0)
        site.execsitecustomize()


def _import_site_later() -> None:
    """Sets sys.flags.no_site to 0, as the runtime does what `site` does at start (multiprocessing
    gives the flags to its workers as python's options: with -S they skipped the .pth files), and
    has a later `import site` run none of it again, as in python, which imported it at start.
    Importing it now would import os, 2 ms of a small app's start: its code runs when the app
    first imports it, with no_site 1 then (``_SiteFinder``)."""
    sys.meta_path.insert(0, _SiteFinder)
    _onebin.set_flag("no_site", 0)


class _SiteFinder:
    """The first sys.meta_path entry until ``site`` is imported: finds it through the others,
    for its code to run with sys.flags.no_site 1 (see ``_import_site_later``)."""

    @staticmethod
    def find_spec(fullname: str, path: object = None, target: object = None) -> "_ModuleSpec | None":
        if fullname != "site":
            return None
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None) if finder is not _SiteFinder else None
            spec: _ModuleSpec | None = None if find_spec is None else find_spec(fullname, path, target)
            if spec is not None:
                spec.loader = _SiteLoader(spec.loader)  # type: ignore[assignment]  # typeshed wants load_module()
                return spec
        return None


class _SiteLoader:
    """Runs ``site``'s code as its own loader does, with sys.flags.no_site 1 (its main() does
    not run); the module then names its own loader, as if _SiteFinder had not been there."""

    def __init__(self, loader: "Any") -> None:
        self._loader = loader

    def __getattr__(self, name: str) -> object:
        return getattr(self._loader, name)  # get_code() for runpy's `-m site`, get_source()...

    def create_module(self, spec: "_ModuleSpec") -> object:
        return self._loader.create_module(spec)

    def exec_module(self, module: "ModuleType") -> None:
        module.__loader__ = module.__spec__.loader = self._loader  # type: ignore[union-attr]
        import os  # noqa: F401  # site's costly import, done before another thread could see no_site 1

        _onebin.set_flag("no_site", 1)
        try:
            self._loader.exec_module(module)
        finally:
            _onebin.set_flag("no_site", 0)
        if _SiteFinder in sys.meta_path:
            sys.meta_path.remove(_SiteFinder)


def _process_pth(bundle: "_bundle.Bundle") -> None:
    """What ``site`` does with the ``.pth`` files of site-packages (site.addpackage): adds the
    bundle's directories they name to sys.path and runs their ``import`` lines, reporting an
    error as site does and skipping the rest of that file."""
    failed = None
    # site.addpackage's local, which setuptools' *-nspkg.pth lines read from their caller's frame
    sitedir = bundle.path("lib/python%d.%d/site-packages" % sys.version_info[:2])
    for name, number, kind, value in bundle.index.pth:
        if name == failed:
            continue
        if kind == "path":
            path = bundle.path(value)
            if path not in sys.path:
                sys.path.append(path)
            continue
        try:
            exec(value)
        except Exception:
            import traceback

            print("Error processing line %d of %s/%s:\n" % (number, sitedir, name), file=sys.stderr)
            for record in traceback.format_exception(*sys.exc_info()):
                for line in record.splitlines():
                    print("  " + line, file=sys.stderr)
            print("\nRemainder of file ignored", file=sys.stderr)
            failed = name


def _enter_venv(hook: "_finder.PathHook", prefix: str) -> None:
    """Started as the python of a virtual environment made from this executable (the launcher
    found and read its pyvenv.cfg): as CPython's site does for a venv, sys.prefix is the venv and its
    site-packages, .pth files and all, is on sys.path; the app's own packages are not, unless
    the venv includes system site packages."""
    sys.prefix = sys.exec_prefix = prefix
    version = "python%d.%d" % sys.version_info[:2]
    if not _onebin.venv_system_site:
        own = hook.bundle.path("lib/%s/site-packages" % version)
        sys.path[:] = [entry for entry in sys.path if entry != own]
    import site  # sys.flags.no_site is set: importing it adds nothing by itself

    site.addsitedir("%s/lib/%s/site-packages" % (prefix, version))


def _add_site_builtins() -> None:
    """exit(), quit(), help(), copyright, credits and license, which `site` would have added:
    scripts call exit() as freely as sys.exit()."""
    import _sitebuiltins
    import builtins

    builtins.quit = _sitebuiltins.Quitter("quit", "Ctrl-D (i.e. EOF)")
    builtins.exit = _sitebuiltins.Quitter("exit", "Ctrl-D (i.e. EOF)")
    builtins.help = _sitebuiltins._Helper()
    builtins.copyright = _printer("copyright", sys.copyright)
    builtins.credits = _printer(
        "credits",
        "Thanks to CWI, CNRI, BeOpen, Zope Corporation, the Python Software Foundation, "
        "and a cast of thousands for supporting Python development.  See www.python.org for more information.",
    )
    builtins.license = _printer("license", "See https://www.python.org/psf/license/")


def _printer(name: str, text: str) -> "_sitebuiltins._Printer":
    """A _sitebuiltins._Printer of ``text``, as site makes, without the ``import os`` of its
    __init__ (for file names it is not given): a millisecond of every start."""
    import _sitebuiltins

    printer: _sitebuiltins._Printer = object.__new__(_sitebuiltins._Printer)
    vars(printer).update(_Printer__name=name, _Printer__data=text, _Printer__lines=None, _Printer__filenames=[])
    return printer


def main_code() -> "CodeType":
    """Prepares __main__ as `python app.py` would and returns the app's code."""
    assert _hook is not None, "install() runs first"
    bundle = _hook.bundle
    relpath = bundle.index.main[0]
    main = sys.modules["__main__"]
    main.__file__ = bundle.path(relpath)
    # As python puts a script's directory first on sys.path: a console script's bin/, as in a
    # venv (code that replaces or removes sys.path[0] then leaves the stdlib's entry alone).
    # A script's own directory is the first root already.
    directory = main.__file__.rpartition("/")[0]
    if directory not in sys.path:
        sys.path.insert(0, directory)
    # No __spec__, as for a script, but a loader, which serves tracebacks' source lines.
    loader = _finder.BundleLoader(_hook, "__main__", (_bundle.SOURCE, *bundle.index.main))
    main.__loader__ = loader  # type: ignore[assignment]  # typeshed wants load_module(), deprecated
    _teardown.arm(_hook.natives, bundle.index.info)
    return loader.code_for(main)


def _print_exception(exc_type: type, value: BaseException, tb: "TracebackType | None") -> None:
    """sys.excepthook of python started as the interpreter, before 3.13: the built-in hook
    reads source lines from disk only; traceback asks the module's loader, which serves them."""
    import traceback

    traceback.print_exception(exc_type, value, tb)


def exit_status(exc: BaseException) -> int:
    """The exit status for an exception that ended __main__, reporting it as python does."""
    if isinstance(exc, SystemExit):
        return _system_exit_status(exc)
    if isinstance(exc, BrokenPipeError) and _stdout_is_broken():
        _silence_stdout()
        return 1
    sys.last_type, sys.last_value, sys.last_traceback = type(exc), exc, exc.__traceback__
    if sys.version_info >= (3, 12):
        sys.last_exc = exc
    hook = sys.excepthook
    if hook is sys.__excepthook__ and sys.version_info < (3, 13):
        # Before 3.13 the built-in hook reads source lines from disk only; traceback asks
        # the module's loader, which serves them from the bundle.
        import traceback

        traceback.print_exception(type(exc), exc, exc.__traceback__)
    else:
        hook(type(exc), exc, exc.__traceback__)
    return 1


def ending(status: int) -> None:
    """The app has ended with ``status``; the interpreter's finalisation comes next."""
    _teardown.ending(status)


def flush_stdio() -> int:
    """Flushes stdout before finalisation; a closed pipe ends the program quietly. A stream
    the app deleted (streamlink's ``del sys.stdout``) is skipped, as CPython skips it."""
    stdout = getattr(sys, "stdout", None)
    for stream in (stdout, getattr(sys, "stderr", None)):
        try:
            if stream is not None:
                stream.flush()
        except BrokenPipeError:
            if stream is stdout:
                _silence_stdout()
                return 1
        except (OSError, ValueError):
            pass
    return 0


def _system_exit_status(exc: SystemExit) -> int:
    code = exc.code
    if code is None:
        return 0
    if isinstance(code, int):
        return code & 0xFF
    try:
        print(code, file=sys.stderr)
    except Exception:
        pass
    return 1


def _stdout_is_broken() -> bool:
    import select

    try:
        poller = select.poll()
        poller.register(1, select.POLLOUT)
        return any(event & select.POLLERR for _, event in poller.poll(0))
    except (OSError, ValueError):
        return False


def _silence_stdout() -> None:
    # Python's documented recipe: further writes to stdout go nowhere, instead of failing again
    # when the interpreter flushes it at exit.
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.close(devnull)
