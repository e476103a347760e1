"""The export's self-contained HTML page: a summary, the status charts, the controls, the
findings with their time to remediation, the waivers and the runs (period.html.j2)."""

from __future__ import annotations

import functools
import statistics
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta

import jinja2

from compliance.evidence.export.chart import FRAMEWORK_LABELS, StatusChart, status_charts
from compliance.evidence.export.period import STATUSES, FindingEpisode, PeriodReport, timestamp
from compliance.model import ControlStatus
from compliance.reporting.template import html_template

#: Rows of the findings table in the HTML page; findings.csv has them all.
HTML_FINDINGS_LIMIT = 2_000


@dataclass(frozen=True, slots=True)
class _Summary:
    runs: int
    runs_passed: int
    repos: int
    controls_failed: int
    episodes: int
    remediated: int
    median_days: str | None
    waivers: int
    digests: int


@dataclass(frozen=True, slots=True)
class _View:
    report: PeriodReport
    summary: _Summary
    charts: tuple[StatusChart, ...]
    findings: tuple[FindingEpisode, ...]
    findings_hidden: int
    frameworks: Mapping[str, str] = field(default_factory=lambda: FRAMEWORK_LABELS)
    statuses: tuple[ControlStatus, ...] = STATUSES


@functools.cache
def _template() -> jinja2.Template:
    return html_template(
        "compliance.evidence",
        "period.html.j2",
        {"when": timestamp, "days": _duration, "rate": _rate},
    )


def _rate(rate: float | None) -> str:
    return f"{rate * 100:.1f}%" if rate is not None else "—"


def _duration(delta: timedelta | None) -> str:
    if delta is None:
        return "—"
    minutes = int(delta.total_seconds() // 60)
    days, rest = divmod(minutes, 24 * 60)
    hours, minutes = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    return f"{hours} h {minutes} min" if hours else f"{minutes} min"


def render_period_html(report: PeriodReport) -> str:
    remediated = [e.time_to_remediation for e in report.findings if e.time_to_remediation]
    median = statistics.median(d.total_seconds() for d in remediated) if remediated else None
    summary = _Summary(
        runs=len(report.runs),
        runs_passed=sum(1 for r in report.runs if r.entry.run.passed),
        repos=len({r.entry.run.repo for r in report.runs}),
        controls_failed=sum(1 for c in report.controls if c.counts[ControlStatus.FAILED]),
        episodes=len(report.findings),
        remediated=len(remediated),
        median_days=_duration(timedelta(seconds=median)) if median is not None else None,
        waivers=len(report.waivers),
        digests=sum(1 for r in report.runs if r.entry.run.bundle_digest),
    )
    charts = status_charts(report.runs)
    shown = report.findings[:HTML_FINDINGS_LIMIT]
    view = _View(report, summary, charts, shown, len(report.findings) - len(shown))
    return _template().render(v=view, statuses=[s.value for s in STATUSES])
