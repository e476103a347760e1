"""What the detectors share while they look at one service: the fact builder, the names other
sources can be matched against (for Terraform resources outside the service's folder), and
how to classify a host."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass, field

from compliance.threatmodel.detect.builder import FactBuilder
from compliance.threatmodel.detect.tables import URL_SCHEMES, Spec
from compliance.threatmodel.detect.values import UNKNOWN, url_parts
from compliance.threatmodel.facts import FactKind, FactLocation

_SECRET_NAME = re.compile(
    r"(?:^|_)(?:pass(?:word|wd|phrase)?|pwd|secret|token|credentials?|"
    r"(?:api|private|secret|access|signing|encryption|master)_?key)$"
)
_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_INTERNAL_SUFFIXES = (".svc", ".svc.cluster.local", ".cluster.local", ".internal", ".local")


def is_secret_name(name: str) -> bool:
    """DB_PASSWORD, jwtSecret, api_token, SECRET_KEY: yes. TOKEN_URL, max_tokens: no."""
    snake = _CAMEL.sub("_", name).lower().replace("-", "_").replace(".", "_")
    return bool(_SECRET_NAME.search(snake))


def looks_like_secret_value(name: str, value: str) -> bool:
    """A literal that could be a credential (not empty, not the key's own name)."""
    text = value.strip()
    if not text or text.startswith(("${", "{{")) or UNKNOWN in text:
        return False
    last = _CAMEL.sub("_", name).lower().rsplit("_", 1)[-1]
    return text.lower() not in {name.lower(), last}


@dataclass
class References:
    """Names a service's code and manifests mention, to attribute shared infrastructure."""

    #: String literals and manifest values, with where each was first seen.
    literals: dict[str, FactLocation] = field(default_factory=dict)
    #: Database names and host labels from connection URLs -> (fact id, location).
    databases: dict[str, tuple[str, FactLocation]] = field(default_factory=dict)

    def literal(self, value: str, location: FactLocation) -> None:
        if 3 <= len(value) <= 255 and not any(c.isspace() for c in value):
            self.literals.setdefault(value, location)


@dataclass
class ServiceScan:
    """The state of detecting one service's facts."""

    service: str
    #: Every service's name: a host named like one is a call to that service.
    services: frozenset[str]
    facts: FactBuilder = field(default_factory=FactBuilder)
    refs: References = field(default_factory=References)

    def spec(
        self,
        spec: Spec,
        location: FactLocation | None,
        *,
        weak: bool = False,
        names: tuple[str, ...] = (),
    ) -> None:
        self.facts.add(
            spec.fact_id, spec.kind, spec.summary, spec.tags, location, weak=weak, names=names
        )

    def connection_url(self, value: str, location: FactLocation) -> bool:
        """A datastore or broker URL (`postgresql://...`, `redis://...`): its fact and refs."""
        parts = url_parts(value)
        if parts is None:
            return False
        spec = URL_SCHEMES.get(parts.scheme.split("+", 1)[0])
        if spec is None:
            return False
        self.spec(spec, location)
        if parts.host:
            label = parts.host.split(".", 1)[0]
            self.refs.databases.setdefault(label, (spec.fact_id, location))
        database = parts.path.strip("/").split("/", 1)[0].split("?", 1)[0]
        if database and UNKNOWN not in database:
            self.refs.databases.setdefault(database, (spec.fact_id, location))
        return True

    def outbound(
        self,
        url: str | None,
        location: FactLocation,
        *,
        tls_off: bool = False,
        protocol: str = "HTTP",
        plaintext: bool = False,
    ) -> None:
        """A call out of the service: to a known host, or to a URL computed at run time."""
        parts = url_parts(url) if url else None
        host = parts.host if parts else None
        extra = ["outbound:tls-verify-off"] if tls_off else []
        if protocol == "gRPC":
            extra.append("outbound:grpc")
        clear = plaintext or (parts is not None and parts.scheme in ("http", "ws"))
        if clear and (host is None or not _loopback(host)):
            extra.append("outbound:plaintext")
        if host is None:
            self.facts.add(
                "outbound:dynamic",
                FactKind.OUTBOUND,
                f"{protocol} requests to URLs computed at run time",
                ("outbound", "outbound:dynamic-url", *extra),
                location,
            )
            return
        if _loopback(host):
            return
        label = host.split(".", 1)[0]
        internal_host = "." not in host or host.endswith(_INTERNAL_SUFFIXES) or _private_ip(host)
        if label in self.services and label != self.service and internal_host:
            self.facts.add(
                f"outbound:service:{label}",
                FactKind.OUTBOUND,
                f"{protocol} calls to the {label} service",
                ("outbound", "outbound:internal", *extra),
                location,
            )
        elif internal_host:
            self.facts.add(
                f"outbound:{host}",
                FactKind.OUTBOUND,
                f"{protocol} calls to {host} (internal)",
                ("outbound", "outbound:internal", *extra),
                location,
            )
        else:
            self.facts.add(
                f"outbound:{host}",
                FactKind.OUTBOUND,
                f"{protocol} calls to {host} (third party)",
                ("outbound", "outbound:third-party", *extra),
                location,
            )


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _private_ip(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_private
    except ValueError:
        return False
