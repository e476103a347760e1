"""The benchmark scripts stay runnable: each runs here on a tiny input."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


def load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"bench_{name}", BENCHMARKS / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_render_benchmark(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["render.py", "--findings", "120", "--runs", "1"])
    load("render").main()
    out = capsys.readouterr().out
    assert out.startswith("120 findings") and "total" in out and "peak RSS" in out


def test_overhead_benchmark(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], examples_dir: Path
) -> None:
    monkeypatch.setattr(
        sys, "argv", ["overhead.py", str(examples_dir), "--findings", "50", "--runs", "1"]
    )
    load("overhead").main()
    assert "findings: 50" in capsys.readouterr().out
