from __future__ import annotations

import csv
import io
import re

import pytest
import yaml

from compliance.config import bundled_controls_dir
from compliance.errors import ConfigError
from compliance.model import (
    ControlResult,
    ControlStatus,
    Fingerprint,
    ScannerRun,
    ScannerStatus,
    ScanResult,
    ToolInfo,
)
from compliance.policy.mapping_rules import load_control_policy
from compliance.soa import (
    CSV_COLUMNS,
    NO_RESULT,
    Applicability,
    build_soa,
    parse_applicability,
    render_soa_csv,
    render_soa_markdown,
)

from factories import scan_result

POLICY = load_control_policy(bundled_controls_dir())
NONE = Applicability(None, {})


def result(*controls: ControlResult) -> ScanResult:
    return scan_result(
        tool=ToolInfo("compliance", "9.9"),
        root="shop",
        scanners=(
            ScannerRun("bandit", ScannerStatus.OK, "1.9.4", 1.0),
            ScannerRun("checkov", ScannerStatus.ERROR, None, 1.0, error="timed out"),
        ),
        controls=controls,
        commit="abc123",
    )


def test_every_control_of_both_frameworks_appears_once() -> None:
    soa = build_soa(POLICY.catalogue, POLICY.rules, NONE, None)
    ids = [row.id for row in soa.rows]
    assert len(ids) == len(set(ids)) == 93 + 61
    assert ids[0] == "A.5.1" and "CC9.2" in ids and "P8.1" in ids


def test_without_a_result_no_status_is_claimed() -> None:
    soa = build_soa(POLICY.catalogue, POLICY.rules, NONE, None)
    assert {row.status for row in soa.rows} == {NO_RESULT}
    assert "No scan result was given" in render_soa_markdown(soa)


def test_status_and_evidence_come_from_the_result_and_the_rules() -> None:
    failed = ControlResult(
        "iso27001",
        "A.8.8",
        "Management of technical vulnerabilities",
        "automated",
        ControlStatus.FAILED,
        findings=(Fingerprint("a" * 32), Fingerprint("b" * 32)),
        reason="2 open finding(s)",
    )
    soa = build_soa(POLICY.catalogue, POLICY.rules, NONE, result(failed))
    row = next(r for r in soa.rows if r.id == "A.8.8")
    assert (row.status, row.status_reason, row.open_findings) == ("failed", "2 open finding(s)", 2)
    assert "dependency-vulnerabilities" in row.rules
    assert "bandit 1.9.4 (ok)" in row.scanners
    other = next(r for r in soa.rows if r.id == "A.8.9")
    assert other.status == "not in result"
    text = render_soa_markdown(soa)
    assert "commit `abc123`" in text and "**Scanner errors:**" in text
    assert (
        "| A.8.8 | Management of technical vulnerabilities | yes | automated | failed: 2 open"
        in text
    )


def test_exclusions_need_a_justification_and_are_shown() -> None:
    raw = yaml.safe_load(
        "exclusions:\n  - control: A.7.4\n    justification: no premises of our own, cloud only\n"
    )
    applicability = parse_applicability(raw, "soa.yaml", POLICY.catalogue)
    soa = build_soa(POLICY.catalogue, POLICY.rules, applicability, None)
    row = next(r for r in soa.rows if r.id == "A.7.4")
    assert not row.applicable and row.justification == "no premises of our own, cloud only"
    assert "92 applicable (1 excluded)" in render_soa_markdown(soa)


def test_applicability_bad_input() -> None:
    raw = yaml.safe_load(
        "exclusions:\n"
        "  - {control: A.9.1, justification: this control does not exist at all}\n"
        "  - {control: A.7.4, justification: short}\n"
        "  - {control: A.7.5, justification: a perfectly long justification, why: x}\n"
        "  - {control: A.7.6, justification: a perfectly long justification}\n"
        "  - {control: A.7.6, justification: a perfectly long justification}\n"
    )
    with pytest.raises(ConfigError) as caught:
        parse_applicability(raw, "soa.yaml", POLICY.catalogue)
    found = [str(p) for p in caught.value.problems]
    assert "soa.yaml: exclusions[0].control: unknown control 'A.9.1'" in found
    assert any(
        p.startswith("soa.yaml: exclusions[1].justification: String should have") for p in found
    )
    assert "soa.yaml: exclusions[2].why: unknown key" in found
    assert "soa.yaml: exclusions[4].control: A.7.6 excluded twice" in found


def test_csv_has_a_row_per_control_and_survives_commas_and_quotes() -> None:
    soa = build_soa(POLICY.catalogue, POLICY.rules, NONE, result())
    rows = list(csv.reader(io.StringIO(render_soa_csv(soa))))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 1 + 93 + 61
    assert all(len(r) == len(CSV_COLUMNS) for r in rows)


def test_markdown_cells_cannot_break_the_table() -> None:
    raw = {"exclusions": [{"control": "A.7.4", "justification": "a | b\nc | long enough text"}]}
    soa = build_soa(
        POLICY.catalogue, POLICY.rules, parse_applicability(raw, "s", POLICY.catalogue), None
    )
    line = next(x for x in render_soa_markdown(soa).splitlines() if x.startswith("| A.7.4 "))
    assert "a \\| b c \\| long enough text" in line
    assert len(re.findall(r"(?<!\\)\|", line)) == 7  # six cells, seven separators
