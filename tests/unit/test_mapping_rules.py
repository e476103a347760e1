from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compliance.config import bundled_controls_dir
from compliance.errors import ConfigError
from compliance.policy.mapping_rules import (
    KNOWN_SCANNERS,
    Evidence,
    load_control_policy,
    load_mapping_rules,
)
from compliance.scanners.registry import REGISTRY


def test_shipped_rules_load_with_a_rationale_each() -> None:
    policy = load_control_policy(bundled_controls_dir())
    rules = policy.rules.rules
    assert len(rules) >= 30
    assert len({r.id for r in rules}) == len(rules)
    assert {r.source for r in rules} == {
        "mappings/bandit.yaml",
        "mappings/semgrep.yaml",
        "mappings/checkov.yaml",
        "mappings/dependencies.yaml",
        "mappings/process.yaml",
        "mappings/residency.yaml",
        "mappings/threatmodel.yaml",
    }
    assert all(len(r.rationale) > 80 and "\n" not in r.rationale for r in rules)
    process = policy.rules.get("scan-ran-on-the-change")
    assert process is not None and process.evidence is Evidence.SCAN_COMPLETED
    assert set(process.controls) == {"CC8.1", "A.8.29", "A.8.32"}


def test_the_issue_defaults_are_mapped() -> None:
    rules = load_control_policy(bundled_controls_dir()).rules

    def controls(rule_id: str) -> set[str]:
        rule = rules.get(rule_id)
        assert rule is not None, rule_id
        return set(rule.controls)

    assert {"CC7.1", "A.8.8"} <= controls("dependency-vulnerabilities")
    assert {"CC8.1", "A.8.28", "A.8.25"} <= controls("bandit-secure-coding")
    assert {"CC6.1", "A.5.17"} <= controls("bandit-hard-coded-credentials")
    assert {"A.8.24"} <= controls("bandit-weak-cryptography")
    assert {"CC7.1", "A.8.9"} <= controls("iac-misconfiguration")
    assert {"CC6.6", "A.8.20", "A.8.22"} <= controls("iac-network-exposure")
    assert {"CC6.1", "CC6.7", "A.8.24"} <= controls("iac-encryption")
    assert {"CC7.2", "A.8.15", "A.8.16"} <= controls("iac-logging")
    assert {"A1.2", "A.8.13"} <= controls("iac-backups")
    assert {"C1.1", "A.5.31", "A.5.34", "A.5.23"} <= controls("semgrep-data-residency")


def test_known_scanners_are_the_registry() -> None:
    assert set(KNOWN_SCANNERS) == set(REGISTRY)


def copy_controls(tmp_path: Path) -> Path:
    target = tmp_path / "controls"
    shutil.copytree(bundled_controls_dir(), target)
    return target


