"""Reading a saved JSON result back into the ScanResult it was rendered from.

The inverse of compliance.reporting.json, so that later commands can work from a saved
result: for every ScanResult `r`, rendering `parse_result(render(r))` as JSON gives
`render(r)` again, byte for byte. Two things the JSON does not carry exactly:

- `duration_s` is rounded to milliseconds in the JSON: a loaded result holds the rounded
  value (stable from then on). An integral duration stays an `int`, as it was rendered.
- `changed_only` is not in the JSON: a loaded result has None.

Validation is pydantic at the boundary, lenient like docs/result.md asks of consumers:
unknown keys are ignored, and so is `summary` (derived, recomputed on output). Every key
the JSON writer writes is required (`package` only on dependency findings) and checked
for its type, strictly (no "1" for 1, no 1 for true); enums must be one of their values.
`schema_version` must be 2.x; the loaded result carries this tool's SCHEMA_VERSION, the
shape it was rebuilt in. Any problem is a ConfigError naming the file and the key path.
"""

from __future__ import annotations

import json
import re
from datetime import date, datetime
from pathlib import Path
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, PlainValidator, Strict, ValidationError

from compliance.errors import ConfigError, Problem, validation_problems
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

#: The schema_version major this module reads (docs/result.schema.json).
READ_MAJOR = 2

_VERSION = re.compile(r"([0-9]+)\.([0-9]+)")
_HINT = "expected a result written by `compliance scan --format json`"


def load_result(path: Path, display: str) -> ScanResult:
    """The ScanResult saved in `path`; ConfigError naming `display` when it is not one."""
    return parse_result(_read_text(path, display), display)


def parse_result(text: str, display: str) -> ScanResult:
    """The ScanResult of a JSON result's text; ConfigError naming `display` and the key."""
    try:
        raw = json.loads(text)
    except json.JSONDecodeError as exc:
        where = f"line {exc.lineno}, column {exc.colno}"
        raise ConfigError(
            [Problem(display, where, f"invalid JSON: {exc.msg}")], hint=_HINT
        ) from None
    except (ValueError, RecursionError) as exc:  # an integer too long, nesting too deep
        message = "nested too deeply" if isinstance(exc, RecursionError) else str(exc)
        raise ConfigError([Problem(display, "", f"invalid JSON: {message}")], hint=_HINT) from None
    if not isinstance(raw, dict):
        raise ConfigError([Problem(display, "", "expected a JSON object")], hint=_HINT)
    _check_schema_version(raw, display)
    try:
        parsed = _Result.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, display), hint=_HINT) from None
    return parsed.to_model()


def _read_text(path: Path, display: str) -> str:
    # As compliance.policy.files.read_text (which reporting may not import); a UTF-8 BOM
    # is tolerated, since some shells add one when redirecting output to a file.
    try:
        return path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise ConfigError([Problem(display, "", "no such file")]) from None
    except IsADirectoryError:
        raise ConfigError([Problem(display, "", "is a folder, expected a file")]) from None
    except UnicodeDecodeError:
        raise ConfigError([Problem(display, "", "not valid UTF-8")], hint=_HINT) from None
    except OSError as exc:
        raise ConfigError([Problem(display, "", f"cannot read: {exc.strerror}")]) from None


def _check_schema_version(raw: dict[str, Any], display: str) -> None:
    """Refuse another major before validating: its keys may mean something else."""
    supported = f"this version of compliance reads schema_version {READ_MAJOR}.x"
    if "schema_version" not in raw:
        message = f"missing ({supported})"
    else:
        value = raw["schema_version"]
        match = _VERSION.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            message = f"expected MAJOR.MINOR, got {json.dumps(value)} ({supported})"
        elif int(match.group(1)) != READ_MAJOR:
            message = f"version {value} is not supported: {supported}"
        else:
            return
    tool = raw.get("tool")
    version = tool.get("version") if isinstance(tool, dict) else None
    hint = (
        f"it was written by compliance {version}: read it with that version, or scan again"
        if isinstance(version, str)
        else "scan again with this version of compliance"
    )
    raise ConfigError([Problem(display, "schema_version", message)], hint=hint)


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


class _Result(_Lenient):
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
        )


def _fingerprints(values: list[str]) -> tuple[Fingerprint, ...]:
    return tuple(Fingerprint(v) for v in values)
