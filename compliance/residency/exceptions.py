"""Residency exceptions: accepted breaches of the residency policy, each scoped, owned,
reasoned and dated, like waivers (compliance/policy/waivers.py).

An exception scopes by resource address glob(s) and/or path glob(s), optionally by rule id
glob(s), service and region; it needs an owner, a reason and an expiry (an approver is
optional, and never the owner). Expired exceptions load: whether one is in force is asked
with the scan's date, and an expired one suppresses nothing.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from compliance.errors import Problem, validation_problems
from compliance.policy import expiry
from compliance.policy.expiry import Expiry
from compliance.policy.files import prefixed
from compliance.policy.waivers import path_glob


def _as_tuple(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Globs = Annotated[tuple[Text, ...], BeforeValidator(_as_tuple), Field(min_length=1)]
Names = Annotated[tuple[Text, ...], BeforeValidator(_as_tuple)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ExceptionEntry(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    rule: Globs | None = None
    resource: Globs | None = None
    path: Globs | None = None
    service: Text | None = None
    region: Names = ()
    reason: str = Field(min_length=10)
    owner: Text
    approver: Text | None = None
    ticket: Text | None = None
    expires: Expiry

    @model_validator(mode="after")
    def _scope(self) -> ExceptionEntry:
        if self.resource is None and self.path is None:
            raise ValueError("needs a scope: `resource` and/or `path`")
        if self.approver is not None and self.owner.casefold() == self.approver.casefold():
            raise ValueError("`approver` must not be the `owner`")
        return self


@dataclass(frozen=True, slots=True)
class ResidencyException:
    """An accepted residency breach: owned, reasoned, dated."""

    id: str
    rules: tuple[str, ...]
    resources: tuple[str, ...]
    paths: tuple[str, ...]
    service: str | None
    regions: tuple[str, ...]
    reason: str
    owner: str
    approver: str | None
    ticket: str | None
    expires: date
    index: int

    def in_force(self, today: date) -> bool:
        """True through the whole of the expiry day."""
        return expiry.in_force(self.expires, today)

    def matches(
        self, *, rule: str | None, address: str, path: str, service: str, region: str | None
    ) -> bool:
        """`rule` None: an unresolved region, which any exception of the scope covers when it
        names no rule."""
        if self.rules and (
            rule is None or not any(fnmatch.fnmatchcase(rule, r) for r in self.rules)
        ):
            return False
        if self.resources and not any(fnmatch.fnmatchcase(address, r) for r in self.resources):
            return False
        if self.paths and not any(path_glob(p).match(path) for p in self.paths):
            return False
        if self.service is not None and self.service != service:
            return False
        if self.regions:
            wanted = {r.casefold() for r in self.regions}
            return region is not None and region.casefold() in wanted
        return True

    def describe(self) -> str:
        parts = [f"owner {self.owner}"]
        if self.approver:
            parts.append(f"approved by {self.approver}")
        if self.ticket:
            parts.append(f"ticket {self.ticket}")
        parts.append(f"expires {self.expires.isoformat()}")
        return f"{self.reason} ({', '.join(parts)})"


def parse_exceptions(
    items: Sequence[dict[str, Any]],
    rule_ids: Mapping[str, int],
    names: Sequence[str] | None,
    display: str,
    problems: list[Problem],
) -> tuple[ResidencyException, ...]:
    out: list[ResidencyException] = []
    first: dict[str, int] = {}
    for index, item in enumerate(items):
        where = f"exceptions[{index}]"
        try:
            entry = ExceptionEntry.model_validate(item)
        except ValidationError as exc:
            problems += prefixed(validation_problems(exc, display), where)
            continue
        if entry.id in first:
            problems.append(
                Problem(
                    display,
                    f"{where}.id",
                    f"duplicate id {entry.id!r} (exceptions[{first[entry.id]}])",
                )
            )
            continue
        first[entry.id] = index
        for i, pattern in enumerate(entry.rule or ()):
            if not any(fnmatch.fnmatchcase(r, pattern) for r in rule_ids):
                problems.append(
                    Problem(display, f"{where}.rule[{i}]", f"matches no rule: {pattern!r}")
                )
        if entry.service is not None and names is not None and entry.service not in names:
            problems.append(
                Problem(display, f"{where}.service", f"unknown service {entry.service!r}")
            )
        out.append(
            ResidencyException(
                id=entry.id,
                rules=entry.rule or (),
                resources=entry.resource or (),
                paths=entry.path or (),
                service=entry.service,
                regions=entry.region,
                reason=re.sub(r"\s+", " ", entry.reason).strip(),
                owner=entry.owner,
                approver=entry.approver,
                ticket=entry.ticket,
                expires=entry.expires,
                index=index,
            )
        )
    return tuple(sorted(out, key=lambda e: e.id))
