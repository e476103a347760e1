"""The result cache's store: one SQLite file in tmp_path, hostile files, concurrent writers.

No sleeps and no wall clock: recency is the generation each instance takes, and lock
contention is a transaction held open by the test with a busy timeout of zero.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import multiprocessing
import os
import sqlite3
import stat
import threading
import zlib
from collections.abc import Callable, Iterator
from multiprocessing.synchronize import Barrier
from pathlib import Path
from typing import Any

import pytest

from compliance.scanners import cache_db
from compliance.scanners.cache import CACHEDIR_TAG, ResultCache, cache_key, file_digest
from compliance.scanners.cache_db import ROW_OVERHEAD

NS = "bandit"
SIDE_SUFFIXES = ("-wal", "-shm", "-journal")


def key(*parts: str) -> str:
    return cache_key("test", *parts)


def payload(seed: str, size: int = 1000) -> bytes:
    """Deterministic, incompressible bytes: entries of a known size once stored."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


def db_path(directory: Path) -> Path:
    return directory / "v1.sqlite3"


@contextlib.contextmanager
def raw(directory: Path) -> Iterator[sqlite3.Connection]:
    """A connection of our own to the cache's database, to look at it or tamper with it."""
    conn = sqlite3.connect(db_path(directory), isolation_level=None)
    try:
        yield conn
    finally:
        conn.close()


def stored(directory: Path, namespace: str = NS) -> dict[str, int]:
    """Every row of a namespace and the size of its stored payload."""
    with raw(directory) as conn:
        return dict(conn.execute("SELECT key, size FROM entry WHERE namespace = ?", (namespace,)))


def cost(directory: Path) -> int:
    """What the bound counts: the stored payloads, and ROW_OVERHEAD a row."""
    with raw(directory) as conn:
        value: int = conn.execute(
            "SELECT coalesce(sum(size), 0) + ? * count(*) FROM entry", (ROW_OVERHEAD,)
        ).fetchone()[0]
        return value


def used(directory: Path, k: str) -> int:
    with raw(directory) as conn:
        value: int = conn.execute("SELECT used FROM entry WHERE key = ?", (k,)).fetchone()[0]
        return value


def objects(directory: Path) -> set[tuple[str, str]]:
    with raw(directory) as conn:
        return set(conn.execute("SELECT type, name FROM sqlite_master"))


@pytest.fixture
def directory(tmp_path: Path) -> Path:
    return tmp_path / "repo" / ".compliance" / "cache"


@pytest.fixture
def cache(directory: Path) -> ResultCache:
    return ResultCache(directory)


