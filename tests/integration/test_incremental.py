"""Issue 8 with the real scanners on a copy of the demo: the result cache (byte-identical
outputs, only what changed is rescanned), changed-files mode (FILE..., --staged) and sharding
(`--shard I/N` + `merge` gives what one full scan gives)."""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from compliance.cli import cli
from compliance.scanners.process import ProcessRunner

from .test_examples import DEMO_DAY, EXAMPLES

pytestmark = pytest.mark.integration

FORMATS = (
    "json",
    "sarif",
    "junit",
    "markdown",
    "html",
    "gitlab-sast",
    "gitlab-dependency-scanning",
)
EDITED = "services/worker/worker/consumer.py"


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args],
        cwd=repo,
        check=True,
        capture_output=True,
        text=True,
    )
    return done.stdout


@pytest.fixture
def demo(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A committed copy of the demo, the current folder, on the demo's day, durations 0."""
    repo = tmp_path / "demo"
    # Not a result cache a demo run may have left in examples/.compliance.
    shutil.copytree(EXAMPLES, repo, ignore=shutil.ignore_patterns(".compliance"))
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "demo")
    monkeypatch.chdir(repo)
    monkeypatch.setattr("compliance.cli.clock.utc_now", lambda: DEMO_DAY)
    monkeypatch.setattr("compliance.cli.clock.monotonic", lambda: 0.0)
    monkeypatch.delenv("COMPLIANCE_NO_CACHE", raising=False)
    yield repo


def invoke(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def reports(folder: Path, *extra: str) -> tuple[Result, dict[str, bytes]]:
    folder.mkdir()
    outputs = [a for f in FORMATS for a in ("-o", f"{f}={folder / f}")]
    result = invoke("scan", "--format", "terminal", *outputs, *extra)
    files = {p.name: p.read_bytes() for p in sorted(folder.iterdir())}
    files["terminal"] = result.stdout.encode()
    return result, files


@pytest.fixture
def commands(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, ...]]:
    """Every command the scanners start, as run."""
    seen: list[tuple[str, ...]] = []
    original = ProcessRunner.run

    def spy(self: ProcessRunner, argv: Any, **kwargs: Any) -> Any:
        seen.append(tuple(str(a) for a in argv))
        return original(self, argv, **kwargs)

    monkeypatch.setattr(ProcessRunner, "run", spy)
    return seen


def started(seen: list[tuple[str, ...]], tool: str) -> list[tuple[str, ...]]:
    return [c for c in seen if Path(c[0]).name == tool or (len(c) > 2 and tool in c[2])]


def test_cached_and_fresh_scans_are_byte_identical_in_every_output(
    demo: Path, tmp_path: Path, commands: list[tuple[str, ...]]
) -> None:
    cache = str(tmp_path / "cache")
    cold, cold_files = reports(tmp_path / "cold", "--cache-dir", cache)
    assert cold.exit_code == 1, cold.stderr
    commands.clear()
    warm, warm_files = reports(tmp_path / "warm", "--cache-dir", cache)
    fresh, fresh_files = reports(tmp_path / "fresh", "--no-cache")
    assert warm.exit_code == fresh.exit_code == 1
    assert "0 miss(es)" in warm.stderr, warm.stderr
    assert set(cold_files) == set(warm_files) == set(fresh_files) == {*FORMATS, "terminal"}
    for name, content in cold_files.items():
        assert warm_files[name] == content, f"{name} differs between a cold and a cached scan"
        assert fresh_files[name] == content, f"{name} differs between cached and --no-cache"
    data = json.loads(cold_files["json"])
    assert len(data["findings"]) > 100 and data["scope"] is None


def test_a_rescan_after_one_edit_rescans_only_what_it_can_affect(
    demo: Path, tmp_path: Path, commands: list[tuple[str, ...]]
) -> None:
    cache = str(tmp_path / "cache")
    assert invoke("scan", "-q", "--format", "json", "--cache-dir", cache).exit_code == 1
    with (demo / EDITED).open("a") as handle:
        handle.write("\n\ndef leak(cmd):\n    return eval(cmd)\n")
    commands.clear()
    warm = invoke("scan", "-q", "--format", "json", "--cache-dir", cache)
    bandit = started(commands, "bandit")
    semgrep = [c for c in started(commands, "semgrep") if "scan" in c]
    assert [c[-1] for c in bandit] == [EDITED]  # one process, one file
    # Our rules over the edited file; residency's code rules over the files using a cloud
    # SDK, which here is the edited file alone (it uses boto3).
    packs = sorted(Path(c[c.index("--config") + 1]).parent.name for c in semgrep)
    assert packs == ["policies", "residency"]
    assert all(c[c.index("--") + 1 :] == (EDITED,) for c in semgrep)
    assert all(sum(a == "--config" for a in c) == 1 for c in semgrep)
    assert not started(commands, "checkov"), "no IaC changed: checkov's result is reused"
    assert not [c for c in commands if "compliance.scanners.pip_audit.worker" in c]
    fresh = invoke("scan", "-q", "--format", "json", "--no-cache")
    assert warm.stdout == fresh.stdout
    assert any(f["rule_id"] == "B307" for f in json.loads(warm.stdout)["findings"])


