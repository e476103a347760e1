"""`compliance baseline create`: record today's findings so the gate fails on new ones only."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from compliance import __version__
from compliance.cli import clock
from compliance.cli.output import write_atomic
from compliance.cli.progress import make_progress
from compliance.cli.scan import exit_code_for, scan_inputs
from compliance.errors import EnvironmentFailure, ExitCode, ScannerFailure, UsageError
from compliance.pipeline import run_scan
from compliance.policy.baseline import render_baseline
from compliance.prepare import ScanOptions, default_baseline_path, prepare


@click.group()
def baseline() -> None:
    """Baselines: the findings a repository already has (for gate mode new-only)."""


@baseline.command("create")
@scan_inputs
@click.option(
    "-o",
    "--output",
    "output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where to write it [default: the gate's `baseline`, else .compliance/baseline.json].",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
def create(options: ScanOptions, files: tuple[Path, ...], output: Path | None, quiet: bool) -> None:
    """Scan PATH and write every current finding to the baseline file.

    Fail closed: when a scanner fails, nothing is written (a baseline missing that scanner's
    findings would be incomplete), and the exit code is 4.
    """
    if files:
        raise UsageError(
            "a baseline records the whole repository: give its folder, not files",
            hint="compliance baseline create [PATH]",
        )
    options = replace(options, ignore_baseline=True)
    target = output or default_baseline_path(prepare(options.root, options.config_path), options)
    with make_progress(quiet) as progress:
        result = run_scan(options, progress=progress, clock=clock.utc_now, timer=clock.monotonic)
    if exit_code_for(result) is ExitCode.SCANNER_ERROR:
        failed = ", ".join(r.name for r in result.scanner_errors) or "every scanner"
        raise ScannerFailure(
            f"baseline not written: {failed} did not complete",
            hint="fix the scanner error (see `compliance doctor`) and run it again",
        )
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise EnvironmentFailure(f"cannot create {target.parent}: {exc.strerror}") from None
    write_atomic(target, render_baseline(result.findings, f"compliance {__version__}"))
    click.echo(f"wrote {target}: {len(result.findings)} finding(s)", err=True)