@pytest.fixture
def statements(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every SQL statement the caches opened from now on execute."""
    seen: list[str] = []
    original = cache_db._open

    def traced(path: Path) -> sqlite3.Connection:
        conn = original(path)
        conn.set_trace_callback(seen.append)
        return conn

    monkeypatch.setattr(cache_db, "_open", traced)
    return seen


# --- keys -----------------------------------------------------------------------------------


def test_cache_key_is_unambiguous() -> None:
    assert cache_key("ab", "c") != cache_key("a", "bc")
    assert cache_key("a", "") != cache_key("a")
    assert cache_key() != cache_key("")
    assert cache_key("a\x00", "b") != cache_key("a", "\x00b")
    assert cache_key("a", "b") == cache_key(b"a", b"b")
    assert cache_key("\udc80") != cache_key(b"\x80")


def test_cache_key_is_sha256_hex() -> None:
    value = cache_key("bandit", "1.7.9", b"\x00\xff")
    assert len(value) == 64
    assert value == value.lower()
    int(value, 16)
    assert value == cache_key("bandit", "1.7.9", b"\x00\xff")


def test_cache_key_refuses_other_types() -> None:
    with pytest.raises(TypeError):
        cache_key("a", 5)  # type: ignore[arg-type]


def test_file_digest(tmp_path: Path) -> None:
    path = tmp_path / "f.py"
    path.write_bytes(b"print(1)\n")
    assert file_digest(path) == hashlib.sha256(b"print(1)\n").hexdigest()
    assert file_digest(tmp_path / "missing") is None
    assert file_digest(tmp_path) is None


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_file_digest_of_a_fifo_is_none_without_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    assert file_digest(fifo) is None


# --- round trip ------------------------------------------------------------------------------


def test_round_trip(cache: ResultCache, directory: Path) -> None:
    k = key("a")
    assert cache.get(NS, k) is None
    cache.put(NS, k, b'{"results": []}')
    assert cache.get(NS, k) == b'{"results": []}'
    assert db_path(directory).is_file()
    assert set(stored(directory)) == {k}
    assert (cache.stats.hits, cache.stats.misses, cache.stats.writes) == (1, 1, 1)
    assert (cache.stats.write_errors, cache.stats.rejected, cache.stats.evicted) == (0, 0, 0)
    assert cache.enabled


def test_round_trip_of_empty_and_binary_payloads(cache: ResultCache) -> None:
    cache.put(NS, key("empty"), b"")
    cache.put(NS, key("binary"), bytes(range(256)) * 10)
    assert cache.get(NS, key("empty")) == b""
    assert cache.get(NS, key("binary")) == bytes(range(256)) * 10


def test_entries_are_compressed(cache: ResultCache, directory: Path) -> None:
    cache.put(NS, key("a"), b"x" * 100_000)
    assert stored(directory)[key("a")] < 1000


def test_put_overwrites(cache: ResultCache, directory: Path) -> None:
    cache.put(NS, key("a"), b"old")
    cache.put(NS, key("a"), b"new")
    assert cache.get(NS, key("a")) == b"new"
    assert len(stored(directory)) == 1


def test_get_many_and_put_many(cache: ResultCache) -> None:
    cache.put_many(NS, {key("a"): b"A", key("b"): b"B"})
    found = cache.get_many(NS, iter([key("a"), key("b"), key("c"), key("a")]))
    assert found == {key("a"): b"A", key("b"): b"B"}
    assert (cache.stats.hits, cache.stats.misses, cache.stats.writes) == (2, 1, 2)


def test_put_many_is_one_transaction_and_get_many_a_few_queries(
    directory: Path, statements: list[str]
) -> None:
    items = {key(str(index)): f"value {index}".encode() for index in range(1200)}
    cache = ResultCache(directory)
    cache.put_many(NS, items)
    inserts = [i for i, s in enumerate(statements) if s.startswith("INSERT OR REPLACE")]
    assert len(inserts) == len(items)
    begins = [i for i, s in enumerate(statements) if s == "BEGIN IMMEDIATE" and i < inserts[0]]
    commits = [i for i, s in enumerate(statements) if s == "COMMIT" and i > inserts[-1]]
    assert not [s for s in statements[begins[-1] : commits[0]] if s in ("COMMIT", "BEGIN")]
    statements.clear()
    found = cache.get_many(NS, [*items, key("missing")])
    assert found == items
    assert len([s for s in statements if s.startswith("SELECT rowid")]) == 3  # 500 keys a query
    assert not [s for s in statements if s.startswith(("INSERT", "UPDATE", "DELETE"))]


def test_payload_over_the_bound_is_not_stored(directory: Path) -> None:
    cache = ResultCache(directory, max_bytes=1000)
    cache.put(NS, key("a"), payload("a", 2000))
    cache.put(NS, key("b"), b"small")
    assert cache.get(NS, key("a")) is None
    assert cache.get(NS, key("b")) == b"small"
    assert (cache.stats.writes, cache.stats.write_errors) == (1, 0)


def test_a_cache_deleted_meanwhile_is_a_miss_and_is_recreated(
    cache: ResultCache, directory: Path
) -> None:
    cache.put(NS, key("a"), b"A")
    for path in sorted(directory.rglob("*"), reverse=True):
        path.rmdir() if path.is_dir() else path.unlink()
    directory.rmdir()
    assert cache.get(NS, key("a")) is None
    cache.put(NS, key("a"), b"A")
    assert cache.get(NS, key("a")) == b"A"
    assert (directory / "CACHEDIR.TAG").is_file()
    assert cache.stats.write_errors == 0


def test_a_clear_by_another_instance_is_seen(cache: ResultCache, directory: Path) -> None:
    cache.put(NS, key("a"), b"A")
    ResultCache(directory).clear()
    assert cache.get(NS, key("a")) is None
    cache.put(NS, key("b"), b"B")
    assert ResultCache(directory).get(NS, key("b")) == b"B"
    assert cache.stats.write_errors == 0


# --- validation ------------------------------------------------------------------------------

BAD_KEYS = [
    "",
    "a" * 63,
    "a" * 65,
    "A" * 64,
    "g" * 64,
    "../" + "a" * 61,
    "a" * 63 + "\n",
    " " + "a" * 63,
    "' OR 1=1 --" + "a" * 53,
]
BAD_NAMESPACES = ["", "Bandit", "a/b", "..", ".", "a_b", "a.b", "x" * 65, "bandit\n", "é", "a'"]


@pytest.mark.parametrize("bad", BAD_KEYS)
def test_invalid_keys_are_refused(cache: ResultCache, bad: str) -> None:
    with pytest.raises(ValueError, match="cache key"):
        cache.get(NS, bad)
    with pytest.raises(ValueError, match="cache key"):
        cache.put(NS, bad, b"x")
    with pytest.raises(ValueError, match="cache key"):
        cache.get_many(NS, [key("a"), bad])
    with pytest.raises(ValueError, match="cache key"):
        cache.put_many(NS, {key("a"): b"x", bad: b"x"})
    assert cache.get(NS, key("a")) is None  # put_many checks every key before writing


@pytest.mark.parametrize("bad", BAD_NAMESPACES)
def test_invalid_namespaces_are_refused(cache: ResultCache, bad: str) -> None:
    with pytest.raises(ValueError, match="namespace"):
        cache.get(bad, key("a"))
    with pytest.raises(ValueError, match="namespace"):
        cache.put(bad, key("a"), b"x")


def test_valid_namespaces(cache: ResultCache) -> None:
    for namespace in ("semgrep", "pip-audit", "output", "v2", "x" * 64):
        cache.put(namespace, key("a"), namespace.encode())
        assert cache.get(namespace, key("a")) == namespace.encode()


def test_max_bytes_must_hold_a_row(directory: Path) -> None:
    with pytest.raises(ValueError, match="max_bytes"):
        ResultCache(directory, max_bytes=ROW_OVERHEAD)


# --- rows: isolation and verification --------------------------------------------------------


def test_namespaces_are_isolated(cache: ResultCache) -> None:
    cache.put("bandit", key("a"), b"from bandit")
    assert cache.get("semgrep", key("a")) is None
    cache.put("semgrep", key("a"), b"from semgrep")
    assert cache.get("bandit", key("a")) == b"from bandit"
    assert cache.get("semgrep", key("a")) == b"from semgrep"


def test_a_row_moved_to_another_namespace_is_a_miss_and_deleted(
    cache: ResultCache, directory: Path
) -> None:
    cache.put("bandit", key("a"), b"from bandit")
    with raw(directory) as conn:
        conn.execute("UPDATE entry SET namespace = 'semgrep'")
    assert cache.get("semgrep", key("a")) is None
    assert stored(directory, "semgrep") == {}
    assert cache.stats.rejected == 1


def test_a_row_copied_under_another_key_is_a_miss(cache: ResultCache, directory: Path) -> None:
    cache.put(NS, key("a"), b"result of a")
    with raw(directory) as conn:
        conn.execute(
            "INSERT INTO entry SELECT namespace, ?, length, sha256, size, used, payload"
            " FROM entry WHERE key = ?",
            (key("b"), key("a")),
        )
    assert cache.get(NS, key("b")) is None
    assert cache.get(NS, key("a")) == b"result of a"
    assert set(stored(directory)) == {key("a")}


Damage = Callable[[dict[str, Any]], dict[str, Any]]


def _flip(blob: bytes, offset: int) -> bytes:
    position = offset % len(blob)
    return blob[:position] + bytes([blob[position] ^ 0x01]) + blob[position + 1 :]


def _bomb(row: dict[str, Any]) -> dict[str, Any]:
    blob = zlib.compress(b"\0" * 10_000_000)
    return {"payload": blob, "size": len(blob)}


DAMAGE: dict[str, Damage] = {
    "flip a payload byte": lambda r: {"payload": _flip(r["payload"], -5)},
    "flip the last byte": lambda r: {"payload": _flip(r["payload"], -1)},
    "flip the sha256": lambda r: {"sha256": _flip(r["sha256"], 3)},
    "short sha256": lambda r: {"sha256": r["sha256"][:16]},
    "sha256 of the payload alone": lambda r: {
        "sha256": hashlib.sha256(payload("a", 3000)).digest()
    },
    "truncate": lambda r: {"payload": r["payload"][:100], "size": 100},
    "empty": lambda r: {"payload": b"", "size": 0},
    "trailing bytes": lambda r: {"payload": r["payload"] + b"\0", "size": r["size"] + 1},
    "size disagrees": lambda r: {"size": r["size"] - 1},
    "longer announced length": lambda r: {"length": r["length"] + 1},
    "shorter announced length": lambda r: {"length": 10},
    "huge announced length": lambda r: {"length": 2**62},
    "negative length": lambda r: {"length": -1},
    "not zlib": lambda r: {"payload": b"\x80\x04\x95 pickle" * 10, "size": 100},
    "pickle": lambda r: {"payload": b"\x80\x04\x95\x0b\x00\x00\x00\x00\x00\x00\x00]\x94K\x01a."},
    "zip bomb": _bomb,
    "payload as text": lambda r: {"payload": r["payload"].hex()},
    "length as text": lambda r: {"length": f"{r['length']} bytes"},
    "sha256 as text": lambda r: {"sha256": r["sha256"].hex()},
    "size as text": lambda r: {"size": "many"},
}


@pytest.mark.parametrize("damage", DAMAGE.values(), ids=DAMAGE.keys())
def test_a_tampered_row_is_a_miss_and_is_deleted(
    cache: ResultCache, directory: Path, damage: Damage
) -> None:
    data = payload("a", 3000)
    cache.put(NS, key("a"), data)
    cache.put(NS, key("b"), b"untouched")
    with raw(directory) as conn:
        conn.row_factory = sqlite3.Row
        row = dict(conn.execute("SELECT * FROM entry WHERE key = ?", (key("a"),)).fetchone())
        changes = damage(row)
        assignments = ", ".join(f"{column} = ?" for column in changes)
        conn.execute(f"UPDATE entry SET {assignments} WHERE key = ?", (*changes.values(), key("a")))
    reader = ResultCache(directory)
    assert reader.get(NS, key("a")) is None
    assert set(stored(directory)) == {key("b")}
    assert (reader.stats.rejected, reader.stats.misses) == (1, 1)
    cache.prune()  # a planted size of another type does not upset the sums
    cache.put(NS, key("a"), data)
    assert cache.get_many(NS, [key("a"), key("b")]) == {key("a"): data, key("b"): b"untouched"}


def test_a_row_larger_than_the_bound_is_a_miss_and_is_deleted(directory: Path) -> None:
    ResultCache(directory).put(NS, key("a"), payload("a", 5000))
    cache = ResultCache(directory, max_bytes=4096)
    assert cache.get(NS, key("a")) is None
    assert stored(directory) == {}


# --- the database file ---------------------------------------------------------------------


def _our_database(directory: Path) -> None:
    """A database holding key a, closed (its -wal folded back) when the writer goes."""
    ResultCache(directory).put(NS, key("a"), b"A")


PLANTS: dict[str, Callable[[Path], None]] = {
    "not a database": lambda d: db_path(d).write_bytes(b"CMPC\x80\x04pickle" * 1000),
    "garbage pages": lambda d: db_path(d).write_bytes(
        db_path(d).read_bytes()[:100] + b"\xa5" * (db_path(d).stat().st_size - 100)
    ),
    "truncated": lambda d: db_path(d).write_bytes(db_path(d).read_bytes()[:1000]),
}
SQL_PLANTS = {
    "a foreign table": "CREATE TABLE spy (x)",
    "a trigger": "CREATE TRIGGER spy AFTER INSERT ON entry BEGIN DELETE FROM meta; END",
    "a view": "CREATE VIEW spy AS SELECT * FROM entry",
    "another index": "CREATE INDEX spy ON entry (payload)",
    "a dropped index": "DROP INDEX entry_lru",
    "a changed table": "ALTER TABLE entry ADD COLUMN spy TEXT",
    "another application id": "PRAGMA application_id = 7",
    "another format": "PRAGMA user_version = 2",
    "statistics": "ANALYZE",
}


def _plant_sql(statement: str) -> Callable[[Path], None]:
    def plant(directory: Path) -> None:
        with raw(directory) as conn:
            conn.execute(statement)

    return plant


@pytest.mark.parametrize(
    "plant",
    [*PLANTS.values(), *(_plant_sql(s) for s in SQL_PLANTS.values())],
    ids=[*PLANTS, *SQL_PLANTS],
)
def test_a_database_that_is_not_ours_is_replaced_by_a_fresh_one(
    directory: Path, plant: Callable[[Path], None]
) -> None:
    _our_database(directory)
    plant(directory)
    reader = ResultCache(directory)
    assert reader.get(NS, key("a")) is None
    assert not db_path(directory).exists(), "a read deletes it"
    writer = ResultCache(directory)
    writer.put(NS, key("b"), b"B")
    assert writer.get(NS, key("b")) == b"B"
    assert "spy" not in {name for _, name in objects(directory)}
    assert (reader.stats.write_errors, writer.stats.write_errors) == (0, 0)
    assert reader.enabled
    assert writer.enabled


@pytest.mark.parametrize("plant", [*PLANTS.values()], ids=[*PLANTS])
def test_a_put_on_a_damaged_database_starts_a_fresh_one(
    directory: Path, plant: Callable[[Path], None]
) -> None:
    _our_database(directory)
    plant(directory)
    cache = ResultCache(directory)
    cache.put(NS, key("b"), b"B")
    assert cache.get_many(NS, [key("a"), key("b")]) == {key("b"): b"B"}
    assert cache.stats.write_errors == 0


def test_a_trigger_never_runs(directory: Path) -> None:
    _our_database(directory)
    with raw(directory) as conn:
        conn.execute("CREATE TABLE spy (x)")
        conn.execute("CREATE TRIGGER t AFTER INSERT ON entry BEGIN INSERT INTO spy VALUES (1); END")
    ResultCache(directory).put(NS, key("b"), b"B")
    assert "spy" not in {name for _, name in objects(directory)}


def test_a_broken_generation_counter_starts_a_fresh_database(directory: Path) -> None:
    _our_database(directory)
    with raw(directory) as conn:
        conn.execute("UPDATE meta SET value = 'many'")
    cache = ResultCache(directory)
    cache.put(NS, key("b"), b"B")
    assert cache.get(NS, key("b")) == b"B"
    assert cache.stats.write_errors == 0
    with raw(directory) as conn:
        assert conn.execute("SELECT value FROM meta").fetchone() == (1,)


def test_an_empty_database_file_is_no_cache_yet(directory: Path) -> None:
    directory.mkdir(parents=True)
    db_path(directory).write_bytes(b"")
    assert ResultCache(directory).get(NS, key("a")) is None
    assert db_path(directory).exists()
    cache = ResultCache(directory)
    cache.put(NS, key("a"), b"A")
    assert cache.get(NS, key("a")) == b"A"


def test_the_database_is_in_wal_mode_with_incremental_vacuum(
    cache: ResultCache, directory: Path
) -> None:
    cache.put(NS, key("a"), b"A")
    with raw(directory) as conn:
        assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
        assert conn.execute("PRAGMA auto_vacuum").fetchone() == (2,)
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_database_files_are_private(cache: ResultCache, directory: Path) -> None:
    cache.put(NS, key("a"), b"A")
    files = [db_path(directory), *(directory / f"v1.sqlite3{s}" for s in SIDE_SUFFIXES)]
    modes = [stat.S_IMODE(p.stat().st_mode) for p in files if p.exists()]
    assert len(modes) >= 2  # the database and its -wal at least, while open
    assert all(mode & 0o077 == 0 for mode in modes)


# --- hostile layout ----------------------------------------------------------------------------


def _assert_disabled(cache: ResultCache) -> None:
    cache.put(NS, key("b"), b"value")
    cache.put_many(NS, {key("c"): b"value"})
    assert cache.get(NS, key("b")) is None
    assert cache.get_many(NS, [key("a"), key("c")]) == {}
    cache.prune()
    cache.clear()
    assert not cache.enabled
    assert (cache.stats.writes, cache.stats.write_errors) == (0, 0)


def test_a_symlinked_cache_folder_disables_the_cache(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    link = tmp_path / "cache"
    link.symlink_to(elsewhere, target_is_directory=True)
    _assert_disabled(ResultCache(link))
    assert list(elsewhere.iterdir()) == []


def test_a_cache_folder_that_is_a_file_disables_the_cache(directory: Path) -> None:
    directory.parent.mkdir(parents=True)
    directory.write_bytes(b"not a folder")
    _assert_disabled(ResultCache(directory))
    assert directory.read_bytes() == b"not a folder"


def test_a_symlinked_database_disables_the_cache(directory: Path, tmp_path: Path) -> None:
    """Even to a valid cache database: the link is never followed, its target untouched."""
    elsewhere = tmp_path / "elsewhere"
    ResultCache(elsewhere).put(NS, key("a"), b"A")
    target = db_path(elsewhere)
    before = target.read_bytes()
    directory.mkdir(parents=True)
    db_path(directory).symlink_to(target)
    _assert_disabled(ResultCache(directory))
    assert target.read_bytes() == before
    assert db_path(directory).is_symlink()


@pytest.mark.parametrize("suffix", SIDE_SUFFIXES)
def test_a_symlinked_side_file_disables_the_cache(
    directory: Path, tmp_path: Path, suffix: str
) -> None:
    _our_database(directory)
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (directory / f"v1.sqlite3{suffix}").symlink_to(victim)
    _assert_disabled(ResultCache(directory))
    assert victim.read_bytes() == b"precious"


def test_a_symlink_planted_while_in_use_disables_the_cache(
    cache: ResultCache, directory: Path, tmp_path: Path
) -> None:
    cache.put(NS, key("a"), b"A")
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (directory / "v1.sqlite3-journal").symlink_to(victim)
    assert cache.get(NS, key("a")) is None
    assert not cache.enabled
    assert victim.read_bytes() == b"precious"


def test_a_hard_linked_database_disables_the_cache(directory: Path, tmp_path: Path) -> None:
    _our_database(directory)
    os.link(db_path(directory), tmp_path / "other-name")
    _assert_disabled(ResultCache(directory))


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs here")
def test_a_fifo_database_disables_the_cache_without_blocking(directory: Path) -> None:
    directory.mkdir(parents=True)
    os.mkfifo(db_path(directory))
    _assert_disabled(ResultCache(directory))


def test_a_folder_database_disables_the_cache(directory: Path) -> None:
    db_path(directory).mkdir(parents=True)
    _assert_disabled(ResultCache(directory))


def test_other_symlinks_in_the_folder_survive_prune_and_clear(
    directory: Path, tmp_path: Path
) -> None:
    cache = ResultCache(directory, max_bytes=4000)
    cache.put(NS, key("a"), payload("a"))
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "file").write_bytes(payload("victim", 10_000))
    (directory / "link").symlink_to(victim, target_is_directory=True)
    for index in range(10):
        cache.put(NS, key(str(index)), payload(str(index)))
    cache.prune()
    cache.clear()
    assert (victim / "file").read_bytes() == payload("victim", 10_000)
    assert cache.enabled


# --- write failures ----------------------------------------------------------------------------


@pytest.fixture
def no_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock held by another connection fails at once instead of after 10 s."""
    monkeypatch.setattr(cache_db, "BUSY_TIMEOUT_S", 0.0)


@pytest.mark.usefixtures("no_waiting")
def test_a_locked_database_never_fails_a_put(cache: ResultCache, directory: Path) -> None:
    cache.put(NS, key("a"), b"A")
    with raw(directory) as other:
        other.execute("BEGIN IMMEDIATE")
        cache.put(NS, key("a"), b"A")
        cache.put_many(NS, {key("b"): b"B", key("c"): b"C"})
        cache.prune()
        assert cache.stats.write_errors == 4
        assert cache.get(NS, key("a")) == b"A", "readers are not blocked by a writer"
        other.execute("ROLLBACK")
    cache.put_many(NS, {key("b"): b"B", key("c"): b"C"})
    assert cache.get_many(NS, [key("b"), key("c")]) == {key("b"): b"B", key("c"): b"C"}
    assert cache.stats.write_errors == 4


@pytest.mark.usefixtures("no_waiting")
def test_a_locked_database_writes_nothing_of_a_put_many(
    cache: ResultCache, directory: Path
) -> None:
    cache.put(NS, key("a"), b"A")
    with raw(directory) as other:
        other.execute("BEGIN IMMEDIATE")
        cache.put_many(NS, {key(str(index)): b"x" for index in range(100)})
        other.execute("COMMIT")
    assert set(stored(directory)) == {key("a")}
    assert cache.stats.write_errors == 100


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("disk I/O error"),
        sqlite3.OperationalError("database or disk is full"),
        sqlite3.OperationalError("attempt to write a readonly database"),
        OSError(errno.EROFS, os.strerror(errno.EROFS)),
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
        OSError(errno.EACCES, os.strerror(errno.EACCES)),
    ],
    ids=repr,
)
def test_a_failing_file_system_never_fails_a_put(
    directory: Path, monkeypatch: pytest.MonkeyPatch, error: Exception
) -> None:
    ResultCache(directory).put(NS, key("a"), b"A")

    def refuse(path: Path) -> sqlite3.Connection:
        raise error

    monkeypatch.setattr(cache_db, "_open", refuse)
    cache = ResultCache(directory)
    cache.put(NS, key("a"), b"A")
    cache.put_many(NS, {key("b"): b"B", key("c"): b"C"})
    assert cache.get(NS, key("a")) is None
    assert cache.stats.write_errors == 3
    assert cache.enabled
    monkeypatch.undo()
    assert cache.get(NS, key("a")) == b"A"
    assert db_path(directory).exists()


