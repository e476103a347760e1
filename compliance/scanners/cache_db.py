"""The result cache's SQLite file, `<directory>/v1.sqlite3`, opened without trusting it.

- `lstat`s before connecting: the folder must be a real folder, the database and its -wal,
  -shm and -journal files absent or regular files with one link; anything else (a planted
  symlink, a FIFO, a hard link) disables the cache. They stop planted files, not a process
  racing us;
- `trusted_schema=OFF`, cell size checks, no memory mapping, SQLite's defensive mode (on
  Python 3.12+), and a schema that must be exactly ours: else the file, like one that is
  not a database or is corrupt, is deleted and a fresh one started;
- WAL when the file system allows it, a busy timeout, one connection per instance behind a
  lock. A failure rolls back, closes the connection and raises `StoreFailure`.

Rows carry a generation: a counter in `meta`, taken once per instance (in its first write
transaction), which its writes and hits stamp. Eviction takes the lowest first.
"""

from __future__ import annotations

import contextlib
import functools
import os
import sqlite3
import stat
import sys
import tempfile
import threading
import urllib.parse
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from pathlib import Path
from typing import Literal, NamedTuple, TypeVar

DB_NAME = "v1.sqlite3"
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")
#: How long a writer waits for another's transaction (module-level: tests set it to 0).
BUSY_TIMEOUT_S = 10.0
APPLICATION_ID = 0x434D5043  # "CMPC"
FORMAT = 1
#: What a row costs beside its payload (keys, digest, the two indexes, page slack): about
#: 310-330 bytes measured with SQLite 3.40. The bound counts it, so that it bounds the file.
ROW_OVERHEAD = 320
#: Keys per `IN (...)` list: under SQLite's lowest limit on bound variables (999).
_CHUNK = 500
#: The -wal file is truncated back to this after a checkpoint.
_JOURNAL_LIMIT = 8 * 1024 * 1024
_CORRUPTION = frozenset({11, 26})  # SQLITE_CORRUPT, SQLITE_NOTADB (primary codes)

#: https://bford.info/cachedir/ - backup tools skip a folder holding this file.
CACHEDIR_TAG = (
    b"Signature: 8a477f597d28d172789f06886806bc55\n"
    b"# This file is a cache directory tag created by compliance.\n"
    b"# For information about cache directory tags, see https://bford.info/cachedir/\n"
)
GITIGNORE = b"# Created by compliance: this folder is a cache, never commit it.\n*\n"

_SCHEMA = (
    "CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY NOT NULL, value INTEGER NOT NULL)"
    " WITHOUT ROWID",
    # Small columns first: reading them never loads the payload's overflow pages.
    "CREATE TABLE IF NOT EXISTS entry (namespace TEXT NOT NULL, key TEXT NOT NULL,"
    " length INTEGER NOT NULL, sha256 BLOB NOT NULL, size INTEGER NOT NULL,"
    " used INTEGER NOT NULL, payload BLOB NOT NULL, PRIMARY KEY (namespace, key))",
    # Covers both the total size and the eviction order.
    "CREATE INDEX IF NOT EXISTS entry_lru ON entry (used, key, namespace, size)",
)

T = TypeVar("T")


class StoreFailure(Exception):
    """The database refused: locked past the timeout, read-only, full, corrupt."""


class Stored(NamedTuple):
    """A row as read. Any field may hold anything a hostile file put there."""

    rowid: object
    key: object
    length: object
    sha256: object
    size: object
    #: None when the stored payload is larger than the limit `fetch` was given.
    payload: object


class NewEntry(NamedTuple):
    key: str
    length: int
    sha256: bytes
    size: int
    payload: bytes


class _Hostile(Exception):
    """A symlink, a FIFO or a hard link where our files should be."""


class _Corrupt(sqlite3.DatabaseError):
    """A database that is not ours (foreign schema, a counter that is not one)."""


