"""The JUnit renderer: control and scanner outcomes as tests, valid for Jenkins and GitLab."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections import Counter
from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta, timezone
from pathlib import Path

import pytest
from junitparser import Error, Failure, JUnitXml, Skipped

from compliance.model import (
    ControlResult,
    ControlStatus,
    Finding,
    FindingKind,
    Location,
    RuleId,
    ScannerRun,
    ScannerStatus,
    ScanResult,
    ServiceName,
    Severity,
)
from compliance.reporting.interface import RenderOptions
from compliance.reporting.junit import (
    MAX_FINDINGS_LISTED,
    JunitRenderer,
    control_classname,
)

import factories
from factories import WHEN, fp

Golden = Callable[[str, str], None]
SCHEMAS = Path(__file__).resolve().parents[1] / "assets" / "schemas"
HOSTILE = "</failure><script>alert(1)</script> ]]> \x00\x01\x1b[31m\x7f\x9b \ud800 \r\n🔥 end"


def finding(n: int, message: str = "shell=True with user input", **changes: object) -> Finding:
    base = Finding(
        fingerprint=fp(n),
        service=ServiceName("api"),
        tool="bandit",
        rule_id=RuleId("B602"),
        title="subprocess popen with shell equals true",
        message=message,
        severity=Severity.HIGH,
        kind=FindingKind.CODE,
        location=Location("services/api/app/run.py", 12, 12),
        cwe=("CWE-78",),
    )
    return replace(base, **changes)  # type: ignore[arg-type]


def control(cid: str, status: ControlStatus, **changes: object) -> ControlResult:
    framework = "iso27001" if cid.startswith("A.") and cid.count(".") == 2 else "soc2"
    base = ControlResult(framework, cid, f"title of {cid}", "automated", status)
    return replace(base, **changes)  # type: ignore[arg-type]


def scan_result(
    findings: tuple[Finding, ...] = (),
    controls: tuple[ControlResult, ...] = (),
    scanners: tuple[ScannerRun, ...] = (),
) -> ScanResult:
    return factories.scan_result(
        finished_at=WHEN + timedelta(seconds=42.5),
        scanners=scanners,
        findings=findings,
        controls=controls,
    )


def hand_built() -> ScanResult:
    """A failed, a passed, a not-assessed and a manual control; an ok, a failed and a
    skipped scanner."""
    findings = (
        finding(1),
        finding(
            2,
            "line one\nline two",
            tool="semgrep",
            rule_id=RuleId("tls-verification-disabled"),
            severity=Severity.CRITICAL,
            location=Location("services/web/client.py", 40, 41),
            service=ServiceName("web"),
        ),
    )
    controls = (
        control(
            "A.8.28", ControlStatus.FAILED, findings=(fp(2), fp(1)), reason="2 open finding(s)"
        ),
        control("A.8.7", ControlStatus.PASSED),
        control("A.5.8", ControlStatus.NOT_ASSESSED, reason="checkov had nothing to scan"),
        control("A.6.3", ControlStatus.MANUAL, reason="people supply the evidence"),
        control("CC6.1", ControlStatus.FAILED, findings=(fp(1),)),
        control("CC7.1", ControlStatus.PASSED, reason="1 suppressed finding(s) not counted"),
    )
    scanners = (
        ScannerRun("bandit", ScannerStatus.OK, "1.9.4", 1.25, findings=2),
        ScannerRun("semgrep", ScannerStatus.ERROR, "1.185.0", 3.0, error="semgrep crashed: exit 2"),
        ScannerRun("checkov", ScannerStatus.SKIPPED, "3.3.30", 0.0, error="nothing to scan"),
    )
    return scan_result(findings, controls, scanners)


def render(result: ScanResult) -> str:
    return JunitRenderer().render(result, RenderOptions())


def parse(text: str) -> JUnitXml:
    return JUnitXml.fromstring(text.encode("utf-8"))


def validate_xsd(text: str) -> None:
    etree = pytest.importorskip("lxml.etree")
    schema = etree.XMLSchema(etree.parse(str(SCHEMAS / "junit-10.xsd")))
    document = etree.fromstring(text.encode("utf-8"))
    assert schema.validate(document), schema.error_log


def outcome(case: object) -> str:
    results = case.result  # type: ignore[attr-defined]
    if not results:
        return "passed"
    [single] = results
    return {Failure: "failed", Error: "error", Skipped: "skipped"}[type(single)]


# --- the examples result ---------------------------------------------------------------


def test_examples_match_the_golden_file(examples_result: ScanResult, golden: Golden) -> None:
    golden("junit/examples.xml", render(examples_result))


def test_examples_validate_against_the_junit_xsd(examples_result: ScanResult) -> None:
    validate_xsd(render(examples_result))


def test_every_outcome_and_hostile_text_validate_against_the_junit_xsd() -> None:
    validate_xsd(render(hand_built()))
    validate_xsd(render(hostile_result()))


def test_examples_counts_equal_the_control_and_scanner_outcomes(
    examples_result: ScanResult,
) -> None:
    xml = parse(render(examples_result))
    suites = list(xml)
    assert [s.name for s in suites] == ["ISO/IEC 27001:2022", "SOC 2", "Scanners"]
    for suite, framework in zip(suites, ("iso27001", "soc2"), strict=False):
        statuses = Counter(c.status for c in examples_result.controls if c.framework == framework)
        outcomes = Counter(outcome(case) for case in suite)
        assert suite.tests == sum(statuses.values())
        assert suite.failures == statuses[ControlStatus.FAILED] == outcomes["failed"]
        assert suite.skipped == outcomes["skipped"]
        assert (
            suite.skipped == statuses[ControlStatus.NOT_ASSESSED] + statuses[ControlStatus.MANUAL]
        )
        assert suite.errors == 0
        assert outcomes["passed"] == statuses[ControlStatus.PASSED]
    assert suites[2].tests == len(examples_result.scanners) == 6
    assert xml.tests == len(examples_result.controls) + len(examples_result.scanners)
    assert xml.failures == sum(c.status is ControlStatus.FAILED for c in examples_result.controls)
    assert xml.errors == 0


def test_testcases_are_unique_for_gitlab(examples_result: ScanResult) -> None:
    """GitLab keeps only the first of testcases with the same classname and name."""
    keys = [
        (case.classname, case.name) for suite in parse(render(examples_result)) for case in suite
    ]
    assert len(keys) == len(set(keys))


# --- a hand-built result ---------------------------------------------------------------


def test_a_failed_control_lists_its_findings() -> None:
    xml = parse(render(hand_built()))
    iso = next(iter(xml))
    case = next(c for c in iso if c.name == "A.8.28 title of A.8.28")
    assert case.classname == "iso27001.technological"
    [failure] = case.result
    assert isinstance(failure, Failure)
    assert failure.message == "2 open finding(s)"
    assert failure.text == (
        "CRITICAL semgrep tls-verification-disabled services/web/client.py:40 [web]\n"
        "    line one\n"
        "    line two\n"
        "HIGH bandit B602 services/api/app/run.py:12 [api]\n"
        "    shell=True with user input\n"
    )


def test_statuses_become_failure_skipped_or_nothing() -> None:
    xml = parse(render(hand_built()))
    iso, soc2, _ = list(xml)
    by_name = {case.name.split()[0]: case for suite in (iso, soc2) for case in suite}
    assert {name: outcome(case) for name, case in by_name.items()} == {
        "A.8.28": "failed",
        "A.8.7": "passed",
        "A.5.8": "skipped",
        "A.6.3": "skipped",
        "CC6.1": "failed",
        "CC7.1": "passed",
    }
    [not_assessed] = by_name["A.5.8"].result
    assert not_assessed.message == not_assessed.text == "checkov had nothing to scan"
    assert not_assessed.type == "not-assessed"
    [manual] = by_name["A.6.3"].result
    assert (manual.type, manual.text) == ("manual", "people supply the evidence")
    assert by_name["CC7.1"].system_out == "1 suppressed finding(s) not counted"
    assert [by_name["CC6.1"].result[0].message] == ["1 open finding(s)"]
    assert (iso.tests, iso.failures, iso.skipped, iso.errors) == (4, 1, 2, 0)
    assert (soc2.tests, soc2.failures, soc2.skipped, soc2.errors) == (2, 1, 0, 0)


def test_a_scanner_error_is_an_error_and_a_skipped_scanner_is_skipped() -> None:
    xml = parse(render(hand_built()))
    scanners = list(xml)[-1]
    cases = {case.name: case for case in scanners}
    assert {name: outcome(case) for name, case in cases.items()} == {
        "bandit": "passed",
        "semgrep": "error",
        "checkov": "skipped",
    }
    [error] = cases["semgrep"].result
    assert error.message == "semgrep crashed: exit 2"
    assert error.text == "semgrep (1.185.0) failed: semgrep crashed: exit 2"
    assert cases["checkov"].result[0].message == "nothing to scan"
    assert cases["bandit"].system_out == "bandit 1.9.4: 2 finding(s)"
    assert cases["bandit"].time == pytest.approx(1.25)
    assert (scanners.tests, scanners.errors, scanners.skipped, scanners.failures) == (3, 1, 1, 0)
    assert (xml.tests, xml.failures, xml.errors) == (9, 2, 1)


def test_suite_attributes_jenkins_and_gitlab_read() -> None:
    text = render(hand_built())
    root = ET.fromstring(text)
    assert root.tag == "testsuites"
    assert root.attrib == {
        "name": "compliance",
        "tests": "9",
        "failures": "2",
        "errors": "1",
        "time": "42.500",
    }
    for suite in root:
        assert set(suite.attrib) == {
            "name", "tests", "failures", "errors", "skipped", "time", "timestamp"
        }  # fmt: skip
        assert suite.attrib["timestamp"] == "2026-11-29T12:00:00"
    assert root[-1].attrib["time"] == "4.250"


def test_the_timestamp_is_utc_whatever_the_offset() -> None:
    offset = timezone(timedelta(hours=2))
    result = replace(
        hand_built(),
        started_at=WHEN.astimezone(offset),
        finished_at=WHEN.astimezone(offset),
    )
    naive = replace(hand_built(), started_at=WHEN.replace(tzinfo=None))
    for variant in (result, naive):
        assert 'timestamp="2026-11-29T12:00:00"' in render(variant)


@pytest.mark.parametrize(
    ("framework", "cid", "classname"),
    [
        ("iso27001", "A.5.15", "iso27001.organizational"),
        ("iso27001", "A.6.3", "iso27001.people"),
        ("iso27001", "A.7.4", "iso27001.physical"),
        ("iso27001", "A.8.28", "iso27001.technological"),
        ("iso27001", "B.1", "iso27001"),
        ("soc2", "CC6.1", "soc2.logical-and-physical-access"),
        ("soc2", "CC1.4", "soc2.control-environment"),
        ("soc2", "A1.2", "soc2.availability"),
        ("soc2", "C1.1", "soc2.confidentiality"),
        ("soc2", "PI1.2", "soc2.processing-integrity"),
        ("soc2", "P4.1", "soc2.privacy"),
        ("soc2", "X9.9", "soc2"),
        ("nist-csf", "PR.AC-1", "nist-csf"),
    ],
)
def test_classnames_group_controls_by_theme(framework: str, cid: str, classname: str) -> None:
    assert control_classname(
        ControlResult(framework, cid, "t", "automated", ControlStatus.PASSED)
    ) == (classname)


def test_an_unknown_framework_gets_its_own_suite() -> None:
    extra = ControlResult("nist-csf", "PR.AC-1", "Identities", "automated", ControlStatus.PASSED)
    result = replace(hand_built(), controls=(*hand_built().controls, extra))
    assert [s.name for s in parse(render(result))] == [
        "ISO/IEC 27001:2022", "SOC 2", "nist-csf", "Scanners"
    ]  # fmt: skip


def test_a_failed_control_lists_at_most_the_cap() -> None:
    many = tuple(finding(n) for n in range(MAX_FINDINGS_LISTED + 50))
    failed = control(
        "A.8.8", ControlStatus.FAILED, findings=tuple(f.fingerprint for f in many), reason=None
    )
    text = render(scan_result(many, (failed,)))
    [case] = next(iter(parse(text)))
    [failure] = case.result
    assert failure.message == f"{MAX_FINDINGS_LISTED + 50} open finding(s)"
    assert failure.text.count("HIGH bandit B602") == MAX_FINDINGS_LISTED
    assert failure.text.endswith("… and 50 more open finding(s): see the JSON result\n")


def test_a_fingerprint_missing_from_the_findings_is_named() -> None:
    failed = control("A.8.8", ControlStatus.FAILED, findings=(fp(99),))
    [case] = next(iter(parse(render(scan_result((), (failed,))))))
    assert f"{fp(99)} (not among this result's findings)" in case.result[0].text


# --- hostile text ----------------------------------------------------------------------


def hostile_result() -> ScanResult:
    evil = finding(
        1,
        HOSTILE,
        location=Location("src/<evil>&\"'.py\x00", 3, 3),
        service=ServiceName("svc]]>"),
        rule_id=RuleId("rule<1>"),
    )
    controls = (
        control("A.8.28", ControlStatus.FAILED, title=HOSTILE, findings=(fp(1),), reason=HOSTILE),
        control("A.8.9", ControlStatus.NOT_ASSESSED, reason=HOSTILE),
        control("CC7.1", ControlStatus.PASSED, reason=HOSTILE),
    )
    scanners = (ScannerRun("semgrep\x00", ScannerStatus.ERROR, "1", 0.0, error=HOSTILE),)
    return scan_result((evil,), controls, scanners)


def test_hostile_text_is_escaped_and_valid() -> None:
    text = render(hostile_result())
    text.encode("utf-8")  # no lone surrogate survives
    assert "<script>" not in text
    assert "\x00" not in text and "\x1b" not in text and "\ud800" not in text
    root = ET.fromstring(text)
    failure = root.find("./testsuite/testcase/failure")
    assert failure is not None and failure.text is not None
    assert "</failure><script>alert(1)</script> ]]> \\x00\\x01\\x1b[31m\\x7f\\x9b \\ud800" in (
        failure.text
    )
    assert "🔥 end" in failure.text
    assert "src/<evil>&\"'.py\\x00:3 [svc]]>]" in failure.text
    assert failure.attrib["message"].startswith("</failure><script>")
    case = root.find("./testsuite/testcase")
    assert case is not None and case.attrib["name"].startswith("A.8.28 </failure><script>")
    error = root.find("./testsuite/testcase/error")
    assert error is not None and error.attrib["message"].endswith("🔥 end")
    assert parse(text).tests == 4


# --- determinism and speed -------------------------------------------------------------


def test_rendering_is_deterministic(examples_result: ScanResult) -> None:
    assert render(examples_result) == render(examples_result)
    assert render(hostile_result()) == render(hostile_result())


def synthetic(count: int) -> ScanResult:
    findings = tuple(
        finding(n, f"problem {n}", location=Location(f"src/m{n % 500}.py", n % 900 + 1, None))
        for n in range(count)
    )
    ids = [f"A.8.{n}" for n in range(1, 35)] + [f"CC{n}.1" for n in range(1, 10)]
    controls = tuple(
        control(cid, ControlStatus.FAILED, findings=tuple(f.fingerprint for f in findings[i::43]))
        for i, cid in enumerate(ids)
    )
    return scan_result(findings, controls)


def test_fifty_thousand_findings_render_whole() -> None:
    # Speed is measured in benchmarks/render.py, not asserted here.
    result = synthetic(50_000)
    assert parse(render(result)).failures == 43
