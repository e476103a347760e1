"""`compliance residency map`, and the residency policy in `scan` and `policy validate`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli import cli
from compliance.scanners.residency import ResidencyScanner

from .conftest import FakeScanner, Install

POLICY = """\
version: 1
rules:
  - id: pii-eu-only
    data_classification: [pii]
    allowed: {aws: [eu]}
  - id: shared-in-europe
    services: ["(repo)"]
    allowed: {aws: [europe]}
"""

TERRAFORM = """\
provider "aws" {
  region = "eu-west-1"
}

provider "aws" {
  alias  = "us"
  region = "us-east-1"
}

resource "aws_s3_bucket" "exports" {
  provider = aws.us
  bucket   = "exports"
  tags = {
    service = "api"
  }
}

resource "aws_vpc" "main" {
  cidr_block = "10.0.0.0/16"
}

resource "aws_s3_bucket" "computed" {
  bucket = "computed"
  region = lookup(var.regions, "eu")
  tags = {
    service = "api"
  }
}
"""


@pytest.fixture
def residency_repo(repo: Path) -> Path:
    (repo / "compliance.yaml").write_text(
        "services:\n  - name: api\n    path: services/api\n    data_classification: [pii]\n"
    )
    (repo / "policies").mkdir()
    (repo / "policies" / "residency.yaml").write_text(POLICY)
    (repo / "infra" / "main.tf").write_text(TERRAFORM)
    return repo


def test_map_as_json(residency_repo: Path) -> None:
    result = CliRunner().invoke(cli, ["residency", "map", str(residency_repo), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["policy"] == "policies/residency.yaml"
    by_service = {s["name"]: s for s in data["services"]}
    assert list(by_service) == ["api", "(repo)"]
    assert by_service["api"]["data_classification"] == ["pii"]
    exports, computed = by_service["api"]["placements"]
    assert exports == {
        "resource": "aws_s3_bucket.exports",
        "role": "resource",
        "provider": "aws",
        "region": "us-east-1",
        "location": "us-east-1",
        "location_name": "US East (N. Virginia)",
        "source": "provider aws.us (infra/main.tf:5)",
        "unresolved": None,
        "path": "infra/main.tf",
        "line": 10,
        "note": None,
        "owner": "tag service=api",
        "status": "outside",
        "rules": ["pii-eu-only"],
    }
    assert computed["status"] == "unresolved" and computed["region"] is None
    assert "expression" in computed["unresolved"]
    (vpc,) = by_service["(repo)"]["placements"]
    assert (vpc["resource"], vpc["status"], vpc["rules"]) == (
        "aws_vpc.main",
        "allowed",
        ["shared-in-europe"],
    )
    assert "checked by `compliance scan`" in result.stderr


def test_map_as_a_table(residency_repo: Path) -> None:
    result = CliRunner().invoke(cli, ["residency", "map", str(residency_repo)])
    assert result.exit_code == 0, result.stderr
    assert "api (pii)" in result.stdout
    assert "aws_s3_bucket.exports" in result.stdout and "us-east-1" in result.stdout
    assert "outside" in result.stdout and "unresolved" in result.stdout


def test_map_without_a_policy_lists_and_checks_nothing(repo: Path) -> None:
    (repo / "infra" / "main.tf").write_text(TERRAFORM)
    result = CliRunner().invoke(cli, ["residency", "map", str(repo), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["policy"] is None
    statuses = {p["status"] for s in data["services"] for p in s["placements"]}
    assert statuses == {"no rule"}
    assert "no residency policy" in result.stderr


def test_map_with_a_bad_policy_exits_3(residency_repo: Path) -> None:
    (residency_repo / "policies" / "residency.yaml").write_text(
        POLICY.replace("aws: [eu]", "aws: [eu-wset-1]")
    )
    result = CliRunner().invoke(cli, ["residency", "map", str(residency_repo)])
    assert result.exit_code == 3
    assert (
        "policies/residency.yaml: rules[0].allowed.aws[0]: unknown aws region, location or "
        "group 'eu-wset-1' (did you mean eu-west-1" in result.stderr
    )


def test_map_of_a_missing_path_exits_2(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["residency", "map", str(tmp_path / "nowhere")])
    assert result.exit_code == 2


def test_a_bad_policy_stops_the_scan_before_any_scanner_runs(
    residency_repo: Path, fake_scanners: Install
) -> None:
    (residency_repo / "policies" / "residency.yaml").write_text(
        POLICY.replace('services: ["(repo)"]', "services: [infra]")
    )
    installed = fake_scanners(FakeScanner("bandit"))
    result = CliRunner().invoke(cli, ["scan", str(residency_repo), "-q"])
    assert result.exit_code == 3
    assert "policies/residency.yaml: rules[1].services[0]: matches no service: 'infra'" in (
        result.stderr
    )
    assert installed["bandit"].seen == []


def test_policy_validate_checks_the_residency_policy(residency_repo: Path) -> None:
    (residency_repo / "policies" / "residency.yaml").write_text("rules: []\n")
    result = CliRunner().invoke(cli, ["policy", "validate", str(residency_repo)])
    assert result.exit_code == 3
    assert "policies/residency.yaml: rules: no rule" in result.stderr


def test_a_configured_policy_that_is_missing_exits_3(repo: Path, fake_scanners: Install) -> None:
    (repo / "compliance.yaml").write_text("residency:\n  policy: data/residency.yaml\n")
    fake_scanners(FakeScanner("bandit"))
    result = CliRunner().invoke(cli, ["scan", str(repo), "-q"])
    assert result.exit_code == 3
    assert "compliance.yaml: residency.policy: no such file: data/residency.yaml" in result.stderr


def test_scan_with_the_residency_scanner(
    residency_repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only Terraform here: the scanner runs in-process and starts no semgrep.
    registry = {"residency": ResidencyScanner}
    monkeypatch.setattr("compliance.pipeline.REGISTRY", registry)
    result = CliRunner().invoke(cli, ["scan", str(residency_repo), "-q", "--format", "json"])
    assert result.exit_code == 1, result.stderr  # a high-severity violation fails the gate
    data = json.loads(result.stdout)
    (run,) = data["scanners"]
    assert (run["name"], run["status"]) == ("residency", "ok")
    kinds = sorted((f["rule_id"], f["kind"], f["resource"]) for f in data["findings"])
    assert kinds == [
        ("residency/pii-eu-only", "residency-violation", "aws_s3_bucket.exports"),
        ("residency/unresolved", "residency-unresolved", "aws_s3_bucket.computed"),
    ]
    violation = next(f for f in data["findings"] if f["kind"] == "residency-violation")
    assert set(violation["controls"]) == {"C1.1", "A.5.31", "A.5.34", "A.5.23"}
    inputs = {(i["kind"], i["path"]) for i in data["inputs"]}
    assert ("residency-policy", "policies/residency.yaml") in inputs
    assert ("residency-regions", "(bundled) policies/residency/regions/aws.yaml") in inputs
    assert ("semgrep-rules", "(bundled) policies/residency/semgrep/clients.yaml") in inputs
    controls = {c["id"]: c["status"] for c in data["controls"]}
    assert controls["A.5.34"] == "failed"


def test_scan_without_a_policy_skips_the_residency_scanner(
    repo: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(
        "compliance.pipeline.REGISTRY",
        {"residency": ResidencyScanner, "bandit": lambda: FakeScanner("bandit")},
    )
    result = CliRunner().invoke(cli, ["scan", str(repo), "-q", "--format", "json"])
    assert result.exit_code == 0, result.stderr
    runs = {s["name"]: s for s in json.loads(result.stdout)["scanners"]}
    assert runs["residency"]["status"] == "skipped"
    assert "no residency policy" in runs["residency"]["error"]
    controls = {c["id"]: c for c in json.loads(result.stdout)["controls"]}
    assert controls["A.5.34"]["status"] == "not-assessed"


def test_catalog_info_classification(tmp_path: Path) -> None:
    service = tmp_path / "services" / "api"
    service.mkdir(parents=True)
    (service / "catalog-info.yaml").write_text(
        "kind: Component\nmetadata:\n  name: api\n  annotations:\n"
        "    compliance.dev/data-classification: pii, internal\nspec:\n  owner: team-a\n"
    )
    result = CliRunner().invoke(cli, ["services", str(tmp_path), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    (api,) = json.loads(result.stdout)["services"]
    assert api["data_classification"] == ["pii", "internal"]
    (service / "catalog-info.yaml").write_text(
        "kind: Component\nmetadata:\n  name: api\n  annotations:\n"
        "    compliance.dev/data-classification: personal\n"
    )
    result = CliRunner().invoke(cli, ["services", str(tmp_path)])
    assert result.exit_code == 3
    assert (
        "services/api/catalog-info.yaml: metadata.annotations.compliance.dev/data-classification: "
        "unknown data classification 'personal'" in result.stderr
    )


def test_policy_validate_lists_the_policy_and_warns_of_expired_exceptions(
    residency_repo: Path,
) -> None:
    policy = residency_repo / "policies" / "residency.yaml"
    policy.write_text(
        POLICY
        + "exceptions:\n"
        + "  - {id: RX-1, resource: aws_s3_bucket.exports, reason: Signed clauses with them.,"
        + " owner: dana@example.com, expires: 2026-11-01}\n"
        + "  - {id: RX-2, resource: aws_s3_bucket.other, reason: Signed clauses with them.,"
        + " owner: dana@example.com, expires: 2026-12-10}\n"
    )
    result = CliRunner().invoke(cli, ["policy", "validate", str(residency_repo)])
    assert result.exit_code == 0, result.stderr
    assert "policies/residency.yaml (residency): 2 rule(s), 2 exception(s)" in result.stdout
    assert "residency exception RX-1 expired on 2026-11-01: it suppresses nothing" in (
        result.stderr
    )
    assert "residency exception RX-2 expires on 2026-12-10" in result.stderr
    single = CliRunner().invoke(cli, ["policy", "validate", str(policy)])
    assert single.exit_code == 0, single.stderr
    assert "(residency): 2 rule(s), 2 exception(s)" in single.stdout
    policy.write_text(POLICY.replace("aws: [europe]", "aws: [europa]"))
    bad = CliRunner().invoke(cli, ["policy", "validate", str(policy), "--kind", "residency"])
    assert bad.exit_code == 3
    assert "rules[1].allowed.aws[0]: unknown aws region, location or group 'europa'" in bad.stderr
