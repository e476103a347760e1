"""GitLab security reports (Security Report Schemas 15.2.1): SAST and Dependency Scanning.

Which finding goes where:
- SAST (`artifacts:reports:sast`): code and secret findings (bandit, semgrep) and IaC
  misconfigurations (checkov): GitLab files its own IaC scanning under the SAST report type,
  and a SAST location (file and lines) fits a Terraform or Kubernetes resource as well.
- Dependency Scanning (`artifacts:reports:dependency_scanning`): dependency vulnerabilities
  (pip-audit), located by the requirements file and the package name and version, which is
  what GitLab tracks them by. A dependency that could not be audited (unpinned, a URL or VCS
  requirement) has no advisory and no version, so it is not a vulnerability of this format:
  it is a `warn` message of the scan (and stays a finding of the JSON result).
  `dependency_files` (required in 15.0.x) is not written: schema 15.2.1 no longer defines it.

Suppressed findings are reported, not dropped: GitLab marks a vulnerability missing from a
later report "no longer detected" (and a vulnerability management policy may auto-resolve
it), which would show a waived or baselined problem as fixed. The report format has no
"dismissed" state (dismissal is recorded in GitLab, by the people who triage), and its one
flag is `flagged-as-likely-false-positive`: an inline suppression (`# nosec`, `# nosemgrep`,
`checkov:skip=`) carries that flag, with the comment as its description; a waiver or the
baseline is recorded in the vulnerability's details. Every vulnerability's details name its
service, the controls it bears on and its fingerprint.

`id` is a UUIDv5 of the finding's fingerprint, so it is stable across runs like the
fingerprint; GitLab tracks a vulnerability by its own UUIDv5 of the report type, the primary
identifier (here the tool's rule: `bandit_id`, `semgrep_id`, `checkov_id`, `pip_audit_id`)
and the location. CWE identifiers follow GitLab's format (`cwe`, value `78`, name `CWE-78`);
advisory aliases become `cve`, `ghsa` or OSV-style identifiers.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import Any

from compliance.model import (
    Finding,
    FindingKind,
    Fingerprint,
    ScannerRun,
    ScannerStatus,
    ScanResult,
    Severity,
    Skip,
    SuppressionKind,
)
from compliance.reporting.interface import RenderOptions

if sys.version_info >= (3, 11):
    from typing import assert_never
else:  # pragma: no cover - Python 3.10
    from typing_extensions import assert_never

SCHEMA_VERSION = "15.2.1"
_SCHEMA_URL = (
    "https://gitlab.com/gitlab-org/security-products/security-report-schemas/-/raw/"
    "v{version}/dist/{report}-report-format.json"
)
#: Never change it: vulnerability ids are UUIDv5s of fingerprints in this namespace.
UUID_NAMESPACE = uuid.UUID("75e42b03-ee16-46a3-9ad0-f0b42526b391")
_NAMESPACE_BYTES = UUID_NAMESPACE.bytes
#: One encoder for every line (`json.dumps` with options builds a new one per call).
_encode = json.JSONEncoder(ensure_ascii=False, separators=(", ", ": ")).encode

#: Findings with a file and lines that a merge request reviewer acts on like code findings.
#: Threat-model findings (a missing or stale review) are left out: they are not
#: vulnerabilities, and GitLab would list them as such.
SAST_KINDS = frozenset(
    {
        FindingKind.CODE,
        FindingKind.SECRET,
        FindingKind.IAC_MISCONFIGURATION,
        FindingKind.RESIDENCY_VIOLATION,
        FindingKind.RESIDENCY_UNRESOLVED,
    }
)
#: Scanners whose findings go to the Dependency Scanning report; all others are SAST.
DEPENDENCY_SCANNERS = frozenset({"pip-audit"})
#: Scanners with no finding in either report (threat-model reviews are not vulnerabilities).
UNREPORTED_SCANNERS = frozenset({"threatmodel"})
#: At most this many messages of one sort (skipped inputs, unaudited dependencies).
MAX_MESSAGES = 100

_SEVERITY = {
    Severity.CRITICAL: "Critical",
    Severity.HIGH: "High",
    Severity.MEDIUM: "Medium",
    Severity.LOW: "Low",
    Severity.INFO: "Info",
}
_VENDOR = {"name": "compliance"}
_NAME_MAX = 255
_SOLUTION_MAX = 7000
_DESCRIPTION_MAX = 1_048_576
_URL = re.compile(r"(https?|ftp)://.+", re.IGNORECASE)
_CWE = re.compile(r"CWE-(\d+)", re.IGNORECASE)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")
_ADVISORY = re.compile(r"([A-Za-z][A-Za-z0-9]*)-[A-Za-z0-9][A-Za-z0-9._:-]*")
#: NUL breaks GitLab's database, lone surrogates break UTF-8; other controls drive terminals.
_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")


def finding_uuid(fingerprint: Fingerprint) -> str:
    """`str(uuid.uuid5(UUID_NAMESPACE, fingerprint))`, four times faster (50,000 a report)."""
    digest = hashlib.sha1(
        _NAMESPACE_BYTES + fingerprint.encode("utf-8", "surrogatepass"), usedforsecurity=False
    )
    h = digest.hexdigest()
    variant = "89ab"[int(h[16], 16) & 3]
    return f"{h[:8]}-{h[8:12]}-5{h[13:16]}-{variant}{h[17:20]}-{h[20:32]}"


def clean(text: str | None, limit: int | None = None) -> str:
    """`text` with unsafe characters made visible (`\\x00`), cut to `limit` characters."""
    if not text:
        return ""
    text = _UNSAFE.sub(_visible, text)
    if limit is not None and len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _time(moment: datetime) -> str:
    """GitLab's `yyyy-mm-ddThh:mm:ss`, in UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _url(text: str | None) -> str | None:
    return text if text and _URL.match(text) else None


