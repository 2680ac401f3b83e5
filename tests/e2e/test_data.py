"""Unmodified packages find their data and metadata as in a venv, with no per-package rule."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path

import pytest
from conftest import PACKAGES, build, needs_root_tools, run_hidden, run_traced

pytestmark = [pytest.mark.e2e, needs_root_tools]

APP = r"""
import importlib.metadata as md
import importlib.resources as resources
import json, os, pkgutil, sys

mode = sys.argv[1]
if mode == "file":
    import datapkg
    print(json.dumps([datapkg.config(), datapkg.templates(), os.path.exists(datapkg.__file__)]))
elif mode == "script":
    import datapkg.runner
    print(json.dumps(datapkg.runner.run_helper()))
elif mode == "resources":
    import datapkg.sub
    root = resources.files("datapkg")
    data = root.joinpath("data.json")
    with resources.as_file(data) as path:
        on_disk = open(path).read()
    print(json.dumps([
        json.loads(data.read_text())["answer"],
        data.is_file(), root.joinpath("templates").is_dir(),
        sorted(p.name for p in root.joinpath("templates").iterdir()),
        (root / "templates" / "hello.txt").read_bytes().decode().strip(),
        json.loads(on_disk)["answer"],
        json.loads(pkgutil.get_data("datapkg", "data.json"))["answer"],
        sorted(name for _, name, _ in pkgutil.iter_modules(sys.modules["datapkg"].__path__)),
        sorted(m.name for m in pkgutil.walk_packages(sys.modules["datapkg"].__path__, "datapkg.")),
        [f.name == str(data) for f in (data.open("rb"), data.open())],  # dateutil's tzfile shows it
    ]))
elif mode == "metadata":
    dist = md.distribution("datapkg")
    (plugin,) = md.entry_points(group="datapkg.plugins")
    print(json.dumps([
        md.version("datapkg"), dist.metadata["Name"], md.requires("datapkg"),
        plugin.name, plugin.load()(),
        sorted(str(f) for f in dist.files if str(f).startswith("datapkg/") and str(f).endswith(".json")),
        [f.read_text().strip() for f in dist.files if str(f).endswith("hello.txt")],
        "Metadata-Version" in dist.read_text("METADATA"),
        sorted(d.metadata["Name"] for d in md.distributions()),
    ]))
elif mode == "pkg_resources":
    import pkg_resources
    (ep,) = pkg_resources.iter_entry_points("datapkg.plugins")
    filename = pkg_resources.resource_filename("datapkg", "data.json")
    print(json.dumps([
        pkg_resources.get_distribution("datapkg").version, ep.load()(),
        json.loads(pkg_resources.resource_string("datapkg", "data.json"))["answer"],
        pkg_resources.resource_exists("datapkg", "templates/hello.txt"),
        sorted(pkg_resources.resource_listdir("datapkg", "templates")),
        json.load(open(filename))["answer"],
    ]))
elif mode == "formatted":
    import fmtpkg.config.manager as manager
    print(json.dumps([manager.base(), manager.defaults()]))
elif mode == "datasets":
    from fmtpkg.constants import DATADIR
    import fmtpkg.datasets
    with open(DATADIR / "de" / "names.json") as f:
        print(json.dumps([json.load(f), fmtpkg.datasets.TABLE]))
elif mode == "template":
    import tplpkg  # first, as django is: its __path__ is set before its data is needed
    from tplpkg.management import templates
    print(json.dumps([templates.template_files("project"), templates.manage_template()]))
elif mode == "translations":
    import tplpkg.translate
    print(json.dumps(tplpkg.translate.hello("de")))
elif mode == "package-dir":
    import tplpkg.render
    print(json.dumps(tplpkg.render.skeleton()))
elif mode == "getfile":
    import inspect, themepkg.registry
    from pathlib import Path
    # textual: an app's CSS_PATH beside the module of its class, opened by path
    conf = Path(inspect.getfile(themepkg.registry.read_theme)).parent / "theme.conf"
    print(json.dumps(conf.read_text().splitlines()))
