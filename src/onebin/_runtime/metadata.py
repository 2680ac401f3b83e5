"""importlib.metadata for the bundled distributions.

``importlib.metadata`` asks every ``sys.meta_path`` entry for ``find_distributions``;
``DistributionFinder`` answers from the index for the bundle's sys.path roots, so
``version()``, ``entry_points()``, ``files`` and ``requires()`` work as in a venv.
"""

import sys

_distribution_class = None


def normalize(name):
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

    def __init__(self, bundle):
        self._bundle = bundle

    def find_spec(self, fullname, path=None, target=None):
        return None

    def invalidate_caches(self):
        """The bundle never changes."""

    def find_distributions(self, context=None):
        name = getattr(context, "name", None)
        wanted = normalize(name) if name else None
        paths = getattr(context, "path", None)
        cls = _bundle_distribution_class()
        for path in sys.path if paths is None else paths:
            root = self._bundle.relpath(path) if isinstance(path, str) else None
            for normalized, distinfo in self._bundle.index.distributions.get(root, ()):
                if wanted is None or wanted == normalized:
                    yield cls(self._bundle, distinfo, normalized)


def _bundle_distribution_class():
    # importlib.metadata cannot be imported when this module is executed (core phase).
    global _distribution_class
    if _distribution_class is None:
        _distribution_class = _define_distribution_class()
    return _distribution_class


def _define_distribution_class():
    import pathlib
    from importlib.metadata import Distribution

    class BundleDistribution(Distribution):
        """A ``*.dist-info`` directory in the bundle."""

        def __init__(self, bundle, distinfo, normalized):
            self._bundle = bundle
            self._distinfo = distinfo
            self._normalized = normalized

        def read_text(self, filename):
            try:
                return self._bundle.read(self._distinfo + "/" + filename).decode("utf-8")
            except FileNotFoundError:
                return None

        def locate_file(self, path):
            parent = self._distinfo.rpartition("/")[0]
            return pathlib.Path(self._bundle.path(parent), path)

        @property
        def _normalized_name(self):
            return self._normalized

        def __repr__(self):
            return "<onebin BundleDistribution %r>" % self._bundle.path(self._distinfo)

    return BundleDistribution
