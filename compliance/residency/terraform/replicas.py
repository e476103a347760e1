"""Replicas, backup copies and other extra placements, per Terraform resource type.

Each reader gets the `Reader` of the module instance and one resource block, and yields the
placements the type adds beside the resource itself: an S3 replication destination, a
DynamoDB replica, an Azure geo-redundant secondary in the paired region ...
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any

from compliance.residency.placement import Placement, Region, Resolved, Role, Unresolved
from compliance.residency.regions import GLOBAL, Provider
from compliance.residency.terraform.load import Block, attribute, blocks
from compliance.residency.terraform.scope import Known, Unknown, reference
from compliance.residency.terraform.scope import region_value as _region

if TYPE_CHECKING:
    from compliance.residency.terraform.resources import Reader

_GEO_REDUNDANT = frozenset({"GRS", "RAGRS", "GZRS", "RAGZRS"})
#: A literal ARN of a regional service: arn:partition:service:region:account:...
ARN = re.compile(r"^arn:aws[a-z-]*:([a-z0-9-]+):([a-z]{2}(?:-gov)?-[a-z]+-\d+):")
_S3_ARN = re.compile(r"^arn:aws[a-z-]*:s3:::([^/]+)")


def _s3_destination(reader: Reader, raw: Any) -> tuple[Region, str]:
    """Where an S3 replication destination (`bucket` = an ARN) lives, and what it is."""
    parts = reference(raw)
    if parts and len(parts) == 3 and parts[0] == "aws_s3_bucket":
        found = reader.region_of(parts[0], parts[1])
        name = f"{reader.instance.prefix}aws_s3_bucket.{parts[1]}"
        if found is None:
            return Unresolved(f"destination {name} is not defined in this module"), name
        _, region = found
        if isinstance(region, Resolved):
            return Resolved(region.value, f"destination {name} <- {region.source}"), name
        return region, name
    if isinstance(raw, str) and (match := _S3_ARN.match(raw)):
        bucket = match.group(1)
        for candidate in reader.instance.folder.resources:
            if candidate.type == "aws_s3_bucket" and attribute(candidate.body, "bucket") == bucket:
                return _s3_destination(reader, f"${{aws_s3_bucket.{candidate.name}.arn}}")
        return (
            Unresolved(
                f"destination bucket {bucket} is not defined here, and S3 ARNs carry no region"
            ),
            bucket,
        )
    value = reader.instance.resolve(raw)
    return Unresolved(
        value.reason if isinstance(value, Unknown) else f"destination {raw!r} is not a bucket"
    ), str(raw)


def _s3_rules(
    reader: Reader,
    block: Block,
    rules: list[Mapping[str, Any]],
    source: Block | None,
) -> Iterator[Placement]:
    for i, rule in enumerate(rules):
        for j, destination in enumerate(blocks(rule, "destination")):
            region, name = _s3_destination(reader, attribute(destination, "bucket"))
            what = reader.address(source) if source is not None else "the bucket"
            yield reader.placement(
                block,
                Role.REPLICA,
                Provider.AWS,
                region,
                suffix=f".rule[{i}].destination" + (f"[{j}]" if j else ""),
                note=f"replicates {what} to {name}",
                owner=source,
            )


def _s3_replication(reader: Reader, block: Block, cloud: Provider) -> Iterator[Placement]:
    parts = reference(attribute(block.body, "bucket"))
    source = None
    if parts and parts[0] == "aws_s3_bucket" and len(parts) >= 2:
        source = reader.instance.folder.resource("aws_s3_bucket", parts[1])
    yield from _s3_rules(reader, block, blocks(block.body, "rule"), source)


def _s3_bucket(reader: Reader, block: Block, cloud: Provider) -> Iterator[Placement]:
    for config in blocks(block.body, "replication_configuration"):
        yield from _s3_rules(reader, block, blocks(config, "rules"), block)


Special = Callable[["Reader", Block, Provider], Iterator[Placement]]


def _replica_blocks(block_name: str, key: str, role: Role, note: str) -> Special:
    def read(reader: Reader, block: Block, cloud: Provider) -> Iterator[Placement]:
        for i, replica in enumerate(blocks(block.body, block_name)):
            raw = attribute(replica, key)
            region = _region(reader.instance.resolve(raw), f"`{block_name}.{key}`")
            yield reader.placement(
                block, role, cloud, region, suffix=f".{block_name}[{i}]", note=note
            )

    return read


def _snapshot_copy(reader: Reader, block: Block, cloud: Provider) -> Iterator[Placement]:
    raw = attribute(block.body, "destination_region")
    if raw is not None:
        region = _region(reader.instance.resolve(raw), "`destination_region` argument")
        yield reader.placement(
            block,
            Role.BACKUP,
            cloud,
            region,
            suffix=".destination_region",
            note="snapshot copied to another region",
        )


def _ecr_replication(reader: Reader, block: Block, cloud: Provider) -> Iterator[Placement]:
    for config in blocks(block.body, "replication_configuration"):
        for i, rule in enumerate(blocks(config, "rule")):
            for j, destination in enumerate(blocks(rule, "destination")):
                raw = attribute(destination, "region")
                region = _region(reader.instance.resolve(raw), "`destination.region`")
                yield reader.placement(
                    block,
                    Role.REPLICA,
                    cloud,
                    region,
                    suffix=f".rule[{i}].destination[{j}]",
                    note="container images replicated",
                )


def _backup_plan(reader: Reader, block: Block, cloud: Provider) -> Iterator[Placement]:
    for i, rule in enumerate(blocks(block.body, "rule")):
        for j, action in enumerate(blocks(rule, "copy_action")):
            raw = attribute(action, "destination_vault_arn")
            parts = reference(raw)
            region: Region
            if parts and len(parts) == 3 and parts[0] == "aws_backup_vault":
                found = reader.region_of(parts[0], parts[1])
                if found is None:
                    region = Unresolved(f"aws_backup_vault.{parts[1]} is not defined here")
                else:
                    inner = found[1]
                    region = (
                        Resolved(
                            inner.value, f"vault aws_backup_vault.{parts[1]} <- {inner.source}"
                        )
                        if isinstance(inner, Resolved)
                        else inner
                    )
            else:
                value = reader.instance.resolve(raw)
                match = (
                    ARN.match(value.value)
                    if isinstance(value, Known) and isinstance(value.value, str)
                    else None
                )
                region = (
                    Resolved(match.group(2), f"vault ARN {value.value}")
                    if match and isinstance(value, Known)
                    else Unresolved(
                        value.reason
                        if isinstance(value, Unknown)
                        else f"{value.value!r} is not a regional ARN"
                    )
                )
            yield reader.placement(
                block,
                Role.BACKUP,
                cloud,
                region,
                suffix=f".rule[{i}].copy_action[{j}]",
                note="backups copied to another vault",
            )


def _gcs_bucket(reader: Reader, block: Block, cloud: Provider) -> Iterator[Placement]:
    for config in blocks(block.body, "custom_placement_config"):
        raw = attribute(config, "data_locations")
        value = reader.instance.resolve(raw)
        if isinstance(value, Known) and isinstance(value.value, list):
            for i, item in enumerate(value.value):
                region = _region(reader.instance.resolve(item), "`custom_placement_config`")
                yield reader.placement(
                    block,
                    Role.REPLICA,
                    cloud,
                    region,
                    suffix=f".data_locations[{i}]",
                    note="configurable dual-region: data is stored in both regions",
                )
        else:
            reason = value.reason if isinstance(value, Unknown) else "not a list"
            yield reader.placement(
                block,
                Role.REPLICA,
                cloud,
                Unresolved(f"data_locations: {reason}"),
                suffix=".data_locations",
                note="configurable dual-region",
            )


def _gcp_cdn(reader: Reader, block: Block, cloud: Provider) -> Iterator[Placement]:
    if attribute(block.body, "enable_cdn") is True:
        yield reader.placement(
            block,
            Role.GLOBAL,
            cloud,
            Resolved(GLOBAL, "Cloud CDN serves cached data from edge locations worldwide"),
            suffix=".cdn",
        )


def _spanner(reader: Reader, block: Block, cloud: Provider) -> Iterator[Placement]:
    value = reader.instance.resolve(attribute(block.body, "config"))
    region: Region
    if isinstance(value, Known) and isinstance(value.value, str):
        match = re.search(r"regional-([a-z0-9-]+)$", value.value)
        region = (
            Resolved(match.group(1), f"instance configuration {value.value}")
            if match
            else Unresolved(f"Spanner configuration {value.value!r} is not in the region tables")
        )
    else:
        region = Unresolved(value.reason if isinstance(value, Unknown) else "config not a string")
    yield reader.placement(block, Role.RESOURCE, cloud, region, suffix=".config")


def _azure_pair(reader: Reader, location: Region, what: str) -> Region:
    """The paired region of an Azure location, for geo-redundant copies."""
    if not isinstance(location, Resolved):
        return location
    found = reader.tables[Provider.AZURE].lookup(location.value)
    if found is None:
        return Unresolved(f"{location.value!r} is not an Azure location: its pair is unknown")
    if found.pair is None:
        return Unresolved(f"{found.id} has no paired region: where {what} copies to cannot be read")
    return Resolved(found.pair, f"paired region of {found.id} ({what}) <- {location.source}")


def _azure_storage(reader: Reader, block: Block, cloud: Provider) -> Iterator[Placement]:
    value = reader.instance.resolve(attribute(block.body, "account_replication_type"))
    if isinstance(value, Unknown):
        region: Region = Unresolved(f"account_replication_type: {value.reason}")
    elif str(value.value).upper() in _GEO_REDUNDANT:
        base = reader.base_region(block, cloud) or Unresolved("no location")
        region = _azure_pair(reader, base, f"geo-redundant storage {value.value}")
    else:
        return
    yield reader.placement(
        block,
        Role.REPLICA,
        cloud,
        region,
        suffix=".secondary",
        note="geo-redundant storage copies every object to the paired region",
    )


def _azure_geo_backup(attribute_name: str, geo_values: frozenset[str] | None) -> Special:
    """A geo-redundant backup setting: true (`geo_redundant_backup_enabled`) or one of
    `geo_values` (`storage_mode_type`, whose default is GeoRedundant)."""

    def read(reader: Reader, block: Block, cloud: Provider) -> Iterator[Placement]:
        raw = attribute(block.body, attribute_name)
        if geo_values is None:
            if raw is not True:
                return
        else:
            value = (
                reader.instance.resolve(raw)
                if raw is not None
                else Known("GeoRedundant", "default")
            )
            if isinstance(value, Known) and str(value.value) not in geo_values:
                return
        base = reader.base_region(block, cloud) or Unresolved("no location")
        yield reader.placement(
            block,
            Role.BACKUP,
            cloud,
            _azure_pair(reader, base, f"`{attribute_name}`"),
            suffix=".geo_backup",
            note="geo-redundant backups are copied to the paired region",
        )

    return read


def _mssql_database(reader: Reader, block: Block, cloud: Provider) -> Iterator[Placement]:
    raw = attribute(block.body, "storage_account_type")
    value = reader.instance.resolve(raw) if raw is not None else Known("Geo", "default")
    if isinstance(value, Known) and str(value.value) not in ("Geo", "GeoZone"):
        return
    parts = reference(attribute(block.body, "server_id"))
    server: Region = Unresolved("server_id does not name an azurerm_mssql_server here")
    if parts and len(parts) == 3 and parts[0] == "azurerm_mssql_server":
        found = reader.region_of(parts[0], parts[1])
        if found is not None:
            server = found[1]
            if isinstance(server, Resolved):
                server = Resolved(
                    server.value, f"azurerm_mssql_server.{parts[1]} <- {server.source}"
                )
    yield reader.placement(
        block,
        Role.BACKUP,
        cloud,
        _azure_pair(reader, server, "geo-redundant backup storage"),
        suffix=".backup_storage",
        note="geo-redundant backups are copied to the paired region",
    )


SPECIAL: dict[str, Special] = {
    "aws_s3_bucket": _s3_bucket,
    "aws_s3_bucket_replication_configuration": _s3_replication,
    "aws_dynamodb_table": _replica_blocks(
        "replica", "region_name", Role.REPLICA, "DynamoDB global-table replica"
    ),
    "aws_secretsmanager_secret": _replica_blocks(
        "replica", "region", Role.REPLICA, "secret replica"
    ),
    "aws_db_snapshot_copy": _snapshot_copy,
    "aws_db_cluster_snapshot_copy": _snapshot_copy,
    "aws_ecr_replication_configuration": _ecr_replication,
    "aws_backup_plan": _backup_plan,
    "google_storage_bucket": _gcs_bucket,
    "google_compute_backend_bucket": _gcp_cdn,
    "google_compute_backend_service": _gcp_cdn,
    "google_spanner_instance": _spanner,
    "azurerm_storage_account": _azure_storage,
    "azurerm_cosmosdb_account": _replica_blocks(
        "geo_location", "location", Role.REPLICA, "Cosmos DB geo-location"
    ),
    "azurerm_recovery_services_vault": _azure_geo_backup(
        "storage_mode_type", frozenset({"GeoRedundant"})
    ),
    "azurerm_postgresql_flexible_server": _azure_geo_backup("geo_redundant_backup_enabled", None),
    "azurerm_mysql_flexible_server": _azure_geo_backup("geo_redundant_backup_enabled", None),
    "azurerm_postgresql_server": _azure_geo_backup("geo_redundant_backup_enabled", None),
    "azurerm_mssql_database": _mssql_database,
}

#: Types whose region-naming attributes the readers above already place.
HANDLED_NAMES = frozenset(
    {
        "aws_db_snapshot_copy",
        "aws_db_cluster_snapshot_copy",
        "aws_dynamodb_table",
        "aws_secretsmanager_secret",
        "aws_ecr_replication_configuration",
        "aws_backup_plan",
        "aws_s3_bucket_replication_configuration",
    }
)
