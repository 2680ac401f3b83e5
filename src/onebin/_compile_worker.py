"""Compiles sources to marshalled code objects; run by the *target* interpreter.

Reads from stdin a marshalled list of (co_filename, path) and writes to stdout a marshalled
list, in the same order, of (code, names, compressed, imported, imports, main_imports, regexes,
directories, joined, paths, handed_imports): ``code`` is
the marshalled code object's bytes, or None where the source does not compile (importing the
module then raises its SyntaxError, as in a venv); ``names`` are the short string constants in
its code, which the builder matches against the files beside it, after ``"<directory>"`` where
its import hands out its own directory (see ``_handouts``; a function that does is made to have
its package written first), and ``"__file__"`` and ``"__path__"`` where the code uses those
names; ``compressed`` is the source compressed with
zlib, as the executable stores it; ``imported`` the modules it may import (see ``_imported``), for
``--trim-stdlib``; ``imports`` and ``main_imports`` are the imports
that run with it, and those that run only when it runs as ``__main__`` (see ``_imports``), for
the work done ahead; ``regexes`` are the regular expressions its import compiles, compiled
(see ``_regexes``); ``directories`` are the names its top-level code binds to its own directory
(sphinx's ``package_dir``), which a module importing one reaches data through; ``joined`` the
first components of the paths its import joins to its own directory; ``paths`` the names its
top-level code binds to its own directory or a path in it (glances' ``plugins_path``), and
``handed_imports`` the names it imports from other modules and hands out (see
``_imported_handouts``): a module that hands out such a name needs that module's package written.
This file runs as a script under CPython 3.10+, with nothing from onebin importable.
"""

import ast
import marshal
import os
import re
import sys
import warnings
import zlib
from array import array
from collections import deque

_CO_OPTIMIZED = 1  # a function's code: it runs when called, not when the module is imported
_DIRECTORY = "<directory>"  # first in names: its import hands out its directory (see _handouts)
_CALLED = "<called>"  # first in names: only functions that write first read its paths (see _read_only_when_called)


# Nodes that stand for an operator or a context (Load, Add, Eq...): the analyses read them as
# attributes (``node.op``), never look for them in a walk; most of the nodes a walk visits.
_LEAVES = (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop)


def _children(node):
    """``ast.iter_child_nodes()`` without the leaves: a walk here takes most of the analysis."""
    for name in node._fields:
        value = getattr(node, name, None)
        if isinstance(value, list):
            for item in value:
                if isinstance(item, ast.AST) and not isinstance(item, _LEAVES):
                    yield item
        elif isinstance(value, ast.AST) and not isinstance(value, _LEAVES):
            yield value


def _nodes(node):
    """``ast.walk()`` without the leaves: ``node`` and every node under it, in the same order."""
    todo = deque([node])
    while todo:
        current = todo.popleft()
        yield current
        todo.extend(_children(current))


def _names(code):
    """The string constants of a code object and the ones nested in it; first "__file__" if
    the code reads that name, then "__path__" if it reads that one (its own, or a module's
    attribute, as in ``os.path.join(django.__path__[0], "conf", ...)``)."""
    names, reads_file, reads_path, stack = set(), False, False, [code]
    while stack:
        current = stack.pop()
        reads_file = reads_file or "__file__" in current.co_names
        reads_path = reads_path or "__path__" in current.co_names
        for const in current.co_consts:
            if isinstance(const, str):
                if 0 < len(const) < 256 and "\n" not in const:
                    names.add(const)
            elif hasattr(const, "co_consts"):
                stack.append(const)
            elif isinstance(const, (tuple, frozenset)):
                names.update(c for c in const if isinstance(c, str) and 0 < len(c) < 256)
    names.difference_update(("__file__", "__path__", _DIRECTORY, _CALLED))
    return (["__file__"] if reads_file else []) + (["__path__"] if reads_path else []) + sorted(names)


# Calls that only compute with a path, compare it, store it or report it: a directory passed to one
# of these is not handed out. Any other call may list it, open it, or give it to code that does.
_PATH_ARITHMETIC = frozenset(
    (
        "join", "abspath", "realpath", "normpath", "normcase", "dirname", "basename", "split", "splitext",
        "exists", "isdir", "isfile", "islink", "relpath", "commonpath", "commonprefix", "expanduser",
        "Path", "PurePath", "PosixPath", "str", "fspath", "joinpath", "with_name", "with_suffix",
        "resolve", "absolute", "relative_to", "is_relative_to", "is_dir", "is_file", "startswith",
        "endswith", "len", "isinstance", "append", "insert", "extend", "add", "remove", "index", "escape",
        "format", "print", "debug", "info", "warning", "warn", "error", "exception", "critical", "log",
    )
)  # fmt: skip
_SAME_PATH = frozenset(
    ("abspath", "realpath", "normpath", "expanduser", "Path", "PurePath", "PosixPath", "str", "fspath")
)
_LISTINGS = frozenset(("iterdir", "glob", "rglob", "walk"))
_READS = _LISTINGS | {"open", "read_text", "read_bytes"}
# Calls that load a native library by path, which the dynamic loader opens itself.
_LOADS = frozenset(("dlopen", "CDLL", "PyDLL", "LoadLibrary"))
_TESTS = frozenset(("exists", "isfile", "isdir", "is_file", "is_dir"))
# Methods of a path in the directory that give a path in it again: (d / name).resolve()
_BELOW_AGAIN = frozenset(("joinpath", "replace", "strip", "rstrip", "resolve", "absolute"))


def _called(call):
    func = call.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _same_path(call):
    """Whether ``call`` gives the path it is given, in another form: ``abspath(p)``, ``str(p)``,
    ``Path(p)`` or a Path class of the package's own (sphinx's ``_StrPath(__file__)``)."""
    name = _called(call)
    return name in _SAME_PATH or (name is not None and name.endswith("Path"))


