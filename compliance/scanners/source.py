"""Reading source lines for snippets (some tools print placeholders instead of code)."""

from __future__ import annotations

from pathlib import Path

MAX_SNIPPET_LINES = 8
MAX_SNIPPET_CHARS = 600


class SnippetReader:
    """Reads lines of files inside `root`, each file once per reader (one reader per run).

    Never reads outside `root`: a path that resolves elsewhere, or that is no file name at
    all, gives None.
    """

    def __init__(self, root: Path) -> None:
        self._base = root.resolve()
        self._files: dict[str, list[str] | None] = {}

    def read(self, rel_path: str, start: int | None, end: int | None) -> str | None:
        """Lines start..end (1-based, inclusive), at most MAX_SNIPPET_LINES, capped."""
        if start is None or start < 1:
            return None
        lines = self._lines(rel_path)
        if lines is None:
            return None
        last = min(max(start, end or start), start + MAX_SNIPPET_LINES - 1)
        text = "\n".join(lines[start - 1 : last])
        return text[:MAX_SNIPPET_CHARS] if text else None

    def lines(self, rel_path: str) -> list[str] | None:
        """Every line of the file (cached), or None when it cannot be read."""
        return self._lines(rel_path)

    def _lines(self, rel_path: str) -> list[str] | None:
        if rel_path not in self._files:
            self._files[rel_path] = self._load(rel_path)
        return self._files[rel_path]

    def _load(self, rel_path: str) -> list[str] | None:
        # A tool's path may be no file name at all: NUL, a lone surrogate, too long.
        try:
            path = (self._base / rel_path).resolve()
            if not path.is_relative_to(self._base) or not path.is_file():
                return None
            with path.open("r", encoding="utf-8", errors="replace") as handle:
                return [line.rstrip("\r\n") for line in handle]
        except (OSError, ValueError):
            return None
