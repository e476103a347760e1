from __future__ import annotations

import json
from pathlib import Path

import jsonschema
from click.testing import CliRunner

from compliance.cli import cli
from compliance.model import Severity

from .conftest import FakeScanner, Install, finding

SCHEMA = json.loads(
    (Path(__file__).resolve().parents[2] / "docs" / "result.schema.json").read_text()
)


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_pass_exits_0_and_json_matches_schema(fake_scanners: Install, repo: Path) -> None:
    fake_scanners(FakeScanner("bandit", (finding("services/api/app.py", Severity.LOW),)))
    code, out, err = invoke("scan", str(repo), "--format", "json")
    assert code == 0, err
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    assert data["verdict"]["passed"] is True
    (f,) = data["findings"]
    assert (f["service"], f["path"], f["severity"]) == ("api", "services/api/app.py", "low")
    assert [s["status"] for s in data["scanners"]] == ["ok"]
    assert "gate passed (exit 0)" in err


def test_findings_at_threshold_exit_1(fake_scanners: Install, repo: Path) -> None:
    fake_scanners(FakeScanner("bandit", (finding("infra/main.tf", Severity.HIGH),)))
    code, out, _ = invoke("scan", str(repo), "--format", "json")
    assert code == 1
    data = json.loads(out)
    assert data["verdict"]["passed"] is False
    assert data["findings"][0]["service"] == "(repo)"
    assert any(s["name"] == "(repo)" for s in data["services"])


def test_fail_on_option_moves_the_threshold(fake_scanners: Install, repo: Path) -> None:
    fake_scanners(FakeScanner("bandit", (finding("infra/main.tf", Severity.MEDIUM),)))
    assert invoke("scan", str(repo), "-q")[0] == 0
    assert invoke("scan", str(repo), "-q", "--fail-on", "medium")[0] == 1


def test_scanner_error_is_exit_4_and_never_hides_behind_findings(
    fake_scanners: Install, repo: Path
) -> None:
    fake_scanners(
        FakeScanner("bandit", (finding("services/api/app.py", Severity.CRITICAL),)),
        FakeScanner("checkov", fail="checkov: timed out after 5 s and was stopped"),
    )
    code, out, err = invoke("scan", str(repo), "--format", "json")
    assert code == 4
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    statuses = {s["name"]: (s["status"], s["error"]) for s in data["scanners"]}
    assert statuses["checkov"] == ("error", "checkov: timed out after 5 s and was stopped")
    assert statuses["bandit"][0] == "ok"
    assert len(data["findings"]) == 1  # the other scanner's results are kept
    assert "error: scanner checkov failed: checkov: timed out" in err


def test_terminal_report_says_the_scanner_error_in_one_line(
    fake_scanners: Install, repo: Path
) -> None:
    fake_scanners(FakeScanner("bandit"), FakeScanner("semgrep", fail="semgrep is not installed"))
    code, out, _ = invoke("scan", str(repo))
    assert code == 4
    assert "error: scanner semgrep failed: semgrep is not installed" in out
    assert "FAILED" in out


def test_nothing_scanned_is_never_a_pass(fake_scanners: Install, repo: Path) -> None:
    fake_scanners(FakeScanner("bandit", nothing=True), FakeScanner("checkov", nothing=True))
    code, out, _ = invoke("scan", str(repo), "--format", "json")
    assert code == 4
    reasons = json.loads(out)["verdict"]["reasons"]
    assert [(r["policy"], r["rule"]) for r in reasons] == [("(built-in)", "nothing-checked")]
    assert "no scanner ran successfully" in reasons[0]["message"]


def test_missing_path_is_usage_error(fake_scanners: Install, tmp_path: Path) -> None:
    fake_scanners(FakeScanner("bandit"))
    code, _, err = invoke("scan", str(tmp_path / "nope"))
    assert code == 2
    assert err.strip().splitlines()[0] == f"error: path does not exist: {tmp_path / 'nope'}"


def test_bad_options_are_usage_errors(fake_scanners: Install, repo: Path) -> None:
    fake_scanners(FakeScanner("bandit"))
    assert invoke("scan", str(repo), "--fail-on", "urgent")[0] == 2
    assert invoke("scan", str(repo), "--format", "pdf")[0] == 2
    assert invoke("scan", str(repo), "-o", "nonsense")[0] == 2
    assert invoke("scan", str(repo), "-o", "pdf=x.pdf")[0] == 2
    assert invoke("scan", str(repo), "--advisory-db", str(repo / "missing"))[0] == 2
    assert invoke("scan", str(repo), "--config", str(repo / "missing.yaml"))[0] == 2
    assert invoke("frobnicate")[0] == 2


