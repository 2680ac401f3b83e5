import os
import sys


def read_theme(directory):
    if not os.path.isdir(directory):
        raise NotADirectoryError(directory)
    with open(os.path.join(directory, "theme.conf")) as f:
        return f.read().splitlines()


def plugin_files(directory):
    """The modules in a directory, listed as pylint lists its checkers."""
    return sorted(os.path.join(directory, name) for name in os.listdir(directory) if name.endswith(".py"))


def module_name(path):
    """The module a file is, found through sys.path as astroid finds it."""
    for entry in sys.path:
        if entry and path.startswith(entry.rstrip("/") + "/"):
            parts = path[len(entry.rstrip("/")) + 1 : -len(".py")].split("/")
            if os.path.isfile(os.path.join(entry, parts[0], "__init__.py")):
                return ".".join(parts)
    raise ImportError("no sys.path entry holds %s" % path)


class _Slotted(type):
    """A metaclass whose classes' ``__module__`` is not a string, as zope.interface's C base
    class ``InterfaceBase`` (a slot of that name): the runtime moves a written module's paths
    and must let such values be (twisted's plugin scan failed so)."""

    @property
    def __module__(cls):
        return 42


class Interface(metaclass=_Slotted):
    pass


PROVIDED = Interface()
DECLARED = [Interface()]
