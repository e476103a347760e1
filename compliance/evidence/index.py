"""The per-control index of a bundle: for each control, what assessed it, when, with what
result, which findings bear on it, and which files of the bundle hold the evidence.

`controls/index.json` is for tools, `controls/index.html` for the auditor who opens the
bundle, picks A.8.8 or CC7.1 and reads down. Both come from one view built here; the HTML
is a jinja2 template with autoescape over that view (everything printed may come from
the scanned code).
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import quote

import jinja2

from compliance.model import ControlStatus, Finding, ScannerRun, ScanResult
from compliance.reporting.template import html_template

#: A finding's fingerprint as it appears in a report (32 hex chars, not part of a longer run).
_FINGERPRINT = re.compile(r"(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])")

FRAMEWORK_TITLES = {
    "iso27001": "ISO/IEC 27001:2022 Annex A",
    "soc2": "SOC 2 Trust Services Criteria",
}


def fingerprints_in(text: str) -> set[str]:
    """Every token of a text that looks like a fingerprint (one pass over the text)."""
    return set(_FINGERPRINT.findall(text))


def build_index(
    result: ScanResult,
    *,
    report_files: Mapping[str, set[str]],
    raw_files: Mapping[str, Sequence[str]],
    rule_scanners: Mapping[str, Sequence[str]] | None,
    signed: bool,
) -> dict[str, Any]:
    """The index as JSON-ready data.

    `report_files` maps each report file of the bundle (result.json included) to the
    fingerprints it holds; `raw_files` maps a tool to its raw files in the bundle;
    `rule_scanners` maps a mapping rule id to the scanners whose run is its evidence, when
    the mapping rules are known (else the scanners are those whose findings bear on it).
    """
    runs = {run.name: run for run in result.scanners}
    bearing: dict[str, list[Finding]] = {}
    for finding in result.findings:
        for control_id in finding.controls:
            bearing.setdefault(control_id, []).append(finding)
    holders: dict[str, list[str]] = {}
    for path in sorted(report_files):
        for fingerprint in report_files[path]:
            holders.setdefault(fingerprint, []).append(path)

    controls = []
    for control in result.controls:
        findings = bearing.get(control.id, [])
        failing = set(control.findings)
        known = rule_scanners is not None and all(r in rule_scanners for r in control.rules)
        names = {f.tool for f in findings}
        if rule_scanners is not None:
            for rule in control.rules:
                names.update(rule_scanners.get(rule, ()))
        scanners = [
            _scanner(name, runs.get(name), raw_files.get(name, ())) for name in sorted(names)
        ]
        entries = [
            _finding(f, f.fingerprint in failing, holders.get(f.fingerprint, [])) for f in findings
        ]
        files = sorted(
            {p for e in entries for p in e["files"]} | {p for s in scanners for p in s["raw"]}
        )
        controls.append(
            {
                "framework": control.framework,
                "id": control.id,
                "title": control.title,
                "automation": control.automation,
                "status": control.status.value,
                "reason": control.reason,
                "assessed": {
                    "started_at": result.started_at.isoformat(),
                    "finished_at": result.finished_at.isoformat(),
                },
                "rules": list(control.rules),
                "scanners_from": "mapping-rules" if known else "findings",
                "scanners": scanners,
                "open_findings": len(failing),
                "findings": entries,
                "files": files,
            }
        )
    counts = {s.value: 0 for s in ControlStatus}
    for control in result.controls:
        counts[control.status.value] += 1
    return {
        "signed": signed,
        "tool": {"name": result.tool.name, "version": result.tool.version},
        "root": result.root,
        "commit": result.commit,
        "branch": result.context.branch,
        "dirty": result.context.dirty,
        "started_at": result.started_at.isoformat(),
        "finished_at": result.finished_at.isoformat(),
        "gate_passed": result.verdict.passed,
        "counts": counts,
        "controls": controls,
    }


def _scanner(name: str, run: ScannerRun | None, raw: Sequence[str]) -> dict[str, Any]:
    return {
        "name": name,
        "version": run.version if run else None,
        "status": run.status.value if run else "not-run",
        "error": run.error if run else None,
        "commands": [list(c) for c in run.commands] if run else [],
        "raw": list(raw),
    }


def _finding(f: Finding, counts: bool, files: list[str]) -> dict[str, Any]:
    return {
        "fingerprint": f.fingerprint,
        "tool": f.tool,
        "rule_id": f.rule_id,
        "title": f.title,
        "severity": f.severity.value,
        "service": f.service,
        "path": f.location.path,
        "line": f.location.start_line,
        "end_line": f.location.end_line,
        "state": f.suppression.kind.value if f.suppression else "open",
        "counts": counts,
        "files": files,
    }


def render_index_json(index: Mapping[str, Any]) -> str:
    return json.dumps(index, indent=1, ensure_ascii=False) + "\n"


def _href(path: str) -> str:
    """A link from controls/index.html to a file of the bundle."""
    return "../" + quote(path, safe="/")


@functools.cache
def _template() -> jinja2.Template:
    return html_template("compliance.evidence", "controls.html.j2", {"href": _href})


def render_index_html(index: Mapping[str, Any]) -> str:
    groups = []
    for framework, title in FRAMEWORK_TITLES.items():
        members = [c for c in index["controls"] if c["framework"] == framework]
        if members:
            groups.append({"title": title, "controls": members})
    others = [c for c in index["controls"] if c["framework"] not in FRAMEWORK_TITLES]
    if others:
        groups.append({"title": "Other controls", "controls": others})
    return _template().render(i=index, groups=groups)
