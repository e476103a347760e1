"""The residency policy loader: strict, every problem with its file and key path."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml

from compliance.config import RepoConfig, bundled_policy_dir
from compliance.errors import ConfigError
from compliance.model import REPO_SERVICE, Severity
from compliance.residency.policy import (
    ResidencyPolicy,
    load_residency_policy,
    parse_residency_policy,
    region_tables,
    residency_policy_path,
)
from compliance.residency.regions import Provider, RegionTables

SERVICES = ["api", "payments", "worker"]


@pytest.fixture(scope="module")
def tables() -> RegionTables:
    return region_tables(bundled_policy_dir())


def rule(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "pii-eu-only",
        "data_classification": ["pii"],
        "allowed": {"aws": ["eu"], "gcp": ["eu", "EUR5"], "azure": ["westeurope"]},
        **overrides,
    }


def exception(**overrides: Any) -> dict[str, Any]:
    return {
        "id": "RX-1",
        "rule": "pii-eu-only",
        "resource": "aws_s3_bucket.exports",
        "reason": "Standard contractual clauses with the partner.",
        "owner": "dana@example.com",
        "approver": "dpo@example.com",
        "expires": date(2027, 3, 31),
        **overrides,
    }


def parse(raw: Any, tables: RegionTables) -> ResidencyPolicy:
    return parse_residency_policy(raw, "policies/residency.yaml", tables, SERVICES)


def problems(raw: Any, tables: RegionTables) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(raw, tables)
    return [str(p) for p in caught.value.problems]


def test_a_valid_policy_expands_groups_and_keeps_what_was_written(tables: RegionTables) -> None:
    policy = parse(
        {
            "version": 1,
            "unresolved_severity": "low",
            "rules": [rule(), rule(id="repo", data_classification=[], services=["(repo)"])],
            "exceptions": [exception()],
        },
        tables,
    )
    assert policy.source == "policies/residency.yaml"
    assert policy.unresolved_severity is Severity.LOW
    pii, repo = policy.rules
    assert pii.severity is Severity.HIGH
    assert "eu-west-1" in pii.allowed[Provider.AWS]
    assert "eu-west-2" not in pii.allowed[Provider.AWS]
    assert {"EU", "EUR4", "EUR5", "europe-west1"} <= pii.allowed[Provider.GCP]
    assert pii.allowed[Provider.AZURE] == {"westeurope"}
    assert pii.written[Provider.AWS] == ("eu",)
    assert pii.describe_allowed() == "aws: eu; gcp: eu, EUR5; azure: westeurope"
    assert pii.applies_to("worker", ["internal", "pii"])
    assert not pii.applies_to("worker", ["internal"])
    assert repo.applies_to(REPO_SERVICE, []) and not repo.applies_to("api", ["pii"])
    (accepted,) = policy.exceptions
    assert accepted.in_force(date(2027, 3, 31)) and not accepted.in_force(date(2027, 4, 1))
    assert "owner dana@example.com, approved by dpo@example.com" in accepted.describe()


def test_a_dual_region_is_allowed_when_both_of_its_regions_are(tables: RegionTables) -> None:
    policy = parse({"rules": [rule(allowed={"gcp": ["europe-west2", "europe-west3"]})]}, tables)
    gcp = policy.tables[Provider.GCP]
    (only,) = policy.rules
    assert only.allows(gcp.lookup("EUR7"))  # type: ignore[arg-type]
    assert not only.allows(gcp.lookup("EUR8"))  # type: ignore[arg-type]
    assert not only.allows(policy.tables[Provider.AWS].lookup("eu-west-1"))  # type: ignore[arg-type]


def test_global_is_allowed_only_when_named(tables: RegionTables) -> None:
    policy = parse({"rules": [rule(allowed={"aws": ["eu", "global"]})]}, tables)
    cdn = policy.tables[Provider.AWS].lookup("global")
    assert policy.rules[0].allows(cdn)  # type: ignore[arg-type]
    strict = parse({"rules": [rule()]}, tables)
    assert not strict.rules[0].allows(cdn)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            {"rules": [rule(allowed={"aws": ["eu-wset-1"]})]},
            "policies/residency.yaml: rules[0].allowed.aws[0]: unknown aws region, location or "
            "group 'eu-wset-1' (did you mean eu-west-1",
        ),
        (
            {"rules": [rule(allowed={"gcp": ["eu", "emea"]})]},
            "policies/residency.yaml: rules[0].allowed.gcp[1]: unknown gcp region, location or "
            "group 'emea'",
        ),
        (
            {"rules": [rule(allowed={"oci": ["eu"]})]},
            "policies/residency.yaml: rules[0].allowed.oci: unknown key",
        ),
        (
            {"rules": [rule(data_classification=[])]},
            "policies/residency.yaml: rules[0]: needs `data_classification` or `services`",
        ),
        (
            {"rules": [rule(allowed={})]},
            "policies/residency.yaml: rules[0]: `allowed` names no provider",
        ),
        (
            {"rules": [rule(data_classification=["PII"])]},
            "policies/residency.yaml: rules[0].data_classification[0]: Input should be",
        ),
        (
            {"rules": [rule(id="PII EU")]},
            "policies/residency.yaml: rules[0].id: String should match pattern",
        ),
        (
            {"rules": [rule(), rule()]},
            "policies/residency.yaml: rules[1].id: duplicate id 'pii-eu-only' (rules[0])",
        ),
        (
            {"rules": [rule(services=["wroker"])]},
            "policies/residency.yaml: rules[0].services[0]: matches no service: 'wroker'",
        ),
        (
            {"rules": [rule(severity="severe")]},
            "policies/residency.yaml: rules[0].severity: Input should be",
        ),
        ({"rules": []}, "policies/residency.yaml: rules: no rule: an empty policy would check"),
        ({}, "policies/residency.yaml: rules: Field required"),
        ({"rules": [rule()], "rulez": []}, "policies/residency.yaml: rulez: unknown key"),
        ({"version": 2, "rules": [rule()]}, "policies/residency.yaml: version: Input should be 1"),
        (
            {"rules": [rule()], "unresolved_severity": "urgent"},
            "policies/residency.yaml: unresolved_severity: Input should be",
        ),
        (
            {"rules": [rule()], "exceptions": [exception(resource=None)]},
            "policies/residency.yaml: exceptions[0]: needs a scope: `resource` and/or `path`",
        ),
        (
            {"rules": [rule()], "exceptions": [{**exception(), "expires": None}]},
            "policies/residency.yaml: exceptions[0].expires: Input should be a valid date",
        ),
        (
            {
                "rules": [rule()],
                "exceptions": [{k: v for k, v in exception().items() if k != "expires"}],
            },
            "policies/residency.yaml: exceptions[0].expires: Field required",
        ),
        (
            {"rules": [rule()], "exceptions": [exception(expires="2027-03-31T10:00")]},
            "policies/residency.yaml: exceptions[0].expires: expected a date as YYYY-MM-DD",
        ),
        (
            {"rules": [rule()], "exceptions": [exception(reason="ok")]},
            "policies/residency.yaml: exceptions[0].reason: String should have at least 10",
        ),
        (
            {"rules": [rule()], "exceptions": [exception(owner="")]},
            "policies/residency.yaml: exceptions[0].owner: String should have at least 1",
        ),
        (
            {"rules": [rule()], "exceptions": [exception(approver="Dana@example.com")]},
            "policies/residency.yaml: exceptions[0]: `approver` must not be the `owner`",
        ),
        (
            {"rules": [rule()], "exceptions": [exception(rule="pii-us-*")]},
            "policies/residency.yaml: exceptions[0].rule[0]: matches no rule: 'pii-us-*'",
        ),
        (
            {"rules": [rule()], "exceptions": [exception(service="billing")]},
            "policies/residency.yaml: exceptions[0].service: unknown service 'billing'",
        ),
        (
            {"rules": [rule()], "exceptions": [exception(), exception()]},
            "policies/residency.yaml: exceptions[1].id: duplicate id 'RX-1' (exceptions[0])",
        ),
        (
            {"rules": [rule()], "regions": {"aws": {"eu-west-1": {"name": "again"}}}},
            "policies/residency.yaml: regions.aws.eu-west-1: location 'eu-west-1' is already",
        ),
        ("rules: []", "policies/residency.yaml: expected a mapping with `rules`"),
    ],
)
def test_every_bad_input_names_the_file_and_key_path(
    tables: RegionTables, raw: Any, expected: str
) -> None:
    found = problems(raw, tables)
    assert any(p.startswith(expected) for p in found), found


def test_all_problems_are_reported_together(tables: RegionTables) -> None:
    found = problems(
        {
            "rules": [rule(allowed={"aws": ["eu-wset-1"]}), rule(id="x", services=["nope"])],
            "exceptions": [exception(rule="missing")],
        },
        tables,
    )
    assert [p.split(":")[1].strip() for p in found] == [
        "rules[0].allowed.aws[0]",
        "rules[1].services[0]",
        "exceptions[0].rule[0]",
    ]


def test_a_policy_can_extend_the_tables(tables: RegionTables) -> None:
    policy = parse(
        {
            "regions": {"aws": {"eusc-de-east-1": {"name": "Sovereign", "groups": ["eu"]}}},
            "rules": [rule(allowed={"aws": ["eu", "eusc-de-east-1"]})],
        },
        tables,
    )
    assert "eusc-de-east-1" in policy.rules[0].allowed[Provider.AWS]
    assert policy.tables[Provider.AWS].lookup("eusc-de-east-1") is not None


def test_services_are_not_checked_when_unknown(tables: RegionTables) -> None:
    policy = parse_residency_policy(
        {"rules": [rule(services=["anything"])]}, "p.yaml", tables, services=None
    )
    assert policy.rules[0].services == ("anything",)


def test_a_file_that_is_not_yaml(tmp_path: Path) -> None:
    path = tmp_path / "residency.yaml"
    path.write_text("rules: [\n")
    with pytest.raises(ConfigError) as caught:
        load_residency_policy(path, "policies/residency.yaml", policy_dir=bundled_policy_dir())
    (problem,) = caught.value.problems
    assert problem.file == "policies/residency.yaml" and "invalid YAML" in problem.message


def test_where_the_policy_is(tmp_path: Path) -> None:
    assert residency_policy_path(tmp_path, RepoConfig(), None) is None
    default = tmp_path / "policies" / "residency.yaml"
    default.parent.mkdir()
    default.write_text(yaml.safe_dump({"rules": [rule()]}))
    assert residency_policy_path(tmp_path, RepoConfig(), None) == default
    config = RepoConfig.model_validate({"residency": {"policy": "data/where.yaml"}})
    with pytest.raises(ConfigError) as caught:
        residency_policy_path(tmp_path, config, tmp_path / "conf", "conf/compliance.yaml")
    assert [str(p) for p in caught.value.problems] == [
        "conf/compliance.yaml: residency.policy: no such file: data/where.yaml"
    ]
    (tmp_path / "conf" / "data").mkdir(parents=True)
    (tmp_path / "conf" / "data" / "where.yaml").write_text("rules: []\n")
    found = residency_policy_path(tmp_path, config, tmp_path / "conf")
    assert found == tmp_path / "conf" / "data" / "where.yaml"
