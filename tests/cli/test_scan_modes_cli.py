"""`scan FILE...`, `--shard` and `merge` at the command line: what goes with what, and what
the scanners are handed (fake scanners; the real ones run in test_incremental.py)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli import cli
from compliance.model import Severity

from .conftest import FakeScanner, Install, finding


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def here(repo: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.chdir(repo)
    return repo


def test_given_files_narrow_the_inventory_and_the_findings(
    fake_scanners: Install, here: Path
) -> None:
    bandit = FakeScanner(
        "bandit",
        (finding("services/api/app.py", Severity.LOW), finding("other.py", Severity.HIGH)),
    )
    checkov = FakeScanner("checkov")
    fake_scanners(bandit, checkov)
    code, out, err = invoke("scan", "services/api/app.py", "--format", "json")
    assert code == 0, err  # the high finding is in a file that did not change
    data = json.loads(out)
    assert data["scope"] == {"source": "1 given file", "files": ["services/api/app.py"]}
    assert [f["path"] for f in data["findings"]] == ["services/api/app.py"]
    assert [s["name"] for s in data["scanners"]] == ["bandit"]  # no IaC changed
    (ctx,) = bandit.seen
    assert ctx.inventory.python_files == ("services/api/app.py",)
    assert checkov.seen == []


def test_a_change_nothing_scans_passes(fake_scanners: Install, here: Path) -> None:
    (here / "README.md").write_text("hello\n")
    fake_scanners(FakeScanner("bandit"))
    code, out, err = invoke("scan", "README.md", "--format", "json")
    assert code == 0, err
    assert json.loads(out)["scanners"] == []


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["services/api/app.py", "--evidence", "ev"], "needs a full scan"),
        (["services/api/app.py", "--staged"], "choose one of FILE and --staged"),
        (["--partial", "p.json"], "--partial goes with --shard"),
        (["--shard", "1/2"], "--shard needs --partial"),
        (["--shard", "3/2", "--partial", "p.json"], "need 1 <= I <= N"),
        (["--shard", "1/2", "--partial", "p.json", "-o", "json=x.json"], "does not go with -o"),
        (["services/api", "services/api/app.py"], "is a folder"),
        (["../outside.py"], "outside"),
    ],
)
def test_modes_that_do_not_go_together_are_usage_errors(
    fake_scanners: Install, here: Path, args: list[str], message: str
) -> None:
    fake_scanners(FakeScanner("bandit"))
    code, _, err = invoke("scan", *args)
    assert code == 2, err
    assert message in err


def test_a_shard_writes_its_partial_and_merge_reads_it(
    fake_scanners: Install, here: Path, tmp_path: Path
) -> None:
    fake_scanners(FakeScanner("bandit", (finding("services/api/app.py", Severity.HIGH),)))
    partial = tmp_path / "p.json"
    code, _, err = invoke("scan", "--shard", "1/1", "--partial", str(partial))
    assert code == 0, err
    assert json.loads(partial.read_text())["format"] == "compliance-partial"
    code, out, err = invoke("merge", str(partial), "--format", "json")
    assert code == 1, err  # the high finding fails the default gate, as a full scan would
    direct = json.loads(invoke("scan", "--format", "json")[1])
    merged = json.loads(out)
    assert merged["findings"] == direct["findings"]
    assert merged["verdict"] == direct["verdict"]
