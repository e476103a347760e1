"""Parallel CI jobs recording at once: 8 writer processes, one ledger, on both backends.

Every writer appends its runs as fast as it can, all starting together on a ledger that
does not exist yet; afterwards the chain must verify, hold every entry exactly once, and
keep each writer's entries in the order it wrote them.
"""

from __future__ import annotations

import itertools
import multiprocessing
from collections.abc import Iterator
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from compliance.evidence.ledger.records import ControlRecord, RunRecord
from compliance.evidence.ledger.store import open_ledger
from compliance.model import ControlStatus

from .postgres import fresh_schema

pytestmark = pytest.mark.integration
WRITERS = 8
APPENDS = 20
T0 = datetime(2026, 4, 1, tzinfo=timezone.utc)


def _writer(location: str, worker: int, barrier: Any) -> None:
    """In a spawned process: wait for the others, then append APPENDS runs."""
    ledger = open_ledger(location, create=True)
    barrier.wait(timeout=60)
    for index in range(APPENDS):
        at = T0 + timedelta(minutes=index)
        run = RunRecord(
            repo=f"writer-{worker}",
            started_at=at,
            finished_at=at,
            commit=f"{index:040x}",
            branch="main",
            dirty=False,
            ci_run_url=None,
            passed=index % 2 == 0,
            controls=(ControlRecord("soc2", "CC8.1", ControlStatus.PASSED),),
        )
        ledger.append(run, at)
    ledger.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def location(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield str(tmp_path / "shared" / "ledger.sqlite")
    else:
        with fresh_schema() as url:
            yield url


def test_concurrent_writers_never_fork_or_lose_an_entry(location: str) -> None:
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(WRITERS)
    writers = [
        context.Process(target=_writer, args=(location, worker, barrier))
        for worker in range(WRITERS)
    ]
    for process in writers:
        process.start()
    for process in writers:
        process.join(timeout=120)
    assert [p.exitcode for p in writers] == [0] * WRITERS

    ledger = open_ledger(location, create=False)
    verification = ledger.verify()
    entries = sorted(ledger.entries(), key=lambda e: e.seq)
    ledger.close()
    assert verification.ok, verification.problems
    assert verification.entries == WRITERS * APPENDS
    assert [e.seq for e in entries] == list(range(1, WRITERS * APPENDS + 1))
    for worker in range(WRITERS):
        mine = [e.run.commit for e in entries if e.run.repo == f"writer-{worker}"]
        assert mine == [f"{index:040x}" for index in range(APPENDS)]
    # the writers really interleaved: not one after the other
    repos = [e.run.repo for e in entries]
    switches = sum(1 for a, b in itertools.pairwise(repos) if a != b)
    assert switches > WRITERS
