"""The report view model: what the Markdown and HTML reports show, precomputed and frozen.

`build_view` turns a ScanResult into plain values once: grouping, sorting, labels, counts,
truncation decisions and links are decided here, in Python, so the templates only print.

Text that came from the scanned repository (paths, messages, snippets, justifications) stays
text: control characters and bidirectional overrides are made visible here (`\\x1b`,
`\\u202e`), and each format escapes the rest for its own syntax in its template (HTML by
autoescape, Markdown by its `md` filter). Links are built only from http(s) URLs and
percent-encoded paths, so no finding can smuggle a `javascript:` URL or break out of one.
"""

from __future__ import annotations

import re
import shlex
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar
from urllib.parse import quote, urlsplit

from compliance.errors import UsageError
from compliance.model import (
    BaselineState,
    ControlStatus,
    Finding,
    ScannerRun,
    ScannerStatus,
    ScanResult,
    Service,
    Severity,
    SuppressionKind,
    WaiverState,
    WaiverStatus,
)

if sys.version_info >= (3, 11):
    from typing import assert_never
else:  # pragma: no cover - Python 3.10
    from typing_extensions import assert_never

T = TypeVar("T")

#: Worst first: the order of every severity column and legend.
SEVERITIES: tuple[Severity, ...] = tuple(sorted(Severity, reverse=True))
FRAMEWORK_LABELS = {"iso27001": "ISO/IEC 27001:2022", "soc2": "SOC 2"}
STATUS_LABELS = {
    ControlStatus.PASSED: "passed",
    ControlStatus.FAILED: "failed",
    ControlStatus.NOT_ASSESSED: "not assessed",
    ControlStatus.MANUAL: "manual",
}
WORKTREE = {True: "uncommitted changes", False: "clean"}
#: A one-line message is cut here (with "…").
SUMMARY_CHARS = 160
#: A scanner's error on one line is cut here.
ERROR_CHARS = 300
#: Findings linked from one control's row; the rest are counted.
CONTROL_FINDINGS_SHOWN = 10

# C0 (but tab and newline), DEL, C1, and the bidi marks and overrides of "Trojan Source".
_INVISIBLE = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]")
# Characters a URL may carry as they are; everything else is percent-encoded. Parentheses
# are encoded too, so a URL can never close a Markdown link early.
_URL_SAFE = ":/?#[]@!$&'*+,;=%~"


def visible(text: str) -> str:
    """`text` with control characters and bidi overrides shown as escapes (`\\x1b`)."""
    if text.isprintable():  # the common case, in C: nothing to escape
        return text
    if "\r" in text:
        text = text.replace("\r\n", "\n")
    return _INVISIBLE.sub(_escape_char, text)


def _escape_char(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def one_line(text: str, limit: int = SUMMARY_CHARS) -> str:
    """`text` made visible, whitespace (newlines too) collapsed, cut to `limit` with "…"."""
    line = " ".join(visible(text).split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


# --- links ---------------------------------------------------------------------------------


def link_prefix(link_base: str | None) -> str | None:
    """The file-link prefix for `link_base`: an http(s) URL or a relative path, encoded."""
    if link_base is None:
        return None
    try:
        scheme = urlsplit(link_base).scheme.lower()
    except ValueError:
        scheme = "invalid"
    if scheme not in ("", "http", "https"):
        raise UsageError(
            f"link base {link_base!r} is not an http(s) URL",
            hint="pass e.g. --link-base https://github.com/OWNER/REPO/blob/COMMIT/",
        )
    return quote(link_base, safe=_URL_SAFE)


def file_href(prefix: str, path: str, line: int | None) -> str:
    """`{prefix}{path}#L{line}`, the path percent-encoded (`#`, `?`, spaces, quotes...)."""
    href = prefix + quote(path, safe="/")
    return f"{href}#L{line}" if line else href


def help_href(url: str | None) -> str | None:
    """The finding's help URL if it is an absolute http(s) URL (never `javascript:`)."""
    if not url:
        return None
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.netloc:
        return None
    return quote(url, safe=_URL_SAFE)


# --- the view ------------------------------------------------------------------------------


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
            tuple(visible(p) for p in result.changed_only)
            if result.changed_only is not None
            else None
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


# --- the pull-request digest: new open findings by service, then by control ---------------


@dataclass(frozen=True, slots=True)
class ControlGroup:
    #: The control ids these findings share (ISO 27001 first); () for unmapped findings.
    controls: tuple[str, ...]
    findings: tuple[FindingView, ...]


@dataclass(frozen=True, slots=True)
class ServiceGroup:
    service: str
    #: New open findings of this service, shown or not.
    total: int
    shown: int
    groups: tuple[ControlGroup, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    services: tuple[ServiceGroup, ...]
    total: int
    shown: int
    hidden: int
    #: The findings not shown, per severity (worst first, severities with none left out).
    hidden_by_severity: tuple[SeverityCount, ...]


def digester(findings: Sequence[FindingView]) -> Callable[[int], Digest]:
    """`digester(findings)(shown)`: the first `shown` of `findings` (worst first) grouped by
    service, then by the set of controls they bear on, so each finding appears once.
    Services and groups come in the order of their worst finding; the rest (the least
    severe) are only counted. The totals are counted once, so trying many `shown` is cheap."""
    totals: dict[str, int] = {}
    by_severity = dict.fromkeys((s.value for s in SEVERITIES), 0)
    for f in findings:
        totals[f.service] = totals.get(f.service, 0) + 1
        by_severity[f.severity] += 1

    def digest(shown: int) -> Digest:
        kept = findings[:shown]
        grouped: dict[str, dict[tuple[str, ...], list[FindingView]]] = {}
        hidden = dict(by_severity)
        for f in kept:
            grouped.setdefault(f.service, {}).setdefault(f.controls, []).append(f)
            hidden[f.severity] -= 1
        return Digest(
            services=tuple(
                ServiceGroup(
                    service=service,
                    total=totals[service],
                    shown=sum(len(g) for g in groups.values()),
                    groups=tuple(ControlGroup(c, tuple(g)) for c, g in groups.items()),
                )
                for service, groups in grouped.items()
            ),
            total=len(findings),
            shown=len(kept),
            hidden=len(findings) - len(kept),
            hidden_by_severity=tuple(SeverityCount(s, n) for s, n in hidden.items() if n),
        )

    return digest


@dataclass(frozen=True)  # no slots: a generic slotted dataclass breaks on Python 3.10
class Capped(Generic[T]):
    """The first items of a list, and how many more there are."""

    items: tuple[T, ...]
    more: int


def capped(items: Sequence[T], limit: int) -> Capped[T]:
    return Capped(tuple(items[:limit]), max(0, len(items) - limit))


def largest_fitting(count: int, fits: Callable[[int], bool]) -> int:
    """The largest n in [0, count] with `fits(n)`, for a `fits` that holds up to some n and
    not beyond (a report that grows with n); 0 when nothing fits. Binary search."""
    if fits(count):
        return count
    low, high = 0, count  # invariant: high does not fit; low fits, or is 0
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low
