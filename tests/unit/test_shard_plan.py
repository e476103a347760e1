"""The shard plan: parsing I/N, dealing units, covering every file exactly once."""

from __future__ import annotations

from pathlib import Path

import pytest

from compliance.errors import UsageError
from compliance.inventory import build_inventory
from compliance.model import Service, ServiceName, ServiceSource
from compliance.shard import ShardSpec, Unit, assign, parse_shard, plan_units, shard_work


def test_parse_shard() -> None:
    assert parse_shard("2/4") == ShardSpec(2, 4) and str(ShardSpec(2, 4)) == "2/4"
    for bad in ("0/4", "5/4", "1/0", "a/b", "1/257", "1-4", ""):
        with pytest.raises(UsageError):
            parse_shard(bad)


def test_largest_first_onto_the_lightest_shard_and_deterministic() -> None:
    units = [Unit("a", 10), Unit("b", 7), Unit("c", 5), Unit("d", 4), Unit("e", 4)]
    shards = assign(units, 2)
    assert [[u.name for u in s] for s in shards] == [["a", "d"], ["b", "c", "e"]]
    assert assign(list(reversed(units)), 2) == shards  # input order does not matter
    assert assign(units, 7)[5:] == [[], []]  # more shards than units: some are empty


def service(name: str, path: str) -> Service:
    return Service(ServiceName(name), path, None, ServiceSource.CONFIG)


def test_every_file_is_in_exactly_one_shard(tmp_path: Path) -> None:
    for rel in ("services/a/x.py", "services/a/y.py", "services/b/z.py", "infra/main.tf", "r.md"):
        (tmp_path / rel).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / rel).write_text("x" * (len(rel) * 10))
    inventory = build_inventory(tmp_path)
    services = (service("a", "services/a"), service("b", "services/b"))
    scanners = ["bandit", "residency", "threatmodel"]
    units = plan_units(inventory, services, scanners)
    assert {u.name for u in units} == {
        "service:a",
        "service:b",
        "service:(repo)",
        "scanner:residency",
        "scanner:threatmodel",
    }
    works = [shard_work(ShardSpec(i, 3), inventory, services, scanners) for i in (1, 2, 3)]
    files = [f for w in works for f in w.files]
    assert sorted(files) == sorted(inventory.all_files)
    assert sorted(s for w in works for s in w.whole_repo_scanners) == ["residency", "threatmodel"]
    again = [shard_work(ShardSpec(i, 3), inventory, services, scanners) for i in (1, 2, 3)]
    assert again == works
