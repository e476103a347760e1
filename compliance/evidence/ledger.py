"""The run ledger: one hash-chained entry per scan, in SQLite or PostgreSQL.

An entry records when a run happened, on which repository, commit and branch, the status of
every control, the open findings that failed each control, the waivers in force, the
verdict and the digest of the run's evidence bundle. Each entry carries the hash of the one
before it, and its own hash is a SHA-256 over a canonical JSON of all its fields (the
previous hash included), so `verify` finds an entry that was edited, removed or moved.

Appends are serialised across processes (SQLite: `BEGIN IMMEDIATE` in WAL mode with a busy
timeout; PostgreSQL: a transaction holding an advisory lock), and the tables refuse a fork
outright: `seq` is the primary key and `prev_hash` is unique.

The chain cannot show that the newest entries were cut off, or that someone rewrote every
hash from some entry on: compare `Verification.head` with a head recorded elsewhere (the
audit-period export prints it) to catch those.
"""

from __future__ import annotations

import contextlib
import enum
import hashlib
import json
import re
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, Any, Protocol
from urllib.parse import urlsplit, urlunsplit

from pydantic import BaseModel, ConfigDict, TypeAdapter

from compliance.errors import ComplianceError, EnvironmentFailure, ExitCode, UsageError
from compliance.model import (
    ControlStatus,
    Fingerprint,
    ScanResult,
    Severity,
    WaiverState,
)

if TYPE_CHECKING:
    from types import ModuleType

    import psycopg

#: Where the CLI keeps the ledger when neither --ledger nor COMPLIANCE_LEDGER says.
DEFAULT_LEDGER = ".compliance/ledger.sqlite"
#: The prev_hash of the first entry.
GENESIS = "0" * 64
#: Version of the tables (in the meta table) and of the hashed document (its "format").
SCHEMA_VERSION = "1"
ENTRY_FORMAT = 1
#: How long an append waits for another writer (or a connection for the server).
BUSY_TIMEOUT_S = 60.0
CONNECT_TIMEOUT_S = 10
#: Problems `verify` lists in full; it still counts the rest.
PROBLEM_LIMIT = 100

