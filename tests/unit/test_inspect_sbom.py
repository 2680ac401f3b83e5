"""The CycloneDX SBOM of what `onebin inspect` read: valid, complete and reproducible."""

from __future__ import annotations

import json
import sys
from typing import Any

import pytest

from onebin import sbom
from onebin.inspect import Contents, Distribution, Input, InspectError, Module, NativeLibrary

SITE = "lib/python3.12/site-packages"
CONTENTS = Contents(
    file="/opt/tools/app",
    size=1000,
    sha256="ee" * 32,
    payload_offset=4096,
    payload_size=800,
    sections={"index": {"offset": 4800, "size": 96}},
    python="3.12.4",
    entry="script app.py",
    id="app-0123456789abcdef",
    onebin="0.1.0",
    glibc_min="2.34",
    glibc_min_required_by=("(launcher)",),
    roots=("app", "lib/python3.12", SITE),
    distributions=(Distribution("Demo_Pkg", "1.2", SITE, f"{SITE}/demo_pkg-1.2.dist-info"),),
    modules=(Module("demo", "package", SITE, f"{SITE}/demo/__init__.py", 10, 20),),
    native_libraries=(
        NativeLibrary("lib/libssl.so.3", "libssl.so.3", 100, "11" * 32, "build-machine", None, "2.33"),
        NativeLibrary(
            f"{SITE}/demo.libs/libfoo-ab12cd34.so",
            "libfoo-ab12cd34.so",
            50,
            "22" * 32,
            "distribution",
            "Demo_Pkg",
            "2.17",
        ),
    ),
    inputs=(
        Input("Demo_Pkg", "1.2", "https://files.example.invalid/demo_pkg-1.2-py3-none-any.whl", "33" * 32),
        Input("app.py", "", "", "44" * 32),
    ),
)


@pytest.fixture
def document(monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    pytest.importorskip("cyclonedx")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    return dict(json.loads(sbom.cyclonedx_json(CONTENTS)))


def _component(document: dict[str, Any], name: str) -> dict[str, Any]:
    return dict(next(c for c in document["components"] if c["name"] == name))


def _sha256(component: dict[str, Any]) -> str:
    return str(next(h["content"] for h in component["hashes"] if h["alg"] == "SHA-256"))


def test_it_is_valid_cyclonedx_1_6() -> None:
    pytest.importorskip("jsonschema")
    from cyclonedx.schema import SchemaVersion
    from cyclonedx.validation.json import JsonStrictValidator

    assert JsonStrictValidator(SchemaVersion.V1_6).validate_str(sbom.cyclonedx_json(CONTENTS)) is None


def test_the_executable_is_the_subject_and_onebin_the_tool(document: dict[str, Any]) -> None:
    assert document["specVersion"] == "1.6"
    subject = document["metadata"]["component"]
    assert (subject["name"], subject["type"], _sha256(subject)) == ("app", "application", "ee" * 32)
    assert [(t["name"], t["version"]) for t in document["metadata"]["tools"]["components"]] == [("onebin", "0.1.0")]
    assert document["metadata"]["timestamp"].startswith("2023-11-14T22:13:20")


def test_components(document: dict[str, Any]) -> None:
    python = _component(document, "cpython")
    assert python["version"] == "3.12.4" and python["cpe"].startswith("cpe:2.3:a:python:python:3.12.4:")
    demo = _component(document, "Demo_Pkg")
    assert (demo["version"], demo["purl"], _sha256(demo)) == ("1.2", "pkg:pypi/demo-pkg@1.2", "33" * 32)
    assert demo["externalReferences"][0]["url"].endswith("demo_pkg-1.2-py3-none-any.whl")
    assert [(c["name"], _sha256(c)) for c in demo["components"]] == [
        ("libfoo", "22" * 32)
    ]  # vendored, without auditwheel's hash
    ssl = _component(document, "libssl")
    assert _sha256(ssl) == "11" * 32
    assert {"name": "onebin:soname", "value": "libssl.so.3"} in ssl["properties"]
    script = _component(document, "app.py")
    assert (script["type"], _sha256(script)) == ("file", "44" * 32)
    assert "libfoo" not in {c["name"] for c in document["components"]}


def test_the_subject_depends_on_every_top_level_component(document: dict[str, Any]) -> None:
    root = next(d for d in document["dependencies"] if d["ref"] == document["metadata"]["component"]["bom-ref"])
    assert set(root["dependsOn"]) == {c["bom-ref"] for c in document["components"]}


def test_the_same_file_gives_the_same_sbom(document: dict[str, Any]) -> None:
    assert json.loads(sbom.cyclonedx_json(CONTENTS)) == document


def test_without_the_library_the_error_says_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "cyclonedx.output.json", None)  # as if not installed
    with pytest.raises(InspectError, match="pip install .cyclonedx-python-lib>=8."):
        sbom.cyclonedx_json(CONTENTS)


def test_a_bad_source_date_epoch_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("cyclonedx")
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "yesterday")
    with pytest.raises(InspectError, match="SOURCE_DATE_EPOCH"):
        sbom.cyclonedx_json(CONTENTS)
