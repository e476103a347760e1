"""Reading a saved JSON result back: an exact inverse of the JSON renderer, or a ConfigError."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from compliance.errors import ConfigError, ExitCode, Problem
from compliance.model import (
    SCHEMA_VERSION,
    BaselineState,
    BaselineSummary,
    Confidence,
    ControlResult,
    ControlStatus,
    Finding,
    FindingKind,
    Fingerprint,
    GateFailure,
    GateMode,
    Location,
    Package,
    RuleId,
    ScannerRun,
    ScannerStatus,
    ScanResult,
    Service,
    ServiceName,
    ServiceSource,
    Severity,
    Skip,
    Suppression,
    SuppressionKind,
    ToolInfo,
    Verdict,
    VerdictCounts,
    WaiverState,
    WaiverStatus,
)
from compliance.reporting.interface import RenderOptions
from compliance.reporting.json import JsonRenderer
from compliance.reporting.load import READ_MAJOR, load_result, parse_result

from factories import fp

OPTIONS = RenderOptions()
SUPPORTED = "this version of compliance reads schema_version 2.x"


def render(result: ScanResult) -> str:
    return JsonRenderer().render(result, OPTIONS)


def dependency_finding() -> Finding:
    return Finding(
        fingerprint=fp(1),
        service=ServiceName("payments"),
        tool="pip-audit",
        rule_id=RuleId("PYSEC-2023-74"),
        title="requests 2.25.1: PYSEC-2023-74",
        message="Unintended leak of Proxy-Authorization header",
        severity=Severity.CRITICAL,
        kind=FindingKind.DEPENDENCY_VULNERABILITY,
        location=Location("services/payments/requirements.txt", 3, 3),
        confidence=Confidence.HIGH,
        cwe=("CWE-200",),
        snippet="requests==2.25.1",
        resource="requests==2.25.1",
        package=Package(
            "requests", "2.25.1", ("2.31.0", "2.32.0"), ("CVE-2023-32681", "GHSA-j8r2")
        ),
        help_url="https://osv.dev/vulnerability/PYSEC-2023-74",
        category="dependency",
        suppression=Suppression(SuppressionKind.WAIVED, "upgrade planned: PAY-12"),
        controls=("A.8.8", "CC7.1"),
        baseline=BaselineState.UNCHANGED,
    )


def other_findings() -> list[Finding]:
    """One finding per remaining value of every enum, with and without the optional parts."""
    unpinned = Finding(
        fingerprint=fp(2),
        service=ServiceName("worker"),
        tool="pip-audit",
        rule_id=RuleId("unpinned"),
        title="celery is not pinned",
        message="cannot audit an unpinned dependency",
        severity=Severity.LOW,
        kind=FindingKind.DEPENDENCY_NOT_AUDITED,
        location=Location("services/worker/requirements.txt"),
        package=Package("celery", None),
        baseline=BaselineState.NEW,
    )
    secret = Finding(
        fingerprint=fp(3),
        service=ServiceName("api"),
        tool="semgrep",
        rule_id=RuleId("hardcoded-password"),
        title="Hard-coded password",
        message='password = "po***" — ünïcode, "quotes", \\ and a\nnewline',
        severity=Severity.HIGH,
        kind=FindingKind.SECRET,
        location=Location("services/api/settings.py", 10, 12),
        confidence=Confidence.MEDIUM,
        cwe=("CWE-798", "CWE-259"),
        snippet='PASSWORD = "po***"\n\tother = 1',
        category="secrets",
        suppression=Suppression(SuppressionKind.INLINE, "# nosemgrep: test fixture"),
        controls=("A.8.24",),
        baseline=BaselineState.NEW,
    )
    code = Finding(
        fingerprint=fp(4),
        service=ServiceName("(repo)"),
        tool="bandit",
        rule_id=RuleId("B602"),
        title="subprocess_popen_with_shell_equals_true",
        message="subprocess call with shell=True identified",
        severity=Severity.MEDIUM,
        kind=FindingKind.CODE,
        location=Location("scripts/deploy.py", 7),
        confidence=Confidence.LOW,
        suppression=Suppression(SuppressionKind.BASELINED, "in baseline .compliance/base.json"),
        baseline=BaselineState.UNCHANGED,
    )
    iac = Finding(
        fingerprint=fp(5),
        service=ServiceName("api"),
        tool="checkov",
        rule_id=RuleId("CKV_AWS_20"),
        title="S3 bucket is public",
        message="Ensure the S3 bucket has no public READ access",
        severity=Severity.INFO,
        kind=FindingKind.IAC_MISCONFIGURATION,
        location=Location("infra/s3.tf", 1, 9),
        resource="aws_s3_bucket.exports",
        category="networking",
        controls=("A.8.20", "CC6.1"),
    )
    ours = [
        replace(
            iac,
            fingerprint=Fingerprint(f"{n:032x}"),
            tool=tool,
            rule_id=RuleId(kind.value),
            kind=kind,
            category=None,
        )
        for n, (tool, kind) in enumerate(
            [
                ("residency", FindingKind.RESIDENCY_VIOLATION),
                ("residency", FindingKind.RESIDENCY_UNRESOLVED),
                ("threatmodel", FindingKind.THREAT_MODEL_MISSING),
                ("threatmodel", FindingKind.THREAT_MODEL_STALE),
                ("threatmodel", FindingKind.THREAT_MODEL_OPEN_THREAT),
            ],
            start=100,
        )
    ]
    return [unpinned, secret, code, iac, *ours]


def full_result() -> ScanResult:
    findings = (dependency_finding(), *other_findings())
    return ScanResult(
        tool=ToolInfo("compliance", "0.1.0"),
        root="shop",
        started_at=datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc),
        finished_at=datetime(2024, 5, 1, 14, 0, 5, tzinfo=timezone(timedelta(hours=2))),
        scanners=(
            ScannerRun(
                "bandit",
                ScannerStatus.OK,
                "1.7.9",
                0.443,
                commands=(("bandit", "-f", "json", "-r", "."), ("bandit", "--version")),
                findings=1,
            ),
            ScannerRun("semgrep", ScannerStatus.ERROR, None, 12.0, error="semgrep crashed: exit 2"),
            ScannerRun("checkov", ScannerStatus.SKIPPED, "3.2.0", 0, error="nothing to scan"),
            ScannerRun("pip-audit", ScannerStatus.OK, "2.7.3", 1.5, findings=2),
        ),
        services=(
            Service(ServiceName("api"), "services/api", "team-api", ServiceSource.CONFIG),
            Service(
                ServiceName("payments"),
                "services/payments",
                "team-pay",
                ServiceSource.CATALOG_INFO,
                description="Card payments",
                data_classification=("pii", "payment"),
            ),
            Service(ServiceName("worker"), "services/worker", None, ServiceSource.DETECTED),
            Service(ServiceName("(repo)"), "", None, ServiceSource.REPO),
        ),
        findings=findings,
        skipped=(
            Skip("charts/api", "Helm chart: helm is not installed", "checkov"),
            Skip("assets/logo.png", "binary file"),
        ),
        verdict=Verdict(
            passed=False,
            fail_on=Severity.HIGH,
            reasons=(
                GateFailure(
                    "policies/gate.yaml", "fail_on", "1 open finding at or above high", (fp(3),)
                ),
                GateFailure("(built-in)", "scanner-error", "semgrep failed"),
            ),
            failing=(fp(3),),
            mode=GateMode.NEW_ONLY,
            counts=VerdictCounts(
                total=5, open=2, failing=1, new=3, unchanged=2, baselined=1, waived=1, suppressed=1
            ),
        ),
        commit="0123456789abcdef0123456789abcdef01234567",
        controls=(
            ControlResult(
                "iso27001",
                "A.8.8",
                "Management of technical vulnerabilities",
                "automated",
                ControlStatus.FAILED,
                findings=(fp(2),),
                rules=("pip-audit-vulnerability", "pip-audit-unpinned"),
                reason="1 open finding(s)",
            ),
            ControlResult(
                "iso27001", "A.8.20", "Networks security", "partial", ControlStatus.PASSED
            ),
            ControlResult(
                "soc2",
                "CC6.1",
                "Logical access",
                "partial",
                ControlStatus.NOT_ASSESSED,
                rules=("checkov-networking",),
                reason="checkov had nothing to scan",
            ),
            ControlResult("soc2", "CC1.1", "Integrity and ethics", "manual", ControlStatus.MANUAL),
        ),
        waivers=(
            WaiverStatus(
                "W-1",
                WaiverState.ACTIVE,
                "fingerprint 00000000000000000000000000000001",
                "upgrade planned",
                "alice@example.com",
                "bob@example.com",
                date(2099, 12, 31),
                "policies/waivers.yaml",
                ticket="PAY-12",
                findings=(fp(1),),
            ),
            WaiverStatus(
                "W-2",
                WaiverState.EXPIRED,
                "rule B602",
                "legacy script",
                "carol",
                "dave",
                date(2024, 1, 1),
                "policies/waivers.yaml",
                findings=(fp(4),),
            ),
            WaiverStatus(
                "W-3",
                WaiverState.STALE,
                "path old/**",
                "gone",
                "erin",
                "frank",
                date(2030, 6, 15),
                "policies/waivers.yaml",
            ),
        ),
        baseline=BaselineSummary(".compliance/baseline.json", entries=3, matched=2, absent=1),
    )


def empty_result() -> ScanResult:
    return ScanResult(
        tool=ToolInfo("compliance", "0.1.0"),
        root="empty",
        started_at=datetime(2024, 5, 1, 12, 0, tzinfo=timezone.utc),
        finished_at=datetime(2024, 5, 1, 12, 0, 1, tzinfo=timezone.utc),
        scanners=(ScannerRun("bandit", ScannerStatus.OK, "1.7.9", 0.25),),
        services=(),
        findings=(),
        skipped=(),
        verdict=Verdict(passed=True, fail_on=Severity.HIGH),
    )


def test_the_full_result_exercises_every_enum() -> None:
    result = full_result()
    findings = result.findings
    assert {f.severity for f in findings} == set(Severity)
    assert {f.kind for f in findings} == set(FindingKind)
    assert {f.confidence for f in findings} == {*Confidence, None}
    assert {f.suppression.kind for f in findings if f.suppression} == set(SuppressionKind)
    assert {f.baseline for f in findings} == {*BaselineState, None}
    assert {s.source for s in result.services} == set(ServiceSource)
    assert {s.status for s in result.scanners} == set(ScannerStatus)
    assert {c.status for c in result.controls} == set(ControlStatus)
    assert {w.state for w in result.waivers} == set(WaiverState)


@pytest.mark.parametrize("build", [full_result, empty_result], ids=["full", "empty"])
def test_round_trip_is_byte_identical_and_rebuilds_the_same_value(build: Any) -> None:
    result = build()
    text = render(result)
    loaded = parse_result(text, "result.json")
    assert render(loaded) == text
    # Every duration above is already a whole number of milliseconds: nothing is lost,
    # and the tuples, enums, NewTypes, dates and None-s are the same values.
    assert loaded == result


def test_empty_result_keeps_baseline_null_and_empty_lists() -> None:
    loaded = parse_result(render(empty_result()), "result.json")
    assert loaded.baseline is None
    assert loaded.findings == loaded.controls == loaded.waivers == loaded.skipped == ()
    assert json.loads(render(loaded))["baseline"] is None


def test_datetimes_keep_their_timezone_and_microseconds() -> None:
    loaded = parse_result(render(full_result()), "result.json")
    assert loaded.started_at.utcoffset() == timedelta(0)
    assert loaded.started_at.microsecond == 123456
    assert loaded.finished_at.utcoffset() == timedelta(hours=2)
    assert loaded.waivers[0].expires == date(2099, 12, 31)
    assert type(loaded.waivers[0].expires) is date


def test_package_only_on_the_findings_that_had_one() -> None:
    loaded = parse_result(render(full_result()), "result.json")
    packages = [f.package for f in loaded.findings]
    assert packages[0] == dependency_finding().package
    assert packages[1] == Package("celery", None)
    assert packages[2:] == [None] * (len(packages) - 2)
    rendered = json.loads(render(loaded))["findings"]
    assert ["package" in f for f in rendered] == [True, True] + [False] * (len(rendered) - 2)


def test_durations_are_stable_after_one_round_trip() -> None:
    runs = (
        ScannerRun("bandit", ScannerStatus.OK, "1.7.9", 0.1 + 0.2),
        ScannerRun("semgrep", ScannerStatus.OK, "1.80.0", 3.56449999),
        ScannerRun("checkov", ScannerStatus.OK, "3.2.0", 2.0005),
        ScannerRun("pip-audit", ScannerStatus.OK, "2.7.3", 1e-7),
    )
    result = replace(empty_result(), scanners=runs)
    text = render(result)
    loaded = parse_result(text, "result.json")
    assert render(loaded) == text
    assert [s.duration_s for s in loaded.scanners] == [round(r.duration_s, 3) for r in runs]
    assert render(parse_result(render(loaded), "result.json")) == text


def test_an_integral_duration_stays_an_int() -> None:
    result = replace(empty_result(), scanners=(ScannerRun("bandit", ScannerStatus.OK, None, 0),))
    text = render(result)
    assert '"duration_s": 0,' in text
    assert render(parse_result(text, "result.json")) == text


def test_unknown_keys_and_the_summary_are_ignored() -> None:
    data = json.loads(render(full_result()))
    data["future_key"] = {"anything": [1, 2]}
    data["findings"][0]["future_key"] = True
    data["verdict"]["counts"]["future_count"] = 7
    data["summary"] = "not even an object"
    loaded = parse_result(json.dumps(data), "result.json")
    assert loaded == full_result()


def test_a_later_minor_is_read_and_rendered_as_this_schema_version() -> None:
    data = json.loads(render(empty_result()))
    data["schema_version"] = "2.7"
    loaded = parse_result(json.dumps(data), "result.json")
    assert loaded.schema_version == SCHEMA_VERSION
    assert loaded == empty_result()


def test_the_major_read_is_the_major_written() -> None:
    assert SCHEMA_VERSION.split(".")[0] == str(READ_MAJOR)


def test_load_result_reads_a_file(tmp_path: Path) -> None:
    text = render(full_result())
    path = tmp_path / "result.json"
    path.write_text(text, encoding="utf-8")
    assert render(load_result(path, "result.json")) == text
    path.write_bytes(b"\xef\xbb\xbf" + text.encode())  # a BOM some shells add
    assert render(load_result(path, "result.json")) == text


# --- errors -----------------------------------------------------------------------------


def problems_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as info:
        parse_result(text, "result.json")
    assert info.value.exit_code is ExitCode.INVALID_CONFIG
    return [str(p) for p in info.value.problems]


def with_changes(**top: Any) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(render(full_result()))
    data.update(top)
    return data


def test_invalid_json_names_line_and_column() -> None:
    text = '{\n  "schema_version": "2.0",\n  oops\n}\n'
    assert problems_of(text) == [
        "result.json: line 3, column 3: invalid JSON: "
        "Expecting property name enclosed in double quotes"
    ]


def test_truncated_json_names_line_and_column() -> None:
    text = render(full_result())
    lines = text.count("\n")
    problems = problems_of(text[: len(text) // 2])
    assert len(problems) == 1
    assert problems[0].startswith("result.json: line ")
    assert "invalid JSON" in problems[0]
    assert int(problems[0].split("line ")[1].split(",")[0]) <= lines


def test_not_an_object() -> None:
    assert problems_of("[]") == ["result.json: expected a JSON object"]


@pytest.mark.parametrize("version", ["1.1", "3.0"])
def test_another_major_is_refused_naming_the_supported_one(version: str) -> None:
    text = json.dumps(with_changes(schema_version=version))
    with pytest.raises(ConfigError) as info:
        parse_result(text, "result.json")
    assert info.value.problems == (
        Problem(
            "result.json", "schema_version", f"version {version} is not supported: {SUPPORTED}"
        ),
    )
    assert str(info.value.problems[0]) == (
        f"result.json: schema_version: version {version} is not supported: {SUPPORTED}"
    )
    assert info.value.hint is not None
    assert "compliance 0.1.0" in info.value.hint


@pytest.mark.parametrize(
    ("value", "shown"), [("2", '"2"'), (2.0, "2.0"), (None, "null"), ("v2.0", '"v2.0"')]
)
def test_a_malformed_schema_version_is_refused(value: object, shown: str) -> None:
    assert problems_of(json.dumps(with_changes(schema_version=value))) == [
        f"result.json: schema_version: expected MAJOR.MINOR, got {shown} ({SUPPORTED})"
    ]


def test_a_missing_schema_version_is_refused() -> None:
    data = with_changes()
    del data["schema_version"]
    assert problems_of(json.dumps(data)) == [f"result.json: schema_version: missing ({SUPPORTED})"]


def test_an_unknown_severity_names_its_key_path() -> None:
    data = with_changes()
    data["findings"][0]["severity"] = "urgent"
    assert problems_of(json.dumps(data)) == [
        "result.json: findings[0].severity: "
        "Input should be 'info', 'low', 'medium', 'high' or 'critical'"
    ]


def test_a_missing_verdict_is_refused() -> None:
    data = with_changes()
    del data["verdict"]
    assert problems_of(json.dumps(data)) == ["result.json: verdict: Field required"]


def test_every_problem_is_listed_with_its_key_path() -> None:
    data = with_changes()
    data["findings"][3]["line"] = "7"
    data["findings"][1]["package"]["fixed_versions"] = "2.0"
    data["scanners"][0]["duration_s"] = "0.4"
    data["scanners"][1]["status"] = "crashed"
    data["verdict"]["passed"] = 0
    data["verdict"]["counts"]["open"] = 2.0
    data["started_at"] = "yesterday"
    data["waivers"][2]["expires"] = "2030-02-30"
    data["controls"][0]["findings"] = [1]
    data["baseline"] = {"source": "b.json", "entries": 3, "matched": 2}
    del data["findings"][2]["title"]
    assert problems_of(json.dumps(data)) == [
        "result.json: started_at: Input should be an ISO 8601 date and time "
        "(2024-05-01T12:00:00+00:00)",
        "result.json: verdict.passed: Input should be a valid boolean",
        "result.json: verdict.counts.open: Input should be a valid integer",
        "result.json: scanners[0].duration_s: Input should be a valid number",
        "result.json: scanners[1].status: Input should be 'ok', 'error' or 'skipped'",
        "result.json: findings[1].package.fixed_versions: Input should be a valid list",
        "result.json: findings[2].title: Field required",
        "result.json: findings[3].line: Input should be a valid integer",
        "result.json: controls[0].findings[0]: Input should be a valid string",
        "result.json: waivers[2].expires: Input should be an ISO 8601 date (2024-05-01)",
        "result.json: baseline.absent: Field required",
    ]


def test_nulls_are_refused_where_the_model_has_no_none() -> None:
    data = with_changes()
    data["findings"][0]["cwe"] = None
    data["root"] = None
    assert problems_of(json.dumps(data)) == [
        "result.json: root: Input should be a valid string",
        "result.json: findings[0].cwe: Input should be a valid list",
    ]


def test_an_overlong_integer_or_deep_nesting_is_a_problem_not_a_traceback() -> None:
    assert problems_of('{"x": ' + "1" * 5000 + "}")[0].startswith("result.json: invalid JSON: ")
    deep = "[" * 100_000 + "]" * 100_000
    assert problems_of(deep) == ["result.json: invalid JSON: nested too deeply"]


def test_load_result_file_problems(tmp_path: Path) -> None:
    def problems(path: Path) -> list[str]:
        with pytest.raises(ConfigError) as info:
            load_result(path, "saved.json")
        return [str(p) for p in info.value.problems]

    assert problems(tmp_path / "missing.json") == ["saved.json: no such file"]
    assert problems(tmp_path) == ["saved.json: is a folder, expected a file"]
    utf16 = tmp_path / "utf16.json"
    utf16.write_text(render(empty_result()), encoding="utf-16")
    assert problems(utf16) == ["saved.json: not valid UTF-8"]
