"""Small repositories for the threat-model tests, written into a temporary folder."""

from __future__ import annotations

import textwrap
from pathlib import Path

from compliance.prepare import prepare
from compliance.threatmodel.facts import Fact
from compliance.threatmodel.workflow import Workspace, open_workspace

CONFIG = """\
version: 1
services:
  - name: shop
    path: services/shop
    data_classification: [internal, pii]
  - name: billing
    path: services/billing
    data_classification: [payment]
"""


def write(root: Path, files: dict[str, str]) -> Path:
    for rel, text in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip("\n"), encoding="utf-8")
    return root


def repo(tmp_path: Path, files: dict[str, str], config: str = CONFIG) -> Path:
    root = tmp_path / "repo"
    write(root, {"compliance.yaml": config, **files})
    (root / "services" / "shop").mkdir(parents=True, exist_ok=True)
    (root / "services" / "billing").mkdir(parents=True, exist_ok=True)
    return root


def workspace(root: Path) -> Workspace:
    prepared = prepare(root)
    return open_workspace(
        prepared.root,
        prepared.config,
        prepared.inventory,
        prepared.services,
        config_file=prepared.config_file,
    )


def facts(root: Path, service: str = "shop") -> dict[str, Fact]:
    return {f.id: f for f in workspace(root).facts(service)}


def where(fact: Fact) -> list[str]:
    return [str(location) for location in fact.locations]
