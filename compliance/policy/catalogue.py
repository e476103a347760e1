"""Control catalogues: ISO/IEC 27001:2022 Annex A and the SOC 2 Trust Services Criteria.

Each framework is a folder of YAML files (`controls/iso27001/*.yaml`, `controls/soc2/*.yaml`)
validated strictly: an unknown key, a duplicate id, a file of the wrong framework or an
empty catalogue is a ConfigError naming the file and the key path. Nothing is half-loaded:
every file is checked before any control is returned.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from compliance import yamlsafe
from compliance.errors import ConfigError, Problem, validation_problems


class Framework(enum.Enum):
    ISO27001 = "iso27001"
    SOC2 = "soc2"


class Automation(enum.Enum):
    AUTOMATED = "automated"
    PARTIAL = "partial"
    MANUAL = "manual"


ID_PATTERNS = {
    Framework.ISO27001: re.compile(r"^A\.[5-8]\.[1-9][0-9]?$"),
    Framework.SOC2: re.compile(r"^(CC[1-9]|A1|C1|PI1|P[1-8])\.[1-9]$"),
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ControlEntry(_Strict):
    id: str = Field(min_length=1)
    title: str = Field(min_length=1)
    automation: Automation
    evidence: str = Field(min_length=1)


class CatalogueFile(_Strict):
    framework: Framework
    theme: Literal["organizational", "people", "physical", "technological"] | None = None
    category: (
        Literal[
            "common-criteria",
            "availability",
            "confidentiality",
            "processing-integrity",
            "privacy",
        ]
        | None
    ) = None
    series: str | None = None
    controls: tuple[ControlEntry, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _grouping(self) -> CatalogueFile:
        if self.framework is Framework.ISO27001 and self.theme is None:
            raise ValueError("an ISO 27001 file needs `theme`")
        if self.framework is Framework.SOC2 and (self.category is None or self.series is None):
            raise ValueError("a SOC 2 file needs `category` and `series`")
        return self


@dataclass(frozen=True, slots=True)
class Control:
    framework: Framework
    id: str
    title: str
    automation: Automation
    evidence: str
    group: str
    source: str


@dataclass(frozen=True, slots=True)
class Catalogue:
    controls: tuple[Control, ...]

    def framework(self, framework: Framework) -> tuple[Control, ...]:
        return tuple(c for c in self.controls if c.framework is framework)

    def get(self, control_id: str) -> Control | None:
        return next((c for c in self.controls if c.id == control_id), None)


def load_catalogue(folder: Path, frameworks: Iterable[Framework] = tuple(Framework)) -> Catalogue:
    """Load every framework's folder under `folder`; all problems are reported at once."""
    problems: list[Problem] = []
    controls: list[Control] = []
    for framework in frameworks:
        found = _load_framework(folder / framework.value, framework, folder, problems)
        if not found and not any(p.file.startswith(framework.value) for p in problems):
            problems.append(
                Problem(framework.value, "", "empty catalogue: no control defined (not a pass)")
            )
        controls += found
    seen: dict[str, str] = {}
    for control in controls:
        if control.id in seen:
            problems.append(
                Problem(control.source, f"id {control.id}", f"duplicate of {seen[control.id]}")
            )
        seen.setdefault(control.id, control.source)
    if problems:
        raise ConfigError(problems)
    order = {f: i for i, f in enumerate(Framework)}
    return Catalogue(tuple(sorted(controls, key=lambda c: (order[c.framework], _id_key(c.id)))))


def _load_framework(
    folder: Path, framework: Framework, base: Path, problems: list[Problem]
) -> list[Control]:
    controls: list[Control] = []
    files = sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml"))
    for path in files:
        display = path.relative_to(base).as_posix()
        try:
            raw = yamlsafe.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError) as exc:
            problems.append(Problem(display, "", f"cannot read: {exc}"))
            continue
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f"line {mark.line + 1}" if mark else ""
            problems.append(
                Problem(display, where, f"invalid YAML: {getattr(exc, 'problem', exc)}")
            )
            continue
        declared = raw.get("framework") if isinstance(raw, dict) else None
        if isinstance(declared, str) and declared != framework.value:
            wrong = f"is {declared}, expected {framework.value}"
            problems.append(Problem(display, "framework", wrong))
            continue
        try:
            parsed = CatalogueFile.model_validate(raw)
        except ValidationError as exc:
            problems += validation_problems(exc, display)
            continue
        for index, entry in enumerate(parsed.controls):
            if not ID_PATTERNS[framework].match(entry.id):
                problems.append(
                    Problem(
                        display,
                        f"controls[{index}].id",
                        f"not a {framework.value} id: {entry.id!r}",
                    )
                )
                continue
            group = parsed.theme or parsed.series or ""
            controls.append(
                Control(
                    framework,
                    entry.id,
                    entry.title,
                    entry.automation,
                    entry.evidence,
                    group,
                    display,
                )
            )
    return controls


def _id_key(control_id: str) -> tuple[str, ...]:
    """A.5.10 after A.5.9; CC1.2 before CC10.1."""
    return tuple(
        part.zfill(4) if part.isdigit() else part for part in re.split(r"(\d+)", control_id)
    )


def control_sort_key(control_id: str) -> tuple[int, tuple[str, ...]]:
    """The order of every control list: framework (ISO 27001, then SOC 2), then natural id."""
    order = next(
        (i for i, f in enumerate(Framework) if ID_PATTERNS[f].match(control_id)), len(Framework)
    )
    return order, _id_key(control_id)