class Database:
    """`<directory>/v1.sqlite3`. Every method is thread-safe; none creates anything except
    `store`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.path = directory / DB_NAME
        self.disabled = False
        self._lock = threading.Lock()
        self._conn: sqlite3.Connection | None = None
        self._pid = 0
        #: (st_dev, st_ino) of the file last connected to: a reset deletes only that one.
        self._identity: tuple[int, int] | None = None
        self._generation: int | None = None
        #: Rows hit and not yet stamped with our generation; rows already stamped.
        self._pending: set[tuple[str, str]] = set()
        self._stamped: set[tuple[str, str]] = set()

    # --- operations ------------------------------------------------------------------------

    def fetch(self, namespace: str, keys: Sequence[str], limit: int) -> list[Stored]:
        """The rows of `keys`, a few queries in all; payloads over `limit` are not loaded."""

        def select(conn: sqlite3.Connection) -> list[Stored]:
            rows: list[Stored] = []
            for start in range(0, len(keys), _CHUNK):
                chunk = keys[start : start + _CHUNK]
                query = _select(len(chunk))
                rows += (Stored(*row) for row in conn.execute(query, (limit, namespace, *chunk)))
            return rows

        return self._run(select, [], create=False)

    def mark_used(self, namespace: str, keys: Iterable[str]) -> None:
        """Remember hits: their rows get our generation with the next write (or prune)."""
        with self._lock:
            for key in keys:
                if (namespace, key) not in self._stamped:
                    self._pending.add((namespace, key))

    def discard(self, namespace: str, rows: Collection[Stored]) -> None:
        """Delete rows that failed verification, unless rewritten meanwhile."""

        def delete(conn: sqlite3.Connection) -> None:
            with self._writing(conn):
                conn.executemany(
                    "DELETE FROM entry WHERE rowid = ? AND namespace = ? AND sha256 IS ?",
                    [(row.rowid, namespace, row.sha256) for row in rows],
                )

        self._run(delete, None, create=False)

    def store(self, namespace: str, entries: Collection[NewEntry]) -> bool:
        """Write `entries` in one transaction, creating the database if need be. False when
        the cache is disabled."""

        def insert(conn: sqlite3.Connection) -> bool:
            with self._writing(conn) as generation:
                conn.executemany(
                    "INSERT OR REPLACE INTO entry"
                    " (namespace, used, key, length, sha256, size, payload)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [(namespace, generation, *entry) for entry in entries],
                )
            self._stamped.update((namespace, e.key) for e in entries)
            return True

        return self._run(insert, False, create=True)

    def prune(self, max_bytes: int, target: int) -> tuple[int, int]:
        """When the rows cost more than `max_bytes` (payload and `ROW_OVERHEAD` each), delete
        them, lowest generation first (ties by key), down to `target`. Returns (rows deleted,
        cost left)."""

        def evict(conn: sqlite3.Connection) -> tuple[int, int]:
            doomed: list[tuple[int]] = []
            with self._writing(conn):
                # CAST and total(): planted sizes of another type, or too large to add up
                # as integers, must not make eviction fail for good.
                (total,) = conn.execute(
                    "SELECT total(CAST(size AS INTEGER) + ?) FROM entry", (ROW_OVERHEAD,)
                ).fetchone()
                if total > max_bytes:
                    rows = conn.execute(
                        "SELECT rowid, CAST(size AS INTEGER) + ? FROM entry"
                        " ORDER BY used, key, namespace",
                        (ROW_OVERHEAD,),
                    )
                    for rowid, size in rows:
                        if total <= target:
                            break
                        doomed.append((rowid,))
                        total -= size
                    rows.close()
                    conn.executemany("DELETE FROM entry WHERE rowid = ?", doomed)
            if doomed:
                _vacuum(conn, max_bytes)
            return len(doomed), int(total)

        return self._run(evict, (0, 0), create=False)

    def remove(self) -> None:
        """Delete the database and its side files (a disabled cache touches nothing)."""
        with self._lock:
            self._close()
            try:
                if self.disabled or self._inspect() is None:
                    return
                _unlink_all(self.path)
            except _Hostile:
                self.disabled = True
            except OSError:
                pass
            self._forget()

    def close(self) -> None:
        """Close the connection (the next call opens it again); skipped if in use."""
        if self._lock.acquire(blocking=False):
            try:
                self._close()
            finally:
                self._lock.release()

    # --- connection ------------------------------------------------------------------------

    def _run(self, action: Callable[[sqlite3.Connection], T], default: T, *, create: bool) -> T:
        """`action` on the connection (`default` without a database). A corrupt or foreign
        database is deleted and the action tried once more, on a fresh one if `create`."""
        with self._lock:
            for attempt in range(2):
                if self.disabled:
                    return default
                try:
                    conn = self._connect(create=create)
                    return default if conn is None else action(conn)
                except _Hostile:
                    self._close()
                    self.disabled = True
                    return default
                except (sqlite3.Error, OSError) as exc:
                    fresh = self._recover(exc)
                    if fresh and not attempt:
                        continue
                    if fresh:
                        self.disabled = True  # corrupt again at once: someone plants it
                    raise StoreFailure(f"{type(exc).__name__}: {exc}") from exc
            raise AssertionError("unreachable")

    def _connect(self, *, create: bool) -> sqlite3.Connection | None:
        """The connection; a new one if the file was deleted or replaced meanwhile (a
        concurrent clear or reset) or the process forked. None: no database."""
        info = self._inspect()
        if self._conn is not None:
            same = info is not None and self._identity == (info.st_dev, info.st_ino)
            if same and self._pid == os.getpid():
                return self._conn
            self._close()
        if info is None:
            if not create:
                return None
            self._create_file()
            info = self._inspect()
            if info is None:  # deleted meanwhile (a concurrent clear)
                raise FileNotFoundError(f"{self.path} vanished")
        identity = (info.st_dev, info.st_ino)
        if identity != self._identity:
            self._forget()
            self._identity = identity
        conn = _open(self.path)
        try:
            state = _state(conn)
            if state == "foreign":
                raise _Corrupt("not a result cache database")
            if state == "empty" and not create:
                conn.close()
                return None
            if state == "empty":
                # Before the journal mode: it only takes on a file without pages.
                conn.execute("PRAGMA auto_vacuum = INCREMENTAL")
            _set_journal(conn)
            if state == "empty":
                _initialise(conn)
        except BaseException:
            conn.close()
            raise
        self._conn, self._pid = conn, os.getpid()
        return conn

    def _inspect(self) -> os.stat_result | None:
        """The database file's lstat (None: absent); _Hostile if anything is not ours."""
        try:
            if not stat.S_ISDIR(os.lstat(self.directory).st_mode):
                raise _Hostile(self.directory)
        except FileNotFoundError:
            return None
        found = None
        for path in (self.path, *_side_files(self.path)):
            try:
                info = os.lstat(path)
            except FileNotFoundError:
                continue
            if not stat.S_ISREG(info.st_mode) or info.st_nlink != 1:
                raise _Hostile(path)
            if path == self.path:
                found = info
        return found

    def _create_file(self) -> None:
        """The folder, its tags and an empty database file that only we may read."""
        self.directory.mkdir(parents=True, exist_ok=True)
        if not stat.S_ISDIR(os.lstat(self.directory).st_mode):
            raise _Hostile(self.directory)
        for name, content in (("CACHEDIR.TAG", CACHEDIR_TAG), (".gitignore", GITIGNORE)):
            path = self.directory / name
            # Replacing (not opening) a planted symlink never writes through it.
            if not _is_regular(path):
                _write_atomically(path, content)
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0)
        with contextlib.suppress(FileExistsError):
            os.close(os.open(self.path, flags, 0o600))

    @contextlib.contextmanager
    def _writing(self, conn: sqlite3.Connection) -> Iterator[int]:
        """A write transaction, yielding this instance's generation; the pending hits are
        stamped with it in the same transaction."""
        conn.execute("BEGIN IMMEDIATE")
        try:
            generation = self._generation
            if generation is None:
                generation = _next_generation(conn)
            marks = list(self._pending)
            conn.executemany(
                "UPDATE entry SET used = ? WHERE namespace = ? AND key = ? AND used < ?",
                [(generation, namespace, key, generation) for namespace, key in marks],
            )
            yield generation
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    conn.execute("ROLLBACK")
            raise
        self._generation = generation
        self._pending.difference_update(marks)
        self._stamped.update(marks)

    def _recover(self, exc: BaseException) -> bool:
        """Drop the connection; delete a corrupt database. True if it was deleted."""
        self._close()
        if not _is_corruption(exc):
            return False
        try:
            info = os.lstat(self.path)
            if (info.st_dev, info.st_ino) == self._identity:  # not replaced meanwhile
                _unlink_all(self.path)
        except FileNotFoundError:
            pass
        except OSError:
            self.disabled = True
            return False
        self._forget()
        return True

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None and self._pid == os.getpid():  # never across a fork: let it go
            with contextlib.suppress(sqlite3.Error):
                conn.close()

    def _forget(self) -> None:
        """Another database file: its counter and rows are not the ones we knew."""
        self._identity = None
        self._generation = None
        self._pending.clear()
        self._stamped.clear()