def _identifier(kind: str, name: str, value: str, url: str | None) -> dict[str, str]:
    identifier = {"type": kind, "name": clean(name), "value": clean(value)}
    if _url(url):
        identifier["url"] = clean(url)
    return identifier


def _primary_identifier(tool: str, rule_id: str, help_url: str | None) -> dict[str, str]:
    kind = _NOT_SLUG.sub("_", tool.lower()).strip("_") + "_id"
    return _identifier(kind, f"{tool} {rule_id}", rule_id, help_url)


def _cwe_identifier(cwe: str) -> dict[str, str] | None:
    match = _CWE.fullmatch(cwe.strip())
    if match is None:
        return None
    number = str(int(match.group(1)))
    url = f"https://cwe.mitre.org/data/definitions/{number}.html"
    return _identifier("cwe", f"CWE-{number}", number, url)


def _advisory_identifier(advisory: str) -> dict[str, str] | None:
    match = _ADVISORY.fullmatch(advisory.strip())
    if match is None:
        return None
    value = match.group(0)
    prefix = match.group(1).lower()
    if prefix == "cve":
        url = f"https://www.cve.org/CVERecord?id={value}"
    elif prefix == "ghsa":
        url = f"https://github.com/advisories/{value}"
    else:
        url = f"https://osv.dev/vulnerability/{value}"
    return _identifier(prefix, value, value, url)


