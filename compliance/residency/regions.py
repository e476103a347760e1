"""The cloud region tables: every AWS region, Google Cloud location and Azure location we know,
with the groups (`eu`, `us`, `apac`, ...) a residency policy may name instead of a list.

The tables are data (policies/residency/regions/{aws,gcp,azure}.yaml, shipped in the wheel),
each saying where its lists come from and their date. They are loaded strictly: an unknown
key, a group used but not declared, a dual-region naming an unknown region, or a pair naming
an unknown location is a ConfigError naming the file and key path.

Matching ignores case and spaces (`EU`, `eu`; `West Europe`, `westeurope`), so what Terraform,
the SDKs and the consoles write all find their location. A Google dual-region belongs to a
group when both of its regions do.
"""

from __future__ import annotations

import difflib
import enum
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from compliance.errors import ConfigError, Problem, validation_problems
from compliance.policy.files import prefixed, read_yaml

#: Where the bundled tables live, under the policy folder.
REGIONS_DIR = "residency/regions"
#: The pseudo-location of services that place data at edge locations worldwide (CDNs).
GLOBAL = "global"


class Provider(enum.Enum):
    """The clouds a residency policy speaks about (the keys under a rule's `allowed`)."""

    AWS = "aws"
    GCP = "gcp"
    AZURE = "azure"


class LocationKind(enum.Enum):
    REGION = "region"
    MULTI_REGION = "multi-region"
    DUAL_REGION = "dual-region"
    GLOBAL = "global"


@dataclass(frozen=True, slots=True)
class CloudLocation:
    """One place data can live: a region, a Google multi-/dual-region, or `global` (edge)."""

    provider: Provider
    id: str
    kind: LocationKind
    name: str
    country: str | None = None
    groups: frozenset[str] = frozenset()
    #: The two regions of a dual-region.
    regions: tuple[str, ...] = ()
    #: The Azure paired region that geo-redundant storage and backups copy to.
    pair: str | None = None

    def describe(self) -> str:
        return f"{self.id} ({self.name})" if self.name else self.id


def canonical(text: str) -> str:
    """How location names are compared: no case, no spaces (`West Europe` = `westeurope`)."""
    return re.sub(r"[\s_]+", "", text).lower()


_ZONE = {
    # us-east-1a, us-gov-west-1b -> the region without the zone letter
    Provider.AWS: re.compile(r"^([a-z]{2}(?:-gov)?-[a-z]+-\d+)[a-z]$"),
    # europe-west1-b -> europe-west1
    Provider.GCP: re.compile(r"^([a-z]+-[a-z]+\d+)-[a-z]$"),
}


@dataclass(frozen=True, slots=True)
class RegionTable:
    """One provider's locations and groups."""

    provider: Provider
    source: str
    groups: Mapping[str, str]
    locations: Mapping[str, CloudLocation]
    _index: Mapping[str, str] = field(default_factory=dict)

    def lookup(self, text: str) -> CloudLocation | None:
        """The location `text` names (any case, spaces ignored), or None."""
        location_id = self._index.get(canonical(text))
        return self.locations[location_id] if location_id is not None else None

    def zone_region(self, text: str) -> CloudLocation | None:
        """The region of an availability zone (`eu-west-1a`, `europe-west1-b`), or None."""
        pattern = _ZONE.get(self.provider)
        match = pattern.match(canonical(text)) if pattern else None
        return self.lookup(match.group(1)) if match else None

    def expand(self, name: str) -> frozenset[str] | None:
        """A policy's word for locations: a group (exact, lower case) is every location in it;
        else a location id (any case). None when it is neither."""
        if name in self.groups:
            return frozenset(loc.id for loc in self.locations.values() if name in loc.groups)
        location = self.lookup(name)
        return frozenset({location.id}) if location is not None else None

    def suggestions(self, name: str) -> list[str]:
        """Close names, for "did you mean" hints."""
        words = [*self.groups, *self.locations]
        by_canon = {canonical(w): w for w in words}
        close = difflib.get_close_matches(canonical(name), list(by_canon), n=3, cutoff=0.75)
        return [by_canon[c] for c in close]


@dataclass(frozen=True, slots=True)
class RegionTables:
    """The three providers' tables."""

    tables: Mapping[Provider, RegionTable]

    def __getitem__(self, provider: Provider) -> RegionTable:
        return self.tables[provider]

    def identify(self, text: str) -> list[CloudLocation]:
        """Every provider's location that `text` names (a Kubernetes region label does not
        say which cloud it is). Zones are mapped to their region."""
        found = []
        for table in self.tables.values():
            location = table.lookup(text) or table.zone_region(text)
            if location is not None and location.kind is not LocationKind.GLOBAL:
                found.append(location)
        return found


# --- loading ------------------------------------------------------------------------------


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class LocationEntry(_Strict):
    kind: Literal["region", "multi-region", "dual-region", "global"] = "region"
    name: str = Field(min_length=1)
    country: str | None = Field(default=None, pattern=r"^[A-Z]{2}$")
    groups: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()
    pair: str | None = Field(default=None, min_length=1)


class TableFile(_Strict):
    provider: Literal["aws", "gcp", "azure"]
    groups: dict[str, str] = Field(min_length=1)
    locations: dict[str, dict[str, Any]] = Field(min_length=1)


_GROUP_NAME = re.compile(r"^[a-z][a-z0-9-]*$")


def load_region_tables(folder: Path, display_prefix: str) -> RegionTables:
    """Load aws.yaml, gcp.yaml and azure.yaml from `folder`; every problem at once."""
    problems: list[Problem] = []
    tables: dict[Provider, RegionTable] = {}
    for provider in Provider:
        path = folder / f"{provider.value}.yaml"
        display = f"{display_prefix}{provider.value}.yaml"
        try:
            raw = read_yaml(path, display)
        except ConfigError as error:
            problems += error.problems
            continue
        table = _parse_table(raw, display, provider, problems)
        if table is not None:
            tables[provider] = table
    if problems:
        raise ConfigError(problems)
    return RegionTables(tables)