def test_an_uncreatable_folder_never_fails_a_put(
    directory: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(self: Path, *args: object, **kwargs: object) -> None:
        raise OSError(errno.EROFS, os.strerror(errno.EROFS))

    monkeypatch.setattr(Path, "mkdir", refuse)
    cache = ResultCache(directory)
    cache.put(NS, key("a"), b"A")
    assert cache.stats.write_errors == 1
    assert cache.get(NS, key("a")) is None
    monkeypatch.undo()
    cache.put(NS, key("a"), b"A")
    assert cache.get(NS, key("a")) == b"A"


@pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() == 0, reason="root ignores permissions"
)
def test_a_read_only_cache_never_fails_a_put(directory: Path) -> None:
    ResultCache(directory).put(NS, key("a"), b"A")  # closed when the instance goes
    db_path(directory).chmod(0o400)
    directory.chmod(0o500)
    try:
        cache = ResultCache(directory)
        cache.put(NS, key("b"), b"B")
        assert cache.stats.write_errors == 1
        assert cache.get(NS, key("a")) in (None, b"A")
        cache.prune()
        cache.clear()
    finally:
        directory.chmod(0o700)
        db_path(directory).chmod(0o600)


# --- layout files ------------------------------------------------------------------------------


def test_first_use_writes_cachedir_tag_and_gitignore(cache: ResultCache, directory: Path) -> None:
    assert not directory.exists()
    cache.get(NS, key("a"))
    cache.prune()
    assert not directory.exists(), "reading creates nothing"
    cache.put(NS, key("a"), b"A")
    tag = (directory / "CACHEDIR.TAG").read_bytes()
    assert tag == CACHEDIR_TAG
    assert tag.startswith(b"Signature: 8a477f597d28d172789f06886806bc55")
    lines = (directory / ".gitignore").read_text(encoding="utf-8").splitlines()
    assert "*" in lines


