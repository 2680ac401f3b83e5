"""Real files in a private per-app cache directory, written on first need and checked on use.

Most data is served from memory (``importlib.resources``, ``pkgutil.get_data``, ``get_data``).
A path is only needed when code opens a file beside itself through ``__file__``, or asks for
one (``importlib.resources.as_file``, ``pkg_resources.resource_filename``), and for native
libraries when memory loading is refused (no ``/proc``, a noexec policy for memfds). The builder
marks the modules that read their own ``__file__`` and name a data file or directory beside
them; when such a module is imported, the top-level package holding it (its "unit") is written
here, and its ``__file__`` then points here. Apps that need no path write nothing.

Layout: ``$ONEBIN_CACHE_DIR`` (else ``$XDG_CACHE_HOME/onebin``, else ``~/.cache/onebin``, with
the account's home directory where HOME is not set)
``/apps/<app id>/`` holding each unit at its path in the bundle, ``native/`` for native files,
and ``.manifest/`` recording (size, mtime, inode) of each file written. The app id is a hash of
the payload: a new build gets a new directory, an unchanged one reuses it.

Trust: every directory on the way must belong to this user (or root) and be writable by no one
else; directories and files are created 0700, with O_EXCL|O_NOFOLLOW. A unit is written to a
private temporary directory and renamed into place, so readers see all of it or none of it and
concurrent starts race harmlessly. Each process checks a unit's files against its manifest
(a stat each) the first time it uses it; a file whose content is not what the index says is
replaced, not trusted.
"""

import posix
import sys

from . import trace as _trace

try:  # the launcher's; the builder imports this module for unit_of(), without it
    from _onebin import manifest as _stat_lines
except ImportError:
    _stat_lines = None  # type: ignore[assignment]

TYPE_CHECKING = False  # the runtime cannot import typing when it starts
if TYPE_CHECKING:
    from collections.abc import Callable

    from .bundle import Bundle

_DIR_MODE = 0o700
# Writable by its owner, as a venv's files are: venv copies its activate scripts from the
# stdlib with shutil.copymode (nox's session venvs), and a program in bin/ runs.
_FILE_MODE = 0o700
_S_IFMT, _S_IFDIR, _S_ISVTX = 0o170000, 0o040000, 0o1000


class CacheUnavailable(OSError):
    """The cache directory cannot be used: not writable, or not safe."""