# --- SQL -----------------------------------------------------------------------------------


def _is_corruption(exc: BaseException) -> bool:
    if isinstance(exc, _Corrupt):
        return True
    code = getattr(exc, "sqlite_errorcode", None)  # Python 3.11+
    if isinstance(code, int):
        return (code & 0xFF) in _CORRUPTION
    return type(exc) is sqlite3.DatabaseError  # 3.10: not a subclass (locked, I/O, ...)


def _open(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(
        _uri(path),
        uri=True,
        timeout=BUSY_TIMEOUT_S,
        isolation_level=None,
        check_same_thread=False,  # one connection per instance, behind its lock
    )
    try:
        if sys.version_info >= (3, 12) and hasattr(sqlite3, "SQLITE_DBCONFIG_DEFENSIVE"):
            conn.setconfig(sqlite3.SQLITE_DBCONFIG_DEFENSIVE, True)
        for pragma in ("trusted_schema = OFF", "cell_size_check = ON", "mmap_size = 0"):
            conn.execute(f"PRAGMA {pragma}")
    except BaseException:
        conn.close()
        raise
    return conn


def _uri(path: Path) -> str:
    """A `file:` URI with mode=rw: SQLite never creates the file (we do, privately)."""
    posix = path.absolute().as_posix()
    if not posix.startswith("/"):
        posix = "/" + posix  # Windows: /C:/...
    return f"file:{urllib.parse.quote(posix, safe='/:')}?mode=rw"


@functools.cache
def _expected_schema() -> frozenset[tuple[object, ...]]:
    with contextlib.closing(sqlite3.connect(":memory:")) as conn:
        for statement in _SCHEMA:
            conn.execute(statement)
        return frozenset(conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master"))


@functools.cache
def _select(count: int) -> str:
    """The rows of `count` keys; a payload over the limit (the first parameter) is NULL,
    and never loaded (length() reads the record header only)."""
    marks = ",".join("?" * count)
    return (
        "SELECT rowid, key, length, sha256, size,"  # noqa: S608 - only placeholders are added
        " CASE WHEN length(payload) <= ? THEN payload END"
        f" FROM entry WHERE namespace = ? AND key IN ({marks})"
    )


def _state(conn: sqlite3.Connection) -> Literal["ours", "empty", "foreign"]:
    # One snapshot: read apart, another process's creation could look half done (foreign).
    began = not conn.in_transaction
    if began:
        conn.execute("BEGIN")
    try:
        objects = conn.execute("SELECT type, name, tbl_name, sql FROM sqlite_master").fetchall()
        tag = (
            conn.execute("PRAGMA application_id").fetchone()[0],
            conn.execute("PRAGMA user_version").fetchone()[0],
        )
    finally:
        if began and conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")  # it only read
    if not objects and tag == (0, 0):
        return "empty"
    expected = _expected_schema()
    if (
        len(objects) == len(expected)
        and set(objects) == expected
        and tag == (APPLICATION_ID, FORMAT)
    ):
        return "ours"
    return "foreign"


def _set_journal(conn: sqlite3.Connection) -> None:
    """WAL (readers and writers do not block each other) if this file system allows it."""
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
        with contextlib.suppress(sqlite3.OperationalError):  # busy: another process sets it
            conn.execute("PRAGMA journal_mode = WAL").fetchone()
    if conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal":
        conn.execute("PRAGMA synchronous = NORMAL")  # in WAL: durable enough, never corrupt
    conn.execute(f"PRAGMA journal_size_limit = {_JOURNAL_LIMIT}")


def _initialise(conn: sqlite3.Connection) -> None:
    """Create our schema in an empty database (once, whoever else is trying at once)."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        if _state(conn) == "empty":
            for statement in _SCHEMA:
                conn.execute(statement)
            conn.execute("INSERT INTO meta (name, value) VALUES ('generation', 0)")
            conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
            conn.execute(f"PRAGMA user_version = {FORMAT}")
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise
    if _state(conn) != "ours":
        raise _Corrupt("not a result cache database")


def _next_generation(conn: sqlite3.Connection) -> int:
    """Take the next generation (inside the caller's write transaction)."""
    conn.execute("UPDATE meta SET value = value + 1 WHERE name = 'generation'")
    row = conn.execute("SELECT value FROM meta WHERE name = 'generation'").fetchone()
    if row is None or type(row[0]) is not int or row[0] < 1:
        raise _Corrupt("the generation counter is missing or not a counter")
    generation: int = row[0]
    return generation


def _vacuum(conn: sqlite3.Connection, max_bytes: int) -> None:
    """Give free pages back to the file system when they are many (the bound was lowered):
    they are otherwise reused by the next writes, which is cheaper."""
    with contextlib.suppress(sqlite3.OperationalError):
        free = conn.execute("PRAGMA freelist_count").fetchone()[0]
        page = conn.execute("PRAGMA page_size").fetchone()[0]
        if free * page > max_bytes // 4:
            conn.executescript("PRAGMA incremental_vacuum;")  # execute() frees one page only


# --- files ---------------------------------------------------------------------------------


def _side_files(path: Path) -> tuple[Path, ...]:
    return tuple(path.with_name(path.name + suffix) for suffix in SIDE_SUFFIXES)


def _unlink_all(path: Path) -> None:
    """The database, then its side files (unlinking a name never writes through it)."""
    for name in (path, *_side_files(path)):
        with contextlib.suppress(FileNotFoundError):
            name.unlink()


def _is_regular(path: Path) -> bool:
    try:
        return stat.S_ISREG(os.lstat(path).st_mode)
    except OSError:
        return False


def _write_atomically(path: Path, content: bytes) -> None:
    """Write beside `path`, then rename over it: readers never see half a file."""
    fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
        Path(temporary).replace(path)
    except BaseException:
        with contextlib.suppress(OSError):
            Path(temporary).unlink()
        raise
