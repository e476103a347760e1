"""The pip-audit adapter without subprocesses: the worker runs in-process behind a fake
ProcessRunner, so collection, fail-closed checks and finding building are tested fast."""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest

from compliance.errors import ScannerFailure
from compliance.inventory import Inventory
from compliance.model import FindingKind, Severity
from compliance.scanners.interface import NothingToScan, ScanContext, ScanSettings
from compliance.scanners.pip_audit import PipAuditScanner
from compliance.scanners.pip_audit.findings import build_findings, check_report, first_sentences
from compliance.scanners.pip_audit.protocol import WorkerReport, WorkerRequest
from compliance.scanners.pip_audit.scanner import collect_requirements, parse_report
from compliance.scanners.pip_audit.sources import Pinned, Unpinned
from compliance.scanners.pip_audit.worker import audit
from compliance.scanners.process import Completed, ProcessRunner

MINI = Path(__file__).resolve().parents[2] / "assets" / "advisory-db-mini"


class FakeProc(ProcessRunner):
    """Stands in for ProcessRunner: answers the worker command in this process."""

    def __init__(self, answer: Callable[[WorkerRequest], Completed] | None = None) -> None:
        super().__init__()
        self.calls: list[tuple[str, ...]] = []
        self.answer = answer or self.in_process

    def run(self, argv: Sequence[str], *, tool: str, timeout_s: float, **_: Any) -> Completed:
        assert tool == "pip-audit"
        self.calls.append(tuple(argv))
        request = WorkerRequest.model_validate_json(Path(argv[-1]).read_bytes())
        return self.answer(request)

    @staticmethod
    def in_process(request: WorkerRequest) -> Completed:
        out = audit(request).model_dump_json().encode()
        return Completed(("worker",), 0, out, b"", 0.01)


def context(
    root: Path, files: Sequence[str], db: Path | None = MINI, *, others: Sequence[str] = ()
) -> ScanContext:
    inventory = Inventory(
        root=root, dependency_files=tuple(files), all_files=tuple(sorted({*files, *others}))
    )
    return ScanContext(root, inventory, ScanSettings(advisory_db=db, timeout_s=60))


def write(root: Path, files: dict[str, str]) -> list[str]:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return sorted(files)


def test_run_reports_vulnerabilities_and_unpinned(tmp_path: Path):
    files = write(
        tmp_path,
        {
            "svc/requirements.txt": "# deps\nrequests==2.25.1\nflask>=2\n-c constraints.txt\n"
            "compliance-demo-pkg\n",
            "svc/constraints.txt": "compliance-demo-pkg==1.0\n",
        },
    )
    proc = FakeProc()
    out = PipAuditScanner().run(context(tmp_path, files[1:]), proc)
    assert out.version and out.version[0].isdigit()
    assert len(proc.calls) == 1 and proc.calls[0][1:3] == (
        "-m",
        "compliance.scanners.pip_audit.worker",
    )
    assert out.commands == (
        (proc.calls[0][0], "-m", "compliance.scanners.pip_audit.worker", "REQUEST.json"),
    )
    report = json.loads(out.raw_outputs[0])
    assert report["advisory_db"]["path"] == str(MINI)
    by_rule = {f.rule_id: f for f in out.findings}
    requests = by_rule["PYSEC-2023-74"]
    assert requests.kind is FindingKind.DEPENDENCY_VULNERABILITY
    assert requests.title == "requests 2.25.1: PYSEC-2023-74"
    assert requests.location.path == "svc/requirements.txt"
    assert (requests.location.start_line, requests.location.end_line) == (2, 2)
    assert requests.resource == "requests==2.25.1"
    assert requests.severity is Severity.HIGH  # no score in the record: fail closed
    assert "Fixed in 2.31.0." in requests.message
    assert requests.package is not None and requests.package.fixed_versions == ("2.31.0",)
    assert "GHSA-j8r2-6x86-q33q" in requests.package.aliases
    assert requests.help_url.endswith("GHSA-j8r2-6x86-q33q")
    demo = by_rule["TEST-2024-0001"]
    assert demo.location.path == "svc/constraints.txt"  # where the pin is written
    assert demo.severity is Severity.CRITICAL and demo.cwe == ("CWE-79",)
    assert "No fixed version is published." in demo.message
    assert "second paragraph" not in demo.message
    flask = by_rule["unpinned-dependency"]
    assert flask.kind is FindingKind.DEPENDENCY_NOT_AUDITED
    assert flask.severity is Severity.LOW
    assert flask.location.start_line == 3
    assert "cannot be audited exactly" in flask.message
    assert len(out.findings) == 3


