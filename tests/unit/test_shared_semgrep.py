"""One semgrep process for several adapters: who waits for whom, and who gets what back."""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import Any

import pytest

from compliance.errors import ScannerFailure
from compliance.scanners.process import Completed
from compliance.scanners.semgrep_run import SharedSemgrep, note_unscanned, parse_envelope


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


def shared(fake: FakeSemgrep, *participants: str) -> SharedSemgrep:
    return SharedSemgrep(
        participants,
        proc=fake,
        exe="semgrep",
        jobs=2,
        timeout_s=5,
        cwd=Path(),  # type: ignore[arg-type]
    )


def test_one_process_serves_both_packs_each_its_own_results(tmp_path: Path) -> None:
    ours, residency = pack(tmp_path, "ours", ["a", "b"]), pack(tmp_path, "res", ["r"])
    fake = FakeSemgrep({"ours": ["a", "b"], "res": ["r"]})
    session = shared(fake, "semgrep", "residency")
    first = session.submit("semgrep", ours, ["x.py", "y.py"])
    second = session.submit("residency", residency, ["y.py", "z.py"])
    mine, theirs = json.loads(first().stdout), json.loads(second().stdout)
    assert len(fake.calls) == 1
    (call,) = fake.calls
    assert call[call.index("--") + 1 :] == ("x.py", "y.py", "z.py")
    assert {(r["check_id"], r["path"]) for r in mine["results"]} == {
        ("x.a", "x.py"), ("x.b", "x.py"), ("x.a", "y.py"), ("x.b", "y.py"),
    }  # fmt: skip
    assert {(r["check_id"], r["path"]) for r in theirs["results"]} == {
        ("x.r", "y.py"), ("x.r", "z.py"),
    }  # fmt: skip
    # The per-file error is about x.py (the first file): only the participant that gave it.
    assert [e["path"] for e in mine["errors"]] == ["x.py"] and theirs["errors"] == []
    assert first().names == ("x.py", "y.py") and mine["version"] == "1.185.0"


def test_a_participant_that_leaves_is_not_waited_for(tmp_path: Path) -> None:
    fake = FakeSemgrep({"ours": ["a"]})
    session = shared(fake, "semgrep", "residency")
    result = session.submit("semgrep", pack(tmp_path, "ours", ["a"]), ["x.py"])
    done = threading.Event()
    threading.Thread(target=lambda: (result(), done.set()), daemon=True).start()
    assert not done.wait(0.05)  # still waiting for residency to ask or leave
    session.leave("residency")
    session.leave("residency")  # idempotent
    assert done.wait(5)
    assert len(fake.calls) == 1


def test_nobody_asking_runs_nothing(tmp_path: Path) -> None:
    fake = FakeSemgrep({})
    session = shared(fake, "semgrep", "residency")
    session.leave("semgrep")
    session.leave("residency")
    assert fake.calls == []


def test_a_failed_run_fails_every_participant(tmp_path: Path) -> None:
    fake = FakeSemgrep({"ours": ["a"], "res": ["r"]}, returncode=2)
    session = shared(fake, "semgrep", "residency")
    first = session.submit("semgrep", pack(tmp_path, "ours", ["a"]), ["x.py"])
    second = session.submit("residency", pack(tmp_path, "res", ["r"]), ["x.py"])
    for result in (first, second):
        with pytest.raises(ScannerFailure, match="semgrep failed"):
            result()


def test_a_rule_id_in_two_packs_is_refused(tmp_path: Path) -> None:
    fake = FakeSemgrep({"ours": ["a"], "res": ["a"]})
    session = shared(fake, "semgrep", "residency")
    first = session.submit("semgrep", pack(tmp_path, "ours", ["a"]), ["x.py"])
    session.submit("residency", pack(tmp_path, "res", ["a"]), ["x.py"])
    with pytest.raises(ScannerFailure, match="two rule packs"):
        first()


def test_submitting_twice_or_as_a_stranger_is_a_bug(tmp_path: Path) -> None:
    session = shared(FakeSemgrep({"ours": ["a"]}), "semgrep")
    with pytest.raises(ValueError, match="not waiting"):
        session.submit("bandit", tmp_path, ["x.py"])


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


def test_the_shared_run_reports_an_unscanned_file_to_its_participant(tmp_path: Path) -> None:
    class Dropping(FakeSemgrep):
        def run(self, argv: Any, **kwargs: Any) -> Completed:
            done = super().run(argv, **kwargs)
            body = json.loads(done.stdout)
            files = argv[argv.index("--") + 1 :]
            body["paths"] = {"scanned": [f for f in files if f != "big.py"]}
            body["results"] = [r for r in body["results"] if r["path"] != "big.py"]
            return Completed(done.argv, 0, json.dumps(body).encode(), b"", 0.0)

    ours = pack(tmp_path, "semgrep", ["r1"])
    run = shared(Dropping({"semgrep": ["r1"]}), "semgrep")
    batch = run.submit("semgrep", ours, ["a.py", "big.py"])()
    errors = json.loads(batch.stdout)["errors"]
    assert {(e["path"], e["type"]) for e in errors} == {
        ("a.py", "Syntax"),
        ("big.py", "not scanned"),
    }
