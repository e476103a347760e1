"""The threatmodel adapter: in-process, its findings typed, located and stable."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from compliance.findings import finalize
from compliance.model import FindingKind, Severity
from compliance.prepare import prepare
from compliance.scanners.interface import NothingToScan, ScanContext, ScanSettings
from compliance.scanners.process import ProcessRunner
from compliance.scanners.threatmodel import ThreatModelScanner
from compliance.services import attributor


def context(root: Path, today: date | None = date(2026, 3, 1)) -> ScanContext:
    prepared = prepare(root)
    return ScanContext(
        prepared.root,
        prepared.inventory,
        ScanSettings(),
        services=prepared.services,
        config=prepared.config,
        config_dir=prepared.root,
        today=today,
    )


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        (root / rel).write_text(text)
    return root


CONFIG = "services:\n  - {name: api, path: services/api, data_classification: [pii]}\n"


def test_missing_model_findings_sit_on_the_service_folder(tmp_path: Path) -> None:
    root = write(tmp_path, {"compliance.yaml": CONFIG, "services/api/app.py": "x = 1\n"})
    scanner = ThreatModelScanner()
    output = scanner.run(context(root), ProcessRunner())
    (finding,) = output.findings
    assert (finding.tool, finding.rule_id, finding.kind, finding.severity) == (
        "threatmodel",
        "threat-model-missing",
        FindingKind.THREAT_MODEL_MISSING,
        Severity.HIGH,
    )
    assert (finding.location.path, finding.resource, finding.category) == (
        "services/api",
        "threatmodel:api",
        "threat-model",
    )
    assert output.version == scanner.version(ProcessRunner(), ScanSettings())
    assert output.commands == ()


def test_open_threat_findings_are_stable_across_edits_and_belong_to_the_service(
    tmp_path: Path,
) -> None:
    from compliance.threatmodel.workflow import open_workspace, plan_init

    app = "from flask import Flask\napp = Flask(__name__)\n@app.post('/x')\ndef x():\n    pass\n"
    root = write(tmp_path, {"compliance.yaml": CONFIG, "services/api/app.py": app})
    prepared = prepare(root)
    ws = open_workspace(prepared.root, prepared.config, prepared.inventory, prepared.services)
    for planned in plan_init(ws, None, date(2026, 3, 1)):
        planned.path.parent.mkdir(parents=True, exist_ok=True)
        planned.path.write_text(planned.text)
    ctx = context(root)
    raws = ThreatModelScanner().run(ctx, ProcessRunner()).findings
    owners = attributor(ctx.services)  # the model file is outside services/api: the
    findings = finalize(raws, owners)  # finding names its service itself
    assert {f.service for f in findings} == {"api"}
    open_threat = next(f for f in findings if f.rule_id == "threat-open")
    assert open_threat.kind is FindingKind.THREAT_MODEL_OPEN_THREAT
    assert open_threat.location.path == "threatmodels/api.yaml"
    assert open_threat.location.start_line and open_threat.cwe
    # A line added above the threat moves it, but not its fingerprint.
    moved = [
        replace(r, location=replace(r.location, start_line=(r.location.start_line or 0) + 5))
        for r in raws
    ]
    assert {f.fingerprint for f in finalize(moved, owners)} == {f.fingerprint for f in findings}


def test_no_services_is_nothing_to_scan(tmp_path: Path) -> None:
    with pytest.raises(NothingToScan):
        ThreatModelScanner().run(context(tmp_path), ProcessRunner())


def test_without_services_in_the_context_it_discovers_them(tmp_path: Path) -> None:
    # `compliance doctor` runs scanners on a sample repository without discovering services.
    root = write(tmp_path, {"app/Dockerfile": "FROM python:3.12\n", "app/main.py": "x = 1\n"})
    ctx = replace(context(root), services=())
    (finding,) = ThreatModelScanner().run(ctx, ProcessRunner()).findings
    assert finding.location.path == "app"
