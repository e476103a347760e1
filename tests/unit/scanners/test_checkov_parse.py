from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from compliance.config import bundled_policy_dir
from compliance.errors import ScannerFailure
from compliance.inventory import Inventory
from compliance.model import FindingKind, Severity, Skip, SuppressionKind
from compliance.scanners.checkov import (
    CheckovScanner,
    CheckTable,
    load_check_table,
    parse_checkov_output,
    plan_invocations,
)
from compliance.scanners.interface import NothingToScan, ScanContext, ScanSettings
from compliance.scanners.process import Completed, arg_cost
from compliance.scanners.source import MAX_SNIPPET_CHARS, MAX_SNIPPET_LINES, SnippetReader

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "scanners" / "checkov"
FIXTURES = ASSETS / "fixtures"
#: Where record.sh ran checkov (see the README): the root of every recorded path.
RECORDED_ROOT = "/tmp/checkov-fixtures"
PARSE_ERROR = "checkov could not parse this file"

#: recording -> (--directory it scanned or "", JSON shape, failed checks, skipped checks,
#: parse errors)
RECORDINGS = {
    "terraform.json": ("terraform", dict, 24, 0, 0),
    "files.json": ("", list, 33, 0, 0),
    "workflow.json": ("", dict, 2, 0, 0),
    "nothing.json": ("", "summary", 0, 0, 0),
    "parse_error_tf.json": ("broken", dict, 2, 0, 1),
    "parse_error_files.json": ("", dict, 0, 0, 1),
    "skips.json": ("skips", list, 45, 11, 0),
    "baseline.json": ("baseline", dict, 7, 1, 0),
}


@pytest.fixture(scope="module")
def table() -> CheckTable:
    return load_check_table(bundled_policy_dir() / "checkov" / "checks.yaml")


def parse(name: str, table: CheckTable, base: str | None = None, *, lines: bool = True) -> Any:
    recorded_base = RECORDINGS[name][0]
    stdout = (ASSETS / name).read_bytes()
    return parse_checkov_output(
        stdout,
        root=RECORDED_ROOT,
        table=table,
        base=recorded_base if base is None else base,
        lines=SnippetReader(FIXTURES).lines if lines else None,
    )


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_recording_shape_and_counts(name: str, table: CheckTable) -> None:
    _base, shape, failed, skipped, errors = RECORDINGS[name]
    data = json.loads((ASSETS / name).read_bytes())
    if shape == "summary":
        assert isinstance(data, dict)
        assert "check_type" not in data
    else:
        assert isinstance(data, shape)
    parsed = parse(name, table)
    # A skipped check is a finding too, marked suppressed.
    assert len(parsed.findings) == failed + skipped
    assert sum(f.suppression is not None for f in parsed.findings) == skipped
    assert len(parsed.skipped) == errors
    assert parsed.version == "3.3.30"


@pytest.mark.parametrize("name", sorted(RECORDINGS))
def test_every_finding_is_normalised(name: str, table: CheckTable) -> None:
    for finding in parse(name, table).findings:
        path = finding.location.path
        assert not path.startswith(("/", "./", "../")), path
        assert "\\" not in path
        assert (FIXTURES / path).is_file(), path
        assert finding.tool == "checkov"
        assert finding.kind is FindingKind.IAC_MISCONFIGURATION
        assert finding.severity is table.policy(finding.rule_id).severity
        assert finding.cwe == table.policy(finding.rule_id).cwe
        assert finding.title
        start, end = finding.location.start_line, finding.location.end_line
        assert start is not None and end is not None and 1 <= start <= end
        if finding.rule_id == "CKV2_GHA_1":
            # A graph check without code: the adapter reads the lines from the file.
            assert finding.snippet is None
            continue
        assert finding.snippet
        assert len(finding.snippet.splitlines()) <= MAX_SNIPPET_LINES
        assert len(finding.snippet) <= MAX_SNIPPET_CHARS
        assert finding.help_url is None  # no guidelines without a platform key


