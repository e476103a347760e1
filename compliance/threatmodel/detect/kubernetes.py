"""Facts from Kubernetes manifests: exposure (Service type LoadBalancer or NodePort, Ingress,
OpenShift Route), secrets (secretKeyRef, envFrom, secret volumes), and the URLs and names in
container environments (outbound hosts, connection strings, resource names).

A manifest belongs to a service when it sits in the service's folder, or, elsewhere in the
repository, when its name or `app` / `app.kubernetes.io/name` label is the service's name
(an Ingress: when one of its backends is).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import yaml

from compliance import yamlsafe
from compliance.threatmodel.detect.context import ServiceScan
from compliance.threatmodel.facts import FactKind, FactLocation

LINE = "__line__"
_WORKLOADS = frozenset(
    {"Deployment", "StatefulSet", "DaemonSet", "Job", "CronJob", "Pod", "ReplicaSet"}
)
_INTERNAL_LB_ANNOTATIONS = {
    "service.beta.kubernetes.io/aws-load-balancer-internal": ("true", "0.0.0.0/0"),
    "service.beta.kubernetes.io/aws-load-balancer-scheme": ("internal",),
    "networking.gke.io/load-balancer-type": ("internal",),
    "cloud.google.com/load-balancer-type": ("internal",),
    "service.beta.kubernetes.io/azure-load-balancer-internal": ("true",),
}


class _LineLoader(yamlsafe.SAFE_LOADER):  # type: ignore[misc]
    """The safe loader (with its limits), recording each mapping's line as `__line__`."""


def _mapping_with_line(loader: yaml.SafeLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    mapping = loader.construct_mapping(node, deep=True)
    mapping[LINE] = node.start_mark.line + 1
    return mapping


_LineLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping_with_line)


def load_documents(text: str) -> list[dict[str, Any]]:
    """Every mapping document of a (multi-document) YAML text, with `__line__` keys."""
    return [d for d in yamlsafe.safe_load_all(text, loader=_LineLoader) if isinstance(d, dict)]


@dataclass(frozen=True, slots=True)
class Manifest:
    path: str
    document: dict[str, Any]
    #: The service folder holds the file (else it matched by name or label).
    in_service: bool

    @property
    def kind(self) -> str:
        return str(self.document.get("kind", ""))

    @property
    def name(self) -> str:
        return str(_dict(self.document.get("metadata")).get("name", ""))

    def at(self, node: Any = None) -> FactLocation:
        line = _dict(node).get(LINE) if node is not None else None
        return FactLocation(self.path, line or self.document.get(LINE))


def belongs_to(document: dict[str, Any], service: str) -> bool:
    """A manifest outside every service folder: is it about `service`?"""
    metadata = _dict(document.get("metadata"))
    labels = _dict(metadata.get("labels"))
    names = {metadata.get("name"), labels.get("app"), labels.get("app.kubernetes.io/name")}
    if service in names:
        return True
    if document.get("kind") == "Ingress":
        return service in set(_ingress_backends(document))
    return False


def scan_manifest(scan: ServiceScan, manifest: Manifest) -> None:
    kind = manifest.kind
    if kind == "Service":
        _service(scan, manifest)
    elif kind == "Ingress":
        _ingress(scan, manifest)
    elif kind == "Route" and "openshift" in str(manifest.document.get("apiVersion", "")):
        spec = _dict(manifest.document.get("spec"))
        host = str(spec.get("host") or manifest.name)
        tags = ["exposure", "exposure:internet"]
        if not spec.get("tls"):
            tags.append("exposure:no-tls")
        scan.facts.add(
            f"exposure:route:{host}",
            FactKind.EXPOSURE,
            f"OpenShift Route {host}",
            tags,
            manifest.at(),
        )
    elif kind in _WORKLOADS:
        for container in _containers(manifest.document):
            _container(scan, manifest, container)
        for volume in _list(_pod_spec(manifest.document).get("volumes")):
            secret = _dict(_dict(volume).get("secret"))
            if secret.get("secretName"):
                _k8s_secret(scan, manifest, str(secret["secretName"]), volume)


