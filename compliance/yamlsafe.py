"""YAML, safely and quickly: PyYAML's safe loader, in C when libyaml is available, with limits.

Every policy, catalogue, config, threat model and manifest we read goes through here. The C
loader is the same safe constructor (no object tags: `!!python/object/apply:...` is an
error, never executed) and parses the bundled catalogues about eight times faster, which a
pre-commit hook notices (0.35 s of a one-second re-scan otherwise).

A YAML file from a repository is untrusted, so three limits hold for every document:
- its size (`MAX_CHARS`), checked before parsing;
- aliases: a "billion laughs" file is a few lines of anchors that each reuse the previous
  one ten times. PyYAML builds it quickly (aliases share one object), but whatever walks the
  data afterwards (validation, JSON, a detector) sees 10**9 values. The parsed node graph is
  walked once, each node once, before anything is built from it: more than `MAX_ALIASES`
  alias references, more than `MAX_ALIAS_NODES` values added by expanding aliases, or an
  alias inside its own anchor is refused;
- nesting (`MAX_DEPTH`), so no constructor or consumer runs out of stack.

A refusal is a `LimitError`, a `yaml.MarkedYAMLError` with the line, so every caller that
reports bad YAML (a ConfigError naming the file and line, a skipped file) reports it too.
Loaders with constructors of their own (line numbers, CloudFormation tags) subclass
`SAFE_LOADER` and pass themselves as `loader`.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import yaml

#: The safe loader, libyaml's when PyYAML was built with it.
SAFE_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: The largest document read, in characters (bytes when given bytes).
MAX_CHARS = 8 * 1024 * 1024
#: Alias references (`*name`) per document.
MAX_ALIASES = 1_000
#: Values that expanding the aliases of one document adds to it.
MAX_ALIAS_NODES = 100_000
#: Nesting of collections.
MAX_DEPTH = 128


class LimitError(yaml.MarkedYAMLError):
    """A document refused by one of the limits (never parsed any further)."""

    def __init__(self, problem: str, mark: yaml.Mark | None = None) -> None:
        super().__init__(problem=problem, problem_mark=mark)


def safe_load(text: str | bytes, loader: Any = SAFE_LOADER) -> Any:
    """One document (raises yaml.YAMLError, with a mark, on bad YAML or a limit)."""
    _check_size(text)
    parser = loader(text)
    try:
        node = parser.get_single_node()
        if node is None:
            return None
        check_node(node, aliases_possible=_has_anchor(text))
        return _construct(parser, node)
    except RecursionError:
        raise LimitError(f"nested too deeply (more than {MAX_DEPTH} levels)") from None
    finally:
        parser.dispose()


def safe_load_all(text: str | bytes, loader: Any = SAFE_LOADER) -> Iterator[Any]:
    """Every document of a stream, each checked before it is built."""
    _check_size(text)
    parser = loader(text)
    anchors = _has_anchor(text)
    try:
        while parser.check_node():
            node = parser.get_node()
            check_node(node, aliases_possible=anchors)
            yield _construct(parser, node)
    except RecursionError:
        raise LimitError(f"nested too deeply (more than {MAX_DEPTH} levels)") from None
    finally:
        parser.dispose()


def check_aliases(text: str | bytes) -> None:
    """Apply the limits to every document of `text` that could hold an alias, building
    nothing: LimitError. Before a file is handed to a tool that parses YAML on its own
    (checkov would spend minutes and gigabytes on a billion laughs). A text without an
    anchor costs one substring search; other YAML errors are left to the tools to report.
    """
    _check_size(text)
    if not _has_anchor(text):
        return
    parser = SAFE_LOADER(text)
    try:
        while parser.check_node():
            check_node(parser.get_node())
    except LimitError:
        raise
    except yaml.YAMLError:
        return
    finally:
        parser.dispose()


def _construct(parser: Any, node: yaml.Node) -> Any:
    """The document's value. PyYAML's constructors raise plain Python errors on scalars
    they match but cannot build (`0000-01-01`, `2026-02-30`, an integer of more than
    4,300 digits, `!!timestamp x`): those become a ConstructorError like any bad YAML."""
    try:
        return parser.construct_document(node)
    except (ValueError, TypeError, AttributeError, OverflowError) as exc:
        raise yaml.constructor.ConstructorError(
            problem=f"a value that cannot be read: {exc}", problem_mark=node.start_mark
        ) from None


def _has_anchor(text: str | bytes) -> bool:
    return ("&" in text) if isinstance(text, str) else (b"&" in text)


def _check_size(text: str | bytes) -> None:
    if len(text) > MAX_CHARS:
        size = len(text) / (1024 * 1024)
        limit = MAX_CHARS // (1024 * 1024)
        raise LimitError(f"the document is {size:.1f} MiB, larger than the {limit} MiB limit")


def check_node(root: yaml.Node, *, aliases_possible: bool = True) -> None:
    """Refuse a composed document that nests too deeply or whose aliases expand too far.

    Without an anchor (`&`) in the text there can be no alias, and only the nesting of
    collections is checked (a few per cent of the parse time). Otherwise one iterative walk
    visits each node once: a node met again is an alias reference, and a node's expanded
    size is its own plus its children's (aliases counted in full).
    """
    if not aliases_possible:
        _check_depth(root)
        return
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    aliases = 0
    stack: list[tuple[yaml.Node, yaml.Node | None, int, bool]] = [(root, None, 1, False)]
    while stack:
        node, parent, depth, done = stack.pop()
        key = id(node)
        children = _children(node)
        if done:
            on_path.discard(key)
            size = 1 + sum(sizes[id(child)] for child in children)
            sizes[key] = size
            if size - len(sizes) > MAX_ALIAS_NODES:
                raise LimitError(
                    f"aliases expand to more than {MAX_ALIAS_NODES:,} values "
                    "(a 'billion laughs' document?)",
                    node.start_mark,
                )
            continue
        if key in sizes or key in on_path:
            where = (parent or node).start_mark
            if key in on_path:
                raise LimitError("an alias refers to its own anchor (a recursive document)", where)
            aliases += 1
            if aliases > MAX_ALIASES:
                raise LimitError(f"more than {MAX_ALIASES:,} alias references", where)
            continue
        if depth > MAX_DEPTH:
            raise LimitError(f"nested too deeply (more than {MAX_DEPTH} levels)", node.start_mark)
        on_path.add(key)
        stack.append((node, parent, depth, True))
        stack.extend((child, node, depth + 1, False) for child in children)


def _check_depth(root: yaml.Node) -> None:
    stack = [(root, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            raise LimitError(f"nested too deeply (more than {MAX_DEPTH} levels)", node.start_mark)
        stack.extend(
            (child, depth + 1) for child in _children(node) if isinstance(child.value, list)
        )


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    if isinstance(node, yaml.MappingNode):
        return [item for pair in node.value for item in pair]
    return []
