"""SARIF 2.1.0 for GitHub code scanning: one run per scanner, split to fit GitHub's limits.

Built from the ScanResult only, deterministic (same result, same bytes). Sources: GitHub's
"SARIF support for code scanning" (docs.github.com/en/code-security/reference/code-scanning/
sarif-files/sarif-support, with its limits table) and the OASIS SARIF 2.1.0 Errata 01 spec.

Categories. Each scanner is its own run with `automationDetails.id` `compliance/<tool>/`
(category `compliance/<tool>`, empty run id). GitHub keeps one analysis per (ref, tool,
category) and closes the alerts of that set that the newest analysis no longer reports, so
each category must always mean the same thing. Since 2025-07-21 GitHub rejects an upload
with two runs in one category ("A delivery cannot contain multiple runs with the same
category"); the upload-sarif action keeps our ids (it fills `automationDetails` only when
absent) but combines every file it is given into one upload, so upload split files one by
one (one upload step per file).

Scanners that did not run cleanly. A run with no results tells GitHub that every open alert
of its category is fixed. A run with `executionSuccessful: false` is not a safe alternative:
GitHub answers such an upload with processing status "failed" ("unsuccessful execution"; see
github/codeql-action#1393 and #1732, which upload one on purpose so that a failed analysis
does not close alerts), and the upload-sarif action then fails the step, with the good runs
of the same file. So a scanner with status `error` or `skipped` gets no run at all: its
category keeps its last analysis and its open alerts stay open (the scan exits 4 anyway).
Skipped scanners are left out too, because "nothing to scan" may only mean nothing changed
(`--changed-only`). They are listed in the log's `properties.compliance.notReported`. A
scanner that ran cleanly with no findings gets an empty run: that is how fixed alerts close.
(For the same reason a `--changed-only` result should not be uploaded: its runs would close
every alert outside the changed files.) Inputs a scanner skipped become warning
notifications of its run's invocation.

Modules: `renderer` (SarifRenderer: which scanners get runs, splitting and packing them
into files within GitHub's limits), `runs` (one run: its rules and results).
"""
