"""The SARIF renderer: schema-valid SARIF 2.1.0 shaped for GitHub code scanning."""

from __future__ import annotations

import dataclasses
import gzip
import hashlib
import json
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft4Validator

from compliance.model import (
    BaselineState,
    Confidence,
    Finding,
    FindingKind,
    Fingerprint,
    GateFailure,
    Location,
    Package,
    RuleId,
    ScannerRun,
    ScannerStatus,
    ScanResult,
    ServiceName,
    Severity,
    Skip,
    Suppression,
    SuppressionKind,
    Verdict,
)
from compliance.reporting.interface import MultiFileRenderer, RenderOptions, SplitRequired
from compliance.reporting.sarif.renderer import SarifRenderer
from compliance.reporting.sarif.runs import SECURITY_SEVERITY

import factories

SCHEMA_PATH = Path(__file__).resolve().parents[1] / "assets" / "schemas" / "sarif-schema-2.1.0.json"
OPTIONS = RenderOptions()
Golden = Callable[[str, str], None]


@pytest.fixture(scope="module")
def validator() -> Draft4Validator:
    schema = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    Draft4Validator.check_schema(schema)
    return Draft4Validator(schema)


def assert_valid(validator: Draft4Validator, text: str) -> dict[str, Any]:
    log: dict[str, Any] = json.loads(text)
    errors = sorted(validator.iter_errors(log), key=lambda e: list(e.absolute_path))
    assert not errors, "\n".join(f"{list(e.absolute_path)}: {e.message}" for e in errors[:5])
    return log


def finding(
    n: int,
    *,
    tool: str = "bandit",
    rule: str = "B602",
    path: str = "services/api/app.py",
    line: int | None = 10,
    severity: Severity = Severity.HIGH,
    kind: FindingKind = FindingKind.CODE,
    **changes: Any,
) -> Finding:
    fields: dict[str, Any] = {
        "fingerprint": Fingerprint(hashlib.sha256(f"{tool}{n}".encode()).hexdigest()[:32]),
        "service": ServiceName("api"),
        "tool": tool,
        "rule_id": RuleId(rule),
        "title": "subprocess popen with shell equals true",
        "message": f"subprocess call with shell=True identified, security issue ({n}).",
        "severity": severity,
        "kind": kind,
        "location": Location(path, line, line),
        "confidence": Confidence.HIGH,
        "cwe": ("CWE-78",),
        "snippet": "subprocess.run(cmd, shell=True)" if line is not None else None,
        "help_url": "https://bandit.readthedocs.io/en/latest/plugins/b602.html",
        "controls": ("A.8.28", "CC8.1"),
    }
    fields.update(changes)
    return Finding(**fields)


def scan(
    findings: Sequence[Finding],
    scanners: Sequence[ScannerRun] | None = None,
    skipped: Sequence[Skip] = (),
) -> ScanResult:
    if scanners is None:
        tools = dict.fromkeys(f.tool for f in findings)
        scanners = [ScannerRun(t, ScannerStatus.OK, "1.0", 1.0) for t in tools]
    return factories.scan_result(
        scanners=tuple(scanners),
        findings=tuple(sorted(findings, key=Finding.sort_key)),
        skipped=tuple(skipped),
        verdict=Verdict(
            passed=False,
            fail_on=Severity.HIGH,
            reasons=(GateFailure("policies/gate.yaml", "fail_on", "1 open finding"),),
        ),
    )


