"""`compliance evidence ledger verify | record` and `compliance evidence export`."""

from __future__ import annotations

import csv
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from compliance.cli import cli

RESULT = Path(__file__).resolve().parent.parent / "assets" / "results" / "examples.json"
DIGEST = "ab" * 32


def invoke(*args: str, env: dict[str, str] | None = None) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args), env=env)
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return tmp_path / "ledger.sqlite"


def record(ledger: Path, *extra: str) -> tuple[int, str, str]:
    return invoke("evidence", "ledger", "record", str(RESULT), "--ledger", str(ledger), *extra)


def test_record_then_verify(ledger: Path) -> None:
    code, out, err = record(ledger, "--bundle-digest", f"sha256:{DIGEST}")
    assert code == 0, err
    assert out.startswith(f"recorded run 1 of examples in ledger {ledger}: ")
    code, out, err = record(ledger, "--repo", "payments")
    assert code == 0, err
    assert "recorded run 2 of payments" in out
    code, out, err = invoke("evidence", "ledger", "verify", "--ledger", str(ledger))
    assert code == 0, err
    assert out.splitlines()[0] == f"ledger {ledger}: 2 entries, chain intact"
    head = out.splitlines()[1].removeprefix("head ")
    conn = sqlite3.connect(ledger)
    rows = conn.execute(
        "SELECT seq, repo, recorded_at, bundle_digest, entry_hash FROM compliance_ledger"
    ).fetchall()
    conn.close()
    # recorded at the CLI's (frozen) clock
    assert [r[:4] for r in rows] == [
        (1, "examples", "2026-11-29T12:00:00.000000+00:00", DIGEST),
        (2, "payments", "2026-11-29T12:00:00.000000+00:00", None),
    ]
    assert rows[1][4] == head


def test_the_ledger_comes_from_the_environment_then_the_default(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    env_ledger = tmp_path / "env.sqlite"
    code, _, err = invoke(
        "evidence", "ledger", "record", str(RESULT), env={"COMPLIANCE_LEDGER": str(env_ledger)}
    )
    assert code == 0, err
    assert env_ledger.is_file() and not (tmp_path / ".compliance").exists()
    code, out, err = invoke("evidence", "ledger", "record", str(RESULT))
    assert code == 0, err
    assert "ledger .compliance/ledger.sqlite" in out
    assert (tmp_path / ".compliance" / "ledger.sqlite").is_file()


def test_verify_exits_1_naming_the_tampered_entry(ledger: Path) -> None:
    for _ in range(3):
        assert record(ledger)[0] == 0
    conn = sqlite3.connect(ledger)
    with conn:
        conn.execute("UPDATE compliance_ledger SET branch = 'main' WHERE seq = 2")
    conn.close()
    code, out, err = invoke("evidence", "ledger", "verify", "--ledger", str(ledger))
    assert code == 1
    assert out == ""
    assert "fails verification (1 problem); first: entry 2 was modified" in err
    assert "entry 2: modified:" in err
    assert "hint: the ledger was changed outside compliance" in err


def test_not_a_ledger_exits_3_and_writes_nothing(tmp_path: Path) -> None:
    bogus = tmp_path / "ledger.sqlite"
    bogus.write_text("not a database\n")
    for args in (
        ("evidence", "ledger", "verify", "--ledger", str(bogus)),
        ("evidence", "ledger", "record", str(RESULT), "--ledger", str(bogus)),
        (
            "evidence",
            "export",
            "--since",
            "2026-11-01",
            "--until",
            "2026-11-30",
            "--ledger",
            str(bogus),
            "-o",
            str(tmp_path / "out"),
        ),
    ):
        code, _, err = invoke(*args)
        assert code == 3, err
        assert f"error: ledger {bogus} is not a SQLite database" in err
        assert "hint:" in err
    assert bogus.read_text() == "not a database\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ledger.sqlite"]


