"""Dogfooding: compliance scans its own package and its own dependency lock, in its own test run.

The scan runs the real bandit, semgrep and pip-audit over `compliance/` and
`requirements.lock.txt` (everything else of the repository is excluded by
tests/dogfood/compliance.yaml), offline: pip-audit reads the lock against the whole
../shared/advisory-db when it is there (the developers' workspace), else against
examples/advisory-db, the OSV subset bundled for the demo. The strictest gate applies
(`--fail-on low`): every finding in our own code is either fixed or waived, with its
justification, in tests/dogfood/waivers.yaml, a waiver file used by this scan only.

`requirements.lock.txt` pins the runtime closure of `compliance` as installed in the
development environment; regenerate it (after `pip install -e .`) with

    python tests/integration/test_dogfood.py > requirements.lock.txt
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "requirements.lock.txt"
DOGFOOD = REPO / "tests" / "dogfood"
SHARED_ADVISORY_DB = REPO.parent / "shared" / "advisory-db"
BUNDLED_ADVISORY_DB = REPO / "examples" / "advisory-db"
SCANNERS = ("bandit", "semgrep", "pip-audit")
#: The development tools of `[dev]`: none of them belongs in the runtime lock.
DEV_TOOLS = ("pytest", "pytest-xdist", "ruff", "mypy", "import-linter", "pre-commit")
_PIN = re.compile(r"^([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;#]+)\s*$")

LOCK_HEADER = """\
# The runtime dependencies of `compliance` (no extras, no dev tools) with the exact versions
# installed in the development environment (CPython 3.11, Linux): `pip freeze` narrowed to
# the closure of compliance's own requirements. The project audits it on itself:
# tests/integration/test_dogfood.py runs `compliance scan` with pip-audit over this file,
# offline, against examples/advisory-db (the bundled OSV subset), or against the full
# ../shared/advisory-db when that is present.
#
# Regenerate after changing dependencies (in the project's venv, after `pip install -e .`):
#     python tests/integration/test_dogfood.py > requirements.lock.txt
"""


def runtime_closure(root: str = "compliance") -> dict[str, str]:
    """Installed name -> version of every distribution `root` needs at run time (its
    requirements without extras, recursively, markers evaluated for this interpreter)."""
    found: dict[str, tuple[str, str, frozenset[str]]] = {}
    todo: list[tuple[str, frozenset[str]]] = [(root, frozenset())]
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if key in found and extras <= found[key][2]:
            continue
        dist = importlib.metadata.distribution(name)
        done = found[key][2] if key in found else frozenset()
        found[key] = (dist.metadata["Name"], dist.version, done | extras)
        for line in dist.requires or []:
            requirement = Requirement(line)
            environments = [{"extra": extra} for extra in sorted(extras) or [""]]
            if requirement.marker is not None and not any(
                requirement.marker.evaluate(env) for env in environments
            ):
                continue
            todo.append((requirement.name, frozenset(requirement.extras)))
    found.pop(canonicalize_name(root))
    return {name: version for name, version, _ in sorted(found.values())}


def render_lock() -> str:
    pins = sorted(runtime_closure().items(), key=lambda item: canonicalize_name(item[0]))
    return LOCK_HEADER + "".join(f"{name}=={version}\n" for name, version in pins)


def read_lock() -> dict[str, str]:
    pins = {}
    for line in LOCK.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        match = _PIN.match(line)
        assert match, f"{LOCK.name}: not an exact pin: {line!r}"
        pins[canonicalize_name(match[1])] = match[2]
    return pins


def advisory_db() -> Path:
    return SHARED_ADVISORY_DB if SHARED_ADVISORY_DB.is_dir() else BUNDLED_ADVISORY_DB


def test_lock_pins_the_runtime_dependencies_only() -> None:
    pins = read_lock()
    direct = {
        canonicalize_name(Requirement(line).name)
        for line in importlib.metadata.requires("compliance") or []
        if Requirement(line).marker is None
    }
    assert direct <= set(pins), f"regenerate {LOCK.name}: missing {sorted(direct - set(pins))}"
    assert not {canonicalize_name(t) for t in DEV_TOOLS} & set(pins)
    assert "compliance" not in pins


@dataclass(frozen=True)
class SelfScan:
    code: int
    data: dict[str, Any]
    stderr: str
    evidence: Path


@pytest.fixture(scope="module")
def self_scan(tmp_path_factory: pytest.TempPathFactory) -> SelfScan:
    out = tmp_path_factory.mktemp("dogfood")
    command = [
        sys.executable,
        "-m",
        "compliance",
        "scan",
        str(REPO),
        "--config",
        str(DOGFOOD / "compliance.yaml"),
        "--waivers",
        str(DOGFOOD / "waivers.yaml"),
        "--advisory-db",
        str(advisory_db()),
        "--fail-on",
        "low",
        "--no-cache",
        "--evidence",
        str(out / "evidence"),
        "--format",
        "json",
        "-q",
        *(arg for name in SCANNERS for arg in ("--scanner", name)),
    ]
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=300, check=False, cwd=out, env=os.environ
    )
    assert done.stdout, done.stderr
    return SelfScan(done.returncode, json.loads(done.stdout), done.stderr, out / "evidence")


def test_self_scan_runs_every_scanner_cleanly(self_scan: SelfScan) -> None:
    statuses = {s["name"]: (s["status"], s["error"]) for s in self_scan.data["scanners"]}
    assert statuses == dict.fromkeys(SCANNERS, ("ok", None)), self_scan.stderr
    assert self_scan.code in (0, 1), self_scan.stderr


def test_self_scan_covers_our_code_and_only_that(self_scan: SelfScan) -> None:
    paths = {f["path"] for f in self_scan.data["findings"]}
    assert paths, "the self-scan found nothing at all: it probably scanned nothing"
    assert all(p.startswith("compliance/") or p == LOCK.name for p in paths), sorted(paths)
    commands = {s["name"]: s["commands"] for s in self_scan.data["scanners"]}
    python_files = len(list((REPO / "compliance").rglob("*.py")))
    for tool in ("bandit", "semgrep"):
        assert any(f"<{python_files} Python files>" in c for c in commands[tool][0]), commands


def test_pip_audit_audited_every_pin_of_our_lock(self_scan: SelfScan) -> None:
    """The raw pip-audit report in the self-scan's evidence bundle names every pin."""
    audited: dict[str, str] = {}
    for raw in sorted((self_scan.evidence / "raw" / "pip-audit").glob("*.stdout")):
        report = json.loads(raw.read_text(encoding="utf-8"))
        assert report["service"] == "local-osv", report["service"]
        for entry in report["results"]:
            audited[canonicalize_name(entry["name"])] = entry["version"]
    assert audited == read_lock()


def test_self_scan_evidence_verifies(self_scan: SelfScan) -> None:
    verify = ["evidence", "verify", str(self_scan.evidence), "--allow-unsigned"]
    done = subprocess.run(
        [sys.executable, "-m", "compliance", *verify],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_finding_in_our_code_is_fixed_or_waived(self_scan: SelfScan) -> None:
    data = self_scan.data
    open_findings = [
        f"{f['tool']} {f['rule_id']} {f['path']}:{f['line']} {f['title']}"
        for f in data["findings"]
        if f["suppression"] is None
    ]
    assert not open_findings, "fix these, or waive them in tests/dogfood/waivers.yaml:\n" + (
        "\n".join(open_findings)
    )
    not_active = {w["id"]: w["state"] for w in data["waivers"] if w["state"] != "active"}
    assert not not_active, f"renew or remove these self-scan waivers: {not_active}"
    assert self_scan.code == 0, self_scan.stderr


if __name__ == "__main__":
    sys.stdout.write(render_lock())
