"""The report view model: what the Markdown and HTML reports show, precomputed and frozen.

`build_view` turns a ScanResult into plain values once: grouping, sorting, labels, counts,
truncation decisions and links are decided here, in Python, so the templates only print.

Modules: `report` (ReportView and its parts), `build` (`build_view`), `text` (visible text
and safe links), `digest` (the pull-request digest and truncation to a size).
"""
