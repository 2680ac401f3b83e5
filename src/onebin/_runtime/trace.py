"""ONEBIN_TRACE=1: one line on stderr for each import served, native file loaded, file written,
and how the process ended (the launcher adds the start-up's phases and their times; with
ONEBIN_TRACE=time, only those).

Read once from the process environment at start-up; when it is unset, the only cost is a
check of ``ON`` at each of those events.
"""

import posix

ON = False


def configure() -> None:
    global ON
    ON = posix.environ.get(b"ONEBIN_TRACE", b"") not in (b"", b"0", b"time")


def emit(message: str) -> None:
    posix.write(2, ("onebin: " + message + "\n").encode("utf-8", "replace"))
