"""The evidence bundle: layout, manifest, control index, context, verification of every kind
of tampering, deterministic archives, hostile archives, and never a half-written bundle."""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import io
import json
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import pytest

from compliance.errors import EnvironmentFailure, InternalError, UsageError
from compliance.evidence import bundle as bundle_module
from compliance.evidence import signing
from compliance.evidence.archive import ArchiveLimits
from compliance.evidence.assessors import load_rule_scanners
from compliance.evidence.bundle import (
    BundleExists,
    BundleInfo,
    missing_standard_reports,
    standard_reports,
    write_bundle,
)
from compliance.evidence.manifest import parse_manifest
from compliance.evidence.verify import SignatureState, VerificationFailed, verify_bundle
from compliance.model import RuleId, ScanResult
from compliance.reporting import REGISTRY, RenderOptions

from .test_evidence_support import (
    COMMIT,
    SEED_A,
    SEED_B,
    failures,
    flip,
    make_raw_dir,
    public_pem,
    signer,
    with_context,
)

PUB_A = public_pem(SEED_A)


@pytest.fixture
def result(examples_result: ScanResult) -> ScanResult:
    return with_context(examples_result)


@pytest.fixture
def reports(result: ScanResult) -> dict[str, tuple[str, ...]]:
    """Whatever the registry renders today, plus the terminal report split in two parts
    (to see a multi-part report named like `-o FORMAT=PATH` names it)."""
    terminal = REGISTRY["terminal"].render(result, RenderOptions())
    half = len(terminal) // 2
    return {**standard_reports(result), "summary.txt": (terminal[:half], terminal[half:])}


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    return make_raw_dir(tmp_path / "record")


def build(
    target: Path,
    result: ScanResult,
    reports: dict[str, tuple[str, ...]],
    raw: Path | None,
    *,
    signed: bool = True,
    **kwargs: object,
) -> BundleInfo:
    return write_bundle(
        target,
        result,
        reports=reports,
        raw_dir=raw,
        signer=signer() if signed else None,
        **kwargs,  # type: ignore[arg-type]
    )


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


# --- layout and manifest ---------------------------------------------------------------------


def test_bundle_holds_everything_and_the_manifest_lists_every_file(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]], raw: Path
) -> None:
    info = build(tmp_path / "evidence", result, reports, raw)
    root = info.path
    files = files_under(root)
    expected = {
        "manifest.json",
        "attestation.intoto.json",
        "result.json",
        "context.json",
        "controls/index.json",
        "controls/index.html",
        "reports/summary.txt",
        "reports/summary.2.txt",
        *(
            f"raw/{tool}/1.{ext}"
            for tool in ("bandit", "pip-audit")
            for ext in ("json", "stdout", "stderr")
        ),
    }
    if "sarif" in REGISTRY:
        expected.add("reports/report.sarif")
    if "html" in REGISTRY:
        expected.add("reports/report.html")
    assert set(files) == expected
    assert (root / "result.json").read_text() == REGISTRY["json"].render(result, RenderOptions())
    raw_copy = (root / "raw/bandit/1.stdout").read_bytes()
    assert raw_copy == (raw / "bandit/1.stdout").read_bytes()

    manifest = parse_manifest((root / "manifest.json").read_bytes())
    assert manifest.signed is True
    listed = [e.path for e in manifest.files]
    assert listed == sorted(listed)
    assert set(listed) == set(files) - {"manifest.json", "attestation.intoto.json"}
    for entry in manifest.files:
        data = (root / entry.path).read_bytes()
        assert entry.size == len(data)
        assert entry.sha256 == hashlib.sha256(data).hexdigest()
    assert info.files == len(listed)
    assert info.signed and info.keyid == signer().keyid
    assert info.manifest_sha256 == hashlib.sha256((root / "manifest.json").read_bytes()).hexdigest()


def test_the_same_input_gives_the_same_bytes(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]], raw: Path
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = build(tmp_path / "a" / "evidence", result, reports, raw)
    second = build(tmp_path / "b" / "evidence", result, reports, raw)
    for name in files_under(first.path):
        assert (first.path / name).read_bytes() == (second.path / name).read_bytes(), name


