"""Mapping rules: which findings bear on which controls (controls/mappings/*.yaml).

Each rule selects findings (by tool, rule id glob, checkov check id glob, CWE, finding kind or
category), names the SOC 2 and ISO 27001 controls they bear on, the scanners whose clean run
is the evidence, and a rationale for auditors. Strict like the catalogues: an unknown key,
an unknown control, scanner or kind, a duplicate rule id, a rule naming a control the
catalogue marks manual, or an empty rule set is a ConfigError naming the file and the key
path. Every file is checked before any rule is returned; nothing is half-loaded.
"""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    model_validator,
)

from compliance import yamlsafe
from compliance.errors import ConfigError, Problem, validation_problems
from compliance.model import FindingKind
from compliance.policy.catalogue import Automation, Catalogue, load_catalogue

#: The folder under the controls directory that holds the rule files.
MAPPINGS_DIR = "mappings"
#: Scanners a rule may name. A test keeps this equal to the scanner registry's keys (the
#: policy layer cannot import the scanners).
KNOWN_SCANNERS = ("bandit", "semgrep", "pip-audit", "checkov", "residency", "threatmodel")
CHECKOV = "checkov"


def _as_tuple(value: Any) -> Any:
    """`rule: B608` and `rule: [B608, B611]` both mean a tuple."""
    return (value,) if isinstance(value, str) else value


Glob = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Globs = Annotated[tuple[Glob, ...], BeforeValidator(_as_tuple), Field(min_length=1)]
Cwes = Annotated[
    tuple[Annotated[str, StringConstraints(pattern=r"^CWE-[0-9]+$")], ...],
    BeforeValidator(_as_tuple),
    Field(min_length=1),
]
Kinds = Annotated[tuple[FindingKind, ...], BeforeValidator(_as_tuple), Field(min_length=1)]
Names = Annotated[tuple[Glob, ...], BeforeValidator(_as_tuple), Field(min_length=1)]


class Evidence(enum.Enum):
    """What shows a rule's controls hold: no finding it selects, or the scan having run."""

    FINDINGS = "findings"
    SCAN_COMPLETED = "scan-completed"


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SelectorEntry(_Strict):
    tool: str | None = None
    rule: Globs | None = None
    check: Globs | None = None
    cwe: Cwes | None = None
    kind: Kinds | None = None
    category: Names | None = None

    @model_validator(mode="after")
    def _not_empty(self) -> SelectorEntry:
        if all(getattr(self, name) is None for name in type(self).model_fields):
            raise ValueError("an empty selector would select every finding")
        if self.check is not None and self.tool not in (None, CHECKOV):
            raise ValueError("`check` selects checkov check ids: drop `tool` or set it to checkov")
        return self


