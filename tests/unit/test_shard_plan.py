"""The shard plan: parsing I/N, dealing units with start-ups counted, covering every
scanner's files exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.errors import UsageError
from compliance.inventory import build_inventory
from compliance.model import Service, ServiceName, ServiceSource
from compliance.shard import (
    STARTUP_S,
    ShardSpec,
    Unit,
    assign,
    parse_shard,
    plan_units,
    shard_work,
)


def test_parse_shard() -> None:
    assert parse_shard("2/4") == ShardSpec(2, 4) and str(ShardSpec(2, 4)) == "2/4"
    for bad in ("0/4", "5/4", "1/0", "a/b", "1/257", "1-4", ""):
        with pytest.raises(UsageError):
            parse_shard(bad)


def names(shards: list[list[Unit]]) -> list[list[str]]:
    return [[u.name for u in s] for s in shards]


def test_big_units_spread_and_a_tool_starts_again_only_when_that_pays() -> None:
    big = [Unit("bandit", s, 10.0) for s in ("a", "b", "c", "d")]
    small = [Unit("checkov", s, 0.1) for s in ("a", "b", "c", "d")]
    shards = assign([*big, *small], 4)
    # Each big bandit unit gets its own shard; checkov's small units all go where checkov
    # already runs: starting it again would cost more (2.5 s) than it balances.
    assert [sum(u.scanner == "bandit" for u in s) for s in shards] == [1, 1, 1, 1]
    assert sum(any(u.scanner == "checkov" for u in s) for s in shards) == 1
    assert assign(list(reversed([*big, *small])), 4) == shards  # input order is irrelevant
    assert STARTUP_S["checkov"] > 0.1 * 4


def test_more_shards_than_units_leaves_some_empty() -> None:
    shards = assign([Unit("bandit", "a", 1.0)], 3)
    assert names(shards) == [["bandit:a"], [], []]


def service(name: str, path: str) -> Service:
    return Service(ServiceName(name), path, None, ServiceSource.CONFIG)


def test_every_scanner_covers_its_files_exactly_once(tmp_path: Path) -> None:
    for rel in (
        "services/a/x.py",
        "services/a/y.py",
        "services/a/Dockerfile",
        "services/b/z.py",
        "infra/main.tf",
        "r.md",
    ):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x" * (len(rel) * 10))
    inventory = build_inventory(tmp_path)
    services = (service("a", "services/a"), service("b", "services/b"))
    scanners = ["bandit", "pip-audit", "checkov", "residency", "threatmodel"]
    assert {u.name for u in plan_units(inventory, services, scanners)} == {
        "bandit:a",
        "bandit:b",
        "pip-audit:*",  # no dependency file: one empty unit, so a shard reports it skipped
        "checkov:a",
        "checkov:(repo)",
        "residency:*",
        "threatmodel:*",
    }
    works = [shard_work(ShardSpec(i, 3), inventory, services, scanners) for i in (1, 2, 3)]
    given = [w.scanners() for w in works]
    bandit = sorted(f for g in given for f in g.get("bandit") or ())
    assert bandit == sorted(inventory.python_files)
    checkov = sorted(f for g in given for f in g.get("checkov") or ())
    assert checkov == ["infra/main.tf", "services/a/Dockerfile"]
    assert [g["residency"] for g in given if "residency" in g] == [None]  # whole, once
    assert sum("pip-audit" in g for g in given) == 1
    assert [shard_work(ShardSpec(i, 3), inventory, services, scanners) for i in (1, 2, 3)] == works