class Cache:
    """The files an app has written to its cache directory."""

    def __init__(self, bundle: "Bundle") -> None:
        self._bundle = bundle
        self._base: str | None = None
        self._planned: str | None = None
        self._ready: dict[str, str] = {}  # unit -> its real path, checked in this process
        self._flagged_units: set[str] | None = None  # units that some module needs written
        self._earlier: set[str] | None = None  # manifests' names of the units written by earlier runs
        self._warned = False
        # Called with (unit, real path) once a unit's files are ready in this process.
        self.on_ready: Callable[[str, str], None] = lambda unit, real: None

    def real_path(self, relpath: str) -> str | None:
        """The real file for ``relpath`` if its unit is (or, for a marked module or package,
        must be) written."""
        units = self._bundle.index.materialize.get(relpath)
        if units is not None:
            try:
                for unit in units:
                    self.materialize(unit)
            except OSError as exc:
                self.warn(relpath, exc)
                return None
        elif not self._ready:
            return None
        if unit_of(relpath, self._bundle.index.roots) in self._ready:
            return self.base_path() + "/" + relpath.removesuffix("/-")
        return None

    def written_earlier(self, relpath: str) -> str | None:
        """The real file for ``relpath`` if an earlier run wrote its unit (a package whose code
        needed real files: onnxruntime's), checked now; else None. An extension of that
        package then loads from its copy, as one written in this run does: its code finds the
        files beside it (onnxruntime's provider library, through ``dladdr()``), and it is
        mapped from the page cache rather than copied into memory. One listing of the
        manifests tells which units were written."""
        roots = self._bundle.index.roots
        unit = unit_of(relpath, roots)
        if unit in roots:
            return None
        if self._earlier is None:
            try:
                self._earlier = set(posix.listdir(self.planned_base_path() + "/.manifest"))
            except OSError:
                self._earlier = set()
        if _manifest_name(unit) not in self._earlier:
            return None
        try:
            self.materialize(unit)
        except OSError as exc:
            self.warn(relpath, exc)
            return None
        return self.base_path() + "/" + relpath

    def compiled(self, relpath: str) -> "bytes | None":
        """The marshalled code an earlier run stored for the module ``relpath`` (a source that an
        import hook compiles: hy's ``.hy``, which the build cannot compile), if any."""
        try:
            return _read_file(self._compiled_path(relpath))
        except OSError:
            return None

    def store_compiled(self, relpath: str, data: bytes) -> None:
        """Keeps the marshalled code of ``relpath`` for the next runs, as python keeps a .pyc;
        if the cache cannot be written, the next run compiles it again."""
        try:
            final = self._compiled_path(relpath)
            _makedirs(final.rpartition("/")[0])
            tmp = "%s.tmp-%d" % (final, posix.getpid())
            _unlink(tmp)
            _write_file(tmp, data, 0o600)
            posix.rename(tmp, final)
        except OSError:
            pass

    def _compiled_path(self, relpath: str) -> str:
        return self.base_path() + "/.compiled/" + _manifest_name(relpath)

    def real_directory(self, relpath: str) -> str | None:
        """The real copy of a bundled directory if its unit is written, or if any of its
        modules will need it written (so that paths derived from either agree)."""
        roots = self._bundle.index.roots
        unit = unit_of(relpath + "/-", roots)
        if self._flagged_units is None:
            self._flagged_units = {unit_of(m, roots) for m in self._bundle.index.materialize} - set(roots)
        if unit in self._flagged_units and unit not in self._ready:
            try:
                self.materialize(unit)
            except OSError as exc:
                self.warn(relpath, exc)
                return None
        return self.real_path(relpath + "/-")

    def path_for(self, relpath: str) -> str:
        """A real path for a bundled file or directory, writing its unit if needed."""
        inside = relpath + "/-" if relpath in self._bundle.index.dirs else relpath  # a directory: its own unit
        self.materialize(unit_of(inside, self._bundle.index.roots))
        return self.base_path() + "/" + relpath

    def write_roots(self, roots: "list[str]") -> "dict[str, str]":
        """Writes every unit of ``roots`` but distributions' metadata (read from memory);
        returns each unit written in this call and its real path, without calling
        ``on_ready`` for them."""
        all_roots = self._bundle.index.roots
        units: dict[str, list[tuple[str, str]]] = {}
        for relpath in self._bundle.index.files:
            unit = unit_of(relpath, all_roots)
            root = unit if unit in all_roots else unit.rpartition("/")[0]
            if root in roots and not unit.endswith((".dist-info", ".egg-info")):
                inner = relpath.rpartition("/")[2] if unit == root else relpath[len(unit) + 1 :]
                units.setdefault(unit, []).append((inner, relpath))
        written = {}
        for unit in sorted(units):
            if unit not in self._ready:
                # A root's own files as materialize() lists them: the script's root holds more.
                files = None if unit in all_roots else sorted(units[unit])
                written[unit] = self.materialize(unit, files, notify=False)
        return written

    def write_unit_of(self, relpath: str) -> None:
        """Writes the unit holding the module ``relpath`` now, its modules then naming it (see
        ``on_ready``); warns once if the cache cannot be written."""
        unit = unit_of(relpath, self._bundle.index.roots)
        if unit not in self._bundle.index.roots:  # a script's directory: written with the script
            self.write(unit)

    def write(self, unit: str) -> str | None:
        """The real path of ``unit``, written now if it was not; None, after a warning (once),
        if the cache cannot be written."""
        try:
            return self.materialize(unit)
        except OSError as exc:
            self.warn(unit, exc)
            return None

    def write_scripts(self, directory: str, files: "list[tuple[str, bytes]]") -> None:
        """Writes each of ``files`` (name, content) that is not there as it is into the cache's
        ``directory``, executable: files made by this process rather than units of the bundle
        (``PathHook.write_scripts``), so checked by their content rather than a manifest."""
        final = self.base_path() + "/" + directory
        _makedirs(final)
        for name, data in files:
            path = final + "/" + name
            try:
                if _read_file(path) == data:
                    continue
            except OSError:
                pass
            tmp = "%s/.%s.tmp-%d" % (final, name, posix.getpid())
            _unlink(tmp)
            _write_file(tmp, data)
            posix.rename(tmp, path)

    def relpath(self, path: str) -> str | None:
        """The bundle path of a path inside the written units, or None."""
        base = self._base or self._planned
        if base is not None and path.startswith(base + "/"):
            return path[len(base) + 1 :].rstrip("/")
        return None

    def native_path(self, relpath: str) -> str:
        """A real copy of a native file, for when it cannot be loaded from memory."""
        return self.materialize("native/" + relpath)

    def materialize(self, unit: str, files: "list[tuple[str, str]] | None" = None, notify: bool = True) -> str:
        """Writes ``unit`` (whose files are ``files``, if known) if it is not there or not
        intact; returns its real path. ``notify``: call ``on_ready`` if it was not ready."""
        found = self._ready.get(unit)
        if found is not None:
            return found
        final = self.base_path() + "/" + unit
        if files is None:
            files = self._unit_files(unit)
        fresh = bool(files and files[0][0]) and unit not in self._bundle.index.roots and not _exists(final)
        if fresh and self._write_directory(final, files):
            self._record(unit, final, files)
        else:
            self._repair(unit, final, files)
        self._ready[unit] = final
        for other in self._bundle.index.unit_libraries.get(unit, ()):
            self.materialize(other)  # its files find a wheel's *.libs beside it through their RPATH
        if notify:
            self.on_ready(unit, final)
        return final

    def _unit_files(self, unit: str) -> "list[tuple[str, str]]":
        """(path inside the unit, bundle path) of each file of ``unit``, sorted."""
        if unit.startswith("native/"):
            return [("", unit[len("native/") :])]
        prefix = unit + "/"
        if unit == self._bundle.index.main[0].rpartition("/")[0]:
            # The script's root: the script and the files and directories it names beside it.
            return [(r[len(prefix) :], r) for r in self._bundle.index.files if r.startswith(prefix)]
        if unit in self._bundle.index.roots:  # the files directly in a root (the stdlib's modules)
            return [(r.rpartition("/")[2], r) for r in self._bundle.index.files if r.rpartition("/")[0] == unit]
        return [(r[len(prefix) :], r) for r in self._bundle.index.files if r.startswith(prefix)]

    def _write_directory(self, final: str, files: "list[tuple[str, str]]") -> bool:
        """Writes a whole unit at once; False if another process did it first."""
        _makedirs(final.rpartition("/")[0])
        tmp = "%s.tmp-%d" % (final, posix.getpid())
        try:
            posix.mkdir(tmp, _DIR_MODE)
            for inner, relpath in files:
                path = tmp + "/" + inner
                _makedirs(path.rpartition("/")[0])
                _write_file(path, self._bundle.read(relpath))
            posix.rename(tmp, final)
        except OSError:
            _remove_tree(tmp)
            if not _exists(final):
                raise
            return False
        return True

    def _repair(self, unit: str, final: str, files: "list[tuple[str, str]]") -> None:
        """Checks each file against the manifest (a stat), or else its content against the
        index; rewrites what is missing or not as built."""
        try:
            text = _read_file(self._manifest(unit)).decode()
        except (OSError, UnicodeDecodeError):
            text = ""
        now = _manifest_now(final, files)
        if now == text and "\tmissing\n" not in now and "\tuntrusted\n" not in now:
            return  # every file as written: the usual case, one comparison
        recorded = text.splitlines()
        changed = len(recorded) != len(files)
        for i, ((inner, relpath), line) in enumerate(zip(files, now.splitlines(), strict=True)):
            if i < len(recorded) and recorded[i] == line and not line.endswith(("\tmissing", "\tuntrusted")):
                continue
            changed = True
            path = _join(final, inner)
            if not line.endswith(("\tmissing", "\tuntrusted")) and self._content_matches(path, relpath):
                continue
            directory, _, name = path.rpartition("/")
            _makedirs(directory)
            tmp = "%s/.%s.tmp-%d" % (directory, name, posix.getpid())
            _unlink(tmp)
            _write_file(tmp, self._bundle.read(relpath))
            posix.rename(tmp, path)
        if changed:
            self._record(unit, final, files)

    def _content_matches(self, path: str, relpath: str) -> bool:
        try:
            return _read_file(path) == self._bundle.read(relpath)
        except OSError:
            return False

    def _record(self, unit: str, final: str, files: "list[tuple[str, str]]") -> None:
        lines = _manifest_now(final, files)
        manifest = self._manifest(unit)
        tmp = "%s.tmp-%d" % (manifest, posix.getpid())
        _unlink(tmp)
        _write_file(tmp, lines.encode(), 0o600)
        posix.rename(tmp, manifest)

    def _manifest(self, unit: str) -> str:
        return self.base_path() + "/.manifest/" + _manifest_name(unit)

    def planned_base_path(self) -> str:
        """Where ``base_path()`` is or will be, without creating it."""
        if self._planned is None:
            self._planned = self._base or _cache_home() + "/apps/" + self._bundle.index.info["id"]
        return self._planned

    def base_path(self) -> str:
        if self._base is None:
            home = _cache_home()
            base = home + "/apps/" + self._bundle.index.info["id"]
            _makedirs(base + "/.manifest")
            _check_private(base)
            self._base = base
        return self._base

    def warn(self, relpath: str, exc: OSError) -> None:
        if self._warned:
            return
        self._warned = True
        print(
            "onebin: warning: %s needs its files on disk, but the cache directory cannot be written "
            "(%s); code that opens files beside it will fail. Set ONEBIN_CACHE_DIR to a writable "
            "directory." % (self._bundle.path(relpath), exc),
            file=sys.stderr,
        )


