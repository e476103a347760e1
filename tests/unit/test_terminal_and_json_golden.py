"""Golden files for the terminal and JSON reports of the recorded examples result, and the
terminal's promises: fits 80 columns, colour only when asked, NO_COLOR respected."""

from __future__ import annotations

import sys
from collections.abc import Callable

import pytest

from compliance.cli.output import stdout_options
from compliance.model import ScanResult
from compliance.reporting import RenderOptions
from compliance.reporting.json import JsonRenderer
from compliance.reporting.terminal import TerminalRenderer

Golden = Callable[[str, str], None]


def test_terminal_golden(examples_result: ScanResult, golden: Golden) -> None:
    golden(
        "terminal/examples.txt", TerminalRenderer().render(examples_result, RenderOptions(width=80))
    )


def test_json_golden(examples_result: ScanResult, golden: Golden) -> None:
    golden("json/examples.json", JsonRenderer().render(examples_result, RenderOptions()))


@pytest.mark.parametrize("width", [80, 100, 160])
def test_terminal_fits_its_width(examples_result: ScanResult, width: int) -> None:
    text = TerminalRenderer().render(examples_result, RenderOptions(width=width))
    assert max(len(line) for line in text.splitlines()) <= width
    assert "\x1b[" not in text  # no colour unless asked


def test_terminal_colour_only_when_asked(examples_result: ScanResult) -> None:
    coloured = TerminalRenderer().render(examples_result, RenderOptions(color=True, width=80))
    assert "\x1b[" in coloured


def test_stdout_colour_needs_a_tty_and_no_NO_COLOR(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sys.stdout, "isatty", lambda: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("COLUMNS", "80")
    assert stdout_options("terminal", None).color is True
    assert stdout_options("terminal", None).width == 80
    assert stdout_options("json", None).color is False
    monkeypatch.setenv("NO_COLOR", "1")
    assert stdout_options("terminal", None).color is False
    monkeypatch.setattr(sys.stdout, "isatty", lambda: False)
    monkeypatch.delenv("NO_COLOR")
    assert stdout_options("terminal", None).color is False
