"""The CI templates in ci-templates/, run through real processes: the GitHub workflows and
action and the GitLab file against their published JSON schemas (the copies check-jsonschema
ships, so offline), and the action's own shell steps on a small git repository with a base
branch and a pull request, with the real bandit."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from conftest import REPO

pytestmark = pytest.mark.integration

TEMPLATES = REPO / "ci-templates"
ACTION = TEMPLATES / "github" / "action" / "action.yml"

SCHEMAS = [
    ("vendor.github-workflows", TEMPLATES / "github" / "compliance.yml"),
    ("vendor.github-workflows", TEMPLATES / "github" / "example-caller.yml"),
    ("vendor.github-actions", ACTION),
    ("vendor.gitlab-ci", TEMPLATES / "gitlab" / "compliance.gitlab-ci.yml"),
]

#: Any attempt to fetch something goes to a closed port and fails.
NO_NETWORK = {
    "HTTP_PROXY": "http://127.0.0.1:9",
    "HTTPS_PROXY": "http://127.0.0.1:9",
    "http_proxy": "http://127.0.0.1:9",
    "https_proxy": "http://127.0.0.1:9",
    "NO_PROXY": "",
    "no_proxy": "",
}


@pytest.mark.parametrize(("schema", "path"), SCHEMAS, ids=[p.name for _, p in SCHEMAS])
def test_template_matches_its_published_schema_offline(schema: str, path: Path) -> None:
    run = subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, **NO_NETWORK},
        check=False,
        timeout=120,
    )
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ok -- validation done" in run.stdout


def test_the_schema_check_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yml"
    broken.write_text("on: push\njobs:\n  scan:\n    runs-on: ubuntu-latest\n    stepz: []\n")
    run = subprocess.run(
        [
            sys.executable,
            "-m",
            "check_jsonschema",
            "--builtin-schema",
            "vendor.github-workflows",
            str(broken),
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **NO_NETWORK},
        check=False,
        timeout=120,
    )
    assert run.returncode == 1, run.stdout + run.stderr


# --- the composite action's shell steps, on a real repository -------------------------------

BASE_APP = "import subprocess\n\n\ndef run(cmd):\n    return subprocess.call(cmd, shell=True)\n"
NEW_HIGH = "import subprocess\n\n\ndef other(cmd):\n    return subprocess.Popen(cmd, shell=True)\n"


def _git(repo: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.com",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.com",
    }
    return subprocess.run(
        ["git", *args], cwd=repo, env=env, capture_output=True, text=True, check=True
    ).stdout.strip()


def _repository(tmp_path: Path, pr_files: dict[str, str]) -> tuple[Path, str]:
    """A repository whose base commit has one known high finding and a gate at `high`
    (bandit only, for speed), and a pull request commit adding `pr_files`."""
    repo = tmp_path / "repo"
    (repo / "policies").mkdir(parents=True)
    (repo / "compliance.yaml").write_text("version: 1\nscan:\n  scanners: [bandit]\n")
    (repo / "policies" / "gate.yaml").write_text("version: 1\nfail_on: high\n")
    (repo / "app.py").write_text(BASE_APP)
    _git(repo, "init", "-q", "-b", "main")
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "base")
    base = _git(repo, "rev-parse", "HEAD")
    _git(repo, "checkout", "-qb", "pr")
    for name, text in pr_files.items():
        (repo / name).write_text(text)
    _git(repo, "add", "-A")
    _git(repo, "commit", "-qm", "pull request")
    return repo, base


def _run_action(repo: Path, base: str, tmp_path: Path, *, labels: str = "") -> dict[str, Any]:
    """Run the action's shell steps in order, as the runner would (bash -e -o pipefail),
    with the inputs' defaults; return the step outputs and the final step's exit code."""
    action = yaml.safe_load(ACTION.read_text())
    inputs = {name: spec.get("default", "") for name, spec in action["inputs"].items()}
    steps = {step.get("id") or step["name"]: step for step in action["runs"]["steps"]}
    runner_temp = tmp_path / "runner"
    runner_temp.mkdir(parents=True)
    outputs_file = tmp_path / "github_output"
    outputs_file.touch()
    summary = tmp_path / "step_summary"
    env = {
        **os.environ,
        "RUNNER_TEMP": str(runner_temp),
        "GITHUB_OUTPUT": str(outputs_file),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_ACTION_PATH": str(ACTION.parent),
    }
    step_env = {
        "base": {"BASE_SHA": base},
        "policy": {"BASE_SHA": base, "POLICY_PATHS": inputs["policy-paths"]},
        "scan": {
            "SCAN_PATH": inputs["path"],
            "BASE_DIR": str(runner_temp / "compliance-base"),
            "BASELINE": "",
            "SIGNING_KEY": "",
            "LINK_BASE": "https://github.example/acme/repo/blob/HEAD/",
        },
    }
    runs: dict[str, subprocess.CompletedProcess[str]] = {}
    for step_id in ("base", "policy", "scan"):
        runs[step_id] = subprocess.run(
            ["bash", "-e", "-o", "pipefail", "-c", steps[step_id]["run"]],
            cwd=repo,
            env={**env, **step_env[step_id]},
            capture_output=True,
            text=True,
            check=False,
            timeout=600,
        )
        assert runs[step_id].returncode == 0, runs[step_id].stdout + runs[step_id].stderr
    outputs = dict(
        line.split("=", 1) for line in outputs_file.read_text().splitlines() if "=" in line
    )
    summary_step = next(s for s in action["runs"]["steps"] if s["name"] == "Write the job summary")
    summarised = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", summary_step["run"]],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert summarised.returncode == 0, summarised.stderr
    final_step = next(
        s for s in action["runs"]["steps"] if s["name"] == "Fail the check by the gate's exit code"
    )
    final = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", final_step["run"]],
        cwd=repo,
        env={
            **env,
            "CODE": outputs["exit-code"],
            "POLICY_CHANGED": outputs["changed"],
            "POLICY_CHANGE": inputs["policy-change"],
            "APPROVED": labels,
            "APPROVE_LABEL": inputs["approve-label"],
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return {
        "outputs": outputs,
        "final": final,
        "scan_log": runs["scan"].stdout + runs["scan"].stderr,
        "out": runner_temp / "compliance",
        "summary": summary.read_text() if summary.exists() else "",
    }


def test_a_new_finding_fails_with_the_base_branch_gate_not_the_prs(tmp_path: Path) -> None:
    # The pull request adds a high finding and lowers its own gate to `critical`.
    repo, base = _repository(
        tmp_path, {"new.py": NEW_HIGH, "policies/gate.yaml": "version: 1\nfail_on: critical\n"}
    )
    ran = _run_action(repo, base, tmp_path)

    assert ran["outputs"]["exit-code"] == "1", ran["scan_log"]
    assert ran["outputs"]["changed"] == "true"
    assert ran["final"].returncode == 1
    assert "the gate failed (exit 1)" in ran["scan_log"]
    # The gate that decided is the base checkout's, and only the new finding counts.
    assert "compliance-base/policies/gate.yaml` `fail_on`" in ran["summary"]
    assert "new.py:5" in ran["summary"]
    assert "app.py:5" not in ran["summary"]
    assert "changes the compliance policy" in ran["summary"]
    out: Path = ran["out"]
    assert (out / "sarif" / "compliance.sarif").is_file()
    assert (out / "summary.md").is_file()
    assert (out / "evidence" / "manifest.json").is_file()


def test_old_findings_pass_in_new_only_mode(tmp_path: Path) -> None:
    repo, base = _repository(tmp_path, {"README.md": "docs only\n"})
    ran = _run_action(repo, base, tmp_path)

    assert ran["outputs"]["exit-code"] == "0", ran["scan_log"]
    assert ran["outputs"]["changed"] == "false"
    assert ran["final"].returncode == 0, ran["final"].stdout + ran["final"].stderr
    assert "Baselined" in ran["summary"]


def test_a_policy_change_fails_until_a_maintainer_labels_it(tmp_path: Path) -> None:
    repo, base = _repository(
        tmp_path, {"policies/waivers.yaml": "version: 1\nwaivers: []\n", "README.md": "x\n"}
    )
    ran = _run_action(repo, base, tmp_path)
    assert ran["outputs"]["exit-code"] == "0", ran["scan_log"]
    assert ran["outputs"]["changed"] == "true"
    assert ran["final"].returncode == 1
    assert "compliance-policy-reviewed" in ran["final"].stdout

    labelled = _run_action(repo, base, tmp_path / "again", labels="true")
    assert labelled["final"].returncode == 0


def test_a_pull_request_cannot_waive_its_own_finding(tmp_path: Path) -> None:
    # The base has no waivers file; the pull request adds one that waives its new finding.
    expires = (date.today() + timedelta(days=60)).isoformat()
    waivers = (
        "version: 1\nwaivers:\n  - id: W-0001\n    rule: B602\n    path: new.py\n"
        "    reason: this is my own finding\n"
        "    owner: a@example.com\n    approver: b@example.com\n"
        f"    expires: {expires}\n"
    )
    repo, base = _repository(tmp_path, {"new.py": NEW_HIGH, "policies/waivers.yaml": waivers})
    ran = _run_action(repo, base, tmp_path / "action")
    assert ran["outputs"]["exit-code"] == "1", ran["scan_log"]
    assert ran["outputs"]["changed"] == "true"
    assert ran["final"].returncode == 1

    # The waiver itself is valid: with the pull request's own policy the gate would pass.
    baseline = str(ran["out"] / "baseline.json")
    own = subprocess.run(
        [sys.executable, "-m", "compliance", "scan", ".", "-q", "--baseline", baseline],
        cwd=repo,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert own.returncode == 0, own.stdout + own.stderr


def test_the_gitlab_merge_request_job_uses_the_target_branchs_policy(tmp_path: Path) -> None:
    repo, base = _repository(
        tmp_path, {"new.py": NEW_HIGH, "policies/gate.yaml": "version: 1\nfail_on: critical\n"}
    )
    _git(repo, "remote", "add", "origin", str(repo))  # `git fetch origin` works offline
    gitlab = yaml.safe_load((TEMPLATES / "gitlab" / "compliance.gitlab-ci.yml").read_text())
    job = gitlab["compliance-merge-request"]
    variables = {**gitlab["variables"], **gitlab[".compliance-base"]["variables"]}
    (repo / variables["COMPLIANCE_OUT"]).mkdir()
    run = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", "\n".join(job["script"])],
        cwd=repo,
        env={
            **os.environ,
            **{k: str(v) for k, v in variables.items()},
            "COMPLIANCE_INSTALL": "unused",
            "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
            "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
            "CI_PROJECT_URL": "https://gitlab.example/acme/repo",
            "CI_COMMIT_SHA": _git(repo, "rev-parse", "HEAD"),
        },
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    log = run.stdout + run.stderr
    assert run.returncode == 1, log
    assert "the gate failed (exit 1)" in log
    assert "this merge request changes the policy" in log
    reports = repo / variables["COMPLIANCE_OUT"]
    for name in ("gl-sast-report.json", "gl-dependency-scanning-report.json", "junit.xml"):
        assert (reports / name).is_file(), name
    sast = json.loads((reports / "gl-sast-report.json").read_text())
    assert {v["location"]["file"] for v in sast["vulnerabilities"]} >= {"new.py"}
