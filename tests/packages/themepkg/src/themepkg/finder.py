import os
import sys


def find_source(name):
    """The file of a module's source, looked for under each sys.path entry as astroid does
    (for pylint), without importing it."""
    parts = name.split(".")
    for entry in sys.path:
        path = os.path.join(entry, *parts)
        for candidate in (os.path.join(path, "__init__.py"), path + ".py"):
            if os.path.isfile(candidate):
                return candidate
    return None
