"""Text and links from the scanned repository, made safe to show.

Text that came from the scanned repository (paths, messages, snippets, justifications) stays
text: control characters and bidirectional overrides are made visible here (`\\x1b`,
`\\u202e`), and each format escapes the rest for its own syntax in its template (HTML by
autoescape, Markdown by its `md` filter). Links are built only from http(s) URLs and
percent-encoded paths, so no finding can smuggle a `javascript:` URL or break out of one.
"""

from __future__ import annotations

import re
from urllib.parse import quote, urlsplit

from compliance.errors import UsageError

#: A one-line message is cut here (with "…").
SUMMARY_CHARS = 160

# C0 (but tab and newline), DEL, C1, and the bidi marks and overrides of "Trojan Source".
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Characters a URL may carry as they are; everything else is percent-encoded. Parentheses
# are encoded too, so a URL can never close a Markdown link early.
_URL_SAFE = ":/?#[]@!$&'*+,;=%~"


def visible(text: str) -> str:
    """`text` with control characters and bidi overrides shown as escapes (`\\x1b`)."""
    if text.isprintable():  # the common case, in C: nothing to escape
        return text
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return _INVISIBLE.sub(_escape_char, text)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str, limit: int = SUMMARY_CHARS) -> str:
    """`text` made visible, whitespace (newlines too) collapsed, cut to `limit` with "…"."""
    line = " ".join(visible(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


# --- links ---------------------------------------------------------------------------------


def link_prefix(link_base: str | None) -> str | None:
    """The file-link prefix for `link_base`: an http(s) URL or a relative path, encoded."""
    if link_base is None:
        return None
    try:
        scheme = urlsplit(link_base).scheme.lower()
    except ValueError:
        scheme = "invalid"
    if scheme not in ("", "http", "https"):
        raise UsageError(
            f"link base {link_base!r} is not an http(s) URL",
            hint="pass e.g. --link-base https://github.com/OWNER/REPO/blob/COMMIT/",
        )
    return quote(link_base, safe=_URL_SAFE)


def file_href(prefix: str, path: str, line: int | None) -> str:
    """`{prefix}{path}#L{line}`, the path percent-encoded (`#`, `?`, spaces, quotes...)."""
    href = prefix + quote(path, safe="/")
    return f"{href}#L{line}" if line else href


def help_href(url: str | None) -> str | None:
    """`url` if it is an absolute http(s) URL, percent-encoded where needed (never
    `javascript:`); anything else is left out. For help, run and reference links."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe=_URL_SAFE)
