"""Resolving Terraform values without evaluating Terraform.

What resolves: literals; `var.x` (the caller's module input, else `*.auto.tfvars` /
`terraform.tfvars`, else the variable's default); `local.x`; another resource's `location` or
`region` (`azurerm_resource_group.main.location`); `data.aws_region.<name>.name` (the
provider's region); provider blocks and their aliases, including those a module call passes
down (`providers = { aws = aws.us }`) and the default ones a child module inherits.
Anything else (functions, conditionals, string templates, attributes known only after apply)
is `Unknown`, with the expression in the reason: the caller reports it as unresolved.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from compliance.residency.placement import Region, Resolved, Unresolved
from compliance.residency.terraform.load import Block, TfFolder, attribute, blocks

#: A whole-value reference: `${var.region}`, `${aws.us}`, `${azurerm_resource_group.main.location}`.
_REFERENCE = re.compile(r"^\$\{\s*([A-Za-z_][\w-]*(?:\.[A-Za-z_][\w-]*)*)\s*\}$")
_MAX_DEPTH = 12
#: Attributes another resource's placement may be read from.
PLACEMENT_ATTRIBUTES = frozenset({"location", "region"})


@dataclass(frozen=True, slots=True)
class Known:
    """A statically known value and where it came from (for the finding's provenance)."""

    value: Any
    source: str


@dataclass(frozen=True, slots=True)
class Unknown:
    reason: str


Value = Known | Unknown


def reference(raw: Any) -> list[str] | None:
    """The parts of a whole-value reference (`${aws.us}` -> ["aws", "us"]), else None."""
    if not isinstance(raw, str):
        return None
    match = _REFERENCE.match(raw.strip())
    return match.group(1).split(".") if match else None


def show(raw: Any) -> str:
    """An expression as the user wrote it (python-hcl2 wraps it in `${}`)."""
    text = str(raw)
    match = re.fullmatch(r"\$\{(.*)\}", text.strip(), re.DOTALL)
    return match.group(1) if match and "${" not in match.group(1) else text


@dataclass(frozen=True, slots=True)
class ProviderConfig:
    """A provider configuration in scope: its key (`aws`, `aws.us`) and its region."""

    key: str
    name: str
    region: Value
    #: Where the block is (or how it reached this module).
    origin: str
    default_tags: Mapping[str, Any] = field(default_factory=dict)


@dataclass
class Instance:
    """One instantiation of a module folder: the root, or a `module` call's child."""

    folder: TfFolder
    prefix: str
    inputs: Mapping[str, Value]
    providers: dict[str, ProviderConfig] = field(default_factory=dict)
    #: The call that made this instance (`module.eu` in infra/main.tf:12), None for a root.
    call: str | None = None

    def resolve(self, raw: Any, depth: int = 0) -> Value:
        """A raw python-hcl2 value, resolved as far as this module's scope allows."""
        if depth > _MAX_DEPTH:
            return Unknown(f"{show(raw)}: references nest too deeply")
        if isinstance(raw, str):
            if "${" not in raw:
                return Known(raw, "literal")
            parts = reference(raw)
            if parts is None:
                return Unknown(f"`{show(raw)}` is an expression, not a value")
            return self.reference(parts, depth)
        if raw is None:
            return Unknown("not set")
        return Known(raw, "literal")

    def reference(self, parts: list[str], depth: int) -> Value:
        head = parts[0]
        text = ".".join(parts)
        if head == "var" and len(parts) == 2:
            return self.variable(parts[1], depth)
        if head == "local" and len(parts) == 2:
            local = self.folder.locals.get(parts[1])
            if local is None:
                return Unknown(f"`{text}` is not defined")
            inner = self.resolve(local.value, depth + 1)
            where = f"{local.path}:{local.line}" if local.line else local.path
            return derived(inner, f"local.{parts[1]} ({where})")
        if head == "data" and len(parts) == 4 and parts[1] == "aws_region":
            if parts[3] not in ("name", "id", "region"):
                return Unknown(f"`{text}` is not a region")
            data = next(
                (d for d in self.folder.data if d.type == "aws_region" and d.name == parts[2]),
                None,
            )
            if data is None:
                return Unknown(f"`{text}` is not defined")
            explicit = attribute(data.body, "region") or attribute(data.body, "name")
            if explicit is not None:
                return derived(self.resolve(explicit, depth + 1), f"{text} ({data.where})")
            provider = self.provider_for(data)
            if provider is None:
                return Unknown(f"`{text}`: no aws provider configuration in this module")
            return derived(provider.region, f"{text}, the region of provider {provider.key}")
        if len(parts) == 3 and parts[2] in PLACEMENT_ATTRIBUTES:
            resource = self.folder.resource(parts[0], parts[1])
            if resource is not None:
                raw = attribute(resource.body, parts[2])
                if raw is not None:
                    inner = self.resolve(raw, depth + 1)
                    return derived(inner, f"{self.prefix}{parts[0]}.{parts[1]} ({resource.where})")
        return Unknown(f"`{text}` cannot be resolved statically")

    def variable(self, name: str, depth: int) -> Value:
        if name in self.inputs:
            return self.inputs[name]
        block = self.folder.variables.get(name)
        if block is None:
            return Unknown(f"variable `{name}` is not declared")
        if self.call is None and name in self.folder.tfvars:
            given = self.folder.tfvars[name]
            return Known(given.value, f"var.{name} in {given.source}")
        default = attribute(block.body, "default")
        if default is None and "default" in block.body:
            return Known(None, f"default of var.{name} ({block.where}) is null")
        if default is None:
            if self.call is not None:
                return Unknown(f"var.{name} has no default and {self.call} does not set it")
            return Unknown(
                f"var.{name} has no default and no value in terraform.tfvars or *.auto.tfvars: "
                "it is given at plan time"
            )
        inner = self.resolve(default, depth + 1)
        return derived(inner, f"default of var.{name} ({block.where})")

    def provider_key(self, block: Block) -> str:
        """The provider configuration a resource or data block uses: its `provider` argument,
        else the default configuration of its type's provider (`aws_s3_bucket` -> aws)."""
        explicit = reference(attribute(block.body, "provider"))
        if explicit:
            return ".".join(explicit)
        return block.type.split("_", 1)[0]

    def provider_for(self, block: Block) -> ProviderConfig | None:
        return self.providers.get(self.provider_key(block))


def derived(inner: Value, step: str) -> Value:
    """A value reached through `step` (a variable default, a local ...), with its chain."""
    match inner:
        case Known(value, "literal"):
            return Known(value, step)
        case Known(value, source):
            return Known(value, f"{step} <- {source}")
        case Unknown(reason):
            return Unknown(f"{step}: {reason}")
    raise AssertionError(inner)  # pragma: no cover


def provider_configs(instance: Instance, inherited: Mapping[str, ProviderConfig]) -> None:
    """Fill `instance.providers`: what the caller passes or the child inherits, then the
    module's own provider blocks (which win, as in Terraform)."""
    instance.providers.update(inherited)
    for block in instance.folder.providers:
        alias = attribute(block.body, "alias")
        key = f"{block.name}.{alias}" if isinstance(alias, str) and alias else block.name
        region_raw = attribute(block.body, "region")
        if region_raw is None and block.name in ("google", "google-beta"):
            region_raw = attribute(block.body, "zone")
        if region_raw is None:
            region: Value = Unknown(
                f"provider {key} ({block.where}) sets no region: it comes from the environment "
                "(AWS_REGION, the profile, gcloud's config) at run time"
            )
        else:
            region = derived(instance.resolve(region_raw), f"provider {key} ({block.where})")
        tags: Mapping[str, Any] = {}
        for default_tags in blocks(block.body, "default_tags"):
            value = attribute(default_tags, "tags")
            if isinstance(value, dict):
                tags = value
        instance.providers[key] = ProviderConfig(key, block.name, region, block.where, tags)


def passed_providers(call: Block, caller: Instance) -> dict[str, ProviderConfig]:
    """What a module call hands its child: the caller's default (unaliased) configurations,
    implicitly, and those its `providers = { ... }` map names."""
    out = {k: v for k, v in caller.providers.items() if "." not in k}
    mapping = attribute(call.body, "providers")
    if isinstance(mapping, dict):
        for child_key, value in mapping.items():
            parts = reference(value) or (value.split(".") if isinstance(value, str) else None)
            if not parts:
                continue
            given = caller.providers.get(".".join(parts))
            if given is not None:
                origin = f"{given.origin}, passed by module.{call.name} ({call.where})"
                out[str(child_key)] = ProviderConfig(
                    str(child_key), given.name, given.region, origin, given.default_tags
                )
    return out


def region_value(value: Value, via: str | None) -> Region:
    """A resolved value as a region: a string, with how it was reached (`via` the argument
    that holds it), or why it is not one."""
    match value:
        case Known(str() as text, "literal"):
            return Resolved(text, via or "literal")
        case Known(str() as text, source):
            return Resolved(text, f"{via} <- {source}" if via else source)
        case Known(other, _):
            return Unresolved(f"{via or 'the region'} is not a string: {other!r}")
        case Unknown(reason):
            return Unresolved(reason)
    raise AssertionError(value)  # pragma: no cover
