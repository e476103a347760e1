"""A service's data flow, from its facts: who reaches it, what it stores, what it calls.

One `DataFlow` (nodes and edges), drawn twice: as Mermaid for Markdown (GitHub renders it)
and as inline SVG for the self-contained HTML page (no script, no network). Sources of data
and requests sit left of the service, destinations right; nodes outside the organisation
(the internet, third parties, URLs chosen at run time) are marked external.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from compliance.threatmodel.facts import Fact, FactKind

#: Characters a Mermaid label keeps as they are; everything else becomes `#<code>;`.
_MERMAID_SAFE = re.compile(r"[A-Za-z0-9 ._,:/@()+*=-]")
_SHAPES = {
    "service": ('["', '"]'),
    "actor": ('(("', '"))'),
    "store": ('[("', '")]'),
    "queue": ('[/"', '"/]'),
    "external": ('(["', '"])'),
    "secret": ('{{"', '"}}'),
}


@dataclass(frozen=True, slots=True)
class Node:
    id: str
    label: str
    detail: str
    shape: str
    side: str  # left, center, right
    external: bool = False


@dataclass(frozen=True, slots=True)
class Edge:
    source: str
    target: str
    label: str = ""
    both: bool = False
    dashed: bool = False


@dataclass(frozen=True, slots=True)
class DataFlow:
    nodes: tuple[Node, ...]
    edges: tuple[Edge, ...]


def build_flow(service: str, facts: Sequence[Fact]) -> DataFlow:
    center = Node("svc", service, _service_detail(facts), "service", "center")
    nodes: list[Node] = [center]
    edges: list[Edge] = []

    def add(node: Node, edge: Edge) -> None:
        nodes.append(node)
        edges.append(edge)

    exposures = [
        f for f in facts if f.kind is FactKind.EXPOSURE and "datastore:public" not in f.tags
    ]
    scopes = {
        "exposure:internet": ("internet", "Internet", True),
        "exposure:node-port": ("nodes", "Node network", False),
        "exposure:private-network": ("private", "Private network", False),
    }
    for tag, (node_id, label, external) in scopes.items():
        through = [f for f in exposures if tag in f.tags]
        if through:
            detail = "; ".join(_short(f.summary) for f in through)
            add(
                Node(node_id, label, detail, "actor", "left", external),
                Edge(
                    node_id, "svc", "HTTPS" if "exposure:no-tls" not in _tags(through) else "HTTP"
                ),
            )
    inbound = any({"http:route", "grpc"} & f.tags for f in facts)
    if inbound and not exposures:
        add(
            Node(
                "callers", "Callers in the cluster", "no external exposure found", "actor", "left"
            ),
            Edge("callers", "svc", "requests"),
        )
    for index, fact in enumerate(f for f in facts if f.kind is not FactKind.ROUTE):
        node_id = f"n{index}"
        match fact.kind:
            case FactKind.DATASTORE:
                public = "datastore:public" in fact.tags
                label = fact.summary + (" (public)" if public else "")
                add(
                    Node(node_id, label, fact.detail or "", "store", "right", public),
                    Edge("svc", node_id, "read/write", both=True),
                )
            case FactKind.OBJECT_STORAGE | FactKind.MESSAGING:
                add(*_resource(node_id, fact))
            case FactKind.OUTBOUND:
                third = "outbound:third-party" in fact.tags or "outbound:dynamic-url" in fact.tags
                label = "no TLS check" if "outbound:tls-verify-off" in fact.tags else "calls"
                add(
                    Node(
                        node_id,
                        _outbound_label(fact),
                        fact.detail or "",
                        "external",
                        "right",
                        third,
                    ),
                    Edge("svc", node_id, label),
                )
            case FactKind.SECRETS if fact.tags & {"secrets:kubernetes", "secrets:manager"}:
                add(
                    Node(node_id, fact.summary, fact.detail or "", "secret", "left"),
                    Edge(node_id, "svc", "secrets", dashed=True),
                )
            case _:
                pass
    return DataFlow(tuple(nodes), tuple(edges))


def _resource(node_id: str, fact: Fact) -> tuple[Node, Edge]:
    reads = bool({"object-storage:read", "messaging:consume"} & fact.tags)
    writes = bool({"object-storage:write", "messaging:publish"} & fact.tags)
    shape = "store" if fact.kind is FactKind.OBJECT_STORAGE else "queue"
    if reads and not writes:
        verb = "consume" if fact.kind is FactKind.MESSAGING else "read"
        return Node(node_id, fact.summary, fact.detail or "", shape, "left"), Edge(
            node_id, "svc", verb
        )
    verb = "publish" if fact.kind is FactKind.MESSAGING else "write"
    both = reads or not writes
    return Node(node_id, fact.summary, fact.detail or "", shape, "right"), Edge(
        "svc", node_id, "read/write" if both else verb, both=both
    )


def _outbound_label(fact: Fact) -> str:
    if "outbound:dynamic-url" in fact.tags:
        return "Any URL (chosen at run time)"
    return fact.id.split(":", 1)[1].removeprefix("service:")


def _service_detail(facts: Sequence[Fact]) -> str:
    frameworks = [
        f.summary.removesuffix(" web application") for f in facts if f.kind is FactKind.FRAMEWORK
    ]
    auth = [f.id.split(":", 1)[1] for f in facts if f.kind is FactKind.AUTH]
    data = [f.id.split(":", 1)[1] for f in facts if f.kind is FactKind.DATA]
    parts = [
        ", ".join(frameworks),
        f"auth: {', '.join(auth)}" if auth else "",
        f"data: {', '.join(data)}" if data else "",
    ]
    return "; ".join(p for p in parts if p)


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tags(facts: Sequence[Fact]) -> frozenset[str]:
    return frozenset(t for f in facts for t in f.tags)


# --- Mermaid -------------------------------------------------------------------------------


def mermaid_text(text: str) -> str:
    """A label safe inside Mermaid's quotes and a Markdown code fence: every character
    outside a small safe set is written as a Mermaid entity code (`#60;` for `<`)."""
    flat = " ".join(text.split())
    return "".join(c if _MERMAID_SAFE.fullmatch(c) else f"#{ord(c)};" for c in flat)


def render_mermaid(flow: DataFlow) -> str:
    lines = ["flowchart LR"]
    outside = [n for n in flow.nodes if n.external]
    for node in flow.nodes:
        if node.external:
            continue
        lines.append(f"  {_mermaid_node(node)}")
    if outside:
        lines.append('  subgraph outside["Outside the organisation"]')
        lines += [f"    {_mermaid_node(node)}" for node in outside]
        lines.append("  end")
    for edge in flow.edges:
        arrow = "-.->" if edge.dashed else ("<-->" if edge.both else "-->")
        label = f'|"{mermaid_text(edge.label)}"|' if edge.label else ""
        lines.append(f"  {edge.source} {arrow}{label} {edge.target}")
    lines.append("  classDef service fill:#dbeafe,stroke:#1d4ed8,stroke-width:2px")
    lines.append("  class svc service")
    return "\n".join(lines)


def _mermaid_node(node: Node) -> str:
    opening, closing = _SHAPES[node.shape]
    text = mermaid_text(node.label)
    if node.detail:
        text += "<br/>" + mermaid_text(_short(node.detail, 70))
    return f"{node.id}{opening}{text}{closing}"


# --- SVG geometry --------------------------------------------------------------------------

NODE_W = 240
NODE_H = 46
GAP = 16
COLUMNS = {"left": 20, "center": 340, "right": 710}
WIDTH = COLUMNS["right"] + NODE_W + 20


@dataclass(frozen=True, slots=True)
class Box:
    node: Node
    x: int
    y: int
    label: str
    detail: str


@dataclass(frozen=True, slots=True)
class Line:
    x1: int
    y1: int
    x2: int
    y2: int
    label: str
    both: bool
    dashed: bool


@dataclass(frozen=True, slots=True)
class Svg:
    width: int
    height: int
    boxes: tuple[Box, ...]
    lines: tuple[Line, ...]
    node_width: int = NODE_W
    node_height: int = NODE_H


def layout_svg(flow: DataFlow) -> Svg:
    """Positions for the SVG: three columns, the service in the middle."""
    columns: dict[str, list[Node]] = {"left": [], "center": [], "right": []}
    for node in flow.nodes:
        columns[node.side].append(node)
    rows = max(len(columns["left"]), len(columns["right"]), 1)
    height = rows * (NODE_H + GAP) + GAP
    boxes: dict[str, Box] = {}
    for side, nodes in columns.items():
        top = (height - len(nodes) * (NODE_H + GAP) + GAP) // 2
        for i, node in enumerate(nodes):
            boxes[node.id] = Box(
                node,
                COLUMNS[side],
                top + i * (NODE_H + GAP),
                _short(node.label, 30),
                _short(node.detail, 34),
            )
    lines = []
    for edge in flow.edges:
        source, target = boxes[edge.source], boxes[edge.target]
        left, right = (source, target) if source.x < target.x else (target, source)
        x1, x2 = left.x + NODE_W, right.x
        y1, y2 = left.y + NODE_H // 2, right.y + NODE_H // 2
        if source is right:  # keep the arrow pointing at the target
            x1, y1, x2, y2 = x2, y2, x1, y1
        lines.append(Line(x1, y1, x2, y2, edge.label, edge.both, edge.dashed))
    return Svg(WIDTH, height, tuple(boxes.values()), tuple(lines))
