"""The residency map: per service, where its data lives (region by resource), with where each
region came from and what the policy says about it. Built from the repository's
configuration (Terraform, Kubernetes and Helm, CloudFormation) without running any tool;
code clients need semgrep and are checked by the scan."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from compliance.inventory import Inventory
from compliance.model import REPO_SERVICE, Service, Skip
from compliance.residency.check import (
    Allowed,
    Check,
    NotResolved,
    Outside,
    Unchecked,
    check_placement,
    locate,
    owner_of,
)
from compliance.residency.collect import collect_placements
from compliance.residency.placement import Resolved, Unresolved
from compliance.residency.policy import ResidencyPolicy
from compliance.residency.regions import RegionTables


class Status(enum.Enum):
    ALLOWED = "allowed"
    OUTSIDE = "outside"
    UNRESOLVED = "unresolved"
    EXCEPTED = "excepted"
    NO_RULE = "no rule"


@dataclass(frozen=True, slots=True)
class MapEntry:
    check: Check
    status: Status
    #: The rules that decided the status (those broken, else those satisfied).
    rules: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ServiceMap:
    service: str
    classes: tuple[str, ...]
    entries: tuple[MapEntry, ...]


@dataclass(frozen=True, slots=True)
class ResidencyMap:
    policy: str | None
    services: tuple[ServiceMap, ...]
    skipped: tuple[Skip, ...]


def build_map(
    root: Path,
    inventory: Inventory,
    services: Sequence[Service],
    policy: ResidencyPolicy | None,
    tables: RegionTables,
    today: date,
) -> ResidencyMap:
    tag = policy.service_tag if policy is not None else "service"
    collected = collect_placements(root, inventory, tables, tag)
    entries: list[MapEntry] = []
    for placement in collected.placements:
        if policy is None:
            check = Check(
                placement, owner_of(placement, services, tag), locate(placement, tables), ()
            )
            entries.append(MapEntry(check, Status.NO_RULE, ()))
        else:
            entries.append(_entry(check_placement(placement, policy, services, today)))
    classes: dict[str, tuple[str, ...]] = {s.name: s.data_classification for s in services}
    by_service: dict[str, list[MapEntry]] = {}
    for entry in entries:
        by_service.setdefault(entry.check.owner.service, []).append(entry)
    names = sorted(by_service, key=lambda n: (n == REPO_SERVICE, n))
    return ResidencyMap(
        policy.source if policy is not None else None,
        tuple(ServiceMap(n, classes.get(n, ()), tuple(by_service[n])) for n in names),
        collected.skipped,
    )


def _entry(check: Check) -> MapEntry:
    broken = [o for o in check.outcomes if isinstance(o, Outside | NotResolved)]
    open_ = [o for o in broken if o.exception is None or not o.exception.in_force]
    if any(isinstance(o, Outside) for o in open_):
        rules = tuple(o.rule.id for o in open_ if isinstance(o, Outside))
        return MapEntry(check, Status.OUTSIDE, rules)
    if open_:
        return MapEntry(check, Status.UNRESOLVED, _rule_ids(open_))
    if broken:
        return MapEntry(check, Status.EXCEPTED, _rule_ids(broken))
    allowed = tuple(o.rule.id for o in check.outcomes if isinstance(o, Allowed))
    if allowed:
        return MapEntry(check, Status.ALLOWED, allowed)
    assert all(isinstance(o, Unchecked) for o in check.outcomes)
    return MapEntry(check, Status.NO_RULE, ())


def _rule_ids(outcomes: Sequence[Outside | NotResolved]) -> tuple[str, ...]:
    ids: list[str] = []
    for outcome in outcomes:
        rules = (outcome.rule,) if isinstance(outcome, Outside) else outcome.rules
        ids += [r.id for r in rules if r.id not in ids]
    return tuple(ids)


def map_as_data(residency_map: ResidencyMap) -> dict[str, Any]:
    """The map as plain data, for `--format json`."""
    return {
        "policy": residency_map.policy,
        "services": [
            {
                "name": s.service,
                "data_classification": list(s.classes),
                "placements": [_entry_data(e) for e in s.entries],
            }
            for s in residency_map.services
        ],
        "skipped": [{"path": k.path, "reason": k.reason} for k in residency_map.skipped],
    }


def _entry_data(entry: MapEntry) -> dict[str, Any]:
    check = entry.check
    placement = check.placement
    region = placement.region
    provider = check.location.provider if check.location else placement.provider
    return {
        "resource": placement.address,
        "role": placement.role.value,
        "provider": provider.value if provider is not None else None,
        "region": region.value if isinstance(region, Resolved) else None,
        "location": check.location.id if check.location else None,
        "location_name": check.location.name if check.location else None,
        "source": region.source if isinstance(region, Resolved) else None,
        "unresolved": region.reason if isinstance(region, Unresolved) else None,
        "path": placement.path,
        "line": placement.line,
        "note": placement.note,
        "owner": check.owner.via,
        "status": entry.status.value,
        "rules": list(entry.rules),
    }
