"""The export's CSV files: controls, findings, waivers and runs, one row per item of the
period report. A cell a spreadsheet would run as a formula is made text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from datetime import timedelta

from compliance.evidence.export.period import STATUSES, FindingEpisode, PeriodReport, timestamp

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
                timestamp(c.first_failure.at) if c.first_failure else None,
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
            timestamp(e.first_failed.at),
            e.first_failed.seq,
            e.open_at_start,
            timestamp(e.remediated.at) if e.remediated else None,
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
                timestamp(w.first_seen.at),
                w.first_seen.seq,
                timestamp(w.last_seen.at),
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
                timestamp(r.entry.run.started_at),
                timestamp(r.entry.run.finished_at),
                timestamp(r.entry.recorded_at),
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
