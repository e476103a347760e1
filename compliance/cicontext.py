"""Which CI run a scan is part of, from the variables the CI system sets. Pure: the CLI
passes the environment in (only the CLI reads it)."""

from __future__ import annotations

from collections.abc import Mapping

from compliance.model import CiContext


def ci_context(env: Mapping[str, str]) -> CiContext | None:
    """GitHub Actions, GitLab CI or Jenkins, or None outside CI (or in an unknown one)."""
    if env.get("GITHUB_ACTIONS") == "true":
        server = env.get("GITHUB_SERVER_URL", "https://github.com").rstrip("/")
        repo, run = env.get("GITHUB_REPOSITORY"), env.get("GITHUB_RUN_ID")
        url = f"{server}/{repo}/actions/runs/{run}" if repo and run else None
        if url and env.get("GITHUB_RUN_ATTEMPT"):
            url += f"/attempts/{env['GITHUB_RUN_ATTEMPT']}"
        return CiContext(
            provider="github",
            run_id=run,
            run_url=url,
            actor=env.get("GITHUB_ACTOR"),
            event=env.get("GITHUB_EVENT_NAME"),
            ref=env.get("GITHUB_REF"),
        )
    if env.get("GITLAB_CI") == "true":
        return CiContext(
            provider="gitlab",
            run_id=env.get("CI_JOB_ID"),
            run_url=env.get("CI_JOB_URL"),
            actor=env.get("GITLAB_USER_LOGIN"),
            event=env.get("CI_PIPELINE_SOURCE"),
            ref=env.get("CI_COMMIT_REF_NAME"),
        )
    if env.get("JENKINS_URL"):
        return CiContext(
            provider="jenkins",
            run_id=env.get("BUILD_TAG") or env.get("BUILD_ID"),
            run_url=env.get("BUILD_URL"),
            actor=env.get("BUILD_USER_ID"),
            ref=env.get("GIT_BRANCH") or env.get("BRANCH_NAME"),
        )
    return None
