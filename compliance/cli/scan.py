"""`compliance scan`: run the scanners, render the result, exit with the gate's code."""

from __future__ import annotations

import os
import shutil
import sys
from datetime import datetime, timezone
from pathlib import Path

import click

from compliance.cli.output import write_atomic
from compliance.cli.progress import make_progress
from compliance.errors import ExitCode, UsageError
from compliance.model import ScannerStatus, ScanResult, Severity
from compliance.pipeline import ScanOptions, run_scan
from compliance.reporting import REGISTRY as RENDERERS
from compliance.reporting import RenderOptions
from compliance.scanners.registry import REGISTRY as SCANNERS

OPTIONAL_BINARIES = ("helm", "kustomize")
SEVERITIES = [s.value for s in Severity]


def _parse_outputs(values: tuple[str, ...]) -> list[tuple[str, Path]]:
    outputs = []
    for value in values:
        fmt, sep, path = value.partition("=")
        if not sep or not path:
            raise UsageError(f"-o {value!r}: expected FORMAT=PATH, e.g. -o json=result.json")
        if fmt not in RENDERERS:
            raise UsageError(f"-o {value!r}: unknown format {fmt!r}; known: {', '.join(RENDERERS)}")
        outputs.append((fmt, Path(path)))
    return outputs


def exit_code_for(result: ScanResult) -> ExitCode:
    """A scanner error outranks the gate: it must never hide behind other findings."""
    if result.scanner_errors:
        return ExitCode.SCANNER_ERROR
    if not any(s.status is ScannerStatus.OK for s in result.scanners):
        return ExitCode.SCANNER_ERROR
    if not result.verdict.passed:
        return ExitCode.GATE_FAILED
    return ExitCode.OK


@click.command()
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(RENDERERS)),
    default="terminal",
    show_default=True,
    help="Report written to stdout.",
)
@click.option(
    "-o",
    "--output",
    "outputs",
    multiple=True,
    metavar="FORMAT=PATH",
    help="Also write a report to a file (repeatable).",
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES, case_sensitive=False),
    help="Fail the gate on findings at or above this severity [default: from config, high].",
)
@click.option(
    "--scanner",
    "scanners",
    multiple=True,
    type=click.Choice(list(SCANNERS)),
    help="Run only these scanners (repeatable) [default: all].",
)
@click.option(
    "--advisory-db",
    type=click.Path(path_type=Path),
    help="Local OSV advisory folder for offline dependency audits.",
)
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
@click.option("--timeout", type=click.FloatRange(min=1), help="Per-scanner timeout in seconds.")
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    default=lambda: os.cpu_count() or 2,
    show_default="CPU count",
    help="Processes a scanner may use.",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
def scan(
    path: Path,
    fmt: str,
    outputs: tuple[str, ...],
    fail_on: str | None,
    scanners: tuple[str, ...],
    advisory_db: Path | None,
    config_path: Path | None,
    timeout: float | None,
    jobs: int,
    quiet: bool,
) -> None:
    """Scan the repository at PATH (default: the current folder)."""
    targets = _parse_outputs(outputs)
    if config_path is not None and not config_path.is_file():
        raise UsageError(f"--config: no such file: {config_path}")
    options = ScanOptions(
        root=path,
        config_path=config_path,
        advisory_db=advisory_db,
        fail_on=Severity.parse(fail_on) if fail_on else None,
        scanners=scanners or None,
        timeout_s=timeout,
        jobs=jobs,
        available_binaries=frozenset(b for b in OPTIONAL_BINARIES if shutil.which(b)),
    )
    with make_progress(quiet) as progress:
        result = run_scan(options, progress=progress, clock=lambda: datetime.now(timezone.utc))
    for target_fmt, target in targets:
        write_atomic(target, RENDERERS[target_fmt].render(result, RenderOptions()))
    color = fmt == "terminal" and sys.stdout.isatty() and "NO_COLOR" not in os.environ
    width = shutil.get_terminal_size((120, 24)).columns if color else 120
    click.echo(RENDERERS[fmt].render(result, RenderOptions(color=color, width=width)), nl=False)
    code = exit_code_for(result)
    if fmt != "terminal":
        _summary_line(result, code)
        for run in result.scanner_errors:
            click.echo(f"error: scanner {run.name} failed: {run.error}", err=True)
    click.get_current_context().exit(int(code))


def _summary_line(result: ScanResult, code: ExitCode) -> None:
    verdict = "passed" if result.verdict.passed else "failed"
    click.echo(
        f"compliance: {len(result.findings)} finding(s), {len(result.skipped)} skipped, "
        f"gate {verdict} (exit {int(code)})",
        err=True,
    )