@pytest.fixture(scope="module")
def mixed() -> ScanResult:
    """Every suppression kind, both baseline states, a dependency finding, a finding without
    a line, a scanner error, a skipped scanner and a clean scanner with no findings."""
    findings = [
        finding(1, baseline=BaselineState.NEW),
        finding(2, baseline=BaselineState.UNCHANGED, severity=Severity.MEDIUM),
        finding(3, suppression=Suppression(SuppressionKind.INLINE, "# nosec: fixed input")),
        finding(4, suppression=Suppression(SuppressionKind.WAIVED, "waiver W-1: accepted")),
        finding(5, suppression=Suppression(SuppressionKind.BASELINED, "in the baseline")),
        finding(
            6,
            tool="pip-audit",
            rule="PYSEC-2023-74",
            path="services/api/requirements.txt",
            line=35,
            kind=FindingKind.DEPENDENCY_VULNERABILITY,
            title="requests 2.25.1: PYSEC-2023-74",
            message="Requests leaks Proxy-Authorization headers. Fixed in 2.31.0.",
            confidence=None,
            cwe=(),
            snippet=None,
            category="dependency",
            resource="requests==2.25.1",
            package=Package("requests", "2.25.1", ("2.31.0",), ("CVE-2023-32681",)),
            help_url="https://osv.dev/vulnerability/PYSEC-2023-74",
        ),
        finding(
            7,
            tool="pip-audit",
            rule="PYSEC-2023-74",
            path="services/worker/poetry.lock",
            line=None,
            kind=FindingKind.DEPENDENCY_VULNERABILITY,
            title="requests 2.28.1: PYSEC-2023-74",
            message="Requests leaks Proxy-Authorization headers. Fixed in 2.31.0.",
            confidence=None,
            cwe=(),
            package=Package("requests", "2.28.1", ("2.31.0",)),
        ),
        finding(
            8,
            tool="pip-audit",
            rule="unpinned-dependency",
            severity=Severity.INFO,
            kind=FindingKind.DEPENDENCY_NOT_AUDITED,
            title="flask: not pinned",
            path="services/api/requirements.txt",
            line=3,
            package=Package("flask", None),
            confidence=None,
            cwe=(),
        ),
    ]
    scanners = [
        ScannerRun("bandit", ScannerStatus.OK, "1.9.4", 1.0),
        ScannerRun("semgrep", ScannerStatus.ERROR, None, 2.0, error="semgrep crashed (exit 2)"),
        ScannerRun("pip-audit", ScannerStatus.OK, "2.10.1", 1.0),
        ScannerRun("checkov", ScannerStatus.SKIPPED, None, 0.1, error="no IaC files"),
        ScannerRun("clean-tool", ScannerStatus.OK, "3.0", 0.5),
    ]
    skipped = [
        Skip("charts/api", "Helm chart not scanned: helm missing", "bandit"),
        Skip("x.bin", "binary"),
    ]
    return scan(findings, scanners, skipped)


