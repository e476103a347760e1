"""The CI templates in ci-templates/, run through real processes: the GitHub workflows and
action and the GitLab file against their published JSON schemas (the copies check-jsonschema
ships, so offline), and the action's own shell steps on a small git repository with a base
branch and a pull request, with the real bandit. The sharded path runs twice: with a stand-in
`compliance` that records its command lines (the steps' plumbing), and for real."""

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
WORKFLOW = TEMPLATES / "github" / "compliance.yml"
GITLAB = TEMPLATES / "gitlab" / "compliance.gitlab-ci.yml"
README = TEMPLATES / "README.md"

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


def _check_schema(schema: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "check_jsonschema", "--builtin-schema", schema, str(path)],
        capture_output=True,
        text=True,
        env={**os.environ, **NO_NETWORK},
        check=False,
        timeout=120,
    )


@pytest.mark.parametrize(("schema", "path"), SCHEMAS, ids=[p.name for _, p in SCHEMAS])
def test_template_matches_its_published_schema_offline(schema: str, path: Path) -> None:
    run = _check_schema(schema, path)
    assert run.returncode == 0, run.stdout + run.stderr
    assert "ok -- validation done" in run.stdout


def _merged(base: Any, override: Any) -> Any:
    """GitLab's merge for `extends` and for a job that overrides an included one: mappings
    merge key by key, anything else (lists too) is replaced."""
    if isinstance(base, dict) and isinstance(override, dict):
        return {**base, **{k: _merged(base.get(k), v) for k, v in override.items()}}
    return override


def _resolved(config: dict[str, Any], name: str) -> dict[str, Any]:
    job = dict(config[name])
    parent = job.pop("extends", None)
    return _merged(_resolved(config, parent), job) if parent else job


def _readme_block(after: str) -> str:
    """The first ```yaml block of the README after the text `after`."""
    text = README.read_text(encoding="utf-8")
    return text[text.index(after) :].split("```yaml\n", 1)[1].split("```", 1)[0]


def test_the_readmes_sharded_gitlab_pipeline_matches_the_schema(tmp_path: Path) -> None:
    """The hidden jobs, as the README's snippet uses them, resolved into the jobs GitLab
    runs: the schema checks a hidden job's keys only once it is a real job."""
    template = yaml.safe_load(GITLAB.read_text(encoding="utf-8"))
    user = yaml.safe_load(_readme_block("**Sharding** merge requests"))
    assert user.pop("include")[0]["file"] == "ci-templates/gitlab/compliance.gitlab-ci.yml"
    config = _merged(template, user)
    assert config["compliance-shard"]["parallel"] == 4
    jobs = {name: _resolved(config, name) for name in config if not name.startswith(".")}
    jobs.pop("variables")
    assert jobs["compliance-merge-request"]["rules"] == [{"when": "never"}]
    assert jobs["compliance-merge"]["needs"] == [{"job": "compliance-shard", "artifacts": True}]
    assert jobs["compliance-merge"]["artifacts"]["reports"]["sast"].endswith("gl-sast-report.json")
    assert jobs["compliance-merge"]["variables"]["COMPLIANCE_SHARDED"] == "true"
    assert jobs["compliance-shard"]["variables"]["GIT_DEPTH"] == "0"
    pipeline = tmp_path / "pipeline.gitlab-ci.yml"
    pipeline.write_text(yaml.safe_dump({"variables": config["variables"], **jobs}))
    run = _check_schema("vendor.gitlab-ci", pipeline)
    assert run.returncode == 0, run.stdout + run.stderr


def _matrix(shards: str, tmp_path: Path) -> tuple[subprocess.CompletedProcess[str], str]:
    workflow = yaml.safe_load(WORKFLOW.read_text(encoding="utf-8"))
    step = workflow["jobs"]["shard-matrix"]["steps"][0]
    output = tmp_path / f"github_output_{shards}"
    output.touch()
    run = subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", step["run"]],
        env={**os.environ, "SHARDS": shards, "GITHUB_OUTPUT": str(output)},
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return run, output.read_text()


def test_the_shard_matrix_step_lists_the_shards(tmp_path: Path) -> None:
    run, output = _matrix("4", tmp_path)
    assert run.returncode == 0, run.stderr
    assert json.loads(output.removeprefix("index=")) == [1, 2, 3, 4]
    for wrong in ("0", "2.5", "-1", "257", ""):
        run, output = _matrix(wrong, tmp_path)
        assert run.returncode == 2, wrong
        assert "shards must be a whole number from 1 to 256" in run.stdout
        assert output == ""


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


