"""semgrep_run: the command line, the batches, and files semgrep silently did not scan."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from compliance.errors import ScannerFailure
from compliance.scanners.process import Completed
from compliance.scanners.semgrep_run import (
    note_unscanned,
    parse_envelope,
    run_batches,
    scan_command,
)


class FakeSemgrep:
    """Answers each `semgrep scan` with one result per (rule, file) given."""

    def __init__(self, rules_of: dict[str, list[str]], returncode: int = 0) -> None:
        self.rules_of = rules_of
        self.returncode = returncode
        self.calls: list[tuple[str, ...]] = []

    def run(self, argv: Any, **kwargs: Any) -> Completed:
        argv = tuple(argv)
        self.calls.append(argv)
        packs = [argv[i + 1] for i, a in enumerate(argv) if a == "--config"]
        files = argv[argv.index("--") + 1 :]
        results = [
            {"check_id": f"x.{rule}", "path": path, "start": {"line": 1}, "end": {"line": 1}}
            for pack in packs
            for rule in self.rules_of[Path(pack).name]
            for path in files
        ]
        errors = [{"level": "warn", "path": files[0], "message": "syntax", "type": "Syntax"}]
        body = {"version": "1.185.0", "results": results, "errors": errors}
        return Completed(argv, self.returncode, json.dumps(body).encode(), b"", 0.0)


def pack(tmp_path: Path, name: str, rules: list[str]) -> Path:
    folder = tmp_path / name
    folder.mkdir()
    body = "rules:\n" + "".join(f"  - id: {r}\n    message: m\n" for r in rules)
    (folder / "rules.yaml").write_text(body)
    return folder


def _doc(scanned: list[str] | None, errors: list[dict[str, Any]] | None = None) -> bytes:
    body: dict[str, Any] = {"version": "1.185.0", "results": [], "errors": errors or []}
    if scanned is not None:
        body["paths"] = {"scanned": scanned}
    return json.dumps(body).encode()


def test_a_file_semgrep_silently_did_not_scan_becomes_a_per_file_error() -> None:
    # osemgrep drops a file over --max-target-bytes without a word: not in paths.scanned.
    out = note_unscanned(_doc(["./a.py"]), ["a.py", "big.py"])
    envelope = parse_envelope(out)
    assert [(e.path, e.kind) for e in envelope.file_errors] == [("big.py", "not scanned")]
    assert json.loads(out)["errors"][0]["added_by"] == "compliance"


def test_files_scanned_or_with_their_own_error_are_left_alone() -> None:
    syntax = {"level": "warn", "path": "bad.py", "type": "Syntax error", "message": "m"}
    doc = _doc(["a.py"], [syntax])
    assert note_unscanned(doc, ["a.py", "bad.py"]) == doc
    no_paths = _doc(None)
    assert note_unscanned(no_paths, ["a.py"]) == no_paths  # nothing to compare against
    assert note_unscanned(b"not json", ["a.py"]) == b"not json"  # parse_envelope fails it


def test_run_batches_reports_an_unscanned_file(tmp_path: Path) -> None:
    class Dropping(FakeSemgrep):
        def run(self, argv: Any, **kwargs: Any) -> Completed:
            done = super().run(argv, **kwargs)
            body = json.loads(done.stdout)
            files = argv[argv.index("--") + 1 :]
            body["paths"] = {"scanned": [f for f in files if f != "big.py"]}
            body["results"] = [r for r in body["results"] if r["path"] != "big.py"]
            return Completed(done.argv, 0, json.dumps(body).encode(), b"", 0.0)

    ours = pack(tmp_path, "semgrep", ["r1"])
    fake = Dropping({"semgrep": ["r1"]})
    command = scan_command("semgrep", ours, 2)
    (batch,) = run_batches(
        fake,  # type: ignore[arg-type]
        command,
        ["a.py", "big.py"],
        tool="semgrep",
        timeout_s=5,
        cwd=tmp_path,
    )
    assert batch.names == ("a.py", "big.py")
    envelope = parse_envelope(batch.stdout)
    assert [r["path"] for r in envelope.results] == ["a.py"]
    assert {(e.path, e.kind) for e in envelope.file_errors} == {
        ("a.py", "Syntax"),
        ("big.py", "not scanned"),
    }
    assert "--max-target-bytes" in fake.calls[0]  # the inventory's limit, not semgrep's 1 MB


def test_a_failed_run_is_a_failure_with_semgrep_s_own_reason(tmp_path: Path) -> None:
    fake = FakeSemgrep({"semgrep": ["r1"]}, returncode=2)
    command = scan_command("semgrep", pack(tmp_path, "semgrep", ["r1"]), 2)
    with pytest.raises(ScannerFailure, match="semgrep failed"):
        list(
            run_batches(
                fake,  # type: ignore[arg-type]
                command,
                ["a.py"],
                tool="semgrep",
                timeout_s=5,
                cwd=tmp_path,
                detail_from_json=True,
            )
        )


def test_a_semgrep_that_scanned_none_of_its_files_fails() -> None:
    # semgrep 1.80's semgrep-core CLI: exit 0, no results, no errors, `scanned: []`.
    with pytest.raises(ScannerFailure, match="scanned none of the 2 file"):
        note_unscanned(_doc([]), ["a.py", "b.py"])
