"""Hostile inputs for the parsers, and the one property every fuzz test checks.

`expect_ours(target, call)` runs a parser on one input: it must return, or raise one of our
own error classes (`OURS`); anything else (KeyError, TypeError, RecursionError, ...) fails
the test, and hypothesis shrinks the input that caused it. Each call is counted per target
(`TRIED`), so benchmarks/fuzz.py can say how many inputs each parser was given.

Inputs come in three families:
- arbitrary values (`json_values`, `yaml_values`): recursive dicts, lists and scalars, with
  the keys the real documents use, so some get past the first shape check;
- mutations of a real document (`mutated`): a few keys deleted, renamed or replaced, values
  of another type, huge numbers, hostile strings, nesting;
- damaged bytes and text (`damaged`, `NASTY_BYTES`): truncated, invalid UTF-8, flipped
  bytes, a BOM, NUL, very deep nesting.
"""

from __future__ import annotations

import copy
import json
import math
from collections import Counter
from collections.abc import Callable, Iterable
from datetime import date, timezone
from pathlib import Path
from typing import Any, TypeVar

import yaml
from hypothesis import settings
from hypothesis import strategies as st

from compliance.errors import ComplianceError
from compliance.scanners.codec import CodecError
from compliance.scanners.pip_audit.advisory import AdvisoryError
from compliance.scanners.pip_audit.requirement import SourceError

from .nasty import NASTY_BYTES, NASTY_NUMBERS, NASTY_STRINGS, NASTY_TEXT, NASTY_VALUES

TESTS = Path(__file__).resolve().parents[1]
REPO = TESTS.parent
ASSETS = TESTS / "assets"

#: The errors a parser may raise: ComplianceError (ConfigError, ScannerFailure, UsageError,
#: EnvironmentFailure, ...), the codec's CodecError (cache miss, bad partial) and the two
#: per-file errors of the dependency audit that its callers turn into a skip or a failure:
#: SourceError (a dependency file) and AdvisoryError (an advisory file).
OURS: tuple[type[Exception], ...] = (ComplianceError, CodecError, SourceError, AdvisoryError)

#: Inputs tried per parser in this process, and how many it accepted (returned normally):
#: conftest.py writes them out for benchmarks/fuzz.py.
TRIED: Counter[str] = Counter()
ACCEPTED: Counter[str] = Counter()

T = TypeVar("T")


def fuzz_settings(scale: float = 1.0) -> settings:
    """The `fuzz` profile (conftest.py), with `scale` times its examples for a slow target."""
    profile = settings.get_profile("fuzz")
    return settings(profile, max_examples=max(5, round(profile.max_examples * scale)))


def expect_ours(target: str, call: Callable[[], T]) -> T | Exception:
    """`call()`'s value, or the error of ours it raised (its message must render too)."""
    TRIED[target] += 1
    try:
        value = call()
    except OURS as exc:
        if isinstance(exc, ComplianceError):
            assert all(isinstance(line, str) for line in exc.lines())
        assert str(exc)
        return exc
    if not isinstance(value, Exception):  # a parser that reports its error as a value
        ACCEPTED[target] += 1
    return value


# --- values ----------------------------------------------------------------------------------


def scalars(keys: Iterable[str] = ()) -> st.SearchStrategy[Any]:
    known = sorted(set(keys))
    text = st.text(max_size=40)
    if known:
        text = st.one_of(text, st.sampled_from(known))
    return st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        text,
        st.sampled_from(NASTY_VALUES).map(copy.deepcopy),
    )


def json_values(keys: Iterable[str] = (), max_leaves: int = 25) -> st.SearchStrategy[Any]:
    """Arbitrary JSON values; dict keys are drawn from `keys` (the real documents') or text."""
    known = sorted(set(keys))
    key = st.one_of(st.sampled_from(known), st.text(max_size=20)) if known else st.text()
    return st.recursive(
        scalars(known),
        lambda children: st.one_of(
            st.lists(children, max_size=6),
            st.dictionaries(key, children, max_size=6),
        ),
        max_leaves=max_leaves,
    )


def _yaml_safe(value: Any) -> bool:
    return not (isinstance(value, str) and any(0xD800 <= ord(c) <= 0xDFFF for c in value))


YAML_NASTY_VALUES = tuple(v for v in NASTY_VALUES if _yaml_safe(v))


