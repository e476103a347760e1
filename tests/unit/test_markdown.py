"""The Markdown PR comment: verdict first, new findings grouped, always under GitHub's limit,
and nothing from the scanned code can become live Markdown or HTML."""

from __future__ import annotations

import re
from dataclasses import replace
from html.parser import HTMLParser

import pytest

from compliance.model import (
    BaselineState,
    BaselineSummary,
    GateFailure,
    ScanResult,
    Severity,
    SuppressionKind,
)
from compliance.reporting.interface import Renderer, RenderOptions
from compliance.reporting.markdown import (
    BUDGET,
    MAX_CHARS,
    MarkdownRenderer,
    _template,
    cell_code,
    code,
    md,
)

from .test_view import HOSTILE, finding, result, synthetic_result

LINK_BASE = "https://github.com/acme/shop/blob/0123abc/"
POINTER = "more findings not shown: see the full report (HTML/SARIF/JSON artifact)."


def render(result: ScanResult, link_base: str | None = None) -> str:
    return MarkdownRenderer().render(result, RenderOptions(link_base=link_base))


def cells(row: str) -> list[str]:
    """A GFM table row's cells, split as GitHub does: a backslash escapes the next character."""
    assert row.startswith("|") and row.endswith("|"), row
    out, current, index = [], "", 1
    while index < len(row):
        char = row[index]
        if char == "\\" and index + 1 < len(row):
            current += row[index : index + 2]
            index += 2
            continue
        if char == "|":
            out.append(current)
            current = ""
        else:
            current += char
        index += 1
    return out


def tables(text: str) -> list[list[list[str]]]:
    """Every table (a run of lines starting with |) as rows of cells; checks the structure."""
    found: list[list[list[str]]] = []
    block: list[str] = []
    for line in [*text.split("\n"), ""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if block:
            rows = [cells(r) for r in block]
            assert len(rows) >= 2 and all(re.fullmatch(r" -+:? ", c) for c in rows[1]), block[:2]
            assert {len(r) for r in rows} == {len(rows[0])}, block
            found.append(rows)
            block = []
    return found


class Elements(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str | None]] = []
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self.attrs += attrs

    def handle_data(self, data: str) -> None:
        self.text += data


def as_html(text: str) -> Elements:
    """The Markdown rendered as a CommonMark+tables renderer that passes raw HTML through."""
    markdown_it = pytest.importorskip("markdown_it")
    renderer = markdown_it.MarkdownIt("commonmark", {"html": True}).enable(
        ["table", "strikethrough"]
    )
    parser = Elements()
    parser.feed(renderer.render(text))
    return parser


def finding_rows(text: str) -> list[list[str]]:
    return [row for t in tables(text) if "Severity" in t[0][0] for row in t[2:]]


# --- structure ---------------------------------------------------------------------------


def test_examples_golden(examples_result: ScanResult, golden: object) -> None:
    text = render(examples_result, LINK_BASE)
    golden("markdown/examples.md", text)  # type: ignore[operator]


def test_the_verdict_and_its_reasons_come_first(examples_result: ScanResult) -> None:
    text = render(examples_result)
    assert text.startswith("## ❌ Compliance gate failed\n")
    findings_at = text.index("### New open findings (150)")
    for rule in ("`fail_on`", "`overrides[0]`", "`limits[0]`"):
        assert text.index(f"`policies/gate.yaml` {rule}") < findings_at
    assert "fail on **high**, gate mode **all**" in text
    passed = render(result(passed=True))
    assert passed.startswith("## ✅ Compliance gate passed\n")
    assert "No new open findings." in passed


def test_new_open_findings_are_grouped_by_service_then_controls(
    examples_result: ScanResult,
) -> None:
    text = render(examples_result)
    rows = finding_rows(text)
    assert len(rows) == 150  # every new open finding once; the 3 waived ones only counted
    headings = re.findall(r"^#### (.+?): (\d+) new finding", text, flags=re.MULTILINE)
    assert [h[0] for h in headings] == ["(repo)", "payments", "api", "worker"]
    assert sum(int(h[1]) for h in headings) == 150
    finding_tables = [t for t in tables(text) if "Severity" in t[0][0]]
    assert text.count("\nControls `") + text.count("\nNo mapped control") == len(finding_tables)
    tail = text[text.index("### Not counted against the gate") :]
    assert "| Waived | 3 |" in tail
    assert "- **W-0002** (expired, owner sam@acme.example): expired on 2026-10-31" in tail
    assert "- **W-0003** (stale, owner lee@acme.example): matches no finding: remove it" in tail
    assert "| ISO/IEC 27001:2022 | 4 | 30 | 2 | 57 |" in tail
    assert "| SOC 2 | 2 | 16 | 3 | 40 |" in tail


def test_locations_link_to_the_line_with_a_link_base(examples_result: ScanResult) -> None:
    linked = finding_rows(render(examples_result, LINK_BASE))
    assert linked[0][1] == (
        f" [`infra/terraform/network.tf:22`]({LINK_BASE}infra/terraform/network.tf#L22) "
    )
    plain = finding_rows(render(examples_result))
    assert plain[0][1] == " `infra/terraform/network.tf:22` "
    assert all("](" not in row[1] for row in plain)


def test_scanner_errors_are_listed_with_their_controls_not_assessed() -> None:
    text = render(result((finding(1),)))
    assert "| checkov | error | - | 0.5 s | - |" in text
    assert "- **checkov**: timed out after 600 s" in text


def test_deterministic(examples_result: ScanResult) -> None:
    shuffled = replace(examples_result, findings=tuple(reversed(examples_result.findings)))
    assert render(examples_result, LINK_BASE) == render(shuffled, LINK_BASE)


