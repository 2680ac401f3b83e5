"""Which modules hand out their own directory, and when (_compile_worker._handouts), and the
call that has a function write its package first (_write_files_first)."""

from __future__ import annotations

import ast
import contextlib
import functools
import os
import sys
import traceback
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from onebin import _compile_worker, datafiles


def handouts(source: str) -> tuple[bool, list[str]]:
    at_import, functions = _compile_worker._handouts(ast.parse(source))
    return at_import, sorted(f.name for f in functions)


@pytest.mark.parametrize(
    "source",
    [
        # alabaster: setup() gives Sphinx its theme directory
        "import os\ndef setup(app):\n    here = os.path.abspath(os.path.dirname(__file__))\n    app.add_html_theme('a', here)\n",
        # pylint: checkers.initialize() lists its own package
        "from .utils import register_plugins\ndef setup(linter):\n    register_plugins(linter, __path__[0])\n",
        "import os\ndef setup():\n    return sorted(os.listdir(os.path.dirname(os.path.realpath(__file__))))\n",
        "from pathlib import Path\ndef setup():\n    return list(Path(__file__).resolve().parent.iterdir())\n",
        "import os\ndef setup(loader):\n    loader(searchpath=os.path.split(__file__)[0])\n",
        # one above its own directory, through a name bound at the top
        "import os\nROOT = os.path.dirname(os.path.dirname(__file__))\ndef setup():\n    os.chdir(ROOT)\n",
        # a function of the same module that hands out its parameter
        "import os\ndef scan(d):\n    return os.listdir(d)\ndef setup():\n    return scan(__path__[0])\n",
        # returning it, or a path in it: pycryptodome's pycryptodome_filename(), whose result
        # ctypes loads; get_include(), whose headers a build reads
        "import os\ndef setup(comps, name):\n    util_lib, _ = os.path.split(os.path.abspath(__file__))\n"
        "    root_lib = os.path.join(util_lib, '..')\n    return os.path.join(root_lib, *comps, name)\n",
        "import os\ndef setup():\n    return os.path.dirname(__file__)\n",
        # globbing in it: invoke's completion scripts
        "import glob, os\ndef setup():\n    return glob.glob(os.path.join(os.path.dirname(os.path.realpath(__file__)), '*.sh'))\n",
        # reading or testing a path in it that a caller names (no constant tells the builder which)
        "import os\nHERE = os.path.dirname(__file__)\ndef setup(name):\n    with open(os.path.join(HERE, name)) as f:\n"
        "        return f.read()\n",
        "import os\ndef setup(name):\n    return os.path.exists(os.path.join(os.path.dirname(__file__), name))\n",
        "from pathlib import Path\ndef setup(name):\n    return (Path(__file__).parent / name).read_text()\n",
        # eyeD3's plugins: a loop over a list holding the directory, then listing it
        "import os, sys\ndef setup(paths=None):\n    for d in [os.path.dirname(__file__)] + (paths or []):\n"
        "        if os.path.isdir(d):\n            for f in os.listdir(d):\n                sys.path.append(d)\n",
        "import os\ndef setup():\n    return [os.listdir(d) for d in (os.path.dirname(__file__), '/etc')]\n",
        # pypdfium2's library loader: a path made absolute, then tested and given to ctypes
        "import ctypes, pathlib\ndef setup(libpaths):\n    for lpath in libpaths:\n"
        "        lpath = (pathlib.Path(__file__).parent / lpath).resolve(strict=False)\n"
        "        if lpath.exists():\n            return ctypes.CDLL(str(lpath))\n",
    ],
)
def test_a_function_that_hands_out_its_directory(source: str) -> None:
    at_import, functions = handouts(source)
    assert not at_import
    assert "setup" in functions


def test_the_path_of_a_python_file_beside_it() -> None:
    # tox's pyproject_api and virtualenv run such a file with another interpreter
    assert handouts("from pathlib import Path\nSCRIPT = Path(__file__).parent / '_backend.py'\n") == (True, [])
    assert handouts("import os\ndef args():\n    return [os.path.join(os.path.dirname(__file__), 'x.py')]\n") == (
        False,
        ["args"],
    )
    # importlib's bookkeeping of its frozen modules' files: no path beside it is made
    assert handouts("_bootstrap.__file__ = __file__.replace('__init__.py', '_bootstrap.py')\n") == (False, [])


def test_a_directory_an_enclosing_function_computed_writes_when_that_function_starts() -> None:
    # opencv's bootstrap(): LOADER_DIR from __file__, then a nested load_first_config() tests
    # and execs the config files in it; by the time the nested one runs, LOADER_DIR is computed
    source = (
        "import os\ndef bootstrap():\n    LOADER_DIR = os.path.dirname(os.path.realpath(__file__))\n"
        "    def load_first_config(fnames):\n        for fname in fnames:\n"
        "            fpath = os.path.join(LOADER_DIR, fname)\n            if os.path.exists(fpath):\n"
        "                exec_file(fpath)\n    load_first_config(['config.py'])\nbootstrap()\n"
    )
    assert handouts(source) == (False, ["bootstrap"])
    # a nested function using only the module's own paths: the module's globals are relocated
    nested = (
        "import os\nHERE = os.path.dirname(__file__)\ndef outer():\n    def inner():\n        return os.listdir(HERE)\n"
    )
    assert handouts(nested) == (False, ["inner"])


