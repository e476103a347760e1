"""The renderer plug-in interface. A renderer is a pure function of the ScanResult."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from compliance.model import ScanResult


@dataclass(frozen=True, slots=True)
class RenderOptions:
    color: bool = False
    width: int = 100
    #: How many findings the terminal report lists in full.
    max_findings: int = 20


class Renderer(Protocol):
    name: str

    def render(self, result: ScanResult, options: RenderOptions) -> str: ...
