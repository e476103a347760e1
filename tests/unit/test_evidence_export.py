"""The audit-period export: computations on hand-built entries, CSV, HTML, the folder."""

from __future__ import annotations

import csv
import hashlib
import io
import re
import sqlite3
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from compliance.errors import EnvironmentFailure, UsageError
from compliance.evidence.export.chart import MAX_BARS, status_charts
from compliance.evidence.export.csv import (
    CONTROLS_COLUMNS,
    FINDINGS_COLUMNS,
    RUNS_COLUMNS,
    WAIVERS_COLUMNS,
)
from compliance.evidence.export.files import EXPORT_FILES, render_export, write_export
from compliance.evidence.export.period import ChainInfo, Period, build_period_report, export_period
from compliance.evidence.ledger.chain import GENESIS, Verification
from compliance.evidence.ledger.interface import LedgerBroken
from compliance.evidence.ledger.records import (
    ControlRecord,
    FindingRecord,
    LedgerEntry,
    RunRecord,
    WaiverRecord,
)
from compliance.evidence.ledger.store import open_ledger
from compliance.model import ControlStatus, Fingerprint, Severity, WaiverState

P, F, N = ControlStatus.PASSED, ControlStatus.FAILED, ControlStatus.NOT_ASSESSED
FP_A, FP_B, FP_C = Fingerprint("fa"), Fingerprint("fb"), Fingerprint("fc")
DAY1 = datetime(2026, 1, 5, 10, 0, tzinfo=timezone.utc)
PERIOD = Period(date(2026, 1, 1), date(2026, 1, 31))


def at(days: float) -> datetime:
    return DAY1 + timedelta(days=days)


def entry(
    seq: int,
    when: datetime,
    controls: dict[str, tuple[ControlStatus, tuple[Fingerprint, ...]]],
    *,
    repo: str = "api",
    branch: str = "main",
    waivers: tuple[WaiverRecord, ...] = (),
    digest: str | None = None,
) -> LedgerEntry:
    failing = sorted({fp for _, fps in controls.values() for fp in fps})
    run = RunRecord(
        repo=repo,
        started_at=when,
        finished_at=when + timedelta(minutes=3),
        commit=f"{seq:040x}",
        branch=branch,
        dirty=False,
        ci_run_url=None,
        passed=not failing,
        controls=tuple(
            ControlRecord("soc2" if cid.startswith("CC") else "iso27001", cid, status, fps)
            for cid, (status, fps) in sorted(controls.items())
        ),
        findings=tuple(
            FindingRecord(fp, "bandit", "B602", Severity.HIGH, f"{fp}.py", f"title {fp}", "svc")
            for fp in failing
        ),
        waivers=waivers,
        bundle_digest=digest,
    )
    return LedgerEntry(seq, when, run, GENESIS, f"{seq:064x}")


def waiver(approver: str, state: WaiverState = WaiverState.ACTIVE, n: int = 1) -> WaiverRecord:
    return WaiverRecord("W-7", state, "dana@x.test", approver, date(2026, 6, 1), "SEC-9", n)


def history() -> list[LedgerEntry]:
    """api: A.8.28 fails on fa+fb, is not assessed, fails on fb only, passes, fails on fa
    again; CC6.1 fails once on fc. web: A.8.28 fails on fa throughout. Plus a run before
    the period and one on a feature branch."""
    return [
        entry(1, datetime(2025, 12, 20, tzinfo=timezone.utc), {"A.8.28": (F, (FP_C,))}),
        entry(
            2,
            at(0),
            {"A.8.28": (F, (FP_A, FP_B)), "CC6.1": (P, ())},
            waivers=(waiver("lead@x.test"),),
            digest="d" * 64,
        ),
        entry(
            3,
            at(1),
            {"A.8.28": (N, ()), "CC6.1": (F, (FP_C,))},
            waivers=(waiver("lead@x.test", WaiverState.STALE, 0),),
        ),
        entry(4, at(1.5), {"A.8.28": (F, (FP_A,))}, repo="web"),
        entry(5, at(3.125), {"A.8.28": (F, (FP_B,)), "CC6.1": (P, ())}),
        entry(6, at(4), {"A.8.28": (P, ()), "CC6.1": (P, ())}, waivers=(waiver("ciso@x.test"),)),
        entry(7, at(4.5), {"A.8.28": (F, (FP_B,))}, branch="feature/x"),
        entry(8, at(5), {"A.8.28": (F, (FP_A,)), "CC6.1": (P, ())}),
        entry(9, at(6), {"A.8.28": (F, (FP_A,))}, repo="web"),
    ]