def test_context_records_the_run(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]], raw: Path
) -> None:
    root = build(tmp_path / "evidence", result, reports, raw).path
    context = json.loads((root / "context.json").read_text())
    assert context["repository"] == {"commit": COMMIT, "branch": "main", "dirty": False}
    assert context["ci"]["provider"] == "github"
    assert context["ci"]["run_url"] == "https://github.com/o/r/actions/runs/42"
    assert context["ci"]["actor"] == "octocat"
    assert context["started_at"] == result.started_at.isoformat()
    assert context["finished_at"] == result.finished_at.isoformat()
    versions = {s["name"]: s["version"] for s in context["scanners"]}
    assert versions == {s.name: s.version for s in result.scanners}
    bandit = next(s for s in context["scanners"] if s["name"] == "bandit")
    assert bandit["commands"] == [list(c) for c in result.scanners[0].commands]
    assert bandit["raw"] == ["raw/bandit/1.json", "raw/bandit/1.stderr", "raw/bandit/1.stdout"]
    recorded = {c["file"]: c for c in context["recorded_commands"]}
    assert recorded["raw/bandit/1.json"]["argv"] == ["bandit", "-f", "json", "-q", "app.py"]
    assert recorded["raw/bandit/1.json"]["stdout"] == "raw/bandit/1.stdout"
    assert recorded["raw/bandit/1.json"]["returncode"] == 0
    digests = {(i["kind"], i["path"]): i["sha256"] for i in context["inputs"]}
    assert digests == {(i.kind, i.path): i.sha256 for i in result.inputs}
    (advisory,) = context["advisory_db"]
    assert advisory["detail"] == "58 advisory files, newest modified 2024-09-09"


# --- the per-control index -------------------------------------------------------------------


@pytest.mark.parametrize("control_id", ["A.8.8", "CC7.1"])
def test_control_index_lists_findings_scanners_and_files(
    tmp_path: Path,
    result: ScanResult,
    reports: dict[str, tuple[str, ...]],
    raw: Path,
    control_id: str,
) -> None:
    root = build(
        tmp_path / "evidence", result, reports, raw, rule_scanners=load_rule_scanners(result)
    ).path
    index = json.loads((root / "controls/index.json").read_text())
    assert index["commit"] == COMMIT and index["signed"] is True
    entry = next(c for c in index["controls"] if c["id"] == control_id)
    control = next(c for c in result.controls if c.id == control_id)
    assert entry["status"] == control.status.value == "failed"
    assert entry["rules"] == list(control.rules)
    assert entry["assessed"] == {
        "started_at": result.started_at.isoformat(),
        "finished_at": result.finished_at.isoformat(),
    }
    bearing = [f for f in result.findings if control_id in f.controls]
    assert [f["fingerprint"] for f in entry["findings"]] == [f.fingerprint for f in bearing]
    assert sum(f["counts"] for f in entry["findings"]) == len(control.findings)
    first, finding = entry["findings"][0], bearing[0]
    assert (first["path"], first["line"], first["tool"]) == (
        finding.location.path,
        finding.location.start_line,
        finding.tool,
    )
    for item in entry["findings"]:
        assert "result.json" in item["files"]
        for path in item["files"]:
            assert item["fingerprint"] in (root / path).read_text()
    scanners = {s["name"]: s for s in entry["scanners"]}
    assert entry["scanners_from"] == "mapping-rules"
    assert scanners["pip-audit"]["version"] == "2.10.1"
    assert scanners["pip-audit"]["raw"] == [
        "raw/pip-audit/1.json",
        "raw/pip-audit/1.stderr",
        "raw/pip-audit/1.stdout",
    ]
    assert {"result.json", "raw/pip-audit/1.stdout"} <= set(entry["files"])
    html = (root / "controls/index.html").read_text()
    assert f'id="c-{control_id}"' in html
    assert f"{finding.location.path}:{finding.location.start_line}" in html


