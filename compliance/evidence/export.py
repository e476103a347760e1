"""The audit-period export: what the ledger shows about each control over a period.

`build_period_report` is a pure function of ledger entries: per control, how many runs
assessed it and how often it passed, its first failure; per failing finding and control,
when it first failed and when a later run that assessed the control no longer failed it
(time to remediation); the waivers in force; every run with its bundle digest.
`render_export` turns the report into the files of the auditor's package (four CSV files,
one self-contained HTML page, SHA256SUMS) and `write_export` writes them into a folder
atomically. `export_period` does all of it on a ledger whose chain verifies.
"""

from __future__ import annotations

import csv
import dataclasses
import functools
import hashlib
import io
import math
import os
import shutil
import statistics
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path

import jinja2

from compliance.errors import EnvironmentFailure, UsageError
from compliance.evidence.ledger import (
    FindingRecord,
    Ledger,
    LedgerBroken,
    LedgerEntry,
)
from compliance.model import ControlStatus, Fingerprint
from compliance.policy.catalogue import control_sort_key

#: The files of an export, in the order SHA256SUMS lists them.
EXPORT_FILES = ("index.html", "controls.csv", "findings.csv", "waivers.csv", "runs.csv")
SUMS_FILE = "SHA256SUMS"
FRAMEWORK_LABELS = {"iso27001": "ISO/IEC 27001:2022", "soc2": "SOC 2"}
#: Rows of the findings table in the HTML page; findings.csv has them all.
HTML_FINDINGS_LIMIT = 2_000
STATUSES = (
    ControlStatus.PASSED,
    ControlStatus.FAILED,
    ControlStatus.NOT_ASSESSED,
    ControlStatus.MANUAL,
)


@dataclass(frozen=True, slots=True)
class Period:
    """Whole UTC days, both ends included."""

    since: date
    until: date

    def __post_init__(self) -> None:
        if self.until < self.since:
            raise UsageError(f"the period ends ({self.until}) before it starts ({self.since})")

    @property
    def start(self) -> datetime:
        return datetime.combine(self.since, time(), tzinfo=timezone.utc)

    @property
    def end(self) -> datetime:
        """The first moment after the period."""
        return datetime.combine(self.until + timedelta(days=1), time(), tzinfo=timezone.utc)


@dataclass(frozen=True, slots=True)
class RunRef:
    seq: int
    repo: str
    at: datetime


@dataclass(frozen=True, slots=True)
class RunSummary:
    entry: LedgerEntry
    counts: Mapping[ControlStatus, int]


@dataclass(frozen=True, slots=True)
class ControlSummary:
    framework: str
    id: str
    title: str | None
    runs: int
    counts: Mapping[ControlStatus, int]
    first_failure: RunRef | None
    #: Findings still failing it after the last run of the period.
    open_findings: int

    @property
    def assessed(self) -> int:
        return self.counts[ControlStatus.PASSED] + self.counts[ControlStatus.FAILED]

    @property
    def pass_rate(self) -> float | None:
        return self.counts[ControlStatus.PASSED] / self.assessed if self.assessed else None


@dataclass(frozen=True, slots=True)
class FindingEpisode:
    """One stretch of runs in which a finding failed a control, in one repository.

    `remediated` is the first later run that assessed the control without it failing (a run
    where the control was not assessed proves nothing); None while it still fails.
    `open_at_start`: it failed already in the repository's first run of the period, so it
    may have failed for longer than the period shows.
    """

    repo: str
    framework: str
    control: str
    fingerprint: Fingerprint
    finding: FindingRecord | None
    first_failed: RunRef
    remediated: RunRef | None
    failing_runs: int
    open_at_start: bool

    @property
    def time_to_remediation(self) -> timedelta | None:
        return self.remediated.at - self.first_failed.at if self.remediated else None


@dataclass(frozen=True, slots=True)
class WaiverSummary:
    repo: str
    id: str
    owner: str
    approver: str
    expires: date
    ticket: str | None
    states: tuple[str, ...]
    first_seen: RunRef
    last_seen: RunRef
    runs: int
    max_findings: int


@dataclass(frozen=True, slots=True)
class ChainInfo:
    """The ledger's whole chain as verified before the export: auditors keep the head."""

    entries: int
    head: str | None