def test_planted_tag_symlinks_are_replaced_not_written_through(
    directory: Path, tmp_path: Path
) -> None:
    directory.mkdir(parents=True)
    victim = tmp_path / "victim"
    victim.write_bytes(b"precious")
    (directory / "CACHEDIR.TAG").symlink_to(victim)
    (directory / ".gitignore").symlink_to(victim)
    ResultCache(directory).put(NS, key("a"), b"A")
    assert victim.read_bytes() == b"precious"
    assert (directory / "CACHEDIR.TAG").read_bytes() == CACHEDIR_TAG
    assert not (directory / ".gitignore").is_symlink()


def test_existing_tags_are_kept(directory: Path) -> None:
    directory.mkdir(parents=True)
    (directory / ".gitignore").write_text("*\n!keep\n", encoding="utf-8")
    ResultCache(directory).put(NS, key("a"), b"A")
    assert (directory / ".gitignore").read_text(encoding="utf-8") == "*\n!keep\n"


# --- eviction ----------------------------------------------------------------------------------


def _fill(directory: Path, first: int, count: int) -> list[str]:
    """`count` entries of 1000 incompressible bytes, written by one instance (one
    generation, newer than every earlier instance's)."""
    writer = ResultCache(directory)
    keys = [key(str(index)) for index in range(first, first + count)]
    writer.put_many(NS, {k: payload(k) for k in keys})
    return keys


