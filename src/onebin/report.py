"""What ``onebin inspect`` prints for people: a summary of an executable's Contents."""

from __future__ import annotations

from collections.abc import Collection, Sequence

from .inspect import LAUNCHER, Contents, NativeLibrary

__all__ = ["summary"]


def summary(contents: Contents, modules: bool = False) -> str:
    """The text ``onebin inspect`` prints; ``modules`` lists every module, not only their roots."""
    parts = [
        _header(contents),
        _distribution_table(contents),
        _library_table(contents),
        _module_table(contents, modules),
        _input_table(contents),
    ]
    return "\n\n".join(part for part in parts if part)


def _header(c: Contents) -> str:
    launcher = human_size(c.payload_offset)
    rows = [
        ("file", c.file),
        (
            "size",
            f"{human_size(c.size)} (launcher {launcher}, payload {human_size(c.payload_size)} at offset {c.payload_offset})",
        ),
        ("sha256", c.sha256),
        ("python", c.python),
        ("entry point", c.entry),
        ("app id", c.id),
        ("onebin", c.onebin),
        ("glibc floor", _glibc(c)),
    ]
    return "\n".join(_table(rows))


def _glibc(c: Contents) -> str:
    if c.glibc_min is None:
        return "none (no file needs a versioned glibc symbol)"
    names = ["the launcher" if p == LAUNCHER else p for p in c.glibc_min_required_by]
    more = f" and {len(names) - 3} more" if len(names) > 3 else ""
    return f"{c.glibc_min} (needed by {', '.join(names[:3])}{more})"


def _distribution_table(c: Contents) -> str:
    rows = [(d.name, d.version) for d in c.distributions]
    return "\n".join([f"distributions ({len(rows)})", *_table(rows, indent=2)])


def _library_table(c: Contents) -> str:
    libraries = c.native_libraries
    local = sum(1 for lib in libraries if lib.origin == "build-machine")
    title = f"native libraries ({len(libraries)}: {local} from the build machine, {len(libraries) - local} from wheels or the app)"
    rows = [
        (lib.path, lib.soname or "-", human_size(lib.size), _origin(lib), f"glibc {lib.glibc_min or '-'}")
        for lib in libraries
    ]
    return "\n".join([title, *_table(rows, indent=2, right={2})])


def _origin(library: NativeLibrary) -> str:
    if library.origin == "distribution":
        return f"wheel: {library.distribution}"
    return library.origin.replace("-", " ")


def _module_table(c: Contents, each: bool) -> str:
    total = sum(m.size + m.code_size for m in c.modules)
    title = f"modules ({len(c.modules)}, {human_size(total)} of files and bytecode)"
    rows: list[tuple[str, ...]]
    if each:
        rows = [("name", "kind", "file", "bytecode", "path")]
        rows += [(m.name, m.kind, human_size(m.size), human_size(m.code_size), m.path) for m in c.modules]
    else:
        rows = [("sys.path root", "modules", "files", "bytecode"), *(_root_row(c, root) for root in c.roots)]
        title += "; --modules lists each"
    return "\n".join([title, *_table(rows, indent=2, right={2, 3} if each else {1, 2, 3})])


def _root_row(c: Contents, root: str) -> tuple[str, ...]:
    inside = [m for m in c.modules if m.root == root]
    return root, str(len(inside)), human_size(sum(m.size for m in inside)), human_size(sum(m.code_size for m in inside))


def _input_table(c: Contents) -> str:
    rows = [(f"{i.name} {i.version}".strip(), f"sha256:{i.sha256}" if i.sha256 else "-", i.url) for i in c.inputs]
    return "\n".join([f"build inputs ({len(rows)})", *_table(rows, indent=2)])


def _table(rows: Sequence[Sequence[str]], indent: int = 0, right: Collection[int] = ()) -> list[str]:
    """Rows as lines of aligned columns; columns in ``right`` are right-aligned."""
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))] if rows else []
    lines = []
    for row in rows:
        cells = [c.rjust(w) if i in right else c.ljust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True))]
        lines.append((" " * indent + "  ".join(cells)).rstrip())
    return lines


def human_size(n: int) -> str:
    """A size for people: 812 B, 14.5 kB, 49.1 MB, 3.8 GB."""
    for unit, scale in (("GB", 1e9), ("MB", 1e6), ("kB", 1e3)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{n} B"
