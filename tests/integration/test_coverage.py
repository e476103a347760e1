"""Mapping coverage against the installed tools: a new scanner version that adds a rule no
mapping rule selects fails here (and `compliance controls coverage` exits 3)."""

from __future__ import annotations

from fnmatch import fnmatchcase

import pytest

from compliance.config import bundled_controls_dir, bundled_policy_dir
from compliance.coverage import (
    CHECKOV_FRAMEWORKS,
    RuleInventory,
    bandit_inventory,
    checkov_inventories,
    measure_coverage,
    semgrep_inventory,
)
from compliance.policy.mapping_rules import load_control_policy

pytestmark = pytest.mark.integration

POLICY = load_control_policy(bundled_controls_dir())


def test_every_rule_of_every_scanner_maps_to_soc2_and_iso() -> None:
    report = measure_coverage(POLICY, bundled_policy_dir())
    names = [t.name for t in report.tools]
    assert names == ["bandit", "semgrep", *(f"checkov/{f}" for f in CHECKOV_FRAMEWORKS)]
    for tool in report.tools:
        assert tool.total > 0, tool.name
        assert tool.unmapped == (), f"{tool.name}: unmapped {tool.unmapped}"
        assert tool.soc2 == tool.iso27001 == tool.total
    assert report.complete


def test_the_inventories_are_the_real_rule_sets() -> None:
    bandit = {r.rule_id for r in bandit_inventory().rules}
    assert {"B101", "B105", "B324", "B501", "B602", "B608", "B701"} <= bandit  # plug-ins
    assert {"B301", "B303", "B403", "B413"} <= bandit  # blacklisted calls and imports
    assert len(semgrep_inventory(bundled_policy_dir()).rules) == 34
    checkov = {i.name: len(i.rules) for i in checkov_inventories(bundled_policy_dir())}
    assert checkov["checkov/terraform"] > 1000
    assert checkov["checkov/dockerfile"] > 20


def inventories() -> dict[str, list[RuleInventory]]:
    checkov = list(checkov_inventories(bundled_policy_dir()))
    return {
        "bandit": [bandit_inventory()],
        "semgrep": [semgrep_inventory(bundled_policy_dir())],
        "checkov": checkov,
    }


def test_no_selector_is_dead() -> None:
    """Every rule glob, check glob and category in the shipped rules matches a real rule."""
    by_tool = inventories()
    dead = []
    for rule in POLICY.rules.rules:
        for index, selector in enumerate(rule.selectors):
            tool = selector.tool or ("checkov" if selector.checks else None)
            if tool not in by_tool:
                continue
            known = [r for inventory in by_tool[tool] for r in inventory.rules]
            for pattern in (*selector.rules, *selector.checks):
                if not any(fnmatchcase(r.rule_id, pattern) for r in known):
                    dead.append(f"{rule.id} select[{index}]: {pattern}")
            for category in selector.categories:
                if not any(r.category == category for r in known):
                    dead.append(f"{rule.id} select[{index}]: category {category}")
    assert dead == []
