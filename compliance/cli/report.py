"""`compliance report`: render any format from a saved JSON result, without scanning."""

from __future__ import annotations

from pathlib import Path

import click

from compliance.cli.output import (
    echo_report,
    file_options,
    require_folder,
    stdout_options,
    write_report,
)
from compliance.errors import UsageError
from compliance.reporting import REGISTRY as RENDERERS
from compliance.reporting.load import load_result


@click.command()
@click.argument("result_path", metavar="RESULT.json", type=click.Path(path_type=Path))
@click.option(
    "--format",
    "fmt",
    type=click.Choice(list(RENDERERS)),
    default="terminal",
    show_default=True,
    help="The report to render.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write it to a file (atomically) instead of stdout.",
)
@click.option(
    "--link-base",
    metavar="URL",
    help="Make file links in Markdown/HTML reports absolute (as `scan --link-base`).",
)
def report(result_path: Path, fmt: str, output: Path | None, link_base: str | None) -> None:
    """Render a result saved by `compliance scan --format json` (or `-o json=FILE`).

    A file written here is byte-identical to the one `scan -o FORMAT=PATH` wrote from the
    same result with the same options. Exit 0 when the report was written (the gate's
    verdict is in the report, not in this exit code), 3 when the result file is invalid.
    """
    if not result_path.is_file():
        raise UsageError(f"no such file: {result_path}")
    if output is not None:
        require_folder(output, f"-o {output}")
    result = load_result(result_path, str(result_path))
    if output is None:
        echo_report(result, fmt, stdout_options(fmt, link_base))
    else:
        write_report(result, fmt, output, file_options(link_base))
