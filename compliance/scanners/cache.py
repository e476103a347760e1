"""The result cache: scanner outputs kept on disk, keyed by what they are a function of.

A key hashes the scanned content, the tool's version, the rule set and the options
(`cache_key`); an entry is opaque bytes. Entries are rows of one SQLite database,
`<directory>/v1.sqlite3` (`cache_db`): a scan's thousands of entries are one transaction,
not thousands of files. The cache lives in the scanned repository (`.compliance/cache` by
default) and so is treated as hostile input:

- entries are bytes, never pickles, and nothing in the file is executed: a row holds the
  zlib-compressed payload, its length and a sha256 binding the payload to its namespace and
  key. A row that does not verify (tampered, truncated, moved under another key, larger
  than `max_bytes`) is a miss and is deleted, never an exception;
- a database that is not ours (not SQLite, corrupt, a foreign schema, a trigger or a view)
  is deleted and a fresh one started; a symlink, FIFO or hard link where the folder, the
  database or its -wal/-shm/-journal files should be disables the cache (every `get` a
  miss, every `put` a no-op), as does a database that cannot be replaced;
- several processes and threads may use it at once (WAL, a busy timeout). A failed write
  (locked past the timeout, read-only or full disk) is counted, never raised: the cache
  must not fail a scan. A failed read is a miss;
- the size is bounded: past `max_bytes` (payloads, plus `ROW_OVERHEAD` a row for keys and
  indexes), the least recently used rows (by generation: a counter taken once per
  instance, which its writes and hits carry) are evicted down to 90 %. `prune` is also
  run by `put` when this instance's estimate of the total goes past the bound.

Safe to delete at any time: a missing database is a miss, and `put` recreates it.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import stat
import threading
import weakref
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from compliance.scanners.cache_db import (
    CACHEDIR_TAG,
    FORMAT,
    GITIGNORE,
    ROW_OVERHEAD,
    Database,
    NewEntry,
    Stored,
    StoreFailure,
)

__all__ = ["CACHEDIR_TAG", "GITIGNORE", "CacheStats", "ResultCache", "cache_key", "file_digest"]

_NAMESPACE = re.compile(r"[a-z0-9-]{1,64}")
_KEY = re.compile(r"[0-9a-f]{64}")
_PRUNE_TO = 0.9
_CHUNK = 1024 * 1024


def cache_key(*parts: str | bytes) -> str:
    """The sha256 (hex) of the parts, each length-prefixed, so ("ab", "c") != ("a", "bc").

    A str counts as its UTF-8 bytes (lone surrogates included), so "a" and b"a" agree.
    """
    digest = hashlib.sha256(b"compliance-cache-key\x00")
    for part in parts:
        if isinstance(part, str):
            data = part.encode("utf-8", "surrogatepass")
        elif isinstance(part, bytes):
            data = part
        else:
            raise TypeError(f"cache key parts are str or bytes, not {type(part).__name__}")
        digest.update(len(data).to_bytes(8, "big"))
        digest.update(data)
    return digest.hexdigest()


def file_digest(path: Path) -> str | None:
    """The sha256 (hex) of a regular file's bytes; None if it is unreadable or not a regular
    file (a FIFO or a device in a scanned repository must not hang or flood the scan)."""
    digest = hashlib.sha256()
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as handle:
            if not stat.S_ISREG(os.fstat(handle.fileno()).st_mode):
                return None
            while chunk := handle.read(_CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


@dataclass(slots=True)
class CacheStats:
    """What one `ResultCache` did. Updated under a lock: scanners run in threads."""

    hits: int = 0
    misses: int = 0
    writes: int = 0
    evicted: int = 0
    #: Writes that failed (read-only or full disk, no permission): counted, never raised.
    write_errors: int = 0
    #: Entries that failed verification (corrupt, planted, oversized) and were dropped.
    rejected: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def add(
        self,
        *,
        hits: int = 0,
        misses: int = 0,
        writes: int = 0,
        evicted: int = 0,
        write_errors: int = 0,
        rejected: int = 0,
    ) -> None:
        with self._lock:
            self.hits += hits
            self.misses += misses
            self.writes += writes
            self.evicted += evicted
            self.write_errors += write_errors
            self.rejected += rejected


class ResultCache:
    """Scanner results by namespace (the tool, [a-z0-9-]+) and key (64 lowercase hex).

    Stored in `<directory>/v1.sqlite3`. Thread- and process-safe. Payloads larger than
    `max_bytes` are not stored.
    """

    FORMAT = FORMAT

    def __init__(self, directory: Path, *, max_bytes: int = 256 * 1024 * 1024) -> None:
        if max_bytes <= ROW_OVERHEAD:
            raise ValueError(f"max_bytes must be more than {ROW_OVERHEAD}")
        self.directory = Path(directory)
        self.max_bytes = max_bytes
        self.stats = CacheStats()
        self._db = Database(self.directory)
        # The connection sits in a reference cycle (its statement cache): close it when
        # this instance goes, or at exit, so that its -wal file is folded back.
        weakref.finalize(self, self._db.close)
        self._lock = threading.Lock()
        #: This instance's idea of the total size; None until a prune has measured it.
        self._estimate: int | None = None

    @property
    def enabled(self) -> bool:
        """False once the layout was found hostile (a symlink where our files should be)."""
        return not self._db.disabled

    # --- reading ---------------------------------------------------------------------------

    def get(self, namespace: str, key: str) -> bytes | None:
        """The entry's payload, or None (a miss) if it is absent or does not verify."""
        _check_namespace(namespace)
        _check_key(key)
        return self._read(namespace, [key]).get(key)

    def get_many(self, namespace: str, keys: Iterable[str]) -> dict[str, bytes]:
        """The hits among `keys`, by key."""
        _check_namespace(namespace)
        wanted = list(dict.fromkeys(keys))
        for key in wanted:
            _check_key(key)
        return self._read(namespace, wanted)

    def _read(self, namespace: str, keys: Sequence[str]) -> dict[str, bytes]:
        try:
            rows = self._db.fetch(namespace, keys, self.max_bytes) if keys else []
        except StoreFailure:
            rows = []
        found: dict[str, bytes] = {}
        bad: list[Stored] = []
        for row in rows:
            data = _decode(row, namespace, self.max_bytes)
            if data is None:
                bad.append(row)
            else:
                assert isinstance(row.key, str)  # _decode checked it
                found[row.key] = data
        self.stats.add(hits=len(found), misses=len(keys) - len(found), rejected=len(bad))
        self._db.mark_used(namespace, found)
        if bad:
            with contextlib.suppress(StoreFailure):  # else deleted by the next reader
                self._db.discard(namespace, bad)
        return found

    # --- writing ---------------------------------------------------------------------------

    def put(self, namespace: str, key: str, data: bytes) -> None:
        """Store `data` under the key. Never raises for the file system: a failed write is
        counted in `stats.write_errors`."""
        _check_namespace(namespace)
        _check_key(key)
        self._write(namespace, {key: data})

    def put_many(self, namespace: str, items: Mapping[str, bytes]) -> None:
        """Store every item, in one transaction (all keys are checked first)."""
        _check_namespace(namespace)
        for key in items:
            _check_key(key)
        self._write(namespace, items)

    def _write(self, namespace: str, items: Mapping[str, bytes]) -> None:
        entries = [
            entry
            for key, data in items.items()
            if (entry := _encode(namespace, key, data, self.max_bytes)) is not None
        ]
        if not entries:
            return
        try:
            stored = self._db.store(namespace, entries)
        except StoreFailure:
            self.stats.add(write_errors=len(entries))
            return
        if stored:
            self.stats.add(writes=len(entries))
            self._account(sum(entry.size + ROW_OVERHEAD for entry in entries))

    def _account(self, written: int) -> None:
        """Prune when this instance's estimate of the total passes the bound."""
        with self._lock:
            if self._estimate is not None:
                self._estimate += written
                if self._estimate <= self.max_bytes:
                    return
        self.prune()

    # --- housekeeping ----------------------------------------------------------------------

    def prune(self) -> None:
        """Record this instance's hits, then, when the rows cost more than `max_bytes`
        (payloads and `ROW_OVERHEAD` each), evict least recently used entries (lowest
        generation first, ties by key) down to 90 % of it. A failure (another process
        holding the lock too long) is a write error.
        """
        try:
            evicted, total = self._db.prune(self.max_bytes, int(self.max_bytes * _PRUNE_TO))
        except StoreFailure:
            self.stats.add(write_errors=1)
            return
        with self._lock:
            self._estimate = total
        self.stats.add(evicted=evicted)

    def clear(self) -> None:
        """Delete every entry (the database file). A disabled cache touches nothing."""
        self._db.remove()
        with self._lock:
            self._estimate = None