class _OwnPaths:
    """Which expressions in ``tree`` (a module, or a function given ``dirs``: its parameters
    that receive the directory) are the module's own file (``__file__``, made absolute or a
    Path) or its own directory (``__path__[0]``, ``dirname()`` or ``.parent`` of either, or of
    one above), names bound to those included; and where that directory is handed out."""

    def __init__(self, tree, dirs=(), files=(), functions=None, depth=0, below=(), holders=(), computed=()):
        self.files, self.dirs = set(files), set(dirs)
        self._depth = depth
        self._function = isinstance(tree, (ast.FunctionDef, ast.AsyncFunctionDef))
        # The module's own functions, by name: a directory passed to one is handed out if
        # that function hands out its parameter (django's find_commands(__path__[0]) does not).
        self._functions = functions if functions is not None else {
            node.name: node for node in tree.body if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
        }  # fmt: skip
        self.below, self.holders = set(below), set(holders)  # see is_below() and _holds()
        self.computed = set(computed)  # see is_computed_below()
        assigns = [
            n
            for n in _in_scope(tree)
            if (isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value is not None)
            or (isinstance(n, (ast.For, ast.AsyncFor, ast.comprehension)) and isinstance(n.target, ast.Name))
        ]
        given = len(self.files) + len(self.dirs) + len(self.below) + len(self.holders)
        self._bind(assigns)
        # Whether this scope binds paths of its own (a function's local LOADER_DIR), which the
        # functions defined in it may use: see _walk().
        self.binds = len(self.files) + len(self.dirs) + len(self.below) + len(self.holders) > given

    def _bind(self, assigns):
        """Adds the names that ``assigns`` bind to the file, the directory, a path in it, or a
        container holding one, to a name bound to a name bound to ..."""
        for _ in range(3):
            known = len(self.files) + len(self.dirs) + len(self.below) + len(self.holders)
            for node in assigns:
                if isinstance(node, (ast.For, ast.AsyncFor, ast.comprehension)):
                    self._bind_loop(node.target.id, node.iter)
                    continue
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                names = [t.id for t in targets if isinstance(t, ast.Name)]
                if self.is_dir(node.value):
                    self.dirs.update(names)
                elif self.is_file(node.value):
                    self.files.update(names)
                elif self.is_below(node.value):
                    self.below.update(names)
                    if self.is_computed_below(node.value):
                        self.computed.update(names)
                elif self._holds(node.value):
                    self.holders.update(names)
                for target in targets:  # here, _ = os.path.split(os.path.abspath(__file__))
                    if isinstance(target, ast.Tuple) and target.elts and isinstance(target.elts[0], ast.Name):
                        value = node.value
                        if isinstance(value, ast.Call) and _called(value) == "split" and self._one_file(value):
                            self.dirs.add(target.elts[0].id)
            if len(self.files) + len(self.dirs) + len(self.below) + len(self.holders) == known:
                break

    def _bind_loop(self, name, iterated):
        """A loop's name over a list holding the directory, or a path in it, and maybe others:
        eyeD3's ``for d in [os.path.dirname(__file__)] + paths:``, then ``os.listdir(d)``."""
        sides = [iterated.left, iterated.right] if isinstance(iterated, ast.BinOp) else [iterated]
        values = [value for side in sides if isinstance(side, (ast.List, ast.Tuple, ast.Set)) for value in side.elts]
        if any(self.is_dir(value) for value in values):
            self.dirs.add(name)
        elif any(self.is_below(value) for value in values):
            self.below.add(name)

    def _holds(self, node):
        """Whether ``node`` is a dict, list or tuple with the directory or a path in it."""
        if isinstance(node, ast.Name):
            return node.id in self.holders
        if isinstance(node, ast.Dict):
            values = node.values
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)):
            values = node.elts
        else:
            return False
        return any(value is not None and self._path(value) for value in values)

    def _path(self, node):
        return self.is_dir(node) or self.is_below(node)

    def is_below(self, node):
        """Whether ``node`` is a path made from the directory: ``Path(d, "x")``, ``d / "x"``,
        ``os.path.join(d, "x")``, ``os.path.join(d, "..")``, ``d.joinpath("x")``, ``"%s/x" % d``,
        ``"{d}/x".format(**D)``, and such a path's ``.replace()``."""
        if isinstance(node, ast.Name):
            return node.id in self.below
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return self._path(node.left)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            return self._path(node.right) or self._holds(node.right)
        if not isinstance(node, ast.Call):
            return False
        name, func = _called(node), node.func
        if name in _BELOW_AGAIN and isinstance(func, ast.Attribute):
            return self._path(func.value)
        if name == "format" and isinstance(func, ast.Attribute):
            given = [*node.args, *(k.value for k in node.keywords)]
            return any(self._path(a) or self._holds(a) for a in given)
        if (name == "join" or _same_path(node)) and len(node.args) > 1:
            return self._path(node.args[0])
        if _same_path(node) and len(node.args) == 1 and not node.keywords:  # realpath(join(d, "x"))
            return self.is_below(node.args[0])
        return False

    def is_computed_below(self, node):
        """Whether ``node`` is a path in the directory (``is_below``) made with a part that is
        not a string constant: a name a caller gives, a loop's variable (opencv's
        ``os.path.join(LOADER_DIR, fname)``). Which file it names, the builder cannot tell."""
        if isinstance(node, ast.Name):
            return node.id in self.computed
        if not self.is_below(node):
            return False
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return not _is_string(node.right) or self.is_computed_below(node.left)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _called(node) == "joinpath":
            return not all(map(_is_string, node.args)) or self.is_computed_below(node.func.value)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and _called(node) in _BELOW_AGAIN:
            return self.is_computed_below(node.func.value)  # (d / name).resolve()
        if isinstance(node, ast.Call) and (_called(node) == "join" or _same_path(node)) and node.args:
            return not all(map(_is_string, node.args[1:])) or self.is_computed_below(node.args[0])
        return False

    def _file(self, node):
        """Whether ``node`` is the module's own ``__file__`` (not a bound name)."""
        return isinstance(node, ast.Name) and node.id == "__file__"

    def _path_list(self, node):
        """Whether ``node`` is the module's own ``__path__``."""
        return isinstance(node, ast.Name) and node.id == "__path__"

    def is_file(self, node):
        if self._file(node):
            return True
        if isinstance(node, ast.Name):
            return node.id in self.files
        if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
            return _same_path(node) and self.is_file(node.args[0])
        return self._resolved(node, self.is_file)

    def is_dir(self, node):
        if isinstance(node, ast.Name):
            return node.id in self.dirs
        if isinstance(node, ast.Subscript):
            if not (isinstance(node.slice, ast.Constant) and node.slice.value == 0):
                return False
            value = node.value
            if self._path_list(value):
                return True
            return isinstance(value, ast.Call) and _called(value) == "split" and self._one_file(value)
        if isinstance(node, ast.Attribute):
            return node.attr == "parent" and (self.is_file(node.value) or self.is_dir(node.value))
        if isinstance(node, ast.Call) and len(node.args) == 1 and not node.keywords:
            name = _called(node)
            if name == "dirname":
                return self.is_file(node.args[0]) or self.is_dir(node.args[0])
            return _same_path(node) and self.is_dir(node.args[0])
        return self._resolved(node, self.is_dir)

    def _one_file(self, call):
        return len(call.args) == 1 and self.is_file(call.args[0])

    @staticmethod
    def _resolved(node, test):
        """``X.resolve()`` or ``X.absolute()`` where ``test(X)``."""
        return (
            isinstance(node, ast.Call)
            and not node.args
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("resolve", "absolute")
            and test(node.func.value)
        )

    def script_beside(self, node):
        """Whether ``node`` is the path of a Python file beside the module, made from its
        directory: ``os.path.join(here, "_backend.py")``, ``Path(__file__).parent / "x.py"``.
        Code computes that only to run the file with another interpreter (tox's pyproject_api,
        virtualenv's ``debug.py``, pip's ``__pip-runner__.py``) or to read it."""
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
            return self.is_dir(node.left) and _is_script_name(node.right)
        if isinstance(node, ast.Call) and _called(node) in ("join", "joinpath") and node.args:
            func = node.func
            if _called(node) == "joinpath" and isinstance(func, ast.Attribute) and self.is_dir(func.value):
                return any(_is_script_name(a) for a in node.args)
            return self.is_dir(node.args[0]) and any(_is_script_name(a) for a in node.args[1:])
        return False

    def handed_out(self, node):
        """Whether ``node`` gives the directory to code that may read it as one: a call other
        than path arithmetic taking it (``os.listdir(here)``, ``register_plugins(linter,
        __path__[0])``, ``app.add_html_theme(name, here)``), or listing it (``here.iterdir()``).
        Storing it (``sys.path.insert(0, here)``) is not: the bundle's directories import as
        they are. Returning it or a path in it is (pycryptodome's ``pycryptodome_filename()``
        gives the path of a library that ctypes loads; ``get_include()`` the headers a build
        reads), and so is globbing in it in a function (invoke's ``glob(join(here,
        "*.completion"))``)."""
        if isinstance(node, ast.Return):
            return node.value is not None and self._path(node.value)
        if not isinstance(node, ast.Call):
            return False
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _LISTINGS and self.is_dir(func.value):
            return True
        if self._function and self._reads_below(node, self.is_computed_below):
            return True  # a path in it that a caller names: opencv's config files
        if self._function and _called(node) in ("glob", "iglob") and any(self.is_below(a) for a in node.args):
            return True  # not at import: pip's vendor directory globs itself when debundled only
        if _called(node) in _PATH_ARITHMETIC:
            return False
        own = self._functions.get(func.id) if isinstance(func, ast.Name) else None
        if own is not None and self._depth < 3 and not node.keywords:
            parameters = [a.arg for a in (*own.args.posonlyargs, *own.args.args)]
            given = {parameters[i] for i, a in enumerate(node.args[: len(parameters)]) if self.is_dir(a)}
            if not given:
                return False
            inner = type(self)(own, given, self.files - set(parameters), self._functions, self._depth + 1)
            return any(inner.handed_out(n) for n in _nodes(own))
        return any(self.is_dir(a) for a in node.args) or any(self.is_dir(k.value) for k in node.keywords)

    def hands_over_file(self, node):
        """Whether ``node`` gives the module's own file to a call other than path arithmetic,
        which may read the files named after it beside it: lazy_loader's ``attach_stub(__name__,
        __file__)`` parses the ``__init__.pyi`` beside ``__init__.py`` (every scikit-image
        package). A keyword named like a module attribute (celery's ``recreate_module(...,
        __file__=__file__)``) only sets that attribute."""
        if not isinstance(node, ast.Call) or _called(node) in _PATH_ARITHMETIC:
            return False
        given = [*node.args, *(k.value for k in node.keywords if not (k.arg or "").startswith("__"))]
        return any(self.is_file(a) for a in given)

    def _reads_below(self, call, below):
        """Whether ``call`` reads a path in the directory of which ``below`` holds
        (``p.read_text()``, ``open(p)``), tests one (``os.path.exists(p)``), or gives it to code
        that may: any call but other path arithmetic."""
        func = call.func
        if isinstance(func, ast.Attribute) and func.attr in _READS | _TESTS and below(func.value):
            return True
        if _called(call) in _PATH_ARITHMETIC and _called(call) not in _TESTS:
            return False
        return any(below(a) for a in call.args) or any(below(k.value) for k in call.keywords)

    def inside(self, function):
        """The same for the body of ``function``, defined where this looks: its names are its
        own, and those it does not bind are the enclosing ones."""
        bound = {a.arg for a in _nodes(function.args) if isinstance(a, ast.arg)}
        return type(self)(
            function,
            self.dirs - bound,
            self.files - bound,
            self._functions,
            self._depth,
            self.below - bound,
            self.holders - bound,
            self.computed - bound,
        )