elif mode == "prefix":
    import prefixdata
    data = [f for f in md.files("prefixdata") if f.parts[:3] == ("..", "..", "..")]
    print(json.dumps([
        prefixdata.render("world"), prefixdata.settings(), prefixdata.is_venv(),
        prefixdata.DATA_PATH[0].startswith(os.environ["ONEBIN_CACHE_DIR"]),
        sorted(str(f) for f in data),
        [
            os.path.normpath(str(f.locate())) == os.path.join(sys.prefix, *f.parts[3:])
            and f.locate().is_file() and f.read_text() == open(f.locate()).read()
            for f in data
        ],
    ]))
elif mode == "handout":
    import themepkg, themepkg.plugins
    cache = os.environ["ONEBIN_CACHE_DIR"]
    imported = themepkg.__file__.startswith(cache), os.path.exists(cache)
    theme = themepkg.setup()
    import inspect, themepkg.registry
    print(json.dumps([
        imported, theme, themepkg.plugins.initialize(),
        themepkg.__file__.startswith(cache), os.path.isdir(themepkg.plugins.__path__[0]),
        [entry.startswith(cache) for entry in sys.path if entry.endswith("site-packages")],
        [inspect.getmodule(f.__code__).__name__ for f in (themepkg.setup, themepkg.registry.read_theme)],
    ]))
elif mode == "by-path":
    import importlib.util, runpy
    import themepkg
    here = os.path.dirname(themepkg.__file__)
    spec = importlib.util.spec_from_file_location("loose", os.path.join(here, "plugins", "alpha.py"))
    loose = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(loose)
    try:  # yt-dlp probes for a legacy plugin package so, and suppresses FileNotFoundError
        spec = importlib.util.spec_from_file_location("gone", os.path.join(here, "gone", "__init__.py"))
        spec.loader.exec_module(importlib.util.module_from_spec(spec))
        missing = "imported"
    except FileNotFoundError:
        missing = "FileNotFoundError"
    ran = runpy.run_path(os.path.join(here, "plugins", "beta.py"))["NAME"]
    # a data directory without __init__.py is a namespace package: pyphen's dictionaries
    dictionaries = resources.files("themepkg.dictionaries")
    listed = [p.name for p in dictionaries.iterdir()], dictionaries.joinpath("hyph_de.dic").read_text()
    # any other file the bundle does not hold beside a module is missing, as in a venv
    errors = []
    from pathlib import Path
    for call in (open, os.stat, os.lstat, os.listdir, lambda p: os.open(p, os.O_RDONLY), lambda p: Path(p).read_text()):
        try:
            call(os.path.join(here, "optional", "settings.toml"))
        except OSError as exc:
            errors.append(type(exc).__name__)
    print(json.dumps([loose.NAME, missing, ran, listed, os.path.exists(os.environ["ONEBIN_CACHE_DIR"]), errors]))
elif mode == "located":  # pdm gives str(dist.locate_file("")) to another python to import from
    root = str(md.distribution("datapkg").locate_file(""))
    data = os.fspath(md.distribution("datapkg").locate_file("datapkg/data.json"))
    print(json.dumps([os.path.isfile(os.path.join(root, "datapkg", "__init__.py")), json.load(open(data))["answer"]]))
elif mode == "suffix":  # hy: an import hook adds its source suffix, and compiles such files
    import importlib.machinery as machinery
    compiled = []
    real = machinery.SourceFileLoader.source_to_code
    def source_to_code(self, data, path, *args, **kwargs):
        compiled.append(path.rpartition("/")[2])
        return real(self, data, path, *args, **kwargs)
    machinery.SourceFileLoader.source_to_code = source_to_code
    machinery.SOURCE_SUFFIXES.insert(0, ".upy")
    sys.path_importer_cache.clear()
    import datapkg.loud
    print(json.dumps([datapkg.loud.ANSWER, compiled, datapkg.loud.__file__.endswith("/site-packages/datapkg/loud.upy")]))
elif mode == "plugins":
    import datapkg.plugins
    print(json.dumps(datapkg.plugins.names()))
elif mode == "other":
    import themepkg, themepkg.loader
    cache = os.environ["ONEBIN_CACHE_DIR"]
    imported = os.path.exists(cache)
    print(json.dumps([imported, themepkg.loader.read(themepkg, "theme" + ".conf"), themepkg.__file__.startswith(cache)]))