# --- size ---------------------------------------------------------------------------------


def test_fifty_thousand_findings_stay_under_githubs_limit() -> None:
    text = render(synthetic_result(50_000), LINK_BASE)
    assert len(text) < MAX_CHARS and len(text.encode("utf-8")) <= BUDGET
    rows = finding_rows(text)  # also checks every table is whole
    assert 200 < len(rows) < 50_000
    assert rows[0][0] == " 🟥 critical "
    hidden = int(re.search(r"\*\*(\d+) more new finding\(s\) not shown\*\*", text)[1])  # type: ignore[index]
    assert hidden + len(rows) == 47_500  # every twentieth finding is waived
    last = text.rstrip("\n").split("\n")[-1]
    assert last == f"**{hidden} {POINTER}**"
    assert text.count("`") % 2 == 0
    assert "1 waived" not in text and "| Waived | " in text
    elements = as_html(text)
    assert elements.tags.count("table") == len(tables(text))


def test_the_least_severe_findings_are_dropped_first() -> None:
    findings = tuple(
        finding(n, severity=severity, message="m" * 150)
        for n, severity in enumerate(
            [Severity.CRITICAL] * 5 + [Severity.HIGH] * 20 + [Severity.LOW] * 3000
        )
    )
    text = render(result(findings))
    shown = [row[0].split()[-1] for row in finding_rows(text)]
    assert shown[:25] == ["critical"] * 5 + ["high"] * 20
    assert 25 < len(shown) < 3025 and set(shown[25:]) == {"low"}
    assert (
        f"**{3025 - len(shown)} more new finding(s) not shown** ({3025 - len(shown)} low)" in text
    )


def test_a_pathological_gate_still_fits() -> None:
    reasons = tuple(
        GateFailure(f"policies/gate-{i}.yaml", f"overrides[{i}]", "&<|@x " * 300)
        for i in range(500)
    )
    text = render(result((finding(1),), reasons=reasons))
    assert len(text.encode("utf-8")) <= BUDGET
    assert "and 490 more rule(s)" in text


# --- escaping -----------------------------------------------------------------------------


def hostile_result() -> ScanResult:
    bad = replace(
        finding(1, message=HOSTILE, path="src/a|b`c<img src=x onerror=alert(1)>.py"),
        rule_id="B1|`x`",  # type: ignore[arg-type]
        tool="<b>tool</b>",
        title=HOSTILE,
    )
    return result((bad, finding(2, service="<script>svc</script>")))


@pytest.mark.parametrize("link_base", [None, LINK_BASE])
def test_hostile_text_is_only_text(link_base: str | None) -> None:
    text = render(hostile_result(), link_base)
    for raw in ("\x1b", "\x07", "\u202e"):
        assert raw not in text
    assert not re.search(r"(?<!\\)\]\(javascript:", text)
    prose = re.sub(r"(`+).+?(?<!`)\1(?!`)", "", text)  # code spans show HTML as text
    for raw in ("<script", "<img", "<b>"):
        assert raw not in prose
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "@\u200bacme/team" in text and "#\u200b12" in text
    rows = finding_rows(text)
    assert len(rows) == 2 and all(len(r) == 4 for r in rows)
    elements = as_html(text)
    assert not {"script", "img", "b", "iframe"} & set(elements.tags)
    assert "<script>alert(1)</script>" in elements.text
    assert "src/a|b`c<img src=x onerror=alert(1)>.py:2" in elements.text
    hrefs = [v for k, v in elements.attrs if k == "href"]
    assert all(h and h.startswith(LINK_BASE) for h in hrefs)
    assert len(hrefs) == (2 if link_base else 0)


def test_escape_filters() -> None:
    assert md("<a href='x'>&amp;</a>") == "&lt;a href='x'&gt;&amp;amp;&lt;/a&gt;"
    assert md("a|b *c* _d_ `e` [f](g) ~h~ $i$ \\") == (
        "a\\|b \\*c\\* \\_d\\_ \\`e\\` \\[f\\](g) \\~h\\~ \\$i\\$ \\\\"
    )
    assert md("line\nbreak\x1b") == "line break\\\\x1b"
    assert md("mail dana@acme.example, ping @team and #7") == (
        "mail dana@acme.example, ping @\u200bteam and #\u200b7"
    )
    assert code("a `b` c") == "``a `b` c``"
    assert code("`edge`") == "`` `edge` ``"
    assert code("a|b") == "`a|b`" and cell_code("a|b") == "`a\\|b`"


def test_the_template_cannot_print_unescaped_text() -> None:
    env = _template().environment
    with pytest.raises(TypeError, match="unescaped value"):
        env.from_string("{{ x }}").render(x="<script>")
    assert env.from_string("{{ x|md }} {{ n }}").render(x="<script>", n=3) == "&lt;script&gt; 3"


def test_with_a_baseline_only_new_findings_are_listed() -> None:
    findings = (
        finding(1, baseline=BaselineState.NEW),
        finding(2, baseline=BaselineState.UNCHANGED),
        finding(3, baseline=BaselineState.UNCHANGED, suppression=SuppressionKind.BASELINED),
    )
    baseline = BaselineSummary(".compliance/baseline.json", 2, 2, 0)
    text = render(result(findings, baseline=baseline))
    rows = finding_rows(text)
    assert [row[3] for row in rows] == [" message 1 "]
    assert "| Open, already in the baseline `.compliance/baseline.json` | 1 |" in text


def test_it_is_the_markdown_renderer() -> None:
    renderer: Renderer = MarkdownRenderer()
    assert renderer.name == "markdown"
