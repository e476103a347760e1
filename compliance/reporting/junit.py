"""JUnit XML for the test views of CI servers: Jenkins' JUnit plugin and GitLab's unit test
reports.

One `<testsuite>` per framework with one `<testcase>` per control: a `<failure>` listing the
open findings when the control failed, `<skipped>` with the reason when it is not assessed or
manual, nothing when it passed. A last suite has one testcase per scanner: `<error>` when the
scanner failed, `<skipped>` when it had nothing to scan.

What the readers use (and so what is written):
- Jenkins (jenkinsci/junit-plugin, SuiteResult/CaseResult) reads testsuite `name`, `time`,
  `timestamp`; testcase `classname` (split at the last dot into package and class), `name`,
  `time`; the text and `message` of `<failure>`/`<error>`; `<skipped>` and its `message`. It
  counts from the testcases, not from the count attributes.
- GitLab (docs/ci/testing/unit_test_reports) reads testsuites `time`, testsuite `name` and
  `time`, testcase `classname` (shown as the suite), `name`, `time`, and the element text of
  `<failure>`, `<error>`, `<skipped>` and `<system-out>`; duplicate classname + name pairs
  are dropped, so every testcase is unique.
- The output validates against junit-10.xsd of the Jenkins xUnit plugin, which checks JUnit
  input with it. That schema has no `skipped` on `<testsuites>` (so it is not written there;
  each `<testsuite>` carries it) and its `time` is a plain decimal.

Text from the scanned repository (messages, paths, even control titles of a user catalogue)
is escaped by ElementTree; characters XML 1.0 cannot carry (NUL and other C0 controls, lone
surrogates, U+FFFE/U+FFFF) and C1 controls are written as visible `\\xNN` / `\\uNNNN`.
"""

from __future__ import annotations

import re
import sys
import xml.etree.ElementTree as ET
from datetime import datetime, timezone

from compliance.model import (
    ControlResult,
    ControlStatus,
    Finding,
    Fingerprint,
    ScannerRun,
    ScannerStatus,
    ScanResult,
)
from compliance.reporting.interface import RenderOptions

if sys.version_info >= (3, 11):
    from typing import assert_never
else:  # pragma: no cover - Python 3.10
    from typing_extensions import assert_never

#: A failed control lists at most this many of its findings (the JSON result has them all):
#: GitLab refuses JUnit files over 30 MB, and a control can be failed by thousands.
MAX_FINDINGS_LISTED = 100

FRAMEWORK_NAMES = {"iso27001": "ISO/IEC 27001:2022", "soc2": "SOC 2"}

#: Annex A themes (clauses 5-8) and the SOC 2 criteria series, as the catalogue files name them.
_ISO_THEMES = {"5": "organizational", "6": "people", "7": "physical", "8": "technological"}
_SOC2_SERIES = {
    "CC1": "control-environment",
    "CC2": "communication-and-information",
    "CC3": "risk-assessment",
    "CC4": "monitoring-activities",
    "CC5": "control-activities",
    "CC6": "logical-and-physical-access",
    "CC7": "system-operations",
    "CC8": "change-management",
    "CC9": "risk-mitigation",
    "A1": "availability",
    "C1": "confidentiality",
    "PI1": "processing-integrity",
    "P": "privacy",
}
_ISO_ID = re.compile(r"A\.(\d+)\.")
_SOC2_ID = re.compile(r"(CC\d+|PI\d+|A\d+|C\d+|P)(?=\d|\.)")

_NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'


def xml_text(text: str | None) -> str:
    """`text` with every character XML 1.0 cannot hold (and C1 controls) made visible."""
    if not text:
        return ""
    return _NOT_XML.sub(_visible, text)


def _visible(match: re.Match[str]) -> str:
    code = ord(match.group(0))
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _seconds(value: float) -> str:
    return f"{max(value, 0.0):.3f}"


def _utc(moment: datetime) -> datetime:
    """The result records UTC; a naive time is taken as UTC, never as the machine's zone."""
    if moment.tzinfo is None:
        return moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def _timestamp(moment: datetime) -> str:
    """UTC without an offset (`2026-11-29T12:00:00`): the form Ant, Jenkins and GitLab read."""
    return _utc(moment).strftime("%Y-%m-%dT%H:%M:%S")


def control_classname(control: ControlResult) -> str:
    """`iso27001.organizational`, `soc2.logical-and-physical-access`, else the framework."""
    group: str | None = None
    if control.framework == "iso27001":
        iso = _ISO_ID.match(control.id)
        group = _ISO_THEMES.get(iso.group(1)) if iso else None
    elif control.framework == "soc2":
        soc2 = _SOC2_ID.match(control.id)
        group = _SOC2_SERIES.get(soc2.group(1)) if soc2 else None
    return f"{control.framework}.{group}" if group else control.framework


def _finding_lines(finding: Finding) -> str:
    line = f":{finding.location.start_line}" if finding.location.start_line else ""
    head = (
        f"{finding.severity.value.upper()} {finding.tool} {finding.rule_id} "
        f"{finding.location.path}{line} [{finding.service}]"
    )
    body = "\n".join(f"    {part}" for part in finding.message.splitlines() or [""])
    return f"{head}\n{body}"


