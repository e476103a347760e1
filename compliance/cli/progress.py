"""Progress on stderr: a live display in a terminal, plain log lines in CI."""

from __future__ import annotations

import sys
import threading
import time
from types import TracebackType
from typing import TYPE_CHECKING

import click

from compliance.model import ScannerRun, ScannerStatus

if TYPE_CHECKING:
    from rich.progress import TaskID


def _outcome(run: ScannerRun) -> str:
    match run.status:
        case ScannerStatus.OK:
            return f"ok in {run.duration_s:.1f}s, {run.findings} finding(s)"
        case ScannerStatus.SKIPPED:
            return f"skipped: {run.error}"
        case ScannerStatus.ERROR:
            return f"ERROR after {run.duration_s:.1f}s: {run.error}"


class LogProgress:
    """One line per event, for CI logs and pipes."""

    def __init__(self, quiet: bool = False) -> None:
        self.quiet = quiet
        self._lock = threading.Lock()
        self._start = time.monotonic()

    def started(self, scanner: str) -> None:
        if not self.quiet:
            with self._lock:
                click.echo(f"compliance: {scanner} started", err=True)

    def finished(self, run: ScannerRun) -> None:
        if not self.quiet or run.status is ScannerStatus.ERROR:
            with self._lock:
                click.echo(f"compliance: {run.name} {_outcome(run)}", err=True)

    def note(self, message: str) -> None:
        if not self.quiet:
            with self._lock:
                click.echo(f"compliance: {message}", err=True)

    def __enter__(self) -> LogProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        return None


class LiveProgress:
    """A spinner per scanner on a terminal's stderr."""

    def __init__(self) -> None:
        # rich costs ~18 ms to import: only a terminal's live display pays it.
        from rich.console import Console  # noqa: PLC0415 - lazy
        from rich.progress import (  # noqa: PLC0415 - lazy
            Progress,
            SpinnerColumn,
            TextColumn,
            TimeElapsedColumn,
        )

        self._console = Console(file=sys.stderr)
        self._progress = Progress(
            SpinnerColumn(),
            TextColumn("{task.description}"),
            TimeElapsedColumn(),
            console=self._console,
            transient=False,
        )
        self._tasks: dict[str, TaskID] = {}
        self._lock = threading.Lock()

    def started(self, scanner: str) -> None:
        with self._lock:
            self._tasks[scanner] = self._progress.add_task(f"{scanner}: running", total=1)

    def finished(self, run: ScannerRun) -> None:
        with self._lock:
            task = self._tasks.get(run.name)
            if task is not None:
                self._progress.update(task, description=f"{run.name}: {_outcome(run)}")
                self._progress.update(task, completed=1)

    def note(self, message: str) -> None:
        with self._lock:
            self._progress.console.print(f"compliance: {message}", markup=False, highlight=False)

    def __enter__(self) -> LiveProgress:
        self._progress.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._progress.stop()


def make_progress(quiet: bool) -> LogProgress | LiveProgress:
    if not quiet and sys.stderr.isatty():
        return LiveProgress()
    return LogProgress(quiet=quiet)
