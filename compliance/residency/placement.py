"""Where one piece of data lands, as the resolvers read it from the repository.

A `Placement` is one resource (or replica, backup copy, workload, client ...) and the region it
puts data in, with where that region came from. The region is either `Resolved` (a value and
its provenance: a literal, a provider alias, a variable default, a replication destination)
or `Unresolved` (why it cannot be known statically): never a guess, and never "compliant".
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from compliance.residency.regions import Provider


class Role(enum.Enum):
    """What the placement is, for messages and the residency map."""

    RESOURCE = "resource"  # the resource itself
    REPLICA = "replica"  # a replication destination, read replica or geo-redundant copy
    BACKUP = "backup"  # a backup or snapshot copy
    GLOBAL = "global"  # a CDN or other global service: edge locations worldwide
    CLUSTER = "cluster"  # a Kubernetes cluster
    WORKLOAD = "workload"  # pods pinned to a region by node selector or affinity
    STACK = "stack"  # a CloudFormation stack or stack-set instance
    CLIENT = "client"  # an SDK client or service endpoint in application code
    REFERENCE = "reference"  # a region named in configuration (an ARN, a `*_region` setting)


@dataclass(frozen=True, slots=True)
class Resolved:
    """A region as written (`us-east-1`, `EU`, `West Europe`) and where it came from."""

    value: str
    source: str


@dataclass(frozen=True, slots=True)
class Unresolved:
    """A region that cannot be known without running something: why."""

    reason: str


Region = Resolved | Unresolved


@dataclass(frozen=True, slots=True)
class Placement:
    """One place data lands.

    `address` identifies it within its file, without line numbers (`aws_s3_bucket.exports`,
    `module.eu.aws_db_instance.main`, `Deployment/data/worker`, `ExportsTable`): findings use it
    as their resource, so their fingerprints survive edits. `provider` is None when the source
    does not say which cloud (a Kubernetes region label): the tables tell. `service_tag` is a
    `service` tag or label on the resource, which ties infrastructure outside every service
    folder to a service. `note` says what it is ("read replica of aws_db_instance.orders").
    """

    address: str
    role: Role
    provider: Provider | None
    region: Region
    path: str
    line: int | None = None
    note: str | None = None
    service_tag: str | None = None
    snippet: str | None = None

    def sort_key(self) -> tuple[str, int, str, str]:
        return (self.path, self.line or 0, self.address, self.role.value)
