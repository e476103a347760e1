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


def _job_step(job: dict[str, Any], step_id: str) -> dict[str, Any]:
    return next(step for step in job["steps"] if step.get("id") == step_id)


def test_workflows_grant_least_privilege() -> None:
    workflow = _load(WORKFLOW)
    assert workflow["permissions"] == {}
    assert workflow["jobs"]["shard-matrix"]["permissions"] == {}
    assert workflow["jobs"]["shard"]["permissions"] == {"contents": "read"}
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
    assert scan.count('"${trusted[@]}"') == 3  # baseline, shard and scan (or merge) alike
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


# --- sharding -----------------------------------------------------------------------------


def test_sharding_is_off_by_default_and_one_job_scans_then() -> None:
    workflow = _load(WORKFLOW)
    shards = _on(workflow)["workflow_call"]["inputs"]["shards"]
    assert shards["type"] == "number"
    assert shards["default"] == 1
    jobs = workflow["jobs"]
    # The shard jobs run only with shards != 1 (the matrix job rejects 0 and non-numbers) ...
    assert jobs["shard-matrix"]["if"] == (
        "github.event_name == 'pull_request' && inputs.shards != 1"
    )
    assert jobs["shard"]["needs"] == "shard-matrix"
    # ... and the pull-request job runs when they are skipped (shards == 1) as before.
    pull_request = jobs["pull-request"]
    assert pull_request["needs"] == "shard"
    condition = " ".join(pull_request["if"].split())
    assert condition.startswith("!cancelled() && github.event_name == 'pull_request' &&")
    assert "inputs.shards == 1 ||" in condition
    download = next(s for s in pull_request["steps"] if "download-artifact" in s.get("uses", ""))
    assert download["if"] == "inputs.shards != 1"
    partials = _job_step(pull_request, "compliance")["with"]["partials"]
    assert partials.startswith("${{ inputs.shards != 1 && ") and partials.endswith("|| '' }}")
    # The default-branch job (baseline, evidence, ledger) is not sharded.
    assert "needs" not in jobs["default-branch"]


def test_each_shard_scans_one_part_and_uploads_its_partial_result() -> None:
    jobs = _load(WORKFLOW)["jobs"]
    matrix = jobs["shard-matrix"]
    assert matrix["outputs"]["index"] == "${{ steps.matrix.outputs.index }}"
    assert (
        'echo "index=[$(seq -s, 1 "$SHARDS")]" >> "$GITHUB_OUTPUT"'
        in (_job_step(matrix, "matrix")["run"])
    )
    shard = jobs["shard"]
    assert shard["strategy"]["matrix"]["index"] == (
        "${{ fromJSON(needs.shard-matrix.outputs.index) }}"
    )
    assert shard["strategy"]["fail-fast"] is False  # every shard's partial, every error
    action = _job_step(shard, "compliance")
    assert action["uses"] == _job_step(jobs["pull-request"], "compliance")["uses"]
    assert action["with"]["shard"] == "${{ matrix.index }}/${{ inputs.shards }}"
    assert _load(ACTION)["inputs"]["shard"]["default"] == ""
    upload = next(s for s in shard["steps"] if "upload-artifact" in s.get("uses", ""))
    assert upload["if"] == "always()"  # a scanner error (exit 4) still writes the partial
    assert upload["with"]["name"] == "compliance-partial-${{ matrix.index }}"  # one per shard
    # The file the action writes: "$out/partial-${SHARD%%/*}.json", SHARD being I/N.
    assert upload["with"]["path"] == (
        "${{ runner.temp }}/compliance/partial-${{ matrix.index }}.json"
    )
    assert upload["with"]["retention-days"] == 1
    assert upload["with"]["overwrite"] is True  # a re-run job uploads again
    scan = _steps(ACTION)["Scan (new findings only, base branch policy)"]["run"]
    assert 'partial="$out/partial-${SHARD%%/*}.json"' in scan
    assert (
        'compliance scan "$SCAN_PATH" -q "${trusted[@]}" --shard "$SHARD" --partial "$partial"'
        in scan
    )
    # A shard does not judge the policy change; the merging job does.
    assert _steps(ACTION)["Detect policy changes in the pull request"]["if"] == "inputs.shard == ''"


