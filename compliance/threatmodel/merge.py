"""`init`: build a service's model from its facts and the library, or bring an existing one up
to date without losing anything a person wrote.

What init owns and rewrites: the detected facts (with the day each was first seen, kept),
and per threat its title, STRIDE category, risk, question and the facts that select it.
What people own and init keeps: each threat's status, owner, expiry, note and evidence; facts
written with `source: manual` (their tags select threats like detected ones); threats added
by hand; and the review block. A threat the facts no longer select is dropped only if nobody
wrote anything in it; otherwise it stays, marked `detected: false`, for a person to close.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from compliance.model import Service
from compliance.threatmodel.facts import Fact, all_tags, sorted_facts
from compliance.threatmodel.library import Library, Threat
from compliance.threatmodel.modelfile import FactEntry, ModelFile, Review, ThreatItem


@dataclass(frozen=True, slots=True)
class Merged:
    model: ModelFile
    new_facts: tuple[str, ...]
    gone_facts: tuple[str, ...]
    new_threats: tuple[str, ...]
    dropped_threats: tuple[str, ...]
    #: Kept because a person wrote in them, though the facts no longer select them.
    orphaned_threats: tuple[str, ...]


def model_facts(detected: Sequence[Fact], model: ModelFile | None) -> tuple[Fact, ...]:
    """The facts a model is about: what was detected, plus what people added by hand."""
    manual = model.manual_facts() if model is not None else ()
    detected_ids = {f.id for f in detected}
    return sorted_facts([*detected, *(f for f in manual if f.id not in detected_ids)])


def merge_model(
    service: Service,
    detected: Sequence[Fact],
    library: Library,
    existing: ModelFile | None,
    today: date,
) -> Merged:
    facts = model_facts(detected, existing)
    tags = all_tags(facts)
    old_facts = {f.id: f for f in existing.facts} if existing is not None else {}
    detected_ids = {f.id for f in detected}
    fact_entries = [_fact_entry(f, old_facts.get(f.id), today) for f in detected]
    fact_entries += [
        f for f in old_facts.values() if f.source == "manual" and f.id not in detected_ids
    ]
    fact_entries.sort(key=lambda e: e.to_fact().sort_key())

    old_items = {t.id: t for t in existing.threats} if existing is not None else {}
    items: list[ThreatItem] = []
    new_threats, dropped, orphaned = [], [], []
    applicable = {t.id for t in library.applicable(tags)}
    for threat in library.threats:
        old = old_items.get(threat.id)
        if threat.id in applicable:
            items.append(_item(threat, facts, tags, old, detected=True))
            if old is None:
                new_threats.append(threat.id)
        elif old is not None and old.touched:
            items.append(_item(threat, facts, tags, old, detected=False))
            orphaned.append(threat.id)
        elif old is not None:
            dropped.append(threat.id)
    order = {t.id: i for i, t in enumerate(library.threats)}
    items.sort(key=lambda i: order[i.id])

    old_detected = {i for i, f in old_facts.items() if f.source == "detected"}
    model = ModelFile(
        version=1,
        service=service.name,
        path=service.path or ".",
        review=existing.review if existing is not None else Review(),
        facts=tuple(fact_entries),
        threats=tuple(items),
    )
    return Merged(
        model=model,
        new_facts=tuple(f.id for f in detected if f.id not in old_facts),
        gone_facts=tuple(sorted(old_detected - detected_ids)),
        new_threats=tuple(new_threats),
        dropped_threats=tuple(dropped),
        orphaned_threats=tuple(orphaned),
    )


def _fact_entry(fact: Fact, old: FactEntry | None, today: date) -> FactEntry:
    first_seen = old.first_seen if old is not None and old.first_seen is not None else today
    return FactEntry(
        id=fact.id,
        kind=fact.kind,
        summary=fact.summary,
        detail=fact.detail,
        tags=tuple(sorted(fact.tags)),
        found_in=tuple(str(location) for location in fact.locations),
        first_seen=first_seen,
    )


def _item(
    threat: Threat,
    facts: Sequence[Fact],
    tags: frozenset[str],
    old: ThreatItem | None,
    *,
    detected: bool,
) -> ThreatItem:
    fresh = ThreatItem(
        id=threat.id,
        title=threat.title,
        stride=threat.stride,
        risk=threat.risk_for(tags),
        question=threat.question,
        because=threat.because(facts) if detected else (),
        detected=detected,
    )
    if old is None:
        return fresh
    refreshed = ("title", "stride", "risk", "question", "because", "detected")
    return old.model_copy(update={name: getattr(fresh, name) for name in refreshed})