def test_an_import_that_hands_out_its_directory() -> None:
    # numpy._core lists each of its __path__ entries only to explain a failed import: its own
    # __path__ looped over is not followed (another module's is: mkdocstrings, below)
    assert handouts("import os\nfor path in __path__:\n    os.listdir(path)\n") == (False, [])
    assert handouts("import os\nNAMES = os.listdir(os.path.dirname(__file__))\n") == (True, [])
    assert handouts("import os\nclass K:\n    names = os.listdir(os.path.dirname(__file__))\n") == (True, [])


@pytest.mark.parametrize(
    "source",
    [
        # path arithmetic, a data file named beside it (the names rule's case), comparisons
        "import os\nHERE = os.path.dirname(__file__)\nDATA = os.path.join(HERE, 'data.json')\n",
        "import os\ndef f(p):\n    return os.path.abspath(p).startswith(os.path.dirname(__file__))\n",
        # storing it: sys.path entries import from the bundle as they are; a list to compare with
        "import os, sys\nsys.path.insert(0, os.path.dirname(__file__))\n",
        "import os\nclass W:\n    def __init__(self):\n        self.skip = []\n"
        "        self.skip.append(os.path.dirname(__file__))\n",
        # a function of the same module that does not hand out its parameter (django)
        "import os, pkgutil\ndef find(d):\n    return [n for _, n, _ in pkgutil.iter_modules([os.path.join(d, 'c')])]\n"
        "def commands():\n    return find(__path__[0])\n",
        # another module's file, or a name that is the directory only in another function
        "import os, other\ndef f():\n    return os.listdir(os.path.dirname(other.__file__))\n",
        "import os\ndef f():\n    path = os.path.dirname(__file__)\ndef g(path):\n    return os.listdir(path)\n",
        "import os\ndef f(path):\n    log.debug('loaded from %s', os.path.dirname(__file__))\n",
        # a path in it stored, printed, or read at import (the names rule's case)
        "import os, sys\ndef f(name):\n    sys.path.insert(0, os.path.join(os.path.dirname(__file__), name))\n",
        "import os\ndef f(name):\n    print(os.path.join(os.path.dirname(__file__), name))\n",
        "import os\nDATA = open(os.path.join(os.path.dirname(__file__), NAME)).read()\n",
        # a path in it that constants name: what the bundle holds there is known (the names
        # rule writes data; yt-dlp's test for a git checkout finds nothing, as in a venv)
        "import os\ndef f():\n    return os.path.exists(os.path.join(os.path.dirname(__file__), '../.git/HEAD'))\n",
    ],
)
def test_what_is_not_handing_out(source: str) -> None:
    assert handouts(source) == (False, [])


SOURCE = '''\
import os


def setup(calls):
    """Its docstring stays its docstring."""
    calls.append("body")
    return os.path.dirname(__file__), 1 / 0 if "fail" in calls else len(calls)


def other():
    return os.listdir(os.path.dirname(__file__))
'''


def test_a_function_writes_its_package_first_and_keeps_its_lines() -> None:
    tree = ast.parse(SOURCE)
    _, functions = _compile_worker._handouts(tree)
    assert [f.name for f in functions] == ["other"]
    # Made to run for setup too, to see its docstring and line numbers kept.
    setup = next(n for n in tree.body if isinstance(n, ast.FunctionDef) and n.name == "setup")
    _compile_worker._write_files_first(tree, [setup, *functions])
    code = compile(tree, "pkg/__init__.py", "exec", dont_inherit=True)

    calls: list[str] = []
    namespace: dict[str, Any] = {"__file__": "/exe/lib/pkg/__init__.py", "__name__": "pkg"}
    with runtime_of(write_files_of=calls.append):
        exec(code, namespace)
        assert calls == []  # defining the functions writes nothing
        assert namespace["setup"].__doc__ == "Its docstring stays its docstring."
        assert namespace["setup"](calls) == ("/exe/lib/pkg", 2)
        assert calls == ["/exe/lib/pkg/__init__.py", "body"]
        calls.append("fail")
        with pytest.raises(ZeroDivisionError) as raised:
            namespace["setup"](calls)
        assert traceback.extract_tb(raised.tb)[-1].lineno == 7  # the source's own line


@contextlib.contextmanager
def runtime_of(**functions: Callable[[Any], Any]) -> Iterator[None]:
    """The executable's runtime, as the code the builder changed calls it, with ``functions``."""
    runtime = types.ModuleType("_onebin_runtime.bootstrap")
    vars(runtime).update(functions)
    saved = sys.modules.get("_onebin_runtime.bootstrap")
    sys.modules["_onebin_runtime.bootstrap"] = runtime
    try:
        yield
    finally:
        if saved is None:
            del sys.modules["_onebin_runtime.bootstrap"]
        else:
            sys.modules["_onebin_runtime.bootstrap"] = saved


def test_an_import_that_hands_out_its_directory_writes_its_package() -> None:
    files = {"site/pkg/__init__.py", "site/pkg/mod.py", "site/other/__init__.py"}
    dirs = {"site/pkg", "site/other"}
    names = {"site/pkg/mod.py": [datafiles.HANDS_OUT_DIRECTORY, "__file__", "os"], "site/other/__init__.py": ["x"]}
    assert datafiles.materialize_map(names, files, dirs, ("site",)) == {"site/pkg/mod.py": ("site/pkg",)}


def names_found(analysis: Callable[[ast.Module], list[Any]], source: str) -> list[str]:
    """The names of the functions ``analysis`` finds in ``source``."""
    return [f.name for f in analysis(ast.parse(source))]


searches = functools.partial(names_found, _compile_worker._searches_sys_path)
other_handouts = functools.partial(names_found, _compile_worker._other_handouts)


