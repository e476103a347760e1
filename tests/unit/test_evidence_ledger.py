"""The run ledger on SQLite: entries from results, the hash chain, tampering, bad files."""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from compliance.errors import ExitCode, UsageError
from compliance.evidence.ledger.chain import GENESIS, ChainFault
from compliance.evidence.ledger.interface import (
    LedgerBroken,
    LedgerInvalid,
    LedgerUnavailable,
    display_location,
)
from compliance.evidence.ledger.records import (
    ControlRecord,
    FindingRecord,
    RunRecord,
    WaiverRecord,
    parse_digest,
    record_from_result,
)
from compliance.evidence.ledger.rows import entry_row, row_hash
from compliance.evidence.ledger.sqlite import SqliteLedger
from compliance.evidence.ledger.store import open_ledger
from compliance.model import (
    CiContext,
    ControlResult,
    ControlStatus,
    Finding,
    FindingKind,
    Fingerprint,
    Location,
    RuleId,
    RunContext,
    ServiceName,
    Severity,
    Verdict,
    WaiverState,
    WaiverStatus,
)

from factories import scan_result

T0 = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)
FP_A, FP_B = Fingerprint("a" * 32), Fingerprint("b" * 32)


def run_record(
    repo: str = "api",
    *,
    at: datetime = T0,
    passed: bool = False,
    failing: tuple[Fingerprint, ...] = (FP_A,),
    digest: str | None = None,
) -> RunRecord:
    status = ControlStatus.FAILED if failing else ControlStatus.PASSED
    return RunRecord(
        repo=repo,
        started_at=at,
        finished_at=at + timedelta(minutes=4),
        commit="0123456789abcdef0123456789abcdef01234567",
        branch="main",
        dirty=False,
        ci_run_url="https://ci.example.test/runs/17",
        passed=passed,
        controls=(
            ControlRecord("iso27001", "A.8.28", status, failing),
            ControlRecord("soc2", "CC6.1", ControlStatus.PASSED),
            ControlRecord("soc2", "CC7.1", ControlStatus.NOT_ASSESSED),
        ),
        findings=tuple(
            FindingRecord(fp, "bandit", "B602", Severity.HIGH, "app.py", "shell", "api")
            for fp in failing
        ),
        waivers=(
            WaiverRecord(
                "W-1", WaiverState.ACTIVE, "dana@x.test", "lead@x.test", date(2026, 9, 1), None, 2
            ),
        ),
        bundle_digest=digest,
    )


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / ".compliance" / "ledger.sqlite"


@pytest.fixture
def filled(path: Path) -> Iterator[Path]:
    """A ledger of four entries (seq 1..4)."""
    ledger = open_ledger(str(path), create=True)
    for day in range(4):
        ledger.append(run_record(at=T0 + timedelta(days=day)), T0 + timedelta(days=day, hours=1))
    yield path


def raw(path: Path, *statements: str) -> None:
    """Tamper with the file as an attacker with sqlite3 would."""
    conn = sqlite3.connect(path)
    with conn:
        for statement in statements:
            conn.execute(statement)
    conn.close()


def verify(path: Path) -> tuple[int, list[tuple[int, ChainFault]]]:
    result = open_ledger(str(path), create=False).verify()
    return result.entries, [(p.seq, p.fault) for p in result.problems]


# --- entries from results -------------------------------------------------------------------


def _finding(fp: Fingerprint, path: str) -> Finding:
    return Finding(
        fingerprint=fp,
        service=ServiceName("api"),
        tool="bandit",
        rule_id=RuleId("B602"),
        title="subprocess with shell=True",
        message="m",
        severity=Severity.HIGH,
        kind=FindingKind.CODE,
        location=Location(path, 3, 3),
    )


def _waiver(wid: str, state: WaiverState) -> WaiverStatus:
    return WaiverStatus(
        id=wid,
        state=state,
        scope="s",
        reason="r",
        owner="dana@x.test",
        approver="lead@x.test",
        expires=date(2026, 6, 30),
        source="waivers.yaml",
        ticket="SEC-1",
        findings=(FP_B,),
    )


