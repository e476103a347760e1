"""`compliance scan --evidence/--sign-key/--archive/--ledger`: checked before the scan, written
after it, verifiable."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli import cli
from compliance.model import Severity

from .conftest import FakeScanner, Install, finding


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path]:
    code, _, err = invoke("evidence", "keygen", "-o", str(tmp_path / "signing"))
    assert code == 0, err
    return tmp_path / "signing.key", tmp_path / "signing.pub"


def test_scan_writes_a_signed_bundle_and_a_ledger_entry(
    fake_scanners: Install, repo: Path, tmp_path: Path, keys: tuple[Path, Path]
) -> None:
    fake_scanners(FakeScanner("bandit", (finding("services/api/app.py", Severity.HIGH, "B602"),)))
    bundle, ledger = tmp_path / "bundle", tmp_path / "ledger.sqlite"
    code, _, err = invoke(
        "scan", str(repo), "-q", "--evidence", str(bundle), "--sign-key", str(keys[0]),
        "--ledger", str(ledger),
    )  # fmt: skip
    assert code == 1, err  # the gate's code: the evidence does not change it
    assert "evidence: wrote" in err and "signed with key" in err
    assert (bundle / "manifest.json").is_file() and (bundle / "reports" / "report.sarif").is_file()
    code, out, err = invoke("evidence", "verify", str(bundle), "--key", str(keys[1]))
    assert code == 0, out + err
    code, out, _ = invoke("scan", str(repo), "-q", "--ledger", str(ledger))
    assert code == 1
    code, out, _ = invoke("evidence", "ledger", "verify", "--ledger", str(ledger))
    assert code == 0 and "2 entries, chain intact" in out


def test_unsigned_bundle_says_so_and_archives(
    fake_scanners: Install, repo: Path, tmp_path: Path
) -> None:
    fake_scanners(FakeScanner("bandit", ()))
    code, _, err = invoke(
        "scan", str(repo), "-q", "--evidence", str(tmp_path / "ev"), "--archive", "zip",
        env={"COMPLIANCE_SIGNING_KEY": ""},
    )  # fmt: skip
    assert code == 3  # set but empty: the CI secret did not arrive, never silently unsigned
    code, _, err = invoke(
        "scan", str(repo), "-q", "--evidence", str(tmp_path / "ev"), "--archive", "zip"
    )
    assert code == 0, err
    assert "THIS BUNDLE IS NOT SIGNED" in err
    assert (tmp_path / "ev.zip").is_file()


def test_bad_evidence_or_ledger_targets_fail_before_the_scan(
    fake_scanners: Install, repo: Path, tmp_path: Path
) -> None:
    fakes = fake_scanners(FakeScanner("bandit", ()))
    occupied = tmp_path / "occupied"
    occupied.mkdir()
    (occupied / "x").write_text("keep me")
    assert invoke("scan", str(repo), "-q", "--evidence", str(occupied))[0] == 2
    assert (occupied / "x").read_text() == "keep me"
    assert invoke("scan", str(repo), "-q", "--archive", "zip")[0] == 2
    assert invoke("scan", str(repo), "-q", "--evidence", str(tmp_path / "no" / "ev"))[0] == 2
    not_sqlite = tmp_path / "ledger.sqlite"
    not_sqlite.write_text("this is not a database\n" * 100)
    code, _, err = invoke("scan", str(repo), "-q", "--ledger", str(not_sqlite))
    assert code == 3, err
    assert fakes["bandit"].seen == []  # nothing ran
