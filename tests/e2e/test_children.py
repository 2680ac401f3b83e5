"""The executable is also the interpreter of the app's child processes, as python is in a venv.

It runs as the app unless started through ``sys.executable`` (``<dir>/./<name>``): see the
README's "Child processes". No freeze_support(), no environment marker.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PACKAGES, build_script_app, needs_root_tools, run_hidden

pytestmark = [pytest.mark.e2e, needs_root_tools]

APP = """\
import json, multiprocessing as mp, os, subprocess, sys

def square(x):
    return x * x

def with_method(method):
    ctx = mp.get_context(method)
    with ctx.Pool(2) as pool:
        squares = pool.map(square, range(5))
    queue = ctx.Queue()
    process = ctx.Process(target=queue.put, args=(method,))
    process.start()
    got = queue.get(timeout=60)
    process.join()
    from multiprocessing import shared_memory  # registers with the resource tracker
    shm = shared_memory.SharedMemory(create=True, size=16)
    shm.close()
    shm.unlink()
    return [squares, got, process.exitcode]

def copies(target):
    # venv.EnvBuilder() copies the python (symlinks=False): the copy is this file too
    import venv
    venv.EnvBuilder().create(target)
    python = os.path.join(target, "bin", "python")
    return [os.path.islink(python), child(python, "-c", "import sys; print(sys.prefix)")[1] == target]


def child(*args, **kwargs):
    proc = subprocess.run(list(args), capture_output=True, text=True, **kwargs)
    return [proc.returncode, proc.stdout.strip()]

if __name__ == "__main__":
    mode = sys.argv[1]
    if mode == "multiprocessing":
        print(json.dumps({m: with_method(m) for m in ("fork", "spawn", "forkserver")}))
    elif mode == "interpreter":
        print(json.dumps([
            child(sys.executable, "-c", "import sys; print(sys.argv[1:], sys.flags.ignore_environment)", "a"),
            child(sys.executable, "-m", "json.tool", input='{"k": 1}'),
            child(sys.executable, "-c", "import os, sys; print(os.environ.get('PYTHONPATH') in sys.path)",
                  env={**os.environ, "PYTHONPATH": "/tmp/onebin-pythonpath-probe"}),
        ]))
    elif mode == "rerun":
        print(json.dumps([
            child(sys.executable, *sys.orig_argv[1:2], "args", "-c", "x"),  # werkzeug's reloader
            child(sys.executable, sys.argv[0], "args"),  # Django's reloader
            child(sys.argv[0], "args", "-c", "x"),  # a shell-out to itself
            child("sh", "-c", f"exec '{sys.argv[0]}' args -m y"),
        ]))
    elif mode == "normalised":  # pre-commit's virtualenv, check-manifest, pdm: "/./" dropped
        from pathlib import Path
        print(json.dumps([
            child(os.path.abspath(sys.executable), "-S", "-c", "import sys; print(sys.flags.no_site)"),
            child(str(Path(sys.executable)), "-m", "json.tool", input='{"k": 1}'),
            child(os.path.realpath(sys.executable), "-Ic", "print('python')"),
        ]))
    elif mode == "close-fds":
        os.closerange(3, 4096)
        import decimal, _json, _sqlite3
        print(decimal.Decimal("1.5") * 2)
    elif mode == "share":
        import sqlite3
        probe = "\\n".join([
            "import os, sqlite3",
            "found = []",
            "for n in os.listdir('/proc/self/fd'):",
            "    try:",
            "        if 'libsqlite3' in os.readlink('/proc/self/fd/' + n):",
            "            found.append(os.stat('/proc/self/fd/' + n).st_ino)",
            "    except OSError:",  # the descriptor listdir() used
            "        pass",
            "print(found)",
        ])
        exec(probe)
        print(child(sys.executable, "-c", probe)[1])
    elif mode == "venv":  # what tox, nox, pre-commit and pipx do with sys.executable
        target = sys.argv[2]
        made = child(sys.executable, "-m", "venv", target)
        python = os.path.join(target, "bin", "python")
        shared = target + "-shared"
        child(sys.executable, "-m", "venv", "--without-pip", "--system-site-packages", shared)
        own = "import sys; print(any(p.startswith(sys.base_prefix + '/') and p.endswith('/site-packages') for p in sys.path))"
        outside = os.path.join(os.path.dirname(target), "outside")
        with open(outside, "w") as f:
            f.write("#!%s\\nimport sys\\nprint(sys.prefix == %r)\\n" % (python, target))
        os.chmod(outside, 0o755)
        print(json.dumps([
            made,
            child(python, "-c", "import sys; print(sys.prefix, sys.executable, sys.path[-1])"),
            child(python, "-m", "pip", "--version")[0],
            [child(python, "-c", own)[1], child(os.path.join(shared, "bin", "python"), "-c", own)[1]],
            child(outside)[1],  # a script elsewhere whose #! names the venv's python
            os.stat(os.path.join(target, "bin", "activate")).st_mode & 0o200,  # venv rewrites it
            copies(target + "-copies"),
        ]))
    elif mode == "sitecustomize":  # pip's build isolation puts one on PYTHONPATH
        env = {**os.environ, "PYTHONPATH": sys.argv[2]}
        print(json.dumps([
            child(sys.executable, "-c", "print('child')", env=env),
            child(sys.executable, "-S", "-c", "print('child')", env=env),
        ]))
    elif mode == "traceback":
        proc = subprocess.run([sys.executable, "-c", "import json; json.loads('x')"], capture_output=True, text=True)
        print(json.dumps([proc.returncode, proc.stderr]))
    elif mode == "environ":
        print(sys.flags.ignore_environment, os.environ.get("PYTHONPATH"), "/nowhere" in sys.path)
    else:
        print("app", sys.argv[1:])
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_script_app(tmp_path_factory.mktemp("children"), APP)