class RuleEntry(_Strict):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    rationale: str = Field(min_length=20)
    scanners: tuple[str, ...] = Field(min_length=1)
    evidence: Evidence = Evidence.FINDINGS
    select: tuple[SelectorEntry, ...] = ()
    controls: tuple[str, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _evidence_and_select(self) -> RuleEntry:
        match self.evidence:
            case Evidence.FINDINGS:
                if not self.select:
                    raise ValueError("needs `select`, or `evidence: scan-completed`")
            case Evidence.SCAN_COMPLETED:
                if self.select:
                    raise ValueError("a `scan-completed` rule selects no findings: drop `select`")
        return self


class MappingFile(_Strict):
    """The file's shape; each rule is validated on its own, so one bad rule does not hide
    the problems of its neighbours."""

    rules: tuple[dict[str, Any], ...]


@dataclass(frozen=True, slots=True)
class Selector:
    """Findings matching every given field (a tuple means any of its values)."""

    tool: str | None = None
    rules: tuple[str, ...] = ()
    checks: tuple[str, ...] = ()
    cwes: tuple[str, ...] = ()
    kinds: tuple[FindingKind, ...] = ()
    categories: tuple[str, ...] = ()

    def describe(self) -> str:
        parts = [f"tool={self.tool}"] if self.tool else []
        for name, values in (
            ("rule", self.rules),
            ("check", self.checks),
            ("cwe", self.cwes),
            ("kind", tuple(k.value for k in self.kinds)),
            ("category", self.categories),
        ):
            if values:
                parts.append(f"{name}={'|'.join(values)}")
        return " ".join(parts)


@dataclass(frozen=True, slots=True)
class MappingRule:
    id: str
    rationale: str
    scanners: tuple[str, ...]
    evidence: Evidence
    selectors: tuple[Selector, ...]
    controls: tuple[str, ...]
    source: str


@dataclass(frozen=True, slots=True)
class MappingRules:
    rules: tuple[MappingRule, ...]

    def for_control(self, control_id: str) -> tuple[MappingRule, ...]:
        return tuple(r for r in self.rules if control_id in r.controls)

    def get(self, rule_id: str) -> MappingRule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


@dataclass(frozen=True, slots=True)
class ControlPolicy:
    """The catalogues and the mapping rules, validated together."""

    catalogue: Catalogue
    rules: MappingRules


def load_control_policy(folder: Path) -> ControlPolicy:
    """Load the catalogues and the mapping rules under `folder`; every problem at once."""
    problems: list[Problem] = []
    catalogue: Catalogue | None = None
    try:
        catalogue = load_catalogue(folder)
    except ConfigError as error:
        problems += error.problems
    try:
        rules = load_mapping_rules(folder, catalogue)
    except ConfigError as error:
        problems += error.problems
    if problems:
        raise ConfigError(problems)
    assert catalogue is not None
    return ControlPolicy(catalogue, rules)


def load_mapping_rules(folder: Path, catalogue: Catalogue | None) -> MappingRules:
    """Load `folder/mappings/*.yaml`. Control ids are checked when a catalogue is given."""
    base = folder / MAPPINGS_DIR
    files = sorted(base.glob("*.yaml")) + sorted(base.glob("*.yml"))
    problems: list[Problem] = []
    rules: list[MappingRule] = []
    first_seen: dict[str, str] = {}
    for path in files:
        display = path.relative_to(folder).as_posix()
        entries = _parse_file(path, display, problems)
        for index, entry in entries:
            where = f"rules[{index}]"
            found = _check_rule(entry, where, display, catalogue)
            if entry.id in first_seen:
                duplicate = f"duplicate rule id {entry.id!r} (first in {first_seen[entry.id]})"
                found.append(Problem(display, f"{where}.id", duplicate))
            first_seen.setdefault(entry.id, display)
            problems += found
            if not found:
                rules.append(_rule(entry, display))
    if not files:
        problems.append(
            Problem(MAPPINGS_DIR, "", "no mapping rule defined (an empty rule set is not a pass)")
        )
    if problems:
        raise ConfigError(problems)
    return MappingRules(tuple(rules))


def _parse_file(path: Path, display: str, problems: list[Problem]) -> list[tuple[int, RuleEntry]]:
    """The file's valid rules with their index; every problem goes to `problems`."""
    try:
        raw = yamlsafe.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(display, "", f"cannot read: {exc}"))
        return []
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark else ""
        problems.append(Problem(display, where, f"invalid YAML: {getattr(exc, 'problem', exc)}"))
        return []
    if not isinstance(raw, dict):
        problems.append(Problem(display, "", "expected a mapping with `rules` at the top level"))
        return []
    try:
        parsed = MappingFile.model_validate(raw)
    except ValidationError as exc:
        problems += validation_problems(exc, display)
        return []
    if not parsed.rules:
        problems.append(Problem(display, "rules", "no rule defined: drop the file or add one"))
    entries = []
    for index, entry in enumerate(parsed.rules):
        try:
            entries.append((index, RuleEntry.model_validate(entry)))
        except ValidationError as exc:
            for problem in validation_problems(exc, display):
                key = problem.location
                key = f"rules[{index}]" + (key if not key or key.startswith("[") else f".{key}")
                problems.append(Problem(display, key, problem.message))
    return entries


def _check_rule(
    entry: RuleEntry, where: str, display: str, catalogue: Catalogue | None
) -> list[Problem]:
    """What the schema cannot see: scanner names, control ids, selector/scanner agreement."""
    found: list[Problem] = []
    for i, name in enumerate(entry.scanners):
        if name not in KNOWN_SCANNERS:
            found.append(Problem(display, f"{where}.scanners[{i}]", _unknown_scanner(name)))
    for i, selector in enumerate(entry.select):
        key = f"{where}.select[{i}]"
        if selector.tool is not None and selector.tool not in KNOWN_SCANNERS:
            found.append(Problem(display, f"{key}.tool", _unknown_scanner(selector.tool)))
        elif selector.tool is not None and selector.tool not in entry.scanners:
            found.append(
                Problem(display, f"{key}.tool", f"{selector.tool!r} is not in the rule's scanners")
            )
        if selector.check is not None and CHECKOV not in entry.scanners:
            found.append(Problem(display, f"{key}.check", "checkov is not in the rule's scanners"))
    seen: set[str] = set()
    for i, control_id in enumerate(entry.controls):
        key = f"{where}.controls[{i}]"
        if control_id in seen:
            found.append(Problem(display, key, f"control {control_id!r} listed twice"))
        seen.add(control_id)
        if catalogue is None:
            continue
        control = catalogue.get(control_id)
        if control is None:
            found.append(Problem(display, key, f"unknown control {control_id!r}"))
        elif control.automation is Automation.MANUAL:
            found.append(
                Problem(
                    display,
                    key,
                    f"control {control_id} is manual in the catalogue ({control.source}); "
                    "mark it partial there before mapping findings to it",
                )
            )
    return found


def _unknown_scanner(name: str) -> str:
    return f"unknown scanner {name!r} (known: {', '.join(KNOWN_SCANNERS)})"


_SPACES = re.compile(r"\s+")


def _rule(entry: RuleEntry, source: str) -> MappingRule:
    selectors = tuple(
        Selector(
            tool=s.tool,
            rules=s.rule or (),
            checks=s.check or (),
            cwes=s.cwe or (),
            kinds=s.kind or (),
            categories=s.category or (),
        )
        for s in entry.select
    )
    return MappingRule(
        id=entry.id,
        rationale=_SPACES.sub(" ", entry.rationale).strip(),
        scanners=entry.scanners,
        evidence=entry.evidence,
        selectors=selectors,
        controls=entry.controls,
        source=source,
    )
