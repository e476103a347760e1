"""A ledger in two tables of a PostgreSQL database, shared by many repositories and runners.

Appends are serialised by a transaction holding an advisory lock; the tables refuse a fork
outright (`seq` is the primary key and `prev_hash` is unique). psycopg is an optional extra,
imported when a PostgreSQL ledger is first used.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import datetime
from typing import TYPE_CHECKING, Any

from compliance.errors import ComplianceError, UsageError
from compliance.evidence.ledger.chain import Verification, verify_rows
from compliance.evidence.ledger.interface import (
    LedgerInvalid,
    LedgerUnavailable,
    display_location,
)
from compliance.evidence.ledger.records import LedgerEntry, RunRecord
from compliance.evidence.ledger.rows import entry_from_row
from compliance.evidence.ledger.tables import (
    BUSY_TIMEOUT_S,
    CONNECT_TIMEOUT_S,
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

if TYPE_CHECKING:
    from types import ModuleType

    import psycopg


_PG_DDL = (
    f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {ENTRIES_TABLE} ("
    + ", ".join(f"{column[0]} {column[2]}" for column in TABLE)
    + ")",
    f"CREATE INDEX IF NOT EXISTS {ENTRIES_TABLE}_started ON {ENTRIES_TABLE} (started_at, seq)",
)
#: One appender at a time per schema, held until the transaction ends.
_PG_LOCK = "SELECT pg_advisory_xact_lock(hashtext('compliance-ledger:' || current_schema()))"
_PG_URL_HINT = "expected postgresql://USER:PASSWORD@HOST:PORT/DATABASE"


def _psycopg() -> ModuleType:
    try:
        import psycopg  # noqa: PLC0415 - an optional extra
    except ImportError:
        raise LedgerUnavailable(
            "a PostgreSQL ledger needs psycopg, which is not installed",
            hint="pip install 'compliance[postgres]'",
        ) from None
    return psycopg


class PostgresLedger:
    """A ledger in two tables of a PostgreSQL database (the URL's search_path schema), for
    many repositories and CI runners. Connects at once, so a server that cannot be reached
    is reported before any work; then one connection from the first operation to close().
    Every operation is one transaction."""

    def __init__(self, url: str, *, create: bool) -> None:
        self._url = url
        self.location = display_location(url)
        self._conn: psycopg.Connection[tuple[Any, ...]] | None = None
        with self._transaction() as conn:
            present = self._check_tables(conn)
        # Not kept open while a scan runs for minutes: the next operation connects again.
        self.close()
        if not present and not create:
            raise UsageError(
                f"no ledger at {self.location}: its tables do not exist",
                hint="record a run first (`compliance evidence ledger record`), or check the "
                "database and search_path in the URL",
            )

    def append(self, run: RunRecord, recorded_at: datetime) -> LedgerEntry:
        with self._transaction() as conn:
            conn.execute(f"SET LOCAL lock_timeout = '{int(BUSY_TIMEOUT_S)}s'")
            conn.execute(_PG_LOCK)
            if not self._check_tables(conn):
                for statement in _PG_DDL:
                    conn.execute(statement)
                conn.execute(
                    f"INSERT INTO {META_TABLE} VALUES ('schema', %s) "  # noqa: S608
                    "ON CONFLICT (key) DO NOTHING",
                    (SCHEMA_VERSION,),
                )
            row = next_row(conn.execute(SELECT_HEAD).fetchone(), run, recorded_at)
            conn.execute(insert_entry("%s"), entry_values(row))
        return entry_from_row(row)

    def entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        repo: str | None = None,
    ) -> tuple[LedgerEntry, ...]:
        query, params = select_period(since, until, repo, "%s")
        with self._transaction() as conn:
            return parse_entries(self.location, conn.execute(query, params))

    def verify(self) -> Verification:
        with self._transaction() as conn:
            # One snapshot, however many appends happen meanwhile.
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")

            def locate(entry_hash: str) -> int | None:
                found = conn.execute(locate_entry("%s"), (entry_hash,)).fetchone()
                return int(found[0]) if found else None

            with conn.cursor(name="compliance_ledger_verify") as cursor:
                cursor.itersize = 2000
                cursor.execute(f"{SELECT} ORDER BY seq")
                return verify_rows((as_row(r) for r in cursor), locate)

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def _check_tables(self, conn: psycopg.Connection[tuple[Any, ...]]) -> bool:
        # pg_class through the statement's snapshot: to_regclass() reads the catalogue
        # caches, which can show one table of a concurrent creator's commit and not the other.
        names = {
            row[0]
            for row in conn.execute(
                "SELECT c.relname FROM pg_catalog.pg_class c "
                "JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
                "WHERE n.nspname = current_schema() AND c.relname IN (%s, %s)",
                (ENTRIES_TABLE, META_TABLE),
            )
        }
        entries, meta = ENTRIES_TABLE in names, META_TABLE in names
        if not entries and not meta:
            return False
        if not (entries and meta):
            there, absent = (ENTRIES_TABLE, META_TABLE) if entries else (META_TABLE, ENTRIES_TABLE)
            raise LedgerInvalid(
                f"{self.location} holds a table {there} but no {absent}: not a compliance ledger",
                hint="point the URL at another database or schema (options=-csearch_path=...)",
            )
        check_version(self.location, conn.execute(SELECT_VERSION).fetchone())
        return True

    def _connection(self) -> psycopg.Connection[tuple[Any, ...]]:
        if self._conn is not None and not self._conn.closed:
            return self._conn
        pg = _psycopg()
        try:
            conn: psycopg.Connection[tuple[Any, ...]] = pg.connect(
                self._url,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
                application_name="compliance",
            )
        except pg.OperationalError as exc:
            raise LedgerUnavailable(
                f"cannot connect to ledger {self.location}: {self._message(exc)}",
                hint="check that the server is running and reachable, and the user, password, "
                "host, port and database in the URL",
            ) from None
        except pg.Error as exc:
            raise LedgerInvalid(
                f"invalid ledger URL {self.location}: {self._message(exc)}", hint=_PG_URL_HINT
            ) from None
        self._conn = conn
        return conn

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[psycopg.Connection[tuple[Any, ...]]]:
        conn = self._connection()
        pg = _psycopg()
        try:
            with conn.transaction():
                yield conn
        except pg.Error as exc:
            raise self._error(pg, exc) from None

    def _error(self, pg: ModuleType, exc: Exception) -> ComplianceError:
        message = f"ledger {self.location}: {self._message(exc)}"
        if isinstance(exc, pg.errors.InsufficientPrivilege):
            return LedgerUnavailable(
                message,
                hint="the URL's role needs CREATE on the schema the first time, then "
                "SELECT and INSERT on the ledger's tables",
            )
        if isinstance(exc, pg.OperationalError | pg.IntegrityError | pg.InterfaceError):
            return LedgerUnavailable(message, hint="check the server, then try again")
        return LedgerInvalid(message, hint="the database holds tables that are not a ledger")

    def _message(self, exc: Exception) -> str:
        text = str(exc).replace(self._url, self.location)
        return " ".join(text.split())
