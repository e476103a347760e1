"""An entry as a row: the stored columns, their canonical JSON, and the entry's hash.

The hash is a SHA-256 over a canonical JSON of all the entry's fields (the previous hash
included). Both stores keep the very text that was hashed: times as UTC ISO 8601 text, the
JSON columns as canonical JSON. Reading a row back refuses anything we never write.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime, timezone
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter

from compliance.evidence.ledger.records import (
    ControlRecord,
    FindingRecord,
    LedgerEntry,
    RunRecord,
    WaiverRecord,
)
from compliance.model import ControlStatus, Fingerprint, Severity, WaiverState

#: Version of the hashed document (its "format").
ENTRY_FORMAT = 1


def canonical_json(value: object) -> str:
    """Sorted keys, no spaces, ASCII only: one text per value, on every machine."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def utc_iso(moment: datetime) -> str:
    """UTC, microseconds, `+00:00`: sorts as text in the order of time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _text(value: str) -> str:
    # Neither SQLite's UTF-8 nor PostgreSQL's text take lone surrogates or NUL.
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def _opt_text(value: str | None) -> str | None:
    return _text(value) if value is not None else None


def entry_row(seq: int, recorded_at: datetime, run: RunRecord, prev_hash: str) -> dict[str, Any]:
    """The stored columns of an entry, `entry_hash` included."""
    controls: dict[str, dict[str, str]] = {}
    failing: dict[str, dict[str, list[str]]] = {}
    for control in run.controls:
        controls.setdefault(control.framework, {})[control.id] = control.status.value
        if control.failing:
            failing.setdefault(control.framework, {})[control.id] = sorted(control.failing)
    findings = {
        f.fingerprint: {
            "tool": f.tool,
            "rule": f.rule_id,
            "severity": f.severity.value,
            "path": f.path,
            "title": f.title,
            "service": f.service,
        }
        for f in run.findings
    }
    waivers = [
        {
            "id": w.id,
            "state": w.state.value,
            "owner": w.owner,
            "approver": w.approver,
            "expires": w.expires.isoformat(),
            "ticket": w.ticket,
            "findings": w.findings,
        }
        for w in sorted(run.waivers, key=lambda w: w.id)
    ]
    row: dict[str, Any] = {
        "seq": seq,
        "repo": _text(run.repo),
        "recorded_at": utc_iso(recorded_at),
        "started_at": utc_iso(run.started_at),
        "finished_at": utc_iso(run.finished_at),
        "commit_sha": _opt_text(run.commit),
        "branch": _opt_text(run.branch),
        "dirty": run.dirty,
        "ci_run_url": _opt_text(run.ci_run_url),
        "passed": run.passed,
        "controls": canonical_json(controls),
        "failing": canonical_json(failing),
        "findings": canonical_json(findings),
        "waivers": canonical_json(waivers),
        "bundle_digest": run.bundle_digest,
        "prev_hash": prev_hash,
    }
    row["entry_hash"] = row_hash(row)
    return row


def row_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the entry (everything but entry_hash)."""
    document = {
        "format": ENTRY_FORMAT,
        "seq": _strict(row["seq"], int),
        "repo": _strict(row["repo"], str),
        "recorded_at": _strict(row["recorded_at"], str),
        "started_at": _strict(row["started_at"], str),
        "finished_at": _strict(row["finished_at"], str),
        "commit": _optional(row["commit_sha"], str),
        "branch": _optional(row["branch"], str),
        "dirty": _flag(row["dirty"]) if row["dirty"] is not None else None,
        "ci_run_url": _optional(row["ci_run_url"], str),
        "passed": _flag(row["passed"]),
        "controls": json.loads(_strict(row["controls"], str)),
        "failing": json.loads(_strict(row["failing"], str)),
        "findings": json.loads(_strict(row["findings"], str)),
        "waivers": json.loads(_strict(row["waivers"], str)),
        "bundle_digest": _optional(row["bundle_digest"], str),
        "prev_hash": _strict(row["prev_hash"], str),
    }
    return hashlib.sha256(canonical_json(document).encode("ascii")).hexdigest()


def _strict(value: Any, kind: type[Any]) -> Any:
    if type(value) is not kind:
        raise ValueError(f"expected {kind.__name__}, found {type(value).__name__}")
    return value


def _optional(value: Any, kind: type[Any]) -> Any:
    return None if value is None else _strict(value, kind)


def _flag(value: Any) -> bool:
    """A boolean column: PostgreSQL gives bool, SQLite 0 or 1; anything else is tampering."""
    if isinstance(value, bool):
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    raise ValueError(f"expected a boolean, found {value!r}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _FindingJson(_Strict):
    tool: str
    rule: str
    severity: str
    path: str
    title: str
    service: str


class _WaiverJson(_Strict):
    id: str
    state: str
    owner: str
    approver: str
    expires: str
    ticket: str | None
    findings: int


_CONTROLS = TypeAdapter(dict[str, dict[str, str]])
_FAILING = TypeAdapter(dict[str, dict[str, list[str]]])
_FINDINGS = TypeAdapter(dict[str, _FindingJson])
_WAIVERS = TypeAdapter(list[_WaiverJson])


def entry_from_row(row: Mapping[str, Any]) -> LedgerEntry:
    """An entry from its stored columns; ValueError when a field is not what we write."""
    statuses = _CONTROLS.validate_json(_strict(row["controls"], str))
    failing = _FAILING.validate_json(_strict(row["failing"], str))
    controls = tuple(
        ControlRecord(
            framework,
            control_id,
            ControlStatus(status),
            tuple(Fingerprint(f) for f in failing.get(framework, {}).get(control_id, [])),
        )
        for framework, by_id in sorted(statuses.items())
        for control_id, status in sorted(by_id.items())
    )
    findings = tuple(
        FindingRecord(
            Fingerprint(fp), f.tool, f.rule, Severity(f.severity), f.path, f.title, f.service
        )
        for fp, f in sorted(_FINDINGS.validate_json(_strict(row["findings"], str)).items())
    )
    waivers = tuple(
        WaiverRecord(
            w.id,
            WaiverState(w.state),
            w.owner,
            w.approver,
            date.fromisoformat(w.expires),
            w.ticket,
            w.findings,
        )
        for w in _WAIVERS.validate_json(_strict(row["waivers"], str))
    )
    run = RunRecord(
        repo=_strict(row["repo"], str),
        started_at=datetime.fromisoformat(_strict(row["started_at"], str)),
        finished_at=datetime.fromisoformat(_strict(row["finished_at"], str)),
        commit=_optional(row["commit_sha"], str),
        branch=_optional(row["branch"], str),
        dirty=_flag(row["dirty"]) if row["dirty"] is not None else None,
        ci_run_url=_optional(row["ci_run_url"], str),
        passed=_flag(row["passed"]),
        controls=controls,
        findings=findings,
        waivers=waivers,
        bundle_digest=_optional(row["bundle_digest"], str),
    )
    return LedgerEntry(
        seq=_strict(row["seq"], int),
        recorded_at=datetime.fromisoformat(_strict(row["recorded_at"], str)),
        run=run,
        prev_hash=_strict(row["prev_hash"], str),
        entry_hash=_strict(row["entry_hash"], str),
    )
