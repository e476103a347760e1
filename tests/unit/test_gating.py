from __future__ import annotations

import json
from collections import Counter
from dataclasses import replace
from datetime import date

import pytest
import yaml

from compliance.config import bundled_controls_dir
from compliance.gating import (
    BUILT_IN,
    apply_baseline,
    apply_waivers,
    count_findings,
    evaluate_gate,
)
from compliance.mapping import evaluate_controls, map_findings
from compliance.model import (
    BaselineState,
    ControlStatus,
    Finding,
    FindingKind,
    Fingerprint,
    GateMode,
    Location,
    RuleId,
    ScannerRun,
    ScannerStatus,
    Service,
    ServiceName,
    ServiceSource,
    Severity,
    Suppression,
    SuppressionKind,
    Verdict,
    WaiverState,
)
from compliance.policy.baseline import Baseline, parse_baseline, render_baseline
from compliance.policy.gate import GatePolicy, parse_gate
from compliance.policy.mapping_rules import load_control_policy
from compliance.policy.waivers import Waivers, parse_waivers, path_glob

POLICY = load_control_policy(bundled_controls_dir())
TODAY = date(2026, 11, 29)
OK = (ScannerRun("bandit", ScannerStatus.OK, "1.9", 0.1),)
SERVICES = (
    Service(ServiceName("api"), "services/api", "@a", ServiceSource.CONFIG, None, ("pii",)),
    Service(ServiceName("worker"), "services/worker", "@w", ServiceSource.CONFIG, None, ()),
)


def finding(
    n: int,
    *,
    severity: Severity = Severity.HIGH,
    service: str = "api",
    rule: str = "B608",
    path: str | None = None,
    tool: str = "bandit",
) -> Finding:
    return Finding(
        fingerprint=Fingerprint(f"{n:032x}"),
        service=ServiceName(service),
        tool=tool,
        rule_id=RuleId(rule),
        title="t",
        message="m",
        severity=severity,
        kind=FindingKind.CODE,
        location=Location(path or f"services/{service}/app.py", n, n),
    )


def gate(text: str) -> GatePolicy:
    return parse_gate(yaml.safe_load(text), "gate.yaml", POLICY.catalogue)


def waivers(text: str, today: date = TODAY, max_days: int = 365) -> Waivers:
    return parse_waivers(yaml.safe_load(text), "waivers.yaml", today=today, max_days=max_days)


def verdict(
    findings: list[Finding], policy_text: str = "fail_on: high\n", **kw: Severity
) -> Verdict:
    mapped = map_findings(findings, POLICY.rules)
    controls = evaluate_controls(POLICY.catalogue, POLICY.rules, mapped, OK)
    return evaluate_gate(mapped, OK, controls, SERVICES, gate(policy_text), **kw)


# --- thresholds and overrides -------------------------------------------------------------


def test_threshold_fails_at_or_above_and_names_the_rule() -> None:
    result = verdict([finding(1, severity=Severity.HIGH), finding(2, severity=Severity.MEDIUM)])
    assert not result.passed
    assert [(r.policy, r.rule) for r in result.reasons] == [("gate.yaml", "fail_on")]
    assert result.reasons[0].message == "1 open finding at or above high"
    assert result.failing == (Fingerprint(f"{1:032x}"),)
    assert result.counts.total == 2 and result.counts.open == 2 and result.counts.failing == 1


def test_below_threshold_passes() -> None:
    result = verdict([finding(1, severity=Severity.MEDIUM)])
    assert result.passed and result.reasons == () and result.failing == ()


def test_command_line_threshold_replaces_the_default_only() -> None:
    text = "fail_on: high\noverrides:\n  - service: worker\n    fail_on: low\n"
    found = [
        finding(1, severity=Severity.MEDIUM),
        finding(2, severity=Severity.LOW, service="worker"),
    ]
    result = verdict(found, text, fail_on=Severity.CRITICAL)
    assert result.fail_on is Severity.CRITICAL
    assert [r.rule for r in result.reasons] == ["overrides[0]"]


def test_classification_override_tightens_for_pii_services() -> None:
    text = "fail_on: high\noverrides:\n  - data_classification: [pii]\n    fail_on: medium\n"
    found = [
        finding(1, severity=Severity.MEDIUM),
        finding(2, severity=Severity.MEDIUM, service="worker"),
    ]
    result = verdict(found, text)
    assert [r.rule for r in result.reasons] == ["overrides[0]"]
    assert result.reasons[0].message == "1 open finding of data pii at or above medium"
    assert result.failing == (Fingerprint(f"{1:032x}"),)


def test_strictest_matching_override_wins() -> None:
    text = (
        "fail_on: high\noverrides:\n"
        "  - service: api\n    fail_on: critical\n"
        "  - data_classification: pii\n    fail_on: low\n"
    )
    result = verdict([finding(1, severity=Severity.LOW)], text)
    assert [r.rule for r in result.reasons] == ["overrides[1]"]


