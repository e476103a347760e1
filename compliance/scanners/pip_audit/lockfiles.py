"""Lock files: uv.lock, poetry.lock, Pipfile.lock and pylock.toml (PEP 751).

A lock lists every resolved package with one version, so its entries are pins unless they
come from somewhere no advisory database covers (VCS, URL, local path). The project itself
and its workspace members (uv: `editable = "."`, `virtual`; pylock: `directory = "."`) are
not dependencies and are left out.
"""

from __future__ import annotations

import json
import re
from typing import Any

from packaging.specifiers import InvalidSpecifier, SpecifierSet

from compliance.scanners.pip_audit.requirement import (
    ParsedSource,
    Requirement,
    SourceError,
    Unauditable,
    exact_version,
    lines_for_packages,
    normalise_name,
    parse_toml,
    pinned_or_unauditable,
    unpinned,
)

_VCS = "a commit, not a released version"
_LOCAL = "built from source, not a released version"
_URL = "not installed from the package index"


def _packages(doc: dict[str, Any], key: str, file: str) -> list[dict[str, Any]]:
    packages = doc.get(key, [])
    if not isinstance(packages, list) or not all(
        isinstance(p, dict) and isinstance(p.get("name"), str) for p in packages
    ):
        raise SourceError(file, f"`{key}` is not a list of tables with a name")
    return packages


def _version(package: dict[str, Any]) -> str | None:
    version = package.get("version")
    return version if isinstance(version, str) and version else None


def _pin(name: str, version: str | None, file: str, line: int | None) -> Requirement:
    if version is None:
        return Unauditable(normalise_name(name), "the lock gives no version", file, line)
    return pinned_or_unauditable(name, version, file, line)


def _unauditable(
    name: str, what: str, where: object, why: str, file: str, line: int | None
) -> Unauditable:
    return Unauditable(normalise_name(name), f"{what} ({where}): {why}", file, line)


def parse_uv_lock(text: str, file: str) -> ParsedSource:
    doc = parse_toml(text, file)
    packages = _packages(doc, "package", file)
    manifest = doc.get("manifest", {})
    members = manifest.get("members", []) if isinstance(manifest, dict) else []
    member_names = {normalise_name(m) for m in members if isinstance(m, str)}
    lines = lines_for_packages(text, "package", [p["name"] for p in packages])
    found: list[Requirement] = []
    for package, line in zip(packages, lines, strict=True):
        name, version = package["name"], _version(package)
        match package.get("source"):
            case None | {"registry": _}:
                found.append(_pin(name, version, file, line))
            case {"virtual": _}:
                continue  # the project or a workspace member without a build
            case {"editable": path} if path == "." or normalise_name(name) in member_names:
                continue  # the project itself, or a workspace member
            case {"git": url}:
                found.append(_unauditable(name, "VCS source", url, _VCS, file, line))
            case {"url": url}:
                found.append(_unauditable(name, "direct URL source", url, _URL, file, line))
            case {"editable": path} | {"path": path} | {"directory": path}:
                found.append(_unauditable(name, "local path source", path, _LOCAL, file, line))
            case other:
                found.append(_unauditable(name, "unknown source", other, _URL, file, line))
    return ParsedSource(tuple(found))


def parse_poetry_lock(text: str, file: str) -> ParsedSource:
    doc = parse_toml(text, file)
    packages = _packages(doc, "package", file)
    lines = lines_for_packages(text, "package", [p["name"] for p in packages])
    found: list[Requirement] = []
    for package, line in zip(packages, lines, strict=True):
        name, version = package["name"], _version(package)
        source = package.get("source")
        kind = source.get("type") if isinstance(source, dict) else None
        where = source.get("url") if isinstance(source, dict) else None
        match kind:
            case None | "legacy" | "pypi":  # "legacy" is a private package index
                found.append(_pin(name, version, file, line))
            case "git":
                found.append(_unauditable(name, "VCS source", where, _VCS, file, line))
            case "url":
                found.append(_unauditable(name, "direct URL source", where, _URL, file, line))
            case "file" | "directory":
                found.append(_unauditable(name, "local path source", where, _LOCAL, file, line))
            case _:
                found.append(_unauditable(name, f"source type {kind}", where, _URL, file, line))
    return ParsedSource(tuple(found))


def parse_pipfile_lock(text: str, file: str) -> ParsedSource:
    try:
        doc = json.loads(text)
    except RecursionError:
        raise SourceError(file, "invalid JSON: nested too deeply") from None
    except ValueError as exc:  # not JSON, or an integer of more than 4,300 digits
        raise SourceError(file, f"invalid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise SourceError(file, "not a JSON object")
    lines = text.splitlines()
    found: list[Requirement] = []
    for section in ("default", "develop"):
        entries = doc.get(section, {})
        if not isinstance(entries, dict):
            raise SourceError(file, f"`{section}` is not an object")
        start = _json_key(lines, section, 0)
        for name, entry in entries.items():
            index = _json_key(lines, name, start or 0)
            line = None if index is None else index + 1
            if not isinstance(entry, dict):
                raise SourceError(file, f"{section}.{name} is not an object")
            found.append(_pipfile_entry(name, entry, file, line))
    return ParsedSource(tuple(found))


def _json_key(lines: list[str], key: str, start: int) -> int | None:
    pattern = re.compile(rf'^\s*"{re.escape(key)}"\s*:')
    return next((i for i in range(start, len(lines)) if pattern.match(lines[i])), None)


def _pipfile_entry(name: str, entry: dict[str, Any], file: str, line: int | None) -> Requirement:
    vcs = next((k for k in ("git", "hg", "svn", "bzr") if k in entry), None)
    if vcs is not None:
        return _unauditable(name, "VCS source", entry[vcs], _VCS, file, line)
    if "path" in entry or entry.get("editable"):
        return _unauditable(name, "local path source", entry.get("path"), _LOCAL, file, line)
    if "file" in entry:
        return _unauditable(name, "direct URL source", entry["file"], _URL, file, line)
    spec = entry.get("version")
    if not isinstance(spec, str) or spec in ("", "*"):
        return unpinned(name, "", file, line)
    try:
        version = exact_version(SpecifierSet(spec))
    except InvalidSpecifier:
        return Unauditable(normalise_name(name), f"invalid version {spec!r}", file, line)
    if version is None:
        return unpinned(name, spec, file, line)
    return pinned_or_unauditable(name, version, file, line)


def parse_pylock(text: str, file: str) -> ParsedSource:
    doc = parse_toml(text, file)
    lock_version = doc.get("lock-version")
    if lock_version is not None and not str(lock_version).startswith("1"):
        raise SourceError(file, f"lock-version {lock_version} is not supported (expected 1.x)")
    packages = _packages(doc, "packages", file)
    lines = lines_for_packages(text, "packages", [p["name"] for p in packages])
    found: list[Requirement] = []
    for package, line in zip(packages, lines, strict=True):
        name, version = package["name"], _version(package)
        match package:
            case {"vcs": dict() as vcs}:
                found.append(_unauditable(name, "VCS source", vcs.get("url"), _VCS, file, line))
            case {"directory": {"path": "." | ""}}:
                continue  # the project itself
            case {"directory": dict() as directory}:
                where = directory.get("path")
                found.append(_unauditable(name, "local path source", where, _LOCAL, file, line))
            case {"archive": dict() as archive}:
                where = archive.get("url") or archive.get("path")
                found.append(_unauditable(name, "archive source", where, _URL, file, line))
            case _:
                found.append(_pin(name, version, file, line))
    return ParsedSource(tuple(found))
