"""The gate, waivers and baselines through the command line (fake scanners, real pipeline)."""

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

WAIVER = """
  - id: {id}
    rule: {rule}
    path: {path}
    reason: accepted while the rewrite lands
    owner: alice@example.com
    approver: bob@example.com
    expires: {expires}
"""


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def scan_json(repo: Path, *args: str) -> tuple[int, dict, str]:  # type: ignore[type-arg]
    code, out, err = invoke("scan", str(repo), "--format", "json", "-q", *args)
    assert out, err
    data = json.loads(out)
    jsonschema.validate(data, SCHEMA)
    return code, data, err


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_repository_gate_is_used_and_named_in_reasons(fake_scanners: Install, repo: Path) -> None:
    fake_scanners(FakeScanner("bandit", (finding("services/api/app.py", Severity.LOW),)))
    write(repo / "policies" / "gate.yaml", "version: 1\nfail_on: low\n")
    code, data, err = scan_json(repo)
    assert code == 1
    (reason,) = data["verdict"]["reasons"]
    assert (reason["policy"], reason["rule"]) == ("policies/gate.yaml", "fail_on")
    assert reason["findings"] == [data["findings"][0]["fingerprint"]]
    assert "policies/gate.yaml fail_on: 1 open finding at or above low" in err


def test_gate_option_and_config_key(fake_scanners: Install, repo: Path, tmp_path: Path) -> None:
    fake_scanners(FakeScanner("bandit", (finding("services/api/app.py", Severity.LOW),)))
    strict = write(tmp_path / "strict.yaml", "fail_on: info\n")
    assert invoke("scan", str(repo), "-q", "--gate", str(strict))[0] == 1
    write(repo / "ci" / "gate.yaml", "fail_on: low\n")
    write(repo / "compliance.yaml", "policy:\n  gate: ci/gate.yaml\n")
    assert invoke("scan", str(repo), "-q")[0] == 1
    write(repo / "compliance.yaml", "policy:\n  gate: ci/missing.yaml\n")
    code, _, err = invoke("scan", str(repo), "-q")
    assert code == 3
    assert "compliance.yaml: policy.gate: no such file: ci/missing.yaml" in err


def test_waivers_active_expired_and_stale(fake_scanners: Install, repo: Path) -> None:
    fake_scanners(
        FakeScanner(
            "bandit",
            (
                finding("services/api/app.py", Severity.HIGH, rule="B602"),
                finding("infra/main.tf", Severity.HIGH, rule="B608"),
            ),
        )
    )
    write(
        repo / "policies" / "waivers.yaml",
        "waivers:"
        + WAIVER.format(id="W-1", rule="B602", path="services/**", expires="2027-01-01")
        + WAIVER.format(id="W-2", rule="B608", path="infra/*.tf", expires="2026-11-28")
        + WAIVER.format(id="W-3", rule="B1*", path="legacy/**", expires="2027-01-01"),
    )
    code, data, _ = scan_json(repo)
    assert code == 1  # the expired waiver's finding counts again
    by_rule = {f["rule_id"]: f for f in data["findings"]}
    assert by_rule["B602"]["suppression"]["kind"] == "waived"
    assert "W-1" in by_rule["B602"]["suppression"]["justification"]
    assert by_rule["B608"]["suppression"] is None
    states = {w["id"]: (w["state"], w["findings"]) for w in data["waivers"]}
    assert states == {
        "W-1": ("active", [by_rule["B602"]["fingerprint"]]),
        "W-2": ("expired", [by_rule["B608"]["fingerprint"]]),
        "W-3": ("stale", []),
    }
    assert data["verdict"]["failing"] == [by_rule["B608"]["fingerprint"]]
    assert data["verdict"]["counts"]["waived"] == 1
    code, out, _ = invoke("scan", str(repo))
    assert "waiver W-2 expired on 2026-11-28" in out
    assert "waiver W-3 matches no finding" in out


def test_bad_waivers_exit_3_before_any_scanner_and_write_nothing(
    fake_scanners: Install, repo: Path, tmp_path: Path
) -> None:
    scanners = fake_scanners(FakeScanner("bandit", ()))
    write(
        repo / "policies" / "waivers.yaml",
        "waivers:\n  - id: W-1\n    rule: B1\n    path: a\n    reason: because we must\n"
        "    owner: a\n    approver: b\n"
        "  - id: W-2\n    fingerprint: nothex\n    reason: because we must\n"
        "    owner: a\n    approver: b\n    expires: 2027-01-01\n"
        "  - id: W-3\n    rule: B1\n    path: a\n    reason: because we must\n"
        "    owner: a\n    approver: A\n    expires: 2027-01-01\n"
        "  - id: W-4\n    rule: B1\n    path: a\n    reason: because we must\n"
        "    owner: a\n    approver: b\n    expires: 2028-01-01\n",
    )
    out_file = tmp_path / "result.json"
    code, out, err = invoke("scan", str(repo), "-q", "-o", f"json={out_file}")
    assert code == 3
    assert out == ""
    lines = err.splitlines()
    assert lines[0] == "error: invalid configuration (4 problems)"
    assert "  policies/waivers.yaml: waivers[0].expires: Field required" in lines
    assert any(
        line.startswith("  policies/waivers.yaml: waivers[1].fingerprint:") for line in lines
    )
    assert any("waivers[2]: `approver` must not be the `owner`" in line for line in lines)
    assert any("waivers[3].expires: 2028-01-01 is more than 365 days" in line for line in lines)
    assert "Traceback" not in err
    assert not out_file.exists()
    assert scanners["bandit"].seen == []  # nothing ran: nothing half-applied


