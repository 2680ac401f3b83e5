"""Reads a data file through a directory its package computed from __file__ (sphinx's
package_dir): it reads neither __file__ nor __path__ itself."""

import os

from tplpkg import HERE


def skeleton():
    with open(os.path.join(HERE, "skeleton", "readme.txt")) as f:
        return f.read().strip()
