"""Compiles sources to marshalled code objects; run by the *target* interpreter.

Reads from stdin a marshalled list of (co_filename, path) and writes to stdout a marshalled
list, in the same order, of the marshalled code objects' bytes, or None where the source does not
compile (the module then raises its SyntaxError when imported, as it would in a venv).
This file runs as a script under CPython 3.10+, with nothing from onebin importable.
"""

import marshal
import sys
import warnings


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
            out.append(None)
            continue
        out.append(marshal.dumps(code))
    marshal.dump(out, sys.stdout.buffer)


if __name__ == "__main__":
    main()
