"""Collecting facts from several detectors: the same fact seen in the code, a dependency file
and a manifest becomes one fact with every location and the union of its tags."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from compliance.threatmodel.facts import TAGS, Fact, FactKind, FactLocation, sorted_facts

#: At most this many locations are kept per fact (a reviewer needs a few, not hundreds).
MAX_LOCATIONS = 12
#: At most this many names are listed in a fact's detail.
MAX_NAMES = 12


@dataclass
class _Draft:
    kind: FactKind
    summary: str
    tags: set[str]
    locations: set[FactLocation] = field(default_factory=set)
    names: set[str] = field(default_factory=set)
    #: Set by the code detectors; a summary from code wins over one from a dependency file.
    strong: bool = False


class FactBuilder:
    """Accumulates facts by id."""

    def __init__(self) -> None:
        self._drafts: dict[str, _Draft] = {}

    def add(
        self,
        fact_id: str,
        kind: FactKind,
        summary: str,
        tags: Iterable[str],
        location: FactLocation | None = None,
        *,
        names: Iterable[str] = (),
        weak: bool = False,
    ) -> None:
        """Record (or extend) a fact. `weak` summaries (from dependency files) give way to
        the code's. Unknown tags are a bug in a detector: fail loudly in tests."""
        tag_set = set(tags)
        unknown = tag_set - TAGS
        assert not unknown, f"unknown tags {sorted(unknown)} for {fact_id}"
        draft = self._drafts.get(fact_id)
        if draft is None:
            draft = _Draft(kind, summary, tag_set, strong=not weak)
            self._drafts[fact_id] = draft
        else:
            draft.tags |= tag_set
            if not weak and not draft.strong:
                draft.summary, draft.strong = summary, True
        if location is not None:
            draft.locations.add(location)
        draft.names.update(n for n in names if n)

    def tag(self, fact_id: str, *tags: str, location: FactLocation | None = None) -> bool:
        """Add tags (and a location) to an existing fact; False when there is none."""
        draft = self._drafts.get(fact_id)
        if draft is None:
            return False
        assert not set(tags) - TAGS, tags
        draft.tags.update(tags)
        if location is not None:
            draft.locations.add(location)
        return True

    def has(self, fact_id: str) -> bool:
        return fact_id in self._drafts

    def ids(self, kind: FactKind | None = None) -> list[str]:
        return [i for i, d in self._drafts.items() if kind is None or d.kind is kind]

    def absorb(self, generic: str, specifics: list[str], *, unless: frozenset[str]) -> None:
        """Fold a generic fact (`messaging:kafka`, seen in an import) into the specific ones
        (`messaging:kafka:orders`) when it says nothing more: no tag from `unless` (a role
        from a call whose resource was not resolved keeps the generic fact)."""
        draft = self._drafts.get(generic)
        targets = [self._drafts[i] for i in specifics if i in self._drafts and i != generic]
        if draft is None or not targets or draft.tags & unless:
            return
        for target in targets:
            target.locations |= draft.locations
        del self._drafts[generic]

    def with_tag(self, tag: str) -> list[str]:
        return [i for i, d in self._drafts.items() if tag in d.tags]

    def build(self) -> tuple[Fact, ...]:
        facts = []
        for fact_id, draft in self._drafts.items():
            locations = sorted(draft.locations, key=lambda loc: (loc.path, loc.line or 0))
            names = sorted(draft.names)
            detail = None
            if names:
                shown = ", ".join(names[:MAX_NAMES])
                more = len(names) - MAX_NAMES
                detail = shown + (f" (and {more} more)" if more > 0 else "")
            facts.append(
                Fact(
                    id=fact_id,
                    kind=draft.kind,
                    summary=draft.summary,
                    tags=frozenset(draft.tags),
                    locations=tuple(locations[:MAX_LOCATIONS]),
                    detail=detail,
                )
            )
        return sorted_facts(facts)
