"""Paths made at import from __file__, for other modules (glances' globals.plugins_path)."""

import os

HERE = os.path.realpath(os.path.dirname(__file__))
PLUGINS = os.path.realpath(os.path.join(HERE, "sub"))
