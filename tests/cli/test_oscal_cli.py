"""`compliance evidence oscal`: a saved result as OSCAL assessment results, to a file or
stdout, with the documented exit codes."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from click.testing import CliRunner

from compliance.cli import cli
from compliance.evidence.oscal.document import render_assessment_results
from compliance.reporting.load import load_result

EXAMPLES = Path(__file__).resolve().parent.parent / "assets" / "results" / "examples.json"


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["evidence", "oscal", *args])
    return result.exit_code, result.stdout, result.stderr


def test_writes_the_document_atomically_to_a_file(tmp_path: Path) -> None:
    out = tmp_path / "assessment-results.json"
    code, stdout, stderr = invoke(str(EXAMPLES), "-o", str(out))
    assert code == 0, stderr
    assert stdout == ""
    assert "wrote OSCAL 1.1.3 assessment results" in stderr
    expected = render_assessment_results(load_result(EXAMPLES, "examples.json"))
    assert out.read_text(encoding="utf-8") == expected
    assert [p.name for p in tmp_path.iterdir()] == [out.name]  # no temporary file left
    # Written again: the same bytes, replacing the file.
    code, _, _ = invoke(str(EXAMPLES), "-o", str(out))
    assert code == 0 and out.read_text(encoding="utf-8") == expected


def test_prints_to_stdout_without_o(tmp_path: Path) -> None:
    code, stdout, stderr = invoke(str(EXAMPLES))
    assert code == 0, stderr
    document = json.loads(stdout)["assessment-results"]
    assert document["metadata"]["oscal-version"] == "1.1.3"
    assert stdout == render_assessment_results(load_result(EXAMPLES, "examples.json"))


def test_the_exit_code_is_not_the_gate(tmp_path: Path) -> None:
    """The examples' gate failed; exporting its evidence still succeeds."""
    assert json.loads(EXAMPLES.read_text())["verdict"]["passed"] is False
    code, _, _ = invoke(str(EXAMPLES), "-o", str(tmp_path / "ar.json"))
    assert code == 0


def test_missing_result_or_output_folder_is_a_usage_error(tmp_path: Path) -> None:
    code, stdout, stderr = invoke(str(tmp_path / "nope.json"))
    assert code == 2 and stdout == ""
    assert "no such file" in stderr
    code, _, stderr = invoke(str(tmp_path), "-o", str(tmp_path / "x.json"))
    assert code == 2 and "no such file" in stderr  # a folder is not a result file
    code, _, stderr = invoke(str(EXAMPLES), "-o", str(tmp_path / "no" / "ar.json"))
    assert code == 2 and "does not exist" in stderr
    assert not (tmp_path / "no").exists()


def test_an_invalid_result_exits_3(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text('{"schema_version": "2.2", "findings": "many"}', encoding="utf-8")
    out = tmp_path / "ar.json"
    code, stdout, stderr = invoke(str(bad), "-o", str(out))
    assert code == 3 and stdout == ""
    assert "bad.json" in stderr
    assert not out.exists()
    bad.write_text("not json", encoding="utf-8")
    code, _, stderr = invoke(str(bad))
    assert code == 3 and "invalid JSON" in stderr


def test_a_result_with_nothing_to_export_exits_3(tmp_path: Path) -> None:
    raw = json.loads(EXAMPLES.read_text())
    for control in raw["controls"]:
        control["status"] = "manual"
    manual = tmp_path / "manual.json"
    manual.write_text(json.dumps(raw), encoding="utf-8")
    code, stdout, stderr = invoke(str(manual))
    assert code == 3 and stdout == ""
    assert "assesses no control" in stderr and "hint:" in stderr


def test_a_relative_output_path_in_the_current_folder(tmp_path: Path) -> None:
    runner = CliRunner()
    with runner.isolated_filesystem(temp_dir=tmp_path):
        shutil.copy(EXAMPLES, "result.json")
        result = runner.invoke(cli, ["evidence", "oscal", "result.json", "-o", "ar.json"])
        assert result.exit_code == 0, result.stderr
        assert json.loads(Path("ar.json").read_text(encoding="utf-8"))["assessment-results"]
