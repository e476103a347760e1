"""What a scan runs, over which files: the whole repository, the changed files, or a shard.

A full scan hands every scanner the whole inventory. A changed-files scan (pre-commit,
--staged, --changed-since) runs only the scanners the changed files concern, over those files
(Terraform folders stay whole: checkov resolves them per folder), and keeps only findings in
those files; a change that can affect other files makes it a full scan, and says why. A shard
hands the per-file scanners its services' files and runs a whole-repository scanner (residency,
threat models) only when that unit was dealt to it, over the whole inventory.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

from compliance.changes import ChangeSet, plan_changes
from compliance.inventory import Inventory
from compliance.model import ScanScope, Service
from compliance.shard import ShardSpec, ShardWork, shard_work


@dataclass(frozen=True, slots=True)
class Work:
    #: (scanner, the inventory it is given), in registry order.
    jobs: tuple[tuple[str, Inventory], ...]
    #: Set for a changed-files scan: only findings and skips in these files are kept.
    scope: ScanScope | None = None
    #: Why a changed-files scan became a full one (said on the progress output).
    notes: tuple[str, ...] = ()
    shard: ShardWork | None = None
    #: Every unit of a sharded scan's plan (merge checks the shards cover it).
    plan: tuple[str, ...] = ()

    @property
    def scanners(self) -> tuple[str, ...]:
        return tuple(name for name, _ in self.jobs)


def full_work(names: Collection[str], inventory: Inventory) -> Work:
    return Work(tuple((n, inventory) for n in names))


def changed_work(
    changes: ChangeSet,
    names: list[str],
    inventory: Inventory,
    *,
    policy_files: Collection[str],
    config_file: str | None,
    threatmodel_dir: str,
) -> Work:
    plan = plan_changes(
        changes,
        inventory,
        available=names,
        policy_files=policy_files,
        config_file=config_file,
        threatmodel_dir=threatmodel_dir,
    )
    if plan.is_full:
        notes = tuple(f"full scan: {reason}" for reason in plan.full_scan)
        return Work(tuple((n, inventory) for n in names), notes=notes)
    part = inventory.restricted_to(plan.files)
    notes = tuple(f"{name}: {plan.reasons[name]}" for name in plan.scanners if name in plan.reasons)
    scope = ScanScope(changes.source, tuple(plan.files))
    return Work(tuple((n, part) for n in plan.scanners), scope=scope, notes=notes)


def sharded_work(
    spec: ShardSpec, names: list[str], inventory: Inventory, services: tuple[Service, ...]
) -> Work:
    work = shard_work(spec, inventory, services, names)
    given = work.scanners()
    jobs = tuple(
        (n, inventory if given[n] is None else inventory.restricted_to(given[n] or ()))
        for n in names
        if n in given
    )
    return Work(jobs, shard=work, plan=work.plan)