def problems(folder: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_control_policy(folder)
    return [str(p) for p in caught.value.problems]


def write_rules(folder: Path, name: str, text: str) -> None:
    (folder / "mappings" / name).write_text(text, encoding="utf-8")


RATIONALE = "A rationale long enough for the schema to accept it."


def rule(**fields: str) -> str:
    """One rule in YAML; each keyword is a raw YAML value."""
    body = {
        "id": "my-rule",
        "rationale": RATIONALE,
        "scanners": "[bandit]",
        "select": "[{tool: bandit}]",
        "controls": "[CC8.1]",
    }
    body.update(fields)
    lines = [f"    {k}: {v}" for k, v in body.items() if v != "-"]
    return "rules:\n  - " + "\n".join(lines).lstrip() + "\n"


def test_unknown_control_names_file_and_key_path(tmp_path: Path) -> None:
    folder = copy_controls(tmp_path)
    write_rules(folder, "extra.yaml", rule(controls="[CC8.1, A.8.99]"))
    assert problems(folder) == [
        "mappings/extra.yaml: rules[0].controls[1]: unknown control 'A.8.99'"
    ]


def test_shipped_file_edit_is_reported_with_its_index(tmp_path: Path) -> None:
    folder = copy_controls(tmp_path)
    path = folder / "mappings" / "checkov.yaml"
    path.write_text(
        path.read_text().replace("controls: [CC6.6, A.8.20, A.8.22]", "controls: [CC6.6, A.8.99]")
    )
    assert problems(folder) == [
        "mappings/checkov.yaml: rules[1].controls[1]: unknown control 'A.8.99'"
    ]


def test_manual_control_cannot_be_mapped(tmp_path: Path) -> None:
    folder = copy_controls(tmp_path)
    write_rules(folder, "extra.yaml", rule(controls="[A.7.1]"))
    (found,) = problems(folder)
    assert found.startswith("mappings/extra.yaml: rules[0].controls[0]: control A.7.1 is manual")


def test_unknown_keys_and_bad_values_name_their_key_path(tmp_path: Path) -> None:
    folder = copy_controls(tmp_path)
    write_rules(
        folder,
        "extra.yaml",
        rule(
            select="[{tool: bandit, rulez: B101}, {kind: misconfig}, {cwe: [CWE798]}]",
            scanners="[bandit, trivy]",
            id="My_Rule",
        ),
    )
    found = problems(folder)
    assert "mappings/extra.yaml: rules[0].select[0].rulez: unknown key" in found
    assert any(
        p.startswith("mappings/extra.yaml: rules[0].select[1].kind[0]: Input should be")
        for p in found
    )
    assert any(
        p.startswith("mappings/extra.yaml: rules[0].select[2].cwe[0]: String should match")
        for p in found
    )
    assert any(
        p.startswith("mappings/extra.yaml: rules[0].id: String should match pattern") for p in found
    )


def test_unknown_scanner_and_tool_outside_the_rules_scanners(tmp_path: Path) -> None:
    folder = copy_controls(tmp_path)
    write_rules(
        folder,
        "extra.yaml",
        rule(
            scanners="[bandit, trivy]",
            select="[{tool: semgrep}, {tool: grype}, {check: CKV_AWS_1}]",
        ),
    )
    assert problems(folder) == [
        "mappings/extra.yaml: rules[0].scanners[1]: unknown scanner 'trivy' "
        "(known: bandit, semgrep, pip-audit, checkov, residency, threatmodel)",
        "mappings/extra.yaml: rules[0].select[0].tool: 'semgrep' is not in the rule's scanners",
        "mappings/extra.yaml: rules[0].select[1].tool: unknown scanner 'grype' "
        "(known: bandit, semgrep, pip-audit, checkov, residency, threatmodel)",
        "mappings/extra.yaml: rules[0].select[2].check: checkov is not in the rule's scanners",
    ]


def test_duplicate_rule_ids_across_files(tmp_path: Path) -> None:
    folder = copy_controls(tmp_path)
    write_rules(folder, "extra.yaml", rule(id="bandit-secure-coding"))
    assert problems(folder) == [
        "mappings/extra.yaml: rules[0].id: duplicate rule id 'bandit-secure-coding' "
        "(first in mappings/bandit.yaml)"
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({"select": "[{}]"}, "rules[0].select[0]: an empty selector would select every finding"),
        ({"select": "-"}, "rules[0]: needs `select`, or `evidence: scan-completed`"),
        (
            {"evidence": "scan-completed"},
            "rules[0]: a `scan-completed` rule selects no findings: drop `select`",
        ),
        (
            {"select": "[{tool: bandit, check: CKV_AWS_1}]"},
            "rules[0].select[0]: `check` selects checkov check ids: "
            "drop `tool` or set it to checkov",
        ),
        (
            {"controls": "[]"},
            "rules[0].controls: Tuple should have at least 1 item after validation, not 0",
        ),
        ({"controls": "[CC8.1, CC8.1]"}, "rules[0].controls[1]: control 'CC8.1' listed twice"),
        ({"rationale": "short"}, "rules[0].rationale: String should have at least 20 characters"),
    ],
)
def test_rule_shape_problems(tmp_path: Path, fields: dict[str, str], expected: str) -> None:
    folder = copy_controls(tmp_path)
    write_rules(folder, "extra.yaml", rule(**fields))
    assert problems(folder) == [f"mappings/extra.yaml: {expected}"]


def test_malformed_yaml_and_empty_files(tmp_path: Path) -> None:
    folder = copy_controls(tmp_path)
    write_rules(folder, "a-broken.yaml", "rules: [\n")
    write_rules(folder, "b-empty.yaml", "rules: []\n")
    write_rules(folder, "c-list.yaml", "- id: x\n")
    found = problems(folder)
    assert found[0].startswith("mappings/a-broken.yaml: line ")
    assert "invalid YAML" in found[0]
    assert found[1:] == [
        "mappings/b-empty.yaml: rules: no rule defined: drop the file or add one",
        "mappings/c-list.yaml: expected a mapping with `rules` at the top level",
    ]


def test_no_rule_files_is_an_error_never_a_pass(tmp_path: Path) -> None:
    folder = copy_controls(tmp_path)
    shutil.rmtree(folder / "mappings")
    assert problems(folder) == [
        "mappings: no mapping rule defined (an empty rule set is not a pass)"
    ]


def test_catalogue_and_rule_problems_are_reported_together(tmp_path: Path) -> None:
    folder = copy_controls(tmp_path)
    people = folder / "iso27001" / "a6-people.yaml"
    people.write_text(people.read_text().replace("id: A.6.2", "id: A.6.1", 1))
    write_rules(folder, "extra.yaml", rule(id="x", evidence="always"))
    found = problems(folder)
    assert any("id A.6.1: duplicate of iso27001/a6-people.yaml" in p for p in found)
    assert any(
        p.startswith("mappings/extra.yaml: rules[0].evidence: Input should be") for p in found
    )


def test_without_a_catalogue_control_ids_are_not_checked(tmp_path: Path) -> None:
    folder = copy_controls(tmp_path)
    write_rules(folder, "extra.yaml", rule(controls="[A.8.99]"))
    rules = load_mapping_rules(folder, None)
    assert rules.get("my-rule") is not None


def test_string_or_list_selector_values(tmp_path: Path) -> None:
    folder = copy_controls(tmp_path)
    write_rules(folder, "extra.yaml", rule(select="[{tool: bandit, rule: B6*, cwe: CWE-78}]"))
    extra = load_control_policy(folder).rules.get("my-rule")
    assert extra is not None
    (selector,) = extra.selectors
    assert (selector.tool, selector.rules, selector.cwes) == ("bandit", ("B6*",), ("CWE-78",))
    assert selector.describe() == "tool=bandit rule=B6* cwe=CWE-78"
