"""Run several scanners side by side, each fail-closed, and report progress as they go."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from compliance.errors import ScannerFailure
from compliance.findings import redact
from compliance.model import RawFinding, ScannerRun, ScannerStatus, Skip
from compliance.scanners.codec import CodecError, decode_output, encode_output
from compliance.scanners.interface import NothingToScan, ScanContext, Scanner, ScannerOutput
from compliance.scanners.process import ProcessRunner

#: The cache namespace of whole scanner outputs (per-file entries live in the tools' own).
OUTPUT_NAMESPACE = "output"


class Progress(Protocol):
    """Where the runner reports progress; the CLI decides how it is shown."""

    def started(self, scanner: str) -> None: ...

    def finished(self, run: ScannerRun) -> None: ...

    def note(self, message: str) -> None: ...


@runtime_checkable
class Cacheable(Protocol):
    """A scanner whose whole output is a function of what `cache_key` hashes."""

    def cache_key(self, ctx: ScanContext) -> str | None:
        """The key of this run's output, or None when it cannot be cached."""
        ...


@dataclass(frozen=True, slots=True)
class ScannerOutcome:
    run: ScannerRun
    findings: tuple[RawFinding, ...]
    skipped: tuple[Skip, ...]
    raw_outputs: tuple[bytes, ...] = ()


def run_scanners(
    jobs: Sequence[tuple[Scanner, ScanContext]],
    proc: ProcessRunner,
    progress: Progress,
    *,
    timer: Callable[[], float] = time.monotonic,
) -> tuple[ScannerOutcome, ...]:
    """Run every scanner concurrently (one thread each; the work is in subprocesses), each
    with its own context (a shard hands whole-repository scanners the whole inventory).

    A scanner that fails becomes an `error` outcome with the reason; the others' results
    are kept. Bugs in an adapter (any other exception) propagate: they are ours to fix.
    """
    with ThreadPoolExecutor(max_workers=max(1, len(jobs))) as pool:
        futures = [pool.submit(_run_one, s, ctx, proc, progress, timer) for s, ctx in jobs]
        return tuple(f.result() for f in futures)


def _run_one(
    scanner: Scanner,
    ctx: ScanContext,
    proc: ProcessRunner,
    progress: Progress,
    timer: Callable[[], float],
) -> ScannerOutcome:
    progress.started(scanner.name)
    started = timer()
    try:
        output = _output(scanner, ctx, proc)
    except NothingToScan as nothing:
        run = ScannerRun(
            scanner.name,
            ScannerStatus.SKIPPED,
            None,
            timer() - started,
            error=str(nothing) or "nothing to scan",
        )
        progress.finished(run)
        return ScannerOutcome(run, (), ())
    except ScannerFailure as failure:
        # A crashed tool's stderr can quote what it was reading: mask credentials in it, as
        # in findings, before it reaches any report or log line.
        message = redact(
            failure.message + (f" ({failure.hint})" if failure.hint else ""), secret=False
        )
        run = ScannerRun(scanner.name, ScannerStatus.ERROR, None, timer() - started, error=message)
        progress.finished(run)
        return ScannerOutcome(run, (), ())
    run = ScannerRun(
        scanner.name,
        ScannerStatus.OK,
        output.version,
        timer() - started,
        commands=output.commands,
        findings=len(output.findings),
    )
    progress.finished(run)
    return ScannerOutcome(run, output.findings, output.skipped, output.raw_outputs)


def _output(scanner: Scanner, ctx: ScanContext, proc: ProcessRunner) -> ScannerOutput:
    """From the cache when the scanner's key is there, else a fresh run (kept in the cache
    when it succeeded). A damaged entry is a miss."""
    cache = ctx.cache
    key = scanner.cache_key(ctx) if cache is not None and isinstance(scanner, Cacheable) else None
    if cache is None or key is None:
        return scanner.run(ctx, proc)
    if ctx.cache_reads:
        data = cache.get(OUTPUT_NAMESPACE, key)
        if data is not None:
            try:
                return decode_output(json.loads(data))
            except (CodecError, ValueError, RecursionError):
                pass
    output = scanner.run(ctx, proc)
    cache.put(OUTPUT_NAMESPACE, key, json.dumps(encode_output(output)).encode("utf-8"))
    return output
