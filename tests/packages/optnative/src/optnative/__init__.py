"""Uses its extension _fast if the library it needs is there, as numba uses TBB; _plain, an
extension that needs nothing, is imported before where() hands out the package's directory."""

import os

from . import _plain

try:
    from . import _fast
except ImportError as exc:
    _fast = None
    REASON = str(exc)
else:
    REASON = ""


def where():
    return os.path.dirname(__file__)
