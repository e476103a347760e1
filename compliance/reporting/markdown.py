"""The pull-request comment and GitHub job summary, in Markdown, always under GitHub's limit.

GitHub refuses a comment over 65,536 characters. The report shows the verdict first, then
the new open findings, then what did not count; when it would be too long, the least severe
findings are left out (whole table rows, so the Markdown stays valid) and a pointer to the
full report says how many. The size is measured in UTF-8 bytes, which is never less than
the count of characters or of UTF-16 code units, so the limit holds however it is counted.

Everything printed comes from the result, much of it from the scanned code, and HTML in a
GitHub comment is live: the template's environment refuses to print any string that has not
gone through one of the escape filters (`md`, `code`, `cell_code`, `url`).
"""

from __future__ import annotations

import functools
import re
from urllib.parse import quote

import jinja2

from compliance.model import ScanResult
from compliance.reporting.interface import RenderOptions
from compliance.reporting.view.build import build_view
from compliance.reporting.view.digest import capped, digester, largest_fitting
from compliance.reporting.view.report import ReportView
from compliance.reporting.view.text import visible

#: GitHub's limit for an issue or pull-request comment.
MAX_CHARS = 65_536
#: What the report may use, in UTF-8 bytes: room is left for a marker or header a CI step adds.
BUDGET = 64_000
#: No finding's table row is shorter (pipes, spaces, a code span, a severity, a newline),
#: so no more rows than BUDGET // MIN_ROW_BYTES can ever fit.
MIN_ROW_BYTES = 20
#: Gate reasons, waivers needing action and scanner errors listed; the rest counted.
LIST_LIMIT = 10
POINTER = "see the full report (HTML/SARIF/JSON artifact)"
SEVERITY_ICONS = {"critical": "🟥", "high": "🟧", "medium": "🟨", "low": "🟦", "info": "⬜"}


class Md(str):
    """Text escaped for Markdown: the only kind of string the template may print."""

    __slots__ = ()


# Backslash-escaped wherever they stand: emphasis, code, links, tables, strikethrough, math.
_PUNCTUATION = re.compile(r"[\\`*_\[\]|~$]")
# `@name` would notify a user or team, `#123` would cross-reference an issue.
_REFERENCE = re.compile(r"(?<!\w)(?:@(?=\w)|#(?=\d))")
_BACKTICKS = re.compile(r"`+")


def md(value: object) -> Md:
    """Inline Markdown text, on one line; safe in a paragraph, a list item or a table cell.

    HTML is neutralised with entities (`<script>` shows as text), Markdown punctuation is
    backslash-escaped, and mentions and issue references are broken with a zero-width space.
    """
    text = " ".join(visible(str(value)).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _PUNCTUATION.sub(r"\\\g<0>", text)
    return Md(_REFERENCE.sub("\\g<0>\u200b", text))


def code(value: object, *, in_table: bool = False) -> Md:
    """A code span around `value`, on one line, whatever backticks it holds.

    In a table cell a pipe must be written `\\|` even inside code (GFM splits cells first).
    Nothing else is needed: code spans show HTML, entities and mentions as they are.
    """
    text = " ".join(visible(str(value)).split())
    if not text:
        return Md("")
    if in_table:
        text = text.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in _BACKTICKS.findall(text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Md(f"{fence}{pad}{text}{pad}{fence}")


def cell_code(value: object) -> Md:
    return code(value, in_table=True)


def url(value: object) -> Md:
    """A link destination: percent-encoded again (idempotent) so it cannot end the link."""
    return Md(quote(str(value), safe=":/?#[]@!$&'*+,;=%~"))


def _finalize(value: object) -> object:
    if isinstance(value, Md) or (isinstance(value, int) and not isinstance(value, bool)):
        return value
    raise TypeError(f"unescaped value in the Markdown template: {value!r:.80} (use |md)")


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("compliance.reporting", "templates"),
        autoescape=False,  # noqa: S701 - Markdown: the filters escape and _finalize enforces it
        undefined=jinja2.StrictUndefined,
        finalize=_finalize,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(md=md, code=code, cell_code=cell_code, url=url)
    return env.get_template("report.md.j2")


def render_markdown(view: ReportView, budget: int = BUDGET) -> str:
    """The report with as many of the worst new open findings as fit in `budget` bytes."""
    template = _template()
    lists = {
        "reasons": capped(view.verdict.reasons, LIST_LIMIT),
        "waivers": capped([w for w in view.waivers if w.needs_action], LIST_LIMIT),
        "errors": capped(view.scanner_errors, LIST_LIMIT),
    }
    digest = digester(view.new_open)
    fitting: dict[int, str] = {}

    def fits(shown: int) -> bool:
        text = template.render(
            v=view,
            d=digest(shown),
            icons=SEVERITY_ICONS,
            pointer=POINTER,
            **lists,
        )
        if len(text.encode("utf-8")) > budget:
            return False
        fitting[shown] = text
        return True

    shown = largest_fitting(min(len(view.new_open), budget // MIN_ROW_BYTES), fits)
    if shown in fitting or fits(shown):
        return fitting[shown]
    return _too_long(view)


def _too_long(view: ReportView) -> str:
    """When even the summary without findings does not fit (thousands of gate rules...)."""
    status = "✅ Compliance gate passed" if view.verdict.passed else "❌ Compliance gate failed"
    return (
        f"## {status}\n\n"
        f"{view.counts.new_open} new open finding(s). The summary is too long for a comment: "
        f"{POINTER}.\n"
    )


class MarkdownRenderer:
    name = "markdown"

    def render(self, result: ScanResult, options: RenderOptions) -> str:
        return render_markdown(build_view(result, options.link_base))
