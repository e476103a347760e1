from __future__ import annotations

import importlib
import json
import shutil
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from compliance.cli import cli
from compliance.config import bundled_controls_dir
from compliance.model import Severity

from .conftest import FakeScanner, Install, finding

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "result.schema.json").read_text()
)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def controls_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the shipped controls/ that both `controls` and `scan` use."""
    target = tmp_path / "controls"
    shutil.copytree(bundled_controls_dir(), target)
    # `compliance.cli.controls` as an attribute is the Click group; patch the module.
    module = importlib.import_module("compliance.cli.controls")
    monkeypatch.setattr(module, "bundled_controls_dir", lambda: target)
    monkeypatch.setattr("compliance.prepare.bundled_controls_dir", lambda: target)
    return target


def break_rules(folder: Path) -> None:
    path = folder / "mappings" / "checkov.yaml"
    text = path.read_text().replace("controls: [CC6.6, A.8.20, A.8.22]", "controls: [A.8.99]")
    path.write_text(text.replace("category: logging", "categry: logging"))


# list


def test_list_shows_both_frameworks() -> None:
    code, out, _ = invoke("controls", "list")
    assert code == 0
    assert "A.8.28" in out and "Secure coding" in out
    assert "CC7.1" in out


def test_list_json_filters_by_framework() -> None:
    code, out, _ = invoke("controls", "list", "--framework", "soc2", "--format", "json")
    assert code == 0
    controls = json.loads(out)["controls"]
    assert len(controls) == 61
    assert {c["framework"] for c in controls} == {"soc2"}
    cc71 = next(c for c in controls if c["id"] == "CC7.1")
    assert cc71["automation"] == "automated"
    assert "dependency-vulnerabilities" in cc71["rules"]
    assert cc71["evidence"]


# show


def test_show_prints_evidence_and_rules_with_rationale() -> None:
    code, out, _ = invoke("controls", "show", "A.8.8")
    assert code == 0
    assert out.startswith("A.8.8  Management of technical vulnerabilities\n")
    assert "automation: automated" in out
    assert "evidence:   pip-audit checks every pinned Python dependency" in out
    assert "dependency-vulnerabilities  [mappings/dependencies.yaml]" in out
    assert "selects:   kind=dependency-vulnerability" in out
    assert "rationale: A pinned Python dependency with a published advisory" in out


def test_show_process_rule_and_manual_control() -> None:
    code, out, _ = invoke("controls", "show", "A.8.29")
    assert code == 0
    assert "evidence:  scan-completed" in out
    code, out, _ = invoke("controls", "show", "A.7.1")
    assert code == 0
    assert "no mapping rule: manual control" in out


def test_show_unknown_control_is_a_usage_error_with_suggestions() -> None:
    code, out, err = invoke("controls", "show", "A.8.99")
    assert code == 2
    assert out == ""
    assert "error: unknown control 'A.8.99'" in err
    assert "hint: did you mean" in err


# coverage


def test_coverage_is_complete_with_the_shipped_rules() -> None:
    code, out, _ = invoke("controls", "coverage")
    assert code == 0
    assert "coverage complete" in out
    for name in ("bandit", "semgrep", "checkov/terraform", "checkov/github_actions"):
        assert name in out


def test_coverage_json_and_incomplete_rules_exit_3(controls_copy: Path) -> None:
    code, out, _ = invoke("controls", "coverage", "--format", "json")
    assert code == 0
    data = json.loads(out)
    assert data["complete"] is True
    bandit = next(t for t in data["tools"] if t["name"] == "bandit")
    assert bandit["total"] == bandit["soc2"] == bandit["iso27001"] > 50
    # Drop the bandit catch-all: B101 (assert) maps nowhere any more.
    path = controls_copy / "mappings" / "bandit.yaml"
    text = path.read_text().replace(
        "      - tool: bandit\n    controls: [CC8.1, A.8.25, A.8.28]",
        "      - tool: bandit\n        rule: B6*\n    controls: [CC8.1, A.8.25, A.8.28]",
    )
    path.write_text(text)
    code, out, _ = invoke("controls", "coverage")
    assert code == 3
    assert "unmapped bandit: B101" in out
    assert "coverage INCOMPLETE" in out


# bad policy: exit 3, every problem, nothing half-applied


def test_bad_mapping_rules_exit_3_naming_file_and_key_path(controls_copy: Path) -> None:
    break_rules(controls_copy)
    code, out, err = invoke("controls", "list")
    assert code == 3
    assert out == ""
    assert "error: invalid configuration (2 problems)" in err
    assert "mappings/checkov.yaml: rules[1].controls[0]: unknown control 'A.8.99'" in err
    assert "mappings/checkov.yaml: rules[4].select[0].categry: unknown key" in err


def test_bad_mapping_rules_stop_the_scan_before_any_scanner_runs(
    controls_copy: Path, fake_scanners: Install, repo: Path
) -> None:
    scanners = fake_scanners(FakeScanner("bandit"))
    break_rules(controls_copy)
    code, out, err = invoke("scan", str(repo), "--format", "json")
    assert code == 3
    assert out == ""
    assert "unknown control 'A.8.99'" in err
    assert scanners["bandit"].seen == []


def test_empty_catalogue_is_an_error(controls_copy: Path) -> None:
    for path in (controls_copy / "soc2").glob("*.yaml"):
        path.unlink()
    code, _, err = invoke("controls", "list")
    assert code == 3
    assert "soc2: empty catalogue" in err


# scan results carry controls


def test_scan_json_has_control_results_and_finding_controls(
    fake_scanners: Install, repo: Path
) -> None:
    fake_scanners(FakeScanner("bandit", (finding("services/api/app.py", Severity.LOW),)))
    code, out, err = invoke("scan", str(repo), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    assert data["schema_version"] == "2.3"
    (f,) = data["findings"]
    assert f["controls"] == ["A.8.25", "A.8.28", "CC8.1"]
    controls = {c["id"]: c for c in data["controls"]}
    assert len(controls) == 154
    assert data["controls"][0]["framework"] == "iso27001"
    assert controls["A.8.28"]["status"] == "failed"
    assert controls["A.8.28"]["findings"] == [f["fingerprint"]]
    assert controls["A.8.28"]["reason"] == "1 open finding(s)"
    assert controls["A.8.8"]["status"] == "not-assessed"  # only bandit ran
    assert "pip-audit did not run" in controls["A.8.8"]["reason"]
    assert controls["A.7.1"]["status"] == "manual"


def test_scan_with_every_scanner_clean_passes_the_automated_controls(
    fake_scanners: Install, repo: Path
) -> None:
    fake_scanners(*(FakeScanner(n) for n in ("bandit", "semgrep", "pip-audit", "checkov")))
    code, out, _ = invoke("scan", str(repo), "--format", "json")
    assert code == 0
    controls = {c["id"]: c for c in json.loads(out)["controls"]}
    for control_id in ("CC7.1", "CC8.1", "A.8.8", "A.8.28", "A.8.29"):
        assert controls[control_id]["status"] == "passed", control_id
        assert controls[control_id]["reason"] is None


def test_scanner_error_leaves_its_controls_not_assessed(fake_scanners: Install, repo: Path) -> None:
    fake_scanners(FakeScanner("bandit"), FakeScanner("checkov", fail="checkov crashed"))
    code, out, _ = invoke("scan", str(repo), "--format", "json")
    assert code == 4
    controls = {c["id"]: c for c in json.loads(out)["controls"]}
    assert controls["A.8.9"]["status"] == "not-assessed"
    assert "checkov failed" in controls["A.8.9"]["reason"]


def test_terminal_report_has_one_controls_line_per_framework(
    fake_scanners: Install, repo: Path
) -> None:
    fake_scanners(FakeScanner("bandit", (finding("services/api/app.py", Severity.LOW),)))
    code, out, _ = invoke("scan", str(repo))
    assert code == 0
    iso = next(line for line in out.splitlines() if line.startswith("Controls ISO 27001:"))
    soc2 = next(line for line in out.splitlines() if line.startswith("Controls SOC 2:"))
    assert "failed" in iso and "not-assessed" in iso and "manual" in soc2
