"""Bad input in the gate, waiver and baseline files: exit 3, one line per problem, each
naming the file and the key path (or line)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from compliance.config import bundled_controls_dir
from compliance.errors import ConfigError, ExitCode
from compliance.model import GateMode, Severity
from compliance.policy.baseline import load_baseline
from compliance.policy.gate import load_gate
from compliance.policy.mapping_rules import load_control_policy
from compliance.policy.waivers import load_waivers

CATALOGUE = load_control_policy(bundled_controls_dir()).catalogue
TODAY = date(2026, 11, 29)


def problems_of(error: pytest.ExceptionInfo[ConfigError]) -> list[str]:
    assert error.value.exit_code is ExitCode.INVALID_CONFIG
    return [str(p) for p in error.value.problems]


def gate_problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "gate.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_gate(path, "gate.yaml", CATALOGUE)
    return problems_of(caught)


def waiver_problems(tmp_path: Path, text: str, max_days: int = 365) -> list[str]:
    path = tmp_path / "waivers.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_waivers(path, "waivers.yaml", today=TODAY, max_days=max_days)
    return problems_of(caught)


# --- gate ---------------------------------------------------------------------------------


def test_a_valid_gate(tmp_path: Path) -> None:
    path = tmp_path / "gate.yaml"
    path.write_text(
        "version: 1\nfail_on: HIGH\nmode: new-only\nbaseline: .compliance/b.json\n"
        "overrides:\n  - {service: [api, 'pay*'], fail_on: low}\n"
        "limits:\n  - {control: A.8.24, max_findings: 0}\n"
        "  - {framework: soc2, max_failed_controls: 2, severity: medium}\n"
        "waivers: {max_days: 90}\n"
    )
    gate = load_gate(path, "gate.yaml", CATALOGUE)
    assert gate.fail_on is Severity.HIGH and gate.mode is GateMode.NEW_ONLY
    assert gate.overrides[0].services == ("api", "pay*")
    assert gate.limits[1].framework == "soc2" and gate.waiver_max_days == 90


@pytest.mark.parametrize("text", ["", "# nothing but a comment\n", "{}\n"])
def test_an_empty_gate_is_an_error_never_a_pass(tmp_path: Path, text: str) -> None:
    assert gate_problems(tmp_path, text) == [
        "gate.yaml: empty gate policy: it must at least set `fail_on` (not a pass)"
    ]


def test_gate_without_fail_on(tmp_path: Path) -> None:
    assert "gate.yaml: fail_on: Field required" in gate_problems(tmp_path, "mode: all\n")


def test_gate_problems_are_all_named_with_their_key_paths(tmp_path: Path) -> None:
    found = gate_problems(
        tmp_path,
        "fail_on: urgent\nmode: sometimes\nfial_on: high\n"
        "overrides:\n  - fail_on: low\n  - service: api\n    fail_on: high\n    team: x\n"
        "limits:\n  - control: A.8.24\n    framework: soc2\n    max_findings: 0\n"
        "  - control: A.8.24\n",
    )
    choices = "info, low, medium, high, critical"
    assert f"gate.yaml: fail_on: unknown severity 'urgent' (expected one of: {choices})" in found
    assert any(p.startswith("gate.yaml: mode: Input should be 'all' or 'new-only'") for p in found)
    assert "gate.yaml: fial_on: unknown key" in found
    assert "gate.yaml: overrides[0]: an override needs `service` or `data_classification`" in found
    assert "gate.yaml: overrides[1].team: unknown key" in found
    assert "gate.yaml: limits[0]: a limit names exactly one of `control` or `framework`" in found
    assert "gate.yaml: limits[1]: a limit needs `max_findings` or `max_failed_controls`" in found


def test_gate_limit_naming_an_unknown_control(tmp_path: Path) -> None:
    found = gate_problems(
        tmp_path, "fail_on: high\nlimits:\n  - {control: A.8.99, max_findings: 0}\n"
    )
    assert found == ["gate.yaml: limits[0].control: unknown control 'A.8.99'"]


def test_gate_baseline_outside_the_repository(tmp_path: Path) -> None:
    found = gate_problems(tmp_path, "fail_on: high\nbaseline: ../elsewhere.json\n")
    assert found == ["gate.yaml: baseline: must be a path inside the repository"]


def test_gate_broken_yaml_names_the_line(tmp_path: Path) -> None:
    found = gate_problems(tmp_path, "fail_on: high\noverrides: [\n")
    assert len(found) == 1 and found[0].startswith("gate.yaml: line 3")


# --- waivers ------------------------------------------------------------------------------

GOOD = """
  - id: W-1
    rule: B608
    path: services/**
    reason: columns come from an allow-list
    owner: alice
    approver: bob
    expires: 2027-01-31
"""


def test_valid_waivers_load_sorted_by_id(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text(
        "waivers:\n"
        + GOOD.replace("W-1", "W-9")
        + GOOD
        + "  - id: W-5\n    fingerprint: "
        + "ab" * 16
        + "\n    reason: accepted for now\n"
        "    owner: carol\n    approver: bob\n    expires: '2026-01-01'\n"
    )
    loaded = load_waivers(path, "waivers.yaml", today=TODAY, max_days=365)
    assert [w.id for w in loaded.waivers] == ["W-1", "W-5", "W-9"]
    assert loaded.waivers[1].expires == date(2026, 1, 1)  # expired waivers still load


def test_waiver_without_expiry_owner_approver_or_reason(tmp_path: Path) -> None:
    found = waiver_problems(tmp_path, "waivers:\n  - id: W-1\n    rule: B1\n    path: a\n")
    for key in ("expires", "owner", "approver", "reason"):
        assert f"waivers.yaml: waivers[0].{key}: Field required" in found


def test_waiver_scope_problems(tmp_path: Path) -> None:
    both = GOOD.replace("    rule: B608", "    rule: B608\n    fingerprint: '" + "0" * 32 + "'")
    neither = GOOD.replace("    rule: B608\n    path: services/**\n", "")
    rule_only = GOOD.replace("    path: services/**\n", "")
    found = waiver_problems(
        tmp_path,
        "waivers:\n" + both + neither.replace("W-1", "W-2") + rule_only.replace("W-1", "W-3"),
    )
    assert any(
        p.startswith("waivers.yaml: waivers[0]: scope is either `fingerprint` alone") for p in found
    )
    assert (
        "waivers.yaml: waivers[1]: needs a scope: `fingerprint`, or both `rule` and `path`" in found
    )
    assert (
        "waivers.yaml: waivers[2]: needs a scope: `fingerprint`, or both `rule` and `path`" in found
    )


def test_all_digit_fingerprint_must_be_quoted(tmp_path: Path) -> None:
    text = GOOD.replace("    rule: B608\n    path: services/**", "    fingerprint: " + "1" * 32)
    assert waiver_problems(tmp_path, "waivers:\n" + text) == [
        "waivers.yaml: waivers[0].fingerprint: YAML read this fingerprint as a number: "
        "put it in quotes"
    ]


def test_waiver_owner_cannot_approve_their_own(tmp_path: Path) -> None:
    found = waiver_problems(
        tmp_path, "waivers:\n" + GOOD.replace("approver: bob", "approver: Alice")
    )
    assert found == [
        "waivers.yaml: waivers[0]: `approver` must not be the `owner`: "
        "a waiver needs a second person"
    ]


def test_waiver_expiry_beyond_the_horizon(tmp_path: Path) -> None:
    found = waiver_problems(tmp_path, "waivers:\n" + GOOD.replace("2027-01-31", "2027-12-01"))
    assert found == [
        "waivers.yaml: waivers[0].expires: 2027-12-01 is more than 365 days after 2026-11-29 "
        "(gate policy `waivers.max_days`)"
    ]
    # the horizon is configurable
    assert waiver_problems(tmp_path, "waivers:\n" + GOOD, max_days=30)[0].startswith(
        "waivers.yaml: waivers[0].expires: 2027-01-31 is more than 30 days"
    )


def test_waiver_bad_values(tmp_path: Path) -> None:
    found = waiver_problems(
        tmp_path,
        "waivers:\n"
        + GOOD.replace("2027-01-31", "'2027-01-31T10:00'")
        + GOOD.replace("W-1", "W 2")
        .replace("rule: B608", "fingerprint: XYZ")
        .replace("    path: services/**\n", "")
        + GOOD
        + GOOD.replace("W-1", "W-4").replace("owner: alice", "owner: alice\n    ownr: x"),
    )
    assert "waivers.yaml: waivers[0].expires: expected a date as YYYY-MM-DD" in found
    assert any(
        p.startswith("waivers.yaml: waivers[1].id: String should match pattern") for p in found
    )
    assert any(
        p.startswith("waivers.yaml: waivers[1].fingerprint: String should match") for p in found
    )
    assert (
        "waivers.yaml: waivers[2].id: duplicate id 'W-1' (waivers[0])" not in found
    )  # W-1 first at [2]
    assert "waivers.yaml: waivers[3].ownr: unknown key" in found


def test_duplicate_waiver_ids(tmp_path: Path) -> None:
    found = waiver_problems(tmp_path, "waivers:\n" + GOOD + GOOD)
    assert found == ["waivers.yaml: waivers[1].id: duplicate id 'W-1' (waivers[0])"]


def test_waiver_file_shape(tmp_path: Path) -> None:
    assert waiver_problems(tmp_path, "- id: W-1\n") == [
        "waivers.yaml: expected a mapping with `waivers`"
    ]
    assert waiver_problems(tmp_path, "waiver: []\n") == ["waivers.yaml: waiver: unknown key"]


# --- baseline -----------------------------------------------------------------------------


def baseline_problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "baseline.json"
    path.write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_baseline(path, "baseline.json")
    return problems_of(caught)


def test_baseline_invalid_json_names_line_and_column(tmp_path: Path) -> None:
    assert baseline_problems(tmp_path, '{\n  "version": 1,\n  "findings": [\n}') == [
        "baseline.json: line 4, column 1: invalid JSON: Expecting value"
    ]


def test_baseline_bad_entries(tmp_path: Path) -> None:
    found = baseline_problems(
        tmp_path,
        '{"version": 1, "findings": [{"fingerprint": "nothex"}, {"fingerprint": "'
        + "0" * 32
        + '", "count": 0}]}',
    )
    assert any(
        p.startswith("baseline.json: findings[0].fingerprint: String should match") for p in found
    )
    assert any(
        p.startswith("baseline.json: findings[1].count: Input should be greater") for p in found
    )


def test_baseline_missing_version_and_findings(tmp_path: Path) -> None:
    found = baseline_problems(tmp_path, "{}")
    assert "baseline.json: version: Field required" in found
    assert "baseline.json: findings: Field required" in found


def test_missing_baseline_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_baseline(tmp_path / "nope.json", "nope.json")
    assert problems_of(caught) == ["nope.json: no such file"]