def test_control_index_without_mapping_rules_names_the_tools_of_its_findings(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    root = build(tmp_path / "evidence", result, reports, None).path
    index = json.loads((root / "controls/index.json").read_text())
    entry = next(c for c in index["controls"] if c["id"] == "A.8.8")
    assert entry["scanners_from"] == "findings"
    tools = {f.tool for f in result.findings if "A.8.8" in f.controls}
    assert {s["name"] for s in entry["scanners"]} == tools


def test_index_html_escapes_what_came_from_the_scanned_code(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    evil = dataclasses.replace(
        result.findings[0],
        title="<script>alert(1)</script>",
        rule_id=RuleId("R<b>"),
    )
    hostile = dataclasses.replace(result, findings=(evil, *result.findings[1:]))
    json_text = REGISTRY["json"].render(hostile, RenderOptions())
    root = build(tmp_path / "evidence", hostile, {"result.json": (json_text,)}, None).path
    html = (root / "controls/index.html").read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html


def test_rule_scanners_are_not_used_when_a_rule_file_changed(result: ScanResult) -> None:
    scanners = load_rule_scanners(result)
    assert scanners is not None
    assert scanners["dependency-vulnerabilities"] == ("pip-audit",)
    changed = tuple(
        dataclasses.replace(i, sha256="0" * 64) if i.kind == "mapping-rules" else i
        for i in result.inputs
    )
    assert load_rule_scanners(dataclasses.replace(result, inputs=changed)) is None


# --- verification ----------------------------------------------------------------------------


def test_signed_bundle_verifies(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]], raw: Path
) -> None:
    info = build(tmp_path / "evidence", result, reports, raw)
    report = verify_bundle(info.path, PUB_A)
    assert report.ok, report.problems
    assert report.signature is SignatureState.VERIFIED
    assert report.keyid == signer().keyid
    assert report.commit == COMMIT
    assert report.files == info.files