class _OtherPaths(_OwnPaths):
    """The same for another module's file and directory: ``os.path.dirname(theme.__file__)``,
    ``Path(module.__file__).parent``, ``module.__path__[0]``, each directory of a (namespace)
    package. Returning that directory, or a path in it, hands it out too (mkdocs'
    ``get_theme_dir()`` gives it to the theme loader, mkdocstrings' ``get_templates_dir()`` the
    ``Path(path, handler, "templates")`` of a ``path`` in ``mkdocstrings_handlers.__path__``);
    so does reading a path in it, or giving one to a call (reportlab's ``rl_isdir(p % D)``,
    ``D`` holding ``dirname(reportlab.__file__)``). Comparing with it (pandas', rich's and
    typer's frame filters) does not."""

    def __init__(self, tree, dirs=(), files=(), functions=None, depth=0, below=(), holders=(), computed=()):
        super().__init__(tree, dirs, files, functions, depth, below, holders, computed)
        loops = [n for n in _in_scope(tree) if isinstance(n, (ast.For, ast.comprehension))]
        for node in loops:  # each directory of a package: for path in handlers.__path__
            if isinstance(node.target, ast.Name) and self._path_list(node.iter):
                self.dirs.add(node.target.id)
        if any(isinstance(n.target, ast.Name) and n.target.id in self.dirs for n in loops):
            self._bind([n for n in _in_scope(tree) if isinstance(n, (ast.Assign, ast.AnnAssign)) and n.value])

    def _file(self, node):
        return isinstance(node, ast.Attribute) and node.attr == "__file__"

    def _path_list(self, node):
        return isinstance(node, ast.Attribute) and node.attr == "__path__"

    def handed_out(self, node):
        if isinstance(node, ast.Call) and self._reads_below(node, self.is_below):
            return True
        return super().handed_out(node)

    def script_beside(self, node):
        return False


class _ImportedPaths(_OwnPaths):
    """The same for the names a module imports from others (glances' ``from
    glances.globals import plugins_path``), read as if each were a directory: which of them it
    hands out. Whether one is a directory, the module that binds it says (``exported_paths``)."""

    def _file(self, node):
        return False

    def _path_list(self, node):
        return False

    def script_beside(self, node):
        return False


def _imported_handouts(tree):
    """The names that the module's top-level ``from M import name`` statements bind and that it
    hands out (``os.listdir(plugins_path)`` in a function), by the names M binds them to."""
    imported = {
        alias.asname or alias.name: alias.name
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name != "*"
    }
    if not imported:
        return []
    found = set()
    for node, _, scope in _walk(tree, _ImportedPaths(tree, dirs=imported)):
        if not scope.handed_out(node):
            continue
        if isinstance(node, ast.Return):
            given = [node.value]
        else:  # what the call is given, not the function called
            given = [*node.args, *(k.value for k in node.keywords)]
            given += [node.func.value] if isinstance(node.func, ast.Attribute) else []
        found.update(imported[n.id] for g in given for n in _nodes(g) if isinstance(n, ast.Name) and n.id in imported)
    return sorted(found)


def _is_string(node):
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _is_script_name(node):
    return _is_string(node) and node.value.endswith(".py")


def _in_scope(node):
    """The nodes of ``node``'s own scope: not those in the functions it defines."""
    stack = list(_children(node))
    while stack:
        child = stack.pop()
        yield child
        if not isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            stack.extend(_children(child))


def _with_formatted_names(names, tree):
    """``names`` with the strings that ``%`` formats and the ones f-strings spell (their fields
    as ``{}``): the compiler turns ``"grammar%s%s.txt" % (major, minor)`` (parso's) into an
    f-string, whose constants are only "grammar" and ".txt"."""
    markers = [n for n in names[:2] if n in ("__file__", "__path__")]
    found = set(names[len(markers) :])
    for node in _nodes(tree):
        if isinstance(node, ast.JoinedStr):
            spelled = "".join(v.value if isinstance(v, ast.Constant) else "{}" for v in node.values)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
            spelled = node.left.value
        else:
            continue
        if isinstance(spelled, str) and 0 < len(spelled) < 256 and "\n" not in spelled:
            found.add(spelled)
    return markers + sorted(found)


def _joined_names(tree, paths=None):
    """The first path components that the module's import joins to its own directory, in its
    top-level code or a class body: ``Path(__file__).parent / "datasets"``,
    ``os.path.join(here, "data", name)``, or a name bound to a string, or spelled with ``+``
    from such names (docutils' ODT writer: ``os.path.join(os.path.dirname(__file__),
    default_stylesheet)``, ``default_stylesheet = 'styles' + EXTENSION``). A package named so
    is read as a data directory too (mimesis' ``datasets``, whose ``__init__`` holds tables and
    whose subdirectories the JSON files), which a name alone does not say: a module's strings
    name its subpackages for many other reasons (``__all__``). Not in functions: lxml's
    ``get_include()`` joins its ``includes`` package for builds that ask for it. But in
    functions, the whole of a path of two or more constants joined to it, which may name a data
    file in a subpackage: semgrep's ``Path(__file__).parent / "semgrep_interfaces" /
    "lang.json"``, opened by a class that the module instantiates. ``paths``: the module's ``_OwnPaths``, if
    made already."""
    paths, constants, found = paths or _OwnPaths(tree), _string_constants(tree), set()
    for node in _in_scope(tree):
        head, parts = _joined(node)
        spelled = _leading_path(parts[0], constants) if parts and paths.is_dir(head) else None
        components = spelled.strip("/").split("/") if spelled else []
        if components[:1] == [".."]:  # climbing: the whole path (materialize_map keeps it in the package)
            if components[-1] != "..":
                found.add("/".join(components))
        elif components and components[0] not in ("", "."):
            found.add(components[0])
    for node, function, scope in _walk(tree, paths):
        whole = _constant_join(node, scope) if function is not None else None
        if whole is not None and "/" in whole:
            found.add(whole)
    return sorted(found)


def _joined(node):
    """(the path, the parts joined to it) of ``path / part``, ``path.joinpath(*parts)`` or
    ``os.path.join(path, *parts)``; (None, []) for any other node."""
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Div):
        return node.left, [node.right]
    if isinstance(node, ast.Call) and _called(node) == "joinpath" and isinstance(node.func, ast.Attribute):
        return node.func.value, node.args
    if isinstance(node, ast.Call) and _called(node) == "join" and node.args:
        return node.args[0], node.args[1:]
    return None, []


def _constant_join(node, paths):
    """The relative path that ``node`` joins to the module's own directory from string
    constants only, in one call or a chain of them (``d / "a" / "b"``), or None."""
    head, parts = _joined(node)
    if not parts or not all(isinstance(p, ast.Constant) and isinstance(p.value, str) for p in parts):
        return None
    base = "" if paths.is_dir(head) else _constant_join(head, paths)
    if base is None:
        return None
    return "/".join(part for part in (base, *(p.value.strip("/") for p in parts)) if part)


def _string_constants(tree):
    """The names that the module's top-level code and class bodies bind to one string, and
    never to anything else: ``EXTENSION = '.odt'``, ``default_stylesheet = 'styles' +
    EXTENSION``."""
    assigns = sorted(
        (n for n in _in_scope(tree) if isinstance(n, ast.Assign) and len(n.targets) == 1),
        key=lambda n: (n.lineno, n.col_offset),
    )
    values, spoiled = {}, set()
    for node in assigns:
        if isinstance(node.targets[0], ast.Name):
            name, known = node.targets[0].id, _concatenated(node.value, values)
            if known is None or values.get(name, known) != known:
                spoiled.add(name)
            if name not in spoiled:
                values[name] = known
    return {name: value for name, value in values.items() if name not in spoiled}


def _leading_path(node, constants):
    """The whole path components that ``node`` spells from constants (``_concatenated``), or
    that an f-string spells before its first field: pulp's ``os.path.join(os.path.dirname(
    __file__), f"../solverdir/cbc/{operating_system}/{arch}/{cbc_path}")`` names
    ``../solverdir/cbc``, the directory of its CBC binaries (snakemake found no solver)."""
    if not isinstance(node, ast.JoinedStr):
        return _concatenated(node, constants)
    spelled = ""
    for value in node.values:
        if not (isinstance(value, ast.Constant) and isinstance(value.value, str)):
            return spelled.rpartition("/")[0] or None  # the part of a name before a field is no name
        spelled += value.value
    return spelled or None


def _concatenated(node, constants):
    """The string that ``+`` of string constants and names bound to them spells (docutils'
    ODT writer: ``'styles' + EXTENSION``), or None."""
    if isinstance(node, ast.Constant):
        return node.value if isinstance(node.value, str) else None
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
        left, right = _concatenated(node.left, constants), _concatenated(node.right, constants)
        return left + right if left is not None and right is not None else None
    return None