def test_record_from_result_keeps_statuses_failing_findings_and_waivers_in_force() -> None:
    result = scan_result(
        root="/builds/acme/payments",
        started_at=T0,
        finished_at=T0 + timedelta(minutes=2),
        findings=(_finding(FP_B, "b.py"), _finding(FP_A, "a.py"), _finding(Fingerprint("c"), "c")),
        verdict=Verdict(passed=False, fail_on=Severity.HIGH),
        commit="abc",
        controls=(
            ControlResult("soc2", "CC6.1", "t", "automated", ControlStatus.FAILED, (FP_B, FP_A)),
            ControlResult("iso27001", "A.8.28", "t", "partial", ControlStatus.PASSED),
        ),
        waivers=(
            _waiver("W-2", WaiverState.EXPIRED),
            _waiver("W-1", WaiverState.ACTIVE),
            _waiver("W-3", WaiverState.STALE),
        ),
        context=RunContext("main", True, CiContext("github", run_url="https://ci.test/1")),
    )
    run = record_from_result(result, bundle_digest="sha256:" + "f" * 64)
    assert run.repo == "payments"
    assert (run.branch, run.dirty, run.ci_run_url, run.commit) == (
        "main",
        True,
        "https://ci.test/1",
        "abc",
    )
    assert not run.passed
    assert [(c.framework, c.id, c.status, c.failing) for c in run.controls] == [
        ("iso27001", "A.8.28", ControlStatus.PASSED, ()),
        ("soc2", "CC6.1", ControlStatus.FAILED, (FP_A, FP_B)),
    ]
    # only the findings that fail a control, sorted; the expired waiver is not in force
    assert [(f.fingerprint, f.path) for f in run.findings] == [(FP_A, "a.py"), (FP_B, "b.py")]
    assert [(w.id, w.state, w.findings) for w in run.waivers] == [
        ("W-1", WaiverState.ACTIVE, 1),
        ("W-3", WaiverState.STALE, 1),
    ]
    assert run.bundle_digest == "f" * 64
    assert record_from_result(result, repo="billing").repo == "billing"


def test_digest_must_be_a_sha256() -> None:
    assert parse_digest(" " + "ab" * 32 + "\n") == "ab" * 32
    for bad in ("ab" * 31, "AB" * 32, "md5:" + "ab" * 32, ""):
        with pytest.raises(UsageError):
            parse_digest(bad)


# --- the chain ------------------------------------------------------------------------------


def test_appends_chain_entries_and_read_back_as_written(path: Path) -> None:
    ledger = open_ledger(str(path), create=True)
    first = ledger.append(run_record(digest="c" * 64), T0 + timedelta(hours=1))
    second = ledger.append(run_record("web", at=T0 + timedelta(days=1), failing=()), T0)
    assert (first.seq, first.prev_hash) == (1, GENESIS)
    assert (second.seq, second.prev_hash) == (2, first.entry_hash)
    assert first.entry_hash != second.entry_hash
    assert first.run == run_record(digest="c" * 64)
    assert ledger.entries() == (first, second)
    assert ledger.entries(repo="web") == (second,)
    assert ledger.entries(since=T0 + timedelta(hours=1)) == (second,)
    assert ledger.entries(until=T0 + timedelta(hours=1)) == (first,)
    result = ledger.verify()
    assert (result.ok, result.entries, result.head) == (True, 2, second.entry_hash)
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    conn.close()


def test_the_hash_is_sha256_over_canonical_json_and_stable() -> None:
    """Pinned: an old ledger must verify with every later version of compliance."""
    row = entry_row(1, T0, run_record(), GENESIS)
    assert row["entry_hash"] == row_hash(row)
    assert row["recorded_at"] == "2026-03-02T09:30:00.000000+00:00"
    assert row["controls"] == (
        '{"iso27001":{"A.8.28":"failed"},"soc2":{"CC6.1":"passed","CC7.1":"not-assessed"}}'
    )
    document = (
        '{"branch":"main","bundle_digest":null,"ci_run_url":"https://ci.example.test/runs/17",'
        '"commit":"0123456789abcdef0123456789abcdef01234567",'
        '"controls":{"iso27001":{"A.8.28":"failed"},"soc2":{"CC6.1":"passed",'
        '"CC7.1":"not-assessed"}},"dirty":false,"failing":{"iso27001":{"A.8.28":["' + FP_A + '"]}},'
        '"findings":{"' + FP_A + '":{"path":"app.py","rule":"B602","service":"api",'
        '"severity":"high","title":"shell","tool":"bandit"}},'
        '"finished_at":"2026-03-02T09:34:00.000000+00:00","format":1,"passed":false,'
        '"prev_hash":"' + GENESIS + '","recorded_at":"2026-03-02T09:30:00.000000+00:00",'
        '"repo":"api","seq":1,"started_at":"2026-03-02T09:30:00.000000+00:00",'
        '"waivers":[{"approver":"lead@x.test","expires":"2026-09-01","findings":2,'
        '"id":"W-1","owner":"dana@x.test","state":"active","ticket":null}]}'
    )
    assert row["entry_hash"] == hashlib.sha256(document.encode()).hexdigest()
    assert row["entry_hash"] == "3f23547787e6516383d5a7608accb3086069178d2e2820d7cc3847567d63450f"


