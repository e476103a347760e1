"""What the SQLite and PostgreSQL stores share: the entries and meta tables with their
schema version, how long a writer waits, the statements both run (with the backend's
parameter mark), the next entry after the head, reading a row back.

Each store keeps its own DDL, locking and connection handling."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from compliance.evidence.ledger.chain import GENESIS
from compliance.evidence.ledger.interface import LedgerInvalid
from compliance.evidence.ledger.records import LedgerEntry, RunRecord
from compliance.evidence.ledger.rows import entry_from_row, entry_row, utc_iso

#: Version of the tables (in the meta table).
SCHEMA_VERSION = "1"
#: How long an append waits for another writer (or a connection for the server).
BUSY_TIMEOUT_S = 60.0
CONNECT_TIMEOUT_S = 10

ENTRIES_TABLE = "compliance_ledger"
META_TABLE = "compliance_ledger_meta"
#: The entries table: (column, SQLite type, PostgreSQL type). Times are UTC ISO 8601 text
#: and the JSON columns canonical JSON text, so both backends store the bytes that were hashed.
TABLE = (
    ("seq", "INTEGER PRIMARY KEY CHECK (seq >= 1)", "BIGINT PRIMARY KEY CHECK (seq >= 1)"),
    ("repo", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("recorded_at", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("started_at", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("finished_at", "TEXT NOT NULL", "TEXT NOT NULL"),
    ("commit_sha", "TEXT", "TEXT"),
    ("branch", "TEXT", "TEXT"),
    ("dirty", "INTEGER", "BOOLEAN"),
    ("ci_run_url", "TEXT", "TEXT"),
    ("passed", "INTEGER NOT NULL", "BOOLEAN NOT NULL"),
    ("controls", "TEXT NOT NULL", "TEXT NOT NULL"),  # {framework: {id: status}}
    ("failing", "TEXT NOT NULL", "TEXT NOT NULL"),  # {framework: {id: [fingerprint]}}
    ("findings", "TEXT NOT NULL", "TEXT NOT NULL"),  # {fingerprint: {tool, rule, ...}}
    ("waivers", "TEXT NOT NULL", "TEXT NOT NULL"),  # [{id, state, owner, approver, ...}]
    ("bundle_digest", "TEXT", "TEXT"),
    ("prev_hash", "TEXT NOT NULL UNIQUE", "TEXT NOT NULL UNIQUE"),
    ("entry_hash", "TEXT NOT NULL UNIQUE", "TEXT NOT NULL UNIQUE"),
)
COLUMNS = tuple(name for name, _, _ in TABLE)
SELECT = f"SELECT {', '.join(COLUMNS)} FROM {ENTRIES_TABLE}"  # noqa: S608 - constants
#: The last entry's seq and entry_hash (no row: the ledger is empty).
SELECT_HEAD = f"SELECT seq, entry_hash FROM {ENTRIES_TABLE} ORDER BY seq DESC LIMIT 1"  # noqa: S608
SELECT_VERSION = f"SELECT value FROM {META_TABLE} WHERE key = 'schema'"  # noqa: S608

# The statements below take the backend's parameter mark: "?" (SQLite) or "%s" (psycopg).


def insert_entry(mark: str) -> str:
    """INSERT of one entry; its parameters are `entry_values(row)`."""
    return (
        f"INSERT INTO {ENTRIES_TABLE} ({', '.join(COLUMNS)}) "  # noqa: S608
        f"VALUES ({', '.join([mark] * len(COLUMNS))})"
    )


def locate_entry(mark: str) -> str:
    """The seq of the entry with a given entry_hash."""
    return f"SELECT seq FROM {ENTRIES_TABLE} WHERE entry_hash = {mark}"  # noqa: S608


def select_period(
    since: datetime | None, until: datetime | None, repo: str | None, mark: str
) -> tuple[str, tuple[str, ...]]:
    """The SELECT of `entries`: runs started in [since, until), by start time then seq."""
    where, params = _period_filter(since, until, repo, mark)
    return f"{SELECT}{where} ORDER BY started_at, seq", params


def _period_filter(
    since: datetime | None, until: datetime | None, repo: str | None, mark: str
) -> tuple[str, tuple[str, ...]]:
    clauses, params = [], []
    if since is not None:
        clauses.append(f"started_at >= {mark}")
        params.append(utc_iso(since))
    if until is not None:
        clauses.append(f"started_at < {mark}")
        params.append(utc_iso(until))
    if repo is not None:
        clauses.append(f"repo = {mark}")
        params.append(repo)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)


def next_row(head: Sequence[Any] | None, run: RunRecord, recorded_at: datetime) -> dict[str, Any]:
    """The row of the entry that follows `head` (the SELECT_HEAD row; None: the first)."""
    seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
    return entry_row(seq, recorded_at, run, prev)


def entry_values(row: Mapping[str, Any]) -> tuple[Any, ...]:
    """The parameters of `insert_entry`, in column order."""
    return tuple(row[c] for c in COLUMNS)


def as_row(values: Sequence[Any]) -> dict[str, Any]:
    """A fetched row (columns in COLUMNS order) by column name."""
    return dict(zip(COLUMNS, values, strict=True))


def check_version(location: str, found: Sequence[Any] | None) -> None:
    """LedgerInvalid unless `found` (the SELECT_VERSION row) is the version we read."""
    if found is None or found[0] != SCHEMA_VERSION:
        shown = found[0] if found else "none"
        raise LedgerInvalid(
            f"ledger {location} has schema version {shown}; this compliance reads "
            f"version {SCHEMA_VERSION}",
            hint="use the version of compliance that wrote it",
        )


def parse_entries(location: str, rows: Iterable[Sequence[Any]]) -> tuple[LedgerEntry, ...]:
    """The entries of fetched rows; LedgerInvalid for one we never wrote."""
    return tuple(parse_entry(location, as_row(values)) for values in rows)


def parse_entry(location: str, row: Mapping[str, Any]) -> LedgerEntry:
    try:
        return entry_from_row(row)
    except (ValueError, TypeError):
        raise LedgerInvalid(
            f"ledger {location}: entry {row['seq']} cannot be read",
            hint="run `compliance evidence ledger verify`: the ledger was changed outside "
            "compliance",
        ) from None
