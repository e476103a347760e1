from __future__ import annotations

import csv
import io
from pathlib import Path

from click.testing import CliRunner

from compliance.cli import cli
from compliance.model import Severity

from .conftest import FakeScanner, Install, finding


def invoke(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, list(args))
    return result.exit_code, result.stdout, result.stderr


def test_soa_from_a_saved_result(fake_scanners: Install, repo: Path, tmp_path: Path) -> None:
    fake_scanners(FakeScanner("bandit", (finding("services/api/app.py", Severity.HIGH, "B602"),)))
    saved = tmp_path / "result.json"
    assert invoke("scan", str(repo), "-q", "-o", f"json={saved}")[0] == 1
    (repo / "policies").mkdir()
    (repo / "policies" / "soa.yaml").write_text(
        "exclusions:\n  - control: A.7.4\n    justification: cloud only, no premises of our own\n"
    )
    code, out, err = invoke("soa", str(repo), "--result", str(saved))
    assert code == 0, err
    assert out.startswith("# Statement of Applicability\n")
    assert "| A.8.28 | Secure coding | yes | automated | failed: 1 open finding(s)" in out
    assert "Applicability decisions: policies/soa.yaml." in out

    target = tmp_path / "soa.csv"
    code, _, err = invoke(
        "soa", str(repo), "--result", str(saved), "--format", "csv", "-o", str(target)
    )
    assert code == 0 and "154 controls" in err
    rows = {r["control"]: r for r in csv.DictReader(io.StringIO(target.read_text()))}
    assert rows["A.7.4"]["applicable"] == "no"
    assert rows["A.8.28"]["status"] == "failed" and rows["A.8.28"]["open_findings"] == "1"


def test_soa_bad_inputs(repo: Path, tmp_path: Path) -> None:
    assert invoke("soa", str(repo), "--result", str(tmp_path / "nope.json"))[0] == 2
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    code, out, err = invoke("soa", str(repo), "--result", str(broken))
    assert code == 3 and out == ""
    assert "line 1, column 2" in err
    (repo / "policies").mkdir()
    (repo / "policies" / "soa.yaml").write_text("exclusions:\n  - control: CC9.9\n")
    code, _, err = invoke("soa", str(repo))
    assert code == 3
    assert "policies/soa.yaml: exclusions[0].justification: Field required" in err
