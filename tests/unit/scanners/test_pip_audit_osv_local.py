"""The local OSV advisory database: matching, layouts, CVSS, errors. No network."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import yaml
from packaging.version import Version
from pip_audit._service.interface import ResolvedDependency, SkippedDependency

from compliance.model import Severity
from compliance.scanners.pip_audit.advisory import (
    UNSCORED_BASIS,
    Advisory,
    AdvisoryError,
    parse_advisory,
)
from compliance.scanners.pip_audit.cvss import (
    CvssError,
    base_score,
    roundup,
    severity_of_score,
)
from compliance.scanners.pip_audit.osv_local import AdvisoryDb, LocalOsvService, load_record
from compliance.scanners.pip_audit.protocol import RequestedDependency, WorkerRequest
from compliance.scanners.pip_audit.requirement import normalise_name
from compliance.scanners.pip_audit.worker import audit

MINI = Path(__file__).resolve().parents[2] / "assets" / "advisory-db-mini"
MINI_FILES = 8


def record(events=None, versions=None, **extra) -> dict:
    affected = {"package": {"name": "demo", "ecosystem": "PyPI"}}
    if events is not None:
        affected["ranges"] = [{"type": "ECOSYSTEM", "events": events}]
    if versions is not None:
        affected["versions"] = versions
    return {"id": "TEST-1", "affected": [affected], **extra}


def affects(doc: dict, version: str, name: str = "demo") -> bool:
    return parse_advisory(doc, "t.yaml").affects(normalise_name(name), Version(version))


# --- CVSS --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("vector", "score"),
    [
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H", 10.0),
        ("CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H", 9.9),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H", 7.5),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H", 8.8),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H", 7.8),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:L/A:N", 6.5),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N", 6.1),
        ("CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:N/A:N", 5.9),
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:N/S:U/C:H/I:N/A:N", 5.5),
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N", 5.3),
        ("CVSS:3.1/AV:A/AC:H/PR:H/UI:N/S:U/C:H/I:N/A:N", 4.2),  # CVE-2023-45803
        ("CVSS:3.1/AV:L/AC:L/PR:L/UI:R/S:U/C:L/I:N/A:N", 2.8),
        ("CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", 9.8),
        ("CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N", 0.0),
        # temporal metrics do not change the base score
        ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:U/RL:O/RC:R", 9.8),
    ],
)
def test_cvss_base_scores_of_known_vectors(vector, score):
    assert base_score(vector) == score


@pytest.mark.parametrize(
    "vector",
    [
        "AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",  # no version prefix
        "CVSS:2.0/AV:N/AC:L/Au:N/C:P/I:P/A:P",
        "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H",  # A missing
        "CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
        "CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
    ],
)
def test_cvss_rejects_bad_vectors(vector):
    with pytest.raises(CvssError):
        base_score(vector)


def test_cvss_roundup_and_ratings():
    assert roundup(4.02) == 4.1
    assert roundup(4.0) == 4.0
    assert roundup(4.000001) == 4.0  # float noise is not rounded up (v3.1 Appendix A)
    assert [severity_of_score(s) for s in (10, 9.0, 8.9, 7.0, 6.9, 4.0, 3.9, 0.1, 0.0)] == [
        Severity.CRITICAL,
        Severity.CRITICAL,
        Severity.HIGH,
        Severity.HIGH,
        Severity.MEDIUM,
        Severity.MEDIUM,
        Severity.LOW,
        Severity.LOW,
        Severity.INFO,
    ]


# --- matching ----------------------------------------------------------------------------


def test_introduced_fixed_pairs_in_any_order():
    doc = record(
        [{"fixed": "2.0.7"}, {"introduced": "0"}, {"introduced": "2.0.0"}, {"fixed": "1.26.18"}]
    )
    assert affects(doc, "0.1")
    assert affects(doc, "1.26.17")
    assert affects(doc, "1.26.18rc1")  # a pre-release of the fix is still affected
    assert not affects(doc, "1.26.18")
    assert not affects(doc, "1.99")
    assert affects(doc, "2.0.0")
    assert not affects(doc, "2.0.7")
    assert not affects(doc, "3.0")


def test_last_affected_is_inclusive():
    doc = record([{"introduced": "1.0"}, {"last_affected": "1.11.0"}])
    assert not affects(doc, "0.9")
    assert affects(doc, "1.11.0")
    assert not affects(doc, "1.11.1")


def test_open_range_and_explicit_versions():
    assert affects(record([{"introduced": "3.0"}]), "99.0")
    doc = record(versions=["1.0", "1.1", "weird-1"])
    assert affects(doc, "1.0")
    assert affects(doc, "1.1.0")  # PEP 440 equality, not string equality
    assert not affects(doc, "1.2")


def test_git_ranges_and_other_ecosystems_are_ignored():
    doc = record()
    doc["affected"][0]["ranges"] = [
        {"type": "GIT", "repo": "https://x", "events": [{"introduced": "0"}, {"fixed": "abc"}]}
    ]
    assert not affects(doc, "1.0")
    npm = {"id": "X", "affected": [{"package": {"name": "demo", "ecosystem": "npm"}}]}
    assert parse_advisory(npm, "x.json").affected == ()


def test_withdrawn_records_match_nothing():
    doc = record([{"introduced": "0"}], withdrawn="2023-06-06T10:37:00Z")
    assert not affects(doc, "1.0")


def test_unreadable_event_versions_fail_closed():
    # an unreadable fix keeps the range open; an unreadable start counts as "0"
    assert affects(record([{"introduced": "0"}, {"fixed": "0.2.0-n653"}]), "5.0")
    assert affects(record([{"introduced": "not a version"}, {"fixed": "2.0"}]), "0.1")


def test_names_are_normalised_on_both_sides():
    doc = record([{"introduced": "0"}])
    doc["affected"][0]["package"]["name"] = "Zope.Interface"
    assert affects(doc, "1.0", name="zope_interface")
    assert affects(doc, "1.0", name="ZOPE-interface")


def test_fixed_versions_are_the_fixes_newer_than_the_pin():
    doc = record(
        [{"introduced": "0"}, {"fixed": "1.26.18"}, {"introduced": "2.0.0"}, {"fixed": "2.0.7"}]
    )
    advisory = parse_advisory(doc, "t.yaml")
    name = normalise_name("demo")
    assert advisory.fixed_versions(name, Version("1.26.4")) == (
        Version("1.26.18"),
        Version("2.0.7"),
    )
    assert advisory.fixed_versions(name, Version("2.0.1")) == (Version("2.0.7"),)


# --- severity, CWEs, links ---------------------------------------------------------------


def test_severity_from_the_worst_cvss_vector():
    doc = record(
        severity=[
            {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N"},
            {"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"},
            {"type": "CVSS_V4", "score": "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H"},
        ],
        database_specific={"severity": "LOW"},
    )
    advisory = parse_advisory(doc, "t.yaml")
    assert advisory.severity is Severity.CRITICAL
    assert "9.8" in advisory.severity_basis


def test_severity_from_ghsa_rating_then_high_by_default():
    moderate = record(
        severity=[{"type": "CVSS_V3", "score": "garbage"}],
        database_specific={"severity": "MODERATE", "cwe_ids": ["CWE-79", "CWE-20"]},
    )
    advisory = parse_advisory(moderate, "t.yaml")
    assert advisory.severity is Severity.MEDIUM
    assert advisory.cwe == ("CWE-79", "CWE-20")
    bare = parse_advisory(record(), "t.yaml")
    assert bare.severity is Severity.HIGH
    assert bare.severity_basis == UNSCORED_BASIS


def test_help_url_prefers_the_advisory_reference():
    refs = [{"type": "WEB", "url": "https://w"}, {"type": "ADVISORY", "url": "https://a"}]
    assert parse_advisory(record(references=refs), "t").help_url == "https://a"
    assert parse_advisory(record(), "t").help_url == "https://osv.dev/vulnerability/TEST-1"


@pytest.mark.parametrize(
    ("doc", "words"),
    [
        (["not", "a", "record"], "not a mapping"),
        ({"affected": []}, "no `id`"),
        ({"id": "X", "affected": {"package": {}}}, "`affected` is not a list"),
        ({"id": "X", "affected": [{"ranges": []}]}, "package` is missing"),
        ({"id": "X", "affected": [{"package": {"name": "x"}}]}, "name and an ecosystem"),
        (record([{"introduced": 0}]), "non-string event"),
        (record([{"introduced": "0", "fixed": "1"}]), "not one key"),
        (record(versions=[1.1]), "non-string"),
    ],
)
def test_malformed_records_raise_naming_the_file(doc, words):
    with pytest.raises(AdvisoryError) as caught:
        parse_advisory(doc, "vulns/demo/BAD.yaml")
    assert caught.value.file == "vulns/demo/BAD.yaml"
    assert "vulns/demo/BAD.yaml" in str(caught.value)
    assert words in str(caught.value)


# --- the database ------------------------------------------------------------------------


def test_per_package_layout_reads_only_the_folders_asked_for():
    db = AdvisoryDb(MINI)
    assert db.layout == "per-package"
    (advisory,) = db.advisories_for("Requests")
    assert advisory.id == "PYSEC-2023-74"
    assert advisory.file == "vulns/requests/PYSEC-2023-74.yaml"
    identity = db.identity()
    assert identity.files == MINI_FILES
    assert identity.records_read == 1
    assert identity.newest_modified == "2023-06-05T01:13:00.534973Z"
    assert db.advisories_for("no-such-package") == ()


def test_folder_names_are_normalised():
    db = AdvisoryDb(MINI / "vulns")  # the vulns folder itself works too
    (advisory,) = db.advisories_for("jw-util")
    assert advisory.id == "PYSEC-2020-341"


def test_flat_json_layout(tmp_path: Path):
    for path in sorted(MINI.glob("vulns/*/*.yaml")):
        doc = yaml.safe_load(path.read_text())
        (tmp_path / f"{doc['id']}.json").write_text(json.dumps(doc, default=str))
    (tmp_path / "README.md").write_text("not an advisory")
    db = AdvisoryDb(tmp_path)
    assert db.layout == "flat"
    assert [a.id for a in db.advisories_for("compliance_demo_pkg")] == ["TEST-2024-0001"]
    assert [a.id for a in db.advisories_for("urllib3")] == ["PYSEC-2023-212"]
    assert db.identity().records_read == MINI_FILES


def test_yaml_scalars_stay_strings(tmp_path: Path):
    folder = tmp_path / "vulns" / "demo"
    folder.mkdir(parents=True)
    (folder / "T.yaml").write_text(
        "id: T-1\nmodified: 2024-01-01T00:00:00Z\naffected:\n- package: {name: demo, "
        "ecosystem: PyPI}\n  versions:\n  - 1.10\n"
    )
    (advisory,) = AdvisoryDb(tmp_path).advisories_for("demo")
    assert advisory.affects(normalise_name("demo"), Version("1.10"))
    assert not advisory.affects(normalise_name("demo"), Version("1.1"))


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        ("BAD.yaml", "id: [unclosed\n", "not valid YAML"),
        ("BAD.json", "{", "not valid JSON"),
        ("BAD.yaml", "- just\n- a list\n", "not a mapping"),
    ],
)
def test_a_malformed_file_is_an_error_naming_it(tmp_path: Path, name, content, words):
    shutil.copytree(MINI, tmp_path / "db")
    (tmp_path / "db" / "vulns" / "requests" / name).write_text(content)
    db = AdvisoryDb(tmp_path / "db")
    with pytest.raises(AdvisoryError) as caught:
        db.advisories_for("requests")
    assert caught.value.file == f"vulns/requests/{name}"
    assert words in str(caught.value)
    assert db.advisories_for("django")  # other packages are unaffected


def test_a_malformed_file_in_a_flat_export_is_an_error(tmp_path: Path):
    (tmp_path / "GOOD.json").write_text(json.dumps(record()))
    (tmp_path / "BROKEN.json").write_text("[1, 2")
    with pytest.raises(AdvisoryError, match=r"BROKEN\.json"):
        AdvisoryDb(tmp_path).advisories_for("demo")


def test_missing_or_empty_database_is_an_error(tmp_path: Path):
    with pytest.raises(AdvisoryError, match="not found"):
        AdvisoryDb(tmp_path / "nowhere")
    with pytest.raises(AdvisoryError, match="no OSV advisory files"):
        AdvisoryDb(tmp_path)


def test_load_record_reads_a_real_pypa_file():
    advisory = load_record(MINI / "vulns/urllib3/PYSEC-2023-212.yaml", "x")
    assert isinstance(advisory, Advisory)
    assert advisory.severity is Severity.MEDIUM
    assert advisory.modified is not None and advisory.modified.year == 2023


# --- pip-audit's service interface -------------------------------------------------------


def test_local_service_answers_pip_audit_queries():
    service = LocalOsvService(AdvisoryDb(MINI))
    spec = ResolvedDependency(name="urllib3", version=Version("1.26.4"))
    answered, results = service.query(spec)
    assert answered is spec
    (result,) = results
    assert result.id == "PYSEC-2023-212"
    assert result.aliases == {"CVE-2023-45803", "GHSA-g4mx-q9vg-27p4"}
    assert result.fix_versions == [Version("1.26.18"), Version("2.0.7")]
    assert result.published is not None and result.published.tzinfo is None
    assert "\n" not in result.description
    assert set(service.matched) == {"PYSEC-2023-212"}
    assert service.query(ResolvedDependency(name="urllib3", version=Version("2.0.7")))[1] == []
    skipped = SkippedDependency(name="x", skip_reason="no version")
    assert service.query(skipped) == (skipped, [])


def test_local_service_keeps_the_record_id_and_skips_withdrawn():
    service = LocalOsvService(AdvisoryDb(MINI))
    _, results = service.query(
        ResolvedDependency(name="compliance-demo-pkg", version=Version("1.1"))
    )
    assert [r.id for r in results] == ["TEST-2024-0001"]  # not pip-audit's CVE-first choice
    _, results = service.query(ResolvedDependency(name="redis", version=Version("1.34")))
    assert results == []


def test_worker_audit_in_process_with_the_local_database():
    request = WorkerRequest(
        dependencies=(
            RequestedDependency(name="compliance-demo-pkg", version="1.0"),
            RequestedDependency(name="py", version="1.11.0"),
            RequestedDependency(name="six", version="1.16.0"),
            RequestedDependency(name="odd", version="not-pep-440"),
        ),
        advisory_db=str(MINI),
    )
    report = audit(request)
    assert report.service == "local-osv"
    assert report.advisory_db is not None and report.advisory_db["files"] == MINI_FILES
    results = {r.name: r for r in report.results}
    (demo,) = results["compliance-demo-pkg"].vulns
    assert demo.id == "TEST-2024-0001"
    assert demo.severity is Severity.CRITICAL
    assert demo.cwe == ("CWE-79",)
    assert demo.help_url == "https://osv.dev/vulnerability/TEST-2024-0001"
    assert demo.published == "2024-01-01T00:00:00Z"
    (py,) = results["py"].vulns
    assert py.id == "PYSEC-2022-42969" and py.fix_versions == ()
    assert results["six"].vulns == ()
    (odd,) = report.not_audited
    assert odd.name == "odd" and "skipped by pip-audit" in odd.reason