def episodes(report_findings: object) -> list[tuple[object, ...]]:
    return [
        (
            e.repo,
            e.control,
            e.fingerprint,
            e.first_failed.seq,
            e.remediated.seq if e.remediated else None,
            e.time_to_remediation,
            e.failing_runs,
            e.open_at_start,
        )
        for e in report_findings  # type: ignore[attr-defined]
    ]


def test_controls_runs_pass_rate_and_first_failure() -> None:
    report = build_period_report(history(), PERIOD, titles={"A.8.28": "Secure coding"})
    assert [r.entry.seq for r in report.runs] == [2, 3, 4, 5, 6, 7, 8, 9]  # 1 is before
    iso, soc = report.controls
    assert (iso.framework, iso.id, iso.title, soc.id, soc.title) == (
        "iso27001",
        "A.8.28",
        "Secure coding",
        "CC6.1",
        None,
    )
    assert (iso.runs, iso.assessed, iso.counts[P], iso.counts[F], iso.counts[N]) == (8, 7, 1, 6, 1)
    assert iso.pass_rate == pytest.approx(1 / 7)
    assert iso.first_failure is not None
    assert (iso.first_failure.seq, iso.first_failure.at) == (2, at(0))
    assert iso.open_findings == 2  # api fa (again), web fa
    assert (soc.runs, soc.counts[P], soc.counts[F], soc.pass_rate) == (5, 4, 1, 0.8)
    assert soc.first_failure is not None and soc.first_failure.seq == 3
    assert soc.open_findings == 0


def test_first_failure_and_time_to_remediation_per_finding() -> None:
    report = build_period_report(history(), PERIOD)
    assert episodes(report.findings) == [
        # fa fixed in run 5 (run 3 did not assess the control: no proof either way)
        ("api", "A.8.28", FP_A, 2, 5, timedelta(days=3, hours=3), 1, True),
        ("api", "A.8.28", FP_B, 2, 6, timedelta(days=4), 2, True),
        # the feature branch's run fails fb again; the next run (on main) no longer does
        ("api", "A.8.28", FP_B, 7, 8, timedelta(hours=12), 1, False),
        # fa came back: a new stretch, still failing at the end of the period
        ("api", "A.8.28", FP_A, 8, None, None, 1, False),
        # another repository's runs are another history
        ("web", "A.8.28", FP_A, 4, None, None, 2, True),
        ("api", "CC6.1", FP_C, 3, 5, timedelta(days=2, hours=3), 1, False),
    ]
    first = report.findings[0]
    assert first.finding is not None and (first.finding.path, first.finding.tool) == (
        "fa.py",
        "bandit",
    )


def test_filters_by_repo_and_branch() -> None:
    report = build_period_report(history(), PERIOD, repo="api", branch="main")
    assert [r.entry.seq for r in report.runs] == [2, 3, 5, 6, 8]
    assert episodes(report.findings) == [
        ("api", "A.8.28", FP_A, 2, 5, timedelta(days=3, hours=3), 1, True),
        ("api", "A.8.28", FP_B, 2, 6, timedelta(days=4), 2, True),
        ("api", "A.8.28", FP_A, 8, None, None, 1, False),
        ("api", "CC6.1", FP_C, 3, 5, timedelta(days=2, hours=3), 1, False),
    ]
    short = build_period_report(history(), Period(date(2026, 1, 8), date(2026, 1, 9)), repo="api")
    assert [r.entry.seq for r in short.runs] == [5, 6, 7]
    assert [(e.fingerprint, e.open_at_start) for e in short.findings] == [
        (FP_B, True),
        (FP_B, False),
    ]


def test_waivers_in_force_with_owner_and_approver() -> None:
    report = build_period_report(history(), PERIOD)
    assert [
        (w.id, w.owner, w.approver, w.states, w.first_seen.seq, w.last_seen.seq, w.runs)
        for w in report.waivers
    ] == [
        ("W-7", "dana@x.test", "lead@x.test", ("active", "stale"), 2, 3, 2),
        # re-approved by someone else: a row of its own
        ("W-7", "dana@x.test", "ciso@x.test", ("active",), 6, 6, 1),
    ]


def test_period_bounds_are_whole_utc_days() -> None:
    assert PERIOD.start == datetime(2026, 1, 1, tzinfo=timezone.utc)
    assert PERIOD.end == datetime(2026, 2, 1, tzinfo=timezone.utc)
    with pytest.raises(UsageError, match="ends"):
        Period(date(2026, 2, 1), date(2026, 1, 31))
    edge = [
        entry(1, datetime(2026, 1, 31, 23, 59, 59, tzinfo=timezone.utc), {}),
        entry(2, PERIOD.end, {}),
    ]
    assert [r.entry.seq for r in build_period_report(edge, PERIOD).runs] == [1]