def test_terraform_paths_resources_and_modules(table: CheckTable) -> None:
    parsed = parse("terraform.json", table)
    by_key = {(f.rule_id, f.resource): f for f in parsed.findings}
    ssh = by_key[("CKV_AWS_24", "aws_security_group.ssh")]
    assert ssh.location.path == "terraform/app/main.tf"
    assert (ssh.location.start_line, ssh.location.end_line) == (1, 12)
    assert ssh.severity is Severity.CRITICAL
    assert ssh.snippet is not None
    assert ssh.snippet.startswith('resource "aws_security_group" "ssh" {')
    # A module's resource: reported in the module's file, under the caller's address.
    acl = by_key[("CKV_AWS_20", "module.assets.aws_s3_bucket.this")]
    assert acl.location.path == "terraform/modules/bucket/main.tf"
    assert acl.severity is Severity.CRITICAL
    nested = by_key[
        ("CKV_AWS_66", "module.assets.module.access_logs.aws_cloudwatch_log_group.access")
    ]
    assert nested.location.path == "terraform/modules/logs/main.tf"
    rds = by_key[("CKV_AWS_17", "aws_db_instance.orders")]
    assert rds.severity is Severity.CRITICAL
    assert rds.message == f"aws_db_instance.orders: {rds.title}"
    assert parsed.checked_files == {
        "terraform/app/main.tf",
        "terraform/modules/bucket/main.tf",
        "terraform/modules/logs/main.tf",
    }


def test_absolute_paths_win_over_the_base(table: CheckTable) -> None:
    # file_abs_path is absolute for Terraform: a wrong base cannot misplace the finding.
    paths = {f.location.path for f in parse("terraform.json", table, base="elsewhere").findings}
    assert paths == {"terraform/app/main.tf", "terraform/modules/bucket/main.tf"} | {
        "terraform/modules/logs/main.tf"
    }


def test_several_frameworks_in_one_list(table: CheckTable) -> None:
    parsed = parse("files.json", table)
    by_rule = {f.rule_id: f for f in parsed.findings}
    assert {f.location.path for f in parsed.findings} == {
        ".github/workflows/ci.yml",
        "cfn/bucket.yaml",
        "docker/Dockerfile",
        "k8s/pod.yaml",
    }
    assert by_rule["CKV_K8S_16"].resource == "Pod.shop.web"
    assert by_rule["CKV_K8S_16"].severity is Severity.HIGH
    assert by_rule["CKV_K8S_19"].severity is Severity.HIGH  # hostNetwork
    # CloudFormation's file_abs_path is relative to the working folder.
    assert by_rule["CKV_AWS_20"].location.path == "cfn/bucket.yaml"
    assert by_rule["CKV_AWS_20"].resource == "AWS::S3::Bucket.Assets"
    # Dockerfile resources lose checkov's path prefix; whole-file checks have none.
    assert by_rule["CKV_DOCKER_7"].resource == "FROM"
    assert by_rule["CKV_DOCKER_7"].snippet == "FROM python:latest"
    assert by_rule["CKV_DOCKER_4"].resource == "ADD"
    assert by_rule["CKV_DOCKER_2"].resource is None
    assert parsed.checked_files == {
        ".github/workflows/ci.yml",
        "cfn/bucket.yaml",
        "docker/Dockerfile",
        "k8s/pod.yaml",
    }


def test_github_workflow(table: CheckTable) -> None:
    parsed = parse("workflow.json", table)
    by_rule = {f.rule_id: f for f in parsed.findings}
    assert set(by_rule) == {"CKV2_GHA_1", "CKV_GHA_2"}
    write_all = by_rule["CKV2_GHA_1"]
    assert write_all.location.path == ".github/workflows/ci.yml"
    assert write_all.severity is Severity.HIGH
    injection = by_rule["CKV_GHA_2"]
    assert injection.severity is Severity.HIGH
    assert injection.cwe == ("CWE-78",)
    assert injection.resource == "jobs(build).steps[3](Greet)"
    assert (injection.location.start_line, injection.location.end_line) == (12, 15)
    assert injection.snippet is not None
    assert "github.event.pull_request.title" in injection.snippet


def test_summary_only_means_nothing_checked(table: CheckTable) -> None:
    parsed = parse("nothing.json", table)
    assert parsed.findings == ()
    assert parsed.skipped == ()
    assert parsed.checked_files == frozenset()


