"""Real files for package data, in a private per-app cache directory, written on first need.

Most data is served from memory (``importlib.resources``, ``pkgutil.get_data``, ``get_data``).
A path is only needed when code opens a file beside itself through ``__file__``, or asks for
one (``importlib.resources.as_file``, ``pkg_resources.resource_filename``). The builder marks
the modules that read their own ``__file__`` and name a data file or directory beside them; when
such a module is imported, the top-level package holding it (its "unit") is written here, and
its ``__file__`` then points here. Nothing else is ever written: apps that need no path write
nothing.

Layout: ``$ONEBIN_CACHE_DIR`` (else ``$XDG_CACHE_HOME/onebin``, else ``~/.cache/onebin``)
``/apps/<app id>/<path in the bundle>``. The app id is a hash of the payload, so a new build
gets a new directory and an unchanged one reuses it. Each unit is written to a private temporary
directory and renamed into place: readers see all of it or none of it, and concurrent starts
race harmlessly (the loser removes its copy).
"""

import posix
import sys

TYPE_CHECKING = False  # the runtime cannot import typing when it starts
if TYPE_CHECKING:
    from .bundle import Bundle

_DIR_MODE = 0o700
_FILE_MODE = 0o500


class CacheUnavailable(OSError):
    """The cache directory cannot be created or written."""


class Cache:
    """The materialized units of one app."""

    def __init__(self, bundle: "Bundle") -> None:
        self._bundle = bundle
        self._base: str | None = None
        self._ready: dict[str, str] = {}  # unit -> its real path
        self._warned = False

    def real_path(self, relpath: str) -> str | None:
        """The real file for ``relpath`` if its unit is (or, for a marked module, must be) written."""
        units = self._bundle.index.materialize.get(relpath)
        if units is not None:
            try:
                for unit in units:
                    self.materialize(unit)
            except OSError as exc:
                self._warn(relpath, exc)
                return None
        elif not self._ready:
            return None
        unit = unit_of(relpath, self._bundle.index.roots)
        if unit in self._ready:
            return self._base_path() + "/" + relpath
        return None

    def path_for(self, relpath: str) -> str:
        """A real path for a bundled file or directory, writing its unit if needed."""
        self.materialize(unit_of(relpath, self._bundle.index.roots))
        return self._base_path() + "/" + relpath

    def materialize(self, unit: str) -> str:
        """Writes ``unit`` (once per app version); returns its real path."""
        found = self._ready.get(unit)
        if found is not None:
            return found
        base = self._base_path()
        final = base + "/" + unit
        if not _exists(final):
            _makedirs(final.rpartition("/")[0])
            if self._is_root(unit):
                self._write_root_files(unit, final)
            else:
                self._write_directory(unit, final)
        self._ready[unit] = final
        return final

    def _is_root(self, unit: str) -> bool:
        return unit in self._bundle.index.roots

    def _write_directory(self, unit: str, final: str) -> None:
        tmp = "%s.tmp-%d" % (final, posix.getpid())
        prefix = unit + "/"
        try:
            posix.mkdir(tmp, _DIR_MODE)
            for relpath in self._bundle.index.files:
                if relpath.startswith(prefix):
                    path = tmp + "/" + relpath[len(prefix) :]
                    _makedirs(path.rpartition("/")[0])
                    _write_file(path, self._bundle.read(relpath))
            posix.rename(tmp, final)
        except OSError:
            _remove_tree(tmp)
            if not _exists(final):  # else another process got there first
                raise

    def _write_root_files(self, unit: str, final: str) -> None:
        # The files directly in a sys.path root (a script and what lies beside it).
        _makedirs(final)
        for relpath in self._bundle.index.files:
            directory, _, name = relpath.rpartition("/")
            if directory == unit and not _exists(final + "/" + name):
                tmp = "%s/.%s.tmp-%d" % (final, name, posix.getpid())
                _write_file(tmp, self._bundle.read(relpath))
                posix.rename(tmp, final + "/" + name)

    def _base_path(self) -> str:
        if self._base is None:
            base = _cache_home() + "/apps/" + self._bundle.index.info["id"]
            _makedirs(base)
            self._base = base
        return self._base

    def _warn(self, relpath: str, exc: OSError) -> None:
        if self._warned:
            return
        self._warned = True
        print(
            "onebin: warning: %s needs its files on disk, but the cache directory cannot be written "
            "(%s); code that opens files beside it will fail. Set ONEBIN_CACHE_DIR to a writable "
            "directory." % (self._bundle.path(relpath), exc),
            file=sys.stderr,
        )


def unit_of(relpath: str, roots: "tuple[str, ...]") -> str:
    """The unit holding ``relpath``: its top-level directory under its sys.path root, or the
    root itself for a file directly in it."""
    root = ""
    for candidate in roots:
        if relpath.startswith(candidate + "/") and len(candidate) > len(root):
            root = candidate
    if not root:
        return relpath.partition("/")[0]
    top, slash, _ = relpath[len(root) + 1 :].partition("/")
    return root + "/" + top if slash else root


def _cache_home() -> str:
    environ = posix.environ
    for key, suffix in ((b"ONEBIN_CACHE_DIR", ""), (b"XDG_CACHE_HOME", "/onebin")):
        value = environ.get(key)
        if value:
            return value.decode() + suffix
    home = environ.get(b"HOME")
    if not home:
        raise CacheUnavailable("neither ONEBIN_CACHE_DIR, XDG_CACHE_HOME nor HOME is set")
    return home.decode() + "/.cache/onebin"


def _exists(path: str) -> bool:
    try:
        posix.stat(path)
    except OSError:
        return False
    return True


def _makedirs(path: str) -> None:
    if _exists(path):
        return
    parent = path.rpartition("/")[0]
    if parent:
        _makedirs(parent)
    try:
        posix.mkdir(path, _DIR_MODE)
    except FileExistsError:
        pass


def _write_file(path: str, data: bytes) -> None:
    flags = posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL | posix.O_NOFOLLOW | posix.O_CLOEXEC
    fd = posix.open(path, flags, _FILE_MODE)
    try:
        view = memoryview(data)
        while view:
            view = view[posix.write(fd, view) :]
    finally:
        posix.close(fd)


def _remove_tree(path: str) -> None:
    try:
        entries = posix.listdir(path)
    except OSError:
        return
    for name in entries:
        child = path + "/" + name
        try:
            posix.unlink(child)
        except IsADirectoryError:
            _remove_tree(child)
        except OSError:
            _remove_tree(child)
    try:
        posix.rmdir(path)
    except OSError:
        pass