# --- CSV --------------------------------------------------------------------------------------


def read_csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_csv_files_have_their_columns_and_rows() -> None:
    files = render_export(build_period_report(history(), PERIOD))
    for name, columns in (
        ("controls.csv", CONTROLS_COLUMNS),
        ("findings.csv", FINDINGS_COLUMNS),
        ("waivers.csv", WAIVERS_COLUMNS),
        ("runs.csv", RUNS_COLUMNS),
    ):
        assert files[name].splitlines()[0] == ",".join(columns)
    controls = read_csv(files["controls.csv"])
    assert controls[0] == {
        "framework": "iso27001",
        "control_id": "A.8.28",
        "title": "",
        "runs": "8",
        "runs_assessed": "7",
        "passed": "1",
        "failed": "6",
        "not_assessed": "1",
        "manual": "0",
        "pass_rate": "0.1429",
        "first_failure_at": "2026-01-05T10:00:00Z",
        "first_failure_run": "2",
        "first_failure_repo": "api",
        "findings_open_at_end": "2",
    }
    findings = read_csv(files["findings.csv"])
    assert len(findings) == 6
    assert {
        k: findings[0][k] for k in ("fingerprint", "remediated_run", "failing_at_period_start")
    } == {
        "fingerprint": "fa",
        "remediated_run": "5",
        "failing_at_period_start": "true",
    }
    assert findings[0]["time_to_remediation_days"] == "3.12"
    assert findings[3]["remediated_at"] == "" and findings[3]["time_to_remediation_days"] == ""
    runs = read_csv(files["runs.csv"])
    assert [r["run"] for r in runs] == ["2", "3", "4", "5", "6", "7", "8", "9"]
    assert runs[0]["bundle_digest"] == "d" * 64 and runs[1]["bundle_digest"] == ""
    assert (runs[0]["gate"], runs[0]["controls_failed"], runs[0]["controls_passed"]) == (
        "failed",
        "1",
        "1",
    )
    assert len(read_csv(files["waivers.csv"])) == 2


def test_csv_cells_that_look_like_formulas_are_made_text() -> None:
    hostile = [
        entry(
            1,
            at(0),
            {"A.8.28": (F, (FP_A,))},
            repo='=HYPERLINK("http://evil.test")',
            waivers=(
                WaiverRecord("W", WaiverState.ACTIVE, "+cmd", "@SUM(1)", date(2026, 6, 1), None, 1),
            ),
        )
    ]
    files = render_export(build_period_report(hostile, PERIOD))
    (waiver_row,) = read_csv(files["waivers.csv"])
    assert waiver_row["repo"] == '\'=HYPERLINK("http://evil.test")'
    assert (waiver_row["owner"], waiver_row["approver"]) == ("'+cmd", "'@SUM(1)")


# --- HTML -------------------------------------------------------------------------------------

EVIL = '<script>alert("x")</script>'


def test_html_escapes_hostile_text_and_plots_status_over_time() -> None:
    runs = [
        entry(
            1,
            at(0),
            {"A.8.28": (F, (FP_A,)), "CC6.1": (P, ())},
            repo=EVIL,
            branch=EVIL,
            waivers=(
                WaiverRecord(
                    EVIL, WaiverState.ACTIVE, EVIL, '"><img src=x>', date(2026, 6, 1), EVIL, 1
                ),
            ),
        ),
        entry(2, at(1), {"A.8.28": (P, ()), "CC6.1": (N, ())}, repo=EVIL),
    ]
    html = render_export(build_period_report(runs, PERIOD, titles={"A.8.28": EVIL}))["index.html"]
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html
    assert html.count("<svg") == 2  # one chart per framework
    assert re.search(
        r'<rect x="[0-9.]+" y="[0-9.]+" width="[0-9.]+" height="[0-9.]+" class="failed">'
        r"<title>run 1 ",
        html,
    )
    assert "ISO/IEC 27001:2022: control status over time" in html
    assert "SOC 2: control status over time" in html
    assert "Content-Security-Policy" in html


