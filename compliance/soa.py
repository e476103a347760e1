"""The Statement of Applicability: every control of both frameworks, whether it applies,
how it is evidenced, and what the last scan showed. Markdown for people, CSV for the GRC tool.

Pure: built from the catalogue, the mapping rules, the applicability policy and (optionally)
a saved ScanResult. Without a result, every status says so: the statement never claims a
control passed without a scan that showed it.

Applicability (policies/soa.yaml) is the organisation's decision, so it lives in a policy
file; every control applies unless excluded there with a justification, as ISO/IEC 27001
6.1.3 d) asks:

```yaml
version: 1
exclusions:
  - control: A.7.4
    justification: >-
      No premises of our own; the cloud provider's physical controls apply (its SOC 2
      report is on file).
```
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from compliance.errors import ConfigError, Problem
from compliance.model import ControlResult, ControlStatus, ScannerStatus, ScanResult
from compliance.policy.catalogue import Catalogue, Control
from compliance.policy.files import read_yaml, validate_file, validate_items
from compliance.policy.mapping_rules import MappingRules

DEFAULT_SOA_PATH = "policies/soa.yaml"
NO_RESULT = "no result"
FRAMEWORK_TITLES = {
    "iso27001": "ISO/IEC 27001:2022 Annex A",
    "soc2": "SOC 2 Trust Services Criteria (2017, points of focus 2022)",
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExclusionEntry(_Strict):
    control: str = Field(min_length=1)
    justification: str = Field(min_length=20)


class ApplicabilityFile(_Strict):
    version: Literal[1] = 1
    exclusions: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Applicability:
    source: str | None
    exclusions: dict[str, str]


def load_applicability(path: Path, display: str, catalogue: Catalogue) -> Applicability:
    return parse_applicability(read_yaml(path, display), display, catalogue)


def parse_applicability(raw: Any, display: str, catalogue: Catalogue) -> Applicability:
    if raw is None:
        raw = {}
    parsed = validate_file(
        ApplicabilityFile, raw, display, not_a_mapping="expected a mapping with `exclusions`"
    )
    problems: list[Problem] = []
    exclusions: dict[str, str] = {}
    items = validate_items(ExclusionEntry, parsed.exclusions, "exclusions", display, problems)
    for index, entry in items:
        where = f"exclusions[{index}]"
        if catalogue.get(entry.control) is None:
            problems.append(
                Problem(display, f"{where}.control", f"unknown control {entry.control!r}")
            )
        elif entry.control in exclusions:
            problems.append(Problem(display, f"{where}.control", f"{entry.control} excluded twice"))
        exclusions[entry.control] = " ".join(entry.justification.split())
    if problems:
        raise ConfigError(problems)
    return Applicability(display, exclusions)


@dataclass(frozen=True, slots=True)
class SoaRow:
    framework: str
    id: str
    title: str
    group: str
    applicable: bool
    justification: str
    automation: str
    status: str
    status_reason: str
    open_findings: int
    evidence: str
    rules: tuple[str, ...]
    scanners: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Soa:
    rows: tuple[SoaRow, ...]
    result: ScanResult | None
    applicability: Applicability


def build_soa(
    catalogue: Catalogue,
    rules: MappingRules,
    applicability: Applicability,
    result: ScanResult | None,
) -> Soa:
    by_id: dict[str, ControlResult] = {c.id: c for c in result.controls} if result else {}
    versions = (
        {r.name: f"{r.name} {r.version or '?'} ({r.status.value})" for r in result.scanners}
        if result
        else {}
    )
    rows = []
    for control in catalogue.controls:
        mapped = rules.for_control(control.id)
        scanners = sorted({s for rule in mapped for s in rule.scanners})
        excluded = applicability.exclusions.get(control.id)
        status, reason, open_findings = _status(control, by_id.get(control.id), result)
        rows.append(
            SoaRow(
                framework=control.framework.value,
                id=control.id,
                title=control.title,
                group=control.group,
                applicable=excluded is None,
                justification=excluded or _inclusion(control),
                automation=control.automation.value,
                status=status,
                status_reason=reason,
                open_findings=open_findings,
                evidence=control.evidence,
                rules=tuple(rule.id for rule in mapped),
                scanners=tuple(versions.get(s, s) for s in scanners),
            )
        )
    return Soa(tuple(rows), result, applicability)


def _inclusion(control: Control) -> str:
    return (
        "Applies: part of the framework's baseline; no exclusion is declared."
        if control.framework.value == "soc2"
        else "Applies: required to treat the risks in scope; no exclusion is declared."
    )


def _status(
    control: Control, found: ControlResult | None, result: ScanResult | None
) -> tuple[str, str, int]:
    if result is None:
        return NO_RESULT, "no scan result given (compliance soa --result FILE)", 0
    if found is None:
        return "not in result", "the result predates this catalogue entry", 0
    if found.status is ControlStatus.MANUAL:  # the evidence column says what people supply
        return found.status.value, "", 0
    return found.status.value, found.reason or "", len(found.findings)


# --- rendering ----------------------------------------------------------------------------

CSV_COLUMNS = (
    "framework",
    "control",
    "title",
    "group",
    "applicable",
    "justification",
    "automation",
    "status",
    "status_reason",
    "open_findings",
    "evidence",
    "mapping_rules",
    "scanners",
)


def render_soa_csv(soa: Soa) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in soa.rows:
        writer.writerow(
            [
                row.framework,
                row.id,
                row.title,
                row.group,
                "yes" if row.applicable else "no",
                row.justification,
                row.automation,
                row.status,
                row.status_reason,
                row.open_findings,
                row.evidence,
                " ".join(row.rules),
                "; ".join(row.scanners),
            ]
        )
    return buffer.getvalue()


def render_soa_markdown(soa: Soa) -> str:
    lines = ["# Statement of Applicability", ""]
    result = soa.result
    if result is not None:
        commit = f", commit `{result.commit}`" if result.commit else ""
        lines.append(
            f"Status from the scan of `{_cell(result.root)}`{commit} at "
            f"{result.started_at.isoformat()} ({result.tool.name} {result.tool.version}); "
            f"gate {'passed' if result.verdict.passed else 'failed'}."
        )
        ran = ", ".join(f"{r.name} {r.version or '?'} ({r.status.value})" for r in result.scanners)
        lines.append(f"Scanners: {ran}.")
        errors = [r for r in result.scanners if r.status is ScannerStatus.ERROR]
        if errors:
            lines.append(
                "**Scanner errors:** the controls they cover are not assessed in this result."
            )
    else:
        lines.append(
            "No scan result was given: the status column says `no result` for every control."
        )
    source = soa.applicability.source or "none (every control applies)"
    lines += ["", f"Applicability decisions: {_cell(source)}.", ""]
    for framework in ("iso27001", "soc2"):
        rows = [r for r in soa.rows if r.framework == framework]
        if not rows:
            continue
        lines += [f"## {FRAMEWORK_TITLES[framework]}", "", _summary(rows), ""]
        lines.append("| Control | Title | Applicable | Automation | Status | Evidence |")
        lines.append("| --- | --- | --- | --- | --- | --- |")
        for row in rows:
            applicable = "yes" if row.applicable else f"no: {row.justification}"
            status = row.status + (f": {row.status_reason}" if row.status_reason else "")
            evidence = row.evidence
            if row.rules:
                evidence += f" Rules: {', '.join(row.rules)}."
            if row.scanners:
                evidence += f" Scanners: {', '.join(row.scanners)}."
            lines.append(
                "| "
                + " | ".join(
                    _cell(text)
                    for text in (row.id, row.title, applicable, row.automation, status, evidence)
                )
                + " |"
            )
        lines.append("")
    return "\n".join(lines)


def _summary(rows: Sequence[SoaRow]) -> str:
    applicable = [r for r in rows if r.applicable]
    counts: dict[str, int] = {}
    for row in applicable:
        counts[row.status] = counts.get(row.status, 0) + 1
    parts = ", ".join(f"{n} {status}" for status, n in sorted(counts.items()))
    return (
        f"{len(rows)} controls, {len(applicable)} applicable "
        f"({len(rows) - len(applicable)} excluded). Status of the applicable ones: {parts}."
    )


def _cell(text: str) -> str:
    """Markdown table cell: no line breaks, pipes escaped."""
    return " ".join(text.split()).replace("|", "\\|")
