from __future__ import annotations

from pathlib import Path

import pytest

from compliance.config import load_config
from compliance.errors import ConfigError
from compliance.inventory import build_inventory
from compliance.model import REPO_SERVICE, ServiceSource
from compliance.services import attributor, discover_services, parse_codeowners


def write(root: Path, rel: str, text: str = "") -> None:
    (root / rel).parent.mkdir(parents=True, exist_ok=True)
    (root / rel).write_text(text)


def discover(root: Path):  # type: ignore[no-untyped-def]
    config, _ = load_config(root)
    return discover_services(root, config, build_inventory(root)).services


def test_config_services_win(tmp_path: Path) -> None:
    write(tmp_path, "compliance.yaml", "services:\n  - {name: api, path: svc/api, owner: '@a'}\n")
    write(tmp_path, "svc/api/app.py")
    write(tmp_path, "services/other/Dockerfile")
    (service,) = discover(tmp_path)
    assert (service.name, service.path, service.owner) == ("api", "svc/api", "@a")
    assert service.source is ServiceSource.CONFIG


def test_config_service_folder_must_exist(tmp_path: Path) -> None:
    write(tmp_path, "compliance.yaml", "services:\n  - {name: api, path: nowhere}\n")
    with pytest.raises(ConfigError, match="invalid configuration"):
        discover(tmp_path)


def test_backstage_catalog_components(tmp_path: Path) -> None:
    write(
        tmp_path,
        "svc/billing/catalog-info.yaml",
        "apiVersion: backstage.io/v1alpha1\nkind: Component\n"
        "metadata: {name: billing, description: Bills}\nspec: {owner: team-billing}\n"
        "---\nkind: API\nmetadata: {name: billing-api}\n",
    )
    write(tmp_path, "services/ignored/Dockerfile")
    (service,) = discover(tmp_path)
    assert (service.name, service.path, service.owner) == ("billing", "svc/billing", "team-billing")
    assert service.source is ServiceSource.CATALOG_INFO


def test_detected_services_and_codeowners(tmp_path: Path) -> None:
    write(tmp_path, "services/api/Dockerfile")
    write(tmp_path, "services/api/app/main.py")
    write(tmp_path, "apps/web/pyproject.toml")
    write(tmp_path, "worker/requirements-prod.txt")
    write(tmp_path, "docs/readme.txt")
    write(tmp_path, "CODEOWNERS", "* @org/all\n/services/ @org/backend\napps/web/ @org/web\n")
    found = {(s.name, s.path, s.owner) for s in discover(tmp_path)}
    assert found == {
        ("api", "services/api", "@org/backend"),
        ("web", "apps/web", "@org/web"),
        ("worker", "worker", "@org/all"),
    }


def test_codeowners_last_match_wins_and_globs() -> None:
    owners = parse_codeowners(
        "# c\n*.py @py\n/infra/ @sre\ndocs/** @docs\ninfra/prod/ @prod\napps/ @apps\n"
    )
    assert owners.owner_of("a/b/c.py") == "@py"
    assert owners.owner_of("infra") == "@sre"
    assert owners.owner_of("infra/prod") == "@prod"
    assert owners.owner_of("docs/guide/y.md") == "@docs"
    assert owners.owner_of("x/docs/y.md") is None  # a slash inside anchors to the root
    assert owners.owner_of("x/apps/web") == "@apps"  # a trailing slash only: anywhere
    assert owners.owner_of("other") is None


def test_attribution_deepest_service_wins(tmp_path: Path) -> None:
    write(
        tmp_path,
        "compliance.yaml",
        "services:\n  - {name: a, path: svc}\n  - {name: b, path: svc/b}\n",
    )
    write(tmp_path, "svc/b/x.py")
    attribute = attributor(discover(tmp_path))
    assert attribute("svc/b/x.py") == "b"
    assert attribute("svc/x.py") == "a"
    assert attribute("svcx/y.py") == REPO_SERVICE
    assert attribute("infra/main.tf") == REPO_SERVICE
