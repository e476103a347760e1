"""The residency policy (policies/residency.yaml): where each class of data may live.

```yaml
version: 1
severity: high                    # of a violation (default high); a rule may override it
unresolved_severity: medium       # of a region that cannot be resolved statically
service_tag: service              # the tag/label tying infrastructure to a service
rules:
  - id: pii-eu-only
    description: Personal data stays in the EEA (GDPR chapter V).
    data_classification: [pii]    # services holding any of these classes ...
    services: ["(repo)"]          # ... or named here (globs; "(repo)": files outside services)
    allowed:                      # per provider: regions, locations or groups (`eu`, `us` ...)
      aws: [eu]
      gcp: [eu, EUR4]
      azure: [eu]
exceptions:
  - id: RX-0001
    rule: pii-eu-only             # optional: rule id glob(s)
    resource: aws_s3_bucket.partner_exports   # resource address glob(s), and/or ...
    path: infra/partner/**        # ... path glob(s)
    region: [us-east-1]           # optional: only there
    reason: Standard contractual clauses signed with the partner (LEGAL-77).
    owner: dana@acme.example
    approver: dpo@acme.example    # optional; never the owner
    expires: 2027-03-31           # required
regions:                          # optional: locations the bundled tables do not know yet
  aws:
    eusc-de-east-1: {name: AWS European Sovereign Cloud, country: DE, groups: [eu, europe]}
```

A provider a rule does not list allows nothing there. Strict like every policy: an unknown
key, region or group, a service that matches no service, a rule without a scope, an exception
without owner, reason or expiry is a ConfigError naming the file and key path. Expired
exceptions load, and suppress nothing (the finding says so), like expired waivers
(compliance/residency/exceptions.py).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)

from compliance.config import DataClass, RepoConfig
from compliance.errors import ConfigError, Problem, validation_problems
from compliance.model import REPO_SERVICE, Severity
from compliance.policy.files import prefixed, read_yaml
from compliance.residency.exceptions import ResidencyException, parse_exceptions
from compliance.residency.regions import (
    GLOBAL,
    CloudLocation,
    LocationKind,
    Provider,
    RegionTables,
    extended,
    load_region_tables,
)

#: Where a repository keeps its residency policy, relative to its root, unless its config says.
DEFAULT_RESIDENCY_PATH = "policies/residency.yaml"


def _as_tuple(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Names = Annotated[tuple[Text, ...], BeforeValidator(_as_tuple)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AllowedEntry(_Strict):
    aws: Names | None = None
    gcp: Names | None = None
    azure: Names | None = None


class RuleEntry(_Strict):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    description: str | None = None
    data_classification: Annotated[tuple[DataClass, ...], BeforeValidator(_as_tuple)] = ()
    services: Names = ()
    allowed: AllowedEntry
    severity: Severity | None = None

    @model_validator(mode="after")
    def _scope(self) -> RuleEntry:
        if not self.data_classification and not self.services:
            raise ValueError("needs `data_classification` or `services`: whose data it governs")
        if all(getattr(self.allowed, p.value) is None for p in Provider):
            raise ValueError("`allowed` names no provider: every location would be a violation")
        return self


class PolicyFile(_Strict):
    version: Literal[1] = 1
    severity: Severity = Severity.HIGH
    unresolved_severity: Severity = Severity.MEDIUM
    service_tag: str = Field(default="service", min_length=1)
    regions: dict[str, dict[str, Any]] = {}
    rules: tuple[dict[str, Any], ...]
    exceptions: tuple[dict[str, Any], ...] = ()

    @field_validator("rules")
    @classmethod
    def _some(cls, value: tuple[dict[str, Any], ...]) -> tuple[dict[str, Any], ...]:
        if not value:
            raise ValueError(
                "no rule: an empty policy would check nothing (remove the file to switch the "
                "residency check off)"
            )
        return value


@dataclass(frozen=True, slots=True)
class ResidencyRule:
    """One rule: whose data (classes or services) may live where (location ids per provider)."""

    id: str
    description: str | None
    classes: frozenset[str]
    services: tuple[str, ...]
    #: Location ids allowed per provider (groups expanded); a provider absent allows nothing.
    allowed: Mapping[Provider, frozenset[str]]
    #: The same, as the policy wrote it (`eu`), for messages.
    written: Mapping[Provider, tuple[str, ...]]
    severity: Severity
    index: int

    def applies_to(self, service: str, classes: Sequence[str]) -> bool:
        """A rule governs a service that holds one of its classes or that it names."""
        if self.classes.intersection(classes):
            return True
        return any(fnmatch.fnmatchcase(service, pattern) for pattern in self.services)

    def allows(self, location: CloudLocation) -> bool:
        """A location listed (or in a listed group); a dual-region whose two regions are."""
        allowed = self.allowed.get(location.provider, frozenset())
        if location.id in allowed:
            return True
        return location.kind is LocationKind.DUAL_REGION and all(
            r in allowed for r in location.regions
        )

    def describe_allowed(self) -> str:
        parts = [f"{p.value}: {', '.join(names) or 'nothing'}" for p, names in self.written.items()]
        return "; ".join(parts) or "nothing"


@dataclass(frozen=True, slots=True)
class ResidencyPolicy:
    source: str
    rules: tuple[ResidencyRule, ...]
    exceptions: tuple[ResidencyException, ...]
    tables: RegionTables
    unresolved_severity: Severity = Severity.MEDIUM
    service_tag: str = "service"


def residency_policy_path(
    root: Path, config: RepoConfig, config_dir: Path | None, config_name: str = "compliance.yaml"
) -> Path | None:
    """The config's `residency.policy` (relative to the config file's folder), else
    policies/residency.yaml under the root when it exists; None: no policy, nothing to check."""
    configured = config.residency.policy
    if configured is not None:
        path = (config_dir or root) / configured
        if not path.is_file():
            raise ConfigError(
                [Problem(config_name, "residency.policy", f"no such file: {configured}")]
            )
        return path
    candidate = root / DEFAULT_RESIDENCY_PATH
    return candidate if candidate.is_file() else None


def load_residency_policy(
    path: Path,
    display: str,
    *,
    policy_dir: Path,
    services: Sequence[str] | None = None,
) -> ResidencyPolicy:
    """Load the policy and the region tables under `policy_dir`; `services` (the repository's
    service names) lets a rule or exception naming no service be reported as the typo it is."""
    tables = region_tables(policy_dir)
    return parse_residency_policy(read_yaml(path, display), display, tables, services)


def region_tables(policy_dir: Path) -> RegionTables:
    """The region tables under a policy folder (policies/residency/regions/)."""
    return load_region_tables(
        policy_dir / "residency" / "regions", "(bundled) policies/residency/regions/"
    )


def parse_residency_policy(
    raw: Any,
    display: str,
    tables: RegionTables,
    services: Sequence[str] | None = None,
) -> ResidencyPolicy:
    """Validate everything; all problems are reported together, nothing half-loaded."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError([Problem(display, "", "expected a mapping with `rules`")])
    try:
        parsed = PolicyFile.model_validate(raw)
    except ValidationError as exc:
        raise ConfigError(validation_problems(exc, display)) from None
    problems: list[Problem] = []
    tables = extended(tables, parsed.regions, display, "regions", problems)
    names = None if services is None else [*services, REPO_SERVICE]
    rules: list[ResidencyRule] = []
    seen: dict[str, int] = {}
    for index, item in enumerate(parsed.rules):
        where = f"rules[{index}]"
        try:
            entry = RuleEntry.model_validate(item)
        except ValidationError as exc:
            problems += prefixed(validation_problems(exc, display), where)
            continue
        if entry.id in seen:
            problems.append(
                Problem(
                    display, f"{where}.id", f"duplicate id {entry.id!r} (rules[{seen[entry.id]}])"
                )
            )
            continue
        seen[entry.id] = index
        rule = _rule(entry, index, parsed.severity, tables, display, problems)
        problems += _unknown_services(entry.services, names, display, f"{where}.services")
        if rule is not None:
            rules.append(rule)
    exceptions = parse_exceptions(parsed.exceptions, seen, names, display, problems)
    if problems:
        raise ConfigError(problems)
    return ResidencyPolicy(
        source=display,
        rules=tuple(rules),
        exceptions=exceptions,
        tables=tables,
        unresolved_severity=parsed.unresolved_severity,
        service_tag=parsed.service_tag,
    )


