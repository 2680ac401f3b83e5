"""A CycloneDX SBOM (JSON, specification 1.6) of an executable, from what ``onebin inspect`` reads.

Its components: CPython, each bundled distribution (with its wheel's hash, and the libraries the
wheel vendors nested inside it), each library copied from the build machine, and the script. The
executable itself is the BOM's subject (``metadata.component``) and depends on all of them; onebin
is the tool. The same file gives the same SBOM: the serial number derives from the file's hash,
and the timestamp is ``$SOURCE_DATE_EPOCH`` when it is set.

cyclonedx-python-lib is imported only when an SBOM is asked for.
"""

from __future__ import annotations

import os
import posixpath
import re
import uuid
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import TYPE_CHECKING

from . import __version__
from .inspect import Contents, Distribution, InspectError, NativeLibrary

if TYPE_CHECKING:
    from cyclonedx.model import HashType, Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component

__all__ = ["SPEC_VERSION", "cyclonedx_json", "write"]

SPEC_VERSION = "1.6"


def cyclonedx_json(contents: Contents) -> str:
    """The SBOM of the inspected executable, as CycloneDX JSON."""
    try:
        import cyclonedx.model.tool  # noqa: F401  (new in cyclonedx-python-lib 8)
        import packageurl  # noqa: F401
        from cyclonedx.output.json import JsonV1Dot6
    except ImportError:
        raise InspectError(
            "--sbom needs the cyclonedx-python-lib package, version 8 or newer; "
            "install it beside onebin: pip install 'cyclonedx-python-lib>=8'"
        ) from None
    return JsonV1Dot6(_bom(contents)).output_as_string(indent=2) + "\n"


def write(path: str, text: str) -> None:
    """Writes the SBOM to ``path``; raises InspectError naming the path if it cannot."""
    try:
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    except OSError as exc:
        raise InspectError(
            f"--sbom {path}: cannot write it ({exc.strerror}); pass a writable path, or - for stdout"
        ) from None


def _bom(c: Contents) -> Bom:
    from cyclonedx.model.bom import Bom, BomMetaData
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.model.tool import ToolRepository

    app = Component(
        type=ComponentType.APPLICATION,
        name=posixpath.basename(c.file),
        bom_ref=c.id,
        hashes=[_sha256(c.sha256)],
        properties=_properties(
            entry=c.entry, id=c.id, python=c.python, built_by=f"onebin {c.onebin}", glibc_min=c.glibc_min
        ),
    )
    tool = Component(type=ComponentType.APPLICATION, name="onebin", version=__version__)
    parts = [_python(c), *_distributions(c), *_libraries(c.native_libraries, top_level=True), *_files(c)]
    bom = Bom(
        components=parts,
        serial_number=uuid.uuid5(uuid.NAMESPACE_URL, f"urn:onebin:sbom:{c.sha256}"),
        metadata=BomMetaData(component=app, tools=ToolRepository(components=[tool]), timestamp=_timestamp()),
    )
    bom.register_dependency(app, parts)
    return bom


def _python(c: Contents) -> Component:
    from cyclonedx.model.component import Component, ComponentType
    from packageurl import PackageURL

    return Component(
        type=ComponentType.LIBRARY,
        name="cpython",
        version=c.python,
        bom_ref=f"cpython@{c.python}",
        description="the CPython interpreter, linked into the launcher, and its standard library",
        purl=PackageURL(type="generic", name="cpython", version=c.python),
        cpe=f"cpe:2.3:a:python:python:{c.python}:*:*:*:*:*:*:*",
    )


def _distributions(c: Contents) -> Iterator[Component]:
    from cyclonedx.model import ExternalReference, ExternalReferenceType, XsUri
    from cyclonedx.model.component import Component, ComponentType
    from packageurl import PackageURL

    inputs = {_normalize(i.name): i for i in c.inputs}
    for dist in c.distributions:
        found = inputs.get(_normalize(dist.name))
        url = found.url if found else ""
        yield Component(
            type=ComponentType.LIBRARY,
            name=dist.name,
            version=dist.version,
            bom_ref=f"pkg:pypi/{_normalize(dist.name)}@{dist.version}",
            purl=PackageURL(type="pypi", name=_normalize(dist.name), version=dist.version),
            hashes=[_sha256(found.sha256)] if found and found.sha256 else [],
            external_references=[ExternalReference(type=ExternalReferenceType.DISTRIBUTION, url=XsUri(url))]
            if url
            else [],
            properties=_properties(path=dist.path),
            components=_libraries(_vendored(c, dist), top_level=False),
        )


def _vendored(c: Contents, dist: Distribution) -> list[NativeLibrary]:
    return [lib for lib in c.native_libraries if lib.origin == "distribution" and lib.distribution == dist.name]


def _libraries(libraries: Iterable[NativeLibrary], top_level: bool) -> list[Component]:
    """Components for shared libraries: the wheels' own (nested) or the others (top level)."""
    from cyclonedx.model.component import Component, ComponentType

    return [
        Component(
            type=ComponentType.LIBRARY,
            name=_library_name(lib),
            bom_ref=lib.path,
            hashes=[_sha256(lib.sha256)],
            properties=_properties(path=lib.path, soname=lib.soname, origin=lib.origin, glibc_min=lib.glibc_min),
        )
        for lib in libraries
        if (lib.origin != "distribution") == top_level
    ]


def _library_name(library: NativeLibrary) -> str:
    """libssl.so.3 -> libssl (the soname's version is its ABI's, not the release's), and
    libgfortran-040039e1.so.5 -> libgfortran (auditwheel's hash)."""
    name = library.soname or posixpath.basename(library.path)
    return re.sub(r"(-[0-9a-f]{8})+$", "", name.partition(".so")[0]) or name


def _files(c: Contents) -> Iterator[Component]:
    """The inputs that are not distributions: the script."""
    from cyclonedx.model.component import Component, ComponentType

    distributions = {_normalize(d.name) for d in c.distributions}
    for item in c.inputs:
        if _normalize(item.name) not in distributions:
            hashes = [_sha256(item.sha256)] if item.sha256 else []
            yield Component(type=ComponentType.FILE, name=item.name, bom_ref=f"input:{item.name}", hashes=hashes)


def _properties(**values: str | None) -> list[Property]:
    from cyclonedx.model import Property

    return [Property(name=f"onebin:{key.replace('_', '-')}", value=v) for key, v in values.items() if v]


def _sha256(hexdigest: str) -> HashType:
    from cyclonedx.model import HashAlgorithm, HashType

    return HashType(alg=HashAlgorithm.SHA_256, content=hexdigest)


def _normalize(name: str) -> str:
    """A distribution name as purl spells it for PyPI (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def _timestamp() -> datetime:
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    if epoch is None:
        return datetime.now(timezone.utc)
    if not epoch.isdigit():
        raise InspectError(f"SOURCE_DATE_EPOCH={epoch!r} is not a number of seconds; set it to one, or unset it")
    return datetime.fromtimestamp(int(epoch), timezone.utc)