def _run_action(
    repo: Path,
    base: str,
    tmp_path: Path,
    *,
    labels: str = "",
    shard: str = "",
    partials: str = "",
    bin_dir: Path | None = None,
) -> dict[str, Any]:
    """Run the action's shell steps in order, as the runner would (bash -e -o pipefail),
    with the inputs' defaults but `shard` and `partials`, each step only when its `if:`
    would let it; return the step outputs and the final step's exit code. `bin_dir` goes
    first on PATH (a stand-in `compliance`)."""
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
    if bin_dir is not None:
        env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    step_env = {
        "base": {"BASE_SHA": base},
        "policy": {"BASE_SHA": base, "POLICY_PATHS": inputs["policy-paths"]},
        "scan": {
            "SCAN_PATH": inputs["path"],
            "BASE_DIR": str(runner_temp / "compliance-base"),
            "BASELINE": "",
            "SIGNING_KEY": "",
            "SHARD": shard,
            "PARTIALS": partials,
            "LINK_BASE": "https://github.example/acme/repo/blob/HEAD/",
        },
    }
    assert steps["policy"]["if"] == "inputs.shard == ''"
    runs: dict[str, subprocess.CompletedProcess[str]] = {}
    for step_id in ("base", "scan") if shard else ("base", "policy", "scan"):
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
    assert summary_step["if"] == "always() && steps.scan.outputs.result == 'true'"
    if outputs["result"] == "true":
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
            "POLICY_CHANGED": outputs.get("changed", ""),
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


def _run_gitlab_job(
    repo: Path,
    base: str,
    name: str,
    *,
    node: tuple[int, int] | None = None,
    bin_dir: Path | None = None,
) -> subprocess.CompletedProcess[str]:
    """Run a GitLab job's script (`extends` resolved, as `.compliance-merge` would run in the
    job extending it) in a merge-request pipeline; `node` is (CI_NODE_INDEX, CI_NODE_TOTAL)
    of a `parallel` job, and `bin_dir` goes first on PATH."""
    if "origin" not in _git(repo, "remote").split():
        _git(repo, "remote", "add", "origin", str(repo))  # `git fetch origin` works offline
    gitlab = yaml.safe_load(GITLAB.read_text())
    job = _resolved(gitlab, name)
    variables = {**gitlab["variables"], **job["variables"]}
    (repo / variables["COMPLIANCE_OUT"]).mkdir(exist_ok=True)  # as the before_script does
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("CI_NODE_")},
        **{k: str(v) for k, v in variables.items()},
        "COMPLIANCE_INSTALL": "unused",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA": base,
        "CI_MERGE_REQUEST_TARGET_BRANCH_NAME": "main",
        "CI_PROJECT_URL": "https://gitlab.example/acme/repo",
        "CI_COMMIT_SHA": _git(repo, "rev-parse", "HEAD"),
    }
    if node is not None:
        env["CI_NODE_INDEX"], env["CI_NODE_TOTAL"] = str(node[0]), str(node[1])
    if bin_dir is not None:
        env["PATH"] = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    return subprocess.run(
        ["bash", "-e", "-o", "pipefail", "-c", "\n".join(job["script"])],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )


def test_the_gitlab_merge_request_job_uses_the_target_branchs_policy(tmp_path: Path) -> None:
    repo, base = _repository(
        tmp_path, {"new.py": NEW_HIGH, "policies/gate.yaml": "version: 1\nfail_on: critical\n"}
    )
    run = _run_gitlab_job(repo, base, "compliance-merge-request")
    log = run.stdout + run.stderr
    assert run.returncode == 1, log
    assert "the gate failed (exit 1)" in log
    assert "this merge request changes the policy" in log
    reports = repo / "compliance-reports"
    for name in ("gl-sast-report.json", "gl-dependency-scanning-report.json", "junit.xml"):
        assert (reports / name).is_file(), name
    sast = json.loads((reports / "gl-sast-report.json").read_text())
    assert {v["location"]["file"] for v in sast["vulnerabilities"]} >= {"new.py"}


# --- sharding: the steps' plumbing, with a stand-in `compliance` ------------------------------

