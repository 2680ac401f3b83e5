"""Running a bundled module's code as importlib's own loaders run theirs.

The builder compiles this module with the file name ``<frozen importlib._bootstrap_external>``
(``compile.RUNTIME_AS_IMPORTLIB``), that of CPython's own ``exec_module()``, and the loaders
take these functions as their ``exec_module``; they run the module's code through importlib's
``_call_with_frames_removed()``. So, as in a venv, a traceback of an exception raised while a
module is imported shows the line that imported it and the module's own lines, without the
import system's frames between them (CPython removes the chunk of importlib frames that ends
with that call), and ``warnings.warn(..., stacklevel=2)`` at a module's top level names the
line that imported it (warnings skip importlib's frames). It imports only built-in modules.
"""

import _imp
import sys

TYPE_CHECKING = False  # the runtime cannot import typing when it starts
if TYPE_CHECKING:
    from types import ModuleType
    from typing import Any

_call_with_frames_removed = sys.modules["_frozen_importlib"]._call_with_frames_removed


def exec_module(loader: "Any", module: "ModuleType") -> None:
    """A pure-Python module's: its code from ``loader.code_for()``, then ``loader.imported()``."""
    _call_with_frames_removed(exec, loader.code_for(module), module.__dict__)
    loader.imported(module)


def exec_extension(loader: "Any", module: "ModuleType") -> None:
    """A C extension module's (multi-phase initialisation)."""
    _call_with_frames_removed(_imp.exec_dynamic, module)
