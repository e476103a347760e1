"""`compliance report` renders every format from a saved result, byte-identical to `scan -o`."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli import cli
from compliance.model import Severity
from compliance.reporting import REGISTRY

from .conftest import FakeScanner, Install, finding


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.mark.parametrize("fmt", list(REGISTRY))
def test_report_is_byte_identical_to_what_scan_wrote(
    fake_scanners: Install, repo: Path, tmp_path: Path, fmt: str
) -> None:
    fake_scanners(
        FakeScanner(
            "bandit",
            (
                finding("services/api/app.py", Severity.HIGH, "B602"),
                finding("infra/main.tf", Severity.LOW, "B101"),
            ),
        )
    )
    saved, scanned, reported = tmp_path / "r.json", tmp_path / "scan.out", tmp_path / "report.out"
    link = ["--link-base", "https://example.test/o/r/blob/abc/"]
    code, _, err = invoke(
        "scan", str(repo), "-q", "-o", f"json={saved}", "-o", f"{fmt}={scanned}", *link
    )
    assert code == 1, err
    code, _, err = invoke("report", str(saved), "--format", fmt, "-o", str(reported), *link)
    assert code == 0, err
    assert reported.read_bytes() == scanned.read_bytes()
    # and to stdout (no TTY, so no colour), the same text
    code, out, _ = invoke("report", str(saved), "--format", fmt, *link)
    assert code == 0
    if fmt != "terminal":  # the terminal's width follows the terminal when printed
        assert out == scanned.read_text(encoding="utf-8")


def test_report_bad_inputs(tmp_path: Path) -> None:
    code, _, err = invoke("report", str(tmp_path / "nope.json"))
    assert code == 2 and "no such file" in err
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": "1.1"}')
    code, out, err = invoke("report", str(bad), "--format", "json")
    assert code == 3 and out == ""
    assert "schema_version: version 1.1 is not supported" in err
    code, _, err = invoke("report", str(bad), "-o", str(tmp_path / "no" / "x"))
    assert code == 2 and "does not exist" in err
