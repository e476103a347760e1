"""Reading YAML manifests and templates with the line of every mapping.

Kubernetes manifests, Helm values and CloudFormation templates are read with one safe loader
that remembers where each mapping starts (for the finding's location) and turns
CloudFormation's short-form tags (`!Ref x`, `!Sub ...`, `!GetAtt a.b`) into their long form
(`{"Ref": "x"}`, `{"Fn::Sub": ...}`), so a template reads the same in either form.
"""

from __future__ import annotations

import json
from typing import Any

import yaml

from compliance import yamlsafe

_Base: type[yaml.SafeLoader] = yamlsafe.SAFE_LOADER


class Mapping(dict[Any, Any]):
    """A YAML mapping that knows its first line (1-based)."""

    line: int | None = None


class _Loader(_Base):  # type: ignore[valid-type,misc]
    pass


def _mapping(loader: yaml.SafeLoader, node: yaml.MappingNode) -> Mapping:
    loader.flatten_mapping(node)
    out = Mapping(loader.construct_mapping(node, deep=True))
    out.line = node.start_mark.line + 1
    return out


def _intrinsic(loader: yaml.SafeLoader, suffix: str, node: yaml.Node) -> Any:
    """`!Ref x` -> {"Ref": x}; `!GetAtt a.b` -> {"Fn::GetAtt": ["a", "b"]};
    `!X v` -> {"Fn::X": v}."""
    value: Any
    if isinstance(node, yaml.ScalarNode):
        value = loader.construct_scalar(node)
    elif isinstance(node, yaml.SequenceNode):
        value = loader.construct_sequence(node, deep=True)
    else:
        value = loader.construct_mapping(node, deep=True)  # type: ignore[arg-type]
    if suffix == "Ref":
        return {"Ref": value}
    if suffix == "GetAtt" and isinstance(value, str):
        value = value.split(".", 1)
    return {f"Fn::{suffix}": value}


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)
_Loader.add_multi_constructor("!", _intrinsic)


def load_documents(text: str, *, json_text: bool = False) -> list[Any]:
    """Every document of a YAML stream (or one JSON document). Raises ValueError."""
    if json_text:
        try:
            return [json.loads(text)]
        except json.JSONDecodeError as exc:
            raise ValueError(f"invalid JSON: {exc.msg} (line {exc.lineno})") from None
    try:
        return list(yamlsafe.safe_load_all(text, loader=_Loader))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" (line {mark.line + 1})" if mark else ""
        raise ValueError(f"invalid YAML: {getattr(exc, 'problem', None) or exc}{where}") from None


def line_of(value: Any) -> int | None:
    return value.line if isinstance(value, Mapping) else None
