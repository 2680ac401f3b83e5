"""The payload format: the trailer at the end of an executable and the index it points to.

This module is the one reader of the format, used by the runtime inside every executable and by
``onebin inspect``; ``onebin.payload`` is its writer. An executable is laid out as::

    [launcher ELF][blobs ...][paths][runtime][index][ahead][trailer: 104 bytes]

(With --compress, the launcher is stored deflated behind an unpacker: launcher/onebin_stub.h.)

The trailer holds the payload's offset and size, then (offset, size) pairs, relative to the
payload's start, of four sections: ``paths`` (the sys.path roots, relative to the executable,
one per line), ``runtime`` (the marshalled modules of this package), ``index`` (see ``Index``)
and ``ahead`` (the blobs the app's first imports need, which the launcher prepares on another
CPU: launcher.c, "work done ahead"), then a 64-bit hash (launcher/onebin_hash.h: XXH64 over 1 MiB
chunks) of the trailer's first 96 bytes and the sections, which the launcher checks before it trusts
any of them. Every blob has its own hash in the index, checked when the blob is first used
(``Bundle.checked``).
"""

import marshal

TYPE_CHECKING = False  # the runtime cannot import typing when it starts
if TYPE_CHECKING:
    from collections.abc import Callable, ItemsView, Iterator, ValuesView
    from typing import Any

TRAILER_MAGIC = b"\x7fONEBIN\x01"
TRAILER_SIZE = 104
FORMAT_VERSION = 7

# Kinds of entries in Index.modules.
SOURCE = 0  # a .py module: (kind, file, code_offset, code_size, code_hash[, codec[, unpacked size]])
PACKAGE = 1  # a regular package: file is its __init__.py
EXTENSION = 2  # a C extension module: file is its .so
NAMESPACE = 3  # a directory without __init__.py (PEP 420): file is the directory
EXTENSION_PACKAGE = 4  # a package whose __init__ is a C extension (mypyc compiles some)

# How a blob is stored: the fourth field of its (offset, size, hash, ...) entry in Index.files
# (sixth in Index.modules); an entry without it is stored as it is.
ZLIB = 1  # deflated with zlib: a module's source, and with --compress, most blobs
LZ4 = 2  # packed (launcher/onebin_lz4.h), then its unpacked size: the default for large enough blobs
SOLID = 3  # with --compress, a module's source: then (start, length) of it in the xz stream's bytes

# The bundle file holding the bodies of the scripts a venv has in bin/ (console scripts'
# wrappers, distributions' Python scripts), without their #! line: name, NUL, body, NUL...
SCRIPT_WRAPPERS = ".scripts"


def pack_wrappers(wrappers: "dict[str, bytes]") -> bytes:
    """The ``SCRIPT_WRAPPERS`` file for ``wrappers`` (name -> body; neither holds a NUL)."""
    return b"\0".join(part for name, body in wrappers.items() for part in (name.encode(), body))


def unpack_wrappers(data: bytes) -> "list[tuple[str, bytes]]":
    """(name, body) of each script of a ``SCRIPT_WRAPPERS`` file."""
    parts = data.split(b"\0")
    return [(parts[i].decode(), parts[i + 1]) for i in range(0, len(parts) - 1, 2)]


def unpack_solid(data: bytes | memoryview) -> bytes:
    """The bytes of a block of sources that the builder compressed together with xz."""
    import _lzma  # an extension module of the bundle, as zlib is: lzma.py would import more

    decompressor = _lzma.LZMADecompressor()
    unpacked = decompressor.decompress(data)
    if not decompressor.eof:
        raise ValueError("a block of sources ends early")
    return unpacked


def inflate(data: bytes | memoryview) -> bytes:
    """Bytes that the builder deflated (a module's source; with --compress, any blob but the
    zlib extension module's and its libraries', which are packed with LZ4)."""
    import zlib  # an extension module of the bundle: imported when first needed

    return zlib.decompress(data)


class PayloadError(Exception):
    """The payload is damaged or of an unknown format."""


def _u64(data: bytes, at: int) -> int:
    return int.from_bytes(data[at : at + 8], "little")


