"""Each scanner's output parser, on hostile JSON: it returns, or raises ScannerFailure.

Inputs: the recorded real outputs (tests/assets/scanners/<tool>/) mutated, then sometimes
damaged at the byte level; arbitrary JSON using the recordings' keys; raw bytes; and the
nasty documents (deep nesting, huge integers, invalid UTF-8). The root folder the parsers
read snippets from is a copy of the recording's fixture plus a few hostile files.
"""

from __future__ import annotations

import functools
import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from compliance.config import bundled_policy_dir
from compliance.residency.policy import region_tables
from compliance.residency.regions import RegionTables
from compliance.scanners.bandit import parse_bandit_output
from compliance.scanners.checkov import CheckTable, load_check_table, parse_checkov_output
from compliance.scanners.pip_audit.findings import build_findings, check_report
from compliance.scanners.pip_audit.protocol import WorkerReport
from compliance.scanners.pip_audit.requirement import (
    Pinned,
    Unauditable,
    Unpinned,
    normalise_name,
)
from compliance.scanners.pip_audit.scanner import parse_report
from compliance.scanners.residency.code import parse_code_output
from compliance.scanners.semgrep import parse_semgrep_output
from compliance.scanners.semgrep_run import parse_envelope
from compliance.scanners.source import SnippetReader

from .strategies import ASSETS, documents, expect_ours, fuzz_settings

SCANNERS = ASSETS / "scanners"
#: Where checkov's recordings were made (tests/assets/scanners/checkov/README.md).
CHECKOV_ROOT = "/tmp/checkov-fixtures"


def recordings(tool: str) -> list[Any]:
    return [json.loads(p.read_bytes()) for p in sorted((SCANNERS / tool).glob("*.json"))]


def hostile_root(base: Path, fixture: Path | None) -> Path:
    """A copy of `fixture` with files that trip readers: invalid UTF-8, NUL, a nosec on a line
    that does not tokenize, a folder named like a file, a line a megabyte long."""
    root = base / "root"
    if fixture is not None:
        shutil.copytree(fixture, root)
    pkg = root / "pkg"
    pkg.mkdir(parents=True, exist_ok=True)
    (pkg / "hostile.py").write_bytes(
        b"\xff\xfe x = 1  # nosec B101,\x00\n"
        b'"""unterminated  # nosec\n'
        b"y = 2  # nosemgrep: a, b c\n"
        b"\t\t  # nosem\n" + b"z" * 1_000_000 + b"\n"
    )
    (pkg / "folder.py").mkdir(exist_ok=True)
    return root


@pytest.fixture(scope="module")
def bandit_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile_root(tmp_path_factory.mktemp("bandit"), SCANNERS / "bandit" / "fixture")


@pytest.fixture(scope="module")
def semgrep_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile_root(tmp_path_factory.mktemp("semgrep"), SCANNERS / "semgrep" / "fixture")


@pytest.fixture(scope="module")
def residency_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return hostile_root(tmp_path_factory.mktemp("residency"), ASSETS / "residency")


@functools.cache
def checkov_table() -> CheckTable:
    # Not a fixture: hypothesis prints a failing test's arguments, and this one is huge.
    return load_check_table(bundled_policy_dir() / "checkov" / "checks.yaml")


@functools.cache
def tables() -> RegionTables:
    return region_tables(bundled_policy_dir())


# --- bandit ----------------------------------------------------------------------------------


@fuzz_settings()
@given(stdout=documents(recordings("bandit")))
def test_bandit_output(bandit_root: Path, stdout: bytes) -> None:
    expect_ours("bandit", lambda: parse_bandit_output(stdout, bandit_root))


# --- semgrep (our rule pack, and the envelope shared with the residency rules) -----------------


#: Crashes found by fuzzing, kept as fixed examples (the random search may not meet them).
SEMGREP_EXTRA_NOT_AN_OBJECT = json.dumps(
    {
        "results": [
            {"check_id": "r", "path": "a.py", "start": {"line": 1}, "end": {"line": 1}, "extra": 7}
        ]
    }
).encode()