def test_functions_that_look_for_files_under_sys_path() -> None:
    # astroid's ImportlibFinder.find_module, reduced
    assert searches(
        "import os, sys\ndef find_module(modname, submodule_path):\n"
        "    if submodule_path is not None:\n        search_paths = list(submodule_path)\n"
        "    else:\n        search_paths = sys.path\n"
        "    for entry in search_paths:\n        package_directory = os.path.join(entry, modname)\n"
        "        file_path = os.path.join(package_directory, '__init__.py')\n"
        "        if cached_os_path_isfile(file_path):\n            return file_path\n"
    ) == ["find_module"]
    assert searches(
        "import os, sys\ndef plugins(name):\n    return [d for d in sys.path if os.path.isdir(os.path.join(d, name))]\n"
    ) == ["plugins"]
    # sys.path only read, or its entries only compared or imported from
    assert searches("import sys\ndef f(p):\n    return p in sys.path\n") == []
    assert (
        searches("import sys\ndef f(p):\n    for e in sys.path:\n        if p.startswith(e):\n            return e\n")
        == []
    )
    assert searches("import os, sys\ndef f():\n    return os.path.isfile(__file__) and sys.path\n") == []
    # an entry itself tested, not a file under it (debugpy's _get_library_dir(), werkzeug's
    # reloader): nothing to write; listing an entry is looking under it
    assert (
        searches(
            "import os, sys\ndef lib():\n    for path in sys.path:\n"
            "        if os_path_exists(path) and os.path.basename(path) == 'site-packages':\n            return path\n"
        )
        == []
    )
    assert (
        searches(
            "import os, sys\ndef f():\n    for p in sys.path:\n        p = os.path.abspath(p)\n"
            "        if os.path.isfile(p):\n            yield p\n"
        )
        == []
    )
    assert searches("import os, sys\ndef f():\n    return [os.listdir(p) for p in sys.path if os.path.isdir(p)]\n") == [
        "f"
    ]


def test_functions_that_hand_out_another_modules_directory() -> None:
    # mkdocs' get_theme_dir(), flask's get_root_path(), pylint's --enable-all-extensions
    assert other_handouts(
        "import os\ndef get_theme_dir(name):\n    theme = get_themes()[name]\n"
        "    return os.path.dirname(os.path.abspath(theme.load().__file__))\n"
    ) == ["get_theme_dir"]
    assert other_handouts("import os\ndef f(m):\n    return os.listdir(m.__path__[0])\n") == ["f"]
    # mkdocstrings' get_templates_dir(): a path in a directory of a namespace package
    assert other_handouts(
        "from pathlib import Path\ndef get_templates_dir(handler):\n    import handlers\n"
        "    for path in handlers.__path__:\n        theme_path = Path(path, handler, 'templates')\n"
        "        if theme_path.exists():\n            return theme_path\n"
    ) == ["get_templates_dir"]
    # reading a file in another package's directory, or filtering paths made from it
    assert other_handouts(
        "import os\ndef schema(v):\n    path = os.path.join(os.path.dirname(v.__file__), v.name)\n"
        "    with open(path) as f:\n        return f.read()\n"
    ) == ["schema"]
    # reportlab's rl_config._startUp(): '%(REPORTLAB_DIR)s/fonts' % D, kept if rl_isdir()
    assert other_handouts(
        "import os\ndef _startUp():\n    import reportlab\n"
        "    D = {'REPORTLAB_DIR': os.path.abspath(os.path.dirname(reportlab.__file__))}\n"
        "    P = []\n    for p in SAVED:\n        d = (p % D).replace('/', os.sep)\n"
        "        if rl_isdir(d):\n            P.append(d)\n"
    ) == ["_startUp"]
    # comparing frames' files with a package's directory (pandas' find_stack_level)
    assert (
        other_handouts(
            "import os, inspect\nimport pandas as pd\ndef find_stack_level():\n"
            "    pkg_dir = os.path.dirname(pd.__file__)\n    test_dir = os.path.join(pkg_dir, 'tests')\n"
            "    frame = inspect.currentframe()\n    return frame.f_code.co_filename.startswith(pkg_dir)\n"
        )
        == []
    )
    # its own directory is _handouts' business; at import, nothing is written
    assert other_handouts("import os, other\nos.listdir(os.path.dirname(other.__file__))\n") == []


def test_another_modules_paths_are_read_once_its_package_is_written() -> None:
    tree = ast.parse(
        "import os\ndef theme_dir(module):\n    os.listdir(module.__path__[0])\n"
        "    return os.path.dirname(module.__file__)\n"
    )
    _compile_worker._write_modules_first(_compile_worker._other_handouts(tree))
    code = compile(tree, "loader.py", "exec", dont_inherit=True)
    written: list[object] = []
    theme = types.ModuleType("theme")
    theme.__file__ = "/exe/site/theme/__init__.py"
    theme.__path__ = [os.path.dirname(__file__)]  # a directory to list
    namespace: dict[str, Any] = {"__name__": "loader"}
    with runtime_of(written=lambda module: written.append(module) or module):
        exec(code, namespace)
        assert namespace["theme_dir"](theme) == "/exe/site/theme"
        assert written == [theme, theme]


# jinja2's PackageLoader and starlette's StaticFiles(packages=...), as a test package has them
JINJA2_PACKAGE_LOADER = (Path(__file__).parents[1] / "packages/themepkg/src/themepkg/spec_loader.py").read_text()


