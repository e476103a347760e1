"""Shard partials: the codec, reading a partial (hostile input included), the completeness
check, and how outcomes of several shards join."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from pathlib import Path

import pytest

from compliance.errors import ConfigError, UsageError
from compliance.model import (
    Location,
    RawFinding,
    ScannerRun,
    ScannerStatus,
    Skip,
)
from compliance.partial import Partial, check_complete, dumps, load_partial, merge_outcomes
from compliance.scanners.codec import (
    CodecError,
    decode_finding,
    decode_output,
    decode_run,
    encode_finding,
    encode_output,
    encode_run,
)
from compliance.scanners.interface import ScannerOutput
from compliance.scanners.runner import ScannerOutcome
from compliance.shard import ShardSpec

from factories import RAW_FULL, RAW_MINIMAL

T0 = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)

FULL, MINIMAL = RAW_FULL, RAW_MINIMAL


def run(name: str, status: ScannerStatus = ScannerStatus.OK, **kw: object) -> ScannerRun:
    return ScannerRun(name, status, "1.0", 1.5, commands=((name, "-x"),), **kw)  # type: ignore[arg-type]


def partial(index: int, count: int, *outcomes: ScannerOutcome, **kw: object) -> Partial:
    values: dict[str, object] = {
        "spec": ShardSpec(index, count),
        "commit": "abc",
        "scanners": ("bandit", "checkov"),
        "units": (f"service:s{index}",),
        "plan": tuple(f"service:s{i}" for i in range(1, count + 1)),
        "started_at": T0,
        "finished_at": T0,
        "outcomes": outcomes,
    }
    values.update(kw)
    return Partial(**values)  # type: ignore[arg-type]


@pytest.mark.parametrize("finding", [FULL, MINIMAL])
def test_findings_round_trip_through_json(finding: RawFinding) -> None:
    assert decode_finding(json.loads(json.dumps(encode_finding(finding)))) == finding


def test_runs_and_outputs_round_trip() -> None:
    value = run("bandit", error=None, findings=3)
    assert decode_run(json.loads(json.dumps(encode_run(value)))) == value
    output = ScannerOutput(
        findings=(FULL, MINIMAL),
        version="1.9.4",
        commands=(("bandit", "-f", "json"),),
        skipped=(Skip("x.py", "syntax", tool="bandit"),),
        raw_outputs=(b"not kept",),
    )
    back = decode_output(json.loads(json.dumps(encode_output(output))))
    assert back.findings == output.findings and back.skipped == output.skipped
    assert back.version == "1.9.4" and back.commands == output.commands
    assert back.raw_outputs == ()  # the cache never stands in for raw evidence


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda d: d.update(severity="catastrophic"), "severity"),
        (lambda d: d.update(location=["a.py", "3", None]), "location.start"),
        (lambda d: d.update(location=["a.py"]), "location"),
        (lambda d: d.update(tool=7), "tool"),
        (lambda d: d.update(cwe="CWE-1"), "cwe"),
        (lambda d: d.update(package=["x"]), "package"),
        (lambda d: d.update(suppression=["inline"]), "suppression"),
        (lambda d: d.update(location=["a.py", True, None]), "location.start"),
    ],
)
def test_a_damaged_finding_is_a_codec_error(mutate: object, message: str) -> None:
    data = encode_finding(FULL)
    mutate(data)  # type: ignore[operator]
    with pytest.raises(CodecError, match=message):
        decode_finding(data)


def test_a_partial_round_trips(tmp_path: Path) -> None:
    original = partial(
        1, 2, ScannerOutcome(run("bandit"), (FULL, MINIMAL), (Skip("b.py", "why", "bandit"),))
    )
    path = tmp_path / "p.json"
    path.write_text(dumps(original))
    assert load_partial(path, "p.json") == original


@pytest.mark.parametrize(
    ("content", "key"),
    [
        (b"{not json", ""),
        (b"[]", "format"),
        (b'{"format": "compliance-partial", "version": 9}', "version"),
        (
            b'{"format": "compliance-partial", "version": 1, "shard": {"index": 3, "count": 2}}',
            "shard",
        ),
        (b"\xff\xfe", ""),
        (b"[" * 100_000 + b"]" * 100_000, ""),
    ],
)
def test_a_bad_partial_names_the_file_and_key(tmp_path: Path, content: bytes, key: str) -> None:
    path = tmp_path / "p.json"
    path.write_bytes(content)
    with pytest.raises(ConfigError) as caught:
        load_partial(path, "shard-1.json")
    (problem,) = caught.value.problems
    assert problem.file == "shard-1.json" and problem.location == key


def test_a_damaged_outcome_is_named(tmp_path: Path) -> None:
    data = json.loads(dumps(partial(1, 1, ScannerOutcome(run("bandit"), (FULL,), ()))))
    data["outcomes"][0]["findings"][0]["kind"] = "rumour"
    path = tmp_path / "p.json"
    path.write_text(json.dumps(data))
    with pytest.raises(ConfigError) as caught:
        load_partial(path, "p.json")
    assert caught.value.problems[0].location == "outcomes[0]"
    assert "kind" in caught.value.problems[0].message


def test_completeness_is_checked() -> None:
    one, two = partial(1, 2), partial(2, 2)
    check_complete([two, one], ["b", "a"])
    with pytest.raises(UsageError, match="missing shard"):
        check_complete([one], ["a"])
    with pytest.raises(UsageError, match="given twice"):
        check_complete([one, one, two], ["a", "a2", "b"])
    with pytest.raises(UsageError, match="commit"):
        check_complete([one, partial(2, 2, commit="def")], ["a", "b"])
    with pytest.raises(UsageError, match="of 2 shards"):
        check_complete([one, partial(2, 3)], ["a", "b"])
    with pytest.raises(UsageError, match="planned different work"):
        check_complete([one, partial(2, 2, scanners=("bandit",))], ["a", "b"])
    with pytest.raises(UsageError, match="do not add up"):
        check_complete([one, partial(2, 2, units=("service:s1",))], ["a", "b"])


def test_outcomes_join_as_one_run_would_report_them() -> None:
    module = MINIMAL.__class__(**{**encode_finding(MINIMAL), "location": Location("m.tf")})  # type: ignore[arg-type]
    first = partial(
        1,
        2,
        ScannerOutcome(run("bandit", findings=1), (FULL,), (Skip("x", "r", "bandit"),)),
        ScannerOutcome(run("checkov", findings=2), (module, module), ()),
    )
    second = partial(
        2,
        2,
        ScannerOutcome(run("bandit", findings=1), (MINIMAL,), (Skip("x", "r", "bandit"),)),
        ScannerOutcome(run("checkov", findings=1), (module,), ()),
    )
    bandit, checkov = merge_outcomes([second, first])
    assert bandit.run.name == "bandit" and bandit.run.status is ScannerStatus.OK
    assert set(bandit.findings) == {FULL, MINIMAL} and bandit.run.findings == 2
    assert bandit.skipped == (Skip("x", "r", "bandit"),)
    assert bandit.run.duration_s == 3.0 and len(bandit.run.commands) == 2
    # The same module resource reported by two shards counts as often as one shard saw it.
    assert checkov.findings == (module, module) and checkov.run.findings == 2


def test_one_failed_shard_fails_the_scanner_and_all_skipped_stays_skipped() -> None:
    failed = partial(1, 2, ScannerOutcome(run("bandit", ScannerStatus.ERROR, error="boom"), (), ()))
    fine = partial(2, 2, ScannerOutcome(run("bandit"), (MINIMAL,), ()))
    (bandit,) = merge_outcomes([failed, fine])
    assert bandit.run.status is ScannerStatus.ERROR and bandit.run.error == "boom"
    nothing = run("bandit", ScannerStatus.SKIPPED, error="no files")
    skipped = [partial(i, 2, ScannerOutcome(nothing, (), ())) for i in (1, 2)]
    (only,) = merge_outcomes(skipped)
    assert only.run.status is ScannerStatus.SKIPPED and only.run.error == "no files"