def test_unknown_service_in_gate_and_waivers_is_a_typo_not_a_silent_no_op(
    fake_scanners: Install, repo: Path
) -> None:
    fake_scanners(FakeScanner("bandit", ()))
    write(repo / "compliance.yaml", "services:\n  - {name: api, path: services/api}\n")
    write(
        repo / "policies" / "gate.yaml",
        "fail_on: high\noverrides:\n  - {service: paymnts, fail_on: low}\n",
    )
    write(
        repo / "policies" / "waivers.yaml",
        "waivers:"
        + WAIVER.format(id="W-1", rule="B1", path="x", expires="2027-01-01")
        + "    service: apii\n",
    )
    code, _, err = invoke("scan", str(repo), "-q")
    assert code == 3
    assert "policies/gate.yaml: overrides[0].service[0]: matches no service: 'paymnts'" in err
    assert "policies/waivers.yaml: waivers[0].service: unknown service 'apii'" in err


def test_empty_gate_is_an_error(fake_scanners: Install, repo: Path) -> None:
    fake_scanners(FakeScanner("bandit", ()))
    write(repo / "policies" / "gate.yaml", "")
    code, _, err = invoke("scan", str(repo), "-q")
    assert code == 3
    assert "policies/gate.yaml: empty gate policy" in err


def test_old_fail_on_in_config_says_where_it_moved(fake_scanners: Install, repo: Path) -> None:
    fake_scanners(FakeScanner("bandit", ()))
    write(repo / "compliance.yaml", "scan:\n  fail_on: medium\n")
    code, _, err = invoke("scan", str(repo), "-q")
    assert code == 3
    assert "compliance.yaml: scan.fail_on: moved to the gate policy" in err


# --- baselines ----------------------------------------------------------------------------


def test_baseline_create_then_new_only(fake_scanners: Install, repo: Path) -> None:
    old = finding("services/api/app.py", Severity.HIGH, rule="B602")
    fake_scanners(FakeScanner("bandit", (old,)))
    code, _, err = invoke("baseline", "create", str(repo), "-q")
    assert code == 0, err
    baseline = repo / ".compliance" / "baseline.json"
    data = json.loads(baseline.read_text())
    assert data["version"] == 1 and len(data["findings"]) == 1
    assert data["findings"][0]["count"] == 1 and data["findings"][0]["rule_id"] == "B602"
    before = baseline.read_bytes()
    assert invoke("baseline", "create", str(repo), "-q")[0] == 0
    assert baseline.read_bytes() == before  # deterministic: no timestamp, sorted

    # the same finding again: baselined, the gate passes
    code, result, _ = scan_json(repo, "--baseline", str(baseline))
    assert code == 0
    assert result["verdict"]["mode"] == "new-only"
    assert result["findings"][0]["baseline"] == "unchanged"
    assert result["findings"][0]["suppression"]["kind"] == "baselined"
    assert result["baseline"] == {
        "source": ".compliance/baseline.json",
        "entries": 1,
        "matched": 1,
        "absent": 0,
    }

    # a new one (same rule, another file) fails; the old one still does not
    new = finding("services/api/other.py", Severity.HIGH, rule="B602")
    fake_scanners(FakeScanner("bandit", (old, new)))
    code, result, _ = scan_json(repo, "--baseline", str(baseline))
    assert code == 1
    states = {f["path"]: f["baseline"] for f in result["findings"]}
    assert states == {"services/api/app.py": "unchanged", "services/api/other.py": "new"}
    assert len(result["verdict"]["failing"]) == 1
    counts = result["verdict"]["counts"]
    assert (counts["new"], counts["baselined"], counts["open"]) == (1, 1, 1)

    # without --baseline and with mode all, both count
    assert invoke("scan", str(repo), "-q")[0] == 1


def test_gate_mode_new_only_reads_the_baseline_it_names(fake_scanners: Install, repo: Path) -> None:
    old = finding("services/api/app.py", Severity.HIGH, rule="B602")
    fake_scanners(FakeScanner("bandit", (old,)))
    write(
        repo / "policies" / "gate.yaml", "fail_on: high\nmode: new-only\nbaseline: ci/base.json\n"
    )
    code, _, err = invoke("scan", str(repo), "-q")
    assert code == 3
    assert "policies/gate.yaml: baseline: no such file: ci/base.json" in err
    assert "compliance baseline create" in err
    assert invoke("baseline", "create", str(repo), "-q")[0] == 0  # writes where the gate says
    assert (repo / "ci" / "base.json").is_file()
    assert invoke("scan", str(repo), "-q")[0] == 0


