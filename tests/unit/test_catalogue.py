from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from compliance.config import bundled_controls_dir
from compliance.errors import ConfigError
from compliance.policy.catalogue import Automation, Framework, load_catalogue


def expected_iso_ids() -> list[str]:
    sizes = {5: 37, 6: 8, 7: 14, 8: 34}
    return [f"A.{theme}.{n}" for theme, count in sizes.items() for n in range(1, count + 1)]


def expected_soc2_ids() -> list[str]:
    series = {
        "CC1": 5, "CC2": 3, "CC3": 4, "CC4": 2, "CC5": 3, "CC6": 8, "CC7": 5, "CC8": 1,
        "CC9": 2, "A1": 3, "C1": 2, "PI1": 5, "P1": 1, "P2": 1, "P3": 2, "P4": 3, "P5": 2,
        "P6": 7, "P7": 1, "P8": 1,
    }  # fmt: skip
    return [f"{s}.{n}" for s, count in series.items() for n in range(1, count + 1)]


def test_shipped_iso27001_catalogue_has_all_93_annex_a_controls() -> None:
    catalogue = load_catalogue(bundled_controls_dir())
    iso = catalogue.framework(Framework.ISO27001)
    assert [c.id for c in iso] == expected_iso_ids()
    assert catalogue.get("A.8.28") is not None
    assert catalogue.get("A.8.28").title == "Secure coding"  # type: ignore[union-attr]
    assert catalogue.get("A.8.8").automation is Automation.AUTOMATED  # type: ignore[union-attr]


def test_shipped_soc2_catalogue_has_the_2017_criteria_and_nothing_invented() -> None:
    soc2 = load_catalogue(bundled_controls_dir()).framework(Framework.SOC2)
    ids = [c.id for c in soc2]
    assert sorted(ids) == sorted(expected_soc2_ids())
    assert "CC9.9" not in ids and "CC6.9" not in ids


def copy_catalogue(tmp_path: Path) -> Path:
    target = tmp_path / "controls"
    shutil.copytree(bundled_controls_dir(), target)
    return target


def problems(folder: Path) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        load_catalogue(folder)
    return [str(p) for p in caught.value.problems]


def test_unknown_key_is_named_with_file_and_key_path(tmp_path: Path) -> None:
    folder = copy_catalogue(tmp_path)
    path = folder / "iso27001" / "a6-people.yaml"
    path.write_text(path.read_text().replace("automation: manual", "automaton: manual", 1))
    found = problems(folder)
    assert "iso27001/a6-people.yaml: controls[0].automaton: unknown key" in found
    assert "iso27001/a6-people.yaml: controls[0].automation: Field required" in found


def test_duplicate_ids_are_rejected(tmp_path: Path) -> None:
    folder = copy_catalogue(tmp_path)
    path = folder / "iso27001" / "a6-people.yaml"
    path.write_text(path.read_text().replace("id: A.6.2", "id: A.6.1", 1))
    assert any("id A.6.1: duplicate of iso27001/a6-people.yaml" in p for p in problems(folder))


def test_bad_ids_and_wrong_framework_are_rejected(tmp_path: Path) -> None:
    folder = copy_catalogue(tmp_path)
    cc8 = folder / "soc2" / "cc8-change-management.yaml"
    cc8.write_text(cc8.read_text().replace("id: CC8.1", "id: CC9.9.1"))
    a1 = folder / "soc2" / "a1-availability.yaml"
    a1.write_text(a1.read_text().replace("framework: soc2", "framework: iso27001"))
    found = problems(folder)
    assert "soc2/cc8-change-management.yaml: controls[0].id: not a soc2 id: 'CC9.9.1'" in found
    assert "soc2/a1-availability.yaml: framework: is iso27001, expected soc2" in found


def test_empty_catalogue_is_an_error_never_a_pass(tmp_path: Path) -> None:
    (tmp_path / "iso27001").mkdir()
    (tmp_path / "soc2").mkdir()
    found = problems(tmp_path)
    assert "iso27001: empty catalogue: no control defined (not a pass)" in found


def test_broken_yaml_names_the_line(tmp_path: Path) -> None:
    folder = copy_catalogue(tmp_path)
    (folder / "soc2" / "zz-broken.yaml").write_text("framework: soc2\ncontrols: [\n")
    assert any(p.startswith("soc2/zz-broken.yaml: line ") for p in problems(folder))