ENTRIES_TABLE = "compliance_ledger"
META_TABLE = "compliance_ledger_meta"
_SQLITE_HEADER = b"SQLite format 3\x00"
_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*)://")
_DIGEST = re.compile(r"(?:sha256:)?([0-9a-f]{64})")
#: The entries table: (column, SQLite type, PostgreSQL type). Times are UTC ISO 8601 text
#: and the JSON columns canonical JSON text, so both backends store the bytes that were hashed.
_TABLE = (
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
_COLUMNS = tuple(name for name, _, _ in _TABLE)
_SELECT = f"SELECT {', '.join(_COLUMNS)} FROM {ENTRIES_TABLE}"  # noqa: S608 - constants


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


# --- what an entry holds --------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ControlRecord:
    """One control in one run: its status and the open findings that failed it."""

    framework: str
    id: str
    status: ControlStatus
    failing: tuple[Fingerprint, ...] = ()


@dataclass(frozen=True, slots=True)
class FindingRecord:
    """Enough of a failing finding for an auditor to know what it was."""

    fingerprint: Fingerprint
    tool: str
    rule_id: str
    severity: Severity
    path: str
    title: str
    service: str


@dataclass(frozen=True, slots=True)
class WaiverRecord:
    """A waiver in force during the run (active, or stale: in force but matching nothing)."""

    id: str
    state: WaiverState
    owner: str
    approver: str
    expires: date
    ticket: str | None
    findings: int


@dataclass(frozen=True, slots=True)
class RunRecord:
    """What is recorded of one run; `record_from_result` builds it from a ScanResult."""

    repo: str
    started_at: datetime
    finished_at: datetime
    commit: str | None
    branch: str | None
    dirty: bool | None
    ci_run_url: str | None
    passed: bool
    controls: tuple[ControlRecord, ...]
    findings: tuple[FindingRecord, ...] = ()
    waivers: tuple[WaiverRecord, ...] = ()
    bundle_digest: str | None = None


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    seq: int
    recorded_at: datetime
    run: RunRecord
    prev_hash: str
    entry_hash: str


class ChainFault(enum.Enum):
    MISSING = "missing"  # a gap in the sequence: an entry was deleted
    REORDERED = "reordered"  # follows the hash of an entry other than its predecessor
    BROKEN_LINK = "broken-link"  # follows a hash no entry has: predecessor changed or removed
    MODIFIED = "modified"  # its content no longer matches its hash
    UNREADABLE = "unreadable"  # a field holds something we never write


@dataclass(frozen=True, slots=True)
class ChainProblem:
    seq: int
    fault: ChainFault
    message: str


@dataclass(frozen=True, slots=True)
class Verification:
    """The chain as `verify` found it: `head` is the last entry's hash (None when empty)."""

    entries: int
    head: str | None
    problems: tuple[ChainProblem, ...] = ()
    problem_count: int = 0

    @property
    def ok(self) -> bool:
        return self.problem_count == 0


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


# --- from a result --------------------------------------------------------------------------


def record_from_result(
    result: ScanResult, *, repo: str | None = None, bundle_digest: str | None = None
) -> RunRecord:
    """What the ledger keeps of `result`. `repo` defaults to the last part of its root."""
    controls = tuple(
        ControlRecord(c.framework, c.id, c.status, tuple(sorted(set(c.findings))))
        for c in sorted(result.controls, key=lambda c: (c.framework, c.id))
    )
    failing = {fp for c in controls for fp in c.failing}
    findings = tuple(
        FindingRecord(
            f.fingerprint, f.tool, f.rule_id, f.severity, f.location.path, f.title, f.service
        )
        for f in sorted(result.findings, key=lambda f: f.fingerprint)
        if f.fingerprint in failing
    )
    waivers = tuple(
        WaiverRecord(w.id, w.state, w.owner, w.approver, w.expires, w.ticket, len(w.findings))
        for w in sorted(result.waivers, key=lambda w: w.id)
        if w.state is not WaiverState.EXPIRED
    )
    ci = result.context.ci
    return RunRecord(
        repo=repo if repo is not None else repo_name(result.root),
        started_at=result.started_at,
        finished_at=result.finished_at,
        commit=result.commit,
        branch=result.context.branch,
        dirty=result.context.dirty,
        ci_run_url=ci.run_url if ci is not None else None,
        passed=result.verdict.passed,
        controls=controls,
        findings=_unique_findings(findings),
        waivers=waivers,
        bundle_digest=parse_digest(bundle_digest) if bundle_digest is not None else None,
    )


def _unique_findings(findings: tuple[FindingRecord, ...]) -> tuple[FindingRecord, ...]:
    seen: dict[Fingerprint, FindingRecord] = {}
    for finding in findings:
        seen.setdefault(finding.fingerprint, finding)
    return tuple(seen.values())


def repo_name(root: str) -> str:
    """The repository's name from a result's root: its last path component."""
    name = PurePosixPath(root.replace("\\", "/")).name
    return name or root or "(unnamed)"


def parse_digest(text: str) -> str:
    """A bundle digest: 64 lowercase hex digits, optionally prefixed `sha256:`."""
    match = _DIGEST.fullmatch(text.strip())
    if match is None:
        raise UsageError(
            f"bundle digest {text!r} is not a SHA-256",
            hint="expected 64 lowercase hex digits (optionally prefixed sha256:)",
        )
    return match.group(1)


# --- rows, canonical JSON and hashes --------------------------------------------------------


def canonical_json(value: object) -> str:
    """Sorted keys, no spaces, ASCII only: one text per value, on every machine."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True)


def _iso(moment: datetime) -> str:
    """UTC, microseconds, `+00:00`: sorts as text in the order of time."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc).isoformat(timespec="microseconds")


def _text(value: str) -> str:
    # Neither SQLite's UTF-8 nor PostgreSQL's text take lone surrogates or NUL.
    return value.encode("utf-8", "replace").decode("utf-8").replace("\x00", "\ufffd")


def _opt_text(value: str | None) -> str | None:
    return _text(value) if value is not None else None


def entry_row(seq: int, recorded_at: datetime, run: RunRecord, prev_hash: str) -> dict[str, Any]:
    """The stored columns of an entry, `entry_hash` included."""
    controls: dict[str, dict[str, str]] = {}
    failing: dict[str, dict[str, list[str]]] = {}
    for control in run.controls:
        controls.setdefault(control.framework, {})[control.id] = control.status.value
        if control.failing:
            failing.setdefault(control.framework, {})[control.id] = sorted(control.failing)
    findings = {
        f.fingerprint: {
            "tool": f.tool,
            "rule": f.rule_id,
            "severity": f.severity.value,
            "path": f.path,
            "title": f.title,
            "service": f.service,
        }
        for f in run.findings
    }
    waivers = [
        {
            "id": w.id,
            "state": w.state.value,
            "owner": w.owner,
            "approver": w.approver,
            "expires": w.expires.isoformat(),
            "ticket": w.ticket,
            "findings": w.findings,
        }
        for w in sorted(run.waivers, key=lambda w: w.id)
    ]
    row: dict[str, Any] = {
        "seq": seq,
        "repo": _text(run.repo),
        "recorded_at": _iso(recorded_at),
        "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at),
        "commit_sha": _opt_text(run.commit),
        "branch": _opt_text(run.branch),
        "dirty": run.dirty,
        "ci_run_url": _opt_text(run.ci_run_url),
        "passed": run.passed,
        "controls": canonical_json(controls),
        "failing": canonical_json(failing),
        "findings": canonical_json(findings),
        "waivers": canonical_json(waivers),
        "bundle_digest": run.bundle_digest,
        "prev_hash": prev_hash,
    }
    row["entry_hash"] = row_hash(row)
    return row


def row_hash(row: Mapping[str, Any]) -> str:
    """SHA-256 over the canonical JSON of the entry (everything but entry_hash)."""
    document = {
        "format": ENTRY_FORMAT,
        "seq": _strict(row["seq"], int),
        "repo": _strict(row["repo"], str),
        "recorded_at": _strict(row["recorded_at"], str),
        "started_at": _strict(row["started_at"], str),
        "finished_at": _strict(row["finished_at"], str),
        "commit": _optional(row["commit_sha"], str),
        "branch": _optional(row["branch"], str),
        "dirty": _flag(row["dirty"]) if row["dirty"] is not None else None,
        "ci_run_url": _optional(row["ci_run_url"], str),
        "passed": _flag(row["passed"]),
        "controls": json.loads(_strict(row["controls"], str)),
        "failing": json.loads(_strict(row["failing"], str)),
        "findings": json.loads(_strict(row["findings"], str)),
        "waivers": json.loads(_strict(row["waivers"], str)),
        "bundle_digest": _optional(row["bundle_digest"], str),
        "prev_hash": _strict(row["prev_hash"], str),
    }
    return hashlib.sha256(canonical_json(document).encode("ascii")).hexdigest()


def _strict(value: Any, kind: type[Any]) -> Any:
    if type(value) is not kind:
        raise ValueError(f"expected {kind.__name__}, found {type(value).__name__}")
    return value


def _optional(value: Any, kind: type[Any]) -> Any:
    return None if value is None else _strict(value, kind)


def _flag(value: Any) -> bool:
    """A boolean column: PostgreSQL gives bool, SQLite 0 or 1; anything else is tampering."""
    if isinstance(value, bool):
        return value
    if type(value) is int and value in (0, 1):
        return bool(value)
    raise ValueError(f"expected a boolean, found {value!r}")


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, strict=True)