def test_usage_errors_exit_2(tmp_path: Path, ledger: Path) -> None:
    code, _, err = invoke("evidence", "ledger", "verify", "--ledger", str(ledger))
    assert code == 2 and f"no ledger at {ledger}" in err
    assert not ledger.exists()
    code, _, err = record(ledger, "--bundle-digest", "1234")
    assert code == 2 and "is not a SHA-256" in err
    code, _, err = invoke("evidence", "ledger", "record", str(tmp_path / "nope.json"))
    assert code == 2 and "no such file" in err
    code, _, err = record(ledger, "--repo", " ")
    assert code == 2 and "--repo" in err
    assert not ledger.exists()
    code, _, err = invoke(
        "evidence", "export", "--since", "2026-02-01", "--until", "2026-01-01", "-o", "x"
    )
    assert code == 2 and "ends (2026-01-01) before it starts (2026-02-01)" in err
    code, _, err = invoke(
        "evidence", "export", "--since", "yesterday", "--until", "2026-01-01", "-o", "x"
    )
    assert code == 2


def test_a_bad_result_file_exits_3(tmp_path: Path, ledger: Path) -> None:
    bad = tmp_path / "r.json"
    bad.write_text("{}")
    code, _, err = invoke("evidence", "ledger", "record", str(bad), "--ledger", str(ledger))
    assert code == 3 and "schema_version" in err
    assert not ledger.exists()


def test_an_unknown_scheme_exits_3() -> None:
    code, _, err = invoke("evidence", "ledger", "verify", "--ledger", "mysql://u:pw@h/db")
    assert code == 3 and "unsupported scheme" in err and "pw" not in err


def test_export_writes_the_auditor_package(tmp_path: Path, ledger: Path) -> None:
    assert record(ledger, "--bundle-digest", DIGEST)[0] == 0
    assert record(ledger, "--repo", "billing")[0] == 0
    out = tmp_path / "q4"
    args = ("evidence", "export", "--since", "2026-11-01", "--until", "2026-11-30")
    code, stdout, err = invoke(*args, "--repo", "examples", "--ledger", str(ledger), "-o", str(out))
    assert code == 0, err
    assert stdout == ""
    assert "wrote " in err and ": 1 runs, 154 controls" in err
    assert sorted(p.name for p in out.iterdir()) == [
        "SHA256SUMS",
        "controls.csv",
        "findings.csv",
        "index.html",
        "runs.csv",
        "waivers.csv",
    ]
    with (out / "runs.csv").open(encoding="utf-8") as handle:
        runs = list(csv.DictReader(handle))
    assert [(r["run"], r["repo"], r["bundle_digest"]) for r in runs] == [("1", "examples", DIGEST)]
    with (out / "waivers.csv").open(encoding="utf-8") as handle:
        waivers = list(csv.DictReader(handle))
    assert {(w["waiver_id"], w["owner"], w["approver"]) for w in waivers} >= {
        ("W-0001", "dana@acme.example", "security-lead@acme.example")
    }
    html = (out / "index.html").read_text(encoding="utf-8")
    assert "Information transfer" in html  # control titles from the catalogue
    assert "<svg" in html
    # again: refused without --force, replaced with it
    code, _, err = invoke(*args, "--ledger", str(ledger), "-o", str(out))
    assert code == 2 and "--force" in err
    code, _, err = invoke(*args, "--ledger", str(ledger), "-o", str(out), "--force")
    assert code == 0, err
    with (out / "runs.csv").open(encoding="utf-8") as handle:
        assert len(list(csv.DictReader(handle))) == 2


def test_export_of_a_broken_ledger_exits_1_and_writes_nothing(tmp_path: Path, ledger: Path) -> None:
    for _ in range(2):
        assert record(ledger)[0] == 0
    conn = sqlite3.connect(ledger)
    with conn:
        conn.execute("DELETE FROM compliance_ledger WHERE seq = 1")
    conn.close()
    out = tmp_path / "out"
    code, _, err = invoke(
        "evidence",
        "export",
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-30",
        "--ledger",
        str(ledger),
        "-o",
        str(out),
    )
    assert code == 1
    assert "entry 1 is missing before entry 2" in err
    assert not out.exists()


def test_export_refuses_a_folder_of_other_files_before_reading_the_ledger(
    tmp_path: Path,
) -> None:
    out = tmp_path / "docs"
    out.mkdir()
    (out / "keep.md").write_text("x")
    code, _, err = invoke(
        "evidence",
        "export",
        "--since",
        "2026-11-01",
        "--until",
        "2026-11-30",
        "--ledger",
        str(tmp_path / "none.sqlite"),
        "-o",
        str(out),
    )
    assert code == 2 and "not an export (keep.md)" in err
    assert [p.name for p in out.iterdir()] == ["keep.md"]
