"""Where each Terraform resource puts data: the resource itself, and its replicas and copies.

- AWS: the resource's `region` (AWS provider 6) or its provider configuration's region.
  Replicas and copies: S3 replication destinations (`aws_s3_bucket_replication_configuration`
  and the older inline `replication_configuration`), RDS read replicas, snapshot copies and
  automated-backup replication, DynamoDB global-table replicas, Secrets Manager replicas,
  ECR replication, AWS Backup copy actions (by vault ARN). CloudFront distributions and
  Global Accelerators are global. EKS clusters are clusters.
- Google Cloud: `location`, `region` or `zone` (a zone is mapped to its region), else the
  provider's region for the types that default to it. Cloud Storage multi- and dual-regions
  and configurable dual-regions (`custom_placement_config`), Cloud SQL replicas, Spanner
  regional configurations, Cloud CDN backends (global), GKE clusters.
- Azure: `location`. Geo-redundant storage (GRS, RA-GRS, GZRS, RA-GZRS), geo-redundant
  database and vault backups and SQL database backups copy to the paired region; Cosmos DB
  geo-locations are replicas; CDN and Front Door profiles are global; AKS clusters.
- Anywhere: an attribute named `*_region` (`source_region`, `destination_region`) and a
  literal ARN in an `*_arn` attribute name regions data is sent to or read from.

The type-specific readers of replicas and copies are in `replicas.py`.

Types that only configure another resource (an S3 bucket's ACL or versioning, policies,
attachments, IAM) carry no data of their own and are not placed; neither are providers
other than these three clouds.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from compliance.residency.placement import Placement, Region, Resolved, Role, Unresolved
from compliance.residency.regions import GLOBAL, Provider, RegionTables
from compliance.residency.terraform.load import Block, attribute, blocks
from compliance.residency.terraform.replicas import ARN, HANDLED_NAMES, SPECIAL
from compliance.residency.terraform.scope import (
    Instance,
    Known,
    Value,
    reference,
    region_value,
)

_FAMILY = {
    "aws": Provider.AWS,
    "google": Provider.GCP,
    "google-beta": Provider.GCP,
    "azurerm": Provider.AZURE,
}

#: Types that hold no data of their own (they configure another resource, or are global
#: identity and account settings).
NOT_PLACED = (
    "aws_iam_*",
    "aws_organizations_*",
    "aws_route53_*",
    "aws_budgets_*",
    "aws_ce_*",
    "aws_account_*",
    "aws_shield_*",
    "aws_s3_bucket_*",
    "aws_s3_account_*",
    "aws_security_group_rule",
    "aws_vpc_security_group_*_rule",
    "aws_route",
    "*_policy",
    "*_policy_attachment",
    "*_permission",
    "*_attachment",
    "*_association",
    "google_*_iam_*",
    "google_project*",
    "google_organization*",
    "google_folder*",
    "google_billing*",
    "google_service_account*",
    "azurerm_role_*",
)

#: Google types whose region defaults to the provider's when they do not set one.
_GCP_PROVIDER_REGION = frozenset(
    {
        "google_sql_database_instance",
        "google_compute_instance",
        "google_compute_disk",
        "google_compute_subnetwork",
        "google_compute_router",
        "google_redis_instance",
        "google_cloudfunctions_function",
        "google_dataproc_cluster",
        "google_filestore_instance",
    }
)

_GLOBAL_TYPES = {
    "aws_cloudfront_distribution": "CloudFront serves cached data from edge locations worldwide",
    "aws_globalaccelerator_accelerator": "Global Accelerator routes traffic through edge "
    "locations worldwide",
    "azurerm_cdn_profile": "Azure CDN serves cached data from edge locations worldwide",
    "azurerm_cdn_frontdoor_profile": "Azure Front Door serves cached data from edge locations "
    "worldwide",
    "azurerm_frontdoor": "Azure Front Door serves cached data from edge locations worldwide",
}

_CLUSTERS = frozenset({"aws_eks_cluster", "google_container_cluster", "azurerm_kubernetes_cluster"})


def family(provider_name: str) -> Provider | None:
    return _FAMILY.get(provider_name)


def placed(type_: str) -> bool:
    return not any(fnmatch.fnmatchcase(type_, pattern) for pattern in NOT_PLACED)


@dataclass
class Reader:
    """Places the resources of one module instance."""

    instance: Instance
    tables: RegionTables
    service_tag: str

    def placements(self) -> Iterator[Placement]:
        for resource in self.instance.folder.resources:
            yield from self.resource(resource)

    def resource(self, block: Block) -> Iterator[Placement]:
        provider_name = self.instance.provider_key(block).split(".", 1)[0]
        cloud = family(provider_name)
        if cloud is None:
            return
        extra = SPECIAL.get(block.type)
        if extra is not None:
            yield from extra(self, block, cloud)
        if block.type in _GLOBAL_TYPES:
            yield self.placement(
                block, Role.GLOBAL, cloud, Resolved(GLOBAL, _GLOBAL_TYPES[block.type])
            )
            return
        if placed(block.type):
            base = self.base_region(block, cloud)
            if base is not None:
                role, note = _role(block)
                yield self.placement(block, role, cloud, base, note=note)
        yield from self.named_regions(block, cloud)

    # --- the resource's own region --------------------------------------------------------

    def base_region(self, block: Block, cloud: Provider) -> Region | None:
        """Where the resource lives; None for a type that takes no region (it is placed with
        its parent)."""
        match cloud:
            case Provider.AWS:
                own = self.argument(block, "region")
                if own is not None:
                    return region_value(own, "`region` argument")
                return self.provider_region(block)
            case Provider.GCP:
                for name in ("location", "region", "zone"):
                    own = self.argument(block, name)
                    if own is not None:
                        return region_value(own, f"`{name}` argument")
                if block.type in _GCP_PROVIDER_REGION:
                    return self.provider_region(block)
                return None
            case Provider.AZURE:
                own = attribute(block.body, "location")
                if own is None:
                    return None
                return region_value(self.instance.resolve(own), "`location` argument")
        raise AssertionError(cloud)  # pragma: no cover

    def argument(self, block: Block, name: str) -> Value | None:
        """An argument's value; None when it is absent or null (Terraform then uses the
        provider's default, as if it were not set)."""
        raw = attribute(block.body, name)
        if raw is None:
            return None
        value = self.instance.resolve(raw)
        return None if isinstance(value, Known) and value.value is None else value

    def provider_region(self, block: Block) -> Region:
        key = self.instance.provider_key(block)
        config = self.instance.providers.get(key)
        if config is None:
            return Unresolved(
                f"no provider {key} configuration in this module: the region comes from the "
                "environment at run time"
            )
        return region_value(config.region, None)

    def region_of(self, type_: str, name: str) -> tuple[Block, Region] | None:
        """Another resource of this module and where it lives."""
        target = self.instance.folder.resource(type_, name)
        if target is None:
            return None
        provider_name = self.instance.provider_key(target).split(".", 1)[0]
        cloud = family(provider_name)
        if cloud is None:
            return None
        region = self.base_region(target, cloud)
        return (target, region) if region is not None else None

    # --- helpers --------------------------------------------------------------------------

    def address(self, block: Block, suffix: str = "") -> str:
        return f"{self.instance.prefix}{block.type}.{block.name}{suffix}"

    def placement(
        self,
        block: Block,
        role: Role,
        cloud: Provider | None,
        region: Region,
        *,
        suffix: str = "",
        note: str | None = None,
        owner: Block | None = None,
    ) -> Placement:
        return Placement(
            address=self.address(block, suffix),
            role=role,
            provider=cloud,
            region=region,
            path=block.path,
            line=block.line,
            note=note,
            service_tag=self.service_of(owner or block),
        )

    def service_of(self, block: Block) -> str | None:
        """The `service` tag (AWS, Azure) or label (Google) of a resource, else of its
        provider's default tags."""
        wanted = self.service_tag.casefold()
        for name in ("tags", "labels"):
            tags = self.instance.resolve(attribute(block.body, name))
            if isinstance(tags, Known) and isinstance(tags.value, dict):
                found = self._tag(tags.value, wanted)
                if found is not None:
                    return found
        config = self.instance.provider_for(block)
        if config is not None:
            return self._tag(config.default_tags, wanted)
        return None

    def _tag(self, tags: Mapping[str, Any], wanted: str) -> str | None:
        for key, raw in tags.items():
            if str(key).casefold() == wanted:
                value = self.instance.resolve(raw)
                if isinstance(value, Known) and isinstance(value.value, str):
                    return value.value
        return None

    def named_regions(self, block: Block, cloud: Provider) -> Iterator[Placement]:
        """`*_region` attributes and literal regional ARNs in `*_arn` attributes, at the top
        level and one block down, that the type-specific readers do not already handle."""
        if block.type in HANDLED_NAMES:
            return
        scopes: list[tuple[str, Mapping[str, Any]]] = [("", block.body)]
        for key, value in block.body.items():
            if isinstance(value, list):
                scopes += [(f".{key}[{i}]", b) for i, b in enumerate(blocks(block.body, key))]
        for where, body in scopes:
            for key in sorted(body):
                if key.startswith("__"):
                    continue
                raw = attribute(body, key)
                if key.endswith("_region") and not isinstance(raw, (dict, list)):
                    region = region_value(self.instance.resolve(raw), f"`{key}` argument")
                    yield self.placement(
                        block,
                        Role.REFERENCE,
                        cloud,
                        region,
                        suffix=f"{where}.{key}",
                        note=f"`{key}` names a region it exchanges data with",
                    )
                elif (key == "arn" or key.endswith("_arn")) and isinstance(raw, str):
                    match = ARN.match(raw)
                    if match and cloud is Provider.AWS:
                        yield self.placement(
                            block,
                            Role.REFERENCE,
                            cloud,
                            Resolved(match.group(2), f"`{key}` {raw}"),
                            suffix=f"{where}.{key}",
                            note=f"sends data to a {match.group(1)} resource",
                        )


