"""The four examples of `onebin build --help`, built from PyPI and run as users would.

Each executable runs with every Python on the machine hidden (a mount namespace and `env -i`),
and under strace, where it must read no module from disk and create no file.
"""

from __future__ import annotations

import base64
import hashlib
import re
import shutil
import signal
import subprocess
import sys
import venv
import zipfile
from pathlib import Path

import pytest
from conftest import (
    GLIBC,
    PACKAGES,
    ROOT,
    assert_no_disk_imports,
    build,
    build_script_app,
    needs_root_tools,
    run_hidden,
    run_onebin,
    run_traced,
)

pytestmark = [pytest.mark.e2e, needs_root_tools]

HELLO = """\
import sys
import greet
print(greet.greeting(), sys.argv[1:])
"""
GREET = """\
def greeting():
    return "hello, world"
"""
NUMPY_APP = """\
import numpy as np
a = np.array([[2.0, 1.0], [1.0, 3.0]])
print(np.linalg.inv(a).round(3).tolist(), float((a @ a).sum()))
"""
BAD = "x = list([i for i in range(3)])\n"


@pytest.fixture(scope="module")
def hello(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hello")
    (root / "hello.py").write_text(HELLO)
    (root / "greet.py").write_text(GREET)
    (root / ".hidden").mkdir()
    (root / ".hidden" / "secret.py").write_text("raise SystemExit('must not be bundled')\n")
    build("hello.py", "-o", "hello", cwd=root)
    return root / "hello"


@pytest.fixture(scope="module")
def flake8(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("flake8")
    build("flake8", "flake8-comprehensions", "-c", "flake8", "-o", "flake8", cwd=root)
    (root / "bad.py").write_text(BAD)
    return root / "flake8"


@pytest.fixture(scope="module")
def numpy_app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_script_app(tmp_path_factory.mktemp("numpy"), NUMPY_APP, "numpy")


@pytest.fixture(scope="module")
def myapp(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("project")
    build(PACKAGES / "myproject", "-o", "myapp", cwd=root)
    return root / "myapp"


def test_hello_runs_with_python_hidden(hello: Path) -> None:
    proc = run_hidden(hello, "a", "-c", "x", "-m", "y")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "hello, world ['a', '-c', 'x', '-m', 'y']\n"
    assert proc.stderr == ""


def test_hello_bundles_neighbours_but_no_hidden_directory(hello: Path) -> None:
    proc = subprocess.run([hello], capture_output=True, text=True)
    assert proc.returncode == 0
    probe = run_hidden(hello)
    assert "must not be bundled" not in probe.stderr


def test_hello_reads_no_module_from_disk(hello: Path) -> None:
    proc, trace = run_traced(hello, cwd=hello.parent)
    assert proc.returncode == 0 and proc.stdout.startswith("hello, world")
    assert_no_disk_imports(trace)


def test_flake8_matches_a_venv(flake8: Path, tmp_path: Path) -> None:
    env_dir = tmp_path / "venv"
    venv.EnvBuilder(with_pip=True).create(env_dir)
    pip = subprocess.run(
        [env_dir / "bin/pip", "install", "-q", "flake8", "flake8-comprehensions"], capture_output=True, text=True
    )
    assert pip.returncode == 0, pip.stderr
    for args in (["--version"], ["bad.py"]):
        expected = subprocess.run([env_dir / "bin/flake8", *args], cwd=flake8.parent, capture_output=True, text=True)
        got = run_hidden(flake8, *args, cwd=flake8.parent)
        # The venv's version line names its own interpreter; ours is the same CPython.
        assert (got.returncode, got.stdout, got.stderr) == (expected.returncode, expected.stdout, expected.stderr)
    assert "flake8-comprehensions" in got.stdout or "C4" in got.stdout


def test_flake8_finds_its_plugin_from_memory(flake8: Path) -> None:
    proc = run_hidden(flake8, "bad.py", cwd=flake8.parent)
    assert proc.returncode == 1
    assert re.search(r"^bad\.py:1:\d+: C4\d\d ", proc.stdout, re.M), proc.stdout
    version = run_hidden(flake8, "--version")
    assert "flake8-comprehensions" in version.stdout
    _, trace = run_traced(flake8, "bad.py", cwd=flake8.parent)
    assert_no_disk_imports(trace, inputs=("bad.py",))


def test_numpy_app_loads_extensions_and_openblas_from_memory(numpy_app: Path) -> None:
    proc = run_hidden(numpy_app)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "[[0.6, -0.2], [-0.2, 0.4]] 25.0\n"
    _, trace = run_traced(numpy_app, cwd=numpy_app.parent)
    assert_no_disk_imports(trace)
    assert sum("memfd_create" in line for line in trace) > 5


def test_project_runs_its_own_console_script(myapp: Path) -> None:
    proc = run_hidden(myapp, "one", "-c", "two")
    assert proc.returncode == 0, proc.stderr
    assert re.fullmatch(r"myapp 1\.2\.3 \(pyflakes [\d.]+\) args=\['one', '-c', 'two'\]\n", proc.stdout)
    assert run_hidden(myapp, "--fail").returncode == 3


def test_executables_need_only_glibc(hello: Path, numpy_app: Path) -> None:
    for exe in (hello, numpy_app):
        dynamic = subprocess.run(["readelf", "-d", exe], capture_output=True, text=True).stdout
        needed = re.findall(r"\(NEEDED\)\s+Shared library: \[(.+?)\]", dynamic)
        assert needed and all(GLIBC.search("/" + n) for n in needed), needed


def test_sigint_ends_the_app_like_python(tmp_path: Path) -> None:
    (tmp_path / "sleeper.py").write_text("import sys, time\nprint('ready', flush=True)\ntime.sleep(60)\n")
    build("sleeper.py", "-o", "sleeper", cwd=tmp_path)
    proc = subprocess.Popen([tmp_path / "sleeper"], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline() == "ready\n"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGINT
    assert "KeyboardInterrupt" in err


def test_module_and_function_entry_points(tmp_path: Path) -> None:
    build(PACKAGES / "myproject", "-m", "myproject", "-o", "as-module", cwd=tmp_path)
    build(PACKAGES / "myproject", "-m", "myproject.cli:main", "-o", "as-function", cwd=tmp_path)
    module = run_hidden(tmp_path / "as-module", "x", "--fail")
    assert module.stdout.splitlines()[0] == "as module __main__ myproject.__main__"  # sys.argv[0]: its file
    assert module.returncode == 3
    function = run_hidden(tmp_path / "as-function", "y")
    assert function.returncode == 0 and function.stdout.endswith("args=['y']\n")


def test_a_console_scripts_directory_is_first_on_sys_path_as_in_a_venv(tmp_path: Path) -> None:
    # python puts the script's directory first (a venv's bin/), and the app has a
    # venv's console script's safe_path (off): coverage's `run` replaces that entry with the measured script's
    # directory when safe_path is off, which must leave the stdlib's entry alone
    build(PACKAGES / "myproject", "-c", "myapp", "-o", "myapp", cwd=tmp_path)
    proc = run_hidden(tmp_path / "myapp", "--where")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines()[1:] == [f"{tmp_path / 'myapp'}/bin False", "colorsys"]


def test_a_script_file_a_distribution_installs(tmp_path: Path) -> None:
    build(PACKAGES / "twoscripts", "-c", "third", "-o", "third", cwd=tmp_path)
    proc = run_hidden(tmp_path / "third", "x")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "first\nthird __main__ ['x']\n"


def test_a_program_a_distribution_installs_in_bin(tmp_path: Path) -> None:
    # A program in a wheel's .data/scripts that is not a Python script (ruff's and uv's
    # binaries) is where a venv has it, in the prefix's bin/, found through sysconfig's scripts
    # path, written with its execute bit; `-m twoscripts` (its wrapper named as the program)
    # leaves the program its name
    build(PACKAGES / "twoscripts", "-m", "twoscripts", "-o", "program", cwd=tmp_path)
    proc = run_hidden(tmp_path / "program", "x")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "True True\nprogram twoscripts x\n"
    # That bin/ also holds the scripts a venv's does, which pip points at its python: here at
    # the executable, as python. A tool that puts it on PATH runs another of its distribution's
    # console scripts (or Python scripts) by name (semgrep's semgrep-core runs pysemgrep), with
    # no Python on the machine; from a directory whose path a #! line cannot hold, through sh.
    spaced = tmp_path / "a b"
    spaced.mkdir()
    shutil.copy2(tmp_path / "program", spaced / "program")
    for program in (tmp_path / "program", spaced / "program"):
        proc = run_hidden(program, "--by-name")
        assert proc.returncode == 0, proc.stderr
        assert proc.stdout == "first\nfirst\nthird __main__ ['y']\n"
    # and the directory of sys.executable stands for it, as a venv's bin/ holds python and them
    # (ansible-lint looks for ansible's command at Path(sys.executable).parent / "ansible")
    proc = run_hidden(tmp_path / "program", "--beside")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "True True\nsecond\n"


def test_the_readme_sample(tmp_path: Path) -> None:
    build(ROOT / "examples/hello/hello.py", "-o", "hello", cwd=tmp_path)
    proc = run_hidden(tmp_path / "hello", "-v")
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("Hello from one file! {") and '"argv": ["-v"]' in proc.stdout


PTH_APP = """\
import sys
import pthdemo_hook
import extramod
print(pthdemo_hook.STARTED == [sys.prefix + "/lib/python%d.%d/site-packages" % sys.version_info[:2]])
print(extramod.WHERE)
import distutils
print(distutils.__file__.endswith("/setuptools/_distutils/__init__.py"))
"""


def test_site_packages_pth_files_run_as_site_runs_them(tmp_path: Path) -> None:
    # site runs a .pth file's import lines (setuptools' distutils-precedence.pth gives its own
    # distutils, the only one on 3.12), adds the directories it names, and reports a failing
    # line, ignoring the rest of that file; *-nspkg.pth lines read site's local `sitedir`
    src = tmp_path / "src"
    shutil.copytree(PACKAGES / "pthdemo", src, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    app = build_script_app(tmp_path, PTH_APP, src, "setuptools<81")
    proc = run_hidden(app)
    assert proc.stdout.splitlines() == ["True", "extra", "True"], proc.stderr
    lines = proc.stderr.splitlines()
    assert (
        lines[0]
        == f"Error processing line 4 of {app}/lib/python{sys.version_info.major}.{sys.version_info.minor}/site-packages/pthdemo.pth:"
    )
    assert "ModuleNotFoundError: No module named 'pthdemo_missing_module'" in proc.stderr
    assert lines[-1] == "Remainder of file ignored"


OPTIONAL_NATIVE_APP = """\
import sys
import optnative
print(optnative._fast is None, optnative.REASON)
if sys.argv[1:] == ["where"]:
    print(optnative.where() == optnative._plain.__file__.rpartition("/")[0])
"""


def test_an_extension_whose_library_is_missing_is_bundled_with_a_warning(tmp_path: Path) -> None:
    # numba's tbbpool needs libtbb, which numba does without: the build warns and goes on,
    # and importing the extension fails as in a venv on a machine without the library
    (tmp_path / "app.py").write_text(OPTIONAL_NATIVE_APP)
    proc = run_onebin("build", PACKAGES / "optnative", "app.py", "-o", "app", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    warning = next(line for line in proc.stderr.splitlines() if "libonebinmissing.so" in line)
    assert warning.startswith("onebin: warning: optnative 1.0 (lib/python")
    assert warning.endswith("--exclude optnative._fast")
    run = run_hidden(tmp_path / "app")
    assert run.returncode == 0, run.stderr
    assert run.stdout == "True libonebinmissing.so: cannot open shared object file: No such file or directory\n"


def _wheel_with_libs(directory: Path) -> Path:
    """A wheel laid out as auditwheel lays out xgboost's: a library in the package (loaded by
    ctypes, not an extension module) whose RPATH, $ORIGIN/../../ctlib.libs, finds the library
    it needs in the wheel's ``ctlib.libs``."""
    (directory / "helper.c").write_text("int helper(void) { return 41; }\n")
    (directory / "main.c").write_text("int helper(void);\nint answer(void) { return helper() + 1; }\n")
    helper, main = directory / "libhelper-1a2b3c4d.so", directory / "libmain.so"
    gcc = ["gcc", "-shared", "-fPIC", "-o"]
    subprocess.run([*gcc, helper, "-Wl,-soname,libhelper-1a2b3c4d.so", directory / "helper.c"], check=True)
    rpath = "-Wl,--disable-new-dtags,-rpath,$ORIGIN/../../ctlib.libs"
    subprocess.run([*gcc, main, directory / "main.c", f"-L{directory}", "-l:libhelper-1a2b3c4d.so", rpath], check=True)
    init = "import ctypes, os\nHERE = os.path.dirname(__file__)\nLIBRARY = os.path.join(HERE, 'lib', 'libmain.so')\n"
    init += "def answer():\n    return ctypes.CDLL(LIBRARY).answer()\n"
    files = {
        "ctlib/__init__.py": init.encode(),
        "ctlib/lib/libmain.so": main.read_bytes(),
        "ctlib.libs/libhelper-1a2b3c4d.so": helper.read_bytes(),
        "ctlib-1.0.dist-info/METADATA": b"Metadata-Version: 2.1\nName: ctlib\nVersion: 1.0\n",
        "ctlib-1.0.dist-info/WHEEL": b"Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: false\nTag: py3-none-linux_x86_64\n",
    }
    record = [f"{name},sha256={_urlsafe_digest(data)},{len(data)}" for name, data in files.items()]
    files["ctlib-1.0.dist-info/RECORD"] = ("\n".join([*record, "ctlib-1.0.dist-info/RECORD,,"]) + "\n").encode()
    wheel = directory / "ctlib-1.0-py3-none-linux_x86_64.whl"
    with zipfile.ZipFile(wheel, "w") as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return wheel


def _urlsafe_digest(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def test_a_library_of_a_written_package_finds_its_wheels_libs(tmp_path: Path) -> None:
    # xgboost: its package is written (libpath.py reads __file__), ctypes loads lib/libxgboost.so
    # from there, which finds libgomp through its RPATH in xgboost.libs: written with it
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    wheel = _wheel_with_libs(wheels)
    (tmp_path / "app.py").write_text("import ctlib\nprint(ctlib.answer())\n")
    build(wheel, "app.py", "-o", "app", cwd=tmp_path)
    env = {"PATH": "/usr/bin:/bin", "ONEBIN_CACHE_DIR": str(tmp_path / "cache")}  # nothing written before
    proc = subprocess.run([tmp_path / "app"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "42\n"


def test_an_extension_of_a_package_an_earlier_run_wrote_loads_from_its_written_copy(tmp_path: Path) -> None:
    # onnxruntime finds its provider library beside its extension's file (dladdr): once a run
    # has written its package, later runs load the extension from there, checked, not from memory
    (tmp_path / "app.py").write_text(OPTIONAL_NATIVE_APP)
    build(PACKAGES / "optnative", "app.py", "-o", "app", cwd=tmp_path)
    env = {"PATH": "/usr/bin:/bin", "ONEBIN_CACHE_DIR": str(tmp_path / "cache"), "ONEBIN_TRACE": "1"}

    def plain_load(*args: str) -> str:
        proc = subprocess.run([tmp_path / "app", *args], capture_output=True, text=True, env=env)
        assert proc.returncode == 0, proc.stderr
        return next(line for line in proc.stderr.splitlines() if line.startswith("onebin: load ") and "_plain" in line)

    assert "from memory" in plain_load()  # nothing written yet
    assert "from memory" in plain_load("where")  # where() then writes the package
    assert f"from its written copy ({tmp_path / 'cache'}/" in plain_load()