class Trailer:
    """The fixed-size record at the end of an executable that locates its payload."""

    SECTIONS = ("paths", "runtime", "index", "ahead")

    def __init__(
        self, payload_offset: int, payload_size: int, sections: dict[str, tuple[int, int]], hash: int = 0
    ) -> None:
        self.payload_offset = payload_offset
        self.payload_size = payload_size
        self.sections = sections  # {"paths": (offset, size), ...}
        self.hash = hash  # of head() and the sections' bytes

    @classmethod
    def parse(cls, data: bytes, file_size: int) -> "Trailer":
        """Reads the trailer from the last TRAILER_SIZE bytes of a file of ``file_size`` bytes."""
        if len(data) != TRAILER_SIZE or data[:8] != TRAILER_MAGIC:
            raise PayloadError("no onebin trailer at its end")
        if int.from_bytes(data[8:12], "little") != FORMAT_VERSION:
            raise PayloadError("its payload has an unknown format version")
        offset, size = _u64(data, 16), _u64(data, 24)
        if offset + size + TRAILER_SIZE != file_size:
            raise PayloadError("payload size mismatch")
        sections: dict[str, tuple[int, int]] = {}
        for i, name in enumerate(cls.SECTIONS):
            start, length = _u64(data, 32 + 16 * i), _u64(data, 40 + 16 * i)
            if start + length > size:
                raise PayloadError("the %s section lies outside the payload" % name)
            sections[name] = (start, length)
        return cls(offset, size, sections, _u64(data, TRAILER_SIZE - 8))

    def head(self) -> bytes:
        """The trailer's first 96 bytes: everything but the hash."""
        fields = [self.payload_offset, self.payload_size]
        for name in self.SECTIONS:
            fields.extend(self.sections[name])
        body = b"".join(v.to_bytes(8, "little") for v in fields)
        return TRAILER_MAGIC + FORMAT_VERSION.to_bytes(4, "little") + bytes(4) + body

    def pack(self) -> bytes:
        """The trailer's bytes."""
        return self.head() + self.hash.to_bytes(8, "little")


class Table:
    """A read-only mapping of str to marshallable values, as stored in the payload: looked up
    without being read whole, so that an import costs one probe, not a parse of every entry.

    Layout (little-endian)::

        u32 count | u32 slots (a power of two) | u32 slot[slots] | record * count
        record: u16 key length | key (UTF-8) | u32 value length | value (marshal)

    A slot holds 0 (empty) or 1 + the offset of a record after the slot array; a key's probe
    starts at ``fnv1a64(key) % slots`` and goes on to the next slot until it meets an empty one.
    ``lookup(at, size, key)``, the launcher's C probe of the table at ``at`` in the payload,
    serves ``get``; ``keys(at, size)``, its listing of the keys, serves iteration; the values
    are read all at once only for ``items()`` and ``values()``.
    """

    def __init__(
        self,
        data: bytes | memoryview,
        lookup: "Callable[[int, int, str], Any] | None" = None,
        at: int = 0,
        keys: "Callable[[int, int], list[str]] | None" = None,
    ) -> None:
        self._data = data
        self._lookup = lookup  # (offset in the payload, size, key)
        self._list_keys = keys  # (offset in the payload, size)
        self._at = at
        self._all: dict[str, Any] | None = None
        self._keys: tuple[str, ...] | None = None

    @staticmethod
    def pack(entries: "dict[str, Any]") -> bytes:
        """The table's bytes for ``entries``."""
        slots = 8
        while slots < 2 * len(entries):
            slots *= 2
        slot = [0] * slots
        records = bytearray()
        for key, value in entries.items():
            raw, blob = key.encode("utf-8"), marshal.dumps(value)
            at = fnv1a64(raw) % slots
            while slot[at]:
                at = (at + 1) % slots
            slot[at] = 1 + len(records)
            records += len(raw).to_bytes(2, "little") + raw + len(blob).to_bytes(4, "little") + blob
        head = len(entries).to_bytes(4, "little") + slots.to_bytes(4, "little")
        return head + b"".join(n.to_bytes(4, "little") for n in slot) + bytes(records)

    def get(self, key: str, default: "Any" = None) -> "Any":
        if self._lookup is not None:
            found = self._lookup(self._at, len(self._data), key)
            return default if found is None else found
        return self.all().get(key, default)

    def all(self) -> "dict[str, Any]":
        """Every entry, read once."""
        if self._all is None:
            data = self._data
            count, slots = _u32(data, 0), _u32(data, 4)
            at = 8 + 4 * slots
            entries = {}
            for _ in range(count):
                size = int.from_bytes(data[at : at + 2], "little")
                key = str(data[at + 2 : at + 2 + size], "utf-8")
                at += 2 + size
                size = _u32(data, at)
                entries[key] = marshal.loads(data[at + 4 : at + 4 + size])
                at += 4 + size
            self._all = entries
        return self._all

    def keys(self) -> "tuple[str, ...]":
        """Every key, in stored order, read once (without the values, given ``keys``)."""
        if self._keys is None:
            if self._list_keys is not None and self._all is None:
                self._keys = tuple(self._list_keys(self._at, len(self._data)))
            else:
                self._keys = tuple(self.all())
        return self._keys

    def __contains__(self, key: object) -> bool:
        return isinstance(key, str) and self.get(key) is not None

    def __getitem__(self, key: str) -> "Any":
        found = self.get(key)
        if found is None:
            raise KeyError(key)
        return found

    def __iter__(self) -> "Iterator[str]":
        return iter(self.keys())

    def __len__(self) -> int:
        return _u32(self._data, 0)

    def items(self) -> "ItemsView[str, Any]":
        return self.all().items()

    def values(self) -> "ValuesView[Any]":
        return self.all().values()


