"""Compiles sources to marshalled code objects; run by the *target* interpreter.

Reads from stdin a marshalled list of (co_filename, path) and writes to stdout a marshalled
list, in the same order, of (code, names, compressed): ``code`` is the marshalled code object's
bytes, or None where the source does not compile (importing the module then raises its
SyntaxError, as in a venv); ``names`` is None unless the module reads its own ``__file__``, and
then the string constants it mentions, which the builder matches against the files beside it;
``compressed`` is the source compressed with zlib, as the executable stores it.
This file runs as a script under CPython 3.10+, with nothing from onebin importable.
"""

import ast
import marshal
import sys
import warnings
import zlib


def _file_relative_names(source, tree):
    names = set()
    reads_file = False
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "__file__" and isinstance(node.ctx, ast.Load):
            reads_file = True
        elif isinstance(node, ast.Constant) and isinstance(node.value, str) and 0 < len(node.value) < 256:
            names.add(node.value)
    return sorted(names) if reads_file else None


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
            out.append((None, None, zlib.compress(source, 6)))
            continue
        names = None
        if b"__file__" in source:
            names = _file_relative_names(source, ast.parse(source))
        out.append((marshal.dumps(code), names, zlib.compress(source, 6)))
    marshal.dump(out, sys.stdout.buffer)


if __name__ == "__main__":
    main()
