"""Changed-files mode: the change sets read from real git repositories (marked `integration`:
they start git), the given files, and the plan for every rule."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from compliance import changes as changes_module
from compliance.changes import (
    ChangePlan,
    ChangeSet,
    changes_since,
    given_files,
    plan_changes,
    staged_changes,
)
from compliance.errors import ExitCode, UsageError
from compliance.inventory import build_inventory
from compliance.scanners.process import ProcessRunner

ALL = ("bandit", "semgrep", "pip-audit", "checkov", "residency", "threatmodel")
GIT_ENV = {
    "GIT_AUTHOR_NAME": "t",
    "GIT_AUTHOR_EMAIL": "t@example.com",
    "GIT_COMMITTER_NAME": "t",
    "GIT_COMMITTER_EMAIL": "t@example.com",
    "GIT_CONFIG_NOSYSTEM": "1",
}


def write(root: Path, rel: str, content: str = "x = 1\n") -> Path:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(content, encoding="utf-8")
    return path


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args],
        cwd=repo,
        env={**os.environ, **GIT_ENV},
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()


def repository(root: Path, files: dict[str, str]) -> Path:
    """A repository on branch main with `files` in its first commit."""
    root.mkdir(parents=True, exist_ok=True)
    git(root, "init", "-q", "-b", "main")
    for rel, text in files.items():
        write(root, rel, text)
    git(root, "add", "-A")
    git(root, "commit", "-qm", "base")
    return root


@pytest.fixture(autouse=True)
def _no_parent_repository(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # git must never find a repository above the test's folder.
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path))


# --- staged changes ----------------------------------------------------------------------------


@pytest.mark.integration
def test_staged_lists_added_modified_and_deleted_files_only(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo", {"a.py": "a = 1\n", "b.py": "b = 1\n", "c.py": "c\n"})
    write(root, "a.py", "a = 2\n")
    git(root, "rm", "-q", "b.py")
    write(root, "d.py")
    git(root, "add", "a.py", "d.py")
    write(root, "c.py", "not staged\n")
    write(root, "untracked.py")
    found = staged_changes(root, ProcessRunner())
    assert found == ChangeSet(files=("a.py", "d.py"), deleted=("b.py",), source="staged changes")


@pytest.mark.integration
def test_staged_names_with_spaces_and_a_newline_are_kept_whole(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo", {"README.md": "hi\n"})
    write(root, "dir with space/my file.py")
    write(root, "odd\nname.py")
    write(root, "caf\u00e9.py")
    git(root, "add", "-A")
    found = staged_changes(root, ProcessRunner())
    assert found.files == ("caf\u00e9.py", "dir with space/my file.py", "odd\nname.py")
    assert found.deleted == ()


@pytest.mark.integration
def test_staged_paths_are_relative_to_a_root_below_the_top(tmp_path: Path) -> None:
    top = repository(tmp_path / "repo", {"services/api/old.py": "x\n", "README.md": "hi\n"})
    write(top, "services/api/app.py")
    write(top, "services/api-v2/app.py")  # shares the prefix's text, not its folder
    write(top, "other/x.py")
    git(top, "rm", "-q", "services/api/old.py")
    git(top, "add", "-A")
    found = staged_changes(top / "services" / "api", ProcessRunner())
    assert found.files == ("app.py",)
    assert found.deleted == ("old.py",)


@pytest.mark.integration
def test_staged_works_before_the_first_commit(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    write(root, "app.py")
    git(root, "add", "app.py")
    assert staged_changes(root, ProcessRunner()).files == ("app.py",)


@pytest.mark.integration
def test_not_a_git_repository_is_a_usage_error(tmp_path: Path) -> None:
    root = tmp_path / "plain"
    root.mkdir()
    with pytest.raises(UsageError, match="not in a git repository") as caught:
        staged_changes(root, ProcessRunner())
    assert caught.value.exit_code == ExitCode.USAGE
    assert caught.value.hint is not None
    assert "compliance scan FILE" in caught.value.hint
    with pytest.raises(UsageError, match="not in a git repository"):
        changes_since(root, "main", ProcessRunner())


def test_missing_git_is_a_usage_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(changes_module, "find_executable", lambda name: None)
    with pytest.raises(UsageError, match="needs git") as caught:
        staged_changes(tmp_path, ProcessRunner())
    assert caught.value.hint is not None


# --- changes since a ref -----------------------------------------------------------------------


@pytest.mark.integration
def test_changes_since_counts_from_the_merge_base_and_includes_the_work_tree(
    tmp_path: Path,
) -> None:
    root = repository(
        tmp_path / "repo",
        {
            ".gitignore": "ignored.py\n",
            "a.py": "a\n",
            "b.py": "b\n",
            "c.py": "c\n",
            "gone.py": "g\n",
            "same.py": "s\n",
        },
    )
    base = git(root, "rev-parse", "HEAD")
    git(root, "checkout", "-qb", "feature")
    write(root, "a.py", "committed on the branch\n")
    git(root, "rm", "-q", "gone.py")
    git(root, "commit", "-qam", "feature")
    git(root, "checkout", "-q", "main")
    write(root, "b.py", "main moved on\n")
    git(root, "commit", "-qam", "main")
    git(root, "checkout", "-q", "feature")
    write(root, "c.py", "not committed\n")
    write(root, "new dir/new.py", "untracked\n")
    write(root, "ignored.py", "ignored\n")

    found = changes_since(root, "main", ProcessRunner())

    # b.py changed on main after the branch point: not this branch's change.
    assert found.files == ("a.py", "c.py", "new dir/new.py")
    assert found.deleted == ("gone.py",)
    assert found.source == f"changes since main (merge base {base[:7]})"


@pytest.mark.integration
def test_changes_since_below_the_top_keeps_only_the_root(tmp_path: Path) -> None:
    top = repository(tmp_path / "repo", {"svc/a.py": "a\n", "lib/b.py": "b\n"})
    write(top, "svc/a.py", "changed\n")
    write(top, "lib/b.py", "changed\n")
    write(top, "svc/new.py", "untracked\n")
    write(top, "lib/new.py", "untracked\n")
    found = changes_since(top / "svc", "HEAD", ProcessRunner())
    assert found.files == ("a.py", "new.py")


@pytest.mark.integration
def test_an_unknown_ref_is_named(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo", {"a.py": "a\n"})
    with pytest.raises(UsageError, match="unknown git ref 'origin/nope'") as caught:
        changes_since(root, "origin/nope", ProcessRunner())
    assert caught.value.hint is not None
    assert "fetch" in caught.value.hint


@pytest.mark.integration
def test_unrelated_histories_have_no_merge_base(tmp_path: Path) -> None:
    root = repository(tmp_path / "repo", {"a.py": "a\n"})
    git(root, "checkout", "-q", "--orphan", "other")
    git(root, "commit", "-qm", "unrelated")
    with pytest.raises(UsageError, match="no common ancestor"):
        changes_since(root, "main", ProcessRunner())


@pytest.mark.parametrize("ref", ["-x", "--output=/tmp/owned", ""])
def test_a_ref_that_git_could_read_as_an_option_is_refused(tmp_path: Path, ref: str) -> None:
    # Refused before git runs: this unit test would fail if a subprocess started.
    with pytest.raises(UsageError, match="invalid git ref"):
        changes_since(tmp_path, ref, ProcessRunner())


# --- given files -------------------------------------------------------------------------------


def test_given_files_relative_to_the_current_folder_or_absolute(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = tmp_path / "repo"
    write(root, "svc/app.py")
    write(root, "README.md", "hi\n")
    monkeypatch.chdir(root / "svc")
    found = given_files(root, [Path("app.py"), root / "README.md", Path("../svc/./app.py")])
    assert found == ChangeSet(files=("README.md", "svc/app.py"), deleted=(), source="2 given files")


def test_a_missing_given_file_counts_as_deleted(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root, "app.py")
    found = given_files(root, [root / "app.py", root / "gone.py"])
    assert found.files == ("app.py",)
    assert found.deleted == ("gone.py",)
    assert given_files(root, [root / "gone.py"]).source == "1 given file"


def test_a_given_file_outside_the_root_is_a_usage_error(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root, "app.py")
    outside = write(tmp_path, "elsewhere.py")
    with pytest.raises(UsageError, match=r"elsewhere\.py is outside the repository root"):
        given_files(root, [root / "app.py", outside])


def test_a_given_folder_is_a_usage_error(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    write(root, "svc/app.py")
    with pytest.raises(UsageError, match="is a folder") as caught:
        given_files(root, [root / "svc"])
    assert caught.value.hint == "pass files, or the folder as the repository root"
    with pytest.raises(UsageError, match="is a folder"):
        given_files(root, [root])


def test_a_given_link_inside_the_root_is_a_file_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "repo"
    target = write(tmp_path, "elsewhere.py")
    root.mkdir()
    (root / "link.py").symlink_to(target)
    assert given_files(root, [root / "link.py"]).files == ("link.py",)


# --- the plan ----------------------------------------------------------------------------------


def plan(
    root: Path,
    files: tuple[str, ...] = (),
    deleted: tuple[str, ...] = (),
    *,
    available: tuple[str, ...] = ALL,
    policy_files: tuple[str, ...] = (),
    config_file: str | None = None,
) -> ChangePlan:
    return plan_changes(
        ChangeSet(files, deleted, "test"),
        build_inventory(root),
        available=available,
        policy_files=policy_files,
        config_file=config_file,
        threatmodel_dir="threatmodels",
    )


def test_a_python_change_runs_the_code_scanners_on_the_changed_files(tmp_path: Path) -> None:
    write(tmp_path, "svc/app.py")
    write(tmp_path, "svc/other.py")
    write(tmp_path, "svc/more.py")
    found = plan(tmp_path, ("svc/app.py", "svc/more.py"))
    assert found == ChangePlan(
        scanners=("bandit", "semgrep", "residency"),
        files=("svc/app.py", "svc/more.py"),
        full_scan=(),
        reasons={
            "bandit": "2 Python files changed",
            "semgrep": "2 Python files changed",
            "residency": "2 Python files changed",
        },
    )
    assert not found.is_full


def test_a_dependency_change_runs_pip_audit(tmp_path: Path) -> None:
    write(tmp_path, "svc/requirements.txt", "requests==2.31.0\n")
    write(tmp_path, "svc/pyproject.toml", '[project]\nname = "svc"\n')
    found = plan(tmp_path, ("svc/pyproject.toml", "svc/requirements.txt"))
    assert found.scanners == ("pip-audit",)
    assert found.reasons == {"pip-audit": "2 dependency files changed"}


INFRASTRUCTURE = {
    "infra/main.tf": 'resource "aws_s3_bucket" "b" {}\n',
    "infra/stack.yaml": "AWSTemplateFormatVersion: '2010-09-09'\n",
    "k8s/deploy.yaml": "apiVersion: apps/v1\nkind: Deployment\n",
    "svc/Dockerfile": "FROM python:3.12\n",
    ".github/workflows/ci.yml": "on: push\n",
    "charts/api/templates/_helpers.tpl": '{{- define "x" -}}{{- end -}}\n',
    "overlays/prod/patch.yaml": "replicas: 3\n",
}


@pytest.mark.parametrize("changed", sorted(INFRASTRUCTURE))
def test_an_infrastructure_change_runs_checkov_and_residency(tmp_path: Path, changed: str) -> None:
    for rel, text in INFRASTRUCTURE.items():
        write(tmp_path, rel, text)
    write(tmp_path, "charts/api/Chart.yaml", "apiVersion: v2\nname: api\n")
    write(tmp_path, "overlays/prod/kustomization.yaml", "resources: []\n")
    found = plan(tmp_path, (changed,))
    assert found.scanners == ("checkov", "residency")
    assert found.reasons == {
        "checkov": "1 infrastructure file changed",
        "residency": "1 infrastructure file changed",
    }


def test_a_non_yaml_file_beside_a_kustomization_is_not_kustomizes(tmp_path: Path) -> None:
    write(tmp_path, "kustomization.yaml", "resources: []\n")
    write(tmp_path, "notes.txt", "hello\n")
    assert plan(tmp_path, ("notes.txt",)).scanners == ()


def test_mixed_changes_give_each_scanner_its_reasons_in_registry_order(tmp_path: Path) -> None:
    write(tmp_path, "app.py")
    write(tmp_path, "infra/main.tf", 'resource "aws_s3_bucket" "b" {}\n')
    write(tmp_path, "requirements.txt", "requests==2.31.0\n")
    found = plan(tmp_path, ("app.py", "infra/main.tf", "requirements.txt"))
    assert found.scanners == ("bandit", "semgrep", "pip-audit", "checkov", "residency")
    assert found.reasons["residency"] == "1 Python file and 1 infrastructure file changed"
    assert found.files == ("app.py", "infra/main.tf", "requirements.txt")


def test_only_available_scanners_are_chosen_and_never_threatmodel(tmp_path: Path) -> None:
    write(tmp_path, "app.py")
    write(tmp_path, "Dockerfile", "FROM python:3.12\n")
    found = plan(tmp_path, ("Dockerfile", "app.py"), available=("bandit", "checkov", "threatmodel"))
    assert found.scanners == ("bandit", "checkov")
    assert set(found.reasons) == {"bandit", "checkov"}


def test_files_no_scanner_reads_need_no_scanner(tmp_path: Path) -> None:
    write(tmp_path, "README.md", "# hi\n")
    (tmp_path / "logo.png").write_bytes(b"\x89PNG\r\n\x1a\n\x00")
    found = plan(tmp_path, ("README.md", "logo.png"))
    assert found == ChangePlan(
        scanners=(), files=("README.md", "logo.png"), full_scan=(), reasons={}
    )
    assert plan(tmp_path).scanners == ()  # nothing changed at all


def test_deleted_code_and_manifests_are_simply_not_scanned(tmp_path: Path) -> None:
    write(tmp_path, "app.py")
    found = plan(tmp_path, ("app.py",), ("old.py", "Dockerfile", "k8s/old.yaml"))
    assert found.scanners == ("bandit", "semgrep", "residency")
    assert not found.is_full


def test_a_threat_model_change_forces_a_full_scan(tmp_path: Path) -> None:
    write(tmp_path, "threatmodels/api.yaml", "service: api\n")
    write(tmp_path, "app.py")
    found = plan(tmp_path, ("app.py", "threatmodels/api.yaml"))
    assert found.is_full
    assert found.scanners == ALL
    assert found.files == ()
    assert found.full_scan == (
        "threatmodels/api.yaml is a threat model: the threatmodel scanner checks whole services",
    )
    assert found.reasons == dict.fromkeys(ALL, f"full scan: {found.full_scan[0]}")
    deleted = plan(tmp_path, (), ("threatmodels/old.yaml",))
    assert deleted.full_scan == (
        "threatmodels/old.yaml (deleted) was a threat model: "
        "the threatmodel scanner checks whole services",
    )


CONFIG_PATHS = [
    "compliance.yaml",
    "compliance.yml",
    "policies/gate.yaml",
    "policies/residency.yaml",
    "controls/soc2/cc6-logical-access.yaml",
    "CODEOWNERS",
    ".github/CODEOWNERS",
    "docs/CODEOWNERS",
    ".gitlab/CODEOWNERS",
    "catalog-info.yaml",
    "services/api/catalog-info.yml",
    ".compliance/baseline.json",
    ".checkov.yaml",
]


@pytest.mark.parametrize("changed", CONFIG_PATHS)
def test_a_policy_or_config_change_forces_a_full_scan(tmp_path: Path, changed: str) -> None:
    write(tmp_path, changed, "x: 1\n")
    write(tmp_path, "app.py")
    found = plan(tmp_path, ("app.py", changed), available=("bandit", "checkov"))
    assert found.scanners == ("bandit", "checkov")
    assert found.files == ()
    assert len(found.full_scan) == 1
    assert found.full_scan[0].startswith(f"{changed} is ")


@pytest.mark.parametrize("changed", CONFIG_PATHS)
def test_a_deleted_policy_or_config_file_forces_a_full_scan(tmp_path: Path, changed: str) -> None:
    found = plan(tmp_path, (), (changed,))
    assert found.is_full
    assert found.full_scan[0].startswith(f"{changed} (deleted) was ")


def test_the_named_policy_and_config_files_force_a_full_scan(tmp_path: Path) -> None:
    write(tmp_path, "security/gate.yaml", "version: 1\n")
    write(tmp_path, "ci/compliance.yaml", "version: 1\n")
    found = plan(
        tmp_path,
        ("ci/compliance.yaml", "security/gate.yaml"),
        policy_files=(str(tmp_path / "security" / "gate.yaml"),),
        config_file="ci/compliance.yaml",
    )
    assert found.full_scan == (
        "ci/compliance.yaml is the compliance config",
        "security/gate.yaml is a policy file",
    )
    assert found.reasons["bandit"] == (
        "full scan: ci/compliance.yaml is the compliance config (+1 more)"
    )


def test_lookalikes_of_policy_files_do_not_force_a_full_scan(tmp_path: Path) -> None:
    write(tmp_path, "services/api/policies/bucket.json", "{}\n")
    write(tmp_path, "services/api/compliance.yaml", "x: 1\n")
    write(tmp_path, ".compliance/ledger.sqlite", "db\n")
    write(tmp_path, "policies.md", "# policies\n")
    changed = (
        ".compliance/ledger.sqlite",
        "policies.md",
        "services/api/compliance.yaml",
        "services/api/policies/bucket.json",
    )
    assert not plan(tmp_path, changed).is_full


def test_a_pyproject_with_a_compliance_table_forces_a_full_scan(tmp_path: Path) -> None:
    write(tmp_path, "pyproject.toml", '[project]\nname = "x"\n')
    write(tmp_path, "svc/pyproject.toml", '[project]\nname = "svc"\n\n[tool.compliance]\n')
    write(tmp_path, "broken/pyproject.toml", "[project\n")
    assert plan(tmp_path, ("pyproject.toml",)).scanners == ("pip-audit",)
    assert plan(tmp_path, ("broken/pyproject.toml",)).scanners == ("pip-audit",)
    found = plan(tmp_path, ("pyproject.toml", "svc/pyproject.toml"))
    assert found.full_scan == (
        "svc/pyproject.toml is compliance config: it has a [tool.compliance] table",
    )


@pytest.mark.parametrize("changed", ["infra/prod.tfvars", "infra/x.auto.tfvars.json"])
def test_terraform_variables_force_a_full_scan(tmp_path: Path, changed: str) -> None:
    write(tmp_path, "infra/main.tf", 'variable "region" {}\n')
    write(tmp_path, changed, 'region = "eu-west-1"\n')
    found = plan(tmp_path, (changed,))
    assert found.full_scan == (
        f"{changed} is a Terraform variables file: it applies to its whole folder",
    )


MODULE_CALLS = """\
module "network" {
  source = "../../../modules/network"
  cidr   = "10.0.0.0/16"
}

