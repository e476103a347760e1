"""One scanner's SARIF run: its tool, rules (with help), invocation and results.

Severity. `properties.security-severity` on each rule, from the worst severity among its
findings: critical 9.5, high 8.0, medium 5.5, low 2.0 (GitHub maps > 9.0 critical, 7.0-8.9
high, 4.0-6.9 medium, 0.1-3.9 low); info has none, so GitHub shows it as a note, not a
security alert. `level` is error (critical, high), warning (medium) or note (low, info).
Tags: "security", CWE ids as `external/cwe/cwe-N`, then control ids, at most 10 (GitHub
keeps only 10 and rejects more than 20); every control is also in the rule's help and in
each result's properties.

Identity. `partialFingerprints["compliance/v1"]` is our line-independent fingerprint.
GitHub itself only reads `primaryLocationLineHash`, which the upload-sarif action computes
from the source line when absent (setting it ourselves makes the action warn per result).

Suppressions. inline -> kind inSource, waived and baselined -> kind external, all with status
accepted and the suppression's justification. GitHub does not act on `suppressions` (such
results arrive as open alerts; advanced-security/dismiss-alerts dismisses them).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from compliance.model import (
    Confidence,
    Finding,
    FindingKind,
    ScannerRun,
    ScanResult,
    Severity,
    Skip,
    SuppressionKind,
)

CATEGORY_PREFIX = "compliance"
FINGERPRINT_KEY = "compliance/v1"
SRCROOT = "%SRCROOT%"
#: Tags per rule: GitHub keeps only 10 (and rejects more than 20).
MAX_TAGS = 10
_TEXT_LIMIT = 1024

SECURITY_SEVERITY = {
    Severity.CRITICAL: "9.5",
    Severity.HIGH: "8.0",
    Severity.MEDIUM: "5.5",
    Severity.LOW: "2.0",
}
LEVEL = {
    Severity.CRITICAL: "error",
    Severity.HIGH: "error",
    Severity.MEDIUM: "warning",
    Severity.LOW: "note",
    Severity.INFO: "note",
}
_PRECISION = {Confidence.LOW: "low", Confidence.MEDIUM: "medium", Confidence.HIGH: "high"}
_SUPPRESSION_KIND = {
    SuppressionKind.INLINE: "inSource",
    SuppressionKind.WAIVED: "external",
    SuppressionKind.BASELINED: "external",
}
_KIND_LABEL = {
    FindingKind.CODE: "Code weakness",
    FindingKind.SECRET: "Hard-coded secret",
    FindingKind.DEPENDENCY_VULNERABILITY: "Vulnerable dependency",
    FindingKind.DEPENDENCY_NOT_AUDITED: "Dependency not audited",
    FindingKind.IAC_MISCONFIGURATION: "Infrastructure misconfiguration",
    FindingKind.RESIDENCY_VIOLATION: "Data outside its allowed regions",
    FindingKind.RESIDENCY_UNRESOLVED: "Data region not resolvable",
    FindingKind.THREAT_MODEL_MISSING: "Threat model missing",
    FindingKind.THREAT_MODEL_STALE: "Threat model stale",
    FindingKind.THREAT_MODEL_OPEN_THREAT: "Threat left open",
}
_INFORMATION_URI = {
    "bandit": "https://bandit.readthedocs.io/",
    "semgrep": "https://semgrep.dev/",
    "pip-audit": "https://github.com/pypa/pip-audit",
    "checkov": "https://www.checkov.io/",
}
_CWE = re.compile(r"CWE-(\d+)", re.IGNORECASE)
_SAFE_URL = re.compile(r"https?://[^\s<>\"'`\\\[\](){}|^]+")
_MD_SPECIAL = re.compile(r"[\\`*_\[\]<>|~&]")
_MD_LINE_START = re.compile(r"^(\s*)(\d*)([#>+=.)-])", re.MULTILINE)
_NATURAL = re.compile(r"(\d+)")


def run_text(
    result: ScanResult,
    scanner: ScannerRun,
    findings: Sequence[Finding],
    rules: dict[str, dict[str, Any]],
    skips: Sequence[Skip],
    part: int,
    parts: int,
) -> str:
    rule_ids = sorted({f.rule_id for f in findings})
    index = {rid: i for i, rid in enumerate(rule_ids)}
    driver: dict[str, Any] = {"name": scanner.name}
    if scanner.version:
        driver["version"] = scanner.version
    if scanner.name in _INFORMATION_URI:
        driver["informationUri"] = _INFORMATION_URI[scanner.name]
    category = f"{CATEGORY_PREFIX}/{scanner.name}/" + (f"part-{part}/" if part > 1 else "")
    invocation: dict[str, Any] = {
        "executionSuccessful": True,
        "startTimeUtc": _utc(result.started_at),
        "endTimeUtc": _utc(result.finished_at),
    }
    if part == 1 and skips:
        invocation["toolExecutionNotifications"] = [_skip_notification(s) for s in skips]
    head = {
        "conversion": {
            "tool": {"driver": {"name": result.tool.name, "version": result.tool.version}}
        },
        "automationDetails": {"id": category},
        "invocations": [invocation],
        "originalUriBaseIds": {
            SRCROOT: {
                "description": {"text": f"The root of the scanned repository ({result.root})."}
            }
        },
        "properties": {"compliance": {"part": part, "parts": parts}},
    }
    return (
        '{"tool": {"driver": '
        + compact(driver)[:-1]
        + ', "rules": '
        + _items(rules[rid] for rid in rule_ids)
        + "}}, "
        + compact(head)[1:-1]
        + ', "results": '
        + _items(_result(f, index[f.rule_id]) for f in findings)
        + "}"
    )


def rule_descriptor(rule_id: str, findings: Sequence[Finding]) -> dict[str, Any]:
    """One reportingDescriptor, summarising every finding of the rule in this scan."""
    first = findings[0]
    severity = max({f.severity for f in findings})
    title = _title(rule_id, findings)
    messages = {f.message for f in findings}
    full = title
    if len(messages) == 1 and first.kind is not FindingKind.IAC_MISCONFIGURATION and first.message:
        full = first.message
    controls = sorted({c for f in findings for c in f.controls}, key=_control_key)
    cwes = sorted({int(m.group(1)) for f in findings for c in f.cwe if (m := _CWE.fullmatch(c))})
    help_url = next((f.help_url for f in findings if f.help_url), None)
    safe_url = help_url if help_url and _SAFE_URL.fullmatch(help_url) else None
    tags = list(dict.fromkeys(["security", *(f"external/cwe/cwe-{n}" for n in cwes), *controls]))
    props: dict[str, Any] = {"tags": tags[:MAX_TAGS]}
    if severity in SECURITY_SEVERITY:
        props["security-severity"] = SECURITY_SEVERITY[severity]
    else:
        props["problem.severity"] = "recommendation"
    confidences = {f.confidence for f in findings if f.confidence is not None}
    if confidences:
        props["precision"] = _PRECISION[max(confidences)]
    rule: dict[str, Any] = {
        "id": rule_id,
        "shortDescription": {"text": _cut(title)},
        "fullDescription": {"text": _cut(full)},
        "defaultConfiguration": {"level": LEVEL[severity]},
        "help": _help(first, title, full, severity, controls, cwes, help_url, safe_url),
    }
    if safe_url:
        rule["helpUri"] = safe_url
    rule["properties"] = props
    return rule


def _title(rule_id: str, findings: Sequence[Finding]) -> str:
    """The findings' common title; for an advisory, its package and ids (titles name a pin)."""
    first = findings[0]
    packages = [f.package for f in findings]
    names = {p.name for p in packages if p is not None}
    if first.kind is FindingKind.DEPENDENCY_VULNERABILITY and len(names) == 1 and all(packages):
        cves = sorted({a for p in packages if p is not None for a in p.aliases if a[:4] == "CVE-"})
        return f"{names.pop()}: {rule_id}" + (f" ({', '.join(cves)})" if cves else "")
    if first.title and all(f.title == first.title for f in findings):
        return first.title
    return f"{_KIND_LABEL[first.kind]}: {rule_id}"


