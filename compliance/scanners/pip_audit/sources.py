"""Dependency files to requirements: which parser reads which file, and the lock rule.

Every parser is pure: text in, `ParsedSource` out (requirements files read their `-r`/`-c`
includes through a callback that the caller confines to the repository). A file that cannot
be parsed raises `SourceError` naming it.

The lock rule: in a folder that holds a lock (uv.lock, poetry.lock, Pipfile.lock,
pylock*.toml), the lock is authoritative and that folder's pyproject.toml is not read, so
its ranges are not reported as unpinned.
"""

from __future__ import annotations

import enum
import fnmatch
import posixpath
from collections.abc import Iterable

from compliance.scanners.pip_audit.lockfiles import (
    parse_pipfile_lock,
    parse_poetry_lock,
    parse_pylock,
    parse_uv_lock,
)
from compliance.scanners.pip_audit.pyproject import parse_pyproject
from compliance.scanners.pip_audit.requirement import (
    PackageName,
    ParsedSource,
    Pinned,
    Requirement,
    SourceError,
    SourceIssue,
    Unauditable,
    Unpinned,
    normalise_name,
)
from compliance.scanners.pip_audit.requirements_txt import (
    Reader,
    parse_requirement_line,
    parse_requirements_txt,
    resolve_include,
)

__all__ = [
    "FileKind",
    "PackageName",
    "ParsedSource",
    "Pinned",
    "Reader",
    "Requirement",
    "SourceError",
    "SourceIssue",
    "Unauditable",
    "Unpinned",
    "dedupe",
    "file_kind",
    "locked_folders",
    "normalise_name",
    "parse_dependency_file",
    "parse_requirement_line",
    "parse_requirements_txt",
    "resolve_include",
]


class FileKind(enum.Enum):
    REQUIREMENTS = "requirements"
    PYPROJECT = "pyproject"
    UV_LOCK = "uv.lock"
    POETRY_LOCK = "poetry.lock"
    PIPFILE_LOCK = "Pipfile.lock"
    PYLOCK = "pylock"

    @property
    def is_lock(self) -> bool:
        return self not in (FileKind.REQUIREMENTS, FileKind.PYPROJECT)


def file_kind(path: str) -> FileKind | None:
    """The format of a dependency file, by its name; None for anything else."""
    name = posixpath.basename(path)
    match name:
        case "pyproject.toml":
            return FileKind.PYPROJECT
        case "uv.lock":
            return FileKind.UV_LOCK
        case "poetry.lock":
            return FileKind.POETRY_LOCK
        case "Pipfile.lock":
            return FileKind.PIPFILE_LOCK
        case _ if name == "pylock.toml" or fnmatch.fnmatchcase(name, "pylock.*.toml"):
            return FileKind.PYLOCK
        case _ if name.endswith(".txt") and (
            name.startswith("requirements")
            or posixpath.basename(posixpath.dirname(path)) == "requirements"
        ):
            return FileKind.REQUIREMENTS
        case _:
            return None


def parse_dependency_file(path: str, text: str, read: Reader) -> ParsedSource:
    """Parse one dependency file; SourceError if it cannot be parsed or is not one."""
    match file_kind(path):
        case FileKind.REQUIREMENTS:
            return parse_requirements_txt(text, path, read)
        case FileKind.PYPROJECT:
            return parse_pyproject(text, path)
        case FileKind.UV_LOCK:
            return parse_uv_lock(text, path)
        case FileKind.POETRY_LOCK:
            return parse_poetry_lock(text, path)
        case FileKind.PIPFILE_LOCK:
            return parse_pipfile_lock(text, path)
        case FileKind.PYLOCK:
            return parse_pylock(text, path)
        case None:
            raise SourceError(path, "not a dependency file format we know")


def locked_folders(paths: Iterable[str]) -> frozenset[str]:
    """Folders ("" for the root) holding a lock file among `paths`."""
    return frozenset(
        posixpath.dirname(p) for p in paths if (kind := file_kind(p)) is not None and kind.is_lock
    )


def superseded_by_lock(path: str, locked: frozenset[str]) -> bool:
    """True for a pyproject.toml whose folder has a lock: the lock speaks for it."""
    return file_kind(path) is FileKind.PYPROJECT and posixpath.dirname(path) in locked


def dedupe(requirements: Iterable[Requirement]) -> tuple[Requirement, ...]:
    """One requirement per (file, name, version), first wins; order kept.

    A requirement that a constraint file pinned elsewhere is not also reported as
    unpinned in the file that declared it.
    """
    requirements = list(requirements)
    constrained = {
        (r.constrained_from, r.name)
        for r in requirements
        if isinstance(r, Pinned) and r.constrained_from is not None
    }
    seen: set[tuple[str, PackageName, str | None]] = set()
    kept: list[Requirement] = []
    for requirement in requirements:
        key = (requirement.file, requirement.name, requirement.version)
        if key in seen:
            continue
        if (
            isinstance(requirement, Unpinned)
            and (requirement.file, requirement.name) in constrained
        ):
            continue
        seen.add(key)
        kept.append(requirement)
    return tuple(kept)
