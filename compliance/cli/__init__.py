"""The `compliance` command line. Click lives here only.

Every command parses its options into a typed options object, calls the core, and picks the
exit code. Errors are caught once, in `ComplianceGroup.invoke`: `error: …` and a hint on
stderr, a traceback only with `--debug`, exit code from the error class.

SIGINT and SIGTERM are handled there too: every scanner process group is killed, no new one
starts, and the command unwinds (report files are written atomically, so the old file or
none stays) and exits 130 or 143, as a shell reports a process the signal ended.
"""

from __future__ import annotations

import contextlib
import importlib
import signal
import threading
import traceback
from collections.abc import Iterator
from types import FrameType
from typing import Any

import click

from compliance import __version__
from compliance.errors import ComplianceError, ExitCode
from compliance.scanners.process import resume, stop_all

#: The signals that stop a command; it exits 128 + the signal's number.
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)

#: Each command's module, imported when the command runs (or help lists it): a pre-commit
#: `compliance scan` does not pay for importing the evidence, OSCAL and report commands.
COMMANDS = {
    "scan": "compliance.cli.scan",
    "services": "compliance.cli.services",
    "doctor": "compliance.cli.doctor",
    "controls": "compliance.cli.controls",
    "baseline": "compliance.cli.baseline",
    "policy": "compliance.cli.policy",
    "soa": "compliance.cli.soa",
    "report": "compliance.cli.report",
    "evidence": "compliance.cli.evidence",
    "residency": "compliance.cli.residency",
    "threatmodel": "compliance.cli.threatmodel",
    "merge": "compliance.cli.merge",
}


class Interrupted(BaseException):
    """SIGINT or SIGTERM arrived. A BaseException, as KeyboardInterrupt is, so that no
    `except Exception` on the way out swallows it."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


@contextlib.contextmanager
def stop_tools_on_signals() -> Iterator[None]:
    """While the command runs, SIGINT and SIGTERM kill every running tool's process group
    (and refuse new ones), then raise Interrupted in the main thread, once."""
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may install handlers (an embedding application's)
        return
    received: list[int] = []

    def handler(signum: int, frame: FrameType | None) -> None:
        stop_all()
        if not received:  # a second Ctrl-C kills again, but does not interrupt the unwinding
            received.append(signum)
            raise Interrupted(signum)

    previous = {sig: signal.signal(sig, handler) for sig in STOP_SIGNALS}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)
        resume()


class ComplianceGroup(click.Group):
    """A Click group that turns our errors into their exit codes, in one place, and loads
    each command's module only when it is needed."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *self.commands})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in self.commands or cmd_name not in COMMANDS:
            return self.commands.get(cmd_name)
        command = getattr(importlib.import_module(COMMANDS[cmd_name]), cmd_name)
        if not isinstance(command, click.Command):
            raise TypeError(f"{COMMANDS[cmd_name]}.{cmd_name} is not a command")
        return command

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with stop_tools_on_signals():
                return self._invoke(ctx)
        except Interrupted as stop:
            click.echo(f"error: interrupted by {stop}: scanners stopped", err=True)
            ctx.exit(128 + stop.signum)

    def _invoke(self, ctx: click.Context) -> Any:
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
            ctx.exit(128 + signal.SIGINT)
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
    4 scanner or environment error, 5 internal error; 130/143 stopped by SIGINT/SIGTERM.
    """


def main() -> None:
    """Console-script entry point."""
    cli.main(prog_name="compliance")