@dataclass(frozen=True, slots=True)
class PeriodReport:
    period: Period
    repo: str | None
    branch: str | None
    runs: tuple[RunSummary, ...]
    controls: tuple[ControlSummary, ...]
    findings: tuple[FindingEpisode, ...]
    waivers: tuple[WaiverSummary, ...]
    chain: ChainInfo | None = None


def export_period(
    ledger: Ledger,
    since: date,
    until: date,
    repo: str | None = None,
    *,
    branch: str | None = None,
    titles: Mapping[str, str] | None = None,
) -> PeriodReport:
    """The period's report from `ledger`, after verifying its whole chain (LedgerBroken)."""
    period = Period(since, until)
    verification = ledger.verify()
    if not verification.ok:
        raise LedgerBroken(ledger.location, verification)
    # Only what was verified: entries appended since are past the verified head (seq N).
    entries = [
        e
        for e in ledger.entries(since=period.start, until=period.end, repo=repo)
        if e.seq <= verification.entries
    ]
    report = build_period_report(entries, period, repo=repo, branch=branch, titles=titles)
    return dataclasses.replace(report, chain=ChainInfo(verification.entries, verification.head))


def build_period_report(
    entries: Iterable[LedgerEntry],
    period: Period,
    *,
    repo: str | None = None,
    branch: str | None = None,
    titles: Mapping[str, str] | None = None,
) -> PeriodReport:
    """Pure: the report over the entries whose run started in the period (and match)."""
    runs = sorted(
        (
            e
            for e in entries
            if period.start <= _utc(e.run.started_at) < period.end
            and (repo is None or e.run.repo == repo)
            and (branch is None or e.run.branch == branch)
        ),
        key=lambda e: (_utc(e.run.started_at), e.seq),
    )
    episodes = _episodes(runs)
    return PeriodReport(
        period=period,
        repo=repo,
        branch=branch,
        runs=tuple(RunSummary(e, _status_counts(e)) for e in runs),
        controls=_controls(runs, episodes, titles or {}),
        findings=tuple(sorted(episodes, key=_episode_key)),
        waivers=_waivers(runs),
        chain=None,
    )


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _ref(entry: LedgerEntry) -> RunRef:
    return RunRef(entry.seq, entry.run.repo, _utc(entry.run.started_at))


def _status_counts(entry: LedgerEntry) -> dict[ControlStatus, int]:
    counts = dict.fromkeys(STATUSES, 0)
    for control in entry.run.controls:
        counts[control.status] += 1
    return counts


@dataclass(slots=True)
class _Open:
    first: LedgerEntry
    open_at_start: bool
    finding: FindingRecord | None
    failing_runs: int = 1


def _episodes(runs: Sequence[LedgerEntry]) -> list[FindingEpisode]:
    done: list[FindingEpisode] = []
    # repo -> (framework, control) -> fingerprint -> the stretch in progress
    open_by_repo: dict[str, dict[tuple[str, str], dict[Fingerprint, _Open]]] = {}
    first_run: dict[str, int] = {}
    for entry in runs:
        repo = entry.run.repo
        first_run.setdefault(repo, entry.seq)
        by_control = open_by_repo.setdefault(repo, {})
        details = {f.fingerprint: f for f in entry.run.findings}
        for control in entry.run.controls:
            key = (control.framework, control.id)
            current = by_control.setdefault(key, {})
            if control.status not in (ControlStatus.PASSED, ControlStatus.FAILED):
                continue  # not assessed, or manual: neither a failure nor a remediation
            failing = set(control.failing) if control.status is ControlStatus.FAILED else set()
            for fingerprint in sorted(set(current) - failing):
                stretch = current.pop(fingerprint)
                done.append(_episode(repo, key, fingerprint, stretch, entry))
            for fingerprint in sorted(failing):
                if fingerprint in current:
                    current[fingerprint].failing_runs += 1
                else:
                    at_start = entry.seq == first_run[repo]
                    current[fingerprint] = _Open(entry, at_start, details.get(fingerprint))
    for repo, by_control in open_by_repo.items():
        for key, current in by_control.items():
            for fingerprint, stretch in current.items():
                done.append(_episode(repo, key, fingerprint, stretch, None))
    return done