elif mode == "spec":
    import themepkg.spec_loader as spec_loader
    cache = os.environ["ONEBIN_CACHE_DIR"]
    imported = os.path.exists(cache)
    found = spec_loader.package_path("themepkg.site")  # confuse's: its loader's get_filename()
    loader = spec_loader.PackageLoader("themepkg.site")
    with open(os.path.join(loader.root, "page.html")) as f:
        page = f.read().strip()
    print(json.dumps([
        imported, loader.names(), page, loader.root.startswith(cache), spec_loader.statics("themepkg.site"),
        found.startswith(cache), sorted(os.listdir(found)),
    ]))
elif mode == "namespace":
    import themepkg.handlers
    cache = os.environ["ONEBIN_CACHE_DIR"]
    imported = os.path.exists(cache)
    found = themepkg.handlers.get_templates_dir("bee")
    print(json.dumps([imported, [p.name for p in found.iterdir()], str(found).startswith(cache)]))
elif mode == "search":
    import themepkg.finder
    cache = os.environ["ONEBIN_CACHE_DIR"]
    imported = os.path.exists(cache)
    saved = list(sys.path)  # as pylint does around linting: a copy, restored after
    sys.path[:] = [sys.argv[2], *saved]
    found = [themepkg.finder.find_source(name) for name in ("json.decoder", "themepkg.registry", "nowhere")]
    sys.path[:] = saved
    again = themepkg.finder.find_source("textwrap")
    with open(found[0]) as f:
        decoder = f.read()
    print(json.dumps([
        imported, [path.startswith(cache) for path in found[:2]], found[2], again.startswith(cache),
        "class JSONDecoder" in decoder, json.decoder.__file__ == found[0],
    ]))
elif mode == "order":
    import nsdemo.a, nsdemo.b, json as stdlib_json
    sys.path.insert(0, sys.argv[2])
    import datapkg_override
    print(json.dumps([nsdemo.a.NAME + nsdemo.b.NAME, stdlib_json.dumps([1]), datapkg_override.WHERE]))
