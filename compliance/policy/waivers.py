"""The waiver policy (policies/waivers.yaml): accepted risks, each owned, approved and dated.

```yaml
version: 1
waivers:
  - id: W-0001
    rule: B608                  # rule id glob(s); with `path`, the scope ...
    path: services/api/db/**    # ... a path glob (`**` spans folders, `*` does not)
    service: api                # optional: only this service's findings
    tool: bandit                # optional
    reason: Queries are built from an allow-list of column names (see ticket).
    owner: alice@example.com
    approver: bob@example.com   # not the owner: a waiver needs a second pair of eyes
    ticket: SEC-142             # optional
    expires: 2027-03-31         # required, at most `waivers.max_days` (gate.yaml) out
  - id: W-0002
    fingerprint: 5f0c...        # or exactly one finding, by its 32-hex fingerprint
    ...
```

Strict: a waiver without an owner, approver, reason or expiry, with both or neither scope,
an expiry beyond the allowed horizon, or a duplicate id is a ConfigError naming the file and
the key path. Expired waivers load (they are reported, and stop suppressing): whether a
waiver is in force is the gate's question, asked with the scan's clock.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from datetime import date, timedelta
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
from compliance.policy import expiry
from compliance.policy.expiry import Expiry
from compliance.policy.files import read_yaml, validate_file, validate_items

#: Where a repository keeps its waivers, relative to its root, unless its config says.
DEFAULT_WAIVERS_PATH = "policies/waivers.yaml"


def _as_tuple(value: Any) -> Any:
    return (value,) if isinstance(value, str) else value


Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Globs = Annotated[tuple[Text, ...], BeforeValidator(_as_tuple), Field(min_length=1)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class WaiverEntry(_Strict):
    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    fingerprint: str | None = Field(default=None, pattern=r"^[0-9a-f]{32}$")
    rule: Globs | None = None
    path: Globs | None = None
    service: Text | None = None
    tool: Text | None = None
    reason: str = Field(min_length=10)
    owner: Text
    approver: Text
    ticket: Text | None = None
    expires: Expiry

    @field_validator("fingerprint", mode="before")
    @classmethod
    def _quoted(cls, value: Any) -> Any:
        if isinstance(value, int | float):
            raise ValueError("YAML read this fingerprint as a number: put it in quotes")
        return value

    @model_validator(mode="after")
    def _scope(self) -> WaiverEntry:
        scoped = self.rule is not None or self.path is not None
        if self.fingerprint is not None and (scoped or self.service or self.tool):
            raise ValueError(
                "scope is either `fingerprint` alone, or `rule` and `path` "
                "(optionally `service`, `tool`): not both"
            )
        if self.fingerprint is None and (self.rule is None or self.path is None):
            raise ValueError("needs a scope: `fingerprint`, or both `rule` and `path`")
        if self.owner.casefold() == self.approver.casefold():
            raise ValueError("`approver` must not be the `owner`: a waiver needs a second person")
        return self


class WaiverFile(_Strict):
    version: Literal[1] = 1
    waivers: tuple[dict[str, Any], ...] = ()


@dataclass(frozen=True, slots=True)
class Waiver:
    id: str
    fingerprint: str | None
    rules: tuple[str, ...]
    paths: tuple[str, ...]
    service: str | None
    tool: str | None
    reason: str
    owner: str
    approver: str
    ticket: str | None
    expires: date
    source: str
    index: int

    def in_force(self, today: date) -> bool:
        """True through the whole of the expiry day."""
        return expiry.in_force(self.expires, today)

    def describe(self) -> str:
        if self.fingerprint is not None:
            return f"fingerprint {self.fingerprint}"
        parts = [f"rule {'|'.join(self.rules)}", f"path {'|'.join(self.paths)}"]
        if self.service:
            parts.append(f"service {self.service}")
        if self.tool:
            parts.append(f"tool {self.tool}")
        return ", ".join(parts)


@dataclass(frozen=True, slots=True)
class Waivers:
    source: str | None
    waivers: tuple[Waiver, ...] = ()


def load_waivers(path: Path, display: str, *, today: date, max_days: int) -> Waivers:
    return parse_waivers(read_yaml(path, display), display, today=today, max_days=max_days)


def parse_waivers(raw: Any, display: str, *, today: date, max_days: int) -> Waivers:
    """Validate every waiver; all problems are reported together, nothing half-loaded."""
    if raw is None:
        raw = {}
    parsed = validate_file(
        WaiverFile, raw, display, not_a_mapping="expected a mapping with `waivers`"
    )
    problems: list[Problem] = []
    waivers: list[Waiver] = []
    first: dict[str, int] = {}
    horizon = today + timedelta(days=max_days)
    for index, entry in validate_items(WaiverEntry, parsed.waivers, "waivers", display, problems):
        where = f"waivers[{index}]"
        if entry.id in first:
            problems.append(
                Problem(
                    display,
                    f"{where}.id",
                    f"duplicate id {entry.id!r} (waivers[{first[entry.id]}])",
                )
            )
            continue
        first[entry.id] = index
        if entry.expires > horizon:
            problems.append(
                Problem(
                    display,
                    f"{where}.expires",
                    f"{entry.expires.isoformat()} is more than {max_days} days after "
                    f"{today.isoformat()} (gate policy `waivers.max_days`)",
                )
            )
            continue
        waivers.append(
            Waiver(
                id=entry.id,
                fingerprint=entry.fingerprint,
                rules=entry.rule or (),
                paths=entry.path or (),
                service=entry.service,
                tool=entry.tool,
                reason=re.sub(r"\s+", " ", entry.reason).strip(),
                owner=entry.owner,
                approver=entry.approver,
                ticket=entry.ticket,
                expires=entry.expires,
                source=display,
                index=index,
            )
        )
    if problems:
        raise ConfigError(problems)
    return Waivers(display, tuple(sorted(waivers, key=lambda w: w.id)))


@functools.lru_cache(maxsize=1024)
def path_glob(pattern: str) -> re.Pattern[str]:
    """A repo-relative POSIX path glob: `**` spans folders, `*` and `?` stay in one.

    `services/api/**` matches everything under services/api; `**/test_*.py` any test module.
    """
    out = []
    i = 0
    pattern = pattern.strip()
    pattern = pattern[2:] if pattern.startswith("./") else pattern
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out.append("(?:[^/]+/)*")
            i += 3
        elif pattern.startswith("**", i):
            out.append(".*")
            i += 2
        elif pattern[i] == "*":
            out.append("[^/]*")
            i += 1
        elif pattern[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(pattern[i]))
            i += 1
    return re.compile("".join(out) + r"\Z")
