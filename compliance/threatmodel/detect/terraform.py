"""Facts from Terraform: public load balancers and API gateways, databases (and whether they
are publicly accessible), buckets, queues, topics, streams and secrets.

Terraform files are parsed once per repository with python-hcl2 (`hcl2`, which checkov
installs). A resource belongs to a service when its file is in the service's folder, when
its tags say so (`service`, `app`, `application` or `component` equal to the service's
name), or when its label or name is the service's name; shared data resources (a bucket, a
queue, a database) also when the service's code or manifests name them: the bucket name in
a constant, the queue's URL, the database in a connection string. Variables are replaced
by their defaults; any other interpolation matches anything (`acme-${local.env}-raw` is the
pattern `acme-*-raw`, which must keep six literal characters to match).
"""

from __future__ import annotations

import fnmatch
import importlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from compliance.threatmodel.detect import tables
from compliance.threatmodel.detect.context import ServiceScan
from compliance.threatmodel.detect.tables import Spec
from compliance.threatmodel.detect.values import last_segment
from compliance.threatmodel.facts import FactKind, FactLocation

_INTERPOLATION = re.compile(r"\$\{([^}]*)\}")
_VARIABLE = re.compile(r"^\s*var\.([A-Za-z0-9_-]+)\s*$")
_TAG_KEYS = frozenset({"service", "app", "application", "component", "app.kubernetes.io/name"})
_MIN_LITERAL = 6
_ENGINES: dict[str, Spec] = {
    "postgres": tables.POSTGRESQL,
    "aurora-postgresql": tables.POSTGRESQL,
    "mysql": tables.MYSQL,
    "mariadb": tables.MYSQL,
    "aurora": tables.MYSQL,
    "aurora-mysql": tables.MYSQL,
    "oracle": tables.ORACLE,
    "sqlserver": tables.SQLSERVER,
    "redis": tables.REDIS,
    "valkey": tables.REDIS,
    "memcached": tables.MEMCACHED,
}


@dataclass(frozen=True, slots=True)
class Resource:
    type: str
    label: str
    attrs: dict[str, Any]
    path: str
    line: int | None
    #: Variable defaults of the resource's folder (a Terraform module).
    variables: dict[str, str]

    @property
    def address(self) -> str:
        return f"{self.type}.{self.label}"

    @property
    def location(self) -> FactLocation:
        return FactLocation(self.path, self.line)

    def text(self, key: str) -> str | None:
        """A string attribute with variables resolved and other interpolations as `*`."""
        value = scalar(self.attrs.get(key))
        if not isinstance(value, str):
            return None

        def replace(match: re.Match[str]) -> str:
            variable = _VARIABLE.match(match.group(1))
            if variable and variable.group(1) in self.variables:
                return self.variables[variable.group(1)]
            return "*"

        return _INTERPOLATION.sub(replace, value.strip('"'))

    def flag(self, key: str) -> bool | None:
        value = scalar(self.attrs.get(key))
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.strip('"').lower() in ("true", "false"):
            return value.strip('"').lower() == "true"
        return None

    def tags(self) -> dict[str, str]:
        found: dict[str, str] = {}
        for key in ("tags", "tags_all", "labels"):
            value = scalar(self.attrs.get(key))
            if isinstance(value, dict):
                found.update({str(k).strip('"'): str(v).strip('"') for k, v in value.items()})
        return found


@dataclass(frozen=True, slots=True)
class Terraform:
    resources: tuple[Resource, ...] = ()
    #: (path, reason) of files that could not be read.
    skipped: tuple[tuple[str, str], ...] = ()


def scalar(value: Any) -> Any:
    """python-hcl2 wraps attribute values in one-element lists (older versions): unwrap."""
    while isinstance(value, list) and len(value) == 1:
        value = value[0]
    return value


