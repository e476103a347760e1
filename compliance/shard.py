"""Sharding a scan across CI runners: which part of the work shard I of N does.

The unit of work is a service (every file it owns, for the per-file scanners), plus one unit
per scanner that reasons over the whole repository (residency, threat models): those run
whole, in one shard. Units are weighed by the bytes they hand to scanners and dealt largest
first onto the lightest shard (LPT), ties broken by name, so every runner computes the same
plan from the same checkout. Findings are per file, so the shards' findings together are
exactly the full scan's; `compliance merge` joins them and runs the rest of the pipeline once.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from compliance.errors import UsageError
from compliance.inventory import Inventory
from compliance.model import REPO_SERVICE, Service
from compliance.services import attributor

#: Scanners that read the whole repository to decide anything: never split.
WHOLE_REPO_SCANNERS = ("residency", "threatmodel")
_SPEC = re.compile(r"([0-9]+)/([0-9]+)")
MAX_SHARDS = 256


@dataclass(frozen=True, slots=True)
class ShardSpec:
    index: int  # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse_shard(text: str) -> ShardSpec:
    """`I/N` with 1 <= I <= N <= 256; UsageError otherwise."""
    match = _SPEC.fullmatch(text.strip())
    if match is None:
        raise UsageError(f"--shard: expected I/N such as 1/4, got {text!r}")
    index, count = int(match.group(1)), int(match.group(2))
    if not 1 <= count <= MAX_SHARDS or not 1 <= index <= count:
        raise UsageError(f"--shard {text}: need 1 <= I <= N <= {MAX_SHARDS}")
    return ShardSpec(index, count)


@dataclass(frozen=True, slots=True)
class Unit:
    """One indivisible piece of work: a service's files, or a whole-repository scanner."""

    name: str
    weight: int
    files: tuple[str, ...] = ()
    scanner: str | None = None


@dataclass(frozen=True, slots=True)
class ShardWork:
    spec: ShardSpec
    units: tuple[Unit, ...]

    @property
    def files(self) -> tuple[str, ...]:
        return tuple(sorted(f for u in self.units for f in u.files))

    @property
    def whole_repo_scanners(self) -> tuple[str, ...]:
        return tuple(u.scanner for u in self.units if u.scanner is not None)

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(u.name for u in self.units)


def plan_units(
    inventory: Inventory, services: Sequence[Service], scanners: Sequence[str]
) -> list[Unit]:
    """Every unit of a scan with these scanners, with its weight in bytes."""
    owner = attributor(services)
    by_service: dict[str, list[str]] = {s.name: [] for s in services}
    by_service.setdefault(REPO_SERVICE, [])
    for path in inventory.all_files:
        by_service[owner(path)].append(path)
    units = [
        Unit(f"service:{name}", _weight(inventory.root, files), tuple(files))
        for name, files in by_service.items()
        if files
    ]
    scanned = {
        "residency": (
            *inventory.terraform_files,
            *inventory.kubernetes_files,
            *inventory.cloudformation_files,
        ),
        "threatmodel": inventory.python_files,
    }
    for scanner in WHOLE_REPO_SCANNERS:
        if scanner in scanners:
            # At least 1: a scanner with nothing to read still runs (and says so) somewhere.
            weight = max(1, _weight(inventory.root, scanned[scanner]) // 4)
            units.append(Unit(f"scanner:{scanner}", weight, scanner=scanner))
    return units


def assign(units: Sequence[Unit], count: int) -> list[list[Unit]]:
    """Largest unit first onto the lightest shard; deterministic for equal weights."""
    shards: list[list[Unit]] = [[] for _ in range(count)]
    loads = [0] * count
    for unit in sorted(units, key=lambda u: (-u.weight, u.name)):
        lightest = loads.index(min(loads))
        shards[lightest].append(unit)
        loads[lightest] += unit.weight
    return [sorted(s, key=lambda u: u.name) for s in shards]


def shard_work(
    spec: ShardSpec, inventory: Inventory, services: Sequence[Service], scanners: Sequence[str]
) -> ShardWork:
    units = plan_units(inventory, services, scanners)
    return ShardWork(spec, tuple(assign(units, spec.count)[spec.index - 1]))


def _weight(root: Path, files: Sequence[str]) -> int:
    total = 0
    for path in files:
        try:
            total += (root / path).lstat().st_size + 1
        except OSError:
            total += 1
    return total