def test_the_pull_request_job_merges_every_partial_with_the_single_scans_options() -> None:
    pull_request = _load(WORKFLOW)["jobs"]["pull-request"]
    download = next(s for s in pull_request["steps"] if "download-artifact" in s.get("uses", ""))
    assert download["uses"] == "actions/download-artifact@v4"
    assert download["with"]["pattern"] == "compliance-partial-*"
    assert download["with"]["merge-multiple"] is True  # one folder, not one per artifact
    folder = download["with"]["path"]
    assert _job_step(pull_request, "compliance")["with"]["partials"] == (
        "${{ inputs.shards != 1 && format('{0}/compliance-partials', runner.temp) || '' }}"
    )
    assert folder == "${{ runner.temp }}/compliance-partials"
    scan = _steps(ACTION)["Scan (new findings only, base branch policy)"]["run"]
    assert 'partials=("$PARTIALS"/*.json)' in scan
    assert 'scan=(compliance merge "${partials[@]}" --root "$SCAN_PATH")' in scan
    assert 'scan=(compliance scan "$SCAN_PATH")' in scan
    # One command line for both: the same baseline, policy, reports and evidence.
    assert scan.count('"${scan[@]}" -q "${trusted[@]}" --baseline "$BASELINE"') == 1
    assert scan.count("-o json=") == 1
    # The exit codes are handled as before, plus a missing partial (2).
    assert "a usage error (exit 2)" in scan
    assert 'echo "exit-code=$code" >> "$GITHUB_OUTPUT"' in scan


def _gitlab_script(job: dict[str, Any]) -> str:
    return "\n".join(job["script"])


def test_gitlab_shards_are_hidden_jobs_that_the_user_extends_with_parallel() -> None:
    gitlab = _load(GITLAB)
    mr_rules = [{"if": '$CI_PIPELINE_SOURCE == "merge_request_event"'}]
    shard = gitlab[".compliance-shard"]
    assert "parallel" not in shard  # a literal number, in the user's job
    assert shard["extends"] == ".compliance-setup"  # no report artifacts: only a partial
    assert shard["rules"] == mr_rules
    script = _gitlab_script(shard)
    assert script.startswith(gitlab[".compliance-trusted-config"][0])  # the base's config
    assert (
        'compliance scan "$COMPLIANCE_PATH" -q $trusted --shard "${CI_NODE_INDEX}/${CI_NODE_TOTAL}"'
        ' --partial "$partial"' in script
    )
    assert 'cp "$partial" compliance-partials/' in script
    assert shard["artifacts"]["paths"] == ["compliance-partials/"]
    assert shard["artifacts"]["when"] == "always"
    assert shard["artifacts"]["expire_in"] == "1 day"
    assert shard["allow_failure"] == {"exit_codes": [4]}  # the merge reports it

    merge = gitlab[".compliance-merge"]
    assert merge["extends"] == ".compliance-base"  # sast, dependency_scanning, junit
    assert merge["rules"] == mr_rules
    assert merge["needs"] == [{"job": "compliance-shard", "artifacts": True}]
    assert merge["variables"] == {"COMPLIANCE_SHARDED": "true"}
    # The merge-request job's script, whose COMPLIANCE_SHARDED branch merges.
    assert merge["script"] == gitlab["compliance-merge-request"]["script"]
    script = _gitlab_script(merge)
    assert 'mv compliance-partials/partial-*.json "$work/partials/"' in script
    assert (
        'set -- compliance merge "$work"/partials/partial-*.json --root "$COMPLIANCE_PATH"'
        in script
    )
    assert 'set -- compliance scan "$COMPLIANCE_PATH"' in script
    assert script.count('"$@" -q $trusted --baseline "$COMPLIANCE_OUT/baseline.json"') == 1


def test_gitlab_keeps_the_single_merge_request_job() -> None:
    gitlab = _load(GITLAB)
    assert gitlab[".compliance-base"]["extends"] == ".compliance-setup"
    setup = gitlab[".compliance-setup"]
    assert setup["variables"] == {"GIT_DEPTH": "0", "COMPLIANCE_OUT": "compliance-reports"}
    assert (
        'python -m pip install --disable-pip-version-check "$COMPLIANCE_INSTALL"'
        in (setup["before_script"])
    )
    mr = gitlab["compliance-merge-request"]
    assert mr["extends"] == ".compliance-base"
    assert "needs" not in mr
    assert "COMPLIANCE_SHARDED" not in mr.get("variables", {})


def test_jenkins_shows_sharding_commented_out_and_keeps_the_stage() -> None:
    text = JENKINSFILE.read_text(encoding="utf-8")
    sharding = [line for line in text.splitlines() if "--shard" in line or "parallel " in line]
    assert sharding, "no sharding example"
    assert all(line.strip().startswith("//") for line in sharding)
    assert 'compliance merge "$WORKSPACE_TMP"/compliance-partials/partial-*.json --root .' in text
    live = "\n".join(line for line in text.splitlines() if not line.strip().startswith("//"))
    assert live.count("compliance scan . -q") == 2  # change requests and other builds
