"""Threat models on a copy of the demo monorepo: the facts detected for each service, checks
failing until the models are reviewed, and the scan carrying the findings to the controls.

The expected facts are listed per service with where each was found, so a change to the
demo (or to detection) shows here as a reviewable diff.
"""

from __future__ import annotations

import json
import shutil
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from compliance.cli import cli

pytestmark = pytest.mark.integration

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
DAY = datetime(2026, 11, 29, 12, 0, tzinfo=timezone.utc)

#: fact id -> (tags, some of the places it was found)
EXPECTED: dict[str, dict[str, tuple[set[str], set[str]]]] = {
    "api": {
        "data:internal": ({"data:internal"}, {"compliance.yaml:7"}),
        "data:pii": ({"data:pii", "data:sensitive"}, {"compliance.yaml:7"}),
        "framework:flask": (
            {"http", "framework:flask", "http:route", "http:write-route"},
            {"services/api/app/__init__.py:13", "services/api/requirements-base.txt:10"},
        ),
        "exposure:ingress:api.acme.example": (
            {"exposure", "exposure:internet"},
            {"services/api/k8s/ingress.yaml:12"},
        ),
        "exposure:public-datastore:aws_db_instance.orders": (
            {"exposure", "datastore:public"},
            {"infra/terraform/rds.tf:7"},
        ),
        "datastore:postgresql": (
            {"datastore", "datastore:sql", "datastore:public"},
            {
                "services/api/app/db.py:15",
                "services/api/app/__init__.py:15",
                "services/api/requirements.txt:27",
                "services/api/k8s/deployment.yaml:25",
                "infra/terraform/rds.tf:7",
            },
        ),
        "outbound:dynamic": (
            {"outbound", "outbound:dynamic-url"},
            {"services/api/app/routes.py:49"},
        ),
        "secrets:environment": (
            {"secrets", "secrets:environment"},
            {"services/api/app/db.py:10"},
        ),
        "secrets:hardcoded": ({"secrets", "secrets:hardcoded"}, {"services/api/app/db.py:10"}),
        "secrets:kubernetes": (
            {"secrets", "secrets:kubernetes"},
            {"services/api/k8s/deployment.yaml:27"},
        ),
    },
    "payments": {
        "data:confidential": ({"data:confidential", "data:sensitive"}, {"compliance.yaml:12"}),
        "data:payment": ({"data:payment", "data:sensitive"}, {"compliance.yaml:12"}),
        "data:pii": ({"data:pii", "data:sensitive"}, {"compliance.yaml:12"}),
        "framework:fastapi": (
            {"http", "framework:fastapi", "http:route", "http:write-route"},
            {"services/payments/payments/main.py:14", "services/payments/pyproject.toml:8"},
        ),
        "object-storage:s3:acme-prod-invoices": ({"object-storage"}, {"infra/terraform/s3.tf:3"}),
        "outbound:api.cardprocessor.example": (
            {"outbound", "outbound:third-party", "outbound:tls-verify-off"},
            {
                "services/payments/payments/processor.py:20",
                "services/payments/payments/processor.py:30",
                "services/payments/k8s/deployment.yaml:24",
            },
        ),
        "outbound:status.cardprocessor.example": (
            {"outbound", "outbound:third-party", "outbound:tls-verify-off"},
            {"services/payments/payments/main.py:38"},
        ),
        "auth:jwt": (
            {"auth", "auth:jwt", "auth:jwt-symmetric"},
            {
                "services/payments/payments/auth.py:5",
                "services/payments/payments/auth.py:25",
                "services/payments/pyproject.toml:10",
            },
        ),
        "secrets:hardcoded": (
            {"secrets", "secrets:hardcoded"},
            {"services/payments/payments/auth.py:9", "services/payments/payments/main.py:17"},
        ),
    },
    "worker": {
        "data:internal": ({"data:internal"}, {"compliance.yaml:17"}),
        "data:pii": ({"data:pii", "data:sensitive"}, {"compliance.yaml:17"}),
        "messaging:sqs:customer-exports": (
            {"messaging", "messaging:consume"},
            {"services/worker/worker/consumer.py:21", "services/worker/worker/consumer.py:50"},
        ),
        "object-storage:s3:acme-prod-raw-exports": (
            {"object-storage", "object-storage:read"},
            {"services/worker/worker/consumer.py:39", "infra/terraform/s3.tf:18"},
        ),
        "object-storage:s3:acme-prod-customer-exports-us": (
            {"object-storage", "object-storage:write"},
            {"services/worker/worker/consumer.py:42", "infra/terraform/s3.tf:52"},
        ),
        "object-storage:s3:acme-prod-raw-exports-dr": (
            {"object-storage"},
            {"infra/terraform/replication.tf:4"},
        ),
        "outbound:dynamic": (
            {"outbound", "outbound:dynamic-url"},
            {"services/worker/worker/consumer.py:33"},
        ),
    },
}
ROUTES = {
    "api": {
        "route:GET /healthz",
        "route:GET /orders",
        "route:GET /orders/<int:order_id>",
        "route:POST /orders/import",
        "route:POST /orders/<int:order_id>/notify",
        "route:POST /cart/restore",
    },
    "payments": {
        "route:GET /healthz",
        "route:POST /charges",
        "route:POST /charges/{charge_id}/refund",
    },
    "worker": set(),
}


