"""Reads its translations through the directory its package computed, as sphinx.application
reads sphinx/locale through sphinx.package_dir: in a package, not a data directory, and named
on its own, so only the import of HERE says that a path is used."""

import os

from tplpkg import HERE


def hello(language):
    path = os.path.join(HERE, "locale", language + ".txt")
    if not os.path.exists(path):
        return "Hello"  # as gettext falls back to English
    with open(path) as f:
        return f.read().strip()
