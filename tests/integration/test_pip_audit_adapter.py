"""The pip-audit adapter for real: the worker subprocess, pip-audit's library, ProcessRunner.

Offline: a local advisory folder, or a local HTTP server standing in for OSV.
"""

from __future__ import annotations

import json
import shutil
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from textwrap import dedent

import pytest

from compliance.errors import ScannerFailure
from compliance.inventory import build_inventory
from compliance.model import FindingKind, Severity
from compliance.scanners.interface import ScanContext, ScannerOutput, ScanSettings
from compliance.scanners.pip_audit import PipAuditScanner
from compliance.scanners.process import ProcessRunner

pytestmark = pytest.mark.integration

REPO = Path(__file__).resolve().parents[2]
MINI = REPO / "tests" / "assets" / "advisory-db-mini"
SHARED_DB = REPO.parent / "shared" / "advisory-db"

UV_LOCK = dedent(
    """\
    version = 1
    requires-python = ">=3.11"

    [[package]]
    name = "api"
    version = "0.1.0"
    source = { editable = "." }
    dependencies = [{ name = "urllib3" }]

    [[package]]
    name = "urllib3"
    version = "1.26.4"
    source = { registry = "https://pypi.org/simple" }
    """
)

POETRY_LOCK = dedent(
    """\
    [[package]]
    name = "Django"
    version = "3.2.1"
    description = "A high-level Python Web framework."
    optional = false
    python-versions = ">=3.6"
    files = []

    [package.dependencies]
    asgiref = ">=3.3.2,<4"

    [[package]]
    name = "six"
    version = "1.16.0"
    description = ""
    optional = false
    python-versions = "*"
    files = []

    [metadata]
    lock-version = "2.0"
    python-versions = "^3.11"
    content-hash = "00"
    """
)


def make_repo(root: Path) -> None:
    files = {
        "web/requirements.txt": "# web\nrequests==2.25.1 \\\n    --hash=sha256:00\nflask>=2\n",
        "api/pyproject.toml": '[project]\nname = "api"\ndependencies = ["urllib3>=1"]\n',
        "api/uv.lock": UV_LOCK,
        "worker/poetry.lock": POETRY_LOCK,
    }
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)


def scan(root: Path, db: Path | None, **settings: object) -> ScannerOutput:
    ctx = ScanContext(
        root,
        build_inventory(root),
        ScanSettings(advisory_db=db, **settings),  # type: ignore[arg-type]
    )
    return PipAuditScanner().run(ctx, ProcessRunner())


def test_real_worker_against_the_mini_database(tmp_path: Path):
    make_repo(tmp_path)
    out = scan(tmp_path, MINI, timeout_s=120)
    found = {
        (f.rule_id, f.location.path, f.location.start_line, f.severity)
        for f in out.findings
        if f.kind is FindingKind.DEPENDENCY_VULNERABILITY
    }
    assert found == {
        ("PYSEC-2023-74", "web/requirements.txt", 2, Severity.HIGH),
        ("PYSEC-2023-212", "api/uv.lock", 11, Severity.MEDIUM),
        ("PYSEC-2021-109", "worker/poetry.lock", 2, Severity.HIGH),
    }
    not_audited = [
        (f.rule_id, f.location.path)
        for f in out.findings
        if f.kind is FindingKind.DEPENDENCY_NOT_AUDITED
    ]
    # flask; api/pyproject.toml's range is not reported because api/uv.lock speaks for it
    assert not_audited == [("unpinned-dependency", "web/requirements.txt")]
    assert out.skipped == ()
    assert out.version is not None and out.version[0].isdigit()
    report = json.loads(out.raw_outputs[0])
    assert report["service"] == "local-osv"
    assert report["advisory_db"]["path"] == str(MINI)
    assert report["advisory_db"]["files"] == 8
    assert report["advisory_db"]["newest_modified"] == "2023-10-25T18:28:34.811764Z"
    assert {r["name"] for r in report["results"]} == {"requests", "urllib3", "django", "six"}


