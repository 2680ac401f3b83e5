"""The end of the app is as `python app.py`'s, whether or not the interpreter's teardown is skipped.

The runtime skips the teardown only when nothing alive would act as it is freed (see
_runtime/teardown.py); each case here has the real interpreter's output as the reference, and
ONEBIN_TRACE says which way the executable went.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PACKAGES, build, build_script_app

pytestmark = pytest.mark.e2e

APP = """\
import atexit
import sys
import threading
import time

mode = sys.argv[1]
atexit.register(print, "atexit ran")

if mode == "plain":
    print("hello")
    sys.exit(int(sys.argv[2]) if len(sys.argv) > 2 else 0)
elif mode == "unclosed-file":
    out = open(sys.argv[2], "w")
    out.write("written, never closed nor flushed")
elif mode == "del":
    class Noisy:
        def __del__(self):
            print("__del__ ran")
    keep = Noisy()
elif mode == "generator":
    def counting():
        try:
            yield 1
            yield 2
        finally:
            print("generator finally ran")
    gen = counting()
    next(gen)
elif mode == "callback":
    import weakref
    class Thing:
        pass
    thing = Thing()
    ref = weakref.ref(thing, lambda r: print("callback ran"))
    holder = [thing, ref]
elif mode == "thread":
    def work():
        time.sleep(0.3)
        print("thread done")
    threading.Thread(target=work).start()
    print("main done")
elif mode == "flood":
    sys.stdout.write("x" * 1_000_000 + "\\n")
    print("tail", file=sys.stderr)
elif mode == "atexit-output":
    atexit.register(lambda: sys.stdout.write("late output, unflushed"))
elif mode == "raise":
    raise ValueError("boom")
elif mode == "stdout-rewrapped":
    import codecs
    print("header")
    sys.stdout = codecs.getwriter("utf-8")(sys.stdout.buffer)
    print("body")
elif mode == "closed-file-del":
    import io
    class Log(io.StringIO):
        def __del__(self):
            print("__del__ ran")
    log = Log()
    log.close()
elif mode == "profiled":
    sys.setprofile(lambda *args: None)
elif mode == "audited":
    sys.addaudithook(lambda *args: None)
elif mode == "tcl":
    import tkinter
    tcl = tkinter.Tcl()  # a Tcl channel is flushed only when the interpreter is deleted
    tcl.call("puts", tcl.call("open", sys.argv[2], "w"), "through a Tcl channel")
elif mode == "stdout-deleted":
    print("hello")
    sys.stdout.flush()
    del sys.stdout  # streamlink's main() does, then exits
    raise SystemExit(0)
elif mode == "gc-debug":
    import gc
    gc.set_debug(gc.DEBUG_UNCOLLECTABLE)
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("exit")
    (root / "app.py").write_text(APP)
    build("app.py", "-o", "app", cwd=root)
    return root


def _run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    # Neither gets PYTHON* variables (PYTHONUNBUFFERED, which both honour, changes the output order).
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("PYTHON")}, "ONEBIN_TRACE": "1"}
    return subprocess.run(command, cwd=cwd, capture_output=True, text=True, env=env, timeout=60)


def _both(root: Path, *args: str) -> tuple[subprocess.CompletedProcess[str], subprocess.CompletedProcess[str], str]:
    """Runs the app and `python app.py` with ``args``; returns both and how the app ended."""
    ours = _run([str(root / "app"), *args], root)
    theirs = _run([sys.executable, "app.py", *args], root)
    lines = [line for line in ours.stderr.splitlines() if line.startswith("onebin: exit:")]
    assert len(lines) == 1, ours.stderr
    stderr = "\n".join(line for line in ours.stderr.splitlines() if not line.startswith("onebin: "))
    ours = subprocess.CompletedProcess(ours.args, ours.returncode, ours.stdout, stderr + "\n" if stderr else "")
    return ours, theirs, lines[0]


@pytest.mark.parametrize("status", ["0", "3"])
def test_a_plain_app_skips_the_teardown_and_keeps_its_output_and_status(app: Path, status: str) -> None:
    ours, theirs, how = _both(app, "plain", status)
    assert "without the interpreter's teardown" in how
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
    assert ours.stdout == "hello\natexit ran\n"


@pytest.mark.parametrize(
    ("mode", "reason"),
    [
        ("del", "has a finalizer"),
        ("generator", "an unfinished generator"),
        ("callback", "a weakref callback"),
        ("closed-file-del", "has a finalizer"),
        ("profiled", "a profile or trace function"),
        ("audited", "an audit hook"),
        ("gc-debug", "gc debugging"),
    ],
)
def test_objects_that_act_when_freed_get_the_teardown(app: Path, mode: str, reason: str) -> None:
    ours, theirs, how = _both(app, mode)
    assert "the interpreter's teardown runs" in how and reason in how
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
    if mode in ("del", "generator", "callback", "closed-file-del"):
        assert "ran" in ours.stdout.splitlines()[-1]


