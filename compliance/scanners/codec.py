"""Scanner outputs as plain JSON values, and back: for the result cache and shard partials.

Both read files a scanned repository or another CI job could have written, so decoding is
strict: every field is type-checked and anything unexpected raises `CodecError` (a cache
treats it as a miss, `compliance merge` as a bad partial). Nothing here executes data.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from compliance.model import (
    Confidence,
    FindingKind,
    Location,
    Package,
    RawFinding,
    RuleId,
    ScannerRun,
    ScannerStatus,
    ServiceName,
    Severity,
    Skip,
    Suppression,
    SuppressionKind,
)
from compliance.scanners.interface import ScannerOutput

E = TypeVar("E", Severity, Confidence, FindingKind, SuppressionKind, ScannerStatus)


class CodecError(ValueError):
    """A value that is not what `encode_*` writes."""


def encode_finding(f: RawFinding) -> dict[str, Any]:
    out: dict[str, Any] = {
        "tool": f.tool,
        "rule_id": f.rule_id,
        "title": f.title,
        "message": f.message,
        "severity": f.severity.value,
        "kind": f.kind.value,
        "location": [f.location.path, f.location.start_line, f.location.end_line],
    }
    optional: dict[str, Any] = {
        "confidence": f.confidence.value if f.confidence else None,
        "cwe": list(f.cwe) or None,
        "snippet": f.snippet,
        "resource": f.resource,
        "package": None
        if f.package is None
        else [
            f.package.name,
            f.package.version,
            list(f.package.fixed_versions),
            list(f.package.aliases),
        ],
        "help_url": f.help_url,
        "category": f.category,
        "suppression": None
        if f.suppression is None
        else [f.suppression.kind.value, f.suppression.justification],
        "service": f.service,
    }
    out.update({k: v for k, v in optional.items() if v is not None})
    return out


def decode_finding(value: object) -> RawFinding:
    data = _mapping(value, "finding")
    location = _list(data.get("location"), "location")
    if len(location) != 3:
        raise CodecError("location: expected [path, start, end]")
    package = data.get("package")
    suppression = data.get("suppression")
    confidence = data.get("confidence")
    return RawFinding(
        tool=_str(data.get("tool"), "tool"),
        rule_id=RuleId(_str(data.get("rule_id"), "rule_id")),
        title=_str(data.get("title"), "title"),
        message=_str(data.get("message"), "message"),
        severity=_enum(Severity, data.get("severity"), "severity"),
        kind=_enum(FindingKind, data.get("kind"), "kind"),
        location=Location(
            _str(location[0], "location.path"),
            _opt_int(location[1], "location.start"),
            _opt_int(location[2], "location.end"),
        ),
        confidence=None if confidence is None else _enum(Confidence, confidence, "confidence"),
        cwe=_strs(data.get("cwe", []), "cwe"),
        snippet=_opt_str(data.get("snippet"), "snippet"),
        resource=_opt_str(data.get("resource"), "resource"),
        package=None if package is None else _package(package),
        help_url=_opt_str(data.get("help_url"), "help_url"),
        category=_opt_str(data.get("category"), "category"),
        suppression=None if suppression is None else _suppression(suppression),
        service=_opt_service(data.get("service")),
    )


def encode_skip(s: Skip) -> list[str | None]:
    return [s.path, s.reason, s.tool]


def decode_skip(value: object) -> Skip:
    items = _list(value, "skip")
    if len(items) != 3:
        raise CodecError("skip: expected [path, reason, tool]")
    return Skip(
        _str(items[0], "skip.path"), _str(items[1], "skip.reason"), _opt_str(items[2], "skip.tool")
    )


def encode_run(run: ScannerRun) -> dict[str, Any]:
    return {
        "name": run.name,
        "status": run.status.value,
        "version": run.version,
        "duration_s": run.duration_s,
        "error": run.error,
        "commands": [list(c) for c in run.commands],
        "findings": run.findings,
    }


def decode_run(value: object) -> ScannerRun:
    data = _mapping(value, "scanner run")
    duration = data.get("duration_s")
    if not isinstance(duration, int | float) or isinstance(duration, bool) or duration < 0:
        raise CodecError("duration_s: expected a number of seconds")
    findings = data.get("findings")
    if not isinstance(findings, int) or isinstance(findings, bool) or findings < 0:
        raise CodecError("findings: expected a count")
    return ScannerRun(
        name=_str(data.get("name"), "name"),
        status=_enum(ScannerStatus, data.get("status"), "status"),
        version=_opt_str(data.get("version"), "version"),
        duration_s=float(duration),
        error=_opt_str(data.get("error"), "error"),
        commands=tuple(_strs(c, "commands[]") for c in _list(data.get("commands"), "commands")),
        findings=findings,
    )


def _package(value: object) -> Package:
    items = _list(value, "package")
    if len(items) != 4:
        raise CodecError("package: expected [name, version, fixed, aliases]")
    return Package(
        _str(items[0], "package.name"),
        _opt_str(items[1], "package.version"),
        _strs(items[2], "package.fixed_versions"),
        _strs(items[3], "package.aliases"),
    )


def _suppression(value: object) -> Suppression:
    items = _list(value, "suppression")
    if len(items) != 2:
        raise CodecError("suppression: expected [kind, justification]")
    return Suppression(
        _enum(SuppressionKind, items[0], "suppression.kind"),
        _str(items[1], "suppression.justification"),
    )


def _opt_service(value: object) -> ServiceName | None:
    return None if value is None else ServiceName(_str(value, "service"))


def _mapping(value: object, what: str) -> Mapping[str, Any]:
    if not isinstance(value, dict):
        raise CodecError(f"{what}: expected an object")
    return value


def _list(value: object, what: str) -> Sequence[Any]:
    if not isinstance(value, list):
        raise CodecError(f"{what}: expected a list")
    return value


def _str(value: object, what: str) -> str:
    if not isinstance(value, str):
        raise CodecError(f"{what}: expected a string")
    return value


def _opt_str(value: object, what: str) -> str | None:
    return None if value is None else _str(value, what)


def _opt_int(value: object, what: str) -> int | None:
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool):
        raise CodecError(f"{what}: expected an integer")
    return value


def _strs(value: object, what: str) -> tuple[str, ...]:
    return tuple(_str(v, what) for v in _list(value, what))


def _enum(kind: type[E], value: object, what: str) -> E:
    try:
        return kind(value)
    except ValueError:
        raise CodecError(f"{what}: unknown value {value!r}") from None


def encode_output(output: ScannerOutput) -> dict[str, Any]:
    """A scanner's output without its raw bytes (the cache never stands in for evidence)."""
    return {
        "version": output.version,
        "commands": [list(c) for c in output.commands],
        "findings": [encode_finding(f) for f in output.findings],
        "skipped": [encode_skip(s) for s in output.skipped],
    }


def decode_output(value: object) -> ScannerOutput:
    data = _mapping(value, "output")
    return ScannerOutput(
        findings=tuple(decode_finding(f) for f in _list(data.get("findings"), "findings")),
        version=_opt_str(data.get("version"), "version"),
        commands=tuple(_strs(c, "commands[]") for c in _list(data.get("commands"), "commands")),
        skipped=tuple(decode_skip(s) for s in _list(data.get("skipped"), "skipped")),
    )
