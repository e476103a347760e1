"""The primitives of our inline SVG charts: what a template draws, and the legend's layout.

Coordinates are strings in SVG user units, formatted once here (`num`), so the templates
only place them and every chart writes its numbers the same way.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def num(value: float) -> str:
    """A coordinate or length, to one decimal."""
    return f"{value:.1f}"


@dataclass(frozen=True, slots=True)
class Rect:
    x: str
    y: str
    width: str
    height: str
    css: str
    title: str


@dataclass(frozen=True, slots=True)
class Text:
    x: str
    y: str
    text: str
    anchor: str
    #: The CSS class, and a tooltip; for templates that draw them.
    css: str = ""
    title: str | None = None


def legend_offsets(labels: Sequence[str]) -> list[float]:
    """Where each legend entry starts, from the legend's left: a 12-unit swatch, its label
    16 units after the swatch's start (text width estimated at 7.5 a character), 18 units
    of space before the next entry."""
    offsets = []
    x = 0.0
    for label in labels:
        offsets.append(x)
        x += 16 + 7.5 * len(label) + 18
    return offsets
