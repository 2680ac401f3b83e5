"""How Python people already work: [tool.onebin], pip's options, lock files, --exclude,
licences, and the debug hatches."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

import pytest
from conftest import PACKAGES, build, run_onebin

pytestmark = pytest.mark.e2e


def _project(tmp_path: Path, table: str) -> Path:
    project = tmp_path / "proj"
    shutil.copytree(PACKAGES / "myproject", project)
    with open(project / "pyproject.toml", "a") as f:
        f.write("\n[tool.onebin]\n" + table)
    return project


def test_tool_onebin_settings_with_no_arguments(tmp_path: Path) -> None:
    project = _project(tmp_path, 'output = "dist/myapp"\nmodule = "myproject.cli:main"\ncheck = "--smoke"\n')
    (project / "dist").mkdir()
    proc = run_onebin("build", cwd=project)
    assert proc.returncode == 0, proc.stderr
    run = subprocess.run([project / "dist/myapp", "x"], capture_output=True, text=True)
    assert run.returncode == 0 and run.stdout.endswith("args=['x']\n")


def test_the_command_line_wins_over_tool_onebin(tmp_path: Path) -> None:
    project = _project(tmp_path, 'output = "never-written"\n')
    proc = run_onebin("build", project, "-o", tmp_path / "chosen")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "chosen").exists() and not (project / "never-written").exists()


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ('outptu = "x"\n', "unknown key 'outptu' (did you mean 'output'?); allowed keys: sources, requirement"),
        ("no-index = 'yes'\n", "'no-index' must be true or false, not 'yes'"),
        ("exclude = 3\n", "'exclude' must be a list of strings, not 3"),
    ],
)
def test_tool_onebin_mistakes_name_the_key_and_the_file(tmp_path: Path, table: str, message: str) -> None:
    project = _project(tmp_path, table)
    proc = run_onebin("build", project, "-o", tmp_path / "app")
    assert proc.returncode == 2
    (error,) = [line for line in proc.stderr.splitlines() if line.startswith("onebin: error:")]
    assert f"{project / 'pyproject.toml'}: [tool.onebin]" in error and message in error
    assert not (tmp_path / "app").exists()


def test_offline_build_from_a_wheelhouse(tmp_path: Path) -> None:
    wheelhouse = tmp_path / "wheels"
    pip = [
        sys.executable,
        "-m",
        "pip",
        "download",
        "-q",
        "--only-binary=:all:",
        "-d",
        str(wheelhouse),
        "pyflakes==3.2.0",
    ]
    assert subprocess.run(pip, capture_output=True).returncode == 0
    (tmp_path / "app.py").write_text("import pyflakes\nprint(pyflakes.__version__)\n")
    env = {**os.environ, "PIP_INDEX_URL": "http://127.0.0.1:9/nowhere"}  # any index use would fail
    proc = subprocess.run(
        [
            Path(sys.executable).with_name("onebin"),
            "build",
            "--no-index",
            "--find-links",
            wheelhouse,
            "pyflakes",
            "app.py",
            "-o",
            "app",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.returncode == 0, proc.stderr
    assert subprocess.run([tmp_path / "app"], capture_output=True, text=True).stdout == "3.2.0\n"


def test_build_from_a_pylock_file(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    pip = [
        sys.executable,
        "-m",
        "pip",
        "install",
        "-q",
        "--dry-run",
        "--ignore-installed",
        "--report",
        str(report),
        "pyflakes==3.2.0",
    ]
    assert subprocess.run(pip, capture_output=True).returncode == 0
    (item,) = json.loads(report.read_text())["install"]
    info = item["download_info"]
    (tmp_path / "pylock.toml").write_text(
        'lock-version = "1.0"\ncreated-by = "onebin-tests"\n\n[[packages]]\nname = "pyflakes"\nversion = "3.2.0"\n\n'
        f'[[packages.wheels]]\nurl = "{info["url"]}"\nhashes = {{sha256 = "{info["archive_info"]["hashes"]["sha256"]}"}}\n'
    )
    (tmp_path / "app.py").write_text("import pyflakes\nprint(pyflakes.__version__)\n")
    build("-r", "pylock.toml", "app.py", "-o", "app", cwd=tmp_path)
    assert subprocess.run([tmp_path / "app"], capture_output=True, text=True).stdout == "3.2.0\n"


def test_exclude_leaves_a_package_out(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import importlib.util, datapkg\nprint(importlib.util.find_spec('datapkg.sub') is None)\n"
    )
    proc = run_onebin("build", PACKAGES / "datapkg", "app.py", "--exclude", "datapkg.sub", "-o", "app", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "left out datapkg.sub: 3 files" in proc.stderr
    assert subprocess.run([tmp_path / "app"], capture_output=True, text=True).stdout == "True\n"
    missing = run_onebin("build", "app.py", "--exclude", "no.such.module", "-o", "app2", cwd=tmp_path)
    assert missing.returncode == 2 and "--exclude no.such.module: no such module or package" in missing.stderr


def test_licenses_are_carried_and_printed(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import pyflakes\n")
    build("pyflakes", "app.py", "-o", "app", cwd=tmp_path)
    proc = run_onebin("inspect", "--licenses", tmp_path / "app")
    assert proc.returncode == 0, proc.stderr
    assert "PYTHON SOFTWARE FOUNDATION LICENSE" in proc.stdout  # CPython's
    assert ".dist-info/" in proc.stdout and "pyflakes" in proc.stdout  # the distribution's


def test_the_trace_variable(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("import json, decimal\n")
    build("app.py", "-o", "app", cwd=tmp_path)
    quiet = subprocess.run([tmp_path / "app"], capture_output=True, text=True)
    assert quiet.stderr == ""
    traced = subprocess.run([tmp_path / "app"], capture_output=True, text=True, env={**os.environ, "ONEBIN_TRACE": "1"})
    lines = traced.stderr.splitlines()
    assert "onebin: import json from lib/python3." in "\n".join(lines)
    assert any(
        line.startswith("onebin: load lib/python3.") and "_decimal" in line and "from memory" in line for line in lines
    )


def test_the_python_prompt_hatch(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("print('the app')\n")
    build("app.py", "-o", "app", cwd=tmp_path)
    env = {**os.environ, "ONEBIN_PYTHON": "1"}
    proc = subprocess.run(
        [tmp_path / "app"],
        input="import json, sys\nprint(json.dumps(sys.argv))\n",
        capture_output=True,
        text=True,
        env=env,
    )
    assert proc.stdout.strip().endswith('[""]'), proc.stdout
    assert "the app" not in proc.stdout


def test_trim_stdlib_is_opt_in_and_keeps_what_the_code_imports(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text(
        "import importlib, json\n"
        "def later():\n"
        "    import sqlite3  # a lazy import counts\n"
        "    return sqlite3.sqlite_version_info[:1]\n"
        "csv = importlib.import_module('csv')  # so does a name given to import_module()\n"
        "print(json.dumps(later()), csv.__name__, importlib.import_module('xml.dom.minidom').__name__)\n"
    )
    full = run_onebin("build", "app.py", "-o", "full", cwd=tmp_path)
    trimmed = run_onebin("build", "app.py", "--trim-stdlib", "-o", "trimmed", cwd=tmp_path)
    assert full.returncode == trimmed.returncode == 0, trimmed.stderr
    assert "--trim-stdlib" not in full.stderr
    (note,) = [line for line in trimmed.stderr.splitlines() if "--trim-stdlib left out" in line]
    dropped = note.split(": ", 2)[2].split(", ")
    assert {"idlelib", "turtledemo", "tkinter", "_tkinter", "xml.etree", "unittest.mock"} <= set(dropped)
    assert not {"json", "sqlite3", "_sqlite3", "csv", "xml.dom"} & set(dropped)
    assert (tmp_path / "trimmed").stat().st_size < (tmp_path / "full").stat().st_size
    run = subprocess.run([tmp_path / "trimmed"], capture_output=True, text=True)
    assert run.stdout == "[3] csv xml.dom.minidom\n", run.stderr
    contents = run_onebin("inspect", "trimmed", cwd=tmp_path).stdout
    assert "libsqlite3" in contents and "libtk" not in contents


def test_trim_stdlib_keeps_what_an_extension_module_imports(tmp_path: Path) -> None:
    # Cython's `import colorsys` is PyImport_ImportModule("colorsys") in machine code
    (tmp_path / "cmod.c").write_text(
        "#include <Python.h>\n"
        'static struct PyModuleDef def = {PyModuleDef_HEAD_INIT, "cmod", NULL, -1, NULL};\n'
        "PyMODINIT_FUNC PyInit_cmod(void) {\n"
        "    PyObject *m = PyModule_Create(&def);\n"
        '    PyObject *c = PyImport_ImportModule("colorsys");\n'
        '    if (m == NULL || c == NULL || PyModule_AddObject(m, "colorsys", c) < 0) return NULL;\n'
        "    return m;\n"
        "}\n"
    )
    suffix = sysconfig.get_config_var("EXT_SUFFIX")
    include = sysconfig.get_path("include")
    subprocess.run(
        ["gcc", "-shared", "-fPIC", f"-I{include}", "cmod.c", "-o", f"cmod{suffix}"], cwd=tmp_path, check=True
    )
    (tmp_path / "app.py").write_text("import cmod\nprint(cmod.colorsys.rgb_to_hsv(1, 0, 0))\n")
    proc = run_onebin("build", "app.py", "--trim-stdlib", "-o", "app", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "colorsys" not in proc.stderr.split("--trim-stdlib left out", 1)[1].split("\n")[0].split(": ", 1)[1].split(
        ", "
    )
    run = subprocess.run([tmp_path / "app"], capture_output=True, text=True)
    assert run.stdout == "(0.0, 1.0, 1)\n", run.stderr