def runs_by_category(log: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {run["automationDetails"]["id"]: run for run in log["runs"]}


def all_results(texts: Sequence[str]) -> list[dict[str, Any]]:
    return [r for text in texts for run in json.loads(text)["runs"] for r in run["results"]]


# --- validity -------------------------------------------------------------------------


def test_examples_result_is_valid_sarif_and_matches_golden(
    examples_result: ScanResult, validator: Draft4Validator, golden: Golden
) -> None:
    text = SarifRenderer().render(examples_result, OPTIONS)
    log = assert_valid(validator, text)
    assert log["version"] == "2.1.0"
    assert len(all_results([text])) == len(examples_result.findings)
    golden("sarif/examples.sarif", text)


def test_renderer_implements_the_multi_file_protocol() -> None:
    assert isinstance(SarifRenderer(), MultiFileRenderer)
    assert SarifRenderer.name == "sarif"


def test_mixed_result_is_valid(mixed: ScanResult, validator: Draft4Validator) -> None:
    assert_valid(validator, SarifRenderer().render(mixed, OPTIONS))


# --- GitHub specifics -----------------------------------------------------------------


def test_one_run_per_tool_with_a_unique_category(examples_result: ScanResult) -> None:
    log = json.loads(SarifRenderer().render(examples_result, OPTIONS))
    names = [run["tool"]["driver"]["name"] for run in log["runs"]]
    assert names == [s.name for s in examples_result.scanners]
    ids = [run["automationDetails"]["id"] for run in log["runs"]]
    assert ids == [f"compliance/{name}/" for name in names]
    versions = {
        run["tool"]["driver"]["name"]: run["tool"]["driver"]["version"] for run in log["runs"]
    }
    assert versions == {s.name: s.version for s in examples_result.scanners}


def test_rules_results_fingerprints_and_locations(examples_result: ScanResult) -> None:
    log = json.loads(SarifRenderer().render(examples_result, OPTIONS))
    expected = {f.fingerprint: f for f in examples_result.findings}
    for run in log["runs"]:
        rules = run["tool"]["driver"]["rules"]
        assert len({r["id"] for r in rules}) == len(rules)
        assert {r["ruleId"] for r in run["results"]} == {r["id"] for r in rules}
        for result in run["results"]:
            assert rules[result["ruleIndex"]]["id"] == result["ruleId"]
            fingerprint = result["partialFingerprints"]["compliance/v1"]
            source = expected[Fingerprint(fingerprint)]
            assert result["ruleId"] == source.rule_id
            artifact = result["locations"][0]["physicalLocation"]["artifactLocation"]
            assert artifact == {"uri": source.location.path, "uriBaseId": "%SRCROOT%"}
            assert not artifact["uri"].startswith("/")
            region = result["locations"][0]["physicalLocation"].get("region")
            if source.location.start_line is None:  # a missing threat model: a folder
                assert region is None
            else:
                assert region is not None and region["startLine"] == source.location.start_line
            assert result["properties"]["service"] == source.service
            assert result["properties"]["controls"] == list(source.controls)
        for rule in rules:
            for key in ("shortDescription", "fullDescription"):
                assert 0 < len(rule[key]["text"]) <= 1024
            assert rule["help"]["text"] and rule["help"]["markdown"]


def test_security_severity_is_a_numeric_string_in_githubs_bands(
    examples_result: ScanResult,
) -> None:
    bands = {"critical": (9.0, 10.0), "high": (7.0, 8.9), "medium": (4.0, 6.9), "low": (0.1, 3.9)}
    assert set(SECURITY_SEVERITY) == {s for s in Severity if s is not Severity.INFO}
    for severity, score in SECURITY_SEVERITY.items():
        low, high = bands[severity.value]
        assert re.fullmatch(r"\d+\.\d", score) and low < float(score) <= high
    log = json.loads(SarifRenderer().render(examples_result, OPTIONS))
    worst: dict[str, Severity] = {}
    for f in examples_result.findings:
        key = f"{f.tool}/{f.rule_id}"
        worst[key] = max(worst.get(key, f.severity), f.severity)
    for run in log["runs"]:
        for rule in run["tool"]["driver"]["rules"]:
            severity = worst[f"{run['tool']['driver']['name']}/{rule['id']}"]
            assert rule["properties"]["security-severity"] == SECURITY_SEVERITY[severity]


def test_levels_follow_severity(mixed: ScanResult) -> None:
    log = json.loads(SarifRenderer().render(mixed, OPTIONS))
    levels = {
        r["partialFingerprints"]["compliance/v1"]: r["level"]
        for run in log["runs"]
        for r in run["results"]
    }
    expected = {Severity.HIGH: "error", Severity.MEDIUM: "warning", Severity.INFO: "note"}
    for f in mixed.findings:
        assert levels[f.fingerprint] == expected[f.severity]
    pip_rules = runs_by_category(log)["compliance/pip-audit/"]["tool"]["driver"]["rules"]
    info_rule = next(r for r in pip_rules if r["id"] == "unpinned-dependency")
    assert "security-severity" not in info_rule["properties"]
    assert info_rule["defaultConfiguration"]["level"] == "note"


def test_tags_carry_security_cwe_and_controls(examples_result: ScanResult) -> None:
    log = json.loads(SarifRenderer().render(examples_result, OPTIONS))
    bandit = runs_by_category(log)["compliance/bandit/"]["tool"]["driver"]["rules"]
    b602 = next(r for r in bandit if r["id"] == "B602")
    tags = b602["properties"]["tags"]
    assert tags[0] == "security"
    assert "external/cwe/cwe-78" in tags
    source = next(f for f in examples_result.findings if f.rule_id == "B602")
    assert set(source.controls) <= set(tags)
    assert b602["properties"]["precision"] == "high"
    for run in log["runs"]:
        for rule in run["tool"]["driver"]["rules"]:
            assert len(rule["properties"]["tags"]) <= 10


def test_tags_are_capped_at_ten_but_help_lists_every_control() -> None:
    controls = tuple(f"A.8.{n}" for n in range(1, 13))
    log = json.loads(SarifRenderer().render(scan([finding(1, controls=controls)]), OPTIONS))
    rule = log["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["properties"]["tags"] == ["security", "external/cwe/cwe-78", *controls[:8]]
    assert all(c in rule["help"]["text"] for c in controls)


def test_paths_are_percent_encoded_relative_uris() -> None:
    paths = ["docs/my file.py", "src/a#b.py", "src/100%.py", "src/ünï.py", "src/q?.py"]
    findings = [finding(n, path=p) for n, p in enumerate(paths)]
    log = json.loads(SarifRenderer().render(scan(findings), OPTIONS))
    uris = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
        for r in log["runs"][0]["results"]
    }
    assert uris == {
        "docs/my%20file.py",
        "src/a%23b.py",
        "src/100%25.py",
        "src/%C3%BCn%C3%AF.py",
        "src/q%3F.py",
    }


# --- scanners that did not run cleanly, suppressions, baselines, dependencies -----------


def test_failed_and_skipped_scanners_get_no_run(mixed: ScanResult) -> None:
    log = json.loads(SarifRenderer().render(mixed, OPTIONS))
    runs = runs_by_category(log)
    assert list(runs) == ["compliance/bandit/", "compliance/pip-audit/", "compliance/clean-tool/"]
    assert all(run["invocations"][0]["executionSuccessful"] for run in log["runs"])
    not_reported = log["properties"]["compliance"]["notReported"]
    assert [(s["scanner"], s["status"]) for s in not_reported] == [
        ("semgrep", "error"),
        ("checkov", "skipped"),
    ]
    assert not_reported[0]["reason"] == "semgrep crashed (exit 2)"


def test_a_scanner_that_failed_in_any_shard_gets_no_run() -> None:
    scanners = [
        ScannerRun("bandit", ScannerStatus.OK, "1.9.4", 1.0),
        ScannerRun("bandit", ScannerStatus.ERROR, None, 1.0, error="shard 2: timeout"),
    ]
    log = json.loads(SarifRenderer().render(scan([finding(1)], scanners), OPTIONS))
    assert log["runs"] == []
    assert log["properties"]["compliance"]["notReported"] == [
        {"scanner": "bandit", "status": "error", "reason": "shard 2: timeout", "findings": 1}
    ]


def test_clean_scanner_gets_an_empty_run_that_closes_its_alerts(mixed: ScanResult) -> None:
    run = runs_by_category(json.loads(SarifRenderer().render(mixed, OPTIONS)))[
        "compliance/clean-tool/"
    ]
    assert run["results"] == []
    assert run["tool"]["driver"] == {"name": "clean-tool", "version": "3.0", "rules": []}


def test_skipped_inputs_are_warning_notifications_of_their_scanner(mixed: ScanResult) -> None:
    run = runs_by_category(json.loads(SarifRenderer().render(mixed, OPTIONS)))["compliance/bandit/"]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == [
        "Not scanned: charts/api: Helm chart not scanned: helm missing"
    ]
    assert notes[0]["level"] == "warning"


def test_no_scanner_ran_cleanly_gives_an_empty_log(validator: Draft4Validator) -> None:
    result = scan([], [ScannerRun("bandit", ScannerStatus.ERROR, None, 1.0, error="boom")])
    log = assert_valid(validator, SarifRenderer().render(result, OPTIONS))
    assert log["runs"] == []


def test_suppressions_and_baseline_states(mixed: ScanResult) -> None:
    log = json.loads(SarifRenderer().render(mixed, OPTIONS))
    results = {
        r["partialFingerprints"]["compliance/v1"]: r for run in log["runs"] for r in run["results"]
    }
    expected_kind = {"inline": "inSource", "waived": "external", "baselined": "external"}
    for f in mixed.findings:
        result = results[f.fingerprint]
        if f.suppression is None:
            assert "suppressions" not in result
        else:
            assert result["suppressions"] == [
                {
                    "kind": expected_kind[f.suppression.kind.value],
                    "status": "accepted",
                    "justification": f.suppression.justification,
                    "properties": {"kind": f.suppression.kind.value},
                }
            ]
        if f.baseline is None:
            assert "baselineState" not in result
        else:
            assert result["baselineState"] == f.baseline.value


def test_dependency_findings(mixed: ScanResult) -> None:
    run = runs_by_category(json.loads(SarifRenderer().render(mixed, OPTIONS)))[
        "compliance/pip-audit/"
    ]
    by_path = {
        r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]: r
        for r in run["results"]
        if r["ruleId"] == "PYSEC-2023-74"
    }
    first = by_path["services/api/requirements.txt"]
    assert first["message"]["text"].startswith("requests 2.25.1 (fixed in 2.31.0): Requests leaks")
    assert first["properties"]["package"] == {
        "name": "requests",
        "version": "2.25.1",
        "fixedVersions": ["2.31.0"],
        "aliases": ["CVE-2023-32681"],
    }
    assert first["properties"]["kind"] == "dependency-vulnerability"
    assert first["properties"]["category"] == "dependency"
    assert first["locations"][0]["physicalLocation"]["region"] == {"startLine": 35, "endLine": 35}
    no_line = by_path["services/worker/poetry.lock"]
    assert "region" not in no_line["locations"][0]["physicalLocation"]
    rule = next(r for r in run["tool"]["driver"]["rules"] if r["id"] == "PYSEC-2023-74")
    assert rule["shortDescription"]["text"] == "requests: PYSEC-2023-74 (CVE-2023-32681)"
    assert rule["helpUri"] == "https://osv.dev/vulnerability/PYSEC-2023-74"