def _handouts(tree, paths=None, path=None):
    """Where a module hands out its own directory (see ``_OwnPaths.handed_out``), or the path
    of a Python file in it (``_OwnPaths.script_beside``), or gives its own file to other code
    (``_OwnPaths.hands_over_file``) while files named after it lie beside ``path``, its file
    (``__init__.pyi`` beside ``__init__.py``: the callee can only name those; otherwise the
    file given to a call is a name, torch's ``intern_string(__file__)``): whether its
    import does (its top-level code or a class body in it), and the functions that do. Such a
    directory must be a real one, so its package is written to the app's cache: when it is
    imported, or when one of those functions is first called (``_write_files_first``).
    ``paths``: the module's ``_OwnPaths``, if made already."""
    named_after = path is not None and _files_named_after(path)
    at_import, functions = False, []
    for node, function, scope in _walk(tree, paths or _OwnPaths(tree)):
        if scope.handed_out(node) or scope.script_beside(node) or (named_after and scope.hands_over_file(node)):
            if function is None:
                at_import = True
            elif function not in functions:
                functions.append(function)
    return at_import, functions


def _files_named_after(path):
    """Whether files other than its bytecode lie beside the module ``path`` with its name
    before a dot."""
    directory, name = os.path.split(path)
    stem = name.rpartition(".")[0] + "."
    try:
        return any(n.startswith(stem) and n != name and not n.endswith(".pyc") for n in os.listdir(directory))
    except OSError:
        return False


def _other_handouts(tree):
    """The functions that hand out another module's directory (``_OtherPaths``). In them,
    every ``X.__file__`` and ``X.__path__`` read first has the runtime write the package of
    module X (``_write_modules_first``). Not at import: a module's top-level code that does so
    would write that package in every run, maybe for nothing; but the top-level statements that
    open or list a path in it, which every run needs. And the functions that read a module's
    file imported by name (``_imported_files``)."""
    functions = []
    imported = _imported_files(tree)
    module_paths = _OtherPaths(tree)
    for node, function, paths in _walk(tree, module_paths):
        if function is None or function in functions:
            continue
        if paths.handed_out(node) or (isinstance(node, ast.Name) and node.id in imported):
            functions.append(function)
    # At import, only a statement that opens, lists or loads a path in such a directory, which
    # every run then needs: a script's `open(os.path.join(os.path.dirname(certifi.__file__),
    # ...))`, soundfile's `_ffi.dlopen(os.path.join(dirname(_soundfile_data.__file__), lib))`.
    for statement in tree.body:
        if not isinstance(statement, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and any(
            isinstance(node, ast.Call)
            and (_called(node) in _READS or _called(node) in _LOADS)
            and module_paths._reads_below(node, module_paths.is_below)
            for node in _in_scope(statement)
        ):
            functions.append(statement)
    return functions


def _imported_files(tree):
    """The names that the module's ``from M import __file__ as NAME`` statements bind: pip's
    ``pip_location``, whose directory ``running_under_zipapp()`` tests and
    ``get_runnable_pip()`` gives to another python (to run pip from there, not the bundle's
    site-packages, into a new environment). Explicit enough: any function reading one reads
    its written copy (``_write_modules_first``)."""
    return {
        alias.asname
        for node in tree.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
        if alias.name == "__file__" and alias.asname
    }


def _walk(tree, paths):
    """(node, the function it is in or None, the paths of that scope) for each node. For a
    node in a function defined in a function that binds paths of its own, the function given
    is the outer one: it computed them (opencv's ``bootstrap()``: ``LOADER_DIR`` from
    ``__file__``, read by a nested ``load_first_config()``) before the inner one could run,
    so the files must be written when it starts; a module's globals are relocated instead."""
    stack = [(tree, None, None, paths)]  # the outermost enclosing function that binds paths
    while stack:
        node, function, binder, paths = stack.pop()
        yield node, binder or function, paths
        for child in _children(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef)):
                outer = binder or (function if function is not None and paths.binds else None)
                stack.append((child, child, outer, paths.inside(child)))
            else:
                stack.append((child, function, binder, paths))


_FILE_TESTS = ("isfile", "isdir", "exists", "listdir", "scandir")
_IMPORTS_FILE = re.compile(rb"^[ \t]*from[ \t]+[\w.]+[ \t]+import\b[^\n]*\b__file__[ \t]+as\b", re.M)
_ENTRY_TESTS = ("isfile", "isdir", "exists")  # of the entry itself, they look for nothing under it


def _searches_sys_path(tree):
    """The functions that look for files under each entry of ``sys.path``: modules' sources,
    as astroid finds the module an import names (for pylint) and twisted its plugins. The
    bundle's entries are not directories on disk, so when one of these is first called, the
    runtime writes every package of the bundle to the cache and puts the directories holding
    them on sys.path (``_write_files_first``). Testing an entry itself (debugpy's ``for path
    in sys.path: if os.path.exists(path) and basename(path) == "site-packages"``) looks for no
    file under it: that alone does not count."""
    found = []
    for function in _nodes(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        nodes = list(_in_scope(function))
        lists, itself, entries = set(), set(), set()  # names bound to sys.path; to an entry; under one
        for node in nodes:
            if isinstance(node, ast.Assign) and _mentions(node.value, lists, sys_path=True):
                lists.update(t.id for t in node.targets if isinstance(t, ast.Name))
        for node in nodes:
            if isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.target, ast.Name):
                if _mentions(node.iter, lists, sys_path=True):
                    itself.add(node.target.id)
        for _ in range(3 if itself else 0):  # and paths made from one: os.path.join(entry, name)
            for node in nodes:
                if isinstance(node, ast.Assign):
                    names = {t.id for t in node.targets if isinstance(t, ast.Name)}
                    if _is_entry(node.value, itself):
                        itself.update(names)
                    elif _mentions(node.value, itself | entries):
                        entries.update(names)
                elif isinstance(node, (ast.For, ast.comprehension)) and isinstance(node.target, ast.Name):
                    if _mentions(node.iter, itself | entries) and node.target.id not in itself:
                        entries.add(node.target.id)
        for node in nodes:
            if not (isinstance(node, ast.Call) and node.args):
                continue
            test = next((t for t in _FILE_TESTS if t in (_called(node) or "")), None)
            if test is None or not _mentions(node.args[0], itself | entries):
                continue
            if test in _ENTRY_TESTS and _is_entry(node.args[0], itself):
                continue
            found.append(function)
            break
    return found


def _is_entry(node, itself):
    """Whether ``node`` is an entry of the names ``itself``, or the same path in another form
    (``os.path.abspath(entry)``)."""
    while isinstance(node, ast.Call) and _same_path(node) and node.args:
        node = node.args[0]
    return isinstance(node, ast.Name) and node.id in itself


def _mentions(node, names, sys_path=False):
    """Whether ``node`` uses one of ``names``, or ``sys.path`` if asked."""
    for sub in _nodes(node):
        if isinstance(sub, ast.Name) and sub.id in names:
            return True
        if sys_path and isinstance(sub, ast.Attribute) and sub.attr == "path":
            if isinstance(sub.value, ast.Name) and sub.value.id == "sys":
                return True
    return False


def _read_only_when_called(tree, functions, others):
    """Whether every read of a module's file or directory in ``tree`` is in the body of a
    function that writes the package it reads first when called: its own ``__file__`` or
    ``__path__`` in one of ``functions`` (see ``_write_files_first``), another module's in one
    of ``others`` (see ``_write_modules_first``). Then nothing needs writing when the module is
    imported: numpy.f2py's ``get_include()`` writes numpy when it is called, not when numpy.f2py
    is imported."""
    reads = {
        id(node)
        for node in _nodes(tree)
        if (isinstance(node, ast.Name) and node.id in ("__file__", "__path__"))
        or (isinstance(node, ast.Attribute) and node.attr in ("__file__", "__path__"))
    }
    handled = set()
    for kind, holders in ((ast.Name, functions), (ast.Attribute, others)):
        for holder in holders:
            if isinstance(holder, (ast.FunctionDef, ast.AsyncFunctionDef)):
                handled.update(id(n) for statement in holder.body for n in _nodes(statement) if isinstance(n, kind))
    return bool(reads) and reads <= handled


def _write_files_first(tree, functions, searches=()):
    """Has each of ``functions`` first call the runtime to write its module's package to the
    cache (pointing the module's ``__file__`` and ``__path__`` there), at the line of its first
    statement; and each of ``searches`` first call it to write every package. A module with
    ``searches`` calls it when imported too, to put the directories that will hold them on
    sys.path while the app's code has not yet copied sys.path (pylint restores its own copy)."""
    for function in functions:
        _call_runtime(function.body, "write_files_of", ast.Name("__file__", ast.Load()))
    for function in searches:
        _call_runtime(function.body, "write_every_package")
    if searches:
        _call_runtime(tree.body, "put_cache_on_sys_path")


