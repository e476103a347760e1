"""Our own YAML (and the baseline's JSON), on hostile text: every loader returns, or raises
ConfigError naming the file.

A repository brings its own config, gate, waivers, baseline, residency policy, threat
models, and may bring its own catalogues, mapping rules and threat library: all of them are
untrusted input. Each is fed the real file mutated (as a document, dumped again), arbitrary
YAML documents (values dumped with yaml.safe_dump), arbitrary text, and YAML that defeats
naive loaders (aliases, recursion, tags, deep nesting, huge numbers).
"""

from __future__ import annotations

import functools
import json
import shutil
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from compliance.config import (
    bundled_controls_dir,
    bundled_policy_dir,
    bundled_threatmodels_dir,
    load_config,
)
from compliance.model import ScanResult
from compliance.policy.baseline import load_baseline, render_baseline
from compliance.policy.catalogue import Catalogue, load_catalogue
from compliance.policy.files import read_yaml
from compliance.policy.gate import load_gate
from compliance.policy.mapping_rules import load_mapping_rules
from compliance.policy.waivers import load_waivers
from compliance.reporting.load import load_result
from compliance.residency.policy import parse_residency_policy, region_tables
from compliance.residency.regions import RegionTables
from compliance.threatmodel.library import Library, load_library
from compliance.threatmodel.modelfile import load_model

from .strategies import (
    ASSETS,
    REPO,
    damaged,
    dump_json,
    dump_toml,
    expect_ours,
    fuzz_settings,
    json_values,
    keys_of,
    mutated,
    texts,
)

TODAY = date(2026, 11, 29)
SERVICES = ["api", "payments", "worker"]


def yaml_files(*paths: Path) -> list[Any]:
    return [yaml.safe_load(p.read_text(encoding="utf-8")) for p in paths]


@functools.cache
def catalogue() -> Catalogue:
    return load_catalogue(bundled_controls_dir())


@functools.cache
def library() -> Library:
    folder = bundled_threatmodels_dir() / "library"
    return load_library([(folder, "threatmodels/library")], catalogue())


@functools.cache
def tables() -> RegionTables:
    return region_tables(bundled_policy_dir())


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("policy")


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(text.encode("utf-8", "surrogatepass"))
    return path


# --- repository config (compliance.yaml, or [tool.compliance] in pyproject.toml) ---------------

CONFIGS = yaml_files(REPO / "examples" / "compliance.yaml")
CONFIG_WORDS = {"scan", "policy", "residency", "threatmodel", "cache", "fail_on", "exclude"}


@fuzz_settings()
@given(text=texts(CONFIGS, CONFIG_WORDS))
def test_config(folder: Path, text: str) -> None:
    root = folder / "config"
    write(root / "compliance.yaml", text)
    expect_ours("config", lambda: load_config(root))


#: TOML that is not what the loader expects: nesting past the stack, a huge integer.
NASTY_TOML = (
    "[tool.compliance]\nx = " + "[" * 5_000 + "]" * 5_000,
    "[tool.compliance]\nx = " + "9" * 5_000,
    "tool = " + "{a = " * 2_000 + "1" + "}" * 2_000,
    "[tool]\ncompliance = 1",
    'tool = "compliance"',
    "[[tool]]\ncompliance = {}",
)


@fuzz_settings(scale=0.5)
@given(
    text=st.one_of(
        st.tuples(
            st.sampled_from(["tool", "project", "x"]),
            st.one_of(
                st.sampled_from(CONFIGS).flatmap(mutated).map(lambda d: {"compliance": d}),
                json_values(CONFIG_WORDS | {"tool", "compliance"}),
            ),
        ).map(lambda pair: dump_toml({pair[0]: pair[1]})),
        st.sampled_from(NASTY_TOML),
    )
)
def test_config_in_pyproject(folder: Path, text: str) -> None:
    root = folder / "pyproject"
    path = write(root / "pyproject.toml", text)
    expect_ours("config", lambda: load_config(root))
    expect_ours("config", lambda: load_config(root, explicit=path))


# --- gate, waivers, baseline ---------------------------------------------------------------

GATES = yaml_files(REPO / "policies" / "gate.yaml", REPO / "examples" / "policies" / "gate.yaml")


@fuzz_settings()
@given(text=texts(GATES))
def test_gate(folder: Path, text: str) -> None:
    path = write(folder / "gate.yaml", text)
    expect_ours("gate", lambda: load_gate(path, "policies/gate.yaml", catalogue()))


WAIVERS = yaml_files(REPO / "examples" / "policies" / "waivers.yaml")


@fuzz_settings()
@given(text=texts(WAIVERS), max_days=st.sampled_from([1, 365, 3650]))
def test_waivers(folder: Path, text: str, max_days: int) -> None:
    path = write(folder / "waivers.yaml", text)
    expect_ours(
        "waivers",
        lambda: load_waivers(path, "policies/waivers.yaml", today=TODAY, max_days=max_days),
    )


@functools.cache
def examples_result() -> ScanResult:
    return load_result(ASSETS / "results" / "examples.json", "examples.json")


