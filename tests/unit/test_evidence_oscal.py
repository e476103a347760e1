"""OSCAL assessment results (compliance.evidence.oscal): valid for compliance-trestle's OSCAL
models, every control status mapped honestly, references that resolve, deterministic UUIDs and
bytes, and text from the scanned code kept as text."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from compliance.errors import ExitCode
from compliance.evidence.oscal.document import OSCAL_VERSION, render_assessment_results
from compliance.evidence.oscal.errors import OscalExportError
from compliance.evidence.oscal.fields import NS
from compliance.evidence.oscal.ids import oscal_control_id
from compliance.model import (
    CiContext,
    ControlResult,
    ControlStatus,
    Finding,
    FindingKind,
    Fingerprint,
    InputFile,
    Location,
    RuleId,
    RunContext,
    ScannerRun,
    ScannerStatus,
    ScanResult,
    ServiceName,
    Severity,
    Skip,
    Suppression,
    SuppressionKind,
    ToolInfo,
    Verdict,
    VerdictCounts,
)

from factories import fp

Golden = Callable[[str, str], None]

#: Text a scanned repository could put in a finding: JSON and Markdown syntax, raw HTML, an
#: OSCAL parameter insertion, a fence, backslashes, quotes and non-ASCII.
HOSTILE = (
    '"}], "injected": true, {"x": "\\u0000 \\\\ <script>alert(1)</script> '
    "[click](javascript:alert(1)) {{ insert: param, x }} *bold* _em_ ``` ~~~ # not a heading "
    "& &amp; <!-- --> \u00e9\u4e2d\U0001f600"
)
UUID5 = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")


def make_finding(n: int, controls: tuple[str, ...], **changes: Any) -> Finding:
    base = Finding(
        fingerprint=fp(n),
        service=ServiceName("api"),
        tool="bandit",
        rule_id=RuleId(f"B{600 + n}"),
        title=f"finding {n}",
        message=f"message {n}",
        severity=Severity.HIGH,
        kind=FindingKind.CODE,
        location=Location("services/api/app.py", n, n + 1),
        snippet=f"call_{n}()",
        controls=controls,
    )
    return replace(base, **changes)


def hand_built() -> ScanResult:
    """Both frameworks and every control status; open, inline, waived and baselined findings;
    a failed and a skipped scanner; hostile text in every field a repository can fill."""
    findings = (
        make_finding(1, ("A.8.28", "CC8.1"), message=HOSTILE, title=HOSTILE, snippet=HOSTILE),
        make_finding(2, ("A.8.28",), location=Location(f"services/{HOSTILE}.py", 3)),
        make_finding(
            3,
            ("A.8.28", "CC6.1"),
            suppression=Suppression(SuppressionKind.INLINE, f"# nosec {HOSTILE}"),
        ),
        make_finding(
            4,
            ("CC6.1",),
            tool="checkov",
            rule_id=RuleId("CKV_AWS_20"),
            kind=FindingKind.IAC_MISCONFIGURATION,
            resource="aws_s3_bucket.exports",
            suppression=Suppression(SuppressionKind.WAIVED, "waiver W-1: isolated elsewhere"),
        ),
        make_finding(
            5,
            ("CC6.1",),
            suppression=Suppression(SuppressionKind.BASELINED, "in baseline base.json"),
            help_url="javascript:alert(1)",
        ),
    )
    controls = (
        ControlResult(
            "iso27001", "A.5.1", "Policies", "manual", ControlStatus.MANUAL, reason="people"
        ),
        ControlResult(
            "iso27001",
            "A.5.7",
            "Threat intelligence",
            "partial",
            ControlStatus.PASSED,
            rules=("r1",),
        ),
        ControlResult(
            "iso27001",
            "A.8.28",
            "Secure coding",
            "automated",
            ControlStatus.FAILED,
            findings=(fp(1), fp(2)),
            rules=("code-rule",),
            reason="2 open finding(s); 1 suppressed",
        ),
        ControlResult(
            "soc2",
            "CC6.1",
            "Logical access",
            "partial",
            ControlStatus.PASSED,
            rules=("iac-rule",),
            reason="3 suppressed finding(s) did not count",
        ),
        ControlResult(
            "soc2",
            "CC7.2",
            "Monitoring",
            "automated",
            ControlStatus.NOT_ASSESSED,
            rules=("semgrep-rule",),
            reason="scanner semgrep failed",
        ),
        ControlResult(
            "soc2", "CC8.1", "Change management", "automated", ControlStatus.FAILED, (fp(1),)
        ),
        ControlResult("soc2", "CC1.1", "Integrity", "manual", ControlStatus.MANUAL),
    )
    return ScanResult(
        tool=ToolInfo("compliance", "0.1.0"),
        root="shop",
        started_at=datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=timezone.utc),
        finished_at=datetime(2024, 5, 1, 14, 0, 5, tzinfo=timezone(timedelta(hours=2))),
        scanners=(
            ScannerRun("bandit", ScannerStatus.OK, "1.7.9", 0.443, findings=4),
            ScannerRun("semgrep", ScannerStatus.ERROR, None, 12.0, error=f"crashed: {HOSTILE}"),
            ScannerRun("checkov", ScannerStatus.SKIPPED, "3.2.0", 0, error="nothing to scan"),
        ),
        services=(),
        findings=findings,
        skipped=(Skip("# charts/api", "helm is not installed", "checkov"),),
        verdict=Verdict(
            passed=False,
            fail_on=Severity.HIGH,
            failing=(fp(1), fp(2)),
            counts=VerdictCounts(total=5, open=2, failing=2, new=5, suppressed=1, waived=1),
        ),
        commit="0123456789abcdef0123456789abcdef01234567",
        controls=controls,
        inputs=(InputFile("gate", "policies/gate.yaml", "ab" * 32, detail="# gate"),),
        context=RunContext(
            branch="main", dirty=False, ci=CiContext("github", "42", "https://ci.test/run/42")
        ),
    )


RESULTS = ["examples", "hand-built"]


@pytest.fixture(params=RESULTS)
def result(request: pytest.FixtureRequest, examples_result: ScanResult) -> ScanResult:
    return examples_result if request.param == "examples" else hand_built()


def parse(result: ScanResult, **kwargs: Any) -> dict[str, Any]:
    document: dict[str, Any] = json.loads(render_assessment_results(result, **kwargs))
    assert list(document) == ["assessment-results"]
    return dict(document["assessment-results"])


def the_result(document: dict[str, Any]) -> dict[str, Any]:
    [only] = document["results"]
    return dict(only)


def props(item: dict[str, Any], name: str) -> list[str]:
    return [p["value"] for p in item.get("props", []) if p["name"] == name and p.get("ns") == NS]


def walk(value: Any) -> Iterator[tuple[str, Any]]:
    """Every (key, value) pair of the document, depth first."""
    if isinstance(value, dict):
        for key, item in value.items():
            yield key, item
            yield from walk(item)
    elif isinstance(value, list):
        for item in value:
            yield from walk(item)


# --- validity --------------------------------------------------------------------------------


@pytest.fixture
def trestle_ar() -> Any:
    module = pytest.importorskip(
        "trestle.oscal.assessment_results",
        reason="compliance-trestle is not installed (a dev dependency: pip install -e '.[dev]')",
    )
    return module.AssessmentResults


def test_loads_with_trestle_oscal_models(
    result: ScanResult, trestle_ar: Any, tmp_path: Path
) -> None:
    path = tmp_path / "assessment-results.json"
    path.write_text(render_assessment_results(result), encoding="utf-8")
    loaded = trestle_ar.oscal_read(path)  # pydantic validation of the whole document
    assert loaded is not None
    [loaded_result] = loaded.results
    assert len(loaded_result.findings) == sum(
        1 for c in result.controls if c.status is not ControlStatus.MANUAL
    )
    assert len(loaded_result.observations or ()) == len(result.findings)


def test_trestle_rejects_what_oscal_forbids(trestle_ar: Any) -> None:
    """The validation above can fail: a finding state OSCAL does not define is refused."""
    document = parse(hand_built())
    the_result(document)["findings"][0]["target"]["status"]["state"] = "not-assessed"
    with pytest.raises(ValueError, match=r"not-assessed|state"):
        trestle_ar.model_validate(document)


def test_metadata_period_and_import_ap(result: ScanResult) -> None:
    document = parse(result)
    assert OSCAL_VERSION.startswith("1.1.")
    assert document["metadata"]["oscal-version"] == OSCAL_VERSION
    assert document["metadata"]["last-modified"] == result.finished_at.isoformat()
    result_ = the_result(document)
    assert (result_["start"], result_["end"]) == (
        result.started_at.isoformat(),
        result.finished_at.isoformat(),
    )
    # import-ap points at the back-matter resource that describes the plan (OSCAL type plan),
    # followed by one resource per input file with its digest.
    href = document["import-ap"]["href"]
    resources = {r["uuid"]: r for r in document["back-matter"]["resources"]}
    plan = resources[href.removeprefix("#")]
    assert {"name": "type", "value": "plan"} in plan["props"]
    assert sorted(v for r in resources.values() for v in props(r, "sha256")) == sorted(
        i.sha256 for i in result.inputs
    )


def test_tools_are_assessment_assets_and_the_repository_is_the_subject() -> None:
    result_ = the_result(parse(hand_built()))
    assets = result_["local-definitions"]["assessment-assets"]
    tools = {c["title"]: c for c in assets["components"]}
    assert sorted(tools) == ["bandit", "checkov", "semgrep"]
    assert all(c["type"] == "software" for c in tools.values())
    assert {"name": "version", "value": "1.7.9"} in tools["bandit"]["props"]  # OSCAL's own prop
    assert tools["bandit"]["status"] == {"state": "operational"}
    assert tools["semgrep"]["status"]["state"] == "other"
    assert "crashed" in tools["semgrep"]["status"]["remarks"]
    [platform] = assets["assessment-platforms"]
    assert [u["component-uuid"] for u in platform["uses-components"]] == [
        tools[name]["uuid"] for name in ("bandit", "checkov", "semgrep")
    ]
    [repository] = result_["local-definitions"]["components"]
    assert props(repository, "commit") == ["0123456789abcdef0123456789abcdef01234567"]
    assert props(repository, "ci-run-url") == ["https://ci.test/run/42"]


# --- controls --------------------------------------------------------------------------------


def test_every_failed_control_has_a_not_satisfied_finding_with_its_observations(
    result: ScanResult,
) -> None:
    result_ = the_result(parse(result))
    observations = {o["uuid"]: o for o in result_.get("observations", [])}
    by_target = {f["target"]["target-id"]: f for f in result_["findings"]}
    failed = [c for c in result.controls if c.status is ControlStatus.FAILED]
    assert failed
    for control in failed:
        finding = by_target[f"{oscal_control_id(control.id)}_smt"]
        assert finding["target"]["type"] == "statement-id"
        assert finding["target"]["status"] == {"state": "not-satisfied", "reason": "fail"}
        assert props(finding, "control-id") == [control.id]
        related = [r["observation-uuid"] for r in finding["related-observations"]]
        assert set(related) <= set(observations)
        seen = {v for u in related for v in props(observations[u], "fingerprint")}
        assert set(control.findings) <= seen


def test_status_mapping_and_manual_controls_excluded() -> None:
    result_ = the_result(parse(hand_built()))
    states = {
        f["target"]["target-id"]: (f["target"]["status"], props(f, "control-status"))
        for f in result_["findings"]
    }
    assert states == {
        "a.5.7_smt": ({"state": "satisfied", "reason": "pass"}, ["passed"]),
        "a.8.28_smt": ({"state": "not-satisfied", "reason": "fail"}, ["failed"]),
        "cc6.1_smt": ({"state": "satisfied", "reason": "pass"}, ["passed"]),
        "cc7.2_smt": ({"state": "not-satisfied", "reason": "other"}, ["not-assessed"]),
        "cc8.1_smt": ({"state": "not-satisfied", "reason": "fail"}, ["failed"]),
    }
    iso, soc2 = result_["reviewed-controls"]["control-selections"]
    assert (props(iso, "framework"), props(soc2, "framework")) == (["iso27001"], ["soc2"])
    assert iso["include-controls"] == [{"control-id": "a.5.7"}, {"control-id": "a.8.28"}]
    assert iso["exclude-controls"] == [{"control-id": "a.5.1"}]  # manual: people's evidence
    assert soc2["exclude-controls"] == [{"control-id": "cc1.1"}]
    # The passed CC6.1 relates the suppressed findings that bear on it, so the waiver shows.
    cc61 = next(f for f in result_["findings"] if f["target"]["target-id"] == "cc6.1_smt")
    observations = {o["uuid"]: o for o in result_["observations"]}
    kinds = {
        k
        for r in cc61["related-observations"]
        for k in props(observations[r["observation-uuid"]], "suppression")
    }
    assert kinds == {"inline", "waived", "baselined"}


@pytest.mark.parametrize(
    ("ours", "theirs"),
    [("A.8.28", "a.8.28"), ("A.5.1", "a.5.1"), ("CC6.1", "cc6.1"), ("PI1.2", "pi1.2")],
)
def test_control_ids_follow_oscal_catalogue_conventions(ours: str, theirs: str) -> None:
    assert oscal_control_id(ours) == theirs


def test_suppressed_findings_are_observations_that_say_why(result: ScanResult) -> None:
    observations = the_result(parse(result)).get("observations", [])
    suppressed = {f.fingerprint: f.suppression for f in result.findings if f.suppression}
    for observation in observations:
        [fingerprint] = props(observation, "fingerprint")
        suppression = suppressed.get(Fingerprint(fingerprint))
        if suppression is None:
            assert props(observation, "suppression") == []
            continue
        assert props(observation, "suppression") == [suppression.kind.value]
        assert props(observation, "suppression-justification") == [
            " ".join(suppression.justification.split())
        ]
        assert observation["remarks"].startswith(f"Suppressed ({suppression.kind.value})")
    assert len(observations) == len(result.findings)
    assert all(o["methods"] == ["TEST"] and o["types"] == ["finding"] for o in observations)
    assert all(o["collected"] == result.finished_at.isoformat() for o in observations)


# --- identity and determinism ------------------------------------------------------------------


def test_uuids_are_unique_version_5_and_every_reference_resolves(result: ScanResult) -> None:
    document = parse(result)
    defined = [v for k, v in walk(document) if k == "uuid"]
    assert len(defined) == len(set(defined))
    assert all(UUID5.match(u) for u in defined)
    references = [v for k, v in walk(document) if k.endswith("-uuid")]
    references.append(document["import-ap"]["href"].removeprefix("#"))
    assert references and set(references) <= set(defined)


def test_same_result_same_bytes_and_uuids_depend_on_result_and_namespace(
    result: ScanResult,
) -> None:
    first = render_assessment_results(result)
    assert render_assessment_results(result) == first
    other_namespace = render_assessment_results(result, uuid_namespace=uuid.uuid4())
    later = render_assessment_results(
        replace(result, finished_at=result.finished_at + timedelta(seconds=1))
    )
    uuids = {
        json.loads(text)["assessment-results"]["uuid"] for text in (first, other_namespace, later)
    }
    assert len(uuids) == 3


def test_examples_golden(examples_result: ScanResult, golden: Golden) -> None:
    golden("oscal/examples-assessment-results.json", render_assessment_results(examples_result))


# --- text from the scanned code ------------------------------------------------------------------


def test_hostile_text_stays_text() -> None:
    text = render_assessment_results(hand_built())
    document = json.loads(text)["assessment-results"]  # still one JSON document
    assert "injected" not in {key for key, _ in walk(document)}
    [first, second, *_] = the_result(document)["observations"]
    one_line = " ".join(HOSTILE.split())
    # Props are data: exact (whitespace collapsed to one line, as OSCAL's string type requires).
    assert props(second["relevant-evidence"][0], "path") == [f"services/{one_line}.py"]
    assert props(first, "rule-id") == ["B601"] and first["title"] != HOSTILE
    # Markup is Markdown: the message and snippet are fenced verbatim, so nothing is rendered...
    fence = re.search(r"(`{4,})text\n(.*?)\n\1", first["description"], re.DOTALL)
    assert fence is not None and fence.group(2) == HOSTILE
    # ...and one-line text is backslash-escaped: no raw HTML, link or insertion survives.
    for markup in (first["title"], second["relevant-evidence"][0]["description"]):
        for raw in ("<script>", "[click](", "{{ insert", "*bold*", "```"):
            assert raw not in markup
        assert re.sub(r"\\(.)", r"\1", markup).count("alert(1)") == 2
    # A help URL that is not http(s) is dropped, never linked.
    links = [link for key, value in walk(document) if key == "links" for link in value]
    assert all(link["href"].startswith(("http://", "https://")) for link in links)
    # A skipped path cannot open a heading in the result's remarks (a Markdown list).
    assert "- \\# charts/api (checkov): helm is not installed" in the_result(document)["remarks"]


def test_invisible_characters_are_shown_in_markup_and_kept_in_props() -> None:
    path = "app\u202e.py\x1b[31m"
    result = hand_built()
    finding = replace(result.findings[1], title=f"bad {path}", location=Location(path, 1))
    result = replace(result, findings=(result.findings[0], finding, *result.findings[2:]))
    observation = the_result(parse(result))["observations"][1]
    assert observation["title"] == "bad app\\\\u202e.py\\\\x1b\\[31m"
    assert props(observation["relevant-evidence"][0], "path") == [path]


def test_an_undecodable_file_name_still_gives_utf8_json() -> None:
    path = "services/caf\udce9.py"  # a surrogate-escaped byte, as os.fsdecode gives it
    result = hand_built()
    finding = replace(result.findings[1], location=Location(path, 1))
    result = replace(result, findings=(result.findings[0], finding, *result.findings[2:]))
    text = render_assessment_results(result)
    text.encode("utf-8")  # no UnicodeEncodeError when written
    observation = json.loads(text)["assessment-results"]["results"][0]["observations"][1]
    assert props(observation["relevant-evidence"][0], "path") == [path]


# --- what cannot be exported ---------------------------------------------------------------------


def test_a_result_without_reviewed_controls_is_an_error() -> None:
    result = hand_built()
    manual = tuple(replace(c, status=ControlStatus.MANUAL) for c in result.controls)
    with pytest.raises(OscalExportError, match="assesses no control") as raised:
        render_assessment_results(replace(result, controls=manual))
    assert raised.value.exit_code is ExitCode.INVALID_CONFIG
    with pytest.raises(OscalExportError, match="assesses no control"):
        render_assessment_results(replace(result, controls=()))


def test_times_without_timezone_and_bad_control_ids_are_errors() -> None:
    result = hand_built()
    with pytest.raises(OscalExportError, match="no timezone"):
        render_assessment_results(replace(result, started_at=datetime(2024, 5, 1, 12, 0)))
    bad = replace(result.controls[1], id="5.7")
    with pytest.raises(OscalExportError, match="cannot be an OSCAL control id"):
        render_assessment_results(replace(result, controls=(bad, *result.controls[2:])))