def _episode(
    repo: str,
    key: tuple[str, str],
    fingerprint: Fingerprint,
    stretch: _Open,
    remediated: LedgerEntry | None,
) -> FindingEpisode:
    return FindingEpisode(
        repo=repo,
        framework=key[0],
        control=key[1],
        fingerprint=fingerprint,
        finding=stretch.finding,
        first_failed=_ref(stretch.first),
        remediated=_ref(remediated) if remediated is not None else None,
        failing_runs=stretch.failing_runs,
        open_at_start=stretch.open_at_start,
    )


def _episode_key(e: FindingEpisode) -> tuple[object, ...]:
    return (
        e.framework,
        control_sort_key(e.control),
        e.repo,
        e.first_failed.at,
        e.first_failed.seq,
        e.fingerprint,
    )


def _controls(
    runs: Sequence[LedgerEntry], episodes: Sequence[FindingEpisode], titles: Mapping[str, str]
) -> tuple[ControlSummary, ...]:
    counts: dict[tuple[str, str], dict[ControlStatus, int]] = {}
    first_failure: dict[tuple[str, str], RunRef] = {}
    for entry in runs:
        for control in entry.run.controls:
            key = (control.framework, control.id)
            counts.setdefault(key, dict.fromkeys(STATUSES, 0))[control.status] += 1
            if control.status is ControlStatus.FAILED and key not in first_failure:
                first_failure[key] = _ref(entry)
    still_open: dict[tuple[str, str], int] = {}
    for episode in episodes:
        if episode.remediated is None:
            key = (episode.framework, episode.control)
            still_open[key] = still_open.get(key, 0) + 1
    return tuple(
        ControlSummary(
            framework=framework,
            id=control_id,
            title=titles.get(control_id),
            runs=sum(by_status.values()),
            counts=by_status,
            first_failure=first_failure.get((framework, control_id)),
            open_findings=still_open.get((framework, control_id), 0),
        )
        for (framework, control_id), by_status in sorted(
            counts.items(), key=lambda item: (item[0][0], control_sort_key(item[0][1]))
        )
    )


def _waivers(runs: Sequence[LedgerEntry]) -> tuple[WaiverSummary, ...]:
    seen: dict[tuple[object, ...], WaiverSummary] = {}
    for entry in runs:
        for w in entry.run.waivers:
            key = (entry.run.repo, w.id, w.owner, w.approver, w.expires, w.ticket)
            before = seen.get(key)
            if before is None:
                seen[key] = WaiverSummary(
                    entry.run.repo,
                    w.id,
                    w.owner,
                    w.approver,
                    w.expires,
                    w.ticket,
                    (w.state.value,),
                    _ref(entry),
                    _ref(entry),
                    1,
                    w.findings,
                )
            else:
                seen[key] = WaiverSummary(
                    before.repo,
                    before.id,
                    before.owner,
                    before.approver,
                    before.expires,
                    before.ticket,
                    tuple(sorted({*before.states, w.state.value})),
                    before.first_seen,
                    _ref(entry),
                    before.runs + 1,
                    max(before.max_findings, w.findings),
                )
    return tuple(
        sorted(seen.values(), key=lambda w: (w.repo, w.id, w.first_seen.at, w.first_seen.seq))
    )


# --- CSV --------------------------------------------------------------------------------------

CONTROLS_COLUMNS = (
    "framework",
    "control_id",
    "title",
    "runs",
    "runs_assessed",
    "passed",
    "failed",
    "not_assessed",
    "manual",
    "pass_rate",
    "first_failure_at",
    "first_failure_run",
    "first_failure_repo",
    "findings_open_at_end",
)
FINDINGS_COLUMNS = (
    "framework",
    "control_id",
    "repo",
    "fingerprint",
    "tool",
    "rule_id",
    "severity",
    "service",
    "path",
    "title",
    "first_failed_at",
    "first_failed_run",
    "failing_at_period_start",
    "remediated_at",
    "remediated_run",
    "time_to_remediation_days",
    "failing_runs",
)
WAIVERS_COLUMNS = (
    "repo",
    "waiver_id",
    "owner",
    "approver",
    "expires",
    "ticket",
    "states",
    "first_seen_at",
    "first_seen_run",
    "last_seen_at",
    "last_seen_run",
    "runs",
    "max_findings_waived",
)
RUNS_COLUMNS = (
    "run",
    "repo",
    "started_at",
    "finished_at",
    "recorded_at",
    "commit",
    "branch",
    "dirty",
    "ci_run_url",
    "gate",
    "controls_passed",
    "controls_failed",
    "controls_not_assessed",
    "controls_manual",
    "bundle_digest",
    "entry_hash",
)

