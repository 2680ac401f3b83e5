"""Lists a directory another module computed (glances' stats.load_plugins())."""

import os

from datapkg.paths import PLUGINS


def names():
    return sorted(name for name in os.listdir(PLUGINS) if name.endswith(".py"))
