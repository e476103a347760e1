"""The Ledger protocol every store implements, the errors of a ledger, and
`display_location`: where a ledger is, fit for messages."""

from __future__ import annotations

from datetime import datetime
from typing import Protocol
from urllib.parse import urlsplit, urlunsplit

from compliance.errors import ComplianceError, EnvironmentFailure, ExitCode
from compliance.evidence.ledger.chain import Verification
from compliance.evidence.ledger.records import LedgerEntry, RunRecord


class LedgerInvalid(ComplianceError):
    """The ledger is not one: not SQLite, someone else's tables, an unknown schema, a bad URL."""

    exit_code = ExitCode.INVALID_CONFIG


class LedgerUnavailable(EnvironmentFailure):
    """The ledger cannot be reached, opened, locked or written (exit 4)."""


class LedgerBroken(ComplianceError):
    """`verify` found the chain broken: an entry edited, removed or moved (exit 1)."""

    exit_code = ExitCode.GATE_FAILED

    def __init__(self, location: str, verification: Verification) -> None:
        self.verification = verification
        first = verification.problems[0]
        count = verification.problem_count
        noun = "problem" if count == 1 else "problems"
        super().__init__(
            f"ledger {location} fails verification ({count} {noun}); first: {first.message}",
            hint="the ledger was changed outside compliance; keep it as evidence and restore "
            "it from a backup whose head hash you trust",
        )

    def lines(self) -> list[str]:
        more = self.verification.problem_count - len(self.verification.problems)
        tail = [f"  ... and {more} more"] if more else []
        return [
            self.message,
            *(f"  entry {p.seq}: {p.fault.value}: {p.message}" for p in self.verification.problems),
            *tail,
        ]


class Ledger(Protocol):
    """The run ledger, whatever stores it."""

    #: Where it is, for messages (a PostgreSQL URL without its password).
    location: str

    def append(self, run: RunRecord, recorded_at: datetime) -> LedgerEntry:
        """Chain `run` to the head atomically; returns the new entry."""
        ...

    def entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        repo: str | None = None,
    ) -> tuple[LedgerEntry, ...]:
        """The entries whose run started in [since, until), by start time then sequence."""
        ...

    def verify(self) -> Verification: ...

    def close(self) -> None: ...


def display_location(location: str) -> str:
    """A location fit for messages: a URL's password replaced by ***."""
    if "://" not in location:
        return location
    try:
        parts = urlsplit(location)
        if parts.password is None:
            return location
        user = parts.username or ""
        host = parts.netloc.rpartition("@")[2]
        return urlunsplit(parts._replace(netloc=f"{user}:***@{host}"))
    except ValueError:
        return location.split("://", 1)[0] + "://***"