def parse_terraform(files: dict[str, str]) -> Terraform:
    """Parse Terraform files (path -> text); unreadable ones are listed, never fatal."""
    try:
        hcl2 = importlib.import_module("hcl2")  # installed with checkov
    except ImportError:
        return Terraform((), tuple((p, "python-hcl2 is not installed") for p in sorted(files)))
    loads: Callable[..., Any] = hcl2.loads
    parsed: dict[str, Any] = {}
    skipped = []
    for path, text in sorted(files.items()):
        if not path.endswith(".tf"):
            skipped.append((path, "Terraform JSON is not read for the threat model"))
            continue
        try:
            try:
                parsed[path] = loads(text, with_meta=True)
            except TypeError:
                parsed[path] = loads(text)
        except Exception as exc:  # lark's errors have no common public base we can name
            skipped.append((path, f"Terraform not parsed: {type(exc).__name__}"))
    variables: dict[str, dict[str, str]] = {}
    for path, data in parsed.items():
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        for block in _blocks(data.get("variable")):
            for name, body in block.items():
                default = scalar(body.get("default")) if isinstance(body, dict) else None
                if isinstance(default, str | int | float) and not isinstance(default, bool):
                    variables.setdefault(folder, {})[name] = str(default)
    resources = []
    for path, data in parsed.items():
        folder = path.rsplit("/", 1)[0] if "/" in path else ""
        for block in _blocks(data.get("resource")):
            for kind, named in block.items():
                for label, body in (named or {}).items():
                    if not isinstance(body, dict):
                        continue
                    line = body.get("__start_line__")
                    attrs = {k: v for k, v in body.items() if not k.startswith("__")}
                    resources.append(
                        Resource(
                            kind,
                            label,
                            attrs,
                            path,
                            line if isinstance(line, int) else None,
                            variables.get(folder, {}),
                        )
                    )
    return Terraform(tuple(resources), tuple(skipped))


def _blocks(value: Any) -> list[dict[str, Any]]:
    if isinstance(value, dict):
        return [value]
    return [b for b in value if isinstance(b, dict)] if isinstance(value, list) else []


def scan_terraform(scan: ServiceScan, terraform: Terraform, owned: frozenset[str]) -> None:
    """Record the facts of the resources that belong to the service (`owned`: its own files)."""
    index = _literal_index(scan)
    for resource in terraform.resources:
        handler = _HANDLERS.get(resource.type)
        if handler is None:
            continue
        claimed = resource.path in owned or _claimed(resource, scan.service)
        handler(scan, resource, claimed, index)


def _claimed(resource: Resource, service: str) -> bool:
    tags = {k.lower(): v for k, v in resource.tags().items()}
    if any(tags.get(key) == service for key in _TAG_KEYS):
        return True
    names = {resource.label, resource.text("name")}
    return service in names


def _literal_index(scan: ServiceScan) -> dict[str, FactLocation]:
    index = dict(scan.refs.literals)
    for literal, location in scan.refs.literals.items():
        segment = last_segment(literal)
        if segment:
            index.setdefault(segment, location)
    return index


def _match(name: str | None, index: dict[str, FactLocation]) -> str | None:
    """The literal the service uses for this resource name (exact, or by pattern)."""
    if not name:
        return None
    if "*" not in name:
        return name if name in index else None
    if len(name.replace("*", "")) < _MIN_LITERAL:
        return None
    return next((lit for lit in sorted(index) if fnmatch.fnmatchcase(lit, name)), None)


def _named(
    spec: Spec, noun: str, *keys: str
) -> Callable[[ServiceScan, Resource, bool, dict[str, FactLocation]], None]:
    """A bucket, queue, topic or stream: one fact per resource, named like in the code."""

    def handle(
        scan: ServiceScan, resource: Resource, claimed: bool, index: dict[str, FactLocation]
    ) -> None:
        name = next((n for k in keys if (n := resource.text(k))), None)
        used = _match(name, index)
        if used is None and not claimed:
            return
        shown = used or (name if name and "*" not in name else resource.address)
        scan.facts.add(
            f"{spec.fact_id}:{shown}",
            spec.kind,
            f"{noun} {shown}",
            spec.tags,
            resource.location,
            names=[resource.address],
        )
        if used is not None:
            scan.facts.tag(f"{spec.fact_id}:{shown}", location=index[used])

    return handle


def _listed(
    spec: Spec, *keys: str
) -> Callable[[ServiceScan, Resource, bool, dict[str, FactLocation]], None]:
    """A DynamoDB table or a secret: the fact of the kind, with the resource's name."""

    def handle(
        scan: ServiceScan, resource: Resource, claimed: bool, index: dict[str, FactLocation]
    ) -> None:
        name = next((n for k in keys if (n := resource.text(k))), None)
        used = _match(name, index)
        if used is None and not claimed:
            return
        scan.facts.add(
            spec.fact_id,
            spec.kind,
            spec.summary,
            spec.tags,
            resource.location,
            names=[used or name or resource.address],
        )

    return handle


