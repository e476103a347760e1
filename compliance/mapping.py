"""Findings -> controls, and one result per control for a scan. Pure: no I/O, no clock.

`map_findings` gives each finding the ids of the controls its mapping rules name.
`evaluate_controls` then decides, for every catalogue control:

- failed: an open finding (one with no suppression) maps to it. A finding is a finding even
  when another scanner failed: failure outranks everything else.
- passed: no open finding maps to it and every scanner named by one of its rules ran
  cleanly (status ok). Suppressed findings (inline, waived, baselined) do not fail it; the
  reason notes them.
- not-assessed: a scanner one of its rules relies on failed, did not run, or was skipped;
  or no rule bears on a control the catalogue marks automated or partial.
- manual: the catalogue marks it manual (the loader refuses rules naming such controls).

A skipped scanner (nothing of its kind to scan, e.g. no Terraform in the change) leaves its
controls not assessed. "Nothing was checked" is not evidence that the control holds: the
infrastructure may live in another repository, and a change-only run may simply not touch
it. Reporting it as passed would be a pass from absence of evidence, which a fail-closed
tool must not give. Process rules (`evidence: scan-completed`) are the exception by design:
their evidence is that the scan ran on the change, and a scanner with nothing to scan in the
change did its part, so skipped counts as completed there (but at least one listed scanner
must have run cleanly).
"""

from __future__ import annotations

import fnmatch
import functools
import re
import sys
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import replace

from compliance.model import (
    ControlResult,
    ControlStatus,
    Finding,
    ScannerRun,
    ScannerStatus,
    Skip,
)
from compliance.policy.catalogue import Automation, Catalogue, Control, control_sort_key
from compliance.policy.mapping_rules import (
    CHECKOV,
    Evidence,
    MappingRule,
    MappingRules,
    Selector,
)

if sys.version_info >= (3, 11):
    from typing import assert_never
else:  # pragma: no cover - Python 3.10
    from typing_extensions import assert_never

NO_RULE = "no mapping rule bears on this control yet: its evidence is not collected"
MANUAL = "no automated evidence: people supply it (see the catalogue's evidence statement)"


def selects(selector: Selector, finding: Finding) -> bool:
    """True when the finding meets every field the selector sets."""
    if selector.tool is not None and finding.tool != selector.tool:
        return False
    if selector.rules and not _globs(selector.rules).match(finding.rule_id):
        return False
    if selector.checks and not (
        finding.tool == CHECKOV and _globs(selector.checks).match(finding.rule_id)
    ):
        return False
    if selector.cwes and not set(finding.cwe) & set(selector.cwes):
        return False
    if selector.kinds and finding.kind not in selector.kinds:
        return False
    return not selector.categories or finding.category in selector.categories


def controls_for(finding: Finding, rules: MappingRules) -> tuple[str, ...]:
    """The control ids the finding bears on, ISO 27001 first, then SOC 2, natural order.

    A rule selects only findings of its own `scanners`: a finding from any other tool is no
    evidence for it (and `category: logging` in checkov.yaml must not catch semgrep's).
    """
    ids = {
        control
        for rule in rules.rules
        if rule.evidence is Evidence.FINDINGS
        and finding.tool in rule.scanners
        and any(selects(s, finding) for s in rule.selectors)
        for control in rule.controls
    }
    return tuple(sorted(ids, key=control_sort_key))


def map_findings(findings: Iterable[Finding], rules: MappingRules) -> tuple[Finding, ...]:
    """The findings, in the same order, each with its `controls` set.

    Findings of one rule share their controls, so each distinct (tool, rule, kind, category,
    CWE) is matched once: thousands of findings cost a few dozen rule evaluations.
    """
    memo: dict[tuple[object, ...], tuple[str, ...]] = {}
    mapped = []
    for finding in findings:
        key = (finding.tool, finding.rule_id, finding.kind, finding.category, finding.cwe)
        if key not in memo:
            memo[key] = controls_for(finding, rules)
        mapped.append(replace(finding, controls=memo[key]))
    return tuple(mapped)


