"""A ledger in one SQLite file, in WAL mode.

Appends are serialised across processes by `BEGIN IMMEDIATE` with a busy timeout; the
tables refuse a fork outright (`seq` is the primary key and `prev_hash` is unique).
"""

from __future__ import annotations

import contextlib
import re
import sqlite3
import time
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from compliance.errors import ComplianceError, UsageError
from compliance.evidence.ledger.chain import Verification, verify_rows
from compliance.evidence.ledger.interface import LedgerInvalid, LedgerUnavailable
from compliance.evidence.ledger.records import LedgerEntry, RunRecord
from compliance.evidence.ledger.rows import entry_from_row
from compliance.evidence.ledger.tables import (
    BUSY_TIMEOUT_S,
    ENTRIES_TABLE,
    META_TABLE,
    SCHEMA_VERSION,
    SELECT,
    SELECT_HEAD,
    SELECT_VERSION,
    TABLE,
    as_row,
    check_version,
    entry_values,
    insert_entry,
    locate_entry,
    next_row,
    parse_entries,
    select_period,
)

_SQLITE_HEADER = b"SQLite format 3\x00"


_SQLITE_DDL = (
    f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"CREATE TABLE {ENTRIES_TABLE} ("
    + ", ".join(f"{column[0]} {column[1]}" for column in TABLE)
    + ")",
    f"CREATE INDEX {ENTRIES_TABLE}_started ON {ENTRIES_TABLE} (started_at, seq)",
)
_SQLITE_HINT = (
    "--ledger (or COMPLIANCE_LEDGER) must name a compliance ledger: a SQLite file that "
    "compliance created, or a new path"
)


class SqliteLedger:
    """A ledger in one SQLite file (WAL mode). A connection per operation, so processes that
    share the file (parallel CI jobs on one runner) each take the write lock in turn."""

    def __init__(self, path: Path, *, create: bool) -> None:
        self.path = path
        self.location = str(path)
        if path.is_dir():
            raise LedgerInvalid(f"ledger {path} is a folder, expected a SQLite file")
        if not path.exists():
            if not create:
                raise UsageError(
                    f"no ledger at {path}",
                    hint="record a run first (`compliance evidence ledger record`), or name "
                    "the ledger with --ledger or COMPLIANCE_LEDGER",
                )
            return
        try:
            with path.open("rb") as handle:
                header = handle.read(len(_SQLITE_HEADER))
        except OSError as exc:
            raise LedgerUnavailable(f"cannot read ledger {path}: {exc.strerror}") from None
        if header and header != _SQLITE_HEADER:
            raise LedgerInvalid(f"ledger {path} is not a SQLite database", hint=_SQLITE_HINT)
        if header:
            with self._connect(readonly=True) as conn:
                present = self._check_tables(conn)
            if not present and not create:
                raise UsageError(f"no ledger in {path}: the database is empty")
        elif not create:
            raise UsageError(f"no ledger in {path}: the file is empty")

    def append(self, run: RunRecord, recorded_at: datetime) -> LedgerEntry:
        with self._connect(readonly=False) as conn:
            _enable_wal(conn)
            conn.execute("BEGIN IMMEDIATE")  # the write lock: one appender at a time
            try:
                if not self._check_tables(conn):
                    for statement in _SQLITE_DDL:
                        conn.execute(statement)
                    conn.execute(
                        f"INSERT INTO {META_TABLE} VALUES ('schema', ?)",  # noqa: S608
                        (SCHEMA_VERSION,),
                    )
                row = next_row(conn.execute(SELECT_HEAD).fetchone(), run, recorded_at)
                conn.execute(insert_entry("?"), entry_values(row))
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        return entry_from_row(row)

    def entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        repo: str | None = None,
    ) -> tuple[LedgerEntry, ...]:
        query, params = select_period(since, until, repo, "?")
        with self._connect(readonly=True) as conn:
            return parse_entries(self.location, conn.execute(query, params))

    def verify(self) -> Verification:
        with self._connect(readonly=True) as conn:
            conn.execute("BEGIN")  # one snapshot, however many appends happen meanwhile

            def locate(entry_hash: str) -> int | None:
                found = conn.execute(locate_entry("?"), (entry_hash,)).fetchone()
                return int(found[0]) if found else None

            rows = (as_row(r) for r in conn.execute(f"{SELECT} ORDER BY seq"))
            return verify_rows(rows, locate)

    def close(self) -> None:
        """Nothing stays open between operations."""

    def _check_tables(self, conn: sqlite3.Connection) -> bool:
        """True when our tables are there, False for an empty database; else LedgerInvalid."""
        names = {
            r[0]
            for r in conn.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            )
        }
        ours = {ENTRIES_TABLE, META_TABLE}
        if not names:
            return False
        if names != ours:
            shown = ", ".join(sorted(names - ours) or sorted(ours - names))
            raise LedgerInvalid(
                f"{self.path} is a SQLite database but not a compliance ledger "
                f"(tables: {', '.join(sorted(names))}; unexpected or missing: {shown})",
                hint=_SQLITE_HINT,
            )
        check_version(self.location, conn.execute(SELECT_VERSION).fetchone())
        return True

    @contextlib.contextmanager
    def _connect(self, *, readonly: bool) -> Iterator[sqlite3.Connection]:
        try:
            if readonly:
                target = self.path.resolve().as_uri() + "?mode=ro"
                conn = sqlite3.connect(
                    target, uri=True, timeout=BUSY_TIMEOUT_S, isolation_level=None
                )
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                conn = sqlite3.connect(self.path, timeout=BUSY_TIMEOUT_S, isolation_level=None)
        except (sqlite3.Error, OSError) as exc:
            raise LedgerUnavailable(f"cannot open ledger {self.path}: {exc}") from None
        try:
            yield conn
        except sqlite3.Error as exc:
            raise self._error(exc) from None
        finally:
            conn.close()

    def _error(self, exc: sqlite3.Error) -> ComplianceError:
        text = str(exc)
        if isinstance(exc, sqlite3.OperationalError) and re.search(
            r"locked|busy|readonly|unable to open|disk|full|permission", text
        ):
            hint = (
                f"another process held the ledger's write lock for over {BUSY_TIMEOUT_S:.0f} s"
                if "locked" in text or "busy" in text
                else "check the file's permissions and free space; SQLite ledgers need a local "
                "file system (not NFS): use PostgreSQL to share one between machines"
            )
            return LedgerUnavailable(f"ledger {self.path}: {text}", hint=hint)
        return LedgerInvalid(
            f"ledger {self.path} is not a usable ledger: {text}", hint=_SQLITE_HINT
        )


def _enable_wal(conn: sqlite3.Connection) -> None:
    """WAL mode (readers never block the writer), set once per file. Switching a new file
    to WAL fails at once with "locked" when another process is doing the same, without
    waiting on the busy timeout: retry until the timeout."""
    deadline = time.monotonic() + BUSY_TIMEOUT_S
    while conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        try:
            conn.execute("PRAGMA journal_mode=WAL")
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.01)
        else:
            return
