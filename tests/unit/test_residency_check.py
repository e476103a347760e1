"""Placements against the policy, and the findings they become."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest

from compliance.config import bundled_policy_dir
from compliance.findings import finalize
from compliance.model import (
    REPO_SERVICE,
    FindingKind,
    Service,
    ServiceName,
    ServiceSource,
    Severity,
    SuppressionKind,
)
from compliance.residency.check import (
    Allowed,
    NotResolved,
    Outside,
    Unchecked,
    check_placement,
    owner_of,
)
from compliance.residency.placement import Placement, Resolved, Role, Unresolved
from compliance.residency.policy import ResidencyPolicy, parse_residency_policy, region_tables
from compliance.residency.regions import Provider
from compliance.scanners.residency.findings import UNRESOLVED_RULE, residency_findings
from compliance.services import attributor

TODAY = date(2026, 11, 29)
SERVICES = (
    Service(ServiceName("worker"), "services/worker", None, ServiceSource.CONFIG, None, ("pii",)),
    Service(ServiceName("web"), "services/web", None, ServiceSource.CONFIG, None, ("public",)),
)


def policy(**extra: Any) -> ResidencyPolicy:
    raw = {
        "unresolved_severity": "low",
        "rules": [
            {"id": "pii-eu-only", "data_classification": ["pii"], "allowed": {"aws": ["eu"]}},
            {
                "id": "repo-in-europe",
                "services": ["(repo)"],
                "severity": "medium",
                "allowed": {"aws": ["europe"], "gcp": ["europe", "global"]},
            },
        ],
        **extra,
    }
    return parse_residency_policy(
        raw, "policies/residency.yaml", region_tables(bundled_policy_dir()), ["worker", "web"]
    )


def place(
    region: str | None = "us-east-1",
    *,
    path: str = "infra/main.tf",
    tag: str | None = None,
    provider: Provider | None = Provider.AWS,
    address: str = "aws_s3_bucket.exports",
    role: Role = Role.RESOURCE,
    snippet: str | None = None,
) -> Placement:
    value = Resolved(region, "provider aws.us (infra/main.tf:3)") if region else Unresolved("why")
    return Placement(address, role, provider, value, path, 12, None, tag, snippet)


def test_whose_data_by_path_then_by_tag() -> None:
    assert owner_of(place(path="services/worker/x.tf"), SERVICES, "service").service == "worker"
    by_tag = owner_of(place(tag="worker"), SERVICES, "service")
    assert (by_tag.service, by_tag.classes, by_tag.via) == (
        "worker",
        ("pii",),
        "tag service=worker",
    )
    # the path wins over a tag
    assert owner_of(place(path="services/web/x.tf", tag="worker"), SERVICES, "service").service == (
        "web"
    )
    untagged = owner_of(place(), SERVICES, "service")
    assert untagged.service == REPO_SERVICE and untagged.problem is None
    typo = owner_of(place(tag="wroker"), SERVICES, "service")
    assert typo.problem is not None and "names no service" in typo.problem


def test_outside_allowed_and_no_rule() -> None:
    check = check_placement(place(tag="worker"), policy(), SERVICES, TODAY)
    assert [type(o) for o in check.outcomes] == [Outside]
    assert check.location is not None and check.location.id == "us-east-1"
    inside = check_placement(place("eu-west-1", tag="worker"), policy(), SERVICES, TODAY)
    assert [type(o) for o in inside.outcomes] == [Allowed]
    web = check_placement(place(path="services/web/main.tf"), policy(), SERVICES, TODAY)
    assert [type(o) for o in web.outcomes] == [Unchecked]
    london = check_placement(place("eu-west-2"), policy(), SERVICES, TODAY)  # (repo): europe
    assert [type(o) for o in london.outcomes] == [Allowed]


def test_a_provider_the_rule_does_not_list_allows_nothing() -> None:
    gcp = place("europe-west1", tag="worker", provider=Provider.GCP, address="google_x.y")
    (outcome,) = check_placement(gcp, policy(), SERVICES, TODAY).outcomes
    assert isinstance(outcome, Outside)


def test_zones_labels_unknown_regions_and_global() -> None:
    zone = place("eu-west-1b", tag="worker")
    assert isinstance(check_placement(zone, policy(), SERVICES, TODAY).outcomes[0], Allowed)
    label = place("eu-central-1", tag="worker", provider=None, role=Role.WORKLOAD)
    assert isinstance(check_placement(label, policy(), SERVICES, TODAY).outcomes[0], Allowed)
    nowhere = place("dc-1", tag="worker", provider=None, role=Role.WORKLOAD)
    (outcome,) = check_placement(nowhere, policy(), SERVICES, TODAY).outcomes
    assert isinstance(outcome, NotResolved) and "no cloud in the region tables" in outcome.reason
    typo = place("eu-west-9", tag="worker")  # AWS says which cloud: outside, not unknown
    (outcome,) = check_placement(typo, policy(), SERVICES, TODAY).outcomes
    assert isinstance(outcome, Outside)
    cdn = place("global", provider=Provider.GCP, role=Role.GLOBAL, address="google_cdn.x")
    assert isinstance(check_placement(cdn, policy(), SERVICES, TODAY).outcomes[0], Allowed)
    aws_cdn = place("global", role=Role.GLOBAL, address="aws_cloudfront_distribution.x")
    assert isinstance(check_placement(aws_cdn, policy(), SERVICES, TODAY).outcomes[0], Outside)


def test_unresolved_is_never_allowed() -> None:
    (outcome,) = check_placement(place(None, tag="worker"), policy(), SERVICES, TODAY).outcomes
    assert isinstance(outcome, NotResolved)
    assert [r.id for r in outcome.rules] == ["pii-eu-only"]
    (typo,) = check_placement(place(tag="wroker"), policy(), SERVICES, TODAY).outcomes
    assert isinstance(typo, NotResolved) and typo.rules == ()


def exceptions(expires: date, **scope: Any) -> dict[str, Any]:
    entry = {
        "id": "RX-1",
        "resource": "aws_s3_bucket.exp*",
        "reason": "Contractual clauses signed with the partner.",
        "owner": "dana@example.com",
        "expires": expires,
        **scope,
    }
    return {"exceptions": [entry]}


def test_an_exception_in_force_suppresses_and_an_expired_one_does_not() -> None:
    active = policy(**exceptions(date(2026, 11, 29), rule="pii-*"))
    (outcome,) = check_placement(place(tag="worker"), active, SERVICES, TODAY).outcomes
    assert isinstance(outcome, Outside) and outcome.exception is not None
    assert outcome.exception.in_force
    (later,) = check_placement(place(tag="worker"), active, SERVICES, date(2026, 11, 30)).outcomes
    assert isinstance(later, Outside) and later.exception is not None
    assert not later.exception.in_force
    (raw,) = residency_findings(
        [check_placement(place(tag="worker"), active, SERVICES, date(2026, 11, 30))], active
    )
    assert raw.suppression is None
    assert "Exception RX-1 expired on 2026-11-29: it no longer suppresses" in raw.message
    (waived,) = residency_findings(
        [check_placement(place(tag="worker"), active, SERVICES, TODAY)], active
    )
    assert waived.suppression is not None
    assert waived.suppression.kind is SuppressionKind.WAIVED
    assert "residency exception RX-1" in waived.suppression.justification


@pytest.mark.parametrize(
    ("scope", "matches"),
    [
        ({"region": ["us-east-1"]}, True),
        ({"region": ["us-west-2"]}, False),
        ({"rule": "repo-*"}, False),
        ({"path": "infra/**"}, True),
        ({"path": "services/**"}, False),
        ({"service": "worker"}, True),
        ({"service": "web"}, False),
    ],
)
def test_an_exception_matches_only_its_scope(scope: dict[str, Any], matches: bool) -> None:
    accepted = policy(**exceptions(date(2027, 1, 1), **scope))
    (outcome,) = check_placement(place(tag="worker"), accepted, SERVICES, TODAY).outcomes
    assert isinstance(outcome, Outside)
    assert (outcome.exception is not None) is matches


def test_an_exception_without_a_rule_covers_an_unresolved_region() -> None:
    accepted = policy(**exceptions(date(2027, 1, 1)))
    (outcome,) = check_placement(place(None, tag="worker"), accepted, SERVICES, TODAY).outcomes
    assert isinstance(outcome, NotResolved) and outcome.exception is not None
    named = policy(**exceptions(date(2027, 1, 1), rule="pii-eu-only"))
    (outcome,) = check_placement(place(None, tag="worker"), named, SERVICES, TODAY).outcomes
    assert isinstance(outcome, NotResolved) and outcome.exception is None


def test_findings_name_class_resource_region_source_and_rule() -> None:
    resolved = check_placement(place(tag="worker"), policy(), SERVICES, TODAY)
    (violation,) = residency_findings([resolved], policy())
    assert violation.tool == "residency" and violation.rule_id == "residency/pii-eu-only"
    assert violation.kind is FindingKind.RESIDENCY_VIOLATION
    assert violation.severity is Severity.HIGH and violation.category == "residency"
    assert violation.resource == "aws_s3_bucket.exports" and violation.snippet is None
    assert (violation.location.path, violation.location.start_line) == ("infra/main.tf", 12)
    assert violation.message == (
        "aws_s3_bucket.exports keeps pii data of service worker (by its tag service=worker) in "
        "us-east-1 (US East (N. Virginia)). Region from: provider aws.us (infra/main.tf:3). "
        "Rule pii-eu-only (policies/residency.yaml) allows on aws: eu."
    )
    (unknown,) = residency_findings(
        [check_placement(place(None, tag="worker"), policy(), SERVICES, TODAY)], policy()
    )
    assert unknown.rule_id == UNRESOLVED_RULE and unknown.severity is Severity.LOW
    assert unknown.kind is FindingKind.RESIDENCY_UNRESOLVED
    assert "cannot be resolved statically: why" in unknown.message
    assert "never assumed compliant" in unknown.message
    repo = check_placement(place("us-east-1"), policy(), SERVICES, TODAY)
    (medium,) = residency_findings([repo], policy())
    assert medium.severity is Severity.MEDIUM and "data of service (repo)" in medium.message


def test_code_findings_anchor_on_the_line_and_fingerprints_ignore_line_numbers() -> None:
    client = place(
        tag=None,
        path="services/worker/app.py",
        role=Role.CLIENT,
        address="aws-client-region us-east-1",
        snippet='sqs = boto3.client("sqs", region_name="us-east-1")',
    )
    (raw,) = residency_findings([check_placement(client, policy(), SERVICES, TODAY)], policy())
    assert raw.resource is None and raw.snippet is not None
    assert raw.message.startswith('`sqs = boto3.client("sqs", region_name="us-east-1")` (client)')
    moved = replace(raw, location=replace(raw.location, start_line=40, end_line=40))
    assign = attributor(SERVICES)
    (a,), (b,) = finalize([raw], assign), finalize([moved], assign)
    assert a.fingerprint == b.fingerprint and a.service == "worker"