#: Records each command line (one JSON list a line) and writes the files it is asked for;
#: `scan` and `merge` exit with EXIT, anything else with 0.
STAND_IN = """
import json
import sys
from pathlib import Path

args = sys.argv[1:]
with open(LOG, "a", encoding="utf-8") as log:
    log.write(json.dumps(args) + "\\n")
for flag, value in zip(args, args[1:]):
    if flag in ("-o", "--output", "--partial"):
        target = Path(value.split("=", 1)[-1])
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("{}")
    elif flag == "--evidence":
        Path(value).mkdir(parents=True, exist_ok=True)
if args[:1] == ["report"]:
    print("# compliance (stand-in)")
sys.exit(EXIT if args[:1] in (["scan"], ["merge"]) else 0)
"""


def _stand_in(folder: Path, exit_code: int = 0) -> tuple[Path, Path]:
    """A `compliance` executable in folder/bin; returns (bin folder, its call log)."""
    bin_dir = folder / "bin"
    bin_dir.mkdir(parents=True)
    log = folder / "calls.jsonl"
    executable = bin_dir / "compliance"
    executable.write_text(
        f"#!{sys.executable}\nLOG = {str(log)!r}\nEXIT = {exit_code}\n{STAND_IN}",
        encoding="utf-8",
    )
    executable.chmod(0o755)
    return bin_dir, log


def _calls(log: Path) -> list[list[str]]:
    if not log.exists():
        return []
    return [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]


def _normalised(call: list[str], *folders: Path) -> list[str]:
    """The call with each run's own temporary folders written as `<tmp>`."""
    for folder in folders:
        call = [arg.replace(str(folder), "<tmp>") for arg in call]
    return call


def test_a_github_shard_scans_its_shard_with_the_base_config(tmp_path: Path) -> None:
    repo, base = _repository(tmp_path, {"new.py": NEW_HIGH})
    bin_dir, log = _stand_in(tmp_path / "stand-in")
    ran = _run_action(repo, base, tmp_path / "shard", shard="2/3", bin_dir=bin_dir)

    partial = ran["out"] / "partial-2.json"  # the path the workflow uploads
    trusted = (tmp_path / "shard" / "runner" / "compliance-base").resolve()
    assert _calls(log) == [
        [
            "scan",
            ".",
            "-q",
            "--config",
            str(trusted / ".compliance-trusted.yaml"),
            "--shard",
            "2/3",
            "--partial",
            str(partial),
        ]
    ]  # no baseline: the merging job applies it
    assert ran["outputs"]["partial"] == str(partial)
    assert ran["outputs"]["exit-code"] == "0"
    assert ran["outputs"]["result"] == "false"  # no reports, no comment from a shard
    assert "changed" not in ran["outputs"]  # nor the policy-change verdict
    assert ran["final"].returncode == 0
    assert "shard 2/3 scanned" in ran["scan_log"]


def test_a_github_shards_scanner_error_fails_it_but_keeps_its_partial(tmp_path: Path) -> None:
    repo, base = _repository(tmp_path, {"new.py": NEW_HIGH})
    bin_dir, _ = _stand_in(tmp_path / "stand-in", exit_code=4)
    ran = _run_action(repo, base, tmp_path / "shard", shard="1/2", bin_dir=bin_dir)
    assert ran["outputs"]["exit-code"] == "4"
    assert ran["outputs"]["partial"] == str(ran["out"] / "partial-1.json")
    assert ran["final"].returncode == 4
    assert "a scanner error (exit 4)" in ran["scan_log"]


def test_the_github_merge_runs_with_the_single_scans_options(tmp_path: Path) -> None:
    repo, base = _repository(tmp_path, {"README.md": "docs only\n"})
    partials = tmp_path / "partials"
    partials.mkdir()
    for index in (2, 1):
        (partials / f"partial-{index}.json").write_text("{}")
    single_bin, single_log = _stand_in(tmp_path / "single-stand-in")
    single = _run_action(repo, base, tmp_path / "single", bin_dir=single_bin)
    merge_bin, merge_log = _stand_in(tmp_path / "merge-stand-in")
    merged = _run_action(repo, base, tmp_path / "merge", partials=str(partials), bin_dir=merge_bin)

    assert merged["outputs"]["exit-code"] == single["outputs"]["exit-code"] == "0"
    assert merged["final"].returncode == 0
    scans = [_normalised(c, tmp_path / "single") for c in _calls(single_log)]
    merges = [_normalised(c, tmp_path / "merge") for c in _calls(merge_log)]
    assert [c[:2] for c in scans] == [
        ["baseline", "create"],
        ["scan", "."],
        ["report", "<tmp>/runner/compliance/result.json"],
    ]
    assert merges[0] == scans[0]  # the same baseline of the base commit
    assert merges[1][:5] == [
        "merge",
        str(partials / "partial-1.json"),
        str(partials / "partial-2.json"),
        "--root",
        ".",
    ]
    assert merges[1][5:] == scans[1][2:]  # trusted config, baseline, reports, evidence
    assert "--baseline" in merges[1]
    assert merges[2] == scans[2]  # the job summary


