import importlib

from ..registry import module_name, plugin_files


def initialize():
    """Loads every plugin module beside this one, as pylint's checkers.initialize() does."""
    loaded = []
    for path in plugin_files(__path__[0]):
        if not path.endswith("__init__.py"):
            loaded.append(importlib.import_module(module_name(path)).NAME)
    return loaded
