from __future__ import annotations

from dataclasses import replace

import pytest

from compliance.config import bundled_controls_dir
from compliance.mapping import MANUAL, NO_RULE, evaluate_controls, map_findings, selects
from compliance.model import (
    REPO_SERVICE,
    ControlResult,
    ControlStatus,
    Finding,
    FindingKind,
    Fingerprint,
    Location,
    RuleId,
    ScannerRun,
    ScannerStatus,
    Severity,
    Skip,
    Suppression,
    SuppressionKind,
)
from compliance.policy.catalogue import Catalogue
from compliance.policy.mapping_rules import (
    ControlPolicy,
    Evidence,
    MappingRule,
    MappingRules,
    Selector,
    load_control_policy,
)

POLICY = load_control_policy(bundled_controls_dir())


def finding(
    tool: str = "bandit",
    rule_id: str = "B608",
    *,
    kind: FindingKind = FindingKind.CODE,
    category: str | None = None,
    cwe: tuple[str, ...] = (),
    n: int = 1,
) -> Finding:
    return Finding(
        fingerprint=Fingerprint(f"{n:032x}"),
        service=REPO_SERVICE,
        tool=tool,
        rule_id=RuleId(rule_id),
        title="t",
        message="m",
        severity=Severity.HIGH,
        kind=kind,
        location=Location("app.py", 1, 1),
        cwe=cwe,
        category=category,
    )


def ok(*names: str) -> tuple[ScannerRun, ...]:
    return tuple(ScannerRun(n, ScannerStatus.OK, "1.0", 0.1) for n in names)


def run(name: str, status: ScannerStatus) -> ScannerRun:
    return ScannerRun(name, status, None, 0.0, error="why")


ALL = ("bandit", "semgrep", "pip-audit", "checkov")


def by_id(results: tuple[ControlResult, ...]) -> dict[str, ControlResult]:
    return {r.id: r for r in results}


# map_findings with the shipped rules


def test_bandit_injection_maps_to_secure_coding_and_vulnerabilities_iso_first() -> None:
    (mapped,) = map_findings([finding("bandit", "B608")], POLICY.rules)
    assert mapped.controls == ("A.8.8", "A.8.25", "A.8.28", "CC8.1")


def test_every_shipped_default_from_the_issue() -> None:
    cases = {
        ("pip-audit", "PYSEC-1", FindingKind.DEPENDENCY_VULNERABILITY, "dependency"): {
            "CC7.1",
            "A.8.8",
        },
        ("bandit", "B105", FindingKind.SECRET, None): {"CC6.1", "A.5.17"},
        ("bandit", "B324", FindingKind.CODE, None): {"A.8.24"},
        ("checkov", "CKV_AWS_24", FindingKind.IAC_MISCONFIGURATION, "networking"): {
            "CC7.1",
            "A.8.9",
            "CC6.6",
            "A.8.20",
            "A.8.22",
        },
        ("checkov", "CKV_AWS_16", FindingKind.IAC_MISCONFIGURATION, "encryption"): {
            "CC6.1",
            "CC6.7",
            "A.8.24",
        },
        ("checkov", "CKV_AWS_18", FindingKind.IAC_MISCONFIGURATION, "logging"): {
            "CC7.2",
            "A.8.15",
            "A.8.16",
        },
        ("checkov", "CKV_AWS_21", FindingKind.IAC_MISCONFIGURATION, "backup"): {"A1.2", "A.8.13"},
        ("semgrep", "boto3-region-literal", FindingKind.CODE, "residency"): {
            "C1.1",
            "A.5.31",
            "A.5.34",
            "A.5.23",
        },
    }
    for (tool, rule_id, kind, category), expected in cases.items():
        (mapped,) = map_findings(
            [finding(tool, rule_id, kind=kind, category=category)], POLICY.rules
        )
        assert expected <= set(mapped.controls), (tool, rule_id, mapped.controls)