def _database(
    scan: ServiceScan, resource: Resource, claimed: bool, index: dict[str, FactLocation]
) -> None:
    engine = (resource.text("engine") or resource.text("database_version") or "").lower()
    spec = _ENGINES.get(engine)
    if spec is None:
        prefix = engine.split("_", 1)[0]
        spec = {"postgres": tables.POSTGRESQL, "mysql": tables.MYSQL}.get(
            prefix, tables.SQL_GENERIC
        )
    names = {
        resource.text(key)
        for key in (
            "identifier",
            "db_name",
            "name",
            "cluster_identifier",
            "database_name",
            "cluster_id",
            "replication_group_id",
        )
    }
    matched = [scan.refs.databases[n] for n in names if n and n in scan.refs.databases]
    if not matched and not claimed:
        return
    scan.spec(spec, resource.location, names=(resource.address,))
    if resource.flag("publicly_accessible"):
        scan.facts.tag(spec.fact_id, "datastore:public")
        scan.facts.add(
            f"exposure:public-datastore:{resource.address}",
            FactKind.EXPOSURE,
            f"{resource.address} is publicly accessible from the internet",
            ("exposure", "datastore:public"),
            resource.location,
        )


def _load_balancer(
    scan: ServiceScan, resource: Resource, claimed: bool, index: dict[str, FactLocation]
) -> None:
    if not claimed:
        return
    internal = resource.flag("internal")
    scheme = (resource.text("scheme") or "").lower()
    if internal or scheme == "internal":
        scope, where = "exposure:private-network", "internal"
    else:
        scope, where = "exposure:internet", "internet-facing"
    kind = resource.text("load_balancer_type") or "application"
    scan.facts.add(
        f"exposure:load-balancer:{resource.address}",
        FactKind.EXPOSURE,
        f"{where} {kind} load balancer {resource.address}",
        ("exposure", scope),
        resource.location,
    )


def _api_gateway(
    scan: ServiceScan, resource: Resource, claimed: bool, index: dict[str, FactLocation]
) -> None:
    if not claimed:
        return
    configuration = scalar(resource.attrs.get("endpoint_configuration"))
    types = scalar(configuration.get("types")) if isinstance(configuration, dict) else None
    private = "PRIVATE" in (types if isinstance(types, list) else [types])
    scan.facts.add(
        f"exposure:api-gateway:{resource.address}",
        FactKind.EXPOSURE,
        f"{'private' if private else 'public'} API gateway {resource.address}",
        ("exposure", "exposure:private-network" if private else "exposure:internet"),
        resource.location,
    )


def _kafka(
    scan: ServiceScan, resource: Resource, claimed: bool, index: dict[str, FactLocation]
) -> None:
    if claimed:
        scan.spec(tables.KAFKA, resource.location)


_Handler = Callable[[ServiceScan, Resource, bool, dict[str, FactLocation]], None]
_S3 = Spec("object-storage:s3", FactKind.OBJECT_STORAGE, "Amazon S3", ("object-storage",))
_SQS = Spec("messaging:sqs", FactKind.MESSAGING, "Amazon SQS", ("messaging",))
_SNS = Spec("messaging:sns", FactKind.MESSAGING, "Amazon SNS", ("messaging",))
_KINESIS = Spec("messaging:kinesis", FactKind.MESSAGING, "Amazon Kinesis", ("messaging",))
_GCS = tables.GCS
_HANDLERS: dict[str, _Handler] = {
    "aws_s3_bucket": _named(_S3, "S3 bucket", "bucket", "bucket_prefix"),
    "aws_sqs_queue": _named(_SQS, "SQS queue", "name", "name_prefix"),
    "aws_sns_topic": _named(_SNS, "SNS topic", "name", "name_prefix"),
    "aws_kinesis_stream": _named(_KINESIS, "Kinesis stream", "name"),
    "google_storage_bucket": _named(_GCS, "Cloud Storage bucket", "name"),
    "google_pubsub_topic": _named(tables.PUBSUB, "Pub/Sub topic", "name"),
    "aws_dynamodb_table": _listed(tables.DYNAMODB, "name"),
    "aws_secretsmanager_secret": _listed(tables.AWS_SECRETS, "name", "name_prefix"),
    "aws_db_instance": _database,
    "aws_rds_cluster": _database,
    "aws_elasticache_cluster": _database,
    "aws_elasticache_replication_group": _database,
    "google_sql_database_instance": _database,
    "aws_msk_cluster": _kafka,
    "aws_lb": _load_balancer,
    "aws_alb": _load_balancer,
    "aws_elb": _load_balancer,
    "aws_api_gateway_rest_api": _api_gateway,
    "aws_apigatewayv2_api": _api_gateway,
}
