"""The tools' own inline suppressions, through the real semgrep and checkov adapters.

semgrep drops what `# nosemgrep` silences unless told otherwise, and checkov lists what
`checkov:skip=` turns off apart from its failures: both must come back as findings marked
suppressed, with the comment, and every other finding without a suppression.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.config import bundled_policy_dir
from compliance.inventory import build_inventory
from compliance.model import RawFinding, SuppressionKind
from compliance.scanners.checkov import CheckovScanner
from compliance.scanners.interface import ScanContext, ScannerOutput, ScanSettings
from compliance.scanners.process import ProcessRunner
from compliance.scanners.semgrep import SemgrepScanner

pytestmark = pytest.mark.integration

FILES = {
    "app/client.py": """import httpx


def bare(url):
    return httpx.get(url, verify=False)  # nosemgrep


def listed(url):
    # nosemgrep: tls-verification-disabled -- the proxy terminates TLS
    return httpx.get(url, verify=False)


def another_rule(url):
    return httpx.get(url, verify=False)  # nosemgrep: ssrf-user-controlled-url


def plain(url):
    return httpx.get(url, verify=False)
""",
    # Terraform and Kubernetes under one folder: checkov runs once with `-d deploy`.
    "deploy/tf/main.tf": """resource "aws_s3_bucket" "site" {
  # checkov:skip=CKV_AWS_20:public website, approved in SEC-9
  bucket = "site"
  acl    = "public-read"
}

resource "aws_s3_bucket" "data" {
  bucket = "data"
  acl    = "public-read"
}
""",
    "deploy/k8s/pod.yaml": """apiVersion: v1
kind: Pod
metadata:
  name: web
  annotations:
    checkov.io/skip1: CKV_K8S_16=the node pool is dedicated
spec:
  containers:
    - name: web
      image: nginx:1.27
      securityContext:
        privileged: true
""",
}


def _run(scanner: SemgrepScanner | CheckovScanner, root: Path) -> ScannerOutput:
    inventory = build_inventory(root)
    settings = ScanSettings(policy_dir=bundled_policy_dir(), timeout_s=300)
    return scanner.run(ScanContext(inventory.root, inventory, settings), ProcessRunner())


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("suppressions")
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def _by_line(output: ScannerOutput, rule: str) -> dict[int | None, RawFinding]:
    return {f.location.start_line: f for f in output.findings if f.rule_id == rule}


def test_semgrep_reports_what_nosemgrep_silences(repo: Path) -> None:
    tls = _by_line(_run(SemgrepScanner(), repo), "tls-verification-disabled")
    assert set(tls) == {5, 10, 14, 18}
    bare, listed = tls[5].suppression, tls[10].suppression
    assert bare is not None and listed is not None
    assert bare.kind is listed.kind is SuppressionKind.INLINE
    assert bare.justification == "`# nosemgrep` on line 5 (semgrep inline suppression)"
    # The short id silences the pack's prefixed rule id (`...policies.semgrep.<id>`).
    assert listed.justification == (
        "`# nosemgrep: tls-verification-disabled` on line 9 (semgrep inline suppression): "
        "-- the proxy terminates TLS"
    )
    assert tls[14].suppression is None  # the comment names another rule
    assert tls[18].suppression is None


def test_checkov_reports_what_skip_comments_and_annotations_silence(repo: Path) -> None:
    output = _run(CheckovScanner(), repo)
    found = {(f.rule_id, f.resource): f for f in output.findings}
    site = found[("CKV_AWS_20", "aws_s3_bucket.site")]
    assert site.suppression is not None
    assert site.suppression.kind is SuppressionKind.INLINE
    assert site.suppression.justification.startswith(
        "`checkov:skip=CKV_AWS_20` comment on line 2 (checkov inline suppression"
    )
    assert site.suppression.justification.endswith('"public website, approved in SEC-9"')
    assert site.location.path == "deploy/tf/main.tf"
    assert site.snippet is not None and "checkov:skip" in site.snippet
    assert found[("CKV_AWS_20", "aws_s3_bucket.data")].suppression is None
    pod = found[("CKV_K8S_16", "Pod.default.web")]
    assert pod.location.path == "deploy/k8s/pod.yaml"
    assert pod.suppression is not None
    assert pod.suppression.justification.startswith(
        "`checkov.io/skip1: CKV_K8S_16` annotation on line 6"
    )
    assert found[("CKV_K8S_20", "Pod.default.web")].suppression is None
    suppressed = {(f.rule_id, f.resource) for f in output.findings if f.suppression}
    assert suppressed == {("CKV_AWS_20", "aws_s3_bucket.site"), ("CKV_K8S_16", "Pod.default.web")}
    assert not output.skipped  # the Kubernetes file was checked (not "nothing checked")