module "vpc" {
  source  = "terraform-aws-modules/vpc/aws"
  version = "5.0.0"
}

module "remote" {
  source = "git::https://example.com/modules.git//dns?ref=v1"
}

resource "null_resource" "copy" {
  provisioner "file" {
    source      = "./files/config"
    destination = "/etc/config"
  }
}
"""


def terraform_repository(root: Path) -> None:
    write(root, "modules/network/main.tf", 'resource "aws_vpc" "v" {}\n')
    write(root, "modules/dns/main.tf", 'resource "aws_route53_zone" "z" {}\n')
    write(root, "modules/unused/main.tf", 'resource "aws_vpc" "v" {}\n')
    write(root, "services/api/infra/main.tf", MODULE_CALLS)
    write(root, "services/api/infra/files/config/x.tf", "# not a module\n")
    write(root, "services/web/main.tf", 'module "dns" { source = "../../modules/dns" }\n')
    write(root, "main.tf", 'module "net" {\nsource="./modules/network"\n}\n')
    write(
        root,
        "stacks/edge/main.tf.json",
        '{"module": {"edge": {"source": "../../modules/unused/../dns"}}}',
    )


def test_a_change_to_a_local_terraform_module_forces_a_full_scan(tmp_path: Path) -> None:
    terraform_repository(tmp_path)
    found = plan(tmp_path, ("modules/network/main.tf",))
    assert found.full_scan == (
        "modules/network/main.tf is a Terraform module used by the root folder, services/api/infra",
    )
    one_line_and_json = plan(tmp_path, ("modules/dns/main.tf",))
    assert one_line_and_json.full_scan == (
        "modules/dns/main.tf is a Terraform module used by services/web, stacks/edge",
    )


def test_terraform_that_no_folder_calls_is_scanned_on_its_own(tmp_path: Path) -> None:
    terraform_repository(tmp_path)
    for changed in (
        "modules/unused/main.tf",  # only named on the way to another folder
        "services/api/infra/files/config/x.tf",  # a provisioner's source, not a module's
        "services/api/infra/main.tf",  # a caller: checkov resolves its modules
    ):
        found = plan(tmp_path, (changed,))
        assert found.scanners == ("checkov", "residency"), changed
        assert not found.is_full


def test_a_deleted_terraform_file_forces_a_full_scan(tmp_path: Path) -> None:
    terraform_repository(tmp_path)
    found = plan(tmp_path, (), ("infra/old.tf", "modules/network/gone.tf"))
    assert found.full_scan == (
        "infra/old.tf (deleted) was a Terraform file: other files of its folder may refer to it",
        "modules/network/gone.tf (deleted) was a Terraform module used by "
        "the root folder, services/api/infra",
    )


def test_an_unreadable_terraform_file_is_tolerated(tmp_path: Path) -> None:
    terraform_repository(tmp_path)
    inventory = build_inventory(tmp_path)
    (tmp_path / "main.tf").unlink()  # vanished after the walk
    found = plan_changes(
        ChangeSet(("modules/network/main.tf",), (), "test"),
        inventory,
        available=ALL,
        policy_files=(),
        config_file=None,
        threatmodel_dir="threatmodels",
    )
    assert found.full_scan == (
        "modules/network/main.tf is a Terraform module used by services/api/infra",
    )
