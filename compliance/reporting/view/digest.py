"""The pull-request digest: new open findings by service, then by control, cut to a size.

`digester` groups the first n findings, `largest_fitting` finds the largest n whose report
still fits, and `capped` keeps the first items of a list and counts the rest.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from compliance.reporting.view.report import SEVERITIES, FindingView, SeverityCount

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class ControlGroup:
    #: The control ids these findings share (ISO 27001 first); () for unmapped findings.
    controls: tuple[str, ...]
    findings: tuple[FindingView, ...]


@dataclass(frozen=True, slots=True)
class ServiceGroup:
    service: str
    #: New open findings of this service, shown or not.
    total: int
    shown: int
    groups: tuple[ControlGroup, ...]


@dataclass(frozen=True, slots=True)
class Digest:
    services: tuple[ServiceGroup, ...]
    total: int
    shown: int
    hidden: int
    #: The findings not shown, per severity (worst first, severities with none left out).
    hidden_by_severity: tuple[SeverityCount, ...]


def digester(findings: Sequence[FindingView]) -> Callable[[int], Digest]:
    """`digester(findings)(shown)`: the first `shown` of `findings` (worst first) grouped by
    service, then by the set of controls they bear on, so each finding appears once.
    Services and groups come in the order of their worst finding; the rest (the least
    severe) are only counted. The totals are counted once, so trying many `shown` is cheap."""
    totals: dict[str, int] = {}
    by_severity = dict.fromkeys((s.value for s in SEVERITIES), 0)
    for f in findings:
        totals[f.service] = totals.get(f.service, 0) + 1
        by_severity[f.severity] += 1

    def digest(shown: int) -> Digest:
        kept = findings[:shown]
        grouped: dict[str, dict[tuple[str, ...], list[FindingView]]] = {}
        hidden = dict(by_severity)
        for f in kept:
            grouped.setdefault(f.service, {}).setdefault(f.controls, []).append(f)
            hidden[f.severity] -= 1
        return Digest(
            services=tuple(
                ServiceGroup(
                    service=service,
                    total=totals[service],
                    shown=sum(len(g) for g in groups.values()),
                    groups=tuple(ControlGroup(c, tuple(g)) for c, g in groups.items()),
                )
                for service, groups in grouped.items()
            ),
            total=len(findings),
            shown=len(kept),
            hidden=len(findings) - len(kept),
            hidden_by_severity=tuple(SeverityCount(s, n) for s, n in hidden.items() if n),
        )

    return digest


@dataclass(frozen=True)  # no slots: a generic slotted dataclass breaks on Python 3.10
class Capped(Generic[T]):
    """The first items of a list, and how many more there are."""

    items: tuple[T, ...]
    more: int


def capped(items: Sequence[T], limit: int) -> Capped[T]:
    return Capped(tuple(items[:limit]), max(0, len(items) - limit))


def largest_fitting(count: int, fits: Callable[[int], bool]) -> int:
    """The largest n in [0, count] with `fits(n)`, for a `fits` that holds up to some n and
    not beyond (a report that grows with n); 0 when nothing fits. Binary search."""
    if fits(count):
        return count
    low, high = 0, count  # invariant: high does not fit; low fits, or is 0
    while high - low > 1:
        middle = (low + high) // 2
        if fits(middle):
            low = middle
        else:
            high = middle
    return low