def test_multiprocessing_with_every_start_method(app: Path) -> None:
    proc = run_hidden(app, "multiprocessing")
    assert proc.returncode == 0, proc.stderr
    result = json.loads(proc.stdout)
    for method in ("fork", "spawn", "forkserver"):
        assert result[method] == [[0, 1, 4, 9, 16], method, 0]
    assert proc.stderr == ""


def test_sys_executable_is_an_interpreter_for_children(app: Path) -> None:
    proc = run_hidden(app, "interpreter")
    assert proc.returncode == 0, proc.stderr
    dash_c, dash_m, pythonpath = json.loads(proc.stdout)
    assert dash_c == [0, "['a'] 0"]
    assert dash_m == [0, '{\n    "k": 1\n}']
    assert pythonpath == [0, "True"]  # PYTHON* variables are honoured by the interpreter


def test_the_interpreters_tracebacks_show_source_lines(app: Path) -> None:
    # before 3.13 the built-in sys.excepthook reads them from disk only
    proc = run_hidden(app, "traceback")
    assert proc.returncode == 0, proc.stderr
    status, stderr = json.loads(proc.stdout)
    assert status == 1 and stderr.startswith("Traceback (most recent call last):\n"), stderr
    assert "json/decoder.py" in stderr and "\n    raise JSONDecodeError(" in stderr, stderr
    assert stderr.endswith("json.decoder.JSONDecodeError: Expecting value: line 1 column 1 (char 0)\n")


def test_the_interpreter_runs_sitecustomize_unless_told_not_to(app: Path, tmp_path: Path) -> None:
    # pip installing a project into a venv made from the executable (tox's sdist packaging)
    # finds its build backend through the sitecustomize it puts on PYTHONPATH
    (tmp_path / "sitecustomize.py").write_text("print('customized')\n")
    proc = run_hidden(app, "sitecustomize", str(tmp_path))
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [[0, "customized\nchild"], [0, "child"]]


def test_a_person_and_a_reloader_still_get_the_app(app: Path) -> None:
    assert run_hidden(app, "-c", "x").stdout == "app ['-c', 'x']\n"
    proc = run_hidden(app, "rerun")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [
        [0, "app ['args', '-c', 'x']"],
        [0, "app ['args']"],
        [0, "app ['args', '-c', 'x']"],
        [0, "app ['args', '-m', 'y']"],
    ]


def test_a_normalised_sys_executable_is_still_an_interpreter_for_the_app(app: Path) -> None:
    # os.path.abspath() and pathlib.Path() drop the "/./" of sys.executable: pre-commit runs
    # the base-executable virtualenv wrote in pyvenv.cfg so, check-manifest runs `-m build`
    proc = run_hidden(app, "normalised")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout) == [[0, "1"], [0, '{\n    "k": 1\n}'], [0, "python"]]


