"""What the dependency parsers produce: one value per dependency, pinned or not, and where.

Each parser is pure (text in, values out). A requirement is one of three states, narrowed
with `match`: `Pinned` (one exact version, auditable), `Unpinned` (a range, so which version
gets installed is unknown) and `Unauditable` (a URL, VCS, path or editable requirement, or
a line we could not read, that no advisory database can be asked about).
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass
from typing import Any, NewType

from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

#: A PEP 503 normalised distribution name ("zope-interface", never "Zope.Interface").
PackageName = NewType("PackageName", str)


def normalise_name(name: str) -> PackageName:
    """PEP 503 normalisation, the one way names are compared."""
    return PackageName(canonicalize_name(name))


@dataclass(frozen=True, slots=True)
class Pinned:
    """Exactly one version. `file`/`line` is where the pin is written (for a requirement
    pinned by a constraint file: the constraint's line; `constrained_from` names the file
    that declared the requirement)."""

    name: PackageName
    version: str
    file: str
    line: int | None
    constrained_from: str | None = None


@dataclass(frozen=True, slots=True)
class Unpinned:
    """A version range: the installed version, and so its advisories, are unknown."""

    name: PackageName
    specifier: str
    reason: str
    file: str
    line: int | None
    version: None = None


@dataclass(frozen=True, slots=True)
class Unauditable:
    """A requirement no advisory database can be asked about (URL, VCS, path, editable)."""

    name: PackageName
    reason: str
    file: str
    line: int | None
    version: str | None = None
    specifier: str | None = None


Requirement = Pinned | Unpinned | Unauditable


@dataclass(frozen=True, slots=True)
class SourceIssue:
    """A problem inside a file that did parse (an include not followed, say)."""

    file: str
    line: int | None
    message: str


@dataclass(frozen=True, slots=True)
class ParsedSource:
    requirements: tuple[Requirement, ...]
    issues: tuple[SourceIssue, ...] = ()


class SourceError(Exception):
    """A dependency file that cannot be parsed at all (bad TOML or JSON, wrong shape)."""

    def __init__(self, file: str, message: str) -> None:
        super().__init__(f"{file}: {message}")
        self.file = file
        self.message = message


def parse_toml(text: str, file: str) -> dict[str, Any]:
    """A TOML document, or SourceError naming the file and the parser's complaint."""
    try:
        doc: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise SourceError(file, f"invalid TOML: {exc}") from None
    except RecursionError:
        raise SourceError(file, "invalid TOML: nested too deeply") from None
    except ValueError as exc:  # an integer of more than 4,300 digits
        raise SourceError(file, f"invalid TOML: {exc}") from None
    return doc


def table(doc: dict[str, Any], dotted: str, file: str) -> dict[str, Any]:
    """The table at `dotted` ("tool.poetry"), {} when absent, SourceError if not a table."""
    node: dict[str, Any] = doc
    for part in dotted.split("."):
        child = node.get(part, {})
        if not isinstance(child, dict):
            raise SourceError(file, f"{dotted} is not a table")
        node = child
    return node


def string_list(value: Any, where: str, file: str) -> list[str]:
    """`value` as a list of strings, or SourceError naming the key."""
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SourceError(file, f"{where} is not a list of strings")
    return list(value)


def exact_version(specifier: SpecifierSet) -> str | None:
    """The one version a specifier allows (`==1.2.3`, `===1.2.3`), else None.

    `==1.2.*` is a range, not a pin.
    """
    for spec in sorted(specifier, key=str):
        if spec.operator == "===" or (spec.operator == "==" and not spec.version.endswith("*")):
            return spec.version
    return None


def is_valid_version(text: str) -> bool:
    try:
        Version(text)
    except InvalidVersion:
        return False
    return True


def pinned_or_unauditable(
    name: str, version: str, file: str, line: int | None, *, constrained_from: str | None = None
) -> Pinned | Unauditable:
    """A pin, unless the version is not PEP 440 (advisory ranges cannot be compared to it)."""
    if not is_valid_version(version):
        return Unauditable(
            normalise_name(name),
            f"version {version!r} is not a PEP 440 version, so advisory ranges cannot be "
            "compared with it",
            file,
            line,
            version=version,
        )
    return Pinned(normalise_name(name), version, file, line, constrained_from)


def unpinned(name: str, specifier: str, file: str, line: int | None) -> Unpinned:
    reason = (
        "no version specifier: any version may be installed"
        if not specifier.strip() or specifier.strip() == "*"
        else f"{specifier} allows more than one version"
    )
    return Unpinned(normalise_name(name), specifier.strip(), reason, file, line)


# --- line finding by plain text scans (TOML and JSON parsers do not report lines) --------

_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(?:#.*)?$")


def header_name(line: str) -> str | None:
    """`[tool.poetry.group."dev".dependencies]` -> `tool.poetry.group.dev.dependencies`."""
    match = _HEADER.match(line)
    if match is None:
        return None
    return ".".join(part.strip().strip("\"'") for part in match.group(1).split("."))


def find_header(lines: list[str], name: str) -> int | None:
    """Index of the line opening table `name`, or None."""
    for index, line in enumerate(lines):
        if header_name(line) == name:
            return index
    return None


def find_key(lines: list[str], key: str, start: int) -> int | None:
    """Index of the first `key = ...` line after `start` and before the next table header."""
    pattern = re.compile(rf"^\s*([\"']?){re.escape(key)}\1\s*=")
    for index in range(start + 1, len(lines)):
        if header_name(lines[index]) is not None:
            return None
        if pattern.match(lines[index]):
            return index
    return None


def find_string(lines: list[str], value: str, start: int = 0) -> int | None:
    """Index of the first line from `start` holding `value` as a quoted string."""
    quoted = (f'"{value}"', f"'{value}'")
    for index in range(max(start, 0), len(lines)):
        if any(q in lines[index] for q in quoted):
            return index
    return None


def package_table_lines(text: str, array: str) -> list[tuple[str, int]]:
    """(name, 1-based line) of the `name = "..."` line of every `[[array]]` table, in order.

    Sub-tables (`[package.source]`, `[[packages.wheels]]`) are skipped, so a wheel's
    `name = "x.whl"` is never mistaken for a package name.
    """
    found: list[tuple[str, int]] = []
    in_package = False
    name_line = re.compile(r"^\s*name\s*=\s*([\"'])(.*?)\1")
    for number, line in enumerate(text.splitlines(), start=1):
        header = header_name(line)
        if header is not None:
            in_package = header == array and line.lstrip().startswith("[[")
            continue
        if in_package:
            match = name_line.match(line)
            if match:
                found.append((match.group(2), number))
                in_package = False
    return found


def lines_for_packages(text: str, array: str, names: list[str]) -> list[int | None]:
    """The `name =` line for each package table, matched in order; None where the scan and
    the parsed document disagree (then no line is better than a wrong one)."""
    scanned = package_table_lines(text, array)
    if len(scanned) != len(names):
        return [None] * len(names)
    return [
        line if found == name else None for (found, line), name in zip(scanned, names, strict=True)
    ]
