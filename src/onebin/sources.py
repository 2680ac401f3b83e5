"""What the user asked for, installed by pip into a staging directory for the target."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

from packaging.requirements import InvalidRequirement, Requirement

from .errors import SourceError
from .installs import InstallCache
from .target import Target


@dataclass(frozen=True)
class PipOptions:
    """pip's options that onebin passes through, as the user gave them."""

    index_url: str | None = None
    extra_index_url: tuple[str, ...] = ()
    find_links: tuple[str, ...] = ()
    no_index: bool = False
    constraint: tuple[str, ...] = ()
    require_hashes: bool = False
    pre: bool = False

    def args(self) -> list[str]:
        """The options as pip's command-line arguments."""
        args = ["--index-url", self.index_url] if self.index_url else []
        for flag, values in (
            ("--extra-index-url", self.extra_index_url),
            ("--find-links", self.find_links),
            ("--constraint", self.constraint),
        ):
            for value in values:
                args += [flag, value]
        for flag, on in (("--no-index", self.no_index), ("--require-hashes", self.require_hashes), ("--pre", self.pre)):
            if on:
                args.append(flag)
        return args


@dataclass
class Sources:
    """The build's inputs: pip arguments, and the script (if any) that is the entry point."""

    script: Path | None = None
    pip_args: list[str] = field(default_factory=list)
    lock: Path | None = None  # a PEP 751 pylock.toml: installs exactly what it lists

    @classmethod
    def parse(cls, sources: Sequence[str], requirement_files: Sequence[str]) -> Sources:
        """Sorts SOURCE arguments into a script and pip arguments; checks each one."""
        result = cls()
        problems = []
        for source in sources:
            path = Path(source)
            if source.endswith(".py"):
                if not path.is_file():
                    problems.append(f"{source}: no such script; pass the path of an existing .py file")
                elif result.script is not None:
                    problems.append(f"{source}: only one script can be the entry point (already {result.script})")
                else:
                    result.script = path.resolve()
            elif _looks_like_path(source):
                if not path.exists():
                    problems.append(
                        f"{source}: no such file or directory; pass a project directory, a wheel or a requirement"
                    )
                else:
                    result.pip_args.append(str(path.resolve()))
            else:
                try:
                    Requirement(source)
                except InvalidRequirement as exc:
                    problems.append(
                        f"{source}: not a valid requirement ({exc}); write it as pip would take it, e.g. 'flake8>=7'"
                    )
                else:
                    result.pip_args.append(source)
        for name in requirement_files:
            if not Path(name).is_file():
                problems.append(f"-r {name}: no such requirements file")
            elif _is_lock_file(Path(name)):
                result.lock = Path(name).resolve()
            else:
                result.pip_args += ["-r", str(Path(name).resolve())]
        if problems:
            raise SourceError("\n".join(problems))
        return result


def _is_lock_file(path: Path) -> bool:
    """A PEP 751 lock file's name: pylock.toml, or pylock.NAME.toml."""
    name = path.name
    middle = name.removeprefix("pylock.").removesuffix(".toml")
    return name == "pylock.toml" or (len(middle) + 12 == len(name) and middle != "" and "." not in middle)


def _looks_like_path(source: str) -> bool:
    return os.sep in source or source.startswith(".") or source.endswith((".whl", ".tar.gz", ".zip"))


@dataclass(frozen=True)
class Installed:
    """The staging site-packages, the distributions the user named directly, and what pip
    installed: (name, version, where from, sha256 of the archive or "")."""

    site_packages: Path
    requested: tuple[str, ...]
    inputs: tuple[tuple[str, str, str, str], ...] = ()


def install(
    sources: Sources,
    target: Target,
    staging: Path,
    log: Callable[[str], None],
    pip: PipOptions | None = None,
    cache: InstallCache | None = None,
) -> Installed:
    """Installs ``sources`` with pip, for ``target``, into ``staging``; or, for pinned inputs
    installed before, takes pip's result from ``cache``."""
    pip = pip or PipOptions()
    key = cache.key(sources.pip_args, sources.lock, pip.args(), target.identity) if cache else None
    found = cache.get(key) if cache and key else None
    if found is not None:
        log("pip: the same pinned inputs were installed before; using that result")
        return _installed(*found)
    installed = _run_pip(sources, target, staging, log, pip)
    if cache and key and (staging / "pip-report.json").exists():
        cache.put(key, installed.site_packages, staging / "pip-report.json")
        kept = cache.get(key)
        if kept is not None:  # built from there, as the next build will be: its record matches
            return _installed(*kept)
    return installed


def _installed(site: Path, report: dict[str, Any]) -> Installed:
    items = report["install"]
    requested = tuple(item["metadata"]["name"] for item in items if item.get("requested"))
    return Installed(site, requested, tuple(sorted(_input(item) for item in items)))


