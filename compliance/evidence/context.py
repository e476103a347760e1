"""What a bundle records about its run (`context.json`) and what its attestation states
(the predicate of https://compliance.dev/evidence/v1, docs/evidence.md). Both come from
the result and the files already written into the bundle; nothing here reads the clock.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from compliance.evidence.manifest import FORMAT, FORMAT_VERSION, RESULT, sha256_file
from compliance.evidence.redaction import RawMasking
from compliance.model import ControlStatus, ScanResult


def _recorded(content: Path, raw_files: list[str]) -> list[dict[str, Any]]:
    """The exact command lines ProcessRunner recorded (`raw/<tool>/<n>.json`)."""
    present = set(raw_files)
    commands = []
    for path in raw_files:
        if not path.endswith(".json"):
            continue
        try:
            meta = json.loads((content / path).read_text(encoding="utf-8"))
        except (ValueError, OSError):
            meta = None
        entry: dict[str, Any] = {"file": path}
        if isinstance(meta, dict):
            for key in ("tool", "argv", "returncode", "duration_s", "error"):
                entry[key] = meta.get(key)
        else:
            entry["error"] = "not a ProcessRunner record (unreadable JSON)"
        stem = path.removesuffix(".json")
        entry["stdout"] = f"{stem}.stdout" if f"{stem}.stdout" in present else None
        entry["stderr"] = f"{stem}.stderr" if f"{stem}.stderr" in present else None
        commands.append(entry)
    return commands


def build_context(
    result: ScanResult,
    content: Path,
    raw_files: list[str],
    report_paths: Mapping[str, str],
    masking: RawMasking | None = None,
) -> dict[str, Any]:
    ci = result.context.ci
    raw_of = {name: [p for p in raw_files if p.split("/")[1] == name] for name in _tools(raw_files)}
    advisory = [i for i in result.inputs if i.kind == "advisory-db"]
    return {
        "bundle": {"format": FORMAT, "version": FORMAT_VERSION},
        "tool": {"name": result.tool.name, "version": result.tool.version},
        "root": result.root,
        "repository": {
            "commit": result.commit,
            "branch": result.context.branch,
            "dirty": result.context.dirty,
        },
        "ci": (
            {
                "provider": ci.provider,
                "run_id": ci.run_id,
                "run_url": ci.run_url,
                "actor": ci.actor,
                "event": ci.event,
                "ref": ci.ref,
            }
            if ci
            else None
        ),
        "started_at": result.started_at.isoformat(),
        "finished_at": result.finished_at.isoformat(),
        "verdict": {"passed": result.verdict.passed, "fail_on": result.verdict.fail_on.value},
        "scanners": [
            {
                "name": run.name,
                "version": run.version,
                "status": run.status.value,
                "duration_s": round(run.duration_s, 3),
                "error": run.error,
                "findings": run.findings,
                "commands": [list(c) for c in run.commands],
                "raw": raw_of.get(run.name, []),
            }
            for run in result.scanners
        ],
        "recorded_commands": _recorded(content, raw_files),
        "advisory_db": (
            [{"path": a.path, "sha256": a.sha256, "detail": a.detail} for a in advisory]
        ),
        "inputs": [
            {"kind": i.kind, "path": i.path, "sha256": i.sha256, "detail": i.detail}
            for i in result.inputs
        ],
        "reports": sorted(report_paths),
        "redaction": _redaction(masking or RawMasking()),
    }


def _redaction(masking: RawMasking) -> dict[str, Any]:
    """Secrets masked in `raw/` (compliance.evidence.redaction, docs/evidence.md)."""
    return {
        "raw": "secrets masked",
        "files_checked": masking.files,
        "values": masking.values,
        "masked": dict(sorted(masking.masked.items())),
    }


def _tools(raw_files: list[str]) -> list[str]:
    return sorted({p.split("/")[1] for p in raw_files})


def build_predicate(result: ScanResult, content: Path, files: int) -> dict[str, Any]:
    """The predicate of https://compliance.dev/evidence/v1 (docs/evidence.md)."""
    ci = result.context.ci
    counts = {status.value: 0 for status in ControlStatus}
    for control in result.controls:
        counts[control.status.value] += 1
    _size, result_sha256 = sha256_file(content / RESULT)
    return {
        "bundle": {"format": FORMAT, "version": FORMAT_VERSION, "files": files},
        "scan": {
            "tool": {"name": result.tool.name, "version": result.tool.version},
            "root": result.root,
            "commit": result.commit,
            "branch": result.context.branch,
            "dirty": result.context.dirty,
            "startedOn": result.started_at.isoformat(),
            "finishedOn": result.finished_at.isoformat(),
            "ci": (
                {
                    "provider": ci.provider,
                    "runId": ci.run_id,
                    "runUrl": ci.run_url,
                    "actor": ci.actor,
                }
                if ci
                else None
            ),
        },
        "result": {"name": RESULT, "digest": {"sha256": result_sha256}},
        "verdict": {
            "passed": result.verdict.passed,
            "failOn": result.verdict.fail_on.value,
            "failing": len(result.verdict.failing),
        },
        "scanners": [
            {"name": s.name, "version": s.version, "status": s.status.value}
            for s in result.scanners
        ],
        "controls": {
            "passed": counts[ControlStatus.PASSED.value],
            "failed": counts[ControlStatus.FAILED.value],
            "notAssessed": counts[ControlStatus.NOT_ASSESSED.value],
            "manual": counts[ControlStatus.MANUAL.value],
        },
    }