def test_snippet_is_kept_only_when_it_is_the_regions_text() -> None:
    whole = finding(1, location=Location("a.py", 3, 4), snippet="x = 1\ny = 2\n")
    cut = finding(2, location=Location("a.py", 10, 30), snippet="resource {\n  a = 1")
    log = json.loads(SarifRenderer().render(scan([whole, cut]), OPTIONS))
    regions = {
        r["locations"][0]["physicalLocation"]["region"]["startLine"]: r["locations"][0][
            "physicalLocation"
        ]["region"]
        for r in log["runs"][0]["results"]
    }
    assert regions[3]["snippet"] == {"text": "x = 1\ny = 2\n"}
    assert "snippet" not in regions[10]


# --- hostile text -----------------------------------------------------------------------


def test_script_and_control_characters_round_trip_as_json_text(
    validator: Draft4Validator,
) -> None:
    message = '<script>alert(1)</script>\x1b[31mred\x00\u2028end\\ "q"'
    title = "[click](javascript:alert(1)) <b>*bold*</b>"
    hostile = finding(1, message=message, title=title, help_url="javascript:alert(1)")
    text = SarifRenderer().render(scan([hostile]), OPTIONS)
    assert "\x1b" not in text and "\x00" not in text
    log = assert_valid(validator, text)
    result = log["runs"][0]["results"][0]
    assert result["message"]["text"] == message
    rule = log["runs"][0]["tool"]["driver"]["rules"][0]
    assert rule["shortDescription"]["text"] == title
    assert "helpUri" not in rule
    markdown = rule["help"]["markdown"]
    assert "<script>" not in markdown and "<b>" not in markdown
    assert "\\[click\\](javascript:alert(1))" in markdown
    assert "<javascript:" not in markdown


