"""Static resolution of string values in one Python module.

Enough to read the targets services really use: a literal, a module constant, a local
assigned once, `os.environ.get("X", "default")` (the default is what ships), an f-string or
`+` whose leading part is known. Anything else is unknown: a dynamic value, never a guess.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from urllib.parse import urlsplit

_MAX_DEPTH = 8
#: Stand-in for the unknown part of a partly resolved value.
UNKNOWN = "\x00"


def assignments(body: list[ast.stmt]) -> dict[str, ast.expr]:
    """Names assigned exactly once (plain `x = ...` or `x: T = ...`) directly in `body`."""
    seen: dict[str, ast.expr | None] = {}
    for node in body:
        targets: list[ast.expr] = []
        value: ast.expr | None = None
        if isinstance(node, ast.Assign):
            targets, value = node.targets, node.value
        elif isinstance(node, ast.AnnAssign) and node.value is not None:
            targets, value = [node.target], node.value
        for target in targets:
            if isinstance(target, ast.Name):
                seen[target.id] = None if target.id in seen else value
    return {name: value for name, value in seen.items() if value is not None}


#: Names visible where an expression is resolved: locals over module constants.
Scope = Mapping[str, ast.expr]


class FunctionScope(Mapping[str, ast.expr]):
    """A function's locals (assigned once) over its enclosing scope, computed on first use:
    most functions never need them."""

    def __init__(self, func: ast.FunctionDef | ast.AsyncFunctionDef, parent: Scope) -> None:
        self._func = func
        self._parent = parent
        self._names: dict[str, ast.expr] | None = None

    def _load(self) -> dict[str, ast.expr]:
        if self._names is None:
            self._names = {**self._parent, **function_assignments(self._func)}
        return self._names

    def __getitem__(self, key: str) -> ast.expr:
        return self._load()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._load())

    def __len__(self) -> int:
        return len(self._load())


def function_assignments(func: ast.FunctionDef | ast.AsyncFunctionDef) -> dict[str, ast.expr]:
    """Locals assigned exactly once anywhere in a function (not in nested functions)."""
    found: dict[str, ast.expr | None] = {}
    stack: list[ast.AST] = list(func.body)
    while stack:
        node = stack.pop()
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef | ast.Lambda):
            continue
        if isinstance(node, ast.Assign):
            for target in node.targets:
                if isinstance(target, ast.Name):
                    found[target.id] = None if target.id in found else node.value
        stack.extend(ast.iter_child_nodes(node))
    return {name: value for name, value in found.items() if value is not None}


@dataclass(frozen=True, slots=True)
class Resolver:
    """Resolves expressions of one module; `imports` maps local names to dotted names."""

    constants: dict[str, ast.expr]
    imports: dict[str, str]

    def qualified(self, node: ast.expr) -> str | None:
        """`a.b.c` with `a` replaced by what it was imported as; None if not from an import."""
        parts: list[str] = []
        while isinstance(node, ast.Attribute):
            parts.append(node.attr)
            node = node.value
        if not isinstance(node, ast.Name) or node.id not in self.imports:
            return None
        return ".".join([self.imports[node.id], *reversed(parts)])

    def text(self, node: ast.expr | None, scope: Scope | None = None) -> str | None:
        """The full string value, or None when any part of it is unknown."""
        value = self.partial(node, scope)
        return None if value is None or UNKNOWN in value else value

    def partial(
        self, node: ast.expr | None, scope: Scope | None = None, depth: int = 0
    ) -> str | None:
        """The value with unknown parts as UNKNOWN; None when nothing is known at all."""
        if node is None or depth > _MAX_DEPTH:
            return None
        scope = {} if scope is None else scope
        if isinstance(node, ast.Constant):
            return node.value if isinstance(node.value, str) else None
        if isinstance(node, ast.Name):
            target = scope.get(node.id)
            if target is None:
                target = self.constants.get(node.id)
                scope = {}
            return self.partial(target, scope, depth + 1) if target is not None else None
        if isinstance(node, ast.JoinedStr):
            pieces = []
            for value in node.values:
                if isinstance(value, ast.FormattedValue):
                    piece = self.partial(value.value, scope, depth + 1)
                    pieces.append(UNKNOWN if piece is None else piece)
                else:
                    pieces.append(self.partial(value, scope, depth + 1) or "")
            return _joined(pieces)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            left = self.partial(node.left, scope, depth + 1)
            right = self.partial(node.right, scope, depth + 1)
            return _joined([UNKNOWN if left is None else left, UNKNOWN if right is None else right])
        if isinstance(node, ast.Call):
            return self._call(node, scope, depth)
        return None

    def _call(self, node: ast.Call, scope: Scope, depth: int) -> str | None:
        name = self.qualified(node.func)
        if name in ("os.environ.get", "os.getenv") and len(node.args) >= 2:
            return self.partial(node.args[1], scope, depth + 1)
        if name in ("os.environ.get", "os.getenv"):
            default = keyword(node, "default")
            return self.partial(default, scope, depth + 1) if default is not None else None
        return None

    def env_name(self, node: ast.expr) -> str | None:
        """The variable a `os.environ.get("X")`, `os.getenv("X")` or `os.environ["X"]` reads."""
        if isinstance(node, ast.Call) and self.qualified(node.func) in (
            "os.environ.get",
            "os.getenv",
        ):
            first = node.args[0] if node.args else keyword(node, "key")
            return self.text(first) if first is not None else None
        if isinstance(node, ast.Subscript) and self.qualified(node.value) == "os.environ":
            return self.text(node.slice) if isinstance(node.slice, ast.expr) else None
        return None


def _joined(pieces: list[str]) -> str | None:
    text = "".join(pieces)
    if not text.replace(UNKNOWN, ""):
        return None
    return re.sub(f"{UNKNOWN}+", UNKNOWN, text)


def keyword(node: ast.Call, name: str) -> ast.expr | None:
    return next((k.value for k in node.keywords if k.arg == name), None)


def argument(node: ast.Call, position: int, name: str) -> ast.expr | None:
    """A call's argument by keyword, else by position."""
    found = keyword(node, name)
    if found is not None:
        return found
    if position < len(node.args) and not isinstance(node.args[position], ast.Starred):
        return node.args[position]
    return None


