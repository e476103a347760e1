"""The scanner registry. A new scanner = one module, one line here, recorded outputs, tests."""

from __future__ import annotations

from collections.abc import Callable

from compliance.scanners.bandit import BanditScanner
from compliance.scanners.checkov import CheckovScanner
from compliance.scanners.interface import Scanner
from compliance.scanners.pip_audit import PipAuditScanner
from compliance.scanners.semgrep import SemgrepScanner

REGISTRY: dict[str, Callable[[], Scanner]] = {
    "bandit": BanditScanner,
    "semgrep": SemgrepScanner,
    "pip-audit": PipAuditScanner,
    "checkov": CheckovScanner,
}

__all__ = ["REGISTRY", "Scanner"]
