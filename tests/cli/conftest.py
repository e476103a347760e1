"""Fake scanners for CLI tests: the pipeline runs for real, the tools do not."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path

import pytest

from compliance.errors import ScannerFailure
from compliance.model import FindingKind, Location, RawFinding, RuleId, Severity
from compliance.scanners.interface import NothingToScan, ScanContext, ScannerOutput, ScanSettings
from compliance.scanners.process import ProcessRunner


@dataclass
class FakeScanner:
    name: str
    findings: tuple[RawFinding, ...] = ()
    fail: str | None = None
    crash: bool = False
    nothing: bool = False
    description: str = "fake"
    seen: list[ScanContext] = field(default_factory=list)

    def version(self, proc: ProcessRunner, settings: ScanSettings) -> str:
        if self.fail:
            raise ScannerFailure(self.fail)
        return "1.0"

    def run(self, ctx: ScanContext, proc: ProcessRunner) -> ScannerOutput:
        self.seen.append(ctx)
        if self.crash:
            raise RuntimeError("adapter bug")
        if self.fail:
            raise ScannerFailure(self.fail)
        if self.nothing:
            raise NothingToScan("no input")
        return ScannerOutput(findings=self.findings, version="1.0")


def finding(path: str, severity: Severity, rule: str = "R1", tool: str = "bandit") -> RawFinding:
    return RawFinding(
        tool=tool,
        rule_id=RuleId(rule),
        title="t",
        message=f"{rule} at {path}",
        severity=severity,
        kind=FindingKind.CODE,
        location=Location(path, 3, 3),
        snippet=f"call_{rule}()",
    )


Install = Callable[..., dict[str, FakeScanner]]


@pytest.fixture
def fake_scanners(monkeypatch: pytest.MonkeyPatch) -> Iterator[Install]:
    def install(*scanners: FakeScanner) -> dict[str, FakeScanner]:
        registry = {s.name: (lambda s=s: s) for s in scanners}
        monkeypatch.setattr("compliance.pipeline.REGISTRY", registry)
        monkeypatch.setattr("compliance.diagnostics.REGISTRY", registry)
        return {s.name: s for s in scanners}

    yield install


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    (root / "services" / "api").mkdir(parents=True)
    (root / "services" / "api" / "app.py").write_text("x = 1\n")
    (root / "services" / "api" / "Dockerfile").write_text("FROM python:3.11\n")
    (root / "infra").mkdir()
    (root / "infra" / "main.tf").write_text("")
    return root


#: The day the CLI tests run on (waiver expiry is judged against it), whatever the date.
TODAY = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(autouse=True)
def frozen_clock(monkeypatch: pytest.MonkeyPatch) -> datetime:
    """CLI tests never read the wall clock: every command sees TODAY."""
    monkeypatch.setattr("compliance.cli.clock.utc_now", lambda: TODAY)
    return TODAY
