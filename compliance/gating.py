"""The merge gate: pure functions from findings and scanner runs to a Verdict.

Fail closed: a scanner error fails the gate whatever the findings say, and a scan in which
no scanner ran at all is never a pass.
"""

from __future__ import annotations

from collections.abc import Sequence

from compliance.model import Finding, ScannerRun, ScannerStatus, Severity, Verdict


def evaluate_threshold(
    findings: Sequence[Finding], scanners: Sequence[ScannerRun], fail_on: Severity
) -> Verdict:
    reasons: list[str] = []
    failing = tuple(
        f.fingerprint for f in findings if f.suppression is None and f.severity >= fail_on
    )
    if failing:
        noun = "finding" if len(failing) == 1 else "findings"
        reasons.append(f"{len(failing)} {noun} at or above severity {fail_on.value}")
    errors = [s for s in scanners if s.status is ScannerStatus.ERROR]
    for run in errors:
        reasons.append(f"scanner {run.name} failed: {run.error}")
    if not any(s.status is ScannerStatus.OK for s in scanners):
        reasons.append("no scanner ran successfully: nothing was checked")
    return Verdict(passed=not reasons, fail_on=fail_on, reasons=tuple(reasons), failing=failing)