def test_terraform_parse_error_is_a_skip(table: CheckTable) -> None:
    parsed = parse("parse_error_tf.json", table)
    assert parsed.skipped == (Skip("broken/main.tf", PARSE_ERROR, tool="checkov"),)
    # The file next to it still parsed and was checked.
    rdp = {f.rule_id: f for f in parsed.findings}["CKV_AWS_25"]
    assert rdp.location.path == "broken/network.tf"
    assert rdp.severity is Severity.CRITICAL


def test_cloudformation_parse_error_and_silently_dropped_yaml(table: CheckTable) -> None:
    parsed = parse("parse_error_files.json", table)
    assert parsed.skipped == (Skip("invalid/template.yaml", PARSE_ERROR, tool="checkov"),)
    # checkov says nothing about the invalid Kubernetes file: the adapter notices its absence.
    assert "invalid/pod.yaml" not in parsed.checked_files


@pytest.mark.parametrize(
    "stdout",
    [
        b"",
        b"  \n",
        b"Traceback (most recent call last):\n",
        b'{"check_type": "terraform", "results": {"failed_checks": [',
        b'{"unexpected": true}',
        b'[{"check_type": "terraform"}]',
        b'{"check_type": "terraform", "results": {"failed_checks": [{"check_name": "x"}]}}',
        b'{"check_type": "terraform", "results": {"skipped_checks": [{"check_name": "x"}]}}',
        b'{"passed": 0, "failed": 3, "parsing_errors": 0}',
        b'"just a string"',
        b"\xff\xfe",
    ],
    ids=[
        "empty",
        "blank",
        "traceback",
        "truncated",
        "unknown-object",
        "report-without-results",
        "check-without-id",
        "skipped-check-without-id",
        "summary-with-failures",
        "string",
        "not-utf8",
    ],
)
def test_garbage_is_a_scanner_failure(stdout: bytes, table: CheckTable) -> None:
    with pytest.raises(ScannerFailure):
        parse_checkov_output(stdout, root=RECORDED_ROOT, table=table)


