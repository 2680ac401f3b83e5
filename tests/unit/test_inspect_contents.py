"""`onebin inspect` on a small executable written here: the real writer, a real launcher (/bin/true)
and real shared libraries, with an index as the builder writes it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from onebin import elf, report
from onebin import inspect as inspection
from onebin._runtime import bundle as fmt
from onebin.cli import main
from onebin.hashing import digest
from onebin.payload import PayloadWriter

LAUNCHER = Path("/bin/true")
LIBZ = Path("/lib/x86_64-linux-gnu/libz.so.1")
SITE = "lib/python3.11/site-packages"
ROOTS = ("app", "lib/python3.11", "lib/python3.11/lib-dynload", SITE)
METADATA = b"Metadata-Version: 2.1\nName: Demo_Pkg\nVersion: 1.2\n\n"
RECORD = b"demo/__init__.py,,\ndemo.libs/libz-0123abcd.so.1,,\ndemo-1.2.dist-info/RECORD,,\n"
INPUTS = (("Demo_Pkg", "1.2", "https://example.invalid/demo-1.2.whl", "ab" * 32), ("app.py", "", "", "cd" * 32))


def _files(libz: bytes) -> dict[str, bytes]:
    return {
        "app/app.py": b"import demo\n",
        "lib/python3.11/os.py": b"# os\n",
        "lib/python3.11/json/__init__.py": b"# json\n",
        "lib/python3.11/json/decoder.py": b"# decoder\n",
        f"{SITE}/demo/__init__.py": b"# demo\n",
        f"{SITE}/demo/_speed.cpython-311-x86_64-linux-gnu.so": libz,  # stands for an extension
        f"{SITE}/demo.libs/libz-0123abcd.so.1": libz,
        f"{SITE}/demo-1.2.dist-info/METADATA": METADATA,
        f"{SITE}/demo-1.2.dist-info/RECORD": RECORD,
        "lib/libz.so.1": libz,
    }


def _modules() -> dict[str, tuple[int, str, bytes | None]]:
    return {
        "app/app": (fmt.SOURCE, "app/app.py", b"code of app"),
        "lib/python3.11/os": (fmt.SOURCE, "lib/python3.11/os.py", b"code of os"),
        "lib/python3.11/json": (fmt.PACKAGE, "lib/python3.11/json/__init__.py", b"code of json"),
        "lib/python3.11/json/__init__": (fmt.SOURCE, "lib/python3.11/json/__init__.py", b"code of json"),
        "lib/python3.11/json/decoder": (fmt.SOURCE, "lib/python3.11/json/decoder.py", b"code of decoder!"),
        f"{SITE}/demo": (fmt.PACKAGE, f"{SITE}/demo/__init__.py", b"code of demo"),
        f"{SITE}/demo/_speed": (fmt.EXTENSION, f"{SITE}/demo/_speed.cpython-311-x86_64-linux-gnu.so", None),
        f"{SITE}/nsroot": (fmt.NAMESPACE, f"{SITE}/nsroot", None),
    }


def write_app(path: Path) -> Path:
    """Writes the executable, as payload.write_executable lays it out."""
    if not (LAUNCHER.is_file() and LIBZ.is_file()):
        pytest.skip("needs /bin/true and libz.so.1 of x86_64 glibc")
    with open(path, "wb") as out:
        writer = PayloadWriter(out, LAUNCHER.read_bytes())
        files = {rel: writer.add(data) for rel, data in _files(LIBZ.read_bytes()).items()}
        modules = {}
        for key, (kind, rel, code) in _modules().items():
            blob = writer.add(code or b"x")
            modules[key] = (kind, rel) + (blob if code else tuple(0 for _ in blob))
        index = {
            "roots": ROOTS,
            "files": files,
            "dirs": {},
            "modules": modules,
            "preload": {
                f"{SITE}/demo/_speed.cpython-311-x86_64-linux-gnu.so": (f"{SITE}/demo.libs/libz-0123abcd.so.1",)
            },
            "needed_paths": {},
            "distributions": {SITE: (("demo_pkg", f"{SITE}/demo-1.2.dist-info"),)},
            "main": ("app/app.py", *writer.add(b"main")),
            "materialize": {},
            "headers": {},
            "regexes": None,
            "info": {
                "id": "app-0123",
                "python": "3.11.7",
                "entry": "script app.py",
                "onebin": "0.1.0",
                "inputs": INPUTS,
            },
        }
        writer.finish(list(ROOTS), [], index)
    return path


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_app(tmp_path_factory.mktemp("inspect") / "app")


@pytest.fixture(scope="module")
def contents(app: Path) -> inspection.Contents:
    return inspection.read_contents(str(app))


def test_header_facts(app: Path, contents: inspection.Contents) -> None:
    trailer, _ = fmt.read_executable(str(app), digest)
    assert (contents.python, contents.entry, contents.id, contents.onebin) == (
        "3.11.7",
        "script app.py",
        "app-0123",
        "0.1.0",
    )
    assert contents.size == app.stat().st_size
    assert (contents.payload_offset, contents.payload_size) == (trailer.payload_offset, trailer.payload_size)
    assert contents.payload_offset + contents.payload_size + fmt.TRAILER_SIZE == contents.size
    data = app.read_bytes()
    index = contents.sections["index"]
    assert fmt.Index.load(data[index["offset"] : index["offset"] + index["size"]]).info["id"] == "app-0123"


def test_glibc_floor_is_the_newest_need_of_the_launcher_and_every_bundled_elf_file(
    contents: inspection.Contents,
) -> None:
    floors = {"(launcher)": elf.glibc_floor(LAUNCHER.read_bytes()), "lib": elf.glibc_floor(LIBZ.read_bytes())}
    newest = max(v for v in floors.values() if v)
    assert contents.glibc_min == ".".join(map(str, newest))
    if floors["(launcher)"] == newest:
        assert "(launcher)" in contents.glibc_min_required_by
    if floors["lib"] == newest:
        assert "lib/libz.so.1" in contents.glibc_min_required_by


def test_modules_have_dotted_names_relative_to_their_root(contents: inspection.Contents) -> None:
    names = [(m.root, m.name, m.kind) for m in contents.modules]
    assert names == [
        ("app", "app", "source"),
        ("lib/python3.11", "json", "package"),
        ("lib/python3.11", "json.decoder", "source"),
        ("lib/python3.11", "os", "source"),
        (SITE, "demo", "package"),
        (SITE, "demo._speed", "extension"),
        (SITE, "nsroot", "namespace"),
    ]
    decoder = next(m for m in contents.modules if m.name == "json.decoder")
    assert (decoder.path, decoder.size, decoder.code_size) == ("lib/python3.11/json/decoder.py", 10, 16)


def test_distributions_come_from_their_metadata(contents: inspection.Contents) -> None:
    assert [(d.name, d.version, d.path) for d in contents.distributions] == [
        ("Demo_Pkg", "1.2", f"{SITE}/demo-1.2.dist-info")
    ]


def test_native_libraries_say_where_they_came_from(contents: inspection.Contents) -> None:
    libraries = {lib.path: lib for lib in contents.native_libraries}
    assert sorted(libraries) == ["lib/libz.so.1", f"{SITE}/demo.libs/libz-0123abcd.so.1"]  # no extension
    machine, vendored = libraries["lib/libz.so.1"], libraries[f"{SITE}/demo.libs/libz-0123abcd.so.1"]
    assert (machine.origin, machine.distribution, machine.soname) == ("build-machine", None, "libz.so.1")
    assert (vendored.origin, vendored.distribution) == ("distribution", "Demo_Pkg")
    assert machine.size == LIBZ.stat().st_size and len(machine.sha256) == 64


def test_inputs(contents: inspection.Contents) -> None:
    assert [(i.name, i.version, i.sha256) for i in contents.inputs] == [(n, v, h) for n, v, _, h in INPUTS]


def test_json_keys_are_the_documented_schema(contents: inspection.Contents) -> None:
    document = json.loads(json.dumps(inspection.as_json(contents)))
    for key in ("payload_offset", "payload_size", "python", "entry", "id", "glibc_min", "distributions", "modules"):
        assert key in document
    documented = set(re.findall(r"^    (\w+)", inspection.__doc__ or "", re.MULTILINE))
    assert set(document) <= documented, set(document) - documented
    assert set(document["modules"][0]) == {"name", "kind", "root", "path", "size", "code_size"}
    assert set(document["native_libraries"][0]) == {
        "path",
        "soname",
        "size",
        "sha256",
        "origin",
        "distribution",
        "glibc_min",
    }
    assert set(document["inputs"][0]) == {"name", "version", "url", "sha256"}
    assert document["schema"] == 1


def test_summary(contents: inspection.Contents) -> None:
    text = report.summary(contents)
    assert re.search(r"^python +3\.11\.7$", text, re.MULTILINE)
    assert re.search(rf"^glibc floor +{re.escape(contents.glibc_min or '')} \(needed by ", text, re.MULTILINE)
    assert re.search(r"^  Demo_Pkg +1\.2$", text, re.MULTILINE)
    assert re.search(r"^  lib/libz\.so\.1 +libz\.so\.1 .* build machine ", text, re.MULTILINE)
    assert "wheel: Demo_Pkg" in text
    assert re.search(r"^  lib/python3\.11 +3 ", text, re.MULTILINE)  # json, json.decoder, os
    assert "json.decoder" not in text
    assert re.search(
        r"^  json\.decoder +source +10 B +16 B +lib/python3\.11/json/decoder\.py$",
        report.summary(contents, modules=True),
        re.MULTILINE,
    )
    assert "sha256:" + "ab" * 32 in text


def _error(path: Path) -> str:
    with pytest.raises(inspection.InspectError) as caught:
        inspection.read_contents(str(path))
    return str(caught.value)


def test_bad_input_names_the_problem_and_the_fix(app: Path, tmp_path: Path) -> None:
    assert "no such file; pass the path of an executable" in _error(tmp_path / "missing")
    assert "is a directory" in _error(tmp_path)
    (tmp_path / "text").write_text("just some text, long enough to hold a trailer " * 4)
    assert "not a onebin executable" in _error(tmp_path / "text")
    data = app.read_bytes()
    (tmp_path / "cut").write_bytes(data[:-10])
    assert "a damaged onebin executable" in _error(tmp_path / "cut")


def test_another_format_version_says_which(app: Path, tmp_path: Path) -> None:
    data = bytearray(app.read_bytes())
    data[-fmt.TRAILER_SIZE + 8] = 99
    (tmp_path / "future").write_bytes(data)
    assert "format version 99" in _error(tmp_path / "future")


def test_a_damaged_library_is_reported(app: Path, tmp_path: Path) -> None:
    trailer, bundle = fmt.read_executable(str(app), digest)
    data = bytearray(app.read_bytes())
    data[trailer.payload_offset + bundle.index.files["lib/libz.so.1"][0] + 3000] ^= 0xFF
    (tmp_path / "damaged").write_bytes(data)
    message = _error(tmp_path / "damaged")
    assert "a damaged onebin executable" in message and "rebuild it" in message


def test_cli_prints_one_error_line_and_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(tmp_path / "missing")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and captured.err.startswith("onebin: error: ")


def test_cli_json(app: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["inspect", str(app), "--json"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert document["payload_offset"] % 4096 == 0 and document["id"] == "app-0123"


def test_cli_sbom_to_an_unwritable_path(app: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    pytest.importorskip("cyclonedx")
    assert main(["inspect", str(app), "--sbom", str(tmp_path / "no" / "such" / "dir.json")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "cannot write it (No such file or directory)" in err
