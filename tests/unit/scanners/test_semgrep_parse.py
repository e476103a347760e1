from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from compliance.config import bundled_policy_dir
from compliance.errors import ScannerFailure
from compliance.inventory import Inventory
from compliance.model import Confidence, FindingKind, Severity, SuppressionKind
from compliance.scanners.interface import ScanContext, ScanSettings
from compliance.scanners.process import Completed
from compliance.scanners.semgrep import SemgrepScanner, parse_semgrep_output

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
    from compliance.scanners.semgrep_run import chunks as _chunks

    files = [f"pkg/module_{i:05d}.py" for i in range(4000)]
    assert _chunks(files, 1_000_000) == [files]
    chunks = _chunks(files, 20_000)
    assert [f for c in chunks for f in c] == files
    assert all(sum(arg_cost(f) for f in c) <= 20_000 for c in chunks)


# --- `# nosemgrep` comments -------------------------------------------------------------------

#: findings-nosem.json: every finding (--disable-nosem); findings-nosem-honoured.json: what
#: semgrep itself keeps from the same run without that flag. Lines of pkg/suppressed.py.
SUPPRESSED_BY_SEMGREP = {
    ("tls-verification-disabled", 7),  # bare, on the line
    ("tls-verification-disabled", 11),  # listed, with free text after the id
    ("tls-verification-disabled", 16),  # alone on the line before, `nosem:`
    ("tls-verification-disabled", 21),  # `#nosemgrep` on the line before: no space needed
    ("tls-verification-disabled", 25),  # NOSEMGREP:a,b (keyword case is ignored)
    ("tls-verification-disabled", 66),  # " nosem" inside a string: semgrep reads no syntax
    ("hardcoded-credential-default", 69),
}


def _recorded_lines(name: str) -> set[tuple[str, int]]:
    data = json.loads((ASSETS / name).read_bytes())
    return {(r["check_id"], r["start"]["line"]) for r in data["results"]}


def test_nosemgrep_comments_mark_findings_suppressed_as_semgrep_does() -> None:
    parsed = parse_semgrep_output((ASSETS / "findings-nosem.json").read_bytes(), FIXTURE)
    assert all(f.location.path == "pkg/suppressed.py" for f in parsed.findings)
    suppressed = {(f.rule_id, f.location.start_line) for f in parsed.findings if f.suppression}
    # semgrep's own verdict, recorded: exactly the findings it dropped.
    dropped = _recorded_lines("findings-nosem.json") - _recorded_lines(
        "findings-nosem-honoured.json"
    )
    assert suppressed == dropped == SUPPRESSED_BY_SEMGREP
    assert len(parsed.findings) == 16
    # Kept, as semgrep keeps them: another rule's id (29), the id in another case (33), part
    # of the id (37), a second id without a comma (41), `#nosemgrep` without a space on the
    # line (45), code before the comment on the line before (50), the comment on the match's
    # second line (54), a bare comment next to a listed one that names another rule (62).
    for line in (29, 33, 37, 41, 45, 50, 54, 62, 70):
        (finding,) = [f for f in parsed.findings if f.location.start_line == line]
        assert finding.suppression is None, line


def test_nosemgrep_justification_says_what_where_and_why() -> None:
    parsed = parse_semgrep_output((ASSETS / "findings-nosem.json").read_bytes(), FIXTURE)
    why = {
        f.location.start_line: f.suppression.justification
        for f in parsed.findings
        if f.suppression is not None
    }
    assert all(
        f.suppression.kind is SuppressionKind.INLINE for f in parsed.findings if f.suppression
    )
    assert why[7] == "`# nosemgrep` on line 7 (semgrep inline suppression)"
    assert why[11] == (
        "`# nosemgrep: tls-verification-disabled` on line 11 (semgrep inline suppression): "
        "internal CA (SEC-7)"
    )
    assert why[16] == "`# nosem: tls-verification-disabled` on line 15 (semgrep inline suppression)"
    assert why[25].startswith(
        "`# NOSEMGREP: hardcoded-credential-default, tls-verification-disabled` on line 25"
    )
    assert why[66] == "`nosem` on line 66 (semgrep inline suppression)"  # not a comment


def _result(check_id: str, line: int) -> dict[str, object]:
    return {
        "check_id": check_id,
        "path": "pkg/suppressed.py",
        "start": {"line": line, "col": 12, "offset": 0},
        "end": {"line": line, "col": 40, "offset": 0},
        "extra": {"message": "m", "metadata": {}, "severity": "ERROR", "lines": "requires login"},
    }


@pytest.mark.parametrize(
    ("check_id", "silenced"),
    [
        ("tls-verification-disabled", True),
        ("policies.semgrep.tls-verification-disabled", True),  # how the adapter's ids look
        ("semgrep.tls-verification-disabled", True),
        ("policies.semgrep.no-tls-verification-disabled", False),  # a suffix, not after a dot
        ("policies.semgrep.tls-verification-disabled-v2", False),
    ],
)
def test_a_listed_id_matches_the_full_rule_id_or_a_dotted_suffix(
    check_id: str, silenced: bool
) -> None:
    # Line 11 lists `tls-verification-disabled`; semgrep compares it with the full check_id.
    out = json.dumps({"results": [_result(check_id, 11)], "errors": [], "version": "1.185.0"})
    (finding,) = parse_semgrep_output(out.encode(), FIXTURE).findings
    assert finding.rule_id == check_id.rsplit(".", 1)[-1]
    assert (finding.suppression is not None) is silenced


def test_a_finding_on_the_first_line_has_no_line_before(tmp_path: Path) -> None:
    (tmp_path / "a.py").write_text("httpx.get(u, verify=False)\n# nosemgrep\n", encoding="utf-8")
    result = _result("tls-verification-disabled", 1) | {"path": "a.py"}
    out = json.dumps({"results": [result], "errors": []}).encode()
    (finding,) = parse_semgrep_output(out, tmp_path).findings
    assert finding.suppression is None


def test_the_adapter_keeps_suppressed_findings() -> None:
    seen: list[tuple[str, ...]] = []

    class FakeProc:
        def run(self, argv: Any, **kwargs: Any) -> Completed:
            seen.append(tuple(argv))
            stdout = (ASSETS / "findings-nosem.json").read_bytes()
            return Completed(tuple(argv), 0, stdout, b"", 0.1)

    inventory = Inventory(root=FIXTURE, python_files=("pkg/suppressed.py",))
    settings = ScanSettings(
        policy_dir=bundled_policy_dir(), executables={"semgrep": sys.executable}
    )
    output = SemgrepScanner().run(ScanContext(FIXTURE, inventory, settings), FakeProc())  # type: ignore[arg-type]
    (argv,) = seen
    assert "--disable-nosem" in argv
    assert sum(f.suppression is not None for f in output.findings) == len(SUPPRESSED_BY_SEMGREP)
