"""The merge gate: waivers, the baseline, then the gate policy. Pure: the date is an argument.

Order matters and is fixed:
1. the tools' own inline suppressions (`# nosec`, `# nosemgrep`, `checkov:skip=`) arrive on
   the findings already; waivers and the baseline leave them as they are;
2. `apply_waivers`: a waiver in force suppresses the findings it matches (reported as
   waived, with the waiver's id, owner, approver, expiry and reason); an expired one
   suppresses nothing and lists what it would have covered; one that matched nothing is
   stale;
3. `apply_baseline`: every finding is labelled new or unchanged against the baseline; in
   mode new-only the unchanged ones that are still open are suppressed as baselined;
4. controls are evaluated on the result (in compliance.mapping), so a waived finding does
   not fail its control;
5. `evaluate_gate`: thresholds (with per-service and per-classification overrides), limits
   per control or framework, and the built-in rules no policy can switch off: a scanner
   error fails, and a scan in which no scanner ran is never a pass.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from compliance.model import (
    BaselineState,
    BaselineSummary,
    ControlResult,
    ControlStatus,
    Finding,
    Fingerprint,
    GateFailure,
    GateMode,
    ScannerRun,
    ScannerStatus,
    Service,
    ServiceName,
    Severity,
    Suppression,
    SuppressionKind,
    Verdict,
    VerdictCounts,
    WaiverState,
    WaiverStatus,
)
from compliance.policy.baseline import Baseline
from compliance.policy.gate import GatePolicy, Limit, Override
from compliance.policy.waivers import Waiver, Waivers, path_glob

#: The policy name of the rules that hold whatever the gate file says.
BUILT_IN = "(built-in)"


def waiver_matches(waiver: Waiver, finding: Finding) -> bool:
    if waiver.fingerprint is not None:
        return finding.fingerprint == waiver.fingerprint
    if waiver.tool is not None and finding.tool != waiver.tool:
        return False
    if waiver.service is not None and finding.service != waiver.service:
        return False
    if not any(fnmatch.fnmatchcase(finding.rule_id, r) for r in waiver.rules):
        return False
    return any(path_glob(p).match(finding.location.path) for p in waiver.paths)


def apply_waivers(
    findings: Sequence[Finding], waivers: Waivers, today: date
) -> tuple[tuple[Finding, ...], tuple[WaiverStatus, ...]]:
    """Suppress what the waivers in force cover; report every waiver's state.

    A finding already suppressed inline is left alone (the tool's own suppression is the
    one the code shows) and does not keep a waiver from being stale.
    """
    matched: dict[str, list[Fingerprint]] = {w.id: [] for w in waivers.waivers}
    out: list[Finding] = []
    for finding in findings:
        if finding.suppression is not None:
            out.append(finding)
            continue
        suppression: Suppression | None = None
        for waiver in waivers.waivers:
            if not waiver_matches(waiver, finding):
                continue
            matched[waiver.id].append(finding.fingerprint)
            if suppression is None and waiver.in_force(today):
                suppression = Suppression(SuppressionKind.WAIVED, _justification(waiver))
        out.append(finding if suppression is None else replace(finding, suppression=suppression))
    statuses = tuple(
        WaiverStatus(
            id=w.id,
            state=_state(w, bool(matched[w.id]), today),
            scope=w.describe(),
            reason=w.reason,
            owner=w.owner,
            approver=w.approver,
            expires=w.expires,
            source=w.source,
            ticket=w.ticket,
            findings=tuple(matched[w.id]),
        )
        for w in waivers.waivers
    )
    return tuple(out), statuses


def _state(waiver: Waiver, matched: bool, today: date) -> WaiverState:
    if not waiver.in_force(today):
        return WaiverState.EXPIRED
    return WaiverState.ACTIVE if matched else WaiverState.STALE


def _justification(waiver: Waiver) -> str:
    ticket = f", ticket {waiver.ticket}" if waiver.ticket else ""
    return (
        f"waiver {waiver.id} ({waiver.source}): {waiver.reason} "
        f"[owner {waiver.owner}, approved by {waiver.approver}, "
        f"expires {waiver.expires.isoformat()}{ticket}]"
    )


def apply_baseline(
    findings: Sequence[Finding], baseline: Baseline | None, mode: GateMode
) -> tuple[tuple[Finding, ...], BaselineSummary | None]:
    """Label every finding new or unchanged; in new-only mode suppress the unchanged ones.

    Multiset semantics: a baseline entry with count n covers at most n findings.
    """
    if baseline is None:
        return tuple(findings), None
    left: Counter[str] = Counter(baseline.counts)
    out: list[Finding] = []
    for finding in findings:
        if left[finding.fingerprint] > 0:
            left[finding.fingerprint] -= 1
            state = BaselineState.UNCHANGED
        else:
            state = BaselineState.NEW
        suppression = finding.suppression
        if state is BaselineState.UNCHANGED and mode is GateMode.NEW_ONLY and suppression is None:
            suppression = Suppression(
                SuppressionKind.BASELINED, f"present in the baseline {baseline.source}"
            )
        out.append(replace(finding, baseline=state, suppression=suppression))
    absent = sum(left.values())
    summary = BaselineSummary(
        source=baseline.source,
        entries=baseline.entries,
        matched=baseline.entries - absent,
        absent=absent,
    )
    return tuple(out), summary


def evaluate_gate(
    findings: Sequence[Finding],
    scanners: Sequence[ScannerRun],
    controls: Sequence[ControlResult],
    services: Sequence[Service],
    policy: GatePolicy,
    *,
    fail_on: Severity | None = None,
) -> Verdict:
    """The verdict. `fail_on` (the command line's) replaces the policy's default threshold;
    the policy's overrides still apply."""
    default = fail_on or policy.fail_on
    classification = {s.name: set(s.data_classification) for s in services}
    open_findings = [f for f in findings if f.suppression is None]
    reasons: list[GateFailure] = []

    by_rule: dict[str, list[Finding]] = {}
    thresholds: dict[str, tuple[Severity, Override | None]] = {}
    for finding in open_findings:
        threshold, override = _threshold(finding, default, policy.overrides, classification)
        if finding.severity >= threshold:
            key = override.key if override else "fail_on"
            by_rule.setdefault(key, []).append(finding)
            thresholds[key] = (threshold, override)
    for key in sorted(by_rule, key=lambda k: (k != "fail_on", k)):
        threshold, override = thresholds[key]
        hits = by_rule[key]
        scope = f" of {override.describe()}" if override else ""
        reasons.append(
            GateFailure(
                policy.source,
                key,
                f"{_count(len(hits), 'open finding')}{scope} at or above {threshold.value}",
                tuple(f.fingerprint for f in hits),
            )
        )

    framework_of = {c.id: c.framework for c in controls}
    for limit in policy.limits:
        failure = _limit(limit, open_findings, controls, framework_of, policy.source)
        if failure is not None:
            reasons.append(failure)

    for run in scanners:
        if run.status is ScannerStatus.ERROR:
            reasons.append(
                GateFailure(BUILT_IN, "scanner-error", f"scanner {run.name} failed: {run.error}")
            )
    # No scanner at all happens only when a changed-files scan had nothing to look at.
    if scanners and not any(s.status is ScannerStatus.OK for s in scanners):
        reasons.append(
            GateFailure(
                BUILT_IN, "nothing-checked", "no scanner ran successfully: nothing was checked"
            )
        )

    failing_set = {fp for r in reasons for fp in r.findings}
    failing = tuple(f.fingerprint for f in findings if f.fingerprint in failing_set)
    return Verdict(
        passed=not reasons,
        fail_on=default,
        reasons=tuple(reasons),
        failing=failing,
        mode=policy.mode,
        counts=count_findings(findings, len(failing)),
    )


def _threshold(
    finding: Finding,
    default: Severity,
    overrides: Sequence[Override],
    classification: dict[ServiceName, set[str]],
) -> tuple[Severity, Override | None]:
    """The strictest threshold among the overrides that match, else the default."""
    best: Override | None = None
    for override in overrides:
        if override.services and not any(
            fnmatch.fnmatchcase(finding.service, s) for s in override.services
        ):
            continue
        if override.data_classification and not (
            classification.get(finding.service, set()) & set(override.data_classification)
        ):
            continue
        if best is None or override.fail_on < best.fail_on:
            best = override
    return (best.fail_on, best) if best else (default, None)


def _limit(
    limit: Limit,
    open_findings: Sequence[Finding],
    controls: Sequence[ControlResult],
    framework_of: dict[str, str],
    source: str,
) -> GateFailure | None:
    def counted(finding: Finding) -> bool:
        if limit.severity is not None and finding.severity < limit.severity:
            return False
        if limit.control is not None:
            return limit.control in finding.controls
        return any(framework_of.get(c) == limit.framework for c in finding.controls)

    hits = [f for f in open_findings if counted(f)]
    problems = []
    failing: set[Fingerprint] = set()
    if limit.max_findings is not None and len(hits) > limit.max_findings:
        floor = f" at or above {limit.severity.value}" if limit.severity else ""
        problems.append(
            f"{_count(len(hits), 'open finding')}{floor} bear on {limit.target} "
            f"(limit {limit.max_findings})"
        )
        failing.update(f.fingerprint for f in hits)
    if limit.max_failed_controls is not None:
        failed = [
            c
            for c in controls
            if c.framework == limit.framework and c.status is ControlStatus.FAILED
        ]
        if len(failed) > limit.max_failed_controls:
            problems.append(
                f"{_count(len(failed), 'control')} of {limit.target} failed "
                f"(limit {limit.max_failed_controls}): {', '.join(c.id for c in failed)}"
            )
            failing.update(fp for c in failed for fp in c.findings)
    if not problems:
        return None
    ordered = tuple(f.fingerprint for f in open_findings if f.fingerprint in failing)
    return GateFailure(source, limit.key, "; ".join(problems), ordered)


def count_findings(findings: Sequence[Finding], failing: int) -> VerdictCounts:
    kinds = Counter(f.suppression.kind if f.suppression else None for f in findings)
    unchanged = sum(1 for f in findings if f.baseline is BaselineState.UNCHANGED)
    return VerdictCounts(
        total=len(findings),
        open=kinds[None],
        failing=failing,
        new=len(findings) - unchanged,
        unchanged=unchanged,
        baselined=kinds[SuppressionKind.BASELINED],
        waived=kinds[SuppressionKind.WAIVED],
        suppressed=kinds[SuppressionKind.INLINE],
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"
