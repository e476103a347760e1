"""Garbled tool output: lone surrogates never crash the pipeline, and a crashed tool's
stderr is masked like a finding before it reaches any report."""

from __future__ import annotations

import json
from pathlib import Path

from compliance.errors import ScannerFailure
from compliance.findings import finalize
from compliance.inventory import build_inventory
from compliance.model import FindingKind, Location, RawFinding, RuleId, ServiceName, Severity
from compliance.scanners.interface import ScanContext, ScannerOutput, ScanSettings
from compliance.scanners.process import ProcessRunner
from compliance.scanners.runner import run_scanners


def test_lone_surrogates_become_question_marks() -> None:
    raw = RawFinding(
        tool="bandit",
        rule_id=RuleId("B\ud800"),
        title="t\udcff",
        message="m\ud800",
        severity=Severity.LOW,
        kind=FindingKind.CODE,
        location=Location("a\udcff.py", 1, 1),
        snippet="x = '\ud800'",
    )
    (finding,) = finalize([raw], lambda path: ServiceName("api"))
    assert (finding.rule_id, finding.title, finding.location.path) == ("B?", "t?", "a?.py")
    json.dumps([finding.message, finding.snippet], ensure_ascii=False).encode("utf-8")


class Crashing:
    name = "bandit"
    description = "crashes, quoting what it read"

    def version(self, proc: ProcessRunner, settings: ScanSettings) -> str:
        return "1"

    def run(self, ctx: ScanContext, proc: ProcessRunner) -> ScannerOutput:
        raise ScannerFailure(
            "bandit crashed: line 3: password = 'hunter2hunter2' AKIAABCDEFGHIJKLMNOP"
        )


class Quiet:
    def started(self, scanner: str) -> None: ...

    def finished(self, run: object) -> None: ...

    def note(self, message: str) -> None: ...


def test_a_crashed_tools_message_is_masked(tmp_path: Path) -> None:
    ctx = ScanContext(tmp_path, build_inventory(tmp_path), ScanSettings())
    (outcome,) = run_scanners([(Crashing(), ctx)], ProcessRunner(), Quiet())  # type: ignore[list-item]
    assert outcome.run.error is not None
    assert "hunter2hunter2" not in outcome.run.error
    assert "AKIAABCDEFGHIJKLMNOP" not in outcome.run.error
    assert outcome.run.error.startswith("bandit crashed: line 3: password = '")
