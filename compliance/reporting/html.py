"""The auditor's report: one self-contained HTML file.

No network, no fonts, no scripts: inline CSS (print-friendly), inline SVG charts whose
geometry is computed here, and a Content-Security-Policy that would block any script or
remote resource even if one slipped in. Every value from the result is escaped by jinja2's
autoescape; nothing is marked safe. Links come from the view model, which builds them only
from http(s) URLs and percent-encoded paths.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass

import jinja2

from compliance.model import ScanResult
from compliance.reporting.interface import RenderOptions
from compliance.reporting.svg import Rect, Text, legend_offsets, num
from compliance.reporting.template import html_template
from compliance.reporting.view.build import build_view
from compliance.reporting.view.digest import capped
from compliance.reporting.view.report import SEVERITIES, FindingView, ReportView, ServiceView

#: Bars in the service chart; further services are summed into one last bar.
CHART_SERVICES = 20
#: Changed files listed for a --changed-only scan; skipped inputs listed.
LIST_LIMIT = 200
SKIPPED_LIMIT = 1_000
#: Findings shown with every detail; past this many (the least severe) get one line each.
DETAIL_LIMIT = 5_000

# Chart geometry, in SVG user units.
_WIDTH = 760
_LABEL_WIDTH = 170
_BAR_WIDTH = 500
_ROW = 26
_BAR = 16
_LEGEND = 30
_LABEL_CHARS = 24
#: A segment narrower than this gets no number inside (its <title> still says it).
_MIN_LABELLED = 22


@dataclass(frozen=True, slots=True)
class Segment:
    css: str
    value: int
    label: str


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    tooltip: str
    segments: tuple[Segment, ...]


@dataclass(frozen=True, slots=True)
class Chart:
    id: str
    title: str
    width: int
    height: int
    rects: tuple[Rect, ...]
    texts: tuple[Text, ...]


def stacked_bar_chart(
    chart_id: str,
    title: str,
    bars: Sequence[Bar],
    legend: Sequence[tuple[str, str]],
    *,
    normalise: bool,
) -> Chart:
    """Horizontal stacked bars, one row each, with a legend on top.

    `normalise`: every bar spans the full width (shares); else one scale for all bars (the
    largest total spans the width) and each bar's total is written after it. Segment edges
    are rounded from cumulative sums, so the segments of a bar always meet exactly.
    """
    rects: list[Rect] = []
    texts: list[Text] = []
    offsets = legend_offsets([label for _, label in legend])
    for (css, label), x in zip(legend, offsets, strict=True):
        rects.append(Rect(num(x), "4", "12", "12", css, label))
        texts.append(Text(num(x + 16), "14", label, "start", "legend"))
    largest = max((sum(s.value for s in bar.segments) for bar in bars), default=0)
    for row, bar in enumerate(bars):
        top = _LEGEND + row * _ROW
        total = sum(s.value for s in bar.segments)
        scale_total = total if normalise else largest
        scale = _BAR_WIDTH / scale_total if scale_total else 0.0
        name = bar.label if len(bar.label) <= _LABEL_CHARS else bar.label[: _LABEL_CHARS - 1] + "…"
        texts.append(
            Text(num(_LABEL_WIDTH - 8), num(top + 13), name, "end", "label", title=bar.tooltip)
        )
        running = 0
        for segment in bar.segments:
            if not segment.value:
                continue
            left = _LABEL_WIDTH + round(running * scale, 1)
            running += segment.value
            right = _LABEL_WIDTH + round(running * scale, 1)
            rects.append(
                Rect(num(left), num(top), num(right - left), str(_BAR), segment.css, segment.label)
            )
            if right - left >= _MIN_LABELLED:
                middle = (left + right) / 2
                texts.append(
                    Text(
                        num(middle),
                        num(top + 12),
                        str(segment.value),
                        "middle",
                        "in " + segment.css,
                    )
                )
        if not normalise:
            end = _LABEL_WIDTH + round(total * scale, 1) + 6
            texts.append(Text(num(end), num(top + 13), str(total), "start", "total"))
    height = _LEGEND + max(len(bars), 1) * _ROW
    return Chart(chart_id, title, _WIDTH, height, tuple(rects), tuple(texts))


def services_chart(services: Sequence[ServiceView]) -> Chart:
    """Open findings per service, by severity; the services with most first."""
    ranked = sorted((s for s in services if s.open), key=lambda s: (-s.open, s.name))
    shown = list(ranked[:CHART_SERVICES])
    bars = [_service_bar(s.name, [c.count for c in s.open_by_severity]) for s in shown]
    rest = ranked[CHART_SERVICES:]
    if rest:
        summed = [sum(s.open_by_severity[i].count for s in rest) for i in range(len(SEVERITIES))]
        bars.append(_service_bar(f"{len(rest)} other services", summed))
    legend = [(s.value, s.value) for s in SEVERITIES]
    return stacked_bar_chart(
        "chart-services", "Open findings by service and severity", bars, legend, normalise=False
    )


def _service_bar(name: str, counts: Sequence[int]) -> Bar:
    segments = tuple(
        Segment(s.value, n, f"{name}: {n} {s.value}")
        for s, n in zip(SEVERITIES, counts, strict=True)
    )
    return Bar(name, f"{name}: {sum(counts)} open", segments)


def controls_chart(view: ReportView) -> Chart:
    """Control status per framework, as shares of the framework's controls."""
    bars = [
        Bar(
            fw.label,
            f"{fw.label}: {fw.total} controls",
            tuple(
                Segment(c.status, c.count, f"{fw.label}: {c.count} {c.label}") for c in fw.counts
            ),
        )
        for fw in view.frameworks
    ]
    legend = [(c.status, c.label) for c in view.frameworks[0].counts] if view.frameworks else []
    return stacked_bar_chart(
        "chart-controls", "Control status per framework", bars, legend, normalise=True
    )


@dataclass(frozen=True, slots=True)
class FindingSection:
    """One service's findings: the first in full, the rest (past DETAIL_LIMIT overall) brief."""

    service: ServiceView
    detailed: tuple[FindingView, ...]
    brief: tuple[FindingView, ...]


def finding_sections(view: ReportView, limit: int = DETAIL_LIMIT) -> tuple[FindingSection, ...]:
    """Split each service's findings so that `limit` findings in all, the worst of the whole
    report, are shown in full; the others are listed one line each, never left out."""
    detailed = {f.fingerprint for f in view.findings[:limit]}
    return tuple(
        FindingSection(
            service,
            tuple(f for f in service.findings if f.fingerprint in detailed),
            tuple(f for f in service.findings if f.fingerprint not in detailed),
        )
        for service in view.services
    )


@functools.cache
def _template() -> jinja2.Template:
    return html_template("compliance.reporting", "report.html.j2")


def render_html(view: ReportView) -> str:
    return _template().render(
        v=view,
        charts=(services_chart(view.services), controls_chart(view)),
        sections=finding_sections(view),
        brief_count=max(0, len(view.findings) - DETAIL_LIMIT),
        detail_limit=DETAIL_LIMIT,
        changed=capped(view.scan.changed_only or (), LIST_LIMIT),
        skipped=capped(view.skipped, SKIPPED_LIMIT),
        severities=[s.value for s in SEVERITIES],
    )


class HtmlRenderer:
    name = "html"

    def render(self, result: ScanResult, options: RenderOptions) -> str:
        return render_html(build_view(result, options.link_base))
