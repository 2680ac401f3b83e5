"""The distributions' metadata the index lists for each directory (payload._distributions): a
root's *.dist-info directories, and in any other directory what pkg_resources' find_on_path
and importlib.metadata take from a directory on disk, so that nothing walks the index at run
time to find them."""

from __future__ import annotations

from onebin.payload import _distributions
from onebin.tree import Tree

SITE = "lib/python3.12/site-packages"
FILES = [
    f"{SITE}/black-26.1.dist-info/METADATA",
    f"{SITE}/black/__init__.py",
    f"{SITE}/stray-1.0.dist-info",  # a file: find_on_path takes only a directory so named
    f"{SITE}/notes.info",
    f"{SITE}/setuptools/_vendor/wheel-0.46.3.dist-info/licenses/LICENSE.txt",
    f"{SITE}/setuptools/_vendor/wheel/__init__.py",
    f"{SITE}/setuptools/_vendor/Old-1.0.EGG-INFO/PKG-INFO",  # pkg_resources compares names in lower case
    f"{SITE}/setuptools/_vendor/flat-2.0.egg-info",  # a PKG-INFO file, as distutils installed one
]


def test_dist_info_directories_and_egg_info_directories_and_files() -> None:
    tree = Tree(files=dict.fromkeys(FILES, b""), roots=["lib/python3.12", SITE])
    vendor = f"{SITE}/setuptools/_vendor"
    assert _distributions(tree) == {
        SITE: (("black", f"{SITE}/black-26.1.dist-info"),),
        vendor: (
            ("old", f"{vendor}/Old-1.0.EGG-INFO"),
            ("flat", f"{vendor}/flat-2.0.egg-info"),
            ("wheel", f"{vendor}/wheel-0.46.3.dist-info"),
        ),
    }


def test_a_bundle_without_metadata() -> None:
    assert _distributions(Tree(files={f"{SITE}/six.py": b"", "app/app.py": b""}, roots=["app", SITE])) == {}
