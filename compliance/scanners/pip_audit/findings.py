"""Requirements plus the worker's report -> RawFindings. Pure: no I/O, no clock."""

from __future__ import annotations

from collections.abc import Iterable

from compliance.errors import ScannerFailure
from compliance.model import FindingKind, Location, Package, RawFinding, RuleId, Severity
from compliance.scanners.pip_audit.protocol import Vulnerability, WorkerReport
from compliance.scanners.pip_audit.requirement import Pinned, Requirement, Unauditable, Unpinned

TOOL = "pip-audit"
UNPINNED_RULE = RuleId("unpinned-dependency")
UNAUDITABLE_RULE = RuleId("unauditable-dependency")
#: How many not-audited dependencies an error message names before "and N more".
_SHOWN = 5
_MESSAGE_CHARS = 300


def check_report(report: WorkerReport, asked: Iterable[tuple[str, str]]) -> None:
    """Raise ScannerFailure unless every pin asked about was audited.

    A dependency the service could not answer for, or that the report leaves out, is never
    treated as clean.
    """
    answered = {(r.name, r.version) for r in report.results}
    missing = sorted(set(asked) - answered - {(n.name, n.version) for n in report.not_audited})
    problems = [f"{n.name}=={n.version}: {n.reason}" for n in report.not_audited]
    problems += [f"{name}=={version}: missing from the report" for name, version in missing]
    if not problems:
        return
    shown = "; ".join(problems[:_SHOWN])
    more = f"; and {len(problems) - _SHOWN} more" if len(problems) > _SHOWN else ""
    noun = "dependency" if len(problems) == 1 else "dependencies"
    raise ScannerFailure(
        f"pip-audit: {len(problems)} {noun} could not be audited: {shown}{more}",
        hint="check access to the OSV service, or audit offline with a local advisory "
        "database (--advisory-db)",
    )


def build_findings(
    requirements: Iterable[Requirement], report: WorkerReport | None
) -> tuple[RawFinding, ...]:
    """One finding per advisory per pin, and one per dependency that cannot be audited."""
    vulns: dict[tuple[str, str], tuple[Vulnerability, ...]] = {}
    if report is not None:
        vulns = {(r.name, r.version): r.vulns for r in report.results}
    findings: list[RawFinding] = []
    for requirement in requirements:
        match requirement:
            case Pinned():
                found = vulns.get((requirement.name, requirement.version), ())
                findings += [vulnerability_finding(requirement, v) for v in found]
            case Unpinned():
                findings.append(unpinned_finding(requirement))
            case Unauditable():
                findings.append(unauditable_finding(requirement))
    return tuple(
        sorted(
            findings,
            key=lambda f: (
                f.location.path,
                f.location.start_line or 0,
                f.resource or "",
                f.rule_id,
            ),
        )
    )


def vulnerability_finding(pin: Pinned, vuln: Vulnerability) -> RawFinding:
    fixes = ", ".join(vuln.fix_versions)
    fix_text = f"Fixed in {fixes}." if fixes else "No fixed version is published."
    via = (
        f" Pinned by this constraint for {pin.constrained_from}."
        if pin.constrained_from is not None
        else ""
    )
    message = (
        f"{first_sentences(vuln.description)} {fix_text}{via} "
        f"Severity: {vuln.severity_basis or vuln.severity.value}."
    )
    return RawFinding(
        tool=TOOL,
        rule_id=RuleId(vuln.id),
        title=f"{pin.name} {pin.version}: {vuln.id}",
        message=message,
        severity=vuln.severity,
        category="dependency",
        kind=FindingKind.DEPENDENCY_VULNERABILITY,
        location=Location(pin.file, pin.line, pin.line),
        cwe=vuln.cwe,
        resource=f"{pin.name}=={pin.version}",
        package=Package(pin.name, pin.version, vuln.fix_versions, vuln.aliases),
        help_url=vuln.help_url or f"https://osv.dev/vulnerability/{vuln.id}",
    )


def unpinned_finding(requirement: Unpinned) -> RawFinding:
    wanted = requirement.specifier or "any version"
    return RawFinding(
        tool=TOOL,
        rule_id=UNPINNED_RULE,
        title=f"{requirement.name}: not pinned ({wanted})",
        message=(
            f"{requirement.name} is not pinned to one version ({requirement.reason}), so the "
            "version that gets installed, and its advisories, cannot be audited exactly. "
            "Pin it with == or commit a lock file."
        ),
        severity=Severity.LOW,
        category="dependency",
        kind=FindingKind.DEPENDENCY_NOT_AUDITED,
        location=Location(requirement.file, requirement.line, requirement.line),
        resource=str(requirement.name),
        package=Package(requirement.name, None),
    )


def unauditable_finding(requirement: Unauditable) -> RawFinding:
    return RawFinding(
        tool=TOOL,
        rule_id=UNAUDITABLE_RULE,
        title=f"{requirement.name}: cannot be audited",
        message=(
            f"{requirement.name} cannot be checked against an advisory database: "
            f"{requirement.reason}."
        ),
        severity=Severity.LOW,
        category="dependency",
        kind=FindingKind.DEPENDENCY_NOT_AUDITED,
        location=Location(requirement.file, requirement.line, requirement.line),
        resource=str(requirement.name),
        package=Package(requirement.name, requirement.version),
    )


def first_sentences(text: str, limit: int = _MESSAGE_CHARS) -> str:
    """The start of an advisory's description: its first paragraph, cut near `limit`."""
    paragraph = " ".join(text.strip().split("\n\n", 1)[0].split())
    if not paragraph:
        return "No description."
    if len(paragraph) <= limit:
        return paragraph if paragraph.endswith((".", "!", "?")) else paragraph + "."
    cut = paragraph.rfind(". ", 0, limit)
    return paragraph[: cut + 1] if cut > 0 else paragraph[:limit].rstrip() + "…"
