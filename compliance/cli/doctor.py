"""`compliance doctor`: scanner presence, versions, and whether each runs offline."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import click

from compliance.cli.scan import OPTIONAL_BINARIES
from compliance.diagnostics import ScannerHealth, check_health
from compliance.errors import ExitCode, UsageError


@click.command()
@click.option(
    "--advisory-db",
    type=click.Path(path_type=Path),
    help="Local OSV advisory folder: check pip-audit against it, offline.",
)
@click.option("--format", "fmt", type=click.Choice(["text", "json"]), default="text")
def doctor(advisory_db: Path | None, fmt: str) -> None:
    """Check that every scanner is installed and runs offline (exit 0 if so, 4 if not)."""
    if advisory_db is not None and not advisory_db.is_dir():
        raise UsageError(f"--advisory-db: not a folder: {advisory_db}")

    def show(health: ScannerHealth) -> None:
        if fmt == "text":
            mark = "ok  " if health.healthy else "FAIL"
            version = health.version or "not found"
            click.echo(f"{mark} {health.name:<11} {version:<12} {health.detail}")

    available = frozenset(b for b in OPTIONAL_BINARIES if shutil.which(b))
    health = check_health(
        advisory_db=advisory_db,
        available_binaries=available,
        optional_binaries=OPTIONAL_BINARIES,
        on_result=show,
    )
    if fmt == "json":
        click.echo(
            json.dumps(
                {
                    "healthy": health.healthy,
                    "scanners": [
                        {
                            "name": s.name,
                            "version": s.version,
                            "present": s.present,
                            "offline": s.offline,
                            "detail": s.detail,
                        }
                        for s in health.scanners
                    ],
                    "optional_binaries": dict(health.optional_binaries),
                },
                indent=2,
            )
        )
    else:
        for binary, present in health.optional_binaries:
            state = "found" if present else "not found: charts/overlays are reported as skipped"
            click.echo(f"     {binary:<11} {state}")
        offline_audit = next((s for s in health.scanners if s.name == "pip-audit"), None)
        if advisory_db is None and offline_audit is not None and not offline_audit.offline:
            click.echo(
                "hint: pip-audit needs OSV online unless given a local advisory folder: "
                "--advisory-db DIR (or scan.advisory_db in compliance.yaml)"
            )
    code = ExitCode.OK if health.healthy else ExitCode.SCANNER_ERROR
    click.get_current_context().exit(int(code))
