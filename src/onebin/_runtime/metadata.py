"""importlib.metadata for the bundled distributions.

``importlib.metadata`` asks every ``sys.meta_path`` entry for ``find_distributions``;
``DistributionFinder`` answers from the index for the bundle's directories on sys.path (its
roots, and those an app or a .pth file adds), so ``version()``, ``entry_points()``, ``files``
and ``requires()`` work as in a venv.
"""

import sys

TYPE_CHECKING = False  # the runtime cannot import typing when it starts
if TYPE_CHECKING:
    from collections.abc import Iterator
    from importlib.metadata import Distribution

    from .finder import PathHook

_distribution_class: "type[Distribution] | None" = None


def normalize(name: str) -> str:
    """A distribution name as importlib.metadata compares them (PEP 503, with underscores)."""
    out = []
    previous_separator = False
    for char in name.lower():
        if char in "-_.":
            if not previous_separator:
                out.append("_")
            previous_separator = True
        else:
            out.append(char)
            previous_separator = False
    return "".join(out)


class DistributionFinder:
    """A sys.meta_path entry that finds no module but lists the bundle's distributions."""

    def __init__(self, hook: "PathHook") -> None:
        self._hook = hook
        self._bundle = hook.bundle

    def find_spec(self, fullname: str, path: object = None, target: object = None) -> None:
        return None

    def invalidate_caches(self) -> None:
        """The bundle never changes."""

    def find_distributions(self, context: object = None) -> "Iterator[Distribution]":
        name = getattr(context, "name", None)
        wanted = normalize(name) if name else None
        paths = getattr(context, "path", None)
        cls = _bundle_distribution_class()
        for path in sys.path if paths is None else paths:
            relpath = self._bundle.relpath(path) if isinstance(path, str) else None
            # a root's *.dist-info; another directory's (setuptools/_vendor, one an app or a .pth
            # file puts on sys.path) *.dist-info and *.egg-info, as the build listed them
            for normalized, distinfo in self._bundle.index.distributions.get(relpath, ()):
                if wanted is None or wanted == normalized:
                    yield cls(self._hook, distinfo, normalized)  # type: ignore[call-arg]


def _bundle_distribution_class() -> "type[Distribution]":
    # importlib.metadata cannot be imported when this module is executed (core phase).
    global _distribution_class
    if _distribution_class is None:
        _distribution_class = _define_distribution_class()
    return _distribution_class


def _define_distribution_class() -> "type[Distribution]":
    import os
    from importlib.metadata import Distribution

    from .resources import BundlePath

    class BundleDistribution(Distribution):
        """A ``*.dist-info`` directory in the bundle."""

        def __init__(self, hook: "PathHook", distinfo: str, normalized: str) -> None:
            self._hook = hook
            self._bundle = hook.bundle
            self._distinfo = distinfo
            self._normalized = normalized

        def read_text(self, filename: str) -> str | None:
            # "": a *.egg-info file itself, as PathDistribution reads it for its metadata
            relpath = self._distinfo + "/" + filename if filename else self._distinfo
            try:
                return self._bundle.read(relpath).decode("utf-8")
            except FileNotFoundError:
                return None

        def locate_file(self, path: "str | os.PathLike[str]") -> BundlePath:
            parent = BundlePath(self._bundle, self._hook.cache, self._distinfo.rpartition("/")[0])
            return parent.joinpath(str(path))

        @property
        def _normalized_name(self) -> str:
            return self._normalized

        # Name and Version as the build read them from METADATA, where they are plain: the
        # same strings, without parsing the whole file (its long description too) as email.
        @property
        def name(self) -> str:
            known = self._bundle.index.headers.get(self._distinfo)
            return known[0] if known is not None else super().name

        @property
        def version(self) -> str:
            known = self._bundle.index.headers.get(self._distinfo)
            return known[1] if known is not None else super().version

        def __repr__(self) -> str:
            return "<onebin BundleDistribution %r>" % self._bundle.path(self._distinfo)

    return BundleDistribution