def test_new_only_without_a_baseline_is_a_config_error(fake_scanners: Install, repo: Path) -> None:
    fake_scanners(FakeScanner("bandit", ()))
    write(repo / "policies" / "gate.yaml", "fail_on: high\nmode: new-only\n")
    code, _, err = invoke("scan", str(repo), "-q")
    assert code == 3
    assert "policies/gate.yaml: mode: new-only needs a baseline" in err


def test_baseline_create_refuses_when_a_scanner_failed(
    fake_scanners: Install, repo: Path, tmp_path: Path
) -> None:
    fake_scanners(
        FakeScanner("bandit", (finding("services/api/app.py", Severity.HIGH),)),
        FakeScanner("checkov", fail="checkov: crashed"),
    )
    target = tmp_path / "b.json"
    code, _, err = invoke("baseline", "create", str(repo), "-q", "-o", str(target))
    assert code == 4
    assert "baseline not written: checkov did not complete" in err
    assert not target.exists()


def test_missing_or_broken_baseline(fake_scanners: Install, repo: Path, tmp_path: Path) -> None:
    fake_scanners(FakeScanner("bandit", ()))
    code, _, err = invoke("scan", str(repo), "-q", "--baseline", str(tmp_path / "nope.json"))
    assert code == 2
    assert "--baseline: no such file" in err
    broken = write(tmp_path / "b.json", '{"version": 1, "findings": [{"fingerprint": 7}]}')
    code, _, err = invoke("scan", str(repo), "-q", "--baseline", str(broken))
    assert code == 3
    assert "findings[0].fingerprint: Input should be a valid string" in err


# --- policy validate ----------------------------------------------------------------------


def test_policy_validate_repository(repo: Path) -> None:
    write(repo / "policies" / "gate.yaml", "fail_on: medium\n")
    write(
        repo / "policies" / "waivers.yaml",
        "waivers:" + WAIVER.format(id="W-1", rule="B1", path="x", expires="2026-11-28"),
    )
    code, out, err = invoke("policy", "validate", str(repo))
    assert code == 0, err
    assert "ok  policies/gate.yaml (gate): fail_on medium, mode all" in out
    assert "ok  policies/waivers.yaml (waivers): 1 waiver(s), 0 in force" in out
    assert "ok  (bundled) controls (controls): 93 iso27001, 61 soc2 controls" in out
    assert "warning: policies/waivers.yaml: waiver W-1 expired on 2026-11-28" in err


def test_policy_validate_reports_every_problem(repo: Path) -> None:
    write(
        repo / "policies" / "gate.yaml",
        "fail_on: high\nlimits:\n  - {control: CC9.9, max_findings: 0}\n",
    )
    write(repo / "policies" / "waivers.yaml", "waivers:\n  - id: W-1\n")
    code, out, err = invoke("policy", "validate", str(repo))
    assert code == 3
    assert out == ""
    assert "policies/gate.yaml: limits[0].control: unknown control 'CC9.9'" in err


def test_policy_validate_single_files(tmp_path: Path) -> None:
    gate = write(tmp_path / "g.yaml", "fail_on: low\n")
    code, out, _ = invoke("policy", "validate", str(gate))
    assert code == 0 and "(gate): fail_on low" in out
    waivers = write(tmp_path / "w.yaml", "waivers: []\n")
    code, out, _ = invoke("policy", "validate", str(waivers))
    assert code == 0 and "(waivers): 0 waiver(s)" in out
    unknown = write(tmp_path / "x.yaml", "hello: world\n")
    code, _, err = invoke("policy", "validate", str(unknown))
    assert code == 3 and "not a policy file this tool knows" in err
    code, out, _ = invoke("policy", "validate", str(unknown), "--kind", "gate")
    assert code == 3
    assert invoke("policy", "validate", str(tmp_path / "nope.yaml"))[0] == 2


def test_result_lists_the_policy_files_with_their_digests(
    fake_scanners: Install, repo: Path
) -> None:
    fake_scanners(FakeScanner("bandit", ()))
    write(repo / "compliance.yaml", "version: 1\n")
    write(repo / "policies" / "gate.yaml", "fail_on: high\n")
    _, data, _ = scan_json(repo)
    kinds = {(i["kind"], i["path"]) for i in data["inputs"]}
    assert ("config", "compliance.yaml") in kinds and ("gate", "policies/gate.yaml") in kinds
    assert ("catalogue", "(bundled) controls/iso27001/a8-technological.yaml") in kinds
    assert any(kind == "mapping-rules" for kind, _ in kinds)
    assert all(len(i["sha256"]) == 64 for i in data["inputs"])
