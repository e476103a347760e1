"""SarifRenderer: the sarifLog of a result, split to fit GitHub's limits.

Splitting. A scanner's results, in result order, go into runs of at most
`max_results_per_run`; part 1 keeps the category `compliance/<tool>/`, part k > 1 is
`compliance/<tool>/part-k/`, so a tool that grows keeps its first category. (When a tool
shrinks back, the category of a part no longer uploaded keeps its last analysis: delete that
stale configuration on GitHub.) The default is 5,000, not GitHub's hard 25,000: GitHub keeps
only the top 5,000 results of a run by severity, and the rest would read as fixed. A run
whose file would exceed `max_gzip_bytes` alone is halved until it fits (one result cannot be
split). Runs are packed in order into files of at most `max_runs_per_file` runs and
`max_gzip_bytes` (measured as `gzip.compress(text, compresslevel=6, mtime=0)`, the level of
the action's Node zlib); the default 9,000,000 leaves 10% of GitHub's 10 MB for the action,
which re-serialises the file and adds a fingerprint to every result. Runs say which part
they are (`properties.compliance.part`/`parts`), files which file (`file`/`files`); the
verdict is in the first file only.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from compliance.model import Finding, ScannerRun, ScannerStatus, ScanResult
from compliance.reporting.interface import RenderOptions, SplitRequired
from compliance.reporting.sarif.runs import compact, group_by_rule, rule_descriptor, run_text

SCHEMA_URI = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)

#: GitHub's limits (docs: "SARIF support for code scanning", limits table).
GITHUB_MAX_RUNS_PER_FILE = 20
GITHUB_MAX_RESULTS_PER_RUN = 25_000
GITHUB_RESULTS_KEPT_PER_RUN = 5_000
GITHUB_MAX_GZIP_BYTES = 10_000_000
DEFAULT_MAX_GZIP_BYTES = GITHUB_MAX_GZIP_BYTES * 9 // 10
GZIP_LEVEL = 6


class SarifRenderer:
    """SARIF 2.1.0 for GitHub code scanning (see the docstrings of this package for the choices)."""

    name = "sarif"

    def __init__(
        self,
        *,
        max_results_per_run: int = GITHUB_RESULTS_KEPT_PER_RUN,
        max_runs_per_file: int = GITHUB_MAX_RUNS_PER_FILE,
        max_gzip_bytes: int = DEFAULT_MAX_GZIP_BYTES,
    ) -> None:
        if min(max_results_per_run, max_runs_per_file, max_gzip_bytes) < 1:
            raise ValueError("SARIF limits must be positive")
        self.max_results_per_run = max_results_per_run
        self.max_runs_per_file = max_runs_per_file
        self.max_gzip_bytes = max_gzip_bytes

    def render(self, result: ScanResult, options: RenderOptions) -> str:
        files, why = self._render(result)
        if len(files) > 1:
            raise SplitRequired(fmt=self.name, files=len(files), why=why)
        return files[0]

    def render_files(self, result: ScanResult, options: RenderOptions) -> tuple[str, ...]:
        return self._render(result)[0]

    # --- runs ------------------------------------------------------------------------

    def _render(self, result: ScanResult) -> tuple[tuple[str, ...], str]:
        by_tool: dict[str, list[Finding]] = {}
        for finding in result.findings:
            by_tool.setdefault(finding.tool, []).append(finding)
        envelope = _Envelope(result, by_tool)
        budget = self.max_gzip_bytes - _gzip_size(envelope.text(1, 10**6).encode())
        runs: list[bytes] = []
        for scanner in envelope.reported:
            findings = by_tool.get(scanner.name, [])
            rules = {rid: rule_descriptor(rid, fs) for rid, fs in group_by_rule(findings).items()}
            skips = [s for s in result.skipped if s.tool == scanner.name]
            chunks = _chunks(findings, self.max_results_per_run)
            while True:
                texts = [
                    run_text(result, scanner, chunk, rules, skips, k, len(chunks)).encode()
                    for k, chunk in enumerate(chunks, 1)
                ]
                big = {
                    i for i, t in enumerate(texts) if len(chunks[i]) > 1 and not _fits(t, budget)
                }
                if not big:
                    break
                chunks = [half for i, c in enumerate(chunks) for half in _halves(c, i in big)]
            runs += texts
        return self._pack(runs, envelope, budget)

    # --- files -----------------------------------------------------------------------

    def _pack(
        self, runs: list[bytes], envelope: _Envelope, budget: int
    ) -> tuple[tuple[str, ...], str]:
        if len(runs) <= self.max_runs_per_file:
            text = envelope.text(1, 1, runs)
            if _fits(text.encode(), self.max_gzip_bytes):
                return (text,), ""
        # Greedy, in run order, on each run's own gzip size; then check the real files.
        files: list[list[int]] = [[]]
        used = 0
        for i, run in enumerate(runs):
            size = _gzip_size(run)
            if files[-1] and (len(files[-1]) >= self.max_runs_per_file or used + size > budget):
                files.append([])
                used = 0
            files[-1].append(i)
            used += size
        while True:
            texts = [
                envelope.text(k, len(files), [runs[i] for i in f]) for k, f in enumerate(files, 1)
            ]
            too_big = [
                k
                for k, text in enumerate(texts)
                if len(files[k]) > 1 and not _fits(text.encode(), self.max_gzip_bytes)
            ]
            if not too_big:
                break
            files.insert(too_big[0] + 1, [files[too_big[0]].pop()])
        why = []
        if len(runs) > self.max_runs_per_file:
            why.append(f"{len(runs)} runs, at most {self.max_runs_per_file} per file")
        if len(files) > -(-len(runs) // self.max_runs_per_file):
            why.append(f"at most {self.max_gzip_bytes:,} bytes gzipped per file")
        return tuple(texts), "; ".join(why)


@dataclass(frozen=True, slots=True)
class _Envelope:
    """The sarifLog around the runs of one file: version, schema, a small property bag."""

    result: ScanResult
    by_tool: dict[str, list[Finding]]

    @property
    def reported(self) -> list[ScannerRun]:
        """The scanners that get runs: those listed only with status ok (a result merged
        from shards could list a scanner twice), each once, in the result's order."""
        failed = {s.name for s in self.result.scanners if s.status is not ScannerStatus.OK}
        runs: dict[str, ScannerRun] = {}
        for scanner in self.result.scanners:
            if scanner.name not in failed:
                runs.setdefault(scanner.name, scanner)
        return list(runs.values())

    def text(self, file: int, files: int, runs: Sequence[bytes] = ()) -> str:
        result = self.result
        props: dict[str, Any] = {
            "tool": {"name": result.tool.name, "version": result.tool.version},
            "root": result.root,
            "commit": result.commit,
            "file": file,
            "files": files,
        }
        if file == 1:
            verdict = result.verdict
            props["verdict"] = {
                "passed": verdict.passed,
                "failOn": verdict.fail_on.value,
                "mode": verdict.mode.value,
                "reasons": [f"{r.policy} {r.rule}: {r.message}" for r in verdict.reasons],
            }
        reported = {s.name for s in self.reported}
        props["notReported"] = [
            {
                "scanner": s.name,
                "status": s.status.value,
                "reason": s.error,
                "findings": len(self.by_tool.get(s.name, ())),
            }
            for s in result.scanners
            if s.name not in reported and s.status is not ScannerStatus.OK
        ]
        head = {"version": "2.1.0", "$schema": SCHEMA_URI, "properties": {"compliance": props}}
        body = ",\n".join(r.decode() for r in runs)
        return compact(head)[:-1] + ',\n"runs": [' + (f"\n{body}\n" if runs else "") + "]}\n"


def _chunks(findings: Sequence[Finding], size: int) -> list[Sequence[Finding]]:
    if not findings:
        return [()]
    return [findings[i : i + size] for i in range(0, len(findings), size)]


def _halves(chunk: Sequence[Finding], split: bool) -> list[Sequence[Finding]]:
    if not split:
        return [chunk]
    middle = len(chunk) // 2
    return [chunk[:middle], chunk[middle:]]


def _gzip_size(data: bytes) -> int:
    return len(gzip.compress(data, compresslevel=GZIP_LEVEL, mtime=0))


def _fits(data: bytes, limit: int) -> bool:
    """Whether `data` gzips to at most `limit` bytes; skips gzip when even zlib's worst-case
    bound (deflateBound plus the gzip header and trailer) is within the limit."""
    size = len(data)
    bound = size + (size >> 12) + (size >> 14) + (size >> 25) + 13 + 18
    return bound <= limit or _gzip_size(data) <= limit
