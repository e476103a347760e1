"""What a ledger entry holds, and `record_from_result`: what the ledger keeps of a run.

An entry records when a run happened, on which repository, commit and branch, the status of
every control, the open findings that failed each control, the waivers in force, the
verdict and the digest of the run's evidence bundle.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import PurePosixPath

from compliance.errors import UsageError
from compliance.model import (
    ControlStatus,
    Fingerprint,
    ScanResult,
    Severity,
    WaiverState,
)

_DIGEST = re.compile(r"(?:sha256:)?([0-9a-f]{64})")


@dataclass(frozen=True, slots=True)
class ControlRecord:
    """One control in one run: its status and the open findings that failed it."""

    framework: str
    id: str
    status: ControlStatus
    failing: tuple[Fingerprint, ...] = ()


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """Enough of a failing finding for an auditor to know what it was."""

    fingerprint: Fingerprint
    tool: str
    rule_id: str
    severity: Severity
    path: str
    title: str
    service: str


@dataclass(frozen=True, slots=True)
class WaiverRecord:
    """A waiver in force during the run (active, or stale: in force but matching nothing)."""

    id: str
    state: WaiverState
    owner: str
    approver: str
    expires: date
    ticket: str | None
    findings: int


@dataclass(frozen=True, slots=True)
class RunRecord:
    """What is recorded of one run; `record_from_result` builds it from a ScanResult."""

    repo: str
    started_at: datetime
    finished_at: datetime
    commit: str | None
    branch: str | None
    dirty: bool | None
    ci_run_url: str | None
    passed: bool
    controls: tuple[ControlRecord, ...]
    findings: tuple[FindingRecord, ...] = ()
    waivers: tuple[WaiverRecord, ...] = ()
    bundle_digest: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    seq: int
    recorded_at: datetime
    run: RunRecord
    prev_hash: str
    entry_hash: str


def record_from_result(
    result: ScanResult, *, repo: str | None = None, bundle_digest: str | None = None
) -> RunRecord:
    """What the ledger keeps of `result`. `repo` defaults to the last part of its root."""
    controls = tuple(
        ControlRecord(c.framework, c.id, c.status, tuple(sorted(set(c.findings))))
        for c in sorted(result.controls, key=lambda c: (c.framework, c.id))
    )
    failing = {fp for c in controls for fp in c.failing}
    findings = tuple(
        FindingRecord(
            f.fingerprint, f.tool, f.rule_id, f.severity, f.location.path, f.title, f.service
        )
        for f in sorted(result.findings, key=lambda f: f.fingerprint)
        if f.fingerprint in failing
    )
    waivers = tuple(
        WaiverRecord(w.id, w.state, w.owner, w.approver, w.expires, w.ticket, len(w.findings))
        for w in sorted(result.waivers, key=lambda w: w.id)
        if w.state is not WaiverState.EXPIRED
    )
    ci = result.context.ci
    return RunRecord(
        repo=repo if repo is not None else repo_name(result.root),
        started_at=result.started_at,
        finished_at=result.finished_at,
        commit=result.commit,
        branch=result.context.branch,
        dirty=result.context.dirty,
        ci_run_url=ci.run_url if ci is not None else None,
        passed=result.verdict.passed,
        controls=controls,
        findings=_unique_findings(findings),
        waivers=waivers,
        bundle_digest=parse_digest(bundle_digest) if bundle_digest is not None else None,
    )


def _unique_findings(findings: tuple[FindingRecord, ...]) -> tuple[FindingRecord, ...]:
    seen: dict[Fingerprint, FindingRecord] = {}
    for finding in findings:
        seen.setdefault(finding.fingerprint, finding)
    return tuple(seen.values())


def repo_name(root: str) -> str:
    """The repository's name from a result's root: its last path component."""
    name = PurePosixPath(root.replace("\\", "/")).name
    return name or root or "(unnamed)"


def parse_digest(text: str) -> str:
    """A bundle digest: 64 lowercase hex digits, optionally prefixed `sha256:`."""
    match = _DIGEST.fullmatch(text.strip())
    if match is None:
        raise UsageError(
            f"bundle digest {text!r} is not a SHA-256",
            hint="expected 64 lowercase hex digits (optionally prefixed sha256:)",
        )
    return match.group(1)
