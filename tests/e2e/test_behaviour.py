"""The executable behaves like `python app.py`: argv, exit codes, errors, stdio, metadata."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import build, needs_root_tools, run_hidden

pytestmark = [pytest.mark.e2e, needs_root_tools]

APP = """\
import sys
import helper

mode = sys.argv[1] if len(sys.argv) > 1 else ""
if mode == "raise":
    helper.boom()
elif mode == "exit":
    sys.exit(int(sys.argv[2]))
elif mode == "exit-message":
    sys.exit("goodbye")
elif mode == "builtin-exit":
    exit(4)
elif mode == "stdin":
    print(sys.stdin.read().upper(), end="")
elif mode == "flood":
    for i in range(200000):
        print(i)
elif mode == "unicode":
    print("h\\u00e9llo \\u2603", sys.stdout.encoding)
elif mode == "interleave":
    import faulthandler
    print("out 1")
    print("err", file=sys.stderr)
    print("out 2", faulthandler.is_enabled())
elif mode == "sys":
    print(sys.executable)
    print(__file__)
    print(helper.__file__)
elif mode == "encodings":
    import locale
    print(sys.stdout.encoding, sys.getfilesystemencoding(), locale.getpreferredencoding(False))
    print("caf\u00e9")
elif mode == "warn":
    import warnings
    warnings.warn("careful")
elif mode == "import-error":
    import broken
elif mode == "frames":
    import inspect, json, pyflakes.api
    def where(obj):
        module = inspect.getmodule(obj)
        return [obj.__code__.co_filename, module.__name__ if module else None]
    frame = inspect.currentframe()
    print(frame.f_code.co_filename == __file__, inspect.getmodule(frame).__name__)
    print(where(pyflakes.api.check) == [pyflakes.api.__file__, "pyflakes.api"])
    print(where(json.dumps) == [json.__file__, "json"])
    print(inspect.getsourcelines(helper.boom)[0][-1].strip())
elif mode == "metadata":
    import importlib.metadata as md
    dist = md.distribution("pyflakes")
    print(md.version("pyflakes") == dist.version)
    print(any(str(f) == "pyflakes/api.py" for f in dist.files))
    print(sorted(ep.name for ep in md.entry_points(group="console_scripts")))
"""
HELPER = """\
def boom():
    value = 42
    raise ValueError(f"boom {value}")
"""
BROKEN = """\
import warnings
warnings.warn("broken is deprecated", UserWarning, stacklevel=2)
raise RuntimeError("cannot start")
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("behaviour")
    (root / "app.py").write_text(APP)
    (root / "helper.py").write_text(HELPER)
    (root / "broken.py").write_text(BROKEN)
    build("pyflakes", "app.py", "-o", "app", cwd=root)
    return root / "app"


def test_uncaught_exception_prints_a_traceback_with_source_lines(app: Path) -> None:
    proc = run_hidden(app, "raise")
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        "Traceback (most recent call last):",
        f'  File "{app}/app/app.py", line 6, in <module>',
        "    helper.boom()",
        f'  File "{app}/app/helper.py", line 3, in boom',
        '    raise ValueError(f"boom {value}")',
        "ValueError: boom 42",
    ]


@pytest.mark.parametrize("code", ["0", "3", "255"])
def test_sys_exit_code(app: Path, code: str) -> None:
    assert run_hidden(app, "exit", code).returncode == int(code)


def test_warnings_show_their_source_line(app: Path) -> None:
    proc = run_hidden(app, "warn")
    line = APP.splitlines().index('    warnings.warn("careful")') + 1
    assert proc.stderr.splitlines() == [
        f"{app}/app/app.py:{line}: UserWarning: careful",
        '  warnings.warn("careful")',
    ]


def test_an_error_at_import_shows_the_importing_line_as_python_does(app: Path) -> None:
    # no frames of the import system between the importing line and the module's own, and a
    # warning with stacklevel=2 at the module's top level names the line that imported it
    proc = run_hidden(app, "import-error")
    line = APP.splitlines().index("    import broken") + 1
    assert proc.returncode == 1
    assert proc.stderr.splitlines() == [
        f"{app}/app/app.py:{line}: UserWarning: broken is deprecated",
        "  import broken",
        "Traceback (most recent call last):",
        f'  File "{app}/app/app.py", line {line}, in <module>',
        "    import broken",
        f'  File "{app}/app/broken.py", line 3, in <module>',
        '    raise RuntimeError("cannot start")',
        "RuntimeError: cannot start",
    ]