def test_checkov_id_globs_and_lists() -> None:
    (k8s, aws) = map_findings(
        [
            finding("checkov", "CKV_K8S_16", kind=FindingKind.IAC_MISCONFIGURATION, category="x"),
            finding("checkov", "CKV2_AWS_6", kind=FindingKind.IAC_MISCONFIGURATION, category="x"),
        ],
        POLICY.rules,
    )
    assert {"A.8.2", "CC6.3"} <= set(k8s.controls)
    assert "A.5.23" not in k8s.controls  # not a cloud-provider check
    assert {"A.5.23", "C1.1"} <= set(aws.controls)  # CKV*_AWS_* and the explicit list


def test_selector_fields_are_anded_and_values_ored() -> None:
    selector = Selector(tool="semgrep", categories=("tls", "crypto"), cwes=("CWE-295",))
    assert selects(selector, finding("semgrep", "x", category="tls", cwe=("CWE-1", "CWE-295")))
    assert not selects(selector, finding("semgrep", "x", category="tls"))
    assert not selects(selector, finding("bandit", "x", category="tls", cwe=("CWE-295",)))
    assert selects(Selector(rules=("B31[3-9]",)), finding(rule_id="B317"))
    assert not selects(Selector(rules=("B31[3-9]",)), finding(rule_id="B312"))
    assert not selects(Selector(rules=("b608",)), finding(rule_id="B608"))  # case-sensitive
    kinds = Selector(kinds=(FindingKind.SECRET,))
    assert selects(kinds, finding(kind=FindingKind.SECRET))
    assert not selects(kinds, finding())


def test_check_only_selects_checkov_findings() -> None:
    selector = Selector(checks=("CKV_*",))
    assert selects(selector, finding("checkov", "CKV_AWS_1"))
    assert not selects(selector, finding("semgrep", "CKV_AWS_1"))


def test_an_unselected_finding_keeps_no_controls_and_order_is_preserved() -> None:
    findings = [finding("other", "X", n=1), finding("bandit", "B101", n=2)]
    mapped = map_findings(findings, POLICY.rules)
    assert [f.fingerprint for f in mapped] == [f.fingerprint for f in findings]
    assert mapped[0].controls == ()
    assert mapped[1].controls == ("A.8.25", "A.8.28", "CC8.1")


# evaluate_controls with small hand-made rule sets


def rules(*items: MappingRule) -> MappingRules:
    return MappingRules(items)


def findings_rule(
    rule_id: str = "r",
    controls: tuple[str, ...] = ("CC8.1",),
    scanners: tuple[str, ...] = ("bandit",),
) -> MappingRule:
    return MappingRule(
        rule_id,
        "why",
        scanners,
        Evidence.FINDINGS,
        (Selector(tool=scanners[0]),),
        controls,
        "mappings/test.yaml",
    )


def process_rule(scanners: tuple[str, ...] = ("bandit", "checkov")) -> MappingRule:
    return MappingRule("p", "why", scanners, Evidence.SCAN_COMPLETED, (), ("A.8.29",), "m.yaml")


def evaluate(
    policy_rules: MappingRules, findings: list[Finding], runs: tuple[ScannerRun, ...]
) -> dict[str, ControlResult]:
    catalogue: Catalogue = POLICY.catalogue
    mapped = map_findings(findings, policy_rules)
    return by_id(evaluate_controls(catalogue, policy_rules, mapped, runs))


def test_one_result_per_control_sorted_iso_first_natural_order() -> None:
    results = evaluate_controls(POLICY.catalogue, POLICY.rules, (), ok(*ALL))
    ids = [r.id for r in results]
    assert len(ids) == 93 + 61
    assert ids[:2] == ["A.5.1", "A.5.2"]
    assert ids.index("A.5.9") < ids.index("A.5.10")
    assert {r.framework for r in results[:93]} == {"iso27001"}
    assert {r.framework for r in results[93:]} == {"soc2"}