def fnv1a64(data: bytes) -> int:
    """FNV-1a, 64-bit: where a key's probe starts in a Table (the launcher computes it too)."""
    h = 0xCBF29CE484222325
    for byte in data:
        h = ((h ^ byte) * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return h


def _u32(data: bytes | memoryview, at: int) -> int:
    return int.from_bytes(data[at : at + 4], "little")


class Index:
    """What the payload holds, as the builder described it.

    The index section is the ``modules`` table, then the ``files`` table, then a marshalled
    dict of the rest; each table is preceded by its size (u64)::

        u64 size | modules Table | u64 size | files Table | marshal(dict)

    ``roots`` are the sys.path entries, relative to the executable (also in the paths section).
    ``files`` maps every file's path, relative to the executable, to (offset, size, hash) of its
    bytes, (offset, size, hash, ZLIB) of their zlib compression (Python sources: they are read
    only for tracebacks and ``get_source``), or (offset, size, hash, LZ4, unpacked size), or
    (with --compress, a source) (offset, size, hash, SOLID, start, length) of an xz stream of
    sources and where in its bytes the file is; the hash is of the stored bytes.
    ``dirs`` is the set of directories. ``modules`` maps "<directory>/<name>" to the entry for
    the module ``name`` found in that directory, with the precedence FileFinder would apply.
    ``preload`` maps a native file to the bundled libraries it needs, in load order; a tuple in
    that list is a group of libraries that need each other, loaded together. For those,
    ``needed_paths`` gives (offset, length, library) of each DT_NEEDED string naming another
    member, where the runtime writes that member's memfd path.
    ``distributions`` maps each sys.path root to its ``*.dist-info`` directories; ``headers``
    maps a ``*.dist-info`` directory to the Name and Version its METADATA gives, where those
    are plain (see the builder's payload._metadata_headers).
    ``main`` describes the entry point: (file, code offset, code size, code hash[, codec...]),
    its index entry in ``modules`` but for the kind.
    ``materialize`` maps a module that reaches data by path to the units (top-level
    directories) it needs as real files (see cache.py and the builder's datafiles.py).
    ``regexes`` is the entry of a blob holding the regular expressions the modules compile as
    they are imported, compiled (see integrations.py), or None.
    ``pth`` is what ``site`` would do with the ``.pth`` files of site-packages (see the
    builder's payload._pth_lines): lines to run, and directories to add to sys.path.
    ``prefix_data`` names the top directories (``share``, ``etc``) of the data that wheels
    install outside site-packages, which the bundle holds under its prefix.
    ``unit_libraries`` maps a package (unit) to the units holding the libraries its native
    files need (a wheel's ``*.libs``), written with it: its files find them through their RPATH.
    ``info`` holds the Python version, the entry point, the builder's version, the app's id and
    the build's inputs: (name, version, url, sha256) of each distribution and of the script.
    """

    def __init__(self, modules: Table, files: Table, data: "dict[str, Any]") -> None:
        self.modules = modules
        self.files = files
        self.roots = data["roots"]
        self.dirs = data["dirs"]
        self.preload = data["preload"]
        self.needed_paths = data["needed_paths"]
        self.distributions = data["distributions"]
        self.headers = data["headers"]
        self.main = data["main"]
        self.materialize = data["materialize"]
        self.regexes = data["regexes"]
        self.pth = data.get("pth", ())
        self.prefix_data = data.get("prefix_data", ())
        self.unit_libraries = data.get("unit_libraries", {})
        self.info = data["info"]

    @staticmethod
    def pack(modules: "dict[str, Any]", files: "dict[str, Any]", rest: "dict[str, Any]") -> bytes:
        """The index section's bytes."""
        parts = []
        for table in (Table.pack(modules), Table.pack(files)):
            parts += [len(table).to_bytes(8, "little"), table]
        return b"".join(parts) + marshal.dumps(rest)

    @classmethod
    def load(
        cls,
        blob: bytes | memoryview,
        lookup: "Callable[[int, int, str], Any] | None" = None,
        at: int = 0,
        keys: "Callable[[int, int], list[str]] | None" = None,
    ) -> "Index":
        """Reads the index section ``blob``; with ``lookup(offset, size, key)`` and ``keys(offset,
        size)``, the launcher's probe and listing of a table at ``offset`` in the payload,
        tables are probed, not read whole; ``at`` is the section's offset in the payload."""
        try:
            tables = []
            start = 0
            for _ in range(2):
                size = int.from_bytes(blob[start : start + 8], "little")
                start += 8
                if size < 8 or start + size > len(blob):
                    raise ValueError("a table overruns the index")
                tables.append(Table(blob[start : start + size], lookup, at + start, keys))
                start += size
            return cls(tables[0], tables[1], marshal.loads(blob[start:]))
        except (ValueError, EOFError, TypeError, KeyError) as exc:
            raise PayloadError("the index cannot be read (%s)" % exc) from None


class Bundle:
    """The payload of one executable, mapped in memory, with paths rooted at the executable."""

    def __init__(
        self,
        root: str,
        payload: bytes | memoryview,
        index: Index,
        payload_offset: int = 0,
        verify: "Callable[..., object] | None" = None,
        release: "Callable[[int, int], object] | None" = None,
        load_code: "Callable[..., Any] | None" = None,
        unpacked: "Callable[[int, int, int, int, str], bytes] | None" = None,
    ) -> None:
        self._children: dict[str, list[str]] | None = None
        self._verify = verify  # (offset, size, hash, name): raises or ends the process
        self._release = release  # (offset, size): drop the mapping's pages of a range
        self._load_code = load_code  # (offset, size, hash, name[, unpacked size]): verify, unmarshal, release
        self._unpacked = unpacked  # (offset, size, hash, unpacked size, name): verify, unpack, release
        self._verified: set[int] = set()
        self._solid: tuple[int, bytes] | None = None  # the last block of sources unpacked: (offset, bytes)
        self.root = root
        self.payload_offset = payload_offset  # where the payload starts in the executable
        self.prefix = root + "/"
        self.payload = payload
        self.index = index

    def path(self, relpath: str) -> str:
        """The virtual absolute path of a bundled file or directory."""
        return self.prefix + relpath

    def relpath(self, path: str) -> str | None:
        """The bundle-relative path of ``path``, or None if it is not inside the bundle."""
        if path.startswith(self.prefix):
            return path[len(self.prefix) :].rstrip("/")
        return None

    def blob(self, offset: int, size: int) -> bytes | memoryview:
        """A read-only view of bytes in the payload."""
        return self.payload[offset : offset + size]

    def checked(self, offset: int, size: int, hash: int, name: str) -> bytes | memoryview:
        """The blob, once its hash has been verified (once per blob)."""
        if self._verify is not None and offset not in self._verified:
            self._verify(offset, size, hash, name)
            self._verified.add(offset)
        return self.payload[offset : offset + size]

    def code(self, entry: "tuple[int, ...]", name: str) -> "Any":
        """The code object marshalled in the blob of ``entry`` (offset, size, hash[, codec[,
        unpacked size]]), verified; its pages are dropped after."""
        if self._load_code is not None and (len(entry) == 3 or entry[3] == LZ4):
            return self._load_code(entry[0], entry[1], entry[2], name, *entry[4:5])
        return marshal.loads(self.unpack(entry, name))

    def release(self, offset: int, size: int) -> None:
        """Drops the pages of a blob that has been used (copied or unmarshalled)."""
        if self._release is not None:
            self._release(offset, size)

    def read(self, relpath: str) -> bytes:
        """The bytes of a bundled file; raises FileNotFoundError if there is none."""
        entry = self.index.files.get(relpath)
        if entry is None:
            raise FileNotFoundError(2, "No such file in the bundle", self.path(relpath))
        return self.unpack(entry, relpath)

    def unpack(self, entry: "tuple[int, ...]", name: str) -> bytes:
        """The bytes of the blob of ``entry`` (offset, size, hash[, codec[, unpacked size]]),
        verified and unpacked; its pages are dropped after."""
        offset, size, hash = entry[:3]
        codec = entry[3] if len(entry) > 3 else None
        if codec == LZ4:
            if len(entry) < 5 or self._unpacked is None:
                raise PayloadError("%s is packed, and its entry or an unpacker is missing" % name)
            return self._unpacked(offset, size, hash, entry[4], name)
        if codec == SOLID and len(entry) == 6:
            if self._solid is None or self._solid[0] != offset:
                self._solid = (offset, self._unpack(offset, size, hash, name, unpack_solid))
            start, length = entry[4:6]
            return self._solid[1][start : start + length]
        if codec not in (None, ZLIB):
            raise PayloadError("%s is stored in an unknown way (%r)" % (name, codec))
        return self._unpack(offset, size, hash, name, inflate if codec == ZLIB else None)

    def _unpack(self, offset: int, size: int, hash: int, name: str, unpack: "Callable[[bytes], bytes] | None") -> bytes:
        data = bytes(self.checked(offset, size, hash, name))
        self.release(offset, size)
        if unpack is None:
            return data
        try:
            return unpack(data)
        except ImportError:
            raise  # zlib or _lzma cannot be loaded here: linecache, for one, expects ImportError
        except Exception:  # zlib.error, _lzma.LZMAError: imported only when first needed
            raise PayloadError("%s cannot be unpacked" % name) from None

    def children(self, relpath: str) -> list[str]:
        """The names in a bundled directory, sorted."""
        if self._children is None:
            children: dict[str, list[str]] = {}
            for path in [*self.index.dirs, *self.index.files.keys()]:
                parent, _, name = path.rpartition("/")
                children.setdefault(parent, []).append(name)
            self._children = {k: sorted(v) for k, v in children.items()}
        return self._children.get(relpath, [])


def read_executable(
    path: str,
    digest: "Callable[[bytes | memoryview, int], int]",
    unpack: "Callable[[bytes | memoryview, int], bytes] | None" = None,
) -> "tuple[Trailer, Bundle]":
    """Reads the payload of an executable file (for ``onebin inspect``), checking it with
    ``digest(data, seed)``, the payload hash (onebin.hashing), and unpacking LZ4 blobs with
    ``unpack(data, unpacked size)``; raises PayloadError."""
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < TRAILER_SIZE:
        raise PayloadError("too short to hold a payload")
    trailer = Trailer.parse(data[-TRAILER_SIZE:], len(data))
    payload = memoryview(data)[trailer.payload_offset : trailer.payload_offset + trailer.payload_size]
    hash = digest(trailer.head(), 0)
    for name in Trailer.SECTIONS:
        start, length = trailer.sections[name]
        hash = digest(payload[start : start + length], hash)
    if hash != trailer.hash:
        raise PayloadError("header checksum mismatch")
    start, length = trailer.sections["index"]
    index = Index.load(payload[start : start + length])

    def verify(offset: int, size: int, expected: int, name: str) -> None:
        if offset + size > len(payload) or digest(payload[offset : offset + size], 0) != expected:
            raise PayloadError("checksum mismatch in %s" % name)

    def unpacked(offset: int, size: int, expected: int, raw_size: int, name: str) -> bytes:
        verify(offset, size, expected, name)
        if unpack is None:
            raise PayloadError("%s is packed, and nothing here unpacks it" % name)
        return unpack(payload[offset : offset + size], raw_size)

    return trailer, Bundle(path, payload, index, trailer.payload_offset, verify, unpacked=unpacked)
