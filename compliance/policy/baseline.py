"""The baseline: the findings a repository already has, so a gate can fail on new ones only.

A JSON file, one entry per line so a review diff shows exactly which findings came or went,
and no timestamp, so regenerating an unchanged baseline changes no byte:

```json
{
  "version": 1,
  "tool": "compliance 0.1.0",
  "findings": [
    {"fingerprint": "0a1b...", "count": 1, "tool": "bandit", "rule_id": "B608", ...}
  ]
}
```

Matching is a multiset operation on fingerprints: an entry with count n baselines at most n
findings with that fingerprint, so one baselined finding can never absorb a new identical
one. (Fingerprints already carry an occurrence index, so an identical snippet added to the
same file, or the same one in another file, has a fingerprint of its own; counts above 1
appear only when two findings collide, which the format still handles correctly.)
The other fields are for the people who review the file; only fingerprints are matched.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from compliance.model import Finding, Fingerprint
from compliance.policy.files import read_json, validate_file

BASELINE_VERSION = 1


class _Lenient(BaseModel):
    # Our own file, but humans may annotate entries: unknown keys are allowed there.
    model_config = ConfigDict(extra="allow", frozen=True)


class BaselineEntry(_Lenient):
    fingerprint: str = Field(pattern=r"^[0-9a-f]{32}$")
    count: int = Field(default=1, ge=1)


class BaselineFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    version: Literal[1]
    tool: str | None = None
    findings: tuple[BaselineEntry, ...]


@dataclass(frozen=True, slots=True)
class Baseline:
    source: str
    counts: Counter[str]

    @property
    def entries(self) -> int:
        return sum(self.counts.values())


def load_baseline(path: Path, display: str) -> Baseline:
    return parse_baseline(read_json(path, display), display)


def parse_baseline(raw: Any, display: str) -> Baseline:
    parsed = validate_file(
        BaselineFile,
        raw,
        display,
        not_a_mapping="expected a JSON object with `findings`",
        hint="regenerate it with `compliance baseline create`",
    )
    counts: Counter[str] = Counter()
    for entry in parsed.findings:
        counts[entry.fingerprint] += entry.count
    return Baseline(display, counts)


def render_baseline(findings: Iterable[Finding], tool: str) -> str:
    """The baseline file for these findings, deterministic (sorted, no timestamp)."""
    counts: Counter[Fingerprint] = Counter()
    first: dict[Fingerprint, Finding] = {}
    for finding in findings:
        counts[finding.fingerprint] += 1
        first.setdefault(finding.fingerprint, finding)
    ordered = sorted(
        first.values(),
        key=lambda f: (
            f.location.path,
            f.tool,
            f.rule_id,
            f.location.start_line or 0,
            f.fingerprint,
        ),
    )
    lines = [
        "    "
        + json.dumps(
            {
                "fingerprint": f.fingerprint,
                "count": counts[f.fingerprint],
                "tool": f.tool,
                "rule_id": f.rule_id,
                "path": f.location.path,
                "severity": f.severity.value,
            },
            ensure_ascii=False,
            separators=(", ", ": "),
        )
        for f in ordered
    ]
    body = "[\n" + ",\n".join(lines) + "\n  ]" if lines else "[]"
    return (
        "{\n"
        f'  "version": {BASELINE_VERSION},\n'
        f'  "tool": {json.dumps(tool)},\n'
        f'  "findings": {body}\n'
        "}\n"
    )
