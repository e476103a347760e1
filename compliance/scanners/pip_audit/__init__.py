"""The pip-audit adapter: dependency files -> pins -> pip-audit (local OSV or online)."""

from compliance.scanners.pip_audit.scanner import PipAuditScanner

__all__ = ["PipAuditScanner"]