def test_code_names_its_module_file_as_python_does(app: Path) -> None:
    # a module's code objects name its __file__, so tools that map a frame or a function to
    # its module by file name (inspect.getmodule: rich's tracebacks, logging's pathname) find it
    proc = run_hidden(app, "frames")
    assert proc.stdout.splitlines() == ["True __main__", "True", "True", 'raise ValueError(f"boom {value}")'], (
        proc.stderr
    )


def test_site_builtins_exit_and_quit(app: Path) -> None:
    assert run_hidden(app, "builtin-exit").returncode == 4


def test_sys_exit_message(app: Path) -> None:
    proc = run_hidden(app, "exit-message")
    assert (proc.returncode, proc.stderr) == (1, "goodbye\n")


def test_stdin_and_utf8_under_env_i(app: Path) -> None:
    assert run_hidden(app, "stdin", input="abc\n").stdout == "ABC\n"
    proc = run_hidden(app, "unicode")
    assert proc.stdout == "h\u00e9llo \u2603 utf-8\n", proc.stderr


def test_pythonunbuffered_and_pythonfaulthandler_as_in_a_venv(app: Path) -> None:
    # containers set PYTHONUNBUFFERED=1 so that output and errors reach a log in the order
    # written; the app honours it, and PYTHONFAULTHANDLER, as a venv's console script does
    both = {"stdout": subprocess.PIPE, "stderr": subprocess.STDOUT, "text": True}
    env = {"PATH": "/usr/bin:/bin", "PYTHONUNBUFFERED": "1", "PYTHONFAULTHANDLER": "1"}
    assert subprocess.run([app, "interleave"], env=env, **both).stdout == "out 1\nerr\nout 2 True\n"
    env = {"PATH": "/usr/bin:/bin"}
    assert subprocess.run([app, "interleave"], env=env, **both).stdout == "err\nout 1\nout 2 False\n"


def test_closed_stdout_pipe_is_quiet(app: Path) -> None:
    proc = subprocess.run(
        f"'{app}' flood | head -1", shell=True, capture_output=True, text=True, executable="/bin/bash"
    )
    assert proc.stdout == "0\n"
    assert proc.stderr == ""


def test_sys_executable_and_file(app: Path) -> None:
    lines = run_hidden(app, "sys").stdout.splitlines()
    # sys.executable is this very file, spelled so that a child started through it is an interpreter.
    assert lines == [f"{app.parent}/./{app.name}", f"{app}/app/app.py", f"{app}/app/helper.py"]


def test_importlib_metadata_sees_bundled_distributions(app: Path) -> None:
    proc = run_hidden(app, "metadata")
    assert proc.stdout.splitlines() == ["True", "True", "['pyflakes']"], proc.stderr


def test_a_non_utf8_locale_behaves_as_under_python(app: Path, tmp_path: Path) -> None:
    if not Path("/usr/share/i18n/locales/en_US").exists():
        pytest.skip("no locale sources (apt-get install locales)")
    subprocess.run(["localedef", "-i", "en_US", "-f", "ISO-8859-1", str(tmp_path / "en_US.ISO-8859-1")], check=True)
    env = {"PATH": "/usr/bin:/bin", "LOCPATH": str(tmp_path), "LC_ALL": "en_US.ISO-8859-1"}
    ours = subprocess.run([app, "encodings"], capture_output=True, env=env)
    (tmp_path / "app.py").write_text(APP.replace("import helper", "helper = None"), encoding="utf-8")
    python = subprocess.run([sys.executable, "-I", tmp_path / "app.py", "encodings"], capture_output=True, env=env)
    assert ours.stdout == python.stdout == b"iso8859-1 iso8859-1 ISO-8859-1\ncaf\xe9\n"


def test_sigterm_ends_the_app_like_python(app: Path) -> None:
    proc = subprocess.Popen([app, "stdin"], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    proc.send_signal(signal.SIGTERM)
    proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGTERM
