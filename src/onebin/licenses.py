"""Licence texts of what goes into an executable, and a warning for GPL libraries.

CPython's LICENSE.txt and each distribution's licence files (PEP 639 ``licenses/``, or
LICENSE/COPYING/NOTICE files in its ``.dist-info``) are bundled as they are. For each library
copied from the build machine, this adds its Debian copyright file (found with ``dpkg -S``)
under ``licenses/``. ``onebin inspect --licenses`` prints them all.
"""

from __future__ import annotations

import hashlib
import re
import subprocess
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

from .cachedir import store
from .record import signature
from .tree import Tree

LICENSE_DIR = "licenses"
_DPKG_STATUS = "/var/lib/dpkg/status"  # rewritten whenever a package is installed or removed
_LICENSE_FILE = re.compile(r"(^|/)(LICEN[CS]E|COPYING|NOTICE|AUTHORS)[^/]*$", re.IGNORECASE)


def add_system_licenses(
    tree: Tree,
    added: Mapping[str, Path],
    preload: Mapping[str, Iterable[str | tuple[str, ...]]],
    note: Callable[[str], None],
    cache_dir: Path | None = None,
) -> None:
    """Bundles the copyright file of each library from this machine; notes GPL ones, with the
    modules that need them (``preload``: extension -> the libraries it loads). ``cache_dir``
    keeps which package owns which library while dpkg's database is unchanged."""
    copyrights = _debian_copyrights(list(added.values()), cache_dir / "copyrights" if cache_dir else None)
    for relpath, path in sorted(added.items()):
        name = relpath.rpartition("/")[2]
        text = copyrights.get(path)
        if text is None:
            note(f"no licence text found for {name} ({path}): not a Debian package's file")
            continue
        tree.files[f"{LICENSE_DIR}/{name}"] = text
        license = main_license(text.decode("utf-8", "replace"), name)
        if license and re.match(r"A?GPL", license):
            users = sorted(
                ext.rpartition("/")[2].split(".")[0] for ext, libs in preload.items() if relpath in _flat(libs)
            )
            note(
                f"warning: bundling {name} (its Debian copyright file's main licence: {license}) for "
                f"{', '.join(users) or 'the app'}: distributing this executable may bring the GPL's terms; "
                f"--exclude {users[0] if users else 'MODULE'} leaves it out"
            )


def _flat(items: Iterable[str | tuple[str, ...]]) -> list[str]:
    return [name for item in items for name in ((item,) if isinstance(item, str) else item)]


def main_license(copyright: str, library: str) -> str | None:
    """The licence of ``library`` in a machine-readable Debian copyright file (DEP-5): that of the
    ``Files:`` stanza naming the library's directory (libuuid/*), else of ``Files: *``."""
    stem = library.split(".so")[0]
    fallback = None
    for stanza in re.split(r"\n\s*\n", copyright):
        files = re.search(r"^Files:\s*(.+(?:\n[ \t].+)*)", stanza, re.MULTILINE)
        license = re.search(r"^License:\s*(\S[^\n]*)", stanza, re.MULTILINE)
        if files is None or license is None:
            continue
        patterns = files.group(1).split()
        if any(p.split("/")[0] in (stem, stem.removeprefix("lib")) for p in patterns if "/" in p):
            return license.group(1).strip()
        if "*" in patterns and fallback is None:
            fallback = license.group(1).strip()
    return fallback


def _debian_copyrights(paths: list[Path], cache: Path | None = None) -> dict[Path, bytes]:
    """File -> the copyright file of the Debian package that installed it (one dpkg call, its
    answer kept in ``cache`` under the files asked and the state of dpkg's database: the call
    takes 110 ms of a rebuild on a slow CPU).

    dpkg knows a file by the path its package installed, which on a merged-/usr system may be
    /lib/... for what resolves to /usr/lib/...: both spellings are asked for.
    """
    spellings = {}
    for path in paths:
        spellings[str(path)] = path
        if str(path).startswith("/usr/lib/"):
            spellings[str(path)[len("/usr") :]] = path
    if not spellings:
        return {}
    key = hashlib.sha256(repr([*spellings, signature(_DPKG_STATUS)]).encode()).hexdigest()[:32]
    try:
        owners = (cache / key).read_text() if cache else None
    except OSError:
        owners = None
    if owners is None:
        try:
            owners = subprocess.run(["dpkg", "-S", *spellings], capture_output=True, text=True).stdout
        except OSError:
            return {}
        if cache and signature(_DPKG_STATUS) is not None:
            store(cache / key, owners.encode())
    found = {}
    for line in owners.splitlines():
        package, _, spelled = line.partition(": ")
        copyright = Path("/usr/share/doc", package.split(":")[0].split(",")[0].strip(), "copyright")
        if spelled.strip() in spellings and copyright.is_file():
            found[spellings[spelled.strip()]] = copyright.read_bytes()
    return found


def license_files(files: Iterable[str], roots: Iterable[str]) -> list[str]:
    """The licence files among a bundle's paths: CPython's, the distributions', the libraries'."""
    roots = list(roots)
    found = []
    for relpath in files:
        parent = relpath.rpartition("/")[0]
        if relpath.startswith(LICENSE_DIR + "/"):
            found.append(relpath)
        elif parent in roots and relpath.endswith("/LICENSE.txt") and "python" in parent:
            found.append(relpath)  # CPython's own
        elif ".dist-info/" in relpath and _LICENSE_FILE.search(relpath.split(".dist-info/", 1)[1]):
            found.append(relpath)
        elif ".dist-info/licenses/" in relpath:
            found.append(relpath)
    return sorted(set(found))


def report(path: str) -> str:
    """Every licence text in the executable at ``path``, each under a header naming its file."""
    from .inspect import InspectError, open_executable

    _, bundle, _ = open_executable(path)
    sections = []
    for relpath in license_files(bundle.index.files, bundle.index.roots):
        try:
            text = bundle.read(relpath).decode("utf-8", "replace").rstrip()
        except Exception as exc:  # a damaged blob: PayloadError from the reader
            raise InspectError(f"{path}: a damaged onebin executable ({exc}); rebuild it") from None
        rule = "=" * min(78, max(len(relpath), 20))
        sections.append(f"{rule}\n{relpath}\n{rule}\n{text}\n")
    return "\n".join(sections) if sections else f"{path}: no licence files inside"


def warn_gpl_distributions(tree: Tree, note: Callable[[str], None]) -> None:
    """Notes each bundled distribution whose metadata declares a GPL licence (not the LGPL)."""
    for relpath in sorted(tree.files):
        if not relpath.endswith(".dist-info/METADATA"):
            continue
        source = tree.files[relpath]
        text = (source if isinstance(source, bytes) else source.read_bytes()).decode("utf-8", "replace")
        headers = text.split("\n\n", 1)[0]
        declared = re.findall(
            r"^(?:License-Expression|License): *(.+)$|^Classifier: License :: .*?(GNU [^\n]+)$", headers, re.M
        )
        licenses = {a or b for a, b in declared}
        if any(re.search(r"(?<![L])\bA?GPL\b|GNU (Affero )?General Public", lic) for lic in licenses):
            distribution = relpath.rpartition("/")[0].rpartition("/")[2].removesuffix(".dist-info")
            note(
                f"warning: bundling {distribution}, declared under {'; '.join(sorted(licenses))}: "
                "distributing this executable may bring the GPL's terms"
            )
