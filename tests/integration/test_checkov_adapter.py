"""The checkov adapter against the real checkov: which files it is given, what comes back."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Sequence
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from compliance.config import bundled_policy_dir
from compliance.errors import ScannerFailure
from compliance.inventory import build_inventory
from compliance.model import Severity, Skip
from compliance.scanners.checkov import CheckovScanner, load_check_table
from compliance.scanners.interface import ScanContext, ScannerOutput, ScanSettings
from compliance.scanners.process import Completed, ProcessRunner

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
TABLE = bundled_policy_dir() / "checkov" / "checks.yaml"
HELM_SKIP = "Helm chart not scanned: the helm binary is not installed"

FILES = {
    "infra/main.tf": """
resource "aws_security_group" "ssh" {
  name        = "ssh"
  description = "admin"
  ingress {
    description = "ssh"
    from_port   = 22
    to_port     = 22
    protocol    = "tcp"
    cidr_blocks = [var.admin_cidr]
  }
}
""",
    "infra/variables.tf": 'variable "admin_cidr" {\n  default = "0.0.0.0/0"\n}\n',
    "legacy/main.tf": """
resource "aws_db_instance" "old" {
  publicly_accessible = true
}
""",
    "k8s/pod.yaml": """apiVersion: v1
kind: Pod
metadata:
  name: web
spec:
  hostPID: true
  containers:
    - name: web
      image: nginx:1.27
      securityContext:
        privileged: true
""",
    "k8s/broken.yaml": "apiVersion: v1\nkind: Pod\nmetadata: [unclosed\n",
    "Dockerfile": 'FROM python:latest\nCOPY . /app\nCMD ["python", "/app/main.py"]\n',
    ".github/workflows/ci.yml": """name: ci
on: push
permissions: write-all
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
""",
    "charts/web/Chart.yaml": "apiVersion: v2\nname: web\nversion: 0.1.0\n",
    "charts/web/templates/deployment.yaml": """apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  template:
    spec:
      containers:
        - name: web
          image: "nginx:{{ .Values.tag }}"
