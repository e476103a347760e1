"""Every placement the repository's configuration states: Terraform, Kubernetes and Helm,
CloudFormation. (Application code needs semgrep: the residency scanner adds it.)"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from compliance.inventory import Inventory
from compliance.model import Skip
from compliance.residency.cloudformation import resolve_cloudformation
from compliance.residency.kubernetes import resolve_kubernetes
from compliance.residency.placement import Placement
from compliance.residency.regions import RegionTables
from compliance.residency.terraform import resolve_terraform


@dataclass(frozen=True, slots=True)
class Collected:
    placements: tuple[Placement, ...]
    skipped: tuple[Skip, ...]


def collect_placements(
    root: Path, inventory: Inventory, tables: RegionTables, service_tag: str = "service"
) -> Collected:
    terraform = resolve_terraform(
        root, inventory.terraform_files, inventory.all_files, tables, service_tag
    )
    kubernetes = resolve_kubernetes(
        root,
        inventory.kubernetes_files,
        inventory.helm_charts,
        inventory.all_files,
        tables,
        service_tag,
    )
    cloudformation = resolve_cloudformation(
        root, inventory.cloudformation_files, inventory.all_files, service_tag
    )
    placements = terraform.placements + kubernetes.placements + cloudformation.placements
    return Collected(
        tuple(sorted(placements, key=Placement.sort_key)),
        terraform.skipped + kubernetes.skipped + cloudformation.skipped,
    )