class _Builder:
    """Builds the vulnerabilities of one report. Identifiers and detail fields repeat across
    findings (one rule, one CVE, one service), so each distinct one is built once and shared."""

    def __init__(self) -> None:
        self._lists: dict[tuple[object, ...], list[dict[str, str]]] = {}
        self._primaries: dict[tuple[str, str, str | None], dict[str, str]] = {}
        self._advisories: dict[str, dict[str, str] | None] = {}
        self._cwes: dict[str, dict[str, str] | None] = {}
        self._texts: dict[tuple[str, str], dict[str, str]] = {}

    def text(self, name: str, value: str) -> dict[str, str]:
        key = (name, value)
        field = self._texts.get(key)
        if field is None:
            field = self._texts[key] = {"name": name, "type": "text", "value": clean(value)}
        return field

    def identifiers(self, finding: Finding, advisories: tuple[str, ...]) -> list[dict[str, str]]:
        """The rule (primary), then advisory ids and aliases, then CWEs: no type+value twice."""
        key = (finding.tool, finding.rule_id, finding.help_url, finding.cwe, advisories)
        identifiers = self._lists.get(key)
        if identifiers is not None:
            return identifiers
        primary_key = (finding.tool, finding.rule_id, finding.help_url)
        primary = self._primaries.get(primary_key)
        if primary is None:
            primary = self._primaries[primary_key] = _primary_identifier(*primary_key)
        identifiers = [primary]
        seen: set[tuple[str, str]] = set()
        others = [self._advisory(advisory) for advisory in advisories]
        others += [self._cwe(cwe) for cwe in finding.cwe]
        for other in others:
            if other is not None and (other["type"], other["value"]) not in seen:
                seen.add((other["type"], other["value"]))
                identifiers.append(other)
        self._lists[key] = identifiers
        return identifiers

    def _advisory(self, advisory: str) -> dict[str, str] | None:
        if advisory not in self._advisories:
            self._advisories[advisory] = _advisory_identifier(advisory)
        return self._advisories[advisory]

    def _cwe(self, cwe: str) -> dict[str, str] | None:
        if cwe not in self._cwes:
            self._cwes[cwe] = _cwe_identifier(cwe)
        return self._cwes[cwe]

    def details(self, finding: Finding) -> dict[str, dict[str, str]]:
        details = {"service": self.text("Service", finding.service)}
        if finding.controls:
            details["controls"] = self.text("Controls", ", ".join(finding.controls))
        if finding.confidence is not None:
            details["confidence"] = self.text("Confidence", finding.confidence.value)
        if finding.resource:
            details["resource"] = self.text("Resource", finding.resource)
        if finding.suppression is not None:
            suppression = finding.suppression
            value = f"{suppression.kind.value}: {suppression.justification}"
            details["suppression"] = self.text("Suppression", value)
        if finding.baseline is not None:
            details["baseline"] = self.text("Baseline", finding.baseline.value)
        details["fingerprint"] = {
            "name": "Fingerprint",
            "type": "text",
            "value": finding.fingerprint,
        }
        return details

    def vulnerability(
        self, finding: Finding, identifiers: list[dict[str, str]], location: dict[str, Any]
    ) -> dict[str, Any]:
        vulnerability: dict[str, Any] = {
            "id": finding_uuid(finding.fingerprint),
            "name": clean(finding.title, _NAME_MAX) or clean(finding.rule_id, _NAME_MAX),
            "description": clean(finding.message, _DESCRIPTION_MAX),
            "severity": _SEVERITY[finding.severity],
        }
        if finding.package is not None and finding.package.fixed_versions:
            fixed = ", ".join(finding.package.fixed_versions)
            solution = f"Upgrade {finding.package.name} to a fixed version: {fixed}."
            vulnerability["solution"] = clean(solution, _SOLUTION_MAX)
        vulnerability["identifiers"] = identifiers
        link = _url(finding.help_url)
        if link:
            vulnerability["links"] = [{"url": clean(link)}]
        vulnerability["location"] = location
        vulnerability["details"] = self.details(finding)
        suppression = finding.suppression
        if suppression is not None and suppression.kind is SuppressionKind.INLINE:
            vulnerability["flags"] = [
                {
                    "type": "flagged-as-likely-false-positive",
                    "origin": clean(f"{finding.tool} inline suppression"),
                    "description": clean(suppression.justification) or "suppressed inline",
                }
            ]
        return vulnerability

    def sast(self, finding: Finding) -> dict[str, Any]:
        location: dict[str, Any] = {"file": clean(finding.location.path)}
        start = finding.location.start_line
        if start is not None:
            location["start_line"] = start
            location["end_line"] = max(finding.location.end_line or start, start)
        vulnerability = self.vulnerability(finding, self.identifiers(finding, ()), location)
        if finding.snippet:
            vulnerability["raw_source_code_extract"] = clean(finding.snippet)
        return vulnerability

    def dependency(self, finding: Finding) -> dict[str, Any] | None:
        """None when the finding names no pinned package version (GitLab requires one)."""
        package = finding.package
        if package is None or not package.version:
            return None
        location = {
            "file": clean(finding.location.path),
            "dependency": {
                "package": {"name": clean(package.name)},
                "version": clean(package.version),
            },
        }
        advisories = (finding.rule_id, *package.aliases)
        return self.vulnerability(finding, self.identifiers(finding, advisories), location)


def _capped(messages: Sequence[str], what: str) -> list[dict[str, str]]:
    shown = [{"level": "warn", "value": clean(m)} for m in messages[:MAX_MESSAGES]]
    if len(messages) > MAX_MESSAGES:
        rest = len(messages) - MAX_MESSAGES
        shown.append({"level": "warn", "value": f"… and {rest} more {what}: see the JSON result"})
    return shown


def _where(finding: Finding) -> str:
    line = finding.location.start_line
    return f"{finding.location.path}:{line}" if line else finding.location.path


def _skip_line(skip: Skip) -> str:
    by = f" by {skip.tool}" if skip.tool else ""
    return f"{skip.path}: not scanned{by}: {skip.reason}"