def spec_lookups(source: str) -> list[tuple[str, list[str]]]:
    return [(f.name, sorted(specs)) for f, specs in _compile_worker._spec_lookups(ast.parse(source))]


def test_functions_that_look_for_files_beside_a_module_found_by_find_spec() -> None:
    assert sorted(spec_lookups(JINJA2_PACKAGE_LOADER)) == [
        ("__init__", ["spec"]),
        ("package_path", ["spec"]),  # confuse's: its loader's get_filename(), whose directory it returns
        ("statics", ["spec"]),
    ]
    # a spec whose paths are only stored or compared, or a file test with no spec
    assert spec_lookups("import importlib.util\ndef f(n):\n    return importlib.util.find_spec(n).origin\n") == []
    assert spec_lookups("import os\ndef f(spec):\n    return os.path.isfile(spec.origin)\n") == []


def test_a_specs_paths_are_read_once_its_package_is_written() -> None:
    tree = ast.parse(JINJA2_PACKAGE_LOADER)
    _compile_worker._write_specs_first(_compile_worker._spec_lookups(tree))
    code = compile(tree, "loaders.py", "exec", dont_inherit=True)
    here = os.path.dirname(os.path.dirname(__file__))  # tests/, which holds unit/
    written: list[object] = []

    def written_spec(spec: Any) -> Any:
        written.append(spec.name)
        return types.SimpleNamespace(name=spec.name, origin=None, submodule_search_locations=[here])

    namespace: dict[str, Any] = {"__name__": "loaders"}
    with runtime_of(written_spec=written_spec):
        exec(code, namespace)
        loader = namespace["PackageLoader"]("json", "unit")
    assert loader.root == os.path.join(here, "unit")
    assert written == ["json", "json"]  # each read of the spec's paths


def test_a_module_importing_a_packages_directory_has_it_written() -> None:
    # sphinx: package_dir = _StrPath(__file__).resolve().parent in its __init__, and
    # `from sphinx import package_dir` in sphinx.application, which reads its translations there
    init = "from pathlib import Path\nclass _StrPath(Path): pass\npackage_dir = _StrPath(__file__).resolve().parent\n"
    assert sorted(_compile_worker._OwnPaths(ast.parse(init)).dirs) == ["package_dir"]
    materialize: dict[str, tuple[str, ...]] = {}
    datafiles.add_directory_importers(
        materialize,
        {"site/pkg/__init__.py": ["package_dir"]},
        {
            "site/pkg/app.py": [(0, "pkg", ("locale", "package_dir"))],
            "site/pkg/builders/html.py": [(2, "", ("package_dir",))],
            "site/pkg/other.py": [(0, "pkg", ("locale",))],
            "site/user.py": [(0, "elsewhere", ("package_dir",))],
        },
        ("site",),
    )
    assert materialize == {"site/pkg/app.py": ("site/pkg",), "site/pkg/builders/html.py": ("site/pkg",)}


def test_a_module_listing_a_path_another_module_made_has_that_package_written() -> None:
    # glances: globals.py binds plugins_path from its __file__; stats.py lists it in a function
    exporter = (
        "import os\nwork_path = os.path.realpath(os.path.dirname(__file__))\n"
        "plugins_path = os.path.realpath(os.path.join(work_path, 'plugins'))\nlevel = 3\n"
    )
    own = _compile_worker._OwnPaths(ast.parse(exporter))
    assert sorted(own.dirs | own.below) == ["plugins_path", "work_path"]
    importer = (
        "import os\nfrom glances.globals import plugins_path as where, level, weak_lru_cache\n"
        "def load():\n    return [i for i in os.listdir(where) if not i.startswith('__')]\n"
        "def other():\n    return weak_lru_cache(level) and print(where)\n"
    )
    assert _compile_worker._imported_handouts(ast.parse(importer)) == ["level", "plugins_path"]
    materialize: dict[str, tuple[str, ...]] = {}
    datafiles.add_path_importers(
        materialize,
        {"site/glances/globals.py": ["plugins_path", "work_path"]},
        {"site/glances/stats.py": ["level", "plugins_path"], "site/other.py": ["level"]},
        {
            "site/glances/stats.py": [(0, "glances.globals", ("plugins_path", "level"))],
            "site/other.py": [(0, "glances.globals", ("level",))],
        },
        ("site",),
    )
    assert materialize == {"site/glances/stats.py": ("site/glances",)}