@pytest.fixture
def demo(tmp_path: Path) -> Path:
    root = tmp_path / "examples"
    shutil.copytree(EXAMPLES, root)
    return root


def run(*args: str) -> Result:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr("compliance.cli.clock.utc_now", lambda: DAY)
        return CliRunner().invoke(cli, list(args))


def scan(root: Path) -> tuple[int, dict[str, Any]]:
    result = run("scan", str(root), "--scanner", "threatmodel", "--format", "json", "-q")
    return result.exit_code, json.loads(result.stdout)


def model(root: Path, service: str) -> dict[str, Any]:
    return yaml.safe_load((root / "threatmodels" / f"{service}.yaml").read_text())  # type: ignore[no-any-return]


def test_init_detects_the_facts_of_every_demo_service(demo: Path) -> None:
    result = run("threatmodel", "init", str(demo))
    assert result.exit_code == 0, result.output
    for service, expected in EXPECTED.items():
        facts = {f["id"]: f for f in model(demo, service)["facts"]}
        assert set(facts) == set(expected) | ROUTES[service], service
        for fact_id, (tags, places) in expected.items():
            assert set(facts[fact_id]["tags"]) == tags, (service, fact_id)
            assert places <= set(facts[fact_id]["found_in"]), (service, fact_id)
    api = {t["id"]: t for t in model(demo, "api")["threats"]}
    assert {"sql-injection", "datastore-public-endpoint", "outbound-ssrf"} <= set(api)
    assert api["api-missing-authentication"]["risk"] == "high"
    payments = {t["id"] for t in model(demo, "payments")["threats"]}
    assert {"payment-card-data-scope", "jwt-validation", "outbound-tls-verification"} <= payments
    worker = {t["id"] for t in model(demo, "worker")["threats"]}
    assert {"message-spoofing", "poison-message-handling", "untrusted-object-processing"} <= worker


def test_checks_fail_until_the_models_are_reviewed_and_the_scan_carries_them(
    demo: Path,
) -> None:
    # No models: each service fails, in the check and in the scan, on CC3.2 and A.8.27.
    assert run("threatmodel", "check", str(demo)).exit_code == 1
    code, data = scan(demo)
    assert code == 1
    assert [(s["name"], s["status"]) for s in data["scanners"]] == [("threatmodel", "ok")]
    missing = [f for f in data["findings"] if f["kind"] == "threat-model-missing"]
    assert {(f["service"], f["path"]) for f in missing} == {
        ("api", "services/api"),
        ("payments", "services/payments"),
        ("worker", "services/worker"),
    }
    assert all({"CC3.2", "A.8.26", "A.8.27", "A.5.8"} <= set(f["controls"]) for f in missing)
    controls = {c["id"]: c["status"] for c in data["controls"]}
    assert controls["CC3.2"] == controls["A.8.27"] == "failed"

    # Generated but not reviewed: stale, and the high risks open, attributed to each service.
    assert run("threatmodel", "init", str(demo)).exit_code == 0
    code, data = scan(demo)
    assert code == 1
    kinds = {(f["service"], f["kind"]) for f in data["findings"]}
    for service in ("api", "payments", "worker"):
        assert (service, "threat-model-stale") in kinds
        assert (service, "threat-model-open-threat") in kinds
    opened = [f for f in data["findings"] if f["kind"] == "threat-model-open-threat"]
    assert all(f["path"].startswith("threatmodels/") and f["line"] for f in opened)
    assert all({"CC3.2", "A.8.27"} <= set(f["controls"]) for f in data["findings"])

    # Reviewed: every high risk decided, the review recorded; the check and the scan pass.
    for service in ("api", "payments", "worker"):
        path = demo / "threatmodels" / f"{service}.yaml"
        data = yaml.safe_load(path.read_text())
        for item in data["threats"]:
            if item["risk"] == "high":
                item.update(status="accepted", owner="security@acme.example")
                item.update(expires="2027-03-31", note="Demo: accepted until the fixes land")
        path.write_text(yaml.safe_dump(data, sort_keys=False))
        result = run("threatmodel", "review", service, str(demo), "--reviewer", "lead@acme.example")
        assert result.exit_code == 0, result.output
    result = run("threatmodel", "check", str(demo))
    assert result.exit_code == 0, result.output
    code, data = scan(demo)
    assert data["findings"] == []
    controls = {c["id"]: c["status"] for c in data["controls"]}
    assert controls["CC3.2"] == controls["A.8.27"] == controls["A.8.26"] == "passed"


def test_rendered_checklists(demo: Path, tmp_path: Path) -> None:
    run("threatmodel", "init", str(demo))
    result = run("threatmodel", "render", "worker", str(demo), "--format", "markdown")
    assert result.exit_code == 0, result.output
    text = result.stdout
    assert "## Data flow" in text and "```mermaid" in text
    mermaid = text.split("```mermaid\n", 1)[1].split("\n```", 1)[0]
    assert '[/"SQS queue customer-exports"/]' in mermaid
    assert '-->|"consume"| svc' in mermaid
    assert "### Spoofing" in text and "### Elevation of privilege" in text
    out = tmp_path / "payments.html"
    result = run("threatmodel", "render", "payments", str(demo), "--format", "html", "-o", str(out))
    assert result.exit_code == 0
    html = out.read_text()
    assert "api.cardprocessor.example" in html and "<svg" in html
