"""The README demo: every planted problem in examples/ is found by the real scanners, offline.

The table of planted problems lives in examples/README.md; each row becomes one test.
"""

from __future__ import annotations

import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compliance.cli import cli

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ROW = re.compile(r"^\|\s*(P\d+)\s*\|\s*([\w-]+)\s*\|\s*([^|]+?)\s*\|\s*([^|]+?)\s*\|(.*)\|\s*$")


def planted_rows() -> list[tuple[str, str, str, str]]:
    text = (EXAMPLES / "README.md").read_text(encoding="utf-8")
    section = text.split("## Planted problems", 1)[1]
    rows = []
    for line in section.splitlines():
        match = ROW.match(line)
        if match:
            pid, scanner, rule, path = match.group(1, 2, 3, 4)
            rows.append((pid, scanner, rule.strip("`"), path.strip("`")))
    return rows


ROWS = planted_rows()


#: The day the demo is scanned on: examples/policies/waivers.yaml has an active, an expired
#: and a stale waiver on this day, whatever the date the tests run.
DEMO_DAY = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def scan_examples(*args: str, day: datetime = DEMO_DAY) -> tuple[int, dict[str, Any], str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("compliance.cli.clock.utc_now", lambda: day)
        result = CliRunner().invoke(cli, ["scan", str(EXAMPLES), "--format", "json", "-q", *args])
    return result.exit_code, json.loads(result.stdout), result.stderr


@pytest.fixture(scope="module")
def demo_result() -> tuple[int, dict[str, Any], str]:
    return scan_examples()


def test_the_table_is_substantial() -> None:
    scanners = {row[1] for row in ROWS}
    assert {"bandit", "semgrep", "pip-audit", "checkov", "residency"} <= scanners
    assert len(ROWS) >= 20


def test_demo_runs_every_scanner_cleanly(demo_result: tuple[int, dict[str, Any], str]) -> None:
    code, data, err = demo_result
    statuses = {s["name"]: (s["status"], s["error"]) for s in data["scanners"]}
    assert statuses == {
        "bandit": ("ok", None),
        "semgrep": ("ok", None),
        "pip-audit": ("ok", None),
        "checkov": ("ok", None),
        "residency": ("ok", None),
        "threatmodel": ("ok", None),
    }, err
    assert code == 1  # the demo has planted high-severity problems: the gate fails
    assert {s["name"] for s in data["services"]} >= {"api", "payments", "worker"}


def test_helm_chart_is_reported_as_skipped(demo_result: tuple[int, dict[str, Any], str]) -> None:
    _, data, _ = demo_result
    assert any(s["path"] == "charts/api" and "helm" in s["reason"].lower() for s in data["skipped"])


@pytest.mark.parametrize(("pid", "scanner", "rule", "path"), ROWS, ids=[r[0] for r in ROWS])
def test_planted_problem_is_found(
    demo_result: tuple[int, dict[str, Any], str], pid: str, scanner: str, rule: str, path: str
) -> None:
    _, data, _ = demo_result
    found = [
        f
        for f in data["findings"]
        if f["tool"] == scanner and f["rule_id"] == rule and f["path"] == path
    ]
    assert found, f"{pid}: {scanner} did not report {rule} in {path}"


def test_demo_reports_controls_for_both_frameworks(
    demo_result: tuple[int, dict[str, Any], str],
) -> None:
    _, data, _ = demo_result
    controls = {c["id"]: c for c in data["controls"]}
    assert {c["framework"] for c in data["controls"]} == {"iso27001", "soc2"}
    # The planted dependency vulnerabilities fail vulnerability management in both.
    for control_id in ("A.8.8", "CC7.1"):
        assert controls[control_id]["status"] == "failed", control_id
        assert controls[control_id]["findings"]
    assert any(c["status"] == "manual" for c in data["controls"])
    vulnerable = [f for f in data["findings"] if f["kind"] == "dependency-vulnerability"]
    assert vulnerable and all({"A.8.8", "CC7.1"} <= set(f["controls"]) for f in vulnerable)
    assert all(f["controls"] for f in data["findings"])  # coverage is total


def test_demo_waivers_gate_and_verdict(demo_result: tuple[int, dict[str, Any], str]) -> None:
    _, data, _ = demo_result
    states = {w["id"]: w["state"] for w in data["waivers"]}
    assert states == {"W-0001": "active", "W-0002": "expired", "W-0003": "stale"}
    waived = [f for f in data["findings"] if (f["suppression"] or {}).get("kind") == "waived"]
    assert {f["rule_id"] for f in waived} == {"CKV2_K8S_6"}
    assert len(waived) == 3  # one per service's k8s/ folder (services/*/k8s/**)
    verdict = data["verdict"]
    assert {(r["policy"], r["rule"]) for r in verdict["reasons"]} == {
        ("policies/gate.yaml", "fail_on"),
        ("policies/gate.yaml", "overrides[0]"),
        ("policies/gate.yaml", "limits[0]"),
    }
    counts = verdict["counts"]
    assert counts["waived"] == 3 and counts["open"] == counts["total"] - 3