def _service(scan: ServiceScan, manifest: Manifest) -> None:
    spec = _dict(manifest.document.get("spec"))
    service_type = str(spec.get("type") or "ClusterIP")
    annotations = _dict(_dict(manifest.document.get("metadata")).get("annotations"))
    ports = ", ".join(
        str(p.get("port")) for p in _list(spec.get("ports")) if isinstance(p, dict) and "port" in p
    )
    if service_type == "LoadBalancer":
        internal = any(
            str(annotations.get(key, "")).lower() in values
            for key, values in _INTERNAL_LB_ANNOTATIONS.items()
        )
        scope = "exposure:private-network" if internal else "exposure:internet"
        where = "private network" if internal else "internet"
        scan.facts.add(
            f"exposure:load-balancer:{manifest.name}",
            FactKind.EXPOSURE,
            f"Kubernetes Service {manifest.name} of type LoadBalancer ({where}; ports {ports})",
            ("exposure", scope),
            manifest.at(spec),
        )
    elif service_type == "NodePort":
        node_ports = ", ".join(
            str(p.get("nodePort", "auto")) for p in _list(spec.get("ports")) if isinstance(p, dict)
        )
        scan.facts.add(
            f"exposure:node-port:{manifest.name}",
            FactKind.EXPOSURE,
            f"Kubernetes Service {manifest.name} of type NodePort (node ports {node_ports})",
            ("exposure", "exposure:node-port"),
            manifest.at(spec),
        )


def _ingress(scan: ServiceScan, manifest: Manifest) -> None:
    spec = _dict(manifest.document.get("spec"))
    tls_hosts = {str(h) for t in _list(spec.get("tls")) for h in _list(_dict(t).get("hosts"))}
    rules = [_dict(r) for r in _list(spec.get("rules"))]
    hosts = [(str(r["host"]), r) for r in rules if r.get("host")] or [("*", spec)]
    for host, node in hosts:
        tags = ["exposure", "exposure:internet"]
        if host not in tls_hosts and not (host == "*" and tls_hosts):
            tags.append("exposure:no-tls")
        tls = "TLS" if "exposure:no-tls" not in tags else "no TLS"
        scan.facts.add(
            f"exposure:ingress:{host}",
            FactKind.EXPOSURE,
            f"Ingress {manifest.name} for host {host} ({tls})",
            tags,
            manifest.at(node),
        )


def _ingress_backends(document: dict[str, Any]) -> Iterator[str]:
    spec = _dict(document.get("spec"))
    backends = [_dict(spec.get("defaultBackend")), _dict(spec.get("backend"))]
    for rule in _list(spec.get("rules")):
        for path in _list(_dict(_dict(rule).get("http")).get("paths")):
            backends.append(_dict(_dict(path).get("backend")))
    for backend in backends:
        name = _dict(backend.get("service")).get("name") or backend.get("serviceName")
        if name:
            yield str(name)


def _container(scan: ServiceScan, manifest: Manifest, container: dict[str, Any]) -> None:
    for env in _list(container.get("env")):
        entry = _dict(env)
        ref = _dict(_dict(entry.get("valueFrom")).get("secretKeyRef"))
        if ref.get("name"):
            _k8s_secret(scan, manifest, str(ref["name"]), entry)
            continue
        value = entry.get("value")
        if not isinstance(value, str) or not value:
            continue
        location = manifest.at(entry)
        web = value.startswith(("http://", "https://", "ws://", "wss://"))
        if "://" in value and not scan.connection_url(value, location) and web:
            scan.outbound(value, location)
        scan.refs.literal(value, location)
    for source in _list(container.get("envFrom")):
        secret = _dict(_dict(source).get("secretRef"))
        if secret.get("name"):
            _k8s_secret(scan, manifest, str(secret["name"]), source)


def _k8s_secret(scan: ServiceScan, manifest: Manifest, name: str, node: Any) -> None:
    scan.facts.add(
        "secrets:kubernetes",
        FactKind.SECRETS,
        "Kubernetes Secrets given to the pods",
        ("secrets", "secrets:kubernetes"),
        manifest.at(node),
        names=[name],
    )


def _pod_spec(document: dict[str, Any]) -> dict[str, Any]:
    spec = _dict(document.get("spec"))
    if document.get("kind") == "Pod":
        return spec
    if document.get("kind") == "CronJob":
        spec = _dict(_dict(spec.get("jobTemplate")).get("spec"))
    return _dict(_dict(spec.get("template")).get("spec"))


def _containers(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    pod = _pod_spec(document)
    for key in ("initContainers", "containers"):
        for container in _list(pod.get(key)):
            if isinstance(container, dict):
                yield container


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else []
