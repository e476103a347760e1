from __future__ import annotations

from pathlib import Path

from compliance.cicontext import ci_context
from compliance.gitinfo import read_branch
from compliance.model import CiContext


def test_github_actions() -> None:
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_REPOSITORY": "acme/shop",
        "GITHUB_RUN_ID": "42",
        "GITHUB_RUN_ATTEMPT": "2",
        "GITHUB_ACTOR": "dana",
        "GITHUB_EVENT_NAME": "pull_request",
        "GITHUB_REF": "refs/pull/7/merge",
    }
    assert ci_context(env) == CiContext(
        "github",
        "42",
        "https://github.com/acme/shop/actions/runs/42/attempts/2",
        "dana",
        "pull_request",
        "refs/pull/7/merge",
    )


def test_gitlab_and_jenkins_and_none() -> None:
    gitlab = ci_context(
        {
            "GITLAB_CI": "true",
            "CI_JOB_ID": "9",
            "CI_JOB_URL": "https://gl/j/9",
            "GITLAB_USER_LOGIN": "lee",
        }
    )
    assert gitlab == CiContext("gitlab", "9", "https://gl/j/9", "lee", None, None)
    jenkins = ci_context(
        {"JENKINS_URL": "https://ci/", "BUILD_TAG": "jenkins-shop-3", "BUILD_URL": "https://ci/3/"}
    )
    assert jenkins is not None and (jenkins.provider, jenkins.run_id) == (
        "jenkins",
        "jenkins-shop-3",
    )
    assert ci_context({"CI": "true"}) is None
    assert ci_context({}) is None


def test_branch_from_head(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".git" / "HEAD").write_text("ref: refs/heads/feature/x\n")
    assert read_branch(tmp_path) == "feature/x"
    (tmp_path / ".git" / "HEAD").write_text("0" * 40 + "\n")
    assert read_branch(tmp_path) is None
