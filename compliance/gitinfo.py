"""The commit a scan is of, read from the repository's .git without running git.

Only files are read (HEAD, refs, packed-refs), so this works where git is not installed
and cannot be steered by the scanned repository's git config or hooks. Anything unusual (no
.git, a detached worktree we cannot follow, a ref we cannot find) gives None: the result
then simply has no commit, never a wrong one.
"""

from __future__ import annotations

import re
from pathlib import Path

_SHA = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")


def read_commit(root: Path) -> str | None:
    """The full hex id of HEAD for the repository containing `root`, or None."""
    git_dir = _git_dir(root)
    if git_dir is None:
        return None
    head = _read(git_dir / "HEAD")
    if head is None:
        return None
    if _SHA.match(head):
        return head  # detached HEAD
    if not head.startswith("ref: "):
        return None
    return _resolve(git_dir, head[5:].strip())


def read_branch(root: Path) -> str | None:
    """The checked-out branch (`main`), or None when HEAD is detached or unknown."""
    git_dir = _git_dir(root)
    head = _read(git_dir / "HEAD") if git_dir else None
    if head and head.startswith("ref: refs/heads/"):
        return head.removeprefix("ref: refs/heads/").strip() or None
    return None


def _git_dir(root: Path) -> Path | None:
    for folder in (root, *root.parents):
        dot_git = folder / ".git"
        if dot_git.is_dir():
            return dot_git
        if dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
            text = _read(dot_git)
            if text and text.startswith("gitdir: "):
                target = Path(text[8:].strip())
                return target if target.is_absolute() else (folder / target).resolve()
            return None
    return None


def _resolve(git_dir: Path, ref: str) -> str | None:
    if ".." in ref.split("/"):
        return None
    common = git_dir
    commondir = _read(git_dir / "commondir")  # worktrees keep refs in the main .git
    if commondir:
        common = (git_dir / commondir).resolve()
    for base in (git_dir, common):
        value = _read(base / ref)
        if value and _SHA.match(value):
            return value
    for base in (git_dir, common):
        packed = _read(base / "packed-refs")
        for line in (packed or "").splitlines():
            sha, _, name = line.partition(" ")
            if name.strip() == ref and _SHA.match(sha):
                return sha
    return None


def _read(path: Path) -> str | None:
    try:
        return path.read_text(encoding="utf-8", errors="strict").strip()
    except (OSError, UnicodeDecodeError):
        return None
