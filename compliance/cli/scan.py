"""`compliance scan`: run the scanners, render the result, exit with the gate's code."""

from __future__ import annotations

import functools
import os
import shutil
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from compliance.changes import ChangeSet, changes_since, given_files, staged_changes
from compliance.cicontext import ci_context
from compliance.cli import clock
from compliance.cli.output import (
    echo_report,
    file_options,
    parse_outputs,
    stdout_options,
    write_atomic,
    write_report,
)
from compliance.cli.progress import make_progress
from compliance.cli.scan_evidence import (
    EvidenceRequest,
    check_ledger,
    finish_evidence,
    prepare_evidence,
    record_dir,
    record_to_ledger,
)
from compliance.errors import ExitCode, UsageError
from compliance.model import ScannerStatus, ScanResult, Severity
from compliance.partial import dumps as dump_partial
from compliance.pipeline import run_scan, run_shard
from compliance.prepare import ScanOptions
from compliance.reporting import REGISTRY as RENDERERS
from compliance.scanners.process import ProcessRunner
from compliance.scanners.registry import REGISTRY as SCANNERS
from compliance.shard import parse_shard

if TYPE_CHECKING:
    from compliance.evidence.bundle import BundleInfo

OPTIONAL_BINARIES = ("helm", "kustomize")
SEVERITIES = [s.value for s in Severity]


def exit_code_for(result: ScanResult) -> ExitCode:
    """A scanner error outranks the gate: it must never hide behind other findings."""
    if result.scanner_errors:
        return ExitCode.SCANNER_ERROR
    if result.scanners and not any(s.status is ScannerStatus.OK for s in result.scanners):
        return ExitCode.SCANNER_ERROR
    if not result.verdict.passed:
        return ExitCode.GATE_FAILED
    return ExitCode.OK


