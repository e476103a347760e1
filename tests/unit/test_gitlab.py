"""The GitLab SAST and Dependency Scanning reports: valid against GitLab's 15.2.1 schemas."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta, timezone
from functools import cache
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from compliance.model import (
    BaselineState,
    Confidence,
    Finding,
    FindingKind,
    Fingerprint,
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
)
from compliance.reporting.gitlab import (
    MAX_MESSAGES,
    SCHEMA_VERSION,
    UUID_NAMESPACE,
    GitlabDependencyScanningRenderer,
    GitlabSastRenderer,
    finding_uuid,
)
from compliance.reporting.interface import RenderOptions

import factories
from factories import WHEN, fp

Golden = Callable[[str, str], None]
SCHEMAS = Path(__file__).resolve().parents[1] / "assets" / "schemas"
HOSTILE = "<script>alert(1)</script> ]]> \x00\x01\x1b[31m\x7f \ud800 \r\n🔥 end"
CODE_KINDS = (
    FindingKind.CODE,
    FindingKind.SECRET,
    FindingKind.IAC_MISCONFIGURATION,
    FindingKind.RESIDENCY_VIOLATION,
    FindingKind.RESIDENCY_UNRESOLVED,
)
THREAT_MODEL_KINDS = (
    FindingKind.THREAT_MODEL_MISSING,
    FindingKind.THREAT_MODEL_STALE,
    FindingKind.THREAT_MODEL_OPEN_THREAT,
)


@cache
def validator(report: str) -> jsonschema.Draft7Validator:
    path = SCHEMAS / f"gitlab-{report}-report-format-{SCHEMA_VERSION}.json"
    schema = json.loads(path.read_text(encoding="utf-8"))
    jsonschema.Draft7Validator.check_schema(schema)
    return jsonschema.Draft7Validator(schema)


def sast(result: ScanResult) -> dict[str, Any]:
    return checked("sast", GitlabSastRenderer().render(result, RenderOptions()))


def dependency_scanning(result: ScanResult) -> dict[str, Any]:
    text = GitlabDependencyScanningRenderer().render(result, RenderOptions())
    return checked("dependency-scanning", text)


def checked(report: str, text: str) -> dict[str, Any]:
    """Parse a report after checking it is UTF-8 and valid against the vendored schema."""
    text.encode("utf-8")
    data: dict[str, Any] = json.loads(text)
    errors = [f"{list(e.absolute_path)}: {e.message}" for e in validator(report).iter_errors(data)]
    assert not errors, errors
    assert data["version"] == SCHEMA_VERSION
    assert data["schema"].endswith(f"/v{SCHEMA_VERSION}/dist/{report}-report-format.json")
    return data


def finding(n: int, **changes: Any) -> Finding:
    base = Finding(
        fingerprint=fp(n),
        service=ServiceName("api"),
        tool="bandit",
        rule_id=RuleId("B602"),
        title="subprocess popen with shell equals true",
        message="shell=True with user input",
        severity=Severity.HIGH,
        kind=FindingKind.CODE,
        location=Location("services/api/app/run.py", 12, 12),
        confidence=Confidence.HIGH,
        cwe=("CWE-78",),
        snippet="subprocess.Popen(cmd, shell=True)",
        help_url="https://bandit.readthedocs.io/en/latest/plugins/b602.html",
        controls=("A.8.28", "CC8.1"),
    )
    return replace(base, **changes)


def dependency(n: int, **changes: Any) -> Finding:
    base = finding(
        n,
        tool="pip-audit",
        rule_id=RuleId("PYSEC-2023-62"),
        title="flask 2.2.2: PYSEC-2023-62",
        message="Responses may be cached and sent to other clients.",
        kind=FindingKind.DEPENDENCY_VULNERABILITY,
        location=Location("services/api/requirements.txt", 10, 10),
        confidence=None,
        cwe=(),
        snippet=None,
        resource="flask==2.2.2",
        help_url="https://osv.dev/vulnerability/PYSEC-2023-62",
        package=Package(
            "flask", "2.2.2", ("2.2.5", "2.3.2"), ("CVE-2023-30861", "GHSA-m2qf-hxjv-5gpq")
        ),
        controls=("A.8.8",),
    )
    return replace(base, **changes)


def scan_result(
    findings: tuple[Finding, ...] = (),
    scanners: tuple[ScannerRun, ...] = (),
    skipped: tuple[Skip, ...] = (),
) -> ScanResult:
    return factories.scan_result(
        finished_at=WHEN + timedelta(seconds=75),
        scanners=scanners,
        findings=findings,
        skipped=skipped,
    )


def ok(name: str, version: str = "1.0", findings: int = 0) -> ScannerRun:
    return ScannerRun(name, ScannerStatus.OK, version, 1.0, findings=findings)


ALL_OK = (ok("bandit", "1.9.4", 3), ok("semgrep"), ok("checkov"), ok("pip-audit", "2.10.1", 2))


def hand_built() -> ScanResult:
    findings = (
        dependency(10),
        finding(1),
        finding(
            2,
            tool="checkov",
            rule_id=RuleId("CKV_AWS_20"),
            title="Ensure the S3 bucket does not allow READ permissions to everyone",
            message="aws_s3_bucket.exports: public read",
            kind=FindingKind.IAC_MISCONFIGURATION,
            location=Location("infra/s3.tf", 1, 9),
            cwe=(),
            confidence=None,
            resource="aws_s3_bucket.exports",
            help_url=None,
            suppression=Suppression(SuppressionKind.WAIVED, "waiver W-1: accepted until 2027"),
            snippet=None,
        ),
        finding(
            3,
            tool="semgrep",
            rule_id=RuleId("hardcoded-credential-default"),
            kind=FindingKind.SECRET,
            severity=Severity.MEDIUM,
            cwe=("CWE-798", "cwe-1188", "not a cwe"),
            suppression=Suppression(SuppressionKind.INLINE, "# nosemgrep: test fixture"),
            baseline=BaselineState.UNCHANGED,
        ),
        finding(4, severity=Severity.INFO, location=Location("README.md"), help_url="not a url"),
        dependency(11, rule_id=RuleId("GHSA-xxxx-yyyy-zzzz"), package=Package("jinja2", "2.0")),
        dependency(
            12,
            rule_id=RuleId("unpinned"),
            title="requests: not pinned",
            message="requests is not pinned to one version.",
            kind=FindingKind.DEPENDENCY_NOT_AUDITED,
            package=Package("requests", None),
            location=Location("services/web/requirements.txt", 3, 3),
        ),
    )
    skipped = (
        Skip("charts/api", "Helm chart not scanned: no helm", "checkov"),
        Skip("assets/logo.bin", "binary file"),
        Skip("services/x/requirements.txt", "cannot parse", "pip-audit"),
    )
    return scan_result(findings, ALL_OK, skipped)


# --- the examples result ---------------------------------------------------------------


def test_examples_sast_matches_the_golden_file(examples_result: ScanResult, golden: Golden) -> None:
    text = GitlabSastRenderer().render(examples_result, RenderOptions())
    checked("sast", text)
    golden("gitlab/examples-sast.json", text)


def test_examples_dependency_scanning_matches_the_golden_file(
    examples_result: ScanResult, golden: Golden
) -> None:
    text = GitlabDependencyScanningRenderer().render(examples_result, RenderOptions())
    checked("dependency-scanning", text)
    golden("gitlab/examples-dependency-scanning.json", text)


def test_examples_reports_split_the_findings_by_kind(examples_result: ScanResult) -> None:
    code = [f for f in examples_result.findings if f.kind in CODE_KINDS]
    deps = [f for f in examples_result.findings if f.kind is FindingKind.DEPENDENCY_VULNERABILITY]
    sast_ids = [v["id"] for v in sast(examples_result)["vulnerabilities"]]
    ds_ids = [v["id"] for v in dependency_scanning(examples_result)["vulnerabilities"]]
    assert sast_ids == [finding_uuid(f.fingerprint) for f in code]
    assert ds_ids == [finding_uuid(f.fingerprint) for f in deps]
    threats = [f for f in examples_result.findings if f.kind in THREAT_MODEL_KINDS]
    assert threats  # the demo's services have no threat model yet: in neither report
    assert len(code) + len(deps) + len(threats) == len(examples_result.findings)
    assert len(set(sast_ids + ds_ids)) == len(code) + len(deps)


def test_examples_scan_objects(examples_result: ScanResult) -> None:
    scan = sast(examples_result)["scan"]
    assert scan["type"] == "sast"
    assert scan["status"] == "success"
    assert scan["start_time"] == scan["end_time"] == "2026-11-29T12:00:00"
    assert scan["analyzer"] == {
        "id": "compliance",
        "name": "compliance",
        "version": examples_result.tool.version,
        "vendor": {"name": "compliance"},
    }
    assert (
        scan["scanner"]["name"]
        == "compliance SAST: bandit 1.9.4, semgrep 1.185.0, checkov 3.3.30, "
        "residency 0.1.0 (semgrep 1.185.0)"
    )
    ds_scan = dependency_scanning(examples_result)["scan"]
    assert ds_scan["type"] == "dependency_scanning"
    assert ds_scan["scanner"]["name"] == "compliance Dependency Scanning: pip-audit 2.10.1"


# --- ids -------------------------------------------------------------------------------


def test_ids_are_uuid5_of_the_fingerprint() -> None:
    for value in ("0" * 32, "651e5c6c67ac5e7f4592e57c285b6a6a", "ü", "x\x00y"):
        assert finding_uuid(Fingerprint(value)) == str(uuid.uuid5(UUID_NAMESPACE, value))
    assert uuid.UUID(finding_uuid(fp(1))).version == 5
    assert finding_uuid(fp(1)) == "9648ac33-b3b0-54dd-8d73-c1e9e8a856ba"  # pins the namespace


def test_ids_do_not_depend_on_anything_but_the_fingerprint() -> None:
    moved = finding(1, location=Location("elsewhere.py", 99, 99), message="changed")
    [a] = sast(scan_result((finding(1),), ALL_OK))["vulnerabilities"]
    [b] = sast(scan_result((moved,), ALL_OK))["vulnerabilities"]
    assert a["id"] == b["id"]


# --- SAST ------------------------------------------------------------------------------


def test_a_code_finding() -> None:
    report = sast(hand_built())
    code = report["vulnerabilities"][0]
    assert code == {
        "id": finding_uuid(fp(1)),
        "name": "subprocess popen with shell equals true",
        "description": "shell=True with user input",
        "severity": "High",
        "identifiers": [
            {
                "type": "bandit_id",
                "name": "bandit B602",
                "value": "B602",
                "url": "https://bandit.readthedocs.io/en/latest/plugins/b602.html",
            },
            {
                "type": "cwe",
                "name": "CWE-78",
                "value": "78",
                "url": "https://cwe.mitre.org/data/definitions/78.html",
            },
        ],
        "links": [{"url": "https://bandit.readthedocs.io/en/latest/plugins/b602.html"}],
        "location": {"file": "services/api/app/run.py", "start_line": 12, "end_line": 12},
        "details": {
            "service": {"name": "Service", "type": "text", "value": "api"},
            "controls": {"name": "Controls", "type": "text", "value": "A.8.28, CC8.1"},
            "confidence": {"name": "Confidence", "type": "text", "value": "high"},
            "fingerprint": {"name": "Fingerprint", "type": "text", "value": fp(1)},
        },
        "raw_source_code_extract": "subprocess.Popen(cmd, shell=True)",
    }


def test_sast_holds_code_secret_and_iac_findings_only() -> None:
    report = sast(hand_built())
    assert [v["id"] for v in report["vulnerabilities"]] == [
        finding_uuid(fp(n)) for n in (1, 2, 3, 4)
    ]


def test_a_waived_finding_is_reported_with_its_waiver() -> None:
    iac = sast(hand_built())["vulnerabilities"][1]
    assert iac["identifiers"] == [
        {"type": "checkov_id", "name": "checkov CKV_AWS_20", "value": "CKV_AWS_20"}
    ]
    assert iac["location"] == {"file": "infra/s3.tf", "start_line": 1, "end_line": 9}
    assert iac["details"]["suppression"]["value"] == "waived: waiver W-1: accepted until 2027"
    assert iac["details"]["resource"]["value"] == "aws_s3_bucket.exports"
    assert "flags" not in iac
    assert "links" not in iac


def test_an_inline_suppression_is_flagged_as_a_likely_false_positive() -> None:
    secret = sast(hand_built())["vulnerabilities"][2]
    assert secret["flags"] == [
        {
            "type": "flagged-as-likely-false-positive",
            "origin": "semgrep inline suppression",
            "description": "# nosemgrep: test fixture",
        }
    ]
    assert secret["severity"] == "Medium"
    assert secret["details"]["baseline"]["value"] == "unchanged"
    assert [i["name"] for i in secret["identifiers"]] == [
        "semgrep hardcoded-credential-default",
        "CWE-798",
        "CWE-1188",
    ]


def test_a_finding_without_lines_or_valid_url() -> None:
    info = sast(hand_built())["vulnerabilities"][3]
    assert info["location"] == {"file": "README.md"}
    assert info["severity"] == "Info"
    assert "url" not in info["identifiers"][0]
    assert "links" not in info


@pytest.mark.parametrize(
    ("severity", "gitlab"),
    [
        (Severity.CRITICAL, "Critical"),
        (Severity.HIGH, "High"),
        (Severity.MEDIUM, "Medium"),
        (Severity.LOW, "Low"),
        (Severity.INFO, "Info"),
    ],
)
def test_severities(severity: Severity, gitlab: str) -> None:
    [vulnerability] = sast(scan_result((finding(1, severity=severity),), ALL_OK))["vulnerabilities"]
    assert vulnerability["severity"] == gitlab


def test_sast_scan_messages_name_the_scanners_and_skipped_inputs() -> None:
    scan = sast(hand_built())["scan"]
    assert scan["status"] == "success"
    assert scan["scanner"] == {
        "id": "compliance-sast",
        "name": "compliance SAST: bandit 1.9.4, semgrep 1.0, checkov 1.0",
        "version": "0.1.0",
        "vendor": {"name": "compliance"},
    }
    assert scan["messages"] == [
        {"level": "info", "value": "bandit 1.9.4: 3 finding(s)"},
        {"level": "info", "value": "semgrep 1.0: 0 finding(s)"},
        {"level": "info", "value": "checkov 1.0: 0 finding(s)"},
        {
            "level": "warn",
            "value": "charts/api: not scanned by checkov: Helm chart not scanned: no helm",
        },
        {"level": "warn", "value": "assets/logo.bin: not scanned: binary file"},
    ]
    assert scan["start_time"] == "2026-11-29T12:00:00"
    assert scan["end_time"] == "2026-11-29T12:01:15"


def test_a_scanner_error_fails_the_scan() -> None:
    scanners = (
        ScannerRun("bandit", ScannerStatus.ERROR, "1.9.4", 1.0, error="bandit crashed"),
        ScannerRun("checkov", ScannerStatus.SKIPPED, None, 0.0, error="nothing to scan"),
        ok("semgrep"),
    )
    scan = sast(scan_result((finding(1),), scanners))["scan"]
    assert scan["status"] == "failure"
    assert scan["messages"][:2] == [
        {"level": "warn", "value": "bandit (1.9.4) failed: bandit crashed"},
        {"level": "info", "value": "checkov skipped: nothing to scan"},
    ]
    only_errors = (ScannerRun("semgrep", ScannerStatus.ERROR, None, 1.0, error="exit 7"),)
    scan = sast(scan_result((), only_errors))["scan"]
    assert scan["status"] == "failure"
    assert scan["messages"] == [
        {"level": "fatal", "value": "semgrep (version unknown) failed: exit 7"}
    ]


def test_a_skipped_scanner_alone_is_a_successful_scan() -> None:
    skipped = (ScannerRun("checkov", ScannerStatus.SKIPPED, "3.3", 0.0, error="no IaC files"),)
    scan = sast(scan_result((), skipped))["scan"]
    assert scan["status"] == "success"
    assert scan["messages"] == [{"level": "info", "value": "checkov skipped: no IaC files"}]


def test_no_scanner_is_a_failure_never_a_pass() -> None:
    report = sast(scan_result((), (ok("pip-audit"),)))
    assert report["scan"]["status"] == "failure"
    assert report["scan"]["messages"] == [{"level": "fatal", "value": "no SAST scanner ran"}]
    ds = dependency_scanning(scan_result((), (ok("bandit"),)))
    assert ds["scan"]["status"] == "failure"
    assert ds["scan"]["messages"] == [
        {"level": "fatal", "value": "no Dependency Scanning scanner ran"}
    ]


def test_many_skipped_inputs_are_capped() -> None:
    skipped = tuple(Skip(f"bin/{n}.so", "binary file") for n in range(MAX_MESSAGES + 7))
    messages = sast(scan_result((), ALL_OK, skipped))["scan"]["messages"]
    warnings = [m["value"] for m in messages if m["level"] == "warn"]
    assert len(warnings) == MAX_MESSAGES + 1
    assert warnings[-1] == "… and 7 more inputs not scanned: see the JSON result"


# --- Dependency Scanning ---------------------------------------------------------------


def test_a_dependency_vulnerability() -> None:
    report = dependency_scanning(hand_built())
    first = report["vulnerabilities"][0]
    assert first["id"] == finding_uuid(fp(10))
    assert first["name"] == "flask 2.2.2: PYSEC-2023-62"
    assert first["solution"] == "Upgrade flask to a fixed version: 2.2.5, 2.3.2."
    assert first["location"] == {
        "file": "services/api/requirements.txt",
        "dependency": {"package": {"name": "flask"}, "version": "2.2.2"},
    }
    assert [(i["type"], i["value"], i.get("url")) for i in first["identifiers"]] == [
        ("pip_audit_id", "PYSEC-2023-62", "https://osv.dev/vulnerability/PYSEC-2023-62"),
        ("pysec", "PYSEC-2023-62", "https://osv.dev/vulnerability/PYSEC-2023-62"),
        ("cve", "CVE-2023-30861", "https://www.cve.org/CVERecord?id=CVE-2023-30861"),
        ("ghsa", "GHSA-m2qf-hxjv-5gpq", "https://github.com/advisories/GHSA-m2qf-hxjv-5gpq"),
    ]
    second = report["vulnerabilities"][1]
    assert [(i["type"], i["value"]) for i in second["identifiers"]] == [
        ("pip_audit_id", "GHSA-xxxx-yyyy-zzzz"),
        ("ghsa", "GHSA-xxxx-yyyy-zzzz"),
    ]
    assert "solution" not in second


def test_dependency_scanning_holds_dependency_vulnerabilities_only() -> None:
    report = dependency_scanning(hand_built())
    assert [v["id"] for v in report["vulnerabilities"]] == [finding_uuid(fp(n)) for n in (10, 11)]
    assert "dependency_files" not in report


def test_an_unaudited_dependency_is_a_warning_not_a_vulnerability() -> None:
    scan = dependency_scanning(hand_built())["scan"]
    assert scan["status"] == "success"
    assert scan["messages"] == [
        {"level": "info", "value": "pip-audit 2.10.1: 2 finding(s)"},
        {
            "level": "warn",
            "value": "services/web/requirements.txt:3: not audited: "
            "requests is not pinned to one version.",
        },
        {
            "level": "warn",
            "value": "services/x/requirements.txt: not scanned by pip-audit: cannot parse",
        },
    ]


def test_a_vulnerability_without_a_version_is_a_warning() -> None:
    unpinned = dependency(1, package=Package("flask", None))
    report = dependency_scanning(scan_result((unpinned,), ALL_OK))
    assert report["vulnerabilities"] == []
    assert report["scan"]["messages"][-1] == {
        "level": "warn",
        "value": "services/api/requirements.txt:10: flask 2.2.2: PYSEC-2023-62: "
        "no pinned version to report",
    }


def test_a_pip_audit_error_fails_the_dependency_scan() -> None:
    failed = (ScannerRun("pip-audit", ScannerStatus.ERROR, "2.10.1", 1.0, error="OSV unreachable"),)
    scan = dependency_scanning(scan_result((), failed))["scan"]
    assert scan["status"] == "failure"
    assert scan["messages"] == [
        {"level": "fatal", "value": "pip-audit (2.10.1) failed: OSV unreachable"}
    ]


# --- hostile text, determinism, speed --------------------------------------------------


UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")


def strings(data: object) -> Iterator[str]:
    """Every string of a JSON document, keys included."""
    if isinstance(data, str):
        yield data
    elif isinstance(data, dict):
        for key, value in data.items():
            yield key
            yield from strings(value)
    elif isinstance(data, list):
        for item in data:
            yield from strings(item)


def hostile_result() -> ScanResult:
    evil = finding(
        1,
        title=HOSTILE * 20,
        message=HOSTILE,
        snippet=HOSTILE,
        location=Location("src/<evil>\x00.py", 3, 3),
        service=ServiceName("svc\x00"),
        rule_id=RuleId("rule<1>\x00"),
        suppression=Suppression(SuppressionKind.INLINE, HOSTILE),
        help_url="https://example.com/\x00<x>",
    )
    evil_dep = dependency(2, message=HOSTILE, package=Package("pkg\ud800", "1.0\x00", (HOSTILE,)))
    scanners = (
        *ALL_OK[:3],
        ScannerRun("pip-audit", ScannerStatus.ERROR, "2\x00", 1.0, error=HOSTILE),
    )
    return scan_result((evil, evil_dep), scanners, (Skip(HOSTILE, HOSTILE, "checkov"),))


def test_hostile_text_is_made_safe() -> None:
    result = hostile_result()
    report = sast(result)
    for data in (report, dependency_scanning(result)):
        for text in strings(data):
            assert not UNSAFE.search(text), text
    [vulnerability] = report["vulnerabilities"]
    assert vulnerability["description"] == (
        "<script>alert(1)</script> ]]> \\x00\\x01\\x1b[31m\\x7f \\ud800 \r\n🔥 end"
    )
    assert len(vulnerability["name"]) == 255
    assert vulnerability["name"].endswith("…")
    assert vulnerability["location"]["file"] == "src/<evil>\\x00.py"
    assert vulnerability["identifiers"][0]["value"] == "rule<1>\\x00"
    assert vulnerability["flags"][0]["description"].endswith("🔥 end")
    ds = dependency_scanning(result)
    [dep] = ds["vulnerabilities"]
    assert dep["location"]["dependency"] == {
        "package": {"name": "pkg\\ud800"},
        "version": "1.0\\x00",
    }
    assert ds["scan"]["status"] == "failure"


def test_times_are_utc_in_gitlabs_format() -> None:
    offset = timezone(timedelta(hours=-5))
    aware = replace(hand_built(), started_at=WHEN.astimezone(offset))
    naive = replace(hand_built(), started_at=WHEN.replace(tzinfo=None))
    for result in (aware, naive):
        assert sast(result)["scan"]["start_time"] == "2026-11-29T12:00:00"


def test_rendering_is_deterministic(examples_result: ScanResult) -> None:
    for renderer in (GitlabSastRenderer(), GitlabDependencyScanningRenderer()):
        for result in (examples_result, hand_built(), hostile_result()):
            assert renderer.render(result, RenderOptions()) == renderer.render(
                result, RenderOptions()
            )


def synthetic(kind: str, count: int) -> ScanResult:
    """`count` code findings over 60 rules, or `count` dependency findings over 2,000 advisories."""
    if kind == "sast":
        findings = tuple(
            finding(
                n,
                rule_id=RuleId(f"B{n % 60:03d}"),
                message=f"problem {n}",
                location=Location(f"src/m{n % 500}.py", n % 900 + 1, None),
            )
            for n in range(count)
        )
    else:
        findings = tuple(
            dependency(
                n,
                rule_id=RuleId(f"PYSEC-2024-{n % 2000}"),
                package=Package(f"pkg{n % 300}", "1.0", ("2.0",), (f"CVE-2024-{n % 2000}",)),
            )
            for n in range(count)
        )
    return scan_result(findings, ALL_OK)


@pytest.mark.parametrize(
    "renderer", [GitlabSastRenderer(), GitlabDependencyScanningRenderer()], ids=lambda r: r.name
)
def test_fifty_thousand_findings_render_whole(
    renderer: GitlabSastRenderer | GitlabDependencyScanningRenderer,
) -> None:
    # Speed is measured in benchmarks/render.py, not asserted here.
    result = synthetic("sast" if renderer.name == "gitlab-sast" else "dependency", 50_000)
    text = renderer.render(result, RenderOptions())
    assert text.count('\n    {"id": ') == 50_000