def test_open_finding_fails_the_control_and_lists_its_fingerprint() -> None:
    result = evaluate(rules(findings_rule()), [finding(n=7)], ok("bandit"))["CC8.1"]
    assert result.status is ControlStatus.FAILED
    assert result.findings == (Fingerprint(f"{7:032x}"),)
    assert result.rules == ("r",)
    assert result.reason == "1 open finding(s)"
    assert (result.framework, result.automation) == ("soc2", "automated")


def test_suppressed_finding_does_not_fail_and_is_noted() -> None:
    waived = replace(finding(), suppression=Suppression(SuppressionKind.WAIVED, "accepted"))
    result = evaluate(rules(findings_rule()), [waived], ok("bandit"))["CC8.1"]
    assert result.status is ControlStatus.PASSED
    assert result.findings == ()
    assert result.reason == "1 suppressed finding(s) not counted"


def test_clean_run_passes() -> None:
    result = evaluate(rules(findings_rule()), [], ok("bandit"))["CC8.1"]
    assert (result.status, result.reason) == (ControlStatus.PASSED, None)


@pytest.mark.parametrize(
    ("runs", "reason"),
    [
        ((run("bandit", ScannerStatus.ERROR),), "bandit failed"),
        ((run("bandit", ScannerStatus.SKIPPED),), "bandit had nothing to scan"),
        ((), "bandit did not run"),
    ],
)
def test_scanner_not_ok_leaves_findings_rules_not_assessed(
    runs: tuple[ScannerRun, ...], reason: str
) -> None:
    result = evaluate(rules(findings_rule()), [], runs)["CC8.1"]
    assert (result.status, result.reason) == (ControlStatus.NOT_ASSESSED, reason)


def test_every_scanner_of_every_rule_must_run_cleanly() -> None:
    two = rules(findings_rule("a"), findings_rule("b", scanners=("checkov",)))
    runs = (*ok("bandit"), run("checkov", ScannerStatus.ERROR))
    result = evaluate(two, [], runs)["CC8.1"]
    assert (result.status, result.reason) == (ControlStatus.NOT_ASSESSED, "checkov failed")
    assert result.rules == ("a", "b")


def test_a_finding_fails_the_control_even_when_another_scanner_failed() -> None:
    two = rules(findings_rule("a"), findings_rule("b", scanners=("checkov",)))
    runs = (*ok("bandit"), run("checkov", ScannerStatus.ERROR))
    assert evaluate(two, [finding()], runs)["CC8.1"].status is ControlStatus.FAILED


def test_process_rule_counts_skipped_as_completed_but_not_errors() -> None:
    process = rules(process_rule())
    skipped = (*ok("bandit"), run("checkov", ScannerStatus.SKIPPED))
    assert evaluate(process, [], skipped)["A.8.29"].status is ControlStatus.PASSED
    failed = (*ok("bandit"), run("checkov", ScannerStatus.ERROR))
    result = evaluate(process, [], failed)["A.8.29"]
    assert (result.status, result.reason) == (ControlStatus.NOT_ASSESSED, "checkov failed")
    missing = evaluate(process, [], ok("bandit"))["A.8.29"]
    assert (missing.status, missing.reason) == (ControlStatus.NOT_ASSESSED, "checkov did not run")


def test_process_rule_needs_one_scanner_that_ran() -> None:
    nothing = (run("bandit", ScannerStatus.SKIPPED), run("checkov", ScannerStatus.SKIPPED))
    result = evaluate(rules(process_rule()), [], nothing)["A.8.29"]
    assert result.status is ControlStatus.NOT_ASSESSED
    assert result.reason == "none of bandit, checkov had anything to scan"


def test_controls_without_rules_are_manual_or_not_assessed() -> None:
    results = evaluate(rules(findings_rule()), [], ok("bandit"))
    assert (results["A.7.1"].status, results["A.7.1"].reason) == (ControlStatus.MANUAL, MANUAL)
    assert results["A.7.1"].automation == "manual"
    assert (results["A.8.8"].status, results["A.8.8"].reason) == (
        ControlStatus.NOT_ASSESSED,
        NO_RULE,
    )


