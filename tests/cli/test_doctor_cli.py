from __future__ import annotations

import json

from click.testing import CliRunner

from compliance.cli import cli

from .conftest import FakeScanner, Install


def test_doctor_all_healthy(fake_scanners: Install) -> None:
    fake_scanners(FakeScanner("bandit"), FakeScanner("semgrep"))
    result = CliRunner().invoke(cli, ["doctor", "--format", "json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert data["healthy"] is True
    assert [s["name"] for s in data["scanners"]] == ["bandit", "semgrep"]


def test_doctor_missing_scanner_exits_4(fake_scanners: Install) -> None:
    fake_scanners(FakeScanner("bandit"), FakeScanner("semgrep", fail="semgrep is not installed"))
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 4
    assert "FAIL semgrep" in result.stdout
    assert "semgrep is not installed" in result.stdout


def test_doctor_scanner_that_cannot_run_offline_exits_4(fake_scanners: Install) -> None:
    class Online(FakeScanner):
        def run(self, ctx, proc):  # type: ignore[no-untyped-def]
            from compliance.errors import ScannerFailure

            raise ScannerFailure("could not reach the vulnerability service")

    fake_scanners(FakeScanner("bandit"), Online("pip-audit"))
    result = CliRunner().invoke(cli, ["doctor"])
    assert result.exit_code == 4
    assert "offline run failed: could not reach" in result.stdout
