"""Reading Terraform folders with python-hcl2 (no evaluation: blocks, attributes, lines).

Each folder is one Terraform module: its `.tf` files, and the variable files Terraform loads
by itself (`terraform.tfvars`, `*.auto.tfvars`, and their `.json` forms, in Terraform's
order). python-hcl2 wraps every attribute value in a one-element list and every nested block
in a list of mappings; `attribute()` and `blocks()` hide that.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Any

from hcl2.api import loads as hcl2_loads

from compliance.model import Skip

TOOL = "residency"
_LINE_KEYS = ("__start_line__", "__end_line__")


@dataclass(frozen=True, slots=True)
class Block:
    """A top-level block: `resource "type" "name"`, `provider "name"`, `module "name"` ..."""

    kind: str
    type: str
    name: str
    body: Mapping[str, Any]
    path: str
    line: int | None

    @property
    def where(self) -> str:
        return f"{self.path}:{self.line}" if self.line else self.path


@dataclass(frozen=True, slots=True)
class Local:
    value: Any
    path: str
    line: int | None


@dataclass(frozen=True, slots=True)
class VarValue:
    """A value a variable file sets, and which file."""

    value: Any
    source: str


@dataclass(frozen=True, slots=True)
class TfFolder:
    folder: str
    resources: tuple[Block, ...] = ()
    data: tuple[Block, ...] = ()
    providers: tuple[Block, ...] = ()
    modules: tuple[Block, ...] = ()
    variables: Mapping[str, Block] = field(default_factory=dict)
    locals: Mapping[str, Local] = field(default_factory=dict)
    #: What terraform.tfvars and *.auto.tfvars set (the later file wins, as in Terraform).
    tfvars: Mapping[str, VarValue] = field(default_factory=dict)
    #: Files that could not be read, with the reason.
    unreadable: tuple[tuple[str, str], ...] = ()

    def resource(self, type_: str, name: str) -> Block | None:
        return next((r for r in self.resources if r.type == type_ and r.name == name), None)


def attribute(body: Mapping[str, Any], name: str) -> Any:
    """An attribute's value (None when absent). A nested block is returned as its list."""
    value = body.get(name)
    if isinstance(value, list) and len(value) == 1 and not isinstance(value[0], dict):
        return value[0]
    if isinstance(value, list) and len(value) == 1 and name in _MAP_ATTRIBUTES:
        return value[0]
    return value


#: Attributes whose value is a map (python-hcl2 cannot tell them from a nested block).
_MAP_ATTRIBUTES = frozenset({"tags", "labels", "tags_all", "providers", "default_tags"})


def blocks(body: Mapping[str, Any], name: str) -> list[Mapping[str, Any]]:
    """The nested blocks called `name` (`replica { ... }` twice: two mappings)."""
    value = body.get(name)
    if isinstance(value, list):
        return [b for b in value if isinstance(b, dict)]
    if isinstance(value, dict):
        return [value]
    return []


def line_of(body: Mapping[str, Any]) -> int | None:
    line = body.get("__start_line__")
    return line if isinstance(line, int) else None


def load_folders(
    root: Path, terraform_files: Sequence[str], all_files: Sequence[str]
) -> tuple[dict[str, TfFolder], tuple[Skip, ...]]:
    """Every folder holding `.tf` files, parsed. Files that do not parse are skipped, with the
    reason, and listed on their folder (its placements cannot be complete)."""
    by_folder: dict[str, list[str]] = {}
    for rel in terraform_files:
        by_folder.setdefault(str(PurePosixPath(rel).parent), []).append(rel)
    var_files: dict[str, list[str]] = {}
    for rel in all_files:
        name = PurePosixPath(rel).name
        if name in ("terraform.tfvars", "terraform.tfvars.json") or name.endswith(
            (".auto.tfvars", ".auto.tfvars.json")
        ):
            var_files.setdefault(str(PurePosixPath(rel).parent), []).append(rel)
    folders: dict[str, TfFolder] = {}
    skipped: list[Skip] = []
    for folder, files in sorted(by_folder.items()):
        folders[folder] = _load_folder(root, folder, sorted(files), var_files.get(folder, []))
        skipped += [Skip(p, reason, tool=TOOL) for p, reason in folders[folder].unreadable]
    return folders, tuple(skipped)


