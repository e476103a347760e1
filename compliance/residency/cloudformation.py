"""CloudFormation: the regions a template names, its stack sets, and its own stack's region.

A stack lands in the region it is deployed to, which a template does not say, unless it pins
it: a `Rules` assertion on `AWS::Region` (`Fn::Contains` of a list, or `Fn::Equals`), or a
`samconfig.toml`/`samconfig.yaml` beside it with a deploy `region`. Otherwise the stack's
region is reported as unresolved (the deploy decides it), never as compliant.

Inside a template: `AWS::CloudFormation::StackSet` deployment regions
(`StackInstancesGroup[].Regions`), DynamoDB global-table replicas, ECR replication and
Secrets Manager replica regions, any other property named `*Region`/`*Regions`, and literal
regional ARNs in `*Arn` properties (also inside `Fn::Sub`). CloudFront distributions and
Global Accelerators are global. A `Ref` to a parameter resolves to its `Default`; a
`Ref: AWS::Region` is the stack's own region; any other intrinsic is unresolved.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import Any

import yaml

from compliance import yamlsafe
from compliance.model import Skip
from compliance.residency.documents import line_of, load_documents
from compliance.residency.endpoints import arn_region
from compliance.residency.placement import Placement, Region, Resolved, Role, Unresolved
from compliance.residency.regions import GLOBAL, Provider

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

TOOL = "residency"
STACK = "(stack)"
_GLOBAL_TYPES = {
    "AWS::CloudFront::Distribution": "CloudFront serves cached data from edge locations worldwide",
    "AWS::GlobalAccelerator::Accelerator": "Global Accelerator routes traffic through edge "
    "locations worldwide",
}
#: Types that hold no data of their own; a template of only these has no stack to place.
_NOT_PLACED = re.compile(r"^(AWS::IAM::|AWS::CloudFormation::(Wait|StackSet|Macro)|Custom::)")
_REPLICA_PATHS = {
    "AWS::DynamoDB::GlobalTable": "DynamoDB global-table replica",
    "AWS::ECR::ReplicationConfiguration": "container images replicated",
    "AWS::SecretsManager::Secret": "secret replica",
}
_SUB_REGION = re.compile(r"arn:aws[a-z-]*:[a-z0-9-]+:([a-z]{2}(?:-gov)?-[a-z]+-\d+):")


@dataclass(frozen=True, slots=True)
class CloudFormationPlacements:
    placements: tuple[Placement, ...]
    skipped: tuple[Skip, ...]


def resolve_cloudformation(
    root: Path, templates: Sequence[str], all_files: Sequence[str], service_tag: str = "service"
) -> CloudFormationPlacements:
    placements: list[Placement] = []
    skipped: list[Skip] = []
    samconfigs = {
        str(PurePosixPath(f).parent): f
        for f in all_files
        if PurePosixPath(f).name in ("samconfig.toml", "samconfig.yaml", "samconfig.yml")
    }
    for rel in templates:
        try:
            text = (root / rel).read_text(encoding="utf-8")
            documents = load_documents(text, json_text=text.lstrip().startswith("{"))
        except (OSError, UnicodeDecodeError, ValueError) as exc:
            skipped.append(Skip(rel, f"template not read by the residency check: {exc}", TOOL))
            continue
        template = documents[0] if documents else None
        if not isinstance(template, dict) or not isinstance(template.get("Resources"), dict):
            continue
        sam = samconfigs.get(str(PurePosixPath(rel).parent))
        placements += _Template(template, rel, service_tag, text).placements(root, sam)
    return CloudFormationPlacements(
        tuple(sorted(placements, key=Placement.sort_key)), tuple(skipped)
    )


@dataclass
class _Template:
    body: dict[str, Any]
    path: str
    service_tag: str
    text: str = ""

    def line(self, logical_id: str, resource: dict[str, Any]) -> int | None:
        """The resource's line (YAML knows it; for JSON, the line naming it)."""
        known = line_of(resource)
        if known is not None:
            return known
        pattern = re.compile(rf'^\s*"?{re.escape(logical_id)}"?\s*:', re.MULTILINE)
        match = pattern.search(self.text)
        return self.text.count("\n", 0, match.start()) + 1 if match else None

    @property
    def parameters(self) -> Mapping[str, Any]:
        value = self.body.get("Parameters")
        return value if isinstance(value, dict) else {}

    def placements(self, root: Path, samconfig: str | None) -> Iterator[Placement]:
        resources = self.body["Resources"]
        if any(
            isinstance(r, dict) and not _NOT_PLACED.match(str(r.get("Type", "")))
            for r in resources.values()
        ):
            yield from self.stack(root, samconfig)
        for logical_id, resource in resources.items():
            if isinstance(resource, dict):
                yield from self.resource(str(logical_id), resource)

    # --- the stack's own region -----------------------------------------------------------

    def stack(self, root: Path, samconfig: str | None) -> Iterator[Placement]:
        pinned = self.pinned_regions()
        source = "Rules assertion on AWS::Region"
        if not pinned and samconfig is not None:
            pinned, source = _samconfig_regions(root / samconfig), f"deploy region in {samconfig}"
        if not pinned:
            yield Placement(
                STACK,
                Role.STACK,
                Provider.AWS,
                Unresolved(
                    "the stack's region is chosen when it is deployed: pin it with a Rules "
                    "assertion on AWS::Region (or a samconfig deploy region)"
                ),
                self.path,
                1,
            )
            return
        for i, region in enumerate(pinned):
            yield Placement(
                f"{STACK}[{i}]", Role.STACK, Provider.AWS, Resolved(region, source), self.path, 1
            )

    def pinned_regions(self) -> list[str]:
        rules = self.body.get("Rules")
        found: list[str] = []
        for node in _nodes(rules):
            if not isinstance(node, dict) or len(node) != 1:
                continue
            ((function, args),) = node.items()
            if not isinstance(args, list) or len(args) != 2:
                continue
            if function == "Fn::Contains" and _is_region_ref(args[1]) and isinstance(args[0], list):
                found += [str(v) for v in args[0] if isinstance(v, str)]
            elif function == "Fn::Equals" and any(_is_region_ref(a) for a in args):
                found += [str(a) for a in args if isinstance(a, str)]
        return sorted(set(found))

    # --- what a resource names ------------------------------------------------------------

    def resource(self, logical_id: str, resource: dict[str, Any]) -> Iterator[Placement]:
        type_ = str(resource.get("Type", ""))
        properties = resource.get("Properties")
        properties = properties if isinstance(properties, dict) else {}
        line = self.line(logical_id, resource)
        tag = self.service_of(properties)

        def place(suffix: str, role: Role, region: Region, note: str | None) -> Placement:
            return Placement(
                f"{logical_id}{suffix}", role, Provider.AWS, region, self.path, line, note, tag
            )

        if type_ in _GLOBAL_TYPES:
            yield place("", Role.GLOBAL, Resolved(GLOBAL, _GLOBAL_TYPES[type_]), type_)
            return
        for where, key, value in _properties(properties, ""):
            if type_ == "AWS::CloudFormation::StackSet" and key == "Regions":
                role, note = Role.STACK, "stack-set instances are deployed here"
            elif type_ in _REPLICA_PATHS and key in ("Region", "Regions"):
                role, note = Role.REPLICA, _REPLICA_PATHS[type_]
            elif key.endswith(("Region", "Regions", "RegionName")):
                role, note = Role.REFERENCE, f"`{key}` names a region it exchanges data with"
            elif key.endswith(("Arn", "ARN", "Arns")):
                for i, (arn_region_id, text) in enumerate(self.arn_regions(value)):
                    yield place(
                        f"{where}" + (f"[{i}]" if i else ""),
                        Role.REFERENCE,
                        Resolved(arn_region_id, f"`{key}` {text}"),
                        "sends data to a resource in this region",
                    )
                continue
            else:
                continue
            items = value if isinstance(value, list) else [value]
            for i, item in enumerate(items):
                region = self.region(item, key)
                if region is not None:
                    suffix = f"{where}[{i}]" if isinstance(value, list) else where
                    yield place(suffix, role, region, note)

    def region(self, value: Any, key: str) -> Region | None:
        """A region value; None for `Ref: AWS::Region` (the stack's region, placed above)."""
        if isinstance(value, str):
            return Resolved(value, f"`{key}` property")
        if _is_region_ref(value):
            return None
        if isinstance(value, dict) and not any(
            k == "Ref" or str(k).startswith("Fn::") for k in value
        ):
            return None  # a structure (`ReplicaRegions: [{Region: ...}]`): its keys are read
        if isinstance(value, dict) and set(value) == {"Ref"}:
            name = str(value["Ref"])
            parameter = self.parameters.get(name)
            if isinstance(parameter, dict) and isinstance(parameter.get("Default"), str):
                return Resolved(parameter["Default"], f"default of parameter {name}")
            return Unresolved(f"parameter {name} has no default: it is given at deploy time")
        function = next(iter(value), "?") if isinstance(value, dict) else type(value).__name__
        return Unresolved(f"`{key}` is computed by {function} at deploy time")

    def arn_regions(self, value: Any) -> list[tuple[str, str]]:
        out = []
        for text in _strings(value):
            found = arn_region(text)
            if found is not None:
                out.append((found[1], text))
            elif "${" in text and (match := _SUB_REGION.search(text)):
                out.append((match.group(1), text))
        return out

    def service_of(self, properties: Mapping[str, Any]) -> str | None:
        tags = properties.get("Tags")
        wanted = self.service_tag.casefold()
        if isinstance(tags, list):
            for tag in tags:
                if isinstance(tag, dict) and str(tag.get("Key", "")).casefold() == wanted:
                    value = tag.get("Value")
                    return value if isinstance(value, str) else None
        elif isinstance(tags, dict):
            for key, value in tags.items():
                if str(key).casefold() == wanted and isinstance(value, str):
                    return value
        return None