def _parse_table(
    raw: Any, display: str, provider: Provider, problems: list[Problem]
) -> RegionTable | None:
    if not isinstance(raw, dict):
        problems.append(Problem(display, "", "expected a mapping with `provider`, `locations`"))
        return None
    try:
        parsed = TableFile.model_validate(raw)
    except ValidationError as exc:
        problems += validation_problems(exc, display)
        return None
    if parsed.provider != provider.value:
        problems.append(
            Problem(display, "provider", f"expected {provider.value!r} in {provider.value}.yaml")
        )
        return None
    for name in parsed.groups:
        if not _GROUP_NAME.match(name):
            problems.append(Problem(display, f"groups.{name}", "group names are lower-case words"))
    before = len(problems)
    locations = build_locations(
        provider, parsed.locations, parsed.groups, {}, display, "locations", problems
    )
    if len(problems) > before:
        return None
    return _table(provider, display, parsed.groups, locations)


def build_locations(
    provider: Provider,
    entries: Mapping[str, Any],
    groups: Mapping[str, str],
    known: Mapping[str, CloudLocation],
    display: str,
    key: str,
    problems: list[Problem],
) -> dict[str, CloudLocation]:
    """Validate location entries (new ones, beside the `known` locations of the table)."""
    parsed: dict[str, LocationEntry] = {}
    for location_id, item in entries.items():
        where = f"{key}.{location_id}"
        if not isinstance(item, dict):
            problems.append(Problem(display, where, "expected a mapping with `name`"))
            continue
        try:
            parsed[location_id] = LocationEntry.model_validate(item)
        except ValidationError as exc:
            problems += prefixed(validation_problems(exc, display), where)
    taken = {canonical(i) for i in known}
    names = {
        **{i: loc.kind.value for i, loc in known.items()},
        **{i: e.kind for i, e in parsed.items()},
    }
    out: dict[str, CloudLocation] = {}
    for location_id, entry in parsed.items():
        where = f"{key}.{location_id}"
        if canonical(location_id) in taken:
            problems.append(Problem(display, where, f"location {location_id!r} is already defined"))
            continue
        taken.add(canonical(location_id))
        found = _check_entry(entry, names, groups, display, where)
        problems += found
        if found:
            continue
        own = frozenset(entry.groups)
        if entry.kind == "dual-region":
            pieces = [known.get(r) or out.get(r) for r in entry.regions]
            member = [
                frozenset(p.groups) if p else frozenset(parsed[r].groups)
                for p, r in zip(pieces, entry.regions, strict=True)
            ]
            own = frozenset.intersection(*member)
        out[location_id] = CloudLocation(
            provider=provider,
            id=location_id,
            kind=LocationKind(entry.kind),
            name=entry.name,
            country=entry.country,
            groups=own,
            regions=entry.regions,
            pair=entry.pair,
        )
    return out


def _check_entry(
    entry: LocationEntry,
    kinds: Mapping[str, str],
    groups: Mapping[str, str],
    display: str,
    where: str,
) -> list[Problem]:
    found = []
    for i, group in enumerate(entry.groups):
        if group not in groups:
            declared = ", ".join(groups)
            found.append(
                Problem(display, f"{where}.groups[{i}]", f"undeclared group {group!r} ({declared})")
            )
    if entry.kind == "dual-region":
        if len(entry.regions) != 2:
            found.append(Problem(display, f"{where}.regions", "a dual-region names two regions"))
        if entry.groups:
            found.append(
                Problem(display, f"{where}.groups", "a dual-region's groups are its regions'")
            )
        for i, region in enumerate(entry.regions):
            if kinds.get(region) != "region":
                found.append(
                    Problem(display, f"{where}.regions[{i}]", f"unknown region {region!r}")
                )
    elif entry.regions:
        found.append(Problem(display, f"{where}.regions", "only a dual-region names regions"))
    if entry.kind == "global" and entry.groups:
        found.append(Problem(display, f"{where}.groups", "`global` belongs to no group"))
    if entry.pair is not None and kinds.get(entry.pair) != "region":
        found.append(Problem(display, f"{where}.pair", f"unknown region {entry.pair!r}"))
    return found


def _table(
    provider: Provider,
    source: str,
    groups: Mapping[str, str],
    locations: Mapping[str, CloudLocation],
) -> RegionTable:
    index = {canonical(location_id): location_id for location_id in locations}
    return RegionTable(provider, source, dict(groups), dict(locations), index)


def extended(
    tables: RegionTables,
    extra: Mapping[str, Mapping[str, Any]],
    display: str,
    key: str,
    problems: list[Problem],
) -> RegionTables:
    """The tables with a policy's own `regions:` added (never replacing a bundled one)."""
    if not extra:
        return tables
    out = dict(tables.tables)
    for provider_name, entries in extra.items():
        try:
            provider = Provider(provider_name)
        except ValueError:
            known = ", ".join(p.value for p in Provider)
            problems.append(
                Problem(display, f"{key}.{provider_name}", f"unknown provider (known: {known})")
            )
            continue
        table = out[provider]
        new = build_locations(
            provider,
            entries,
            table.groups,
            table.locations,
            display,
            f"{key}.{provider_name}",
            problems,
        )
        out[provider] = _table(provider, table.source, table.groups, {**table.locations, **new})
    return RegionTables(out)


def location_ids(locations: Iterable[CloudLocation]) -> list[str]:
    return sorted(loc.id for loc in locations)
