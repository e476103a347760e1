"""The ledger on a real PostgreSQL server (see tests/integration/postgres.py)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli import cli
from compliance.errors import ExitCode, UsageError
from compliance.evidence.ledger.chain import ChainFault
from compliance.evidence.ledger.interface import LedgerInvalid, LedgerUnavailable
from compliance.evidence.ledger.records import ControlRecord, FindingRecord, RunRecord, WaiverRecord
from compliance.evidence.ledger.store import open_ledger
from compliance.model import ControlStatus, Fingerprint, Severity, WaiverState

from .postgres import fresh_schema, psycopg_module, raw_sql, server_url

pytestmark = pytest.mark.integration
RESULT = Path(__file__).resolve().parent.parent / "assets" / "results" / "examples.json"
T0 = datetime(2026, 3, 2, 9, 30, tzinfo=timezone.utc)


def run_record(
    repo: str = "api",
    *,
    at: datetime = T0,
    failing: tuple[Fingerprint, ...] = (Fingerprint("fa"),),
    digest: str | None = None,
) -> RunRecord:
    return RunRecord(
        repo=repo,
        started_at=at,
        finished_at=at + timedelta(minutes=4),
        commit="0123456789abcdef0123456789abcdef01234567",
        branch="main",
        dirty=None,
        ci_run_url="https://ci.example.test/runs/17",
        passed=not failing,
        controls=(
            ControlRecord("iso27001", "A.8.28", ControlStatus.FAILED, failing)
            if failing
            else ControlRecord("iso27001", "A.8.28", ControlStatus.PASSED),
            ControlRecord("soc2", "CC7.1", ControlStatus.NOT_ASSESSED),
        ),
        findings=tuple(
            FindingRecord(fp, "bandit", "B602", Severity.HIGH, "app.py", "shell", "api")
            for fp in failing
        ),
        waivers=(
            WaiverRecord(
                "W-1", WaiverState.STALE, "o@x.test", "a@x.test", date(2026, 9, 1), "T-1", 0
            ),
        ),
        bundle_digest=digest,
    )


@pytest.fixture
def url() -> Iterator[str]:
    with fresh_schema() as schema_url:
        yield schema_url


def filled(url: str, count: int = 4) -> None:
    ledger = open_ledger(url, create=True)
    for day in range(count):
        ledger.append(run_record(at=T0 + timedelta(days=day)), T0 + timedelta(days=day, hours=1))
    ledger.close()


def problems(url: str) -> list[tuple[int, ChainFault]]:
    ledger = open_ledger(url, create=False)
    try:
        return [(p.seq, p.fault) for p in ledger.verify().problems]
    finally:
        ledger.close()


def test_entries_and_hashes_are_the_same_as_on_sqlite(url: str, tmp_path: Path) -> None:
    runs = [
        run_record(),
        run_record("web", at=T0 + timedelta(days=1), failing=(), digest="e" * 64),
        run_record("a\x00b", at=T0 + timedelta(days=2)),
    ]
    written = {}
    for location in (url, str(tmp_path / "l.sqlite")):
        ledger = open_ledger(location, create=True)
        for run in runs:
            ledger.append(run, T0)
        written[location] = (ledger.entries(), ledger.verify())
        assert ledger.entries(repo="web", since=T0 + timedelta(hours=1)) == (
            written[location][0][1],
        )
        ledger.close()
    (pg_entries, pg_check), (sqlite_entries, sqlite_check) = written.values()
    assert pg_entries == sqlite_entries
    assert pg_check == sqlite_check
    assert pg_check.ok and pg_check.entries == 3
    assert pg_entries[0].run == runs[0]


def test_verify_names_an_edited_entry(url: str) -> None:
    filled(url)
    raw_sql(url, "UPDATE compliance_ledger SET passed = true WHERE seq = 3")
    assert problems(url) == [(3, ChainFault.MODIFIED)]


def test_verify_names_a_deleted_entry(url: str) -> None:
    filled(url)
    raw_sql(url, "DELETE FROM compliance_ledger WHERE seq = 2")
    assert problems(url) == [(3, ChainFault.MISSING)]


def test_verify_names_swapped_entries(url: str) -> None:
    filled(url)
    raw_sql(
        url,
        "UPDATE compliance_ledger SET seq = 1000 WHERE seq = 2",
        "UPDATE compliance_ledger SET seq = 2 WHERE seq = 3",
        "UPDATE compliance_ledger SET seq = 3 WHERE seq = 1000",
    )
    assert problems(url)[0] == (2, ChainFault.REORDERED)


def test_a_database_without_a_ledger_is_a_usage_error_for_readers(url: str) -> None:
    with pytest.raises(UsageError, match="its tables do not exist"):
        open_ledger(url, create=False)
    open_ledger(url, create=True).close()  # a writer creates the tables on its first append
    with pytest.raises(UsageError):
        open_ledger(url, create=False)


def test_someone_elses_tables_are_refused(url: str) -> None:
    raw_sql(url, "CREATE TABLE compliance_ledger_meta (key TEXT PRIMARY KEY, value TEXT)")
    with pytest.raises(LedgerInvalid, match="no compliance_ledger: not a compliance ledger"):
        open_ledger(url, create=True)
    raw_sql(url, "INSERT INTO compliance_ledger_meta VALUES ('schema', '7')")
    raw_sql(url, "CREATE TABLE compliance_ledger (seq BIGINT)")
    with pytest.raises(LedgerInvalid, match="schema version 7") as caught:
        open_ledger(url, create=True)
    assert caught.value.exit_code == ExitCode.INVALID_CONFIG


def test_an_unreachable_server_exits_4_quickly_without_the_password() -> None:
    psycopg_module()
    started = time.monotonic()
    with pytest.raises(LedgerUnavailable, match="cannot connect to ledger") as caught:
        open_ledger("postgresql://ledger:s3cret@127.0.0.1:1/compliance", create=True)
    assert time.monotonic() - started < 10
    assert caught.value.exit_code == ExitCode.SCANNER_ERROR
    assert "s3cret" not in caught.value.message
    assert "postgresql://ledger:***@127.0.0.1:1/compliance" in caught.value.message
    assert caught.value.hint and "server is running" in caught.value.hint


def test_a_wrong_password_exits_4_and_a_malformed_url_exits_3() -> None:
    url = server_url()
    psycopg = psycopg_module()
    info = psycopg.conninfo.conninfo_to_dict(url)
    wrong = f"postgresql://{info['user']}:not-{info.get('password')}@{info.get('host')}:"
    wrong += f"{info.get('port', 5432)}/{info['dbname']}"
    with pytest.raises(LedgerUnavailable, match="password authentication failed") as caught:
        open_ledger(wrong, create=True)
    assert f"not-{info.get('password')}" not in caught.value.message
    with pytest.raises(LedgerInvalid, match="invalid ledger URL") as bad:
        open_ledger("postgresql://u:pw@[::1/db", create=True)
    assert bad.value.exit_code == ExitCode.INVALID_CONFIG
    assert ":pw@" not in bad.value.message


def test_the_commands_on_postgresql(url: str, tmp_path: Path) -> None:
    runner = CliRunner()

    def run(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, list(args), env={"COMPLIANCE_LEDGER": url})
        return result.exit_code, result.stdout + result.stderr

    for repo in ("examples", "billing"):
        code, out = run("evidence", "ledger", "record", str(RESULT), "--repo", repo)
        assert code == 0, out
        assert "postgresql://" in out and ":***@" in out
    code, out = run("evidence", "ledger", "verify")
    assert code == 0, out
    assert "2 entries, chain intact" in out
    code, out = run(
        "evidence",
        "export",
        "--since",
        "2026-11-29",
        "--until",
        "2026-11-29",
        "-o",
        str(tmp_path / "out"),
    )
    assert code == 0, out
    assert "2 runs" in out
    raw_sql(url, "DELETE FROM compliance_ledger WHERE seq = 1")
    code, out = run("evidence", "ledger", "verify")
    assert code == 1 and "entry 1 is missing" in out
    code, out = run(
        "evidence",
        "ledger",
        "verify",
        "--ledger",
        "postgresql://ledger:s3cret@127.0.0.1:1/compliance",
    )
    assert code == 4 and "s3cret" not in out
