"""`compliance evidence oscal`: a saved result as OSCAL 1.1 assessment results."""

from __future__ import annotations

from pathlib import Path

import click

from compliance.cli.output import require_folder, write_atomic
from compliance.errors import UsageError
from compliance.evidence.oscal.document import OSCAL_VERSION, render_assessment_results
from compliance.reporting.load import load_result


@click.command()
@click.argument("result_path", metavar="RESULT.json", type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the document to a file (atomically) instead of stdout.",
)
def oscal(result_path: Path, output: Path | None) -> None:
    """Export a saved result as OSCAL 1.1 assessment results.

    RESULT.json is a result saved by `compliance scan --format json` (or `-o json=FILE`). The
    document has one observation per finding (suppressed ones included), one finding per
    control the scan assessed, and the scanners as the assessment's tools; docs/evidence.md
    says how each control status maps to OSCAL's satisfied / not-satisfied.

    The same result always gives the same bytes. Exit 0 when the document was written (the
    gate's verdict is in the document, not in this exit code), 2 when RESULT.json or the
    output folder does not exist, 3 when the result is invalid or has nothing to export.
    """
    if not result_path.is_file():
        raise UsageError(f"no such file: {result_path}")
    if output is not None:
        require_folder(output, f"-o {output}")
    result = load_result(result_path, str(result_path))
    text = render_assessment_results(result)
    if output is None:
        click.echo(text, nl=False)
        return
    write_atomic(output, text)
    click.echo(f"wrote OSCAL {OSCAL_VERSION} assessment results to {output}", err=True)