Cell = str | int | bool | None


def _cell(value: Cell) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    # A spreadsheet runs a cell that starts like a formula: make it text.
    return "'" + value if value[:1] in ("=", "+", "-", "@", "\t", "\r") else value


def _csv(columns: Sequence[str], rows: Iterable[Sequence[Cell]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    for row in rows:
        writer.writerow([_cell(v) for v in row])
    return buffer.getvalue()


def _time(moment: datetime | None) -> str | None:
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def _days(delta: timedelta | None) -> str | None:
    return f"{delta.total_seconds() / 86400:.2f}" if delta is not None else None


def render_controls_csv(report: PeriodReport) -> str:
    return _csv(
        CONTROLS_COLUMNS,
        (
            (
                c.framework,
                c.id,
                c.title,
                c.runs,
                c.assessed,
                *(c.counts[s] for s in STATUSES),
                f"{c.pass_rate:.4f}" if c.pass_rate is not None else None,
                _time(c.first_failure.at) if c.first_failure else None,
                c.first_failure.seq if c.first_failure else None,
                c.first_failure.repo if c.first_failure else None,
                c.open_findings,
            )
            for c in report.controls
        ),
    )


def render_findings_csv(report: PeriodReport) -> str:
    def row(e: FindingEpisode) -> tuple[Cell, ...]:
        f = e.finding
        return (
            e.framework,
            e.control,
            e.repo,
            e.fingerprint,
            f.tool if f else None,
            f.rule_id if f else None,
            f.severity.value if f else None,
            f.service if f else None,
            f.path if f else None,
            f.title if f else None,
            _time(e.first_failed.at),
            e.first_failed.seq,
            e.open_at_start,
            _time(e.remediated.at) if e.remediated else None,
            e.remediated.seq if e.remediated else None,
            _days(e.time_to_remediation),
            e.failing_runs,
        )

    return _csv(FINDINGS_COLUMNS, (row(e) for e in report.findings))


def render_waivers_csv(report: PeriodReport) -> str:
    return _csv(
        WAIVERS_COLUMNS,
        (
            (
                w.repo,
                w.id,
                w.owner,
                w.approver,
                w.expires.isoformat(),
                w.ticket,
                " ".join(w.states),
                _time(w.first_seen.at),
                w.first_seen.seq,
                _time(w.last_seen.at),
                w.last_seen.seq,
                w.runs,
                w.max_findings,
            )
            for w in report.waivers
        ),
    )


def render_runs_csv(report: PeriodReport) -> str:
    return _csv(
        RUNS_COLUMNS,
        (
            (
                r.entry.seq,
                r.entry.run.repo,
                _time(r.entry.run.started_at),
                _time(r.entry.run.finished_at),
                _time(r.entry.recorded_at),
                r.entry.run.commit,
                r.entry.run.branch,
                r.entry.run.dirty,
                r.entry.run.ci_run_url,
                "passed" if r.entry.run.passed else "failed",
                *(r.counts[s] for s in STATUSES),
                r.entry.run.bundle_digest,
                r.entry.entry_hash,
            )
            for r in report.runs
        ),
    )


# --- HTML -------------------------------------------------------------------------------------


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
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("compliance.evidence", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters["when"] = _time
    env.filters["days"] = _duration
    env.filters["rate"] = lambda r: f"{r * 100:.1f}%" if r is not None else "—"
    return env.get_template("period.html.j2")


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


# --- the plot: control status over time -------------------------------------------------------

#: Bars per chart: one per run up to this many, else one per day, week or month (means).
MAX_BARS = 120
_W, _H = 760, 230
_LEFT, _TOP, _PLOT_W, _PLOT_H = 44, 30, 700, 150


def _n(value: float) -> str:
    return f"{value:.1f}"


@dataclass(frozen=True, slots=True)
class Rect:
    x: str
    y: str
    width: str
    height: str
    css: str
    title: str


@dataclass(frozen=True, slots=True)
class Label:
    x: str
    y: str
    text: str
    anchor: str


@dataclass(frozen=True, slots=True)
class StatusChart:
    """Stacked bars of how many of a framework's controls had each status, over time."""

    id: str
    title: str
    note: str
    width: int
    height: int
    rects: tuple[Rect, ...]
    labels: tuple[Label, ...]
    #: The x axis: from (left, bottom) to (right, bottom).
    left: str = _n(_LEFT)
    right: str = _n(_LEFT + _PLOT_W)
    bottom: str = _n(_TOP + _PLOT_H)


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
                _utc(e.run.started_at).date().isoformat(),
                f"run {e.seq} ({e.run.repo}, {_time(e.run.started_at)})",
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
            groups.setdefault(key(_utc(e.run.started_at).date()), []).append(values)
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
            Label(_n(_LEFT - 6), _n(_TOP + 4), f"{top:g}", "end"),
            Label(_n(_LEFT - 6), _n(_TOP + _PLOT_H + 4), "0", "end"),
        ]
        x = 0.0
        for css in (s.value for s in STATUSES):  # the legend
            rects.append(Rect(_n(_LEFT + x), "6", "12", "12", css, css))
            labels.append(Label(_n(_LEFT + x + 16), "16", css, "start"))
            x += 16 + 7.5 * len(css) + 18
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
                        _n(left),
                        _n(upper),
                        _n(width),
                        _n(bottom - upper),
                        status.value,
                        f"{tooltip}: {detail}",
                    )
                )
        step = max(1, math.ceil(len(bars) / 6))
        for i in range(0, len(bars), step):
            centre = _LEFT + (i + 0.5) * slot
            labels.append(Label(_n(centre), _n(_TOP + _PLOT_H + 18), bars[i][0], "middle"))
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


