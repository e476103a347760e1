from __future__ import annotations

from pathlib import Path

import pytest

from compliance.errors import ScannerFailure
from compliance.model import Confidence, FindingKind, Severity
from compliance.scanners.semgrep import parse_semgrep_output

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "scanners" / "semgrep"
FIXTURE = ASSETS / "fixture"


def test_recorded_findings_are_normalised() -> None:
    parsed = parse_semgrep_output((ASSETS / "findings.json").read_bytes(), FIXTURE)
    assert parsed.version == "1.185.0"
    rules = sorted((f.rule_id, f.location.path, f.location.start_line) for f in parsed.findings)
    assert rules == [
        ("hardcoded-credential-default", "pkg/client.py", 5),
        ("tls-verification-disabled", "pkg/broken.py", 4),
        ("tls-verification-disabled", "pkg/client.py", 9),
        ("tls-verification-disabled", "pkg/client.py", 13),
    ]
    multi = next(f for f in parsed.findings if f.location.start_line == 13)
    assert multi.location.end_line == 16
    # "requires login" never reaches a report: the lines come from the file.
    assert multi.snippet is not None and "verify=False" in multi.snippet
    assert all("requires login" not in (f.snippet or "") for f in parsed.findings)
    assert multi.severity is Severity.HIGH  # our metadata.severity, not semgrep's ERROR
    assert multi.confidence is Confidence.HIGH
    assert multi.cwe == ("CWE-295",)
    secret = next(f for f in parsed.findings if f.rule_id == "hardcoded-credential-default")
    assert secret.kind is FindingKind.SECRET


def test_config_error_is_a_failure() -> None:
    with pytest.raises(ScannerFailure, match="unable to find a config"):
        parse_semgrep_output((ASSETS / "bad-config.json").read_bytes(), FIXTURE)


def test_per_file_warning_becomes_a_skip() -> None:
    out = (
        b'{"results": [], "errors": [{"level": "warn", "type": ["PartialParsing", []],'
        b' "path": "a.py", "message": "Syntax error"}], "version": "1.0"}'
    )
    parsed = parse_semgrep_output(out, FIXTURE)
    assert [(s.path, s.tool) for s in parsed.skipped] == [("a.py", "semgrep")]
    assert "PartialParsing" in parsed.skipped[0].reason


@pytest.mark.parametrize(
    "garbage",
    [b"", b"{", b"null", b'{"errors": []}', b'{"results": ["x"]}', b'{"results": [{}]}'],
)
def test_garbage_is_a_failure_never_a_pass(garbage: bytes) -> None:
    with pytest.raises(ScannerFailure):
        parse_semgrep_output(garbage, FIXTURE)


def test_file_lists_are_split_only_past_the_kernel_limit() -> None:
    from compliance.scanners.process import arg_cost
    from compliance.scanners.semgrep import _chunks

    files = [f"pkg/module_{i:05d}.py" for i in range(4000)]
    assert _chunks(files, 1_000_000) == [files]
    chunks = _chunks(files, 20_000)
    assert [f for c in chunks for f in c] == files
    assert all(sum(arg_cost(f) for f in c) <= 20_000 for c in chunks)