def test_the_plot_buckets_many_runs_by_day() -> None:
    many = [
        entry(i + 1, at(i // 13) + timedelta(minutes=i), {"A.8.28": (F if i % 2 else P, ())})
        for i in range(MAX_BARS + 10)
    ]
    report = build_period_report(many, PERIOD)
    (chart,) = status_charts(report.runs)
    assert "one bar per day: the mean of its runs" in chart.note
    assert chart.note.startswith("10 bars")
    titles = {r.title for r in chart.rects if r.title.startswith("2026-01-05")}
    assert titles == {
        "2026-01-05 (13 runs, mean per run): 0.538462 passed, 0.461538 failed, "
        "0 not-assessed, 0 manual"
    }


def test_the_export_is_deterministic_and_lists_its_digests() -> None:
    first = render_export(build_period_report(history(), PERIOD))
    second = render_export(build_period_report(list(reversed(history())), PERIOD))
    assert first == second
    assert list(first) == [*EXPORT_FILES, "SHA256SUMS"]
    for line in first["SHA256SUMS"].splitlines():
        digest, name = line.split("  ")
        assert hashlib.sha256(first[name].encode()).hexdigest() == digest


# --- the folder -------------------------------------------------------------------------------


def test_write_export_writes_the_folder_whole(tmp_path: Path) -> None:
    files = render_export(build_period_report(history(), PERIOD))
    target = tmp_path / "q1"
    write_export(files, target)
    assert sorted(p.name for p in target.iterdir()) == sorted(files)
    assert (target / "runs.csv").read_text(encoding="utf-8") == files["runs.csv"]
    with pytest.raises(UsageError, match="earlier export"):
        write_export(files, target)
    (target / "runs.csv").write_text("old")
    write_export(files, target, force=True)
    assert (target / "runs.csv").read_text(encoding="utf-8") == files["runs.csv"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["q1"]  # no leftovers


def test_write_export_never_replaces_other_files(tmp_path: Path) -> None:
    target = tmp_path / "docs"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(UsageError, match=r"not an export \(notes.txt\)"):
        write_export({"index.html": "x"}, target, force=True)
    assert [p.name for p in target.iterdir()] == ["notes.txt"]
    with pytest.raises(UsageError, match="does not exist"):
        write_export({"index.html": "x"}, tmp_path / "no" / "out")


def test_a_failed_write_leaves_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    calls = []

    def failing_fsync(fd: int) -> None:
        calls.append(fd)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")

    monkeypatch.setattr("compliance.evidence.export.files.os.fsync", failing_fsync)
    with pytest.raises(EnvironmentFailure, match="No space left"):
        write_export(render_export(build_period_report(history(), PERIOD)), tmp_path / "out")
    assert list(tmp_path.iterdir()) == []


# --- from a ledger ----------------------------------------------------------------------------


def test_export_period_reads_a_verified_ledger(tmp_path: Path) -> None:
    ledger = open_ledger(str(tmp_path / "l.sqlite"), create=True)
    for e in history():
        ledger.append(e.run, e.recorded_at)
    report = export_period(ledger, date(2026, 1, 1), date(2026, 1, 31), "api", branch="main")
    assert [r.entry.run.commit for r in report.runs] == [f"{n:040x}" for n in (2, 3, 5, 6, 8)]
    assert report.chain is not None and report.chain.entries == 9
    assert report.chain.head == ledger.verify().head
    assert len(report.findings) == 4


def test_export_period_refuses_a_broken_chain(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite"
    ledger = open_ledger(str(path), create=True)
    for e in history()[:3]:
        ledger.append(e.run, e.recorded_at)
    conn = sqlite3.connect(path)
    with conn:
        conn.execute("UPDATE compliance_ledger SET passed = 1 WHERE seq = 2")
    conn.close()
    with pytest.raises(LedgerBroken, match="entry 2 was modified"):
        export_period(ledger, date(2026, 1, 1), date(2026, 1, 31))


class FakeLedger:
    """A ledger that verified `verified` entries, then had more appended before the read."""

    location = "fake"

    def __init__(self, entries: list[LedgerEntry], verified: int) -> None:
        self._entries, self._verified = entries, verified

    def append(self, run: RunRecord, recorded_at: datetime) -> LedgerEntry:
        raise NotImplementedError

    def entries(self, **_: object) -> tuple[LedgerEntry, ...]:
        return tuple(self._entries)

    def verify(self) -> Verification:
        return Verification(self._verified, f"{self._verified:064x}")

    def close(self) -> None:
        pass


def test_export_period_reports_only_the_verified_entries() -> None:
    report = export_period(FakeLedger(history(), verified=5), date(2026, 1, 1), date(2026, 1, 31))
    assert [r.entry.seq for r in report.runs] == [2, 3, 4, 5]
    assert report.chain == ChainInfo(5, f"{5:064x}")
