"""What the SQLite and PostgreSQL stores share: the entries and meta tables with their
schema version, how long a writer waits, the period filter of `entries`, reading a row back."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from compliance.evidence.ledger.interface import LedgerInvalid
from compliance.evidence.ledger.records import LedgerEntry
from compliance.evidence.ledger.rows import entry_from_row, utc_iso

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


def period_filter(
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


def parse_entry(location: str, row: Mapping[str, Any]) -> LedgerEntry:
    try:
        return entry_from_row(row)
    except (ValueError, TypeError):
        raise LedgerInvalid(
            f"ledger {location}: entry {row['seq']} cannot be read",
            hint="run `compliance evidence ledger verify`: the ledger was changed outside "
            "compliance",
        ) from None