@functools.lru_cache(maxsize=512)
def _globs(patterns: tuple[str, ...]) -> re.Pattern[str]:
    """One case-sensitive regular expression for a selector's fnmatch globs."""
    return re.compile("|".join(fnmatch.translate(p) for p in patterns))


def evaluate_controls(
    catalogue: Catalogue,
    rules: MappingRules,
    findings: Sequence[Finding],
    scanners: Sequence[ScannerRun],
    skipped: Sequence[Skip] = (),
) -> tuple[ControlResult, ...]:
    """One result per catalogue control, in the catalogue's order (framework, natural id).

    A passed control whose scanners could not analyse some inputs (`skipped` items with
    their tool) stays passed (a file that does not parse should not hide every finding
    elsewhere), and its reason says how many inputs its evidence lacks, so nobody reads it
    as covering everything."""
    runs = {run.name: run for run in scanners}
    unread = Counter(s.tool for s in skipped if s.tool is not None)
    by_control: dict[str, list[Finding]] = {}
    for finding in findings:
        for control_id in finding.controls:
            by_control.setdefault(control_id, []).append(finding)
    return tuple(
        _evaluate(
            control, rules.for_control(control.id), by_control.get(control.id, []), runs, unread
        )
        for control in sorted(catalogue.controls, key=lambda c: control_sort_key(c.id))
    )


def _evaluate(
    control: Control,
    rules: tuple[MappingRule, ...],
    mapped: list[Finding],
    runs: dict[str, ScannerRun],
    unread: Counter[str],
) -> ControlResult:
    def result(status: ControlStatus, reason: str | None, failing: list[Finding]) -> ControlResult:
        return ControlResult(
            framework=control.framework.value,
            id=control.id,
            title=control.title,
            automation=control.automation.value,
            status=status,
            findings=tuple(f.fingerprint for f in failing),
            rules=tuple(r.id for r in rules),
            reason=reason,
        )

    if not rules:
        match control.automation:
            case Automation.MANUAL:
                return result(ControlStatus.MANUAL, MANUAL, [])
            case Automation.AUTOMATED | Automation.PARTIAL:
                return result(ControlStatus.NOT_ASSESSED, NO_RULE, [])
            case _ as unreachable:
                assert_never(unreachable)
    failing = [f for f in mapped if f.suppression is None]
    suppressed = len(mapped) - len(failing)
    note = f"{suppressed} suppressed finding(s) not counted" if suppressed else None
    if failing:
        reason = f"{len(failing)} open finding(s)" + (f"; {note}" if note else "")
        return result(ControlStatus.FAILED, reason, failing)
    gaps = sorted({gap for rule in rules for gap in scanner_gaps(rule, runs)})
    if gaps:
        return result(ControlStatus.NOT_ASSESSED, "; ".join(gaps), [])
    tools = sorted({name for rule in rules for name in rule.scanners if unread[name]})
    if tools:
        counts = ", ".join(f"{name} {unread[name]}" for name in tools)
        gap = f"inputs its scanners could not analyse: {counts} (see skipped)"
        note = f"{note}; {gap}" if note else gap
    return result(ControlStatus.PASSED, note, [])


def scanner_gaps(rule: MappingRule, runs: dict[str, ScannerRun]) -> list[str]:
    """Why this scan is not evidence for the rule (empty: it is)."""
    gaps: list[str] = []
    for name in rule.scanners:
        run = runs.get(name)
        if run is None:
            gaps.append(f"{name} did not run")
            continue
        match run.status:
            case ScannerStatus.OK:
                pass
            case ScannerStatus.ERROR:
                gaps.append(f"{name} failed")
            case ScannerStatus.SKIPPED:
                if rule.evidence is Evidence.FINDINGS:
                    gaps.append(f"{name} had nothing to scan")
            case _ as unreachable:
                assert_never(unreachable)
    if rule.evidence is Evidence.SCAN_COMPLETED and not gaps:
        ran = [runs[n] for n in rule.scanners if runs[n].status is ScannerStatus.OK]
        if not ran:
            gaps.append(f"none of {', '.join(rule.scanners)} had anything to scan")
    return gaps
