"""Sharding a scan across CI runners: which part of the work shard I of N does.

A unit of work is one scanner over one service's files (bandit over `api`'s Python files,
checkov over its Dockerfile and manifests), or one scanner that reasons over the whole
repository (residency, threat models), run whole. Each unit's cost is estimated in CPU
seconds from the bytes it reads; a shard that runs a tool at all also pays the tool's
start-up (checkov's is about 2.5 s here, bandit's 0.4 s, semgrep's 0.2 s). Units are dealt
largest first, each to the shard where the load after taking it (start-up included) is
least, ties to the lowest index, so every runner computes the same plan from the same
checkout; a tool is started in one more shard only when that lowers the load by more than
its start-up, so the CPU that sharding adds stays bounded. Findings are per file, so the
shards' findings together are exactly the full scan's; `compliance merge` joins them and
runs the rest of the pipeline once.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from compliance.errors import UsageError
from compliance.inventory import Inventory
from compliance.model import REPO_SERVICE, Service
from compliance.services import attributor

#: Scanners that read the whole repository to decide anything: never split.
WHOLE_REPO_SCANNERS = ("residency", "threatmodel")
MAX_SHARDS = 256
_SPEC = re.compile(r"([0-9]+)/([0-9]+)")
_MB = 1024 * 1024
#: CPU seconds per MB a scanner reads, and its start-up, measured on the benchmark machine
#: (benchmarks/README.md). Only the plan's balance depends on them, never its correctness.
COST_PER_MB = {
    "bandit": 1.9,
    "semgrep": 0.8,
    "pip-audit": 5.0,
    "checkov": 30.0,
    "residency": 10.0,
    "threatmodel": 0.4,
}
STARTUP_S = {"bandit": 0.4, "semgrep": 0.2, "pip-audit": 0.6, "checkov": 2.5}
#: Which process a scanner starts: residency's code rules run in the scan's semgrep.
_TOOL = {"residency": "semgrep"}


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
    """One scanner over one service's files (`whole`: over the whole repository)."""

    scanner: str
    service: str
    cost: float
    files: tuple[str, ...] = ()
    whole: bool = False

    @property
    def name(self) -> str:
        return f"{self.scanner}:{self.service}"


@dataclass(frozen=True, slots=True)
class ShardWork:
    spec: ShardSpec
    units: tuple[Unit, ...]
    #: Every unit's name in the whole scan, sorted (`plan_names`): what the partial records.
    plan: tuple[str, ...] = ()

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(u.name for u in self.units)

    def scanners(self) -> dict[str, tuple[str, ...] | None]:
        """Per scanner this shard runs: the files it is given (None: the whole repository)."""
        out: dict[str, tuple[str, ...] | None] = {}
        for unit in self.units:
            if unit.whole:
                out[unit.scanner] = None
            else:
                out[unit.scanner] = (*(out.get(unit.scanner) or ()), *unit.files)
        return out


def plan_units(
    inventory: Inventory, services: Sequence[Service], scanners: Sequence[str]
) -> list[Unit]:
    """Every unit of a scan with these scanners. A scanner with nothing to read still gets
    one (empty) unit, so some shard reports it skipped, as a full scan would."""
    owner = attributor(services)
    size = _sizes(inventory.root)
    inputs: dict[str, Callable[[], Iterable[str]]] = {
        "bandit": lambda: inventory.python_files,
        "semgrep": lambda: inventory.python_files,
        "pip-audit": lambda: inventory.dependency_files,
        "checkov": lambda: _iac_files(inventory),
        # Its code rules run in the scan's semgrep process, over the few files using an SDK.
        "residency": lambda: _iac_files(inventory),
        "threatmodel": lambda: inventory.python_files,
    }
    units: list[Unit] = []
    for scanner in scanners:
        files = tuple(inputs.get(scanner, lambda: inventory.all_files)())
        per_mb = COST_PER_MB.get(scanner, 1.0)
        if scanner in WHOLE_REPO_SCANNERS:
            units.append(Unit(scanner, "*", sum(map(size, files)) / _MB * per_mb, whole=True))
            continue
        by_service: dict[str, list[str]] = {}
        for path in files:
            by_service.setdefault(owner(path) or REPO_SERVICE, []).append(path)
        units += [
            Unit(scanner, name, sum(map(size, mine)) / _MB * per_mb, tuple(mine))
            for name, mine in sorted(by_service.items())
        ]
        if not by_service:
            units.append(Unit(scanner, "*", 0.0))
    return units


def plan_names(
    inventory: Inventory, services: Sequence[Service], scanners: Sequence[str]
) -> tuple[str, ...]:
    """Every unit's name, sorted: what a partial records and `merge` checks it against."""
    return _names(plan_units(inventory, services, scanners))


def _names(units: Iterable[Unit]) -> tuple[str, ...]:
    return tuple(sorted(u.name for u in units))


def assign(units: Sequence[Unit], count: int) -> list[list[Unit]]:
    """Largest unit first, each to the shard whose load after taking it is least, with a
    tool's start-up counted once per shard that runs it; a tool starts in another shard
    only when that lowers the load by more than its start-up. Deterministic."""
    shards: list[list[Unit]] = [[] for _ in range(count)]
    loads = [0.0] * count
    tools: list[set[str]] = [set() for _ in range(count)]
    for unit in sorted(units, key=lambda u: (-u.cost, u.name)):
        tool = _TOOL.get(unit.scanner, unit.scanner)
        startup = STARTUP_S.get(tool, 0.0)
        extra = [0.0 if tool in started else startup for started in tools]
        score = [load + unit.cost + 2 * more for load, more in zip(loads, extra, strict=True)]
        best = score.index(min(score))
        shards[best].append(unit)
        loads[best] += unit.cost + extra[best]
        tools[best].add(tool)
    return [sorted(s, key=lambda u: u.name) for s in shards]


def shard_work(
    spec: ShardSpec, inventory: Inventory, services: Sequence[Service], scanners: Sequence[str]
) -> ShardWork:
    units = plan_units(inventory, services, scanners)
    return ShardWork(
        spec,
        tuple(assign(units, spec.count)[spec.index - 1]),
        plan=_names(units),
    )


def _iac_files(inventory: Inventory) -> list[str]:
    folders = (*inventory.helm_charts, *inventory.kustomizations)
    return sorted(
        {
            *inventory.terraform_files,
            *inventory.cloudformation_files,
            *inventory.kubernetes_files,
            *inventory.dockerfiles,
            *inventory.github_workflows,
            *(f for f in inventory.all_files if any(_under(f, d) for d in folders)),
        }
    )


def _under(path: str, folder: str) -> bool:
    return folder in ("", ".") or PurePosixPath(path).is_relative_to(folder)


def _sizes(root: Path) -> Callable[[str], int]:
    @functools.cache
    def size(path: str) -> int:
        try:
            return (root / path).lstat().st_size + 1
        except OSError:
            return 1

    return size