def _help(
    first: Finding,
    title: str,
    full: str,
    severity: Severity,
    controls: Sequence[str],
    cwes: Sequence[int],
    help_url: str | None,
    safe_url: str | None,
) -> dict[str, str]:
    score = SECURITY_SEVERITY.get(severity)
    sev = f"{severity.value} (security-severity {score})" if score else severity.value
    text = [title, ""] + ([full, ""] if full != title else [])
    text += [f"Severity: {sev}", f"Controls: {', '.join(controls) or 'none mapped'}"]
    md = [f"**{_md(title)}**", ""] + ([_md(full), ""] if full != title else [])
    md += [f"- Severity: **{sev}**", f"- Controls: {_md(', '.join(controls) or 'none mapped')}"]
    if cwes:
        text.append("CWE: " + ", ".join(f"CWE-{n}" for n in cwes))
        links = (f"[CWE-{n}](https://cwe.mitre.org/data/definitions/{n}.html)" for n in cwes)
        md.append("- CWE: " + ", ".join(links))
    text.append(f"Rule: {first.tool} {first.rule_id}")
    md.append(f"- Rule: {_md(first.rule_id)} ({_md(first.tool)})")
    if help_url:
        text.append(f"More information: {help_url}")
        md.append(f"- More information: {f'<{safe_url}>' if safe_url else _md(help_url)}")
    return {"text": "\n".join(text), "markdown": "\n".join(md)}


