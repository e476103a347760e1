"""`compliance services`: the services found in a repository, with their owners."""

from __future__ import annotations

import json
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table
from rich.text import Text

from compliance.prepare import prepare


@click.command()
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option("--format", "fmt", type=click.Choice(["table", "json"]), default="table")
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
def services(path: Path, fmt: str, config_path: Path | None) -> None:
    """List the microservices of the repository at PATH and who owns them."""
    prepared = prepare(path, config_path)
    if fmt == "json":
        data = [
            {
                "name": s.name,
                "path": s.path,
                "owner": s.owner,
                "source": s.source.value,
                "description": s.description,
                "data_classification": list(s.data_classification),
            }
            for s in prepared.services
        ]
        click.echo(json.dumps({"services": data}, indent=2))
        return
    table = Table(show_edge=False)
    for column in ("service", "path", "owner", "source", "data"):
        table.add_column(column)
    for s in prepared.services:
        table.add_row(
            Text(s.name),
            Text(s.path or "."),
            Text(s.owner or "-"),
            s.source.value,
            Text(", ".join(s.data_classification) or "-"),
        )
    Console(highlight=False).print(table)
    if not prepared.services:
        click.echo("no services found: every finding will belong to (repo)", err=True)
