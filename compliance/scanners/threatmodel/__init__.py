"""The `threatmodel` scanner: missing, stale or unreviewed threat models as findings."""

from compliance.scanners.threatmodel.scanner import NAME, ThreatModelScanner

__all__ = ["NAME", "ThreatModelScanner"]