def _result(f: Finding, rule_index: int) -> dict[str, Any]:
    result: dict[str, Any] = {
        "ruleId": f.rule_id,
        "ruleIndex": rule_index,
        "level": LEVEL[f.severity],
        "message": {"text": _message(f)},
        "locations": [{"physicalLocation": _physical_location(f)}],
        "partialFingerprints": {FINGERPRINT_KEY: f.fingerprint},
    }
    if f.baseline is not None:
        result["baselineState"] = f.baseline.value
    if f.suppression is not None:
        result["suppressions"] = [
            {
                "kind": _SUPPRESSION_KIND[f.suppression.kind],
                "status": "accepted",
                "justification": f.suppression.justification,
                "properties": {"kind": f.suppression.kind.value},
            }
        ]
    props: dict[str, Any] = {
        "service": f.service,
        "severity": f.severity.value,
        "kind": f.kind.value,
        "controls": list(f.controls),
    }
    if f.category is not None:
        props["category"] = f.category
    if f.confidence is not None:
        props["confidence"] = f.confidence.value
    if f.package is not None:
        props["package"] = {
            "name": f.package.name,
            "version": f.package.version,
            "fixedVersions": list(f.package.fixed_versions),
            "aliases": list(f.package.aliases),
        }
    result["properties"] = props
    return result


def _message(f: Finding) -> str:
    text = f.message or f.title or f.rule_id
    package = f.package
    if package is None:
        return text
    head = package.name if package.version is None else f"{package.name} {package.version}"
    if package.fixed_versions:
        head += f" (fixed in {', '.join(package.fixed_versions)})"
    elif f.kind is FindingKind.DEPENDENCY_VULNERABILITY:
        head += " (no fixed version published)"
    return f"{head}: {text}"


def _physical_location(f: Finding) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": _artifact(f.location.path)}
    start, end = f.location.start_line, f.location.end_line
    if start is not None and start >= 1:
        region: dict[str, Any] = {"startLine": start}
        last = start
        if end is not None and end >= start:
            region["endLine"] = last = end
        # The snippet is the region's text only when it has exactly the region's lines.
        if f.snippet and len(f.snippet.rstrip("\n").split("\n")) == last - start + 1:
            region["snippet"] = {"text": f.snippet}
        location["region"] = region
    return location


def _artifact(path: str) -> dict[str, str]:
    """A repository-relative POSIX path as an RFC 3986 relative reference under %SRCROOT%."""
    return {"uri": quote(path, safe="/", errors="surrogateescape"), "uriBaseId": SRCROOT}


def _skip_notification(skip: Skip) -> dict[str, Any]:
    return {
        "level": "warning",
        "message": {"text": f"Not scanned: {skip.path}: {skip.reason}"},
        "locations": [{"physicalLocation": {"artifactLocation": _artifact(skip.path)}}],
    }


def group_by_rule(findings: Sequence[Finding]) -> dict[str, list[Finding]]:
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.rule_id, []).append(f)
    return groups


def _items(items: Any) -> str:
    lines = [compact(item) for item in items]
    return "[\n" + ",\n".join(lines) + "\n]" if lines else "[]"


def compact(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(", ", ": "))


def _cut(text: str) -> str:
    return text if len(text) <= _TEXT_LIMIT else text[: _TEXT_LIMIT - 1] + "…"


def _utc(moment: datetime) -> str:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=timezone.utc)
    return aware.astimezone(timezone.utc).isoformat().replace("+00:00", "Z")


def _md(text: str) -> str:
    """Text shown literally in GitHub-flavoured Markdown (no links, HTML or emphasis)."""
    escaped = _MD_SPECIAL.sub(lambda m: "\\" + m.group(0), text)
    return _MD_LINE_START.sub(lambda m: f"{m.group(1)}{m.group(2)}\\{m.group(3)}", escaped)


def _control_key(control: str) -> tuple[bool, tuple[tuple[int, int, str], ...]]:
    """ISO 27001 (A.x.y) first, then the rest; numbers compared as numbers."""
    parts = tuple(
        (1, int(p), "") if p.isdigit() else (0, 0, p) for p in _NATURAL.split(control) if p
    )
    return (not control.startswith("A."), parts)
