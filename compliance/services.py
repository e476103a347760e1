"""Microservice discovery, owners, and attribution of paths to services.

Services come from, in order: the repo config (when it lists any), Backstage
`catalog-info.yaml` files of kind Component, or folders that look like services (a
Dockerfile, pyproject.toml or requirements*.txt) under services/, apps/, src/ or the root.
Owners come from the config, from catalog-info (`spec.owner`), or from CODEOWNERS.
"""

from __future__ import annotations

import fnmatch
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path, PurePosixPath
from typing import Any, get_args

import yaml

from compliance import yamlsafe
from compliance.config import DataClass, RepoConfig
from compliance.errors import ConfigError, Problem
from compliance.inventory import Inventory
from compliance.model import REPO_SERVICE, Service, ServiceName, ServiceSource, Skip

SERVICE_PARENTS = ("services", "apps", "src")
_SERVICE_MARKERS = ("Dockerfile", "pyproject.toml")
CODEOWNERS_LOCATIONS = ("CODEOWNERS", ".github/CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")
_NAME_CLEAN = re.compile(r"[^A-Za-z0-9._-]+")
#: What a service name may be (as in compliance.yaml's `services[].name`).
_VALID_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


@dataclass(frozen=True, slots=True)
class Discovery:
    services: tuple[Service, ...]
    skipped: tuple[Skip, ...] = ()


def discover_services(root: Path, config: RepoConfig, inventory: Inventory) -> Discovery:
    """Find the services of the repository at `root`, sorted by path."""
    skipped: list[Skip] = []
    if config.services:
        services = [
            Service(
                name=ServiceName(s.name),
                path="" if s.path == "." else s.path,
                owner=s.owner,
                source=ServiceSource.CONFIG,
                description=s.description,
                data_classification=s.data_classification,
            )
            for s in config.services
        ]
        for service in services:
            if not (root / service.path).is_dir():
                raise ConfigError(
                    [
                        Problem(
                            "compliance.yaml",
                            f"services[{services.index(service)}].path",
                            f"folder {service.path!r} does not exist",
                        )
                    ]
                )
    else:
        services = _from_catalog(root, inventory, skipped) or _detect(inventory)
    owners = load_codeowners(root)
    services = [
        s if s.owner or owners is None else replace(s, owner=owners.owner_of(s.path or "."))
        for s in services
    ]
    return Discovery(tuple(sorted(services, key=lambda s: (s.path, s.name))), tuple(skipped))


def _from_catalog(root: Path, inventory: Inventory, skipped: list[Skip]) -> list[Service]:
    services: list[Service] = []
    for rel in inventory.all_files:
        if PurePosixPath(rel).name not in ("catalog-info.yaml", "catalog-info.yml"):
            continue
        try:
            documents = list(yamlsafe.safe_load_all((root / rel).read_text(encoding="utf-8")))
        except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
            skipped.append(Skip(rel, f"catalog-info not readable: {_first_line(exc)}"))
            continue
        folder = str(PurePosixPath(rel).parent)
        for doc in documents:
            service = _component(doc, "" if folder == "." else folder, rel)
            if service is not None and not _VALID_NAME.fullmatch(service.name):
                # A name becomes a file name (threatmodels/<name>.yaml) and a command-line
                # argument: "../../x" from a repository must never be one.
                skipped.append(
                    Skip(
                        rel,
                        f"catalog-info component name {service.name[:80]!r} is not a "
                        "valid service name (letters, digits, '.', '_', '-')",
                    )
                )
            elif service is not None:
                services.append(service)
    return services


#: The catalog-info annotation giving a component's data classification ("pii, internal").
CLASSIFICATION_ANNOTATION = "compliance.dev/data-classification"


def _component(doc: Any, folder: str, rel: str = "catalog-info.yaml") -> Service | None:
    if not isinstance(doc, dict) or doc.get("kind") != "Component":
        return None
    metadata = doc.get("metadata") or {}
    spec = doc.get("spec") or {}
    if not isinstance(metadata, dict) or not isinstance(spec, dict):
        return None
    name = metadata.get("name")
    if not isinstance(name, str) or not name:
        return None
    owner = spec.get("owner")
    description = metadata.get("description")
    return Service(
        name=ServiceName(name),
        path=folder,
        owner=owner if isinstance(owner, str) else None,
        source=ServiceSource.CATALOG_INFO,
        description=description if isinstance(description, str) else None,
        data_classification=_classification(metadata, rel),
    )


