"""Hand-made values for tests: `from factories import fp, scan_result`.

tests/ is on sys.path (tests/conftest.py), so test modules in unit/, cli/ and integration/
import this module by its name. Only what several test modules build the same way lives
here; a module's own findings, with the values its assertions read, stay in that module.
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from compliance.model import Fingerprint, ScanResult, Severity, ToolInfo, Verdict

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