def yaml_values(keys: Iterable[str] = (), max_leaves: int = 25) -> st.SearchStrategy[Any]:
    """Arbitrary values YAML can hold (dates included: policies expire)."""
    known = sorted(set(keys))
    text = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)
    key = st.one_of(st.sampled_from(known), text) if known else text
    leaf = st.one_of(
        st.none(),
        st.booleans(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        text,
        st.dates(min_value=date(1, 1, 1)),
        st.datetimes(timezones=st.just(timezone.utc)),
        st.sampled_from(YAML_NASTY_VALUES).map(copy.deepcopy),
        st.sampled_from(known) if known else text,
    )
    return st.recursive(
        leaf,
        lambda children: st.one_of(
            st.lists(children, max_size=6), st.dictionaries(key, children, max_size=6)
        ),
        max_leaves=max_leaves,
    )


def keys_of(*docs: Any) -> set[str]:
    """Every mapping key (and short string value) of `docs`: vocabulary for arbitrary values."""
    found: set[str] = set()
    stack = list(docs)
    while stack:
        node = stack.pop()
        if isinstance(node, dict):
            found.update(str(k) for k in node)
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
        elif isinstance(node, str) and len(node) <= 40:
            found.add(node)
    return found


def trimmed(doc: Any, items: int = 6) -> Any:
    """`doc` with every list cut to `items`: mutations land on something that matters."""
    if isinstance(doc, dict):
        return {k: trimmed(v, items) for k, v in doc.items()}
    if isinstance(doc, list):
        return [trimmed(v, items) for v in doc[:items]]
    return doc


# --- mutations of real documents -------------------------------------------------------------

#: "similar" first: hypothesis favours early choices, and a value of the right type gets
#: past strict validation, to the checks behind it.
_OPS = ("similar", "delete", "replace", "nasty", "retype", "duplicate", "add", "wrap", "stringify")


@st.composite
def mutated(
    draw: st.DrawFn,
    doc: Any,
    values: st.SearchStrategy[Any] | None = None,
    most: int = 4,
    nasty: tuple[Any, ...] = NASTY_VALUES,
) -> Any:
    """`doc` (not changed) with one to `most` mutations, each at a random place in it."""
    values = values if values is not None else json_values(max_leaves=8)
    root = [copy.deepcopy(doc)]
    for _ in range(draw(st.integers(1, most))):
        parent: Any = root
        key: Any = 0
        # Walk down: always into the document (arbitrary values stand in for a document
        # replaced whole), then three times in four into a child, so deep fields get their
        # turn (and hypothesis's favourite draw, 0, means "go on").
        while True:
            node = parent[key]
            go_on = parent is root or draw(st.integers(0, 3)) < 3
            if isinstance(node, dict | list) and node and go_on:
                keys = list(node) if isinstance(node, dict) else list(range(len(node)))
                parent, key = node, draw(st.sampled_from(keys))
                continue
            break
        op = draw(st.sampled_from(_OPS))
        if op == "delete" and parent is root:
            op = "nasty"  # the document itself cannot go: it becomes something else
        _mutate(draw, parent, key, op, values, nasty)
    return root[0]


def _mutate(
    draw: st.DrawFn,
    parent: Any,
    key: Any,
    op: str,
    values: st.SearchStrategy[Any],
    nasty: tuple[Any, ...],
) -> None:
    node = parent[key]
    if op == "similar":
        parent[key] = draw(_similar(node))
    elif op == "delete":
        del parent[key]
    elif op == "nasty":
        # A copy: later mutations must not change the shared constant (hypothesis would
        # see its strategies draw differently for the same input).
        parent[key] = copy.deepcopy(draw(st.sampled_from(nasty)))
    elif op == "retype":
        parent[key] = _retyped(node)
    elif op == "duplicate" and isinstance(node, list) and node:
        node.append(copy.deepcopy(node[draw(st.integers(0, len(node) - 1))]))
    elif op == "add" and isinstance(node, dict):
        name = draw(st.one_of(st.sampled_from(sorted(node) or [""]), st.text(max_size=12)))
        node[name] = draw(values)
    elif op == "wrap":
        parent[key] = draw(st.sampled_from([[node], {"value": node}, [node, node]]))
    elif op == "stringify":
        parent[key] = json.dumps(node, default=str) if not isinstance(node, str) else node * 3
    else:
        parent[key] = draw(values)


def _similar(value: Any) -> st.SearchStrategy[Any]:
    """Another value of the same type: a string for a string, a date for a date."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int):
        return st.one_of(st.integers(), st.sampled_from(NASTY_NUMBERS[:8]))
    if isinstance(value, float):
        return st.floats(allow_nan=True, allow_infinity=True)
    if isinstance(value, str):
        strings = [s for s in NASTY_STRINGS if _yaml_safe(s)]
        return st.one_of(st.text(max_size=30), st.sampled_from(strings), st.just(value * 2))
    if isinstance(value, date):
        return st.dates(min_value=date(1, 1, 1))
    if isinstance(value, list):
        return (
            st.permutations(value)
            .map(list)
            .flatmap(lambda items: st.integers(0, len(items)).map(lambda n: items[:n]))
        )
    return st.just(copy.deepcopy(value))


def _retyped(value: Any) -> Any:
    """The same information, as another JSON type (what a new tool version might print)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return {str(i): v for i, v in enumerate(value)}
    if isinstance(value, dict):
        return list(value.values())
    return 0


def dump_json(value: Any) -> bytes:
    """JSON as a tool prints it (NaN and Infinity as Python writes them)."""
    return json.dumps(value, allow_nan=True, default=str).encode("utf-8", "surrogatepass")


def dump_yaml(value: Any) -> str:
    return yaml.safe_dump(value, allow_unicode=True, sort_keys=False)


def toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "nan"
        return ("inf" if value > 0 else "-inf") if math.isinf(value) else repr(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, list):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{"
            + ", ".join(f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items())
            + "}"
        )
    if value is None:
        return '""'  # TOML has no null
    return json.dumps(str(value))


def dump_toml(doc: Any) -> str:
    """A TOML writer just good enough for tests: arrays of tables as `[[name]]`, tables as
    `[name]` holding inline values (the layout lock files use)."""
    if not isinstance(doc, dict):
        return f"value = {toml_value(doc)}\n"
    lines: list[str] = []
    later: list[str] = []
    for key, value in doc.items():
        name = json.dumps(str(key))
        if isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            for item in value:
                later.append(f"[[{name}]]")
                later += [f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in item.items()]
        elif isinstance(value, dict):
            later.append(f"[{name}]")
            later += [f"{json.dumps(str(k))} = {toml_value(v)}" for k, v in value.items()]
        else:
            lines.append(f"{name} = {toml_value(value)}")
    return "\n".join(lines + later) + "\n"


@st.composite
def damaged(draw: st.DrawFn, data: bytes) -> bytes:
    """`data` truncated, with a byte flipped, invalid UTF-8 or a BOM put in, or cut short."""
    if not data:
        return draw(st.binary(max_size=64))
    at = draw(st.integers(0, len(data) - 1))
    op = draw(st.sampled_from(("truncate", "flip", "invalid", "insert", "bom", "splice")))
    if op == "truncate":
        return data[:at]
    if op == "flip":
        return data[:at] + bytes([data[at] ^ (1 << draw(st.integers(0, 7)))]) + data[at + 1 :]
    if op == "invalid":
        return (
            data[:at]
            + draw(st.sampled_from([b"\xff", b"\xc3", b"\xed\xa0\x80", b"\x80"]))
            + data[at:]
        )
    if op == "insert":
        return data[:at] + draw(st.binary(min_size=1, max_size=16)) + data[at:]
    if op == "bom":
        return b"\xef\xbb\xbf" + data
    end = draw(st.integers(at, len(data)))
    return data[:at] + data[end:]


def documents(
    recordings: Iterable[Any], keys: Iterable[str] = (), most: int = 4
) -> st.SearchStrategy[bytes]:
    """Bytes a JSON-printing tool might give us: real documents mutated, then maybe damaged;
    arbitrary JSON; raw binary; and the nasty documents."""
    bases = [trimmed(doc) for doc in recordings]
    words = keys_of(*bases) | set(keys)
    values = json_values(words, max_leaves=8)
    real = st.sampled_from(bases).flatmap(lambda doc: mutated(doc, values, most)).map(dump_json)
    # Mostly real documents mutated: they get past the first checks, so the code behind
    # them is reached; the rest only has to be refused.
    return st.one_of(
        real,
        real,
        real,
        real.flatmap(damaged),
        json_values(words).map(dump_json),
        st.one_of(st.binary(max_size=200), st.sampled_from(NASTY_BYTES)),
    )


def texts(
    recordings: Iterable[Any], keys: Iterable[str] = (), most: int = 4
) -> st.SearchStrategy[str]:
    """YAML text one of our own files might hold: real files mutated (dumped again),
    arbitrary values, arbitrary text, and text damaged at the byte level."""
    bases = list(recordings)
    words = keys_of(*bases) | set(keys)
    values = yaml_values(words, max_leaves=8)
    real = (
        st.sampled_from(bases)
        .flatmap(lambda doc: mutated(doc, values, most, YAML_NASTY_VALUES))
        .map(dump_yaml)
    )
    return st.one_of(
        real,
        real,
        real,
        real.flatmap(lambda text: damaged(text.encode("utf-8"))).map(
            lambda data: data.decode("utf-8", "replace")
        ),
        yaml_values(words).map(dump_yaml),
        st.one_of(st.text(), st.sampled_from(NASTY_TEXT)),
    )
