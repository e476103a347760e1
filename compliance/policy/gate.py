"""The gate policy (policies/gate.yaml): when a scan fails the merge.

```yaml
version: 1
fail_on: high                 # required: the severity at or above which an open finding fails
mode: new-only                # all (default) | new-only: findings in the baseline do not fail
baseline: .compliance/baseline.json   # the baseline new-only compares with (repo-relative)
overrides:                    # thresholds per service and/or data classification
  - service: payments         # a name or a list of names (globs)
    fail_on: medium
  - data_classification: [pii, payment]
    fail_on: medium
limits:                       # optional caps on open findings per control or framework
  - control: A.8.24
    max_findings: 0
  - framework: soc2
    max_failed_controls: 0
waivers:
  max_days: 365               # the furthest a waiver's expiry may be from the scan date
```

Strict: an unknown key, an unknown control or framework, or an empty file is a ConfigError
naming the file and the key path. When several overrides match a finding the strictest
wins, so a classification rule (pii -> medium) cannot be undone by a service rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
    model_validator,
)

from compliance.errors import ConfigError, Problem
from compliance.model import GateMode, Severity
from compliance.policy.catalogue import Catalogue, Framework
from compliance.policy.files import read_yaml, validate_file

#: Where a repository keeps its gate policy, relative to its root, unless its config says.
DEFAULT_GATE_PATH = "policies/gate.yaml"
#: The longest a waiver may run unless the gate policy says otherwise.
DEFAULT_WAIVER_MAX_DAYS = 365


def _as_tuple(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


def _severity(value: Any) -> Any:
    return Severity.parse(value) if isinstance(value, str) else value


Name = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Names = Annotated[tuple[Name, ...], BeforeValidator(_as_tuple), Field(min_length=1)]
SeverityField = Annotated[Severity, BeforeValidator(_severity)]
DataClass = Literal["public", "internal", "confidential", "pii", "payment"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OverrideEntry(_Strict):
    service: Names | None = None
    data_classification: (
        Annotated[tuple[DataClass, ...], BeforeValidator(_as_tuple), Field(min_length=1)] | None
    ) = None
    fail_on: SeverityField

    @model_validator(mode="after")
    def _selects(self) -> OverrideEntry:
        if self.service is None and self.data_classification is None:
            raise ValueError("an override needs `service` or `data_classification`")
        return self


class LimitEntry(_Strict):
    control: Name | None = None
    framework: Framework | None = None
    max_findings: int | None = Field(default=None, ge=0)
    max_failed_controls: int | None = Field(default=None, ge=0)
    #: Count only open findings at or above this severity (default: every open finding).
    severity: SeverityField | None = None

    @model_validator(mode="after")
    def _shape(self) -> LimitEntry:
        if (self.control is None) == (self.framework is None):
            raise ValueError("a limit names exactly one of `control` or `framework`")
        if self.max_findings is None and self.max_failed_controls is None:
            raise ValueError("a limit needs `max_findings` or `max_failed_controls`")
        if self.max_failed_controls is not None and self.framework is None:
            raise ValueError("`max_failed_controls` applies to a `framework` limit")
        return self


class WaiverSettings(_Strict):
    max_days: int = Field(default=DEFAULT_WAIVER_MAX_DAYS, ge=1, le=3650)


class GateFile(_Strict):
    version: Literal[1] = 1
    fail_on: SeverityField
    mode: GateMode = GateMode.ALL
    baseline: Name | None = None
    overrides: tuple[OverrideEntry, ...] = ()
    limits: tuple[LimitEntry, ...] = ()
    waivers: WaiverSettings = WaiverSettings()

    @field_validator("baseline")
    @classmethod
    def _relative(cls, value: str | None) -> str | None:
        if value is not None and (value.startswith("/") or ".." in re.split(r"[\\/]", value)):
            raise ValueError("must be a path inside the repository")
        return value


@dataclass(frozen=True, slots=True)
class Override:
    index: int
    services: tuple[str, ...]
    data_classification: tuple[str, ...]
    fail_on: Severity

    @property
    def key(self) -> str:
        return f"overrides[{self.index}]"

    def describe(self) -> str:
        parts = []
        if self.services:
            parts.append(f"service {'|'.join(self.services)}")
        if self.data_classification:
            parts.append(f"data {'|'.join(self.data_classification)}")
        return " and ".join(parts)


@dataclass(frozen=True, slots=True)
class Limit:
    index: int
    control: str | None
    framework: str | None
    max_findings: int | None
    max_failed_controls: int | None
    severity: Severity | None

    @property
    def key(self) -> str:
        return f"limits[{self.index}]"

    @property
    def target(self) -> str:
        return self.control or self.framework or ""


@dataclass(frozen=True, slots=True)
class GatePolicy:
    """A validated gate policy. `source` is the file it came from (for reasons and reports)."""

    source: str
    fail_on: Severity
    mode: GateMode
    baseline: str | None
    overrides: tuple[Override, ...]
    limits: tuple[Limit, ...]
    waiver_max_days: int


def load_gate(path: Path, display: str, catalogue: Catalogue) -> GatePolicy:
    """Load and check a gate file; control ids are checked against the catalogue."""
    return parse_gate(read_yaml(path, display), display, catalogue)


def parse_gate(raw: Any, display: str, catalogue: Catalogue) -> GatePolicy:
    if raw is None or raw == {}:
        raise ConfigError(
            [Problem(display, "", "empty gate policy: it must at least set `fail_on` (not a pass)")]
        )
    parsed = validate_file(
        GateFile, raw, display, not_a_mapping="expected a mapping at the top level"
    )
    problems = []
    for index, limit in enumerate(parsed.limits):
        if limit.control is not None and catalogue.get(limit.control) is None:
            problems.append(
                Problem(display, f"limits[{index}].control", f"unknown control {limit.control!r}")
            )
    if problems:
        raise ConfigError(problems)
    return GatePolicy(
        source=display,
        fail_on=parsed.fail_on,
        mode=parsed.mode,
        baseline=parsed.baseline,
        overrides=tuple(
            Override(i, o.service or (), o.data_classification or (), o.fail_on)
            for i, o in enumerate(parsed.overrides)
        ),
        limits=tuple(
            Limit(
                i,
                lim.control,
                lim.framework.value if lim.framework else None,
                lim.max_findings,
                lim.max_failed_controls,
                lim.severity,
            )
            for i, lim in enumerate(parsed.limits)
        ),
        waiver_max_days=parsed.waivers.max_days,
    )