def test_invalid_config_is_exit_3_naming_file_and_key(fake_scanners: Install, repo: Path) -> None:
    fake_scanners(FakeScanner("bandit"))
    (repo / "compliance.yaml").write_text("scan:\n  fail_on: high\n  timout_s: 3\n")
    code, out, err = invoke("scan", str(repo))
    assert code == 3
    assert out == ""
    assert "compliance.yaml: scan.timout_s: unknown key" in err
    assert "Traceback" not in err


def test_config_advisory_db_must_exist(fake_scanners: Install, repo: Path) -> None:
    fake_scanners(FakeScanner("bandit"))
    (repo / "compliance.yaml").write_text("scan:\n  advisory_db: nowhere\n")
    code, _, err = invoke("scan", str(repo))
    assert code == 3
    assert "compliance.yaml: scan.advisory_db: not a folder: nowhere" in err


def test_internal_error_is_exit_5_with_version(fake_scanners: Install, repo: Path) -> None:
    fake_scanners(FakeScanner("bandit", crash=True))
    code, _, err = invoke("scan", str(repo))
    assert code == 5
    assert "internal error in compliance" in err
    assert "RuntimeError: adapter bug" in err
    assert "Traceback" not in err
    code, _, err = invoke("--debug", "scan", str(repo))
    assert code == 5
    assert "Traceback" in err


def test_output_files_are_written(fake_scanners: Install, repo: Path, tmp_path: Path) -> None:
    fake_scanners(FakeScanner("bandit", (finding("services/api/app.py", Severity.LOW),)))
    target = tmp_path / "out.json"
    code, out, _ = invoke("scan", str(repo), "-q", "-o", f"json={target}")
    assert code == 0
    assert json.loads(target.read_text())["summary"]["findings"] == 1
    assert "Findings per service" in out
    assert not list(tmp_path.glob(".out.json.*"))  # no temporary file left behind


def test_output_to_missing_folder_is_a_usage_error_before_any_scan(
    fake_scanners: Install, repo: Path, tmp_path: Path
) -> None:
    fakes = fake_scanners(FakeScanner("bandit"))
    code, _, err = invoke("scan", str(repo), "-q", "-o", f"json={tmp_path / 'no' / 'x.json'}")
    assert code == 2
    assert "does not exist" in err
    assert fakes["bandit"].seen == []  # said at once, not after the scan


def test_only_selected_scanners_run(fake_scanners: Install, repo: Path) -> None:
    fakes = fake_scanners(FakeScanner("bandit"), FakeScanner("checkov"))
    code, out, _ = invoke("scan", str(repo), "--scanner", "checkov", "--format", "json")
    assert code == 0
    assert [s["name"] for s in json.loads(out)["scanners"]] == ["checkov"]
    assert fakes["bandit"].seen == []


def test_scanners_receive_the_inventory(fake_scanners: Install, repo: Path) -> None:
    fakes = fake_scanners(FakeScanner("bandit"))
    invoke("scan", str(repo), "-q", "--jobs", "3", "--timeout", "7")
    (ctx,) = fakes["bandit"].seen
    assert ctx.inventory.python_files == ("services/api/app.py",)
    assert ctx.inventory.terraform_dirs == ("infra",)
    assert ctx.settings.jobs == 3
    assert ctx.settings.timeout_s == 7


def test_hostile_file_names_do_not_reach_the_terminal_raw(
    fake_scanners: Install, repo: Path
) -> None:
    name = "services/api/evil\x1b[31mred.py"
    fake_scanners(FakeScanner("bandit", (finding(name, Severity.LOW),)))
    code, out, _ = invoke("scan", str(repo))
    assert code == 0
    assert "\x1b" not in out
    assert "evil\\x1b[31mred.py" in out


def test_inline_suppressed_findings_are_reported_but_never_gated(
    fake_scanners: Install, repo: Path
) -> None:
    from dataclasses import replace

    from compliance.model import Suppression, SuppressionKind

    silenced = replace(
        finding("services/api/app.py", Severity.CRITICAL),
        suppression=Suppression(SuppressionKind.INLINE, "`# nosec` on line 3"),
    )
    fake_scanners(FakeScanner("bandit", (silenced,)))
    code, out, _ = invoke("scan", str(repo), "--format", "json")
    assert code == 0
    (f,) = json.loads(out)["findings"]
    assert f["suppression"] == {"kind": "inline", "justification": "`# nosec` on line 3"}
