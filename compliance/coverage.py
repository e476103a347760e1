"""Mapping coverage: does every rule of every scanner bear on a SOC 2 and an ISO 27001 control?

The rule inventories come from the tools and policies themselves, so coverage drops (and
`compliance controls coverage` exits 3) as soon as a new scanner version adds a rule no
mapping rule selects:

- bandit: the installed bandit's test plug-ins and blacklist ids;
- semgrep: the rule ids of our pack (policies/semgrep/*.yaml);
- checkov: the check ids of our checks table (policies/checkov/checks.yaml) per framework;
  a test keeps that table equal to the installed checkov's checks.

Each rule becomes one representative finding (tool, rule id, category and CWE as its
metadata says; kind `code`, or `iac-misconfiguration` for checkov) that is run through the
mapping rules. A mapping rule selecting on another kind is therefore not counted here:
coverage can only be under-stated, never over-stated.
"""

from __future__ import annotations

import importlib
import re
import warnings
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, get_args

import yaml

from compliance import yamlsafe
from compliance.errors import ConfigError, Problem
from compliance.mapping import controls_for
from compliance.model import (
    REPO_SERVICE,
    Finding,
    FindingKind,
    Fingerprint,
    Location,
    RuleId,
    Severity,
)
from compliance.policy.catalogue import ID_PATTERNS as CONTROL_ID_PATTERNS
from compliance.policy.catalogue import Automation, Framework, control_sort_key
from compliance.policy.mapping_rules import ControlPolicy
from compliance.scanners.checkov.table import TABLE_PATH, load_check_table
from compliance.scanners.checkov.table import Framework as CheckovFramework

CHECKOV_FRAMEWORKS: tuple[str, ...] = get_args(CheckovFramework)
_DIGITS = re.compile(r"(\d+)")


@dataclass(frozen=True, slots=True)
class ToolRule:
    """One rule a scanner can report, with the metadata mapping rules select on."""

    tool: str
    rule_id: str
    kind: FindingKind
    category: str | None = None
    cwe: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class RuleInventory:
    """All rules of one tool (or one checkov framework) and where the list came from."""

    name: str
    source: str
    rules: tuple[ToolRule, ...]


@dataclass(frozen=True, slots=True)
class ToolCoverage:
    name: str
    source: str
    total: int
    soc2: int
    iso27001: int
    #: Rule ids that lack a SOC 2 criterion, an ISO control, or both.
    unmapped: tuple[str, ...]

    @property
    def complete(self) -> bool:
        """Every rule maps to both frameworks. No rule at all is never complete."""
        return self.total > 0 and not self.unmapped


@dataclass(frozen=True, slots=True)
class CoverageReport:
    tools: tuple[ToolCoverage, ...]
    #: Automated or partial controls that no mapping rule names (reported as not assessed).
    unmapped_controls: tuple[str, ...]

    @property
    def complete(self) -> bool:
        return bool(self.tools) and all(t.complete for t in self.tools)


def evaluate_coverage(
    policy: ControlPolicy, inventories: Iterable[RuleInventory]
) -> CoverageReport:
    """Pure: run each inventory's representative findings through the mapping rules."""
    tools = []
    for inventory in inventories:
        soc2 = iso = 0
        unmapped: list[str] = []
        for rule in inventory.rules:
            controls = controls_for(_representative(rule), policy.rules)
            has_soc2 = any(CONTROL_ID_PATTERNS[Framework.SOC2].match(c) for c in controls)
            has_iso = any(CONTROL_ID_PATTERNS[Framework.ISO27001].match(c) for c in controls)
            soc2 += has_soc2
            iso += has_iso
            if not (has_soc2 and has_iso):
                unmapped.append(rule.rule_id)
        tools.append(
            ToolCoverage(
                name=inventory.name,
                source=inventory.source,
                total=len(inventory.rules),
                soc2=soc2,
                iso27001=iso,
                unmapped=tuple(sorted(unmapped)),
            )
        )
    named = {c for rule in policy.rules.rules for c in rule.controls}
    unmapped_controls = tuple(
        sorted(
            (
                c.id
                for c in policy.catalogue.controls
                if c.automation is not Automation.MANUAL and c.id not in named
            ),
            key=control_sort_key,
        )
    )
    return CoverageReport(tuple(tools), unmapped_controls)