def test_service_override_can_relax_when_nothing_stricter_matches() -> None:
    text = "fail_on: medium\noverrides:\n  - service: 'work*'\n    fail_on: critical\n"
    result = verdict([finding(1, severity=Severity.HIGH, service="worker")], text)
    assert result.passed


# --- limits -------------------------------------------------------------------------------


def test_control_limit_counts_open_findings_of_any_severity() -> None:
    text = "fail_on: critical\nlimits:\n  - control: A.8.24\n    max_findings: 0\n"
    weak_hash = finding(1, severity=Severity.LOW, rule="B324")  # mapped to A.8.24
    other = finding(2, severity=Severity.LOW, rule="B608")
    result = verdict([weak_hash, other], text)
    assert [r.rule for r in result.reasons] == ["limits[0]"]
    assert result.reasons[0].message == "1 open finding bear on A.8.24 (limit 0)"
    assert result.failing == (weak_hash.fingerprint,)


def test_limit_severity_floor() -> None:
    text = (
        "fail_on: critical\nlimits:\n  - control: A.8.24\n    max_findings: 0\n    severity: high\n"
    )
    assert verdict([finding(1, severity=Severity.MEDIUM, rule="B324")], text).passed


def test_framework_limit_on_failed_controls() -> None:
    text = "fail_on: critical\nlimits:\n  - framework: soc2\n    max_failed_controls: 0\n"
    result = verdict([finding(1, severity=Severity.LOW, rule="B608")], text)
    assert [r.rule for r in result.reasons] == ["limits[0]"]
    assert "control" in result.reasons[0].message and "CC8.1" in result.reasons[0].message
    assert result.failing == (Fingerprint(f"{1:032x}"),)


# --- built-in rules -----------------------------------------------------------------------


def test_scanner_error_fails_whatever_the_policy() -> None:
    runs = (*OK, ScannerRun("checkov", ScannerStatus.ERROR, None, 0.1, error="timed out"))
    result = evaluate_gate([], runs, (), SERVICES, gate("fail_on: critical\n"))
    assert [(r.policy, r.rule) for r in result.reasons] == [(BUILT_IN, "scanner-error")]
    assert not result.passed


def test_nothing_checked_is_never_a_pass() -> None:
    runs = (ScannerRun("bandit", ScannerStatus.SKIPPED, None, 0.0),)
    result = evaluate_gate([], runs, (), SERVICES, gate("fail_on: critical\n"))
    assert [r.rule for r in result.reasons] == ["nothing-checked"]


# --- waivers ------------------------------------------------------------------------------

WAIVERS = """
waivers:
  - id: W-1
    rule: B608
    path: services/api/**
    reason: allow-listed columns only
    owner: alice
    approver: bob
    expires: 2027-01-31
  - id: W-2
    fingerprint: "00000000000000000000000000000002"
    reason: accepted until the rewrite lands
    owner: carol
    approver: bob
    ticket: SEC-9
    expires: 2026-11-28
  - id: W-3
    rule: "B3*"
    path: legacy/**
    reason: legacy code being deleted
    owner: dan
    approver: bob
    expires: 2027-01-31
"""


def test_active_waiver_suppresses_and_is_reported() -> None:
    found = [finding(1), finding(2, service="worker")]
    out, statuses = apply_waivers(found, waivers(WAIVERS), TODAY)
    assert out[0].suppression is not None
    assert out[0].suppression.kind is SuppressionKind.WAIVED
    justification = out[0].suppression.justification
    assert "W-1" in justification and "alice" in justification and "bob" in justification
    assert "2027-01-31" in justification
    assert out[1].suppression is None  # W-1 is scoped to services/api/**
    by_id = {s.id: s for s in statuses}
    assert by_id["W-1"].state is WaiverState.ACTIVE
    assert by_id["W-1"].findings == (out[0].fingerprint,)


def test_expired_waiver_stops_suppressing_and_lists_what_it_covered() -> None:
    found = [finding(2, service="worker")]
    before, _ = apply_waivers(found, waivers(WAIVERS, today=date(2026, 11, 1)), date(2026, 11, 28))
    assert before[0].suppression is not None  # in force through the whole expiry day
    after, statuses = apply_waivers(found, waivers(WAIVERS), TODAY)
    assert after[0].suppression is None
    expired = {s.id: s for s in statuses}["W-2"]
    assert expired.state is WaiverState.EXPIRED
    assert expired.findings == (found[0].fingerprint,)
    # and the gate sees the finding again
    assert not verdict(list(after)).passed


def test_waiver_matching_nothing_is_stale() -> None:
    _, statuses = apply_waivers([finding(1)], waivers(WAIVERS), TODAY)
    assert {s.id: s.state for s in statuses}["W-3"] is WaiverState.STALE


def test_inline_suppression_is_kept_and_not_counted_by_waivers() -> None:
    inline = replace(finding(1), suppression=Suppression(SuppressionKind.INLINE, "# nosec"))
    out, statuses = apply_waivers([inline], waivers(WAIVERS), TODAY)
    assert out[0].suppression == inline.suppression
    assert {s.id: s.state for s in statuses}["W-1"] is WaiverState.STALE


