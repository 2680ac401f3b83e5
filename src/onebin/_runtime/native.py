"""Shared libraries and C extension modules loaded from memory.

Each file is copied from the executable into a memfd (inside the kernel, or unpacked by the
launcher if it is packed with LZ4), and dlopen()ed as ``/proc/self/fd/N``; where that is
refused, from a verified copy in the per-app cache. An extension of a package that was written
to the cache anyway (see cache.py) is loaded from its copy there, which costs no copying. The
libraries an extension needs (a wheel's ``*.libs/``, or the libssl that ``_ssl`` needs) are
loaded first, in dependency order, so that the dynamic loader finds their SONAMEs already
loaded and never searches the disk.

glibc recognises an already-loaded library by the path string it was opened with, so a
``/proc/self/fd/N`` path must never be handed to dlopen() twice. Memfds are kept open, which
keeps their numbers taken; if the app closes them (as daemons do) and a number comes back, the
new memfd is moved to a number that was never used.
"""

import posix

import _onebin

from . import trace as _trace
from .bundle import ZLIB

TYPE_CHECKING = False  # the runtime cannot import typing when it starts
if TYPE_CHECKING:
    from .bundle import Bundle
    from .cache import Cache


class NativeLoader:
    """Loads the bundle's native files: libraries with dlopen, extensions via _imp.

    From memfds when the system allows it; otherwise (no /proc, memfds refused or not
    executable) from verified copies in the per-app cache, which it then uses for good.
    """

    def __init__(self, bundle: "Bundle", cache: "Cache") -> None:
        self._bundle = bundle
        self._cache = cache
        self._in_memory = True
        self._load_written = True  # False once a written copy was refused (a noexec mount)
        self._libraries: dict[str, int] = {}  # relpath -> dlopen handle
        self._used_fds: set[int] = set()
        self._origins: dict[str, str] = {}  # path loaded from -> relpath
        self._parent_memfds: dict[str, str] | None = None  # memfd name -> /proc/PPID/fd/N
        self._prefetched: dict[str, int] = {}  # relpath -> a memfd ready for _memfd
        self._executable = -1  # a descriptor of this executable's file, once one is needed
        self._proc_seen = False  # whether /proc/self/fd/N paths were seen to work

    def load_extension_file(self, relpath: str, written: "str | None" = None) -> str:
        """Loads what the extension ``relpath`` needs; returns a path to a copy of it to load:
        ``written``, its checked copy in the cache if its package was written there (as a
        mypyc library's is: mapped from the page cache, mypy's 37 MB cost nothing, where the
        memfd copy made `mypy --version` 20 ms slower), else a memfd (or, where those are
        refused, a copy in the cache)."""
        if not self._load_written:
            written = None
        # Written with its package, the wheel libraries it needs are beside it (the index's
        # unit_libraries, see Cache.materialize): loaded from there, not copied into memfds.
        preload = self._bundle.index.preload.get(relpath, ())
        if preload and self._in_memory:
            needed = [lib for item in preload for lib in (item if isinstance(item, tuple) else (item,))]
            needed = [lib for lib in needed if lib not in self._libraries and self._written_copy(lib) is None]
            self._prefetch(needed + ([] if written else [relpath]))
        for item in preload:
            if isinstance(item, tuple):
                if item[0] not in self._libraries:
                    self._load_group(item, relpath)
            elif item not in self._libraries:
                self._libraries[item] = self._dlopen(item, relpath, self._written_copy(item))
        if written is not None:
            if _trace.ON:
                _trace.emit("load %s from its written copy (%s)" % (relpath, written))
            self._origins[written] = relpath
            return written
        return self._loadable_path(relpath)

    def _written_copy(self, relpath: str) -> "str | None":
        """The checked copy of a library in its package written to the cache, if it was
        (pyarrow's libarrow, beside its extensions): mapped from the page cache as in a venv,
        not copied into memory at every start."""
        return self._cache.real_path(relpath) if self._load_written else None

    def _load_group(self, group: "tuple[str, ...]", needed_by: str) -> None:
        """Libraries that need each other: each names the others by path, then one dlopen()
        loads them all. (From the cache, they find each other beside them through $ORIGIN.)"""
        written = {member: self._written_copy(member) for member in group}
        if all(written.values()):
            for member in group:
                self._libraries[member] = self._dlopen(member, needed_by, written[member])
            return
        paths = {member: self._loadable_path(member) for member in group}
        if self._in_memory:
            for member in group:
                fd = int(paths[member].rpartition("/")[2])
                for offset, length, other in self._bundle.index.needed_paths.get(member, ()):
                    name = paths[other].encode()
                    if len(name) > length:
                        raise ImportError("cannot link %s to %s in memory" % (member, other), path=needed_by)
                    posix.pwrite(fd, name + b"\0", offset)
        for member in group:
            self._libraries[member] = self._dlopen(member, needed_by, paths[member])

    def fall_back(self, problem: BaseException, written: bool = False) -> bool:
        """After a failed load: if ``problem`` says the system refused to map the file, stops
        loading written copies (if it was one: the cache is on a noexec mount), or else from
        memory (then from copies in the cache); True if so, and the load may be tried again."""
        message = str(problem)
        if "map segment" not in message and "ermission denied" not in message and "not permitted" not in message:
            return False
        if written and self._load_written:
            self._load_written = False
            return True
        if self._in_memory:
            self._in_memory = False
            return True
        return False

    def _dlopen(self, library: str, needed_by: str, path: "str | None" = None) -> int:
        """Loads ``library`` from ``path`` (a memfd of a group, or its written copy), else from
        memory; a written copy refused (a noexec mount) falls back to memory."""
        written = path is not None and path == self._written_copy(library)
        if written and _trace.ON:
            _trace.emit("load %s from its written copy (%s)" % (library, path))
        try:
            loaded: int = _onebin.dlopen(path or self._loadable_path(library))
        except OSError as exc:
            if (path is None or written) and self.fall_back(exc, written=written):
                return self._dlopen(library, needed_by)
            raise ImportError(
                "cannot load %s, needed by %s: %s" % (library, needed_by, exc),
                path=self._bundle.path(needed_by),
            ) from None
        if written and path is not None:
            self._origins[path] = library
        return loaded

    def loaded(self) -> "list[str]":
        """The bundled native files loaded so far (libraries and extensions)."""
        return list(self._origins.values())

    def relpath_of(self, path: str) -> "str | None":
        """The bundled file that a loaded library's path (as dlopen() was given it) is a copy of."""
        return self._origins.get(path)

    def _loadable_path(self, relpath: str) -> str:
        if self._in_memory:
            try:
                path = self._memfd(relpath)
            except OSError:
                self._in_memory = False
            else:
                if _trace.ON:
                    _trace.emit("load %s from memory (%s)" % (relpath, path))
                self._origins[path] = relpath
                return path
        try:
            path = self._cache.native_path(relpath)
        except OSError as exc:
            raise ImportError(
                "cannot load %s: memory loading is refused here (no /proc, or memfds may not be "
                "executed) and the cache directory cannot be written (%s); mount /proc, or set "
                "ONEBIN_CACHE_DIR to a writable directory" % (relpath, exc),
                path=self._bundle.path(relpath),
            ) from None
        if _trace.ON:
            _trace.emit("load %s from the cache (%s)" % (relpath, path))
        self._origins[path] = relpath
        return path

    def _prefetch(self, relpaths: "list[str]") -> None:
        """Copies an extension and the libraries it needs into memfds in one ``_onebin.copy``,
        which works on every CPU when they are large (numpy's and OpenBLAS)."""
        entries = self._bundle.index.files
        todo = []
        for relpath in relpaths:
            if relpath not in self._prefetched and entries[relpath][3:4] != (ZLIB,):  # not deflated
                fd = self._ahead(relpath)
                if fd < 0:
                    fd = self._parents_copy(relpath)
                if fd >= 0:
                    self._prefetched[relpath] = fd
                else:
                    todo.append(relpath)
        if len(todo) < 2:
            return
        fds: list[int] = []
        try:
            for relpath in todo:
                fds.append(self._new_memfd(relpath))
            self._copy_into(fds, todo)
        except OSError:
            for fd in fds:
                posix.close(fd)
            return  # each is copied on its own, through the mapping if need be
        for relpath, fd in zip(todo, fds, strict=True):
            if self._shareable(relpath):
                _onebin.seal(fd)
            self._prefetched[relpath] = fd

    def _new_memfd(self, relpath: str) -> int:
        # A library that no other is linked to by path is the same bytes in every process: its
        # memfd is named after its hash and sealed, so the app's child processes (multiprocessing's
        # spawn workers, sys.executable run by subprocess) can share it instead of copying.
        name = self._shared_name(relpath) if self._shareable(relpath) else relpath.rpartition("/")[2]
        return posix.memfd_create(name, posix.MFD_CLOEXEC | posix.MFD_ALLOW_SEALING)

    def _shareable(self, relpath: str) -> bool:
        return relpath not in self._bundle.index.needed_paths  # no other member's path written in

    def _shared_name(self, relpath: str) -> str:
        """The name of a shareable library's memfd: its blob's hash and its file name."""
        return "onebin-%016x-%s" % (self._bundle.index.files[relpath][2], relpath.rpartition("/")[2])

    def _memfd(self, relpath: str) -> str:
        fd = self._prefetched.pop(relpath, -1)
        if fd < 0:
            fd = self._ahead(relpath)
        if fd < 0:
            fd = self._parents_copy(relpath)
        if fd < 0:
            fd = self._new_memfd(relpath)
            try:
                entry = self._bundle.index.files[relpath]
                if entry[3:4] == (ZLIB,):  # deflated (--compress)
                    self._inflate_into(fd, entry[0], entry[1], entry[2], relpath)
                else:
                    try:
                        self._copy_into([fd], [relpath])
                    except OSError:  # sendfile() refused (an unusual file system)
                        posix.ftruncate(fd, 0)
                        posix.lseek(fd, 0, 0)
                        _write_all(fd, self._bundle.read(relpath))
                if self._shareable(relpath):
                    _onebin.seal(fd)
            except BaseException:
                posix.close(fd)
                raise
        try:
            fd = self._unused_number(fd)
        except BaseException:
            posix.close(fd)
            raise
        self._used_fds.add(fd)
        path = "/proc/self/fd/%d" % fd
        if not self._proc_seen:
            posix.stat(path)  # no /proc: OSError, and the cache instead
            self._proc_seen = True
        return path

    def _ahead(self, relpath: str) -> int:
        """The memfd of ``relpath`` that the launcher made ahead (launcher.c), or -1."""
        entry = self._bundle.index.files[relpath]
        fd = _onebin.ahead(entry[0]) if entry[3:4] != (ZLIB,) else -1
        if fd >= 0 and _trace.ON:
            _trace.emit("%s was copied ahead" % relpath)
        return fd

    def _parents_copy(self, relpath: str) -> int:
        """A new descriptor of the parent's sealed memfd of ``relpath``, if the parent process is
        this same executable and has one (and lets itself be looked at); else -1."""
        if not self._shareable(relpath):
            return -1
        if self._parent_memfds is None:
            self._parent_memfds = {}
            try:
                if _onebin.parent_is_this_executable():
                    parent = "/proc/%d/fd/" % posix.getppid()
                    for number in posix.listdir(parent):
                        target = posix.readlink(parent + number)
                        if target.startswith("/memfd:onebin-"):
                            self._parent_memfds[target[7:].partition(" (deleted)")[0]] = parent + number
            except OSError:
                pass
        path = self._parent_memfds.get(self._shared_name(relpath))
        if path is None:
            return -1
        try:
            fd = posix.open(path, posix.O_RDONLY | posix.O_CLOEXEC)
        except OSError:
            return -1
        if not _onebin.sealed(fd):
            posix.close(fd)
            return -1
        if _trace.ON:
            _trace.emit("share %s with the parent process" % relpath)
        return fd

    def _copy_into(self, fds: "list[int]", relpaths: "list[str]") -> None:
        """Copies blobs into memfds (inside the kernel, or unpacking them) while their hashes are
        checked (a damaged library would crash the process), so that their pages need not
        become resident here too."""
        entries = self._bundle.index.files
        tasks = []
        source = -1  # this executable, opened only if a blob is copied rather than unpacked
        for fd, relpath in zip(fds, relpaths, strict=True):
            entry = entries[relpath]
            if len(entry) == 3 and source < 0:
                source = self._executable_fd()
            tasks.append((fd, source, entry[0], entry[1], entry[2], entry[4] if len(entry) > 4 else 0, relpath))
        _onebin.copy(tasks)

    def _inflate_into(self, fd: int, offset: int, size: int, hash: int, relpath: str) -> None:
        """Inflates a deflated blob into fd a megabyte at a time: never whole in memory."""
        import zlib

        inflater = zlib.decompressobj()
        view = self._bundle.checked(offset, size, hash, relpath)
        for start in range(0, size, 1 << 20):
            _write_all(fd, inflater.decompress(view[start : start + (1 << 20)]))
            self._bundle.release(offset + start, min(1 << 20, size - start))
        _write_all(fd, inflater.flush())

    def _executable_fd(self) -> int:
        """A descriptor of this executable's file (opened again if the app closed it); OSError
        if there is none: ``_onebin.file`` is a path (with --compress, see launcher/stub.c) that
        another file took."""
        if self._executable >= 0 and _is_executable(self._executable):
            return self._executable
        fd = posix.open(_onebin.file, posix.O_RDONLY | posix.O_CLOEXEC)
        if not _is_executable(fd):
            posix.close(fd)
            raise OSError("%s was replaced while it ran" % _onebin.executable)
        self._executable = fd
        return fd

    def _unused_number(self, fd: int) -> int:
        held = []
        while fd in self._used_fds:
            held.append(fd)
            fd = posix.dup(fd)
        for old in held:
            posix.close(old)
        return fd


def _is_executable(fd: int) -> bool:
    """Whether ``fd`` is open on this executable's file."""
    try:
        st = posix.fstat(fd)
    except OSError:
        return False
    return (st.st_dev, st.st_ino) == _onebin.identity


def _write_all(fd: int, data: "bytes | memoryview") -> None:
    done = 0
    while done < len(data):
        done += posix.write(fd, data[done:])
