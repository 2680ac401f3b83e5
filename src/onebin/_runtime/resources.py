"""``importlib.resources`` and ``importlib.metadata`` paths served from the bundle.

``BundlePath`` is a Traversable: ``files(pkg) / "data.json"`` reads from memory. It is not a
real path; ``importlib.resources.as_file()`` and ``Reader.resource_path()`` give one, from the
per-app cache (see cache.py). Once a unit is written, readers return real ``pathlib.Path``s.
"""

import _io as io  # io itself is not importable yet when this module runs

TYPE_CHECKING = False  # the runtime cannot import typing when it starts
if TYPE_CHECKING:
    from collections.abc import Iterator
    from typing import Any

    from .bundle import Bundle
    from .cache import Cache


class BundlePath:
    """A file or directory of the bundle, with the Traversable interface."""

    def __init__(self, bundle: "Bundle", cache: "Cache", relpath: str) -> None:
        self._bundle = bundle
        self._cache = cache
        self._relpath = relpath

    @property
    def name(self) -> str:
        return self._relpath.rpartition("/")[2]

    @property
    def parent(self) -> "BundlePath":
        return BundlePath(self._bundle, self._cache, self._relpath.rpartition("/")[0])

    def is_dir(self) -> bool:
        return self._relpath in self._bundle.index.dirs

    def is_file(self) -> bool:
        return self._relpath in self._bundle.index.files

    def exists(self) -> bool:
        return self.is_dir() or self.is_file()

    def iterdir(self) -> "Iterator[BundlePath]":
        for name in self._bundle.children(self._relpath):
            yield self.joinpath(name)

    def joinpath(self, *parts: str) -> "BundlePath":
        relpath = self._relpath
        for part in parts:
            for piece in str(part).split("/"):
                if piece in ("", "."):
                    continue
                if piece == "..":
                    relpath = relpath.rpartition("/")[0]
                else:  # the prefix's own files (its share/) have no directory before them
                    relpath = relpath + "/" + piece if relpath else piece
        return BundlePath(self._bundle, self._cache, relpath)

    __truediv__ = joinpath

    def read_bytes(self) -> bytes:
        return self._bundle.read(self._relpath)

    def read_text(self, encoding: str | None = None, errors: str | None = None) -> str:
        return self.read_bytes().decode(encoding or "utf-8", errors or "strict")

    def open(self, mode: str = "r", *args: object, **kwargs: object) -> "io._IOBase":
        if "w" in mode or "a" in mode or "+" in mode or "x" in mode:
            raise PermissionError(30, "The bundle is read-only", str(self))
        data = io.BytesIO(self.read_bytes())
        data.name = str(self)  # as a file's: dateutil's tzfile repr shows it
        if "b" in mode:
            return data
        return io.TextIOWrapper(data, *args, **kwargs)  # type: ignore[arg-type]

    def real_path(self) -> str:
        """A path on disk with the same content (written to the per-app cache if needed)."""
        return self._cache.path_for(self._relpath)

    # Used as a path (open(), os.path, pathlib.Path()), it becomes a real file.
    __fspath__ = real_path

    def __str__(self) -> str:
        return self._bundle.path(self._relpath)

    def __repr__(self) -> str:
        return "BundlePath(%r)" % str(self)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, BundlePath) and (self._bundle, self._relpath) == (other._bundle, other._relpath)

    def __hash__(self) -> int:
        return hash(self._relpath)


class Reader:
    """The resource reader of a package (or the directory of a module) in the bundle."""

    def __init__(self, bundle: "Bundle", cache: "Cache", relpath: str) -> None:
        self._bundle = bundle
        self._cache = cache
        self._relpath = relpath

    def files(self) -> "BundlePath | Any":
        """The package's files: a real ``pathlib.Path`` if they were written (so that every path
        the package derives agrees), else a BundlePath served from memory."""
        real = self._cache.real_directory(self._relpath)
        if real is not None:
            import pathlib

            return pathlib.Path(real)
        return BundlePath(self._bundle, self._cache, self._relpath)

    # The older ResourceReader interface, still used by Python 3.10's importlib.resources.
    def open_resource(self, resource: str) -> "io.BytesIO":
        data = io.BytesIO(self._bundle.read(self._relpath + "/" + resource))
        data.name = self._bundle.path(self._relpath + "/" + resource)
        return data

    def resource_path(self, resource: str) -> str:
        return self._cache.path_for(self._relpath + "/" + resource)

    def is_resource(self, name: str) -> bool:
        return (self._relpath + "/" + name) in self._bundle.index.files

    def contents(self) -> "Iterator[str]":
        return iter(self._bundle.children(self._relpath))
