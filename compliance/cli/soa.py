"""`compliance soa`: the Statement of Applicability, in Markdown or CSV."""

from __future__ import annotations

from pathlib import Path

import click

from compliance.cli.output import write_atomic
from compliance.config import bundled_controls_dir
from compliance.errors import UsageError
from compliance.policy.files import display_path
from compliance.policy.mapping_rules import load_control_policy
from compliance.reporting.load import load_result
from compliance.soa import (
    DEFAULT_SOA_PATH,
    Applicability,
    build_soa,
    load_applicability,
    render_soa_csv,
    render_soa_markdown,
)


@click.command()
@click.argument("path", default=".", type=click.Path(path_type=Path, file_okay=False))
@click.option(
    "--result",
    "result_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help="A saved JSON result (`compliance scan -o json=FILE`): the status column comes from it.",
)
@click.option(
    "--applicability",
    "applicability_path",
    type=click.Path(path_type=Path, dir_okay=False),
    help=f"Exclusions with their justification [default: {DEFAULT_SOA_PATH} under PATH].",
)
@click.option(
    "--format", "fmt", type=click.Choice(["markdown", "csv"]), default="markdown", show_default=True
)
@click.option(
    "-o", "--output", type=click.Path(path_type=Path, dir_okay=False), help="Write to a file."
)
def soa(
    path: Path,
    result_path: Path | None,
    applicability_path: Path | None,
    fmt: str,
    output: Path | None,
) -> None:
    """Statement of Applicability for the repository at PATH: every ISO 27001 and SOC 2
    control with its applicability, automation, last status and evidence."""
    if not path.is_dir():
        raise UsageError(f"not a folder: {path}")
    for option, given in (("--result", result_path), ("--applicability", applicability_path)):
        if given is not None and not given.is_file():
            raise UsageError(f"{option}: no such file: {given}")
    policy = load_control_policy(bundled_controls_dir())
    candidate = applicability_path or path / DEFAULT_SOA_PATH
    if candidate.is_file():
        shown = display_path(candidate, path)
        applicability = load_applicability(candidate, shown, policy.catalogue)
    else:
        applicability = Applicability(None, {})
    result = load_result(result_path, str(result_path)) if result_path else None
    statement = build_soa(policy.catalogue, policy.rules, applicability, result)
    text = render_soa_csv(statement) if fmt == "csv" else render_soa_markdown(statement)
    if output is None:
        click.echo(text, nl=False)
    else:
        write_atomic(output, text)
        click.echo(f"wrote {output}: {len(statement.rows)} controls", err=True)
