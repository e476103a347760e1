"""The scanner registry. A new scanner = one module, one line here, recorded outputs, tests.

Each adapter's module is imported when a scan first uses it (a pre-commit scan of Python
files never imports checkov's, pip-audit's or the threat-model adapter)."""

from __future__ import annotations

from collections.abc import Callable

from compliance.lazy import LazyRegistry
from compliance.scanners.interface import Scanner

REGISTRY: LazyRegistry[Callable[[], Scanner]] = LazyRegistry(
    {
        "bandit": "compliance.scanners.bandit:BanditScanner",
        "semgrep": "compliance.scanners.semgrep:SemgrepScanner",
        "pip-audit": "compliance.scanners.pip_audit:PipAuditScanner",
        "checkov": "compliance.scanners.checkov:CheckovScanner",
        "residency": "compliance.scanners.residency:ResidencyScanner",
        "threatmodel": "compliance.scanners.threatmodel:ThreatModelScanner",
    },
    lambda factory: factory,
)

__all__ = ["REGISTRY", "Scanner"]
