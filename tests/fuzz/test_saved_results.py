"""Files other runs wrote, on hostile JSON: a saved result for `compliance report` and shard
partials for `compliance merge`. Loading returns, or raises ConfigError / UsageError; what
is accepted can then be rendered in every format (report) and merged (merge).
"""

from __future__ import annotations

import functools
import json
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from compliance.model import (
    ScannerRun,
    ScannerStatus,
    Skip,
)
from compliance.partial import Partial, check_complete, dumps, load_partial, merge_outcomes
from compliance.reporting import REGISTRY, RenderOptions
from compliance.reporting.load import load_result, parse_result
from compliance.scanners.runner import ScannerOutcome
from compliance.shard import ShardSpec

from .strategies import TESTS, damaged, documents, expect_ours, fuzz_settings
from factories import RAW_FULL, RAW_MINIMAL

GOLDEN = TESTS / "golden" / "json" / "examples.json"
WHEN = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("saved")


# --- saved results (`compliance report`) ------------------------------------------------------

RESULT = json.loads(GOLDEN.read_text(encoding="utf-8"))


def _report(text: str) -> None:
    """What `compliance report` does: load the result, render it."""
    result = parse_result(text, "result.json")
    for name in sorted(REGISTRY):
        REGISTRY[name].render(result, RenderOptions())


@fuzz_settings(scale=0.5)
@given(data=documents([RESULT], most=3))
@example(data=json.dumps({**RESULT, "schema_version": "9" * 5_000 + ".0"}).encode())
@example(data=json.dumps({**RESULT, "root": "\ud800"}).encode())  # crashed the Markdown report
def test_saved_result(data: bytes) -> None:
    text = data.decode("utf-8", "replace")
    expect_ours("saved result", lambda: _report(text))


@fuzz_settings(scale=0.5)
@given(data=st.one_of(st.sampled_from([GOLDEN.read_bytes()]).flatmap(damaged), st.binary()))
def test_saved_result_file(folder: Path, data: bytes) -> None:
    path = folder / "result.json"
    path.write_bytes(data)
    expect_ours("saved result", lambda: load_result(path, "result.json"))


# --- shard partials (`compliance merge`) -----------------------------------------------------

FULL, MINIMAL = RAW_FULL, RAW_MINIMAL


@functools.cache
def real_partial() -> Any:
    partial = Partial(
        spec=ShardSpec(1, 1),
        commit="0123456789abcdef0123456789abcdef01234567",
        scanners=("bandit", "pip-audit"),
        units=("service:api", "repo:pip-audit"),
        plan=("service:api", "repo:pip-audit"),
        started_at=WHEN,
        finished_at=WHEN,
        outcomes=(
            ScannerOutcome(
                ScannerRun("bandit", ScannerStatus.OK, "1.9.4", 1.5, findings=2),
                (MINIMAL, MINIMAL),
                (Skip("new.py", "bandit could not parse it", tool="bandit"),),
            ),
            ScannerOutcome(
                ScannerRun(
                    "pip-audit",
                    ScannerStatus.ERROR,
                    None,
                    0.25,
                    error="worker failed",
                    commands=(("python", "-m", "x"),),
                    findings=1,
                ),
                (FULL,),
                (),
            ),
        ),
    )
    return json.loads(dumps(partial))


def _merge(path: Path) -> None:
    """What `compliance merge` does with one shard: load, check, merge."""
    partial = load_partial(path, "shard-1.json")
    check_complete([partial], ["shard-1.json"])
    merge_outcomes([partial])


def _shards(count: int) -> bytes:
    return json.dumps({**real_partial(), "shard": {"index": 1, "count": count}}).encode()


@fuzz_settings()
@given(data=documents([real_partial()]))
@example(data=_shards(2**63))  # merge listed the missing shards 2..count: out of memory
def test_partial(folder: Path, data: bytes) -> None:
    path = folder / "shard-1.json"
    path.write_bytes(data)
    expect_ours("partial", lambda: _merge(path))