"""


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("data")
    (root / "app.py").write_text(APP)
    (root / "datapkg_override.py").write_text("WHERE = 'bundled'\n")
    names = ["datapkg", "fmtpkg", "tplpkg", "themepkg", "nsdemo-a", "nsdemo-b", "fakejson", "prefixdata"]
    build(*(PACKAGES / n for n in names), "setuptools<81", "app.py", "-o", "app", cwd=root)
    return root / "app"


def run(app: Path, tmp_path: Path, *args: str) -> object:
    env = {**os.environ, "ONEBIN_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([app, *args], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_files_beside_dunder_file(app: Path, tmp_path: Path) -> None:
    assert run(app, tmp_path, "file") == [{"name": "datapkg", "answer": 42}, ["bye.txt", "hello.txt"], True]


def test_a_python_file_beside_dunder_file_run_by_another_interpreter(app: Path, tmp_path: Path) -> None:
    # tox: pyproject_api hands Path(__file__).parent / "_backend.py" to the packaging env's python
    assert run(app, tmp_path, "script") == "helper ran from _helper.py"


def test_files_beside_dunder_file_by_formatted_paths(app: Path, tmp_path: Path) -> None:
    # "%s/base.yml" % os.path.dirname(__file__), "{}/defaults/{}".format(...): ansible's way
    assert run(app, tmp_path, "formatted") == ["answer: 42", "defaults found"]


def test_a_data_directory_that_is_also_a_package(app: Path, tmp_path: Path) -> None:
    # mimesis: DATADIR = Path(__file__).parent / "datasets", a package whose __init__ holds
    # tables and whose subdirectories hold the JSON files it opens by path
    assert run(app, tmp_path, "datasets") == [["Anna", "Ben"], {"a": 1}]


def test_a_data_directory_found_through_a_packages_path(app: Path, tmp_path: Path) -> None:
    # django-admin startproject: os.walk(os.path.join(django.__path__[0], "conf", "project_template"));
    # sphinx-quickstart: open(os.path.join(package_dir, "templates", ...)), package_dir derived
    # from sphinx.__file__ when sphinx was imported
    assert run(app, tmp_path, "template") == [
        ["manage.py-tpl", "project_name/settings.py-tpl"],
        "#!/usr/bin/env python",
    ]


def test_a_data_file_found_through_a_directory_the_package_computed(app: Path, tmp_path: Path) -> None:
    # sphinx-quickstart: from sphinx import package_dir; open(os.path.join(package_dir, "templates", ...))
    assert run(app, tmp_path, "package-dir") == "skeleton file"


def test_a_directory_handed_out_by_a_function_is_real_once_it_is_called(app: Path, tmp_path: Path) -> None:
    # alabaster's setup() gives Sphinx os.path.dirname(__file__) as its theme directory;
    # pylint's checkers.initialize() lists __path__[0] and maps each file to its module through
    # sys.path (astroid). Importing them writes nothing; calling those functions writes the
    # package, and the directory holding it follows the bundle's site-packages on sys.path.
    imported, theme, plugins, written, listed, site_packages, code_of = run(app, tmp_path, "handout")
    assert imported == [False, False]
    assert theme == ["[theme]", "inherit = basic"]
    assert plugins == ["alpha", "beta"]
    assert written and listed
    assert site_packages == [False, True]
    # the code of the modules imported before, the running setup() too, names their new files
    assert code_of == ["themepkg", "themepkg.registry"]


def test_data_installed_outside_site_packages_is_found_under_sys_prefix(app: Path, tmp_path: Path) -> None:
    # a wheel's .data/data (jupyter's share/jupyter, nbconvert's templates), found through
    # paths made from sys.prefix: the bundle holds it under the prefix, as a venv does, and
    # the runtime writes it to the cache when such a path is made
    rendered, settings, is_venv, in_cache, files, located = run(app, tmp_path, "prefix")
    assert rendered == "Hello, world!\n"
    assert settings == ["colour = blue", True]
    assert is_venv is False and in_cache is True
    assert files == [
        "../../../etc/prefixdata/settings.cfg",
        "../../../share/prefixdata/templates/basic/conf.json",
        "../../../share/prefixdata/templates/basic/index.tpl",
    ]
    assert located == [True, True, True]


def test_a_file_beside_the_file_inspect_getfile_gives(app: Path, tmp_path: Path) -> None:
    assert run(app, tmp_path, "getfile") == ["[theme]", "inherit = basic"]


def test_pkg_resources_imported_after_a_package_is_written_warns_nothing(tmp_path: Path) -> None:
    # setuptools 65's pkg_resources activates each distribution added to its working set after
    # it was imported; activating Cython, whose package cythonize had written to the cache,
    # warned "Module Cython was already imported from <cache>, but <exe>/... is being added to
    # sys.path" (found by survey 4)
    build("Cython==3.*", "setuptools==65.5.0", "-c", "cythonize", "-o", "cythonize", cwd=tmp_path)
    (tmp_path / "x.pyx").write_text("def f(int n):\n    return n * 2\n")
    env = {**os.environ, "ONEBIN_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run(
        [tmp_path / "cythonize", "-i", "-3", "x.pyx"], capture_output=True, text=True, env=env, cwd=tmp_path
    )
    assert proc.returncode == 0, proc.stderr
    assert "already imported" not in proc.stderr
    assert list(tmp_path.glob("x.cpython-*.so"))


def test_a_data_directory_beside_a_module_found_by_its_spec(app: Path, tmp_path: Path) -> None:
    # jinja2's PackageLoader("pkg") looks for "templates" under the directories of
    # importlib.util.find_spec("pkg"); starlette's StaticFiles(packages=["pkg"]) for "statics"
    # beside its spec's origin; confuse for its default configuration beside its loader's
    # get_filename() (beets failed). The package is written when that function runs, not before.
    assert run(app, tmp_path, "spec") == [
        False,
        ["page.html"],
        "<h1>{{ title }}</h1>",
        True,
        ["style.css"],
        True,
        ["__init__.py", "statics", "templates"],
    ]


def test_a_directory_in_a_namespace_packages_path_handed_out(app: Path, tmp_path: Path) -> None:
    # mkdocstrings' get_templates_dir(): for path in mkdocstrings_handlers.__path__, return
    # Path(path, handler, "templates") if it exists; the namespace package's portions are
    # written when that function runs
    assert run(app, tmp_path, "namespace") == [False, ["page.txt"], True]


def test_python_files_of_the_bundle_load_by_path(app: Path, tmp_path: Path) -> None:
    # importlib.util.spec_from_file_location() and runpy.run_path() read through io.open_code,
    # which serves the bundle's files from memory; a missing one is FileNotFoundError as on
    # disk, not NotADirectoryError (every yt-dlp download failed so); so is any missing file
    assert run(app, tmp_path, "by-path") == [
        "alpha",
        "FileNotFoundError",
        "beta",
        [["hyph_de.dic"], "hyphen-a\n"],  # importlib.resources of a namespace package, from memory
        False,
        # open(), os.stat() or os.listdir() of another missing path through the executable:
        # FileNotFoundError, as in a venv (`except FileNotFoundError:` of an optional file)
        ["FileNotFoundError"] * 6,
    ]


def test_a_module_in_a_source_suffix_an_import_hook_adds(app: Path, tmp_path: Path) -> None:
    # hy: its .hy modules, compiled by its hook once, then their code kept in the cache
    assert run(app, tmp_path, "suffix") == [42, ["loud.upy"], True]
    assert run(app, tmp_path, "suffix") == [42, [], True]


def test_a_path_a_distribution_locates_is_real(app: Path, tmp_path: Path) -> None:
    assert run(app, tmp_path, "located") == [True, 42]


def test_a_directory_another_module_computed_and_this_one_lists_is_real(app: Path, tmp_path: Path) -> None:
    # glances: globals.py binds plugins_path from its __file__, stats.py imports it and lists it
    assert run(app, tmp_path, "plugins") == ["0001_initial.py", "__init__.py", "plugin.py"]


def test_a_directory_of_another_module_handed_out_is_real(app: Path, tmp_path: Path) -> None:
    # mkdocs' get_theme_dir() returns os.path.dirname(theme_module.__file__); flask's
    # get_root_path() finds an app's templates so
    assert run(app, tmp_path, "other") == [False, ["[theme]", "inherit = basic"], True]


def test_code_that_looks_for_modules_files_through_sys_path_finds_them(app: Path, tmp_path: Path) -> None:
    # astroid looks for the source of each module an import names under each sys.path entry
    # (os.path.isfile(os.path.join(entry, name) + ".py")), and pylint restores its own copy of
    # sys.path after linting. The bundle's entries are not directories: calling such a function
    # writes every package, and the directories holding them follow the bundle's entries on
    # sys.path from the import of its module on, before the copy.
    imported, found, nowhere, again, source, same = run(app, tmp_path, "search", str(tmp_path))
    assert imported is False
    assert found == [True, True] and nowhere is None and again
    assert source and same


def test_a_package_directory_imported_from_its_package_is_real(app: Path, tmp_path: Path) -> None:
    # sphinx -D language=de: sphinx.application reads package_dir / "locale" at once; its
    # package is written when the module importing package_dir is imported
    assert run(app, tmp_path, "translations") == "Hallo"


SCRIPT_WITH_DATA = """\
import json, os
here = os.path.dirname(__file__)
with open(os.path.join(here, "templates", "page.html")) as page, open(os.path.join(here, "conf/settings.yml")) as conf:
    print(json.dumps([page.read(), conf.read()]))