# --- the package ------------------------------------------------------------------------------


def render_export(report: PeriodReport) -> dict[str, str]:
    """Every file of the package, by name (pure; SHA256SUMS last)."""
    files = {
        "index.html": render_period_html(report),
        "controls.csv": render_controls_csv(report),
        "findings.csv": render_findings_csv(report),
        "waivers.csv": render_waivers_csv(report),
        "runs.csv": render_runs_csv(report),
    }
    files[SUMS_FILE] = "".join(
        f"{hashlib.sha256(files[name].encode('utf-8')).hexdigest()}  {name}\n"
        for name in EXPORT_FILES
    )
    return files


def check_export_target(target: Path, *, force: bool) -> None:
    """UsageError unless `target` can take an export: new, empty, or (with `force`) a folder
    that holds nothing but an earlier export's files. Nothing else is ever replaced."""
    parent = target.parent if str(target.parent) else Path()
    if not parent.is_dir():
        raise UsageError(f"-o {target}: folder {parent} does not exist")
    if not target.exists():
        return
    if not target.is_dir():
        raise UsageError(f"-o {target}: exists and is not a folder")
    present = sorted(p.name for p in target.iterdir())
    if not present:
        return
    strangers = [name for name in present if name not in (*EXPORT_FILES, SUMS_FILE)]
    if strangers:
        raise UsageError(
            f"-o {target}: the folder holds files that are not an export "
            f"({', '.join(strangers[:5])}); choose a new or empty folder"
        )
    if not force:
        raise UsageError(f"-o {target}: holds an earlier export", hint="pass --force to replace it")


def write_export(files: Mapping[str, str], target: Path, *, force: bool = False) -> None:
    """Write `files` into the folder `target`: all of them or none.

    They are written into a temporary folder beside `target`, which is then renamed to it;
    an earlier export there (with `force`) is moved aside first and removed after.
    """
    check_export_target(target, force=force)
    parent = target.parent if str(target.parent) else Path()
    try:
        staging = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=parent))
    except OSError as exc:
        raise EnvironmentFailure(f"cannot write {target}: {exc.strerror}") from None
    try:
        for name, text in files.items():
            with (staging / name).open("w", encoding="utf-8", newline="\n") as handle:
                handle.write(text)
                handle.flush()
                os.fsync(handle.fileno())
        staging.chmod(0o755)
        if target.exists():
            retired = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".old", dir=parent))
            retired.rmdir()
            target.rename(retired)
            staging.rename(target)
            shutil.rmtree(retired, ignore_errors=True)
        else:
            staging.rename(target)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        raise EnvironmentFailure(f"cannot write {target}: {exc.strerror or exc}") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
