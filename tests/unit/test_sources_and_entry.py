"""Sources are sorted and checked before pip runs; entry points resolve from real metadata."""

from __future__ import annotations

from pathlib import Path

import pytest

from onebin import entry
from onebin.entry import resolve, script_wrappers
from onebin.errors import EntryPointError, SourceError
from onebin.sources import Sources


def test_sources_are_sorted_into_script_and_pip_arguments(tmp_path: Path) -> None:
    (tmp_path / "app.py").write_text("")
    (tmp_path / "proj").mkdir()
    parsed = Sources.parse([str(tmp_path / "app.py"), "flake8>=7", str(tmp_path / "proj")], [])
    assert parsed.script == tmp_path / "app.py"
    assert parsed.pip_args == ["flake8>=7", str(tmp_path / "proj")]


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    with pytest.raises(SourceError) as err:
        Sources.parse(["missing.py", "bad>>=1", "./nowhere"], [str(tmp_path / "req.txt")])
    message = str(err.value)
    for part in ("missing.py", "bad>>=1", "./nowhere", "req.txt"):
        assert part in message


def _site(tmp_path: Path, scripts: dict[str, str]) -> Path:
    dist = tmp_path / "demo-1.0.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: demo\nVersion: 1.0\n")
    lines = "".join(f"{k} = {v}\n" for k, v in scripts.items())
    (dist / "entry_points.txt").write_text(f"[console_scripts]\n{lines}")
    return tmp_path


def test_the_one_console_script_of_the_named_project(tmp_path: Path) -> None:
    entry = resolve(_site(tmp_path, {"demo": "demo.cli:main"}), ("demo",), None, None, None)
    assert entry.relpath == "bin/demo"
    assert b"from demo.cli import main" in entry.source


def test_several_console_scripts_need_a_choice(tmp_path: Path) -> None:
    with pytest.raises(EntryPointError, match="choose one with -c"):
        resolve(_site(tmp_path, {"a": "demo:a", "b": "demo:b"}), ("demo",), None, None, None)


def test_a_script_file_a_distribution_installs(tmp_path: Path) -> None:
    site = _site(tmp_path, {"other": "demo:other"})
    (site / "bin").mkdir()
    (site / "bin" / "demo").write_text("#!/usr/bin/python3\nimport demo.cli\ndemo.cli.main()\n")
    (site / "bin" / "demo_completer.sh").write_text("#!/bin/sh\ncomplete -C demo demo\n")
    (site / "demo-1.0.dist-info" / "RECORD").write_text(
        "../../bin/demo,sha256=x,40\n../../bin/demo_completer.sh,sha256=y,30\n"
    )
    entry = resolve(site, ("demo",), None, "demo", None)
    assert entry.relpath == "bin/demo" and entry.source.endswith(b"demo.cli.main()\n")
    with pytest.raises(EntryPointError, match="not Python: .* choose one of: demo, other$"):  # a shell script
        resolve(site, ("demo",), None, "demo_completer.sh", None)
    assert resolve(site, ("demo",), None, None, None).relpath == "bin/other"  # its one entry point
    # what a venv's bin/ holds for them, but the #! line: the runtime writes it, naming itself
    assert script_wrappers(site, ["demo_completer.sh"]) == {
        "demo": b"import demo.cli\ndemo.cli.main()\n",
        "other": b"# -*- coding: utf-8 -*-\n# (pip's script imports re here, to edit sys.argv[0] below)\nimport sys\n"
        b"from demo import other\nif __name__ == '__main__':\n"
        b"    # (pip's script removes a '-script.pyw' or '.exe' suffix from sys.argv[0] here)\n"
        b"    sys.exit(other())\n",
    }


def test_module_function_entry(tmp_path: Path) -> None:
    entry = resolve(tmp_path, (), None, None, "pkg.mod:run.it")
    assert b"from pkg.mod import run" in entry.source and b"sys.exit(run.it())" in entry.source
    with pytest.raises(EntryPointError, match="not a module name"):
        resolve(tmp_path, (), None, None, "pkg-mod")


# The console script that the pip bundled with CPython (ensurepip's 23 and 24, distlib's
# template) writes in a venv made with `python -m venv`; pip 25 and later write a shorter one.
_VENV_SCRIPT = """\
#!/venv/bin/python
# -*- coding: utf-8 -*-
import re
import sys
from pkg.cli import main
if __name__ == '__main__':
    sys.argv[0] = re.sub(r'(-script\\.pyw|\\.exe)?$', '', sys.argv[0])
    sys.exit(main())
"""


def test_a_console_scripts_lines_are_those_of_the_script_pip_writes() -> None:
    # a traceback through it names the same lines as in a venv: `bin/app", line 8`
    pips = _VENV_SCRIPT.splitlines()
    ours = entry._call_entry("pkg.cli", "main", "bin/app", "app").source.decode().splitlines()
    assert len(ours) == len(pips) == 8
    for line in ("from pkg.cli import main", "    sys.exit(main())", "import sys"):
        assert ours.index(line) == pips.index(line)
