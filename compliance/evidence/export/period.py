"""The period report: what the ledger shows about each control over a period.

`build_period_report` is a pure function of ledger entries: per control, how many runs
assessed it and how often it passed, its first failure; per failing finding and control,
when it first failed and when a later run that assessed the control no longer failed it
(time to remediation); the waivers in force; every run with its bundle digest.
`export_period` builds it from a ledger whose chain verifies.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, timezone

from compliance.errors import UsageError
from compliance.evidence.ledger.interface import Ledger, LedgerBroken
from compliance.evidence.ledger.records import FindingRecord, LedgerEntry
from compliance.model import ControlStatus, Fingerprint
from compliance.policy.catalogue import control_sort_key

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
            if period.start <= utc(e.run.started_at) < period.end
            and (repo is None or e.run.repo == repo)
            and (branch is None or e.run.branch == branch)
        ),
        key=lambda e: (utc(e.run.started_at), e.seq),
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


def utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def timestamp(moment: datetime | None) -> str | None:
    return utc(moment).strftime("%Y-%m-%dT%H:%M:%SZ") if moment is not None else None


def _ref(entry: LedgerEntry) -> RunRef:
    return RunRef(entry.seq, entry.run.repo, utc(entry.run.started_at))


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
