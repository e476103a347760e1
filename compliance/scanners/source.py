"""Reading source lines for snippets (some tools print placeholders instead of code)."""

from __future__ import annotations

from pathlib import Path

MAX_SNIPPET_LINES = 8
MAX_SNIPPET_CHARS = 600


def read_snippet(root: Path, rel_path: str, start: int | None, end: int | None) -> str | None:
    """Lines start..end (1-based, inclusive) of a file inside `root`, capped; None if unreadable.

    Never reads outside `root`: a path that resolves elsewhere gives None.
    """
    if start is None or start < 1:
        return None
    last = max(start, end or start)
    last = min(last, start + MAX_SNIPPET_LINES - 1)
    base = root.resolve()
    path = (base / rel_path).resolve()
    if not path.is_relative_to(base) or not path.is_file():
        return None
    lines: list[str] = []
    try:
        with path.open("r", encoding="utf-8", errors="replace") as handle:
            for number, line in enumerate(handle, start=1):
                if number > last:
                    break
                if number >= start:
                    lines.append(line.rstrip("\r\n"))
    except OSError:
        return None
    text = "\n".join(lines)
    return text[:MAX_SNIPPET_CHARS] if text else None