def test_names_joined_to_its_own_directory() -> None:
    joined = _compile_worker._joined_names
    assert joined(ast.parse("from pathlib import Path\nDATADIR = Path(__file__).parent / 'datasets'\n")) == ["datasets"]
    assert joined(ast.parse("import os\nHERE = os.path.dirname(__file__)\nX = os.path.join(HERE, 'data/x')\n")) == [
        "data"
    ]
    # in a function, it is for whoever calls it: lxml's get_include() joins its includes package
    assert joined(ast.parse("import os\ndef get_include():\n    return os.path.join(__path__[0], 'includes')\n")) == []
    assert joined(
        ast.parse("from pathlib import Path\np = Path(__file__).resolve().parent.joinpath('conf', 'a')\n")
    ) == ["conf"]
    # in a function, a whole path of constants, which may name a data file in a subpackage
    # (semgrep's lang.json, read by a class its module instantiates), or climb out of it
    semgrep = "from pathlib import Path\nclass L:\n    def __init__(self):\n"
    semgrep += "        self.f = (Path(__file__).parent / 'iface' / 'lang.json').open()\nL()\n"
    assert joined(ast.parse(semgrep)) == ["iface/lang.json"]
    climbs = "import os\ndef f(name):\n    here = os.path.dirname(__file__)\n"
    climbs += "    return os.path.join(here, '..', 'data', 'x.json'), os.path.join(here, name, 'y')\n"
    assert joined(ast.parse(climbs)) == ["../data/x.json"]
    # at import, a path that climbs out of its directory, or an f-string's path before its
    # first field: pulp's CBC binaries, f"../solverdir/cbc/{operating_system}/{arch}/cbc"
    pulp = "import os\nP = os.path.join(os.path.dirname(__file__), f'../solverdir/cbc/{system}/{arch}/cbc')\n"
    assert joined(ast.parse(pulp)) == ["../solverdir/cbc"]
    fields = "from pathlib import Path\nA = Path(__file__).parent / f'data/table_{lang}.json'\nB = Path(__file__).parent / f'{x}/y'\n"
    assert joined(ast.parse(fields)) == ["data"]
    # a name not joined to its directory: __all__, an import table, another module's directory
    assert (
        joined(ast.parse("import os, m\n__all__ = ['datasets']\nos.path.join(os.path.dirname(m.__file__), 'x')\n"))
        == []
    )


def test_a_package_named_beside_a_module_is_data_if_it_holds_data() -> None:
    files = [
        "site/pkg/__init__.py",
        "site/pkg/constants.py",
        "site/pkg/datasets/__init__.py",
        "site/pkg/datasets/de/person.json",
        "site/pkg/ma/__init__.py",
        "site/pkg/ma/core.py",
        "site/pkg/ext/__init__.py",
        "site/pkg/ext/_speedups.cpython-312-x86_64-linux-gnu.so",
        "site/pkg/ext/py.typed",
    ]
    dirs = ["site", "site/pkg", "site/pkg/datasets", "site/pkg/datasets/de", "site/pkg/ma", "site/pkg/ext"]
    names = {"site/pkg/constants.py": ["__file__", "datasets", "ma", "ext"]}
    for joined, expected in [(["datasets"], {"site/pkg/constants.py": ("site/pkg",)}), (["ma", "ext"], {})]:
        found = datafiles.materialize_map(names, files, dirs, ("site",), {"site/pkg/constants.py": joined})
        assert found == expected


def test_a_directory_named_alone_is_data_if_it_holds_data() -> None:
    # marimo's _output/hypertext.py has a dict key "data"; _output/data/ holds data.py alone
    # (a namespace package): naming it is no reason to write marimo's 120 MB
    files = ["site/m/__init__.py", "site/m/_output/__init__.py", "site/m/_output/hypertext.py"]
    files += ["site/m/_output/data/data.py", "site/m/_output/templates/page/index.html"]
    dirs = ["site", "site/m", "site/m/_output", "site/m/_output/data", "site/m/_output/templates"]
    dirs += ["site/m/_output/templates/page"]
    for names in (["data"], ["__file__", "data"]):
        assert datafiles.materialize_map({"site/m/_output/hypertext.py": names}, files, dirs, ("site",)) == {}
    # a directory holding data below it (jinja2's PackageLoader(__name__, "templates")) is
    for names in (["templates"], ["__file__", "templates"]):
        found = datafiles.materialize_map({"site/m/_output/hypertext.py": names}, files, dirs, ("site",))
        assert found == {"site/m/_output/hypertext.py": ("site/m",)}
    # onnx's __init__ names its module shape_inference (in __all__), beside which a directory of
    # that name holds C++ sources: the name is the module's (the first start wrote onnx, 27 MB)
    files = ["site/onnx/__init__.py", "site/onnx/shape_inference.py", "site/onnx/shape_inference/impl.h"]
    dirs = ["site", "site/onnx", "site/onnx/shape_inference"]
    assert datafiles.materialize_map({"site/onnx/__init__.py": ["shape_inference"]}, files, dirs, ("site",)) == {}


def test_a_data_file_in_a_subpackage_named_by_a_whole_path() -> None:
    files = ["site/pkg/__init__.py", "site/pkg/types.py", "site/pkg/iface/__init__.py", "site/pkg/iface/lang.json"]
    files += ["site/pkg/sub/__init__.py", "site/pkg/sub/m.py", "site/pkg/data/x.json"]
    dirs = ["site", "site/pkg", "site/pkg/iface", "site/pkg/sub", "site/pkg/data"]
    for relpath, joined in [("site/pkg/types.py", "iface/lang.json"), ("site/pkg/sub/m.py", "../data/x.json")]:
        found = datafiles.materialize_map({relpath: ["__file__"]}, files, dirs, ("site",), {relpath: [joined]})
        assert found == {relpath: ("site/pkg",)}
    # a whole path naming code, or nothing in the bundle, is no data
    for joined in ("iface/__init__.py", "iface/other.json", "../.."):
        names = {"site/pkg/types.py": ["__file__"]}
        assert datafiles.materialize_map(names, files, dirs, ("site",), {"site/pkg/types.py": [joined]}) == {}