# --- splitting --------------------------------------------------------------------------


def many(count: int, tool: str = "bandit") -> list[Finding]:
    return [
        finding(
            n,
            tool=tool,
            rule=f"B{600 + n % 7}",
            path=f"src/m{n}.py",
            message=f"issue {n}: " + hashlib.sha256(f"{tool}{n}".encode()).hexdigest() * 3,
        )
        for n in range(count)
    ]


def test_results_beyond_the_run_limit_go_to_numbered_parts(validator: Draft4Validator) -> None:
    result = scan(many(5) + many(2, tool="semgrep"))
    files = SarifRenderer(max_results_per_run=2).render_files(result, OPTIONS)
    assert len(files) == 1
    log = assert_valid(validator, files[0])
    parts = [
        (
            run["automationDetails"]["id"],
            len(run["results"]),
            run["properties"]["compliance"]["part"],
            run["properties"]["compliance"]["parts"],
        )
        for run in log["runs"]
    ]
    assert parts == [
        ("compliance/bandit/", 2, 1, 3),
        ("compliance/bandit/part-2/", 2, 2, 3),
        ("compliance/bandit/part-3/", 1, 3, 3),
        ("compliance/semgrep/", 2, 1, 1),
    ]
    bandit = [f for f in result.findings if f.tool == "bandit"]
    got = [r["partialFingerprints"]["compliance/v1"] for r in all_results(files)[:5]]
    assert got == [f.fingerprint for f in bandit]
    for run in log["runs"]:
        rules = run["tool"]["driver"]["rules"]
        assert {r["id"] for r in rules} == {r["ruleId"] for r in run["results"]}