def test_the_github_merge_without_partials_exits_2_before_scanning(tmp_path: Path) -> None:
    repo, base = _repository(tmp_path, {"README.md": "docs only\n"})
    empty = tmp_path / "partials"
    empty.mkdir()
    bin_dir, log = _stand_in(tmp_path / "stand-in")
    ran = _run_action(repo, base, tmp_path / "merge", partials=str(empty), bin_dir=bin_dir)
    assert ran["outputs"]["exit-code"] == "2"
    assert ran["final"].returncode == 2
    assert "no partial results in" in ran["scan_log"]
    assert _calls(log) == []  # the base commit is not scanned for nothing


def _trusted_work(call: list[str]) -> Path:
    """The GitLab job's $work folder, from the `--config $work/base/...` of a call."""
    return Path(call[call.index("--config") + 1]).parent.parent


def test_a_gitlab_shard_scans_its_shard_and_keeps_the_partial(tmp_path: Path) -> None:
    repo, base = _repository(tmp_path, {"new.py": NEW_HIGH})
    bin_dir, log = _stand_in(tmp_path / "stand-in")
    run = _run_gitlab_job(repo, base, ".compliance-shard", node=(2, 3), bin_dir=bin_dir)
    assert run.returncode == 0, run.stdout + run.stderr
    (call,) = _calls(log)
    work = _trusted_work(call)
    assert call == [
        "scan",
        ".",
        "-q",
        "--config",
        str(work / "base" / ".compliance-trusted.yaml"),
        "--shard",
        "2/3",
        "--partial",
        str(work / "partial-2.json"),  # outside the scanned checkout
    ]
    assert repo not in work.parents
    assert (repo / "compliance-partials" / "partial-2.json").is_file()  # the artifact


def test_a_gitlab_shard_without_parallel_says_so(tmp_path: Path) -> None:
    repo, base = _repository(tmp_path, {"new.py": NEW_HIGH})
    bin_dir, log = _stand_in(tmp_path / "stand-in")
    run = _run_gitlab_job(repo, base, ".compliance-shard", bin_dir=bin_dir)
    assert run.returncode == 2
    assert "needs parallel: N" in run.stdout
    assert _calls(log) == []


def test_a_gitlab_shards_scanner_error_is_its_allowed_exit_code(tmp_path: Path) -> None:
    repo, base = _repository(tmp_path, {"new.py": NEW_HIGH})
    bin_dir, _ = _stand_in(tmp_path / "stand-in", exit_code=4)
    run = _run_gitlab_job(repo, base, ".compliance-shard", node=(1, 2), bin_dir=bin_dir)
    assert run.returncode == 4  # `allow_failure: exit_codes: [4]`: the merge still runs
    assert (repo / "compliance-partials" / "partial-1.json").is_file()


def test_the_gitlab_merge_runs_the_merge_request_job_with_compliance_merge(tmp_path: Path) -> None:
    repo, base = _repository(tmp_path, {"README.md": "docs only\n"})
    single_bin, single_log = _stand_in(tmp_path / "single-stand-in")
    single = _run_gitlab_job(repo, base, "compliance-merge-request", bin_dir=single_bin)
    assert single.returncode == 0, single.stdout + single.stderr
    (repo / "compliance-partials").mkdir()
    for index in (1, 2):  # the shard jobs' artifacts
        (repo / "compliance-partials" / f"partial-{index}.json").write_text("{}")
    merge_bin, merge_log = _stand_in(tmp_path / "merge-stand-in")
    merged = _run_gitlab_job(repo, base, ".compliance-merge", bin_dir=merge_bin)
    assert merged.returncode == 0, merged.stdout + merged.stderr

    scans, merges = _calls(single_log), _calls(merge_log)
    scan_work, merge_work = _trusted_work(scans[1]), _trusted_work(merges[1])
    scans = [_normalised(c, scan_work) for c in scans]
    merges = [_normalised(c, merge_work) for c in merges]
    assert [c[:2] for c in scans] == [["baseline", "create"], ["scan", "."]]
    assert merges[0] == scans[0]
    assert merges[1][:5] == [
        "merge",
        "<tmp>/partials/partial-1.json",
        "<tmp>/partials/partial-2.json",
        "--root",
        ".",
    ]
    assert merges[1][5:] == scans[1][2:]
    # The partials left the scanned checkout before the merge.
    assert list((repo / "compliance-partials").iterdir()) == []


