"""Renderers: one module per format, listed in one registry."""

from __future__ import annotations

from compliance.reporting.interface import Renderer, RenderOptions
from compliance.reporting.json import JsonRenderer
from compliance.reporting.sarif import SarifRenderer
from compliance.reporting.terminal import TerminalRenderer

REGISTRY: dict[str, Renderer] = {
    "terminal": TerminalRenderer(),
    "json": JsonRenderer(),
    "sarif": SarifRenderer(),
}

__all__ = ["REGISTRY", "RenderOptions", "Renderer"]