def test_a_malformed_advisory_fails_the_scan_naming_the_file(tmp_path: Path):
    shutil.copytree(MINI, tmp_path / "db")
    (tmp_path / "db" / "vulns" / "requests" / "PYSEC-0000-1.yaml").write_text("id: [\n")
    repo = tmp_path / "repo"
    make_repo(repo)
    with pytest.raises(ScannerFailure, match=r"vulns/requests/PYSEC-0000-1\.yaml"):
        scan(repo, tmp_path / "db", timeout_s=120)


def test_a_worker_over_its_time_is_stopped(tmp_path: Path):
    make_repo(tmp_path)
    with pytest.raises(ScannerFailure, match="timed out"):
        scan(tmp_path, MINI, timeout_s=0.05)


def test_online_mode_without_network_is_a_failure_not_a_clean_result(tmp_path: Path):
    make_repo(tmp_path)
    ctx = ScanContext(tmp_path, build_inventory(tmp_path), ScanSettings(timeout_s=60))
    scanner = PipAuditScanner(osv_url="http://127.0.0.1:9/")  # port 9 refuses at once
    with pytest.raises(ScannerFailure) as caught:
        scanner.run(ctx, ProcessRunner())
    assert "4 dependencies could not be audited" in caught.value.message
    assert "ConnectionError" in caught.value.message


OSV_REQUESTS = {
    "id": "GHSA-j8r2-6x86-q33q",
    "summary": "Unintended leak of Proxy-Authorization header in requests",
    "aliases": ["CVE-2023-32681", "PYSEC-2023-74"],
    "published": "2023-05-22T20:36:32Z",
    "modified": "2024-01-01T00:00:00Z",
    "affected": [
        {
            "package": {"name": "requests", "ecosystem": "PyPI"},
            "ranges": [
                {"type": "ECOSYSTEM", "events": [{"introduced": "2.3.0"}, {"fixed": "2.31.0"}]}
            ],
        }
    ],
    "severity": [{"type": "CVSS_V3", "score": "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:C/C:H/I:N/A:N"}],
    "database_specific": {"severity": "MODERATE", "cwe_ids": ["CWE-200"]},
    "references": [{"type": "ADVISORY", "url": "https://nvd.nist.gov/vuln/detail/CVE-2023-32681"}],
}


@pytest.fixture
def fake_osv() -> Iterator[str]:
    """A local HTTP server answering OSV's /v1/query like the real API."""

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            query = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            hit = query["package"]["name"] == "requests" and query["version"] == "2.25.1"
            body = json.dumps({"vulns": [OSV_REQUESTS]} if hit else {}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1/query"
    finally:
        server.shutdown()
        server.server_close()


def test_online_mode_through_pip_audits_osv_service(tmp_path: Path, fake_osv: str):
    make_repo(tmp_path)
    ctx = ScanContext(tmp_path, build_inventory(tmp_path), ScanSettings(timeout_s=60))
    out = PipAuditScanner(osv_url=fake_osv).run(ctx, ProcessRunner())
    (vuln,) = [f for f in out.findings if f.kind is FindingKind.DEPENDENCY_VULNERABILITY]
    assert vuln.rule_id == "GHSA-j8r2-6x86-q33q"  # the record's id, not pip-audit's pick
    assert vuln.severity is Severity.MEDIUM  # CVSS 6.1 wins over the label
    assert vuln.cwe == ("CWE-200",)
    assert vuln.package is not None and "PYSEC-2023-74" in vuln.package.aliases
    assert json.loads(out.raw_outputs[0])["service"] == "osv"


@pytest.mark.shared_advisory_db
@pytest.mark.skipif(not SHARED_DB.is_dir(), reason="../shared/advisory-db is not present")
def test_the_shared_advisory_database(tmp_path: Path):
    (tmp_path / "requirements.txt").write_text("requests==2.25.1\nrequests-toolbelt==1.0.0\n")
    out = scan(tmp_path, SHARED_DB, timeout_s=300)
    ids = {f.rule_id for f in out.findings if f.resource == "requests==2.25.1"}
    assert "PYSEC-2023-74" in ids
    report = json.loads(out.raw_outputs[0])
    assert report["advisory_db"]["files"] > 2000