_SPEC_PATHS = ("origin", "submodule_search_locations")
_FILE_ACCESS = frozenset((*_FILE_TESTS, "walk", "open", "glob", "rglob", "iterdir", "is_dir", "is_file"))


def _spec_lookups(tree):
    """The functions that look for files beside a module found by ``find_spec()``, through its
    spec's ``origin`` or ``submodule_search_locations``: jinja2's ``PackageLoader("pkg")`` (its
    ``templates`` directory), starlette's ``StaticFiles(packages=["pkg"])``. The finder is
    given a module's name, not a path: no name the builder can see in the module with the data
    names the data. In each, the names bound to a ``find_spec()`` call whose paths it reads."""
    found = []
    for function in _nodes(tree):
        if not isinstance(function, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        nodes = list(_in_scope(function))
        specs = {
            target.id
            for node in nodes
            if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call) and _called(node.value) == "find_spec"
            for target in node.targets
            if isinstance(target, ast.Name)
        }
        if not specs:
            continue
        reads = any(
            isinstance(n, ast.Attribute)
            and n.attr in _SPEC_PATHS
            and isinstance(n.value, ast.Name)
            and n.value.id in specs
            for n in nodes
        )
        # Its loader's get_filename() is the module's file, which it wants as a path: confuse's
        # find_package_path() returns its directory, where the app's default configuration is.
        filename = any(isinstance(n, ast.Call) and _called(n) == "get_filename" for n in nodes) and any(
            isinstance(n, ast.Attribute)
            and n.attr == "loader"
            and isinstance(n.value, ast.Name)
            and n.value.id in specs
            for n in nodes
        )
        if filename or (reads and any(isinstance(n, ast.Call) and _called(n) in _FILE_ACCESS for n in nodes)):
            found.append((function, specs))
    return found


def _write_specs_first(lookups):
    """In each function of ``lookups``, makes every read of ``S.origin``,
    ``S.submodule_search_locations`` and ``S.loader``, where S is one of its spec names, read
    ``__import__("sys").modules["_onebin_runtime.bootstrap"].written_spec(S)``'s: the runtime
    writes the package of that module first, and gives a copy of the spec that names it there."""
    for function, specs in lookups:
        _ReadThrough("written_spec", (*_SPEC_PATHS, "loader"), specs).visit(function)


def _write_modules_first(functions, imported=()):
    """In each function, makes every ``X.__file__`` and ``X.__path__`` read
    ``__import__("sys").modules["_onebin_runtime.bootstrap"].written(X).__file__``: the runtime
    writes the package of module X to the cache first, which points X's paths there. And each
    name of ``imported`` (bound to a module's ``__file__``) read ``written_path(NAME)``."""
    for function in functions:
        _ReadThrough("written", ("__file__", "__path__")).visit(function)
        if imported:
            names = [n for n in _nodes(function) if isinstance(n, ast.Name) and n.id in imported]
            _Through("written_path", {id(n): () for n in names if isinstance(n.ctx, ast.Load)}).visit(function)


class _ReadThrough(ast.NodeTransformer):
    """Makes every read of an attribute in ``attrs`` of a value (of a name in ``names``, if
    given) read it of what the runtime's function ``runtime`` gives for that value."""

    def __init__(self, runtime, attrs, names=None):
        self.runtime, self.attrs, self.names = runtime, attrs, names

    def visit_Attribute(self, node):
        self.generic_visit(node)
        value = node.value
        if node.attr in self.attrs and isinstance(node.ctx, ast.Load):
            if self.names is None or (isinstance(value, ast.Name) and value.id in self.names):
                node.value = _runtime_call(self.runtime, value, where=value)
        return node


def _runtime_call(name, *args, where):
    """``__import__("sys").modules["_onebin_runtime.bootstrap"].NAME(*args)``, at the source
    position of ``where``."""
    load = ast.Load()
    made = [
        importer := ast.Name("__import__", load),
        sys_name := ast.Constant("sys"),
        imported := ast.Call(importer, [sys_name], []),
        modules := ast.Attribute(imported, "modules", load),
        key := ast.Constant("_onebin_runtime.bootstrap"),
        runtime := ast.Subscript(modules, key, load),
        function := ast.Attribute(runtime, name, load),
        call := ast.Call(function, list(args), []),
    ]
    for node in made:
        ast.copy_location(node, where)
    return call


def _call_runtime(body, name, *args):
    """Inserts ``_runtime_call(NAME, *args)`` as the first statement of ``body``, after its
    docstring and ``from __future__`` imports, on the line of the statement it precedes."""
    start = 1 if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant) else 0
    while start < len(body) and isinstance(body[start], ast.ImportFrom) and body[start].module == "__future__":
        start += 1
    first = body[start] if start < len(body) else body[-1]
    for arg in args:
        ast.copy_location(arg, first)
    statement = ast.copy_location(ast.Expr(_runtime_call(name, *args, where=first)), first)
    body.insert(start, statement)


_PREFIXES = ("prefix", "exec_prefix")
_JOINS = frozenset(("join", "joinpath", "Path", "PurePath", "PosixPath", "PurePosixPath"))


def _is_prefix(node):
    """Whether ``node`` reads ``sys.prefix`` (or ``sys.exec_prefix``)."""
    return (
        isinstance(node, ast.Attribute)
        and node.attr in _PREFIXES
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
        and isinstance(node.ctx, ast.Load)
    )


def _first_part(node, leading_slash=False):
    """The first directory of the relative path the string constant ``node`` names, if it
    is one (after its leading slash, if ``leading_slash``)."""
    if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
        return None
    text = node.value
    if leading_slash:
        if not text.startswith("/"):
            return None
        text = text[1:]
    top = text.split("/")[0]
    return top if top and top not in (".", "..") and not text.startswith("/") else None


def _prefix_joins(tree):
    """``sys.prefix`` where a path under it is made from a constant: ``Path(sys.prefix,
    "share", "jupyter")``, ``os.path.join(sys.prefix, "etc")``, ``Path(sys.prefix) / "share"``,
    ``sys.prefix + "/share"``, ``f"{sys.prefix}/share"``: the data a wheel installs outside
    site-packages (jupyter's ``share/jupyter``, where nbconvert's templates are). Each with the
    first directory of that path. And the scripts directory that ``sysconfig`` names
    (``sysconfig.get_path("scripts")``, ``get_paths()["scripts"]``), which is the prefix's
    ``bin``: where ruff and uv look for their binaries."""
    found = []
    for node in _nodes(tree):
        if _names_scripts(node):
            found.append((node, "bin"))
        elif isinstance(node, ast.Call) and _called(node) in _JOINS and node.args and _is_prefix(node.args[0]):
            top = _first_part(node.args[1]) if len(node.args) > 1 else None
            if top is not None:
                found.append((node.args[0], top))
        elif isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Div, ast.Add)):
            left = node.left
            if isinstance(node.op, ast.Add) and _is_prefix(left):
                top = _first_part(node.right, leading_slash=True)
                if top is not None:
                    found.append((left, top))
            elif (
                isinstance(node.op, ast.Div)
                and isinstance(left, ast.Call)
                and _called(left) in _JOINS
                and len(left.args) == 1
                and _is_prefix(left.args[0])
            ):
                top = _first_part(node.right)
                if top is not None:
                    found.append((left.args[0], top))
        elif isinstance(node, ast.JoinedStr):
            values = node.values
            for value, after in zip(values, values[1:], strict=False):
                if isinstance(value, ast.FormattedValue) and _is_prefix(value.value) and value.format_spec is None:
                    top = _first_part(after, leading_slash=True)
                    if top is not None:
                        found.append((value.value, top))
    return found


def _executable_dirs(tree):
    """The directory of ``sys.executable`` (``os.path.dirname(sys.executable)``,
    ``Path(sys.executable).parent``): in a venv, its ``bin/``, where code looks for the other
    commands of its distributions (ansible-lint for ansible's, then puts it on PATH)."""
    found = []
    for node in _nodes(tree):
        if isinstance(node, ast.Call) and _called(node) == "dirname" and len(node.args) == 1:
            if _is_executable(node.args[0]):
                found.append(node)
        elif isinstance(node, ast.Attribute) and node.attr == "parent" and isinstance(node.value, ast.Call):
            call = node.value
            if (
                _called(call) in ("Path", "PurePath", "PosixPath")
                and len(call.args) == 1
                and _is_executable(call.args[0])
            ):
                found.append(node)
    return found


def _is_executable(node):
    return (
        isinstance(node, ast.Attribute)
        and node.attr == "executable"
        and isinstance(node.value, ast.Name)
        and node.value.id == "sys"
    )