def test_python_variables_are_ignored_by_the_app(app: Path) -> None:
    env = {**os.environ, "PYTHONPATH": "/nowhere", "PYTHONSTARTUP": "/nowhere/x.py"}
    proc = subprocess.run([app, "environ"], capture_output=True, text=True, env=env)
    assert proc.stdout == "1 /nowhere False\n"


def test_extensions_load_after_the_app_closes_every_descriptor(app: Path) -> None:
    proc = run_hidden(app, "close-fds")
    assert (proc.returncode, proc.stdout) == (0, "3.0\n"), proc.stderr


def test_children_share_the_parents_libraries(app: Path) -> None:
    # The same memfd (inode), not a copy: no second copy of the library in memory.
    proc = run_hidden(app, "share")
    assert proc.returncode == 0, proc.stderr
    parent, child = proc.stdout.splitlines()
    assert parent == child and len(json.loads(parent)) == 1


def test_a_venv_made_from_sys_executable_has_this_python(app: Path, tmp_path: Path) -> None:
    # venv runs ensurepip through bin/<the app's name>; bin/python then serves the venv, with
    # its own site-packages and pip, no Python on the machine.
    target = tmp_path / "venv"
    proc = run_hidden(app, "venv", str(target))
    assert proc.returncode == 0, proc.stderr
    made, python, pip, app_packages, pip_script, activate_writable, copied = json.loads(proc.stdout)
    assert made == [0, ""], proc.stdout
    site = f"{target}/lib/python{sys.version_info[0]}.{sys.version_info[1]}/site-packages"
    assert python == [0, f"{target} {target}/bin/python {site}"]
    assert pip == 0
    # the app's own site-packages: only in a venv made with --system-site-packages
    assert app_packages == ["False", "True"]
    assert pip_script == "True"  # the kernel runs bin/python with the script: the venv's interpreter
    assert activate_writable  # copied with the mode of the cache's copy, as venv copies a venv's
    assert copied == [False, True]  # a venv with a copy of the file: its python, not the app


PTH_APP = """\
import json, multiprocessing as mp, subprocess, sys

def seen(_):
    import pthdemo_hook  # pthdemo.pth records site-packages here, and adds extra/ to sys.path
    import extramod
    return [sys.flags.no_site, len(pthdemo_hook.STARTED), extramod.WHERE]

def child(*options):
    code = "import sys, pthdemo_hook; print(sys.flags.no_site, len(pthdemo_hook.STARTED))"
    return subprocess.run([sys.executable, *options, "-c", code], capture_output=True, text=True).stdout.strip()

if __name__ == "__main__":
    workers = {}
    for method in ("spawn", "forkserver"):
        with mp.get_context(method).Pool(1) as pool:
            workers[method] = pool.map(seen, [0])[0]
    import site  # imported at start in a venv: importing it later runs nothing
    print(json.dumps([seen(0), workers, child(), child("-S"), hasattr(sys, "__interactivehook__")]))
"""


def test_workers_run_the_pth_files_as_the_app_does(tmp_path: Path) -> None:
    # multiprocessing starts spawn and forkserver workers with the app's sys.flags as python's
    # options: with no_site they got -S, and setuptools' distutils-precedence.pth did not run
    # in them (`import distutils` failed in a worker on 3.12)
    src = tmp_path / "src"
    shutil.copytree(PACKAGES / "pthdemo", src, ignore=shutil.ignore_patterns("build", "*.egg-info"))
    app = build_script_app(tmp_path, PTH_APP, src)
    proc = run_hidden(app)
    assert proc.returncode == 0, proc.stderr
    app_seen, workers, child, child_without_site, site_main_ran = json.loads(proc.stdout)
    assert app_seen == [0, 1, "extra"]
    assert workers == {"spawn": [0, 1, "extra"], "forkserver": [0, 1, "extra"]}
    assert (child, child_without_site) == ("0 1", "1 0")  # python's -S: no .pth files, no_site 1
    assert not site_main_ran  # site.main() would have set sys.__interactivehook__
