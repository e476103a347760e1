"""Pure parsing of checkov's JSON report into findings and skips (tested on recordings).

A skipped check is a finding too, marked suppressed with where the skip is written and why
(see `_skip_suppression`; what checkov lists as skipped is in the package docstring).
"""

from __future__ import annotations

import json
import posixpath
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from compliance.errors import ScannerFailure
from compliance.model import (
    FindingKind,
    Location,
    RawFinding,
    RuleId,
    Skip,
    Suppression,
    SuppressionKind,
)
from compliance.scanners.checkov.table import CheckTable
from compliance.scanners.source import MAX_SNIPPET_CHARS, MAX_SNIPPET_LINES

NAME = "checkov"
PARSE_ERROR = "checkov could not parse this file"
#: A file's lines by repo-relative path (SnippetReader.lines), to find where a skip is written.
LineSource = Callable[[str], Sequence[str] | None]


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


class _SkipResult(BaseModel):
    model_config = ConfigDict(extra="ignore")

    suppress_comment: str = ""


class _Skipped(_Failed):
    check_result: _SkipResult = Field(default_factory=_SkipResult)


class _Results(BaseModel):
    model_config = ConfigDict(extra="ignore")

    failed_checks: list[_Failed] = []
    passed_checks: list[_Seen] = []
    skipped_checks: list[_Skipped] = []
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
    stdout: bytes,
    *,
    root: str,
    table: CheckTable,
    base: str = "",
    lines: LineSource | None = None,
) -> ParsedCheckov:
    """Parse one checkov JSON document printed with cwd=`root` (absolute, POSIX).

    `base` is the `--directory` it scanned, relative to `root` ("" for `--file` runs): the
    `file_path` of a `-d` run is relative to it. `lines` lets a skipped check's justification
    quote the comment or annotation and its line; without it, it names the kind of skip only.
    Unexpected shapes raise ScannerFailure.
    """
    if not stdout.strip():
        raise ScannerFailure("checkov printed nothing")
    try:
        data = json.loads(stdout)
    # ValueError: not JSON, not UTF-8, or an integer of more than 4,300 digits.
    except (ValueError, RecursionError) as exc:
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
        kind = report.check_type
        for seen in (*results.passed_checks, *results.skipped_checks, *results.failed_checks):
            checked.add(_repo_path(seen, root, base, kind))
        # Failed first: a check both failed and skipped on one resource stays open.
        for failed in results.failed_checks:
            finding = _finding(failed, kind, root, base, table)
            findings.setdefault((finding.rule_id, finding.location, finding.resource), finding)
        for off in results.skipped_checks:
            finding = _finding(off, kind, root, base, table)
            comment = off.check_result.suppress_comment
            suppression = _skip_suppression(finding, kind, comment, lines)
            finding = replace(finding, suppression=suppression)
            findings.setdefault((finding.rule_id, finding.location, finding.resource), finding)
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
    path = _repo_path(failed, root, base, check_type)
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


def _repo_path(seen: _Seen, root: str, base: str, check_type: str) -> str:
    """The file as a POSIX path relative to `root`; `base` itself if checkov's is unusable."""
    if check_type == "kubernetes":
        # Its runner joins the `-d` folder to a path already relative to the working folder
        # (`-d infra`: /root/infra/infra/k8s/pod.yaml), while its file_path is right: relative
        # to the working folder in both modes (/infra/k8s/pod.yaml).
        path = _normalise(seen.file_path, root, base="", anchored=True)
        if path:
            return path
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


# --- skipped checks ---------------------------------------------------------------------------

#: checkov's own patterns (3.3.30): common/comment/enum.py COMMENT_REGEX, and the annotation
#: key prefixes of kubernetes/kubernetes_utils.py (SKIP_ANNOTATION_PREFIXES, value "ID=reason").
_SKIP_COMMENT = re.compile(
    r"(checkov:skip=|bridgecrew:skip=|cortex:skip=) *([A-Za-z_\d-]+(?:,[A-Za-z_\d-]+)*)?(:[^\n]*)?"
)
_SKIP_ANNOTATION = re.compile(
    r"(?P<key>[\w./-]*(?:checkov|bridgecrew|cortex)\.io/skip[\w./-]*)[\"']?\s*:\s*[\"']?"
    r"(?P<id>[A-Za-z_\d-]+)"
)
#: Frameworks whose skips are Kubernetes annotations (no comment is read).
_ANNOTATED = frozenset({"kubernetes", "helm", "kustomize"})
#: checkov's placeholders: no reason after the id; a known failure of its baseline file.
NO_COMMENT = "No comment provided"
BASELINE_SKIPPED = "baseline-skipped"


def _skip_suppression(
    finding: RawFinding, check_type: str, comment: str, lines: LineSource | None
) -> Suppression:
    """Why checkov skipped this check, quoting where it is written when the file says."""
    check_id = finding.rule_id
    file_lines = lines(finding.location.path) if lines else None
    where = _locate_skip(check_id, check_type, finding.location, file_lines or ())
    if where is None and comment == BASELINE_SKIPPED:
        return Suppression(
            SuppressionKind.BASELINED,
            "listed in a checkov baseline file (`baseline` with `output-baseline-as-skipped` "
            f'in a .checkov.yaml); checkov reported it as "{BASELINE_SKIPPED}"',
        )
    if where is None:
        where = _unlocated_skip(check_id, check_type)
    reason = "no reason given" if comment in (NO_COMMENT, "") else f'"{comment}"'
    return Suppression(
        SuppressionKind.INLINE,
        f"{where} (checkov inline suppression; checkov does not say whether it would fail): "
        f"{reason}",
    )


def _locate_skip(
    check_id: str, check_type: str, location: Location, file_lines: Sequence[str]
) -> str | None:
    """The skip for `check_id` as written in the flagged lines (a Dockerfile: the whole file)."""
    if not file_lines:
        return None
    first, last = location.start_line or 1, location.end_line or len(file_lines)
    if check_type == "dockerfile":
        first, last = 1, len(file_lines)
    numbered = list(enumerate(file_lines[first - 1 : last], start=first))
    if check_type in _ANNOTATED:
        for number, text in numbered:
            for annotation in _SKIP_ANNOTATION.finditer(text):
                if annotation.group("id") == check_id:
                    key = annotation.group("key")
                    return f"`{key}: {check_id}` annotation on line {number}"
        return None
    for number, text in numbered:
        match = _SKIP_COMMENT.search(text)
        if match and match.group(2) and check_id in match.group(2).split(","):
            return f"`{match.group(1)}{match.group(2)}` comment on line {number}"
    if check_type == "cloudformation":
        entry = re.compile(rf"\bid[\"']?\s*:\s*[\"']?{re.escape(check_id)}\b")
        for number, text in numbered:
            if entry.search(text):
                return f"`Metadata` skip entry `id: {check_id}` on line {number}"
    return None


def _unlocated_skip(check_id: str, check_type: str) -> str:
    if check_type in _ANNOTATED:
        return f"a `checkov.io/skip` annotation for {check_id}"
    if check_type == "cloudformation":
        return f"a `checkov:skip={check_id}` comment or a `Metadata` skip entry"
    return f"a `checkov:skip={check_id}` comment"
