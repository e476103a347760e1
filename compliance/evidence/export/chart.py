"""The geometry of the HTML page's charts: control status over time, as stacked bars in SVG
coordinates (the template draws them)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from compliance.evidence.export.period import STATUSES, RunSummary, timestamp, utc
from compliance.reporting.svg import Rect, Text, legend_offsets, num

FRAMEWORK_LABELS = {"iso27001": "ISO/IEC 27001:2022", "soc2": "SOC 2"}


#: Bars per chart: one per run up to this many, else one per day, week or month (means).
MAX_BARS = 120
_W, _H = 760, 230
_LEFT, _TOP, _PLOT_W, _PLOT_H = 44, 30, 700, 150


@dataclass(frozen=True, slots=True)
class StatusChart:
    """Stacked bars of how many of a framework's controls had each status, over time."""

    id: str
    title: str
    note: str
    width: int
    height: int
    rects: tuple[Rect, ...]
    labels: tuple[Text, ...]
    #: The x axis: from (left, bottom) to (right, bottom).
    left: str = num(_LEFT)
    right: str = num(_LEFT + _PLOT_W)
    bottom: str = num(_TOP + _PLOT_H)


def _bars(
    runs: Sequence[RunSummary], framework: str
) -> tuple[str, list[tuple[str, str, list[float]]]]:
    """(what a bar is, [(x label, tooltip, mean count per status)])."""
    points = []
    for run in runs:
        counts = dict.fromkeys(STATUSES, 0)
        for control in run.entry.run.controls:
            if control.framework == framework:
                counts[control.status] += 1
        if sum(counts.values()):
            points.append((run.entry, [float(counts[s]) for s in STATUSES]))
    if len(points) <= MAX_BARS:
        return "one bar per run", [
            (
                utc(e.run.started_at).date().isoformat(),
                f"run {e.seq} ({e.run.repo}, {timestamp(e.run.started_at)})",
                values,
            )
            for e, values in points
        ]
    for unit, key in (
        ("day", lambda d: d.isoformat()),
        ("week", lambda d: f"{d.isocalendar()[0]}-W{d.isocalendar()[1]:02d}"),
        ("month", lambda d: d.strftime("%Y-%m")),
    ):
        groups: dict[str, list[list[float]]] = {}
        for e, values in points:
            groups.setdefault(key(utc(e.run.started_at).date()), []).append(values)
        if len(groups) <= MAX_BARS or unit == "month":
            break
    bars = [
        (
            label,
            f"{label} ({len(members)} runs, mean per run)",
            [sum(column) / len(members) for column in zip(*members, strict=True)],
        )
        for label, members in sorted(groups.items())
    ]
    return f"one bar per {unit}: the mean of its runs", bars


def status_charts(runs: Sequence[RunSummary]) -> tuple[StatusChart, ...]:
    """One chart per framework the runs assessed, in framework order."""
    frameworks = sorted({c.framework for r in runs for c in r.entry.run.controls})
    charts = []
    for index, framework in enumerate(frameworks):
        what, bars = _bars(runs, framework)
        top = max((sum(values) for _, _, values in bars), default=0.0) or 1.0
        slot = _PLOT_W / max(len(bars), 1)
        width = max(slot * 0.8, 1.0) if slot >= 2 else slot
        rects: list[Rect] = []
        labels = [
            Text(num(_LEFT - 6), num(_TOP + 4), f"{top:g}", "end"),
            Text(num(_LEFT - 6), num(_TOP + _PLOT_H + 4), "0", "end"),
        ]
        legend = [s.value for s in STATUSES]
        for css, x in zip(legend, legend_offsets(legend), strict=True):
            rects.append(Rect(num(_LEFT + x), "6", "12", "12", css, css))
            labels.append(Text(num(_LEFT + x + 16), "16", css, "start"))
        for i, (_, tooltip, values) in enumerate(bars):
            left = _LEFT + i * slot + (slot - width) / 2
            running = 0.0
            detail = ", ".join(f"{v:g} {s.value}" for s, v in zip(STATUSES, values, strict=True))
            for status, value in zip(STATUSES, values, strict=True):
                if not value:
                    continue
                bottom = _TOP + _PLOT_H - round(running / top * _PLOT_H, 1)
                running += value
                upper = _TOP + _PLOT_H - round(running / top * _PLOT_H, 1)
                rects.append(
                    Rect(
                        num(left),
                        num(upper),
                        num(width),
                        num(bottom - upper),
                        status.value,
                        f"{tooltip}: {detail}",
                    )
                )
        step = max(1, math.ceil(len(bars) / 6))
        for i in range(0, len(bars), step):
            centre = _LEFT + (i + 0.5) * slot
            labels.append(Text(num(centre), num(_TOP + _PLOT_H + 18), bars[i][0], "middle"))
        label = FRAMEWORK_LABELS.get(framework, framework)
        charts.append(
            StatusChart(
                f"chart-{index}",
                f"{label}: control status over time",
                f"{len(bars)} bars, {what}; height: the number of controls",
                _W,
                _H,
                tuple(rects),
                tuple(labels),
            )
        )
    return tuple(charts)
