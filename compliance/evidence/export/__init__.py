"""The audit-period export: what the ledger shows about each control over a period.

`build_period_report` is a pure function of ledger entries: per control, how many runs
assessed it and how often it passed, its first failure; per failing finding and control,
when it first failed and when a later run that assessed the control no longer failed it
(time to remediation); the waivers in force; every run with its bundle digest.
`render_export` turns the report into the files of the auditor's package (four CSV files,
one self-contained HTML page, SHA256SUMS) and `write_export` writes them into a folder
atomically. `export_period` does all of it on a ledger whose chain verifies.

Modules: `period` (the report), `csv` and `html` (its files), `chart` (the geometry of the
HTML page's status charts), `files` (the package: `render_export`, `write_export`).
"""
