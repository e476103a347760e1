"""The threat library: the shipped one is complete and valid; a broken one is exit 3 with the
file and key path."""

from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

import pytest

from compliance.config import bundled_controls_dir, bundled_threatmodels_dir
from compliance.errors import ConfigError
from compliance.policy.catalogue import load_catalogue
from compliance.threatmodel.facts import TAGS
from compliance.threatmodel.library import REQUIRED_CONTROLS, Risk, Stride, load_library

CATALOGUE = load_catalogue(bundled_controls_dir())
BUNDLED = [(bundled_threatmodels_dir() / "library", "threatmodels/library")]


def test_the_shipped_library_is_substantial_and_valid() -> None:
    library = load_library(BUNDLED, CATALOGUE)
    threats = library.threats
    assert len(threats) >= 40
    per_stride = Counter(t.stride for t in threats)
    assert set(per_stride) == set(Stride)
    assert all(count >= 4 for count in per_stride.values()), per_stride
    components = {t.component for t in threats}
    assert {
        "internet-facing-api",
        "service-to-service",
        "datastores",
        "messaging",
        "object-storage",
        "secrets",
        "authentication",
        "logging",
        "sensitive-data",
    } <= components
    for threat in threats:
        assert set(REQUIRED_CONTROLS) <= set(threat.controls), threat.id
        assert all(CATALOGUE.get(c) is not None for c in threat.controls), threat.id
        assert all(re.fullmatch(r"CWE-[1-9]\d*", c) for c in threat.cwe), threat.id
        assert all(re.fullmatch(r"CAPEC-[1-9]\d*", c) for c in threat.capec), threat.id
        assert threat.applies_when.positive <= TAGS and threat.high_when <= TAGS
        assert threat.question.endswith("?"), threat.id
        assert len(threat.mitigations) >= 2 or threat.risk is Risk.LOW, threat.id
    assert sum(1 for t in threats if t.cwe) >= 40


def test_every_tag_that_facts_can_carry_selects_some_threat() -> None:
    library = load_library(BUNDLED, CATALOGUE)
    used = set()
    for threat in library.threats:
        used |= threat.applies_when.positive | threat.applies_when.none | threat.high_when
    frameworks = {t for t in TAGS if t.startswith("framework:")}
    unused = TAGS - used - frameworks - {"exposure"}
    # Public and internal data raise no threat of their own; confidential is data:sensitive.
    assert unused == {"data:public", "data:internal", "data:confidential"}, unused


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")
    return folder


GOOD = """
version: 1
component: custom
title: Custom
threats:
  - id: custom-threat
    title: A custom threat
    stride: tampering
    risk: high
    applies_when: {all: [datastore]}
    description: A description long enough to be read by engineers and auditors alike.
    question: Is the custom threat handled?
    mitigations: [Handle it.]
    controls: [CC3.2, A.8.26, A.8.27]
"""


def test_a_repository_can_add_and_override_threats(tmp_path: Path) -> None:
    own = write(tmp_path / "lib", "custom.yaml", GOOD.replace("custom-threat", "sql-injection"))
    write(own, "more.yaml", GOOD)
    library = load_library([*BUNDLED, (own, "threatmodels/library")], CATALOGUE)
    assert library.get("custom-threat") is not None
    overridden = library.get("sql-injection")
    assert overridden is not None and overridden.title == "A custom threat"


def test_problems_name_the_file_and_key_path(tmp_path: Path) -> None:
    bad = (
        GOOD.replace("[all: [datastore]]", "")
        .replace("all: [datastore]", "all: [datastroe]")
        .replace("controls: [CC3.2, A.8.26, A.8.27]", "controls: [CC3.2, A.8.99]")
        .replace("stride: tampering", "stride: tampering\n    severity: high")
    )
    folder = write(tmp_path / "lib", "bad.yaml", bad)
    write(
        folder,
        "worse.yaml",
        GOOD.replace("CWE", "").replace(
            "mitigations: [Handle it.]", "mitigations: []\n    cwe: [CWE-12x]"
        ),
    )
    with pytest.raises(ConfigError) as caught:
        load_library([(folder, "lib")], CATALOGUE)
    assert [str(p) for p in caught.value.problems] == [
        "lib/bad.yaml: threats[0].severity: unknown key",
        "lib/worse.yaml: threats[0].mitigations: "
        "Tuple should have at least 1 item after validation, not 0",
        "lib/worse.yaml: threats[0].cwe[0]: String should match pattern '^CWE-[1-9][0-9]*$'",
    ]
    write(folder, "bad.yaml", bad.replace("    severity: high\n", ""))
    (folder / "worse.yaml").unlink()
    with pytest.raises(ConfigError) as caught:
        load_library([(folder, "lib")], CATALOGUE)
    assert [str(p) for p in caught.value.problems] == [
        "lib/bad.yaml: threats[0].applies_when.all[0]: unknown tag 'datastroe'",
        "lib/bad.yaml: threats[0].controls: must include A.8.26, A.8.27 (every threat is risk "
        "identification and a security requirement of the architecture)",
        "lib/bad.yaml: threats[0].controls[1]: unknown control 'A.8.99'",
    ]


def test_duplicates_and_an_empty_library_are_errors(tmp_path: Path) -> None:
    folder = write(tmp_path / "lib", "a.yaml", GOOD)
    write(folder, "b.yaml", GOOD)
    with pytest.raises(ConfigError) as caught:
        load_library([(folder, "lib")], CATALOGUE)
    assert [str(p) for p in caught.value.problems] == [
        "lib/b.yaml: threats[0].id: duplicate threat id 'custom-threat' (first in lib/a.yaml)"
    ]
    with pytest.raises(ConfigError, match="invalid configuration"):
        load_library([(tmp_path / "empty", "empty")], CATALOGUE)
