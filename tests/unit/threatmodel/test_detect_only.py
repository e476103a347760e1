"""A scan detects facts only for services that have a threat model: the same facts."""

from __future__ import annotations

from pathlib import Path

from compliance.prepare import prepare
from compliance.threatmodel.detect import detect_facts


def test_only_the_named_services_are_detected_with_the_same_facts(examples_dir: Path) -> None:
    prepared = prepare(examples_dir)
    every = detect_facts(prepared.root, prepared.inventory, prepared.services)
    names = [s.name for s in prepared.services]
    assert len(names) >= 3 and all(every.facts[n] for n in names[:2])
    some = detect_facts(prepared.root, prepared.inventory, prepared.services, only={names[0]})
    assert some.facts == {names[0]: every.facts[names[0]]}
    none = detect_facts(prepared.root, prepared.inventory, prepared.services, only=set())
    assert none.facts == {} and none.skipped == ()
