"""The pre-commit hook manifest (.pre-commit-hooks.yaml): checked against the manifest's
documented rules here, and with pre-commit's own loader when pre-commit is installed; and
the README's .pre-commit-config.yaml example, which must use these hooks."""

from __future__ import annotations

import importlib.metadata
import re
import shlex
from pathlib import Path
from typing import Any

import click
import pytest
import yaml
from click.testing import CliRunner
from conftest import REPO

from compliance.cli import cli

MANIFEST = REPO / ".pre-commit-hooks.yaml"
README = REPO / "ci-templates" / "README.md"

#: The manifest's keys (https://pre-commit.com/#creating-new-hooks): required, then optional.
REQUIRED = {"id", "name", "entry", "language"}
OPTIONAL = {
    "alias",
    "files",
    "exclude",
    "types",
    "types_or",
    "exclude_types",
    "always_run",
    "fail_fast",
    "verbose",
    "pass_filenames",
    "require_serial",
    "description",
    "language_version",
    "minimum_pre_commit_version",
    "args",
    "stages",
    "additional_dependencies",
    "log_file",
}
BOOLEANS = {"always_run", "fail_fast", "verbose", "pass_filenames", "require_serial"}
#: Stage names since pre-commit 3.2.0 (the old `commit`, `push` are deprecated).
STAGES = {
    "commit-msg",
    "post-checkout",
    "post-commit",
    "post-merge",
    "post-rewrite",
    "pre-commit",
    "pre-merge-commit",
    "pre-push",
    "pre-rebase",
    "prepare-commit-msg",
    "manual",
}


def _hooks() -> dict[str, dict[str, Any]]:
    manifest = yaml.safe_load(MANIFEST.read_text(encoding="utf-8"))
    assert isinstance(manifest, list), "a manifest is a list of hooks"
    ids = [hook["id"] for hook in manifest]
    assert len(ids) == len(set(ids)), ids
    return {hook["id"]: hook for hook in manifest}


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split("."))


def test_every_hook_follows_the_manifest_rules() -> None:
    hooks = _hooks()
    assert set(hooks) == {"compliance", "compliance-staged", "compliance-full"}
    for hook_id, hook in hooks.items():
        assert set(hook) >= REQUIRED, hook_id
        assert set(hook) <= REQUIRED | OPTIONAL, f"{hook_id}: {set(hook) - REQUIRED - OPTIONAL}"
        assert all(isinstance(hook[key], str) for key in REQUIRED), hook_id
        assert all(isinstance(hook[key], bool) for key in BOOLEANS & set(hook)), hook_id
        assert hook["language"] == "python"  # pre-commit installs this repository with pip
        assert hook["require_serial"] is True, hook_id  # one process sees every file
        assert hook["description"], hook_id
        assert set(hook["stages"]) <= STAGES, hook_id
        for key in ("files", "exclude"):
            if key in hook:
                re.compile(hook[key])
        # The new stage names need pre-commit 3.2.0.
        assert _version(hook["minimum_pre_commit_version"]) >= (3, 2, 0), hook_id


def test_the_hooks_run_the_scan_in_its_three_modes() -> None:
    hooks = _hooks()
    for hook in hooks.values():
        assert shlex.split(hook["entry"])[:2] == ["compliance", "scan"]
    # Changed files: pre-commit appends them to the command line (changed-files mode).
    changed = hooks["compliance"]
    assert changed["entry"] == "compliance scan"
    assert changed["name"] == "compliance: changed files"
    assert changed["pass_filenames"] is True
    assert changed.get("always_run", False) is False
    # Staged: the tool reads the index itself; runs only when something is staged.
    staged = hooks["compliance-staged"]
    assert staged["entry"] == "compliance scan --staged"
    assert staged["pass_filenames"] is False
    assert staged["always_run"] is False
    assert re.search(staged["files"], "any/path.py")  # every file counts as a change
    assert "pre-commit" in staged["stages"]
    # Full: the whole repository, by hand only (`pre-commit run --hook-stage manual`).
    full = hooks["compliance-full"]
    assert full["entry"] == "compliance scan"
    assert full["pass_filenames"] is False
    assert full["always_run"] is True
    assert full["stages"] == ["manual"]


def test_the_entry_is_this_packages_command() -> None:
    scripts = {
        ep.name
        for ep in importlib.metadata.distribution("compliance").entry_points
        if ep.group == "console_scripts"
    }
    assert {shlex.split(hook["entry"])[0] for hook in _hooks().values()} <= scripts


def test_the_scan_command_takes_what_the_hooks_give_it() -> None:
    scan = cli.get_command(click.Context(cli), "scan")
    assert scan is not None
    options = {opt for param in scan.params for opt in param.opts}
    assert "--staged" in options
    # pre-commit passes any number of file names after the entry's own arguments.
    arguments = [p for p in scan.params if p.param_type_name == "argument"]
    assert [a.nargs for a in arguments] == [-1]
    run = CliRunner().invoke(cli, ["scan", "--help"])
    assert run.exit_code == 0, run.output
    assert "--staged" in run.output


def test_pre_commit_itself_loads_the_manifest() -> None:
    clientlib = pytest.importorskip("pre_commit.clientlib")
    loaded = clientlib.load_manifest(str(MANIFEST))
    assert [hook["id"] for hook in loaded] == list(_hooks())


def _readme_config() -> str:
    text = README.read_text(encoding="utf-8")
    return text.split("# .pre-commit-config.yaml\n", 1)[1].split("```", 1)[0]


def test_the_readmes_pre_commit_config_uses_these_hooks() -> None:
    config = yaml.safe_load(_readme_config())
    (repo,) = config["repos"]
    assert repo["repo"] == "https://github.com/your-org/compliance"  # as the other templates
    # A tag, not a branch: pre-commit warns about a `rev` without a dot (a mutable ref).
    assert re.fullmatch(r"v\d+\.\d+\.\d+", repo["rev"])
    assert [hook["id"] for hook in repo["hooks"]] == ["compliance"]
    commented = re.findall(r"#\s*- id: (\S+)", _readme_config())
    assert set(commented) | {"compliance"} == set(_hooks())


def test_pre_commit_itself_loads_the_readmes_config(tmp_path: Path) -> None:
    clientlib = pytest.importorskip("pre_commit.clientlib")
    config = tmp_path / ".pre-commit-config.yaml"
    config.write_text(_readme_config(), encoding="utf-8")
    loaded = clientlib.load_config(str(config))
    assert loaded["repos"][0]["hooks"][0]["id"] == "compliance"
