"""Uses its extension if the library it needs is there, as numba uses TBB."""

try:
    from . import _fast
except ImportError as exc:
    _fast = None
    REASON = str(exc)
else:
    REASON = ""
