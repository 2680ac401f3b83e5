"""Looks for its data under sys.prefix, where pip installs a wheel's .data/data."""

import os
import sys
from pathlib import Path

# jupyter_core.paths: ENV_JUPYTER_PATH = [str(Path(sys.prefix, "share", "jupyter"))], at import
DATA_PATH = [str(Path(sys.prefix, "share", "prefixdata"))]


def template_dirs():
    return [os.path.join(d, "templates") for d in DATA_PATH if os.path.isdir(d)]


def render(name):
    for directory in template_dirs():
        path = os.path.join(directory, "basic", "index.tpl")
        if os.path.exists(path):
            with open(path) as f:
                return f.read().format(name=name)
    raise LookupError("no template in %s" % DATA_PATH)


def settings():
    # in a function, through the / operator and an f-string
    config = Path(sys.prefix) / "etc" / "prefixdata" / "settings.cfg"
    same = f"{sys.prefix}/etc/prefixdata/settings.cfg"
    return config.read_text().splitlines()[1], os.path.samefile(config, same)


def is_venv():
    return sys.prefix != sys.base_prefix  # not a path: untouched