def test_lock_beside_pyproject_is_authoritative(tmp_path: Path):
    files = write(
        tmp_path,
        {
            "app/pyproject.toml": '[project]\nname = "app"\ndependencies = ["py>=1"]\n',
            "app/uv.lock": '[[package]]\nname = "py"\nversion = "1.11.0"\n'
            'source = { registry = "https://pypi.org/simple" }\n\n'
            '[[package]]\nname = "app"\nversion = "0.1"\nsource = { editable = "." }\n',
        },
    )
    out = PipAuditScanner().run(context(tmp_path, files), FakeProc())
    assert [(f.rule_id, f.location.path, f.location.start_line) for f in out.findings] == [
        ("PYSEC-2022-42969", "app/uv.lock", 2)
    ]


def test_a_broken_lock_does_not_hide_its_pyproject(tmp_path: Path):
    files = write(
        tmp_path,
        {
            "app/pyproject.toml": '[project]\nname = "app"\ndependencies = ["py>=1"]\n',
            "app/uv.lock": "[[package]\n",
        },
    )
    out = PipAuditScanner().run(context(tmp_path, files), FakeProc())
    assert [f.rule_id for f in out.findings] == ["unpinned-dependency"]
    (skip,) = out.skipped
    assert skip.path == "app/uv.lock" and "invalid TOML" in skip.reason
    assert skip.tool == "pip-audit"


def test_changed_files_mode_still_honours_an_unchanged_lock(tmp_path: Path):
    files = write(
        tmp_path,
        {
            "app/pyproject.toml": '[project]\nname = "app"\ndependencies = ["py>=1"]\n',
            "app/uv.lock": '[[package]]\nname = "py"\nversion = "1.11.0"\n',
            "lib/pyproject.toml": '[project]\nname = "lib"\ndependencies = ["six"]\n',
        },
    )
    changed = ["app/pyproject.toml", "lib/pyproject.toml"]
    out = PipAuditScanner().run(context(tmp_path, changed, others=files), FakeProc())
    assert [(f.rule_id, f.location.path) for f in out.findings] == [
        ("unpinned-dependency", "lib/pyproject.toml")
    ]


def test_only_a_locked_pyproject_changed(tmp_path: Path):
    files = write(
        tmp_path,
        {
            "app/pyproject.toml": '[project]\nname = "app"\ndependencies = ["py>=1"]\n',
            "app/uv.lock": '[[package]]\nname = "py"\nversion = "1.11.0"\n',
        },
    )
    ctx = context(tmp_path, ["app/pyproject.toml"], others=files)
    with pytest.raises(NothingToScan):
        PipAuditScanner().run(ctx, FakeProc())


def test_nothing_to_scan(tmp_path: Path):
    with pytest.raises(NothingToScan):
        PipAuditScanner().run(context(tmp_path, []), FakeProc())
    files = write(tmp_path, {"pyproject.toml": '[project]\nname = "x"\n'})
    with pytest.raises(NothingToScan, match="no third-party"):
        PipAuditScanner().run(context(tmp_path, files), FakeProc())


def test_no_parseable_file_is_a_failure(tmp_path: Path):
    files = write(tmp_path, {"pyproject.toml": "[project\n", "Pipfile.lock": "{"})
    with pytest.raises(ScannerFailure, match="no dependency file could be parsed"):
        PipAuditScanner().run(context(tmp_path, files), FakeProc())


def test_unreadable_and_escaping_files_are_skipped(tmp_path: Path):
    files = write(tmp_path, {"requirements.txt": "six==1.16.0\n-r ../outside.txt\n"})
    (tmp_path / "requirements-bin.txt").write_bytes(b"\xff\xfe\x00bad")
    out = PipAuditScanner().run(
        context(tmp_path, [*files, "requirements-bin.txt", "requirements-gone.txt"]),
        FakeProc(),
    )
    reasons = {s.path: s.reason for s in out.skipped}
    assert "not UTF-8" in reasons["requirements-bin.txt"]
    assert "cannot open" in reasons["requirements-gone.txt"]
    assert "outside the repository" in reasons["requirements.txt"]


