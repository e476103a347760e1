"""The readable checklist: Markdown (with a Mermaid data-flow diagram) and self-contained HTML
(inline SVG diagram, inline CSS, a strict Content-Security-Policy, no script).

Both come from jinja2 templates (compliance/threatmodel/templates/) over precomputed views,
with StrictUndefined. HTML is autoescaped. Markdown refuses to print any string that did not
go through one of its escape filters (`md`, `code`), because the facts come from the scanned
repository and a comment in it could otherwise write HTML into a pull-request comment.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import jinja2
from markupsafe import Markup, escape

from compliance.threatmodel.diagram import layout_svg, render_mermaid
from compliance.threatmodel.view import ModelView

FORMATS = ("markdown", "html")
SEVERITY_ICONS = {"critical": "🟥", "high": "🟧", "medium": "🟨", "low": "🟦", "info": "⬜"}

_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
_PUNCTUATION = re.compile(r"[\\`*_\[\]|~$<>]")
_REFERENCE = re.compile(r"(?<!\w)(?:@(?=\w)|#(?=\d))")
_BACKTICKS = re.compile(r"`+")
_CODE_SPAN = re.compile(r"`([^`]+)`")


class Md(str):
    """Text already escaped for Markdown: the only kind of string the template may print."""

    __slots__ = ()


def _visible(value: object) -> str:
    text = str(value)
    return _INVISIBLE.sub(lambda m: f"\\x{ord(m.group(0)):02x}", text)


def md(value: object) -> Md:
    """Inline Markdown text on one line: HTML neutralised, punctuation escaped, mentions
    (`@team`) and issue references (`#12`) broken with a zero-width space."""
    return Md(_escape(" ".join(_visible(value).split())))


def md_prose(value: object) -> Md:
    """Like `md`, but `code` spans in the text stay code spans (library prose uses them)."""
    text = " ".join(_visible(value).split())
    parts, position = [], 0
    for match in _CODE_SPAN.finditer(text):
        parts += [_escape(text[position : match.start()]), code(match.group(1))]
        position = match.end()
    parts.append(_escape(text[position:]))
    return Md("".join(parts))


def html_prose(value: object) -> Markup:
    """HTML text with `code` spans as <code>: every part escaped, only our tags added."""
    text = str(value)
    parts, position = [], 0
    for match in _CODE_SPAN.finditer(text):
        parts += [
            escape(text[position : match.start()]),
            Markup("<code>%s</code>") % match.group(1),
        ]
        position = match.end()
    parts.append(escape(text[position:]))
    return Markup("").join(parts)


def _escape(text: str) -> str:
    text = text.replace("&", "&amp;")
    text = _PUNCTUATION.sub(lambda m: _escape_punctuation(m.group(0)), text)
    return _REFERENCE.sub("\\g<0>\u200b", text)


def _escape_punctuation(char: str) -> str:
    return {"<": "&lt;", ">": "&gt;"}.get(char, "\\" + char)


def code(value: object) -> Md:
    """A code span around `value`, whatever backticks it holds; pipes escaped (tables)."""
    text = " ".join(_visible(value).split()).replace("|", "\\|")
    if not text:
        return Md("")
    fence = "`" * (max((len(r) for r in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Md(f"{fence}{pad}{text}{pad}{fence}")


def _finalize(value: object) -> object:
    if isinstance(value, Md) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise TypeError(f"unescaped value in the Markdown template: {value!r:.80} (use |md)")


@functools.cache
def _environment(kind: str) -> jinja2.Environment:
    common = {
        "loader": jinja2.PackageLoader("compliance.threatmodel", "templates"),
        "undefined": jinja2.StrictUndefined,
        "trim_blocks": True,
        "lstrip_blocks": True,
        "keep_trailing_newline": True,
    }
    if kind == "markdown":
        env = jinja2.Environment(
            autoescape=False,  # noqa: S701 - Markdown: the filters escape, _finalize enforces it
            finalize=_finalize,
            **common,  # type: ignore[arg-type]
        )
        env.filters.update(md=md, code=code, prose=md_prose)
        return env
    env = jinja2.Environment(autoescape=True, **common)  # type: ignore[arg-type]
    env.filters.update(prose=html_prose)
    return env


def render_markdown(views: Sequence[ModelView]) -> str:
    template = _environment("markdown").get_template("model.md.j2")
    diagrams = [Md(render_mermaid(v.flow)) for v in views]
    return template.render(views=list(zip(views, diagrams, strict=True)), icons=SEVERITY_ICONS)


def render_html(views: Sequence[ModelView]) -> str:
    template = _environment("html").get_template("model.html.j2")
    return template.render(views=[(v, layout_svg(v.flow)) for v in views])


def render(views: Sequence[ModelView], fmt: str) -> str:
    match fmt:
        case "markdown":
            return render_markdown(views)
        case "html":
            return render_html(views)
        case _:
            raise ValueError(f"unknown format {fmt!r}")