def test_times_are_stored_in_utc_and_text_is_made_storable(path: Path) -> None:
    plus_two = timezone(timedelta(hours=2))
    run = run_record("a\x00b\ud800", at=datetime(2026, 3, 2, 11, 30, tzinfo=plus_two))
    entry = open_ledger(str(path), create=True).append(run, datetime(2026, 3, 2, 10, 0))
    assert entry.run.started_at == T0 and entry.run.started_at.tzinfo == timezone.utc
    assert entry.recorded_at == datetime(2026, 3, 2, 10, 0, tzinfo=timezone.utc)
    assert entry.run.repo == "a\ufffdb?"
    assert open_ledger(str(path), create=False).verify().ok


# --- tampering ------------------------------------------------------------------------------


def test_verify_names_an_edited_entry(filled: Path) -> None:
    raw(filled, "UPDATE compliance_ledger SET passed = 1 WHERE seq = 3")
    assert verify(filled) == (4, [(3, ChainFault.MODIFIED)])


def test_verify_names_an_edited_control_status(filled: Path) -> None:
    raw(
        filled,
        "UPDATE compliance_ledger SET controls = replace(controls, 'failed', 'passed') "
        "WHERE seq = 2",
    )
    assert verify(filled) == (4, [(2, ChainFault.MODIFIED)])


def test_verify_names_the_next_entry_when_an_edit_also_rewrote_the_hash(filled: Path) -> None:
    conn = sqlite3.connect(filled)
    conn.row_factory = sqlite3.Row
    row = dict(conn.execute("SELECT * FROM compliance_ledger WHERE seq = 2").fetchone())
    row["branch"] = "release"
    forged = row_hash(row)
    with conn:
        conn.execute(
            "UPDATE compliance_ledger SET branch = 'release', entry_hash = ? WHERE seq = 2",
            (forged,),
        )
    conn.close()
    assert verify(filled) == (4, [(3, ChainFault.BROKEN_LINK)])


def test_verify_names_a_deleted_entry(filled: Path) -> None:
    raw(filled, "DELETE FROM compliance_ledger WHERE seq = 2")
    entries, problems = verify(filled)
    assert (entries, problems) == (3, [(3, ChainFault.MISSING)])
    with pytest.raises(LedgerBroken) as caught:
        raise LedgerBroken("l", open_ledger(str(filled), create=False).verify())
    assert "entry 2 is missing before entry 3" in caught.value.message
    assert caught.value.exit_code == ExitCode.GATE_FAILED


def test_verify_names_a_deleted_first_entry(filled: Path) -> None:
    raw(filled, "DELETE FROM compliance_ledger WHERE seq = 1")
    assert verify(filled) == (3, [(2, ChainFault.MISSING)])


def test_verify_names_a_deleted_entry_even_when_the_rest_were_renumbered(filled: Path) -> None:
    raw(
        filled,
        "DELETE FROM compliance_ledger WHERE seq = 2",
        "UPDATE compliance_ledger SET seq = seq - 1 WHERE seq > 2",
    )
    _, problems = verify(filled)
    assert problems[0] == (2, ChainFault.BROKEN_LINK)


def test_verify_names_swapped_entries(filled: Path) -> None:
    raw(
        filled,
        "UPDATE compliance_ledger SET seq = 1000 WHERE seq = 2",
        "UPDATE compliance_ledger SET seq = 2 WHERE seq = 3",
        "UPDATE compliance_ledger SET seq = 3 WHERE seq = 1000",
    )
    result = open_ledger(str(filled), create=False).verify()
    # 2 and 3 each follow the other's hash; 4 follows the entry now numbered 2
    assert [(p.seq, p.fault) for p in result.problems] == [
        (2, ChainFault.REORDERED),
        (3, ChainFault.REORDERED),
        (4, ChainFault.REORDERED),
    ]
    assert "entry 2 was recorded after entry 3, not after entry 1" in result.problems[0].message


def test_verify_names_a_value_we_never_write(filled: Path) -> None:
    raw(filled, "UPDATE compliance_ledger SET passed = 'yes' WHERE seq = 4")
    assert verify(filled) == (4, [(4, ChainFault.UNREADABLE)])
    raw(filled, "UPDATE compliance_ledger SET passed = 0, controls = '{' WHERE seq = 4")
    assert verify(filled) == (4, [(4, ChainFault.UNREADABLE)])
    with pytest.raises(LedgerInvalid, match="entry 4 cannot be read"):
        open_ledger(str(filled), create=False).entries()


