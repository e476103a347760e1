from __future__ import annotations

from pathlib import Path

from compliance.gitinfo import read_commit

SHA = "0123456789abcdef0123456789abcdef01234567"
OTHER = "fedcba9876543210fedcba9876543210fedcba98"


def repo(tmp_path: Path, head: str) -> Path:
    git = tmp_path / ".git"
    (git / "refs" / "heads").mkdir(parents=True)
    (git / "HEAD").write_text(head + "\n")
    return tmp_path


def test_branch_ref(tmp_path: Path) -> None:
    root = repo(tmp_path, "ref: refs/heads/main")
    (root / ".git" / "refs" / "heads" / "main").write_text(SHA + "\n")
    assert read_commit(root) == SHA
    sub = root / "services" / "api"
    sub.mkdir(parents=True)
    assert read_commit(sub) == SHA  # a scan of a subfolder is of the same commit


def test_packed_ref_and_detached_head(tmp_path: Path) -> None:
    root = repo(tmp_path, "ref: refs/heads/release")
    (root / ".git" / "packed-refs").write_text(
        f"# pack-refs with: peeled fully-peeled sorted\n{OTHER} refs/heads/main\n"
        f"{SHA} refs/heads/release\n"
    )
    assert read_commit(root) == SHA
    (root / ".git" / "HEAD").write_text(OTHER + "\n")
    assert read_commit(root) == OTHER


def test_worktree_with_commondir(tmp_path: Path) -> None:
    main = repo(tmp_path / "main", "ref: refs/heads/main")
    (main / ".git" / "refs" / "heads" / "feature").write_text(SHA + "\n")
    worktree_git = main / ".git" / "worktrees" / "wt"
    worktree_git.mkdir(parents=True)
    (worktree_git / "HEAD").write_text("ref: refs/heads/feature\n")
    (worktree_git / "commondir").write_text("../..\n")
    checkout = tmp_path / "wt"
    checkout.mkdir()
    (checkout / ".git").write_text(f"gitdir: {worktree_git}\n")
    assert read_commit(checkout) == SHA


def test_unknown_or_hostile_gives_none(tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    (plain / ".git").write_text("not a gitdir line\n")
    assert read_commit(plain) is None
    root = repo(tmp_path / "r", "ref: refs/heads/missing")
    assert read_commit(root) is None
    (root / ".git" / "HEAD").write_text("ref: refs/../../../etc/passwd\n")
    assert read_commit(root) is None
    (root / ".git" / "HEAD").write_text("garbage\n")
    assert read_commit(root) is None