# --- entries -------------------------------------------------------------------------------


def _digest(namespace: str, key: str, data: bytes) -> bytes:
    """The payload's sha256, bound to its name: a row moved under another key or namespace
    does not verify. (Namespaces and keys hold no NUL.)"""
    digest = hashlib.sha256(f"compliance-cache-entry\0{namespace}\0{key}\0".encode())
    digest.update(data)
    return digest.digest()


def _encode(namespace: str, key: str, data: bytes, limit: int) -> NewEntry | None:
    """The row to store, or None when the payload, or its row, is over the bound."""
    if len(data) > limit:
        return None
    blob = zlib.compress(data)
    if len(blob) + ROW_OVERHEAD > limit:
        return None
    return NewEntry(key, len(data), _digest(namespace, key, data), len(blob), blob)


def _decode(row: Stored, namespace: str, limit: int) -> bytes | None:
    """The payload if `row` is a whole, valid entry of its key, else None."""
    key, length, digest, size, blob = row.key, row.length, row.sha256, row.size, row.payload
    if not (
        isinstance(key, str)
        and isinstance(length, int)
        and isinstance(digest, bytes)
        and isinstance(size, int)
        and isinstance(blob, bytes)  # None: over the bound, not even loaded
        and 0 <= length <= limit
        and size == len(blob)
    ):
        return None
    inflater = zlib.decompressobj()
    try:
        # At most one byte more than announced: a zip bomb stops there.
        data = inflater.decompress(blob, length + 1)
    except zlib.error:
        return None
    if (
        len(data) != length
        or not inflater.eof
        or inflater.unconsumed_tail
        or inflater.unused_data
        or _digest(namespace, key, data) != digest
    ):
        return None
    return data


def _check_namespace(namespace: str) -> None:
    if not isinstance(namespace, str) or not _NAMESPACE.fullmatch(namespace):
        raise ValueError(f"invalid cache namespace {namespace!r} (want [a-z0-9-]+, 64 at most)")


def _check_key(key: str) -> None:
    if not isinstance(key, str) or not _KEY.fullmatch(key):
        raise ValueError(f"invalid cache key {key!r} (want 64 lowercase hex digits)")