def test_each_instance_takes_one_generation(directory: Path) -> None:
    old = _fill(directory, 0, 3)
    new = _fill(directory, 3, 3)
    assert {used(directory, k) for k in old} == {1}
    assert {used(directory, k) for k in new} == {2}


def test_prune_evicts_lowest_generations_first_then_by_key(directory: Path) -> None:
    old = _fill(directory, 0, 5)
    new = _fill(directory, 5, 5)
    size = stored(directory)[old[0]] + ROW_OVERHEAD
    assert {s + ROW_OVERHEAD for s in stored(directory).values()} == {size}
    cache = ResultCache(directory, max_bytes=6 * size)
    assert cache.get(NS, old[0]) == payload(old[0])  # a hit: now the most recently used
    cache.prune()
    # 90 % of 6 entries leaves room for 5: the 4 other old ones go, then the lowest new key.
    assert set(stored(directory)) == {old[0], *sorted(new)[1:]}
    assert cost(directory) <= 0.9 * cache.max_bytes
    assert cache.stats.evicted == 5


def test_hits_are_recorded_at_most_once_per_instance(
    directory: Path, statements: list[str]
) -> None:
    old = _fill(directory, 0, 2)
    _fill(directory, 2, 1)
    reader = ResultCache(directory)
    statements.clear()
    assert reader.get(NS, old[0]) == payload(old[0])
    assert reader.get_many(NS, old) == {k: payload(k) for k in old}
    assert used(directory, old[0]) == 1, "hits are written in batches"
    reader.prune()
    assert [used(directory, k) for k in old] == [3, 3]
    reader.get_many(NS, old)
    reader.prune()
    updates = [s for s in statements if s.startswith("UPDATE entry")]
    assert len(updates) == 2  # one per row, in the first prune only