def _names_scripts(node):
    """Whether ``node`` is ``get_path("scripts", ...)`` or ``get_paths(...)["scripts"]``."""
    if isinstance(node, ast.Subscript):
        key, node = node.slice, node.value
        if not (isinstance(node, ast.Call) and _called(node) == "get_paths"):
            return False
    elif isinstance(node, ast.Call) and _called(node) == "get_path" and node.args:
        key = node.args[0]
    else:
        return False
    return isinstance(key, ast.Constant) and key.value == "scripts"


def _prefix_data_first(joins):
    """Makes each ``sys.prefix`` of ``joins`` read
    ``__import__("sys").modules["_onebin_runtime.bootstrap"].prefix_data(sys.prefix, TOP)``:
    where the bundle holds data under TOP there, the runtime writes it to the cache and gives
    the directory standing for the prefix that holds it."""
    return _Through("prefix_data", {id(node): (ast.copy_location(ast.Constant(top), node),) for node, top in joins})


class _Through(ast.NodeTransformer):
    """Replaces each node whose id is in ``targets`` (id -> extra arguments) by
    ``_runtime_call(runtime, node, *extra)``: the runtime is given what the code computed."""

    def __init__(self, runtime, targets):
        self.runtime, self.targets = runtime, targets

    def visit(self, node):
        self.generic_visit(node)
        extra = self.targets.get(id(node))
        return node if extra is None else _runtime_call(self.runtime, node, *extra, where=node)


_GETFILE = frozenset(("getfile", "getsourcefile", "getabsfile"))
_DIRECTORY_OF = frozenset(("dirname", "split", "join", "joinpath")) | _SAME_PATH


def _file_lookups(tree):
    """The calls of ``inspect.getfile()`` (or ``getsourcefile``, ``getabsfile``) whose result
    is made into a path or a directory (``Path(inspect.getfile(obj.__class__)).parent``,
    ``os.path.dirname(inspect.getfile(cls))``): the file of an object's module, then a file
    beside it, as textual resolves an app's ``CSS_PATH``. Each is to be read through the
    runtime, which writes that module's package first."""
    found = []
    for node in _nodes(tree):
        if isinstance(node, ast.Call) and _called(node) in _DIRECTORY_OF:
            for arg in node.args[:2]:
                if isinstance(arg, ast.Call) and _called(arg) in _GETFILE and arg.args:
                    found.append(arg)
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            found += _bound_file_lookups(node)
    return found


def _bound_file_lookups(function):
    """The calls of ``inspect.getfile()`` and the like in ``function`` whose result is bound
    to a name that it then reads (``Path(name).read_bytes()``, ``open(name)``: hypothesis mines
    a module's source for constants) or hands to a call other than path arithmetic (numba's
    ``cache=True`` gives the file of the function it compiles to its cache locators, which
    look for it on disk)."""
    nodes = list(_in_scope(function))
    bound = {
        node.targets[0].id: node.value
        for node in nodes
        if isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Name)
        and isinstance(node.value, ast.Call)
        and _called(node.value) in _GETFILE
        and node.value.args
    }
    used = set()
    for node in nodes if bound else ():
        if not isinstance(node, ast.Call):
            continue
        func = node.func
        if isinstance(func, ast.Attribute) and func.attr in _READS and isinstance(func.value, ast.Call):
            if _called(func.value) in _SAME_PATH:  # Path(name).read_bytes()
                node = func.value
            else:
                continue
        elif _called(node) in _PATH_ARITHMETIC:
            continue
        used.update(a.id for a in [*node.args, *(k.value for k in node.keywords)] if isinstance(a, ast.Name))
    return [call for name, call in bound.items() if name in used]


def _located_files(tree):
    """The calls of a distribution's ``locate_file()`` whose result is made into a path
    (``str(dist.locate_file(""))``, ``Path(str(dist.locate_file(file)))``, ``os.fspath()``):
    code that gives that path to something that reads the disk (pdm: to another python, to
    import ``dep_logic`` from). Each is to be read through the runtime's ``located()``."""
    return [
        arg
        for node in _nodes(tree)
        if isinstance(node, ast.Call) and _called(node) in _SAME_PATH
        for arg in node.args[:1]
        if isinstance(arg, ast.Call) and _called(arg) == "locate_file"
    ]


def _written_paths_first(lookups):
    """Makes each call of ``lookups`` give
    ``__import__("sys").modules["_onebin_runtime.bootstrap"].written_path(CALL)``."""
    return _Through("written_path", {id(node): () for node in lookups})


_IMPORTERS = frozenset(("import_module", "__import__", "run_module", "resolve_name"))
_MODULE_NAME = re.compile(r"[A-Za-z_]\w*(\.[A-Za-z_]\w*)*")


def _imported(code, as_main):
    """What a module may import, for ``--trim-stdlib``: (level, name, fromlist) of each of its
    import statements, anywhere in its code but in the body of its ``if __name__ ==
    "__main__":`` (``as_main``: those offsets of its top-level code), then (0, name, ()) for the
    string constants of its code that calls ``import_module()``, ``__import__()``,
    ``run_module()`` or ``resolve_name()`` (often a module's name: ``import_module("json")``)."""
    found, named, stack = set(), set(), [code]
    while stack:
        current = stack.pop()
        for offset, level, name, fromlist in _import_names(current):
            if current is code and any(start < offset < end for start, end in as_main):
                continue
            found.add((level if isinstance(level, int) else 0, name, fromlist))
        if not _IMPORTERS.isdisjoint(current.co_names):
            named.update(c for c in current.co_consts if isinstance(c, str) and _MODULE_NAME.fullmatch(c))
        stack.extend(c for c in current.co_consts if hasattr(c, "co_consts"))
    return sorted(found) + [(0, name, ()) for name in sorted(named)]


def _import_names(code):
    """(offset, level, name, fromlist) of each import in ``code`` itself (not the code nested in
    it), read from its bytes: ``dis`` takes fifty times as long. ``level`` and ``fromlist`` are
    the constants loaded just before (``level`` None, ``fromlist`` empty where none is)."""
    from opcode import EXTENDED_ARG, opmap

    import_name, load_const, cache = opmap["IMPORT_NAME"], opmap["LOAD_CONST"], opmap.get("CACHE", -1)
    raw, found, extended, before = code.co_code, [], 0, [(-1, 0), (-1, 0)]
    if import_name not in raw[::2]:
        return found
    for offset in range(0, len(raw), 2):
        op, arg = raw[offset], raw[offset + 1] | extended
        extended = arg << 8 if op == EXTENDED_ARG else 0
        if op in (EXTENDED_ARG, cache):
            continue
        if op == import_name:
            level = code.co_consts[before[0][1]] if before[0][0] == load_const else None
            names = code.co_consts[before[1][1]] if before[1][0] == load_const else None
            fromlist = tuple(n for n in names if isinstance(n, str) and n != "*") if isinstance(names, tuple) else ()
            found.append((offset, level, code.co_names[arg], fromlist))
        before = [before[1], (op, arg)]
    return found


def _imports(code):
    """The imports that run with a module, and those that run only when it runs as ``__main__``:
    two lists of (level, name, fromlist), as the statement passes them to ``__import__``, in
    order. The first: those in its top-level code but not in the body of an ``if``
    (``if TYPE_CHECKING:``, ``if os.environ.get(...):``) or an ``except`` clause, which may not
    run; the second: those in the body of ``if __name__ == "__main__":``, whose (start, end)
    offsets come third."""
    import dis

    instructions = list(dis.get_instructions(code))
    maybe, as_main = [], []  # the (start, end) offsets of code that a forward conditional jump may skip
    for i, ins in enumerate(instructions):
        if "JUMP" in ins.opname and "IF" in ins.opname and isinstance(ins.argval, int) and ins.argval > ins.offset:
            tested = {before.argval for before in instructions[max(0, i - 4) : i]}
            (as_main if {"__name__", "__main__"} <= tested else maybe).append((ins.offset, ins.argval))
    always, main_only = [], []
    for i, ins in enumerate(instructions):
        if ins.opname != "IMPORT_NAME" or i < 2 or any(start < ins.offset < end for start, end in maybe):
            continue
        level, fromlist = instructions[i - 2].argval, instructions[i - 1].argval
        if isinstance(level, int) and ins.argval != "__future__":
            found = main_only if any(start < ins.offset < end for start, end in as_main) else always
            found.append((level, ins.argval, tuple(n for n in fromlist or () if isinstance(n, str) and n != "*")))
    return always, main_only, as_main


