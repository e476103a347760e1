"""Digests of the files that decided a scan: what an auditor needs to know the scan ran with
exactly these policies, rules and advisories.

Hashing is cheap next to a scan (a few hundred small YAML files, and one pass over the
advisory database), and it happens once, in the pipeline.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable
from pathlib import Path

from compliance.model import InputFile

#: `modified: 2024-03-01T...` (YAML) or `"modified": "2024-03-01T..."` (JSON), as OSV writes it.
_MODIFIED = re.compile(rb"""(?<![\w-])"?modified"?\s*:\s*["']?(\d{4}-\d{2}-\d{2})""")


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def file_inputs(entries: Iterable[tuple[str, Path, str]]) -> list[InputFile]:
    """(kind, path, display) for each file; unreadable files are listed as such, not hidden."""
    out = []
    for kind, path, display in entries:
        try:
            out.append(InputFile(kind, display, sha256_file(path)))
        except OSError as exc:
            out.append(InputFile(kind, display, "", f"unreadable: {exc.strerror}"))
    return out


def folder_files(folder: Path, patterns: tuple[str, ...] = ("*.yaml", "*.yml")) -> list[Path]:
    return sorted({p for pattern in patterns for p in folder.rglob(pattern) if p.is_file()})


def advisory_db_input(folder: Path, display: str) -> InputFile:
    """The advisory database's identity (a digest over every advisory file) and date (the
    newest `modified` of its advisories)."""
    digest = hashlib.sha256()
    count = 0
    newest = b""
    for path in folder_files(folder, ("*.json", "*.yaml", "*.yml")):
        data = path.read_bytes()
        relative = path.relative_to(folder).as_posix()
        digest.update(relative.encode() + b"\0" + hashlib.sha256(data).digest())
        count += 1
        for match in _MODIFIED.finditer(data):
            newest = max(newest, match.group(1))
    detail = f"{count} advisory files" + (f", newest modified {newest.decode()}" if newest else "")
    return InputFile("advisory-db", display, digest.hexdigest(), detail)
