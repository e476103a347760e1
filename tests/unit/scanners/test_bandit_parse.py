from __future__ import annotations

from pathlib import Path

import pytest

from compliance.errors import ScannerFailure
from compliance.model import Confidence, FindingKind, Severity
from compliance.scanners.bandit import parse_bandit_output, shard

ASSETS = Path(__file__).resolve().parents[2] / "assets" / "scanners" / "bandit"
FIXTURE = ASSETS / "fixture"


def test_recorded_findings_are_normalised() -> None:
    parsed = parse_bandit_output((ASSETS / "findings.json").read_bytes(), FIXTURE)
    by_rule = {f.rule_id: f for f in parsed.findings}
    assert set(by_rule) == {"B403", "B404", "B105", "B602", "B301", "B506", "B324"}
    shell = by_rule["B602"]
    assert shell.location.path == "pkg/app.py"
    assert shell.location.start_line == 11
    assert shell.severity is Severity.HIGH
    assert shell.confidence is Confidence.HIGH
    assert shell.cwe == ("CWE-78",)
    # The snippet is the flagged line only, read from the file (no numbered context).
    assert shell.snippet == "    return subprocess.call(cmd, shell=True)"
    assert by_rule["B105"].kind is FindingKind.SECRET


def test_newer_syntax_is_a_skip_not_a_clean_file() -> None:
    parsed = parse_bandit_output((ASSETS / "findings.json").read_bytes(), FIXTURE)
    (skip,) = parsed.skipped
    assert skip.path == "pkg/newsyntax.py"
    assert "syntax error" in skip.reason
    assert skip.tool == "bandit"


def test_clean_output() -> None:
    parsed = parse_bandit_output((ASSETS / "clean.json").read_bytes(), FIXTURE)
    assert parsed.findings == ()
    assert parsed.skipped == ()


@pytest.mark.parametrize(
    "garbage",
    [
        b"",
        b"not json",
        b'{"results": [',
        b"[]",
        b'{"errors": []}',
        b'{"results": [42]}',
        b'{"results": [{"test_id": "B1"}]}',
        b'{"results": [], "errors": {}}',
    ],
)
def test_garbage_is_a_failure_never_a_pass(garbage: bytes) -> None:
    with pytest.raises(ScannerFailure):
        parse_bandit_output(garbage, FIXTURE)


def test_shards_are_balanced_and_cover_every_file(tmp_path: Path) -> None:
    files = [f"f{i:04}.py" for i in range(401)]
    for i, name in enumerate(files):
        (tmp_path / name).write_text("x = 1\n" * (i % 7 + 1))
    shards = shard(files, 2, root=tmp_path)
    assert len(shards) == 2
    assert sorted(f for s in shards for f in s) == files
    assert abs(len(shards[0]) - len(shards[1])) < 40


def test_small_repos_use_one_process(tmp_path: Path) -> None:
    assert len(shard(["a.py", "b.py"], 8, root=tmp_path)) == 1


def test_nosec_comments_mark_findings_suppressed_as_bandit_would() -> None:
    parsed = parse_bandit_output((ASSETS / "findings-nosec.json").read_bytes(), FIXTURE)
    by_line = {(f.rule_id, f.location.start_line): f for f in parsed.findings}
    suppressed = {key for key, f in by_line.items() if f.suppression is not None}
    assert suppressed == {
        ("B404", 1),  # nosec B404
        ("B602", 7),  # bare nosec
        ("B602", 11),  # nosec B602
        ("B602", 15),  # nosec: test name
        ("B506", 23),  # nosec on the first line of a multi-line call
    }
    assert by_line[("B602", 19)].suppression is None  # nosec for another test
    assert by_line[("B602", 29)].suppression is None  # "# nosec" inside a string
    reason = by_line[("B602", 11)].suppression
    assert reason is not None and reason.justification.startswith("`# nosec B602` on line 11")