def _regex_calls(code):
    """The (pattern, flags) of each ``re.compile(CONSTANT)`` or ``re.compile(CONSTANT, FLAGS)``
    (or ``flags=FLAGS``) in a module's code and its class bodies, which run when it is
    imported; FLAGS made of constants, ``re.X`` flags and names bound to such flags, joined by
    ``|``. Anything else is left out; the second value says whether some call was."""
    found, stack, others = [], [code], False
    while stack:
        current = stack.pop()
        stack.extend(c for c in current.co_consts if hasattr(c, "co_code") and not c.co_flags & _CO_OPTIMIZED)
        if "compile" in current.co_names:
            calls, unresolved = _regex_calls_in(current)
            found += calls
            others = others or unresolved
    return found, others


def _regex_calls_in(code):
    import dis

    skipped = ("CACHE", "PRECALL", "NOP", "EXTENDED_ARG", "PUSH_NULL")
    ins = [i for i in dis.get_instructions(code) if i.opname not in skipped]
    aliases = {"re"}  # and the names `import re as NAME` binds
    for k in range(len(ins) - 1):
        if ins[k].opname == "IMPORT_NAME" and ins[k].argval == "re" and ins[k + 1].opname == "STORE_NAME":
            aliases.add(ins[k + 1].argval)
    # Where `re.NAME` is loaded: those positions, with NAME.
    attribute = {
        k: ins[k + 1].argval
        for k in range(len(ins) - 1)
        if ins[k].opname in ("LOAD_NAME", "LOAD_GLOBAL")
        and ins[k].argval in aliases
        and ins[k + 1].opname in ("LOAD_ATTR", "LOAD_METHOD")
    }
    flag_values = {name: int(flag) for name, flag in re.RegexFlag.__members__.items()}
    # The names bound once to flags, as `FLAGS = re.VERBOSE | re.MULTILINE` (json.decoder's);
    # None for a name bound to anything else, or more than once. A wrong guess only leaves an
    # unused entry in the table: the runtime looks patterns up with the flags re is given.
    known, stack, j = {}, [], 0
    while j < len(ins):
        now = ins[j]
        if attribute.get(j) in flag_values:
            stack.append(flag_values[attribute[j]])
            j += 1
        elif now.opname == "LOAD_CONST" and type(now.argval) is int:
            stack.append(now.argval)
        elif _is_or(now) and len(stack) >= 2:
            stack[-2:] = [stack[-2] | stack[-1]]
        else:
            if now.opname == "STORE_NAME":
                known[now.argval] = stack[0] if len(stack) == 1 and now.argval not in known else None
            stack = []
        j += 1
    found, unresolved = [], False
    for k, name in attribute.items():
        if name != "compile":
            continue
        before = len(found)
        args, j = [], k + 2
        while j < len(ins):
            now = ins[j]
            if now.opname == "LOAD_CONST" and type(now.argval) in (str, bytes, int):
                args.append(now.argval)
            elif now.opname in ("LOAD_CONST", "KW_NAMES") and len(args) == 2 and _names_keywords(code, now):
                pass  # flags= given by name
            elif attribute.get(j) in flag_values:
                args.append(flag_values[attribute[j]])
                j += 1
            elif now.opname in ("LOAD_NAME", "LOAD_GLOBAL") and known.get(now.argval) is not None:
                args.append(known[now.argval])
            elif _is_or(now):
                if len(args) < 2 or type(args[-1]) is not int or type(args[-2]) is not int:
                    break
                args[-2:] = [args[-2] | args[-1]]
            else:
                calls = ("CALL", "CALL_METHOD", "CALL_FUNCTION", "CALL_KW", "CALL_FUNCTION_KW")
                called = now.opname in calls and now.arg == len(args)
                if called and len(args) in (1, 2) and type(args[0]) in (str, bytes):
                    if all(type(flags) is int for flags in args[1:]):
                        found.append((args[0], args[1] if len(args) == 2 else 0))
                break
            j += 1
        unresolved = unresolved or len(found) == before
    return found, unresolved


def _is_or(ins):
    return ins.opname == "BINARY_OR" or (ins.opname == "BINARY_OP" and ins.argrepr == "|")


def _names_keywords(code, ins):
    """Whether the instruction names the keyword argument ``flags`` of the call that follows
    (3.11's KW_NAMES gives the index of that constant, not the constant)."""
    names = code.co_consts[ins.arg] if ins.opname == "KW_NAMES" else ins.argval
    return names == ("flags",)


class _Unfoldable(Exception):
    pass


class _RegexFolder:
    """The (pattern, flags) of the ``re.compile()`` calls that run when a module is imported
    (its body, its class bodies) with arguments made of constants that the bytecode does not
    show: names bound to constants before, and ``str.format()``, ``%``, ``+``, ``join()`` and
    f-strings of such values (configparser's ``re.compile(_OPT_TMPL.format(delim="=|:"),
    re.VERBOSE)``). Branches are all followed; a wrong guess only leaves an unused entry in
    the table, since the runtime looks patterns up as re is given them."""

    _LONGEST = 1 << 16  # characters of a folded string (a pattern is seldom a tenth of that)
    _WIDE = re.compile(r"\d{5}")  # a format with such a width or precision makes a huge string

    def __init__(self):
        self.found = []
        self.aliases = {"re"}

    def body(self, statements, names):
        for node in statements:
            self.statement(node, names)

    def statement(self, node, names):
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            for decorator in node.decorator_list:
                self.calls(decorator, names)
            if isinstance(node, ast.ClassDef):
                self.body(node.body, dict(names))
            names.pop(node.name, None)
            return
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                bound = alias.asname or alias.name.partition(".")[0]
                if isinstance(node, ast.Import) and alias.name == "re":
                    self.aliases.add(bound)
                names.pop(bound, None)
            return
        for child in ast.iter_child_nodes(node):
            if not isinstance(child, (ast.stmt, ast.excepthandler)):
                self.calls(child, names)
        if isinstance(node, ast.Assign) and all(isinstance(t, ast.Name) for t in node.targets):
            for target in node.targets:
                try:
                    names[target.id] = self.fold(node.value, names)
                except (_Unfoldable, RecursionError):
                    names.pop(target.id, None)
        else:
            for child in ast.walk(node):
                if isinstance(child, ast.Name) and isinstance(child.ctx, ast.Store):
                    names.pop(child.id, None)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.stmt):
                self.statement(child, names)
            elif isinstance(child, ast.excepthandler):
                self.body(child.body, names)

    def calls(self, expression, names):
        stack = [expression]
        while stack:
            node = stack.pop()
            if isinstance(node, ast.Lambda):
                continue  # runs when called
            stack.extend(ast.iter_child_nodes(node))
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr == "compile"
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id in self.aliases
            ):
                continue
            flags = [k.value for k in node.keywords if k.arg == "flags"]
            if not node.args or len(node.args) + len(flags) > 2 or len(node.keywords) != len(flags):
                continue
            try:
                pattern = self.fold(node.args[0], names)
                mode = self.fold((node.args[1:] + flags)[0], names) if len(node.args) + len(flags) == 2 else 0
            except (_Unfoldable, RecursionError):
                continue
            if type(pattern) in (str, bytes) and type(mode) is int:
                self.found.append((pattern, mode))

    def fold(self, node, names):
        value = self._fold(node, names)
        if type(value) in (str, bytes) and len(value) > self._LONGEST:
            raise _Unfoldable
        return value

    def _fold(self, node, names):
        if isinstance(node, ast.Constant) and type(node.value) in (str, bytes, int):
            return node.value
        if isinstance(node, ast.Name) and node.id in names:
            return names[node.id]
        if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name) and node.value.id in self.aliases:
            flag = re.RegexFlag.__members__.get(node.attr)
            if flag is not None:
                return int(flag)
        if isinstance(node, (ast.Tuple, ast.List)) and not any(isinstance(e, ast.Starred) for e in node.elts):
            return tuple(self.fold(e, names) for e in node.elts)
        if isinstance(node, ast.BinOp):
            left, right = self.fold(node.left, names), self.fold(node.right, names)
            if isinstance(node.op, ast.BitOr) and type(left) is int and type(right) is int:
                return left | right
            if isinstance(node.op, ast.Add) and type(left) is type(right) and type(left) in (str, bytes):
                return left + right
            if isinstance(node.op, ast.Mod) and type(left) in (str, bytes) and not self._WIDE.search(str(left)):
                try:
                    return left % right
                except (TypeError, ValueError, KeyError):
                    raise _Unfoldable from None
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) and node.func.attr in ("format", "join"):
            template = self.fold(node.func.value, names)
            if (
                node.func.attr == "join"
                and type(template) in (str, bytes)
                and len(node.args) == 1
                and not node.keywords
            ):
                parts = self.fold(node.args[0], names)
                if type(parts) is tuple and all(type(p) is type(template) for p in parts):
                    return template.join(parts)
            if node.func.attr == "format" and type(template) is str and not self._WIDE.search(template):
                if not any(isinstance(a, ast.Starred) for a in node.args) and all(k.arg for k in node.keywords):
                    args = [self.fold(a, names) for a in node.args]
                    keywords = {k.arg: self.fold(k.value, names) for k in node.keywords}
                    try:
                        return template.format(*args, **keywords)
                    except (IndexError, KeyError, ValueError, AttributeError, TypeError):
                        raise _Unfoldable from None
        if isinstance(node, ast.JoinedStr):
            parts = []
            for part in node.values:
                if isinstance(part, ast.Constant) and type(part.value) is str:
                    parts.append(part.value)
                    continue
                if not isinstance(part, ast.FormattedValue) or part.conversion not in (-1, 115):
                    raise _Unfoldable
                value = self.fold(part.value, names)
                spec = "" if part.format_spec is None else self.fold(part.format_spec, names)
                if type(value) not in (str, int) or type(spec) is not str or self._WIDE.search(spec):
                    raise _Unfoldable
                parts.append(format(str(value) if part.conversion == 115 else value, spec))
            return "".join(parts)
        raise _Unfoldable