def test_a_fork_is_refused_by_the_table(filled: Path) -> None:
    """Two entries after the same head cannot both be stored, whatever the locking did."""
    conn = sqlite3.connect(filled)
    head = conn.execute("SELECT prev_hash FROM compliance_ledger WHERE seq = 4").fetchone()[0]
    with pytest.raises(sqlite3.IntegrityError):
        conn.execute(
            "INSERT INTO compliance_ledger SELECT 5, repo, recorded_at, started_at, "
            "finished_at, commit_sha, branch, dirty, ci_run_url, passed, controls, failing, "
            "findings, waivers, bundle_digest, ?, 'x' FROM compliance_ledger WHERE seq = 4",
            (head,),
        )
    conn.close()


# --- bad ledgers ----------------------------------------------------------------------------


@pytest.mark.parametrize("create", [True, False])
def test_a_file_that_is_not_sqlite_is_refused_untouched(tmp_path: Path, create: bool) -> None:
    path = tmp_path / "ledger.sqlite"
    path.write_bytes(b"id,verdict\n1,passed\n")
    with pytest.raises(LedgerInvalid, match="is not a SQLite database") as caught:
        open_ledger(str(path), create=create)
    assert caught.value.exit_code == ExitCode.INVALID_CONFIG
    assert caught.value.hint
    assert path.read_bytes() == b"id,verdict\n1,passed\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.sqlite"]


@pytest.mark.parametrize("create", [True, False])
def test_a_sqlite_database_of_something_else_is_refused_untouched(
    tmp_path: Path, create: bool
) -> None:
    path = tmp_path / "app.db"
    raw(path, "CREATE TABLE users (name TEXT)", "INSERT INTO users VALUES ('dana')")
    before = path.read_bytes()
    with pytest.raises(LedgerInvalid, match="not a compliance ledger") as caught:
        open_ledger(str(path), create=create)
    assert caught.value.exit_code == ExitCode.INVALID_CONFIG
    assert path.read_bytes() == before


def test_a_ledger_with_extra_tables_or_another_schema_version_is_refused(filled: Path) -> None:
    raw(filled, "UPDATE compliance_ledger_meta SET value = '9' WHERE key = 'schema'")
    with pytest.raises(LedgerInvalid, match="schema version 9"):
        open_ledger(str(filled), create=True)
    raw(filled, "UPDATE compliance_ledger_meta SET value = '1'", "CREATE TABLE extra (x)")
    with pytest.raises(LedgerInvalid, match="unexpected or missing: extra"):
        open_ledger(str(filled), create=True)


def test_a_missing_ledger_is_a_usage_error_for_readers_and_created_by_writers(
    path: Path,
) -> None:
    with pytest.raises(UsageError, match="no ledger at"):
        open_ledger(str(path), create=False)
    assert not path.parent.exists()
    ledger = open_ledger(str(path), create=True)
    assert not path.exists()  # nothing is written before the first append
    ledger.append(run_record(), T0)
    assert path.is_file()


def test_an_empty_file_is_no_ledger_yet(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite"
    path.touch()
    with pytest.raises(UsageError, match="the file is empty"):
        open_ledger(str(path), create=False)
    open_ledger(str(path), create=True).append(run_record(), T0)
    assert open_ledger(str(path), create=False).verify().entries == 1


def test_a_folder_or_an_unknown_scheme_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LedgerInvalid, match="is a folder"):
        open_ledger(str(tmp_path), create=True)
    with pytest.raises(LedgerInvalid, match="unsupported scheme mysql://") as caught:
        open_ledger("mysql://u:secret@h/db", create=True)
    assert "secret" not in caught.value.message


def test_a_locked_ledger_is_an_environment_failure(
    filled: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("compliance.evidence.ledger.sqlite.BUSY_TIMEOUT_S", 0.05)
    holder = sqlite3.connect(filled, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        ledger = SqliteLedger(filled, create=True)
        with pytest.raises(LedgerUnavailable, match="locked") as caught:
            ledger.append(run_record(), T0)
        assert caught.value.exit_code == ExitCode.SCANNER_ERROR
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert verify(filled) == (4, [])


def test_display_location_hides_the_password() -> None:
    url = "postgresql://ledger:s3cret@db.internal:5432/compliance?sslmode=require"
    assert (
        display_location(url)
        == "postgresql://ledger:***@db.internal:5432/compliance?sslmode=require"
    )
    assert display_location("postgresql://db/x") == "postgresql://db/x"
    assert display_location("ledger.sqlite") == "ledger.sqlite"
