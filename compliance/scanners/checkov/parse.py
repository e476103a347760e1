"""Pure parsing of checkov's JSON report into findings and skips (tested on recordings)."""

from __future__ import annotations

import json
import posixpath
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from compliance.errors import ScannerFailure
from compliance.model import FindingKind, Location, RawFinding, RuleId, Skip
from compliance.scanners.checkov.table import CheckTable
from compliance.scanners.source import MAX_SNIPPET_CHARS, MAX_SNIPPET_LINES

NAME = "checkov"
PARSE_ERROR = "checkov could not parse this file"


class _Seen(BaseModel):
    model_config = ConfigDict(extra="ignore")

    file_path: str = ""
    file_abs_path: str | None = None


class _Failed(_Seen):
    check_id: str = Field(min_length=1)
    check_name: str = ""
    file_line_range: list[int] | None = None
    resource: str | None = None
    code_block: list[tuple[int, str]] | None = None
    guideline: str | None = None


class _Results(BaseModel):
    model_config = ConfigDict(extra="ignore")

    failed_checks: list[_Failed] = []
    passed_checks: list[_Seen] = []
    skipped_checks: list[_Seen] = []
    parsing_errors: list[str] = []


class _Report(BaseModel):
    model_config = ConfigDict(extra="ignore")

    check_type: str
    results: _Results
    summary: dict[str, Any] = {}


@dataclass(frozen=True, slots=True)
class ParsedCheckov:
    findings: tuple[RawFinding, ...]
    skipped: tuple[Skip, ...]
    #: Repo-relative paths of every file some check (passed, failed or skipped) ran on.
    checked_files: frozenset[str]
    version: str | None


def parse_checkov_output(
    stdout: bytes, *, root: str, table: CheckTable, base: str = ""
) -> ParsedCheckov:
    """Parse one checkov JSON document printed with cwd=`root` (absolute, POSIX).

    `base` is the `--directory` it scanned, relative to `root` ("" for `--file` runs): the
    `file_path` of a `-d` run is relative to it. Unexpected shapes raise ScannerFailure.
    """
    if not stdout.strip():
        raise ScannerFailure("checkov printed nothing")
    try:
        data = json.loads(stdout)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScannerFailure(f"checkov printed output that is not JSON: {exc}") from None
    documents = data if isinstance(data, list) else [data]
    if isinstance(data, dict) and "check_type" not in data:
        return _summary_only(data)
    try:
        reports = [_Report.model_validate(d) for d in documents]
    except ValidationError as exc:
        raise ScannerFailure(f"checkov printed JSON we do not understand: {exc}") from None
    findings: dict[tuple[object, ...], RawFinding] = {}
    skipped: set[Skip] = set()
    checked: set[str] = set()
    versions = {str(r.summary.get("checkov_version")) for r in reports} - {"None"}
    for report in reports:
        results = report.results
        for seen in (*results.passed_checks, *results.skipped_checks, *results.failed_checks):
            checked.add(_repo_path(seen, root, base))
        for failed in results.failed_checks:
            finding = _finding(failed, report.check_type, root, base, table)
            key = (finding.rule_id, finding.location, finding.resource)
            findings.setdefault(key, finding)
        for error in results.parsing_errors:
            path = _normalise(error, root, base="") or error
            skipped.add(Skip(path, PARSE_ERROR, tool=NAME))
    return ParsedCheckov(
        findings=tuple(sorted(findings.values(), key=_sort_key)),
        skipped=tuple(sorted(skipped, key=lambda s: (s.path, s.reason))),
        checked_files=frozenset(checked),
        version=min(versions) if versions else None,
    )


def _summary_only(data: dict[str, Any]) -> ParsedCheckov:
    """`{"passed": 0, "failed": 0, ...}`: checkov had nothing to check."""
    if not {"passed", "failed"} <= data.keys():
        raise ScannerFailure("checkov printed a JSON object that is neither report nor summary")
    if data.get("failed") or data.get("parsing_errors"):
        raise ScannerFailure("checkov printed a summary with failures but no details")
    version = data.get("checkov_version")
    return ParsedCheckov((), (), frozenset(), str(version) if version else None)


def _finding(
    failed: _Failed, check_type: str, root: str, base: str, table: CheckTable
) -> RawFinding:
    path = _repo_path(failed, root, base)
    policy = table.policy(failed.check_id)
    lines = [n for n in failed.file_line_range or () if n > 0]
    resource = _resource(failed.resource, path, check_type)
    title = " ".join(failed.check_name.split()) or policy.title
    guideline = failed.guideline if (failed.guideline or "").startswith("http") else None
    return RawFinding(
        tool=NAME,
        rule_id=RuleId(failed.check_id),
        title=title,
        message=f"{resource}: {title}" if resource else title,
        severity=policy.severity,
        category=str(policy.category),
        kind=FindingKind.IAC_MISCONFIGURATION,
        location=Location(path, min(lines, default=None), max(lines, default=None)),
        cwe=policy.cwe,
        snippet=_snippet(failed.code_block),
        resource=resource,
        help_url=guideline,
    )


def _repo_path(seen: _Seen, root: str, base: str) -> str:
    """The file as a POSIX path relative to `root`; `base` itself if checkov's is unusable."""
    return (
        _normalise(seen.file_abs_path, root, base="")
        or _normalise(seen.file_path, root, base, anchored=True)
        or (base or ".")
    )


def _normalise(raw: str | None, root: str, base: str, *, anchored: bool = False) -> str | None:
    """`raw` inside `root`, or None. Absolute paths stay; relative ones start at root/base.

    With `anchored`, a leading "/" means "relative to base" (checkov's `file_path`).
    """
    if not raw:
        return None
    text = raw.replace("\\", "/")
    if anchored:
        text = text.lstrip("/")
    joined = text if posixpath.isabs(text) else posixpath.join(root, base, text)
    relative = posixpath.relpath(posixpath.normpath(joined), root)
    if relative in {".", ".."} or relative.startswith("../"):
        return None
    return relative


def _resource(resource: str | None, path: str, check_type: str) -> str | None:
    """The resource address; for Dockerfiles only the instruction (checkov prefixes a path)."""
    if not resource:
        return None
    if check_type == "dockerfile":
        name = posixpath.basename(path) + "."
        cut = resource.rfind(name)
        instruction = resource[cut + len(name) :] if cut >= 0 else resource
        return instruction or None
    return resource


def _snippet(code_block: list[tuple[int, str]] | None) -> str | None:
    if not code_block:
        return None
    lines = [text.rstrip("\r\n") for _number, text in code_block[:MAX_SNIPPET_LINES]]
    snippet = "\n".join(lines).strip("\n")
    return snippet[:MAX_SNIPPET_CHARS] or None


def _sort_key(f: RawFinding) -> tuple[str, int, str, str]:
    return (f.location.path, f.location.start_line or 0, f.rule_id, f.resource or "")
