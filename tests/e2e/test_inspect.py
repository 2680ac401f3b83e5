"""`onebin inspect` on a real executable (a script and pyflakes from PyPI): text, JSON, SBOM,
and one clear error line for what is not a onebin executable."""

from __future__ import annotations

import hashlib
import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
from conftest import build_script_app, run_onebin

from onebin._runtime.bundle import TRAILER_SIZE

pytestmark = pytest.mark.e2e

APP = "import pyflakes\nprint('pyflakes', pyflakes.__version__)\n"


@pytest.fixture(scope="module")
def exe(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_script_app(tmp_path_factory.mktemp("inspect"), APP, "pyflakes")


@pytest.fixture(scope="module")
def document(exe: Path) -> dict[str, Any]:
    proc = run_onebin("inspect", exe, "--json")
    assert proc.returncode == 0, proc.stderr
    return dict(json.loads(proc.stdout))


def _pyflakes_version(exe: Path) -> str:
    proc = subprocess.run([exe], capture_output=True, text=True, check=True)
    return proc.stdout.split()[1]


def _glibc_here() -> tuple[int, ...]:
    return tuple(int(part) for part in os.confstr("CS_GNU_LIBC_VERSION").split()[1].split("."))  # type: ignore[union-attr]


def test_text_summary(exe: Path) -> None:
    proc = run_onebin("inspect", exe)
    assert proc.returncode == 0, proc.stderr
    out = proc.stdout
    assert re.search(r"^python +3\.\d+\.\d+$", out, re.MULTILINE)
    assert re.search(r"^entry point +script app\.py$", out, re.MULTILINE)
    assert re.search(r"^glibc floor +2\.\d+ \(needed by ", out, re.MULTILINE)
    assert re.search(rf"^  pyflakes +{re.escape(_pyflakes_version(exe))}$", out, re.MULTILINE)
    assert re.search(r"^  lib/libffi\.so\.\d+ +libffi\.so\.\d+ .*build machine", out, re.MULTILINE)
    assert re.search(r"^  lib/python3\.\d+/site-packages +\d+ ", out, re.MULTILINE)
    assert re.search(r"^  pyflakes [0-9.]+ +sha256:[0-9a-f]{64} +\S+", out, re.MULTILINE)
    assert proc.stderr == ""


def test_modules_lists_every_module(exe: Path) -> None:
    proc = run_onebin("inspect", exe, "--modules")
    assert re.search(
        r"^  pyflakes\.checker +source +[0-9.]+ kB +[0-9.]+ kB +lib/python3\.\d+/site-packages/pyflakes/checker\.py$",
        proc.stdout,
        re.MULTILINE,
    )
    assert re.search(r"^  json\.decoder +source ", proc.stdout, re.MULTILINE)


def test_json_locates_the_payload(exe: Path, document: dict[str, Any]) -> None:
    size = exe.stat().st_size
    assert document["size"] == size
    assert document["payload_offset"] % 4096 == 0
    assert document["payload_offset"] + document["payload_size"] + TRAILER_SIZE == size
    assert exe.read_bytes()[:4] == b"\x7fELF"
    for section in document["sections"].values():
        assert document["payload_offset"] <= section["offset"] <= section["offset"] + section["size"] <= size


def test_json_contents(exe: Path, document: dict[str, Any]) -> None:
    assert document["entry"] == "script app.py" and document["id"].startswith("app-")
    assert {"name": "pyflakes", "version": _pyflakes_version(exe)}.items() <= document["distributions"][0].items()
    modules = {m["name"]: m for m in document["modules"]}
    assert modules["app"]["root"] == "app"
    assert modules["pyflakes"]["kind"] == "package" and modules["pyflakes.checker"]["size"] > 1000
    assert any(m["kind"] == "extension" for m in document["modules"])
    inputs = {i["name"]: i for i in document["inputs"]}
    assert inputs["app.py"]["sha256"] == hashlib.sha256(APP.encode()).hexdigest()
    assert re.fullmatch(r"[0-9a-f]{64}", inputs["pyflakes"]["sha256"])


def test_the_glibc_floor_is_met_by_the_machine_it_runs_on(document: dict[str, Any]) -> None:
    floor = tuple(int(part) for part in document["glibc_min"].split("."))
    assert (2, 2) <= floor <= _glibc_here()
    assert document["glibc_min_required_by"]
    libraries = [lib for lib in document["native_libraries"] if lib["glibc_min"]]
    assert max(tuple(map(int, lib["glibc_min"].split("."))) for lib in libraries) <= floor


def test_sbom(exe: Path, tmp_path: Path) -> None:
    pytest.importorskip("cyclonedx")
    out = tmp_path / "app.cdx.json"
    proc = run_onebin("inspect", exe, "--sbom", out)
    assert proc.returncode == 0, proc.stderr
    text = out.read_text()
    document = json.loads(text)
    assert document["bomFormat"] == "CycloneDX" and document["specVersion"] == "1.6"
    purls = {c.get("purl") for c in document["components"]}
    assert f"pkg:pypi/pyflakes@{_pyflakes_version(exe)}" in purls
    assert any(c["name"] == "libffi" for c in document["components"])
    stdout = run_onebin("inspect", exe, "--sbom", "-", env={**os.environ, "SOURCE_DATE_EPOCH": "0"})
    assert json.loads(stdout.stdout)["components"] == document["components"]
    try:
        from cyclonedx.schema import SchemaVersion
        from cyclonedx.validation.json import JsonStrictValidator

        assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(text) is None
    except ImportError:
        pass  # no jsonschema: cyclonedx-python-lib without its json-validation extra


def _bad_inputs(exe: Path, root: Path) -> dict[str, tuple[Path, str]]:
    (root / "notes.txt").write_text("a plain text file\n" * 20)
    (root / "half").write_bytes(exe.read_bytes()[: exe.stat().st_size // 2])
    return {
        "missing": (root / "missing", "no such file"),
        "text": (root / "notes.txt", "not a onebin executable"),
        "truncated": (root / "half", "a damaged onebin executable"),
    }


@pytest.mark.parametrize("case", ["missing", "text", "truncated"])
def test_bad_input_is_one_error_line(exe: Path, tmp_path: Path, case: str) -> None:
    path, message = _bad_inputs(exe, tmp_path)[case]
    for options in ([], ["--json"], ["--sbom", str(tmp_path / "out.json")]):
        proc = run_onebin("inspect", path, *options)
        assert proc.returncode == 2, proc.stderr
        assert proc.stdout == ""
        lines = proc.stderr.splitlines()
        assert len(lines) == 1 and lines[0].startswith("onebin: error: ") and message in lines[0], proc.stderr
        assert not (tmp_path / "out.json").exists()