def _rule(
    entry: RuleEntry,
    index: int,
    severity: Severity,
    tables: RegionTables,
    display: str,
    problems: list[Problem],
) -> ResidencyRule | None:
    allowed: dict[Provider, frozenset[str]] = {}
    written: dict[Provider, tuple[str, ...]] = {}
    found: list[Problem] = []
    for provider in Provider:
        names = getattr(entry.allowed, provider.value)
        if names is None:
            continue
        table = tables[provider]
        ids: set[str] = set()
        for i, name in enumerate(names):
            expanded = table.expand(name) if name != GLOBAL else frozenset({GLOBAL})
            if expanded is None:
                hint = table.suggestions(name)
                more = f" (did you mean {' or '.join(hint)}?)" if hint else ""
                found.append(
                    Problem(
                        display,
                        f"rules[{index}].allowed.{provider.value}[{i}]",
                        f"unknown {provider.value} region, location or group {name!r}{more}",
                    )
                )
                continue
            ids |= expanded
        allowed[provider] = frozenset(ids)
        written[provider] = tuple(names)
    problems += found
    if found:
        return None
    return ResidencyRule(
        id=entry.id,
        description=entry.description,
        classes=frozenset(entry.data_classification),
        services=entry.services,
        allowed=allowed,
        written=written,
        severity=entry.severity or severity,
        index=index,
    )


def _unknown_services(
    patterns: Sequence[str], names: Sequence[str] | None, display: str, key: str
) -> list[Problem]:
    if names is None:
        return []
    known = ", ".join(names)
    return [
        Problem(display, f"{key}[{i}]", f"matches no service: {pattern!r} (services: {known})")
        for i, pattern in enumerate(patterns)
        if not any(fnmatch.fnmatchcase(n, pattern) for n in names)
    ]
