"""The residency scanner for real: our semgrep rule pack, the adapter with semgrep on the
fixtures, and the demo's planted residency problems."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compliance.cli import cli
from compliance.config import bundled_policy_dir, load_config
from compliance.inventory import build_inventory
from compliance.model import Service, ServiceName, ServiceSource
from compliance.residency.policy import region_tables
from compliance.scanners.interface import ScanContext, ScanSettings
from compliance.scanners.process import ProcessRunner
from compliance.scanners.residency import ResidencyScanner
from compliance.scanners.residency.code import parse_code_output

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "assets" / "residency"
RECORDED = REPO / "tests" / "assets" / "scanners" / "residency"
RULES = REPO / "policies" / "residency" / "semgrep"
EXAMPLES = REPO / "examples"
DAY = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


def semgrep(*args: str, cwd: Path = REPO) -> subprocess.CompletedProcess[str]:
    exe = Path(sys.executable).parent / "semgrep"
    return subprocess.run(
        [
            str(exe) if exe.is_file() else "semgrep",
            args[0],
            "--metrics=off",
            "--disable-version-check",
            *args[1:],
        ],
        cwd=cwd,
        env=dict(os.environ, SEMGREP_ENABLE_VERSION_CHECK="0", SEMGREP_SEND_METRICS="off"),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )


def test_the_rule_pack_passes_its_semgrep_tests() -> None:
    done = semgrep("--test", "--json", "--config", str(RULES), str(FIXTURES / "code"))
    report = json.loads(done.stdout)
    assert not report["config_missing_tests"] and not report["config_with_errors"]
    checks = {
        rule: c for result in report["results"].values() for rule, c in result["checks"].items()
    }
    assert set(checks) == {
        "aws-client-region",
        "gcp-client-location",
        "azure-client-location",
        "cloud-endpoint",
    }
    assert all(c["passed"] for c in checks.values()), checks
    assert done.returncode == 0, done.stderr[-2000:]


def test_semgrep_accepts_the_rule_pack_strictly(tmp_path: Path) -> None:
    (tmp_path / "empty.py").write_text("")
    done = semgrep("scan", "--strict", "--json", "--config", str(RULES), str(tmp_path / "empty.py"))
    assert json.loads(done.stdout)["errors"] == [] and done.returncode == 0


def test_the_recorded_output_is_what_semgrep_prints_today() -> None:
    """A semgrep upgrade that changes the output the adapter reads fails here first."""
    done = semgrep(
        "scan", "--config", "../../../policies/residency/semgrep", "--json", "--disable-nosem",
        "--quiet", "--jobs", "1", "--", "code/clients.py", cwd=FIXTURES,
    )  # fmt: skip
    tables = region_tables(bundled_policy_dir())
    today = parse_code_output(done.stdout.encode(), FIXTURES, tables)
    recorded = parse_code_output((RECORDED / "findings.json").read_bytes(), FIXTURES, tables)
    assert today.placements == recorded.placements


def scan(root: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("compliance.cli.clock.utc_now", lambda: DAY)
        result = CliRunner().invoke(
            cli, ["scan", str(root), "--format", "json", "-q", "--scanner", "residency", *args]
        )
    return result.exit_code, json.loads(result.stdout), result.stderr


def test_every_mechanism_on_the_fixtures(tmp_path: Path) -> None:
    root = tmp_path / "fixtures"
    shutil.copytree(FIXTURES, root)
    code, data, err = scan(root)
    assert code == 1, err
    (run,) = data["scanners"]
    assert run["status"] == "ok" and run["version"].endswith("(semgrep 1.185.0)"), run
    found = {
        (f["path"], f["resource"] or f["snippet"].strip(), f["rule_id"]) for f in data["findings"]
    }
    europe, pii = "residency/everything-in-europe", "residency/pii-eu-only"
    aws, gcp, azure = (f"terraform/{c}/main.tf" for c in ("aws-replication", "google", "azure"))
    region = "nodeSelector[topology.kubernetes.io/region]"
    expected_violations = {
        ("terraform/providers/main.tf", "aws_s3_bucket.aliased", europe),
        (aws, "aws_s3_bucket_replication_configuration.to_us.rule[0].destination", pii),
        (aws, "aws_db_instance.read_replica", europe),
        (aws, "aws_db_snapshot_copy.to_us.destination_region", europe),
        (aws, "aws_dynamodb_table.global.replica[1]", europe),
        (aws, "aws_cloudfront_distribution.cdn", europe),
        (aws, "aws_eks_cluster.main", europe),
        (
            "terraform/modules/modules/bucket/main.tf",
            "module.exports_us.aws_s3_bucket.this",
            europe,
        ),
        (gcp, "google_storage_bucket.multi_region_us", europe),
        (gcp, "google_storage_bucket.dual_region_us", europe),
        (gcp, "google_storage_bucket.configurable_dual_region.data_locations[1]", europe),
        (gcp, "google_container_cluster.zonal", europe),
        (azure, "azurerm_storage_account.grs_brazil.secondary", europe),
        (azure, "azurerm_cosmosdb_account.orders.geo_location[1]", europe),
        (azure, "azurerm_cdn_profile.cdn", europe),
        ("kubernetes/selector.yaml", f"Deployment/data/exporter.{region}", pii),
        ("kubernetes/env.yaml", "Deployment/uploader.containers[0].env[0][AWS_REGION]", europe),
        ("helm/chart/values.yaml", f"chart helm/chart values.yaml.{region}", europe),
        ("cloudformation/stackset.yaml", "Baseline.StackInstancesGroup[0].Regions[1]", europe),
        ("cloudformation/global-table.yaml", "Orders.Replicas[1].Region", europe),
        ("cloudformation/cdn.json", "Site", europe),
        ("code/clients.py", 'sqs = boto3.client("sqs", region_name="us-east-1")', pii),
        ("code/clients.py", 'bucket = client.create_bucket(name, location="US")', pii),
        (
            "code/clients.py",
            'client.resource_groups.create_or_update("rg", {"location": "eastus"})',
            pii,
        ),
        (
            "code/clients.py",
            'SPEECH = "https://eastus.tts.speech.microsoft.com/cognitiveservices/v1"',
            pii,
        ),
    }
    assert expected_violations <= found, sorted(expected_violations - found)
    unresolved = {(p, r) for p, r, rule in found if rule == "residency/unresolved"}
    assert {
        ("terraform/variables/main.tf", "aws_s3_bucket.from_nowhere"),
        ("terraform/expressions/main.tf", "aws_s3_bucket.env_region"),
        ("terraform/modules/modules/bucket/main.tf", "module.computed.aws_sqs_queue.notifications"),
        ("terraform/aws-replication/main.tf",
         "aws_s3_bucket_replication_configuration.to_elsewhere.rule[0].destination"),
        ("terraform/azure/main.tf", "azurerm_storage_account.grs_unpaired.secondary"),
        ("terraform/broken/main.tf", "terraform/broken/main.tf"),
        ("cloudformation/unpinned.yaml", "(stack)"),
        ("helm/chart/templates/deployment.yaml",
         "Deployment/{{}}-app.nodeSelector[topology.kubernetes.io/region]"),
        ("kubernetes/env.yaml", "Deployment/uploader.nodeSelector[topology.kubernetes.io/region]"),
    } <= unresolved  # fmt: skip
    allowed = {
        ("terraform/providers/main.tf", "aws_s3_bucket.default_region"),
        ("terraform/variables/main.tf", "aws_s3_bucket.from_tfvars"),
        ("terraform/google/main.tf", "google_storage_bucket.dual_region_eu"),
        ("terraform/azure/main.tf", "azurerm_storage_account.grs.secondary"),
        ("cloudformation/pinned.yaml", "(stack)[0]"),
        ("code/clients.py", 'GLOBAL_S3 = "https://s3.amazonaws.com/bucket"'),
    }
    assert not {(p, r) for p, r, _ in found} & allowed
    by_path = {f["path"]: f for f in data["findings"]}
    assert by_path["code/clients.py"]["service"] == "orders"
    assert {f["severity"] for f in data["findings"] if f["rule_id"] == "residency/unresolved"} == {
        "low"
    }
    waived = [f for f in data["findings"] if (f["suppression"] or {}).get("kind") == "waived"]
    assert [f["resource"] for f in waived] == ["aws_s3_bucket.aliased"]
    assert all(
        set(f["controls"]) == {"C1.1", "A.5.31", "A.5.34", "A.5.23"} for f in data["findings"]
    )


def test_the_demo_residency_problems(tmp_path: Path) -> None:
    root = tmp_path / "examples"
    shutil.copytree(EXAMPLES, root)
    code, data, err = scan(root)
    assert code == 1, err
    findings = {(f["path"], f["resource"] or f["snippet"].strip()): f for f in data["findings"]}
    exports = findings[("infra/terraform/s3.tf", "aws_s3_bucket.customer_exports_us")]  # P50
    assert exports["rule_id"] == "residency/pii-eu-only" and exports["severity"] == "high"
    assert "provider aws.us (infra/terraform/main.tf:32)" in exports["message"]
    assert "pii data of service worker (by its tag service=worker)" in exports["message"]
    replica = findings[
        (
            "infra/terraform/replication.tf",
            "aws_s3_bucket_replication_configuration.raw_exports.rule[0].destination",
        )
    ]  # P51
    assert replica["suppression"] is None
    assert "Exception RX-0001 expired on 2026-09-30" in replica["message"]
    client = findings[
        ("services/worker/worker/consumer.py", 'sqs = boto3.client("sqs", region_name="us-east-1")')
    ]  # P52
    assert client["service"] == "worker" and client["rule_id"] == "residency/pii-eu-only"
    assert any(
        p == "services/worker/worker/consumer.py" and "sqs.us-east-1.amazonaws.com" in r
        for p, r in findings
    )  # P53
    assert not [f for f in data["findings"] if f["kind"] == "residency-unresolved"]
    # everything in eu-west-1 is allowed: the orders database, the invoices, the VPC
    assert not [p for p, r in findings if r in ("aws_db_instance.orders", "aws_vpc.shop")]
    assert len(data["findings"]) == 5


def test_the_demo_map(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["residency", "map", str(EXAMPLES), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    worker = next(s for s in data["services"] if s["name"] == "worker")
    where = {p["resource"]: (p["location"], p["status"]) for p in worker["placements"]}
    assert where["aws_s3_bucket.customer_exports_us"] == ("us-east-1", "outside")
    assert where["aws_s3_bucket.raw_exports"] == ("eu-west-1", "allowed")
    payments = next(s for s in data["services"] if s["name"] == "payments")
    (invoices,) = payments["placements"]
    assert invoices["rules"] == ["pii-eu-only", "card-data-pci-regions"]


def test_without_semgrep_work_the_check_is_fast(tmp_path: Path) -> None:
    """The in-process part (Terraform, Kubernetes, Helm, CloudFormation) on the demo and
    the fixtures together takes well under a second of CPU."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLES, root / "examples", ignore=shutil.ignore_patterns("*.py"))
    shutil.copytree(FIXTURES, root / "fixtures", ignore=shutil.ignore_patterns("*.py"))
    shutil.copytree(FIXTURES / "policies", root / "policies")
    config, _ = load_config(root)
    ctx = ScanContext(
        root,
        build_inventory(root),
        ScanSettings(policy_dir=bundled_policy_dir()),
        services=(Service(ServiceName("x"), "x", None, ServiceSource.CONFIG),),
        config=config,
        config_dir=root,
        today=DAY.date(),
    )
    started = time.process_time()
    output = ResidencyScanner().run(ctx, ProcessRunner())
    elapsed = time.process_time() - started
    assert output.findings and output.commands == ()
    assert elapsed < 0.5, elapsed