def test_without_a_key_the_signature_is_not_claimed(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    root = build(tmp_path / "evidence", result, reports, None).path
    report, text = failures(root, None)
    assert report is not None and report.signature is SignatureState.NOT_CHECKED
    assert "signature present but NOT checked" in text
    lenient = verify_bundle(root, None, allow_unsigned=True)
    assert lenient.ok and lenient.signature is SignatureState.NOT_CHECKED


def test_unsigned_bundle_says_so_loudly(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    info = build(tmp_path / "evidence", result, reports, None, signed=False)
    root = info.path
    assert not info.signed and info.keyid is None
    assert not (root / "attestation.intoto.json").exists()
    assert "NOT SIGNED" in (root / "UNSIGNED.txt").read_text()
    assert parse_manifest((root / "manifest.json").read_bytes()).signed is False
    assert "UNSIGNED BUNDLE" in (root / "controls/index.html").read_text()
    assert json.loads((root / "controls/index.json").read_text())["signed"] is False

    report, text = failures(root, None)
    assert report is not None and report.signature is SignatureState.UNSIGNED
    assert "the bundle is NOT signed" in text
    accepted = verify_bundle(root, None, allow_unsigned=True)
    assert accepted.ok and accepted.signature is SignatureState.UNSIGNED
    # a key asks for a signature, which an unsigned bundle does not have
    _, text = failures(root, PUB_A, allow_unsigned=True)
    assert "NOT signed" in text and "a key was given" in text


TAMPERED = [
    "result.json",
    "reports/summary.2.txt",
    "raw/bandit/1.stdout",
    "raw/pip-audit/1.json",
    "controls/index.json",
    "controls/index.html",
    "context.json",
    "manifest.json",
    "attestation.intoto.json",
]


@pytest.mark.parametrize("name", TAMPERED)
@pytest.mark.parametrize("where", ["first", "middle", "last"])
def test_one_flipped_byte_in_any_file_is_caught_and_named(
    tmp_path: Path,
    result: ScanResult,
    reports: dict[str, tuple[str, ...]],
    raw: Path,
    name: str,
    where: str,
) -> None:
    root = build(tmp_path / "evidence", result, reports, raw).path
    size = (root / name).stat().st_size
    flip(root / name, {"first": 0, "middle": size // 2, "last": size - 1}[where])
    report, text = failures(root, PUB_A)
    assert report is None or not report.ok
    assert name in text, text


def test_a_flipped_byte_in_a_report_part_names_the_file_and_the_digests(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    root = build(tmp_path / "evidence", result, reports, None).path
    before = hashlib.sha256((root / "reports/summary.txt").read_bytes()).hexdigest()
    flip(root / "reports/summary.txt", 10)
    after = hashlib.sha256((root / "reports/summary.txt").read_bytes()).hexdigest()
    report = verify_bundle(root, PUB_A)
    assert [str(p) for p in report.problems] == [
        f"reports/summary.txt: changed: sha256 differs: manifest.json says {before}, found {after}"
    ]
    assert not report.malformed
    with pytest.raises(VerificationFailed) as caught:
        raise VerificationFailed(report)
    assert caught.value.exit_code == 1


def test_a_rewritten_manifest_is_caught_by_the_signature(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    """The attacker changes a file and fixes its manifest entry: the attested digest of the
    manifest no longer matches."""
    root = build(tmp_path / "evidence", result, reports, None).path
    (root / "reports/summary.txt").write_text("nothing to see\n")
    manifest = (root / "manifest.json").read_text()
    data = (root / "reports/summary.txt").read_bytes()
    entry = next(line for line in manifest.splitlines() if '"path": "reports/summary.txt"' in line)
    fixed = json.dumps(
        {
            "path": "reports/summary.txt",
            "size": len(data),
            "sha256": hashlib.sha256(data).hexdigest(),
        }
    )
    (root / "manifest.json").write_text(manifest.replace(entry.strip().rstrip(","), fixed))
    report, text = failures(root, PUB_A)
    assert report is not None
    assert [p.file for p in report.problems] == ["manifest.json"]
    assert "altered after signing" in text


def test_added_and_removed_files_are_caught(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]], raw: Path
) -> None:
    root = build(tmp_path / "evidence", result, reports, raw).path
    (root / "raw/bandit/2.stdout").write_text("planted\n")
    (root / "raw/pip-audit/1.stderr").unlink()
    (root / "notes.txt").write_text("x")
    report = verify_bundle(root, PUB_A)
    assert sorted(str(p) for p in report.problems) == [
        "notes.txt: not listed in manifest.json (added after the bundle was made?)",
        "raw/bandit/2.stdout: not listed in manifest.json (added after the bundle was made?)",
        "raw/pip-audit/1.stderr: missing (listed in manifest.json)",
    ]


def test_removed_attestation_or_manifest(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    root = build(tmp_path / "evidence", result, reports, None).path
    (root / "attestation.intoto.json").unlink()
    _, text = failures(root, PUB_A)
    assert (
        "attestation.intoto.json: missing, though manifest.json says the bundle is signed" in text
    )
    (root / "manifest.json").unlink()
    report, text = failures(root, PUB_A)
    assert report is not None and report.malformed
    assert "manifest.json: missing: this is not an evidence bundle" in text


def test_wrong_public_key_fails_naming_both_key_ids(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    root = build(tmp_path / "evidence", result, reports, None).path
    report = verify_bundle(root, public_pem(SEED_B))
    assert report.signature is SignatureState.INVALID
    (problem,) = report.problems
    assert problem.file == "attestation.intoto.json" and not problem.malformed
    assert signer(SEED_B).keyid in problem.message and signer().keyid in problem.message


def test_symlink_in_a_bundle_folder_is_refused(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    root = build(tmp_path / "evidence", result, reports, None).path
    (tmp_path / "outside").write_text("x")
    (root / "reports/link.txt").symlink_to(tmp_path / "outside")
    _, text = failures(root, PUB_A)
    assert "reports/link.txt: is a symbolic link" in text


def _resign(root: Path, statement: dict[str, object] | bytes, seed: bytes = SEED_A) -> None:
    payload = statement if isinstance(statement, bytes) else json.dumps(statement).encode()
    text = signing.sign_envelope(payload, signer(seed))
    (root / "attestation.intoto.json").write_text(text)


def _statement(root: Path) -> dict[str, object]:
    envelope = json.loads((root / "attestation.intoto.json").read_text())
    loaded: dict[str, object] = json.loads(base64.b64decode(envelope["payload"]))
    return loaded


@pytest.mark.parametrize(
    ("envelope", "expected"),
    [
        ("not json", "not a DSSE envelope: invalid JSON"),
        ("[]", "expected a JSON object"),
        (
            '{"payloadType": "application/vnd.in-toto+json", "payload": "%%%", "signatures": '
            '[{"sig": "AAAA"}]}',
            "payload: not valid base64",
        ),
        (
            '{"payloadType": "application/vnd.in-toto+json", "payload": "e30=", "signatures": []}',
            "signatures: missing, not a list, or empty",
        ),
        (
            '{"payloadType": "application/vnd.in-toto+json", "payload": "e30=", "signatures": '
            '[{"sig": "!!"}]}',
            "signatures[0].sig: not valid base64",
        ),
        (
            '{"payloadType": "text/plain", "payload": "e30=", "signatures": [{"sig": "AAAA"}]}',
            "payloadType is 'text/plain'",
        ),
    ],
)
def test_malformed_envelope_is_named_and_malformed(
    tmp_path: Path,
    result: ScanResult,
    reports: dict[str, tuple[str, ...]],
    envelope: str,
    expected: str,
) -> None:
    root = build(tmp_path / "evidence", result, reports, None).path
    (root / "attestation.intoto.json").write_text(envelope)
    report, text = failures(root, PUB_A)
    assert report is not None and report.malformed
    assert text.startswith("attestation.intoto.json: ") and expected in text
    assert VerificationFailed(report).exit_code == 3


def test_malformed_manifest_is_named(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    root = build(tmp_path / "evidence", result, reports, None).path
    original = json.loads((root / "manifest.json").read_text())
    manifest = json.loads(json.dumps(original))
    manifest["files"][1]["sha256"] = "xyz"
    manifest["signed"] = "yes"
    (root / "manifest.json").write_text(json.dumps(manifest))
    report, text = failures(root, PUB_A)
    assert report is not None and report.malformed
    assert "manifest.json: files[1].sha256: String should match pattern" in text
    assert "manifest.json: signed: Input should be a valid boolean" in text
    manifest = json.loads(json.dumps(original))
    manifest["files"][0]["path"] = "../../etc/passwd"
    manifest["files"][2]["path"] = manifest["files"][1]["path"]
    (root / "manifest.json").write_text(json.dumps(manifest))
    _, text = failures(root, PUB_A)
    assert (
        "manifest.json: files[0].path: '../../etc/passwd' is not a path inside the bundle" in text
    )
    assert f"files[2].path: {manifest['files'][1]['path']} is listed twice" in text
    (root / "manifest.json").write_text('{"format": "compliance-evidence-bundle"')
    _, text = failures(root, PUB_A)
    assert "manifest.json: invalid JSON" in text


def test_statement_that_is_signed_but_wrong_is_caught(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    root = build(tmp_path / "evidence", result, reports, None).path
    statement = _statement(root)

    subjects = statement["subject"]
    assert isinstance(subjects, list)
    other_commit = {"name": "commit", "digest": {"gitCommit": "f" * 40}}
    _resign(root, {**statement, "subject": [subjects[0], other_commit]})
    _, text = failures(root, PUB_A)
    assert f"result.json: commit {COMMIT} differs from the attested commit {'f' * 40}" in text

    _resign(root, {**statement, "predicateType": "https://example.com/other/v1"})
    report, text = failures(root, PUB_A)
    assert report is not None and report.malformed and "predicateType" in text

    _resign(root, b"this is not json")
    report, text = failures(root, PUB_A)
    assert report is not None and report.malformed and "not a JSON in-toto Statement" in text


def test_bundle_without_commit_has_no_commit_subject(
    tmp_path: Path, examples_result: ScanResult
) -> None:
    assert examples_result.commit is None
    text = REGISTRY["json"].render(examples_result, RenderOptions())
    root = build(tmp_path / "evidence", examples_result, {"result.json": (text,)}, None).path
    subjects = _statement(root)["subject"]
    assert isinstance(subjects, list)
    assert [s["name"] for s in subjects] == ["manifest.json"]
    assert verify_bundle(root, PUB_A).ok


# --- archives --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_archives_are_deterministic_and_verify(
    tmp_path: Path,
    result: ScanResult,
    reports: dict[str, tuple[str, ...]],
    raw: Path,
    kind: str,
) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = build(tmp_path / "a" / "evidence", result, reports, raw, archive=kind)
    second = build(tmp_path / "b" / "evidence", result, reports, raw, archive=kind)
    suffix = ".tar.gz" if kind == "tar.gz" else ".zip"
    assert first.path == tmp_path / "a" / f"evidence{suffix}"
    assert first.path.read_bytes() == second.path.read_bytes()
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [f"evidence{suffix}"]
    report = verify_bundle(first.path, PUB_A)
    assert report.ok and report.signature is SignatureState.VERIFIED
    assert report.files == first.files


def test_tar_entries_are_normalised(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    info = build(tmp_path / "evidence", result, reports, None, archive="tar.gz")
    with tarfile.open(info.path) as tar:
        members = tar.getmembers()
    names = [m.name for m in members]
    assert names == sorted(names) and names[0] == "evidence"
    assert all(n == "evidence" or n.startswith("evidence/") for n in names)
    assert {(m.uid, m.gid, m.uname, m.gname) for m in members} == {(0, 0, "", "")}
    assert {m.mtime for m in members} == {int(result.finished_at.timestamp())}
    assert {m.mode for m in members if m.isfile()} == {0o644}


def test_tampered_archive_member_is_caught(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    info = build(tmp_path / "evidence", result, reports, None, archive="zip")
    rebuilt = tmp_path / "tampered.zip"
    with zipfile.ZipFile(info.path) as source, zipfile.ZipFile(rebuilt, "w") as out:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "evidence/result.json":
                data = data.replace(b'"root": "examples"', b'"root": "exampleZ"')
            out.writestr(item, data)
    _, text = failures(rebuilt, PUB_A)
    assert "result.json: changed: sha256 differs" in text


@pytest.mark.parametrize("kind", ["tar.gz", "zip"])
def test_truncated_archive_is_a_clear_error(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]], kind: str
) -> None:
    info = build(tmp_path / "evidence", result, reports, None, archive=kind)
    data = info.path.read_bytes()
    info.path.write_bytes(data[: len(data) // 2])
    report, text = failures(info.path, PUB_A)
    assert report is not None and report.malformed
    assert "corrupt or truncated archive" in text or "not an evidence bundle" in text


def _tar(path: Path, members: list[tarfile.TarInfo], data: bytes = b"x") -> None:
    with tarfile.open(path, "w:gz") as tar:
        for info in members:
            if info.isreg():
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            else:
                tar.addfile(info)


def _member(name: str, kind: bytes = tarfile.REGTYPE, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ([_member("../x")], "member '../x' is not a path inside the bundle"),
        ([_member("/tmp/x")], "member '/tmp/x' is not a path inside the bundle"),
        ([_member("b/../../x")], "is not a path inside the bundle"),
        ([_member("b/link", tarfile.SYMTYPE, "/etc/passwd")], "member 'b/link' is a link"),
        ([_member("b/hard", tarfile.LNKTYPE, "/etc/passwd")], "member 'b/hard' is a link"),
        ([_member("b/dev", tarfile.CHRTYPE)], "member 'b/dev' is a special file"),
        ([_member("b/fifo", tarfile.FIFOTYPE)], "member 'b/fifo' is a special file"),
        ([_member("b/x"), _member("b/x")], "member 'b/x' appears twice"),
    ],
)
def test_hostile_tar_members_are_refused(
    tmp_path: Path, members: list[tarfile.TarInfo], expected: str
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    archive = work / "hostile.tar.gz"
    _tar(archive, members)
    report, text = failures(archive, PUB_A)
    assert report is not None and report.malformed
    assert expected in text and "refused" in text
    assert not (tmp_path / "x").exists() and sorted(os.listdir(work)) == ["hostile.tar.gz"]


@pytest.mark.parametrize(
    ("name", "mode", "expected"),
    [
        ("../x", 0o100644, "member '../x' is not a path inside the bundle"),
        ("/abs/x", 0o100644, "member '/abs/x' is not a path inside the bundle"),
        ("b/link", 0o120777, "member 'b/link' is a link"),
    ],
)
def test_hostile_zip_members_are_refused(
    tmp_path: Path, name: str, mode: int, expected: str
) -> None:
    archive = tmp_path / "hostile.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        info = zipfile.ZipInfo(name)
        info.external_attr = mode << 16
        zf.writestr(info, b"/etc/passwd")
    _, text = failures(archive, PUB_A)
    assert expected in text and "refused" in text
    assert not (tmp_path / "x").exists()


def test_archive_size_caps(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    info = build(tmp_path / "evidence", result, reports, None, archive="tar.gz")
    _, text = failures(info.path, PUB_A, limits=ArchiveLimits(max_member_bytes=1000))
    assert "is larger than 1000 bytes: refused" in text
    _, text = failures(info.path, PUB_A, limits=ArchiveLimits(max_members=3))
    assert "more than 3 members: refused" in text
    _, text = failures(info.path, PUB_A, limits=ArchiveLimits(max_total_bytes=100_000))
    assert "holds more than 100000 bytes: refused" in text


def test_a_file_that_is_no_bundle(tmp_path: Path) -> None:
    path = tmp_path / "notes.txt"
    path.write_text("hello")
    report, text = failures(path, None)
    assert report is not None and report.malformed and "not an evidence bundle" in text
    with pytest.raises(UsageError, match="no such file or folder"):
        verify_bundle(tmp_path / "missing", None)


# --- writing safely --------------------------------------------------------------------------


def test_refuses_to_overwrite_unless_forced(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    target = tmp_path / "evidence"
    target.mkdir()  # an empty folder is fine
    build(target, result, reports, None)
    with pytest.raises(BundleExists, match="not empty"):
        build(target, result, reports, None)
    (target / "stale.txt").write_text("old")
    build(target, result, reports, None, force=True)
    assert not (target / "stale.txt").exists()
    assert verify_bundle(target, PUB_A).ok

    archive = build(tmp_path / "evidence", result, reports, None, archive="zip").path
    with pytest.raises(BundleExists, match="is a file"):
        build(tmp_path / "evidence", result, reports, None, archive="zip")
    archive.write_bytes(b"old")
    build(tmp_path / "evidence", result, reports, None, archive="zip", force=True)
    assert verify_bundle(archive, PUB_A).ok
    assert sorted(p.name for p in tmp_path.iterdir()) == ["evidence", "evidence.zip"]


def test_a_failure_leaves_nothing_half_written(
    tmp_path: Path,
    result: ScanResult,
    reports: dict[str, tuple[str, ...]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    target = tmp_path / "out" / "evidence"
    target.parent.mkdir()
    build(target, result, reports, None)
    before = {p: (target / p).read_bytes() for p in files_under(target)}

    def broken(index: object) -> str:
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(bundle_module, "render_index_html", broken)
    with pytest.raises(EnvironmentFailure, match="No space left on device"):
        build(target, result, reports, None, force=True)
    with pytest.raises(EnvironmentFailure):
        build(tmp_path / "out" / "new", result, reports, None, archive="tar.gz")
    assert sorted(os.listdir(tmp_path / "out")) == ["evidence"]  # no staging folder left
    assert {p: (target / p).read_bytes() for p in files_under(target)} == before


def test_bad_arguments(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]], raw: Path
) -> None:
    with pytest.raises(UsageError, match="does not exist"):
        build(tmp_path / "no" / "evidence", result, reports, None)
    with pytest.raises(InternalError, match=r"result\.json"):
        build(tmp_path / "e1", result, {"summary.txt": ("x",)}, None)
    other = REGISTRY["json"].render(dataclasses.replace(result, commit="f" * 40), RenderOptions())
    with pytest.raises(InternalError, match="another result"):
        build(tmp_path / "e2", result, {"result.json": (other,)}, None)
    with pytest.raises(InternalError, match="bad report"):
        build(tmp_path / "e3", result, {**reports, "../x": ("x",)}, None)
    (raw / "bandit" / "link").symlink_to(raw / "bandit" / "1.json")
    with pytest.raises(EnvironmentFailure, match="not a regular file"):
        build(tmp_path / "e4", result, reports, raw)
    assert not any(p.name.startswith(("e1", "e2", "e3", "e4", ".e")) for p in tmp_path.iterdir())


def test_standard_reports_render_what_the_registry_has(result: ScanResult) -> None:
    rendered = standard_reports(result)
    assert rendered["result.json"] == (REGISTRY["json"].render(result, RenderOptions()),)
    for name, fmt in bundle_module.STANDARD_REPORTS.items():
        assert (name in rendered) == (fmt in REGISTRY)
    assert set(missing_standard_reports()) == {
        f for f in bundle_module.STANDARD_REPORTS.values() if f not in REGISTRY
    }


def test_raw_files_outside_a_tool_folder_are_refused(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]], raw: Path
) -> None:
    (raw / "stray.txt").write_text("x")
    with pytest.raises(EnvironmentFailure, match="not in a tool's folder"):
        build(tmp_path / "evidence", result, reports, raw)
    shutil.rmtree(raw)
    with pytest.raises(UsageError, match="not a folder"):
        build(tmp_path / "evidence", result, reports, raw)


def test_envelope_keyid_narrows_the_keys_but_is_optional(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    root = build(tmp_path / "evidence", result, reports, None).path
    path = root / "attestation.intoto.json"
    envelope = json.loads(path.read_text())
    envelope["signatures"][0]["keyid"] = "0" * 64  # another key's id: our key is not tried
    path.write_text(json.dumps(envelope))
    _, text = failures(root, PUB_A)
    assert "the signature does not verify with the given key" in text
    assert "the envelope names key id " + "0" * 64 in text
    del envelope["signatures"][0]["keyid"]  # DSSE: KEYID is optional
    path.write_text(json.dumps(envelope))
    assert verify_bundle(root, PUB_A).ok


def test_encrypted_zip_member_is_a_clear_error(tmp_path: Path) -> None:
    archive = tmp_path / "locked.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("evidence/manifest.json", b"{}")
    data = bytearray(archive.read_bytes())
    data[6] |= 0x01  # the "encrypted" flag, in the local header and the central directory
    data[data.find(b"PK\x01\x02") + 8] |= 0x01
    archive.write_bytes(bytes(data))
    report, text = failures(archive, None)
    assert report is not None and report.malformed
    assert "unreadable archive" in text and "encrypted" in text


def test_a_bundle_repacked_with_tar_dot_prefix_verifies(
    tmp_path: Path, result: ScanResult, reports: dict[str, tuple[str, ...]]
) -> None:
    """`tar -C evidence -czf evidence.tar.gz .` writes `./`, `./manifest.json`, ..."""
    root = build(tmp_path / "evidence", result, reports, None).path
    archive = tmp_path / "repacked.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(root, arcname=".")
    assert verify_bundle(archive, PUB_A).ok
    conflict = tmp_path / "conflict.tar.gz"
    _tar(conflict, [_member("b/x"), _member("b/x/y")])
    _, text = failures(conflict, None)
    assert "is both a file and a folder: refused" in text
