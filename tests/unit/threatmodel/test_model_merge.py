"""`init`: the model file written from the facts, and re-init after a change keeping what
people wrote."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import yaml

from compliance.threatmodel.modelfile import ThreatStatus
from compliance.threatmodel.workflow import plan_init

from .support import repo, workspace, write

DAY1 = date(2026, 1, 10)
DAY2 = date(2026, 2, 20)

APP = {
    "services/shop/app.py": """
    from flask import Flask

    app = Flask(__name__)

    @app.post("/orders")
    def create():
        return {}
    """
}


def init(root: Path, today: date, only: str | None = "shop") -> None:
    for planned in plan_init(workspace(root), only, today):
        planned.path.parent.mkdir(parents=True, exist_ok=True)
        planned.path.write_text(planned.text, encoding="utf-8")


def load(root: Path, service: str = "shop") -> dict:  # type: ignore[type-arg]
    return yaml.safe_load((root / "threatmodels" / f"{service}.yaml").read_text())


def test_init_writes_the_facts_and_the_applicable_threats(tmp_path: Path) -> None:
    root = repo(tmp_path, APP)
    init(root, DAY1)
    assert not (root / "threatmodels" / "billing.yaml").exists()
    text = (root / "threatmodels" / "shop.yaml").read_text()
    assert text.startswith("# Threat model of the `shop` service")
    data = load(root)
    assert data["service"] == "shop" and data["path"] == "services/shop"
    assert data["review"] == {"reviewer": None, "reviewed_on": None, "facts_fingerprint": None}
    facts = {f["id"]: f for f in data["facts"]}
    assert facts["framework:flask"]["found_in"] == [
        "services/shop/app.py:1",
        "services/shop/app.py:3",
    ]
    assert facts["framework:flask"]["first_seen"] == DAY1
    assert "route:POST /orders" in facts
    threats = {t["id"]: t for t in data["threats"]}
    assert {"api-missing-authentication", "api-csrf"} - {"api-csrf"} <= set(threats)
    assert "sql-injection" not in threats  # no SQL datastore
    item = threats["api-missing-authentication"]
    assert item["status"] == "open" and item["stride"] == "spoofing"
    assert item["risk"] == "high"  # data:pii raises it
    assert item["because"] == ["data:pii", "framework:flask"]
    assert set(item) >= {"owner", "expires", "note", "evidence", "question", "title"}
    # Deterministic: the same repository gives the same bytes; nothing to write again.
    assert plan_init(workspace(root), "shop", DAY1) == ()


def test_reinit_adds_facts_and_threats_and_keeps_human_edits(tmp_path: Path) -> None:
    root = repo(tmp_path, APP)
    init(root, DAY1)
    path = root / "threatmodels" / "shop.yaml"
    data = load(root)
    for item in data["threats"]:
        if item["id"] == "api-missing-authentication":
            item.update(status="mitigated", note="mTLS from the gateway (see ADR-7)")
            item["evidence"] = ["docs/adr/0007.md"]
        if item["id"] == "audit-trail":
            item.update(status="accepted", owner="dana@acme.example", expires=date(2026, 9, 1))
    data["review"].update(reviewer="dana@acme.example", reviewed_on=DAY1)
    data["facts"].append(
        {
            "id": "datastore:ledger",
            "kind": "datastore",
            "summary": "Ledger service's database (via a library we do not parse)",
            "found_in": ["services/shop/ledger.py:1"],
            "source": "manual",
            "tags": ["datastore", "datastore:sql"],
        }
    )
    # A threat a person added by hand (the facts do not select it).
    data["threats"].append({"id": "payment-repudiation", "status": "open", "note": "refunds"})
    path.write_text(yaml.safe_dump(data, sort_keys=False))

    write(root, {"services/shop/cache.py": "import redis\n\nr = redis.Redis()\n"})
    init(root, DAY2)
    after = load(root)
    facts = {f["id"]: f for f in after["facts"]}
    assert facts["datastore:redis"]["first_seen"] == DAY2
    assert facts["framework:flask"]["first_seen"] == DAY1
    assert facts["datastore:ledger"]["source"] == "manual"
    threats = {t["id"]: t for t in after["threats"]}
    kept = threats["api-missing-authentication"]
    assert (kept["status"], kept["note"], kept["evidence"]) == (
        "mitigated",
        "mTLS from the gateway (see ADR-7)",
        ["docs/adr/0007.md"],
    )
    assert (threats["audit-trail"]["owner"], threats["audit-trail"]["expires"]) == (
        "dana@acme.example",
        date(2026, 9, 1),
    )
    assert after["review"]["reviewer"] == "dana@acme.example"
    # New facts bring new threats: the cache, and the manual SQL datastore.
    assert threats["cache-poisoning-and-exposure"]["status"] == "open"
    assert "sql-injection" in threats
    manual = threats["payment-repudiation"]
    assert manual["detected"] is False and manual["note"] == "refunds"
    assert manual["title"] == "Payment operations that cannot be attributed or reconciled"


def test_threats_no_longer_selected_are_dropped_unless_someone_wrote_in_them(
    tmp_path: Path,
) -> None:
    root = repo(tmp_path, {**APP, "services/shop/cache.py": "import redis\n"})
    init(root, DAY1)
    data = load(root)
    for item in data["threats"]:
        if item["id"] == "datastore-transport-encryption":
            item["status"] = "mitigated"
    (root / "threatmodels" / "shop.yaml").write_text(yaml.safe_dump(data, sort_keys=False))
    (root / "services" / "shop" / "cache.py").unlink()
    init(root, DAY2)
    threats = {t["id"]: t for t in load(root)["threats"]}
    assert "cache-poisoning-and-exposure" not in threats  # untouched: gone with its fact
    kept = threats["datastore-transport-encryption"]
    assert kept["detected"] is False and kept["status"] == "mitigated" and kept["because"] == []
    assert "datastore:redis" not in {f["id"] for f in load(root)["facts"]}
    assert ThreatStatus("not-applicable") is ThreatStatus.NOT_APPLICABLE
