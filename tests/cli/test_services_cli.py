from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from compliance.cli import cli


def test_services_json(repo: Path) -> None:
    (repo / "CODEOWNERS").write_text("/services/api/ @team-api\n")
    result = CliRunner().invoke(cli, ["services", str(repo), "--format", "json"])
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["services"] == [
        {
            "name": "api",
            "path": "services/api",
            "owner": "@team-api",
            "source": "detected",
            "description": None,
            "data_classification": [],
        }
    ]


def test_services_table(repo: Path) -> None:
    result = CliRunner().invoke(cli, ["services", str(repo)])
    assert result.exit_code == 0
    assert "services/api" in result.stdout


def test_services_bad_config(repo: Path) -> None:
    (repo / "compliance.yaml").write_text("services: 3\n")
    result = CliRunner().invoke(cli, ["services", str(repo)])
    assert result.exit_code == 3
    assert "compliance.yaml: services:" in result.stderr


def test_services_missing_path(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["services", str(tmp_path / "x")])
    assert result.exit_code == 2
