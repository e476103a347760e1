"""The Kubernetes, Helm and CloudFormation resolvers, on tests/assets/residency/ (pure)."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.config import bundled_policy_dir
from compliance.inventory import build_inventory
from compliance.residency.cloudformation import resolve_cloudformation
from compliance.residency.kubernetes import resolve_kubernetes
from compliance.residency.placement import Placement, Resolved, Role, Unresolved
from compliance.residency.policy import region_tables
from compliance.residency.regions import Provider, RegionTables

FIXTURES = Path(__file__).resolve().parents[1] / "assets" / "residency"


@pytest.fixture(scope="module")
def tables() -> RegionTables:
    return region_tables(bundled_policy_dir())


@pytest.fixture(scope="module")
def kubernetes(tables: RegionTables) -> dict[str, Placement]:
    inventory = build_inventory(FIXTURES)
    found = resolve_kubernetes(
        FIXTURES,
        inventory.kubernetes_files,
        inventory.helm_charts,
        inventory.all_files,
        tables,
    )
    assert not found.skipped
    return {p.address: p for p in found.placements}


@pytest.fixture(scope="module")
def cloudformation() -> dict[str, Placement]:
    inventory = build_inventory(FIXTURES)
    found = resolve_cloudformation(FIXTURES, inventory.cloudformation_files, inventory.all_files)
    assert not found.skipped
    return {f"{p.path}#{p.address}": p for p in found.placements}


def value(placement: Placement) -> str:
    assert isinstance(placement.region, Resolved), placement.region
    return placement.region.value


def reason(placement: Placement) -> str:
    assert isinstance(placement.region, Unresolved), placement.region
    return placement.region.reason


def test_node_selectors_on_region_and_zone_labels(kubernetes: dict[str, Placement]) -> None:
    pinned = kubernetes["Deployment/data/exporter.nodeSelector[topology.kubernetes.io/region]"]
    assert value(pinned) == "us-east-1" and pinned.role is Role.WORKLOAD
    assert pinned.provider is None  # a label names no cloud: the tables tell
    assert pinned.service_tag == "orders"  # its `service` label
    assert pinned.path == "kubernetes/selector.yaml" and pinned.line == 13
    zone = kubernetes["CronJob/nightly.nodeSelector[failure-domain.beta.kubernetes.io/zone]"]
    assert value(zone) == "europe-west1-b" and "zone" in (zone.note or "")


def test_node_affinity_required_preferred_and_karpenter(kubernetes: dict[str, Placement]) -> None:
    base = "StatefulSet/payments/ledger.affinity.nodeAffinity"
    required = [kubernetes[f"{base}.required.terms[0].expr[0].values[{i}]"] for i in (0, 1)]
    assert [value(p) for p in required] == ["eu-west-1", "us-west-2"]
    preferred = kubernetes[f"{base}.preferred[0].preference.expr[0].values[0]"]
    assert value(preferred) == "westeurope-1"
    assert "(preferred)" in preferred.region.source  # type: ignore[union-attr]
    # NotIn names no place
    assert not any("eu-west-1c" in getattr(p.region, "value", "") for p in kubernetes.values())
    karpenter = kubernetes["NodePool/batch.requirements[0].values[0]"]
    assert value(karpenter) == "ap-south-1"


def test_container_environment_places_clients(kubernetes: dict[str, Placement]) -> None:
    region = kubernetes["Deployment/uploader.containers[0].env[0][AWS_REGION]"]
    assert region.role is Role.CLIENT and region.provider is Provider.AWS
    assert value(region) == "sa-east-1"
    endpoint = kubernetes["Deployment/uploader.containers[0].env[1][QUEUE_URL]"]
    assert value(endpoint) == "eu-central-1" and endpoint.provider is Provider.AWS
    assert not any("LOG_LEVEL" in a for a in kubernetes)
    unknown = kubernetes["Deployment/uploader.nodeSelector[topology.kubernetes.io/region]"]
    assert value(unknown) == "dc-frankfurt-1"  # resolved text, but in no table: the check says


def test_helm_values_and_templates(kubernetes: dict[str, Placement]) -> None:
    values = kubernetes["chart helm/chart values.yaml.nodeSelector[topology.kubernetes.io/region]"]
    assert value(values) == "us-west-1" and values.path == "helm/chart/values.yaml"
    templated = kubernetes["Deployment/{{}}-app.nodeSelector[topology.kubernetes.io/region]"]
    assert "set by a template" in reason(templated)
    assert templated.line == 10
    literal = kubernetes["Job/{{}}-migrate.nodeSelector[topology.kubernetes.io/region]"]
    assert value(literal) == "eu-north-1"


def test_cloudformation_stack_regions(cloudformation: dict[str, Placement]) -> None:
    pinned = [value(cloudformation[f"cloudformation/pinned.yaml#(stack)[{i}]"]) for i in (0, 1)]
    assert pinned == ["eu-central-1", "eu-west-1"]
    assert cloudformation["cloudformation/pinned.yaml#(stack)[0]"].role is Role.STACK
    assert "chosen when it is deployed" in reason(
        cloudformation["cloudformation/unpinned.yaml#(stack)"]
    )
    sam = cloudformation["cloudformation/sam/template.yaml#(stack)[0]"]
    assert value(sam) == "eu-south-2" and "samconfig.toml" in sam.region.source  # type: ignore[union-attr]
    assert value(cloudformation["cloudformation/cdn.json#(stack)[0]"]) == "us-east-1"


def test_cloudformation_replicas_stack_sets_arns_and_global(
    cloudformation: dict[str, Placement],
) -> None:
    table = "cloudformation/global-table.yaml#Orders.Replicas"
    assert f"{table}[0].Region" not in cloudformation  # Ref AWS::Region: the stack's own
    replica = cloudformation[f"{table}[1].Region"]
    assert replica.role is Role.REPLICA and value(replica) == "us-west-2"
    assert replica.region.source == "default of parameter ReplicaRegion"  # type: ignore[union-attr]
    assert "has no default" in reason(cloudformation[f"{table}[2].Region"])
    assert "Fn::Select" in reason(cloudformation[f"{table}[3].Region"])
    stackset = "cloudformation/stackset.yaml#Baseline.StackInstancesGroup[0].Regions"
    assert [value(cloudformation[f"{stackset}[{i}]"]) for i in (0, 1)] == [
        "eu-west-1",
        "us-east-1",
    ]
    assert cloudformation[f"{stackset}[1]"].role is Role.STACK
    secret = cloudformation["cloudformation/stackset.yaml#Secret.ReplicaRegions[0].Region"]
    assert secret.role is Role.REPLICA and value(secret) == "ap-southeast-2"
    topic = cloudformation["cloudformation/unpinned.yaml#Alerts.TopicArn"]
    assert topic.role is Role.REFERENCE and value(topic) == "us-east-1"
    cdn = cloudformation["cloudformation/cdn.json#Site"]
    assert cdn.role is Role.GLOBAL and value(cdn) == "global" and cdn.line == 7
    tagged = cloudformation["cloudformation/pinned.yaml#(stack)[0]"]
    assert tagged.path == "cloudformation/pinned.yaml"
