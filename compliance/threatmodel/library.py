"""The threat library: STRIDE threats per component kind (threatmodels/library/*.yaml).

```yaml
version: 1
component: datastores            # what the file covers
threats:
  - id: sql-injection            # kebab-case, unique across the library
    title: SQL injection through string-built queries
    stride: tampering            # spoofing tampering repudiation information-disclosure
                                 # denial-of-service elevation-of-privilege
    risk: high                   # low medium high
    high_when: [data:pii]        # optional: high when the service has any of these tags
    applies_when:                # all: every tag; any: at least one; none: not one of them
      all: [datastore:sql]
    description: >-              # the threat, for the engineer and the auditor
    question: >-                 # what the reviewer answers
    mitigations: [...]
    cwe: [CWE-89]                # optional, well-formed
    capec: [CAPEC-66]            # optional, well-formed
    controls: [CC3.2, A.8.26, A.8.27, A.8.28]   # must exist in the catalogues
```

Strict like every policy file: an unknown key, an unknown tag (a typo would make a threat
silently never apply), a control the catalogues do not know, a threat without CC3.2, A.8.26
and A.8.27, or a duplicate id is a ConfigError naming the file and key path. A repository
can add threats (or replace a bundled one, by id) in `<threatmodel dir>/library/*.yaml`.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from compliance.errors import ConfigError, Problem, validation_problems
from compliance.policy.catalogue import Catalogue
from compliance.policy.files import prefixed, read_yaml
from compliance.threatmodel.facts import TAGS, Fact

#: Every threat supports these: it is risk identification (CC3.2) and a security requirement
#: (A.8.26) of the service's architecture (A.8.27).
REQUIRED_CONTROLS = ("CC3.2", "A.8.26", "A.8.27")
LIBRARY_DIR = "library"


class Stride(enum.Enum):
    SPOOFING = "spoofing"
    TAMPERING = "tampering"
    REPUDIATION = "repudiation"
    INFORMATION_DISCLOSURE = "information-disclosure"
    DENIAL_OF_SERVICE = "denial-of-service"
    ELEVATION_OF_PRIVILEGE = "elevation-of-privilege"

    @property
    def title(self) -> str:
        return self.value.replace("-", " ").capitalize()

    @property
    def rank(self) -> int:
        return list(Stride).index(self)


class Risk(enum.Enum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        return list(Risk).index(self)


Tag = Annotated[str, StringConstraints(min_length=1)]
Text = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ConditionEntry(_Strict):
    all: tuple[Tag, ...] = ()
    any: tuple[Tag, ...] = ()
    none: tuple[Tag, ...] = ()


class ThreatEntry(_Strict):
    id: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)
    title: Text
    stride: Stride
    risk: Risk
    high_when: tuple[Tag, ...] = ()
    applies_when: ConditionEntry
    description: str = Field(min_length=40)
    question: str = Field(min_length=20)
    mitigations: tuple[Text, ...] = Field(min_length=1)
    cwe: tuple[Annotated[str, StringConstraints(pattern=r"^CWE-[1-9][0-9]*$")], ...] = ()
    capec: tuple[Annotated[str, StringConstraints(pattern=r"^CAPEC-[1-9][0-9]*$")], ...] = ()
    controls: tuple[Text, ...] = Field(min_length=1)


class LibraryFile(_Strict):
    version: Literal[1]
    component: str = Field(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$")
    title: Text
    threats: tuple[dict[str, Any], ...] = Field(min_length=1)


@dataclass(frozen=True, slots=True)
class Condition:
    all: frozenset[str] = frozenset()
    any: frozenset[str] = frozenset()
    none: frozenset[str] = frozenset()

    def holds(self, tags: frozenset[str]) -> bool:
        return (
            self.all <= tags and (not self.any or bool(self.any & tags)) and not (self.none & tags)
        )

    @property
    def positive(self) -> frozenset[str]:
        return self.all | self.any


@dataclass(frozen=True, slots=True)
class Threat:
    id: str
    title: str
    stride: Stride
    risk: Risk
    high_when: frozenset[str]
    applies_when: Condition
    description: str
    question: str
    mitigations: tuple[str, ...]
    cwe: tuple[str, ...]
    capec: tuple[str, ...]
    controls: tuple[str, ...]
    component: str
    source: str

    def applies(self, tags: frozenset[str]) -> bool:
        return self.applies_when.holds(tags)

    def risk_for(self, tags: frozenset[str]) -> Risk:
        return Risk.HIGH if self.high_when & tags else self.risk

    def because(self, facts: Iterable[Fact]) -> tuple[str, ...]:
        """The facts that make the threat apply (or raise its risk), by id."""
        wanted = self.applies_when.positive | self.high_when
        return tuple(f.id for f in facts if f.tags & wanted)


@dataclass(frozen=True, slots=True)
class Library:
    threats: tuple[Threat, ...]
    #: Display names of the files the threats came from.
    sources: tuple[str, ...] = ()

    def get(self, threat_id: str) -> Threat | None:
        return next((t for t in self.threats if t.id == threat_id), None)

    def ids(self) -> frozenset[str]:
        return frozenset(t.id for t in self.threats)

    def applicable(self, tags: frozenset[str]) -> tuple[Threat, ...]:
        return tuple(t for t in self.threats if t.applies(tags))


def load_library(
    folders: Sequence[tuple[Path, str]], catalogue: Catalogue | None = None
) -> Library:
    """Load every `*.yaml` of each (folder, display prefix); later folders add threats or
    replace earlier ones by id. Every problem of every file is reported at once."""
    problems: list[Problem] = []
    threats: dict[str, Threat] = {}
    sources: list[str] = []
    for folder, display_prefix in folders:
        first_seen: dict[str, str] = {}
        for path in sorted(folder.glob("*.yaml")) + sorted(folder.glob("*.yml")):
            display = f"{display_prefix}/{path.name}" if display_prefix else path.name
            sources.append(display)
            for index, threat in _load_file(path, display, catalogue, problems):
                if threat.id in first_seen:
                    problems.append(
                        Problem(
                            display,
                            f"threats[{index}].id",
                            f"duplicate threat id {threat.id!r} (first in {first_seen[threat.id]})",
                        )
                    )
                    continue
                first_seen[threat.id] = display
                threats[threat.id] = threat
    if not threats and not problems:
        shown = ", ".join(d for _, d in folders) or "(none)"
        problems.append(Problem(shown, "", "no threat defined (an empty library is not a pass)"))
    if problems:
        raise ConfigError(problems)
    ordered = sorted(threats.values(), key=lambda t: (t.stride.rank, -t.risk.rank, t.id))
    return Library(tuple(ordered), tuple(sources))


def _load_file(
    path: Path, display: str, catalogue: Catalogue | None, problems: list[Problem]
) -> list[tuple[int, Threat]]:
    try:
        raw = read_yaml(path, display)
    except ConfigError as error:
        problems.extend(error.problems)
        return []
    if not isinstance(raw, dict):
        problems.append(Problem(display, "", "expected a mapping with `threats` at the top level"))
        return []
    try:
        parsed = LibraryFile.model_validate(raw)
    except ValidationError as exc:
        problems.extend(validation_problems(exc, display))
        return []
    threats = []
    for index, item in enumerate(parsed.threats):
        where = f"threats[{index}]"
        try:
            entry = ThreatEntry.model_validate(item)
        except ValidationError as exc:
            problems.extend(prefixed(validation_problems(exc, display), where))
            continue
        found = _check(entry, where, display, catalogue)
        problems.extend(found)
        if not found:
            threats.append((index, _threat(entry, parsed.component, display)))
    return threats


def _check(
    entry: ThreatEntry, where: str, display: str, catalogue: Catalogue | None
) -> list[Problem]:
    """What the schema cannot see: tags, controls, a condition that selects something."""
    found = []
    condition = entry.applies_when
    for key, tags in (
        ("applies_when.all", condition.all),
        ("applies_when.any", condition.any),
        ("applies_when.none", condition.none),
        ("high_when", entry.high_when),
    ):
        for i, tag in enumerate(tags):
            if tag not in TAGS:
                found.append(Problem(display, f"{where}.{key}[{i}]", f"unknown tag {tag!r}"))
    if not condition.all and not condition.any:
        found.append(
            Problem(display, f"{where}.applies_when", "needs `all` or `any`: facts that select it")
        )
    missing = [c for c in REQUIRED_CONTROLS if c not in entry.controls]
    if missing:
        found.append(
            Problem(
                display,
                f"{where}.controls",
                f"must include {', '.join(missing)} (every threat is risk identification and a "
                "security requirement of the architecture)",
            )
        )
    seen: set[str] = set()
    for i, control in enumerate(entry.controls):
        if control in seen:
            found.append(Problem(display, f"{where}.controls[{i}]", f"{control} listed twice"))
        seen.add(control)
        if catalogue is not None and catalogue.get(control) is None:
            found.append(Problem(display, f"{where}.controls[{i}]", f"unknown control {control!r}"))
    return found


def _threat(entry: ThreatEntry, component: str, source: str) -> Threat:
    condition = entry.applies_when
    return Threat(
        id=entry.id,
        title=entry.title,
        stride=entry.stride,
        risk=entry.risk,
        high_when=frozenset(entry.high_when),
        applies_when=Condition(
            frozenset(condition.all), frozenset(condition.any), frozenset(condition.none)
        ),
        description=" ".join(entry.description.split()),
        question=" ".join(entry.question.split()),
        mitigations=tuple(" ".join(m.split()) for m in entry.mitigations),
        cwe=entry.cwe,
        capec=entry.capec,
        controls=entry.controls,
        component=component,
        source=source,
    )