def test_bad_advisory_db_setting(tmp_path: Path):
    files = write(tmp_path, {"requirements.txt": "six==1.16.0\n"})
    ctx = context(tmp_path, files, db=tmp_path / "missing")
    with pytest.raises(ScannerFailure, match="not a folder"):
        PipAuditScanner().run(ctx, FakeProc())


@pytest.mark.parametrize(
    ("completed", "words"),
    [
        (Completed(("w",), 3, b"", b"error: malformed advisory x.yaml", 0.1), "malformed"),
        (Completed(("w",), -9, b"", b"", 0.1), "killed by signal SIGKILL"),
        (Completed(("w",), 0, b"not json", b"", 0.1), "cannot parse"),
        (Completed(("w",), 0, b'{"results": []}', b"", 0.1), "cannot parse"),
    ],
)
def test_worker_faults_fail_closed(tmp_path: Path, completed: Completed, words: str):
    files = write(tmp_path, {"requirements.txt": "six==1.16.0\n"})
    proc = FakeProc(lambda _request: completed)
    with pytest.raises(ScannerFailure, match=words):
        PipAuditScanner().run(context(tmp_path, files), proc)


def report(**fields: Any) -> WorkerReport:
    base: dict[str, Any] = {"pip_audit_version": "2.10.1", "service": "osv", "results": []}
    return WorkerReport.model_validate({**base, **fields})


def test_not_audited_dependencies_fail_the_scanner():
    not_audited = [
        {"name": f"pkg{i}", "version": "1.0", "reason": "service unreachable"} for i in range(7)
    ]
    with pytest.raises(ScannerFailure) as caught:
        check_report(report(not_audited=not_audited), [])
    assert "7 dependencies could not be audited" in caught.value.message
    assert "and 2 more" in caught.value.message
    assert caught.value.hint


def test_a_pin_missing_from_the_report_fails_the_scanner():
    answered = report(results=[{"name": "a", "version": "1"}])
    check_report(answered, [("a", "1")])
    with pytest.raises(ScannerFailure, match="b==2: missing from the report"):
        check_report(answered, [("a", "1"), ("b", "2")])


def test_parse_report_rejects_a_bad_severity():
    doc = {
        "pip_audit_version": "2.10.1",
        "service": "osv",
        "results": [{"name": "a", "version": "1", "vulns": [{"id": "X", "severity": "nasty"}]}],
    }
    with pytest.raises(ScannerFailure):
        parse_report(json.dumps(doc).encode())


def test_build_findings_is_sorted_and_pure():
    pins = [
        Pinned("b", "1", "z.txt", 5),
        Unpinned("a", ">=1", "range", "a.txt", 9),
        Pinned("c", "2", "a.txt", 1),
    ]
    vuln = {"id": "V-1", "severity": "low", "description": "Bad.", "fix_versions": ["3"]}
    answered = report(
        results=[{"name": "b", "version": "1", "vulns": [vuln]}, {"name": "c", "version": "2"}]
    )
    findings = build_findings(pins, answered)
    assert [(f.location.path, f.rule_id) for f in findings] == [
        ("a.txt", "unpinned-dependency"),
        ("z.txt", "V-1"),
    ]
    assert findings == build_findings(pins, answered)
    assert findings[1].help_url == "https://osv.dev/vulnerability/V-1"


def test_first_sentences():
    assert first_sentences("One line\n\nSecond para.") == "One line."
    long = "First sentence is here. " + "x" * 400
    assert first_sentences(long) == "First sentence is here."
    assert first_sentences("y" * 400).endswith("…")
    assert first_sentences("") == "No description."


def test_collect_requirements_dedupes_includes(tmp_path: Path):
    files = write(
        tmp_path,
        {"requirements.txt": "-r requirements-base.txt\n", "requirements-base.txt": "six==1\n"},
    )
    collected = collect_requirements(tmp_path, tuple(files))
    assert collected.requirements == (Pinned("six", "1", "requirements-base.txt", 1),)
    assert collected.parsed == ("requirements-base.txt", "requirements.txt")


def test_version_is_pip_audits():
    version = PipAuditScanner().version(FakeProc(), ScanSettings())
    assert version.split(".")[0].isdigit()