def test_changed_files_mode_reports_only_those_files(demo: Path) -> None:
    full = json.loads(invoke("scan", "-q", "--format", "json", "--no-cache").stdout)
    result = invoke("scan", EDITED, "--format", "json")
    data = json.loads(result.stdout)
    assert data["scope"] == {"source": "1 given file", "files": [EDITED]}
    assert [s["name"] for s in data["scanners"]] == ["bandit", "semgrep", "residency"]
    assert {f["path"] for f in data["findings"]} == {EDITED}
    in_file = {f["fingerprint"] for f in full["findings"] if f["path"] == EDITED}
    assert {f["fingerprint"] for f in data["findings"]} == in_file
    assert result.exit_code == 1  # the file has a payments/pii high finding
    assert "bandit: 1 Python file changed" in result.stderr


def test_staged_changes_and_the_full_scan_fallback(demo: Path) -> None:
    (demo / "README.md").write_text("docs only\n")
    git(demo, "add", "README.md")
    docs = invoke("scan", "--staged", "-q", "--format", "json")
    assert docs.exit_code == 0, docs.stderr
    data = json.loads(docs.stdout)
    assert data["scanners"] == [] and data["verdict"]["passed"]
    assert data["scope"]["files"] == ["README.md"]

    gate = demo / "policies" / "gate.yaml"
    gate.write_text(gate.read_text() + "\n# tightened\n")
    git(demo, "add", "policies/gate.yaml")
    policy = invoke("scan", "--staged", "--format", "json")
    assert "full scan: " in policy.stderr and "policies/gate.yaml" in policy.stderr
    assert json.loads(policy.stdout)["scope"] is None
    assert len(json.loads(policy.stdout)["scanners"]) == 6


def test_shards_merge_into_the_full_scan(demo: Path, tmp_path: Path) -> None:
    full = invoke("scan", "--format", "json", "-q", "--no-cache")
    partials = []
    for index in (1, 2, 3):
        path = tmp_path / f"partial-{index}.json"
        shard = invoke("scan", "--shard", f"{index}/3", "--partial", str(path), "-q")
        assert shard.exit_code == 0, shard.stderr
        partials.append(str(path))
    merged = invoke("merge", *partials, "--format", "json", "-q")
    assert merged.exit_code == full.exit_code == 1, merged.stderr

    def comparable(text: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(text)
        for run in data["scanners"]:
            run.pop("commands")  # each shard ran its own command lines
        return data

    assert comparable(merged.stdout) == comparable(full.stdout)

    evidence = tmp_path / "bundle"
    bundled = invoke("merge", *partials, "-q", "--format", "json", "--evidence", str(evidence))
    assert bundled.exit_code == 1, bundled.stderr
    verified = invoke("evidence", "verify", str(evidence), "--allow-unsigned")
    assert verified.exit_code == 0, verified.stderr


def test_merge_refuses_what_is_not_one_whole_scan(demo: Path, tmp_path: Path) -> None:
    paths = [tmp_path / f"p{i}.json" for i in (1, 2)]
    for index, path in enumerate(paths, 1):
        assert invoke("scan", "--shard", f"{index}/2", "--partial", str(path), "-q").exit_code == 0
    missing = invoke("merge", str(paths[0]))
    assert missing.exit_code == 2 and "missing shard(s) 2 of 2" in missing.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"format": "compliance-partial", "version": 1}')
    bad = invoke("merge", str(paths[0]), str(broken))
    assert bad.exit_code == 3 and "broken.json" in bad.stderr
    (demo / "new.py").write_text("x = 1\n")
    git(demo, "add", "new.py")
    git(demo, "commit", "-q", "-m", "later")
    moved = invoke("merge", *map(str, paths))
    assert moved.exit_code == 2 and "commit" in moved.stderr
    conflict = invoke("scan", "--shard", "1/2", "--partial", str(paths[0]), "--evidence", "x")
    assert conflict.exit_code == 2 and "--evidence" in conflict.stderr


def test_a_cache_committed_to_the_repository_is_not_used(demo: Path) -> None:
    planted = demo / ".compliance" / "cache" / "v1.sqlite3"
    planted.parent.mkdir(parents=True)
    planted.write_bytes(b"says nothing was found")
    git(demo, "add", "-f", ".compliance/cache/v1.sqlite3")
    git(demo, "commit", "-q", "-m", "a pull request plants cache entries")
    result = invoke("scan", "--format", "json", "--scanner", "bandit")
    assert "cache not used: .compliance/cache holds files committed to git" in result.stderr
    assert not (demo / ".compliance" / "cache" / "CACHEDIR.TAG").exists()
    assert len(json.loads(result.stdout)["findings"]) > 10