def _manifest_name(unit: str) -> str:
    return unit.replace("%", "%25").replace("/", "%2F")


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
        if value and value.startswith(b"/"):
            return value.decode() + suffix
    home = environ.get(b"HOME")
    if home and home.startswith(b"/"):
        return home.decode() + "/.cache/onebin"
    try:  # no HOME (env -i, a service): the account's home directory, as os.path.expanduser
        import pwd

        return pwd.getpwuid(posix.geteuid()).pw_dir + "/.cache/onebin"
    except (ImportError, KeyError):
        raise CacheUnavailable("neither ONEBIN_CACHE_DIR, XDG_CACHE_HOME, HOME nor the account names a home") from None


def _check_private(path: str) -> None:
    """Every directory from / to ``path`` belongs to this user or root, and no one else can
    write to it (but sticky directories such as /tmp, owned by root)."""
    uid = posix.geteuid()
    current = ""
    for part in path.split("/")[1:]:
        current += "/" + part
        st = posix.stat(current)
        if st.st_uid not in (0, uid):
            raise CacheUnavailable("%s belongs to another user" % current)
        writable_by_others = st.st_mode & 0o022
        if writable_by_others and not (st.st_mode & _S_ISVTX and st.st_uid == 0 and current != path):
            raise CacheUnavailable("%s is writable by other users" % current)


