"""A real result of the examples/ demo, saved and read back, renders to the same bytes."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli import cli
from compliance.model import ScanResult, WaiverState
from compliance.reporting.interface import RenderOptions
from compliance.reporting.json import JsonRenderer
from compliance.reporting.load import load_result, parse_result
from compliance.scanners.registry import REGISTRY

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


@pytest.fixture(scope="module")
def demo_json() -> str:
    """The JSON the real CLI prints for the demo (one scan for the whole module)."""
    result = CliRunner().invoke(cli, ["scan", str(EXAMPLES), "--format", "json", "-q"])
    assert result.exit_code == 1, result.stderr  # the demo's planted problems fail the gate
    return result.stdout


def test_the_demo_result_round_trips_byte_for_byte(demo_json: str) -> None:
    loaded = parse_result(demo_json, "result.json")
    assert JsonRenderer().render(loaded, RenderOptions()) == demo_json


def test_the_demo_result_is_rebuilt_in_full(demo_json: str) -> None:
    loaded = parse_result(demo_json, "result.json")
    assert isinstance(loaded, ScanResult)
    assert len(loaded.findings) > 100
    assert any(f.package is not None for f in loaded.findings)
    assert any(f.suppression is not None for f in loaded.findings)
    assert {w.state for w in loaded.waivers} >= {WaiverState.ACTIVE}
    assert {c.framework for c in loaded.controls} == {"iso27001", "soc2"}
    assert {s.name for s in loaded.scanners} == set(REGISTRY)
    assert not loaded.verdict.passed and loaded.verdict.reasons
    assert loaded.started_at.utcoffset() is not None


def test_a_saved_demo_result_loads_from_disk(demo_json: str, tmp_path: Path) -> None:
    path = tmp_path / "result.json"
    path.write_text(demo_json, encoding="utf-8")
    loaded = load_result(path, "result.json")
    assert JsonRenderer().render(loaded, RenderOptions()) == demo_json