def _scan(
    result: ScanResult,
    report_type: str,
    label: str,
    runs: Sequence[ScannerRun],
    notes: list[dict[str, str]],
) -> dict[str, Any]:
    """The `scan` object: `failure` when a scanner of this report failed or none ran."""
    any_ok = any(run.status is ScannerStatus.OK for run in runs)
    messages = []
    for run in runs:
        version = run.version or "version unknown"
        match run.status:
            case ScannerStatus.OK:
                text = f"{run.name} {version}: {run.findings} finding(s)"
                messages.append({"level": "info", "value": clean(text)})
            case ScannerStatus.SKIPPED:
                text = f"{run.name} skipped: {run.error or 'nothing to scan'}"
                messages.append({"level": "info", "value": clean(text)})
            case ScannerStatus.ERROR:
                text = f"{run.name} ({version}) failed: {run.error or 'unknown error'}"
                level = "warn" if any_ok else "fatal"
                messages.append({"level": level, "value": clean(text)})
            case _:
                assert_never(run.status)
    if not runs:
        messages.append({"level": "fatal", "value": f"no {label} scanner ran"})
    failed = not runs or any(run.status is ScannerStatus.ERROR for run in runs)
    tools = ", ".join(f"{run.name} {run.version}" if run.version else run.name for run in runs)
    version = result.tool.version or "unknown"
    return {
        "analyzer": {
            "id": "compliance",
            "name": "compliance",
            "version": version,
            "vendor": _VENDOR,
        },
        "scanner": {
            "id": f"compliance-{report_type.replace('_', '-')}",
            "name": clean(f"compliance {label}" + (f": {tools}" if tools else "")),
            "version": version,
            "vendor": _VENDOR,
        },
        "type": report_type,
        "start_time": _time(result.started_at),
        "end_time": _time(result.finished_at),
        "status": "failure" if failed else "success",
        "messages": messages + notes,
    }


def _report(report: str, scan: dict[str, Any], vulnerabilities: Sequence[str]) -> str:
    """The layout of the JSON result: one key per line, one vulnerability per line.

    Vulnerabilities arrive encoded: each dict is dropped as soon as it is written, so 50,000
    of them never pile up for the garbage collector to walk.
    """
    head = {
        "version": SCHEMA_VERSION,
        "schema": _SCHEMA_URL.format(version=SCHEMA_VERSION, report=report),
        "scan": scan,
    }
    lines = [f"  {_encode(key)}: {_encode(value)}" for key, value in head.items()]
    body = "[\n    " + ",\n    ".join(vulnerabilities) + "\n  ]" if vulnerabilities else "[]"
    lines.append(f'  "vulnerabilities": {body}')
    return "{\n" + ",\n".join(lines) + "\n}\n"


def _runs(result: ScanResult, keep: Callable[[str], bool]) -> list[ScannerRun]:
    return [run for run in result.scanners if keep(run.name)]


def render_sast(result: ScanResult) -> str:
    runs = _runs(
        result, lambda name: name not in DEPENDENCY_SCANNERS and name not in UNREPORTED_SCANNERS
    )
    names = {run.name for run in runs}
    skips = [_skip_line(s) for s in result.skipped if s.tool is None or s.tool in names]
    scan = _scan(result, "sast", "SAST", runs, _capped(skips, "inputs not scanned"))
    build = _Builder()
    vulnerabilities = [_encode(build.sast(f)) for f in result.findings if f.kind in SAST_KINDS]
    return _report("sast", scan, vulnerabilities)


def render_dependency_scanning(result: ScanResult) -> str:
    runs = _runs(result, lambda name: name in DEPENDENCY_SCANNERS)
    names = {run.name for run in runs}
    skips = [_skip_line(s) for s in result.skipped if s.tool in names]
    build = _Builder()
    vulnerabilities: list[str] = []
    unaudited: list[str] = []
    for finding in result.findings:
        if finding.kind is FindingKind.DEPENDENCY_VULNERABILITY:
            vulnerability = build.dependency(finding)
            if vulnerability is not None:
                vulnerabilities.append(_encode(vulnerability))
            else:
                unaudited.append(f"{_where(finding)}: {finding.title}: no pinned version to report")
        elif finding.kind is FindingKind.DEPENDENCY_NOT_AUDITED:
            unaudited.append(f"{_where(finding)}: not audited: {finding.message}")
    notes = _capped(unaudited, "dependencies not audited") + _capped(skips, "inputs not scanned")
    scan = _scan(result, "dependency_scanning", "Dependency Scanning", runs, notes)
    return _report("dependency-scanning", scan, vulnerabilities)


class GitlabSastRenderer:
    name = "gitlab-sast"

    def render(self, result: ScanResult, options: RenderOptions) -> str:
        return render_sast(result)


class GitlabDependencyScanningRenderer:
    name = "gitlab-dependency-scanning"

    def render(self, result: ScanResult, options: RenderOptions) -> str:
        return render_dependency_scanning(result)
