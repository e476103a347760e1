"""The versioned JSON result (schema: docs/result.schema.json). Built from the model."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from compliance.model import (
    BaselineSummary,
    ControlResult,
    Finding,
    RunContext,
    ScannerRun,
    ScanResult,
    Service,
    Skip,
    Verdict,
    WaiverStatus,
)
from compliance.reporting.interface import RenderOptions


def _finding(f: Finding) -> dict[str, Any]:
    data: dict[str, Any] = {
        "fingerprint": f.fingerprint,
        "tool": f.tool,
        "rule_id": f.rule_id,
        "title": f.title,
        "severity": f.severity.value,
        "confidence": f.confidence.value if f.confidence else None,
        "kind": f.kind.value,
        "category": f.category,
        "message": f.message,
        "path": f.location.path,
        "line": f.location.start_line,
        "end_line": f.location.end_line,
        "service": f.service,
        "cwe": list(f.cwe),
        "controls": list(f.controls),
        "snippet": f.snippet,
        "resource": f.resource,
        "help_url": f.help_url,
        "suppression": (
            {"kind": f.suppression.kind.value, "justification": f.suppression.justification}
            if f.suppression
            else None
        ),
        "baseline": f.baseline.value if f.baseline else None,
    }
    if f.package is not None:
        data["package"] = {
            "name": f.package.name,
            "version": f.package.version,
            "fixed_versions": list(f.package.fixed_versions),
            "aliases": list(f.package.aliases),
        }
    return data


def _scanner(run: ScannerRun) -> dict[str, Any]:
    return {
        "name": run.name,
        "version": run.version,
        "status": run.status.value,
        "duration_s": round(run.duration_s, 3),
        "error": run.error,
        "findings": run.findings,
        "commands": [list(c) for c in run.commands],
    }


def _service(s: Service) -> dict[str, Any]:
    return {
        "name": s.name,
        "path": s.path,
        "owner": s.owner,
        "source": s.source.value,
        "description": s.description,
        "data_classification": list(s.data_classification),
    }


def _skip(s: Skip) -> dict[str, Any]:
    return {"path": s.path, "reason": s.reason, "tool": s.tool}


def _control(c: ControlResult) -> dict[str, Any]:
    return {
        "framework": c.framework,
        "id": c.id,
        "title": c.title,
        "automation": c.automation,
        "status": c.status.value,
        "reason": c.reason,
        "findings": list(c.findings),
        "rules": list(c.rules),
    }


def result_to_dict(result: ScanResult) -> dict[str, Any]:
    return {
        "schema_version": result.schema_version,
        "tool": {"name": result.tool.name, "version": result.tool.version},
        "root": result.root,
        "commit": result.commit,
        "started_at": result.started_at.isoformat(),
        "finished_at": result.finished_at.isoformat(),
        "verdict": _verdict(result.verdict),
        "summary": summary_counts(result),
        "scanners": [_scanner(s) for s in result.scanners],
        "services": [_service(s) for s in result.services],
        "findings": [_finding(f) for f in result.findings],
        "skipped": [_skip(s) for s in result.skipped],
        "controls": [_control(c) for c in result.controls],
        "waivers": [_waiver(w) for w in result.waivers],
        "baseline": _baseline(result.baseline),
        "context": _context(result.context),
        "scope": None
        if result.scope is None
        else {"source": result.scope.source, "files": list(result.scope.files)},
        "inputs": [
            {"kind": i.kind, "path": i.path, "sha256": i.sha256, "detail": i.detail}
            for i in result.inputs
        ],
    }


def _verdict(verdict: Verdict) -> dict[str, Any]:
    return {
        "passed": verdict.passed,
        "fail_on": verdict.fail_on.value,
        "mode": verdict.mode.value,
        "counts": asdict(verdict.counts),
        "reasons": [
            {
                "policy": r.policy,
                "rule": r.rule,
                "message": r.message,
                "findings": list(r.findings),
            }
            for r in verdict.reasons
        ],
        "failing": list(verdict.failing),
    }


def _waiver(w: WaiverStatus) -> dict[str, Any]:
    return {
        "id": w.id,
        "state": w.state.value,
        "scope": w.scope,
        "reason": w.reason,
        "owner": w.owner,
        "approver": w.approver,
        "ticket": w.ticket,
        "expires": w.expires.isoformat(),
        "source": w.source,
        "findings": list(w.findings),
    }


def _context(c: RunContext) -> dict[str, Any]:
    return {
        "branch": c.branch,
        "dirty": c.dirty,
        "ci": asdict(c.ci) if c.ci is not None else None,
    }


def _baseline(b: BaselineSummary | None) -> dict[str, Any] | None:
    if b is None:
        return None
    return {"source": b.source, "entries": b.entries, "matched": b.matched, "absent": b.absent}


def summary_counts(result: ScanResult) -> dict[str, Any]:
    by_severity: dict[str, int] = {}
    by_service: dict[str, int] = {}
    by_tool: dict[str, int] = {}
    for f in result.findings:
        by_severity[f.severity.value] = by_severity.get(f.severity.value, 0) + 1
        by_service[f.service] = by_service.get(f.service, 0) + 1
        by_tool[f.tool] = by_tool.get(f.tool, 0) + 1
    return {
        "findings": len(result.findings),
        "by_severity": dict(sorted(by_severity.items())),
        "by_service": dict(sorted(by_service.items())),
        "by_tool": dict(sorted(by_tool.items())),
        "skipped": len(result.skipped),
        "scanner_errors": len(result.scanner_errors),
    }


def dumps(data: dict[str, Any]) -> str:
    """Readable and fast: one top-level key per line and one list item per line.

    (`json.dumps(indent=...)` falls back to the pure-Python encoder, several times slower on
    a result with thousands of findings; each line here uses the C encoder.)
    """
    lines = []
    for key, value in data.items():
        head = f"  {json.dumps(key)}: "
        if isinstance(value, list) and value:
            items = ",\n".join(f"    {_compact(item)}" for item in value)
            lines.append(f"{head}[\n{items}\n  ]")
        else:
            lines.append(head + _compact(value))
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


class JsonRenderer:
    name = "json"

    def render(self, result: ScanResult, options: RenderOptions) -> str:
        return dumps(result_to_dict(result))
