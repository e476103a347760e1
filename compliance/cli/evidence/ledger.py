"""`compliance evidence ledger verify | record` and `compliance evidence export`.

The ledger is `--ledger` (a SQLite file's path or a postgresql:// URL), else
$COMPLIANCE_LEDGER, else .compliance/ledger.sqlite under the current folder.

Exit codes (docs/evidence.md): 0 done / chain intact; 1 the chain does not verify; 2 usage
(no ledger there, a bad date or digest, an output folder that holds other files); 3 a
ledger that is not one (not SQLite, someone else's tables, another schema version, a bad
URL) or a result file that is not one; 4 the ledger cannot be reached, locked or written.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any, TypeVar

import click

from compliance.cli import clock
from compliance.config import bundled_controls_dir
from compliance.errors import ConfigError, UsageError
from compliance.evidence.export.files import check_export_target, render_export, write_export
from compliance.evidence.export.period import Period, export_period
from compliance.evidence.ledger.interface import LedgerBroken
from compliance.evidence.ledger.records import parse_digest, record_from_result, repo_name
from compliance.evidence.ledger.store import DEFAULT_LEDGER, open_ledger
from compliance.policy.catalogue import load_catalogue
from compliance.reporting.load import load_result

LEDGER_ENV = "COMPLIANCE_LEDGER"

F = TypeVar("F", bound=Callable[..., Any])


def ledger_option(command: F) -> F:
    """`--ledger PATH|URL`, from $COMPLIANCE_LEDGER when not given (keep a URL with a
    password there, a CI secret, rather than on the command line)."""
    return click.option(
        "--ledger",
        "location",
        envvar=LEDGER_ENV,
        show_envvar=True,
        default=DEFAULT_LEDGER,
        show_default=True,
        metavar="PATH|URL",
        help="The ledger: a SQLite file, or postgresql://USER:PASSWORD@HOST:PORT/DATABASE.",
    )(command)


@click.group("ledger")
def ledger() -> None:
    """The run ledger: one hash-chained entry per scan.

    In a SQLite file or a PostgreSQL database (see --ledger on each command).
    """


@ledger.command("verify")
@ledger_option
def verify(location: str) -> None:
    """Check the ledger's hash chain.

    Every entry's hash against its content, and against the next entry's record of it.
    Prints the entry count and the head hash: keep the head
    elsewhere to catch a ledger whose newest entries were removed or all rehashed.

    Exit 0 when the chain is intact, 1 naming the first entry that was edited, removed or
    moved, 2 when there is no ledger there, 3 when it is not a ledger, 4 when unreachable.
    """
    with contextlib.closing(open_ledger(location, create=False)) as opened:
        verification = opened.verify()
        if not verification.ok:
            raise LedgerBroken(opened.location, verification)
        click.echo(f"ledger {opened.location}: {verification.entries} entries, chain intact")
        click.echo(f"head {verification.head or '(empty)'}")


@dataclass(frozen=True, slots=True)
class RecordOptions:
    result_path: Path
    location: str
    repo: str | None
    bundle_digest: str | None


@ledger.command("record")
@click.argument("result_path", metavar="RESULT.json", type=click.Path(path_type=Path))
@click.option(
    "--bundle-digest",
    metavar="SHA256",
    help="The SHA-256 of the run's evidence bundle manifest (manifest.json).",
)
@click.option(
    "--repo",
    metavar="NAME",
    help="The repository's name in the ledger (default: the result's root folder name).",
)
@ledger_option
def record(result_path: Path, bundle_digest: str | None, repo: str | None, location: str) -> None:
    """Record a saved result as the ledger's next entry.

    RESULT.json is a result saved by `compliance scan --format json`.
    Creates the ledger (file and tables) on first use. Appends are serialised, so parallel
    CI jobs may record into one ledger at once. Exit 0 when recorded.
    """
    options = RecordOptions(result_path, location, repo, bundle_digest)
    if not options.result_path.is_file():
        raise UsageError(f"no such file: {options.result_path}")
    if options.repo is not None and not options.repo.strip():
        raise UsageError("--repo: expected a non-empty name")
    digest = parse_digest(options.bundle_digest) if options.bundle_digest is not None else None
    result = load_result(options.result_path, str(options.result_path))
    name = options.repo if options.repo is not None else _repo_name(result.root)
    run = record_from_result(result, repo=name, bundle_digest=digest)
    with contextlib.closing(open_ledger(options.location, create=True)) as opened:
        entry = opened.append(run, clock.utc_now())
        click.echo(
            f"recorded run {entry.seq} of {entry.run.repo} in ledger {opened.location}: "
            f"{entry.entry_hash}"
        )


def _repo_name(root: str) -> str:
    """The result's root folder name; for a scan of `.`, the current folder's."""
    name = repo_name(root)
    if name in (".", ".."):
        return Path.cwd().resolve().name or name
    return name


@dataclass(frozen=True, slots=True)
class ExportOptions:
    period: Period
    location: str
    repo: str | None
    branch: str | None
    output: Path
    force: bool


@click.command("export")
@click.option(
    "--since",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="DATE",
    help="First day of the period (YYYY-MM-DD, UTC).",
)
@click.option(
    "--until",
    required=True,
    type=click.DateTime(formats=["%Y-%m-%d"]),
    metavar="DATE",
    help="Last day of the period, included (YYYY-MM-DD, UTC).",
)
@click.option("--repo", metavar="NAME", help="Only this repository's runs.")
@click.option("--branch", metavar="NAME", help="Only runs on this branch (e.g. main).")
@ledger_option
@click.option(
    "-o",
    "--output",
    required=True,
    type=click.Path(path_type=Path),
    metavar="DIR",
    help="The folder to write (index.html, controls.csv, findings.csv, waivers.csv, runs.csv).",
)
@click.option("--force", is_flag=True, help="Replace an earlier export in DIR.")
def export(
    since: datetime,
    until: datetime,
    repo: str | None,
    branch: str | None,
    location: str,
    output: Path,
    force: bool,
) -> None:
    """Write the auditor's package for a period, from the ledger.

    Per control: the runs that assessed it, its pass rate and first failure; per failing
    finding: its first failure and time to remediation; the waivers in force with owner and
    approver; every run with its bundle digest. One HTML page (with control status over
    time), CSV files and SHA256SUMS.

    The ledger's chain is verified first: exit 1 (and nothing written) when it is broken.
    The folder is written whole or not at all. Exit 0 when written.
    """
    options = ExportOptions(Period(_day(since), _day(until)), location, repo, branch, output, force)
    check_export_target(options.output, force=options.force)  # before any work
    with contextlib.closing(open_ledger(options.location, create=False)) as opened:
        report = export_period(
            opened,
            options.period.since,
            options.period.until,
            options.repo,
            branch=options.branch,
            titles=_control_titles(),
        )
    write_export(render_export(report), options.output, force=options.force)
    head = report.chain.head if report.chain else None
    click.echo(
        f"wrote {options.output}: {len(report.runs)} runs, {len(report.controls)} controls, "
        f"{len(report.findings)} failing findings, {len(report.waivers)} waivers",
        err=True,
    )
    click.echo(f"ledger head {head or '(empty)'}", err=True)


def _day(value: datetime) -> date:
    return value.date()


def _control_titles() -> dict[str, str]:
    """Control titles from the bundled catalogues; none (ids only) if they cannot be read."""
    try:
        catalogue = load_catalogue(bundled_controls_dir())
    except ConfigError:
        return {}
    return {c.id: c.title for c in catalogue.controls}
