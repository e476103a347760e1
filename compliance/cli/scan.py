"""`compliance scan`: run the scanners, render the result, exit with the gate's code."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

import click

from compliance.cicontext import ci_context
from compliance.cli import clock
from compliance.cli.output import (
    echo_report,
    file_options,
    parse_outputs,
    stdout_options,
    write_report,
)
from compliance.cli.progress import make_progress
from compliance.cli.scan_evidence import (
    check_ledger,
    finish_evidence,
    prepare_evidence,
    record_dir,
    record_to_ledger,
)
from compliance.errors import ExitCode, UsageError
from compliance.model import ScannerStatus, ScanResult, Severity
from compliance.pipeline import ScanOptions, run_scan
from compliance.reporting import REGISTRY as RENDERERS
from compliance.scanners.registry import REGISTRY as SCANNERS

OPTIONAL_BINARIES = ("helm", "kustomize")
SEVERITIES = [s.value for s in Severity]


def exit_code_for(result: ScanResult) -> ExitCode:
    """A scanner error outranks the gate: it must never hide behind other findings."""
    if result.scanner_errors:
        return ExitCode.SCANNER_ERROR
    if not any(s.status is ScannerStatus.OK for s in result.scanners):
        return ExitCode.SCANNER_ERROR
    if not result.verdict.passed:
        return ExitCode.GATE_FAILED
    return ExitCode.OK


def scan_inputs(command: Callable[..., None]) -> Callable[..., None]:
    """The options that say what to scan and with which policies (shared by `scan` and
    `baseline create`); they arrive in the command as one `ScanOptions` named `options`."""
    options = [
        click.argument("path", default=".", type=click.Path(path_type=Path)),
        click.option(
            "--scanner",
            "scanners",
            multiple=True,
            type=click.Choice(list(SCANNERS)),
            help="Run only these scanners (repeatable) [default: all].",
        ),
        click.option(
            "--advisory-db",
            type=click.Path(path_type=Path),
            help="Local OSV advisory folder for offline dependency audits.",
        ),
        click.option(
            "--config", "config_path", type=click.Path(path_type=Path), help="Config file."
        ),
        click.option(
            "--gate",
            "gate_path",
            type=click.Path(path_type=Path),
            help="Gate policy file [default: policies/gate.yaml, else the bundled one].",
        ),
        click.option(
            "--waivers",
            "waivers_path",
            type=click.Path(path_type=Path),
            help="Waiver file [default: policies/waivers.yaml if present].",
        ),
        click.option(
            "--timeout", type=click.FloatRange(min=1), help="Per-scanner timeout in seconds."
        ),
        click.option(
            "--jobs",
            type=click.IntRange(min=1),
            default=lambda: os.cpu_count() or 2,
            show_default="CPU count",
            help="Processes a scanner may use.",
        ),
    ]

    @functools.wraps(command)
    def wrapper(**kwargs: Any) -> None:
        files = {
            "--config": kwargs.pop("config_path"),
            "--gate": kwargs.pop("gate_path"),
            "--waivers": kwargs.pop("waivers_path"),
        }
        for option, given in files.items():
            if given is not None and not given.is_file():
                raise UsageError(f"{option}: no such file: {given}")
        scan_options = ScanOptions(
            root=kwargs.pop("path"),
            config_path=files["--config"],
            advisory_db=kwargs.pop("advisory_db"),
            scanners=kwargs.pop("scanners") or None,
            timeout_s=kwargs.pop("timeout"),
            jobs=kwargs.pop("jobs"),
            available_binaries=frozenset(b for b in OPTIONAL_BINARIES if shutil.which(b)),
            gate_path=files["--gate"],
            waivers_path=files["--waivers"],
            ci=ci_context(os.environ),
        )
        command(options=scan_options, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


@click.command()
@scan_inputs
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
    help="Fail on open findings at or above this severity [default: the gate's fail_on].",
)
@click.option(
    "--baseline",
    "baseline_path",
    type=click.Path(path_type=Path),
    help="Baseline file: fail only on findings absent from it (gate mode new-only).",
)
@click.option(
    "--link-base",
    metavar="URL",
    help="Make file links in Markdown/HTML reports absolute, e.g. "
    "https://github.com/ORG/REPO/blob/SHA/ (the scanned folder's URL).",
)
@click.option(
    "--evidence",
    "evidence_dir",
    type=click.Path(path_type=Path),
    help="Write the evidence bundle (result, SARIF, HTML, raw scanner output, per-control "
    "index, manifest) to this folder.",
)
@click.option(
    "--sign-key",
    type=click.Path(path_type=Path),
    help="Ed25519 private key (PEM) to sign the bundle; default $COMPLIANCE_SIGNING_KEY.",
)
@click.option(
    "--archive",
    type=click.Choice(["tar.gz", "zip"]),
    help="Write the bundle as one archive file instead of a folder.",
)
@click.option(
    "--ledger",
    metavar="PATH|URL",
    help="Record this run in the ledger (a SQLite file or a postgresql:// URL).",
)
@click.option("-q", "--quiet", is_flag=True, help="No progress output.")
def scan(
    options: ScanOptions,
    fmt: str,
    outputs: tuple[str, ...],
    fail_on: str | None,
    baseline_path: Path | None,
    link_base: str | None,
    evidence_dir: Path | None,
    sign_key: Path | None,
    archive: str | None,
    ledger: str | None,
    quiet: bool,
) -> None:
    """Scan the repository at PATH (default: the current folder)."""
    targets = parse_outputs(outputs)
    evidence = prepare_evidence(evidence_dir, archive, sign_key)
    check_ledger(ledger)
    if baseline_path is not None and not baseline_path.is_file():
        raise UsageError(
            f"--baseline: no such file: {baseline_path}",
            hint="create one with `compliance baseline create`",
        )
    options = replace(
        options,
        fail_on=Severity.parse(fail_on) if fail_on else None,
        baseline_path=baseline_path,
    )
    with record_dir(evidence) as raw:
        with make_progress(quiet) as progress:
            scan_options = replace(options, record_dir=raw)
            result = run_scan(scan_options, progress=progress, clock=clock.utc_now)
        for target_fmt, target in targets:
            write_report(result, target_fmt, target, file_options(link_base))
        info = finish_evidence(result, evidence, raw, file_options(link_base))
    record_to_ledger(ledger, result, info)
    echo_report(result, fmt, stdout_options(fmt, link_base))
    code = exit_code_for(result)
    if fmt != "terminal":
        _summary_line(result, code)
        for run in result.scanner_errors:
            click.echo(f"error: scanner {run.name} failed: {run.error}", err=True)
    click.get_current_context().exit(int(code))


def _summary_line(result: ScanResult, code: ExitCode) -> None:
    verdict = "passed" if result.verdict.passed else "failed"
    counts = result.verdict.counts
    click.echo(
        f"compliance: {counts.total} finding(s) ({counts.open} open, {counts.waived} waived, "
        f"{counts.baselined} baselined, {counts.suppressed} suppressed inline), "
        f"{len(result.skipped)} skipped, gate {verdict} (exit {int(code)})",
        err=True,
    )
    for reason in result.verdict.reasons:
        if reason.rule != "scanner-error":  # said below, as an error line
            click.echo(f"  {reason.policy} {reason.rule}: {reason.message}", err=True)
