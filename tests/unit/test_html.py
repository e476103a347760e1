"""The HTML report: one self-contained, well-formed file in which scanned text stays text."""

from __future__ import annotations

import itertools
import re
from dataclasses import replace
from datetime import date
from html.parser import HTMLParser

import pytest

from compliance.errors import UsageError
from compliance.model import (
    CiContext,
    RunContext,
    ScannerRun,
    ScannerStatus,
    ScanResult,
    Skip,
    WaiverState,
    WaiverStatus,
)
from compliance.reporting.html import (
    _BAR_WIDTH,
    CHART_SERVICES,
    DETAIL_LIMIT,
    Bar,
    HtmlRenderer,
    Segment,
    finding_sections,
    services_chart,
    stacked_bar_chart,
)
from compliance.reporting.interface import Renderer, RenderOptions
from compliance.reporting.view.build import build_view

from .test_view import HOSTILE, finding, result, synthetic_result

LINK_BASE = "https://github.com/acme/shop/blob/0123abc/"
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}


def render(result: ScanResult, link_base: str | None = None) -> str:
    return HtmlRenderer().render(result, RenderOptions(link_base=link_base))


class Dom(HTMLParser):
    """Checks that every element is closed in order, and collects what the tests look at."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.text: list[str] = []
        self.framework: str | None = None
        self.control_rows: dict[str, int] = {}
        self.tables: dict[str, int] = {}

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        self.tags.append((tag, attributes))
        ident = attributes.get("id") or ""
        if tag == "h3" and ident.startswith("fw-"):
            self.framework = ident[3:]
        if tag == "table" and attributes.get("class") == "controls" and self.framework:
            self.tables[self.framework] = self.tables.get(self.framework, 0) + 1
        if tag == "tr" and ident.startswith("c-") and self.framework:
            self.control_rows[self.framework] = self.control_rows.get(self.framework, 0) + 1
        if tag not in VOID:
            self.stack.append(tag)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        raise AssertionError(f"self-closing <{tag}/> in HTML")

    def handle_endtag(self, tag: str) -> None:
        assert self.stack, f"</{tag}> closes nothing"
        assert self.stack[-1] == tag, f"</{tag}> closes <{self.stack[-1]}> ({self.stack})"
        self.stack.pop()

    def handle_data(self, data: str) -> None:
        self.text.append(data)

    def names(self) -> list[str]:
        return [tag for tag, _ in self.tags]


def dom(html: str) -> Dom:
    parser = Dom()
    parser.feed(html)
    parser.close()
    assert parser.stack == [], f"unclosed: {parser.stack}"
    return parser


# --- structure -----------------------------------------------------------------------------


def test_examples_golden(examples_result: ScanResult, golden: object) -> None:
    golden("html/examples.html", render(examples_result, LINK_BASE))  # type: ignore[operator]


def test_examples_structure(examples_result: ScanResult) -> None:
    html = render(examples_result, LINK_BASE)
    assert html.startswith('<!DOCTYPE html>\n<html lang="en">')
    page = dom(html)
    names = page.names()
    assert names.count("h1") == 1
    assert names.count("svg") == 2 and names.count("rect") > 10
    per_framework: dict[str, int] = {}
    for control in examples_result.controls:
        per_framework[control.framework] = per_framework.get(control.framework, 0) + 1
    assert page.tables == {"iso27001": 1, "soc2": 1}
    assert page.control_rows == per_framework == {"iso27001": 93, "soc2": 61}
    articles = [a for tag, a in page.tags if tag == "article"]
    assert len(articles) == len(examples_result.findings) == 153
    assert len({a["id"] for a in articles}) == 153
    text = "".join(page.text)
    assert "Gate failed" in text and "88 open findings of data pii|payment" in text
    for waiver in ("W-0001", "W-0002", "W-0003"):
        assert waiver in text
    assert "Helm chart not scanned: the helm binary is not installed" in text
    assert "counts again: waiver W-0002 expired on 2026-10-31" in text
    assert "semgrep" in text and "1.185.0" in text and "7.0 s" in text


def test_every_internal_link_has_a_target(examples_result: ScanResult) -> None:
    page = dom(render(examples_result))
    ids = {a["id"] for _, a in page.tags if a.get("id")}
    targets = {
        a["href"][1:] for tag, a in page.tags if tag == "a" and (a.get("href") or "")[:1] == "#"
    }
    assert targets and targets <= ids


def test_links_with_and_without_a_link_base(examples_result: ScanResult) -> None:
    linked = render(examples_result, LINK_BASE)
    assert f'<a href="{LINK_BASE}infra/terraform/network.tf#L22"><code>' in linked
    plain = render(examples_result)
    assert LINK_BASE not in plain
    assert "at <code>infra/terraform/network.tf:22</code>" in plain


def test_self_contained(examples_result: ScanResult) -> None:
    html = render(examples_result, LINK_BASE)
    page = dom(html)
    for tag, attributes in page.tags:
        assert "src" not in attributes, tag
        assert tag not in ("link", "script", "iframe", "object", "embed", "img"), tag
        href = attributes.get("href") or ""
        if re.match(r"(?i)\s*(https?:)?//", href):
            assert tag == "a", (tag, href)
    assert "@import" not in html and "url(" not in html
    assert "Content-Security-Policy" in html and "default-src 'none'" in html
    assert not re.search(r"""(?i)\b(src|href)\s*=\s*["']?javascript:""", html)


def test_deterministic(examples_result: ScanResult) -> None:
    shuffled = replace(examples_result, findings=tuple(reversed(examples_result.findings)))
    assert render(examples_result, LINK_BASE) == render(shuffled, LINK_BASE)


