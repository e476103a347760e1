"""Kubernetes manifests and Helm charts: workloads pinned to a region, and region settings.

A workload is placed where its pods are pinned: a `nodeSelector` on
`topology.kubernetes.io/region` (or `.../zone`, mapped to its region; the deprecated
`failure-domain.beta.kubernetes.io/*` labels too), or node-affinity terms (`key`,
`operator: In`, `values`, required or preferred, also Karpenter's `requirements`). A
container's `AWS_REGION` / `AWS_DEFAULT_REGION` environment variable places the SDK clients it
runs, and an env value that is a regional cloud endpoint places what it talks to. Labels say
no cloud: the region tables tell which cloud a value belongs to.

A workload without such a constraint runs wherever its cluster runs: clusters defined in
Terraform are placed there (`aws_eks_cluster`, `google_container_cluster`,
`azurerm_kubernetes_cluster`). `NotIn`/`Exists` terms name no place and are not read.

Helm charts are not rendered (that needs the helm binary and the deploy-time values): the
chart's `values*.yaml` are read as YAML, and its templates with every `{{ ... }}` replaced by
a marker, so a literal region is read and a templated one is reported as unresolved.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any

from compliance.model import Skip
from compliance.residency.documents import line_of, load_documents
from compliance.residency.endpoints import ENDPOINT_HINTS, endpoint_location
from compliance.residency.placement import Placement, Region, Resolved, Role, Unresolved
from compliance.residency.regions import Provider, RegionTables

TOOL = "residency"
REGION_LABELS = frozenset(
    {"topology.kubernetes.io/region", "failure-domain.beta.kubernetes.io/region"}
)
ZONE_LABELS = frozenset({"topology.kubernetes.io/zone", "failure-domain.beta.kubernetes.io/zone"})
_LABELS = REGION_LABELS | ZONE_LABELS
_REGION_ENV = {"AWS_REGION": Provider.AWS, "AWS_DEFAULT_REGION": Provider.AWS}
_TEMPLATE = re.compile(r"\{\{.*?\}\}", re.DOTALL)
_MARK = "__helm_template__"
_CONTROL_LINE = re.compile(r"^\s*\{\{-?\s*(?:if|else|end|range|with|define|template|include|/\*)")


@dataclass(frozen=True, slots=True)
class KubernetesPlacements:
    placements: tuple[Placement, ...]
    skipped: tuple[Skip, ...]


def resolve_kubernetes(
    root: Path,
    manifests: Sequence[str],
    charts: Sequence[str],
    all_files: Sequence[str],
    tables: RegionTables,
    service_tag: str = "service",
) -> KubernetesPlacements:
    placements: list[Placement] = []
    skipped: list[Skip] = []
    for rel in manifests:
        text = _read(root, rel, skipped)
        if text is None or not any(h in text for h in _HINTS):
            continue
        try:
            documents = load_documents(text, json_text=rel.endswith(".json"))
        except ValueError as exc:
            skipped.append(Skip(rel, f"manifest not read by the residency check: {exc}", TOOL))
            continue
        for document in documents:
            placements += _document(document, rel, tables, service_tag)
    for chart in charts:
        placements += _chart(root, chart, all_files, tables, skipped, service_tag)
    return KubernetesPlacements(tuple(sorted(placements, key=Placement.sort_key)), tuple(skipped))


#: Substrings without which a manifest places nothing (a cheap test before parsing it).
_HINTS = ("topology.kubernetes.io", "failure-domain.beta", "AWS_REGION", "AWS_DEFAULT_REGION",
          *ENDPOINT_HINTS)  # fmt: skip


def _read(root: Path, rel: str, skipped: list[Skip]) -> str | None:
    try:
        return (root / rel).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        skipped.append(Skip(rel, f"cannot read: {exc}", TOOL))
        return None


def _document(document: Any, rel: str, tables: RegionTables, service_tag: str) -> list[Placement]:
    """A manifest's placements; its `service` label (the policy's service_tag) names whose
    data it handles when the file is outside every service folder."""
    if not isinstance(document, dict):
        return []
    metadata = document.get("metadata") if isinstance(document.get("metadata"), dict) else {}
    assert isinstance(metadata, dict)
    kind = str(document.get("kind") or "Object")
    name = str(metadata.get("name") or "?").replace(_MARK, "{{}}")
    namespace = metadata.get("namespace")
    address = f"{kind}/{namespace}/{name}" if namespace else f"{kind}/{name}"
    labels = metadata.get("labels")
    tag = next(
        (
            str(value)
            for key, value in (labels.items() if isinstance(labels, dict) else ())
            if str(key).casefold() == service_tag.casefold()
        ),
        None,
    )
    placements = _walk(document, address, rel, (), tables, line_of(document))
    return [replace(p, service_tag=tag) for p in placements]


def _walk(
    node: Any,
    address: str,
    rel: str,
    path: tuple[str, ...],
    tables: RegionTables,
    line: int | None,
) -> Iterator[Placement]:
    line = line_of(node) or line
    if isinstance(node, dict):
        selector = node.get("nodeSelector")
        if isinstance(selector, dict):
            for label in sorted(set(selector) & _LABELS):
                yield _workload(
                    address,
                    rel,
                    line_of(selector) or line,
                    label,
                    selector[label],
                    f"nodeSelector {label}",
                    f"{_dotted(path)}.nodeSelector[{label}]",
                )
        key = node.get("key")
        if key in _LABELS and str(node.get("operator", "")) == "In":
            values = node.get("values")
            preferred = any("preferred" in p for p in path)
            how = f"node affinity {key} In" + (" (preferred)" if preferred else "")
            if isinstance(values, list):
                for i, value in enumerate(values):
                    yield _workload(
                        address, rel, line, str(key), value, how, f"{_dotted(path)}.values[{i}]"
                    )
            else:
                yield _workload(address, rel, line, str(key), values, how, _dotted(path))
        if "name" in node and "value" in node and _is_env(path):
            yield from _env(node, address, rel, line, path, tables)
        for child_key, child in node.items():
            if child_key != "nodeSelector":
                yield from _walk(child, address, rel, (*path, str(child_key)), tables, line)
    elif isinstance(node, list):
        for i, child in enumerate(node):
            yield from _walk(child, address, rel, (*path, f"[{i}]"), tables, line)


#: Path segments left out of addresses (every workload has them), and short forms.
_DROPPED = frozenset({"spec", "template", "jobTemplate"})
_SHORT = {
    "requiredDuringSchedulingIgnoredDuringExecution": "required",
    "preferredDuringSchedulingIgnoredDuringExecution": "preferred",
    "nodeSelectorTerms": "terms",
    "matchExpressions": "expr",
}


def _dotted(path: tuple[str, ...]) -> str:
    """`.affinity.nodeAffinity.required.terms[0].expr[0]` for a key path in a manifest."""
    parts = [_SHORT.get(p, p) for p in path if p not in _DROPPED]
    return "".join(p if p.startswith("[") else f".{p}" for p in parts)


def _is_env(path: tuple[str, ...]) -> bool:
    return len(path) >= 2 and path[-2] == "env" and path[-1].startswith("[")


def _workload(
    address: str,
    rel: str,
    line: int | None,
    label: str,
    value: Any,
    how: str,
    where: str,
) -> Placement:
    region: Region
    if not isinstance(value, str) or not value.strip():
        region = Unresolved(f"{how}: the value {value!r} is not a region name")
    elif _MARK in value or "${" in value:
        region = Unresolved(f"{how} is set by a template: it is only known when rendered")
    else:
        region = Resolved(value.strip(), how)
    note = "pods pinned to this zone's region" if label in ZONE_LABELS else None
    return Placement(
        address=f"{address}{where}",
        role=Role.WORKLOAD,
        provider=None,
        region=region,
        path=rel,
        line=line,
        note=note,
    )


def _env(
    node: dict[str, Any],
    address: str,
    rel: str,
    line: int | None,
    path: tuple[str, ...],
    tables: RegionTables,
) -> Iterator[Placement]:
    name = str(node.get("name"))
    value = node.get("value")
    where = f"{address}{_dotted(path)}[{name}]"
    if name in _REGION_ENV:
        region: Region
        if isinstance(value, str) and _MARK not in value and value.strip():
            region = Resolved(value.strip(), f"environment variable {name}")
        else:
            region = Unresolved(f"environment variable {name} is set by a template")
        yield Placement(
            where,
            Role.CLIENT,
            _REGION_ENV[name],
            region,
            rel,
            line,
            note="SDK clients in this container default to this region",
        )
    elif isinstance(value, str) and any(h in value for h in ENDPOINT_HINTS):
        found = endpoint_location(value, tables)
        if found is not None:
            yield Placement(
                where,
                Role.CLIENT,
                found.provider,
                Resolved(found.id, f"endpoint in environment variable {name}: {value}"),
                rel,
                line,
                note="the container talks to this regional endpoint",
            )


def _chart(
    root: Path,
    chart: str,
    all_files: Sequence[str],
    tables: RegionTables,
    skipped: list[Skip],
    service_tag: str,
) -> list[Placement]:
    prefix = f"{chart}/" if chart not in ("", ".") else ""
    out: list[Placement] = []
    for rel in all_files:
        if not rel.startswith(prefix) or not rel.endswith((".yaml", ".yml")):
            continue
        inner = rel[len(prefix) :]
        name = PurePosixPath(inner).name
        is_values = "/" not in inner and name.startswith("values")
        is_template = inner.startswith("templates/")
        if not (is_values or is_template):
            continue
        text = _read(root, rel, skipped)
        if text is None or not any(h in text for h in _HINTS):
            continue
        try:
            documents = load_documents(_untemplated(text) if is_template else text)
        except ValueError as exc:
            out += _unreadable_template(text, rel, str(exc))
            continue
        for document in documents:
            if is_values:
                out += _walk(document, f"chart {chart} {name}", rel, (), tables, None)
            else:
                out += _document(document, rel, tables, service_tag)
    return out


def _untemplated(text: str) -> str:
    """A Helm template as YAML: control lines blanked (so lines keep their numbers), every
    expression a marker."""
    lines = ["" if _CONTROL_LINE.match(line) else line for line in text.splitlines()]
    return _TEMPLATE.sub(_MARK, "\n".join(lines))


def _unreadable_template(text: str, rel: str, reason: str) -> list[Placement]:
    """A template that is not YAML without rendering: each region label in it is unresolved."""
    return [
        Placement(
            address=f"{rel}:{number}",
            role=Role.WORKLOAD,
            provider=None,
            region=Unresolved(f"Helm template cannot be read without rendering ({reason})"),
            path=rel,
            line=number,
        )
        for number, line in enumerate(text.splitlines(), start=1)
        if any(label in line for label in _LABELS)
    ]