class _FindingJson(_Strict):
    tool: str
    rule: str
    severity: str
    path: str
    title: str
    service: str


class _WaiverJson(_Strict):
    id: str
    state: str
    owner: str
    approver: str
    expires: str
    ticket: str | None
    findings: int


_CONTROLS = TypeAdapter(dict[str, dict[str, str]])
_FAILING = TypeAdapter(dict[str, dict[str, list[str]]])
_FINDINGS = TypeAdapter(dict[str, _FindingJson])
_WAIVERS = TypeAdapter(list[_WaiverJson])


def entry_from_row(row: Mapping[str, Any]) -> LedgerEntry:
    """An entry from its stored columns; ValueError when a field is not what we write."""
    statuses = _CONTROLS.validate_json(_strict(row["controls"], str))
    failing = _FAILING.validate_json(_strict(row["failing"], str))
    controls = tuple(
        ControlRecord(
            framework,
            control_id,
            ControlStatus(status),
            tuple(Fingerprint(f) for f in failing.get(framework, {}).get(control_id, [])),
        )
        for framework, by_id in sorted(statuses.items())
        for control_id, status in sorted(by_id.items())
    )
    findings = tuple(
        FindingRecord(
            Fingerprint(fp), f.tool, f.rule, Severity(f.severity), f.path, f.title, f.service
        )
        for fp, f in sorted(_FINDINGS.validate_json(_strict(row["findings"], str)).items())
    )
    waivers = tuple(
        WaiverRecord(
            w.id,
            WaiverState(w.state),
            w.owner,
            w.approver,
            date.fromisoformat(w.expires),
            w.ticket,
            w.findings,
        )
        for w in _WAIVERS.validate_json(_strict(row["waivers"], str))
    )
    run = RunRecord(
        repo=_strict(row["repo"], str),
        started_at=datetime.fromisoformat(_strict(row["started_at"], str)),
        finished_at=datetime.fromisoformat(_strict(row["finished_at"], str)),
        commit=_optional(row["commit_sha"], str),
        branch=_optional(row["branch"], str),
        dirty=_flag(row["dirty"]) if row["dirty"] is not None else None,
        ci_run_url=_optional(row["ci_run_url"], str),
        passed=_flag(row["passed"]),
        controls=controls,
        findings=findings,
        waivers=waivers,
        bundle_digest=_optional(row["bundle_digest"], str),
    )
    return LedgerEntry(
        seq=_strict(row["seq"], int),
        recorded_at=datetime.fromisoformat(_strict(row["recorded_at"], str)),
        run=run,
        prev_hash=_strict(row["prev_hash"], str),
        entry_hash=_strict(row["entry_hash"], str),
    )


