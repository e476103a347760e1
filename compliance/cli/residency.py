"""`compliance residency map`: per service, where its data lives (region by resource)."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from compliance.cli import clock
from compliance.config import bundled_policy_dir
from compliance.prepare import ScanOptions, load_residency, prepare
from compliance.residency.placement import Resolved, Unresolved
from compliance.residency.policy import region_tables
from compliance.residency.residency_map import MapEntry, ResidencyMap, build_map, map_as_data


@click.group()
def residency() -> None:
    """Data residency: where each class of data lives, against policies/residency.yaml."""


@residency.command("map")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
def residency_map(path: Path, fmt: str, config_path: Path | None) -> None:
    """Print, per service of the repository at PATH, where its data lives: each resource,
    replica, workload and stack with its region, where the region came from, and what the
    residency policy says (exit 3 if the policy is invalid)."""
    prepared = prepare(path, config_path)
    policy = load_residency(prepared, ScanOptions(prepared.root))
    tables = policy.tables if policy is not None else region_tables(bundled_policy_dir())
    result = build_map(
        prepared.root,
        prepared.inventory,
        prepared.services,
        policy,
        tables,
        clock.utc_now().date(),
    )
    if fmt == "json":
        click.echo(json.dumps(map_as_data(result), indent=2))
    else:
        _print_table(result)
    if policy is None:
        click.echo("no residency policy: placements are listed, none is checked", err=True)
    click.echo("code (SDK clients, endpoints) is checked by `compliance scan`", err=True)


def _print_table(result: ResidencyMap) -> None:
    console = Console(highlight=False)
    if not result.services:
        console.print("no resource, replica, workload or stack places data anywhere")
    for service in result.services:
        classes = ", ".join(service.classes) or "no data classification"
        console.print(Text(f"{service.service} ({classes})", style="bold"))
        table = Table(show_edge=False, pad_edge=False)
        for column in ("resource", "region", "from", "check"):
            table.add_column(column, overflow="fold")
        for entry in service.entries:
            table.add_row(*(Text(cell) for cell in _row(entry)))
        console.print(table)
        console.print()


def _row(entry: MapEntry) -> tuple[str, str, str, str]:
    check = entry.check
    placement = check.placement
    where = f"{placement.path}:{placement.line}" if placement.line else placement.path
    role = "" if placement.role.value in ("resource", "reference") else f" [{placement.role.value}]"
    resource = f"{placement.address}{role}\n{where}"
    match placement.region:
        case Resolved(value, source):
            region = f"{check.location.id}\n{check.location.name}" if check.location else value
        case Unresolved(reason):
            region, source = "unresolved", reason
    if check.owner.via != "path":
        source += f"\n(data of {check.owner.service} by its {check.owner.via})"
    status = entry.status.value + (f"\n{', '.join(entry.rules)}" if entry.rules else "")
    return resource, region, source, status
