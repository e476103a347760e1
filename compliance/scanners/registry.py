"""The scanner registry. A new scanner = one module, one line here, recorded outputs, tests."""

from __future__ import annotations

from collections.abc import Callable

from compliance.scanners.bandit import BanditScanner
from compliance.scanners.checkov import CheckovScanner
from compliance.scanners.interface import Scanner
from compliance.scanners.pip_audit import PipAuditScanner
from compliance.scanners.residency import ResidencyScanner
from compliance.scanners.semgrep import SemgrepScanner
from compliance.scanners.threatmodel import ThreatModelScanner

REGISTRY: dict[str, Callable[[], Scanner]] = {
    "bandit": BanditScanner,
    "semgrep": SemgrepScanner,
    "pip-audit": PipAuditScanner,
    "checkov": CheckovScanner,
    "residency": ResidencyScanner,
    "threatmodel": ThreatModelScanner,
}

__all__ = ["REGISTRY", "Scanner"]
