"""`build_view`: a ScanResult as a ReportView, built once.

Grouping, sorting, labels, counts, truncation decisions and links are decided here, in
Python, so the templates only print.
"""

from __future__ import annotations

import shlex
import sys
from collections.abc import Sequence

from compliance.model import (
    BaselineState,
    ControlStatus,
    Finding,
    ScannerRun,
    ScannerStatus,
    ScanResult,
    Service,
    SuppressionKind,
    WaiverState,
    WaiverStatus,
)
from compliance.reporting.view.report import (
    SEVERITIES,
    BaselineView,
    CiView,
    ControlRow,
    CountsView,
    FindingRef,
    FindingView,
    FrameworkView,
    InputView,
    ReasonView,
    ReportView,
    ScanInfo,
    ScannerView,
    ServiceView,
    SeverityCount,
    SkipView,
    StatusCount,
    VerdictView,
    WaiverView,
)
from compliance.reporting.view.text import file_href, help_href, link_prefix, one_line, visible

if sys.version_info >= (3, 11):
    from typing import assert_never
else:  # pragma: no cover - Python 3.10
    from typing_extensions import assert_never

FRAMEWORK_LABELS = {"iso27001": "ISO/IEC 27001:2022", "soc2": "SOC 2"}
STATUS_LABELS = {
    ControlStatus.PASSED: "passed",
    ControlStatus.FAILED: "failed",
    ControlStatus.NOT_ASSESSED: "not assessed",
    ControlStatus.MANUAL: "manual",
}
WORKTREE = {True: "uncommitted changes", False: "clean"}
#: A scanner's error on one line is cut here.
ERROR_CHARS = 300
#: Findings linked from one control's row; the rest are counted.
CONTROL_FINDINGS_SHOWN = 10


def build_view(result: ScanResult, link_base: str | None = None) -> ReportView:
    prefix = link_prefix(link_base)
    expired: dict[str, list[str]] = {}
    for w in result.waivers:
        if w.state is WaiverState.EXPIRED:
            for fingerprint in w.findings:
                expired.setdefault(fingerprint, []).append(
                    visible(f"{w.id} expired on {w.expires.isoformat()}")
                )
    ordered = sorted(result.findings, key=Finding.sort_key)
    findings = tuple(_finding(f, prefix, tuple(expired.get(f.fingerprint, ()))) for f in ordered)
    new_open = tuple(
        view
        for f, view in zip(ordered, findings, strict=True)
        if f.suppression is None and f.baseline is not BaselineState.UNCHANGED
    )
    scanners = tuple(_scanner(run) for run in result.scanners)
    waivers = tuple(_waiver(w) for w in result.waivers)
    return ReportView(
        scan=_scan_info(result),
        verdict=VerdictView(
            passed=result.verdict.passed,
            status="passed" if result.verdict.passed else "failed",
            fail_on=result.verdict.fail_on.value,
            mode=result.verdict.mode.value,
            reasons=tuple(
                ReasonView(visible(r.policy), visible(r.rule), visible(r.message), len(r.findings))
                for r in result.verdict.reasons
            ),
        ),
        counts=_counts(result, len(new_open), waivers),
        scanners=scanners,
        scanner_errors=tuple(s for s in scanners if s.status == ScannerStatus.ERROR.value),
        services=_services(result, findings),
        frameworks=_frameworks(result, findings),
        waivers=waivers,
        skipped=tuple(
            SkipView(visible(s.path), _optional(s.tool), visible(s.reason)) for s in result.skipped
        ),
        findings=findings,
        new_open=new_open,
    )


