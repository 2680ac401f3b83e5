"""Compiles sources to marshalled code objects; run by the *target* interpreter.

Reads from stdin a marshalled list of (co_filename, path) and writes to stdout a marshalled
list, in the same order, of (code, names, compressed, used, imports, main_imports): ``code`` is
the marshalled code object's bytes, or None where the source does not compile (importing the
module then raises its SyntaxError, as in a venv); ``names`` are the short string constants in
its code, which the builder matches against the files beside it, after ``"__file__"`` and
``"__path__"`` where the code uses those names; ``compressed`` is the source compressed with
zlib, as the executable stores it; ``used`` are the names its code uses (``co_names``: imported
modules among them), for ``--trim-stdlib``; ``imports`` and ``main_imports`` are the imports
that run with it, and those that run only when it runs as ``__main__`` (see ``_imports``), for
the work done ahead.
This file runs as a script under CPython 3.10+, with nothing from onebin importable.
"""

import marshal
import sys
import warnings
import zlib


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
    names.difference_update(("__file__", "__path__"))
    return (["__file__"] if reads_file else []) + (["__path__"] if reads_path else []) + sorted(names)


def _used_names(code):
    names, stack = set(), [code]
    while stack:
        current = stack.pop()
        names.update(current.co_names)
        stack.extend(c for c in current.co_consts if hasattr(c, "co_consts"))
    return sorted(names)


def _imports(code):
    """The imports that run with a module, and those that run only when it runs as ``__main__``:
    two lists of (level, name, fromlist), as the statement passes them to ``__import__``, in
    order. The first: those in its top-level code but not in the body of an ``if``
    (``if TYPE_CHECKING:``, ``if os.environ.get(...):``) or an ``except`` clause, which may not
    run; the second: those in the body of ``if __name__ == "__main__":``."""
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
    return always, main_only


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
            out.append((None, None, zlib.compress(source, 6), [], [], []))
            continue
        imports, main_imports = _imports(code)
        out.append(
            (marshal.dumps(code), _names(code), zlib.compress(source, 6), _used_names(code), imports, main_imports)
        )
    marshal.dump(out, sys.stdout.buffer)


if __name__ == "__main__":
    main()
