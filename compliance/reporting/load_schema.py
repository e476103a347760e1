"""The saved JSON result as lenient pydantic models, each rebuilding its model value.

Validation is pydantic at the boundary, lenient like docs/result.md asks of consumers:
unknown keys are ignored, and so is `summary` (derived, recomputed on output). Every key
the JSON writer writes is required (`package` only on dependency findings) and checked
for its type, strictly (no "1" for 1, no 1 for true); enums must be one of their values.
The rebuilt result carries this tool's SCHEMA_VERSION, the shape it was rebuilt in.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from pydantic import BaseModel, ConfigDict, PlainValidator, Strict

from compliance.model import (
    SCHEMA_VERSION,
    BaselineState,
    BaselineSummary,
    CiContext,
    Confidence,
    ControlResult,
    ControlStatus,
    Finding,
    FindingKind,
    Fingerprint,
    GateFailure,
    GateMode,
    InputFile,
    Location,
    Package,
    RuleId,
    RunContext,
    ScannerRun,
    ScannerStatus,
    ScanResult,
    ScanScope,
    Service,
    ServiceName,
    ServiceSource,
    Severity,
    Skip,
    Suppression,
    SuppressionKind,
    ToolInfo,
    Verdict,
    VerdictCounts,
    WaiverState,
    WaiverStatus,
)


def _number(value: object) -> float:
    # A JSON number, kept as parsed: an int stays an int, so it is rendered as it was.
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    raise ValueError("Input should be a valid number")


def _datetime(value: object) -> datetime:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("Input should be an ISO 8601 date and time (2024-05-01T12:00:00+00:00)")


def _date(value: object) -> date:
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise ValueError("Input should be an ISO 8601 date (2024-05-01)")


# Enums are matched by value (strict mode would want enum instances); a date or time is
# parsed with the stdlib, so it keeps its offset and renders back to the same text.
_Number = Annotated[float, PlainValidator(_number)]
_DateTime = Annotated[datetime, PlainValidator(_datetime)]
_Date = Annotated[date, PlainValidator(_date)]
_Severity = Annotated[Severity, Strict(False)]
_Confidence = Annotated[Confidence, Strict(False)]
_FindingKind = Annotated[FindingKind, Strict(False)]
_SuppressionKind = Annotated[SuppressionKind, Strict(False)]
_BaselineState = Annotated[BaselineState, Strict(False)]
_ServiceSource = Annotated[ServiceSource, Strict(False)]
_ScannerStatus = Annotated[ScannerStatus, Strict(False)]
_GateMode = Annotated[GateMode, Strict(False)]
_WaiverState = Annotated[WaiverState, Strict(False)]
_ControlStatus = Annotated[ControlStatus, Strict(False)]


class _Lenient(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True, strict=True)


class _Tool(_Lenient):
    name: str
    version: str

    def to_model(self) -> ToolInfo:
        return ToolInfo(self.name, self.version)


class _Reason(_Lenient):
    policy: str
    rule: str
    message: str
    findings: list[str]

    def to_model(self) -> GateFailure:
        return GateFailure(self.policy, self.rule, self.message, _fingerprints(self.findings))


class _Counts(_Lenient):
    total: int
    open: int
    failing: int
    new: int
    unchanged: int
    baselined: int
    waived: int
    suppressed: int

    def to_model(self) -> VerdictCounts:
        return VerdictCounts(
            total=self.total,
            open=self.open,
            failing=self.failing,
            new=self.new,
            unchanged=self.unchanged,
            baselined=self.baselined,
            waived=self.waived,
            suppressed=self.suppressed,
        )


class _Verdict(_Lenient):
    passed: bool
    fail_on: _Severity
    mode: _GateMode
    counts: _Counts
    reasons: list[_Reason]
    failing: list[str]

    def to_model(self) -> Verdict:
        return Verdict(
            passed=self.passed,
            fail_on=self.fail_on,
            reasons=tuple(r.to_model() for r in self.reasons),
            failing=_fingerprints(self.failing),
            mode=self.mode,
            counts=self.counts.to_model(),
        )


class _Scanner(_Lenient):
    name: str
    version: str | None
    status: _ScannerStatus
    duration_s: _Number
    error: str | None
    findings: int
    commands: list[list[str]]

    def to_model(self) -> ScannerRun:
        return ScannerRun(
            name=self.name,
            status=self.status,
            version=self.version,
            duration_s=self.duration_s,
            error=self.error,
            commands=tuple(tuple(c) for c in self.commands),
            findings=self.findings,
        )


class _Service(_Lenient):
    name: str
    path: str
    owner: str | None
    source: _ServiceSource
    description: str | None
    data_classification: list[str]

    def to_model(self) -> Service:
        return Service(
            name=ServiceName(self.name),
            path=self.path,
            owner=self.owner,
            source=self.source,
            description=self.description,
            data_classification=tuple(self.data_classification),
        )


class _Suppression(_Lenient):
    kind: _SuppressionKind
    justification: str

    def to_model(self) -> Suppression:
        return Suppression(self.kind, self.justification)


class _Package(_Lenient):
    name: str
    version: str | None
    fixed_versions: list[str]
    aliases: list[str]

    def to_model(self) -> Package:
        return Package(self.name, self.version, tuple(self.fixed_versions), tuple(self.aliases))


class _Finding(_Lenient):
    fingerprint: str
    tool: str
    rule_id: str
    title: str
    severity: _Severity
    confidence: _Confidence | None
    kind: _FindingKind
    category: str | None
    message: str
    path: str
    line: int | None
    end_line: int | None
    service: str
    cwe: list[str]
    controls: list[str]
    snippet: str | None
    resource: str | None
    help_url: str | None
    suppression: _Suppression | None
    baseline: _BaselineState | None
    #: Written for dependency findings only.
    package: _Package | None = None

    def to_model(self) -> Finding:
        return Finding(
            fingerprint=Fingerprint(self.fingerprint),
            service=ServiceName(self.service),
            tool=self.tool,
            rule_id=RuleId(self.rule_id),
            title=self.title,
            message=self.message,
            severity=self.severity,
            kind=self.kind,
            location=Location(self.path, self.line, self.end_line),
            confidence=self.confidence,
            cwe=tuple(self.cwe),
            snippet=self.snippet,
            resource=self.resource,
            package=self.package.to_model() if self.package is not None else None,
            help_url=self.help_url,
            category=self.category,
            suppression=self.suppression.to_model() if self.suppression is not None else None,
            controls=tuple(self.controls),
            baseline=self.baseline,
        )


class _Skip(_Lenient):
    path: str
    reason: str
    tool: str | None

    def to_model(self) -> Skip:
        return Skip(self.path, self.reason, self.tool)


class _Control(_Lenient):
    framework: str
    id: str
    title: str
    automation: str
    status: _ControlStatus
    reason: str | None
    findings: list[str]
    rules: list[str]

    def to_model(self) -> ControlResult:
        return ControlResult(
            framework=self.framework,
            id=self.id,
            title=self.title,
            automation=self.automation,
            status=self.status,
            findings=_fingerprints(self.findings),
            rules=tuple(self.rules),
            reason=self.reason,
        )


class _Waiver(_Lenient):
    id: str
    state: _WaiverState
    scope: str
    reason: str
    owner: str
    approver: str
    ticket: str | None
    expires: _Date
    source: str
    findings: list[str]

    def to_model(self) -> WaiverStatus:
        return WaiverStatus(
            id=self.id,
            state=self.state,
            scope=self.scope,
            reason=self.reason,
            owner=self.owner,
            approver=self.approver,
            expires=self.expires,
            source=self.source,
            ticket=self.ticket,
            findings=_fingerprints(self.findings),
        )


class _Baseline(_Lenient):
    source: str
    entries: int
    matched: int
    absent: int

    def to_model(self) -> BaselineSummary:
        return BaselineSummary(self.source, self.entries, self.matched, self.absent)


class _Input(_Lenient):
    kind: str
    path: str
    sha256: str
    detail: str | None

    def to_model(self) -> InputFile:
        return InputFile(self.kind, self.path, self.sha256, self.detail)


class _Ci(_Lenient):
    provider: str
    run_id: str | None
    run_url: str | None
    actor: str | None
    event: str | None
    ref: str | None

    def to_model(self) -> CiContext:
        return CiContext(self.provider, self.run_id, self.run_url, self.actor, self.event, self.ref)


class _Context(_Lenient):
    branch: str | None
    dirty: bool | None
    ci: _Ci | None

    def to_model(self) -> RunContext:
        return RunContext(self.branch, self.dirty, self.ci.to_model() if self.ci else None)


class _Scope(_Lenient):
    source: str
    files: list[str]

    def to_model(self) -> ScanScope:
        return ScanScope(self.source, tuple(self.files))


class SavedResult(_Lenient):
    """The keys of a result we rebuild from; `summary` is derived, so not read."""

    schema_version: str
    tool: _Tool
    root: str
    commit: str | None
    started_at: _DateTime
    finished_at: _DateTime
    verdict: _Verdict
    scanners: list[_Scanner]
    services: list[_Service]
    findings: list[_Finding]
    skipped: list[_Skip]
    controls: list[_Control]
    waivers: list[_Waiver]
    baseline: _Baseline | None
    inputs: list[_Input] = []  # since 2.1
    context: _Context = _Context(branch=None, dirty=None, ci=None)  # since 2.2
    scope: _Scope | None = None  # since 2.3

    def to_model(self) -> ScanResult:
        return ScanResult(
            tool=self.tool.to_model(),
            root=self.root,
            started_at=self.started_at,
            finished_at=self.finished_at,
            scanners=tuple(s.to_model() for s in self.scanners),
            services=tuple(s.to_model() for s in self.services),
            findings=tuple(f.to_model() for f in self.findings),
            skipped=tuple(s.to_model() for s in self.skipped),
            verdict=self.verdict.to_model(),
            schema_version=SCHEMA_VERSION,
            commit=self.commit,
            controls=tuple(c.to_model() for c in self.controls),
            waivers=tuple(w.to_model() for w in self.waivers),
            baseline=self.baseline.to_model() if self.baseline is not None else None,
            inputs=tuple(i.to_model() for i in self.inputs),
            context=self.context.to_model(),
            scope=self.scope.to_model() if self.scope is not None else None,
        )


def _fingerprints(values: list[str]) -> tuple[Fingerprint, ...]:
    return tuple(Fingerprint(v) for v in values)
