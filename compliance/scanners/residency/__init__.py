"""The `residency` scanner: residency violations and unresolved regions as findings."""

from compliance.scanners.residency.scanner import ResidencyScanner

__all__ = ["ResidencyScanner"]