"""


def test_the_directories_a_script_names_beside_it_are_written_with_it(tmp_path: Path) -> None:
    # a flask app's templates/ beside app.py; the files directly beside it were written, not these
    source = tmp_path / "src"
    (source / "templates").mkdir(parents=True)
    (source / "templates" / "page.html").write_text("<p>{{ name }}</p>\n")
    (source / "conf").mkdir()
    (source / "conf" / "settings.yml").write_text("debug: true\n")
    (source / "app.py").write_text(SCRIPT_WITH_DATA)
    build("app.py", "-o", str(tmp_path / "app"), cwd=source)
    assert run(tmp_path / "app", tmp_path) == ["<p>{{ name }}</p>\n", "debug: true\n"]


def test_importlib_resources_and_pkgutil(app: Path, tmp_path: Path) -> None:
    assert run(app, tmp_path, "resources") == [
        42,
        True,
        True,
        ["bye.txt", "hello.txt"],
        "Hello, {name}!",
        42,
        42,
        ["_helper", "paths", "plugins", "runner", "sub"],
        # 0001_initial: not an identifier, listed as on disk (django finds its migrations so)
        [
            "datapkg._helper",
            "datapkg.paths",
            "datapkg.plugins",
            "datapkg.runner",
            "datapkg.sub",
            "datapkg.sub.0001_initial",
            "datapkg.sub.plugin",
        ],
        [True, True],
    ]


def test_importlib_metadata(app: Path, tmp_path: Path) -> None:
    version, name, requires, ep, loaded, jsons, texts, has_meta, names = run(app, tmp_path, "metadata")  # type: ignore[misc]
    assert (version, name, requires, ep, loaded) == ("2.0.1", "datapkg", None, "hello", "plugin says hello")
    assert jsons == ["datapkg/data.json"] and texts == ["Hello, {name}!"] and has_meta
    assert {"datapkg", "nsdemo-a", "nsdemo-b", "fakejson", "setuptools"} <= set(names)


def test_pkg_resources(app: Path, tmp_path: Path) -> None:
    assert run(app, tmp_path, "pkg_resources") == ["2.0.1", "plugin says hello", 42, True, ["bye.txt", "hello.txt"], 42]


def test_import_order_is_a_venvs(app: Path, tmp_path: Path) -> None:
    plugins = tmp_path / "plugins"
    plugins.mkdir()
    (plugins / "datapkg_override.py").write_text("WHERE = 'plugin dir'\n")
    assert run(app, tmp_path, "order", str(plugins)) == ["ab", "[1]", "plugin dir"]


def test_data_is_written_once_to_a_private_cache(app: Path, tmp_path: Path) -> None:
    cache = tmp_path / "cache"
    run(app, tmp_path, "file")
    (app_dir,) = (cache / "apps").iterdir()
    assert stat.S_IMODE(app_dir.stat().st_mode) == 0o700
    data = next(app_dir.rglob("data.json"))
    # the owner's only; writable, as in a venv (venv copies its activate scripts' mode)
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    env_cmd = ["env", f"ONEBIN_CACHE_DIR={cache}", str(app), "file"]
    proc, trace = run_traced(Path("/usr/bin/env"), *env_cmd[1:], cwd=tmp_path)
    assert proc.returncode == 0
    assert not [line for line in trace if "O_CREAT" in line or "mkdir" in line or "rename" in line]


def test_an_unwritable_cache_is_reported_not_a_crash(app: Path, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "ONEBIN_CACHE_DIR": "/proc/onebin-cannot-write"}
    proc = subprocess.run([app, "file"], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert "cache directory cannot be written" in proc.stderr
    assert "ONEBIN_CACHE_DIR" in proc.stderr
    assert "Traceback" in proc.stderr  # the app's own open() fails, as it would with the file missing


def test_with_python_hidden(app: Path) -> None:
    proc = run_hidden(app, "metadata")
    assert proc.returncode == 0, proc.stderr


@pytest.fixture(scope="module")
def black(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """black: mypyc compiled its modules into one shared library, which reads their files beside
    it, so its package is written to the cache."""
    root = tmp_path_factory.mktemp("black")
    build("black==26.10.1", "-c", "black", "-o", "black", cwd=root)
    return root / "black"


def test_an_extension_of_a_written_package_loads_from_its_written_copy(black: Path, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "ONEBIN_CACHE_DIR": str(tmp_path / "cache")}
    first = subprocess.run([black, "--version"], capture_output=True, text=True, env=env)
    assert first.returncode == 0 and "compiled: yes" in first.stdout, first.stderr
    proc = subprocess.run([black, "--version"], capture_output=True, text=True, env={**env, "ONEBIN_TRACE": "1"})
    assert proc.stdout == first.stdout
    loads = [line for line in proc.stderr.splitlines() if "__mypyc" in line and line.startswith("onebin: load ")]
    assert loads and all(f"from its written copy ({tmp_path / 'cache'}/" in line for line in loads), proc.stderr


def test_a_written_copy_on_a_noexec_mount_loads_from_memory(black: Path, tmp_path: Path) -> None:
    cache = tmp_path / "noexec"
    cache.mkdir()
    script = f"""set -e