def scan_inputs(command: Callable[..., None]) -> Callable[..., None]:
    """The options that say what to scan and with which policies (shared by `scan` and
    `baseline create`); they arrive in the command as one `ScanOptions` named `options`."""
    options = [
        click.argument("paths", nargs=-1, type=click.Path(path_type=Path)),
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
        click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache."),
        click.option(
            "--cache-dir",
            type=click.Path(path_type=Path, file_okay=False),
            help="Result cache folder [default: the config's cache.dir, .compliance/cache].",
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
        root, targets = _root_and_files(kwargs.pop("paths"))
        scan_options = ScanOptions(
            root=root,
            config_path=files["--config"],
            advisory_db=kwargs.pop("advisory_db"),
            scanners=kwargs.pop("scanners") or None,
            timeout_s=kwargs.pop("timeout"),
            jobs=kwargs.pop("jobs"),
            available_binaries=frozenset(b for b in OPTIONAL_BINARIES if shutil.which(b)),
            gate_path=files["--gate"],
            waivers_path=files["--waivers"],
            ci=ci_context(os.environ),
            no_cache=kwargs.pop("no_cache"),
            cache_dir=kwargs.pop("cache_dir"),
        )
        command(options=scan_options, files=targets, **kwargs)

    for option in reversed(options):
        wrapper = option(wrapper)
    return wrapper


def _root_and_files(paths: tuple[Path, ...]) -> tuple[Path, tuple[Path, ...]]:
    """`scan` (the current folder), `scan FOLDER` (that repository) or `scan FILE...` (those
    files of the repository in the current folder: what pre-commit passes)."""
    if not paths:
        return Path(), ()
    if len(paths) == 1 and (paths[0].is_dir() or not paths[0].exists()):
        return paths[0], ()  # a missing folder: the pipeline says so
    folders = [p for p in paths if p.is_dir()]
    if folders:
        raise UsageError(
            f"{folders[0]} is a folder: give one repository folder, or files",
            hint="`compliance scan FOLDER` scans a repository; `compliance scan FILE...` "
            "scans changed files of the repository in the current folder",
        )
    return Path(), paths


def result_outputs(command: Callable[..., None]) -> Callable[..., None]:
    """Where a result goes (`scan` and `merge`): the report on stdout, report files, the
    evidence bundle, the ledger; and whether progress is shown."""
    options = [
        click.option(
            "--format",
            "fmt",
            type=click.Choice(list(RENDERERS)),
            default="terminal",
            show_default=True,
            help="Report written to stdout.",
        ),
        click.option(
            "-o",
            "--output",
            "outputs",
            multiple=True,
            metavar="FORMAT=PATH",
            help="Also write a report to a file (repeatable).",
        ),
        click.option(
            "--link-base",
            metavar="URL",
            help="Make file links in Markdown/HTML reports absolute, e.g. "
            "https://github.com/ORG/REPO/blob/SHA/ (the scanned folder's URL).",
        ),
        click.option(
            "--evidence",
            "evidence_dir",
            type=click.Path(path_type=Path),
            help="Write the evidence bundle (result, SARIF, HTML, raw scanner output, per-control "
            "index, manifest) to this folder.",
        ),
        click.option(
            "--sign-key",
            type=click.Path(path_type=Path),
            help="Ed25519 private key (PEM) to sign the bundle; default $COMPLIANCE_SIGNING_KEY.",
        ),
        click.option(
            "--archive",
            type=click.Choice(["tar.gz", "zip"]),
            help="Write the bundle as one archive file instead of a folder.",
        ),
        click.option(
            "--ledger",
            metavar="PATH|URL",
            help="Record this run in the ledger (a SQLite file or a postgresql:// URL).",
        ),
        click.option("-q", "--quiet", is_flag=True, help="No progress output."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


@click.command()
@scan_inputs
@click.option(
    "--staged",
    is_flag=True,
    help="Scan only the files staged in git (pre-commit); report findings in them only.",
)
@click.option(
    "--changed-since",
    metavar="REF",
    help="Scan only files changed since the merge base with REF (committed, uncommitted "
    "and untracked); report findings in them only.",
)
@click.option(
    "--shard",
    metavar="I/N",
    help="Scan shard I of N (services balanced by size) and write a partial result to "
    "--partial; join the N partials with `compliance merge`.",
)
@click.option(
    "--partial",
    "partial_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Where --shard writes its partial result.",
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
@result_outputs
def scan(
    options: ScanOptions,
    files: tuple[Path, ...],
    staged: bool,
    changed_since: str | None,
    shard: str | None,
    partial_path: Path | None,
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
    """Scan the repository at PATH (default: the current folder), or only FILE... of the
    repository in the current folder (changed-files mode, as pre-commit calls it)."""
    if shard is not None:
        given = {
            "FILE": bool(files),
            "--staged": staged,
            "--changed-since": changed_since is not None,
            "--baseline": baseline_path is not None,
            "--evidence": evidence_dir is not None,
            "--ledger": ledger is not None,
            "-o": bool(outputs),
        }
        scan_shard(options, shard, partial_path, [k for k, v in given.items() if v], quiet)
        return
    if partial_path is not None:
        raise UsageError("--partial goes with --shard I/N")
    changes = changed_files(options.root, files, staged, changed_since)
    if changes is not None and (evidence_dir is not None or ledger is not None):
        raise UsageError(
            "an evidence bundle or ledger record needs a full scan, not changed files",
            hint="drop FILE/--staged/--changed-since, or --evidence/--ledger",
        )
    options = replace(options, changes=changes)
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
            result = run_scan(
                scan_options, progress=progress, clock=clock.utc_now, timer=clock.monotonic
            )
        info = write_outputs(result, targets, link_base, evidence, raw)
    finish(result, info, ledger, fmt, link_base)


def write_outputs(
    result: ScanResult,
    targets: list[tuple[str, Path]],
    link_base: str | None,
    evidence: EvidenceRequest | None,
    raw: Path | None,
) -> BundleInfo | None:
    """The report files, then the evidence bundle (shared by `scan` and `merge`)."""
    for target_fmt, target in targets:
        write_report(result, target_fmt, target, file_options(link_base))
    return finish_evidence(result, evidence, raw, file_options(link_base))


def finish(
    result: ScanResult, info: BundleInfo | None, ledger: str | None, fmt: str, link_base: str | None
) -> None:
    """The ledger record, the report on stdout, the summary on stderr, the exit code."""
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


def changed_files(
    root: Path, files: tuple[Path, ...], staged: bool, since: str | None
) -> ChangeSet | None:
    """What changed, for changed-files mode; None for a full scan."""
    chosen = [
        n for n, v in (("FILE", files), ("--staged", staged), ("--changed-since", since)) if v
    ]
    if len(chosen) > 1:
        raise UsageError(f"choose one of {' and '.join(chosen)}")
    if not root.is_dir():
        return None  # the pipeline says what is wrong with the root
    if staged:
        return staged_changes(root.resolve(), ProcessRunner())
    if since is not None:
        return changes_since(root.resolve(), since, ProcessRunner())
    if files:
        return given_files(root.resolve(), files)
    return None


def scan_shard(
    options: ScanOptions, spec_text: str, partial: Path | None, conflicts: list[str], quiet: bool
) -> None:
    """`scan --shard I/N --partial FILE`: one shard's outcomes, for `compliance merge`."""
    spec = parse_shard(spec_text)
    if partial is None:
        raise UsageError("--shard needs --partial FILE (where the partial result goes)")
    if conflicts:
        raise UsageError(
            f"--shard does not go with {', '.join(conflicts)}",
            hint="a shard writes only its partial; `compliance merge` writes the reports, "
            "evidence and ledger record, and applies the baseline",
        )
    with make_progress(quiet) as progress:
        result = run_shard(
            options, spec, progress=progress, clock=clock.utc_now, timer=clock.monotonic
        )
    write_atomic(partial, dump_partial(result))
    errors = [o.run for o in result.outcomes if o.run.status is ScannerStatus.ERROR]
    for run in errors:
        click.echo(f"error: scanner {run.name} failed: {run.error}", err=True)
    click.echo(
        f"compliance: shard {spec} ({len(result.units)} unit(s)) written to {partial}", err=True
    )
    click.get_current_context().exit(int(ExitCode.SCANNER_ERROR if errors else ExitCode.OK))