@st.composite
def baselines(draw: st.DrawFn) -> bytes:
    real = json.loads(render_baseline(examples_result().findings[:8], "compliance 0.1.0"))
    choice = draw(st.integers(0, 3))
    if choice == 0:
        return dump_json(draw(json_values(keys_of(real))))
    data = dump_json(draw(mutated(real)))
    return draw(damaged(data)) if choice == 3 else data


@fuzz_settings()
@given(data=baselines())
def test_baseline(folder: Path, data: bytes) -> None:
    path = folder / "baseline.json"
    path.write_bytes(data)
    expect_ours("baseline", lambda: load_baseline(path, ".compliance-baseline.json"))


# --- catalogues and mapping rules (a repository may bring its own) ----------------------------

CONTROLS = REPO / "controls"
SOC2_FILES = sorted((CONTROLS / "soc2").glob("*.yaml"))[:4]
SOC2 = yaml_files(*SOC2_FILES)
MAPPINGS = yaml_files(*sorted((CONTROLS / "mappings").glob("*.yaml")))


@pytest.fixture(scope="module")
def controls(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the bundled catalogues: each example replaces one file of it."""
    root = tmp_path_factory.mktemp("controls") / "controls"
    shutil.copytree(CONTROLS, root)
    return root


@fuzz_settings()
@given(data=st.data())
def test_catalogue(controls: Path, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(SOC2) - 1))
    write(controls / "soc2" / SOC2_FILES[index].name, data.draw(texts([SOC2[index]])))
    try:
        expect_ours("catalogue", lambda: load_catalogue(controls))
    finally:
        shutil.copy(SOC2_FILES[index], controls / "soc2" / SOC2_FILES[index].name)


@fuzz_settings()
@given(text=texts(MAPPINGS), checked=st.booleans())
def test_mapping_rules(folder: Path, text: str, checked: bool) -> None:
    root = folder / "rules"
    write(root / "mappings" / "fuzz.yaml", text)
    expect_ours("mapping rules", lambda: load_mapping_rules(root, catalogue() if checked else None))


# --- threat models and the threat library -----------------------------------------------------


@functools.cache
def threat_model() -> dict[str, Any]:
    ids = sorted(library().ids())
    return {
        "version": 1,
        "service": "api",
        "path": "services/api",
        "review": {
            "reviewer": "dana@acme.example",
            "reviewed_on": date(2026, 10, 1),
            "facts_fingerprint": "sha256:" + "ab" * 32,
        },
        "facts": [
            {
                "id": "http:flask",
                "kind": "framework",
                "summary": "Flask HTTP API",
                "found_in": ["services/api/app/main.py:3"],
                "first_seen": date(2026, 1, 5),
                "tags": ["http"],
            },
            {
                "id": "manual:sql",
                "kind": "datastore",
                "summary": "Orders database",
                "tags": ["datastore:sql"],
                "source": "manual",
            },
        ],
        "threats": [
            {
                "id": ids[0],
                "title": "a threat",
                "because": ["http:flask"],
                "status": "mitigated",
                "owner": "dana@acme.example",
                "expires": date(2027, 1, 1),
                "note": "handled",
                "evidence": ["docs/x.md"],
            },
            {"id": ids[-1], "status": "open"},
        ],
    }


@fuzz_settings()
@given(data=st.data())
def test_threat_model(folder: Path, data: st.DataObject) -> None:
    text = data.draw(texts([threat_model()]))
    path = write(folder / "threatmodels" / "api.yaml", text)
    expect_ours("threat model", lambda: load_model(path, "threatmodels/api.yaml", library()))


LIBRARY = REPO / "threatmodels" / "library"
LIBRARY_FILES = sorted(LIBRARY.glob("*.yaml"))[:3]
THREAT_LIBRARY = yaml_files(*LIBRARY_FILES)


@pytest.fixture(scope="module")
def own_library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("library") / "library"
    shutil.copytree(LIBRARY, root)
    return root


@fuzz_settings()
@given(data=st.data())
def test_threat_library(own_library: Path, data: st.DataObject) -> None:
    index = data.draw(st.integers(0, len(LIBRARY_FILES) - 1))
    name = LIBRARY_FILES[index].name
    write(own_library / name, data.draw(texts([THREAT_LIBRARY[index]])))
    try:
        expect_ours(
            "threat library",
            lambda: load_library([(own_library, "threatmodels/library")], catalogue()),
        )
    finally:
        shutil.copy(LIBRARY_FILES[index], own_library / name)


# --- residency policy -------------------------------------------------------------------------

RESIDENCY = yaml_files(REPO / "examples" / "policies" / "residency.yaml")


@fuzz_settings()
@given(text=texts(RESIDENCY), services=st.sampled_from([None, SERVICES]))
def test_residency_policy(folder: Path, text: str, services: list[str] | None) -> None:
    path = write(folder / "residency.yaml", text)

    def load() -> object:
        # load_residency_policy, with the bundled region tables read once.
        raw = read_yaml(path, "policies/residency.yaml")
        return parse_residency_policy(raw, "policies/residency.yaml", tables(), services)

    expect_ours("residency policy", load)