@fuzz_settings()
@given(stdout=documents(recordings("semgrep")))
@example(stdout=SEMGREP_EXTRA_NOT_AN_OBJECT)
@example(stdout=b'{"results": [], "errors": true}')
def test_semgrep_output(semgrep_root: Path, stdout: bytes) -> None:
    expect_ours("semgrep", lambda: parse_semgrep_output(stdout, semgrep_root))


@fuzz_settings()
@given(stdout=documents(recordings("semgrep") + recordings("residency")))
@example(stdout=b'{"results": [], "errors": 5}')
def test_semgrep_envelope(stdout: bytes) -> None:
    expect_ours("semgrep envelope", lambda: parse_envelope(stdout, prefix="fuzz: "))


# --- checkov ---------------------------------------------------------------------------------


@fuzz_settings()
@given(stdout=documents(recordings("checkov")), base=st.sampled_from(["", "terraform", "skips"]))
def test_checkov_output(stdout: bytes, base: str) -> None:
    lines = SnippetReader(SCANNERS / "checkov" / "fixtures").lines
    expect_ours(
        "checkov",
        lambda: parse_checkov_output(
            stdout, root=CHECKOV_ROOT, table=checkov_table(), base=base, lines=lines
        ),
    )


# --- pip-audit's worker report ---------------------------------------------------------------

#: A worker report as the worker writes it (protocol.WorkerReport), for the scanner's pins.
WORKER_REPORT: dict[str, Any] = {
    "pip_audit_version": "2.10.1",
    "service": "local-osv",
    "advisory_db": {
        "path": "/srv/advisory-db",
        "layout": "per-package",
        "files": 9,
        "records_read": 2,
        "newest_modified": "2024-10-28T20:32:48Z",
    },
    "results": [
        {
            "name": "requests",
            "version": "2.25.1",
            "vulns": [
                {
                    "id": "PYSEC-2023-74",
                    "aliases": ["CVE-2023-32681", "GHSA-j8r2-6x86-q33q"],
                    "description": "Unintended leak of Proxy-Authorization header in requests.",
                    "fix_versions": ["2.31.0"],
                    "severity": "medium",
                    "severity_basis": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N (6.1)",
                    "published": "2023-05-26T18:15:14",
                    "cwe": ["CWE-200"],
                    "help_url": "https://github.com/advisories/GHSA-j8r2-6x86-q33q",
                }
            ],
        },
        {"name": "flask", "version": "2.3.3", "vulns": []},
    ],
    "not_audited": [{"name": "odd", "version": "1.0", "reason": "not on PyPI"}],
}
PINS = [("requests", "2.25.1"), ("flask", "2.3.3")]
REQUIREMENTS = (
    Pinned(normalise_name("requests"), "2.25.1", "requirements.txt", 1),
    Pinned(normalise_name("flask"), "2.3.3", "requirements.txt", 2),
    Unpinned(normalise_name("django"), ">=4", "a range", "requirements.txt", 3),
    Unauditable(normalise_name("tool"), "VCS", "requirements.txt", 4),
)


def _report_and_findings(stdout: bytes) -> object:
    report: WorkerReport = parse_report(stdout)
    findings = build_findings(REQUIREMENTS, report)
    check_report(report, PINS)  # last: it refuses a report that leaves a pin out
    return findings


@fuzz_settings()
@given(stdout=documents([WORKER_REPORT, {**WORKER_REPORT, "not_audited": []}]))
def test_pip_audit_worker_report(stdout: bytes) -> None:
    expect_ours("pip-audit report", lambda: _report_and_findings(stdout))


# --- residency code rules ----------------------------------------------------------------------


@fuzz_settings()
@given(stdout=documents(recordings("residency")))
def test_residency_code_output(residency_root: Path, stdout: bytes) -> None:
    expect_ours("residency code", lambda: parse_code_output(stdout, residency_root, tables()))