def _finding(f: Finding, prefix: str | None, expired_waivers: tuple[str, ...]) -> FindingView:
    path = visible(f.location.path)
    line = f.location.start_line
    title = visible(f.title)
    message = visible(f.message)
    state, state_label = _state(f.suppression.kind if f.suppression else None)
    package = None
    if f.package is not None:
        package = f.package.name + (f" {f.package.version}" if f.package.version else "")
        if f.package.fixed_versions:
            package += f" (fixed in {', '.join(f.package.fixed_versions)})"
        if f.package.aliases:
            package += f"; also known as {', '.join(f.package.aliases)}"
        package = visible(package)
    return FindingView(
        fingerprint=f.fingerprint,
        anchor=f"f-{f.fingerprint}",
        service=visible(f.service),
        severity=f.severity.value,
        tool=visible(f.tool),
        rule=visible(f.rule_id),
        title=title,
        message=None if message == title else message,
        summary=one_line(f.title if f.package is not None else f.message),
        location=f"{path}:{line}" if line else path,
        href=file_href(prefix, f.location.path, line) if prefix is not None else None,
        help_href=help_href(f.help_url),
        snippet=_optional(f.snippet),
        resource=_optional(f.resource),
        package=package,
        cwe=tuple(visible(c) for c in f.cwe),
        controls=tuple(visible(c) for c in f.controls),
        state=state,
        state_label=state_label,
        suppressed=f.suppression is not None,
        justification=visible(f.suppression.justification) if f.suppression else None,
        expired_waivers=expired_waivers,
        baseline=f.baseline.value if f.baseline else None,
    )


def _state(kind: SuppressionKind | None) -> tuple[str, str]:
    match kind:
        case None:
            return "open", "open"
        case SuppressionKind.INLINE:
            return "inline", "suppressed inline"
        case SuppressionKind.WAIVED:
            return "waived", "waived"
        case SuppressionKind.BASELINED:
            return "baselined", "baselined"
        case _ as unreachable:
            assert_never(unreachable)


def _scan_info(result: ScanResult) -> ScanInfo:
    seconds = (result.finished_at - result.started_at).total_seconds()
    baseline, context, ci = result.baseline, result.context, result.context.ci
    return ScanInfo(
        root=visible(result.root),
        tool=visible(result.tool.name),
        version=visible(result.tool.version),
        commit=_optional(result.commit),
        started=result.started_at.isoformat(sep=" ", timespec="seconds"),
        finished=result.finished_at.isoformat(sep=" ", timespec="seconds"),
        duration=f"{seconds:.1f} s",
        changed_only=(
            tuple(visible(p) for p in result.scope.files) if result.scope is not None else None
        ),
        baseline=(
            BaselineView(
                visible(baseline.source), baseline.entries, baseline.matched, baseline.absent
            )
            if baseline is not None
            else None
        ),
        branch=_optional(context.branch),
        worktree=None if context.dirty is None else WORKTREE[context.dirty],
        ci=(
            CiView(
                provider=visible(ci.provider),
                run_id=_optional(ci.run_id),
                run_url=_optional(ci.run_url),
                run_href=help_href(ci.run_url),
                actor=_optional(ci.actor),
                event=_optional(ci.event),
                ref=_optional(ci.ref),
            )
            if ci is not None
            else None
        ),
        inputs=tuple(
            InputView(visible(i.kind), visible(i.path), visible(i.sha256), _optional(i.detail))
            for i in result.inputs
        ),
    )


def _optional(text: str | None) -> str | None:
    return visible(text) if text else None


def _counts(result: ScanResult, new_open: int, waivers: Sequence[WaiverView]) -> CountsView:
    counts = result.verdict.counts
    states = [w.state for w in waivers]
    return CountsView(
        total=counts.total,
        open=counts.open,
        failing=counts.failing,
        new_open=new_open,
        unchanged_open=sum(
            1
            for f in result.findings
            if f.suppression is None and f.baseline is BaselineState.UNCHANGED
        ),
        baselined=counts.baselined,
        waived=counts.waived,
        suppressed=counts.suppressed,
        skipped=len(result.skipped),
        scanner_errors=len(result.scanner_errors),
        waivers_active=states.count(WaiverState.ACTIVE.value),
        waivers_expired=states.count(WaiverState.EXPIRED.value),
        waivers_stale=states.count(WaiverState.STALE.value),
    )


def _scanner(run: ScannerRun) -> ScannerView:
    return ScannerView(
        name=visible(run.name),
        status=run.status.value,
        version=visible(run.version) if run.version else "-",
        duration=f"{run.duration_s:.1f} s",
        findings=str(run.findings) if run.status is ScannerStatus.OK else "-",
        error=_optional(run.error),
        error_summary=one_line(run.error, ERROR_CHARS) if run.error else None,
        commands=tuple(visible(shlex.join(c)) for c in run.commands),
    )


