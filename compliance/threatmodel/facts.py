"""Facts about a service, as detected from its code, dependencies and infrastructure.

A fact says what a service *is* (a Flask app, a PostgreSQL client, exposed through an
Ingress, holding PII) and where that was seen, file and line, so a reviewer can check it.
Each fact carries tags from one fixed vocabulary (`TAGS`); the threat library selects
threats by tags, and a typo in a library rule is an error, never a threat that silently
never applies.

The facts fingerprint is a digest over the facts that shape the threat model: their ids and
tags, never their locations or wording, so moving code around does not make a model stale
while a new datastore, exposure, outbound destination or data class does. Individual HTTP
routes are listed for the reviewer but are not part of it (their framework's tags say
whether there are routes and whether any of them writes).
"""

from __future__ import annotations

import enum
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

FINGERPRINT_PREFIX = "sha256:"


class FactKind(enum.Enum):
    """What a fact is about; also the order facts are listed in."""

    DATA = "data"
    FRAMEWORK = "framework"
    ROUTE = "route"
    RPC = "rpc"
    EXPOSURE = "exposure"
    DATASTORE = "datastore"
    OBJECT_STORAGE = "object-storage"
    MESSAGING = "messaging"
    OUTBOUND = "outbound"
    AUTH = "auth"
    SECRETS = "secrets"

    @property
    def rank(self) -> int:
        return _KIND_RANK[self]


_KIND_RANK = {k: i for i, k in enumerate(FactKind)}

#: Web frameworks we recognise (their tag is `framework:<name>`).
FRAMEWORKS = (
    "flask",
    "fastapi",
    "django",
    "starlette",
    "aiohttp",
    "tornado",
    "falcon",
    "sanic",
    "bottle",
    "pyramid",
    "quart",
    "litestar",
)

#: Every tag a fact may carry and a threat rule may name.
TAGS: frozenset[str] = frozenset(
    {
        # Inbound: the service answers requests or consumes work.
        "http",
        "http:route",
        "http:write-route",
        "grpc",
        *(f"framework:{name}" for name in FRAMEWORKS),
        # Who can reach it: `exposure:internet` is the service's own endpoints (a public
        # datastore is `datastore:public`).
        "exposure",
        "exposure:internet",
        "exposure:node-port",
        "exposure:private-network",
        "exposure:no-tls",
        # Where it keeps data.
        "datastore",
        "datastore:sql",
        "datastore:redis",
        "datastore:nosql",
        "datastore:search",
        "datastore:public",
        "object-storage",
        "object-storage:read",
        "object-storage:write",
        "messaging",
        "messaging:consume",
        "messaging:publish",
        # What it calls.
        "outbound",
        "outbound:third-party",
        "outbound:internal",
        "outbound:dynamic-url",
        "outbound:tls-verify-off",
        "outbound:plaintext",
        "outbound:grpc",
        # How it authenticates.
        "auth",
        "auth:jwt",
        "auth:jwt-symmetric",
        "auth:oauth",
        "auth:session",
        "auth:password",
        "auth:api-key",
        "auth:basic",
        "auth:bearer",
        # How it holds secrets.
        "secrets",
        "secrets:environment",
        "secrets:hardcoded",
        "secrets:kubernetes",
        "secrets:manager",
        # What data it handles (from the config's data_classification).
        "data:public",
        "data:internal",
        "data:confidential",
        "data:pii",
        "data:payment",
        "data:sensitive",
    }
)

#: Kinds whose facts are listed but do not enter the fingerprint.
_UNFINGERPRINTED = frozenset({FactKind.ROUTE})


@dataclass(frozen=True, slots=True, order=True)
class FactLocation:
    """Where a fact was seen: a POSIX path relative to the repository root, and a line."""

    path: str
    line: int | None = None

    def __str__(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path

    @classmethod
    def parse(cls, text: str) -> FactLocation:
        path, sep, line = text.rpartition(":")
        if sep and line.isdigit() and path:
            return cls(path, int(line))
        return cls(text)


@dataclass(frozen=True, slots=True)
class Fact:
    """One thing known about a service. `id` is stable (`datastore:postgresql`,
    `exposure:ingress:api.acme.example`); `detail` adds what a reviewer needs (names of
    buckets, environment variables) and never a secret's value."""

    id: str
    kind: FactKind
    summary: str
    tags: frozenset[str]
    locations: tuple[FactLocation, ...] = ()
    detail: str | None = None

    def sort_key(self) -> tuple[int, str]:
        return (self.kind.rank, self.id)


def sorted_facts(facts: Iterable[Fact]) -> tuple[Fact, ...]:
    return tuple(sorted(facts, key=Fact.sort_key))


def all_tags(facts: Iterable[Fact]) -> frozenset[str]:
    return frozenset(tag for fact in facts for tag in fact.tags)


def fingerprint_facts(facts: Iterable[Fact]) -> str:
    """The digest a review records: ids and tags of the facts that shape the model."""
    lines = sorted(
        f"{fact.id}\t{','.join(sorted(fact.tags))}"
        for fact in facts
        if fact.kind not in _UNFINGERPRINTED
    )
    digest = hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
    return FINGERPRINT_PREFIX + digest


def fingerprinted(facts: Iterable[Fact]) -> dict[str, Fact]:
    """The facts that enter the fingerprint, by id (for saying what changed)."""
    return {f.id: f for f in facts if f.kind not in _UNFINGERPRINTED}