def _failure_text(control: ControlResult, findings: dict[Fingerprint, Finding]) -> str:
    blocks = []
    for fingerprint in control.findings[:MAX_FINDINGS_LISTED]:
        finding = findings.get(fingerprint)
        blocks.append(
            _finding_lines(finding)
            if finding is not None
            else f"{fingerprint} (not among this result's findings)"
        )
    rest = len(control.findings) - MAX_FINDINGS_LISTED
    if rest > 0:
        blocks.append(f"… and {rest} more open finding(s): see the JSON result")
    if not blocks:
        blocks.append(control.reason or "failed")
    return "\n".join(blocks) + "\n"


class _Suite:
    """A `<testsuite>` under construction, counting its outcomes."""

    def __init__(self, name: str, timestamp: str) -> None:
        self.element = ET.Element("testsuite", {"name": xml_text(name)})
        self.timestamp = timestamp
        self.tests = self.failures = self.errors = self.skipped = 0
        self.time = 0.0

    def case(self, classname: str, name: str, time: float = 0.0) -> ET.Element:
        self.tests += 1
        self.time += time
        attributes = {"classname": xml_text(classname), "name": xml_text(name)}
        attributes["time"] = _seconds(time)
        return ET.SubElement(self.element, "testcase", attributes)

    def outcome(self, case: ET.Element, tag: str, message: str, kind: str, text: str) -> None:
        if tag == "failure":
            self.failures += 1
        elif tag == "error":
            self.errors += 1
        else:
            self.skipped += 1
        element = ET.SubElement(case, tag, {"message": xml_text(message), "type": kind})
        element.text = xml_text(text)

    def finish(self) -> ET.Element:
        for key, value in (
            ("tests", self.tests),
            ("failures", self.failures),
            ("errors", self.errors),
            ("skipped", self.skipped),
        ):
            self.element.set(key, str(value))
        self.element.set("time", _seconds(self.time))
        self.element.set("timestamp", self.timestamp)
        return self.element


def _control_case(
    suite: _Suite, control: ControlResult, findings: dict[Fingerprint, Finding]
) -> None:
    case = suite.case(control_classname(control), f"{control.id} {control.title}")
    match control.status:
        case ControlStatus.PASSED:
            if control.reason:
                ET.SubElement(case, "system-out").text = xml_text(control.reason)
        case ControlStatus.FAILED:
            message = control.reason or f"{len(control.findings)} open finding(s)"
            suite.outcome(case, "failure", message, "failed", _failure_text(control, findings))
        case ControlStatus.NOT_ASSESSED:
            reason = control.reason or "not assessed by this scan"
            suite.outcome(case, "skipped", reason, "not-assessed", reason)
        case ControlStatus.MANUAL:
            reason = control.reason or "manual control: people supply its evidence"
            suite.outcome(case, "skipped", reason, "manual", reason)
        case _:
            assert_never(control.status)


def _scanner_case(suite: _Suite, run: ScannerRun) -> None:
    case = suite.case("scanners", run.name, run.duration_s)
    version = run.version or "version unknown"
    match run.status:
        case ScannerStatus.OK:
            summary = f"{run.name} {version}: {run.findings} finding(s)"
            ET.SubElement(case, "system-out").text = xml_text(summary)
        case ScannerStatus.ERROR:
            error = run.error or "failed"
            text = f"{run.name} ({version}) failed: {error}"
            suite.outcome(case, "error", error, "scanner-error", text)
        case ScannerStatus.SKIPPED:
            reason = run.error or "nothing to scan"
            suite.outcome(case, "skipped", reason, "scanner-skipped", reason)
        case _:
            assert_never(run.status)


def render_junit(result: ScanResult) -> str:
    findings = {f.fingerprint: f for f in result.findings}
    timestamp = _timestamp(result.started_at)
    suites: dict[str, _Suite] = {}
    for control in result.controls:
        suite = suites.get(control.framework)
        if suite is None:
            name = FRAMEWORK_NAMES.get(control.framework, control.framework)
            suite = suites[control.framework] = _Suite(name, timestamp)
        _control_case(suite, control, findings)
    scanners = _Suite("Scanners", timestamp)
    for run in result.scanners:
        _scanner_case(scanners, run)
    all_suites = [*suites.values(), scanners]

    root = ET.Element("testsuites", {"name": "compliance"})
    for key in ("tests", "failures", "errors"):
        root.set(key, str(sum(getattr(s, key) for s in all_suites)))
    duration = _utc(result.finished_at) - _utc(result.started_at)
    root.set("time", _seconds(duration.total_seconds()))
    root.extend(s.finish() for s in all_suites)
    ET.indent(root, space="  ")
    return _DECLARATION + ET.tostring(root, encoding="unicode") + "\n"


class JunitRenderer:
    name = "junit"

    def render(self, result: ScanResult, options: RenderOptions) -> str:
        return render_junit(result)