def test_context_and_inputs_are_shown() -> None:
    context = RunContext(
        branch="main",
        dirty=True,
        ci=CiContext("github", "42", "https://github.com/acme/shop/actions/runs/42", "dana"),
    )
    html = render(result((finding(1),), context=context))
    assert "Branch <code>main</code>" in html and "Working tree: uncommitted changes" in html
    assert '<a href="https://github.com/acme/shop/actions/runs/42">42</a>' in html


# --- hostile text ----------------------------------------------------------------------------


def hostile_result() -> ScanResult:
    bad = replace(
        finding(1, message=HOSTILE, help_url="javascript:alert(4)"),
        title=HOSTILE,
        snippet="</pre><script>alert(5)</script>]]><!-- --><![CDATA[x]]>\x00",
        location=replace(finding(1).location, path='x"><img src=x onerror=alert(6)>.py'),
        rule_id="B1</a><script>",  # type: ignore[arg-type]
    )
    waiver = WaiverStatus(
        "W-<i>1</i>",
        WaiverState.ACTIVE,
        "<svg onload=alert(7)>",
        "reason <script>",
        "o@x",
        "a@x",
        date(2027, 1, 1),
        "w.yaml",
    )
    return result(
        (bad, finding(2, service="<script>svc</script>")),
        waivers=(waiver,),
        skipped=(Skip("<img src=x onerror=alert(8)>", "bad <b>", "checkov"),),
        scanners=(ScannerRun("bandit", ScannerStatus.ERROR, None, 1.0, error="<img src=y>"),),
        context=RunContext(ci=CiContext("github", "1", "javascript:alert(9)")),
    )


@pytest.mark.parametrize("link_base", [None, LINK_BASE])
def test_hostile_text_is_only_text(link_base: str | None) -> None:
    html = render(hostile_result(), link_base)
    page = dom(html)
    assert not set(page.names()) & {"script", "img", "iframe", "i", "object", "embed"}
    assert "<script" not in html and "<img" not in html and "<svg onload" not in html
    assert "javascript:alert(4)" not in html and "javascript:alert(9)" not in html
    for tag, attributes in page.tags:
        assert not any(k.startswith("on") for k in attributes), (tag, attributes)
        assert not (attributes.get("href") or "").lower().startswith("javascript:")
    text = "".join(page.text)
    assert "<script>alert(1)</script>" in text and "<img src=x onerror=alert(2)>" in text
    assert "</pre><script>alert(5)</script>]]><!-- --><![CDATA[x]]>\\x00" in text
    assert "]]&gt;" in html and "\x1b" not in html and "\x00" not in html
    assert "\\x1b[31mred\\x07 \\u202eevil" in text
    assert [tag for tag in page.names() if tag == "svg"] == ["svg", "svg"]


def test_a_javascript_link_base_is_refused() -> None:
    with pytest.raises(UsageError):
        render(result((finding(1),)), "javascript:alert(1)//")


# --- charts ----------------------------------------------------------------------------------


def test_normalised_bars_span_the_width_and_segments_meet() -> None:
    bars = [
        Bar(
            "a", "a", (Segment("passed", 1, ""), Segment("failed", 2, ""), Segment("manual", 4, ""))
        ),
        Bar(
            "b", "b", (Segment("passed", 3, ""), Segment("failed", 0, ""), Segment("manual", 0, ""))
        ),
    ]
    chart = stacked_bar_chart("c", "t", bars, [("passed", "passed")], normalise=True)
    rects = [r for r in chart.rects if r.height != "12"]  # not the legend swatches
    assert len(rects) == 4  # no rect for a zero
    first = rects[:3]
    for left, right in itertools.pairwise(first):
        assert float(left.x) + float(left.width) == pytest.approx(float(right.x))
    assert sum(float(r.width) for r in first) == pytest.approx(_BAR_WIDTH)
    assert float(rects[3].width) == pytest.approx(_BAR_WIDTH)


def test_the_service_chart_sums_the_smallest_services_into_one_bar() -> None:
    view = build_view(synthetic_result(2_000, services=30))
    chart = services_chart(view.services)
    labels = [t.text for t in chart.texts if t.css == "label"]
    assert len(labels) == CHART_SERVICES + 1
    assert labels[-1] == f"{30 - CHART_SERVICES} other services"
    totals = [int(t.text) for t in chart.texts if t.css == "total"]
    assert sum(totals) == sum(s.open for s in view.services)
    assert totals[:-1] == sorted(totals[:-1], reverse=True)


# --- size --------------------------------------------------------------------------------------


def test_past_the_detail_limit_findings_get_one_line_each() -> None:
    view = build_view(synthetic_result(60))
    sections = finding_sections(view, limit=10)
    assert sum(len(s.detailed) for s in sections) == 10
    assert sum(len(s.detailed) + len(s.brief) for s in sections) == 60
    detailed = {f.fingerprint for s in sections for f in s.detailed}
    assert detailed == {f.fingerprint for f in view.findings[:10]}


def test_a_large_result_lists_every_finding() -> None:
    count = DETAIL_LIMIT + 1_000
    html = render(synthetic_result(count), LINK_BASE)
    page = dom(html)
    assert page.names().count("article") == DETAIL_LIMIT
    rows = [a for tag, a in page.tags if tag == "tr" and (a.get("id") or "").startswith("f-")]
    assert len(rows) == 1_000
    assert f"The {DETAIL_LIMIT} most severe findings are shown in full; the other 1000" in html


def test_it_is_the_html_renderer() -> None:
    renderer: Renderer = HtmlRenderer()
    assert renderer.name == "html"
