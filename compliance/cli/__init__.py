"""The `compliance` command line. Click lives here only.

Every command parses its options into a typed options object, calls the core, and picks the
exit code. Errors are caught once, in `ComplianceGroup.invoke`: `error: …` and a hint on
stderr, a traceback only with `--debug`, exit code from the error class.
"""

from __future__ import annotations

import traceback
from typing import Any

import click

from compliance import __version__
from compliance.cli.baseline import baseline
from compliance.cli.controls import controls
from compliance.cli.doctor import doctor
from compliance.cli.evidence import evidence
from compliance.cli.policy import policy
from compliance.cli.report import report
from compliance.cli.residency import residency
from compliance.cli.scan import scan
from compliance.cli.services import services
from compliance.cli.soa import soa
from compliance.cli.threatmodel import threatmodel
from compliance.errors import ComplianceError, ExitCode


class ComplianceGroup(click.Group):
    """A Click group that turns our errors into their exit codes, in one place."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.ClickException, click.Abort):
            raise
        except ComplianceError as error:
            for index, line in enumerate(error.lines()):
                click.echo(f"error: {line}" if index == 0 else line, err=True)
            if error.hint:
                click.echo(f"hint: {error.hint}", err=True)
            if _debug(ctx):
                traceback.print_exc()
            ctx.exit(int(error.exit_code))
        except KeyboardInterrupt:
            click.echo("error: interrupted", err=True)
            ctx.exit(int(ExitCode.INTERNAL_ERROR))
        except Exception as error:  # a bug of ours: say so, with the version
            click.echo(
                f"error: internal error in compliance {__version__}: "
                f"{type(error).__name__}: {error}",
                err=True,
            )
            click.echo("hint: rerun with --debug and report the traceback", err=True)
            if _debug(ctx):
                traceback.print_exc()
            ctx.exit(int(ExitCode.INTERNAL_ERROR))


def _debug(ctx: click.Context) -> bool:
    root = ctx.find_root()
    return bool(root.params.get("debug"))


@click.group(cls=ComplianceGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="compliance")
@click.option("--debug", is_flag=True, help="Show tracebacks for errors.")
def cli(debug: bool) -> None:
    """Security and compliance scanning for CI.

    Runs bandit, semgrep, pip-audit and checkov over a repository in parallel, attributes
    every finding to the microservice that owns it, and gates the merge.

    Exit codes: 0 pass, 1 gate failed, 2 usage, 3 invalid policy/config,
    4 scanner or environment error, 5 internal error.
    """


cli.add_command(scan)
cli.add_command(services)
cli.add_command(doctor)
cli.add_command(controls)
cli.add_command(baseline)
cli.add_command(policy)
cli.add_command(soa)
cli.add_command(report)
cli.add_command(evidence)
cli.add_command(residency)
cli.add_command(threatmodel)


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="compliance")