def verify_rows(
    rows: Iterable[Mapping[str, Any]], locate: Callable[[str], int | None]
) -> Verification:
    """Walk the chain in sequence order. `locate(hash)` is the seq of the entry with that hash.

    Per entry: a gap before it (deleted entries); else its prev_hash against its
    predecessor's hash (pointing at another entry: reordered; at none: the predecessor was
    changed or removed); then its own hash against its content (edited).
    """
    problems: list[ChainProblem] = []
    count = total = 0
    expected, previous = 1, GENESIS
    head: str | None = None

    def report(seq: int, fault: ChainFault, message: str) -> None:
        nonlocal total
        total += 1
        if len(problems) < PROBLEM_LIMIT:
            problems.append(ChainProblem(seq, fault, message))

    for row in rows:
        count += 1
        seq, stored = row["seq"], row["entry_hash"]
        check_content = True
        if seq != expected:
            missing = (
                f"entry {expected}" if seq == expected + 1 else f"entries {expected}-{seq - 1}"
            )
            verb = "is" if seq == expected + 1 else "are"
            report(seq, ChainFault.MISSING, f"{missing} {verb} missing before entry {seq}")
        elif row["prev_hash"] != previous:
            where = locate(row["prev_hash"]) if isinstance(row["prev_hash"], str) else None
            if where is not None and where != seq:
                check_content = False  # its seq was changed, so its hash cannot match
                report(
                    seq,
                    ChainFault.REORDERED,
                    f"entry {seq} was recorded after entry {where}, not after entry {seq - 1}: "
                    "entries were reordered",
                )
            else:
                report(
                    seq,
                    ChainFault.BROKEN_LINK,
                    f"entry {seq} does not follow entry {seq - 1}: entry {seq - 1} was changed, "
                    "or an entry between them was removed",
                )
        if check_content:
            try:
                computed = row_hash(row)
            except (ValueError, TypeError) as exc:
                report(
                    seq, ChainFault.UNREADABLE, f"entry {seq} holds a value never written: {exc}"
                )
            else:
                if computed != stored:
                    report(
                        seq,
                        ChainFault.MODIFIED,
                        f"entry {seq} was modified after it was recorded (its content does not "
                        "match its hash)",
                    )
        expected, previous = (seq + 1 if isinstance(seq, int) else expected), stored
        head = stored if isinstance(stored, str) else None
    return Verification(count, head, tuple(problems), total)