def test_hits_are_recorded_with_the_next_write(directory: Path) -> None:
    old = _fill(directory, 0, 1)
    _fill(directory, 1, 1)
    cache = ResultCache(directory)
    cache.get(NS, old[0])
    cache.put(NS, key("new"), b"new")
    assert used(directory, old[0]) == used(directory, key("new")) == 3


def test_prune_within_the_bound_evicts_nothing(directory: Path) -> None:
    keys = _fill(directory, 0, 5)
    cache = ResultCache(directory)
    cache.prune()
    assert set(stored(directory)) == set(keys)
    assert cache.stats.evicted == 0


def test_puts_keep_the_cache_within_its_bound(directory: Path) -> None:
    cache = ResultCache(directory, max_bytes=20_000)
    for index in range(100):
        cache.put(NS, key(str(index)), payload(str(index)))
    assert cost(directory) <= 20_000
    assert cache.stats.evicted > 0
    assert cache.stats.writes == 100
    cache.prune()
    assert cost(directory) <= 20_000


def test_planted_sizes_do_not_stop_eviction(directory: Path) -> None:
    keys = _fill(directory, 0, 3)
    with raw(directory) as conn:
        for index, size in enumerate((2**62, 2**62)):  # more than an integer can add up
            conn.execute(
                "INSERT INTO entry VALUES (?, ?, 1, x'00', ?, 0, x'00')",
                (NS, key("planted", str(index)), size),
            )
    cache = ResultCache(directory)
    cache.prune()
    assert set(stored(directory)) == set(keys)
    assert (cache.stats.evicted, cache.stats.write_errors) == (2, 0)


