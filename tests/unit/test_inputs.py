from __future__ import annotations

import hashlib
from pathlib import Path

from compliance.inputs import advisory_db_input, file_inputs


def test_file_digests_and_unreadable_files(tmp_path: Path) -> None:
    gate = tmp_path / "gate.yaml"
    gate.write_text("fail_on: high\n")
    found = file_inputs([("gate", gate, "gate.yaml"), ("waivers", tmp_path / "gone.yaml", "w")])
    assert found[0].sha256 == hashlib.sha256(b"fail_on: high\n").hexdigest()
    assert (found[1].sha256, found[1].detail) == ("", "unreadable: No such file or directory")


def test_advisory_db_identity_changes_with_any_advisory(tmp_path: Path) -> None:
    db = tmp_path / "db" / "vulns" / "requests"
    db.mkdir(parents=True)
    (db / "PYSEC-1.yaml").write_text("id: PYSEC-1\nmodified: 2024-03-01T00:00:00Z\n")
    (db / "GHSA-x.json").write_text('{"id": "GHSA-x", "modified": "2025-01-02T03:04:05Z"}')
    first = advisory_db_input(tmp_path / "db", "db")
    assert first.detail == "2 advisory files, newest modified 2025-01-02"
    (db / "PYSEC-1.yaml").write_text("id: PYSEC-1\nmodified: 2024-03-02T00:00:00Z\n")
    assert advisory_db_input(tmp_path / "db", "db").sha256 != first.sha256
