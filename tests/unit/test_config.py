from __future__ import annotations

from pathlib import Path

import pytest

from compliance.config import load_config
from compliance.errors import ConfigError, ExitCode


def test_no_config_means_defaults(tmp_path: Path) -> None:
    config, path = load_config(tmp_path)
    assert path is None
    assert config.services == ()
    assert config.policy.gate is None
    assert config.policy.waivers is None


def test_yaml_config_is_read(tmp_path: Path) -> None:
    (tmp_path / "compliance.yaml").write_text(
        "version: 1\nservices:\n  - name: api\n    path: services/api/\n    owner: '@t'\n"
        "scan:\n  exclude: [gen]\npolicy:\n  gate: ci/gate.yaml\n"
    )
    config, path = load_config(tmp_path)
    assert path == tmp_path / "compliance.yaml"
    assert config.services[0].path == "services/api"
    assert config.scan.exclude == ("gen",)
    assert config.policy.gate == "ci/gate.yaml"


def test_pyproject_tool_table_is_read(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text(
        '[project]\nname = "x"\n[tool.compliance]\nversion = 1\n'
        '[[tool.compliance.services]]\nname = "svc"\npath = "svc"\n'
    )
    config, _ = load_config(tmp_path)
    assert config.services[0].name == "svc"


def problems(tmp_path: Path, text: str) -> list[str]:
    (tmp_path / "compliance.yaml").write_text(text)
    with pytest.raises(ConfigError) as caught:
        load_config(tmp_path)
    assert caught.value.exit_code is ExitCode.INVALID_CONFIG
    return [str(p) for p in caught.value.problems]


def test_unknown_keys_are_named_with_their_path(tmp_path: Path) -> None:
    found = problems(
        tmp_path, "services:\n  - name: api\n    path: a\n    ownr: x\nscan:\n  tmeout: 3\n"
    )
    assert "compliance.yaml: services[0].ownr: unknown key" in found
    assert "compliance.yaml: scan.tmeout: unknown key" in found


def test_bad_values_are_named(tmp_path: Path) -> None:
    found = problems(
        tmp_path,
        "services:\n  - name: api\n    path: ../escape\n"
        "  - name: api\n    path: b\nscan:\n  fail_on: urgent\n",
    )
    assert any("services[0].path: must be a path inside the repository" in p for p in found)
    assert (
        "compliance.yaml: scan.fail_on: moved to the gate policy (`fail_on` in gate.yaml)" in found
    )


def test_duplicate_service_names(tmp_path: Path) -> None:
    found = problems(tmp_path, "services:\n  - {name: a, path: x}\n  - {name: a, path: y}\n")
    assert any("duplicate service name 'a'" in p for p in found)


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    found = problems(tmp_path, "services:\n  - name: [unclosed\n")
    assert found[0].startswith("compliance.yaml: line ")


def test_top_level_must_be_a_mapping(tmp_path: Path) -> None:
    assert problems(tmp_path, "- a\n- b\n") == [
        "compliance.yaml: expected a mapping at the top level"
    ]