def is_false(node: ast.expr | None) -> bool:
    return isinstance(node, ast.Constant) and node.value is False


@dataclass(frozen=True, slots=True)
class UrlParts:
    scheme: str
    host: str | None
    path: str


def url_parts(value: str) -> UrlParts | None:
    """Scheme, host and path of a (possibly partly unknown) URL; None if it is not one."""
    if "://" not in value:
        return None
    known = value.split(UNKNOWN, 1)[0]
    scheme, _, rest = known.partition("://")
    if not re.fullmatch(r"[a-z][a-z0-9+.-]*", scheme.lower()):
        return None
    authority_end = len(rest)
    for stop in "/?#":
        index = rest.find(stop)
        if index != -1:
            authority_end = min(authority_end, index)
    complete_authority = authority_end < len(rest) or UNKNOWN not in value
    if not complete_authority or not rest[:authority_end]:
        return UrlParts(scheme.lower(), None, "")
    try:
        host = urlsplit(f"{scheme}://{rest[:authority_end]}").hostname
    except ValueError:
        host = None
    return UrlParts(scheme.lower(), host, rest[authority_end:])


def last_segment(url: str) -> str | None:
    """`https://sqs.../123/queue-name` -> `queue-name`; ARNs `arn:...:name` -> `name`."""
    if url.startswith("arn:"):
        return url.rsplit(":", 1)[-1] or None
    if UNKNOWN in url:
        return None
    segment = url.rstrip("/").rsplit("/", 1)[-1]
    return segment if segment and "://" not in segment and ":" not in segment else None
