"""`compliance threatmodel init|check|render|review`: every test asserts the exit code."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from compliance.cli import cli

CONFIG = """\
version: 1
services:
  - name: api
    path: services/api
    owner: "@acme/api"
    data_classification: [pii]
"""
APP = """\
from flask import Flask

app = Flask(__name__)


@app.post("/orders")
def create():
    return {}
"""


@pytest.fixture
def root(tmp_path: Path) -> Path:
    base = tmp_path / "repo"
    (base / "services" / "api").mkdir(parents=True)
    (base / "compliance.yaml").write_text(CONFIG)
    (base / "services" / "api" / "app.py").write_text(APP)
    return base


def run(*args: str) -> Result:
    return CliRunner().invoke(cli, ["threatmodel", *args])


def decide_everything(root: Path) -> None:
    path = root / "threatmodels" / "api.yaml"
    data = yaml.safe_load(path.read_text())
    for item in data["threats"]:
        item.update(status="mitigated", note="Reviewed in SEC-1", evidence=["SEC-1"])
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def test_check_fails_without_models_then_passes_once_reviewed(root: Path) -> None:
    result = run("check", str(root))
    assert result.exit_code == 1, result.output
    assert "FAIL  api [high] No threat model for api" in result.stdout
    assert "1 check(s) failed for 1 service(s)" in result.stderr

    result = run("init", str(root))
    assert result.exit_code == 0, result.output
    assert "created threatmodels/api.yaml:" in result.stderr
    assert (root / "threatmodels" / "api.yaml").is_file()

    result = run("check", str(root))
    assert result.exit_code == 1
    assert "Threat model of api never reviewed" in result.stdout
    assert "threatmodels/api.yaml:10:" in result.stdout

    decide_everything(root)
    result = run("review", "api", str(root), "--reviewer", "dana@acme.example")
    assert result.exit_code == 0, result.output
    assert "recorded the review of api by dana@acme.example on 2026-11-29" in result.stderr
    review = yaml.safe_load((root / "threatmodels" / "api.yaml").read_text())["review"]
    assert review["reviewer"] == "dana@acme.example"
    assert review["facts_fingerprint"].startswith("sha256:")

    result = run("check", str(root))
    assert result.exit_code == 0, result.output
    assert "ok    api: threatmodels/api.yaml, reviewed by dana@acme.example" in result.stdout
    assert "all 1 service(s) have current, reviewed threat models" in result.stderr


def test_init_again_keeps_edits_and_reports_nothing_to_write(root: Path) -> None:
    assert run("init", "api", str(root)).exit_code == 0
    decide_everything(root)
    before = yaml.safe_load((root / "threatmodels" / "api.yaml").read_text())
    result = run("init", "api", str(root))
    assert result.exit_code == 0
    after = yaml.safe_load((root / "threatmodels" / "api.yaml").read_text())
    assert [t["note"] for t in after["threats"]] == [t["note"] for t in before["threats"]]
    assert run("init", "api", str(root)).stderr.strip() == (
        "threat models are up to date: nothing to write"
    )
    (root / "services" / "api" / "cache.py").write_text("import redis\n")
    result = run("init", str(root))
    assert result.exit_code == 0
    assert "updated threatmodels/api.yaml: 1 new facts (datastore:redis)" in result.stderr


def test_a_single_folder_argument_is_the_path(root: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(root.parent)
    result = run("init", "repo")
    assert result.exit_code == 0, result.output
    assert (root / "threatmodels" / "api.yaml").is_file()


def test_check_json(root: Path) -> None:
    run("init", str(root))
    result = run("check", str(root), "--format", "json")
    assert result.exit_code == 1
    data = json.loads(result.stdout)
    assert data["services"] == [{"name": "api", "model": "threatmodels/api.yaml", "passed": False}]
    checks = {f["check"] for f in data["failures"]}
    assert {"threat-model-not-reviewed", "threat-open"} <= checks
    opened = next(f for f in data["failures"] if f["check"] == "threat-open")
    assert opened["kind"] == "threat-model-open-threat" and opened["threat"]


def test_invalid_model_file_exits_3_naming_file_and_key(root: Path) -> None:
    run("init", str(root))
    path = root / "threatmodels" / "api.yaml"
    data = yaml.safe_load(path.read_text())
    data["threats"][0]["id"] = "made-up"
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    for command in (["check", str(root)], ["init", str(root)], ["render", "api", str(root)]):
        result = run(*command)
        assert result.exit_code == 3, (command, result.output)
        assert (
            "threatmodels/api.yaml: threats[0].id: unknown threat 'made-up' (not in the threat "
            "library)" in result.stderr
        )
    scan = CliRunner().invoke(cli, ["scan", str(root), "--scanner", "threatmodel", "-q"])
    assert scan.exit_code == 3
    assert "unknown threat 'made-up'" in scan.stderr
    validate = CliRunner().invoke(cli, ["policy", "validate", str(root)])
    assert validate.exit_code == 3


def test_unknown_service_and_stale_review_are_usage_errors(root: Path) -> None:
    assert run("init", "nope", str(root)).exit_code == 2
    result = run("review", "api", str(root), "--reviewer", "x")
    assert result.exit_code == 2
    assert "no threat model for api" in result.stderr
    run("init", str(root))
    (root / "services" / "api" / "cache.py").write_text("import redis\n")
    result = run("review", "api", str(root), "--reviewer", "x")
    assert result.exit_code == 2
    assert "does not describe the current facts (datastore:redis)" in result.stderr


def test_render_markdown_to_stdout_and_html_to_a_file(root: Path, tmp_path: Path) -> None:
    result = run("render", "api", str(root), "--format", "markdown")
    assert result.exit_code == 0, result.output
    assert result.stdout.startswith("# Threat model: `api`")
    assert "```mermaid" in result.stdout
    target = tmp_path / "api.html"
    result = run("render", "api", str(root), "--format", "html", "-o", str(target))
    assert result.exit_code == 0, result.output
    assert target.read_text().startswith("<!DOCTYPE html>")
    assert run("render", "api", str(root), "--format", "pdf").exit_code == 2


def test_orphaned_model_fails_the_check(root: Path) -> None:
    run("init", str(root))
    (root / "compliance.yaml").write_text(CONFIG.replace("name: api", "name: orders"))
    result = run("check", str(root))
    assert result.exit_code == 1
    assert "FAIL  api [low] Threat model for api, which is not a service" in result.stdout
    assert "FAIL  orders [high] No threat model for orders" in result.stdout
