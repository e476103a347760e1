"""pyproject.toml: PEP 621 and PEP 735 lists, uv's dev list, and Poetry's tables.

Only exact pins count as pinned. In Poetry that is a bare version (`"2.31.0"`) or
`==`/`=`; `^2.31`, `~2.31`, `2.*` and `>=2` are ranges.
"""

from __future__ import annotations

import re
from typing import Any

from compliance.scanners.pip_audit.requirement import (
    ParsedSource,
    Requirement,
    SourceError,
    Unauditable,
    find_header,
    find_key,
    find_string,
    is_valid_version,
    normalise_name,
    parse_toml,
    pinned_or_unauditable,
    string_list,
    table,
    unpinned,
)
from compliance.scanners.pip_audit.requirements_txt import parse_requirement_line

_POETRY_SOURCE_KEYS = ("git", "url", "path", "file")
_BARE_VERSION = re.compile(r"^[0-9][0-9A-Za-z.!+_-]*$")


def parse_pyproject(text: str, file: str) -> ParsedSource:
    """Every dependency a pyproject.toml declares, with the line each is written on."""
    doc = parse_toml(text, file)
    lines = text.splitlines()
    found: list[Requirement] = []
    project = table(doc, "project", file)
    project_at = find_header(lines, "project")
    found += _pep508(
        string_list(project.get("dependencies"), "project.dependencies", file),
        file,
        lines,
        _key_or(lines, "dependencies", project_at),
    )
    optional = table(doc, "project.optional-dependencies", file)
    optional_at = find_header(lines, "project.optional-dependencies")
    for group, items in sorted(optional.items()):
        where = f"project.optional-dependencies.{group}"
        found += _pep508(
            string_list(items, where, file), file, lines, _key_or(lines, group, optional_at)
        )
    groups = table(doc, "dependency-groups", file)
    groups_at = find_header(lines, "dependency-groups")
    for group, items in sorted(groups.items()):
        if not isinstance(items, list):
            raise SourceError(file, f"dependency-groups.{group} is not a list")
        # PEP 735 entries are strings or {include-group = "..."} tables (followed elsewhere).
        strings = [i for i in items if isinstance(i, str)]
        found += _pep508(strings, file, lines, _key_or(lines, group, groups_at))
    uv = table(doc, "tool.uv", file)
    found += _pep508(
        string_list(uv.get("dev-dependencies"), "tool.uv.dev-dependencies", file),
        file,
        lines,
        _key_or(lines, "dev-dependencies", find_header(lines, "tool.uv")),
    )
    for section, deps in _poetry_sections(doc, file):
        found += _poetry(section, deps, file, lines)
    return ParsedSource(tuple(found))


def _key_or(lines: list[str], key: str, header: int | None) -> int:
    """Where to start looking for a list's items: its key line, else its table, else 0."""
    if header is None:
        return 0
    at = find_key(lines, key, header)
    return header if at is None else at


def _pep508(items: list[str], file: str, lines: list[str], start: int) -> list[Requirement]:
    found: list[Requirement] = []
    for item in items:
        index = find_string(lines, item, start)
        if index is None:
            index = find_string(lines, item)
        found.append(parse_requirement_line(item.strip(), file, _line(index)))
    return found


def _line(index: int | None) -> int | None:
    return None if index is None else index + 1


def _poetry_sections(doc: dict[str, Any], file: str) -> list[tuple[str, dict[str, Any]]]:
    poetry = table(doc, "tool.poetry", file)
    if not poetry:
        return []
    sections = [
        ("tool.poetry.dependencies", table(doc, "tool.poetry.dependencies", file)),
        ("tool.poetry.dev-dependencies", table(doc, "tool.poetry.dev-dependencies", file)),
    ]
    for group, body in sorted(table(doc, "tool.poetry.group", file).items()):
        deps = body.get("dependencies", {}) if isinstance(body, dict) else None
        if not isinstance(deps, dict):
            raise SourceError(file, f"tool.poetry.group.{group}.dependencies is not a table")
        sections.append((f"tool.poetry.group.{group}.dependencies", deps))
    return sections


def _poetry(section: str, deps: dict[str, Any], file: str, lines: list[str]) -> list[Requirement]:
    found: list[Requirement] = []
    header = find_header(lines, section)
    for key, spec in deps.items():
        if key.lower() == "python":
            continue  # the interpreter constraint, not a package
        index = None if header is None else find_key(lines, key, header)
        if index is None:
            index = find_header(lines, f"{section}.{key}")
        specs = spec if isinstance(spec, list) else [spec]
        for one in specs:
            found.append(_poetry_one(key, one, file, _line(index)))
    return found


def _poetry_one(name: str, spec: Any, file: str, line: int | None) -> Requirement:
    match spec:
        case str():
            return _poetry_constraint(name, spec, file, line)
        case dict() if any(k in spec for k in _POETRY_SOURCE_KEYS):
            kind = next(k for k in _POETRY_SOURCE_KEYS if k in spec)
            where = spec[kind]
            reason = {
                "git": f"VCS dependency (git {where}): a commit, not a released version",
                "url": f"direct URL dependency ({where}): not installed from the package index",
            }.get(kind, f"local path dependency ({where}): built from source, not a release")
            return Unauditable(normalise_name(name), reason, file, line)
        case {"version": str() as version}:
            return _poetry_constraint(name, version, file, line)
        case dict():
            return unpinned(name, "", file, line)
        case _:
            raise SourceError(file, f"Poetry dependency {name!r} has an unknown form: {spec!r}")


def _poetry_constraint(name: str, constraint: str, file: str, line: int | None) -> Requirement:
    text = constraint.strip()
    candidate = text.removeprefix("==").removeprefix("=").strip()
    if _BARE_VERSION.match(candidate) and is_valid_version(candidate):
        return pinned_or_unauditable(name, candidate, file, line)
    return unpinned(name, text, file, line)
