"""Placements against the policy: whose data each one is, and whether it may be there.

Whose data: the service owning the placement's file (the deepest service folder). A placement
outside every service folder belongs to `(repo)`, unless the resource carries the policy's
`service_tag` (default `service`) naming a service: then it is that service's data, with
that service's classification. So shared infrastructure (`infra/terraform`) holding a
service's data is checked under the service's rules when tagged, and under the rules that
name `(repo)` (or `*`) otherwise. A tag naming no service is unresolved: the data class it
was meant to carry cannot be known.

May it be there: every rule that governs the owner is checked. A resolved location that a
rule does not allow is `Outside` (a provider the rule does not list allows nothing); an
unresolved one is `NotResolved`, never allowed. An exception in force suppresses what it
matches; an expired one suppresses nothing and is named, like an expired waiver.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

from compliance.model import REPO_SERVICE, Service
from compliance.residency.exceptions import ResidencyException
from compliance.residency.placement import Placement, Resolved, Unresolved
from compliance.residency.policy import ResidencyPolicy, ResidencyRule
from compliance.residency.regions import CloudLocation, RegionTables


@dataclass(frozen=True, slots=True)
class Owner:
    """Whose data a placement holds, and how we know."""

    service: str
    classes: tuple[str, ...]
    #: "path" (the service folder), or the tag (`tag service=worker`).
    via: str
    #: Set when the owner cannot be known (a tag naming no service).
    problem: str | None = None


@dataclass(frozen=True, slots=True)
class ExceptionUse:
    exception: ResidencyException
    in_force: bool


@dataclass(frozen=True, slots=True)
class Allowed:
    rule: ResidencyRule


@dataclass(frozen=True, slots=True)
class Outside:
    """A rule does not allow the location (`location` None: not in the provider's table)."""

    rule: ResidencyRule
    exception: ExceptionUse | None = None


@dataclass(frozen=True, slots=True)
class NotResolved:
    reason: str
    rules: tuple[ResidencyRule, ...]
    exception: ExceptionUse | None = None


@dataclass(frozen=True, slots=True)
class Unchecked:
    """No rule governs this data."""


Outcome = Allowed | Outside | NotResolved | Unchecked


@dataclass(frozen=True, slots=True)
class Check:
    placement: Placement
    owner: Owner
    #: The location the region names, when the tables know it.
    location: CloudLocation | None
    outcomes: tuple[Outcome, ...]


def owner_of(placement: Placement, services: Sequence[Service], service_tag: str) -> Owner:
    by_path = _service_at(placement.path, services)
    if by_path is not None:
        return Owner(by_path.name, by_path.data_classification, "path")
    tag = placement.service_tag
    if tag is None:
        return Owner(REPO_SERVICE, (), "path")
    named = next((s for s in services if s.name == tag), None)
    via = f"tag {service_tag}={tag}"
    if named is None:
        known = ", ".join(s.name for s in services) or "none"
        return Owner(
            REPO_SERVICE, (), via, f"its tag {service_tag}={tag} names no service ({known})"
        )
    return Owner(named.name, named.data_classification, via)


def _service_at(path: str, services: Sequence[Service]) -> Service | None:
    for service in sorted(services, key=lambda s: -len(s.path)):
        if service.path in ("", path) or path.startswith(service.path + "/"):
            return service
    return None


def locate(placement: Placement, tables: RegionTables) -> CloudLocation | None:
    """The table location a resolved region names (a zone gives its region)."""
    if not isinstance(placement.region, Resolved):
        return None
    value = placement.region.value
    if placement.provider is None:
        found = tables.identify(value)
        return found[0] if found else None
    table = tables[placement.provider]
    return table.lookup(value) or table.zone_region(value)


def check_placements(
    placements: Iterable[Placement],
    policy: ResidencyPolicy,
    services: Sequence[Service],
    today: date,
) -> tuple[Check, ...]:
    return tuple(check_placement(p, policy, services, today) for p in placements)


def check_placement(
    placement: Placement, policy: ResidencyPolicy, services: Sequence[Service], today: date
) -> Check:
    owner = owner_of(placement, services, policy.service_tag)
    location = locate(placement, policy.tables)
    if owner.problem is not None:
        outcome = NotResolved(owner.problem, ())
        return Check(
            placement, owner, location, (_excepted(outcome, placement, owner, policy, today),)
        )
    rules = tuple(r for r in policy.rules if r.applies_to(owner.service, owner.classes))
    if not rules:
        return Check(placement, owner, location, (Unchecked(),))
    if location is None:
        reason = _unplaced(placement, policy.tables)
        if reason is not None:
            outcome = NotResolved(reason, rules)
            return Check(
                placement, owner, None, (_excepted(outcome, placement, owner, policy, today),)
            )
    outcomes: list[Outcome] = []
    for rule in rules:
        if location is not None and rule.allows(location):
            outcomes.append(Allowed(rule))
        else:
            outcomes.append(_excepted(Outside(rule), placement, owner, policy, today))
    return Check(placement, owner, location, tuple(outcomes))


def _unplaced(placement: Placement, tables: RegionTables) -> str | None:
    """Why a placement has no location, when that makes it unresolved rather than outside:
    the region is unresolved, or a region label no table knows (no cloud to judge it by)."""
    match placement.region:
        case Unresolved(reason):
            return reason
        case Resolved(value, _) if placement.provider is None:
            return f"{value!r} is a region of no cloud in the region tables (aws, gcp, azure)"
    return None


def _excepted(
    outcome: Outside | NotResolved,
    placement: Placement,
    owner: Owner,
    policy: ResidencyPolicy,
    today: date,
) -> Outside | NotResolved:
    value = placement.region.value if isinstance(placement.region, Resolved) else None
    rule = outcome.rule.id if isinstance(outcome, Outside) else None
    matching = [
        e
        for e in policy.exceptions
        if e.matches(
            rule=rule,
            address=placement.address,
            path=placement.path,
            service=owner.service,
            region=value,
        )
    ]
    if not matching:
        return outcome
    chosen = next((e for e in matching if e.in_force(today)), matching[0])
    use = ExceptionUse(chosen, chosen.in_force(today))
    if isinstance(outcome, Outside):
        return Outside(outcome.rule, use)
    return NotResolved(outcome.reason, outcome.rules, use)