def _role(block: Block) -> tuple[Role, str | None]:
    body = block.body
    if block.type in _CLUSTERS:
        return Role.CLUSTER, "Kubernetes cluster"
    if block.type == "aws_db_instance" and attribute(body, "replicate_source_db") is not None:
        return Role.REPLICA, f"read replica of {_ref_text(attribute(body, 'replicate_source_db'))}"
    if block.type == "aws_rds_cluster" and attribute(body, "replication_source_identifier"):
        source = _ref_text(attribute(body, "replication_source_identifier"))
        return Role.REPLICA, f"replica cluster of {source}"
    if block.type in ("aws_db_snapshot_copy", "aws_db_cluster_snapshot_copy"):
        return Role.BACKUP, "snapshot copy"
    if block.type == "aws_db_instance_automated_backups_replication":
        return Role.BACKUP, "replicated automated backups"
    if block.type in ("aws_dynamodb_table_replica", "aws_kms_replica_key"):
        return Role.REPLICA, "replica"
    if block.type == "google_sql_database_instance" and attribute(body, "master_instance_name"):
        return Role.REPLICA, f"read replica of {_ref_text(attribute(body, 'master_instance_name'))}"
    return Role.RESOURCE, None


def _ref_text(raw: Any) -> str:
    parts = reference(raw)
    if parts is None:
        return str(raw)
    if len(parts) >= 3:
        return ".".join(parts[:2])
    return ".".join(parts)
