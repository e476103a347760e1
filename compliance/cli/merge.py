"""`compliance merge PARTIAL...`: join the shards of one scan into one result, one verdict,
one evidence bundle, as a single full scan of the same checkout would have given."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import click

from compliance.cicontext import ci_context
from compliance.cli import clock
from compliance.cli.output import parse_outputs
from compliance.cli.scan import SEVERITIES, finish, result_outputs, write_outputs
from compliance.cli.scan_evidence import check_ledger, prepare_evidence
from compliance.errors import UsageError
from compliance.model import Severity
from compliance.partial import check_complete, load_partial
from compliance.pipeline import merge_partials
from compliance.prepare import ScanOptions
from compliance.scanners.registry import REGISTRY as SCANNERS


@click.command()
@click.argument("partials", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "--root",
    type=click.Path(path_type=Path, file_okay=False),
    default=Path(),
    show_default=True,
    help="Checkout of the commit the shards scanned (policies are read from it).",
)
@click.option(
    "--scanner",
    "scanners",
    multiple=True,
    type=click.Choice(list(SCANNERS)),
    help="The --scanner options the shards were given (repeatable).",
)
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
@click.option("--gate", "gate_path", type=click.Path(path_type=Path), help="Gate policy file.")
@click.option("--waivers", "waivers_path", type=click.Path(path_type=Path), help="Waiver file.")
@click.option("--baseline", "baseline_path", type=click.Path(path_type=Path), help="Baseline file.")
@click.option(
    "--advisory-db",
    type=click.Path(path_type=Path),
    help="The advisory folder the shards used (its digest is recorded in the result).",
)
@click.option(
    "--fail-on",
    type=click.Choice(SEVERITIES, case_sensitive=False),
    help="Fail on open findings at or above this severity [default: the gate's fail_on].",
)
@result_outputs
def merge(
    partials: tuple[Path, ...],
    root: Path,
    scanners: tuple[str, ...],
    config_path: Path | None,
    gate_path: Path | None,
    waivers_path: Path | None,
    baseline_path: Path | None,
    advisory_db: Path | None,
    fail_on: str | None,
    fmt: str,
    outputs: tuple[str, ...],
    link_base: str | None,
    evidence_dir: Path | None,
    sign_key: Path | None,
    archive: str | None,
    ledger: str | None,
    quiet: bool,
) -> None:
    """Join the partial results of `compliance scan --shard I/N --partial FILE`, all N of
    them, into one result: same reports, evidence, ledger record and exit code as `scan`."""
    for option, given in (
        ("--config", config_path),
        ("--gate", gate_path),
        ("--waivers", waivers_path),
        ("--baseline", baseline_path),
    ):
        if given is not None and not given.is_file():
            raise UsageError(f"{option}: no such file: {given}")
    targets = parse_outputs(outputs)
    evidence = prepare_evidence(evidence_dir, archive, sign_key)
    check_ledger(ledger)
    loaded = tuple(load_partial(p, str(p)) for p in partials)
    check_complete(loaded, [str(p) for p in partials])
    options = ScanOptions(
        root=root,
        config_path=config_path,
        advisory_db=advisory_db,
        scanners=scanners or None,
        gate_path=gate_path,
        waivers_path=waivers_path,
        baseline_path=baseline_path,
        fail_on=Severity.parse(fail_on) if fail_on else None,
        ci=ci_context(os.environ),
        no_cache=True,
    )
    result = merge_partials(replace(options), loaded, clock=clock.utc_now)
    if not quiet:
        click.echo(f"compliance: merged {len(loaded)} shard(s) of {root}", err=True)
    info = write_outputs(result, targets, link_base, evidence, None)
    finish(result, info, ledger, fmt, link_base)