def _properties(node: Any, where: str) -> Iterator[tuple[str, str, Any]]:
    """(key path, key, value) of every property, depth first."""
    if isinstance(node, dict):
        for key, value in node.items():
            if str(key).startswith("Fn::") or key == "Ref":
                continue
            path = f"{where}.{key}"
            yield path, str(key), value
            yield from _properties(value, path)
    elif isinstance(node, list):
        for i, item in enumerate(node):
            yield from _properties(item, f"{where}[{i}]")


def _nodes(node: Any) -> Iterator[Any]:
    yield node
    if isinstance(node, dict):
        for value in node.values():
            yield from _nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _nodes(value)


def _strings(node: Any) -> Iterator[str]:
    for item in _nodes(node):
        if isinstance(item, str):
            yield item


def _is_region_ref(value: Any) -> bool:
    return isinstance(value, dict) and value.get("Ref") == "AWS::Region" and len(value) == 1


def _samconfig_regions(path: Path) -> list[str]:
    """Every `region` under a `deploy.parameters` table of a SAM CLI config."""
    try:
        text = path.read_text(encoding="utf-8")
        data = tomllib.loads(text) if path.suffix == ".toml" else yamlsafe.safe_load(text)
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError, yaml.YAMLError):
        return []
    found = set()
    for environment in (data or {}).values() if isinstance(data, dict) else ():
        deploy = environment.get("deploy") if isinstance(environment, dict) else None
        parameters = deploy.get("parameters") if isinstance(deploy, dict) else None
        region = parameters.get("region") if isinstance(parameters, dict) else None
        if isinstance(region, str):
            found.add(region)
    return sorted(found)