def _run_pip(sources: Sources, target: Target, staging: Path, log: Callable[[str], None], pip: PipOptions) -> Installed:
    site = staging / "site-packages"
    requirements = list(sources.pip_args)
    if sources.lock is not None:
        pinned = staging / "pylock-requirements.txt"
        pinned.write_text("".join(line + "\n" for line in lock_requirements(sources.lock)))
        requirements += ["--no-deps", "-r", str(pinned)]  # the lock lists every package already
    if not requirements:
        site.mkdir(parents=True)
        return Installed(site, ())
    report = staging / "pip-report.json"
    command = [sys.executable, "-m", "pip"]
    if Path(target.executable).resolve() != Path(sys.executable).resolve():
        command += ["--python", target.executable]
    command += [
        "install",
        "--target",
        str(site),
        "--report",
        str(report),
        "--no-warn-script-location",
        "--no-compile",  # the build compiles every module for the target itself; pip's .pyc files go unused
        "--disable-pip-version-check",
        "--no-input",
        "--progress-bar",
        "off",
        "--quiet",
        *pip.args(),
        *requirements,
    ]
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTHON") and k != "PIP_TARGET"}
    proc = subprocess.run(command, capture_output=True, text=True, env=env)
    if proc.returncode != 0:
        raise SourceError(_pip_failure(proc.stderr, sources.pip_args or [f"-r {sources.lock}"]))
    for line in proc.stderr.splitlines():
        if line.strip():
            log(f"pip: {line.strip()}")
    _forget_local_paths(site)
    return _installed(site, json.loads(report.read_text()))


def _input(item: dict[str, Any]) -> tuple[str, str, str, str]:
    """(name, version, url, sha256) of one distribution in pip's installation report; no local
    path, so that builds in other directories are identical."""
    info = item.get("download_info", {})
    hashes = info.get("archive_info", {}).get("hashes", {})
    url = info.get("url", "")
    url = "" if url.startswith("file:") else url
    return item["metadata"]["name"], item["metadata"]["version"], url, hashes.get("sha256", "")


def _forget_local_paths(site: Path) -> None:
    """Drops pip's direct_url.json (PEP 610) where it records a path of this machine.

    It would make the executable differ with the directory it was built in, and tell whoever
    runs it where the build machine kept its projects.
    """
    for direct_url in sorted(site.glob("*.dist-info/direct_url.json")):
        if not json.loads(direct_url.read_text()).get("url", "").startswith("file:"):
            continue
        direct_url.unlink()
        record = direct_url.with_name("RECORD")
        if record.exists():
            kept = [
                line
                for line in record.read_text().splitlines(keepends=True)
                if not line.startswith(f"{direct_url.parent.name}/direct_url.json,")
            ]
            record.write_text("".join(kept))


def _pip_failure(stderr: str, args: Sequence[str]) -> str:
    lines = [line.strip() for line in stderr.strip().splitlines() if line.strip()]
    errors = [line.removeprefix("ERROR: ") for line in lines if line.startswith("ERROR:")]
    reason = errors[-1] if errors else (lines[-1] if lines else "pip gave no reason")
    return (
        f"pip could not install {' '.join(args)}: {reason} "
        "(check the names and versions, and that the package index is reachable)"
    )


def lock_requirements(path: Path) -> list[str]:
    """A PEP 751 lock file as pip requirement lines: exact versions (or URLs), markers, hashes.

    pip then picks each package's artifact for the target interpreter and checks its hash;
    nothing is resolved, since a lock lists every package.
    """
    # Here, not at the top: packaging.pylock takes longer to import than a rebuild takes to check.
    from packaging.pylock import PackageArchive, PackageSdist, PackageWheel, Pylock, PylockValidationError

    try:
        lock = Pylock.from_dict(tomllib.loads(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, PylockValidationError) as exc:
        raise SourceError(f"-r {path}: not a valid pylock.toml lock file ({exc}); regenerate it") from None
    lines = []
    for package in lock.packages:
        if package.directory is not None:
            line = f"{package.name} @ {(path.parent / package.directory.path).resolve().as_uri()}"
        elif package.archive is not None:
            where = package.archive.url or (path.parent / str(package.archive.path)).resolve().as_uri()
            line = f"{package.name} @ {where}"
        elif package.vcs is not None:
            line = f"{package.name} @ {package.vcs.type}+{package.vcs.url}@{package.vcs.commit_id}"
        else:
            line = f"{package.name}=={package.version}"
        if package.marker is not None:
            line += f" ; {package.marker}"
        artifacts: list[PackageWheel | PackageSdist | PackageArchive] = [*(package.wheels or ())]
        artifacts += [a for a in (package.sdist, package.archive) if a is not None]
        hashes = sorted({a.hashes["sha256"] for a in artifacts if "sha256" in a.hashes})
        lines.append(line + "".join(f" --hash=sha256:{h}" for h in hashes))
    return lines
