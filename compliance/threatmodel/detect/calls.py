"""Calls in a module: SDK clients and the resources they touch, outbound requests, connection
strings, how secrets are read, and the call sites of recognised libraries."""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from compliance.threatmodel.detect import tables
from compliance.threatmodel.detect.clients import (
    APP_CLASSES,
    BOTO3,
    CALL_SITES,
    HTTP_CLIENTS,
    HTTP_FUNCTIONS,
    HTTP_METHODS,
    KAFKA_CONSUMERS,
    KAFKA_PRODUCERS,
    SERVICER,
    SQLALCHEMY_ENGINES,
    Resource,
    literal,
    params_bucket,
    symmetric_jwt,
)
from compliance.threatmodel.detect.context import (
    ServiceScan,
    is_secret_name,
    looks_like_secret_value,
)
from compliance.threatmodel.detect.tables import Spec, lookup_module
from compliance.threatmodel.detect.values import (
    UNKNOWN,
    Resolver,
    Scope,
    argument,
    is_false,
    keyword,
    last_segment,
    url_parts,
)
from compliance.threatmodel.facts import FactKind, FactLocation


@dataclass
class Client:
    """An SDK or HTTP client object assigned to a name in the module."""

    kind: str
    location: FactLocation
    service: str = ""
    tls_off: bool = False
    base_url: str | None = None
    #: A resource-specific fact was recorded through it (else a generic one is, at the end).
    used: bool = False


