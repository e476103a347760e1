"""`compliance policy validate`: check config, catalogues, gate, waivers and baseline."""

from __future__ import annotations

from pathlib import Path

import click

from compliance.cli import clock
from compliance.errors import UsageError
from compliance.prepare import ScanOptions
from compliance.validate import Kind, validate_file, validate_repository


@click.group()
def policy() -> None:
    """Policy files: the gate, waivers, baseline, config and control catalogues."""


@policy.command("validate")
@click.argument("path", default=".", type=click.Path(path_type=Path))
@click.option(
    "--kind",
    type=click.Choice([k.value for k in Kind]),
    help="What PATH is, when it is a file [default: recognised from its content].",
)
@click.option("--config", "config_path", type=click.Path(path_type=Path), help="Config file.")
def validate(path: Path, kind: str | None, config_path: Path | None) -> None:
    """Check the policy files at PATH without scanning.

    PATH is a repository (default: the current folder: everything a scan of it would load,
    checked together), a single policy file, or a controls folder. Exit 0 when everything
    is valid, 3 with one line per problem (file and key path) when not.
    """
    if not path.exists():
        raise UsageError(f"path does not exist: {path}")
    if config_path is not None and not config_path.is_file():
        raise UsageError(f"--config: no such file: {config_path}")
    today = clock.utc_now().date()
    repository = path.is_dir() and kind is None and not (path / "mappings").is_dir()
    if repository:
        checked = validate_repository(path, ScanOptions(root=path, config_path=config_path), today)
    else:
        checked = [validate_file(path, Kind(kind) if kind else None, today, Path.cwd())]
    for item in checked:
        click.echo(f"ok  {item.path} ({item.kind.value}): {item.summary}")
        for warning in item.warnings:
            click.echo(f"warning: {item.path}: {warning}", err=True)