def open_ledger(location: str, *, create: bool) -> Ledger:
    """The ledger at `location`: a `postgresql://` URL, or a SQLite file's path.

    `create`: a writer may create the file and the tables on its first append; a reader
    (verify, export) gets a UsageError when there is no ledger there. Checked now, so a scan
    with a ledger that is not one, or a server that cannot be reached, fails before it runs.
    """
    match = _SCHEME.match(location)
    scheme = match.group(1).lower() if match else ""
    if scheme in ("postgresql", "postgres"):
        return PostgresLedger(location, create=create)
    if scheme:
        raise LedgerInvalid(
            f"ledger {display_location(location)}: unsupported scheme {scheme}://",
            hint="use a file path (SQLite) or a postgresql:// URL",
        )
    return SqliteLedger(Path(location), create=create)


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


# --- SQLite ---------------------------------------------------------------------------------

_SQLITE_DDL = (
    f"CREATE TABLE {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"CREATE TABLE {ENTRIES_TABLE} ("
    + ", ".join(f"{column[0]} {column[1]}" for column in _TABLE)
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
                head = conn.execute(
                    f"SELECT seq, entry_hash FROM {ENTRIES_TABLE} ORDER BY seq DESC LIMIT 1"  # noqa: S608
                ).fetchone()
                seq, prev = (head[0] + 1, head[1]) if head else (1, GENESIS)
                row = entry_row(seq, recorded_at, run, prev)
                conn.execute(
                    f"INSERT INTO {ENTRIES_TABLE} ({', '.join(_COLUMNS)}) "  # noqa: S608
                    f"VALUES ({', '.join('?' * len(_COLUMNS))})",
                    tuple(row[c] for c in _COLUMNS),
                )
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
        where, params = _period_filter(since, until, repo, "?")
        with self._connect(readonly=True) as conn:
            cursor = conn.execute(f"{_SELECT}{where} ORDER BY started_at, seq", params)
            return tuple(_parse(self.location, dict(zip(_COLUMNS, r, strict=True))) for r in cursor)

    def verify(self) -> Verification:
        with self._connect(readonly=True) as conn:
            conn.execute("BEGIN")  # one snapshot, however many appends happen meanwhile

            def locate(entry_hash: str) -> int | None:
                found = conn.execute(
                    f"SELECT seq FROM {ENTRIES_TABLE} WHERE entry_hash = ?",  # noqa: S608
                    (entry_hash,),
                ).fetchone()
                return int(found[0]) if found else None

            rows = (
                dict(zip(_COLUMNS, r, strict=True)) for r in conn.execute(f"{_SELECT} ORDER BY seq")
            )
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
        version = conn.execute(
            f"SELECT value FROM {META_TABLE} WHERE key = 'schema'"  # noqa: S608
        ).fetchone()
        if version is None or version[0] != SCHEMA_VERSION:
            found = version[0] if version else "none"
            raise LedgerInvalid(
                f"ledger {self.path} has schema version {found}; this compliance reads "
                f"version {SCHEMA_VERSION}",
                hint="use the version of compliance that wrote it",
            )
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


def _period_filter(
    since: datetime | None, until: datetime | None, repo: str | None, mark: str
) -> tuple[str, tuple[str, ...]]:
    clauses, params = [], []
    if since is not None:
        clauses.append(f"started_at >= {mark}")
        params.append(_iso(since))
    if until is not None:
        clauses.append(f"started_at < {mark}")
        params.append(_iso(until))
    if repo is not None:
        clauses.append(f"repo = {mark}")
        params.append(repo)
    return (" WHERE " + " AND ".join(clauses) if clauses else ""), tuple(params)


def _parse(location: str, row: Mapping[str, Any]) -> LedgerEntry:
    try:
        return entry_from_row(row)
    except (ValueError, TypeError):
        raise LedgerInvalid(
            f"ledger {location}: entry {row['seq']} cannot be read",
            hint="run `compliance evidence ledger verify`: the ledger was changed outside "
            "compliance",
        ) from None


# --- PostgreSQL -----------------------------------------------------------------------------

_PG_DDL = (
    f"CREATE TABLE IF NOT EXISTS {META_TABLE} (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    f"CREATE TABLE IF NOT EXISTS {ENTRIES_TABLE} ("
    + ", ".join(f"{column[0]} {column[2]}" for column in _TABLE)
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
            head = conn.execute(
                f"SELECT seq, entry_hash FROM {ENTRIES_TABLE} ORDER BY seq DESC LIMIT 1"  # noqa: S608
            ).fetchone()
            seq, prev = (int(head[0]) + 1, str(head[1])) if head else (1, GENESIS)
            row = entry_row(seq, recorded_at, run, prev)
            conn.execute(
                f"INSERT INTO {ENTRIES_TABLE} ({', '.join(_COLUMNS)}) "  # noqa: S608
                f"VALUES ({', '.join(['%s'] * len(_COLUMNS))})",
                tuple(row[c] for c in _COLUMNS),
            )
        return entry_from_row(row)

    def entries(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        repo: str | None = None,
    ) -> tuple[LedgerEntry, ...]:
        where, params = _period_filter(since, until, repo, "%s")
        with self._transaction() as conn:
            cursor = conn.execute(
                f"{_SELECT}{where} ORDER BY started_at, seq",
                params,
            )
            return tuple(_parse(self.location, dict(zip(_COLUMNS, r, strict=True))) for r in cursor)

    def verify(self) -> Verification:
        with self._transaction() as conn:
            # One snapshot, however many appends happen meanwhile.
            conn.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")

            def locate(entry_hash: str) -> int | None:
                found = conn.execute(
                    f"SELECT seq FROM {ENTRIES_TABLE} WHERE entry_hash = %s",  # noqa: S608
                    (entry_hash,),
                ).fetchone()
                return int(found[0]) if found else None

            with conn.cursor(name="compliance_ledger_verify") as cursor:
                cursor.itersize = 2000
                cursor.execute(f"{_SELECT} ORDER BY seq")
                return verify_rows((dict(zip(_COLUMNS, r, strict=True)) for r in cursor), locate)

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
        version = conn.execute(
            f"SELECT value FROM {META_TABLE} WHERE key = 'schema'"  # noqa: S608
        ).fetchone()
        if version is None or version[0] != SCHEMA_VERSION:
            shown = version[0] if version else "none"
            raise LedgerInvalid(
                f"ledger {self.location} has schema version {shown}; this compliance reads "
                f"version {SCHEMA_VERSION}",
                hint="use the version of compliance that wrote it",
            )
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