def test_runs_beyond_the_file_limit_go_to_more_files(validator: Draft4Validator) -> None:
    result = scan(many(5) + many(3, tool="semgrep"))
    renderer = SarifRenderer(max_results_per_run=2, max_runs_per_file=2)
    files = renderer.render_files(result, OPTIONS)
    assert len(files) == 3
    categories = []
    for number, text in enumerate(files, 1):
        log = assert_valid(validator, text)
        assert len(log["runs"]) <= 2
        assert log["properties"]["compliance"]["file"] == number
        assert log["properties"]["compliance"]["files"] == 3
        assert ("verdict" in log["properties"]["compliance"]) == (number == 1)
        categories += [run["automationDetails"]["id"] for run in log["runs"]]
    assert len(categories) == len(set(categories)) == 5
    expected = [f.fingerprint for f in result.findings if f.tool == "bandit"]
    expected += [f.fingerprint for f in result.findings if f.tool == "semgrep"]
    assert [r["partialFingerprints"]["compliance/v1"] for r in all_results(files)] == expected


def test_files_stay_under_the_gzip_limit(validator: Draft4Validator) -> None:
    result = scan(many(40) + many(40, tool="semgrep") + many(40, tool="checkov"))
    one_run = SarifRenderer(max_results_per_run=10).render_files(scan(many(10)), OPTIONS)[0]
    limit = len(gzip.compress(one_run.encode(), mtime=0)) * 3
    files = SarifRenderer(max_results_per_run=10, max_gzip_bytes=limit).render_files(
        result, OPTIONS
    )
    assert len(files) > 1
    for text in files:
        assert_valid(validator, text)
        assert len(gzip.compress(text.encode(), mtime=0)) <= limit
    assert len(all_results(files)) == 120
    with pytest.raises(SplitRequired, match="bytes gzipped per file"):
        SarifRenderer(max_results_per_run=10, max_gzip_bytes=limit).render(result, OPTIONS)


def test_a_run_too_big_for_a_file_is_split_further(validator: Draft4Validator) -> None:
    result = scan(many(60))
    whole = SarifRenderer().render(result, OPTIONS)
    limit = len(gzip.compress(whole.encode(), mtime=0)) // 3
    files = SarifRenderer(max_gzip_bytes=limit).render_files(result, OPTIONS)
    runs = [run for text in files for run in assert_valid(validator, text)["runs"]]
    assert len(runs) > 3
    assert {run["properties"]["compliance"]["parts"] for run in runs} == {len(runs)}
    assert [run["automationDetails"]["id"] for run in runs] == [
        "compliance/bandit/",
        *(f"compliance/bandit/part-{k}/" for k in range(2, len(runs) + 1)),
    ]
    for text in files:
        assert len(gzip.compress(text.encode(), mtime=0)) <= limit
    fingerprints = [r["partialFingerprints"]["compliance/v1"] for r in all_results(files)]
    assert fingerprints == [f.fingerprint for f in result.findings]


def test_render_raises_split_required_when_several_files_are_needed() -> None:
    renderer = SarifRenderer(max_results_per_run=1, max_runs_per_file=2)
    result = scan(many(5))
    with pytest.raises(SplitRequired) as caught:
        renderer.render(result, OPTIONS)
    assert caught.value.files == 3
    assert "5 runs, at most 2 per file" in caught.value.message
    assert "-o sarif=PATH" in (caught.value.hint or "")


def test_render_returns_the_single_file(examples_result: ScanResult) -> None:
    renderer = SarifRenderer()
    assert renderer.render_files(examples_result, OPTIONS) == (
        renderer.render(examples_result, OPTIONS),
    )


def test_output_is_deterministic(examples_result: ScanResult, mixed: ScanResult) -> None:
    for result in (examples_result, mixed):
        first = SarifRenderer().render(result, OPTIONS).encode()
        assert SarifRenderer().render(result, OPTIONS).encode() == first
    renderer = SarifRenderer(max_results_per_run=2, max_runs_per_file=2)
    big = scan(many(9))
    assert renderer.render_files(big, OPTIONS) == renderer.render_files(big, OPTIONS)


def test_fifty_thousand_findings_render_whole() -> None:
    # Speed is measured in benchmarks/render.py, not asserted here.
    findings = [
        dataclasses.replace(f, tool=tool)
        for tool in ("bandit", "semgrep", "checkov", "pip-audit")
        for f in many(12_500, tool=tool)
    ]
    result = scan(findings)
    files = SarifRenderer().render_files(result, OPTIONS)
    assert len(all_results(files)) == 50_000


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        SarifRenderer(max_runs_per_file=0)