def test_waived_findings_do_not_fail_the_gate_or_their_controls() -> None:
    found, _ = apply_waivers(map_findings([finding(1)], POLICY.rules), waivers(WAIVERS), TODAY)
    controls = evaluate_controls(POLICY.catalogue, POLICY.rules, found, OK)
    # (not passed either: A.8.28 also relies on semgrep, which did not run here)
    assert {c.id: c.status for c in controls}["A.8.28"] is ControlStatus.NOT_ASSESSED
    unwaived = evaluate_controls(
        POLICY.catalogue, POLICY.rules, map_findings([finding(1)], POLICY.rules), OK
    )
    assert {c.id: c.status for c in unwaived}["A.8.28"] is ControlStatus.FAILED
    result = evaluate_gate(found, OK, controls, SERVICES, gate("fail_on: low\n"))
    assert result.passed and result.counts.waived == 1 and result.counts.open == 0


@pytest.mark.parametrize(
    ("pattern", "path", "hit"),
    [
        ("services/api/**", "services/api/app/db.py", True),
        ("services/api/**", "services/apis/x.py", False),
        ("services/*/k8s/**", "services/api/k8s/deploy.yaml", True),
        ("services/*/k8s/**", "services/api/sub/k8s/deploy.yaml", False),
        ("**/test_*.py", "test_a.py", True),
        ("**/test_*.py", "a/b/test_a.py", True),
        ("*.tf", "infra/main.tf", False),
        ("./infra/*.tf", "infra/main.tf", True),
        (".github/**", ".github/workflows/ci.yml", True),
    ],
)
def test_path_globs(pattern: str, path: str, hit: bool) -> None:
    assert bool(path_glob(pattern).match(path)) is hit


# --- baseline -----------------------------------------------------------------------------


def test_new_only_suppresses_baselined_findings() -> None:
    old, new = finding(1), finding(2)
    baseline = Baseline("b.json", Counter({old.fingerprint: 1}))
    out, summary = apply_baseline([old, new], baseline, GateMode.NEW_ONLY)
    assert out[0].baseline is BaselineState.UNCHANGED
    assert out[0].suppression is not None
    assert out[0].suppression.kind is SuppressionKind.BASELINED
    assert out[1].baseline is BaselineState.NEW and out[1].suppression is None
    assert summary is not None and (summary.entries, summary.matched, summary.absent) == (1, 1, 0)
    result = verdict(list(out))
    assert result.failing == (new.fingerprint,)
    assert (result.counts.new, result.counts.unchanged, result.counts.baselined) == (1, 1, 1)


def test_mode_all_labels_but_does_not_suppress() -> None:
    old = finding(1)
    out, _ = apply_baseline([old], Baseline("b.json", Counter({old.fingerprint: 1})), GateMode.ALL)
    assert out[0].baseline is BaselineState.UNCHANGED and out[0].suppression is None


def test_one_baseline_entry_cannot_absorb_an_identical_new_finding() -> None:
    # Two findings that share a fingerprint (the count is what keeps them apart).
    first, twin = finding(1), replace(finding(1), location=Location("services/api/app.py", 9, 9))
    baseline = Baseline("b.json", Counter({first.fingerprint: 1}))
    out, _ = apply_baseline([first, twin], baseline, GateMode.NEW_ONLY)
    assert [f.baseline for f in out] == [BaselineState.UNCHANGED, BaselineState.NEW]
    assert out[1].suppression is None


def test_fixed_findings_show_as_absent() -> None:
    baseline = Baseline("b.json", Counter({Fingerprint(f"{9:032x}"): 2}))
    _, summary = apply_baseline([finding(1)], baseline, GateMode.NEW_ONLY)
    assert summary is not None and (summary.matched, summary.absent) == (0, 2)


def test_baseline_file_round_trip_is_deterministic() -> None:
    found = [finding(2, service="worker"), finding(1)]
    text = render_baseline(found, "compliance 0")
    assert text == render_baseline(list(reversed(found)), "compliance 0")
    data = json.loads(text)
    assert [e["path"] for e in data["findings"]] == [
        "services/api/app.py",
        "services/worker/app.py",
    ]
    loaded = parse_baseline(data, "b.json")
    assert loaded.counts == Counter({f.fingerprint: 1 for f in found})


def test_counts_add_up() -> None:
    found = [
        finding(1),
        replace(finding(2), suppression=Suppression(SuppressionKind.INLINE, "x")),
        replace(finding(3), suppression=Suppression(SuppressionKind.WAIVED, "x")),
        replace(
            finding(4),
            suppression=Suppression(SuppressionKind.BASELINED, "x"),
            baseline=BaselineState.UNCHANGED,
        ),
    ]
    counts = count_findings(found, failing=1)
    assert (counts.open, counts.suppressed, counts.waived, counts.baselined) == (1, 1, 1, 1)
    assert counts.open + counts.suppressed + counts.waived + counts.baselined == counts.total
    assert (counts.new, counts.unchanged) == (3, 1)
