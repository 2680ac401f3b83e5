"""onebin: one executable file from a Python application, imported from memory."""

__version__ = "0.1.0"

from .builder import BuildResult, Reporter, build  # noqa: E402
from .errors import OnebinError  # noqa: E402
from .sources import PipOptions  # noqa: E402

__all__ = ["BuildResult", "OnebinError", "PipOptions", "Reporter", "__version__", "build"]
