"""Exit codes and the error classes of `compliance`.

Every error the user can cause or meet carries its exit code and, where it helps, a hint.
They are caught once, in the CLI wrapper (`compliance.cli.main`); nothing else exits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import IntEnum

from pydantic import ValidationError


class ExitCode(IntEnum):
    """The documented exit codes. Scripts depend on these: never renumber."""

    OK = 0
    GATE_FAILED = 1
    USAGE = 2
    INVALID_CONFIG = 3
    SCANNER_ERROR = 4
    INTERNAL_ERROR = 5


class ComplianceError(Exception):
    """Base of every domain error. Subclasses fix the exit code."""

    exit_code: ExitCode = ExitCode.INTERNAL_ERROR

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def lines(self) -> list[str]:
        """The lines to show the user, without the `error:` prefix."""
        return [self.message]


class UsageError(ComplianceError):
    """The command line asks for something impossible (a missing path, a bad option)."""

    exit_code = ExitCode.USAGE


@dataclass(frozen=True, slots=True)
class Problem:
    """One problem in one input file: the file, the key path or line, and what is wrong."""

    file: str
    location: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}: {self.location}" if self.location else self.file
        return f"{where}: {self.message}"


class ConfigError(ComplianceError):
    """A config, policy or catalogue file is invalid. Lists every problem found."""

    exit_code = ExitCode.INVALID_CONFIG

    def __init__(self, problems: Sequence[Problem], *, hint: str | None = None) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"invalid configuration ({count} {noun})", hint=hint)

    def lines(self) -> list[str]:
        return [self.message, *(f"  {p}" for p in self.problems)]


class ScannerFailure(ComplianceError):
    """A scanner is missing, crashed, timed out or printed output we cannot trust."""

    exit_code = ExitCode.SCANNER_ERROR


class EnvironmentFailure(ComplianceError):
    """The environment cannot support the run (a tool is missing, a directory unreadable)."""

    exit_code = ExitCode.SCANNER_ERROR


class InternalError(ComplianceError):
    """A bug in compliance itself."""

    exit_code = ExitCode.INTERNAL_ERROR


def validation_problems(exc: ValidationError, display: str) -> list[Problem]:
    """Turn pydantic's errors into one Problem per bad key, with a readable key path."""
    problems = []
    for error in exc.errors():
        location = _key_path(error["loc"])
        message = error["msg"]
        if error["type"] == "extra_forbidden":
            message = "unknown key"
        elif message.startswith("Value error, "):
            message = message.removeprefix("Value error, ")
        problems.append(Problem(display, location, message))
    return problems


def _key_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else str(part)
    return text