def test_prune_gives_free_pages_back_when_the_bound_is_lowered(directory: Path) -> None:
    _fill(directory, 0, 300)
    with raw(directory) as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        before = conn.execute("PRAGMA page_count").fetchone()[0]
    ResultCache(directory, max_bytes=30_000).prune()
    with raw(directory) as conn:
        after = conn.execute("PRAGMA page_count").fetchone()[0]
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert after < before / 5
    assert cost(directory) <= 27_000


def test_prune_of_a_missing_cache_does_nothing(cache: ResultCache, directory: Path) -> None:
    cache.prune()
    assert not directory.exists()
    assert cache.stats.write_errors == 0


def test_clear(cache: ResultCache, directory: Path) -> None:
    cache.put(NS, key("a"), b"A")
    cache.put("semgrep", key("b"), b"B")
    cache.clear()
    assert [p.name for p in directory.iterdir() if p.name.startswith("v1")] == []
    assert (directory / "CACHEDIR.TAG").is_file()
    assert cache.get(NS, key("a")) is None
    cache.clear()  # twice is fine
    cache.put(NS, key("a"), b"A")
    assert cache.get(NS, key("a")) == b"A"


# --- concurrency -------------------------------------------------------------------------------

KEYS = 60
WRITES = 50
PROCESSES = 8


