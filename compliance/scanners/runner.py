"""Run several scanners side by side, each fail-closed, and report progress as they go."""

from __future__ import annotations

import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol

from compliance.errors import ScannerFailure
from compliance.model import RawFinding, ScannerRun, ScannerStatus, Skip
from compliance.scanners.interface import NothingToScan, ScanContext, Scanner
from compliance.scanners.process import ProcessRunner


class Progress(Protocol):
    """Where the runner reports progress; the CLI decides how it is shown."""

    def started(self, scanner: str) -> None: ...

    def finished(self, run: ScannerRun) -> None: ...


@dataclass(frozen=True, slots=True)
class ScannerOutcome:
    run: ScannerRun
    findings: tuple[RawFinding, ...]
    skipped: tuple[Skip, ...]
    raw_outputs: tuple[bytes, ...] = ()


def run_scanners(
    scanners: Sequence[Scanner],
    ctx: ScanContext,
    proc: ProcessRunner,
    progress: Progress,
) -> tuple[ScannerOutcome, ...]:
    """Run every scanner concurrently (one thread each; the work is in subprocesses).

    A scanner that fails becomes an `error` outcome with the reason; the others' results
    are kept. Bugs in an adapter (any other exception) propagate: they are ours to fix.
    """
    with ThreadPoolExecutor(max_workers=max(1, len(scanners))) as pool:
        futures = [pool.submit(_run_one, s, ctx, proc, progress) for s in scanners]
        return tuple(f.result() for f in futures)


def _run_one(
    scanner: Scanner, ctx: ScanContext, proc: ProcessRunner, progress: Progress
) -> ScannerOutcome:
    progress.started(scanner.name)
    started = time.monotonic()
    try:
        output = scanner.run(ctx, proc)
    except NothingToScan as nothing:
        run = ScannerRun(
            scanner.name,
            ScannerStatus.SKIPPED,
            None,
            time.monotonic() - started,
            error=str(nothing) or "nothing to scan",
        )
        progress.finished(run)
        return ScannerOutcome(run, (), ())
    except ScannerFailure as failure:
        message = failure.message + (f" ({failure.hint})" if failure.hint else "")
        run = ScannerRun(
            scanner.name, ScannerStatus.ERROR, None, time.monotonic() - started, error=message
        )
        progress.finished(run)
        return ScannerOutcome(run, (), ())
    run = ScannerRun(
        scanner.name,
        ScannerStatus.OK,
        output.version,
        time.monotonic() - started,
        commands=output.commands,
        findings=len(output.findings),
    )
    progress.finished(run)
    return ScannerOutcome(run, output.findings, output.skipped, output.raw_outputs)