def test_the_gitlab_merge_without_partials_exits_2(tmp_path: Path) -> None:
    repo, base = _repository(tmp_path, {"README.md": "docs only\n"})
    bin_dir, log = _stand_in(tmp_path / "stand-in")
    run = _run_gitlab_job(repo, base, ".compliance-merge", bin_dir=bin_dir)
    assert run.returncode == 2
    assert "no partial results in compliance-partials/" in run.stdout
    assert "a usage error (exit 2)" in run.stdout
    assert _calls(log) == []


# --- sharding, for real ---------------------------------------------------------------------


@pytest.fixture
def sharding_cli() -> None:
    """Skip unless the installed `compliance` has `scan --shard` and `merge`."""
    scan = subprocess.run(
        ["compliance", "scan", "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    merge = subprocess.run(
        ["compliance", "merge", "--help"], capture_output=True, text=True, check=False, timeout=60
    )
    if "--shard" not in scan.stdout or merge.returncode != 0:
        pytest.skip("this compliance has no `scan --shard` and `merge`")


def _findings(result: Path) -> list[tuple[str, str | None]]:
    """Each finding's fingerprint and suppression (baselined, waived, inline or open)."""
    data = json.loads(result.read_text(encoding="utf-8"))
    return sorted(
        (f["fingerprint"], (f.get("suppression") or {}).get("kind")) for f in data["findings"]
    )


@pytest.mark.usefixtures("sharding_cli")
def test_a_sharded_github_pull_request_gets_the_single_scans_result(tmp_path: Path) -> None:
    repo, base = _repository(
        tmp_path, {"new.py": NEW_HIGH, "policies/gate.yaml": "version: 1\nfail_on: critical\n"}
    )
    partials = tmp_path / "partials"  # what the download step gathers
    partials.mkdir()
    for index in (1, 2):
        shard = _run_action(repo, base, tmp_path / f"shard-{index}", shard=f"{index}/2")
        assert shard["outputs"]["exit-code"] == "0", shard["scan_log"]
        assert shard["final"].returncode == 0
        partial = Path(shard["outputs"]["partial"])
        (partials / partial.name).write_bytes(partial.read_bytes())
    merged = _run_action(repo, base, tmp_path / "merge", partials=str(partials))
    single = _run_action(repo, base, tmp_path / "single")

    assert merged["outputs"]["exit-code"] == "1", merged["scan_log"]
    assert merged["final"].returncode == 1
    assert "compliance-base/policies/gate.yaml` `fail_on`" in merged["summary"]
    assert "new.py:5" in merged["summary"]
    assert "app.py:5" not in merged["summary"]
    findings = _findings(merged["out"] / "result.json")
    assert findings == _findings(single["out"] / "result.json")
    assert {kind for _, kind in findings} == {None, "baselined"}  # new.py open, app.py not
    assert (merged["out"] / "sarif" / "compliance.sarif").is_file()
    assert (merged["out"] / "evidence" / "manifest.json").is_file()


@pytest.mark.usefixtures("sharding_cli")
def test_a_sharded_gitlab_merge_request_gets_the_single_jobs_verdict(tmp_path: Path) -> None:
    repo, base = _repository(
        tmp_path, {"new.py": NEW_HIGH, "policies/gate.yaml": "version: 1\nfail_on: critical\n"}
    )
    artifacts = tmp_path / "artifacts"  # each shard job has a fresh checkout: keep them apart
    artifacts.mkdir()
    for index in (1, 2):
        run = _run_gitlab_job(repo, base, ".compliance-shard", node=(index, 2))
        assert run.returncode == 0, run.stdout + run.stderr
        (repo / "compliance-partials" / f"partial-{index}.json").rename(
            artifacts / f"partial-{index}.json"
        )
    for partial in artifacts.iterdir():
        partial.rename(repo / "compliance-partials" / partial.name)
    run = _run_gitlab_job(repo, base, ".compliance-merge")
    log = run.stdout + run.stderr
    assert run.returncode == 1, log
    assert "the gate failed (exit 1)" in log
    assert "this merge request changes the policy" in log
    sast = json.loads((repo / "compliance-reports" / "gl-sast-report.json").read_text())
    assert {v["location"]["file"] for v in sast["vulnerabilities"]} >= {"new.py"}