def test_an_unclosed_file_loses_nothing(app: Path) -> None:
    ours, theirs, how = _both(app, "unclosed-file", "ours.txt")
    assert "an open file" in how
    assert (app / "ours.txt").read_text() == "written, never closed nor flushed"
    assert ours.stdout == theirs.stdout


def test_threads_are_joined_and_large_output_is_flushed(app: Path) -> None:
    for mode in ("thread", "flood", "atexit-output", "stdout-rewrapped"):
        ours, theirs, how = _both(app, mode)
        assert "without the interpreter's teardown" in how, mode
        assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr), mode


def test_an_uncaught_exception_keeps_its_status_and_traceback(app: Path) -> None:
    ours, theirs, how = _both(app, "raise")
    assert ours.returncode == theirs.returncode == 1
    assert ours.stderr.splitlines()[-1] == theirs.stderr.splitlines()[-1] == "ValueError: boom"
    assert ours.stdout == theirs.stdout == "atexit ran\n"


def test_output_to_a_closed_pipe_ends_quietly(app: Path) -> None:
    # with buffered output, as by default (PYTHONUNBUFFERED=1 has the atexit callback's print
    # fail loudly, as python does)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}
    command = f"'{app / 'app'}' flood | head -c 10"
    proc = subprocess.run(command, shell=True, capture_output=True, text=True, timeout=60, env=env)
    assert proc.stdout == "x" * 10
    assert "Traceback" not in proc.stderr and "Exception ignored" not in proc.stderr


def test_full_teardown_when_built_so(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text('print("hello")\n')
    build("app.py", "--full-teardown", "-o", "app", cwd=tmp_path)
    proc = _run([str(tmp_path / "app")], tmp_path)
    assert proc.stdout == "hello\n"
    assert "onebin: exit:" not in proc.stderr


def test_a_tcl_channel_loses_nothing(app: Path) -> None:
    probe = subprocess.run([sys.executable, "-c", "import tkinter; tkinter.Tcl()"], capture_output=True)
    if probe.returncode != 0:
        pytest.skip("no Tcl on this machine")
    ours = _run([str(app / "app"), "tcl", "ours.txt"], app)
    assert "_tkinter.tkapp writes when freed" in ours.stderr
    assert (ours.returncode, (app / "ours.txt").read_text()) == (0, "through a Tcl channel\n")


def test_an_app_that_deletes_sys_stdout_exits_as_python(app: Path) -> None:
    ours, theirs, _ = _both(app, "stdout-deleted")
    assert (ours.returncode, ours.stdout, ours.stderr) == (theirs.returncode, theirs.stdout, theirs.stderr)
    assert ours.returncode == 0 and ours.stdout == "hello\n"


NATIVE_APP = """\
import sys

mode = sys.argv[1]
if mode == "plain":
    from nativeres._plain import Plain
    plain = Plain()
else:
    from nativeres._handle import Handle
    if mode == "open":
        handle = Handle()
print("done")
"""


@pytest.fixture(scope="module")
def native_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_script_app(tmp_path_factory.mktemp("exit-native"), NATIVE_APP, PACKAGES / "nativeres")


@pytest.mark.parametrize(
    ("mode", "census", "how", "stdout"),
    [
        # A native type from outside the stdlib, with close(), whose instances the collector
        # does not track: the census follows every reference to find them.
        (
            "open",
            "deep (nativeres.Handle's instances are not tracked)",
            "teardown runs: nativeres.Handle",
            "done\nhandle flushed when freed\n",
        ),
        (
            "none-made",
            "deep (nativeres.Handle's instances are not tracked)",
            "without the interpreter's teardown",
            "done\n",
        ),
        # Native code from outside the stdlib, but no type that could act when freed: the
        # collector's objects are enough.
        ("plain", "the collector's objects", "without the interpreter's teardown", "done\n"),
    ],
)
def test_native_objects_outside_the_collector_are_found(
    native_app: Path, mode: str, census: str, how: str, stdout: str
) -> None:
    proc = _run([str(native_app), mode], native_app.parent)
    assert (proc.returncode, proc.stdout) == (0, stdout), proc.stderr
    assert f"onebin: census: {census}\n" in proc.stderr
    assert how in next(line for line in proc.stderr.splitlines() if line.startswith("onebin: exit:"))
