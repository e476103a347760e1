"""The Terraform resolver, on the fixtures in tests/assets/residency/terraform/ (pure: python-hcl2,
no tool, no evaluation). Every region is either resolved with its provenance or unresolved
with the reason: never guessed."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.config import bundled_policy_dir
from compliance.residency.placement import Placement, Resolved, Role, Unresolved
from compliance.residency.policy import region_tables
from compliance.residency.regions import Provider, RegionTables
from compliance.residency.terraform import resolve_terraform

FIXTURES = Path(__file__).resolve().parents[1] / "assets" / "residency"


@pytest.fixture(scope="module")
def tables() -> RegionTables:
    return region_tables(bundled_policy_dir())


def placements(folder: str, tables: RegionTables) -> dict[str, Placement]:
    files = sorted(
        p.relative_to(FIXTURES).as_posix() for p in (FIXTURES / folder).rglob("*") if p.is_file()
    )
    tf = [f for f in files if f.endswith(".tf")]
    found = resolve_terraform(FIXTURES, tf, files, tables)
    by_address = {p.address: p for p in found.placements}
    assert len(by_address) == len(found.placements), "addresses are unique"
    return by_address


def resolved(placement: Placement) -> tuple[str, str]:
    assert isinstance(placement.region, Resolved), placement.region
    return placement.region.value, placement.region.source


def unresolved(placement: Placement) -> str:
    assert isinstance(placement.region, Unresolved), placement.region
    return placement.region.reason


def test_provider_default_alias_resource_region_and_data_source(tables: RegionTables) -> None:
    found = placements("terraform/providers", tables)
    assert resolved(found["aws_s3_bucket.default_region"]) == (
        "eu-west-1",
        "provider aws (terraform/providers/main.tf:3)",
    )
    assert resolved(found["aws_s3_bucket.aliased"]) == (
        "us-east-1",
        "provider aws.us (terraform/providers/main.tf:7)",
    )
    assert resolved(found["aws_sqs_queue.own_region"]) == ("ap-southeast-2", "`region` argument")
    value, source = resolved(found["aws_sns_topic.from_data_source"])
    assert value == "eu-west-1" and "data.aws_region.current.name" in source
    assert found["aws_s3_bucket.aliased"].provider is Provider.AWS
    assert found["aws_s3_bucket.aliased"].line == 18
    # configuration of another resource, IAM, and non-cloud providers are not placed
    assert set(found) == {
        "aws_s3_bucket.default_region",
        "aws_s3_bucket.aliased",
        "aws_sqs_queue.own_region",
        "aws_sns_topic.from_data_source",
    }


def test_variables_tfvars_locals_and_unset_variables(tables: RegionTables) -> None:
    found = placements("terraform/variables", tables)
    value, source = resolved(found["aws_s3_bucket.from_tfvars"])
    assert value == "eu-west-3" and "var.region in terraform/variables/terraform.tfvars" in source
    value, source = resolved(found["aws_s3_bucket.from_default"])
    # *.auto.tfvars wins over the default, through a local
    assert value == "eu-north-1"
    assert "local.backup_region" in source and "override.auto.tfvars" in source
    reason = unresolved(found["aws_s3_bucket.from_nowhere"])
    assert "var.dr_region has no default and no value in terraform.tfvars" in reason


def test_modules_inputs_providers_and_outside_sources(tables: RegionTables) -> None:
    found = placements("terraform/modules", tables)
    assert resolved(found["module.exports_us.aws_s3_bucket.this"])[0] == "us-east-1"
    assert resolved(found["module.exports_eu.aws_s3_bucket.this"])[0] == "eu-west-1"
    # an input that is null falls back to the provider, as in Terraform
    assert resolved(found["module.exports_us.aws_sqs_queue.notifications"])[0] == "us-east-1"
    value, source = resolved(found["module.pinned.aws_sqs_queue.notifications"])
    assert value == "eu-south-1" and "input bucket_region of module.pinned" in source
    reason = unresolved(found["module.computed.aws_sqs_queue.notifications"])
    assert "input bucket_region of module.computed" in reason and "expression" in reason
    assert resolved(found["module.registry_region"]) == ("ap-south-1", "input `region`")
    assert resolved(found["module.registry_inherits[aws]"])[0] == "eu-west-1"
    assert "not in this repository" in (found["module.registry_inherits[aws]"].note or "")
    # the child folder is not also evaluated on its own (it has no provider of its own)
    assert "aws_s3_bucket.this" not in found


def test_what_cannot_be_resolved_is_unresolved(tables: RegionTables) -> None:
    found = placements("terraform/expressions", tables)
    assert "comes from the environment" in unresolved(found["aws_s3_bucket.env_region"])
    assert "`eu-west-${var.suffix}` is an expression" in unresolved(
        found["aws_sqs_queue.templated"]
    )
    assert "is an expression" in unresolved(found["aws_sns_topic.conditional"])
    assert "upper(" in unresolved(found["google_storage_bucket.computed"])


def test_a_file_that_does_not_parse_is_unresolved_and_skipped(tables: RegionTables) -> None:
    result = resolve_terraform(
        FIXTURES, ["terraform/broken/main.tf"], ["terraform/broken/main.tf"], tables
    )
    (placement,) = result.placements
    assert "does not parse" in unresolved(placement)
    assert [s.path for s in result.skipped] == ["terraform/broken/main.tf"]
    assert result.skipped[0].tool == "residency"


def test_aws_replicas_backups_and_global_services(tables: RegionTables) -> None:
    found = placements("terraform/aws-replication", tables)
    replication = found["aws_s3_bucket_replication_configuration.to_us.rule[0].destination"]
    assert replication.role is Role.REPLICA
    value, source = resolved(replication)
    assert value == "us-west-2" and source.startswith("destination aws_s3_bucket.replica <- ")
    assert replication.note == "replicates aws_s3_bucket.source to aws_s3_bucket.replica"
    assert replication.service_tag == "orders"  # the source bucket's tag: whose data it is
    assert "S3 ARNs carry no region" in unresolved(
        found["aws_s3_bucket_replication_configuration.to_elsewhere.rule[0].destination"]
    )
    # the provider-3 form, with a literal ARN of a bucket defined here
    assert resolved(found["aws_s3_bucket.legacy.rule[0].destination"])[0] == "us-west-2"
    replica = found["aws_db_instance.read_replica"]
    assert replica.role is Role.REPLICA and replica.note == (
        "read replica of aws_db_instance.primary"
    )
    assert resolved(replica)[0] == "us-west-2"
    copy = found["aws_db_snapshot_copy.to_us.destination_region"]
    assert copy.role is Role.BACKUP and resolved(copy)[0] == "us-east-2"
    assert found["aws_db_instance_automated_backups_replication.to_us"].role is Role.BACKUP
    assert resolved(found["aws_dynamodb_table.global.replica[0]"])[0] == "eu-central-1"
    assert resolved(found["aws_dynamodb_table.global.replica[1]"])[0] == "ap-northeast-1"
    assert resolved(found["aws_secretsmanager_secret.replicated.replica[0]"])[0] == ("ca-central-1")
    assert resolved(found["aws_backup_plan.copy.rule[0].copy_action[0]"])[0] == "sa-east-1"
    for name in ("aws_cloudfront_distribution.cdn", "aws_globalaccelerator_accelerator.edge"):
        assert found[name].role is Role.GLOBAL and resolved(found[name])[0] == "global"
    assert found["aws_eks_cluster.main"].role is Role.CLUSTER
    assert resolved(found["aws_eks_cluster.main"])[0] == "us-west-2"
    assert resolved(found["aws_lambda_permission.from_sns.source_arn"])[0] == "me-south-1"
    assert "aws_lambda_permission.from_sns" not in found  # a permission holds no data


def test_google_locations(tables: RegionTables) -> None:
    found = placements("terraform/google", tables)
    assert resolved(found["google_storage_bucket.multi_region_eu"])[0] == "EU"
    assert resolved(found["google_storage_bucket.dual_region_us"])[0] == "NAM4"
    custom = [
        resolved(found[f"google_storage_bucket.configurable_dual_region.data_locations[{i}]"])[0]
        for i in (0, 1)
    ]
    assert custom == ["EUROPE-WEST1", "US-CENTRAL1"]
    assert resolved(found["google_sql_database_instance.primary"]) == (
        "europe-west1",
        "provider google (terraform/google/main.tf:2)",
    )
    assert found["google_sql_database_instance.replica"].role is Role.REPLICA
    assert resolved(found["google_container_cluster.zonal"])[0] == "asia-northeast1-a"
    assert found["google_compute_backend_bucket.cdn.cdn"].role is Role.GLOBAL
    assert resolved(found["google_spanner_instance.regional.config"])[0] == "europe-west4"
    assert resolved(found["google_bigquery_dataset.analytics"])[0] == "US"
    assert not any(a.startswith(("google_compute_network", "google_project")) for a in found)


def test_azure_locations_pairs_and_geo_redundancy(tables: RegionTables) -> None:
    found = placements("terraform/azure", tables)
    value, source = resolved(found["azurerm_storage_account.grs"])
    assert value == "West Europe" and "azurerm_resource_group.main" in source
    secondary = found["azurerm_storage_account.grs.secondary"]
    assert secondary.role is Role.REPLICA
    value, source = resolved(secondary)
    assert value == "northeurope" and source.startswith("paired region of westeurope")
    assert "azurerm_storage_account.lrs_us.secondary" not in found
    assert "has no paired region" in unresolved(
        found["azurerm_storage_account.grs_unpaired.secondary"]
    )
    assert resolved(found["azurerm_storage_account.grs_brazil.secondary"])[0] == "southcentralus"
    geo = [resolved(found[f"azurerm_cosmosdb_account.orders.geo_location[{i}]"])[0] for i in (0, 1)]
    assert geo == ["northeurope", "eastus2"]
    backup = found["azurerm_mssql_database.orders.backup_storage"]
    assert backup.role is Role.BACKUP and resolved(backup)[0] == "ukwest"
    assert resolved(found["azurerm_postgresql_flexible_server.main.geo_backup"])[0] == (
        "germanynorth"
    )
    assert found["azurerm_kubernetes_cluster.main"].role is Role.CLUSTER
    assert found["azurerm_cdn_profile.cdn"].role is Role.GLOBAL