mount --make-rprivate /
mount -t tmpfs -o noexec tmpfs '{cache}'
ONEBIN_CACHE_DIR='{cache}' ONEBIN_TRACE=1 '{black}' --version"""
    proc = subprocess.run(["unshare", "-m", "bash", "-c", script], capture_output=True, text=True)
    assert proc.returncode == 0 and "compiled: yes" in proc.stdout, proc.stderr
    loads = [line.split(" (")[0] for line in proc.stderr.splitlines() if line.startswith("onebin: load ")]
    mypyc = [line.rpartition("__mypyc")[2] for line in loads if "__mypyc" in line]
    # The first written copy is refused, then every library comes from memory, none tried twice.
    assert len(mypyc) > 2 and mypyc[0].endswith("from its written copy"), proc.stderr
    assert all(line.endswith("from memory") for line in mypyc[1:]), proc.stderr


OPENCV_APP = """
import cv2, numpy as np
image = np.zeros((32, 32, 3), np.uint8)
cv2.circle(image, (16, 16), 8, (0, 255, 0), -1)
ok, png = cv2.imencode(".png", image)
print(cv2.__version__, ok, int(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY).sum() > 0))
"""


def test_opencv_loads_its_config_files_and_its_libraries_from_the_written_copy(tmp_path: Path) -> None:
    # opencv's bootstrap() computes its directory from __file__, then a function nested in it
    # tests and runs the config files there (ImportError: missing configuration file): its
    # package is written when bootstrap() starts. Its extension then loads from the written
    # copy, and so do the 80 MB of libraries it needs in opencv_python_headless.libs: mapped
    # from the page cache, not copied into memfds at every start
    (tmp_path / "app.py").write_text(OPENCV_APP)
    build("opencv-python-headless==5.0.0.93", "app.py", "-o", "app", cwd=tmp_path)
    env = {"PATH": "/usr/bin:/bin", "ONEBIN_CACHE_DIR": str(tmp_path / "cache")}
    first = subprocess.run([tmp_path / "app"], capture_output=True, text=True, env=env)
    assert first.returncode == 0 and first.stdout == "5.0.0 True 1\n", first.stderr
    proc = subprocess.run([tmp_path / "app"], capture_output=True, text=True, env={**env, "ONEBIN_TRACE": "1"})
    assert proc.stdout == first.stdout
    loads = [line for line in proc.stderr.splitlines() if line.startswith("onebin: load ")]
    libs = [line for line in loads if "/opencv_python_headless.libs/" in line or "/cv2/cv2." in line]
    assert len(libs) > 5 and all("from its written copy" in line for line in libs), proc.stderr


def test_a_package_read_only_by_a_function_is_written_when_that_is_called(tmp_path: Path) -> None:
    # numpy.f2py's get_include(): importing the package writes nothing; calling it writes the
    # package and gives a real directory
    package = tmp_path / "lazydata"
    (package / "src").mkdir(parents=True)
    (package / "src" / "object.h").write_text("/* header */\n")
    (package / "__init__.py").write_text(
        "import os\ndef get_include():\n    return os.path.join(os.path.dirname(__file__), 'src')\n"
    )
    (tmp_path / "app.py").write_text(
        "import os, sys, lazydata\n"
        "apps = os.path.join(os.environ['ONEBIN_CACHE_DIR'], 'apps')\n"
        "print(os.path.exists(apps))\n"
        "print(open(os.path.join(lazydata.get_include(), 'object.h')).read().strip())\n"
    )
    build("app.py", "-o", "app", cwd=tmp_path)
    env = {"PATH": "/usr/bin:/bin", "ONEBIN_CACHE_DIR": str(tmp_path / "cache")}
    proc = subprocess.run([tmp_path / "app"], capture_output=True, text=True, env=env)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == "False\n/* header */\n"