def test_shipped_rules_on_a_clean_full_run() -> None:
    results = by_id(evaluate_controls(POLICY.catalogue, POLICY.rules, (), ok(*ALL)))
    statuses = {r.status for r in results.values()}
    assert statuses == {ControlStatus.PASSED, ControlStatus.NOT_ASSESSED, ControlStatus.MANUAL}
    for control_id in ("CC8.1", "A.8.29", "A.8.32", "CC7.1", "A.8.8", "A.8.28", "A.5.7"):
        assert results[control_id].status is ControlStatus.PASSED, control_id
    assert results["A.5.8"].status is ControlStatus.NOT_ASSESSED  # threat models: no rule yet
    manual = [r for r in results.values() if r.automation == "manual"]
    assert manual and all(r.status is ControlStatus.MANUAL for r in manual)


def test_shipped_rules_without_iac_leave_iac_controls_not_assessed() -> None:
    runs = (*ok("bandit", "semgrep", "pip-audit"), run("checkov", ScannerStatus.SKIPPED))
    results = by_id(evaluate_controls(POLICY.catalogue, POLICY.rules, (), runs))
    assert results["A.8.28"].status is ControlStatus.PASSED
    for control_id in ("A.8.29", "A.8.32", "CC8.1"):  # the scan ran on the change
        assert results[control_id].status is ControlStatus.PASSED, control_id
    assert results["A.8.20"].status is ControlStatus.NOT_ASSESSED
    assert results["A.8.20"].reason == "checkov had nothing to scan"


def test_policy_type_is_what_the_pipeline_gets() -> None:
    assert isinstance(POLICY, ControlPolicy)


def test_a_rule_selects_only_findings_of_its_own_scanners() -> None:
    (sentry,) = map_findings(
        [finding("semgrep", "sentry-send-default-pii", category="logging")], POLICY.rules
    )
    assert "P6.1" in sentry.controls
    assert "A.8.16" not in sentry.controls  # iac-logging's category, but a checkov rule
    loose = rules(
        MappingRule(
            "r",
            "why",
            ("checkov",),
            Evidence.FINDINGS,
            (Selector(categories=("x",)),),
            ("CC8.1",),
            "m",
        )
    )
    (other,) = map_findings([finding("semgrep", "y", category="x")], loose)
    assert other.controls == ()


def test_a_passed_control_says_which_inputs_its_scanners_could_not_analyse() -> None:
    skipped = (
        Skip("svc/new.py", "bandit could not analyse it: syntax error", tool="bandit"),
        Skip("svc/big.py", "semgrep could not analyse it: Timeout", tool="semgrep"),
        Skip("svc/other.py", "bandit could not analyse it: syntax error", tool="bandit"),
        Skip("charts/api", "Helm chart not scanned", tool="checkov"),
        Skip("huge.bin", "larger than 2 MiB"),  # no tool: the inventory's
    )
    results = by_id(evaluate_controls(POLICY.catalogue, POLICY.rules, (), ok(*ALL), skipped))
    only_bandit = evaluate_controls(
        POLICY.catalogue, rules(findings_rule()), (), ok("bandit"), skipped
    )
    cc81 = by_id(only_bandit)["CC8.1"]
    assert cc81.status is ControlStatus.PASSED
    assert cc81.reason == "inputs its scanners could not analyse: bandit 2 (see skipped)"
    a828 = results["A.8.28"]  # secure coding: bandit and semgrep
    assert a828.status is ControlStatus.PASSED
    assert a828.reason is not None and "bandit 2, semgrep 1 (see skipped)" in a828.reason
    clean = by_id(evaluate_controls(POLICY.catalogue, POLICY.rules, (), ok(*ALL)))
    assert {r.id for r in clean.values() if r.status is ControlStatus.PASSED} == {
        r.id for r in results.values() if r.status is ControlStatus.PASSED
    }
    assert all(r.reason is None for r in clean.values() if r.status is ControlStatus.PASSED)
