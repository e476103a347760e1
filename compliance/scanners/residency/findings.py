"""Residency checks as findings: a violation per rule a placement breaks, an unresolved
finding per placement whose region cannot be known, each naming the data class, the
resource, the region, where the region came from and what the rule allows."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from compliance.model import (
    Confidence,
    FindingKind,
    Location,
    RawFinding,
    RuleId,
    ServiceName,
    Severity,
    Suppression,
    SuppressionKind,
)
from compliance.residency.check import (
    Allowed,
    Check,
    ExceptionUse,
    NotResolved,
    Outside,
    Owner,
    Unchecked,
)
from compliance.residency.placement import Placement, Resolved, Role
from compliance.residency.policy import ResidencyPolicy, ResidencyRule

NAME = "residency"
CATEGORY = "residency"
UNRESOLVED_RULE = "residency/unresolved"

_ROLE = {
    Role.RESOURCE: "",
    Role.REPLICA: "replica",
    Role.BACKUP: "backup copy",
    Role.GLOBAL: "global service",
    Role.CLUSTER: "Kubernetes cluster",
    Role.WORKLOAD: "workload",
    Role.STACK: "CloudFormation stack",
    Role.CLIENT: "client",
    Role.REFERENCE: "",
}


def residency_findings(checks: Iterable[Check], policy: ResidencyPolicy) -> Iterator[RawFinding]:
    for check in checks:
        for outcome in check.outcomes:
            match outcome:
                case Allowed() | Unchecked():
                    continue
                case Outside():
                    yield _violation(check, outcome, policy)
                case NotResolved():
                    yield _unresolved(check, outcome, policy)


def _violation(check: Check, outcome: Outside, policy: ResidencyPolicy) -> RawFinding:
    placement, rule = check.placement, outcome.rule
    assert isinstance(placement.region, Resolved)
    value = placement.region.value
    if check.location is None:
        cloud = placement.provider.value if placement.provider else "cloud"
        where = f"{value} (not in the {cloud} region table)"
    elif check.location.id != value:
        where = f"{value} = {check.location.describe()}"
    else:
        where = check.location.describe()
    message = (
        f"{_subject(placement)} keeps {_data(check.owner, rule)} in {where}. "
        f"Region from: {placement.region.source}. "
        f"Rule {rule.id} ({policy.source}) allows {_allowed(rule, check)}."
    )
    return _finding(
        check,
        rule_id=f"residency/{rule.id}",
        title=f"{_classes(check.owner, rule)} data outside the regions its policy allows",
        message=message + _exception_note(outcome.exception),
        kind=FindingKind.RESIDENCY_VIOLATION,
        severity=rule.severity,
        exception=outcome.exception,
    )


def _unresolved(check: Check, outcome: NotResolved, policy: ResidencyPolicy) -> RawFinding:
    rules = ", ".join(r.id for r in outcome.rules) or "a rule for its data class"
    message = (
        f"Where {_subject(check.placement)} keeps the data of service {check.owner.service} "
        f"cannot be resolved statically: {outcome.reason}. It may be outside what {rules} "
        f"({policy.source}) allows: it is never assumed compliant."
    )
    return _finding(
        check,
        rule_id=UNRESOLVED_RULE,
        title="data location cannot be resolved statically",
        message=message + _exception_note(outcome.exception),
        kind=FindingKind.RESIDENCY_UNRESOLVED,
        severity=policy.unresolved_severity,
        exception=outcome.exception,
    )


def _finding(
    check: Check,
    *,
    rule_id: str,
    title: str,
    message: str,
    kind: FindingKind,
    severity: Severity,
    exception: ExceptionUse | None,
) -> RawFinding:
    placement = check.placement
    code = placement.role is Role.CLIENT and placement.snippet is not None
    suppression = None
    if exception is not None and exception.in_force:
        e = exception.exception
        suppression = Suppression(
            SuppressionKind.WAIVED, f"residency exception {e.id}: {e.describe()}"
        )
    return RawFinding(
        tool=NAME,
        rule_id=RuleId(rule_id),
        title=title,
        message=message,
        severity=severity,
        kind=kind,
        location=Location(placement.path, placement.line, placement.line),
        confidence=Confidence.HIGH if isinstance(placement.region, Resolved) else Confidence.MEDIUM,
        snippet=placement.snippet if code else None,
        resource=None if code else placement.address,
        category=CATEGORY,
        suppression=suppression,
        # the service whose data it is (by path, or by the resource's `service` tag); when
        # the owner is not known (a tag naming no service), the path decides
        service=ServiceName(check.owner.service) if check.owner.problem is None else None,
    )


def _subject(placement: Placement) -> str:
    """`aws_s3_bucket.x (replica: replicates ...)`, or the line of code for a client."""
    if placement.role is Role.CLIENT and placement.snippet:
        text = f"`{placement.snippet.strip()}`"
    else:
        text = placement.address
    details = [d for d in (_ROLE[placement.role], placement.note) if d]
    return f"{text} ({': '.join(details)})" if details else text


def _allowed(rule: ResidencyRule, check: Check) -> str:
    provider = check.location.provider if check.location else check.placement.provider
    if provider is None:
        return rule.describe_allowed()
    written = rule.written.get(provider)
    if not written:
        return f"nothing on {provider.value}"
    return f"on {provider.value}: {', '.join(written)}"


def _classes(owner: Owner, rule: ResidencyRule) -> str:
    shared = sorted(rule.classes.intersection(owner.classes))
    return "/".join(shared) if shared else f"service {owner.service}'s"


def _data(owner: Owner, rule: ResidencyRule) -> str:
    via = "" if owner.via == "path" else f" (by its {owner.via})"
    shared = sorted(rule.classes.intersection(owner.classes))
    if shared:
        return f"{'/'.join(shared)} data of service {owner.service}{via}"
    return f"data of service {owner.service}{via}"


def _exception_note(use: ExceptionUse | None) -> str:
    if use is None:
        return ""
    e = use.exception
    if use.in_force:
        return f" Accepted by exception {e.id} until {e.expires.isoformat()}."
    return (
        f" Exception {e.id} expired on {e.expires.isoformat()}: it no longer suppresses this "
        "finding."
    )
