from __future__ import annotations

import os
from pathlib import Path

from compliance.scanners.source import MAX_SNIPPET_LINES, SnippetReader


def test_reads_line_ranges_and_caps_them(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("".join(f"line {i}\n" for i in range(1, 40)))
    reader = SnippetReader(tmp_path)
    assert reader.read("a.py", 2, 3) == "line 2\nline 3"
    assert reader.read("a.py", 5, None) == "line 5"
    assert reader.read("a.py", 1, 30) == "\n".join(
        f"line {i}" for i in range(1, MAX_SNIPPET_LINES + 1)
    )
    assert reader.read("a.py", None, None) is None
    assert reader.read("a.py", 100, 101) is None


def test_never_reads_outside_the_root(tmp_path: Path) -> None:
    outside = tmp_path / "secret.txt"
    outside.write_text("TOP SECRET\n")
    root = tmp_path / "repo"
    root.mkdir()
    os.symlink(outside, root / "link.py")
    reader = SnippetReader(root)
    assert reader.read("link.py", 1, 1) is None
    assert reader.read("../secret.txt", 1, 1) is None
    assert reader.read("missing.py", 1, 1) is None
