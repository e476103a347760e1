"""Facts from a service's Python code, read with `ast` (never imported or run).

Imports say which frameworks, datastores, brokers, authentication and secret-manager
libraries a module uses; decorators and URL-conf calls give the HTTP routes; gRPC servicers
give the RPC services; calls give the clients (boto3, HTTP, Kafka, Pub/Sub), the resources
they touch (buckets, queues, topics), outbound hosts, and how secrets are read.
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import PurePosixPath

from compliance.threatmodel.detect.calls import CallScanner, Client
from compliance.threatmodel.detect.context import ServiceScan
from compliance.threatmodel.detect.tables import NAMED_KINDS, ROUTE_FRAMEWORKS, lookup_module
from compliance.threatmodel.detect.values import (
    FunctionScope,
    Resolver,
    Scope,
    assignments,
    keyword,
)
from compliance.threatmodel.facts import FactKind, FactLocation

_VERBS = ("get", "post", "put", "patch", "delete", "head", "options")
#: Nodes with nothing below them worth visiting.
_LEAVES = (ast.expr_context, ast.boolop, ast.operator, ast.unaryop, ast.cmpop, ast.alias)
_WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE", "ANY"})
_ROUTE_DECORATORS = frozenset({*_VERBS, "route", "api_route", "websocket", "websocket_route"})
_DJANGO_ROUTES = frozenset({"django.urls.path", "django.urls.re_path", "django.conf.urls.url"})


def is_test_file(path: str) -> bool:
    """Tests and generated protobuf modules describe no production behaviour."""
    pure = PurePosixPath(path)
    name = pure.name
    if any(part in ("tests", "test", "testing") for part in pure.parts[:-1]):
        return True
    if name.startswith("test_") or name.endswith(("_test.py", "_pb2.py", "_pb2_grpc.py")):
        return True
    return name == "conftest.py"


def scan_python(scan: ServiceScan, path: str, source: str) -> str | None:
    """Record the facts of one module; returns why it was skipped, if it was."""
    try:
        tree = ast.parse(source, filename=path)
    except (SyntaxError, ValueError) as exc:
        return f"not parsed for the threat model: {exc.__class__.__name__}: {exc}"
    statements = _import_statements(tree)
    resolver = Resolver(assignments(tree.body), _imports(statements))
    module = _Module(scan, path, resolver, CallScanner(scan, path, resolver))
    module.record_imports(statements)
    module.walk(tree.body, scope={})
    module.finish()
    return None


def _import_statements(tree: ast.Module) -> list[ast.Import | ast.ImportFrom]:
    """Every import statement, wherever it is (a function, a try block), walking statements
    only: expressions cannot hold imports."""
    found: list[ast.Import | ast.ImportFrom] = []
    stack: list[ast.AST] = list(tree.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.Import | ast.ImportFrom):
            found.append(node)
            continue
        for name in ("body", "orelse", "finalbody", "handlers", "cases"):
            children = getattr(node, name, None)
            if isinstance(children, list):
                stack.extend(children)
    return sorted(found, key=lambda n: (n.lineno, n.col_offset))


def _imports(statements: list[ast.Import | ast.ImportFrom]) -> dict[str, str]:
    found: dict[str, str] = {}
    for node in statements:
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.asname:
                    found[alias.asname] = alias.name
                else:
                    root = alias.name.split(".", 1)[0]
                    found[root] = root
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            for alias in node.names:
                found[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return found


@dataclass
class _Module:
    scan: ServiceScan
    path: str
    resolver: Resolver
    calls: CallScanner
    #: Route prefixes of blueprints and routers: variable -> prefix.
    prefixes: dict[str, str] = field(default_factory=dict)
    frameworks: list[str] = field(default_factory=list)
    routes: list[tuple[str, bool]] = field(default_factory=list)

    def at(self, node: ast.AST) -> FactLocation:
        return FactLocation(self.path, getattr(node, "lineno", None))

    def record_imports(self, statements: list[ast.Import | ast.ImportFrom]) -> None:
        for node in statements:
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [f"{node.module}.{alias.name}" for alias in node.names]
            for dotted in names:
                root = dotted.split(".", 1)[0]
                if root in ROUTE_FRAMEWORKS and ROUTE_FRAMEWORKS[root] not in self.frameworks:
                    self.frameworks.append(ROUTE_FRAMEWORKS[root])
                spec = lookup_module(dotted)
                if spec is not None and spec.kind in NAMED_KINDS:
                    self.scan.spec(spec, self.at(node), names=(_module_name(dotted),))
                elif spec is not None:
                    self.scan.spec(spec, self.at(node))

    def walk(self, body: list[ast.stmt], scope: Scope) -> None:
        for statement in body:
            self.visit(statement, scope)

    def visit(self, node: ast.AST, scope: Scope) -> None:
        # A name (and its load/store context) holds nothing we record: most nodes are names,
        # so this test first halves the visits of a large repository.
        if type(node) is ast.Name or isinstance(node, _LEAVES):
            return
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            for decorator in node.decorator_list:
                self._decorator(decorator, node, scope)
            arguments = node.args
            positional = [*arguments.posonlyargs, *arguments.args]
            defaults = list(
                zip(
                    positional[len(positional) - len(arguments.defaults) :],
                    arguments.defaults,
                    strict=True,
                )
            )
            defaults += [
                (a, d)
                for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
                if d is not None
            ]
            for arg, default in defaults:
                self.calls.secret_assignment(arg.arg, default, self.at(default))
                self.visit(default, scope)
            self.walk(node.body, FunctionScope(node, scope))
            return
        if isinstance(node, ast.ClassDef):
            self._class(node)
            for decorator in node.decorator_list:
                self.visit(decorator, scope)
            self.walk(node.body, scope)
            return
        if isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None:
            targets: list[ast.expr] = (
                list(node.targets) if isinstance(node, ast.Assign) else [node.target]
            )
            self._assignment(targets, node.value, scope)
        elif isinstance(node, ast.With | ast.AsyncWith):
            for item in node.items:
                if item.optional_vars is not None:
                    self._assignment([item.optional_vars], item.context_expr, scope)
        if isinstance(node, ast.Call):
            self._call(node, scope)
        elif isinstance(node, ast.Subscript):
            self.calls.env_read(node)
        elif isinstance(node, ast.Constant):
            if isinstance(node.value, str):
                self._literal(node)
            return
        elif isinstance(node, ast.Dict):
            self.calls.dictionary(node, scope)
        for child in ast.iter_child_nodes(node):
            if type(child) is not ast.Name and not isinstance(child, _LEAVES):
                self.visit(child, scope)

    def _assignment(self, targets: list[ast.expr], value: ast.expr, scope: Scope) -> None:
        for target in targets:
            key = _target_key(target)
            if key is None:
                continue
            self.calls.secret_assignment(key, value, self.at(value))
            client = self.calls.client_of(value, scope)
            if client is not None:
                self.calls.clients[key] = client
            if isinstance(value, ast.Call):
                prefix = self._router_prefix(value, scope)
                if prefix is not None:
                    self.prefixes[key] = prefix

    def _router_prefix(self, call: ast.Call, scope: Scope) -> str | None:
        name = self.resolver.qualified(call.func) or ""
        if name.endswith((".Blueprint", ".APIRouter")):
            for keyword in call.keywords:
                if keyword.arg in ("url_prefix", "prefix"):
                    return self.resolver.text(keyword.value, scope) or ""
            return ""
        return None

    def _literal(self, node: ast.Constant) -> None:
        assert isinstance(node.value, str)
        value = node.value
        if "://" in value and self.scan.connection_url(value, self.at(node)):
            return
        self.scan.refs.literal(value, self.at(node))

    def _call(self, node: ast.Call, scope: Scope) -> None:
        name = self.resolver.qualified(node.func)
        attr = node.func.attr if isinstance(node.func, ast.Attribute) else ""
        if name in _DJANGO_ROUTES:
            self._registered_route(name or "", node, scope)
        elif name and name.startswith("aiohttp.web.") and attr in _VERBS and node.args:
            self._registered_route(name, node, scope)
        elif _route_method(attr) and {"aiohttp", "falcon"} & set(self.frameworks):
            self._registered_route(attr, node, scope)
        elif attr == "add_url_rule" and "flask" in self.frameworks and node.args:
            path = self.resolver.text(node.args[0], scope)
            if path is not None:
                methods = self._methods(node) or ["GET"]
                handler = _handler_name(keyword(node, "view_func") or _arg(node, 2))
                self._route(methods, path, handler, node)
        self.calls.call(node, name, scope)

    def _decorator(
        self,
        decorator: ast.expr,
        func: ast.FunctionDef | ast.AsyncFunctionDef,
        scope: Scope,
    ) -> None:
        self.calls.task_decorator(decorator, func)
        if not (
            isinstance(decorator, ast.Call)
            and isinstance(decorator.func, ast.Attribute)
            and decorator.func.attr in _ROUTE_DECORATORS
            and self.frameworks
        ):
            if isinstance(decorator, ast.Call):
                self.visit(decorator, scope)
            return
        method = decorator.func.attr
        first = decorator.args[0] if decorator.args else None
        for item in decorator.keywords:
            if item.arg in ("path", "rule", "uri"):
                first = item.value
        path = self.resolver.text(first, scope) if first is not None else None
        if path is None or not (path.startswith("/") or path == ""):
            return
        receiver = _target_key(decorator.func.value) or ""
        prefix = self.prefixes.get(receiver, "")
        if method in ("route", "api_route"):
            methods = self._methods(decorator) or ["GET"]
        elif method.startswith("websocket"):
            methods = ["WS"]
        else:
            methods = [method.upper()]
        self._route(methods, (prefix + path) or "/", func.name, decorator)

    def _methods(self, decorator: ast.Call) -> list[str]:
        for item in decorator.keywords:
            if item.arg == "methods" and isinstance(item.value, ast.List | ast.Tuple):
                values = [self.resolver.text(e) for e in item.value.elts]
                return sorted({v.upper() for v in values if v})
        return []

    def _registered_route(self, name: str, node: ast.Call, scope: Scope) -> None:
        """`path("orders/", view)` (Django), `add_route("/x", Resource())` (Falcon), aiohttp's
        `web.get("/x", handler)` and `router.add_get("/x", handler)`."""
        last = name.rsplit(".", 1)[-1]
        method = "ANY"
        path_node = node.args[0] if node.args else None
        if last == "add_route" and "aiohttp" in self.frameworks and len(node.args) >= 2:
            method = (self.resolver.text(node.args[0]) or "ANY").upper()
            path_node = node.args[1]
        elif last.startswith("add_") and last[4:] in _VERBS:
            method = last[4:].upper()
        elif last in _VERBS:
            method = last.upper()
        path = self.resolver.text(path_node, scope) if path_node is not None else None
        if path is None:
            return
        if name in _DJANGO_ROUTES:
            path = "/" + path.lstrip("^/")
        handler = _handler_name(node.args[1] if len(node.args) > 1 else None)
        self._route([method], path, handler, node)

    def _route(self, methods: list[str], path: str, handler: str, node: ast.AST) -> None:
        label = ",".join(methods)
        self.scan.facts.add(
            f"route:{label} {path}",
            FactKind.ROUTE,
            f"{label} {path} -> {handler}",
            (),
            self.at(node),
        )
        self.routes.append((path, bool(_WRITE_METHODS.intersection(methods))))

    def _class(self, node: ast.ClassDef) -> None:
        for base in node.bases:
            name = base.attr if isinstance(base, ast.Attribute) else getattr(base, "id", "")
            if name.endswith("Servicer") and len(name) > len("Servicer"):
                self.calls.grpc_service(name.removesuffix("Servicer"), self.at(node))

    def finish(self) -> None:
        self.calls.finish()
        if not self.routes:
            return
        tags = ["http:route"]
        if any(write for _, write in self.routes):
            tags.append("http:write-route")
        for framework in self.frameworks:
            self.scan.facts.tag(f"framework:{framework}", *tags)


def _module_name(dotted: str) -> str:
    """`psycopg2.extras` -> `psycopg2`; `from fastapi.security import X` -> `fastapi.security`."""
    parts = dotted.split(".")
    if len(parts) > 1 and parts[-1][:1].isupper():
        parts = parts[:-1]
    return ".".join(parts[:2]) if parts[0] in ("google", "azure", "django") else parts[0]


def _target_key(node: ast.expr) -> str | None:
    """`x` or `self.x` as a key for clients and routers."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute) and isinstance(node.value, ast.Name):
        return f"{node.value.id}.{node.attr}"
    return None


def _route_method(attr: str) -> bool:
    """`add_route`, `add_get`, `add_post` ... (aiohttp's router, Falcon's app)."""
    return attr == "add_route" or (attr.startswith("add_") and attr[4:] in _VERBS)


def _arg(node: ast.Call, position: int) -> ast.expr | None:
    return node.args[position] if position < len(node.args) else None


def _handler_name(node: ast.expr | None) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    if isinstance(node, ast.Call):
        return _handler_name(node.func)
    return "handler"


__all__ = ["Client", "is_test_file", "scan_python"]