""",
}


class RecordingRunner(ProcessRunner):
    """The real runner, remembering every command line it started."""

    def __init__(self) -> None:
        super().__init__()
        self.argvs: list[tuple[str, ...]] = []

    def run(self, argv: Sequence[str], **kwargs: Any) -> Completed:
        self.argvs.append(tuple(argv))
        return super().run(argv, **kwargs)


@pytest.fixture(scope="module")
def repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    for name, text in FILES.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text.lstrip("\n"), encoding="utf-8")
    for i in range(500):
        module = root / "src" / f"pkg{i % 10}" / f"mod{i}.py"
        module.parent.mkdir(parents=True, exist_ok=True)
        module.write_text(f"import os\n\nVALUE = {i}\nprint(os.getcwd())\n", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def scanned(repo: Path) -> tuple[ScannerOutput, RecordingRunner]:
    inventory = build_inventory(repo, exclude=["legacy"])
    settings = ScanSettings(policy_dir=bundled_policy_dir(), timeout_s=300)
    runner = RecordingRunner()
    output = CheckovScanner().run(ScanContext(inventory.root, inventory, settings), runner)
    return output, runner


def test_runs_with_the_files_passed_explicitly(
    scanned: tuple[ScannerOutput, RecordingRunner],
) -> None:
    output, runner = scanned
    # Terraform needs its folder, so one run covers the common folder (a second checkov
    # start-up would cost more than the walk); no Python file is ever named.
    (argv,) = runner.argvs
    assert argv[-1] == "--directory=."
    assert argv[1:6] == ("--framework", "terraform", "kubernetes", "dockerfile", "github_actions")
    assert not any("src" in a or a.endswith(".py") for a in argv[1:])
    assert not any("charts" in a or "legacy" in a for a in argv)
    assert output.commands == tuple(runner.argvs)
    # Nothing from the excluded folder or the Helm chart (no helm binary) is reported.
    assert not any(f.location.path.startswith(("legacy/", "charts/")) for f in output.findings)


def test_findings_from_every_framework(scanned: tuple[ScannerOutput, RecordingRunner]) -> None:
    output, _ = scanned
    table = load_check_table(TABLE)
    found = {(f.rule_id, f.location.path) for f in output.findings}
    assert {
        ("CKV_AWS_24", "infra/main.tf"),  # variable resolved from variables.tf
        ("CKV_K8S_16", "k8s/pod.yaml"),
        ("CKV_K8S_17", "k8s/pod.yaml"),
        ("CKV_DOCKER_7", "Dockerfile"),
        ("CKV2_GHA_1", ".github/workflows/ci.yml"),
    } <= found
    for finding in output.findings:
        assert finding.severity is table.policy(finding.rule_id).severity
        assert finding.snippet, finding  # graph checks get their lines from the file
    by_rule = {f.rule_id: f for f in output.findings}
    assert by_rule["CKV_AWS_24"].severity is Severity.CRITICAL
    assert by_rule["CKV_AWS_24"].resource == "aws_security_group.ssh"
    # checkov's line range for Actions ends one line late; the snippet follows it.
    assert (by_rule["CKV2_GHA_1"].snippet or "").startswith("permissions: write-all")
    assert output.version is not None and output.version[0].isdigit()


def test_excluded_and_helm_inputs_are_never_clean(
    scanned: tuple[ScannerOutput, RecordingRunner],
) -> None:
    output, _ = scanned
    assert not any(
        f.location.path.startswith(("legacy/", "charts/", "src/")) for f in output.findings
    )
    assert Skip("charts/web", HELM_SKIP, tool="checkov") in output.skipped
    broken = [s for s in output.skipped if s.path == "k8s/broken.yaml"]
    assert len(broken) == 1 and broken[0].tool == "checkov"


def test_terraform_walk_drops_folders_the_inventory_left_out(tmp_path: Path) -> None:
    # Two Terraform folders: their common folder is the root, so checkov also walks legacy/,
    # which the configuration excludes. Its findings must not come back.
    for folder in ("infra", "ops", "legacy"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "main.tf").write_text(
            'resource "aws_s3_bucket" "b" {\n  acl = "public-read"\n}\n', encoding="utf-8"
        )
    inventory = build_inventory(tmp_path, exclude=["legacy"])
    assert inventory.terraform_dirs == ("infra", "ops")
    settings = ScanSettings(policy_dir=bundled_policy_dir(), timeout_s=300)
    runner = RecordingRunner()
    output = CheckovScanner().run(ScanContext(inventory.root, inventory, settings), runner)
    (argv,) = runner.argvs
    assert argv[-1] == "--directory=."
    paths = {f.location.path for f in output.findings if f.rule_id == "CKV_AWS_20"}
    assert paths == {"infra/main.tf", "ops/main.tf"}
    assert not any(f.location.path.startswith("legacy/") for f in output.findings)


def test_a_tool_that_is_not_checkov_fails_closed(repo: Path) -> None:
    inventory = build_inventory(repo, exclude=["legacy", "infra"])
    settings = ScanSettings(policy_dir=bundled_policy_dir(), executables={"checkov": "false"})
    with pytest.raises(ScannerFailure, match="printed nothing"):
        CheckovScanner().run(ScanContext(inventory.root, inventory, settings), ProcessRunner())


def test_version() -> None:
    version = CheckovScanner().version(ProcessRunner(), ScanSettings())
    assert version == load_check_table(TABLE).checkov_version, (
        "checkov was upgraded: regenerate policies/checkov/checks.yaml "
        "(python scripts/gen_checkov_checks.py > policies/checkov/checks.yaml)"
    )


# --- the table against the installed checkov ---------------------------------------------------


def _generator() -> ModuleType:
    path = REPO / "scripts" / "gen_checkov_checks.py"
    spec = importlib.util.spec_from_file_location("gen_checkov_checks", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def installed_checks() -> dict[str, set[str]]:
    generator = _generator()
    checks: dict[str, set[str]] = {}
    for check in generator.iter_checks(generator.FRAMEWORKS):
        checks.setdefault(check.framework, set()).add(check.check_id)
    return checks


def test_table_covers_every_check_of_the_installed_checkov(
    installed_checks: dict[str, set[str]],
) -> None:
    table = load_check_table(TABLE)
    for framework, ids in installed_checks.items():
        missing = sorted(ids - set(table.checks))
        assert not missing, (
            f"{len(missing)} {framework} checks missing from {TABLE.name}: {missing[:20]} "
            "- regenerate it with scripts/gen_checkov_checks.py"
        )
        listed = {i for i, p in table.checks.items() if framework in p.frameworks}
        assert listed == ids, framework
    assert set(installed_checks) == {
        "terraform",
        "cloudformation",
        "kubernetes",
        "dockerfile",
        "github_actions",
    }


def test_table_is_what_the_generator_writes() -> None:
    generator = _generator()
    table = generator.build_table(generator.iter_checks(generator.FRAMEWORKS))
    expected = generator.render(table, generator.CHECKOV_VERSION)
    assert TABLE.read_text(encoding="utf-8") == expected, (
        "policies/checkov/checks.yaml is stale: python scripts/gen_checkov_checks.py "
        "> policies/checkov/checks.yaml"
    )
