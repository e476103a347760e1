"""SARIF 2.1.0 for GitHub code scanning: one run per scanner, split to fit GitHub's limits.

Built from the ScanResult only, deterministic (same result, same bytes). Sources: GitHub's
"SARIF support for code scanning" (docs.github.com/en/code-security/reference/code-scanning/
sarif-files/sarif-support, with its limits table) and the OASIS SARIF 2.1.0 Errata 01 spec.

Categories. Each scanner is its own run with `automationDetails.id` `compliance/<tool>/`
(category `compliance/<tool>`, empty run id). GitHub keeps one analysis per (ref, tool,
category) and closes the alerts of that set that the newest analysis no longer reports, so
each category must always mean the same thing. Since 2025-07-21 GitHub rejects an upload
with two runs in one category ("A delivery cannot contain multiple runs with the same
category"); the upload-sarif action keeps our ids (it fills `automationDetails` only when
absent) but combines every file it is given into one upload, so upload split files one by
one (one upload step per file).

Scanners that did not run cleanly. A run with no results tells GitHub that every open alert
of its category is fixed. A run with `executionSuccessful: false` is not a safe alternative:
GitHub answers such an upload with processing status "failed" ("unsuccessful execution"; see
github/codeql-action#1393 and #1732, which upload one on purpose so that a failed analysis
does not close alerts), and the upload-sarif action then fails the step, with the good runs
of the same file. So a scanner with status `error` or `skipped` gets no run at all: its
category keeps its last analysis and its open alerts stay open (the scan exits 4 anyway).
Skipped scanners are left out too, because "nothing to scan" may only mean nothing changed
(`--changed-only`). They are listed in the log's `properties.compliance.notReported`. A
scanner that ran cleanly with no findings gets an empty run: that is how fixed alerts close.
(For the same reason a `--changed-only` result should not be uploaded: its runs would close
every alert outside the changed files.) Inputs a scanner skipped become warning
notifications of its run's invocation.

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

Splitting. A scanner's results, in result order, go into runs of at most
`max_results_per_run`; part 1 keeps the category `compliance/<tool>/`, part k > 1 is
`compliance/<tool>/part-k/`, so a tool that grows keeps its first category. (When a tool
shrinks back, the category of a part no longer uploaded keeps its last analysis: delete that
stale configuration on GitHub.) The default is 5,000, not GitHub's hard 25,000: GitHub keeps
only the top 5,000 results of a run by severity, and the rest would read as fixed. A run
whose file would exceed `max_gzip_bytes` alone is halved until it fits (one result cannot be
split). Runs are packed in order into files of at most `max_runs_per_file` runs and
`max_gzip_bytes` (measured as `gzip.compress(text, compresslevel=6, mtime=0)`, the level of
the action's Node zlib); the default 9,000,000 leaves 10% of GitHub's 10 MB for the action,
which re-serialises the file and adds a fingerprint to every result. Runs say which part
they are (`properties.compliance.part`/`parts`), files which file (`file`/`files`); the
verdict is in the first file only.
"""

from __future__ import annotations

import gzip
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any
from urllib.parse import quote

from compliance.model import (
    Confidence,
    Finding,
    FindingKind,
    ScannerRun,
    ScannerStatus,
    ScanResult,
    Severity,
    Skip,
    SuppressionKind,
)
from compliance.reporting.interface import RenderOptions, SplitRequired

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
CATEGORY_PREFIX = "compliance"
FINGERPRINT_KEY = "compliance/v1"
SRCROOT = "%SRCROOT%"

#: GitHub's limits (docs: "SARIF support for code scanning", limits table).
GITHUB_MAX_RUNS_PER_FILE = 20
GITHUB_MAX_RESULTS_PER_RUN = 25_000
GITHUB_RESULTS_KEPT_PER_RUN = 5_000
GITHUB_MAX_GZIP_BYTES = 10_000_000
DEFAULT_MAX_GZIP_BYTES = GITHUB_MAX_GZIP_BYTES * 9 // 10
MAX_TAGS = 10
GZIP_LEVEL = 6
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


