"""The checks: missing, orphaned, never reviewed, review too old, facts changed since the
review (fingerprint), high-risk threats open or accepted without owner and expiry; and bad
model files as ConfigError naming the file and the key."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
import yaml

from compliance.errors import ConfigError, UsageError
from compliance.model import FindingKind, Severity
from compliance.threatmodel.check import Check
from compliance.threatmodel.facts import Fact, FactKind, fingerprint_facts
from compliance.threatmodel.workflow import evaluate, plan_init, plan_review

from .support import repo, workspace, write

DAY = date(2026, 3, 1)
APP = {
    "services/shop/app.py": (
        "from flask import Flask\n\napp = Flask(__name__)\n\n\n"
        "@app.post('/orders')\ndef create():\n    return {}\n"
    )
}
ONLY_SHOP = (
    "version: 1\nservices:\n  - {name: shop, path: services/shop, data_classification: [pii]}\n"
)


def init(root: Path, today: date = DAY) -> None:
    for planned in plan_init(workspace(root), None, today):
        planned.path.parent.mkdir(parents=True, exist_ok=True)
        planned.path.write_text(planned.text, encoding="utf-8")


def edit(root: Path, change, service: str = "shop") -> None:  # type: ignore[no-untyped-def]
    path = root / "threatmodels" / f"{service}.yaml"
    data = yaml.safe_load(path.read_text())
    change(data)
    path.write_text(yaml.safe_dump(data, sort_keys=False))


def decide_all(data: dict, status: str = "mitigated") -> None:  # type: ignore[type-arg]
    for item in data["threats"]:
        item.update(status=status, note="handled")


def review(root: Path, on: date = DAY, service: str = "shop") -> None:
    planned = plan_review(workspace(root), service, "dana@acme.example", on)
    planned.path.write_text(planned.text, encoding="utf-8")


def checks(root: Path, today: date | None = DAY) -> list[tuple[str, Check, Severity]]:
    return [(f.service, f.check, f.severity) for f in evaluate(workspace(root), today)]


def test_a_service_without_a_model_fails_on_its_folder(tmp_path: Path) -> None:
    root = repo(tmp_path, APP, ONLY_SHOP)
    (failure,) = evaluate(workspace(root), DAY)
    assert (failure.check, failure.severity, failure.path, failure.line) == (
        Check.MISSING,
        Severity.HIGH,
        "services/shop",
        None,
    )
    assert failure.check.kind is FindingKind.THREAT_MODEL_MISSING
    assert failure.resource == "threatmodel:shop"
    assert "compliance threatmodel init shop" in failure.message


def test_a_fresh_model_is_not_reviewed_and_its_high_risks_are_open(tmp_path: Path) -> None:
    root = repo(tmp_path, APP)
    init(root)
    found = evaluate(workspace(root), DAY)
    not_reviewed = [f for f in found if f.check is Check.NOT_REVIEWED]
    assert {f.service for f in not_reviewed} == {"shop", "billing"}
    assert all(f.line == 10 and f.path.startswith("threatmodels/") for f in not_reviewed)
    open_threats = [f for f in found if f.check is Check.OPEN_THREAT and f.service == "shop"]
    assert {f.threat.id for f in open_threats if f.threat} == {
        "api-missing-authentication",
        "api-injection-into-interpreters",
        "api-broken-object-authorization",
        "production-data-outside-production",
        "unsafe-deserialization",
        "audit-trail",
    }
    auth = next(f for f in open_threats if f.threat and f.threat.id == "api-missing-authentication")
    assert auth.resource == "threatmodel:shop:api-missing-authentication"
    text = (root / "threatmodels" / "shop.yaml").read_text().splitlines()
    assert text[auth.line - 1] == "- id: api-missing-authentication"  # type: ignore[operator]


def test_reviewed_and_decided_models_pass(tmp_path: Path) -> None:
    root = repo(tmp_path, APP, ONLY_SHOP)
    init(root)
    edit(root, decide_all)
    review(root)
    assert checks(root) == []


def test_review_older_than_the_limit_and_dated_in_the_future(tmp_path: Path) -> None:
    root = repo(tmp_path, APP, ONLY_SHOP + "threatmodel:\n  max_review_age_days: 30\n")
    init(root)
    edit(root, decide_all)
    review(root)
    assert checks(root, DAY + timedelta(days=30)) == []
    assert checks(root, DAY + timedelta(days=31)) == [
        ("shop", Check.REVIEW_EXPIRED, Severity.MEDIUM)
    ]
    (failure,) = evaluate(workspace(root), DAY + timedelta(days=31))
    assert "31 days ago (the limit is 30)" in failure.message
    assert checks(root, DAY - timedelta(days=1)) == [
        ("shop", Check.REVIEW_EXPIRED, Severity.MEDIUM)
    ]
    assert checks(root, None) == []  # no clock (doctor): no age check


def test_facts_changed_since_the_review(tmp_path: Path) -> None:
    root = repo(tmp_path, APP, ONLY_SHOP)
    init(root)
    edit(root, decide_all)
    review(root)
    write(root, {"services/shop/cache.py": "import redis\n"})
    found = evaluate(workspace(root), DAY)
    changed = next(f for f in found if f.check is Check.FACTS_CHANGED)
    assert changed.severity is Severity.HIGH  # a new datastore
    assert "new datastore:redis (services/shop/cache.py:1)" in changed.message
    assert "since the review on 2026-03-01 by dana@acme.example" in changed.message
    assert Check.NEW_THREATS in {f.check for f in found}
    # The review command refuses until init has brought the facts into the file.
    with pytest.raises(UsageError, match="does not describe the current facts"):
        plan_review(workspace(root), "shop", "dana", DAY)
    # After init the file shows the new fact, and the check still wants a review.
    init(root, DAY + timedelta(days=2))
    found = evaluate(workspace(root), DAY + timedelta(days=2))
    changed = next(f for f in found if f.check is Check.FACTS_CHANGED)
    assert "new datastore:redis" in changed.message and "threatmodel review shop" in changed.message
    edit(root, decide_all)
    review(root, DAY + timedelta(days=2))
    assert checks(root, DAY + timedelta(days=2)) == []


def test_moving_code_around_does_not_make_the_model_stale(tmp_path: Path) -> None:
    root = repo(tmp_path, APP, ONLY_SHOP)
    init(root)
    edit(root, decide_all)
    review(root)
    moved = "\n\n# a comment and a blank line moved everything down\n" + APP["services/shop/app.py"]
    write(root, {"services/shop/app.py": moved})
    write(root, {"services/shop/admin.py": "from flask import Flask\napp = Flask('admin')\n"})
    assert checks(root) == []


def test_minor_fact_changes_are_medium(tmp_path: Path) -> None:
    root = repo(tmp_path, APP, ONLY_SHOP)
    init(root)
    edit(root, decide_all)
    review(root)
    write(
        root,
        {"services/shop/out.py": "import requests\nrequests.get('https://api.vendor.example/x')\n"},
    )
    severities = {(f.check, f.severity) for f in evaluate(workspace(root), DAY)}
    assert (Check.FACTS_CHANGED, Severity.MEDIUM) in severities


def test_high_risk_open_and_accepted_without_owner_or_expiry(tmp_path: Path) -> None:
    root = repo(tmp_path, APP, ONLY_SHOP)
    init(root)

    def decide(data: dict) -> None:  # type: ignore[type-arg]
        decide_all(data)
        for item in data["threats"]:
            if item["id"] == "api-missing-authentication":
                item.update(status="accepted", owner="dana@acme.example", expires=None)
            if item["id"] == "api-injection-into-interpreters":
                item["status"] = "open"
            if item["id"] == "api-broken-object-authorization":
                item.update(status="accepted", owner="ops", expires=DAY - timedelta(days=1))
            if item["id"] == "api-rate-limiting":  # medium risk: open is fine
                item["status"] = "open"

    edit(root, decide)
    review(root)
    found = {
        (f.threat.id if f.threat else "", f.check, f.severity)
        for f in evaluate(workspace(root), DAY)
    }
    assert found == {
        ("api-missing-authentication", Check.ACCEPTANCE_INCOMPLETE, Severity.MEDIUM),
        ("api-injection-into-interpreters", Check.OPEN_THREAT, Severity.HIGH),
        ("api-broken-object-authorization", Check.OPEN_THREAT, Severity.HIGH),
    }
    # Editing the copy of the risk in the file does not silence the check.
    edit(root, lambda d: [i.update(risk="low") for i in d["threats"]])
    assert len(evaluate(workspace(root), DAY)) == 3


def test_a_model_for_a_removed_service_is_orphaned(tmp_path: Path) -> None:
    root = repo(tmp_path, APP)
    init(root)
    (root / "compliance.yaml").write_text(ONLY_SHOP.replace("shop", "storefront"))
    (root / "services" / "storefront").mkdir()
    found = evaluate(workspace(root), DAY)
    orphans = sorted((f.service, f.path, f.severity) for f in found if f.check is Check.ORPHANED)
    assert orphans == [
        ("billing", "threatmodels/billing.yaml", Severity.LOW),
        ("shop", "threatmodels/shop.yaml", Severity.LOW),
    ]
    assert any(f.check is Check.MISSING and f.service == "storefront" for f in found)
    assert all(
        f.check.kind is FindingKind.THREAT_MODEL_MISSING for f in found if f.check is Check.ORPHANED
    )


def test_malformed_files_name_the_file_and_key(tmp_path: Path) -> None:
    root = repo(tmp_path, APP)
    init(root)

    def break_it(data: dict) -> None:  # type: ignore[type-arg]
        data["threats"][0]["id"] = "no-such-threat"
        data["threats"][1]["status"] = "done"
        data["threats"][2]["colour"] = "red"
        data["review"]["reviewed_on"] = "last tuesday"

    edit(root, break_it)
    (root / "threatmodels" / "billing.yaml").write_text("version: 1\nservice: [oops\n")
    with pytest.raises(ConfigError) as caught:
        workspace(root)
    lines = [str(p) for p in caught.value.problems]
    assert lines[0].startswith("threatmodels/billing.yaml: line 3, column 1: invalid YAML")
    assert "invalid YAML" in lines[0]
    assert "threatmodels/shop.yaml: review.reviewed_on: Input should be a valid date" in lines[1]
    assert any(
        line.startswith("threatmodels/shop.yaml: threats[1].status: Input should be")
        for line in lines
    )
    assert "threatmodels/shop.yaml: threats[2].colour: unknown key" in lines
    edit(root, lambda d: d["review"].update(reviewed_on=None))
    edit(root, lambda d: [d["threats"][1].update(status="open"), d["threats"][2].pop("colour")])
    (root / "threatmodels" / "billing.yaml").write_text("version: 1\nservice: shop\n")
    with pytest.raises(ConfigError) as caught:
        workspace(root)
    assert [str(p) for p in caught.value.problems] == [
        "threatmodels/billing.yaml: service: 'shop' does not match the file name (billing.yaml): "
        "one file per service, named after it",
        "threatmodels/shop.yaml: threats[0].id: unknown threat 'no-such-threat' (not in the "
        "threat library)",
    ]


def test_the_fingerprint_covers_ids_and_tags_not_locations_or_routes() -> None:
    def fact(fact_id: str, kind: FactKind, *tags: str, path: str = "a.py") -> Fact:
        from compliance.threatmodel.facts import FactLocation

        return Fact(fact_id, kind, "s", frozenset(tags), (FactLocation(path, 1),))

    base = [fact("datastore:redis", FactKind.DATASTORE, "datastore", "datastore:redis")]
    moved = [
        fact("datastore:redis", FactKind.DATASTORE, "datastore", "datastore:redis", path="b.py")
    ]
    routed = [*base, fact("route:GET /x", FactKind.ROUTE)]
    public = [fact("datastore:redis", FactKind.DATASTORE, "datastore", "datastore:public")]
    assert fingerprint_facts(base) == fingerprint_facts(moved) == fingerprint_facts(routed)
    assert fingerprint_facts(base) != fingerprint_facts(public)
    assert fingerprint_facts(base).startswith("sha256:") and len(fingerprint_facts(base)) == 71