@dataclass
class CallScanner:
    scan: ServiceScan
    path: str
    resolver: Resolver
    clients: dict[str, Client] = field(default_factory=dict)
    _made: dict[int, Client] = field(default_factory=dict)

    def at(self, node: ast.AST) -> FactLocation:
        return FactLocation(self.path, getattr(node, "lineno", None))

    # --- clients -------------------------------------------------------------------------

    def client_of(self, value: ast.expr, scope: Scope) -> Client | None:
        """The client a constructor call makes (memoised: one object per call site)."""
        if not isinstance(value, ast.Call):
            return None
        if id(value) in self._made:
            return self._made[id(value)]
        name = self.resolver.qualified(value.func) or ""
        client: Client | None = None
        attr = value.func.attr if isinstance(value.func, ast.Attribute) else ""
        boto3 = name in ("boto3.client", "boto3.resource") or (
            attr in ("client", "resource") and "boto3" in self.resolver.imports.values()
        )
        service = self.resolver.text(argument(value, 0, "service_name")) if boto3 else None
        if service in BOTO3:
            client = Client("boto3", self.at(value), service=service)
        elif name in HTTP_CLIENTS:
            base = keyword(value, "base_url")
            client = Client(
                "http",
                self.at(value),
                tls_off=is_false(keyword(value, "verify")),
                base_url=self.resolver.partial(base, scope) if base is not None else None,
            )
        elif name in KAFKA_PRODUCERS:
            client = Client("kafka-producer", self.at(value))
        elif name in KAFKA_CONSUMERS:
            client = Client("kafka-consumer", self.at(value))
        elif name.startswith("google.cloud.pubsub") and name.endswith("PublisherClient"):
            client = Client("pubsub-publisher", self.at(value))
        elif name.startswith("google.cloud.pubsub") and name.endswith("SubscriberClient"):
            client = Client("pubsub-subscriber", self.at(value))
        elif name == "celery.Celery":
            client = Client("celery", self.at(value))
        if client is not None:
            self._made[id(value)] = client
        return client

    def _receiver(self, func: ast.expr, scope: Scope) -> Client | None:
        if not isinstance(func, ast.Attribute):
            return None
        return self._owner_client(func.value, scope)

    def _owner_client(self, owner: ast.expr, scope: Scope) -> Client | None:
        """The client an expression (`s3`, `self._http`, `boto3.client("s3")`) stands for."""
        if isinstance(owner, ast.Call):
            return self.client_of(owner, scope)
        key = None
        if isinstance(owner, ast.Name):
            key = owner.id
        elif isinstance(owner, ast.Attribute) and isinstance(owner.value, ast.Name):
            key = f"{owner.value.id}.{owner.attr}"
        return self.clients.get(key) if key else None

    # --- calls ---------------------------------------------------------------------------

    def call(self, node: ast.Call, name: str | None, scope: Scope) -> None:
        self.client_of(node, scope)
        self._secret_keywords(node)
        self.env_read(node)
        client = self._receiver(node.func, scope)
        if client is not None and isinstance(node.func, ast.Attribute):
            self._client_call(client, node.func.attr, node, scope)
        func_name = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        if isinstance(node.func, ast.Name):
            func_name = node.func.id
        servicer = SERVICER.match(func_name)
        if servicer:
            self.grpc_service(servicer.group(1), self.at(node))
        if func_name in ("basic_publish", "basic_consume", "basic_get"):
            role = "messaging:publish" if func_name == "basic_publish" else "messaging:consume"
            self.scan.facts.tag(tables.RABBITMQ.fact_id, role, location=self.at(node))
        if name is None:
            return
        if name in HTTP_FUNCTIONS:
            url = argument(node, HTTP_FUNCTIONS[name], "url")
            self.scan.outbound(
                self.resolver.partial(url, scope) if url is not None else None,
                self.at(node),
                tls_off=is_false(keyword(node, "verify")),
            )
        elif name in ("grpc.insecure_channel", "grpc.aio.insecure_channel"):
            self._grpc_channel(node, scope, plaintext=True)
        elif name in ("grpc.secure_channel", "grpc.aio.secure_channel"):
            self._grpc_channel(node, scope, plaintext=False)
        elif name in SQLALCHEMY_ENGINES:
            engine_url = self.resolver.partial(argument(node, 0, "url"), scope)
            if engine_url is None or not self.scan.connection_url(engine_url, self.at(node)):
                self.scan.spec(tables.SQL_GENERIC, self.at(node))
        elif name in KAFKA_CONSUMERS:
            for arg in node.args:
                self._topic(tables.KAFKA, "Kafka topic", arg, "messaging:consume", node, scope)
        self._library_call(name, node)

    def _library_call(self, name: str, node: ast.Call) -> None:
        spec = lookup_module(name)
        last = name.rsplit(".", 1)[-1]
        if spec is None or last.endswith(("Error", "Exception")):
            return
        if spec.kind is FactKind.FRAMEWORK and last not in APP_CLASSES:
            return
        if last[:1].isupper() or last in CALL_SITES:
            self.scan.spec(spec, self.at(node))
        if spec is tables.JWT and last in ("encode", "decode") and symmetric_jwt(node):
            self.scan.facts.tag(tables.JWT.fact_id, "auth:jwt-symmetric")

    def _client_call(self, client: Client, method: str, node: ast.Call, scope: Scope) -> None:
        location = self.at(node)
        match client.kind:
            case "http" if method in HTTP_METHODS:
                url_node = argument(node, HTTP_METHODS[method], "url")
                url = self.resolver.partial(url_node, scope) if url_node is not None else None
                if url is not None and "://" not in url.split(UNKNOWN, 1)[0] and client.base_url:
                    url = client.base_url + url
                elif url is None and client.base_url:
                    url = client.base_url + UNKNOWN
                tls_off = client.tls_off or is_false(keyword(node, "verify"))
                self.scan.outbound(url, location, tls_off=tls_off)
                if client.location != location:
                    self.scan.facts.tag(_last_outbound(self.scan, url), location=client.location)
            case "boto3":
                self._boto3_call(client, method, node, scope)
            case "kafka-producer" if method in ("send", "send_and_wait", "produce"):
                topic = argument(node, 0, "topic")
                self._topic(tables.KAFKA, "Kafka topic", topic, "messaging:publish", node, scope)
                client.used = True
            case "kafka-consumer" if method == "subscribe":
                topics = argument(node, 0, "topics")
                items = topics.elts if isinstance(topics, ast.List | ast.Tuple) else [topics]
                for item in items:
                    self._topic(tables.KAFKA, "Kafka topic", item, "messaging:consume", node, scope)
                client.used = True
            case "pubsub-publisher" if method == "publish":
                topic = argument(node, 0, "topic")
                self._topic(tables.PUBSUB, "Pub/Sub topic", topic, "messaging:publish", node, scope)
                client.used = True
            case "pubsub-subscriber" if method == "subscribe":
                sub = argument(node, 0, "subscription")
                self._topic(
                    tables.PUBSUB, "Pub/Sub subscription", sub, "messaging:consume", node, scope
                )
                client.used = True
            case _:
                pass

    def _boto3_call(self, client: Client, method: str, node: ast.Call, scope: Scope) -> None:
        family = BOTO3[client.service]
        location = self.at(node)
        if isinstance(family, Spec):
            names = []
            for key in ("TableName", "SecretId", "Name"):
                value = self.resolver.text(keyword(node, key), scope)
                if value:
                    names.append(value)
            if method == "Table" and node.args:
                names.append(self.resolver.text(node.args[0], scope) or "")
            self.scan.facts.add(
                family.fact_id,
                family.kind,
                family.summary,
                family.tags,
                client.location,
                names=names,
            )
            self.scan.facts.tag(family.fact_id, location=location)
            client.used = True
            return
        operation = family.operations.get(method)
        if operation is None:
            return
        role, key, position = operation
        target = keyword(node, key)
        if target is None and position >= 0 and position < len(node.args):
            target = node.args[position]
        if target is None and key == "Bucket":
            target = params_bucket(node)
        value = self.resolver.text(target, scope) if target is not None else None
        name = None
        if value:
            name = value if key in ("Bucket", "name", "QueueName") else last_segment(value)
        spec = family.spec
        tags = (*spec.tags, role) if role else spec.tags
        if name is None:
            if role:
                self.scan.facts.add(spec.fact_id, spec.kind, spec.summary, tags, location)
                self.scan.facts.tag(spec.fact_id, location=client.location)
                client.used = True
            return
        fact_id = f"{spec.fact_id}:{name}"
        self.scan.facts.add(fact_id, spec.kind, f"{family.noun} {name}", tags, location)
        self.scan.facts.tag(fact_id, location=client.location)
        client.used = True

    def _topic(
        self,
        spec: Spec,
        noun: str,
        node: ast.expr | None,
        role: str,
        call: ast.Call,
        scope: Scope,
    ) -> None:
        value = self._topic_name(node, scope)
        if value is None:
            self.scan.facts.add(
                spec.fact_id, spec.kind, spec.summary, (*spec.tags, role), self.at(call)
            )
            return
        self.scan.facts.add(
            f"{spec.fact_id}:{value}",
            spec.kind,
            f"{noun} {value}",
            (*spec.tags, role),
            self.at(call),
        )

    def _topic_name(self, node: ast.expr | None, scope: Scope) -> str | None:
        if node is None:
            return None
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in ("topic_path", "subscription_path")
            and len(node.args) >= 2
        ):
            return self.resolver.text(node.args[1], scope)
        if isinstance(node, ast.Name) and node.id in scope:
            return self._topic_name(scope[node.id], {})
        value = self.resolver.text(node, scope)
        if value and value.startswith("projects/"):
            return last_segment(value)
        return value

    def _grpc_channel(self, node: ast.Call, scope: Scope, *, plaintext: bool) -> None:
        target = self.resolver.partial(argument(node, 0, "target"), scope)
        url = f"grpc://{target}" if target is not None else None
        self.scan.outbound(url, self.at(node), protocol="gRPC", plaintext=plaintext)

    def grpc_service(self, name: str, location: FactLocation) -> None:
        self.scan.facts.add(
            f"rpc:grpc:{name}", FactKind.RPC, f"gRPC service {name}", ("grpc",), location
        )

    # --- secrets -------------------------------------------------------------------------

    def env_read(self, node: ast.expr) -> None:
        """A secret-named environment variable, and a literal default for it in the code."""
        name = self.resolver.env_name(node)
        if name is None or not is_secret_name(name):
            return
        location = self.at(node)
        self.scan.facts.add(
            "secrets:environment",
            FactKind.SECRETS,
            "Secrets read from environment variables",
            ("secrets", "secrets:environment"),
            location,
            names=[name],
        )
        if isinstance(node, ast.Call):
            default = node.args[1] if len(node.args) >= 2 else keyword(node, "default")
            if literal(default) and looks_like_secret_value(name, literal(default) or ""):
                self._hardcoded(f"{name} (default value)", location)

    def secret_assignment(self, key: str, value: ast.expr, location: FactLocation) -> None:
        name = key.rsplit(".", 1)[-1]
        text = literal(value)
        if text is not None and is_secret_name(name) and looks_like_secret_value(name, text):
            self._hardcoded(name, location)

    def _secret_keywords(self, node: ast.Call) -> None:
        for item in node.keywords:
            text = literal(item.value)
            if (
                item.arg
                and text is not None
                and is_secret_name(item.arg)
                and looks_like_secret_value(item.arg, text)
            ):
                self._hardcoded(item.arg, self.at(item.value))

    def dictionary(self, node: ast.Dict, scope: Scope) -> None:
        for key_node, value in zip(node.keys, node.values, strict=True):
            key = literal(key_node) if key_node is not None else None
            text = literal(value)
            if key is None or text is None:
                continue
            if key == "ENGINE" and text in tables.DJANGO_ENGINES:
                self.scan.spec(tables.DJANGO_ENGINES[text], self.at(value))
            elif is_secret_name(key) and looks_like_secret_value(key, text):
                self._hardcoded(key, self.at(value))

    def _hardcoded(self, name: str, location: FactLocation) -> None:
        self.scan.facts.add(
            "secrets:hardcoded",
            FactKind.SECRETS,
            "Secrets written into the code (values not shown)",
            ("secrets", "secrets:hardcoded"),
            location,
            names=[name],
        )

    # --- tasks and the end ---------------------------------------------------------------

    def task_decorator(self, decorator: ast.expr, func: ast.AST) -> None:
        target = decorator.func if isinstance(decorator, ast.Call) else decorator
        qualified = self.resolver.qualified(target) or ""
        celery_app = False
        if isinstance(target, ast.Attribute) and target.attr == "task":
            client = self._owner_client(target.value, {})
            celery_app = client is not None and client.kind == "celery"
        if celery_app or qualified == "celery.shared_task":
            self.scan.facts.add(
                tables.CELERY.fact_id,
                tables.CELERY.kind,
                tables.CELERY.summary,
                (*tables.CELERY.tags, "messaging:consume"),
                self.at(func),
            )

    def finish(self) -> None:
        """Clients whose calls named no resource still say the service uses the system."""
        for client in {id(c): c for c in (*self.clients.values(), *self._made.values())}.values():
            if client.used:
                continue
            family = BOTO3.get(client.service) if client.kind == "boto3" else None
            spec = family.spec if isinstance(family, Resource) else family
            if client.kind.startswith("kafka"):
                spec = tables.KAFKA
            elif client.kind.startswith("pubsub"):
                spec = tables.PUBSUB
            if spec is not None:
                self.scan.spec(spec, client.location)


def _last_outbound(scan: ServiceScan, url: str | None) -> str:
    """The id of the outbound fact a URL was recorded under (for the client's location)."""
    parts = url_parts(url) if url else None
    host = parts.host if parts else None
    if host is None:
        return "outbound:dynamic"
    label = host.split(".", 1)[0]
    service_id = f"outbound:service:{label}"
    return service_id if scan.facts.has(service_id) else f"outbound:{host}"