class SarifRenderer:
    """SARIF 2.1.0 for GitHub code scanning (see the module docstring for the choices)."""

    name = "sarif"

    def __init__(
        self,
        *,
        max_results_per_run: int = GITHUB_RESULTS_KEPT_PER_RUN,
        max_runs_per_file: int = GITHUB_MAX_RUNS_PER_FILE,
        max_gzip_bytes: int = DEFAULT_MAX_GZIP_BYTES,
    ) -> None:
        if min(max_results_per_run, max_runs_per_file, max_gzip_bytes) < 1:
            raise ValueError("SARIF limits must be positive")
        self.max_results_per_run = max_results_per_run
        self.max_runs_per_file = max_runs_per_file
        self.max_gzip_bytes = max_gzip_bytes

    def render(self, result: ScanResult, options: RenderOptions) -> str:
        files, why = self._render(result)
        if len(files) > 1:
            raise SplitRequired(fmt=self.name, files=len(files), why=why)
        return files[0]

    def render_files(self, result: ScanResult, options: RenderOptions) -> tuple[str, ...]:
        return self._render(result)[0]

    # --- runs ------------------------------------------------------------------------

    def _render(self, result: ScanResult) -> tuple[tuple[str, ...], str]:
        by_tool: dict[str, list[Finding]] = {}
        for finding in result.findings:
            by_tool.setdefault(finding.tool, []).append(finding)
        envelope = _Envelope(result, by_tool)
        budget = self.max_gzip_bytes - _gzip_size(envelope.text(1, 10**6).encode())
        runs: list[bytes] = []
        for scanner in envelope.reported:
            findings = by_tool.get(scanner.name, [])
            rules = {rid: _rule(rid, fs) for rid, fs in _group_by_rule(findings).items()}
            skips = [s for s in result.skipped if s.tool == scanner.name]
            chunks = _chunks(findings, self.max_results_per_run)
            while True:
                texts = [
                    _run_text(result, scanner, chunk, rules, skips, k, len(chunks)).encode()
                    for k, chunk in enumerate(chunks, 1)
                ]
                big = {
                    i for i, t in enumerate(texts) if len(chunks[i]) > 1 and not _fits(t, budget)
                }
                if not big:
                    break
                chunks = [half for i, c in enumerate(chunks) for half in _halves(c, i in big)]
            runs += texts
        return self._pack(runs, envelope, budget)

    # --- files -----------------------------------------------------------------------

    def _pack(
        self, runs: list[bytes], envelope: _Envelope, budget: int
    ) -> tuple[tuple[str, ...], str]:
        if len(runs) <= self.max_runs_per_file:
            text = envelope.text(1, 1, runs)
            if _fits(text.encode(), self.max_gzip_bytes):
                return (text,), ""
        # Greedy, in run order, on each run's own gzip size; then check the real files.
        files: list[list[int]] = [[]]
        used = 0
        for i, run in enumerate(runs):
            size = _gzip_size(run)
            if files[-1] and (len(files[-1]) >= self.max_runs_per_file or used + size > budget):
                files.append([])
                used = 0
            files[-1].append(i)
            used += size
        while True:
            texts = [
                envelope.text(k, len(files), [runs[i] for i in f]) for k, f in enumerate(files, 1)
            ]
            too_big = [
                k
                for k, text in enumerate(texts)
                if len(files[k]) > 1 and not _fits(text.encode(), self.max_gzip_bytes)
            ]
            if not too_big:
                break
            files.insert(too_big[0] + 1, [files[too_big[0]].pop()])
        why = []
        if len(runs) > self.max_runs_per_file:
            why.append(f"{len(runs)} runs, at most {self.max_runs_per_file} per file")
        if len(files) > -(-len(runs) // self.max_runs_per_file):
            why.append(f"at most {self.max_gzip_bytes:,} bytes gzipped per file")
        return tuple(texts), "; ".join(why)


@dataclass(frozen=True, slots=True)
class _Envelope:
    """The sarifLog around the runs of one file: version, schema, a small property bag."""

    result: ScanResult
    by_tool: dict[str, list[Finding]]

    @property
    def reported(self) -> list[ScannerRun]:
        """The scanners that get runs: those listed only with status ok (a result merged
        from shards could list a scanner twice), each once, in the result's order."""
        failed = {s.name for s in self.result.scanners if s.status is not ScannerStatus.OK}
        runs: dict[str, ScannerRun] = {}
        for scanner in self.result.scanners:
            if scanner.name not in failed:
                runs.setdefault(scanner.name, scanner)
        return list(runs.values())

    def text(self, file: int, files: int, runs: Sequence[bytes] = ()) -> str:
        result = self.result
        props: dict[str, Any] = {
            "tool": {"name": result.tool.name, "version": result.tool.version},
            "root": result.root,
            "commit": result.commit,
            "file": file,
            "files": files,
        }
        if file == 1:
            verdict = result.verdict
            props["verdict"] = {
                "passed": verdict.passed,
                "failOn": verdict.fail_on.value,
                "mode": verdict.mode.value,
                "reasons": [f"{r.policy} {r.rule}: {r.message}" for r in verdict.reasons],
            }
        reported = {s.name for s in self.reported}
        props["notReported"] = [
            {
                "scanner": s.name,
                "status": s.status.value,
                "reason": s.error,
                "findings": len(self.by_tool.get(s.name, ())),
            }
            for s in result.scanners
            if s.name not in reported and s.status is not ScannerStatus.OK
        ]
        head = {"version": "2.1.0", "$schema": SCHEMA_URI, "properties": {"compliance": props}}
        body = ",\n".join(r.decode() for r in runs)
        return _compact(head)[:-1] + ',\n"runs": [' + (f"\n{body}\n" if runs else "") + "]}\n"


def _run_text(
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
        + _compact(driver)[:-1]
        + ', "rules": '
        + _items(rules[rid] for rid in rule_ids)
        + "}}, "
        + _compact(head)[1:-1]
        + ', "results": '
        + _items(_result(f, index[f.rule_id]) for f in findings)
        + "}"
    )


def _rule(rule_id: str, findings: Sequence[Finding]) -> dict[str, Any]:
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


# --- helpers -----------------------------------------------------------------------------


def _group_by_rule(findings: Sequence[Finding]) -> dict[str, list[Finding]]:
    groups: dict[str, list[Finding]] = {}
    for f in findings:
        groups.setdefault(f.rule_id, []).append(f)
    return groups


def _chunks(findings: Sequence[Finding], size: int) -> list[Sequence[Finding]]:
    if not findings:
        return [()]
    return [findings[i : i + size] for i in range(0, len(findings), size)]


def _halves(chunk: Sequence[Finding], split: bool) -> list[Sequence[Finding]]:
    if not split:
        return [chunk]
    middle = len(chunk) // 2
    return [chunk[:middle], chunk[middle:]]


def _gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))


def _fits(data: bytes, limit: int) -> bool:
    """Whether `data` gzips to at most `limit` bytes; skips gzip when even zlib's worst-case
    bound (deflateBound plus the gzip header and trailer) is within the limit."""
    size = len(data)
    bound = size + (size >> 12) + (size >> 14) + (size >> 25) + 13 + 18
    return bound <= limit or _gzip_size(data) <= limit


def _items(items: Any) -> str:
    lines = [_compact(item) for item in items]
    return "[\n" + ",\n".join(lines) + "\n]" if lines else "[]"


def _compact(value: Any) -> str:
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