def test_a_data_file_named_by_a_format_string() -> None:
    # parso: os.path.join(os.path.dirname(__file__), "python", "grammar%s%s.txt" % version)
    files = {"site/parso/__init__.py", "site/parso/grammar.py", "site/parso/python/__init__.py"}
    files |= {"site/parso/python/grammar311.txt", "site/parso/python/tokenize.py"}
    dirs = {"site/parso", "site/parso/python"}
    names = {"site/parso/grammar.py": ["__file__", "grammar%s%s.txt", "python"]}
    assert datafiles.materialize_map(names, files, dirs, ("site",)) == {"site/parso/grammar.py": ("site/parso",)}
    # a name that is nearly all placeholder matches nothing
    assert datafiles.materialize_map({"site/parso/grammar.py": ["__file__", "%s.%s"]}, files, dirs, ("site",)) == {}
    # a module directly in a root (pydoc's '%s.html'): the root's packages are not its data
    files |= {"lib/pydoc.py", "lib/pydoc_data/topics.html", "lib/pydoc_data/__init__.py", "lib/tpl.html"}
    dirs |= {"lib", "lib/pydoc_data", "lib/site"}
    roots = ("lib", "lib/site")
    pydoc = {"lib/pydoc.py": ["__file__", "%s.html"]}
    assert datafiles.materialize_map(pydoc, files | {"lib/site/django/x.html"}, dirs, roots) == {
        "lib/pydoc.py": ("lib",)
    }


def test_formatted_names_are_kept_as_written() -> None:
    # the compiler turns "grammar%s%s.txt" % (a, b) into an f-string: only "grammar", ".txt" remain
    source = (
        "import os\nv = (3, 11)\npath = os.path.join(os.path.dirname(__file__), 'grammar%s%s.txt' % (v[0], v[1]))\n"
    )
    source += "other = f'{v}-x.json'\n"
    names = _compile_worker._names(compile(source, "m.py", "exec"))
    assert "grammar%s%s.txt" not in names or sys.version_info < (3, 11)
    kept = _compile_worker._with_formatted_names(names, ast.parse(source))
    assert kept[0] == "__file__" and {"grammar%s%s.txt", "{}-x.json"} <= set(kept)


def test_names_joined_to_its_directory_through_bound_strings() -> None:
    # docutils' ODT writer: default_stylesheet = 'styles' + EXTENSION, in a class body
    source = (
        "import os\nclass Writer:\n    EXTENSION = '.odt'\n    default_stylesheet = 'styles' + EXTENSION\n"
        "    path = os.path.join(os.path.dirname(__file__), default_stylesheet)\n"
        "x = 'a'\nx = 'b'\nother = os.path.join(os.path.dirname(__file__), 'y' + x)\n"  # bound twice
    )
    assert _compile_worker._joined_names(ast.parse(source)) == ["styles.odt"]


def prefix_tops(source: str) -> list[str]:
    return [top for _, top in _compile_worker._prefix_joins(ast.parse(source))]


def test_paths_made_from_sys_prefix_and_a_constant() -> None:
    # jupyter_core.paths: ENV_JUPYTER_PATH = [str(Path(sys.prefix, "share", "jupyter"))]
    assert prefix_tops("import sys\nfrom pathlib import Path\nP = [str(Path(sys.prefix, 'share', 'jupyter'))]\n") == [
        "share"
    ]
    assert prefix_tops("import os, sys\nP = os.path.join(sys.exec_prefix, 'etc/jupyter')\n") == ["etc"]
    assert prefix_tops("import sys, pathlib\nP = pathlib.Path(sys.prefix) / 'share' / 'x'\n") == ["share"]
    assert prefix_tops("import sys\nP = sys.prefix + '/share/x'\n") == ["share"]
    assert prefix_tops("import sys\ndef f():\n    return f'{sys.prefix}/share/x'\n") == ["share"]
    # not a path under the prefix made from a constant: left alone
    assert prefix_tops("import os, sys\nP = os.path.join(sys.prefix, name)\n") == []
    assert prefix_tops("import sys\nV = sys.prefix != sys.base_prefix\nS = sys.prefix + 'x'\n") == []
    assert prefix_tops("import os, sys\nP = os.path.join(sys.prefix, '..', 'x')\nQ = os.path.join(sys.prefix)\n") == []


def test_a_located_file_made_into_a_path_reads_through_the_runtime() -> None:
    # pdm: str(importlib.metadata.distribution(lib).locate_file("")), given to another python
    located = _compile_worker._located_files
    assert (
        len(located(ast.parse("import importlib.metadata as m\nP = str(m.distribution('x').locate_file(''))\n"))) == 1
    )
    assert (
        len(
            located(ast.parse("from pathlib import Path\ndef f(d, file):\n    return Path(str(d.locate_file(file)))\n"))
        )
        == 1
    )
    # read from memory, compared or printed: left alone
    assert located(ast.parse("def f(d, f):\n    return d.locate_file(f).read_text()\n")) == []
    assert located(ast.parse("def f(d):\n    print(d.locate_file('numpy') != ROOT)\n")) == []


def test_the_scripts_directory_sysconfig_names_is_the_prefix_bin() -> None:
    # ruff's find_ruff_bin(), uv's find_uv_bin(): their binaries, from .data/scripts
    assert prefix_tops("import sysconfig\ndef f():\n    return sysconfig.get_path('scripts')\n") == ["bin"]
    assert prefix_tops("import sysconfig\nT = sysconfig.get_path('scripts', vars={'base': b})\n") == ["bin"]
    assert prefix_tops("from sysconfig import get_paths\nT = get_paths()['scripts']\n") == ["bin"]
    assert prefix_tops("import sysconfig\nT = sysconfig.get_path('purelib')\nU = get_paths()['data']\n") == []


