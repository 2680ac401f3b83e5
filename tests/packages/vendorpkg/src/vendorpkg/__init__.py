"""Puts its _vendor directory at the end of sys.path when imported, as pkg_resources puts
setuptools/_vendor there. extra/ is left for the app to add."""

import os
import sys

VENDOR = os.path.join(os.path.dirname(__file__), "_vendor")
if VENDOR not in sys.path:
    sys.path.append(VENDOR)