def _value(index: int) -> bytes:
    return payload(f"value {index}", 500 + 97 * index)


def _hammer(directory: str, worker: int, barrier: Barrier) -> None:
    """One writer process: WRITES puts on keys overlapping the other writers', each read
    back at once. Exits non-zero on a wrong read or a failed write."""
    cache = ResultCache(Path(directory))
    barrier.wait(60)
    for step in range(WRITES):
        index = (worker * 7 + step) % KEYS
        k = key(str(index))
        cache.put("proc", k, _value(index))
        if cache.get("proc", k) != _value(index):
            raise SystemExit(3)
    if cache.stats.write_errors or cache.stats.rejected or not cache.enabled:
        raise SystemExit(4)


@pytest.mark.integration
def test_concurrent_processes_write_the_same_keys(directory: Path) -> None:
    """Eight processes create the database at once, then write overlapping keys."""
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(PROCESSES)
    workers = [
        context.Process(target=_hammer, args=(str(directory), worker, barrier))
        for worker in range(PROCESSES)
    ]
    for process in workers:
        process.start()
    for process in workers:
        process.join(120)
    assert [process.exitcode for process in workers] == [0] * PROCESSES
    reader = ResultCache(directory)
    written = {(worker * 7 + step) % KEYS for worker in range(PROCESSES) for step in range(WRITES)}
    found = reader.get_many("proc", [key(str(index)) for index in written])
    assert found == {key(str(index)): _value(index) for index in written}
    with raw(directory) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
        assert conn.execute("SELECT value FROM meta").fetchone() == (PROCESSES,)


def _run_threads(target: Callable[[int], None], count: int) -> list[BaseException]:
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def run(worker: int) -> None:
        try:
            barrier.wait()
            target(worker)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(worker,)) for worker in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_concurrent_threads_share_one_cache(directory: Path) -> None:
    cache = ResultCache(directory)

    def work(worker: int) -> None:
        for step in range(WRITES):
            index = (worker * 7 + step) % KEYS
            cache.put("threads", key(str(index)), _value(index))
            assert cache.get("threads", key(str(index))) == _value(index)

    assert _run_threads(work, 8) == []
    assert cache.stats.writes == 8 * WRITES
    assert cache.stats.hits == 8 * WRITES
    assert (cache.stats.write_errors, cache.stats.rejected) == (0, 0)
    for index in range(KEYS):
        assert cache.get("threads", key(str(index))) == _value(index)


def test_concurrent_threads_with_eviction_read_nothing_wrong(directory: Path) -> None:
    """A small cache: instances prune under each other's feet; a read is right or a miss."""
    bound = 30_000
    caches = [ResultCache(directory, max_bytes=bound) for _ in range(4)]

    def work(worker: int) -> None:
        cache = caches[worker % len(caches)]
        for step in range(WRITES):
            index = (worker * 7 + step) % KEYS
            cache.put("small", key(str(index)), _value(index))
            assert cache.get("small", key(str(index))) in (None, _value(index))
            assert cache.get("small", key(str((index + 1) % KEYS))) in (
                None,
                _value((index + 1) % KEYS),
            )

    assert _run_threads(work, 8) == []
    assert sum(c.stats.write_errors + c.stats.rejected for c in caches) == 0
    caches[0].prune()
    assert cost(directory) <= bound