def _folded_regex_calls(source):
    """``_RegexFolder``'s calls in a module's source."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError, RecursionError):
        return []
    folder = _RegexFolder()
    try:
        folder.body(tree.body, {})
    except RecursionError:
        pass
    return folder.found


def _regexes(code, source):
    """The regular expressions a module compiles when it is imported (``_regex_calls``, and
    ``_folded_regex_calls`` if some call's arguments are not plain constants), compiled by this
    interpreter's own ``re``: for each, (pattern, flags) and what its compiler
    hands to ``_sre.compile()``: (flags, code as u32 bytes, groups, groupindex, indexgroup). The
    executable's ``re`` then builds the same pattern objects without parsing them again. Left
    out: patterns that do not compile, or warn when they do (the warning must come at run
    time), and those with re.DEBUG (it prints)."""
    calls, others = _regex_calls(code)
    if others:
        calls += _folded_regex_calls(source)
    if not calls:
        return []
    import _sre

    compiler = sys.modules.get("re._compiler") or __import__("sre_compile")  # sre_compile: 3.10
    if _sre.CODESIZE != 4 or array("I").itemsize != 4:
        return []

    out, seen, real = [], set(), compiler._sre

    class Capture:  # _sre, but for compile(), which returns its arguments
        def __getattr__(self, name):
            return getattr(real, name)

        @staticmethod
        def compile(*args):
            return args

    for pattern, flags in calls:
        if (type(pattern), pattern, flags) in seen or flags & re.DEBUG:
            continue
        seen.add((type(pattern), pattern, flags))
        compiler._sre = Capture()
        try:
            with warnings.catch_warnings(record=True) as caught:
                warnings.simplefilter("always")
                args = compiler.compile(pattern, flags)
            _, final, program, groups, groupindex, indexgroup = args
            program = array("I", program).tobytes()
        except Exception:  # noqa: S112 (re.error, OverflowError, ...): it fails at run time too
            continue
        finally:
            compiler._sre = real
        if not caught and args[0] is pattern:
            out.append((pattern, flags, final, program, groups, dict(groupindex), indexgroup))
    return out


def _outside_stdlib(path):
    """Whether the source at ``path`` is not the target's stdlib (whose site.py, pydoc and pdb
    look through sys.path too, for what they do not need on disk)."""
    stdlib = os.path.dirname(os.__file__) + "/"
    return not path.startswith(stdlib) or "/site-packages/" in path[len(stdlib) - 1 :]


def _reads_module_paths(code):
    """Whether a function of the module reads some module's ``__file__`` or ``__path__``."""
    return _any_code(code, lambda names: "__file__" in names or "__path__" in names, functions_only=True)


def _opens_at_import(code):
    """Whether the module's top-level code reads a module's ``__file__`` and opens, lists or
    loads something (see ``_other_handouts``)."""
    names = code.co_names
    return ("__file__" in names or "__path__" in names) and any(name in names for name in _READS | _LOADS)


def _looks_up_specs(code):
    """Whether a function of the module calls ``find_spec`` and reads a spec's paths (or its
    loader's ``get_filename()``)."""
    return _any_code(
        code,
        lambda names: "find_spec" in names and any(attr in names for attr in (*_SPEC_PATHS, "get_filename")),
        functions_only=True,
    )


def _looks_up_files(code):
    return _any_code(code, lambda names: any(name in names for name in _GETFILE) or "locate_file" in names)


def _joins_prefix(code):
    return _any_code(
        code,
        lambda names: (
            "sys" in names
            and (
                any(p in names for p in _PREFIXES)
                or ("executable" in names and ("dirname" in names or "parent" in names))
            )
            or "get_path" in names
            or "get_paths" in names
        ),
    )


def _lists_files(code):
    return _any_code(code, lambda names: any(name in names for name in _LISTS))


_LISTS = frozenset(("listdir", "scandir", "iterdir", "glob", "iglob", "rglob", "walk"))


def _uses_sys_path(code):
    return _any_code(code, lambda names: "sys" in names and "path" in names)


def _any_code(code, test, functions_only=False):
    """Whether ``test`` holds for the ``co_names`` of the module's code or a code object in
    it (only those in it if ``functions_only``)."""
    stack = [c for c in code.co_consts if hasattr(c, "co_code")] if functions_only else [code]
    while stack:
        current = stack.pop()
        if test(current.co_names):
            return True
        stack.extend(c for c in current.co_consts if hasattr(c, "co_code"))
    return False


def main():
    warnings.simplefilter("ignore")
    jobs = marshal.load(sys.stdin.buffer)
    out = []
    for co_filename, path in jobs:
        with open(path, "rb") as f:
            source = f.read()
        try:
            code = compile(source, co_filename, "exec", dont_inherit=True, optimize=0)
        except (SyntaxError, ValueError):
            out.append((None, None, zlib.compress(source, 6), [], [], [], [], [], [], [], []))
            continue
        names = _names(code)
        handouts = names[:1] == ["__file__"] or "__path__" in names[:2]
        search = _outside_stdlib(path) and _uses_sys_path(code)
        reads_paths = _reads_module_paths(code) or _IMPORTS_FILE.search(source) is not None or _opens_at_import(code)
        specs = _outside_stdlib(path) and _looks_up_specs(code)
        prefixed = _outside_stdlib(path) and _joins_prefix(code)
        getfile = _outside_stdlib(path) and _looks_up_files(code)
        lists = _outside_stdlib(path) and _lists_files(code)
        at_import, functions, searches, others, lookups, prefix_joins, files = False, [], [], [], [], [], []
        located, beside = [], []
        exported, joined, exported_paths, handed_imports = [], [], [], []
        if handouts or search or reads_paths or specs or prefixed or getfile or lists:
            try:
                tree = ast.parse(source, co_filename)
                if handouts:
                    own = _OwnPaths(tree)
                    at_import, functions = _handouts(tree, own, path)
                    exported = sorted(own.dirs)
                    exported_paths = sorted(own.dirs | own.below)
                    joined = _joined_names(tree, own)
                    names = _with_formatted_names(names, tree)
                if search:
                    searches = _searches_sys_path(tree)
                if reads_paths:
                    others = _other_handouts(tree)
                if specs:
                    lookups = _spec_lookups(tree)
                if prefixed:
                    prefix_joins = _prefix_joins(tree)
                    beside = _executable_dirs(tree)
                if getfile:
                    files = _file_lookups(tree)
                    located = _located_files(tree)
                if lists:
                    handed_imports = _imported_handouts(tree)
                if functions or searches or others or lookups or prefix_joins or files or located or beside:
                    _write_modules_first(others, _imported_files(tree))
                    _write_specs_first(lookups)
                    _prefix_data_first(prefix_joins).visit(tree)
                    _written_paths_first(files).visit(tree)
                    _Through("located", {id(node): () for node in located}).visit(tree)
                    _Through("scripts_beside", {id(node): () for node in beside}).visit(tree)
                    _write_files_first(tree, functions, searches)
                    code = compile(tree, co_filename, "exec", dont_inherit=True, optimize=0)
                if handouts and not at_import and _read_only_when_called(tree, functions, others):
                    names = [_CALLED] + [n for n in names if n not in ("__file__", "__path__")]
                    joined = []
            except RecursionError:  # expressions nested deeper than the analysis goes: as written
                at_import = False
            if at_import:
                names.insert(0, _DIRECTORY)
        imports, main_imports, as_main = _imports(code)
        out.append(
            (
                marshal.dumps(code),
                names,
                zlib.compress(source, 6),
                _imported(code, as_main),
                imports,
                main_imports,
                _regexes(code, source),
                exported,
                joined,
                exported_paths,
                handed_imports,
            )
        )
    marshal.dump(out, sys.stdout.buffer)


if __name__ == "__main__":
    main()
