"""pkg_resources finds the distributions in any directory of the bundle on sys.path, as in a venv.

pkg_resources (setuptools 70 to 80) appends setuptools/_vendor to sys.path, and its working set
then holds the distributions vendored there (wheel's console script among its entry points); an
app may put a directory of its own on sys.path. The expected values below are what a venv with
the same requirements gives (checked by hand: the app runs unchanged under a venv's python).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from conftest import PACKAGES, build

pytestmark = pytest.mark.e2e

APP = r"""
import importlib.metadata as md
import json, os, sys, warnings

warnings.simplefilter("ignore")  # pkg_resources' deprecation warning
site = next(p for p in sys.path if p.endswith("site-packages"))
extra = os.path.join(site, "vendorpkg", "extra")
import vendorpkg  # appends its _vendor/ to sys.path, as pkg_resources appends setuptools/_vendor
sys.path.append(extra)  # a directory of the bundle that the app puts on sys.path itself
import pkg_resources

ws = pkg_resources.working_set
vendor = vendorpkg.VENDOR
setuptools_vendor = [p for p in sys.path if p.endswith("/setuptools/_vendor")]  # setuptools 70+
cache = os.environ.get("ONEBIN_CACHE_DIR", "/nowhere") + "/"
print(json.dumps([
    [vendor.startswith(cache), extra.startswith(sys.prefix + "/")],
    [ws.entry_keys[vendor], ws.entry_keys[extra]],
    [(d.project_name, d.version, d.precedence, d.location == vendor) for d in pkg_resources.find_distributions(vendor)],
    sorted(
        (ep.dist.project_name, ep.dist.version, ep.name, ep.load()())
        for ep in pkg_resources.iter_entry_points("vendorpkg.plugins")
    ),
    sorted(
        ep.dist.project_name for ep in pkg_resources.iter_entry_points("console_scripts")
        if ep.dist.location in (vendor, extra, *setuptools_vendor)
    ),
    pkg_resources.get_distribution("flatplug").get_metadata("PKG-INFO").splitlines()[1:3],
    [str(r) for r in pkg_resources.get_distribution("extraplug").requires()],
    [d.project_name for d in pkg_resources.require("extraplug")],
    pkg_resources.resource_string(pkg_resources.Requirement.parse("extraplug"), "extraplug.py").decode().split()[:2],
    sorted(d.metadata["Name"] for d in md.distributions(path=[vendor, extra])),
    # every distribution vendored there is in the working set (none is installed beside setuptools)
    [len(ws.entry_keys[p]) == len(list(md.distributions(path=[p]))) and "wheel" in ws.entry_keys[p] for p in setuptools_vendor],
]))
"""


@pytest.fixture(scope="module", params=["setuptools<81", "setuptools==65.5.0"])
def app(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    root = tmp_path_factory.mktemp("distributions")
    (root / "app.py").write_text(APP)
    build(PACKAGES / "vendorpkg", request.param, "app.py", "-o", "app", cwd=root)
    return request.param, root / "app"


def run(app: Path, tmp_path: Path) -> list[object]:
    env = {**os.environ, "ONEBIN_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([app], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    result: list[object] = json.loads(proc.stdout)
    return result


def test_distributions_in_a_directory_put_on_sys_path(app: tuple[str, Path], tmp_path: Path) -> None:
    # setuptools before 69 lists a directory by version, highest first, then by name: the
    # first of a project's distributions found is the one in the working set
    setuptools, exe = app
    new = setuptools == "setuptools<81"
    tiny = ["1.0", "1.10"] if new else ["1.10", "1.0"]
    assert run(exe, tmp_path) == [
        [True, True],  # vendorpkg is written to the cache (it reads its directory): both kinds of path
        [["flatplug", "tinyplug"], ["extraplug"]],
        [["flatplug", "2.0", -1, True], *(["tinyplug", version, -1, True] for version in tiny)],
        [
            ["extraplug", "3.0", "extra", "extra says hello"],
            ["tinyplug", tiny[0], f"tiny-{tiny[0]}", "tiny says hello"],
        ],
        ["tinyplug", "wheel"] if new else ["tinyplug"],
        ["Name: flatplug", "Version: 2.0"],
        ["tinyplug"],
        ["extraplug", "tinyplug"],
        ["def", "hello():"],  # a distribution's resources, beside its metadata
        ["extraplug", "flatplug", "tinyplug", "tinyplug"],
        [True] if new else [],
    ]
