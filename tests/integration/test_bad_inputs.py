"""Bad input through the real scanners: the scan completes, skips are listed, nothing crashes."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from compliance.cli import cli
from compliance.inventory import MAX_FILE_BYTES

pytestmark = pytest.mark.integration


def scan(root: Path, *args: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(cli, ["scan", str(root), "--format", "json", "-q", *args])
    assert "Traceback" not in result.stderr
    return result.exit_code, json.loads(result.stdout), result.stderr


def write(root: Path, rel: str, content: str | bytes) -> None:
    path = root / rel
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")


def test_empty_repository_is_never_a_pass(tmp_path: Path) -> None:
    code, data, _ = scan(tmp_path)
    assert code == 4
    assert {s["status"] for s in data["scanners"]} == {"skipped"}
    assert data["findings"] == []
    assert not data["verdict"]["passed"]


@pytest.fixture(scope="module")
def hostile_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("hostile")
    write(
        root, "svc/app.py", "import subprocess\n\ndef run(c):\n    subprocess.call(c, shell=True)\n"
    )
    write(root, "svc/requirements.txt", "requests==2.31.0\n")
    write(root, "svc/broken.py", "def broken(:\n    pass\n")
    write(root, "svc/newer.py", "type Point = tuple[int, int]\n")
    write(root, "svc/binary.py", b"\x7fELF\x00\x00\x01\x02" * 64)
    write(root, "svc/latin1.py", "name = 'caf\xe9'\n".encode("latin-1"))
    write(root, "svc/huge.py", b"x = 1\n" * (MAX_FILE_BYTES // 6 + 100))
    write(root, "svc/Dockerfile", "FROM python:3.11\nCOPY . /app\n")
    write(root, "infra/main.tf", 'resource "aws_s3_bucket" "b" {\n  bucket = "x"\n')  # unclosed
    write(root, "infra/ok.tf", 'resource "aws_s3_bucket" "ok" {\n  bucket = "y"\n}\n')
    write(root, "data/blob.bin", os.urandom(4096))
    os.symlink(root / "svc", root / "svc" / "loop")
    os.symlink("/etc", root / "outside")
    return root


@pytest.fixture(scope="module")
def hostile_result(hostile_repo: Path) -> tuple[int, dict[str, Any], str]:
    return scan(
        hostile_repo,
        "--advisory-db",
        str(Path(__file__).parents[1] / "assets" / "advisory-db-mini"),
    )


def test_hostile_repo_scan_completes(hostile_result: tuple[int, dict[str, Any], str]) -> None:
    code, data, err = hostile_result
    assert {s["name"]: s["status"] for s in data["scanners"]} == {
        "bandit": "ok",
        "semgrep": "ok",
        "pip-audit": "ok",
        "checkov": "ok",
        "residency": "skipped",  # no residency policy: nothing to check, never "passed"
        "threatmodel": "ok",  # one service (svc), and no model for it: a finding
    }, err
    assert code == 1  # bandit's B602 is high
    assert any(f["rule_id"] == "B602" and f["path"] == "svc/app.py" for f in data["findings"])


def test_each_bad_input_is_listed_with_a_reason(
    hostile_result: tuple[int, dict[str, Any], str],
) -> None:
    _, data, _ = hostile_result
    skipped = {(s["path"], s["tool"]): s["reason"] for s in data["skipped"]}
    assert skipped[("svc/binary.py", None)] == "binary file"
    assert "not UTF-8" in skipped[("svc/latin1.py", None)]
    assert "larger than" in skipped[("svc/huge.py", None)]
    assert "not followed" in skipped[("svc/loop", None)]
    assert "not followed" in skipped[("outside", None)]
    assert "syntax error" in skipped[("svc/broken.py", "bandit")]
    assert "syntax error" in skipped[("svc/newer.py", "bandit")]
    assert any(path == "infra/main.tf" and tool == "checkov" for path, tool in skipped)
