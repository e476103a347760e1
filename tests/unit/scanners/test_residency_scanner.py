"""The residency adapter: its parse of recorded semgrep output, and its runs with a recorded
process runner (no subprocess)."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from datetime import date
from pathlib import Path
from typing import Any

import pytest

from compliance.config import bundled_policy_dir, load_config
from compliance.errors import ScannerFailure
from compliance.inventory import build_inventory
from compliance.model import FindingKind, Service, ServiceName, ServiceSource, SuppressionKind
from compliance.residency.placement import Resolved, Role
from compliance.residency.policy import region_tables
from compliance.residency.regions import Provider
from compliance.scanners.interface import NothingToScan, ScanContext, ScanSettings
from compliance.scanners.process import Completed, ProcessRunner
from compliance.scanners.residency import ResidencyScanner
from compliance.scanners.residency.code import candidate_files, parse_code_output

ASSETS = Path(__file__).resolve().parents[2] / "assets"
FIXTURES = ASSETS / "residency"
RECORDED = ASSETS / "scanners" / "residency"
TODAY = date(2026, 11, 29)


def test_parse_recorded_output() -> None:
    tables = region_tables(bundled_policy_dir())
    parsed = parse_code_output((RECORDED / "findings.json").read_bytes(), FIXTURES, tables)
    assert parsed.version == "1.185.0" and not parsed.skipped
    found = [
        (p.line, p.provider, p.region.value if isinstance(p.region, Resolved) else None)
        for p in parsed.placements
    ]
    assert found == [
        (11, Provider.AWS, "us-east-1"),
        (13, Provider.GCP, "europe-west4"),
        (15, Provider.AZURE, "eastus"),
        # line 17: the global s3.amazonaws.com endpoint names no region: dropped
        (24, Provider.AWS, "us-east-1"),
        (26, Provider.AWS, "eu-west-1"),
        (28, Provider.AWS, "ap-southeast-2"),
        (37, Provider.GCP, "US"),
        (39, Provider.GCP, "europe-west1"),
        (47, Provider.AZURE, "eastus"),
        (49, Provider.AZURE, "westeurope"),
    ]
    client = parsed.placements[3]
    assert client.role is Role.CLIENT and client.path == "code/clients.py"
    assert client.snippet == '    sqs = boto3.client("sqs", region_name="us-east-1")'
    assert client.region.source == "AWS SDK client region (`region_name`)"  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("stdout", "message"),
    [
        ((RECORDED / "bad-config.json").read_bytes(), "unable to find a config"),
        (b"not json", "not JSON"),
        (b'{"errors": []}', "without a 'results' list"),
        (b'{"results": [{"path": "x.py"}]}', "lacks a usable field"),
    ],
)
def test_output_we_cannot_trust_is_a_failure(stdout: bytes, message: str) -> None:
    with pytest.raises(ScannerFailure) as caught:
        parse_code_output(stdout, FIXTURES, region_tables(bundled_policy_dir()))
    assert message in caught.value.message


def test_only_files_naming_a_cloud_go_to_semgrep() -> None:
    assert candidate_files(FIXTURES, ["code/clients.py", "code/no_cloud.py"]) == ["code/clients.py"]


class RecordedRunner(ProcessRunner):
    """Answers every command with a recorded output; remembers what was asked."""

    def __init__(self, stdout: bytes, returncode: int = 0) -> None:
        super().__init__()
        self.stdout = stdout
        self.returncode = returncode
        self.calls: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], **kwargs: Any) -> Completed:
        self.calls.append(tuple(argv))
        return Completed(tuple(argv), self.returncode, self.stdout, b"", 0.1)


def context(root: Path, **settings: Any) -> ScanContext:
    config, config_file = load_config(root)
    services = tuple(
        Service(
            ServiceName(s.name), s.path, None, ServiceSource.CONFIG, None, s.data_classification
        )
        for s in config.services
    )
    return ScanContext(
        root,
        build_inventory(root),
        ScanSettings(
            policy_dir=bundled_policy_dir(),
            executables={"semgrep": "true"},  # never started: the runner is recorded
            **settings,
        ),
        services=services,
        config=config,
        config_dir=config_file.parent if config_file else root,
        today=TODAY,
    )


@pytest.fixture
def fixture_repo(tmp_path: Path) -> Path:
    root = tmp_path / "repo"
    shutil.copytree(FIXTURES, root)
    return root


def test_a_run_over_the_fixtures(fixture_repo: Path) -> None:
    runner = RecordedRunner((RECORDED / "findings.json").read_bytes())
    output = ResidencyScanner().run(context(fixture_repo), runner)
    (call,) = runner.calls
    assert "--metrics=off" in call and "--disable-version-check" in call
    assert "--disable-nosem" in call and call[-2:] == ("--", "code/clients.py")
    assert output.version is not None and output.version.endswith("(semgrep 1.185.0)")
    assert [s.path for s in output.skipped] == ["terraform/broken/main.tf"]
    by_resource = {
        (f.location.path, f.resource or f.snippet, f.rule_id): f for f in output.findings
    }
    aliased = by_resource[("terraform/providers/main.tf", "aws_s3_bucket.aliased",
                           "residency/everything-in-europe")]  # fmt: skip
    assert aliased.suppression is not None
    assert aliased.suppression.kind is SuppressionKind.WAIVED
    expired = by_resource[("terraform/providers/main.tf", "aws_sqs_queue.own_region",
                           "residency/everything-in-europe")]  # fmt: skip
    assert expired.suppression is None and "RX-EXPIRED expired on 2020-01-01" in expired.message
    code = [f for f in output.findings if f.location.path == "code/clients.py"]
    assert {f.rule_id for f in code} == {"residency/pii-eu-only", "residency/everything-in-europe"}
    unresolved = [f for f in output.findings if f.kind is FindingKind.RESIDENCY_UNRESOLVED]
    assert {f.location.path for f in unresolved} >= {
        "terraform/expressions/main.tf",
        "terraform/broken/main.tf",
        "cloudformation/unpinned.yaml",
        "helm/chart/templates/deployment.yaml",
        "kubernetes/env.yaml",
    }
    assert all(f.category == "residency" for f in output.findings)


def test_no_policy_means_nothing_to_check(fixture_repo: Path) -> None:
    (fixture_repo / "policies" / "residency.yaml").unlink()
    runner = RecordedRunner(b"")
    with pytest.raises(NothingToScan, match="no residency policy"):
        ResidencyScanner().run(context(fixture_repo), runner)
    assert runner.calls == []


def test_no_infrastructure_and_no_cloud_code_is_nothing_to_check(tmp_path: Path) -> None:
    (tmp_path / "policies").mkdir()
    shutil.copy(FIXTURES / "policies" / "residency.yaml", tmp_path / "policies")
    (tmp_path / "app.py").write_text("print('hello')\n")
    runner = RecordedRunner(b"")
    with pytest.raises(NothingToScan, match="no infrastructure"):
        ResidencyScanner().run(context(tmp_path), runner)
    assert runner.calls == []


def test_infrastructure_without_cloud_code_starts_no_process(fixture_repo: Path) -> None:
    shutil.rmtree(fixture_repo / "code")
    runner = RecordedRunner(b"")
    output = ResidencyScanner().run(context(fixture_repo), runner)
    assert runner.calls == [] and output.findings and output.commands == ()
    assert output.version is not None and "semgrep" not in output.version


def test_an_invalid_policy_fails_the_scanner(fixture_repo: Path) -> None:
    (fixture_repo / "policies" / "residency.yaml").write_text("rules: [{id: x}]\n")
    with pytest.raises(ScannerFailure, match="invalid policy"):
        ResidencyScanner().run(context(fixture_repo), RecordedRunner(b""))


def test_semgrep_failing_fails_the_scanner(fixture_repo: Path) -> None:
    runner = RecordedRunner((RECORDED / "bad-config.json").read_bytes(), returncode=7)
    with pytest.raises(ScannerFailure, match="semgrep failed"):
        ResidencyScanner().run(context(fixture_repo), runner)


def test_version_needs_semgrep() -> None:
    settings = ScanSettings(executables={"semgrep": "no-such-semgrep-here"})
    with pytest.raises(ScannerFailure, match="semgrep is not installed"):
        ResidencyScanner().version(RecordedRunner(b""), settings)
