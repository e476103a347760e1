"""The CI templates' key properties, read from the files (no subprocess: the validators and a
run of the action's steps are in tests/integration/test_ci_templates.py)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from conftest import REPO

TEMPLATES = REPO / "ci-templates"
WORKFLOW = TEMPLATES / "github" / "compliance.yml"
CALLER = TEMPLATES / "github" / "example-caller.yml"
ACTION = TEMPLATES / "github" / "action" / "action.yml"
GITLAB = TEMPLATES / "gitlab" / "compliance.gitlab-ci.yml"
JENKINSFILE = TEMPLATES / "jenkins" / "Jenkinsfile"
TRUSTED_POLICY = TEMPLATES / "trusted_policy.py"


def _load(path: Path) -> Any:
    return yaml.safe_load(path.read_text(encoding="utf-8"))


def _steps(path: Path) -> dict[str, dict[str, Any]]:
    return {step["name"]: step for step in _load(path)["runs"]["steps"] if "name" in step}


def _on(workflow: dict[str, Any]) -> Any:
    return workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as True


def test_workflows_grant_least_privilege() -> None:
    workflow = _load(WORKFLOW)
    assert workflow["permissions"] == {}
    assert workflow["jobs"]["pull-request"]["permissions"] == {
        "contents": "read",
        "security-events": "write",
        "pull-requests": "write",
    }
    assert workflow["jobs"]["default-branch"]["permissions"] == {
        "contents": "read",
        "security-events": "write",
    }
    assert _load(CALLER)["permissions"] == {
        "contents": "read",
        "security-events": "write",
        "pull-requests": "write",
    }


def test_the_reusable_workflow_is_called_and_runs_on_the_default_branch_and_a_schedule() -> None:
    assert "workflow_call" in _on(_load(WORKFLOW))
    caller_on = _on(_load(CALLER))
    assert {"pull_request", "push", "schedule"} <= set(caller_on)
    # Labelling the pull request re-runs the check (the policy-change label).
    assert {"labeled", "unlabeled"} <= set(caller_on["pull_request"]["types"])
    default = _load(WORKFLOW)["jobs"]["default-branch"]
    assert "default_branch" in default["if"]
    script = next(s["run"] for s in default["steps"] if s.get("id") == "scan")
    assert "compliance baseline create" in script
    assert '--ledger "$LEDGER_URL"' in script
    assert "--evidence" in script


def test_actions_are_pinned_to_at_least_a_major_version() -> None:
    for path in (WORKFLOW, ACTION):
        text = path.read_text(encoding="utf-8")
        for ref in re.findall(r"uses:\s*(\S+)", text):
            assert re.search(r"@(v\d+|[0-9a-f]{40})$", ref), f"{path.name}: {ref}"


def test_the_pull_request_is_scanned_new_only_with_the_base_branchs_policy() -> None:
    scan = _steps(ACTION)["Scan (new findings only, base branch policy)"]["run"]
    assert 'compliance baseline create "$BASE_DIR/$SCAN_PATH"' in scan
    assert '--baseline "$BASELINE"' in scan
    # The config (and through it gate, waivers, residency) comes from the base checkout.
    assert 'trusted_policy.py" "$BASE_DIR"' in scan
    assert 'trusted=(--config "$trusted_config")' in scan
    assert scan.count('"${trusted[@]}"') == 2  # baseline and scan alike
    assert scan.startswith("set +e")
    base = _steps(ACTION)["Check out the base commit (trusted policy)"]["run"]
    assert 'git worktree add --detach "$base_dir" "$BASE_SHA"' in base
    assert '"$RUNNER_TEMP/compliance-base"' in base  # outside the scanned workspace
    policy = _steps(ACTION)["Detect policy changes in the pull request"]["run"]
    assert 'git diff --name-only "$BASE_SHA...HEAD"' in policy


def test_reports_are_published_even_when_the_gate_fails() -> None:
    steps = _steps(ACTION)
    for name in (
        "Write the job summary",
        "Upload SARIF to code scanning",
        "Post or update the pull request comment",
        "Upload the evidence bundle and reports",
        "Fail the check by the gate's exit code",
    ):
        assert steps[name]["if"].startswith("always()"), name
    assert steps["Upload SARIF to code scanning"]["uses"].startswith(
        "github/codeql-action/upload-sarif@"
    )
    # The whole folder: a split report (compliance.2.sarif, ...) goes up too.
    assert steps["Upload SARIF to code scanning"]["with"]["sarif_file"].endswith("/sarif")
    summary = steps["Write the job summary"]["run"]
    assert '--format markdown >> "$GITHUB_STEP_SUMMARY"' in summary
    for job in _load(WORKFLOW)["jobs"]["default-branch"]["steps"]:
        if "upload" in job.get("name", "").lower():
            assert job["if"].startswith("always()"), job["name"]


def test_one_pull_request_comment_is_edited_in_place() -> None:
    step = _steps(ACTION)["Post or update the pull request comment"]
    assert step["uses"].startswith("actions/github-script@")
    script = step["with"]["script"]
    assert "const marker = '<!-- compliance -->';" in script
    assert "c.body.includes(marker)" in script
    assert "updateComment" in script
    assert "createComment" in script
    assert script.index("updateComment") < script.index("createComment")


def test_the_check_fails_with_the_scans_exit_code() -> None:
    final = _steps(ACTION)["Fail the check by the gate's exit code"]
    assert final["env"]["CODE"] == "${{ steps.scan.outputs.exit-code }}"
    assert 'exit "$code"' in final["run"]
    assert 'code="${CODE:-5}"' in final["run"]  # no exit code at all is an internal error
    scan = _steps(ACTION)["Scan (new findings only, base branch policy)"]["run"]
    assert 'echo "exit-code=$code" >> "$GITHUB_OUTPUT"' in scan
    assert "the gate failed (exit 1)" in scan
    assert "a scanner error (exit 4)" in scan
    default = next(
        s
        for s in _load(WORKFLOW)["jobs"]["default-branch"]["steps"]
        if s.get("name") == final["name"]
    )
    assert 'exit "$code"' in default["run"]


def test_gitlab_produces_the_security_and_test_reports_in_merge_request_pipelines() -> None:
    gitlab = _load(GITLAB)
    reports = gitlab[".compliance-base"]["artifacts"]["reports"]
    assert reports == {
        "sast": "compliance-reports/gl-sast-report.json",
        "dependency_scanning": "compliance-reports/gl-dependency-scanning-report.json",
        "junit": "compliance-reports/junit.xml",
    }
    assert gitlab[".compliance-base"]["artifacts"]["when"] == "always"
    mr = gitlab["compliance-merge-request"]
    assert mr["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    script = "\n".join(mr["script"])
    for option in ("gitlab-sast=", "gitlab-dependency-scanning=", "junit=", "html="):
        assert option in script
    assert '--baseline "$COMPLIANCE_OUT/baseline.json"' in script
    assert 'trusted="--config $trusted_config"' in script
    assert 'exit "$code"' in script
    default = "\n".join(gitlab["compliance-default-branch"]["script"])
    assert "compliance baseline create" in default
    assert "--ledger" in default


def test_jenkins_publishes_junit_and_the_html_report() -> None:
    text = JENKINSFILE.read_text(encoding="utf-8")
    assert "stage('Compliance')" in text
    assert "junit testResults: 'compliance-reports/junit.xml'" in text
    assert "publishHTML(" in text
    assert "reportFiles: 'report.html'" in text
    assert "archiveArtifacts artifacts: 'compliance-reports/**'" in text
    assert "returnStatus: true" in text
    assert "post {" in text
    assert "always {" in text
    assert 'error("compliance:' in text
    assert "--baseline" in text
    assert "env.CHANGE_TARGET" in text


def test_gitlab_and_jenkins_carry_the_same_trusted_policy_helper() -> None:
    helper = TRUSTED_POLICY.read_text(encoding="utf-8")
    mr_script = "\n".join(_load(GITLAB)["compliance-merge-request"]["script"])
    embedded = mr_script.split("<<'PY'\n", 1)[1].split("\nPY\n", 1)[0] + "\n"
    assert embedded == helper
    jenkins = JENKINSFILE.read_text(encoding="utf-8")
    groovy = jenkins.split("text: '''", 1)[1].split("'''", 1)[0]
    assert groovy.replace("\\\\", "\\") == helper
