"""What a cached result depends on, hashed: our own code, the tool, its rules, the files.

Every key starts with `code_digest()`, a digest of this package's source, so upgrading or
editing `compliance` never reuses a result parsed by other code. A tool installed beside us
is named by its package version; one elsewhere by its executable's path, size and mtime
(no process is started just to ask a version when nothing changed).
"""

from __future__ import annotations

import functools
import hashlib
import os
import threading
from collections.abc import Iterable
from pathlib import Path

import compliance
from compliance.scanners.cache import cache_key, file_digest
from compliance.scanners.process import installed_alongside, package_version

#: Bump when what a cached entry means changes without a code change (never so far).
KEY_FORMAT = "1"


@functools.cache
def code_digest() -> str:
    """sha256 over this package's Python sources and data files (computed once)."""
    package = Path(compliance.__file__).parent
    digest = hashlib.sha256(KEY_FORMAT.encode())
    for path in sorted(package.rglob("*")):
        if path.is_file() and path.suffix in (".py", ".yaml", ".yml", ".json", ".j2"):
            digest.update(path.relative_to(package).as_posix().encode() + b"\0")
            digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()


def tool_identity(executable: str, distribution: str) -> tuple[str, str | None]:
    """(identity for keys, version when known without running the tool)."""
    if installed_alongside(executable):
        version = package_version(distribution)
        if version is not None:
            return f"{distribution}=={version}", version
    try:
        stat = Path(executable).stat()
    except OSError:
        return f"{executable}:missing", None
    return f"{os.path.realpath(executable)}:{stat.st_size}:{stat.st_mtime_ns}", None


def folder_digest(folder: Path) -> str:
    """sha256 over a folder's files (names and contents): a rule pack, a table."""
    parts: list[str] = []
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            parts += [path.relative_to(folder).as_posix(), file_digest(path) or "unreadable"]
    elif folder.is_file():
        parts += [folder.name, file_digest(folder) or "unreadable"]
    return cache_key(*parts)


class FileDigests:
    """sha256 of repository files, each read once per scan (scanners share one)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._memo: dict[str, str] = {}
        self._lock = threading.Lock()

    def __call__(self, rel: str) -> str:
        with self._lock:
            known = self._memo.get(rel)
        if known is not None:
            return known
        digest = file_digest(self.root / rel) or "unreadable"
        with self._lock:
            self._memo[rel] = digest
        return digest

    def key(self, files: Iterable[str]) -> str:
        """One key over the names and contents of `files` (order-independent)."""
        return cache_key(*(f"{f}\0{self(f)}" for f in sorted(set(files))))
