"""pip requirements files: includes, constraints, options, hashes, markers, continuations.

Line handling (continuations, comments, pip's own option grammar) is pip's, through
`pip_requirements_parser`; we only interpret the results, so nothing here touches disk:
`-r`/`-c` targets are read through the `read` callback, after checking they stay inside the
repository.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import pip_requirements_parser as _rp
from packaging.requirements import InvalidRequirement
from packaging.requirements import Requirement as Pep508

from compliance.scanners.pip_audit.requirement import (
    PackageName,
    ParsedSource,
    Pinned,
    Requirement,
    SourceIssue,
    Unauditable,
    Unpinned,
    exact_version,
    normalise_name,
    pinned_or_unauditable,
    unpinned,
)

#: Reads a file by its POSIX path relative to the repository root; None if it cannot.
Reader = Callable[[str], str | None]

_VCS_PREFIXES = ("git+", "hg+", "svn+", "bzr+")
_ARCHIVE = re.compile(r"^(?P<name>[A-Za-z0-9][A-Za-z0-9._]*?)-\d[^/]*\.(whl|tar\.gz|zip|tar\.bz2)$")
_EGG = re.compile(r"[#&]egg=([A-Za-z0-9][A-Za-z0-9._-]*)")


@dataclass(frozen=True, slots=True)
class _Line:
    number: int
    requirement: str
    includes: tuple[str, ...] = ()
    constraints: tuple[str, ...] = ()
    editables: tuple[str, ...] = ()
    error: str | None = None


def _logical_lines(text: str) -> list[_Line]:
    """pip's view of a file: joined continuations, comments gone, options parsed."""
    parse_line = _rp.get_line_parser()
    lines: list[_Line] = []
    for item in _rp.preprocess(text):
        if not isinstance(item, _rp.TextLine):
            continue
        number, raw = int(item.line_number), str(item.line)
        try:
            args, opts, _ = parse_line(raw)
        except Exception as exc:  # pip's optparse raises its own error types
            lines.append(_Line(number, raw.strip(), error=f"cannot parse options: {exc}"))
            continue
        lines.append(
            _Line(
                number,
                str(args).strip(),
                includes=_strings(opts, "requirements"),
                constraints=_strings(opts, "constraints"),
                editables=_strings(opts, "editables"),
            )
        )
    return lines


def _strings(opts: Any, attr: str) -> tuple[str, ...]:
    values = getattr(opts, attr, None) or ()
    return tuple(str(v) for v in values)


def resolve_include(including: str, target: str) -> tuple[str | None, str]:
    """(path relative to the root, "") for a safe include, or (None, why it is not followed)."""
    if "://" in target:
        return None, f"remote include {target} not followed"
    if target.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", target):
        return None, f"absolute include {target} not followed"
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(including), target))
    if joined in (".", "..") or joined.startswith("../"):
        return None, f"include {target} is outside the repository: not followed"
    return joined, ""


def parse_requirements_txt(text: str, file: str, read: Reader) -> ParsedSource:
    """Every requirement of `file` and the files it includes, with `-c` pins applied."""
    walker = _Walker(read)
    walker.walk(file, text, as_constraint=False)
    requirements = [_apply_constraint(r, walker.constraints) for r in walker.requirements]
    return ParsedSource(tuple(requirements), tuple(walker.issues))


class _Walker:
    def __init__(self, read: Reader) -> None:
        self.read = read
        self.requirements: list[Requirement] = []
        self.constraints: dict[str, Pinned] = {}
        self.issues: list[SourceIssue] = []
        self.seen: set[tuple[str, bool]] = set()

    def walk(self, file: str, text: str, *, as_constraint: bool) -> None:
        self.seen.add((file, as_constraint))
        for line in _logical_lines(text):
            if line.error is not None:
                self.issues.append(SourceIssue(file, line.number, line.error))
                continue
            # Like pip: `-r` inside any file is a requirements file, `-c` a constraints file.
            for target in line.includes:
                self._include(file, line.number, target, as_constraint=False)
            for target in line.constraints:
                self._include(file, line.number, target, as_constraint=True)
            for editable in line.editables:
                if not as_constraint:
                    self.requirements.append(_editable(editable, file, line.number))
            if not line.requirement:
                continue
            requirement = parse_requirement_line(line.requirement, file, line.number)
            if not as_constraint:
                self.requirements.append(requirement)
            elif isinstance(requirement, Pinned):
                self.constraints.setdefault(requirement.name, requirement)

    def _include(self, file: str, number: int, target: str, *, as_constraint: bool) -> None:
        path, why = resolve_include(file, target)
        if path is None:
            self.issues.append(SourceIssue(file, number, why))
            return
        if (path, as_constraint) in self.seen:
            return
        content = self.read(path)
        if content is None:
            self.issues.append(SourceIssue(file, number, f"cannot read include {path}"))
            return
        self.walk(path, content, as_constraint=as_constraint)


def _apply_constraint(requirement: Requirement, constraints: dict[str, Pinned]) -> Requirement:
    match requirement:
        case Unpinned(name=name) if name in constraints:
            return replace(constraints[name], constrained_from=requirement.file)
        case _:
            return requirement


def parse_requirement_line(text: str, file: str, line: int | None) -> Requirement:
    """One requirement as pip would read it: PEP 508, or a bare URL or path."""
    try:
        parsed = Pep508(text)
    except InvalidRequirement as exc:
        return _direct_reference(text, file, line, error=str(exc))
    if parsed.url:
        return Unauditable(
            normalise_name(parsed.name), _url_reason(parsed.url), file, line, specifier=text
        )
    version = exact_version(parsed.specifier)
    if version is not None:
        return pinned_or_unauditable(parsed.name, version, file, line)
    return unpinned(parsed.name, str(parsed.specifier), file, line)


def _direct_reference(text: str, file: str, line: int | None, *, error: str) -> Unauditable:
    looks_like_url = "://" in text or text.startswith(_VCS_PREFIXES)
    looks_like_path = text.startswith((".", "/", "~")) or "/" in text or _ARCHIVE.match(text)
    if looks_like_url or looks_like_path:
        return Unauditable(_guess_name(text), _url_reason(text), file, line, specifier=text)
    return Unauditable(
        _guess_name(text),
        f"cannot parse requirement {text!r}: {error}",
        file,
        line,
        specifier=text,
    )


def _editable(target: str, file: str, line: int) -> Unauditable:
    return Unauditable(
        _guess_name(target),
        f"editable install (-e {target}): built from source, not a released version",
        file,
        line,
        specifier=f"-e {target}",
    )


def _url_reason(url: str) -> str:
    if url.startswith(_VCS_PREFIXES):
        return f"VCS requirement ({url}): a commit, not a released version"
    if url.startswith("file:") or "://" not in url:
        return f"local path requirement ({url}): built from source, not a released version"
    return f"direct URL requirement ({url}): not installed from the package index"


def _guess_name(text: str) -> PackageName:
    """The distribution name behind a URL or path, as well as can be told."""
    egg = _EGG.search(text)
    if egg:
        return normalise_name(egg.group(1))
    base = text.split("#", 1)[0].split("?", 1)[0].rstrip("/")
    base = base.rsplit("/", 1)[-1].removesuffix(".git")
    archive = _ARCHIVE.match(base)
    if archive:
        return normalise_name(archive.group("name"))
    word = re.match(r"[A-Za-z0-9][A-Za-z0-9._-]*", base)
    return normalise_name(word.group(0)) if word else normalise_name(text.strip() or "unknown")