def test_a_path_made_from_sys_prefix_reads_it_through_the_runtime() -> None:
    tree = ast.parse("import os, sys\nP = os.path.join(sys.prefix, 'share', 'x')\nV = sys.prefix != sys.base_prefix\n")
    _compile_worker._prefix_data_first(_compile_worker._prefix_joins(tree)).visit(tree)
    asked: list[tuple[str, str]] = []
    namespace: dict[str, Any] = {}
    with runtime_of(prefix_data=lambda prefix, top: asked.append((prefix, top)) or "/cache/app"):
        exec(compile(tree, "m.py", "exec"), namespace)
    assert asked == [(sys.prefix, "share")]
    assert namespace["P"] == "/cache/app/share/x"
    assert namespace["V"] == (sys.prefix != sys.base_prefix)


def test_a_file_found_by_inspect_getfile_and_made_a_path_is_read_through_the_runtime() -> None:
    # textual: Path(inspect.getfile(obj.__class__)).parent / CSS_PATH, opened elsewhere
    tree = ast.parse(
        "import inspect, os\nfrom pathlib import Path\n"
        "def css(obj, name):\n    return Path(inspect.getfile(obj.__class__)).parent / name\n"
        "def where(cls):\n    return os.path.dirname(inspect.getsourcefile(cls))\n"
        "def shown(cls):\n    return 'defined in ' + inspect.getfile(cls)\n"
    )
    lookups = _compile_worker._file_lookups(tree)
    assert len(lookups) == 2  # not the one only shown
    _compile_worker._written_paths_first(lookups).visit(tree)
    asked: list[str] = []
    namespace: dict[str, Any] = {}
    with runtime_of(written_path=lambda path: asked.append(path) or "/cache/app/m.py"):
        exec(compile(tree, "m.py", "exec"), namespace)
        assert namespace["css"](Path("x"), "app.tcss") == Path("/cache/app/app.tcss")
        assert namespace["where"](Path) == "/cache/app"
        assert namespace["shown"](Path).startswith("defined in /")
    assert len(asked) == 2


def test_a_file_found_by_inspect_getfile_bound_to_a_name_and_read_is_read_through_the_runtime() -> None:
    # hypothesis: module_file = inspect.getsourcefile(module); Path(module_file).read_bytes();
    # numba: source_path = inspect.getfile(py_func), handed to its cache locators
    tree = ast.parse(
        "import inspect\nfrom pathlib import Path\n"
        "def mine(module):\n    f = inspect.getsourcefile(module)\n    return Path(f).read_bytes()\n"
        "def cache(func, locate):\n    src = inspect.getfile(func)\n    return locate(func, src)\n"
        "def shown(cls):\n    f = inspect.getfile(cls)\n    print('in', f)\n    return f.endswith('.py')\n"
    )
    lookups = _compile_worker._file_lookups(tree)
    assert sorted(ast.unparse(call) for call in lookups) == ["inspect.getfile(func)", "inspect.getsourcefile(module)"]


def test_a_modules_file_imported_by_name_is_read_through_the_runtime() -> None:
    # pip's utils/misc.py: `from pip import __file__ as pip_location`; running_under_zipapp()
    # tests its directory and get_runnable_pip() gives it to another python: both read the
    # written copy, or a pip-compile of a pyproject.toml ran the bundle's pip in its build env
    source = (
        "import pathlib\nfrom pip import __file__ as pip_location, __version__\n"
        "def running_under_zipapp():\n    return not pathlib.Path(pip_location).resolve().parent.is_dir()\n"
        "def get_runnable_pip():\n    return str(pathlib.Path(pip_location).parent / '__pip-runner__.py')\n"
        "def version():\n    return __version__\n"
    )
    assert _compile_worker._IMPORTS_FILE.search(source.encode())
    tree = ast.parse(source)
    functions = _compile_worker._other_handouts(tree)
    assert sorted(f.name for f in functions) == ["get_runnable_pip", "running_under_zipapp"]
    _compile_worker._write_modules_first(functions, _compile_worker._imported_files(tree))
    assert ast.unparse(tree).count(".written_path(pip_location)") == 2
    assert not _compile_worker._IMPORTS_FILE.search(b"import os\nHERE = os.path.dirname(__file__)\n")


def test_a_statement_at_import_that_opens_a_file_of_another_module() -> None:
    # a script's top-level open(os.path.join(os.path.dirname(certifi.__file__), "cacert.pem")):
    # that package is written first; a path only kept, or given to sys.path, writes nothing
    source = (
        "import os, sys, certifi, json\n"
        "with open(os.path.join(os.path.dirname(certifi.__file__), 'cacert.pem')) as f:\n    DATA = f.read()\n"
        "KEPT = os.path.join(os.path.dirname(json.__file__), 'x')\n"
        "sys.path.insert(0, os.path.join(os.path.dirname(json.__file__), 'v'))\n"
    )
    assert _compile_worker._opens_at_import(compile(source, "m.py", "exec"))
    tree = ast.parse(source)
    found = _compile_worker._other_handouts(tree)
    assert [type(node).__name__ for node in found] == ["With"]
    _compile_worker._write_modules_first(found)
    assert ast.unparse(tree).count(".written(") == 1


def test_a_statement_at_import_that_loads_a_library_beside_another_module() -> None:
    # soundfile: the library in _soundfile_data, beside that package's __init__, in a try
    source = (
        "import os, _soundfile_data\nfrom cffi import FFI\n_ffi = FFI()\n"
        "try:\n"
        "    _path = os.path.dirname(_soundfile_data.__file__)\n"
        "    _full_path = os.path.join(_path, 'libsndfile_x86_64.so')\n"
        "    _snd = _ffi.dlopen(_full_path)\n"
        "except OSError:\n    _snd = None\n"
    )
    assert _compile_worker._opens_at_import(compile(source, "m.py", "exec"))
    found = _compile_worker._other_handouts(ast.parse(source))
    assert [type(node).__name__ for node in found] == ["Try"]