@pytest.mark.parametrize("name", ["files.json", "terraform.json"])
def test_truncated_recording_is_a_scanner_failure(name: str, table: CheckTable) -> None:
    stdout = (ASSETS / name).read_bytes()
    with pytest.raises(ScannerFailure, match="not JSON"):
        parse_checkov_output(stdout[: len(stdout) // 2], root=RECORDED_ROOT, table=table)


def test_empty_list_is_nothing(table: CheckTable) -> None:
    parsed = parse_checkov_output(b"[]", root=RECORDED_ROOT, table=table)
    assert parsed.findings == () and parsed.skipped == ()


def _report(check: dict[str, Any], check_type: str = "terraform") -> bytes:
    return json.dumps({"check_type": check_type, "results": {"failed_checks": [check]}}).encode()


def test_relative_file_path_is_resolved_against_the_scanned_folder(table: CheckTable) -> None:
    check = {"check_id": "CKV_AWS_20", "check_name": "x", "file_path": "/sub/main.tf"}
    parsed = parse_checkov_output(_report(check), root="/repo", table=table, base="infra")
    assert parsed.findings[0].location.path == "infra/sub/main.tf"
    assert parsed.findings[0].location.start_line is None


def test_a_path_outside_the_root_falls_back_to_the_scanned_folder(table: CheckTable) -> None:
    check = {
        "check_id": "CKV_AWS_20",
        "check_name": "x",
        "file_path": "/../../etc/main.tf",
        "file_abs_path": "/tmp/elsewhere/main.tf",
    }
    parsed = parse_checkov_output(_report(check), root="/repo", table=table, base="infra")
    assert parsed.findings[0].location.path == "infra"


def test_unknown_check_is_medium_and_duplicates_collapse(table: CheckTable) -> None:
    check = {
        "check_id": "CKV_NEW_999",
        "check_name": "A check  newer than\nthe table",
        "file_abs_path": "/repo/main.tf",
        "file_line_range": [3, 4],
        "resource": "aws_x.y",
        "code_block": [[n, f"line {n}\n"] for n in range(3, 60)],
        "guideline": "https://docs.example/ckv_new_999",
    }
    stdout = json.dumps(
        {"check_type": "terraform", "results": {"failed_checks": [check, check]}}
    ).encode()
    (finding,) = parse_checkov_output(stdout, root="/repo", table=table).findings
    assert finding.severity is Severity.MEDIUM
    assert finding.title == "A check newer than the table"
    assert finding.help_url == "https://docs.example/ckv_new_999"
    assert finding.snippet is not None
    assert finding.snippet.splitlines() == [f"line {n}" for n in range(3, 3 + MAX_SNIPPET_LINES)]


# --- skipped checks: findings marked suppressed -----------------------------------------------


def _suppressed(parsed: Any) -> dict[tuple[str, str | None], Any]:
    return {(f.rule_id, f.resource): f for f in parsed.findings if f.suppression is not None}


def test_skipped_checks_are_findings_as_failed_ones_are(table: CheckTable) -> None:
    parsed = parse("skips.json", table)
    skipped = _suppressed(parsed)
    assert set(skipped) == {
        ("CKV_AWS_24", "aws_security_group.bastion"),
        ("CKV_AWS_20", "aws_s3_bucket.assets"),
        ("CKV_AWS_20", "aws_s3_bucket.logs"),
        ("CKV_AWS_21", "aws_s3_bucket.logs"),
        ("CKV_AWS_20", "AWS::S3::Bucket.Assets"),
        ("CKV_AWS_18", "AWS::S3::Bucket.Logs"),
        ("CKV_K8S_16", "Pod.shop.web"),
        ("CKV_K8S_20", "Pod.shop.web"),
        ("CKV_DOCKER_7", None),  # checkov gives a skipped Dockerfile check the whole file
        ("CKV_GHA_2", "jobs(build)"),  # the job holds the step's comment: skipped too
        ("CKV_GHA_2", "jobs(build).steps[2](Greet)"),
    }
    for finding in skipped.values():
        assert finding.suppression.kind is SuppressionKind.INLINE
        policy = table.policy(finding.rule_id)
        assert (finding.severity, finding.category) == (policy.severity, policy.category)
    # The same check failed on one bucket and skipped on the other: only those differ.
    failed = next(
        f
        for f in parsed.findings
        if (f.rule_id, f.resource) == ("CKV_AWS_21", "aws_s3_bucket.assets")
    )
    assert failed.suppression is None
    logs = skipped[("CKV_AWS_21", "aws_s3_bucket.logs")]
    assert (logs.title, logs.severity, logs.category, logs.cwe, logs.kind) == (
        failed.title,
        failed.severity,
        failed.category,
        failed.cwe,
        failed.kind,
    )
    assert logs.location.path == failed.location.path == "skips/terraform/main.tf"
    assert (logs.location.start_line, logs.location.end_line) == (20, 24)
    assert logs.message == f"aws_s3_bucket.logs: {logs.title}"
    assert logs.snippet is not None and logs.snippet.startswith('resource "aws_s3_bucket" "logs"')
    # A graph check ignores its skip comment: checkov reports it failed, so do we.
    (write_all,) = [f for f in parsed.findings if f.rule_id == "CKV2_GHA_1"]
    assert write_all.suppression is None
    # A comment on a Kubernetes container is no skip: only annotations are.
    (privileged,) = [f for f in parsed.findings if f.rule_id == "CKV_K8S_14"]
    assert privileged.suppression is None


def test_skip_justification_quotes_the_skip_where_it_is_written(table: CheckTable) -> None:
    why = {
        key: f.suppression.justification
        for key, f in _suppressed(parse("skips.json", table)).items()
    }
    caveat = "(checkov inline suppression; checkov does not say whether it would fail)"
    assert why[("CKV_AWS_24", "aws_security_group.bastion")] == (
        f"`checkov:skip=CKV_AWS_24` comment on line 2 {caveat}: "
        '"SSH is reachable only through the VPN, see SEC-101"'
    )
    assert why[("CKV_AWS_20", "aws_s3_bucket.assets")] == (
        f"`checkov:skip=CKV_AWS_20` comment on line 15 {caveat}: no reason given"
    )
    assert why[("CKV_AWS_21", "aws_s3_bucket.logs")].startswith(
        "`bridgecrew:skip=CKV_AWS_20,CKV_AWS_21` comment on line 21"
    )
    assert why[("CKV_AWS_20", "AWS::S3::Bucket.Assets")] == (
        f"`Metadata` skip entry `id: CKV_AWS_20` on line 8 {caveat}: "
        '"Public website assets, approved in SEC-102"'
    )
    assert why[("CKV_AWS_18", "AWS::S3::Bucket.Logs")].startswith(
        "`checkov:skip=CKV_AWS_18` comment on line 13"
    )
    assert why[("CKV_K8S_20", "Pod.shop.web")] == (
        f"`checkov.io/skip1: CKV_K8S_20` annotation on line 7 {caveat}: "
        '"the entrypoint drops privileges itself"'
    )
    assert why[("CKV_K8S_16", "Pod.shop.web")] == (
        f"`checkov.io/skip2: CKV_K8S_16` annotation on line 8 {caveat}: no reason given"
    )
    assert why[("CKV_DOCKER_7", None)].startswith("`checkov:skip=CKV_DOCKER_7` comment on line 1")
    assert why[("CKV_GHA_2", "jobs(build)")].startswith(
        "`checkov:skip=CKV_GHA_2` comment on line 11"
    )


def test_without_the_files_the_justification_names_the_kind_of_skip(table: CheckTable) -> None:
    why = {
        key: f.suppression.justification
        for key, f in _suppressed(parse("skips.json", table, lines=False)).items()
    }
    assert why[("CKV_AWS_24", "aws_security_group.bastion")].startswith(
        "a `checkov:skip=CKV_AWS_24` comment (checkov inline suppression;"
    )
    assert why[("CKV_AWS_20", "AWS::S3::Bucket.Assets")].startswith(
        "a `checkov:skip=CKV_AWS_20` comment or a `Metadata` skip entry"
    )
    assert why[("CKV_K8S_20", "Pod.shop.web")].startswith(
        "a `checkov.io/skip` annotation for CKV_K8S_20"
    )
    assert why[("CKV_K8S_20", "Pod.shop.web")].endswith('"the entrypoint drops privileges itself"')


def test_checkov_baseline_is_baselined_not_inline(table: CheckTable) -> None:
    parsed = parse("baseline.json", table)
    (known,) = _suppressed(parsed).values()
    assert (known.rule_id, known.resource) == ("CKV_AWS_20", "aws_s3_bucket.site")
    assert known.suppression.kind is SuppressionKind.BASELINED
    assert "checkov baseline file" in known.suppression.justification
    assert known.severity is Severity.CRITICAL
    assert all(f.suppression is None for f in parsed.findings if f is not known)


def test_kubernetes_paths_of_a_directory_run_below_the_root(table: CheckTable) -> None:
    # checkov's file_abs_path says skips/skips/k8s/pod.yaml for `-d skips`; file_path is right.
    parsed = parse("skips.json", table)
    k8s = {f.location.path for f in parsed.findings if f.rule_id.startswith("CKV_K8S")}
    assert k8s == {"skips/k8s/pod.yaml"}
    assert "skips/k8s/pod.yaml" in parsed.checked_files


def test_a_check_both_failed_and_skipped_stays_open(table: CheckTable) -> None:
    check = {
        "check_id": "CKV_AWS_20",
        "check_name": "x",
        "file_abs_path": "/repo/main.tf",
        "file_line_range": [1, 3],
        "resource": "aws_s3_bucket.b",
    }
    skipped = check | {"check_result": {"result": "SKIPPED", "suppress_comment": "why"}}
    stdout = json.dumps(
        {
            "check_type": "terraform",
            "results": {"failed_checks": [check], "skipped_checks": [skipped]},
        }
    ).encode()
    (finding,) = parse_checkov_output(stdout, root="/repo", table=table).findings
    assert finding.suppression is None


# --- planning the commands (pure) -----------------------------------------------------------


def _inventory(**files: tuple[str, ...]) -> Inventory:
    return Inventory(root=Path("/repo"), **files)  # type: ignore[arg-type]


def test_plan_combines_terraform_folders_and_files_in_one_run() -> None:
    inventory = _inventory(
        terraform_files=("svc/a/infra/main.tf", "svc/b/infra/main.tf"),
        kubernetes_files=("k8s/pod.yaml",),
        dockerfiles=("Dockerfile",),
        github_workflows=(".github/workflows/ci.yml",),
        python_files=tuple(f"src/m{i}.py" for i in range(500)),
    )
    plan = plan_invocations("checkov", inventory, frozenset(), remote=frozenset())
    (run,) = plan.invocations  # one start-up, not two
    assert run.argv[1:6] == (
        "--framework",
        "terraform",
        "kubernetes",
        "dockerfile",
        "github_actions",
    )
    assert run.argv[-1] == "--directory=."
    assert run.folders == ("svc/a/infra", "svc/b/infra")
    assert run.files == (".github/workflows/ci.yml", "Dockerfile", "k8s/pod.yaml")
    assert not any(".py" in a for a in run.argv)
    assert "--soft-fail" in run.argv and "--skip-download" in run.argv
    assert plan.skipped == ()


def test_plan_passes_files_explicitly_without_terraform() -> None:
    inventory = _inventory(
        kubernetes_files=("k8s/pod.yaml",),
        dockerfiles=("Dockerfile",),
        github_workflows=(".github/workflows/ci.yml",),
        python_files=tuple(f"src/m{i}.py" for i in range(500)),
    )
    (run,) = plan_invocations("checkov", inventory, frozenset(), remote=frozenset()).invocations
    assert run.argv[1:5] == ("--framework", "kubernetes", "dockerfile", "github_actions")
    assert [a for a in run.argv if a.startswith("--file=")] == [
        "--file=.github/workflows/ci.yml",
        "--file=Dockerfile",
        "--file=k8s/pod.yaml",
    ]
    assert not any(a.startswith("--directory") or ".py" in a for a in run.argv)


def test_plan_for_a_root_terraform_folder() -> None:
    inventory = _inventory(terraform_files=("main.tf", "modules/x/main.tf"))
    (run,) = plan_invocations("checkov", inventory, frozenset(), remote=frozenset()).invocations
    assert run.argv[-1] == "--directory=."
    assert run.base == ""


def test_plan_skips_charts_and_overlays_without_their_binaries() -> None:
    inventory = _inventory(helm_charts=("charts/web",), kustomizations=("deploy/prod",))
    plan = plan_invocations("checkov", inventory, frozenset(), remote=frozenset())
    assert plan.invocations == ()
    assert plan.skipped == (
        Skip("charts/web", "Helm chart not scanned: the helm binary is not installed", "checkov"),
        Skip(
            "deploy/prod",
            "Kustomize overlay not scanned: the kustomize binary is not installed",
            "checkov",
        ),
    )


def test_plan_scans_local_charts_and_skips_remote_ones_when_helm_is_there() -> None:
    inventory = _inventory(helm_charts=("charts/api", "charts/web"))
    plan = plan_invocations(
        "checkov", inventory, frozenset({"helm"}), remote=frozenset({"charts/api"})
    )
    (run,) = plan.invocations
    assert run.argv[1:3] == ("--framework", "helm")
    assert run.folders == ("charts/web",)
    assert run.argv[-1] == "--directory=charts/web"
    (skip,) = plan.skipped
    assert skip.path == "charts/api" and "remote" in skip.reason


def test_plan_splits_long_file_lists(monkeypatch: pytest.MonkeyPatch) -> None:
    budget = 100_000
    monkeypatch.setattr("compliance.scanners.checkov.scanner.argv_budget", lambda: budget)
    names = tuple(f"manifests/{'x' * 80}/{i:05d}.yaml" for i in range(3000))
    plan = plan_invocations(
        "checkov", _inventory(kubernetes_files=names), frozenset(), remote=frozenset()
    )
    assert len(plan.invocations) > 1
    passed = [f for run in plan.invocations for f in run.files]
    assert passed == sorted(names)
    for run in plan.invocations:
        assert sum(arg_cost(a) for a in run.argv) <= budget


# --- running with a fake process runner -------------------------------------------------------


class FakeProc:
    def __init__(self, returncode: int, stdout: bytes, stderr: bytes = b"") -> None:
        self.result = (returncode, stdout, stderr)
        self.argvs: list[tuple[str, ...]] = []
        self.envs: list[dict[str, str]] = []

    def run(self, argv: Any, *, tool: str, timeout_s: float, cwd: Any = None, env: Any = None):  # type: ignore[no-untyped-def]
        self.argvs.append(tuple(argv))
        self.envs.append(dict(env or {}))
        code, out, err = self.result
        return Completed(tuple(argv), code, out, err, 0.1)


def _context(tmp_path: Path, **files: tuple[str, ...]) -> ScanContext:
    inventory = Inventory(root=tmp_path, **files)  # type: ignore[arg-type]
    settings = ScanSettings(
        policy_dir=bundled_policy_dir(), executables={"checkov": sys.executable}
    )
    return ScanContext(tmp_path, inventory, settings)


def test_run_is_offline_and_serial(tmp_path: Path) -> None:
    proc = FakeProc(0, (ASSETS / "nothing.json").read_bytes())
    ctx = _context(tmp_path, dockerfiles=("Dockerfile",))
    output = CheckovScanner().run(ctx, proc)  # type: ignore[arg-type]
    env = proc.envs[0]
    assert env["CHECKOV_PARALLELIZATION_TYPE"] == "none"
    assert env["CKV_SKIP_PACKAGE_UPDATE_CHECK"] == "true"
    assert env["BC_SKIP_MAPPING"] == "TRUE"
    assert not any("api-key" in a for a in proc.argvs[0])
    # Nothing checked on a file we passed: skipped, never clean.
    assert output.skipped == (Skip("Dockerfile", output.skipped[0].reason, "checkov"),)
    assert "no check" in output.skipped[0].reason
    assert output.version == "3.3.30"


@pytest.mark.parametrize(
    ("code", "stdout", "message"),
    [
        (2, b"", "crashed (exit code 2): boom"),
        (-9, b"", "killed by signal SIGKILL"),
        (0, b"", "printed nothing"),
        (1, b"Traceback", "not JSON"),
    ],
)
def test_run_fails_closed(tmp_path: Path, code: int, stdout: bytes, message: str) -> None:
    proc = FakeProc(code, stdout, b"boom")
    with pytest.raises(ScannerFailure, match=re.escape(message)):
        CheckovScanner().run(_context(tmp_path, dockerfiles=("Dockerfile",)), proc)  # type: ignore[arg-type]


def test_exit_1_with_a_report_is_accepted(tmp_path: Path) -> None:
    # A repository's .checkov.yaml may set hard-fail-on, which overrides --soft-fail.
    proc = FakeProc(1, (ASSETS / "workflow.json").read_bytes())
    ctx = _context(tmp_path, github_workflows=(".github/workflows/ci.yml",))
    output = CheckovScanner().run(ctx, proc)  # type: ignore[arg-type]
    assert {f.rule_id for f in output.findings} == {"CKV2_GHA_1", "CKV_GHA_2"}


def test_helm_only_repo_reports_skips_without_running(tmp_path: Path) -> None:
    proc = FakeProc(0, b"")
    output = CheckovScanner().run(_context(tmp_path, helm_charts=("charts/web",)), proc)  # type: ignore[arg-type]
    assert proc.argvs == []
    assert [s.path for s in output.skipped] == ["charts/web"]


def test_nothing_to_scan(tmp_path: Path) -> None:
    with pytest.raises(NothingToScan):
        CheckovScanner().run(_context(tmp_path, python_files=("a.py",)), FakeProc(0, b""))  # type: ignore[arg-type]


def test_missing_checkov_is_a_scanner_failure(tmp_path: Path) -> None:
    ctx = _context(tmp_path, dockerfiles=("Dockerfile",))
    settings = ScanSettings(
        policy_dir=bundled_policy_dir(), executables={"checkov": "no-such-checkov-binary"}
    )
    with pytest.raises(ScannerFailure, match="not installed"):
        CheckovScanner().run(ScanContext(tmp_path, ctx.inventory, settings), FakeProc(0, b""))  # type: ignore[arg-type]
