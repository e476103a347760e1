"""Hand-made values for tests: `from factories import fp, scan_result`.

tests/ is on sys.path (tests/conftest.py), so test modules in unit/, cli/ and integration/
import this module by its name. Only what several test modules build the same way lives
here; a module's own findings, with the values its assertions read, stay in that module.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from compliance.model import (
    Confidence,
    FindingKind,
    Fingerprint,
    Location,
    Package,
    RawFinding,
    RuleId,
    ScanResult,
    ServiceName,
    Severity,
    Suppression,
    SuppressionKind,
    ToolInfo,
    Verdict,
)

#: The moment hand-made scans start (and, unless told otherwise, finish).
WHEN = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def fp(n: int) -> Fingerprint:
    """The fingerprint numbered `n`: 32 hex digits."""
    return Fingerprint(f"{n:032x}")


def scan_result(**fields: Any) -> ScanResult:
    """A ScanResult of `fields`; the rest: compliance 0.1.0 scanned `repo` at WHEN with no
    scanner, service, finding or skip, and failed the gate at fail_on high."""
    defaults: dict[str, Any] = {
        "tool": ToolInfo("compliance", "0.1.0"),
        "root": "repo",
        "started_at": WHEN,
        "finished_at": WHEN,
        "scanners": (),
        "services": (),
        "findings": (),
        "skipped": (),
        "verdict": Verdict(passed=False, fail_on=Severity.HIGH),
    }
    return ScanResult(**(defaults | fields))


#: A raw finding with every field set, and one with only the required ones (codecs,
#: partials: what a round trip must keep).
RAW_FULL = RawFinding(
    tool="pip-audit",
    rule_id=RuleId("PYSEC-2023-74"),
    title="requests 2.25.1",
    message="Unintended leak of Proxy-Authorization header",
    severity=Severity.MEDIUM,
    kind=FindingKind.DEPENDENCY_VULNERABILITY,
    location=Location("services/worker/poetry.lock", 12, 14),
    confidence=Confidence.HIGH,
    cwe=("CWE-200",),
    snippet='name = "requests"',
    resource="requests==2.25.1",
    package=Package("requests", "2.25.1", ("2.31.0",), ("CVE-2023-32681",)),
    help_url="https://osv.dev/vulnerability/PYSEC-2023-74",
    category="dependency",
    suppression=Suppression(SuppressionKind.INLINE, "# nosec"),
    service=ServiceName("worker"),
)
RAW_MINIMAL = RawFinding(
    tool="bandit",
    rule_id=RuleId("B602"),
    title="shell",
    message="subprocess call with shell=True",
    severity=Severity.HIGH,
    kind=FindingKind.CODE,
    location=Location("a.py"),
)
