"""The demo's waivers and baseline over time, with the real scanners: an expired waiver stops
suppressing, and a baseline of today's findings makes the gate pass until something new
appears."""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli import cli

from .test_examples import EXAMPLES, scan_examples

pytestmark = pytest.mark.integration

#: requests 2.25.1 in services/worker/poetry.lock (PYSEC-2023-74), waived by W-0002 until
#: 2026-10-31 (examples/policies/waivers.yaml).
W_0002 = "ff37eaf7b4ad4b15225492acd2a79f04"


def test_an_expired_waiver_stops_suppressing() -> None:
    before_code, before, _ = scan_examples(day=datetime(2026, 10, 15, tzinfo=timezone.utc))
    after_code, after, _ = scan_examples()  # 2026-11-29: W-0002 expired on 2026-10-31

    def finding(data: dict) -> dict:  # type: ignore[type-arg]
        (match,) = [f for f in data["findings"] if f["fingerprint"] == W_0002]
        return match

    assert finding(before)["suppression"]["kind"] == "waived"
    assert "W-0002" in finding(before)["suppression"]["justification"]
    assert W_0002 not in before["verdict"]["failing"]
    assert {w["id"]: w["state"] for w in before["waivers"]}["W-0002"] == "active"

    assert finding(after)["suppression"] is None
    assert W_0002 in after["verdict"]["failing"]
    expired = {w["id"]: w for w in after["waivers"]}["W-0002"]
    assert expired["state"] == "expired" and expired["findings"] == [W_0002]
    assert after["verdict"]["counts"]["open"] == before["verdict"]["counts"]["open"] + 1
    assert before_code == after_code == 1  # the demo fails on other findings either way


def test_baseline_then_only_new_findings_fail(tmp_path: Path) -> None:
    repo = tmp_path / "examples"
    shutil.copytree(EXAMPLES, repo)
    baseline = tmp_path / "baseline.json"
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(
            "compliance.cli.clock.utc_now", lambda: datetime(2026, 11, 29, tzinfo=timezone.utc)
        )
        created = runner.invoke(cli, ["baseline", "create", str(repo), "-q", "-o", str(baseline)])
        assert created.exit_code == 0, created.stderr
        entries = json.loads(baseline.read_text())["findings"]
        assert len(entries) >= 100

        passed = runner.invoke(cli, ["scan", str(repo), "-q", "--baseline", str(baseline)])
        assert passed.exit_code == 0, passed.stdout + passed.stderr

        new_file = repo / "services" / "api" / "app" / "admin.py"
        new_file.write_text(
            "import subprocess\n\n\ndef run(cmd):\n    subprocess.call(cmd, shell=True)\n"
        )
        failed = runner.invoke(
            cli, ["scan", str(repo), "-q", "--format", "json", "--baseline", str(baseline)]
        )
    assert failed.exit_code == 1
    data = json.loads(failed.stdout)
    new = [f for f in data["findings"] if f["baseline"] == "new"]
    assert {f["path"] for f in new} == {"services/api/app/admin.py"}
    assert set(data["verdict"]["failing"]) <= {f["fingerprint"] for f in new}
    assert data["verdict"]["failing"]
    assert data["baseline"]["absent"] == 0