def _manifest_now(final: str, files: "list[tuple[str, str]]") -> str:
    """The manifest of a unit's files as they are now: "<file>\t<size> <mtime_ns> <inode>" each,
    "missing" or "untrusted" (not a regular file of this user, or writable by others) instead of the
    numbers; stat'ed by the launcher (``_onebin.manifest``)."""
    assert _stat_lines is not None, "only the executable writes and checks units"
    return _stat_lines(final, [inner for inner, _ in files], posix.geteuid())


def _join(directory: str, inner: str) -> str:
    return directory + "/" + inner if inner else directory


def _exists(path: str) -> bool:
    try:
        posix.lstat(path)
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


def _read_file(path: str) -> bytes:
    """The bytes of a file, read with posix alone: before the interpreter's main phase (the
    encodings package, deflated with --compress, needs zlib), builtins have no ``open`` yet."""
    fd = posix.open(path, posix.O_RDONLY | posix.O_CLOEXEC)
    try:
        chunks: list[bytes] = []
        while True:
            chunk = posix.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            chunks.append(chunk)
    finally:
        posix.close(fd)


def _write_file(path: str, data: bytes, mode: int = _FILE_MODE) -> None:
    if _trace.ON:
        _trace.emit("write %s" % path.replace(".tmp-%d" % posix.getpid(), ""))
    flags = posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL | posix.O_NOFOLLOW | posix.O_CLOEXEC
    fd = posix.open(path, flags, mode)
    try:
        view = memoryview(data)
        while view:
            view = view[posix.write(fd, view) :]
    finally:
        posix.close(fd)


def _unlink(path: str) -> None:
    try:
        posix.unlink(path)
    except OSError:
        pass


def _remove_tree(path: str) -> None:
    try:
        entries = posix.listdir(path)
    except OSError:
        _unlink(path)
        return
    for name in entries:
        child = path + "/" + name
        try:
            st = posix.lstat(child)
        except OSError:
            continue
        if st.st_mode & _S_IFMT == _S_IFDIR:
            _remove_tree(child)
        else:
            _unlink(child)
    try:
        posix.rmdir(path)
    except OSError:
        pass