def measure_coverage(policy: ControlPolicy, policy_dir: Path) -> CoverageReport:
    """Coverage of the installed bandit, our semgrep pack and our checkov table."""
    return evaluate_coverage(
        policy,
        (bandit_inventory(), semgrep_inventory(policy_dir), *checkov_inventories(policy_dir)),
    )


def bandit_inventory() -> RuleInventory:
    """Every test id the installed bandit knows: plug-in tests and blacklisted calls/imports."""
    with warnings.catch_warnings():  # stevedore deprecations raised by bandit's loader
        warnings.simplefilter("ignore", DeprecationWarning)
        manager: Any = importlib.import_module("bandit.core.extension_loader").MANAGER
    version = str(getattr(importlib.import_module("bandit"), "__version__", "?"))
    rules = [
        ToolRule("bandit", str(test_id), FindingKind.CODE) for test_id in manager.plugins_by_id
    ]
    for test_id, entry in manager.blacklist_by_id.items():
        cwe = entry.get("cwe") if isinstance(entry, dict) else None
        cwes = (f"CWE-{int(cwe)}",) if isinstance(cwe, int) and cwe > 0 else ()
        rules.append(ToolRule("bandit", str(test_id), FindingKind.CODE, cwe=cwes))
    return RuleInventory("bandit", f"bandit {version}", _sorted(rules))


def semgrep_inventory(policy_dir: Path) -> RuleInventory:
    """Every rule id of our semgrep pack, with its metadata category and CWE."""
    folder = policy_dir / "semgrep"
    rules: list[ToolRule] = []
    for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
        try:
            data = yamlsafe.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
            raise ConfigError(
                [Problem(str(path), "", f"cannot read the rule file: {exc}")]
            ) from None
        entries = data.get("rules") if isinstance(data, dict) else None
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict) or not entry.get("id"):
                continue
            metadata = entry.get("metadata")
            metadata = metadata if isinstance(metadata, dict) else {}
            category = metadata.get("category")
            cwe = metadata.get("cwe") or []
            rules.append(
                ToolRule(
                    "semgrep",
                    str(entry["id"]),
                    FindingKind.CODE,
                    category=str(category) if category else None,
                    cwe=tuple(str(c) for c in (cwe if isinstance(cwe, list) else [cwe])),
                )
            )
    return RuleInventory("semgrep", "our rule pack (policies/semgrep)", _sorted(rules))


def checkov_inventories(policy_dir: Path) -> tuple[RuleInventory, ...]:
    """The checks of our checkov table, one inventory per framework."""
    table = load_check_table(policy_dir / TABLE_PATH)
    source = f"checks table for checkov {table.checkov_version}"
    inventories = []
    for framework in CHECKOV_FRAMEWORKS:
        rules = [
            ToolRule(
                "checkov",
                check_id,
                FindingKind.IAC_MISCONFIGURATION,
                category=policy.category,
                cwe=policy.cwe,
            )
            for check_id, policy in table.checks.items()
            if framework in policy.frameworks
        ]
        inventories.append(RuleInventory(f"checkov/{framework}", source, _sorted(rules)))
    return tuple(inventories)


def _representative(rule: ToolRule) -> Finding:
    return Finding(
        fingerprint=Fingerprint("0" * 32),
        service=REPO_SERVICE,
        tool=rule.tool,
        rule_id=RuleId(rule.rule_id),
        title=rule.rule_id,
        message=rule.rule_id,
        severity=Severity.MEDIUM,
        kind=rule.kind,
        location=Location("-"),
        cwe=rule.cwe,
        category=rule.category,
    )


def _sorted(rules: list[ToolRule]) -> tuple[ToolRule, ...]:
    """Natural order: B101 before B1010, CKV_AWS_2 before CKV_AWS_10."""
    return tuple(
        sorted(
            rules,
            key=lambda r: [p.zfill(6) if p.isdigit() else p for p in _DIGITS.split(r.rule_id)],
        )
    )