def _classification(metadata: dict[str, Any], rel: str) -> tuple[str, ...]:
    """`metadata.annotations["compliance.dev/data-classification"]`: a comma-separated list
    of the config's classes; an unknown class is an error (a typo would switch checks off)."""
    annotations = metadata.get("annotations")
    value = annotations.get(CLASSIFICATION_ANNOTATION) if isinstance(annotations, dict) else None
    if value is None:
        return ()
    known = get_args(DataClass)
    classes = tuple(c.strip() for c in str(value).split(",") if c.strip())
    unknown = [c for c in classes if c not in known]
    if unknown:
        key = f"metadata.annotations.{CLASSIFICATION_ANNOTATION}"
        message = f"unknown data classification {unknown[0]!r} (known: {', '.join(known)})"
        raise ConfigError([Problem(rel, key, message)])
    return classes


def _detect(inventory: Inventory) -> list[Service]:
    """Folders under services/, apps/ or src/ (or the root) that carry a service marker."""
    candidates: dict[str, Service] = {}
    for rel in inventory.all_files:
        path = PurePosixPath(rel)
        is_marker = path.name in _SERVICE_MARKERS or fnmatch.fnmatchcase(
            path.name, "requirements*.txt"
        )
        if not is_marker:
            continue
        parts = path.parent.parts
        if len(parts) >= 2 and parts[0] in SERVICE_PARENTS:
            folder = f"{parts[0]}/{parts[1]}"
            name = parts[1]
        elif len(parts) == 1 and parts[0] not in SERVICE_PARENTS:
            folder, name = parts[0], parts[0]
        else:
            continue
        clean = _NAME_CLEAN.sub("-", name).strip("-") or folder
        candidates.setdefault(
            folder,
            Service(ServiceName(clean), folder, None, ServiceSource.DETECTED),
        )
    return list(candidates.values())


@dataclass(frozen=True, slots=True)
class CodeOwners:
    """Parsed CODEOWNERS rules; the last matching rule wins, as on GitHub and GitLab."""

    rules: tuple[tuple[str, tuple[str, ...]], ...]

    def owner_of(self, path: str) -> str | None:
        found: str | None = None
        for pattern, owners in self.rules:
            if _codeowners_match(pattern, path):
                found = " ".join(owners) if owners else None
        return found


def parse_codeowners(text: str) -> CodeOwners:
    rules = []
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#") or stripped.startswith("["):
            continue
        parts = stripped.split()
        rules.append((parts[0], tuple(parts[1:])))
    return CodeOwners(tuple(rules))


def load_codeowners(root: Path) -> CodeOwners | None:
    for rel in CODEOWNERS_LOCATIONS:
        path = root / rel
        if path.is_file() and not path.is_symlink():
            try:
                return parse_codeowners(path.read_text(encoding="utf-8", errors="replace"))
            except OSError:
                return None
    return None


def _codeowners_match(pattern: str, path: str) -> bool:
    """gitignore-style matching as CODEOWNERS uses it, for a file or folder path."""
    path = path.strip("/") or "."
    anchored = pattern.startswith("/") or "/" in pattern.rstrip("/")
    body = pattern.strip("/")
    if body in ("", "*", "**"):
        return True
    regex = _glob_to_regex(body)
    candidates = [path] if anchored else [path, *_suffixes(path)]
    for candidate in candidates:
        if re.fullmatch(regex, candidate) or re.match(regex + "/", candidate + "/"):
            return True
    return False


def _suffixes(path: str) -> list[str]:
    parts = path.split("/")
    return ["/".join(parts[i:]) for i in range(1, len(parts))]


def _glob_to_regex(glob: str) -> str:
    out = []
    i = 0
    while i < len(glob):
        if glob.startswith("**/", i):
            out.append("(?:.*/)?")
            i += 3
        elif glob.startswith("**", i):
            out.append(".*")
            i += 2
        elif glob[i] == "*":
            out.append("[^/]*")
            i += 1
        elif glob[i] == "?":
            out.append("[^/]")
            i += 1
        else:
            out.append(re.escape(glob[i]))
            i += 1
    return "".join(out)


def attributor(services: Sequence[Service]) -> ServiceAttributor:
    deepest_first = sorted(services, key=lambda s: (-len(s.path), s.path, s.name))
    return ServiceAttributor(tuple((s.path, s.path + "/", s.name) for s in deepest_first))


@dataclass(frozen=True, slots=True)
class ServiceAttributor:
    """Maps a repo-relative path to the service owning it: the deepest service folder wins."""

    folders: tuple[tuple[str, str, ServiceName], ...]

    def __call__(self, path: str) -> ServiceName:
        for folder, prefix, name in self.folders:
            if folder in ("", path) or path.startswith(prefix):
                return name
        return REPO_SERVICE


def repo_service(owners: CodeOwners | None) -> Service:
    """The pseudo-service for paths no service owns."""
    return Service(
        REPO_SERVICE,
        "",
        owners.owner_of(".") if owners else None,
        ServiceSource.REPO,
        description="files outside every service",
    )


def _first_line(exc: BaseException) -> str:
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__
