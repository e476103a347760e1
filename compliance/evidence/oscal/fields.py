"""Field values of the document: Markdown text, props in our namespace, no empty fields.

Text from the scanned repository stays text. Markup fields are Markdown in OSCAL JSON: a
one-line text is backslash-escaped, a message or snippet goes in a fenced code block, and
invisible characters (C0/C1 controls, bidi overrides) are shown as escapes. Props are data:
their values keep the text as it is, whitespace collapsed to one line as OSCAL requires.
Our own props carry the namespace NS.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from compliance.reporting.view.text import visible

#: The namespace of our props. Under the reserved `.invalid` domain, so it can collide with
#: no one's; changing it changes every prop's identity for consumers.
NS = "https://compliance.invalid/ns/oscal"

# CommonMark backslash-escapes any ASCII punctuation; these would start emphasis, code,
# links, images, autolinks, raw HTML, entities or OSCAL parameter insertions (`{{ }}`). An
# underscore inside a word (`CKV_AWS_24`) never delimits emphasis and stays as it is.
_INLINE_SPECIAL = re.compile(r"[\\`*\[\]<>&{}]|(?<![^\W_])_|_(?![^\W_])")
# At the start of a line these open a heading, quote, list, table or fence.
_BLOCK_START = re.compile(r"^(?:[#>+\-=|~]|(\d+)([.)]))")
_BACKTICKS = re.compile(r"`+")


def ns_props(pairs: Iterable[tuple[str, str | None]]) -> list[dict[str, str]]:
    """Our props, in our namespace; values on one line, empty ones left out."""
    props = []
    for name, value in pairs:
        text = prop_value(value) if value is not None else ""
        if text:
            props.append({"name": name, "ns": NS, "value": text})
    return props


def prop_value(text: str) -> str:
    """A prop value: OSCAL's `string`, one line with no outer whitespace. Nothing escaped."""
    return " ".join(text.split())


def inline(text: str | None) -> str:
    """One line of Markdown that shows `text` as it is: whitespace collapsed, punctuation that
    would start inline markup backslash-escaped, invisible characters shown."""
    if text is None:
        return ""
    return _INLINE_SPECIAL.sub(r"\\\g<0>", " ".join(visible(text).split()))


def para(text: str) -> str:
    """`inline(text)` made safe at the start of a Markdown line, where it would otherwise
    open a heading, quote, list item, table row or fence."""
    return _BLOCK_START.sub(_escape_block, inline(text), count=1)


def _escape_block(match: re.Match[str]) -> str:
    number, delimiter = match.group(1), match.group(2)
    return f"{number}\\{delimiter}" if number else f"\\{match.group(0)}"


def block(text: str | None) -> str:
    """A fenced code block showing `text` verbatim (invisible characters shown): no Markdown
    inside it is interpreted, and no line of it can close the fence."""
    body = visible(text or "").rstrip("\n")
    fence = "`" * max(3, max((len(run) for run in _BACKTICKS.findall(body)), default=0) + 1)
    return f"{fence}text\n{body}\n{fence}"


def drop_empty(data: dict[str, Any]) -> dict[str, Any]:
    """OSCAL arrays hold at least one item and optional fields are absent, never null."""
    return {k: v for k, v in data.items() if v is not None and v not in ([], "")}
