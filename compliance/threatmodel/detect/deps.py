"""Facts from a service's declared dependencies: requirements files and pyproject.toml.

Only direct dependencies count: a library pulled in by another says nothing about what the
service does. pip-compile's `# via` annotations mark the transitive lines of a compiled
requirements file; a lock file (uv.lock, poetry.lock, ...) is read only when the folder has
no manifest, because it lists direct and transitive packages alike. Development groups
(PEP 735, Poetry's dev groups, optional extras) are not the service's runtime.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from pathlib import PurePosixPath
from typing import Any

from compliance.threatmodel.detect.context import ServiceScan
from compliance.threatmodel.detect.tables import NAMED_KINDS, PACKAGES, normalise_package
from compliance.threatmodel.facts import FactLocation

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

_NAME = re.compile(r"^\s*([A-Za-z0-9][A-Za-z0-9._-]*)")
_LOCK_FILES = ("uv.lock", "poetry.lock", "pylock.toml")


def scan_dependencies(scan: ServiceScan, files: dict[str, str]) -> list[str]:
    """Record facts from `files` (path -> text); returns paths it could not read."""
    unreadable = []
    folders_with_manifest = {
        str(PurePosixPath(p).parent)
        for p in files
        if PurePosixPath(p).name == "pyproject.toml" or _is_requirements(p)
    }
    for path, text in sorted(files.items()):
        name = PurePosixPath(path).name
        try:
            if _is_requirements(path):
                found = list(requirements_names(text))
            elif name == "pyproject.toml":
                found = list(pyproject_names(text))
            elif name in _LOCK_FILES and str(PurePosixPath(path).parent) not in (
                folders_with_manifest
            ):
                found = list(lock_names(text))
            else:
                continue
        except (tomllib.TOMLDecodeError, ValueError):
            unreadable.append(path)
            continue
        for package, line in found:
            spec = PACKAGES.get(normalise_package(package))
            if spec is not None:
                names = (normalise_package(package),) if spec.kind in NAMED_KINDS else ()
                scan.spec(spec, FactLocation(path, line), weak=True, names=names)
    return unreadable


def _is_requirements(path: str) -> bool:
    pure = PurePosixPath(path)
    return pure.suffix == ".txt" and (
        pure.name.startswith("requirements") or pure.parent.name == "requirements"
    )


def requirements_names(text: str) -> Iterator[tuple[str, int]]:
    """Direct requirements of a requirements file, with their line numbers."""
    pending: tuple[str, int] | None = None
    via: list[str] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        indented = raw[:1].isspace()
        if line.startswith("#"):
            comment = line.lstrip("#").strip()
            if indented and (via or comment.startswith("via")):
                via.append(comment.removeprefix("via").strip() if not via else comment)
            continue
        if not line or line.startswith("-") or indented:
            continue
        if pending is not None and _direct(via):
            yield pending
        requirement, _, inline = line.partition("#")
        via = (
            [inline.strip().removeprefix("via").strip()] if inline.strip().startswith("via") else []
        )
        match = _NAME.match(requirement)
        pending = (match.group(1), number) if match and "://" not in requirement else None
    if pending is not None and _direct(via):
        yield pending


def _direct(via: list[str]) -> bool:
    """No `# via` (hand-written), or one naming a requirements input (`-r x.in`)."""
    via = [v for v in via if v]
    return not via or any(v.startswith(("-r", "-c")) or v.endswith((".in", ".txt")) for v in via)


def pyproject_names(text: str) -> Iterator[tuple[str, int]]:
    """PEP 621 `dependencies` and Poetry's main dependencies, with their line numbers."""
    data = tomllib.loads(text)
    lines = text.splitlines()
    project = data.get("project")
    names: list[str] = []
    if isinstance(project, dict):
        names += [
            m.group(1)
            for d in project.get("dependencies") or []
            if isinstance(d, str) and (m := _NAME.match(d))
        ]
    poetry = _get(data, "tool", "poetry", "dependencies")
    if isinstance(poetry, dict):
        names += [n for n in poetry if n.lower() != "python"]
    for name in names:
        yield name, _line_of(lines, name)


def lock_names(text: str) -> Iterator[tuple[str, int]]:
    """Packages of a TOML lock file (`[[package]] name = ...`), with their line numbers."""
    data = tomllib.loads(text)
    lines = text.splitlines()
    packages = data.get("package") or data.get("packages") or []
    for package in packages if isinstance(packages, list) else []:
        if isinstance(package, dict) and isinstance(package.get("name"), str):
            yield package["name"], _line_of(lines, package["name"])


def _get(data: Any, *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _line_of(lines: list[str], name: str) -> int:
    """The first line naming the package (as a string or a key), else 1."""
    pattern = re.compile(rf"""(^|["'\s]){re.escape(name)}(\s*[=\[<>!~;"',]|\s*$)""", re.I)
    for number, line in enumerate(lines, start=1):
        if pattern.search(line):
            return number
    return 1
