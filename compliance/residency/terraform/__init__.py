"""Terraform: where every resource of every module instance puts its data.

Each folder of `.tf` files is a module. Folders no local `module` block calls are roots,
evaluated with their own variables (`terraform.tfvars`, `*.auto.tfvars`, defaults); a local
module call (`source = "./modules/bucket"`) evaluates the child folder with the inputs the call
sets and the providers it passes or lets the child inherit, under `module.<name>.` addresses.
A module from outside the repository (a registry or git source) cannot be read: its call is
placed where the provider or `region`/`location` input it is given says, or reported as
unresolved. Files that do not parse are unresolved too, never silently clean.
"""

from __future__ import annotations

import posixpath
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from compliance.model import Skip
from compliance.residency.placement import Placement, Resolved, Role, Unresolved
from compliance.residency.regions import Provider, RegionTables
from compliance.residency.terraform.load import Block, TfFolder, attribute, load_folders
from compliance.residency.terraform.resources import Reader, family
from compliance.residency.terraform.scope import (
    Instance,
    Known,
    Unknown,
    Value,
    derived,
    passed_providers,
    provider_configs,
)

#: Module-call arguments that are not inputs of the child module.
_META = frozenset({"source", "version", "providers", "count", "for_each", "depends_on"})
_MAX_NESTING = 8


@dataclass(frozen=True, slots=True)
class TerraformPlacements:
    placements: tuple[Placement, ...]
    skipped: tuple[Skip, ...]


def resolve_terraform(
    root: Path,
    terraform_files: Sequence[str],
    all_files: Sequence[str],
    tables: RegionTables,
    service_tag: str = "service",
) -> TerraformPlacements:
    """Every placement of the Terraform in `terraform_files` (repo-relative paths)."""
    folders, skipped = load_folders(root, terraform_files, all_files)
    called = {
        child
        for folder in folders.values()
        for call in folder.modules
        if (child := local_child(folder.folder, call)) in folders
    }
    out: list[Placement] = []
    for name, folder in folders.items():
        out += [
            Placement(
                address=path,
                role=Role.RESOURCE,
                provider=None,
                region=Unresolved(reason),
                path=path,
            )
            for path, reason in folder.unreadable
        ]
        if name in called:
            continue
        instance = Instance(folder, prefix="", inputs={})
        provider_configs(instance, {})
        _walk(instance, folders, (name,), tables, service_tag, out)
    unique = {(p.address, p.path, p.role, p.region): p for p in out}
    return TerraformPlacements(tuple(sorted(unique.values(), key=Placement.sort_key)), skipped)


def local_child(folder: str, call: Block) -> str | None:
    source = attribute(call.body, "source")
    if not isinstance(source, str) or not source.startswith(("./", "../")):
        return None
    joined = posixpath.normpath(posixpath.join(folder, source))
    return None if joined.startswith("..") else joined


def _walk(
    instance: Instance,
    folders: dict[str, TfFolder],
    chain: tuple[str, ...],
    tables: RegionTables,
    service_tag: str,
    out: list[Placement],
) -> None:
    out += Reader(instance, tables, service_tag).placements()
    for call in instance.folder.modules:
        child_name = local_child(instance.folder.folder, call)
        child = folders.get(child_name) if child_name else None
        if child is None or child.folder in chain or len(chain) > _MAX_NESTING:
            out += _opaque_module(instance, call)
            continue
        where = f"module.{call.name} ({call.where})"
        inputs: dict[str, Value] = {
            key: derived(instance.resolve(attribute(call.body, key)), f"input {key} of {where}")
            for key in call.body
            if key not in _META and not key.startswith("__")
        }
        nested = Instance(
            child,
            prefix=f"{instance.prefix}module.{call.name}.",
            inputs=inputs,
            call=f"{instance.prefix}module.{call.name}",
        )
        provider_configs(nested, passed_providers(call, instance))
        _walk(nested, folders, (*chain, child.folder), tables, service_tag, out)


def _opaque_module(instance: Instance, call: Block) -> list[Placement]:
    """A module whose source is not in the repository: placed by the region input it gets,
    else by the provider configurations it receives."""
    source = attribute(call.body, "source")
    address = f"{instance.prefix}module.{call.name}"
    note = f"module from {source!s}: its resources are not in this repository"
    providers = passed_providers(call, instance)
    clouds = {c for p in providers.values() if (c := family(p.name)) is not None}
    for key in ("region", "location"):
        raw = attribute(call.body, key)
        if raw is not None:
            value = instance.resolve(raw)
            cloud = next(iter(clouds)) if len(clouds) == 1 else None
            return [_module_placement(call, address, cloud, value, f"input `{key}`", note)]
    placements = [
        _module_placement(call, address, cloud, config.region, "", note)
        for config in providers.values()
        if (cloud := family(config.name)) is not None
    ]
    if placements:
        return placements
    return [
        _module_placement(
            call,
            address,
            None,
            Unknown("it is given no provider configuration and no region input"),
            "",
            note,
        )
    ]


def _module_placement(
    call: Block,
    address: str,
    cloud: Provider | None,
    value: Value,
    via: str,
    note: str,
) -> Placement:
    match value:
        case Known(str() as text, source):
            how = via if source == "literal" else f"{via} <- {source}" if via else source
            region: Resolved | Unresolved = Resolved(text, how)
        case Known(other, _):
            region = Unresolved(f"{via} is not a string: {other!r}")
        case Unknown(reason):
            region = Unresolved(reason)
    suffix = f"[{cloud.value}]" if cloud is not None and not via else ""
    return Placement(
        address=address + suffix,
        role=Role.RESOURCE,
        provider=cloud,
        region=region,
        path=call.path,
        line=call.line,
        note=note,
    )


__all__ = ["TerraformPlacements", "resolve_terraform"]
