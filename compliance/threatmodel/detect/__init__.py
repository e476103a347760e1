"""Detecting each service's facts from its code, dependencies and infrastructure.

One pass over the repository: every Python, dependency, Kubernetes and Terraform file is
read once, each file is given to the service whose folder holds it (the deepest one), and
shared manifests and Terraform are matched to services by name, tags and the names the
services' code uses. Test files are not production behaviour and are left out.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import yaml

from compliance.inventory import Inventory
from compliance.model import Service, ServiceName, Skip
from compliance.threatmodel.detect.context import ServiceScan
from compliance.threatmodel.detect.deps import scan_dependencies
from compliance.threatmodel.detect.kubernetes import (
    Manifest,
    belongs_to,
    load_documents,
    scan_manifest,
)
from compliance.threatmodel.detect.python import is_test_file, scan_python
from compliance.threatmodel.detect.terraform import Terraform, parse_terraform, scan_terraform
from compliance.threatmodel.facts import Fact, FactKind, FactLocation

TOOL = "threatmodel"
_ROLES = frozenset(
    {"object-storage:read", "object-storage:write", "messaging:consume", "messaging:publish"}
)
_GENERICS = (
    "object-storage:s3",
    "object-storage:gcs",
    "messaging:sqs",
    "messaging:sns",
    "messaging:kafka",
    "messaging:pubsub",
    "messaging:kinesis",
)
_CLASSIFICATION = {
    "public": "Handles public data",
    "internal": "Handles internal data",
    "confidential": "Handles confidential data",
    "pii": "Handles personal data (PII)",
    "payment": "Handles payment card data",
}
_SENSITIVE = frozenset({"confidential", "pii", "payment"})


@dataclass(frozen=True, slots=True)
class Detection:
    """The facts of every service, and the files that could not be read for them."""

    facts: dict[ServiceName, tuple[Fact, ...]]
    skipped: tuple[Skip, ...] = ()


def detect_facts(
    root: Path,
    inventory: Inventory,
    services: Sequence[Service],
    config_file: Path | None = None,
    *,
    only: Collection[str] | None = None,
) -> Detection:
    """The facts of each of `services` in the repository at `root` (with `only`, of those
    services alone: the others' code is not parsed, though their names still count)."""
    if only is not None and not only:
        return Detection({})
    skipped: list[Skip] = []
    owner = _owner(services)
    texts = _read(root, inventory, skipped)
    manifests: list[tuple[str, dict]] = []  # type: ignore[type-arg]
    for path in inventory.kubernetes_files:
        if path not in texts:
            continue
        try:
            manifests += [(path, doc) for doc in load_documents(texts[path])]
        except yaml.YAMLError as exc:
            skipped.append(Skip(path, f"YAML not parsed for the threat model: {exc}", TOOL))
    terraform = parse_terraform({p: texts[p] for p in inventory.terraform_files if p in texts})
    skipped += [Skip(path, reason, TOOL) for path, reason in terraform.skipped]
    classification = _classification_lines(root, config_file)
    names = frozenset(s.name for s in services)
    owned: dict[ServiceName | None, set[str]] = {}
    for path in inventory.all_files:
        owned.setdefault(owner(path), set()).add(path)
    facts: dict[ServiceName, tuple[Fact, ...]] = {}
    for service in services:
        if only is not None and service.name not in only:
            continue
        scan = ServiceScan(service.name, names)
        mine = frozenset(owned.get(service.name, ()))
        _data(scan, service, classification.get(service.name))
        for path in sorted(mine.intersection(inventory.python_files)):
            if path in texts and not is_test_file(path):
                reason = scan_python(scan, path, texts[path])
                if reason is not None:
                    skipped.append(Skip(path, reason, TOOL))
        deps = {p: texts[p] for p in inventory.dependency_files if p in mine and p in texts}
        skipped += [
            Skip(p, "dependency file not parsed for the threat model", TOOL)
            for p in scan_dependencies(scan, deps)
        ]
        for path, document in manifests:
            shared = owner(path) is None
            if path in mine or (shared and belongs_to(document, service.name)):
                scan_manifest(scan, Manifest(path, document, path in mine))
        scan_terraform(scan, terraform, mine)
        facts[service.name] = _finish(scan)
    return Detection(facts, tuple(sorted(set(skipped), key=lambda s: (s.path, s.reason))))


def _owner(services: Sequence[Service]) -> _Owner:
    return _Owner(tuple(sorted(((s.path, s.name) for s in services), key=lambda p: -len(p[0]))))


@dataclass(frozen=True, slots=True)
class _Owner:
    """The service whose folder holds a path (the deepest), or None."""

    folders: tuple[tuple[str, ServiceName], ...]

    def __call__(self, path: str) -> ServiceName | None:
        for folder, name in self.folders:
            if folder in ("", ".", path) or path.startswith(folder.rstrip("/") + "/"):
                return name
        return None


def _read(root: Path, inventory: Inventory, skipped: list[Skip]) -> dict[str, str]:
    wanted = (
        *inventory.python_files,
        *inventory.dependency_files,
        *inventory.kubernetes_files,
        *inventory.terraform_files,
    )
    texts: dict[str, str] = {}
    for path in wanted:
        try:
            data = (root / path).read_bytes()
        except OSError as exc:
            skipped.append(Skip(path, f"cannot read: {exc.strerror or exc}", TOOL))
            continue
        texts[path] = data.decode("utf-8", errors="replace")
    return texts


def _data(scan: ServiceScan, service: Service, location: FactLocation | None) -> None:
    for data_class in service.data_classification:
        tags = [f"data:{data_class}"]
        if data_class in _SENSITIVE:
            tags.append("data:sensitive")
        scan.facts.add(
            f"data:{data_class}",
            FactKind.DATA,
            _CLASSIFICATION.get(data_class, f"Handles {data_class} data"),
            tags,
            location,
        )


def _finish(scan: ServiceScan) -> tuple[Fact, ...]:
    builder = scan.facts
    for generic in _GENERICS:
        specifics = [i for i in builder.ids() if i.startswith(generic + ":")]
        builder.absorb(generic, specifics, unless=_ROLES)
    sql = [i for i in builder.with_tag("datastore:sql") if i != "datastore:sql"]
    builder.absorb("datastore:sql", sql, unless=frozenset())
    for fact_id in builder.ids(FactKind.OBJECT_STORAGE) + builder.ids(FactKind.MESSAGING):
        name = fact_id.split(":", 2)[2] if fact_id.count(":") >= 2 else None
        if name and name in scan.refs.literals:
            builder.tag(fact_id, location=scan.refs.literals[name])
    return builder.build()


def _classification_lines(root: Path, config_file: Path | None) -> dict[str, FactLocation]:
    """Where each service's `data_classification` is written in the config."""
    if config_file is None or not config_file.is_file():
        return {}
    try:
        display = config_file.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        display = config_file.name
    try:
        text = config_file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return {}
    if config_file.suffix == ".toml":
        return _toml_lines(text, display)
    try:
        node = yaml.compose(text)
    except yaml.YAMLError:
        return {}
    found: dict[str, FactLocation] = {}
    services = _child(node, "services")
    if isinstance(services, yaml.SequenceNode):
        for item in services.value:
            name = _child(item, "name")
            classes = _child(item, "data_classification")
            if isinstance(name, yaml.ScalarNode) and classes is not None:
                found[str(name.value)] = FactLocation(display, classes.start_mark.line + 1)
    return found


def _child(node: yaml.Node | None, key: str) -> yaml.Node | None:
    if not isinstance(node, yaml.MappingNode):
        return None
    for key_node, value in node.value:
        if isinstance(key_node, yaml.ScalarNode) and key_node.value == key:
            return value  # type: ignore[no-any-return]
    return None


def _toml_lines(text: str, display: str) -> dict[str, FactLocation]:
    """`[tool.compliance]` in pyproject.toml: the n-th `data_classification` line is the
    n-th service's that has one (tables are written in order)."""
    found: dict[str, FactLocation] = {}
    name: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if stripped.startswith("name") and "=" in stripped:
            name = stripped.split("=", 1)[1].strip().strip("\"'")
        elif stripped.startswith("data_classification") and name is not None:
            found.setdefault(name, FactLocation(display, number))
    return found


__all__ = ["Detection", "Terraform", "detect_facts"]
