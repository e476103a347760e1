"""The view's values: ReportView and its parts, frozen; the templates only print them."""

from __future__ import annotations

from dataclasses import dataclass

from compliance.model import Severity

#: Worst first: the order of every severity column and legend.
SEVERITIES: tuple[Severity, ...] = tuple(sorted(Severity, reverse=True))


@dataclass(frozen=True, slots=True)
class FindingView:
    fingerprint: str
    #: HTML id of the finding (`f-<fingerprint>`).
    anchor: str
    service: str
    severity: str
    tool: str
    rule: str
    title: str
    #: The full message (newlines kept), or None when it only repeats the title.
    message: str | None
    #: One line for lists and tables: the title for dependency findings, else the message.
    summary: str
    #: `path:line` (or `path` without a line).
    location: str
    #: Where `location` links to (with a link base), else None: show it as code.
    href: str | None
    help_href: str | None
    snippet: str | None
    resource: str | None
    package: str | None
    cwe: tuple[str, ...]
    controls: tuple[str, ...]
    #: "open", "inline", "waived" or "baselined"; `state_label` says it in words.
    state: str
    state_label: str
    #: Suppressed inline, waived or baselined: does not count against the gate.
    suppressed: bool
    justification: str | None
    #: The expired waivers that no longer suppress it ("W-0002 expired on 2026-10-31").
    expired_waivers: tuple[str, ...]
    #: "new" / "unchanged" against the baseline, None without one.
    baseline: str | None


@dataclass(frozen=True, slots=True)
class SeverityCount:
    severity: str
    count: int


@dataclass(frozen=True, slots=True)
class ServiceView:
    name: str
    anchor: str
    owner: str | None
    path: str
    description: str | None
    classification: tuple[str, ...]
    #: Open findings per severity, worst first (one entry per severity).
    open_by_severity: tuple[SeverityCount, ...]
    open: int
    #: Suppressed inline, waived or baselined.
    not_counted: int
    findings: tuple[FindingView, ...]


@dataclass(frozen=True, slots=True)
class FindingRef:
    anchor: str
    label: str
    severity: str


@dataclass(frozen=True, slots=True)
class ControlRow:
    id: str
    anchor: str
    title: str
    automation: str
    status: str
    status_label: str
    reason: str | None
    rules: tuple[str, ...]
    findings: tuple[FindingRef, ...]
    more_findings: int


@dataclass(frozen=True, slots=True)
class StatusCount:
    status: str
    label: str
    count: int


@dataclass(frozen=True, slots=True)
class FrameworkView:
    key: str
    label: str
    anchor: str
    #: One entry per ControlStatus (passed, failed, not-assessed, manual).
    counts: tuple[StatusCount, ...]
    total: int
    rows: tuple[ControlRow, ...]


@dataclass(frozen=True, slots=True)
class ReasonView:
    policy: str
    rule: str
    message: str
    findings: int


@dataclass(frozen=True, slots=True)
class VerdictView:
    passed: bool
    status: str
    fail_on: str
    mode: str
    reasons: tuple[ReasonView, ...]


@dataclass(frozen=True, slots=True)
class CountsView:
    total: int
    open: int
    failing: int
    #: Open and new (or no baseline): what a pull request introduces; listed in Markdown.
    new_open: int
    #: Open but already in the baseline (gate mode `all` with a baseline).
    unchanged_open: int
    baselined: int
    waived: int
    suppressed: int
    skipped: int
    scanner_errors: int
    waivers_active: int
    waivers_expired: int
    waivers_stale: int


@dataclass(frozen=True, slots=True)
class ScannerView:
    name: str
    status: str
    version: str
    duration: str
    findings: str
    error: str | None
    #: The error on one line, cut to ERROR_CHARS.
    error_summary: str | None
    commands: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class WaiverView:
    id: str
    anchor: str
    state: str
    scope: str
    reason: str
    owner: str
    approver: str
    ticket: str | None
    expires: str
    source: str
    findings: int
    #: What the waiver did, in words ("expired on …: 1 finding(s) count again").
    note: str
    #: Expired or stale: its owner has to act.
    needs_action: bool


@dataclass(frozen=True, slots=True)
class SkipView:
    path: str
    tool: str | None
    reason: str


@dataclass(frozen=True, slots=True)
class BaselineView:
    source: str
    entries: int
    matched: int
    absent: int


@dataclass(frozen=True, slots=True)
class InputView:
    kind: str
    path: str
    sha256: str
    detail: str | None


@dataclass(frozen=True, slots=True)
class CiView:
    provider: str
    run_id: str | None
    run_url: str | None
    #: `run_url` as a link when it is an http(s) URL.
    run_href: str | None
    actor: str | None
    event: str | None
    ref: str | None


@dataclass(frozen=True, slots=True)
class ScanInfo:
    root: str
    tool: str
    version: str
    commit: str | None
    started: str
    finished: str
    duration: str
    #: The changed files of a `--changed-only` scan, None for a full scan.
    changed_only: tuple[str, ...] | None
    baseline: BaselineView | None
    branch: str | None
    #: "uncommitted changes" / "clean", None when unknown.
    worktree: str | None
    ci: CiView | None
    #: The policy and data files the scan used, with their digests.
    inputs: tuple[InputView, ...]


@dataclass(frozen=True, slots=True)
class ReportView:
    scan: ScanInfo
    verdict: VerdictView
    counts: CountsView
    scanners: tuple[ScannerView, ...]
    scanner_errors: tuple[ScannerView, ...]
    services: tuple[ServiceView, ...]
    frameworks: tuple[FrameworkView, ...]
    waivers: tuple[WaiverView, ...]
    skipped: tuple[SkipView, ...]
    #: Every finding, worst first, then service, path, line, rule.
    findings: tuple[FindingView, ...]
    #: The open findings a pull request introduces (new, or no baseline), worst first.
    new_open: tuple[FindingView, ...]
