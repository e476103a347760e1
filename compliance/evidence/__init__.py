"""Auditor evidence: signed bundles per run, OSCAL assessment results, the run ledger.

Built from ScanResult values (and, for bundles, the recorded raw scanner output); renders
reports through the reporting registry. Nothing here runs a scanner.
"""