def test_a_sys_path_root_is_no_module_data() -> None:
    # pydoc.py reads __file__ and names 'site-packages' (getdocloc), which sits beside it and
    # holds .dist-info files: writing the stdlib's 170 top-level modules for it helps no one
    files = ["lib/pydoc.py", "lib/os.py", "lib/site-packages/six.py", "lib/site-packages/six-1.dist-info/METADATA"]
    dirs = ["lib", "lib/site-packages", "lib/site-packages/six-1.dist-info"]
    names = {"lib/pydoc.py": ["__file__", "site-packages"]}
    assert datafiles.materialize_map(names, files, dirs, ("lib", "lib/site-packages")) == {}


def test_a_module_reading_its_paths_only_in_functions_that_write_first_needs_nothing_at_import() -> None:
    # numpy.f2py: get_include() returns os.path.join(os.path.dirname(__file__), "src"); writing
    # numpy when numpy.f2py is imported (scipy's imports reach it) is for nothing until it is called
    def lazy(source: str) -> bool:
        tree = ast.parse(source)
        _, functions = _compile_worker._handouts(tree)
        return _compile_worker._read_only_when_called(tree, functions, _compile_worker._other_handouts(tree))

    get_include = "import os\ndef get_include():\n    return os.path.join(os.path.dirname(__file__), 'src')\n"
    assert lazy(get_include)
    assert not lazy(get_include + "HERE = os.path.dirname(__file__)\n")  # read at import
    assert not lazy(get_include + "def shown():\n    print(__file__)\n")  # a read no function writes for
    assert not lazy(get_include + "def f(d=os.path.dirname(__file__)):\n    return d\n")  # a default: at import
    other = "import os, json\ndef where():\n    return os.path.dirname(json.__file__)\n"
    assert lazy(other)
    # the builder then writes nothing at import, whatever the names find
    files = ["site/pkg/__init__.py", "site/pkg/src/x.c"]
    names = {"site/pkg/__init__.py": [datafiles.READ_WHEN_CALLED, "src"]}
    assert datafiles.materialize_map(names, files, ["site", "site/pkg", "site/pkg/src"], ("site",)) == {}
    names = {"site/pkg/__init__.py": ["__file__", "src"]}
    assert datafiles.materialize_map(names, files, ["site", "site/pkg", "site/pkg/src"], ("site",)) != {}


def file_handouts(tmp_path: Path, source: str, beside: tuple[str, ...]) -> tuple[bool, list[str]]:
    module = tmp_path / "__init__.py"
    module.write_text(source)
    for name in beside:
        (tmp_path / name).write_text("")
    tree = ast.parse(source)
    at_import, functions = _compile_worker._handouts(tree, _compile_worker._OwnPaths(tree), str(module))
    return at_import, sorted(f.name for f in functions)


ATTACH_STUB = "import lazy_loader as lazy\n__getattr__, __dir__, __all__ = lazy.attach_stub(__name__, __file__)\n"


@pytest.mark.parametrize(
    ("source", "beside", "expected"),
    [
        # skimage: lazy_loader parses the __init__.pyi beside the file it is given
        (ATTACH_STUB, ("__init__.pyi",), (True, [])),
        (
            "import lazy_loader as lazy\ndef setup():\n    return lazy.attach_stub(__name__, __file__)\n",
            ("__init__.pyi",),
            (False, ["setup"]),
        ),
        (
            "from pathlib import Path\nHERE = Path(__file__).resolve()\nload_config(HERE)\n",
            ("__init__.json",),
            (True, []),
        ),
        # nothing named after the module beside it: the callee can only keep the name
        (ATTACH_STUB, (), (False, [])),
        (ATTACH_STUB, ("__init__.pyc", "other.pyi"), (False, [])),
        # path arithmetic, reports and formatting, a module attribute given by keyword (celery)
        (
            "import os\nHERE = os.path.dirname(__file__)\nprint(__file__)\nx = '{}'.format(__file__)\n",
            ("__init__.pyi",),
            (False, []),
        ),
        ("recreate_module(__name__, __file__=__file__, __path__=__path__)\n", ("__init__.pyi",), (False, [])),
    ],
)
def test_a_module_giving_its_own_file_to_a_call(
    tmp_path: Path, source: str, beside: tuple[str, ...], expected: tuple[bool, list[str]]
) -> None:
    assert file_handouts(tmp_path, source, beside) == expected


def test_a_file_directly_in_the_stdlib_or_site_packages_is_no_modules_data() -> None:
    # Python 3.10's site.py names "LICENSE.txt" beside os.__file__ for license(): import site
    # wrote the stdlib's top level; a script's neighbours are its own data
    stdlib, site = "lib/python3.10", "lib/python3.10/site-packages"
    roots = ("app", stdlib, site)
    files = {f"{stdlib}/site.py", f"{stdlib}/LICENSE.txt", f"{site}/one.py", f"{site}/README", "app/helper.py"}
    files |= {"app/config.json", "app/app.py"}
    dirs = {"app", stdlib, site}
    names = {
        f"{stdlib}/site.py": ["__file__", "LICENSE.txt"],
        f"{site}/one.py": ["__file__", "README"],
        "app/helper.py": ["__file__", "config.json"],
    }
    assert datafiles.materialize_map(names, files, dirs, roots) == {"app/helper.py": ("app",)}
