"""Every parser against every nasty document, each time (the property tests draw them only
now and then): empty input, NUL, a BOM, invalid UTF-8, JSON's NaN, an integer of 5,000
digits, nesting past the stack, YAML bombs and tags, TOML nested too deeply.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from pathlib import Path

import pytest

from compliance.config import bundled_policy_dir, load_config
from compliance.evidence.manifest import MalformedManifest, parse_manifest
from compliance.evidence.signing import MalformedEnvelope, parse_envelope
from compliance.partial import load_partial
from compliance.policy.baseline import load_baseline
from compliance.policy.gate import load_gate
from compliance.policy.waivers import load_waivers
from compliance.reporting.load import parse_result
from compliance.residency.policy import load_residency_policy
from compliance.scanners.bandit import parse_bandit_output
from compliance.scanners.checkov import parse_checkov_output
from compliance.scanners.pip_audit.osv_local import load_record
from compliance.scanners.pip_audit.scanner import parse_report
from compliance.scanners.pip_audit.sources import parse_dependency_file
from compliance.scanners.semgrep import parse_semgrep_output
from compliance.scanners.semgrep_run import parse_envelope as parse_semgrep_envelope
from compliance.threatmodel.modelfile import load_model

from .nasty import NASTY_BYTES, NASTY_TEXT
from .strategies import expect_ours
from .test_policy_files import TODAY, catalogue, library
from .test_scanner_outputs import CHECKOV_ROOT, checkov_table

Parse = Callable[[bytes, Path], object]


def _file(name: str, parse: Callable[[Path], object]) -> Parse:
    def run(data: bytes, folder: Path) -> object:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return parse(path)

    return run


def _manifest(data: bytes, _folder: Path) -> object:
    # The verifier reports a MalformedManifest as a problem of the bundle.
    try:
        return parse_manifest(data)
    except MalformedManifest as exc:
        return exc


def _dsse(data: bytes, _folder: Path) -> object:
    try:
        return parse_envelope(data)
    except MalformedEnvelope as exc:
        return exc


JSON_PARSERS: dict[str, Parse] = {
    "bandit": parse_bandit_output,
    "semgrep": parse_semgrep_output,
    "semgrep envelope": lambda data, _folder: parse_semgrep_envelope(data),
    "checkov": lambda data, _folder: parse_checkov_output(
        data, root=CHECKOV_ROOT, table=checkov_table()
    ),
    "pip-audit report": lambda data, _folder: parse_report(data),
    "dependency file": lambda data, _folder: parse_dependency_file(
        "Pipfile.lock", data.decode("utf-8", "replace"), lambda _p: None
    ),
    "OSV advisory": _file("PYSEC-0.json", lambda p: load_record(p, p.name)),
    "baseline": _file("baseline.json", lambda p: load_baseline(p, p.name)),
    "saved result": lambda data, _folder: parse_result(data.decode("utf-8", "replace"), "r"),
    "partial": _file("shard.json", lambda p: load_partial(p, p.name)),
    "evidence manifest": _manifest,
    "evidence attestation": _dsse,
}


@functools.cache
def _policy_dir() -> Path:
    return bundled_policy_dir()


YAML_LOADERS: dict[str, Parse] = {
    "config": _file("repo/compliance.yaml", lambda p: load_config(p.parent)),
    "gate": _file("gate.yaml", lambda p: load_gate(p, p.name, catalogue())),
    "waivers": _file("waivers.yaml", lambda p: load_waivers(p, p.name, today=TODAY, max_days=9)),
    "residency policy": _file(
        "residency.yaml", lambda p: load_residency_policy(p, p.name, policy_dir=_policy_dir())
    ),
    "threat model": _file("api.yaml", lambda p: load_model(p, p.name, library())),
    "OSV advisory": _file("PYSEC-0.yaml", lambda p: load_record(p, p.name)),
}

TOML_TEXT = (
    "x = " + "[" * 5_000 + "]" * 5_000,
    "x = " + "9" * 5_000,
    "x = " + "{a = " * 2_000 + "1" + "}" * 2_000,
    "[[package]]\nname = 7",
    "tool = 1",
)
TOML_PARSERS: dict[str, Parse] = {
    f"dependency file ({name})": (
        lambda data, _folder, name=name: parse_dependency_file(
            name, data.decode("utf-8"), lambda _p: None
        )
    )
    for name in ("pyproject.toml", "uv.lock", "poetry.lock", "pylock.toml")
} | {"config": _file("repo/pyproject.toml", lambda p: load_config(p.parent, explicit=p))}


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("nasty")


@pytest.mark.parametrize("data", NASTY_BYTES, ids=lambda d: repr(d[:12]))
@pytest.mark.parametrize("parser", sorted(JSON_PARSERS))
def test_json_parsers(folder: Path, parser: str, data: bytes) -> None:
    expect_ours(parser, lambda: JSON_PARSERS[parser](data, folder))


@pytest.mark.parametrize("text", NASTY_TEXT, ids=lambda t: repr(t[:12]))
@pytest.mark.parametrize("loader", sorted(YAML_LOADERS))
def test_yaml_loaders(folder: Path, loader: str, text: str) -> None:
    expect_ours(loader, lambda: YAML_LOADERS[loader](text.encode("utf-8"), folder))


@pytest.mark.parametrize("text", TOML_TEXT, ids=lambda t: repr(t[:12]))
@pytest.mark.parametrize("parser", sorted(TOML_PARSERS))
def test_toml_parsers(folder: Path, parser: str, text: str) -> None:
    target = "config" if parser == "config" else "dependency file"
    expect_ours(target, lambda: TOML_PARSERS[parser](text.encode("utf-8"), folder))