def _waiver(w: WaiverStatus) -> WaiverView:
    count = len(w.findings)
    match w.state:
        case WaiverState.ACTIVE:
            note = f"in force until {w.expires.isoformat()}: waives {count} finding(s)"
        case WaiverState.EXPIRED:
            note = f"expired on {w.expires.isoformat()}: {count} finding(s) it covered count again"
        case WaiverState.STALE:
            note = "matches no finding: remove it"
        case _ as unreachable:
            assert_never(unreachable)
    return WaiverView(
        id=visible(w.id),
        anchor=f"w-{visible(w.id)}",
        state=w.state.value,
        scope=visible(w.scope),
        reason=visible(w.reason),
        owner=visible(w.owner),
        approver=visible(w.approver),
        ticket=_optional(w.ticket),
        expires=w.expires.isoformat(),
        source=visible(w.source),
        findings=count,
        note=note,
        needs_action=w.state is not WaiverState.ACTIVE,
    )


def _services(result: ScanResult, findings: Sequence[FindingView]) -> tuple[ServiceView, ...]:
    """Every declared service in the result's order (with or without findings), then any
    service only a finding names, by name."""
    by_service: dict[str, list[FindingView]] = {}
    for f in findings:
        by_service.setdefault(f.service, []).append(f)
    declared = {visible(s.name): s for s in result.services}
    names = [*declared, *sorted(set(by_service) - set(declared))]
    return tuple(
        _service(index, name, declared.get(name), by_service.get(name, []))
        for index, name in enumerate(names)
    )


def _service(index: int, name: str, service: Service | None, own: list[FindingView]) -> ServiceView:
    open_counts = dict.fromkeys((s.value for s in SEVERITIES), 0)
    for f in own:
        if not f.suppressed:
            open_counts[f.severity] += 1
    return ServiceView(
        name=name,
        anchor=f"s-{index}",
        owner=_optional(service.owner) if service else None,
        path=visible(service.path) if service else "",
        description=_optional(service.description) if service else None,
        classification=tuple(visible(c) for c in service.data_classification) if service else (),
        open_by_severity=tuple(SeverityCount(s, n) for s, n in open_counts.items()),
        open=sum(open_counts.values()),
        not_counted=len(own) - sum(open_counts.values()),
        findings=tuple(own),
    )


def _frameworks(result: ScanResult, findings: Sequence[FindingView]) -> tuple[FrameworkView, ...]:
    position = {f.fingerprint: i for i, f in enumerate(findings)}
    rows: dict[str, list[ControlRow]] = {}
    counts: dict[str, dict[ControlStatus, int]] = {}
    for control in result.controls:
        known = sorted(position[fp] for fp in control.findings if fp in position)
        refs = tuple(_ref(findings[i]) for i in known[:CONTROL_FINDINGS_SHOWN])
        rows.setdefault(control.framework, []).append(
            ControlRow(
                id=visible(control.id),
                anchor=f"c-{visible(control.id)}",
                title=visible(control.title),
                automation=visible(control.automation),
                status=control.status.value,
                status_label=STATUS_LABELS[control.status],
                reason=visible(control.reason) if control.reason else None,
                rules=tuple(visible(r) for r in control.rules),
                findings=refs,
                more_findings=len(control.findings) - len(refs),
            )
        )
        row = counts.setdefault(control.framework, dict.fromkeys(ControlStatus, 0))
        row[control.status] += 1
    return tuple(
        FrameworkView(
            key=key,
            label=FRAMEWORK_LABELS.get(key, visible(key)),
            anchor=f"fw-{key}",
            counts=tuple(StatusCount(s.value, STATUS_LABELS[s], n) for s, n in counts[key].items()),
            total=len(framework_rows),
            rows=tuple(framework_rows),
        )
        for key, framework_rows in rows.items()
    )


def _ref(f: FindingView) -> FindingRef:
    return FindingRef(f.anchor, f"{f.rule} {f.location}", f.severity)