def _load_folder(root: Path, folder: str, files: list[str], var_files: list[str]) -> TfFolder:
    resources: list[Block] = []
    data: list[Block] = []
    providers: list[Block] = []
    modules: list[Block] = []
    variables: dict[str, Block] = {}
    local_values: dict[str, Local] = {}
    unreadable: list[tuple[str, str]] = []
    for rel in files:
        if rel.endswith(".json"):
            unreadable.append((rel, "Terraform JSON syntax is not read by the residency check"))
            continue
        parsed = _parse(root / rel)
        if isinstance(parsed, str):
            unreadable.append((rel, f"Terraform file does not parse: {parsed}"))
            continue
        for kind, items in parsed.items():
            for item in items if isinstance(items, list) else []:
                if not isinstance(item, dict):
                    continue
                if kind == "locals":
                    line = line_of(item)
                    for key, value in item.items():
                        if key not in _LINE_KEYS:
                            local_values[key] = Local(_unwrap(value), rel, line)
                    continue
                for block in _blocks_of(kind, item, rel):
                    match kind:
                        case "resource":
                            resources.append(block)
                        case "data":
                            data.append(block)
                        case "provider":
                            providers.append(block)
                        case "module":
                            modules.append(block)
                        case "variable":
                            variables[block.name] = block
                        case _:
                            pass
    tfvars: dict[str, VarValue] = {}
    for rel in _terraform_order(var_files):
        values = _parse_var_file(root / rel)
        if isinstance(values, str):
            unreadable.append((rel, f"variable file does not parse: {values}"))
            continue
        for key, value in values.items():
            tfvars[key] = VarValue(value, rel)
    return TfFolder(
        folder=folder,
        resources=tuple(resources),
        data=tuple(data),
        providers=tuple(providers),
        modules=tuple(modules),
        variables=variables,
        locals=local_values,
        tfvars=tfvars,
        unreadable=tuple(unreadable),
    )


def _blocks_of(kind: str, item: Mapping[str, Any], rel: str) -> list[Block]:
    out = []
    if kind in ("resource", "data"):
        for type_, named in item.items():
            if isinstance(named, dict):
                for name, body in named.items():
                    if isinstance(body, dict):
                        out.append(Block(kind, type_, name, body, rel, line_of(body)))
    elif kind in ("provider", "module", "variable"):
        for name, body in item.items():
            if isinstance(body, dict):
                type_ = name if kind == "provider" else ""
                out.append(Block(kind, type_, name, body, rel, line_of(body)))
    return out


def _unwrap(value: Any) -> Any:
    if isinstance(value, list) and len(value) == 1:
        return value[0]
    return value


def _parse(path: Path) -> dict[str, Any] | str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot read: {exc}"
    try:
        parsed = hcl2_loads(text)
    except Exception as exc:
        return _first_line(exc)
    return parsed if isinstance(parsed, dict) else "not a Terraform document"


def _parse_var_file(path: Path) -> dict[str, Any] | str:
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return f"cannot read: {exc}"
    if path.name.endswith(".json"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            return exc.msg
        return data if isinstance(data, dict) else "not a JSON object"
    try:
        parsed = hcl2_loads(text)
    except Exception as exc:
        return _first_line(exc)
    return {k: _unwrap(v) for k, v in parsed.items() if k not in _LINE_KEYS}


def _terraform_order(files: list[str]) -> list[str]:
    """terraform.tfvars, terraform.tfvars.json, then *.auto.tfvars(.json) by name."""
    first = [f for f in files if PurePosixPath(f).name.startswith("terraform.tfvars")]
    auto = sorted((f for f in files if f not in first), key=lambda f: PurePosixPath(f).name)
    return sorted(first, key=lambda f: PurePosixPath(f).name) + auto


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0][:200] if text else type(exc).__name__
